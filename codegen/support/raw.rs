//! Wire types whose content is arbitrary JSON: `runtime.RawExtension`
//! (embedded objects, passed through as sent), apiextensions `JSON` (CRD
//! `default` and `example` values) and the three JSON-schema unions
//! `JSONSchemaPropsOrArray`, `JSONSchemaPropsOrBool` and
//! `JSONSchemaPropsOrStringArray`. They are not plain `String`s because the
//! value on the wire is a JSON value of any shape, not a JSON string. Each is a
//! newtype over [`serde_json::Value`] that serializes transparently; the schema
//! unions keep their schema objects as raw JSON for the caller to interpret.
//!
//! Go's zero values marshal as `null` (`false` for `JSONSchemaPropsOrBool`),
//! and so does each `Default` here. Without serde_json's `preserve_order`
//! feature, object keys come back sorted rather than in the order sent.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

macro_rules! json_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Value);

        impl From<Value> for $name {
            fn from(v: Value) -> Self {
                Self(v)
            }
        }

        impl From<$name> for Value {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}

json_newtype!(
    /// `runtime.RawExtension`: any JSON value, kept as sent (`null` if unset).
    #[derive(Default, Deserialize)]
    RawExtension
);

json_newtype!(
    /// apiextensions `JSON`: any JSON value, kept as sent (`null` if unset).
    #[derive(Default, Deserialize)]
    Json
);

json_newtype!(
    /// `JSONSchemaPropsOrArray` (`items`): a schema object or an array of
    /// schema objects. As in Go, any other value, and an empty array, reads
    /// as `null`, and a `null` array element as `{}`.
    #[derive(Default)]
    JsonSchemaPropsOrArray
);

json_newtype!(
    /// `JSONSchemaPropsOrBool` (`additionalProperties`, `additionalItems`):
    /// a schema object or a boolean; anything else is an error, as in Go.
    /// The default is `false`, Go's zero value on the wire.
    JsonSchemaPropsOrBool
);

json_newtype!(
    /// `JSONSchemaPropsOrStringArray` (`dependencies` values): a schema object
    /// or an array of strings. As in Go, any other value, and an empty array,
    /// reads as `null`, and a `null` array element as `""`.
    #[derive(Default)]
    JsonSchemaPropsOrStringArray
);

impl Default for JsonSchemaPropsOrBool {
    fn default() -> Self {
        Self(Value::Bool(false))
    }
}

/// An array for the `Or*Array` unions: `null` elements become `null_as`,
/// elements failing `ok` are an error, an empty array is `null`.
fn union_array<E: de::Error>(
    items: Vec<Value>,
    null_as: fn() -> Value,
    ok: fn(&Value) -> bool,
    expected: &str,
) -> Result<Value, E> {
    if items.is_empty() {
        return Ok(Value::Null);
    }
    let items = items
        .into_iter()
        .map(|v| match v {
            Value::Null => Ok(null_as()),
            v if ok(&v) => Ok(v),
            _ => Err(E::custom(format_args!("array elements must be {expected}"))),
        })
        .collect::<Result<_, E>>()?;
    Ok(Value::Array(items))
}

impl<'de> Deserialize<'de> for JsonSchemaPropsOrArray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(match Value::deserialize(deserializer)? {
            v @ Value::Object(_) => v,
            Value::Array(items) => {
                let empty = || Value::Object(Default::default());
                union_array(items, empty, Value::is_object, "JSON schema objects")?
            }
            _ => Value::Null,
        }))
    }
}

impl<'de> Deserialize<'de> for JsonSchemaPropsOrStringArray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(match Value::deserialize(deserializer)? {
            v @ Value::Object(_) => v,
            Value::Array(items) => {
                let empty = || Value::String(String::new());
                union_array(items, empty, Value::is_string, "strings")?
            }
            _ => Value::Null,
        }))
    }
}

impl<'de> Deserialize<'de> for JsonSchemaPropsOrBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            v @ (Value::Object(_) | Value::Bool(_)) => Ok(Self(v)),
            _ => Err(de::Error::custom("boolean or JSON schema expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn round<T: Serialize + for<'de> Deserialize<'de>>(
        json: &str,
    ) -> Result<String, serde_json::Error> {
        serde_json::from_str::<T>(json).map(|v| serde_json::to_string(&v).unwrap())
    }

    #[test]
    fn passthrough() {
        for json in [
            r#"{"apiVersion":"v1","kind":"Pod","x":[1,2.5,null]}"#,
            "null",
            "3",
            "\"s\"",
            "[]",
        ] {
            assert_eq!(round::<RawExtension>(json).unwrap(), json);
            assert_eq!(round::<Json>(json).unwrap(), json);
        }
        assert_eq!(
            serde_json::to_string(&RawExtension::default()).unwrap(),
            "null"
        );
        assert_eq!(serde_json::from_str::<Option<Json>>("null").unwrap(), None);
        let m: BTreeMap<String, Json> = serde_json::from_str(r#"{"a":{"b":1}}"#).unwrap();
        assert_eq!(m["a"], Json(json!({"b": 1})));
    }

    #[test]
    fn or_array() {
        let r = round::<JsonSchemaPropsOrArray>;
        assert_eq!(r(r#"{"type":"string"}"#).unwrap(), r#"{"type":"string"}"#);
        assert_eq!(
            r(r#"[{"type":"string"},null]"#).unwrap(),
            r#"[{"type":"string"},{}]"#
        );
        for dropped in ["[]", "null", "true", "5", "\"x\""] {
            assert_eq!(r(dropped).unwrap(), "null", "{dropped}");
        }
        assert!(r("[5]").is_err());
        assert_eq!(JsonSchemaPropsOrArray::default().0, Value::Null);
    }

    #[test]
    fn or_string_array() {
        let r = round::<JsonSchemaPropsOrStringArray>;
        assert_eq!(r(r#"["a","b"]"#).unwrap(), r#"["a","b"]"#);
        assert_eq!(r(r#"["a",null]"#).unwrap(), r#"["a",""]"#);
        assert_eq!(r(r#"{"required":["a"]}"#).unwrap(), r#"{"required":["a"]}"#);
        assert_eq!(r("[]").unwrap(), "null");
        assert_eq!(r("7").unwrap(), "null");
        assert!(r("[{}]").is_err());
    }

    #[test]
    fn or_bool() {
        let r = round::<JsonSchemaPropsOrBool>;
        assert_eq!(r("true").unwrap(), "true");
        assert_eq!(r("false").unwrap(), "false");
        assert_eq!(r("{}").unwrap(), "{}");
        for bad in ["null", "1", "\"true\"", "[]"] {
            assert!(r(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&JsonSchemaPropsOrBool::default()).unwrap(),
            "false"
        );
        assert_eq!(
            serde_json::from_str::<Option<JsonSchemaPropsOrBool>>("null").unwrap(),
            None
        );
    }
}
