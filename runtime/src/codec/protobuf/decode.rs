//! Protobuf message bytes -> the JSON object Go would write for them.
//!
//! Presence follows the wire: a field that is on the wire is in the JSON,
//! even with a zero value, because protobuf cannot tell a Go pointer set to
//! zero from a value field (which Go writes even when zero). The exceptions
//! are the zero scalars of object and list metadata (`OMIT_ZERO`) and
//! zero times, which Go's JSON leaves out. Unknown field numbers are
//! skipped, as Go skips them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use generated::protobuf::MESSAGES;
use generated::support::protobuf::{Field, Kind, Message, MessageId, Shape};
use serde_json::{Map, Value};

use super::{MAGIC, MAX_DEPTH};
use crate::codec::wire::{Fail, Reader, WireType};

/// Decodes the fields of `message` from `bytes` into `out`. Fields of
/// embedded Go structs land in `out` itself, as JSON flattens them.
pub(super) fn message(
    message: &'static Message,
    bytes: &[u8],
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new(format!(
            "nested deeper than {MAX_DEPTH} messages"
        )));
    }
    let mut reader = Reader::new(bytes);
    while !reader.at_end() {
        let (number, wire) = reader.tag()?;
        let Some(field) = message.field(number) else {
            reader.skip(wire)?;
            continue;
        };
        decode_field(field, wire, &mut reader, out, depth).map_err(|fail| match field.kind {
            Kind::Embedded(_) => fail,
            _ => fail.at(field.json),
        })?;
    }
    if let Some((_, fields)) = OMIT_ZERO.iter().find(|(name, _)| *name == message.name) {
        for field in *fields {
            let zero = match out.get(*field) {
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                _ => false,
            };
            if zero {
                out.remove(*field);
            }
        }
    }
    Ok(())
}

/// The value-typed `omitempty` fields of `metav1.ObjectMeta` and
/// `metav1.ListMeta`. Go writes them to protobuf even when zero (every
/// client-go create body carries `generateName: ""` and `generation: 0`)
/// and its JSON leaves zero ones out, so decoding does too. Elsewhere a
/// pointer set to zero looks the same on the wire as a zero value field,
/// so zeros stay.
const OMIT_ZERO: &[(&str, &[&str])] = &[
    (
        "apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
        ],
    ),
    (
        "apimachinery.pkg.apis.meta.v1.ListMeta",
        &["selfLink", "resourceVersion", "continue"],
    ),
];

fn decode_field(
    field: &Field,
    wire: WireType,
    reader: &mut Reader<'_>,
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), Fail> {
    if let Kind::Embedded(id) = field.kind {
        let bytes = len(wire, reader)?;
        return message(lookup(id)?, bytes, out, depth + 1);
    }
    match field.shape {
        Shape::Single => {
            // A message field seen twice merges, as protobuf specifies.
            let previous = out.remove(field.json);
            if let Some(value) = single(field.kind, wire, reader, previous, depth)? {
                out.insert(field.json.to_owned(), value);
            }
        }
        Shape::Repeated => {
            let items = out
                .entry(field.json)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                *items = Value::Array(Vec::new());
            }
            let Value::Array(items) = items else {
                return Ok(());
            };
            if wire == WireType::Len && packable(field.kind) {
                // Packed: one payload holding every element back to back.
                let mut packed = Reader::new(reader.len_delimited()?);
                let element_wire = match field.kind {
                    Kind::Double => WireType::Fixed64,
                    _ => WireType::Varint,
                };
                while !packed.at_end() {
                    let at = format!("[{}]", items.len());
                    let value = single(field.kind, element_wire, &mut packed, None, depth);
                    items.push(value.map_err(|f| f.at(at))?.unwrap_or(Value::Null));
                }
            } else {
                let at = format!("[{}]", items.len());
                let value = single(field.kind, wire, reader, None, depth);
                let value = value.map_err(|f| f.at(at))?;
                items.push(value.unwrap_or_else(|| zero(field.kind)));
            }
        }
        Shape::Map => {
            let (key, value) = map_entry(field.kind, len(wire, reader)?, depth)?;
            let map = out
                .entry(field.json)
                .or_insert_with(|| Value::Object(Map::new()));
            if !map.is_object() {
                *map = Value::Object(Map::new());
            }
            if let Value::Object(map) = map {
                map.insert(key, value);
            }
        }
    }
    Ok(())
}

/// One map entry: key = 1, value = 2. Either may be missing and then reads
/// as its zero value, as Go reads it.
fn map_entry(kind: Kind, bytes: &[u8], depth: usize) -> Result<(String, Value), Fail> {
    let mut reader = Reader::new(bytes);
    let (mut key, mut value) = (String::new(), None);
    while !reader.at_end() {
        match reader.tag()? {
            (1, wire) => key = text(len(wire, &mut reader)?),
            (2, wire) => {
                let decoded = single(kind, wire, &mut reader, value.take(), depth);
                value = decoded.map_err(|f| f.at(format!("[{key}]")))?;
            }
            (_, wire) => reader.skip(wire)?,
        }
    }
    Ok((key, value.unwrap_or_else(|| zero(kind))))
}

