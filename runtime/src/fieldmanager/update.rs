//! Ownership after a create, update or non-apply patch: the writer
//! (operation `Update`) takes every field it set or changed, from whoever
//! owned it, and nobody keeps fields that were removed.

use generated::support::field_error::FieldError;
use serde_json::Value;

use super::managed::{self, Entry, Managed, Operation};
use super::typed::{self, Node};

/// How many update entries an object keeps, as upstream.
const MAX_UPDATE_MANAGERS: usize = 10;

/// Who wrote, in which API version, through which subresource.
pub struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    /// "" for the resource itself, `status` for `/status`.
    pub subresource: &'a str,
    /// The entry time when the writer changed something.
    pub now: &'a str,
}

/// Records an update of `old` (`None` for a create) into `new` in
/// `new`'s `metadata.managedFields`. Clients may replace the entries by
/// sending them (an empty list clears them), except through a subresource.
/// Entries that are not well formed are a validation error.
pub fn track(
    root: Node,
    old: Option<&Value>,
    new: &mut Value,
    writer: &Writer<'_>,
) -> Result<(), Vec<FieldError>> {
    let given = managed::take(new);
    if let Some(given) = &given
        && writer.subresource.is_empty()
        && !given.as_array().is_some_and(|list| is_reset(list))
    {
        let errors = managed::validate(given);
        if !errors.is_empty() {
            return Err(errors);
        }
    }
    let live = old.and_then(|o| o.pointer("/metadata/managedFields"));
    let decode = |v: Option<&Value>| v.and_then(|v| Managed::decode(v).ok()).unwrap_or_default();
    let mut owners = match given {
        _ if !writer.subresource.is_empty() => decode(live),
        Some(Value::Array(list)) if is_reset(&list) => Managed::default(),
        Some(given) => match Managed::decode(&given) {
            Ok(managed) if !managed.entries.is_empty() => managed,
            _ => decode(live),
        },
        None => decode(live),
    };
    // Like upstream, an object without entries is only tracked from its
    // creation (or a server-side apply) on.
    if old.is_some() && owners.entries.is_empty() {
        return Ok(());
    }
    // The old entries show up as removed; nobody owns them, so that is moot.
    // The comparison's sets are reused in place rather than copied.
    let typed::Comparison {
        added: mut changed,
        modified,
        removed,
    } = typed::compare(root, old, new);
    changed.extend(modified);
    owners.take_from_all(&changed);
    owners.take_from_all(&removed);
    changed.remove_all(&removed);
    let mine = managed::strip_meta(changed);
    if !mine.is_empty() {
        owners.merge_entry(Entry {
            manager: writer.manager.to_owned(),
            operation: Operation::Update,
            api_version: writer.api_version.to_owned(),
            time: Some(writer.now.to_owned()),
            subresource: writer.subresource.to_owned(),
            fields: mine,
        });
    }
    owners.cap_updates(MAX_UPDATE_MANAGERS);
    owners.write_to(new);
    Ok(())
}

/// `[]` or `[{}]`: the client asks to clear managedFields.
fn is_reset(list: &[Value]) -> bool {
    match list {
        [] => true,
        [only] => only.as_object().is_some_and(|o| o.is_empty()),
        _ => false,
    }
}
