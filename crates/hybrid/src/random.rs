//! Operating-system randomness (the only source of fresh secrets in this crate).

/// The operating system could not provide random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("operating-system randomness unavailable: {0}")]
pub struct RandomError(getrandom::Error);

/// Fills `buf` from the OS CSPRNG.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(RandomError)
}

/// A fresh random array. Callers holding secrets move it into a zeroizing type straight away.
pub(crate) fn array<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
