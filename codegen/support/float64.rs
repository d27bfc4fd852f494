//! `Float64` is the wire type of OpenAPI `number` fields (JSONSchemaProps
//! `minimum`, `maximum`, `multipleOf`). It is not a bare `f64` because Go
//! writes a float64 that holds a whole number without a fraction (`1`, not
//! `1.0`), and a round trip must give clients back the bytes Go would.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON number held as `f64`, encoded as Go's `encoding/json` encodes a float64.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Float64(pub f64);

/// Whole numbers below this magnitude are written as integers; Go switches
/// to exponent notation at 1e21, and every such value fits an i128.
const WHOLE_LIMIT: f64 = 1e21;

impl Serialize for Float64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.is_finite() && value.fract() == 0.0 && value.abs() < WHOLE_LIMIT {
            serializer.serialize_i128(value as i128)
        } else {
            serializer.serialize_f64(value)
        }
    }
}

impl<'de> Deserialize<'de> for Float64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        f64::deserialize(deserializer).map(Float64)
    }
}

impl From<f64> for Float64 {
    fn from(value: f64) -> Self {
        Float64(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_have_no_fraction() {
        for (value, wire) in [(1.0, "1"), (-3.0, "-3"), (0.5, "0.5"), (1e20, "100000000000000000000"), (2.25, "2.25")] {
            assert_eq!(serde_json::to_string(&Float64(value)).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Float64>(wire).unwrap(), Float64(value));
        }
    }
}
