//! Schema validation and defaulting of JSON values against the static schema
//! table. Validation follows upstream's checks of custom resources against
//! their structural schema, and words each error like kube-openapi does as
//! apiextensions-apiserver turns it into a `field.Error`, so clients see the
//! messages they know: `spec.replicas: Invalid value: "string": spec.replicas
//! in body must be of type integer: "string"`.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;
use serde_json::{Map, Value};

use super::field_error::{ErrorList, ErrorType, FieldError, FieldPath, format_value, quote};
use super::schema::{ListType, Schema, SchemaId, SchemaTable, Type};

/// Checks `value` against node `root`, with paths relative to the value itself.
/// Unknown properties are not reported here (see `unknown_fields`).
pub fn validate(table: &SchemaTable, root: SchemaId, value: &Value) -> ErrorList {
    validate_at(table, root, value, &FieldPath::root())
}

/// Like [`validate`], for a value that sits at `path` inside a larger document.
pub fn validate_at(t: &SchemaTable, root: SchemaId, v: &Value, path: &FieldPath) -> ErrorList {
    let mut walk = Walk {
        t,
        errs: ErrorList::new(),
    };
    walk.check(root, v, path);
    walk.errs
}

/// Fills in schema defaults for absent properties (and non-nullable `null`s),
/// recursing into present objects, array items and map values, and into the
/// defaults just inserted, as upstream structural defaulting does.
pub fn apply_defaults(table: &SchemaTable, root: SchemaId, value: &mut Value) {
    let s = table.get(root);
    match value {
        Value::Object(m) => {
            for prop in s.properties {
                let ps = table.get(prop.schema);
                let absent = m.get(prop.name).is_none_or(|v| v.is_null() && !ps.nullable);
                // The default is parsed only when it is needed.
                if let Some(default) = absent.then(|| parse_default(ps)).flatten() {
                    m.insert(prop.name.to_string(), default);
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(id) = s.property(k).or(s.additional_properties) {
                    apply_defaults(table, id, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(id) = s.items {
                items.iter_mut().for_each(|v| apply_defaults(table, id, v));
            }
        }
        _ => {}
    }
}

/// The generator emits defaults as JSON text it has already parsed once, so a
/// parse failure cannot come from user input; such a default is ignored.
fn parse_default(s: &Schema) -> Option<Value> {
    s.default.and_then(|d| serde_json::from_str(d).ok())
}

/// An error worded like kube-openapi's: `<path> in body <what>`; the root is ".".
fn openapi(
    kind: ErrorType,
    p: &FieldPath,
    value: impl Into<Value>,
    what: impl Display,
) -> FieldError {
    let name = if p.is_empty() { "." } else { p.as_str() };
    let detail = format!("{name} in body {what}");
    FieldError {
        kind,
        field: p.to_string(),
        bad_value: Some(value.into()),
        detail,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Integral floats such as `3.0` count as integers when they are exact, as in
/// kube-openapi (`swag.IsFloat64AJSONInteger`).
fn as_integer(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    let exact = |f: &f64| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0;
    (n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from)))
    .or_else(|| n.as_f64().filter(exact).map(|f| f as i128))
}

/// Whether `v` has type `ty`, and the name kube-openapi gives `ty`.
fn type_check(ty: Type, v: &Value) -> (bool, &'static str) {
    match ty {
        Type::Object => (v.is_object(), "object"),
        Type::Array => (v.is_array(), "array"),
        Type::String => (v.is_string(), "string"),
        Type::Boolean => (v.is_boolean(), "boolean"),
        Type::Number => (v.is_number(), "number"),
        Type::Integer => (as_integer(v).is_some(), "integer"),
        Type::IntOrString => (v.is_string() || as_integer(v).is_some(), "integer,string"),
        Type::Any => (true, "any"),
    }
}

struct Walk<'a> {
    t: &'a SchemaTable,
    errs: ErrorList,
}

impl Walk<'_> {
    fn check(&mut self, id: SchemaId, v: &Value, p: &FieldPath) {
        let s = self.t.get(id);
        if s.ty == Type::Any || (v.is_null() && s.nullable) {
            return;
        }
        let (ok, expected) = type_check(s.ty, v);
        if !ok {
            let actual = json_type(v);
            let what = format!("must be of type {expected}: {}", quote(actual));
            return self
                .errs
                .push(openapi(ErrorType::TypeInvalid, p, actual, what));
        }
        match v {
            Value::Object(m) => self.object(s, m, p),
            Value::Array(a) => self.array(s, a, p),
            _ => self.scalar(s, v, p),
        }
    }

    fn object(&mut self, s: &Schema, m: &Map<String, Value>, p: &FieldPath) {
        let n = m.len();
        // kube-openapi reports a property-count failure alone, without descending.
        if let Some(min) = s.min_properties.filter(|&min| (n as u64) < min) {
            let what = format!("should have at least {min} properties");
            return self.errs.push(openapi(ErrorType::Invalid, p, n, what));
        }
        if let Some(max) = s.max_properties.filter(|&max| n as u64 > max) {
            return self.errs.push(FieldError::too_many(p, n, max as usize));
        }
        // Child paths are rendered only for properties that are there or
        // required: most schemas declare many more than an object sets.
        for prop in s.properties {
            match m.get(prop.name) {
                // A null property counts as absent, as Go decoding of built-in types makes it.
                Some(v) if !v.is_null() || self.t.get(prop.schema).nullable => {
                    self.check(prop.schema, v, &p.child(prop.name))
                }
                _ if s.required.contains(&prop.name) => {
                    self.errs.push(FieldError::required(&p.child(prop.name), ""))
                }
                _ => {}
            }
        }
        for r in s.required.iter().filter(|r| s.property(r).is_none()) {
            if m.get(*r).is_none_or(Value::is_null) {
                self.errs.push(FieldError::required(&p.child(r), ""));
            }
        }
        if let Some(values) = s.additional_properties {
            // Sorted so the order does not hinge on serde_json's `preserve_order` feature.
            let mut entries: Vec<_> = m.iter().filter(|(k, _)| s.property(k).is_none()).collect();
            entries.sort_unstable_by_key(|(k, _)| *k);
            entries
                .into_iter()
                .for_each(|(k, v)| self.check(values, v, &p.key(k)));
        }
    }

    fn array(&mut self, s: &Schema, a: &[Value], p: &FieldPath) {
        let n = a.len();
        if let Some(min) = s.min_items.filter(|&min| (n as u64) < min) {
            let what = format!("should have at least {min} items");
            self.errs.push(openapi(ErrorType::Invalid, p, n, what));
        }
        if let Some(max) = s.max_items.filter(|&max| n as u64 > max) {
            self.errs.push(FieldError::too_many(p, n, max as usize));
        }
        if let Some(items) = s.items {
            (a.iter().enumerate()).for_each(|(i, v)| self.check(items, v, &p.index(i)));
        }
        let keys = match s.list_type {
            Some(ListType::Set) => a.iter().cloned().enumerate().collect(),
            Some(ListType::Map) => self.list_map_keys(s, a, p),
            _ => return,
        };
        // Each repeated value is reported once, at its second occurrence, like upstream.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, v) in keys {
            let count = seen.entry(v.to_string()).or_default();
            *count += 1;
            if *count == 2 {
                self.errs.push(FieldError::duplicate(&p.index(i), v));
            }
        }
    }

    /// The key of each object item of a list-type map, as the object of its key
    /// fields (how upstream reports them); keys fall back to their defaults.
    /// Items missing a key are skipped, and reported unless the item schema
    /// already requires that key.
    fn list_map_keys(&mut self, s: &Schema, a: &[Value], p: &FieldPath) -> Vec<(usize, Value)> {
        let item = s.items.map(|id| self.t.get(id));
        let mut keys = Vec::new();
        for (i, obj) in a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, v.as_object()?)))
        {
            let mut key = Map::new();
            for &k in s.list_map_keys {
                let key_schema = item.and_then(|s| s.property(k)).map(|id| self.t.get(id));
                let present = obj.get(k).filter(|v| !v.is_null()).cloned();
                match present.or_else(|| key_schema.and_then(parse_default)) {
                    Some(v) => _ = key.insert(k.to_string(), v),
                    None if item.is_some_and(|s| s.required.contains(&k)) => {}
                    None => self
                        .errs
                        .push(FieldError::required(&p.index(i).child(k), "")),
                }
            }
            if key.len() == s.list_map_keys.len() {
                keys.push((i, Value::Object(key)));
            }
        }
        keys
    }

    fn scalar(&mut self, s: &Schema, v: &Value, p: &FieldPath) {
        if let Some(f) = s.format.filter(|f| !format_ok(f, v)) {
            // kube-openapi echoes the data in this message only when it is a string.
            let data = v
                .as_str()
                .map(|x| format!(": {}", quote(x)))
                .unwrap_or_default();
            let what = format!("must be of type {f}{data}");
            self.errs
                .push(openapi(ErrorType::TypeInvalid, p, v.clone(), what));
        }
        if !s.enum_values.is_empty() && !v.as_str().is_some_and(|x| s.enum_values.contains(&x)) {
            self.errs
                .push(FieldError::not_supported(p, v.clone(), s.enum_values));
        }
        if let Some(n) = v.as_f64() {
            // Integer data is compared with, and shown as, the truncated bound, as upstream does.
            let int = !v.as_number().is_some_and(serde_json::Number::is_f64);
            let bounds = [
                (s.maximum, s.exclusive_maximum, 1.0, "less than"),
                (s.minimum, s.exclusive_minimum, -1.0, "greater than"),
            ];
            for (bound, exclusive, sign, rel) in bounds {
                let Some(b) = bound.map(|b| if int { b.trunc() } else { b }) else {
                    continue;
                };
                if (n - b) * sign > 0.0 || (exclusive && n == b) {
                    let shown = format_value(&if int {
                        Value::from(b as i64)
                    } else {
                        Value::from(b)
                    });
                    let or_equal = if exclusive { "" } else { " or equal to" };
                    let what = format!("should be {rel}{or_equal} {shown}");
                    self.errs
                        .push(openapi(ErrorType::Invalid, p, v.clone(), what));
                }
            }
        }
        if let Some(x) = v.as_str() {
            // Lengths count characters, as kube-openapi does, though the message says bytes.
            let len = x.chars().count() as u64;
            if let Some(max) = s.max_length.filter(|&max| len > max) {
                self.errs.push(FieldError::too_long(p, max as usize));
            }
            if let Some(min) = s.min_length.filter(|&min| len < min) {
                let what = format!("should be at least {min} chars long");
                self.errs.push(openapi(ErrorType::Invalid, p, x, what));
            }
            if let Some(pat) = s
                .pattern
                .filter(|pat| regex(pat).is_some_and(|re| !re.is_match(x)))
            {
                self.errs.push(openapi(
                    ErrorType::Invalid,
                    p,
                    x,
                    format!("should match '{pat}'"),
                ));
            }
        }
    }
}

