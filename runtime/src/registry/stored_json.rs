//! Stored objects answered without decoding them. The store writes an
//! object as the compact JSON `serde_json` makes of its `Value`; when the
//! request names the storage version, the answer differs from those bytes
//! only by `metadata.resourceVersion`. [`with_resource_version`] adds it by
//! re-joining the top two levels of the object from their raw parts, which
//! is several times cheaper than decoding the whole object into a `Value`
//! and encoding it again, and gives the same bytes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// One member of a JSON object: its key (unescaped) and its value as written.
type Member<'a> = (Cow<'a, str>, &'a RawValue);

/// Whether `serde_json::Map` keeps its keys sorted (its default), so that
/// a key the store adds lands at its sorted place. With its
/// `preserve_order` feature keys keep their insertion order and removals
/// reorder them; nothing is spliced then.
static SORTED_MAPS: LazyLock<bool> = LazyLock::new(|| {
    let mut map = serde_json::Map::new();
    map.insert("b".to_owned(), serde_json::Value::Null);
    map.insert("a".to_owned(), serde_json::Value::Null);
    map.keys().next().is_some_and(|first| first == "a")
});

/// The stored object `stored` as served in `api_version` and `kind`, with
/// `metadata.resourceVersion` set to `revision`: byte for byte what
/// decoding it, setting the field and encoding it again gives. `None` when
/// [`StoredObject::parse`] refuses the bytes or they name another version
/// or kind (which needs a conversion): the caller then decodes.
pub fn with_resource_version(
    stored: &[u8],
    api_version: &str,
    kind: &str,
    revision: &str,
) -> Option<Vec<u8>> {
    let object = StoredObject::parse(stored, revision)?;
    let same_type = object.string("apiVersion")? == api_version && object.string("kind")? == kind;
    same_type.then(|| object.encode(&[]))
}

/// A stored object split into its members, its metadata's members and the
/// resourceVersion to add to them, ready to be joined again.
pub struct StoredObject<'a> {
    members: Vec<Member<'a>>,
    metadata: Vec<Member<'a>>,
    /// Where the resourceVersion goes among the metadata members.
    revision_at: usize,
    revision: String,
}

impl<'a> StoredObject<'a> {
    /// `stored` with `metadata.resourceVersion` to become `revision`;
    /// `None` when joining the parts would not give what decoding gives:
    /// not one JSON object, no `metadata` object, a resourceVersion
    /// already there, duplicate keys, or maps kept in insertion order.
    pub fn parse(stored: &'a [u8], revision: &str) -> Option<StoredObject<'a>> {
        if !*SORTED_MAPS {
            return None;
        }
        let text = std::str::from_utf8(stored).ok()?;
        let (members, metadata) = members(text)?;
        let metadata = metadata?;
        if has_duplicates(&members) {
            return None;
        }
        if has_duplicates(&metadata) || metadata.iter().any(|(k, _)| k == "resourceVersion") {
            return None;
        }
        let revision_at = metadata.partition_point(|(k, _)| k.as_ref() < "resourceVersion");
        Some(StoredObject {
            members,
            metadata,
            revision_at,
            revision: revision.to_owned(),
        })
    }

    /// The top-level member `key` other than `metadata`, as written.
    pub fn member(&self, key: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, raw)| *raw)
    }

    /// The metadata member `key` as written.
    pub fn metadata_member(&self, key: &str) -> Option<&'a RawValue> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, raw)| *raw)
    }

    /// The top-level member `key` if it is a string without escapes.
    pub fn string(&self, key: &str) -> Option<&'a str> {
        serde_json::from_str(self.member(key)?.get()).ok()
    }

    /// The object with its resourceVersion, leaving out the top-level
    /// members named in `without`, as `serde_json` encodes it.
    pub fn encode(&self, without: &[&str]) -> Vec<u8> {
        self.encode_noting_metadata(without).0
    }

    /// [`StoredObject::encode`], and where the metadata object sits in
    /// the result.
    pub fn encode_noting_metadata(&self, without: &[&str]) -> (Vec<u8>, Range<usize>) {
        let size = self
            .members
            .iter()
            .map(|(k, raw)| k.len() + raw.get().len() + 4);
        let mut out = Vec::with_capacity(size.sum::<usize>() + self.revision.len() + 24);
        let mut metadata = 0..0;
        out.push(b'{');
        let kept = self
            .members
            .iter()
            .filter(|(k, _)| !without.contains(&k.as_ref()));
        for (n, (key, raw)) in kept.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            push_key(&mut out, key);
            if key == "metadata" {
                let start = out.len();
                self.encode_metadata(&mut out);
                metadata = start..out.len();
            } else {
                out.extend_from_slice(raw.get().as_bytes());
            }
        }
        out.push(b'}');
        (out, metadata)
    }

    fn encode_metadata(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        let (before, after) = self.metadata.split_at(self.revision_at);
        for (n, (key, raw)) in before.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            push_key(out, key);
            out.extend_from_slice(raw.get().as_bytes());
        }
        if !before.is_empty() {
            out.push(b',');
        }
        push_key(out, "resourceVersion");
        // Writing a string into memory cannot fail.
        let _ = serde_json::to_writer(&mut *out, &self.revision);
        for (key, raw) in after {
            out.push(b',');
            push_key(out, key);
            out.extend_from_slice(raw.get().as_bytes());
        }
        out.push(b'}');
    }
}

