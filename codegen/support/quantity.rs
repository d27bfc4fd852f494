//! `Quantity` models apimachinery's `resource.Quantity` (`"500m"`, `"1.5Gi"`,
//! `"1e3"`), the wire type of resource requests, limits, capacities and quotas.
//! It is not a plain `String` because a server must compare quantities by
//! value (`"1000m"` equals `"1"`, `"1Gi"` exceeds `"1G"`); it is not a number
//! either, because the text a client sent is kept and echoed back unchanged.
//! Deserialization never fails on a malformed quantity: validation reports it
//! later through [`Quantity::value`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A quantity exactly as written on the wire; parse it with [`Quantity::value`].
///
/// `==` compares the text; compare values with [`Quantity::cmp_value`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quantity(pub String);

/// The exact value of a quantity: `mantissa * 10^scale`, normalized (no
/// trailing zeros in `mantissa`; zero has scale 0) so that `==` is value
/// equality. Like Go, a value finer than `1n` is rounded away from zero to
/// nano precision; unlike Go, large values are not capped at `2^63-1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParsedQuantity {
    mantissa: i128,
    scale: i64,
}

/// Why a string is not a quantity; messages are Go's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityError {
    /// Go's `ErrFormatWrong`: the text does not match the quantity grammar.
    Format,
    /// Go's `ErrSuffix`: the grammar matched but the suffix is unknown.
    Suffix,
    /// Go's `ErrNumeric`; here also a value too large for this representation
    /// (more than 38 significant digits or an exponent beyond `i32`).
    Numeric,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Format => {
                "quantities must match the regular expression \
                 '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            }
            Self::Suffix => "unable to parse quantity's suffix",
            Self::Numeric => "unable to parse numeric part of quantity",
        })
    }
}

impl std::error::Error for QuantityError {}

impl Default for Quantity {
    /// `"0"`, which is how Go marshals a zero `Quantity`.
    fn default() -> Self {
        Self("0".to_owned())
    }
}

impl From<&str> for Quantity {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for Quantity {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Quantity {
    /// Wraps a quantity string without checking it.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Go's `resource.ParseQuantity`: parses `s` strictly (no whitespace).
    ///
    /// Grammar: `[+-]? digits? ('.' digits?)? suffix`, suffix one of
    /// `Ki Mi Gi Ti Pi Ei`, `n u m "" k M G T P E`, or `e`/`E` + signed
    /// integer. As in Go, the digits may be absent (`"."`, `"-"` and `"Ki"` are
    /// zero) but the string may not be empty.
    pub fn parse(s: &str) -> Result<ParsedQuantity, QuantityError> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(QuantityError::Format);
        }
        let digits_end =
            |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let negative = b[0] == b'-';
        let int_start = usize::from(matches!(b[0], b'-' | b'+'));
        let int_end = digits_end(int_start);
        let (frac_start, end) = match b.get(int_end) {
            Some(b'.') => (int_end + 1, digits_end(int_end + 1)),
            _ => (int_end, int_end),
        };
        let (exp2, exp10) = suffix(&s[end..])?;
        let digits = [&s[int_start..int_end], &s[frac_start..end]].concat();
        let lead = digits.trim_start_matches('0');
        let sig = lead.trim_end_matches('0');
        let mut mantissa: i128 = match sig {
            "" => 0,
            _ => sig.parse().map_err(|_| QuantityError::Numeric)?,
        };
        let scale = i64::from(exp10) - (end - frac_start) as i64 + (lead.len() - sig.len()) as i64;
        mantissa = mantissa
            .checked_mul(1i128 << exp2)
            .ok_or(QuantityError::Numeric)?;
        if negative {
            mantissa = -mantissa;
        }
        Ok(ParsedQuantity::new(mantissa, scale))
    }

    /// The value, parsed as Go's JSON decoder does (surrounding whitespace is
    /// ignored, then [`Quantity::parse`]).
    pub fn value(&self) -> Result<ParsedQuantity, QuantityError> {
        Self::parse(self.0.trim())
    }

    /// Compares two quantities by value; `None` if either does not parse.
    pub fn cmp_value(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.value().ok()?.cmp(&other.value().ok()?))
    }
}