fn format_ok(format: &str, v: &Value) -> bool {
    // Go's StdEncoding skips line breaks and tolerates non-zero trailing bits.
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let fits = |ok: fn(i128) -> bool| as_integer(v).is_some_and(ok);
    match (format, v) {
        ("int32", Value::Number(_)) => fits(|i| i32::try_from(i).is_ok()),
        ("int64", Value::Number(_)) => fits(|i| i64::try_from(i).is_ok()),
        ("byte", Value::String(s)) => GO_STD.decode(s.replace(['\r', '\n'], "")).is_ok(),
        // Go's RFC 3339 layout insists on an upper-case `T`; chrono also takes `t` and ' '.
        ("date-time", Value::String(s)) => {
            s.as_bytes().get(10) == Some(&b'T') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        }
        _ => true,
    }
}

/// Patterns are static and few, so each is compiled once per process. One
/// the regex crate cannot compile is cached as `None` and not enforced.
fn regex(pattern: &'static str) -> Option<Regex> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).ok())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::super::schema::Property;
    use super::*;
    use serde_json::json;

    /// `Schema::ANY` with the given fields set; a macro so rustfmt keeps each node on one line.
    macro_rules! node {
        ($($field:ident: $value:expr),* $(,)?) => { Schema { $($field: $value,)* ..Schema::ANY } };
    }
    const fn p(name: &'static str, id: u32) -> Property {
        Property {
            name,
            schema: SchemaId(id),
        }
    }
    const fn id(n: u32) -> Option<SchemaId> {
        Some(SchemaId(n))
    }
    const OBJ: Type = Type::Object;
    const STR: Type = Type::String;
    const INT: Type = Type::Integer;
    const ARR: Type = Type::Array;
    const MAP: Option<ListType> = Some(ListType::Map);

    static NODES: [Schema; 25] = [
        /* 0 */ node!(ty: OBJ, properties: &[p("spec", 1)]),
        /* 1 */
        node!(ty: OBJ, required: &["containers", "mode"], properties: &[
            p("containers", 2), p("count", 5), p("data", 6), p("labels", 7), p("mode", 9),
            p("name", 10), p("nick", 11), p("note", 24), p("port", 12), p("ratio", 13),
            p("raw", 14), p("strategy", 15), p("tags", 17), p("volumes", 18), p("when", 20),
        ]),
        /* 2 */ node!(ty: ARR, items: id(3), list_type: MAP, list_map_keys: &["name"]),
        /* 3 */
        node!(ty: OBJ, properties: &[p("name", 8), p("ports", 4)], required: &["name"]),
        /* 4 */
        node!(ty: ARR, items: id(21), list_type: MAP,
            list_map_keys: &["containerPort", "protocol"]),
        /* 5 */
        node!(ty: INT, format: Some("int32"), minimum: Some(0.0), maximum: Some(10.0)),
        /* 6 */ node!(ty: STR, format: Some("byte")),
        /* 7 */ node!(ty: OBJ, additional_properties: id(8), max_properties: Some(2)),
        /* 8 */ node!(ty: STR),
        /* 9 */ node!(ty: STR, enum_values: &["Always", "Never", "OnFailure"]),
        /* 10 */
        node!(ty: STR, min_length: Some(2), max_length: Some(5), pattern: Some("^[a-z]+$")),
        /* 11 */ node!(ty: STR, max_length: Some(3)),
        /* 12 */ node!(ty: Type::IntOrString),
        /* 13 */
        node!(ty: Type::Number, minimum: Some(0.0), maximum: Some(1.0), exclusive_maximum: true),
        /* 14 */ node!(),
        /* 15 */ node!(ty: OBJ, properties: &[p("type", 16)], default: Some("{}")),
        /* 16 */ node!(ty: STR, default: Some("\"Rolling\"")),
        /* 17 */
        node!(ty: ARR, items: id(8), list_type: Some(ListType::Set),
            min_items: Some(1), max_items: Some(3)),
        /* 18 */ node!(ty: ARR, items: id(19), list_type: MAP, list_map_keys: &["id"]),
        /* 19 */ node!(ty: OBJ, properties: &[p("id", 8)]),
        /* 20 */ node!(ty: STR, format: Some("date-time")),
        /* 21 */
        node!(ty: OBJ, properties: &[p("containerPort", 22), p("protocol", 23)],
            required: &["containerPort"]),
        /* 22 */ node!(ty: INT, format: Some("int32")),
        /* 23 */ node!(ty: STR, enum_values: &["TCP", "UDP"], default: Some("\"TCP\"")),
        /* 24 */ node!(ty: STR, nullable: true),
    ];
    static TABLE: SchemaTable = SchemaTable { nodes: &NODES };

    /// Each unindented line is JSON merged into a minimal valid spec (node 1); the indented
    /// lines below it are exactly the errors it must produce, in order.
    const CASES: &str = r#"
{"count": 2.0, "data": "aGVsbG8=", "labels": {"a": "b"}, "name": "abc", "nick": "ééé", "note": null}
{"port": "http", "ratio": 0.5, "raw": [{"x": null}], "tags": ["a", "b"], "undeclared": 1}
{"port": 8080, "count": null, "strategy": null, "when": "2024-01-02T03:04:05.5+02:00"}
{"mode": null}
  spec.mode: Required value
{"count": "3"}
  spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"
{"count": 2.5}
  spec.count: Invalid value: "number": spec.count in body must be of type integer: "number"
{"labels": []}
  spec.labels: Invalid value: "array": spec.labels in body must be of type object: "array"
{"port": true}
  spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"
{"tags": [null]}
  spec.tags[0]: Invalid value: "null": spec.tags[0] in body must be of type string: "null"
{"mode": "Sometimes"}
  spec.mode: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"
{"count": -1}
  spec.count: Invalid value: -1: spec.count in body should be greater than or equal to 0
{"count": 3000000000}
  spec.count: Invalid value: 3000000000: spec.count in body must be of type int32
  spec.count: Invalid value: 3000000000: spec.count in body should be less than or equal to 10
{"ratio": 1.0}
  spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1
{"name": "ABCDEFG"}
  spec.name: Too long: may not be more than 5 bytes
  spec.name: Invalid value: "ABCDEFG": spec.name in body should match '^[a-z]+$'
{"name": "a"}
  spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long
{"nick": "éééé"}
  spec.nick: Too long: may not be more than 3 bytes
{"data": "aGVsbG8"}
  spec.data: Invalid value: "aGVsbG8": spec.data in body must be of type byte: "aGVsbG8"
{"when": "2024-01-02 03:04:05Z"}
  spec.when: Invalid value: "2024-01-02 03:04:05Z": spec.when in body must be of type date-time: "2024-01-02 03:04:05Z"
{"tags": []}
  spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items
{"tags": ["a", "b", "a", "a"]}
  spec.tags: Too many: 4: must have at most 3 items
  spec.tags[2]: Duplicate value: "a"
{"containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 80, "protocol": "TCP"}, {"protocol": "UDP"}]}, {"name": "b"}, {"name": "a"}, {}]}
  spec.containers[0].ports[2].containerPort: Required value
  spec.containers[0].ports[1]: Duplicate value: {"containerPort":80,"protocol":"TCP"}
  spec.containers[3].name: Required value
  spec.containers[2]: Duplicate value: {"name":"a"}
{"volumes": [{"id": "x"}, {}, {"id": "x"}, {"id": "x"}]}
  spec.volumes[1].id: Required value
  spec.volumes[2]: Duplicate value: {"id":"x"}
{"labels": {"app": 5}}
  spec.labels[app]: Invalid value: "integer": spec.labels[app] in body must be of type string: "integer"
{"labels": {"a": 1, "b": 2, "c": 3}}
  spec.labels: Too many: 3: must have at most 2 items
"#;

    #[test]
    fn every_rule_renders_upstream_messages() {
        let mut lines = CASES.lines().filter(|l| !l.is_empty()).peekable();
        while let Some(input) = lines.next() {
            let mut spec = json!({"containers": [{"name": "a"}], "mode": "Always"});
            let extra: Map<String, Value> = serde_json::from_str(input).expect(input);
            spec.as_object_mut().expect("object").extend(extra);
            let got = validate(&TABLE, SchemaId(0), &json!({ "spec": spec }));
            let got: Vec<String> = got.iter().map(ToString::to_string).collect();
            let mut want = Vec::new();
            while let Some(line) = lines.next_if(|l| l.starts_with(' ')) {
                want.push(line.trim_start());
            }
            assert_eq!(got, want, "for {input}");
        }
    }

    #[test]
    fn reasons_and_starting_paths() {
        let got = validate(&TABLE, SchemaId(0), &json!({"spec": {}}));
        let got: Vec<_> = got
            .iter()
            .map(|e| (e.kind.reason(), e.to_string()))
            .collect();
        let want = [(
            "FieldValueRequired",
            "spec.containers: Required value".to_string(),
        )];
        assert_eq!(got[..1], want);
        assert_eq!(got[1].1, "spec.mode: Required value");
        let path = FieldPath::new("spec").child("count");
        let got = validate_at(&TABLE, SchemaId(5), &json!(11), &path);
        assert_eq!(got[0].kind.reason(), "FieldValueInvalid");
        let msg =
            "spec.count: Invalid value: 11: spec.count in body should be less than or equal to 10";
        assert_eq!(got[0].to_string(), msg);
    }

    #[test]
    fn defaults_fill_absent_and_null_recursively() {
        let ports = json!([{"containerPort": 80}, {"containerPort": 81, "protocol": "UDP"}]);
        let mut v =
            json!({"spec": {"containers": [{"name": "a", "ports": ports}], "strategy": null}});
        apply_defaults(&TABLE, SchemaId(0), &mut v);
        assert_eq!(v["spec"]["strategy"], json!({"type": "Rolling"}));
        let ports = json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81, "protocol": "UDP"}]);
        assert_eq!(v["spec"]["containers"][0]["ports"], ports);
        for unchanged in [json!({"spec": {"strategy": {"type": "Blue"}}}), json!({})] {
            let mut v = unchanged.clone();
            apply_defaults(&TABLE, SchemaId(0), &mut v);
            assert_eq!(v, unchanged);
        }
    }
}
