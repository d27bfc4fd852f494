//! Objects and events as the cache holds them. An object is kept as the
//! JSON of its storage version (its resourceVersion spliced in) and the few
//! facts selectors read; list items and watch event lines of the storage
//! version are put together from those bytes. Other served versions and
//! Tables decode the object when asked and keep only their encodings.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use chrono::Utc;
use generated::RESOURCES;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::printed::StoredRow;
use crate::codec::protobuf;
use crate::endpoints::negotiate::unencodable;
use crate::printers::{IncludeObject, TableListMeta, TablePrinter, write_json};
use crate::registry::Endpoint;
use crate::registry::object::set_meta;
use crate::registry::store::from_storage;
use crate::registry::stored_json::StoredObject;
use crate::selectors::field_paths;
use crate::status::ApiError;
use crate::storage::Revision;

/// One stored object at one revision.
pub struct CachedObject {
    /// Its storage key.
    pub key: String,
    /// Its `metadata.resourceVersion`.
    pub revision: Revision,
    /// Its `apiVersion` and `kind` as stored, if it has them.
    api_version: Option<Box<str>>,
    kind: Option<Box<str>>,
    /// The object as stored with its resourceVersion, without `apiVersion`
    /// and `kind`: exactly a list item of the storage version.
    item: Bytes,
    /// Where the item's `metadata` is in it, if it has one.
    metadata: Option<Range<usize>>,
    /// What label and field selectors read of it (its name, namespace,
    /// labels and the fields its kind selects on) as JSON, decoded per
    /// check: a decoded map costs several times its text. `None` for a kind
    /// whose selectable fields are unknown.
    facts: Option<Box<[u8]>>,
    /// Encodings other than the storage version's JSON forms (other served
    /// versions, Tables of live events), by served version and form.
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
    /// The object's protobuf message without envelope (a list item).
    Protobuf,
    /// A watch event line of this type with a one-row Table; `headers`
    /// says whether it carries the column definitions.
    TableEvent {
        kind: &'static str,
        include: IncludeObject,
        headers: bool,
    },
}

impl CachedObject {
    /// An object read from its stored bytes.
    pub fn decode(key: String, bytes: &[u8], revision: Revision) -> Result<CachedObject, String> {
        if let Some(parts) = StoredObject::parse(bytes, &revision.to_string())
            && let Some(object) = CachedObject::from_parts(&key, &parts, revision)
        {
            return Ok(object);
        }
        let stored: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !stored.is_object() {
            return Err("a stored object is not a JSON object".into());
        }
        Ok(CachedObject::new(key, stored, revision))
    }

    /// [`CachedObject::decode`] without decoding the whole object: the
    /// item is joined from the stored members and only the members the
    /// selectors read are decoded. `None` when the type fields are not
    /// plain strings (the decoding path keeps such fields in place).
    fn from_parts(key: &str, parts: &StoredObject<'_>, revision: Revision) -> Option<CachedObject> {
        let api_version = parts.string("apiVersion")?;
        let kind = parts.string("kind")?;
        let paths = fact_paths(api_version, kind);
        let mut selected = Map::new();
        let mut metadata = Map::new();
        for path in paths.unwrap_or_default() {
            let mut segments = path.split('.');
            let top = segments.next().unwrap_or(path);
            // Of the metadata only the fields read, not managedFields.
            if top == "metadata" {
                if let Some(field) = segments.next()
                    && let Some(raw) = parts.metadata_member(field)
                {
                    metadata.insert(field.to_owned(), serde_json::from_str(raw.get()).ok()?);
                }
            } else if !selected.contains_key(top)
                && let Some(raw) = parts.member(top)
            {
                selected.insert(top.to_owned(), serde_json::from_str(raw.get()).ok()?);
            }
        }
        selected.insert("metadata".to_owned(), Value::Object(metadata));
        let selected = Value::Object(selected);
        let (item, metadata) = parts.encode_noting_metadata(&["apiVersion", "kind"]);
        Some(CachedObject {
            key: key.to_owned(),
            revision,
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
            item: Bytes::from(item),
            metadata: Some(metadata),
            facts: paths.map(|paths| facts_at(&selected, paths)),
            encoded: Memo::default(),
        })
    }