/// Interprets a suffix as `(power of 2, power of 10)`.
fn suffix(s: &str) -> Result<(u32, i32), QuantityError> {
    // First Go's scanner: [eEinumkKMGTP]* [+-]? [0-9]*, else a format error.
    let rest = s.trim_start_matches(|c| "eEinumkKMGTP".contains(c));
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if !rest.bytes().all(|c| c.is_ascii_digit()) {
        return Err(QuantityError::Format);
    }
    Ok(match s {
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "" => (0, 0),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        _ => {
            let exp = s.strip_prefix(['e', 'E']).ok_or(QuantityError::Suffix)?;
            let exp: i64 = exp.parse().map_err(|_| QuantityError::Suffix)?;
            (0, i32::try_from(exp).map_err(|_| QuantityError::Numeric)?)
        }
    })
}

impl ParsedQuantity {
    /// `mantissa * 10^scale`, rounded away from zero to nano precision and
    /// normalized.
    pub fn new(mut mantissa: i128, mut scale: i64) -> Self {
        if scale < -9 {
            let drop = u32::try_from(-9 - scale).ok();
            let (q, r) = match drop.and_then(|k| 10i128.checked_pow(k)) {
                Some(p) => (mantissa / p, mantissa % p),
                None => (0, mantissa),
            };
            mantissa = q + r.signum();
            scale = -9;
        }
        if mantissa == 0 {
            return Self { mantissa, scale: 0 };
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            scale += 1;
        }
        Self { mantissa, scale }
    }

    /// The significant digits, with sign.
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// The power of ten the mantissa is multiplied by.
    pub fn scale(&self) -> i64 {
        self.scale
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    /// An approximation as `f64` (for display and heuristics, not equality).
    pub fn to_f64(&self) -> f64 {
        let scale = self.scale.clamp(-400, 400) as i32;
        self.mantissa as f64 * 10f64.powi(scale)
    }
}

impl FromStr for ParsedQuantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, QuantityError> {
        Quantity::parse(s)
    }
}

impl Ord for ParsedQuantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = self.signum();
        if sign != other.signum() || sign == 0 {
            return sign.cmp(&other.signum());
        }
        let (a, b) = (self.mantissa.unsigned_abs(), other.mantissa.unsigned_abs());
        // Order of magnitude first: a is in [10^(ea-1), 10^ea).
        let ea = i64::from(a.ilog10()) + 1 + self.scale;
        let eb = i64::from(b.ilog10()) + 1 + other.scale;
        let shift = |m: u128, k: i64| {
            10u128
                .checked_pow(u32::try_from(k).ok()?)
                .and_then(|p| p.checked_mul(m))
        };
        let magnitude = if ea != eb {
            ea.cmp(&eb)
        } else {
            match self.scale.cmp(&other.scale) {
                Ordering::Equal => a.cmp(&b),
                // An overflowing shift exceeds any mantissa of the other side.
                Ordering::Greater => {
                    shift(a, self.scale - other.scale).map_or(Ordering::Greater, |x| x.cmp(&b))
                }
                Ordering::Less => {
                    shift(b, other.scale - self.scale).map_or(Ordering::Less, |x| a.cmp(&x))
                }
            }
        };
        if sign > 0 {
            magnitude
        } else {
            magnitude.reverse()
        }
    }
}

