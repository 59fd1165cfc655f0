//! A strict JSON reader for security-relevant documents (token headers and claims, JWKs).
//!
//! `serde_json` keeps the last of two duplicate keys and happily nests 128 levels deep. Both are
//! classic confusion vectors for signed documents (two parsers disagreeing on which `aud` counts),
//! so everything netid reads from the platform goes through here first: UTF-8 only, one object,
//! no duplicate keys at any level, bounded depth, nothing after the closing brace.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrictJsonError {
    /// Not UTF-8.
    Utf8,
    /// Not well-formed JSON, or not an object at the top.
    Syntax,
    /// The same key twice in one object. Holds the key, for [`crate::error::printable_name`].
    DuplicateKey(String),
    /// Objects/arrays nested deeper than the limit.
    TooDeep,
    /// Non-whitespace after the top-level value.
    TrailingData,
}

/// Parses `bytes` as one JSON object under the rules above.
pub(crate) fn parse_object(
    bytes: &[u8],
    max_depth: usize,
) -> Result<Map<String, Value>, StrictJsonError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(StrictJsonError::Utf8);
    }
    let fault = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = StrictValue {
        depth_left: max_depth,
        fault: &fault,
    };
    let value = match seed.deserialize(&mut de) {
        Ok(v) => v,
        Err(_) => return Err(fault.into_inner().unwrap_or(StrictJsonError::Syntax)),
    };
    if de.end().is_err() {
        return Err(StrictJsonError::TrailingData);
    }
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(StrictJsonError::Syntax),
    }
}

/// [`parse_object`] (depth 8), then typed: for small request bodies the SDK reads itself.
pub(crate) fn from_slice_strict<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, StrictJsonError> {
    let map = parse_object(bytes, 8)?;
    serde_json::from_value(Value::Object(map)).map_err(|_| StrictJsonError::Syntax)
}

#[derive(Clone, Copy)]
struct StrictValue<'f> {
    depth_left: usize,
    fault: &'f RefCell<Option<StrictJsonError>>,
}

impl StrictValue<'_> {
    fn fail<E: de::Error>(&self, fault: StrictJsonError) -> E {
        *self.fault.borrow_mut() = Some(fault);
        E::custom("strict json")
    }

    fn nested(&self) -> Option<StrictValue<'_>> {
        (self.depth_left > 0).then(|| StrictValue {
            depth_left: self.depth_left - 1,
            fault: self.fault,
        })
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Some(inner) = self.nested() else {
            return Err(self.fail(StrictJsonError::TooDeep));
        };
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(inner) = self.nested() else {
            return Err(self.fail(StrictJsonError::TooDeep));
        };
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(self.fail(StrictJsonError::DuplicateKey(key)));
            }
            let v = map.next_value_seed(inner)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_object() {
        let m = parse_object(br#"{"a":1,"b":[true,null],"c":{"d":"e"}}"#, 8).unwrap();
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn rejects_duplicates_at_every_level() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#, 8),
            Err(StrictJsonError::DuplicateKey("a".into()))
        );
        assert_eq!(
            parse_object(br#"{"x":{"b":1,"b":1}}"#, 8),
            Err(StrictJsonError::DuplicateKey("b".into()))
        );
        assert_eq!(
            parse_object(br#"{"x":[{"c":1,"c":1}]}"#, 8),
            Err(StrictJsonError::DuplicateKey("c".into()))
        );
    }

    #[test]
    fn escaped_duplicate_is_still_a_duplicate() {
        assert_eq!(
            parse_object(br#"{"alg":1,"\u0061lg":2}"#, 8),
            Err(StrictJsonError::DuplicateKey("alg".into()))
        );
    }

    #[test]
    fn depth_is_bounded() {
        assert!(parse_object(br#"{"a":{"b":{}}}"#, 3).is_ok());
        assert_eq!(
            parse_object(br#"{"a":{"b":{"c":{}}}}"#, 3),
            Err(StrictJsonError::TooDeep)
        );
        assert_eq!(
            parse_object(br#"{"a":[[[]]]}"#, 3),
            Err(StrictJsonError::TooDeep)
        );
    }

    #[test]
    fn trailing_and_non_object_and_utf8() {
        assert_eq!(
            parse_object(br#"{} x"#, 8),
            Err(StrictJsonError::TrailingData)
        );
        assert_eq!(
            parse_object(br#"{}{}"#, 8),
            Err(StrictJsonError::TrailingData)
        );
        assert!(parse_object(b"{} \n", 8).is_ok());
        assert_eq!(parse_object(br#"[1]"#, 8), Err(StrictJsonError::Syntax));
        assert_eq!(
            parse_object(b"{\"a\":\"\xff\"}", 8),
            Err(StrictJsonError::Utf8)
        );
        assert_eq!(parse_object(b"", 8), Err(StrictJsonError::Syntax));
    }
}
