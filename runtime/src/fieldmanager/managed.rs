//! `metadata.managedFields`: one entry per manager, operation, API version
//! (for updates) and subresource, each with the set of fields it owns.

use generated::support::field_error::{FieldError, FieldPath};
use serde_json::{Value, json};

use super::path::PathElement;
use super::set::FieldSet;

/// The manager old update entries are folded into.
const ANCIENT_CHANGES: &str = "ancient-changes";

/// How a manager came to own its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: Option<String>,
    /// "" for the resource itself, `status` for `/status`.
    pub subresource: String,
    pub fields: FieldSet,
}

impl Entry {
    /// Entries are one manager's when these agree; appliers are one
    /// manager whatever API version they used.
    pub fn same_manager(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// How conflict messages name this manager, as upstream does.
    pub fn describe(&self) -> String {
        let mut text = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            text.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == Operation::Update {
            text.push_str(&format!(" using {}", self.api_version));
        }
        text
    }
}

/// All entries of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Managed {
    pub entries: Vec<Entry>,
}

impl Managed {
    /// Reads `metadata.managedFields` of `object`; `Err` when an entry is
    /// not one upstream would accept.
    pub fn of(object: &Value) -> Result<Managed, String> {
        match object.pointer("/metadata/managedFields") {
            None | Some(Value::Null) => Ok(Managed::default()),
            Some(value) => Managed::decode(value),
        }
    }

    /// Reads a `managedFields` list, joining entries of one manager.
    pub fn decode(value: &Value) -> Result<Managed, String> {
        let list = value.as_array().ok_or("managedFields must be a list")?;
        let mut managed = Managed::default();
        for (i, entry) in list.iter().enumerate() {
            let text = |field: &str| entry.get(field).and_then(Value::as_str).unwrap_or_default();
            let operation = match text("operation") {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                other => return Err(format!("managedFields[{i}]: unknown operation {other:?}")),
            };
            if text("fieldsType") != "FieldsV1" {
                return Err(format!(
                    "managedFields[{i}]: expected fieldsType FieldsV1, got {:?}",
                    text("fieldsType")
                ));
            }
            let fields = FieldSet::from_fields_v1(entry.get("fieldsV1").unwrap_or(&json!({})))
                .ok_or_else(|| format!("managedFields[{i}]: fieldsV1 is not a field set"))?;
            managed.merge_entry(Entry {
                manager: text("manager").to_owned(),
                operation,
                api_version: text("apiVersion").to_owned(),
                time: entry.get("time").and_then(Value::as_str).map(str::to_owned),
                subresource: text("subresource").to_owned(),
                fields,
            });
        }
        Ok(managed)
    }

