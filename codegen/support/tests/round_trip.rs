
/// Builds a sample value for a schema node with every property filled in
/// (past a few levels only the required ones, so recursive schemas end),
/// so that decoding it into the generated type and encoding it again must
/// give back the same JSON.
fn sample(id: SchemaId, depth: usize) -> Value {
    let node = SCHEMAS.get(id);
    match node.name {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time" => return json!("2024-02-03T04:05:06Z"),
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => return json!("2024-02-03T04:05:06.123456Z"),
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => return json!("1500m"),
        _ => {}
    }
    match node.ty {
        Type::Object => {
            let mut object = Map::new();
            let shallow = depth <= 4;
            for property in node.properties {
                if !shallow && !node.required.contains(&property.name) {
                    continue;
                }
                object.insert(property.name.to_owned(), sample(property.schema, depth + 1));
            }
            if let Some(values) = node.additional_properties.filter(|_| shallow) {
                object.insert("key".to_owned(), sample(values, depth + 1));
            }
            Value::Object(object)
        }
        Type::Array if depth > 4 => json!([]),
        Type::Array => json!([sample(node.items.expect("arrays have items"), depth + 1)]),
        Type::String => match node.format {
            Some("byte") => json!("aGVsbG8="),
            Some("date-time") => json!("2024-02-03T04:05:06Z"),
            _ => json!("text"),
        },
        Type::Integer => json!(7),
        Type::Number => json!(1.5),
        Type::Boolean => json!(true),
        Type::IntOrString => json!("25%"),
        Type::Any => json!({"any": ["json", 1]}),
    }
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(definition: &str) {
    let id = definition_id(definition).unwrap_or_else(|| panic!("{definition} is in the schema table"));
    let value = sample(id, 0);
    let typed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{definition} decodes its sample: {e}\n{value:#}"));
    let back = serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{definition} encodes: {e}"));
    assert_eq!(back, value, "{definition} round trips");
}
