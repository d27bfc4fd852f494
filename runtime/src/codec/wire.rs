//! The protobuf wire format at its smallest: varints, tags, fixed 64-bit
//! values and length-delimited payloads. Reading never panics and never
//! reads past the input; every malformed byte sequence is an error.

/// How a field's value is laid out on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    Fixed64,
    /// Strings, bytes, nested messages, packed repeated scalars.
    Len,
    Fixed32,
}

impl WireType {
    fn bits(self) -> u64 {
        match self {
            WireType::Varint => 0,
            WireType::Fixed64 => 1,
            WireType::Len => 2,
            WireType::Fixed32 => 5,
        }
    }
}

/// A failure inside a message, with the JSON path to where it happened.
/// Segments are collected innermost first, while the error unwinds.
#[derive(Debug)]
pub(crate) struct Fail {
    reversed_path: Vec<String>,
    pub(crate) reason: String,
}

impl Fail {
    pub(crate) fn new(reason: impl Into<String>) -> Fail {
        Fail {
            reversed_path: Vec::new(),
            reason: reason.into(),
        }
    }

    /// Adds the enclosing segment: a property name, or `[i]` / `[key]`.
    pub(crate) fn at(mut self, segment: impl Into<String>) -> Fail {
        self.reversed_path.push(segment.into());
        self
    }

    /// The path as `spec.containers[0].image`; "" for the top level.
    pub(crate) fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.reversed_path.iter().rev() {
            if !out.is_empty() && !segment.starts_with('[') {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }
}

/// Reads one message's bytes front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// A base-128 varint of at most ten bytes.
    pub(crate) fn varint(&mut self) -> Result<u64, Fail> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(Fail::new("truncated varint"));
            };
            self.pos += 1;
            // The tenth byte may only contribute the top bit.
            if shift == 63 && byte > 1 {
                return Err(Fail::new("varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Fail::new("varint longer than ten bytes"))
    }

    pub(crate) fn fixed64(&mut self) -> Result<[u8; 8], Fail> {
        let bytes = self
            .take(8)
            .map_err(|_| Fail::new("truncated 64-bit value"))?;
        let mut out = [0; 8];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A length-delimited payload.
    pub(crate) fn len_delimited(&mut self) -> Result<&'a [u8], Fail> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| Fail::new("length too large"))?;
        self.take(len)
    }

    /// A field's number and wire type.
    pub(crate) fn tag(&mut self) -> Result<(u32, WireType), Fail> {
        let tag = self.varint()?;
        let wire = match tag & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            5 => WireType::Fixed32,
            // Groups (3, 4) are deprecated and never written by Kubernetes.
            other => return Err(Fail::new(format!("unsupported wire type {other}"))),
        };
        match u32::try_from(tag >> 3) {
            Ok(number) if (1..=536_870_911).contains(&number) => Ok((number, wire)),
            _ => Err(Fail::new(format!("invalid field number {}", tag >> 3))),
        }
    }

    /// Skips a value of a field nobody asked for, as Go skips unknown fields.
    pub(crate) fn skip(&mut self, wire: WireType) -> Result<(), Fail> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.take(8).map(drop),
            WireType::Len => self.len_delimited().map(drop),
            WireType::Fixed32 => self.take(4).map(drop),
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Fail> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| {
            Fail::new(format!(
                "{len} bytes announced but only {} left",
                self.bytes.len().saturating_sub(self.pos)
            ))
        })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
}

/// Appends `value` as a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the tag of field `number`.
pub(crate) fn put_tag(out: &mut Vec<u8>, number: u32, wire: WireType) {
    put_varint(out, (u64::from(number) << 3) | wire.bits());
}

/// Appends field `number` holding a varint.
pub(crate) fn put_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_tag(out, number, WireType::Varint);
    put_varint(out, value);
}

/// Appends field `number` holding a length-delimited payload.
pub(crate) fn put_len_field(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_tag(out, number, WireType::Len);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_garbage() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            i64::MIN as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.varint().ok(), Some(value));
            assert!(reader.at_end());
        }
        assert!(Reader::new(&[0x80]).varint().is_err(), "truncated");
        assert!(Reader::new(&[0xff; 10]).varint().is_err(), "overflow");
        assert!(Reader::new(&[0xff; 11]).varint().is_err(), "too long");
    }

    #[test]
    fn lengths_never_read_past_the_end() {
        assert!(Reader::new(&[0x05, 1, 2]).len_delimited().is_err());
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(Reader::new(&huge).len_delimited().is_err());
        assert!(Reader::new(&[1, 2, 3]).fixed64().is_err());
    }

    #[test]
    fn tags() {
        let mut out = Vec::new();
        put_len_field(&mut out, 20, b"hi");
        let mut reader = Reader::new(&out);
        assert_eq!(reader.tag().ok(), Some((20, WireType::Len)));
        assert_eq!(reader.len_delimited().ok(), Some(&b"hi"[..]));
        assert!(Reader::new(&[0x03]).tag().is_err(), "group");
        assert!(Reader::new(&[0x00]).tag().is_err(), "field 0");
    }
}
