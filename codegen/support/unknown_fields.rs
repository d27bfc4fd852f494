//! Finds properties a schema does not declare, for strict field validation
//! (upstream reports each as `unknown field "spec.foo"`) and for warnings,
//! and drops them, as upstream's decoding into typed objects does.

use serde_json::Value;

use super::field_error::FieldPath;
use super::schema::{SchemaId, SchemaTable, Type};

/// Paths such as `spec.foo` or `spec.containers[0].bogus` of every property in
/// `value` that the schema of `root` does not declare, keys sorted at each level.
pub fn unknown_fields(table: &SchemaTable, root: SchemaId, value: &Value) -> Vec<String> {
    prune_unknown_fields(table, root, &mut value.clone())
}

/// Removes every property of `value` that the schema of `root` does not
/// declare and returns their paths, as [`unknown_fields`] reports them.
pub fn prune_unknown_fields(table: &SchemaTable, root: SchemaId, value: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(table, root, value, &FieldPath::root(), &mut out);
    out
}

fn walk(t: &SchemaTable, id: SchemaId, v: &mut Value, p: &FieldPath, out: &mut Vec<String>) {
    let s = t.get(id);
    if s.ty == Type::Any {
        return;
    }
    match v {
        Value::Object(m) => {
            // Objects without declared properties are free-form (`FieldsV1`, bare `type: object`);
            // preserved unknowns and map entries are allowed, but declared fields are still walked.
            let closed = !s.properties.is_empty()
                && !s.preserve_unknown_fields
                && s.additional_properties.is_none();
            // Sorted so the order does not hinge on serde_json's `preserve_order` feature.
            let mut entries: Vec<(&String, &mut Value)> = m.iter_mut().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut unknown = Vec::new();
            for (k, child) in entries {
                match s.property(k) {
                    Some(id) => walk_child(t, id, child, || p.child(k), out),
                    None => match s.additional_properties {
                        Some(values) => walk_child(t, values, child, || p.key(k), out),
                        None if closed => {
                            out.push(p.child(k).to_string());
                            unknown.push(k.clone());
                        }
                        None => {}
                    },
                }
            }
            for k in unknown {
                m.remove(&k);
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.items {
                items
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, x)| walk_child(t, item, x, || p.index(i), out));
            }
        }
        _ => {}
    }
}

/// Walks a child value; its path is rendered only for objects and lists,
/// since scalars hold no properties.
fn walk_child(
    t: &SchemaTable,
    id: SchemaId,
    v: &mut Value,
    path: impl FnOnce() -> FieldPath,
    out: &mut Vec<String>,
) {
    if v.is_object() || v.is_array() {
        walk(t, id, v, &path(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{Property, Schema};
    use super::*;
    use serde_json::json;

    const fn p(name: &'static str, id: u32) -> Property {
        Property {
            name,
            schema: SchemaId(id),
        }
    }
    const fn obj(properties: &'static [Property]) -> Schema {
        Schema {
            ty: Type::Object,
            properties,
            ..Schema::ANY
        }
    }

    static NODES: [Schema; 10] = [
        obj(&[
            p("apiVersion", 1),
            p("kind", 1),
            p("metadata", 2),
            p("spec", 3),
        ]),
        Schema {
            ty: Type::String,
            ..Schema::ANY
        },
        obj(&[p("labels", 4), p("name", 1)]),
        obj(&[
            p("containers", 5),
            p("extra", 7),
            p("fields", 8),
            p("raw", 9),
        ]),
        Schema {
            ty: Type::Object,
            additional_properties: Some(SchemaId(1)),
            ..Schema::ANY
        },
        Schema {
            ty: Type::Array,
            items: Some(SchemaId(6)),
            ..Schema::ANY
        },
        obj(&[p("name", 1), p("ports", 5)]),
        Schema {
            preserve_unknown_fields: true,
            ..obj(&[p("known", 2)])
        },
        Schema {
            ty: Type::Object,
            ..Schema::ANY
        },
        Schema::ANY,
    ];
    static TABLE: SchemaTable = SchemaTable { nodes: &NODES };

    #[test]
    fn reports_undeclared_properties_with_paths() {
        let v = json!({
            "apiVersion": "v1", "kind": "Pod", "bogus": 1,
            "metadata": {"name": "x", "labels": {"app": "y"}, "nope": true},
            "spec": {
                "foo": {"deep": 1},
                "containers": [{"name": "a"}, {"name": "b", "bogus": 2, "ports": [{"name": "p", "weird": 3}]}],
                "extra": {"anything": 1, "known": {"name": "k", "unknownInKnown": 1}},
                "fields": {"f:metadata": {}},
                "raw": {"whatever": [1]}
            }
        });
        assert_eq!(
            unknown_fields(&TABLE, SchemaId(0), &v),
            [
                "bogus",
                "metadata.nope",
                "spec.containers[1].bogus",
                "spec.containers[1].ports[0].weird",
                "spec.extra.known.unknownInKnown",
                "spec.foo",
            ]
        );
        assert!(
            unknown_fields(&TABLE, SchemaId(0), &json!({"spec": null, "metadata": [1]})).is_empty()
        );
    }

    #[test]
    fn pruning_drops_what_it_reports() {
        let mut v = json!({
            "kind": "Pod", "bogus": 1,
            "spec": {"containers": [{"name": "b", "bogus": 2}], "extra": {"anything": 1}}
        });
        let removed = prune_unknown_fields(&TABLE, SchemaId(0), &mut v);
        assert_eq!(removed, ["bogus", "spec.containers[0].bogus"]);
        assert_eq!(
            v,
            json!({"kind": "Pod", "spec": {"containers": [{"name": "b"}], "extra": {"anything": 1}}})
        );
    }
}
