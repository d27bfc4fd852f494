//! A JSON object -> the protobuf message bytes Go would write for it.
//!
//! Fields go out in field-number order and map entries in key order, as
//! Go's generated marshallers write them, so equal objects encode to equal
//! bytes. Only what the JSON holds is written: absent and `null` properties
//! are left out (Go would write its zero value for a value-typed field,
//! which reads back the same). Properties the message has no field for
//! (`apiVersion` and `kind` of list items, say) are dropped, as Go's types
//! would have dropped them on the way in.

use generated::protobuf::MESSAGES;
use generated::support::byte_string::ByteString;
use generated::support::protobuf::{Field, Kind, Message, MessageId, Shape};
use generated::support::time::{MicroTime, Time};
use serde_json::{Map, Value};

use super::MAX_DEPTH;
use crate::codec::wire::{Fail, WireType, put_len_field, put_tag, put_varint_field};

/// Appends the fields of `message` taken from `object`.
pub(super) fn message(
    message: &Message,
    object: &Map<String, Value>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new(format!("nested deeper than {MAX_DEPTH} objects")));
    }
    for field in message.fields {
        if let Kind::Embedded(id) = field.kind {
            // Go writes an embedded struct even when all of it is empty.
            let mut inner = Vec::new();
            self::message(lookup(id)?, object, &mut inner, depth + 1)?;
            put_len_field(out, field.number, &inner);
            continue;
        }
        let Some(value) = object.get(field.json).filter(|v| !v.is_null()) else {
            continue;
        };
        encode_field(field, value, out, depth).map_err(|f| f.at(field.json))?;
    }
    Ok(())
}

fn encode_field(field: &Field, value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), Fail> {
    match field.shape {
        Shape::Single => single(field.number, field.kind, value, out, depth),
        Shape::Repeated => {
            let items = value
                .as_array()
                .ok_or_else(|| expected("an array", value))?;
            for (i, item) in items.iter().enumerate() {
                single(field.number, field.kind, item, out, depth)
                    .map_err(|f| f.at(format!("[{i}]")))?;
            }
            Ok(())
        }
        Shape::Map => {
            let map = value
                .as_object()
                .ok_or_else(|| expected("an object", value))?;
            // Go sorts map keys; sort here too rather than trust the map's order.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let mut entry = Vec::new();
                put_len_field(&mut entry, 1, key.as_bytes());
                single(2, field.kind, &map[key], &mut entry, depth)
                    .map_err(|f| f.at(format!("[{key}]")))?;
                put_len_field(out, field.number, &entry);
            }
            Ok(())
        }
    }
}

