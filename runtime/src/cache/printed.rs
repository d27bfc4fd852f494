//! Table rows of cached objects in their storage version, read from the
//! kept JSON in one pass: the printers get a decoded object without
//! `metadata.managedFields` (no printer reads them, and they are often
//! most of an object), while the row's metadata is copied from the kept
//! bytes.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::printers::{Printable, write_json};

/// One cached object, read for printing.
pub(super) struct StoredRow<'a> {
    /// The kept item: the object without its type meta.
    item: &'a [u8],
    /// Its `metadata` within the item, if it has one.
    metadata: Option<&'a [u8]>,
    /// Its `apiVersion` and `kind`, kept apart from the item.
    type_meta: [(&'static str, Option<&'a str>); 2],
    /// What printers read.
    printed: Value,
}

impl<'a> StoredRow<'a> {
    /// Decodes what printers read of `item` (a JSON object without its
    /// type meta, whose `metadata` is the `metadata` slice of it); `None`
    /// if the item is not a JSON object.
    pub(super) fn new(
        item: &'a [u8],
        metadata: Option<&'a [u8]>,
        api_version: Option<&'a str>,
        kind: Option<&'a str>,
    ) -> Option<StoredRow<'a>> {
        let mut reader = serde_json::Deserializer::from_slice(item);
        let mut printed = Printed.deserialize(&mut reader).ok()?;
        let type_meta = [("apiVersion", api_version), ("kind", kind)];
        for (name, value) in type_meta {
            if let Some(value) = value {
                printed.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        Some(StoredRow {
            item,
            metadata,
            type_meta,
            printed: Value::Object(printed),
        })
    }
}

impl Printable for StoredRow<'_> {
    fn printed(&self) -> &Value {
        &self.printed
    }

    fn write_metadata(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.metadata.unwrap_or(b"{}"));
    }

    /// The whole object, decoded afresh (rows rarely carry whole objects).
    fn write_object(&self, out: &mut Vec<u8>) {
        let mut object: Map<String, Value> = serde_json::from_slice(self.item).unwrap_or_default();
        for (name, value) in self.type_meta {
            if let Some(value) = value {
                object.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        write_json(out, &object);
    }
}

/// Decodes an object, its metadata without `managedFields`.
struct Printed;

impl<'de> DeserializeSeed<'de> for Printed {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Printed {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = if name == "metadata" {
                map.next_value_seed(WithoutManagedFields)?
            } else {
                map.next_value()?
            };
            fields.insert(name, value);
        }
        Ok(fields)
    }
}

/// Decodes an object's metadata, skipping `managedFields`.
struct WithoutManagedFields;

impl<'de> DeserializeSeed<'de> for WithoutManagedFields {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for WithoutManagedFields {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("object metadata")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if name == "managedFields" {
                map.next_value::<IgnoredAny>()?;
            } else {
                fields.insert(name, map.next_value()?);
            }
        }
        Ok(Value::Object(fields))
    }

    /// Metadata that is not an object (`null`, say) is kept as it is.
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cache::object::item_bytes;

    fn row_of(object: &Value, check: impl FnOnce(&StoredRow)) {
        let fields = object.as_object().unwrap();
        let (item, metadata) = item_bytes(fields);
        assert_eq!(item, serde_json::to_vec(object).unwrap());
        let metadata = metadata.map(|range| &item[range]);
        check(&StoredRow::new(&item, metadata, Some("v1"), Some("ConfigMap")).unwrap());
    }

    #[test]
    fn rows_write_what_the_decoded_object_writes() {
        let object = json!({
            "binaryData": {"b": "AA=="},
            "data": {"k": "v \" \u{e9}"},
            "immutable": true,
            "metadata": {"name": "a", "managedFields": [{"manager": "m"}], "labels": {"x": "y"}},
        });
        let mut whole = object.clone();
        whole["apiVersion"] = json!("v1");
        whole["kind"] = json!("ConfigMap");
        row_of(&object, |row| {
            let mut written = Vec::new();
            row.write_object(&mut written);
            assert_eq!(written, serde_json::to_vec(&whole).unwrap());
            let mut metadata = Vec::new();
            row.write_metadata(&mut metadata);
            assert_eq!(metadata, serde_json::to_vec(&object["metadata"]).unwrap());
            let mut printed = whole.clone();
            printed["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("managedFields");
            assert_eq!(row.printed(), &printed);
        });
    }

    #[test]
    fn objects_without_metadata_or_with_null_metadata() {
        row_of(&json!({"spec": {"x": 1}}), |row| {
            let mut metadata = Vec::new();
            row.write_metadata(&mut metadata);
            assert_eq!(metadata, b"{}");
        });
        row_of(&json!({"metadata": null}), |row| {
            let mut metadata = Vec::new();
            row.write_metadata(&mut metadata);
            assert_eq!(metadata, b"null");
            assert_eq!(row.printed()["metadata"], Value::Null);
        });
        assert!(StoredRow::new(b"[1]", None, None, None).is_none());
    }
}