/// `"key":`, escaped as `serde_json` escapes keys.
fn push_key(out: &mut Vec<u8>, key: &str) {
    // Writing a string into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
}

fn has_duplicates(members: &[Member<'_>]) -> bool {
    members
        .iter()
        .enumerate()
        .any(|(n, (key, _))| members[..n].iter().any(|(other, _)| other == key))
}

/// Stands in for `metadata` among the top-level members: its own members
/// are read in the same pass and kept apart.
static METADATA: LazyLock<Box<RawValue>> =
    LazyLock::new(|| RawValue::from_string("{}".to_owned()).expect("`{}` is JSON"));

/// The members of the JSON object `text` in the order written, and those
/// of its `metadata` if that is an object; `None` if `text` is not one
/// object or its `metadata` is not an object.
fn members(text: &str) -> Option<(Vec<Member<'_>>, Option<Vec<Member<'_>>>)> {
    let mut metadata = None;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let visitor = MembersVisitor {
        metadata: Some(&mut metadata),
    };
    let members = deserializer.deserialize_map(visitor).ok()?;
    deserializer.end().ok()?;
    Some((members, metadata))
}

/// Reads an object's members; with `metadata`, reads the members of its
/// `metadata` member into it instead of keeping that member's text.
struct MembersVisitor<'m, 'de> {
    metadata: Option<&'m mut Option<Vec<Member<'de>>>>,
}

impl<'de> DeserializeSeed<'de> for MembersVisitor<'_, 'de> {
    type Value = Vec<Member<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MembersVisitor<'_, 'de> {
    type Value = Vec<Member<'de>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Key(key)) = map.next_key()? {
            let value = match self.metadata.as_deref_mut() {
                Some(slot) if key == "metadata" => {
                    *slot = Some(map.next_value_seed(MembersVisitor { metadata: None })?);
                    &**METADATA
                }
                _ => map.next_value::<&'de RawValue>()?,
            };
            members.push((key, value));
        }
        Ok(members)
    }
}

/// A key, borrowed from the text unless it has escapes (serde's own
/// `Cow<str>` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// What the decoding path answers.
    fn decoded(stored: &[u8], revision: &str) -> Vec<u8> {
        let mut object: Value = serde_json::from_slice(stored).unwrap();
        object["metadata"]["resourceVersion"] = json!(revision);
        serde_json::to_vec(&object).unwrap()
    }

    #[test]
    fn adds_the_resource_version_exactly_as_decoding_does() {
        let objects = [
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "a", "namespace": "n", "uid": "u",
                                "labels": {"x": "y"}, "creationTimestamp": "2024-01-01T00:00:00Z"},
                   "data": {"k\"ey": "v\u{1}al\\ue", "é": "ü \n"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"uid": "u"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"annotations": {}},
                   "binaryData": {"b": "AAE="}, "immutable": true, "n": 1.5e300}),
        ];
        for object in objects {
            let stored = serde_json::to_vec(&object).unwrap();
            let spliced = with_resource_version(&stored, "v1", "ConfigMap", "42").unwrap();
            assert_eq!(
                String::from_utf8(spliced).unwrap(),
                String::from_utf8(decoded(&stored, "42")).unwrap()
            );
        }
    }

    #[test]
    fn leaves_other_objects_to_the_decoding_path() {
        let refused = [
            // Another version or kind: converting is not a splice.
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
                "v2",
                "ConfigMap",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
                "v1",
                "Secret",
            ),
            // Nothing to add to, or a value already there.
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                "v1",
                "ConfigMap",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": []}),
                "v1",
                "ConfigMap",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"resourceVersion": "1"}}),
                "v1",
                "ConfigMap",
            ),
            (json!([1, 2]), "v1", "ConfigMap"),
        ];
        for (object, version, kind) in refused {
            let stored = serde_json::to_vec(&object).unwrap();
            assert_eq!(
                with_resource_version(&stored, version, kind, "7"),
                None,
                "{object}"
            );
        }
        let duplicated =
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"}}"#;
        assert_eq!(
            with_resource_version(duplicated, "v1", "ConfigMap", "7"),
            None
        );
        assert_eq!(with_resource_version(b"{\"a\":1} x", "v1", "A", "7"), None);
    }
}