    fn new(key: String, mut stored: Value, revision: Revision) -> CachedObject {
        set_meta(
            &mut stored,
            "resourceVersion",
            Some(json!(revision.to_string())),
        );
        let facts = selected_facts(&stored);
        let Value::Object(mut fields) = stored else {
            unreachable!("decode takes JSON objects only")
        };
        let mut type_field = |name: &str| match fields.remove(name) {
            Some(Value::String(s)) => Some(s.into_boxed_str()),
            Some(other) => {
                // Not a string: leave it in place, as it was stored.
                fields.insert(name.to_owned(), other);
                None
            }
            None => None,
        };
        let api_version = type_field("apiVersion");
        let kind = type_field("kind");
        let (item, metadata) = item_bytes(&fields);
        CachedObject {
            key,
            revision,
            api_version,
            kind,
            item: Bytes::from(item.into_boxed_slice()),
            metadata,
            facts,
            encoded: Memo::default(),
        }
    }

    /// The same object as of a later revision (what a deletion reports).
    pub fn at(&self, revision: Revision) -> CachedObject {
        CachedObject::new(self.key.clone(), self.stored(), revision)
    }

    /// The object as stored, with its resourceVersion, decoded afresh.
    fn stored(&self) -> Value {
        let mut fields: Map<String, Value> = serde_json::from_slice(&self.item).unwrap_or_default();
        if let Some(kind) = &self.kind {
            fields.insert("kind".to_owned(), Value::String(kind.to_string()));
        }
        if let Some(api_version) = &self.api_version {
            let api_version = Value::String(api_version.to_string());
            fields.insert("apiVersion".to_owned(), api_version);
        }
        Value::Object(fields)
    }

    /// Whether `endpoint` serves the version the object is stored in.
    fn is_stored_version(&self, endpoint: Endpoint) -> bool {
        self.api_version
            .as_deref()
            .is_some_and(|v| names_version(v, endpoint))
    }

    /// The object in the version `endpoint` serves, with its
    /// resourceVersion; decoded (and converted) on each call, not kept.
    pub fn served(&self, endpoint: Endpoint) -> Result<Arc<Value>, ApiError> {
        if self.is_stored_version(endpoint) {
            return Ok(Arc::new(self.stored()));
        }
        from_storage(endpoint, self.stored(), Some(self.revision)).map(Arc::new)
    }

    /// Whether a list or watch `filter` (label and field selectors, an
    /// object name: all read from the selectable facts) takes the object
    /// as `endpoint` serves it.
    pub fn selected_by(
        &self,
        endpoint: Endpoint,
        filter: impl Fn(&Value) -> bool,
    ) -> Result<bool, ApiError> {
        match &self.facts {
            Some(facts) if self.is_stored_version(endpoint) => {
                let facts: Value = serde_json::from_slice(facts).unwrap_or_default();
                Ok(filter(&facts))
            }
            _ => Ok(filter(&*self.served(endpoint)?)),
        }
    }

