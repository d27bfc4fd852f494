//! Paths into an object as server-side apply names them: a field of a
//! struct or map (`f:<name>`), an item of a map-list by its keys
//! (`k:{"name":"web"}`), an item of a set-list by its value (`v:"a"`), or
//! an item of any other list by position (`i:0`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde_json::Value;

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathElement {
    /// A struct field or a map key.
    Field(String),
    /// A map-list item, by the values of its key fields (sorted by name).
    Key(BTreeMap<String, Value>),
    /// A set-list item, by its whole value.
    Value(Value),
    /// A list item by position.
    Index(usize),
}

/// A path from the object's root.
pub type Path = Vec<PathElement>;

impl PathElement {
    /// The `FieldsV1` key of this element: `f:name`, `k:{...}`, `v:...`, `i:n`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        self.encode_into(&mut text);
        text
    }

    /// Appends the `FieldsV1` key of this element to `out`.
    pub fn encode_into(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = match self {
            PathElement::Field(name) => {
                out.push_str("f:");
                out.push_str(name);
                Ok(())
            }
            PathElement::Key(keys) => write!(out, "k:{}", Value::from(keys_object(keys))),
            PathElement::Value(value) => write!(out, "v:{value}"),
            PathElement::Index(index) => write!(out, "i:{index}"),
        };
    }

    /// Reads a `FieldsV1` key; `None` when it is none of the four forms.
    pub fn decode(text: &str) -> Option<PathElement> {
        let (prefix, rest) = text.split_at_checked(2)?;
        match prefix {
            "f:" => Some(PathElement::Field(rest.to_owned())),
            "k:" => match serde_json::from_str(rest).ok()? {
                Value::Object(map) => Some(PathElement::Key(map.into_iter().collect())),
                _ => None,
            },
            "v:" => serde_json::from_str(rest).ok().map(PathElement::Value),
            "i:" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

fn keys_object(keys: &BTreeMap<String, Value>) -> serde_json::Map<String, Value> {
    keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl fmt::Display for PathElement {
    /// Upstream's way of printing a path in conflict messages:
    /// `.spec`, `[name="web"]`, `[="a"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(keys) => {
                let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(value) => write!(f, "[={value}]"),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// A path printed as upstream prints it: `.spec.containers[name="web"].image`.
pub fn display(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                let a = a.iter().map(|(k, v)| (k.as_str(), ValueOrd(v)));
                let b = b.iter().map(|(k, v)| (k.as_str(), ValueOrd(v)));
                a.cmp(b)
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order on JSON values: by kind (null, bool, number, string,
/// array, object), then by content.
#[derive(PartialEq)]
struct ValueOrd<'a>(&'a Value);

impl Eq for ValueOrd<'_> {}

impl PartialOrd for ValueOrd<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ValueOrd<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_values(self.0, other.0)
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.total_cmp(&y)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x.iter().map(ValueOrd).cmp(y.iter().map(ValueOrd)),
        (Value::Object(x), Value::Object(y)) => {
            let x = x.iter().map(|(k, v)| (k, ValueOrd(v)));
            let y = y.iter().map(|(k, v)| (k, ValueOrd(v)));
            x.cmp(y)
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_encode_and_decode_as_fields_v1_keys() {
        let key: BTreeMap<String, Value> = [
            ("protocol".to_owned(), json!("TCP")),
            ("containerPort".to_owned(), json!(80)),
        ]
        .into_iter()
        .collect();
        let cases = [
            (PathElement::Field("spec".into()), "f:spec", ".spec"),
            (
                PathElement::Key(key),
                r#"k:{"containerPort":80,"protocol":"TCP"}"#,
                r#"[containerPort=80,protocol="TCP"]"#,
            ),
            (PathElement::Value(json!("a")), r#"v:"a""#, r#"[="a"]"#),
            (PathElement::Index(3), "i:3", "[3]"),
        ];
        for (element, encoded, shown) in cases {
            assert_eq!(element.encode(), encoded);
            assert_eq!(element.to_string(), shown);
            assert_eq!(PathElement::decode(encoded), Some(element));
        }
        assert_eq!(PathElement::decode("x:1"), None);
        assert_eq!(PathElement::decode("k:[1]"), None);
        assert_eq!(PathElement::decode("f"), None);
    }

    #[test]
    fn key_elements_order_numerically() {
        let port = |p: u16| PathElement::Key([("containerPort".to_owned(), json!(p))].into());
        assert!(port(80) < port(443));
        assert!(port(80) < port(8080));
        assert!(PathElement::Field("z".into()) < PathElement::Index(0));
    }
}
