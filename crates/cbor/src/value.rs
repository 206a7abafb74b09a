//! The value model.

use crate::encode;

/// One CBOR data item of the kinds CTAP uses.
///
/// Integers are kept as `i128` so the whole CBOR range (-2^64 ..= 2^64-1) is representable without a
/// separate negative variant. Maps keep their entries in insertion order; the canonical order is applied by
/// the encoder, so building a map never needs to know CTAP's ordering rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Major types 0 and 1: from -2^64 to 2^64 - 1. The decoder only produces such values and every `From`
    /// conversion is from a 64-bit integer; building one outside that range is a programming error the
    /// encoder reports by panicking.
    Int(i128),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 4.
    Array(Vec<Value>),
    /// Major type 5.
    Map(Vec<(Value, Value)>),
    /// Simple values 20/21.
    Bool(bool),
    /// Simple value 22.
    Null,
}

impl Value {
    /// Encodes the value in CTAP2 canonical form.
    ///
    /// # Panics
    /// Never for values produced by this crate's decoder or builders; an integer outside the CBOR range
    /// (below -2^64 or above 2^64-1) is a programming error and panics.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        encode::write(self, &mut out);
        out
    }

    /// Starts a map builder.
    pub fn map() -> MapBuilder {
        MapBuilder::default()
    }

    /// A text value.
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// A byte-string value.
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The integer as `u64`, if this is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_int().and_then(|i| u64::try_from(i).ok())
    }

    /// The integer as `i64`, if in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_int().and_then(|i| i64::try_from(i).ok())
    }

    /// The byte string, if this is one.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The text string, if this is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The array items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The map entries (in stored order), if this is a map.
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up an entry of a map by key. `None` if this is not a map or the key is absent.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.as_map()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Looks up an integer-keyed entry of a map (CTAP's usual parameter maps).
    pub fn get_int(&self, key: i128) -> Option<&Value> {
        self.get(&Value::Int(key))
    }

    /// Looks up a text-keyed entry of a map (WebAuthn-style structures such as `rp`, `user`, options).
    pub fn get_text(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the value's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "integer",
            Value::Bytes(_) => "byte string",
            Value::Text(_) => "text string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
        }
    }

    /// Converts from a `ciborium` value (used by `coset`). Floats, tags and simple values other than
    /// booleans and null are not part of CTAP and yield `None`.
    pub fn from_ciborium(v: &ciborium::Value) -> Option<Value> {
        use ciborium::Value as C;
        Some(match v {
            C::Integer(i) => Value::Int(i128::from(*i)),
            C::Bytes(b) => Value::Bytes(b.clone()),
            C::Text(t) => Value::Text(t.clone()),
            C::Array(a) => Value::Array(a.iter().map(Value::from_ciborium).collect::<Option<_>>()?),
            C::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Some((Value::from_ciborium(k)?, Value::from_ciborium(v)?)))
                    .collect::<Option<_>>()?,
            ),
            C::Bool(b) => Value::Bool(*b),
            C::Null => Value::Null,
            _ => return None,
        })
    }

    /// Converts into a `ciborium` value (to hand structures to `coset`).
    pub fn to_ciborium(&self) -> ciborium::Value {
        use ciborium::Value as C;
        match self {
            #[allow(
                clippy::expect_used,
                reason = "Value::Int is documented to stay within the CBOR range"
            )]
            Value::Int(i) => C::Integer(
                ciborium::value::Integer::try_from(*i).expect("Value::Int is always within the CBOR range"),
            ),
            Value::Bytes(b) => C::Bytes(b.clone()),
            Value::Text(t) => C::Text(t.clone()),
            Value::Array(a) => C::Array(a.iter().map(Value::to_ciborium).collect()),
            Value::Map(m) => C::Map(
                m.iter()
                    .map(|(k, v)| (k.to_ciborium(), v.to_ciborium()))
                    .collect(),
            ),
            Value::Bool(b) => C::Bool(*b),
            Value::Null => C::Null,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(i128::from(v)) }
        }
    )*};
}
from_int!(u8, u16, u32, u64, i8, i16, i32, i64);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::Array(v)
    }
}

/// Builds a map entry by entry; `None` values are skipped, which keeps optional CTAP fields terse.
#[derive(Default, Debug, Clone)]
pub struct MapBuilder {
    entries: Vec<(Value, Value)>,
}

impl MapBuilder {
    /// Adds an entry.
    pub fn insert(mut self, key: impl Into<Value>, value: impl Into<Value>) -> Self {
        self.entries.push((key.into(), value.into()));
        self
    }

    /// Adds an entry when `value` is `Some`.
    pub fn insert_opt<V: Into<Value>>(self, key: impl Into<Value>, value: Option<V>) -> Self {
        match value {
            Some(v) => self.insert(key, v),
            None => self,
        }
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Finishes the map.
    pub fn build(self) -> Value {
        Value::Map(self.entries)
    }
}

impl From<MapBuilder> for Value {
    fn from(b: MapBuilder) -> Value {
        b.build()
    }
}