    /// Adds an entry, joining it with an entry of the same manager.
    pub fn merge_entry(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.same_manager(&entry)) {
            Some(existing) => {
                existing.fields = existing.fields.union(&entry.fields);
                if entry.time > existing.time {
                    existing.time = entry.time;
                }
                existing.api_version = entry.api_version;
            }
            None => self.entries.push(entry),
        }
    }

    /// The union of every entry's fields except `manager`'s.
    pub fn owned_by_others(&self, manager: &Entry) -> FieldSet {
        self.entries
            .iter()
            .filter(|e| !e.same_manager(manager))
            .fold(FieldSet::new(), |all, e| all.union(&e.fields))
    }

    /// Takes `taken` from every entry and drops entries left empty.
    pub fn take_from_all(&mut self, taken: &FieldSet) {
        for entry in &mut self.entries {
            entry.fields.remove_all(taken);
        }
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// Keeps at most `max` update entries: the oldest are folded, per API
    /// version, into an `ancient-changes` entry, as upstream caps them.
    pub fn cap_updates(&mut self, max: usize) {
        let mut updates: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].operation == Operation::Update)
            .collect();
        let mut count = updates.len();
        if count <= max {
            return;
        }
        updates.sort_by(|&a, &b| {
            let (a, b) = (&self.entries[a], &self.entries[b]);
            (&a.time, &a.manager).cmp(&(&b.time, &b.manager))
        });
        let mut first_of_version: Vec<(String, usize)> = Vec::new();
        let mut folded = Vec::new();
        for index in updates {
            if count <= max {
                break;
            }
            let version = self.entries[index].api_version.clone();
            let Some(&(_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
                first_of_version.push((version, index));
                continue;
            };
            let merged = self.entries[index].clone();
            let bucket = &mut self.entries[first];
            bucket.manager = ANCIENT_CHANGES.to_owned();
            bucket.subresource.clear();
            bucket.fields = bucket.fields.union(&merged.fields);
            bucket.time = merged.time;
            folded.push(index);
            count -= 1;
        }
        let mut index = 0;
        self.entries.retain(|_| {
            index += 1;
            !folded.contains(&(index - 1))
        });
    }

    /// Writes the entries into `object` in upstream's order (operation,
    /// time, manager, apiVersion, subresource), or removes the field when
    /// there are none.
    pub fn write_to(mut self, object: &mut Value) {
        self.entries.retain(|e| !e.fields.is_empty());
        self.entries.sort_by(|a, b| {
            (
                a.operation,
                &a.time,
                &a.manager,
                &a.api_version,
                &a.subresource,
            )
                .cmp(&(
                    b.operation,
                    &b.time,
                    &b.manager,
                    &b.api_version,
                    &b.subresource,
                ))
        });
        let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        if self.entries.is_empty() {
            metadata.remove("managedFields");
            return;
        }
        let entries: Vec<Value> = self
            .entries
            .into_iter()
            .map(|e| {
                let mut entry = json!({
                    "manager": e.manager,
                    "operation": e.operation.as_str(),
                    "apiVersion": e.api_version,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": e.fields.to_fields_v1(),
                });
                if let Some(time) = e.time {
                    entry["time"] = json!(time);
                }
                if !e.subresource.is_empty() {
                    entry["subresource"] = json!(e.subresource);
                }
                entry
            })
            .collect();
        metadata.insert("managedFields".to_owned(), Value::Array(entries));
    }
}

/// Upstream's checks of entries a client sends: the operation and the
/// fields type. (`[]` and `[{}]`, which clear the entries, never get here.)
pub fn validate(entries: &Value) -> Vec<FieldError> {
    let list = entries.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut errors = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = FieldPath::new("metadata").child("managedFields").index(i);
        let text = |field: &str| entry.get(field).and_then(Value::as_str).unwrap_or_default();
        if !matches!(text("operation"), "Apply" | "Update") {
            errors.push(FieldError::invalid(
                &path.child("operation"),
                text("operation"),
                "must be `Apply` or `Update`",
            ));
        }
        if !matches!(text("fieldsType"), "" | "FieldsV1") {
            errors.push(FieldError::invalid(
                &path.child("fieldsType"),
                text("fieldsType"),
                "must be `FieldsV1`",
            ));
        }
    }
    errors
}

/// Removes and returns `metadata.managedFields` of `object`.
pub fn take(object: &mut Value) -> Option<Value> {
    object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("managedFields"))
}

/// Paths no manager ever owns: type and identity metadata, as upstream strips them.
pub fn strip_meta(mut set: FieldSet) -> FieldSet {
    set.retain(|path| !is_meta(path));
    set
}

/// Whether [`strip_meta`] drops `path`.
fn is_meta(path: &[PathElement]) -> bool {
    const TOP: &[&str] = &["apiVersion", "kind", "metadata"];
    const IDENTITY: &[&str] = &[
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ];
    match path {
        [PathElement::Field(top)] => TOP.contains(&top.as_str()),
        [PathElement::Field(metadata), PathElement::Field(name)] => {
            metadata == "metadata" && IDENTITY.contains(&name.as_str())
        }
        _ => false,
    }
}
