//! Strict decoder.

use crate::{MAX_NESTING, Value};

/// Why a byte string is not an acceptable CBOR item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside an item.
    #[error("CBOR input is truncated")]
    Truncated,
    /// Bytes follow the single top-level item.
    #[error("{0} trailing byte(s) after the CBOR item")]
    TrailingBytes(usize),
    /// Indefinite lengths, tags, floats, undefined and other simple values are not used by CTAP.
    #[error("unsupported CBOR feature: {0}")]
    Unsupported(&'static str),
    /// A reserved additional-information value (28..30).
    #[error("malformed CBOR head")]
    Malformed,
    /// A text string is not valid UTF-8.
    #[error("text string is not valid UTF-8")]
    InvalidUtf8,
    /// The same key appears twice in one map.
    #[error("duplicate map key")]
    DuplicateKey,
    /// Deeper than [`MAX_NESTING`].
    #[error("CBOR nesting deeper than {MAX_NESTING}")]
    TooDeep,
    /// Canonical mode only: the encoding is valid but not in CTAP2 canonical form.
    #[error("CBOR is not canonical: {0}")]
    NotCanonical(&'static str),
}

/// Decoder strictness.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions {
    /// Reject non-shortest heads and out-of-order map keys (Chromium's reader, python-fido2's strict mode).
    pub canonical: bool,
}

impl DecodeOptions {
    /// Options that require CTAP2 canonical form.
    pub fn canonical() -> Self {
        DecodeOptions { canonical: true }
    }
}

/// Decodes exactly one well-formed item (canonical form not required).
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_with(bytes, DecodeOptions::default())
}

/// Decodes exactly one item that must be in CTAP2 canonical form.
pub fn decode_canonical(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_with(bytes, DecodeOptions::canonical())
}

impl DecodeOptions {
    /// Decodes exactly one item with these options.
    pub fn decode(self, bytes: &[u8]) -> Result<Value, DecodeError> {
        decode_with(bytes, self)
    }
}

fn decode_with(bytes: &[u8], opts: DecodeOptions) -> Result<Value, DecodeError> {
    let mut r = Reader {
        buf: bytes,
        pos: 0,
        opts,
    };
    let v = r.item(0)?;
    match bytes.len() - r.pos {
        0 => Ok(v),
        n => Err(DecodeError::TrailingBytes(n)),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    opts: DecodeOptions,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    /// Reads exactly `N` bytes as an array.
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.pos.checked_add(N).ok_or(DecodeError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        let out = <[u8; N]>::try_from(s).map_err(|_| DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    /// Reads a head; returns (major type, argument).
    fn head(&mut self) -> Result<(u8, u64), DecodeError> {
        let [b] = self.take_array::<1>()?;
        let major = b >> 5;
        let info = b & 0x1f;
        let (arg, min) = match info {
            0..=23 => (u64::from(info), 0),
            24 => (u64::from(u8::from_be_bytes(self.take_array()?)), 24),
            25 => (u64::from(u16::from_be_bytes(self.take_array()?)), 0x100),
            26 => (u64::from(u32::from_be_bytes(self.take_array()?)), 0x1_0000),
            27 => (u64::from_be_bytes(self.take_array()?), 0x1_0000_0000),
            28..=30 => return Err(DecodeError::Malformed),
            _ => {
                // 31: indefinite length (majors 2-5) or "break"; neither is allowed in CTAP.
                return Err(DecodeError::Unsupported("indefinite length"));
            }
        };
        // Major 7 with a following argument is a float (25–27) or a one-byte simple value (24), never false,
        // true or null: those are only the one-byte heads f4–f6. Judged here, where the additional info is
        // known, so a float's bits (`f9 00 14`) cannot pass for simple value 20.
        if major == 7 && info >= 24 {
            return Err(match info {
                // RFC 8949 §3.3: a two-byte simple value below 32 is not well-formed.
                24 if arg < 32 => DecodeError::Malformed,
                _ => DecodeError::Unsupported("float or simple value"),
            });
        }
        if self.opts.canonical && info >= 24 && arg < min {
            return Err(DecodeError::NotCanonical(
                "integer or length not in shortest form",
            ));
        }
        Ok((major, arg))
    }

    fn len(&self, arg: u64) -> Result<usize, DecodeError> {
        // A length can never exceed the bytes that remain; checking here also bounds allocations.
        let n = usize::try_from(arg).map_err(|_| DecodeError::Truncated)?;
        if n > self.buf.len() - self.pos {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }

    fn item(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_NESTING {
            return Err(DecodeError::TooDeep);
        }
        let (major, arg) = self.head()?;
        Ok(match major {
            0 => Value::Int(i128::from(arg)),
            1 => Value::Int(-1 - i128::from(arg)),
            2 => {
                let n = self.len(arg)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = self.len(arg)?;
                let s = std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError::InvalidUtf8)?;
                Value::Text(s.to_owned())
            }
            4 => {
                // Each element needs at least one byte: bound the allocation by what remains.
                let n = self.len(arg)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let n = self.len(arg)?;
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(n);
                let mut prev_key: Option<Vec<u8>> = None;
                for _ in 0..n {
                    let start = self.pos;
                    let k = self.item(depth + 1)?;
                    // The key's own encoding, for the canonical-order check.
                    let kbytes = self
                        .buf
                        .get(start..self.pos)
                        .ok_or(DecodeError::Truncated)?
                        .to_vec();
                    if self.opts.canonical {
                        if let Some(p) = &prev_key {
                            match p.len().cmp(&kbytes.len()).then_with(|| p.as_slice().cmp(&kbytes)) {
                                std::cmp::Ordering::Less => {}
                                std::cmp::Ordering::Equal => return Err(DecodeError::DuplicateKey),
                                std::cmp::Ordering::Greater => {
                                    return Err(DecodeError::NotCanonical("map keys out of order"));
                                }
                            }
                        }
                        prev_key = Some(kbytes);
                    } else {
                        // Compare values, not encodings: `0x18 0x01` and `0x01` are the same key.
                        if entries.iter().any(|(ek, _)| *ek == k) {
                            return Err(DecodeError::DuplicateKey);
                        }
                    }
                    let v = self.item(depth + 1)?;
                    entries.push((k, v));
                }
                Value::Map(entries)
            }
            6 => return Err(DecodeError::Unsupported("tag")),
            _ => match arg {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                23 => return Err(DecodeError::Unsupported("undefined")),
                _ => return Err(DecodeError::Unsupported("float or simple value")),
            },
        })
    }
}