/// One value of `kind`. `None` when Go's JSON would leave it out or write
/// `null` (a zero time, an empty raw extension).
fn single(
    kind: Kind,
    wire: WireType,
    reader: &mut Reader<'_>,
    previous: Option<Value>,
    depth: usize,
) -> Result<Option<Value>, Fail> {
    let value = match kind {
        Kind::String => Value::String(text(len(wire, reader)?)),
        // Go truncates an over-long varint to the field's width.
        Kind::Int32 => Value::from(varint(wire, reader)? as i32),
        Kind::Int64 => Value::from(varint(wire, reader)? as i64),
        Kind::Bool => Value::Bool(varint(wire, reader)? != 0),
        Kind::Double => {
            if wire != WireType::Fixed64 {
                return Err(wrong_wire(wire));
            }
            number(f64::from_le_bytes(reader.fixed64()?))?
        }
        Kind::Bytes => Value::String(STANDARD.encode(len(wire, reader)?)),
        Kind::Message(id) | Kind::Embedded(id) => {
            let mut object = match previous {
                Some(Value::Object(object)) => object,
                _ => Map::new(),
            };
            message(lookup(id)?, len(wire, reader)?, &mut object, depth + 1)?;
            Value::Object(object)
        }
        Kind::Time => return time(len(wire, reader)?, false),
        Kind::MicroTime => return time(len(wire, reader)?, true),
        Kind::Quantity => {
            let fields = Fields::read(len(wire, reader)?)?;
            // An absent string is Go's zero Quantity, which JSON writes as "0".
            Value::String(fields.text(1)?.unwrap_or_else(|| "0".to_owned()))
        }
        Kind::IntOrString => {
            let fields = Fields::read(len(wire, reader)?)?;
            match fields.varint(1)?.unwrap_or(0) {
                0 => Value::from(fields.varint(2)?.unwrap_or(0) as i32),
                1 => Value::String(fields.text(3)?.unwrap_or_default()),
                other => {
                    return Err(Fail::new(format!(
                        "IntOrString type {other} is neither 0 nor 1"
                    )));
                }
            }
        }
        Kind::RawJson => return raw_json(len(wire, reader)?, depth),
        Kind::StringList => {
            let fields = Fields::read(len(wire, reader)?)?;
            Value::Array(fields.texts(1)?.into_iter().map(Value::String).collect())
        }
        Kind::SchemaOrArray(props) => {
            let fields = Fields::read(len(wire, reader)?)?;
            let schemas = fields.messages(2, props, depth)?;
            if !schemas.is_empty() {
                Value::Array(schemas)
            } else {
                match fields.messages(1, props, depth)?.pop() {
                    Some(schema) => schema,
                    None => return Ok(None),
                }
            }
        }
        Kind::SchemaOrBool(props) => {
            let fields = Fields::read(len(wire, reader)?)?;
            match fields.messages(2, props, depth)?.pop() {
                Some(schema) => schema,
                None => Value::Bool(fields.varint(1)?.unwrap_or(0) != 0),
            }
        }
        Kind::SchemaOrStringArray(props) => {
            let fields = Fields::read(len(wire, reader)?)?;
            let strings = fields.texts(2)?;
            if !strings.is_empty() {
                Value::Array(strings.into_iter().map(Value::String).collect())
            } else {
                match fields.messages(1, props, depth)?.pop() {
                    Some(schema) => schema,
                    None => return Ok(None),
                }
            }
        }
    };
    Ok(Some(value))
}

/// What an absent map value or list element reads as.
fn zero(kind: Kind) -> Value {
    match kind {
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Int32 | Kind::Int64 | Kind::Double | Kind::IntOrString => Value::from(0),
        Kind::Bool => Value::Bool(false),
        Kind::Quantity => Value::String("0".to_owned()),
        Kind::Message(_) | Kind::Embedded(_) => Value::Object(Map::new()),
        Kind::StringList => Value::Array(Vec::new()),
        Kind::Time
        | Kind::MicroTime
        | Kind::RawJson
        | Kind::SchemaOrArray(_)
        | Kind::SchemaOrBool(_)
        | Kind::SchemaOrStringArray(_) => Value::Null,
    }
}

fn packable(kind: Kind) -> bool {
    matches!(kind, Kind::Int32 | Kind::Int64 | Kind::Bool | Kind::Double)
}

fn lookup(id: MessageId) -> Result<&'static Message, Fail> {
    MESSAGES
        .get(id)
        .ok_or_else(|| Fail::new(format!("protobuf table has no message {}", id.0)))
}

