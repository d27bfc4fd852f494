//! `ByteString` models Go's `[]byte` fields (Secret `data`, ConfigMap
//! `binaryData`, CSR `request`, ...), which `encoding/json` sends as a
//! standard-alphabet, padded base64 string. It is not a plain `String` because
//! the content is arbitrary bytes: the server holds the decoded bytes and
//! re-encodes them, so invalid base64 is rejected when it is read.

use std::fmt;

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Go's `base64.StdEncoding`: padding required on input and output, and
/// (being non-strict) non-zero trailing bits tolerated.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Bytes sent as base64 (standard alphabet, with padding).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// Decodes base64 as Go's `encoding/json` does: `\r` and `\n` anywhere are
    /// ignored, everything else must be canonical padded standard base64.
    pub fn decode(text: &str) -> Result<Self, base64::DecodeError> {
        let cleaned: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        GO_STD.decode(cleaned).map(Self)
    }

    /// The wire text: padded standard base64.
    pub fn encode(&self) -> String {
        GO_STD.encode(&self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl From<&[u8]> for ByteString {
    fn from(v: &[u8]) -> Self {
        Self(v.to_vec())
    }
}

impl From<ByteString> for Vec<u8> {
    fn from(v: ByteString) -> Self {
        v.0
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

struct ByteStringVisitor;

impl<'de> Visitor<'de> for ByteStringVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
        ByteString::decode(v).map_err(|e| E::custom(format_args!("illegal base64 data: {e}")))
    }

    /// Go also decodes a JSON array of numbers 0..=255 into a `[]byte`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteString, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(ByteString(out))
    }

    /// Go decodes `null` into a `[]byte` as a nil (empty) slice.
    fn visit_unit<E: de::Error>(self) -> Result<ByteString, E> {
        Ok(ByteString::default())
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ByteStringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn de(json: &str) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::from_str::<ByteString>(json).map(Vec::from)
    }

    #[test]
    fn round_trips() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (&[0xfb, 0xff, 0xfe][..], "+//+"),
        ] {
            let json = serde_json::to_string(&ByteString::from(bytes)).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(de(&json).unwrap(), bytes);
        }
    }

    #[test]
    fn decoding_rules() {
        assert_eq!(de(r#""Zm9v\r\nYmFy""#).unwrap(), b"foobar");
        assert_eq!(de(r#""Z\nm==""#).unwrap(), b"f");
        // Non-zero trailing bits are accepted, as by Go's non-strict StdEncoding.
        assert_eq!(de(r#""Zh==""#).unwrap(), b"f");
        assert_eq!(de("[1,2,255]").unwrap(), vec![1, 2, 255]);
        assert_eq!(de("null").unwrap(), Vec::<u8>::new());
        for bad in [
            r#""Zg""#,
            r#""Zm8""#,
            r#""Zg=""#,
            r#""Zg==Zg==""#,
            r#""Zm9v ""#,
            r#""Zm9v\t""#,
            r#""-_8=""#,
            r#""Zm9v=""#,
            "[256]",
            "5",
            "{}",
        ] {
            assert!(de(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_values() {
        let m: BTreeMap<String, ByteString> = serde_json::from_str(r#"{"k":"dmFsdWU="}"#).unwrap();
        assert_eq!(m["k"].as_bytes(), b"value");
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"k":"dmFsdWU="}"#);
    }
}