impl PartialOrd for ParsedQuantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity string or number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Ok(Quantity(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Quantity, E> {
        Ok(Quantity(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    /// The shortest text that reads back as `v` (`1.5`, `1e300`, `2`).
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        let text = format!("{v:?}");
        Ok(Quantity(
            text.strip_suffix(".0").unwrap_or(&text).to_owned(),
        ))
    }

    /// Go decodes `null` into a non-pointer Quantity as zero.
    fn visit_unit<E: de::Error>(self) -> Result<Quantity, E> {
        Ok(Quantity::default())
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParsedQuantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn parts(s: &str) -> (i128, i64) {
        let q = p(s);
        (q.mantissa(), q.scale())
    }

    #[test]
    fn grammar() {
        assert_eq!(parts("1.5Gi"), (1610612736, 0));
        assert_eq!(parts("100m"), (1, -1));
        assert_eq!(parts("1e3"), (1, 3));
        assert_eq!(parts("1E-3"), (1, -3));
        assert_eq!(parts("2e+2"), (2, 2));
        assert_eq!(parts("-1"), (-1, 0));
        assert_eq!(parts("+1k"), (1, 3));
        assert_eq!(parts(".5"), (5, -1));
        assert_eq!(parts("1."), (1, 0));
        assert_eq!(parts("1.G"), (1, 9));
        assert_eq!(parts("0.000"), (0, 0));
        assert_eq!(parts("007.50"), (75, -1));
        assert_eq!(parts("1E"), (1, 18));
        assert_eq!(parts("8Ei"), (9223372036854775808, 0));
        assert_eq!(parts("12u"), (12, -6));
        assert_eq!(parts("3n"), (3, -9));
        // Go quirks: missing digits mean zero.
        for zero in [".", "-", "+", "Ki", "-e3", "0", "-0"] {
            assert_eq!(parts(zero), (0, 0), "{zero}");
        }
    }

    #[test]
    fn nano_rounding() {
        assert_eq!(p("0.1n"), p("1n"));
        assert_eq!(p("-0.1n"), p("-1n"));
        assert_eq!(p("1e-40"), p("1n"));
        assert_eq!(p("1.0000000001"), p("1000000001n"));
        assert_eq!(p("1e-2147483648"), p("1n"));
    }

    #[test]
    fn invalid() {
        let check = |err: QuantityError, inputs: &[&str]| {
            for s in inputs {
                assert_eq!(Quantity::parse(s), Err(err), "{s:?}");
            }
        };
        check(
            QuantityError::Format,
            &["", " 1", "1 ", "1.5.5", "1Kix", "1e3.5", "abc"],
        );
        check(
            QuantityError::Suffix,
            &["1K", "1ki", "1mi", "1e", "1e+", "1m3", "1-"],
        );
        check(QuantityError::Suffix, &["1e99999999999999999999"]);
        check(QuantityError::Numeric, &["1e99999999999", &"9".repeat(39)]);
    }

    #[test]
    fn comparisons() {
        let cmp = |a: &str, b: &str| Quantity::from(a).cmp_value(&Quantity::from(b));
        assert_eq!(cmp("1Gi", "1G"), Some(Ordering::Greater));
        assert_eq!(cmp("1000m", "1"), Some(Ordering::Equal));
        assert_eq!(cmp("1Ki", "1024"), Some(Ordering::Equal));
        assert_eq!(cmp("1k", "1024"), Some(Ordering::Less));
        assert_eq!(cmp("0.5Gi", "512Mi"), Some(Ordering::Equal));
        assert_eq!(cmp("-1", "1m"), Some(Ordering::Less));
        assert_eq!(cmp("-2", "-1"), Some(Ordering::Less));
        assert_eq!(cmp("1e100", "1Ei"), Some(Ordering::Greater));
        assert_eq!(cmp("-1e100", "-1Ei"), Some(Ordering::Less));
        assert_eq!(
            cmp("1e38", "99999999999999999999999999999999999999"),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp("0", "-0.0"), Some(Ordering::Equal));
        assert_eq!(cmp(" 1 ", "1"), Some(Ordering::Equal));
        assert_eq!(cmp("x", "1"), None);
        assert_eq!(p("1500m"), p("1.5"));
        assert!(p("1.5") < p("2") && p("100m") > p("99m"));
        assert_eq!("2".parse::<ParsedQuantity>(), Ok(p("2000m")));
        assert!((p("1.5Ki").to_f64() - 1536.0).abs() < 1e-9);
    }

    #[test]
    fn wire() {
        for s in ["1.5Gi", "1000m", "not a quantity", " 1 ", ""] {
            let json = serde_json::to_string(&Quantity::from(s)).unwrap();
            assert_eq!(serde_json::from_str::<Quantity>(&json).unwrap().as_str(), s);
        }
        let num = |j: &str| serde_json::from_str::<Quantity>(j).unwrap().0;
        assert_eq!(num("5"), "5");
        assert_eq!(num("-5"), "-5");
        assert_eq!(num("1.5"), "1.5");
        assert_eq!(num("1e3"), "1000");
        assert_eq!(num("null"), "0");
        assert_eq!(
            serde_json::to_string(&Quantity::default()).unwrap(),
            "\"0\""
        );
        assert!(serde_json::from_str::<Quantity>("true").is_err());
        let m: std::collections::BTreeMap<String, Quantity> =
            serde_json::from_str(r#"{"cpu":"100m","memory":"1Gi"}"#).unwrap();
        assert_eq!(
            m["cpu"].cmp_value(&Quantity::new("0.1")),
            Some(Ordering::Equal)
        );
    }
}
