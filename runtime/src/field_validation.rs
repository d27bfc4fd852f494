//! `fieldValidation`: what a write does with fields its kind does not
//! declare and with fields a JSON body names twice. `Strict` fails the
//! request, `Warn` (upstream's default) answers with `Warning` headers,
//! `Ignore` says nothing; unknown fields are dropped in every case, as
//! upstream's decoding into typed objects drops them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use generated::SCHEMAS;
use generated::support::field_error::{FieldError, FieldPath, quote};
use generated::support::schema::SchemaId;
use generated::support::unknown_fields::prune_unknown_fields;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::pipeline::request_info::query_param;
use crate::status::ApiError;

/// The `fieldValidation` directive of a create, update or patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// The directive of a request; `options` names the options kind
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`) for the 422 a
    /// value other than the three gets.
    pub fn from_query(query: Option<&str>, options: &str) -> Result<FieldValidation, ApiError> {
        match query_param(query, "fieldValidation").as_deref() {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => {
                let error = FieldError::not_supported(
                    &FieldPath::new("fieldValidation"),
                    other,
                    &["", "Ignore", "Strict", "Warn"],
                );
                Err(ApiError::invalid("meta.k8s.io", options, "", &[error]))
            }
        }
    }

    /// Applies the directive to a write's strict decoding errors: the
    /// warnings to send, or (under `Strict`) the error `fail` builds from
    /// upstream's `strict decoding error: ...` message.
    pub fn check(
        self,
        errors: Vec<String>,
        fail: impl FnOnce(String) -> ApiError,
    ) -> Result<Vec<String>, ApiError> {
        match self {
            _ if errors.is_empty() => Ok(errors),
            FieldValidation::Ignore => Ok(Vec::new()),
            FieldValidation::Warn => Ok(errors),
            FieldValidation::Strict => Err(fail(format!(
                "strict decoding error: {}",
                errors.join(", ")
            ))),
        }
    }
}

/// Drops the fields of `object` its schema does not declare and returns
/// them as upstream words each (`unknown field "spec.foo"`).
pub fn prune_unknown(schema: SchemaId, object: &mut Value) -> Vec<String> {
    prune_unknown_fields(&SCHEMAS, schema, object)
        .iter()
        .map(|path| format!("unknown field {}", quote(path)))
        .collect()
}

/// Fields a JSON document names twice in one object, as upstream words
/// each (`duplicate field "spec.replicas"`). A document that is not JSON
/// has none; its decoding reports it.
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut reader = serde_json::Deserializer::from_slice(body);
    let seed = Duplicates {
        at: &Step::Root,
        found: &mut found,
    };
    match seed.deserialize(&mut reader) {
        Ok(()) => found,
        Err(_) => Vec::new(),
    }
}

/// Parses a JSON body and, in the same pass, finds the fields it names
/// twice, worded and ordered as [`duplicate_fields`] reports them; the
/// later of two duplicates wins, as with `serde_json::from_slice`, whose
/// errors it also gives. One pass instead of two on every write.
pub fn parse_with_duplicates(body: &[u8]) -> serde_json::Result<(Value, Vec<String>)> {
    let mut found = Vec::new();
    let mut reader = serde_json::Deserializer::from_slice(body);
    let seed = Tracked {
        at: &Step::Root,
        found: &mut found,
    };
    let value = seed.deserialize(&mut reader)?;
    reader.end()?;
    Ok((value, found))
}

/// The errors a create or update fails with under `Strict`:
/// `Pod in version "v1" cannot be handled as a Pod: strict decoding error: ...`.
pub fn undecodable(kind: &str, version: &str, message: String) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version {} cannot be handled as a {kind}: {message}",
        quote(version)
    ))
}

/// Where a value sits in a document: kept on the stack while walking, and
/// rendered (`spec.containers[0].name`) only for a duplicate.
enum Step<'a> {
    Root,
    Key(&'a Step<'a>, &'a str),
    Index(&'a Step<'a>, usize),
}

impl fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Root => Ok(()),
            Step::Key(Step::Root, key) => f.write_str(key),
            Step::Key(parent, key) => write!(f, "{parent}.{key}"),
            Step::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Walks a JSON document, recording repeated keys with their paths.
struct Duplicates<'a> {
    at: &'a Step<'a>,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Duplicates<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Duplicates<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let step = Step::Key(self.at, &key);
            if seen.contains(&key) {
                self.found
                    .push(format!("duplicate field {}", quote(&step.to_string())));
            }
            map.next_value_seed(Duplicates {
                at: &step,
                found: &mut *self.found,
            })?;
            seen.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let step = Step::Index(self.at, index);
            let seed = Duplicates {
                at: &step,
                found: &mut *self.found,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Builds a JSON value like `serde_json::Value`'s own deserializer,
/// recording repeated keys with their paths on the way.
struct Tracked<'a> {
    at: &'a Step<'a>,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Tracked<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tracked<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step::Key(self.at, &key);
            // Reported before the value is read, so that duplicates inside
            // it come after this one, in document order.
            if object.contains_key(&key) {
                self.found
                    .push(format!("duplicate field {}", quote(&step.to_string())));
            }
            let value = map.next_value_seed(Tracked {
                at: &step,
                found: &mut *self.found,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let step = Step::Index(self.at, items.len());
            let seed = Tracked {
                at: &step,
                found: &mut *self.found,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// An object key, borrowed from the body unless it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_duplicate_fields_with_their_paths() {
        let body =
            br#"{"spec": {"replicas": 1, "replicas": 2, "list": [{"a": 1, "a": 2}]}, "kind": "x"}"#;
        assert_eq!(
            duplicate_fields(body),
            [
                r#"duplicate field "spec.replicas""#,
                r#"duplicate field "spec.list[0].a""#
            ]
        );
        assert!(duplicate_fields(br#"{"a": {"b": 1}, "b": 1}"#).is_empty());
        assert!(duplicate_fields(b"{not json").is_empty());
        assert_eq!(
            duplicate_fields(br#"[{"a\u0041": 1, "aA": 2}]"#),
            [r#"duplicate field "[0].aA""#]
        );
    }

    #[test]
    fn one_pass_parse_matches_serde_json_and_the_duplicate_walk() {
        let bodies: [&[u8]; 6] = [
            br#"{"spec": {"replicas": 1, "replicas": 2, "list": [{"a": 1, "a": 2}]}, "kind": "x"}"#,
            br#"{"a": 1, "a": {"b": 1, "b": [2.5, -3, 18446744073709551615, null, true]}}"#,
            br#"[{"a\u0041": 1, "aA": 2}]"#,
            br#"{"s": "\u00e9\n", "n": 1e400, "e": {}, "l": []}"#,
            b"{not json",
            br#"{"a": 1} trailing"#,
        ];
        for body in bodies {
            match (
                parse_with_duplicates(body),
                serde_json::from_slice::<Value>(body),
            ) {
                (Ok((value, found)), Ok(expected)) => {
                    assert_eq!(value, expected);
                    assert_eq!(found, duplicate_fields(body));
                }
                (Err(error), Err(expected)) => assert_eq!(error.to_string(), expected.to_string()),
                (got, expected) => panic!("{got:?} vs {expected:?}"),
            }
        }
        let (_, found) = parse_with_duplicates(br#"{"a": 1, "a": {"b": 1, "b": 2}}"#).unwrap();
        assert_eq!(
            found,
            [r#"duplicate field "a""#, r#"duplicate field "a.b""#]
        );
    }

    #[test]
    fn directives_parse_and_decide() {
        let parse = |q: &str| FieldValidation::from_query(Some(q), "CreateOptions");
        assert_eq!(
            parse("fieldValidation=Strict").unwrap(),
            FieldValidation::Strict
        );
        assert_eq!(
            parse("fieldValidation=Ignore").unwrap(),
            FieldValidation::Ignore
        );
        assert_eq!(parse("dryRun=All").unwrap(), FieldValidation::Warn);
        let bad = parse("fieldValidation=Loud").unwrap_err();
        assert_eq!(bad.code.as_u16(), 422);
        assert_eq!(
            bad.message,
            r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn""#
        );

        let errors = || vec![r#"unknown field "spec.foo""#.to_owned()];
        let fail = |m: String| undecodable("Pod", "v1", m);
        assert_eq!(
            FieldValidation::Warn.check(errors(), fail).unwrap(),
            errors()
        );
        assert!(
            FieldValidation::Ignore
                .check(errors(), fail)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            FieldValidation::Strict
                .check(errors(), fail)
                .unwrap_err()
                .message,
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo""#
        );
        assert!(FieldValidation::Strict.check(Vec::new(), fail).is_ok());
    }

    #[test]
    fn unknown_fields_are_pruned_from_real_kinds() {
        let pod = generated::RESOURCES
            .iter()
            .find(|r| r.group.is_empty() && r.version == "v1" && r.plural == "pods")
            .expect("pods are served");
        let mut object = json!({
            "metadata": {"name": "p", "bogus": 1},
            "spec": {"containers": [{"name": "c", "image": "i", "foo": true}]}
        });
        assert_eq!(
            prune_unknown(pod.schema, &mut object),
            [
                r#"unknown field "metadata.bogus""#,
                r#"unknown field "spec.containers[0].foo""#
            ]
        );
        assert_eq!(
            object,
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
        );
    }
}