fn wrong_wire(wire: WireType) -> Fail {
    Fail::new(format!("unexpected wire type {wire:?}"))
}

fn len<'a>(wire: WireType, reader: &mut Reader<'a>) -> Result<&'a [u8], Fail> {
    match wire {
        WireType::Len => reader.len_delimited(),
        other => Err(wrong_wire(other)),
    }
}

fn varint(wire: WireType, reader: &mut Reader<'_>) -> Result<u64, Fail> {
    match wire {
        WireType::Varint => reader.varint(),
        other => Err(wrong_wire(other)),
    }
}

/// Go converts proto strings without checking UTF-8, and its JSON encoder
/// then writes invalid bytes as U+FFFD; so does this.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A double as Go's JSON writes it: whole numbers without a fraction.
fn number(value: f64) -> Result<Value, Fail> {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(value as i64));
    }
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| Fail::new(format!("{value} has no JSON form")))
}

/// A `Timestamp` {seconds = 1, nanos = 2} as RFC 3339 in UTC. Like Go,
/// `Time` ignores the nanoseconds and an empty message is the zero time.
fn time(bytes: &[u8], micros: bool) -> Result<Option<Value>, Fail> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let fields = Fields::read(bytes)?;
    let seconds = fields.varint(1)?.unwrap_or(0) as i64;
    let nanos = fields.varint(2)?.unwrap_or(0) as i32;
    super::format_time(seconds, if micros { nanos } else { 0 }, micros)
}

/// Raw JSON bytes, or a nested protobuf object (what a watch event holds
/// when the stream is protobuf). Empty reads as absent, as Go writes `null`.
fn raw_json(bytes: &[u8], depth: usize) -> Result<Option<Value>, Fail> {
    let fields = Fields::read(bytes)?;
    let raw = fields.last(1, WireType::Len)?;
    match raw {
        None | Some([]) => Ok(None),
        Some(raw) if raw.starts_with(&MAGIC) => {
            let decoded = super::decode_at(raw, depth + 1).map_err(|e| Fail::new(e.to_string()))?;
            Ok(Some(decoded.object))
        }
        Some(raw) => serde_json::from_slice(raw)
            .map(Some)
            .map_err(|e| Fail::new(format!("raw JSON: {e}"))),
    }
}

/// The fields of a small special message, read up front.
struct Fields<'a> {
    values: Vec<(u32, WireType, Raw<'a>)>,
}

/// A field value before the special message interprets it.
enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Fields<'a> {
    fn read(bytes: &'a [u8]) -> Result<Fields<'a>, Fail> {
        let mut reader = Reader::new(bytes);
        let mut values = Vec::new();
        while !reader.at_end() {
            let (number, wire) = reader.tag()?;
            let value = match wire {
                WireType::Varint => Raw::Varint(reader.varint()?),
                WireType::Len => Raw::Bytes(reader.len_delimited()?),
                other => {
                    reader.skip(other)?;
                    Raw::Other
                }
            };
            values.push((number, wire, value));
        }
        Ok(Fields { values })
    }

    fn all(&self, number: u32, wire: WireType) -> impl Iterator<Item = Result<&Raw<'a>, Fail>> {
        self.values
            .iter()
            .filter(move |(n, _, _)| *n == number)
            .map(move |(_, w, v)| {
                if *w == wire {
                    Ok(v)
                } else {
                    Err(wrong_wire(*w))
                }
            })
    }

    fn last(&self, number: u32, wire: WireType) -> Result<Option<&'a [u8]>, Fail> {
        let mut found = None;
        for value in self.all(number, wire) {
            if let Raw::Bytes(bytes) = value? {
                found = Some(*bytes);
            }
        }
        Ok(found)
    }

    fn varint(&self, number: u32) -> Result<Option<u64>, Fail> {
        let mut found = None;
        for value in self.all(number, WireType::Varint) {
            if let Raw::Varint(v) = value? {
                found = Some(*v);
            }
        }
        Ok(found)
    }

    fn text(&self, number: u32) -> Result<Option<String>, Fail> {
        Ok(self.last(number, WireType::Len)?.map(text))
    }

    fn texts(&self, number: u32) -> Result<Vec<String>, Fail> {
        let mut out = Vec::new();
        for value in self.all(number, WireType::Len) {
            if let Raw::Bytes(bytes) = value? {
                out.push(text(bytes));
            }
        }
        Ok(out)
    }

    fn messages(&self, number: u32, id: MessageId, depth: usize) -> Result<Vec<Value>, Fail> {
        let schema = lookup(id)?;
        let mut out = Vec::new();
        for value in self.all(number, WireType::Len) {
            if let Raw::Bytes(bytes) = value? {
                let mut object = Map::new();
                message(schema, bytes, &mut object, depth + 1)?;
                out.push(Value::Object(object));
            }
        }
        Ok(out)
    }
}
