//! Deterministic CBOR (RFC 8949 §4.2.1) for the small maps Comity signs, and strict readers
//! for them. Maps are built with keys already in deterministic order; ciborium writes
//! shortest-form integers and definite lengths.

use ciborium::Value;

/// Encodes `value`; maps must already list their keys in deterministic order.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("writing CBOR into a Vec cannot fail");
    bytes
}

/// Decodes one CBOR item and refuses trailing bytes and any encoding that is not the
/// deterministic one (checked by re-encoding).
pub(crate) fn decode_deterministic(bytes: &[u8]) -> Option<Value> {
    let value: Value = ciborium::from_reader(bytes).ok()?;
    if encode(&value) != bytes {
        return None;
    }
    Some(value)
}

/// Reads an integer-keyed map into `(key, value)` pairs, refusing non-integer keys.
pub(crate) fn integer_keyed_map(value: Value) -> Option<Vec<(i128, Value)>> {
    let Value::Map(entries) = value else {
        return None;
    };
    let mut pairs = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Value::Integer(key) = key else {
            return None;
        };
        pairs.push((i128::from(key), value));
    }
    Some(pairs)
}

pub(crate) fn as_text(value: &Value, max_bytes: usize) -> Option<String> {
    match value {
        Value::Text(text) if text.len() <= max_bytes => Some(text.clone()),
        _ => None,
    }
}

pub(crate) fn as_fixed_bytes<const N: usize>(value: &Value) -> Option<[u8; N]> {
    match value {
        Value::Bytes(bytes) => <[u8; N]>::try_from(bytes.as_slice()).ok(),
        _ => None,
    }
}

pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(integer) => u64::try_from(*integer).ok(),
        _ => None,
    }
}

pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(integer) => i64::try_from(*integer).ok(),
        _ => None,
    }
}

/// Walks the entries of an integer-keyed map whose keys must appear in ascending order, each
/// at most once, and only from a known set.
pub(crate) struct OrderedMapReader {
    entries: std::iter::Peekable<std::vec::IntoIter<(i128, Value)>>,
}

impl OrderedMapReader {
    /// Fails on anything but an integer-keyed map with strictly ascending keys.
    pub(crate) fn new(value: Value) -> Option<OrderedMapReader> {
        let entries = integer_keyed_map(value)?;
        if entries.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return None;
        }
        Some(OrderedMapReader {
            entries: entries.into_iter().peekable(),
        })
    }

    /// Takes the value at `key` if present. Keys must be asked for in ascending order.
    pub(crate) fn optional(&mut self, key: i128) -> Option<Value> {
        if self
            .entries
            .peek()
            .is_some_and(|(next_key, _)| *next_key == key)
        {
            return self.entries.next().map(|(_, value)| value);
        }
        None
    }

    /// True when every entry was taken (no unknown keys).
    pub(crate) fn is_exhausted(&mut self) -> bool {
        self.entries.peek().is_none()
    }
}

/// Positive integer keys sort in numeric order in deterministic CBOR, so a map written with
/// ascending small unsigned keys is deterministic.
pub(crate) fn unsigned_keyed_map(entries: Vec<(u64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(key, value)| (Value::Integer(key.into()), value))
            .collect(),
    )
}
