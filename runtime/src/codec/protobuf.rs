//! `application/vnd.kubernetes.protobuf`, as apimachinery's protobuf
//! serializer writes it: the magic prefix `k8s\0`, then a `runtime.Unknown`
//! message {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
//! contentEncoding = 3, contentType = 4} whose `raw` is the object's own
//! message from the upstream `generated.proto` files.
//!
//! The object message is read and written with the generated table
//! (`generated::protobuf::MESSAGES`), which maps field numbers to JSON
//! properties; no per-kind code exists. Watch streams use the "raw"
//! variant: a `WatchEvent` message with no envelope, framed by a 4-byte
//! big-endian length, whose `object` holds the enveloped object.

mod decode;
mod encode;
#[cfg(test)]
mod round_trips;
#[cfg(test)]
mod tests;

use generated::protobuf::MESSAGES;
use generated::support::protobuf::Message;
use serde_json::{Map, Value};

use super::CodecError;
use super::wire::{Fail, Reader, WireType, put_len_field};

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The media type of a protobuf watch stream.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// The four bytes every enveloped body starts with: `k8s` and encoding 0
/// (a `runtime.Unknown` follows).
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// Deeper nesting is refused rather than risk the stack on hostile input;
/// real objects (even CRD schemas) stay far below it.
const MAX_DEPTH: usize = 100;

/// A decoded top-level object.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// From the envelope: `apps/v1`, or `v1` for the core group.
    pub api_version: String,
    pub kind: String,
    /// The JSON form, with `apiVersion` and `kind` set from the envelope.
    pub object: Value,
}

/// Decodes an enveloped protobuf body into the JSON object it stands for.
pub fn decode(bytes: &[u8]) -> Result<Decoded, CodecError> {
    decode_at(bytes, 0)
}

/// [`decode`] for an envelope nested `depth` messages deep (inside a raw
/// extension), so that nesting envelopes cannot reset the depth limit.
fn decode_at(bytes: &[u8], depth: usize) -> Result<Decoded, CodecError> {
    if bytes.is_empty() {
        return Err(CodecError::Empty);
    }
    let body = bytes.strip_prefix(&MAGIC).ok_or(CodecError::NotProtobuf)?;
    if body.is_empty() {
        return Err(CodecError::Empty);
    }
    let (api_version, kind, raw) = read_unknown(body).map_err(CodecError::malformed)?;
    if kind.is_empty() {
        return Err(CodecError::MissingType("kind"));
    }
    if api_version.is_empty() {
        return Err(CodecError::MissingType("apiVersion"));
    }
    let object = decode_raw_at(&api_version, &kind, raw, depth)?;
    Ok(Decoded {
        api_version,
        kind,
        object,
    })
}

/// Decodes the message of `kind` in `api_version` without an envelope (as
/// the raw serializer writes objects), setting `apiVersion` and `kind`.
pub fn decode_raw(api_version: &str, kind: &str, raw: &[u8]) -> Result<Value, CodecError> {
    decode_raw_at(api_version, kind, raw, 0)
}

fn decode_raw_at(
    api_version: &str,
    kind: &str,
    raw: &[u8],
    depth: usize,
) -> Result<Value, CodecError> {
    let message = message_for(api_version, kind)?;
    let mut object = Map::new();
    decode::message(message, raw, &mut object, depth).map_err(CodecError::malformed)?;
    object.insert("apiVersion".into(), Value::String(api_version.into()));
    object.insert("kind".into(), Value::String(kind.into()));
    Ok(Value::Object(object))
}

/// Encodes a JSON object, which must name its `apiVersion` and `kind`, as
/// an enveloped protobuf body.
pub fn encode(object: &Value) -> Result<Vec<u8>, CodecError> {
    let (api_version, kind) = type_meta(object)?;
    Ok(envelope(api_version, kind, &encode_raw(object)?))
}

/// Encodes a list whose items are already encoded (each its kind's message
/// without envelope, as [`encode_raw`] writes it): `head` is the list
/// without items (`apiVersion`, `kind`, `metadata`). The bytes are those
/// [`encode`] writes for the whole list.
pub fn encode_list(head: &Value, items: &[impl AsRef<[u8]>]) -> Result<Vec<u8>, CodecError> {
    let (api_version, kind) = type_meta(head)?;
    let message = message_for(api_version, kind)?;
    let at = message
        .fields
        .iter()
        .position(|f| f.json == "items")
        .ok_or_else(|| CodecError::Unencodable {
            path: String::new(),
            reason: format!("{kind} has no items"),
        })?;
    let number = message.fields[at].number;
    let part = |fields| Message { fields, ..*message };
    let head = head.as_object().ok_or_else(|| CodecError::Unencodable {
        path: String::new(),
        reason: "not an object".into(),
    })?;
    // The list message's fields in number order, the items among them.
    let mut raw = Vec::with_capacity(items.iter().map(|i| i.as_ref().len() + 4).sum());
    encode::message(&part(&message.fields[..at]), head, &mut raw, 0)
        .map_err(CodecError::unencodable)?;
    for item in items {
        put_len_field(&mut raw, number, item.as_ref());
    }
    encode::message(&part(&message.fields[at + 1..]), head, &mut raw, 0)
        .map_err(CodecError::unencodable)?;
    Ok(envelope(api_version, kind, &raw))
}

/// The `k8s\0` prefix and the `runtime.Unknown` around `raw`.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::new();
    put_len_field(&mut type_meta, 1, api_version.as_bytes());
    put_len_field(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    out.extend_from_slice(&MAGIC);
    put_len_field(&mut out, 1, &type_meta);
    put_len_field(&mut out, 2, raw);
    // Go always writes the (empty) contentEncoding and contentType.
    put_len_field(&mut out, 3, &[]);
    put_len_field(&mut out, 4, &[]);
    out
}