    /// The object encoded in `form` for `endpoint`. The storage version's
    /// JSON forms are put together from the kept bytes; other encodings
    /// (protobuf included) are made once and kept, except Table renderings that are not `shared`
    /// (they count ages from now; live events are sent within moments of
    /// each other).
    pub fn encoded(&self, endpoint: Endpoint, form: Form, shared: bool) -> Result<Bytes, ApiError> {
        if self.is_stored_version(endpoint) {
            match form {
                Form::ListItem => return Ok(self.item.clone()),
                Form::Event(kind) => return Ok(self.stored_event_line(kind)),
                Form::TableEvent { .. } | Form::Protobuf => {}
            }
        }
        let render = || -> Result<Bytes, ApiError> {
            Ok(match form {
                Form::ListItem => list_item(Arc::unwrap_or_clone(self.served(endpoint)?)),
                Form::Event(kind) => event_line(kind, &*self.served(endpoint)?),
                Form::Protobuf => {
                    let object = self.served(endpoint)?;
                    Bytes::from(protobuf::encode_raw(&object).map_err(unencodable)?)
                }
                Form::TableEvent {
                    kind,
                    include,
                    headers,
                } => {
                    let meta = TableListMeta {
                        resource_version: self.revision.to_string(),
                        ..TableListMeta::default()
                    };
                    let mut printer =
                        TablePrinter::new(endpoint.served, &meta, include, Utc::now(), headers);
                    self.print(endpoint, &mut printer)?;
                    written_event_line(kind, &printer.finish())
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

    /// Prints the object's Table row as `endpoint` serves it. The storage
    /// version is printed from the kept bytes, other versions from the
    /// converted object.
    pub fn print(&self, endpoint: Endpoint, printer: &mut TablePrinter) -> Result<(), ApiError> {
        if self.is_stored_version(endpoint)
            && let Some(row) = StoredRow::new(
                &self.item,
                self.metadata.clone().and_then(|range| self.item.get(range)),
                self.api_version.as_deref(),
                self.kind.as_deref(),
            )
        {
            printer.print(&row);
            return Ok(());
        }
        printer.print(&*self.served(endpoint)?);
        Ok(())
    }

    /// A watch event line of the storage version: the type meta written
    /// in front of the kept item's fields.
    fn stored_event_line(&self, kind: &str) -> Bytes {
        let mut line = BytesMut::with_capacity(self.item.len() + 96);
        line.put_slice(b"{\"type\":\"");
        line.put_slice(kind.as_bytes());
        line.put_slice(b"\",\"object\":{");
        let mut first = true;
        for (name, value) in [("apiVersion", &self.api_version), ("kind", &self.kind)] {
            if let Some(value) = value {
                if !first {
                    line.put_u8(b',');
                }
                first = false;
                line.put_slice(b"\"");
                line.put_slice(name.as_bytes());
                line.put_slice(b"\":");
                // Serializing a string into memory cannot fail.
                serde_json::to_writer((&mut line).writer(), &**value).unwrap_or_default();
            }
        }
        // The item is `{...}`: its fields follow the type meta.
        let fields = &self.item[1..];
        if !first && fields != b"}" {
            line.put_u8(b',');
        }
        line.put_slice(fields);
        line.put_slice(b"}\n");
        line.freeze()
    }
}

/// The part of a stored object that selectors read, as JSON: its name, namespace
/// and labels, and every path the field selectors of its kind read (the
/// kind is found by its `apiVersion` and `kind`); `None` for a kind not
/// among the built-in resources.
fn selected_facts(stored: &Value) -> Option<Box<[u8]>> {
    let api_version = stored.get("apiVersion")?.as_str()?;
    let kind = stored.get("kind")?.as_str()?;
    Some(facts_at(stored, fact_paths(api_version, kind)?))
}

/// The values at `paths` of `stored`, as JSON.
fn facts_at(stored: &Value, paths: &[&str]) -> Box<[u8]> {
    let mut facts = Value::Object(Map::new());
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        copy_path(stored, &mut facts, &segments);
    }
    // Serializing a JSON value into memory cannot fail.
    serde_json::to_vec(&facts)
        .unwrap_or_default()
        .into_boxed_slice()
}

/// The paths of the facts kept of an object of this type (its selectable
/// fields and labels); `None` for a type the route table does not know.
/// Worked out once per type: every write to a cached resource asks.
fn fact_paths(api_version: &str, kind: &str) -> Option<&'static [&'static str]> {
    /// Per kind, each served group/version with its paths.
    type ByKind = HashMap<&'static str, Vec<(&'static str, &'static str, Vec<&'static str>)>>;
    static PATHS: LazyLock<ByKind> = LazyLock::new(|| {
        let mut by_kind = ByKind::new();
        for resource in RESOURCES {
            let mut paths = field_paths(resource.group, resource.field_selectors);
            paths.push("metadata.labels");
            by_kind.entry(resource.kind).or_default().push((
                resource.group,
                resource.version,
                paths,
            ));
        }
        by_kind
    });
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    PATHS
        .get(kind)?
        .iter()
        .find(|(g, v, _)| *g == group && *v == version)
        .map(|(_, _, paths)| paths.as_slice())
}

/// Copies the value at `path` of `from` (if there is one) to the same path
/// of `to`, making the objects and arrays on the way.
fn copy_path(from: &Value, to: &mut Value, path: &[&str]) {
    let Some((segment, rest)) = path.split_first() else {
        *to = from.clone();
        return;
    };
    match from {
        Value::Object(fields) => {
            let Some(child) = fields.get(*segment) else {
                return;
            };
            if !to.is_object() {
                *to = Value::Object(Map::new());
            }
            if let Value::Object(into) = to {
                let slot = into.entry(*segment).or_insert(Value::Null);
                copy_path(child, slot, rest);
            }
        }
        Value::Array(elements) => {
            let Some(index) = segment.parse::<usize>().ok() else {
                return;
            };
            let Some(child) = elements.get(index) else {
                return;
            };
            if !to.is_array() {
                *to = Value::Array(Vec::new());
            }
            if let Value::Array(into) = to {
                if into.len() <= index {
                    into.resize(index + 1, Value::Null);
                }
                copy_path(child, &mut into[index], rest);
            }
        }
        _ => {}
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
    /// The lines sent for this change, by served version and form: made
    /// for the first watcher, shared by the rest, and gone with the event
    /// (the object keeps only its stored bytes).
    lines: Memo<(usize, Form), Bytes>,
}

impl CachedEvent {
    pub fn new(
        revision: Revision,
        deleted: bool,
        object: Arc<CachedObject>,
        prev: Option<Arc<CachedObject>>,
    ) -> CachedEvent {
        CachedEvent {
            revision,
            deleted,
            object,
            prev,
            lines: Memo::default(),
        }
    }

    /// The object of this change in `form` for `endpoint`, encoded once for
    /// every watcher that receives it.
    pub fn line(&self, endpoint: Endpoint, form: Form) -> Result<Bytes, ApiError> {
        self.lines.get_or_try((version_id(endpoint), form), || {
            self.object.encoded(endpoint, form, true)
        })
    }
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

/// The JSON of an object's fields (as `serde_json` writes the map) and
/// where its `metadata` value is in it.
pub(super) fn item_bytes(fields: &Map<String, Value>) -> (Vec<u8>, Option<Range<usize>>) {
    let mut item = Vec::with_capacity(1024);
    let mut metadata = None;
    item.push(b'{');
    for (n, (name, value)) in fields.iter().enumerate() {
        if n > 0 {
            item.push(b',');
        }
        write_json(&mut item, name);
        item.push(b':');
        let start = item.len();
        write_json(&mut item, value);
        if name == "metadata" {
            metadata = Some(start..item.len());
        }
    }
    item.push(b'}');
    (item, metadata)
}

/// A watch event line around an object already written as JSON.
fn written_event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut line = BytesMut::with_capacity(object.len() + kind.len() + 24);
    line.put_slice(b"{\"type\":\"");
    line.put_slice(kind.as_bytes());
    line.put_slice(b"\",\"object\":");
    line.put_slice(object);
    line.put_slice(b"}\n");
    line.freeze()
}

/// A list item: the object without `apiVersion` and `kind`.
fn list_item(mut object: Value) -> Bytes {
    if let Value::Object(fields) = &mut object {
        fields.remove("apiVersion");
        fields.remove("kind");
    }
    Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
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
        assert_eq!(&list_item(object)[..], br#"{"metadata":{"name":"a"}}"#);
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"app": "web"},
                         "resourceVersion": "1"},
            "spec": {"nodeName": "n1", "hostNetwork": true, "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}]}
        })
    }