/// Appends field `number` holding `value` as `kind`. `null` (a list
/// element or map value) is written as the kind's zero value.
fn single(
    number: u32,
    kind: Kind,
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), Fail> {
    if value.is_null() {
        match kind {
            Kind::Int32 | Kind::Int64 | Kind::Bool => put_varint_field(out, number, 0),
            Kind::Double => {
                put_tag(out, number, WireType::Fixed64);
                out.extend_from_slice(&0f64.to_le_bytes());
            }
            _ => put_len_field(out, number, &[]),
        }
        return Ok(());
    }
    match kind {
        Kind::String => put_len_field(out, number, string(value)?.as_bytes()),
        // Negative int32s are sign-extended to ten bytes, as Go writes them.
        Kind::Int32 => put_varint_field(
            out,
            number,
            int(value, i32::MIN.into(), i32::MAX.into())? as u64,
        ),
        Kind::Int64 => put_varint_field(out, number, int(value, i64::MIN, i64::MAX)? as u64),
        Kind::Bool => {
            let b = value
                .as_bool()
                .ok_or_else(|| expected("a boolean", value))?;
            put_varint_field(out, number, u64::from(b));
        }
        Kind::Double => {
            let f = value.as_f64().ok_or_else(|| expected("a number", value))?;
            put_tag(out, number, WireType::Fixed64);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Kind::Bytes => {
            let bytes = ByteString::decode(string(value)?)
                .map_err(|e| Fail::new(format!("invalid base64: {e}")))?;
            put_len_field(out, number, bytes.as_bytes());
        }
        Kind::Message(id) | Kind::Embedded(id) => {
            let object = value
                .as_object()
                .ok_or_else(|| expected("an object", value))?;
            let mut inner = Vec::new();
            message(lookup(id)?, object, &mut inner, depth + 1)?;
            put_len_field(out, number, &inner);
        }
        Kind::Time | Kind::MicroTime => put_len_field(out, number, &timestamp(kind, value)?),
        Kind::Quantity => {
            let text = match value {
                Value::String(s) => s.clone(),
                // Go reads a bare JSON number as a quantity too.
                Value::Number(n) => n.to_string(),
                other => return Err(expected("a quantity string", other)),
            };
            let mut inner = Vec::new();
            put_len_field(&mut inner, 1, text.as_bytes());
            put_len_field(out, number, &inner);
        }
        Kind::IntOrString => {
            // Go writes all three fields whichever is set.
            let mut inner = Vec::new();
            match value {
                Value::String(s) => {
                    put_varint_field(&mut inner, 1, 1);
                    put_varint_field(&mut inner, 2, 0);
                    put_len_field(&mut inner, 3, s.as_bytes());
                }
                other => {
                    let n = int(other, i32::MIN.into(), i32::MAX.into())?;
                    put_varint_field(&mut inner, 1, 0);
                    put_varint_field(&mut inner, 2, n as u64);
                    put_len_field(&mut inner, 3, &[]);
                }
            }
            put_len_field(out, number, &inner);
        }
        Kind::RawJson => {
            let json = serde_json::to_vec(value).map_err(|e| Fail::new(e.to_string()))?;
            let mut inner = Vec::new();
            put_len_field(&mut inner, 1, &json);
            put_len_field(out, number, &inner);
        }
        Kind::StringList => {
            let items = value
                .as_array()
                .ok_or_else(|| expected("an array", value))?;
            let mut inner = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let s = string(item).map_err(|f| f.at(format!("[{i}]")))?;
                put_len_field(&mut inner, 1, s.as_bytes());
            }
            put_len_field(out, number, &inner);
        }
        Kind::SchemaOrArray(props) => {
            let mut inner = Vec::new();
            match value {
                Value::Array(schemas) => {
                    for (i, schema) in schemas.iter().enumerate() {
                        single(2, Kind::Message(props), schema, &mut inner, depth)
                            .map_err(|f| f.at(format!("[{i}]")))?;
                    }
                }
                other => single(1, Kind::Message(props), other, &mut inner, depth)?,
            }
            put_len_field(out, number, &inner);
        }
        Kind::SchemaOrBool(props) => {
            let mut inner = Vec::new();
            match value {
                Value::Bool(allows) => put_varint_field(&mut inner, 1, u64::from(*allows)),
                // A schema allows, as Go's UnmarshalJSON records it.
                other => {
                    put_varint_field(&mut inner, 1, 1);
                    single(2, Kind::Message(props), other, &mut inner, depth)?;
                }
            }
            put_len_field(out, number, &inner);
        }
        Kind::SchemaOrStringArray(props) => {
            let mut inner = Vec::new();
            match value {
                Value::Array(strings) => {
                    for (i, item) in strings.iter().enumerate() {
                        let s = string(item).map_err(|f| f.at(format!("[{i}]")))?;
                        put_len_field(&mut inner, 2, s.as_bytes());
                    }
                }
                other => single(1, Kind::Message(props), other, &mut inner, depth)?,
            }
            put_len_field(out, number, &inner);
        }
    }
    Ok(())
}

/// A `Timestamp` {seconds = 1, nanos = 2}; Go's zero time is an empty
/// message, and `Time` carries no nanoseconds.
fn timestamp(kind: Kind, value: &Value) -> Result<Vec<u8>, Fail> {
    let text = string(value)?;
    let invalid = |e: &dyn std::fmt::Display| Fail::new(e.to_string());
    let (zero, dt) = if kind == Kind::Time {
        let t = Time::parse(text).map_err(|e| invalid(&e))?;
        (t.is_zero(), *t.as_datetime())
    } else {
        let t = MicroTime::parse(text).map_err(|e| invalid(&e))?;
        (t.is_zero(), *t.as_datetime())
    };
    let mut out = Vec::new();
    if !zero {
        put_varint_field(&mut out, 1, dt.timestamp() as u64);
        put_varint_field(&mut out, 2, u64::from(dt.timestamp_subsec_nanos()));
    }
    Ok(out)
}

fn lookup(id: MessageId) -> Result<&'static Message, Fail> {
    MESSAGES
        .get(id)
        .ok_or_else(|| Fail::new(format!("protobuf table has no message {}", id.0)))
}

fn string(value: &Value) -> Result<&str, Fail> {
    value.as_str().ok_or_else(|| expected("a string", value))
}

/// An integer within `min..=max`; like Go's JSON decoder, `1.0` is not one.
fn int(value: &Value, min: i64, max: i64) -> Result<i64, Fail> {
    let n = value
        .as_i64()
        .ok_or_else(|| expected("an integer", value))?;
    if n < min || n > max {
        return Err(Fail::new(format!("{n} is out of range {min}..={max}")));
    }
    Ok(n)
}

fn expected(what: &str, value: &Value) -> Fail {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Fail::new(format!("expected {what}, found {found}"))
}
