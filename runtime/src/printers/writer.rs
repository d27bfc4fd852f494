//! Tables written straight into JSON bytes, one row at a time, without a
//! `Value` of the whole table or a copy of any row's object. Keys go out in
//! the order a `serde_json` map keeps them (sorted), so the bytes are
//! exactly those of the `Table` value they stand for.

use serde_json::Value;

use super::{IncludeObject, TableListMeta};

/// An object a row is printed from: what the printers read, and how the
/// row's `object` is written.
pub trait Printable {
    /// The object as printers read it.
    fn printed(&self) -> &Value;

    /// Appends the object's `metadata` as JSON; `{}` when it has none.
    fn write_metadata(&self, out: &mut Vec<u8>);

    /// Appends the whole object as JSON.
    fn write_object(&self, out: &mut Vec<u8>);
}

impl Printable for Value {
    fn printed(&self) -> &Value {
        self
    }

    fn write_metadata(&self, out: &mut Vec<u8>) {
        match self.get("metadata") {
            Some(metadata) => write_json(out, metadata),
            None => out.extend_from_slice(b"{}"),
        }
    }

    fn write_object(&self, out: &mut Vec<u8>) {
        write_json(out, self);
    }
}

/// A `meta.k8s.io/v1` Table being written: the head at once, then each
/// row as it is printed, then the closing brackets.
pub struct TableWriter {
    include: IncludeObject,
    out: Vec<u8>,
    rows: usize,
}

impl TableWriter {
    /// Starts a table with these column definitions (`None` writes
    /// `"columnDefinitions": null`, as upstream's watch events after the
    /// first) and list metadata; rows carry their object as `include` says.
    pub fn new(columns: Option<&[Value]>, meta: &TableListMeta, include: IncludeObject) -> Self {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(br#"{"apiVersion":"meta.k8s.io/v1","columnDefinitions":"#);
        match columns {
            Some(columns) => write_json(&mut out, columns),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(br#","kind":"Table","metadata":"#);
        write_json(&mut out, &meta.to_json());
        out.extend_from_slice(br#","rows":["#);
        TableWriter {
            include,
            out,
            rows: 0,
        }
    }

    /// Appends one row: its cells, its conditions (left out when there are
    /// none) and its object.
    pub fn row(&mut self, cells: &[Value], conditions: &[Value], object: &impl Printable) {
        if self.rows > 0 {
            self.out.push(b',');
        }
        self.rows += 1;
        let out = &mut self.out;
        out.extend_from_slice(br#"{"cells":"#);
        write_json(out, cells);
        if !conditions.is_empty() {
            out.extend_from_slice(br#","conditions":"#);
            write_json(out, conditions);
        }
        out.extend_from_slice(br#","object":"#);
        match self.include {
            IncludeObject::None => out.extend_from_slice(b"null"),
            IncludeObject::Metadata => {
                out.extend_from_slice(
                    br#"{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":"#,
                );
                object.write_metadata(out);
                out.push(b'}');
            }
            IncludeObject::Object => object.write_object(out),
        }
        out.push(b'}');
    }

    /// The finished table's JSON.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"]}");
        self.out
    }
}

/// Appends `value` as compact JSON.
pub(crate) fn write_json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    // Writing JSON values into memory cannot fail.
    serde_json::to_writer(out, value).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_are_written_as_their_values_are() {
        let columns = [json!({"name": "Name", "type": "string", "format": "name",
                              "description": "d", "priority": 0})];
        let meta = TableListMeta {
            resource_version: "5".into(),
            continue_token: "c".into(),
            remaining_item_count: Some(1),
        };
        let object = json!({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": "a", "labels": {"x": "\"y\""}}, "spec": {}});
        let condition = json!({"type": "Completed", "status": "True"});
        for include in [
            IncludeObject::None,
            IncludeObject::Metadata,
            IncludeObject::Object,
        ] {
            let mut writer = TableWriter::new(Some(&columns), &meta, include);
            writer.row(&[json!("a")], std::slice::from_ref(&condition), &object);
            writer.row(&[json!("b")], &[], &json!({}));
            let row_object = |object: &Value| match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => json!({
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
                }),
                IncludeObject::Object => object.clone(),
            };
            let expected = json!({
                "kind": "Table",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": "5", "continue": "c", "remainingItemCount": 1},
                "columnDefinitions": columns,
                "rows": [
                    {"cells": ["a"], "conditions": [condition], "object": row_object(&object)},
                    {"cells": ["b"], "object": row_object(&json!({}))},
                ],
            });
            assert_eq!(
                String::from_utf8(writer.finish()).unwrap(),
                expected.to_string()
            );
        }
        let empty = TableWriter::new(None, &TableListMeta::default(), IncludeObject::None);
        assert_eq!(
            String::from_utf8(empty.finish()).unwrap(),
            json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
                   "columnDefinitions": null, "rows": []})
            .to_string()
        );
    }
}
