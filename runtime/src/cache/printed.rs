//! Table rows of cached objects in their storage version, read from the
//! kept JSON: the printers get a decoded object without
//! `metadata.managedFields` (no printer reads them, and they are often
//! most of an object), while the row's `object` copies the kept bytes.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::printers::{Printable, write_json};

/// One cached object, split for printing.
pub(super) struct StoredRow<'a> {
    /// Its top-level fields as kept, by name.
    fields: BTreeMap<String, &'a RawValue>,
    /// Its `apiVersion` and `kind`, kept apart from the fields.
    type_meta: [(&'static str, Option<&'a str>); 2],
    /// What printers read.
    printed: Value,
}

impl<'a> StoredRow<'a> {
    /// Splits `item` (a JSON object without its type meta) and decodes what
    /// printers read; `None` if the item is not a JSON object.
    pub(super) fn new(
        item: &'a [u8],
        api_version: Option<&'a str>,
        kind: Option<&'a str>,
    ) -> Option<StoredRow<'a>> {
        let fields: BTreeMap<String, &RawValue> = serde_json::from_slice(item).ok()?;
        let type_meta = [("apiVersion", api_version), ("kind", kind)];
        let mut printed = Map::new();
        for (name, raw) in &fields {
            let value = if name == "metadata" {
                let mut reader = serde_json::Deserializer::from_str(raw.get());
                WithoutManagedFields.deserialize(&mut reader).ok()?
            } else {
                serde_json::from_str(raw.get()).ok()?
            };
            printed.insert(name.clone(), value);
        }
        for (name, value) in type_meta {
            if let Some(value) = value {
                printed.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        Some(StoredRow {
            fields,
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
        match self.fields.get("metadata") {
            Some(raw) => out.extend_from_slice(raw.get().as_bytes()),
            None => out.extend_from_slice(b"{}"),
        }
    }

    /// The kept fields and the type meta, in key order (as a decoded
    /// object would be written).
    fn write_object(&self, out: &mut Vec<u8>) {
        let mut entries: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(name, raw)| (name.as_str(), raw.get()))
            .collect();
        let mut type_meta = Vec::new();
        for (name, value) in self.type_meta {
            if let Some(value) = value {
                let mut json = Vec::new();
                write_json(&mut json, value);
                type_meta.push((name, json));
            }
        }
        for (name, json) in &type_meta {
            // Written as JSON strings, which are UTF-8.
            entries.push((name, std::str::from_utf8(json).unwrap_or("\"\"")));
        }
        entries.sort_unstable_by_key(|(name, _)| *name);
        out.push(b'{');
        for (n, (name, json)) in entries.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_json(out, *name);
            out.push(b':');
            out.extend_from_slice(json.as_bytes());
        }
        out.push(b'}');
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

    fn item(object: &Value) -> Vec<u8> {
        serde_json::to_vec(object).unwrap()
    }

    #[test]
    fn rows_write_what_the_decoded_object_writes() {
        let object = json!({
            "binaryData": {"b": "AA=="},
            "data": {"k": "v \" \u{e9}"},
            "immutable": true,
            "metadata": {"name": "a", "managedFields": [{"manager": "m"}], "labels": {"x": "y"}},
        });
        let bytes = item(&object);
        let row = StoredRow::new(&bytes, Some("v1"), Some("ConfigMap")).unwrap();
        let mut whole = object.clone();
        whole["apiVersion"] = json!("v1");
        whole["kind"] = json!("ConfigMap");
        let mut written = Vec::new();
        row.write_object(&mut written);
        assert_eq!(written, serde_json::to_vec(&whole).unwrap());
        let mut metadata = Vec::new();
        row.write_metadata(&mut metadata);
        assert_eq!(metadata, serde_json::to_vec(&object["metadata"]).unwrap());
        let mut printed = whole;
        printed["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert_eq!(row.printed(), &printed);
    }

    #[test]
    fn objects_without_metadata_or_type_meta() {
        let bytes = item(&json!({"spec": {"x": 1}}));
        let row = StoredRow::new(&bytes, None, None).unwrap();
        let mut metadata = Vec::new();
        row.write_metadata(&mut metadata);
        assert_eq!(metadata, b"{}");
        let mut written = Vec::new();
        row.write_object(&mut written);
        assert_eq!(written, br#"{"spec":{"x":1}}"#);
        let null = item(&json!({"metadata": null}));
        let row = StoredRow::new(&null, None, None).unwrap();
        assert_eq!(row.printed(), &json!({"metadata": null}));
        assert!(StoredRow::new(b"[1]", None, None).is_none());
    }
}
