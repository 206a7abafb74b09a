//! The QR code's base-10 byte encoding (docs/hybrid-protocol.md#qr-digits): 7-byte little-endian chunks
//! written as 17 decimal digits, a shorter final chunk with a fixed width per length.

/// Digits used for a final chunk of `n` bytes (index `n`, 0..=6). A full 7-byte chunk uses 17 digits.
const PARTIAL_WIDTH: [usize; 7] = [0, 3, 5, 8, 10, 13, 15];
const CHUNK_BYTES: usize = 7;
const CHUNK_DIGITS: usize = 17;

/// Why a digit string is not a valid encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigitsError {
    /// A character other than ASCII `0`–`9`.
    #[error("non-digit character at position {0}")]
    NonDigit(usize),
    /// The final group has a length that no byte count encodes to.
    #[error("final group of {0} digits is not a valid length")]
    BadRemainder(usize),
    /// A group's value does not fit its byte count.
    #[error("digit group at position {0} is out of range")]
    OutOfRange(usize),
}

/// Number of digits [`encode`] produces for `len` bytes.
pub fn encoded_len(len: usize) -> usize {
    (len / CHUNK_BYTES) * CHUNK_DIGITS + partial_width(len % CHUNK_BYTES)
}

/// Digits for a final chunk of `bytes` (< 7) bytes.
fn partial_width(bytes: usize) -> usize {
    PARTIAL_WIDTH.get(bytes).copied().unwrap_or(CHUNK_DIGITS)
}

/// Encodes bytes as decimal digits.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    for chunk in bytes.chunks(CHUNK_BYTES) {
        let mut le = [0u8; 8];
        le.iter_mut().zip(chunk).for_each(|(to, from)| *to = *from);
        let value = u64::from_le_bytes(le);
        let width = if chunk.len() == CHUNK_BYTES {
            CHUNK_DIGITS
        } else {
            partial_width(chunk.len())
        };
        out.push_str(&format!("{value:0width$}"));
    }
    out
}

/// Decodes decimal digits to bytes, rejecting anything [`encode`] cannot produce.
pub fn decode(digits: &str) -> Result<Vec<u8>, DigitsError> {
    let raw = digits.as_bytes();
    if let Some(pos) = raw.iter().position(|c| !c.is_ascii_digit()) {
        return Err(DigitsError::NonDigit(pos));
    }
    let remainder = raw.len() % CHUNK_DIGITS;
    let tail_bytes = PARTIAL_WIDTH
        .iter()
        .position(|&w| w == remainder)
        .ok_or(DigitsError::BadRemainder(remainder))?;
    let mut out = Vec::with_capacity(raw.len() / CHUNK_DIGITS * CHUNK_BYTES + tail_bytes);
    for (index, group) in raw.chunks(CHUNK_DIGITS).enumerate() {
        let n = if group.len() == CHUNK_DIGITS {
            CHUNK_BYTES
        } else {
            tail_bytes
        };
        // At most 17 digits: below 10^17 < 2^64, so this cannot overflow.
        let value = group.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        if value >> (8 * n) != 0 {
            return Err(DigitsError::OutOfRange(index * CHUNK_DIGITS));
        }
        out.extend(value.to_le_bytes().into_iter().take(n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths() {
        assert_eq!(encoded_len(69), 168);
        assert_eq!(encode(&[0xff; 7]), "72057594037927935");
        assert_eq!(decode("72057594037927936"), Err(DigitsError::OutOfRange(0)));
        assert_eq!(decode("256"), Err(DigitsError::OutOfRange(0)));
        assert_eq!(decode("255").unwrap(), vec![0xff]);
        assert_eq!(decode("１２３"), Err(DigitsError::NonDigit(0)));
        assert_eq!(decode("+12"), Err(DigitsError::NonDigit(0)));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let digits = encode(&bytes);
            prop_assert_eq!(digits.len(), encoded_len(bytes.len()));
            prop_assert_eq!(decode(&digits).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics_and_is_canonical(s in "[0-9]{0,60}|\\PC{0,40}") {
            if let Ok(bytes) = decode(&s) {
                prop_assert_eq!(encode(&bytes), s);
            }
        }
    }
}