/// Encodes a JSON object as its kind's message alone, without envelope.
pub fn encode_raw(object: &Value) -> Result<Vec<u8>, CodecError> {
    let (api_version, kind) = type_meta(object)?;
    let message = message_for(api_version, kind)?;
    let fields = object.as_object().ok_or_else(|| CodecError::Unencodable {
        path: String::new(),
        reason: "not an object".into(),
    })?;
    let mut out = Vec::new();
    encode::message(message, fields, &mut out, 0).map_err(CodecError::unencodable)?;
    Ok(out)
}

/// One frame of a protobuf watch stream: the 4-byte big-endian length,
/// then a `WatchEvent` {type = 1, object = 2 (RawExtension {raw = 1})}
/// message without envelope, whose raw bytes are the enveloped object.
pub fn encode_watch_event(event_type: &str, object: &Value) -> Result<Vec<u8>, CodecError> {
    let mut extension = Vec::new();
    put_len_field(&mut extension, 1, &encode(object)?);
    let mut event = Vec::new();
    put_len_field(&mut event, 1, event_type.as_bytes());
    put_len_field(&mut event, 2, &extension);
    let len = u32::try_from(event.len()).map_err(|_| CodecError::Unencodable {
        path: String::new(),
        reason: "watch event larger than 4 GiB".into(),
    })?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(&event);
    Ok(frame)
}

/// Reads one watch frame (length prefix included) back into the event type
/// and the object.
pub fn decode_watch_event(frame: &[u8]) -> Result<(String, Decoded), CodecError> {
    let malformed = |reason: &str| CodecError::Malformed {
        path: String::new(),
        reason: reason.into(),
    };
    let (len, event) = frame
        .split_first_chunk::<4>()
        .ok_or_else(|| malformed("watch frame shorter than its length prefix"))?;
    if u32::from_be_bytes(*len) as usize != event.len() {
        return Err(malformed("watch frame length does not match its content"));
    }
    let mut reader = Reader::new(event);
    let (mut event_type, mut raw) = (String::new(), &[][..]);
    let fail = CodecError::malformed;
    while !reader.at_end() {
        match reader.tag().map_err(fail)? {
            (1, WireType::Len) => {
                let bytes = reader.len_delimited().map_err(fail)?;
                event_type = String::from_utf8_lossy(bytes).into_owned();
            }
            (2, WireType::Len) => {
                let mut extension = Reader::new(reader.len_delimited().map_err(fail)?);
                while !extension.at_end() {
                    match extension.tag().map_err(fail)? {
                        (1, WireType::Len) => raw = extension.len_delimited().map_err(fail)?,
                        (_, wire) => extension.skip(wire).map_err(fail)?,
                    }
                }
            }
            (_, wire) => reader.skip(wire).map_err(fail)?,
        }
    }
    Ok((event_type, decode(raw)?))
}

/// The message of a top-level kind.
fn message_for(api_version: &str, kind: &str) -> Result<&'static Message, CodecError> {
    MESSAGES
        .by_kind(api_version, kind)
        .ok_or_else(|| CodecError::UnknownKind {
            api_version: api_version.into(),
            kind: kind.into(),
        })
}

fn type_meta(object: &Value) -> Result<(&str, &str), CodecError> {
    let field = |name| {
        object
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let api_version = field("apiVersion").ok_or(CodecError::MissingType("apiVersion"))?;
    let kind = field("kind").ok_or(CodecError::MissingType("kind"))?;
    Ok((api_version, kind))
}

/// The `runtime.Unknown` envelope: (apiVersion, kind, raw). Go ignores
/// contentEncoding and contentType here, and so does this.
fn read_unknown(body: &[u8]) -> Result<(String, String, &[u8]), Fail> {
    let mut reader = Reader::new(body);
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while !reader.at_end() {
        match reader.tag()? {
            (1, WireType::Len) => {
                let mut type_meta = Reader::new(reader.len_delimited()?);
                while !type_meta.at_end() {
                    match type_meta.tag()? {
                        (1, WireType::Len) => api_version = text(type_meta.len_delimited()?),
                        (2, WireType::Len) => kind = text(type_meta.len_delimited()?),
                        (_, wire) => type_meta.skip(wire)?,
                    }
                }
            }
            (2, WireType::Len) => raw = reader.len_delimited()?,
            (1 | 2, wire) => return Err(Fail::new(format!("unexpected wire type {wire:?}"))),
            (_, wire) => reader.skip(wire)?,
        }
    }
    Ok((api_version, kind, raw))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// RFC 3339 in UTC as Go's JSON writes `metav1.Time` (whole seconds) and
/// `metav1.MicroTime` (six fractional digits). `None` for Go's zero time,
/// which JSON writes as `null`.
fn format_time(seconds: i64, nanos: i32, micros: bool) -> Result<Option<Value>, Fail> {
    const GO_ZERO: i64 = -62_135_596_800;
    // Go's time.Unix carries nanoseconds outside 0..1e9 into the seconds.
    let seconds = seconds.saturating_add(i64::from(nanos.div_euclid(1_000_000_000)));
    let nanos = nanos.rem_euclid(1_000_000_000);
    if seconds == GO_ZERO && nanos == 0 {
        return Ok(None);
    }
    let out_of_range = || Fail::new(format!("timestamp {seconds} is outside years 0 to 9999"));
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range())?;
    if !(0..=9999).contains(&at.year()) {
        return Err(out_of_range());
    }
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if micros {
        text.push_str(&format!(".{:06}", nanos / 1000));
    }
    text.push('Z');
    Ok(Some(Value::String(text)))
}
