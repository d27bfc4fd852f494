//! JSON text as Go's `encoding/json` writes it, for the values upstream
//! stashes in annotations during conversion. A client reading such an
//! annotation sees the same text a Go API server would have written: struct
//! fields in declaration order, map keys sorted, and `<`, `>`, `&`, U+2028
//! and U+2029 escaped.

use serde_json::Value;

/// How the objects inside a value are laid out.
pub struct Layout {
    /// Every struct field name, in Go declaration order. Struct objects
    /// list their known fields in this order, then any others by name. One
    /// list serves several structs as long as their orders agree.
    pub fields: &'static [&'static str],
    /// Fields whose value is a Go map, written with sorted keys instead.
    pub maps: &'static [&'static str],
}

impl Layout {
    /// `value` as Go would encode it.
    pub fn to_string(&self, value: &Value) -> String {
        let mut out = String::new();
        self.write(value, false, &mut out);
        out
    }

    fn write(&self, value: &Value, is_map: bool, out: &mut String) {
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&value.to_string()),
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write(item, false, out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                if !is_map {
                    keys.sort_by_key(|k| {
                        let rank = self.fields.iter().position(|f| f == k);
                        (rank.unwrap_or(usize::MAX), k.as_str())
                    });
                }
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    self.write(&map[key], self.maps.contains(&key.as_str()), out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string with Go's HTML-safe escaping on top of the standard one.
fn write_string(s: &str, out: &mut String) {
    let standard = Value::String(s.to_owned()).to_string();
    // The standard escaping never produces these characters itself, so
    // replacing them afterwards only touches the string's own.
    for c in standard.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LAYOUT: Layout = Layout {
        fields: &["type", "name", "selector"],
        maps: &["matchLabels"],
    };

    #[test]
    fn fields_follow_declaration_order_and_maps_sort() {
        let value = json!({
            "selector": {"matchLabels": {"type": "b", "app": "a"}},
            "name": "x",
            "zeta": 1,
            "alpha": [true, null],
            "type": "Pods"
        });
        assert_eq!(
            LAYOUT.to_string(&value),
            r#"{"type":"Pods","name":"x","selector":{"matchLabels":{"app":"a","type":"b"}},"alpha":[true,null],"zeta":1}"#
        );
    }

    #[test]
    fn strings_escape_like_go() {
        let text = LAYOUT.to_string(&json!("a<b>&c\u{2028}\"\n"));
        assert_eq!(text, r#""a\u003cb\u003e\u0026c\u2028\"\n""#);
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("parses"),
            json!("a<b>&c\u{2028}\"\n")
        );
    }
}
