//! Objects and events as the cache holds them: decoded from storage once,
//! converted to each served version once, and encoded once per wire form;
//! every watcher and list shares the results.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Utc;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::printers::{IncludeObject, TableListMeta, strip_headers, table};
use crate::registry::Endpoint;
use crate::registry::object::set_meta;
use crate::registry::store::from_storage;
use crate::status::ApiError;
use crate::storage::Revision;

/// One stored object at one revision.
pub struct CachedObject {
    /// Its storage key.
    pub key: String,
    /// Its `metadata.resourceVersion`.
    pub revision: Revision,
    /// The object as stored, with its resourceVersion; also what requests
    /// for the storage version get, without a copy.
    stored: Arc<Value>,
    /// The object in each served version it was asked for.
    served: Memo<usize, Arc<Value>>,
    /// Its encodings, by served version and form.
    encoded: Memo<(usize, Form), Bytes>,
}

/// A wire form of one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// A list item: JSON without `apiVersion` and `kind`, as upstream's
    /// lists of built-in kinds leave them implied.
    ListItem,
    /// A watch event line of this type with the object as JSON.
    Event(&'static str),
    /// A watch event line of this type with a one-row Table; `headers`
    /// says whether it carries the column definitions.
    TableEvent {
        kind: &'static str,
        include: IncludeObject,
        headers: bool,
    },
}

impl CachedObject {
    /// An object decoded from its stored bytes.
    pub fn decode(key: String, bytes: &[u8], revision: Revision) -> Result<CachedObject, String> {
        let stored: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !stored.is_object() {
            return Err("a stored object is not a JSON object".into());
        }
        Ok(CachedObject::new(key, stored, revision))
    }

    fn new(key: String, mut stored: Value, revision: Revision) -> CachedObject {
        set_meta(
            &mut stored,
            "resourceVersion",
            Some(json!(revision.to_string())),
        );
        CachedObject {
            key,
            revision,
            stored: Arc::new(stored),
            served: Memo::default(),
            encoded: Memo::default(),
        }
    }

    /// The same object as of a later revision (what a deletion reports).
    pub fn at(&self, revision: Revision) -> CachedObject {
        CachedObject::new(self.key.clone(), (*self.stored).clone(), revision)
    }

    /// The object in the version `endpoint` serves, with its resourceVersion.
    pub fn served(&self, endpoint: Endpoint) -> Result<Arc<Value>, ApiError> {
        let stored_version = self.stored.get("apiVersion").and_then(Value::as_str);
        if stored_version.is_some_and(|v| names_version(v, endpoint)) {
            return Ok(self.stored.clone());
        }
        self.served.get_or_try(version_id(endpoint), || {
            from_storage(endpoint, (*self.stored).clone(), Some(self.revision)).map(Arc::new)
        })
    }

    /// The object encoded in `form` for `endpoint`. Table renderings count
    /// ages from now, so only `shared` ones (live events, sent within
    /// moments of each other) are kept for other watchers.
    pub fn encoded(&self, endpoint: Endpoint, form: Form, shared: bool) -> Result<Bytes, ApiError> {
        let render = || -> Result<Bytes, ApiError> {
            let object = self.served(endpoint)?;
            Ok(match form {
                Form::ListItem => list_item(&object),
                Form::Event(kind) => event_line(kind, &*object),
                Form::TableEvent {
                    kind,
                    include,
                    headers,
                } => {
                    let meta = TableListMeta::of_object(&object);
                    let mut rendered = table(
                        endpoint.served,
                        std::slice::from_ref(&*object),
                        meta,
                        include,
                        Utc::now(),
                    );
                    if !headers {
                        strip_headers(&mut rendered);
                    }
                    event_line(kind, &rendered)
                }
            })
        };
        match form {
            Form::TableEvent { .. } if !shared => render(),
            _ => self
                .encoded
                .get_or_try((version_id(endpoint), form), render),
        }
    }
}

/// One change the cache applied.
pub struct CachedEvent {
    pub revision: Revision,
    pub deleted: bool,
    /// The object after the change; for a deletion, its last state as of
    /// the deletion's revision.
    pub object: Arc<CachedObject>,
    /// The object before the change; `None` when the change created it.
    pub prev: Option<Arc<CachedObject>>,
}

/// Whether an `apiVersion` is the one `endpoint` serves (without building
/// the string: this is asked for every event a watcher filters).
fn names_version(api_version: &str, endpoint: Endpoint) -> bool {
    let served = endpoint.served;
    match api_version.split_once('/') {
        Some((group, version)) => group == served.group && version == served.version,
        None => served.group.is_empty() && api_version == served.version,
    }
}

/// Served versions are told apart by their descriptor, a static.
fn version_id(endpoint: Endpoint) -> usize {
    std::ptr::from_ref(endpoint.served) as usize
}

/// A watch event line: `{"type":..., "object":...}` and a newline.
pub fn event_line(kind: &str, object: &impl Serialize) -> Bytes {
    let mut line = format!("{{\"type\":\"{kind}\",\"object\":").into_bytes();
    // Serializing a JSON value into memory cannot fail.
    serde_json::to_writer(&mut line, object).unwrap_or_default();
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

fn list_item(object: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&WithoutTypeMeta(object)).unwrap_or_default())
}

/// An object serialized without `apiVersion` and `kind`, without copying it.
struct WithoutTypeMeta<'a>(&'a Value);

impl Serialize for WithoutTypeMeta<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in fields {
            if name != "apiVersion" && name != "kind" {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// Values computed once per key on first use; the lock is held while one
/// is computed so that concurrent askers wait instead of repeating it.
struct Memo<K, V>(Mutex<Vec<(K, V)>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(Mutex::new(Vec::new()))
    }
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    fn get_or_try<E>(&self, key: K, compute: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, value)) = entries.iter().find(|(k, _)| *k == key) {
            return Ok(value.clone());
        }
        let value = compute()?;
        entries.push((key, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_leave_type_meta_out() {
        let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}});
        assert_eq!(&list_item(&object)[..], br#"{"metadata":{"name":"a"}}"#);
    }

    #[test]
    fn event_lines_are_one_json_document_each() {
        let line = event_line("ADDED", &json!({"a": 1}));
        let parsed: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed, json!({"type": "ADDED", "object": {"a": 1}}));
        assert!(line.ends_with(b"\n"));
    }
}