    fn cached(object: &Value, revision: u64) -> CachedObject {
        let bytes = serde_json::to_vec(object).unwrap();
        CachedObject::decode("/registry/pods/ns/a".into(), &bytes, Revision(revision)).unwrap()
    }

    #[test]
    fn objects_joined_from_their_parts_equal_decoded_ones() {
        let mut stored_pod = pod();
        stored_pod["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        let objects = [
            stored_pod,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "c", "namespace": "ns", "uid": "u"},
                   "data": {"k\"ey": "v\u{1}al\\ue"}}),
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
        ];
        for object in objects {
            let bytes = serde_json::to_vec(&object).unwrap();
            let parts = StoredObject::parse(&bytes, "9").unwrap();
            let joined = CachedObject::from_parts("k", &parts, Revision(9)).unwrap();
            let decoded = CachedObject::new("k".into(), object.clone(), Revision(9));
            assert_eq!(joined.item, decoded.item, "{object}");
            assert_eq!(joined.facts, decoded.facts, "{object}");
            assert_eq!(joined.metadata, decoded.metadata, "{object}");
            assert_eq!(joined.api_version, decoded.api_version);
            assert_eq!(joined.kind, decoded.kind);
            assert_eq!(joined.revision, decoded.revision);
        }
    }

    #[test]
    fn stored_forms_are_the_object_with_its_resource_version() {
        let object = cached(&pod(), 7);
        let mut expected = pod();
        expected["metadata"]["resourceVersion"] = json!("7");
        assert_eq!(object.stored(), expected);
        let line: Value = serde_json::from_slice(&object.stored_event_line("ADDED")).unwrap();
        assert_eq!(line, json!({"type": "ADDED", "object": expected}));
        assert!(object.stored_event_line("ADDED").ends_with(b"}\n"));
        let item: Value = serde_json::from_slice(&object.item).unwrap();
        let Value::Object(mut fields) = expected else {
            unreachable!()
        };
        fields.remove("apiVersion");
        fields.remove("kind");
        assert_eq!(item, Value::Object(fields));
    }

    #[test]
    fn objects_without_other_fields_or_type_meta_make_valid_lines() {
        for stored in [
            json!({"apiVersion": "v1", "kind": "Pod"}),
            json!({"x": 1}),
            json!({}),
        ] {
            let object = cached(&stored, 3);
            let line: Value =
                serde_json::from_slice(&object.stored_event_line("MODIFIED")).unwrap();
            assert_eq!(line["object"], object.stored());
        }
        let at = cached(&pod(), 3).at(Revision(9));
        assert_eq!(at.stored()["metadata"]["resourceVersion"], "9");
    }

    #[test]
    fn facts_answer_selectors_as_the_whole_object_does() {
        let facts: Value = serde_json::from_slice(&selected_facts(&pod()).unwrap()).unwrap();
        assert_eq!(facts["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(facts["spec"]["nodeName"], "n1");
        assert_eq!(facts["spec"]["hostNetwork"], true);
        assert_eq!(facts["status"]["podIPs"], json!([{"ip": "10.0.0.1"}]));
        assert!(
            facts["spec"].get("containers").is_none(),
            "only selectable fields"
        );
        let labels = crate::selectors::FieldLabels::new("", "v1", "Pod", &["spec.nodeName"]);
        let paths = field_paths("", &["spec.nodeName", "status.podIP", "spec.hostNetwork"]);
        assert!(paths.contains(&"status.podIPs.0.ip"));
        assert_eq!(labels.values(&facts), labels.values(&pod()));
        let full = crate::selectors::field_values("", &["status.podIP"], &pod());
        assert_eq!(
            full,
            crate::selectors::field_values("", &["status.podIP"], &facts)
        );
        assert_eq!(full["status.podIP"], "10.0.0.1");
        assert!(selected_facts(&json!({"apiVersion": "x/v1", "kind": "Unknown"})).is_none());
    }

    #[test]
    fn event_lines_are_one_json_document_each() {
        let line = event_line("ADDED", &json!({"a": 1}));
        let parsed: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed, json!({"type": "ADDED", "object": {"a": 1}}));
        assert!(line.ends_with(b"\n"));
    }
}
