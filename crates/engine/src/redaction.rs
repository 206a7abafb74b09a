//! Test helper: does a `Debug` rendering leak secret bytes?
//!
//! Derived `Debug` prints bytes as decimal lists (`[19, 55, …]`, or one per line with `{:#?}`) and hex types
//! print hex, so a rendering leaks a secret if the secret's bytes appear in it as a run of decimal numbers
//! or as hex. Callers use secrets with distinctive bytes so a match cannot be chance.

/// Asserts that neither `{:?}` nor `{:#?}` of `value` contains `secret` (decimal run or hex), and that
/// both say `redacted`.
pub(crate) fn assert_redacted(value: &impl std::fmt::Debug, secret: &[u8]) {
    assert!(secret.len() >= 4, "use a secret long enough to be distinctive");
    for printed in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(printed.contains("redacted"), "no redaction marker in {printed}");
        assert!(!printed.contains(&hex::encode(secret)), "hex secret in {printed}");
        let numbers: Vec<u64> = printed
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let wanted: Vec<u64> = secret.iter().map(|&b| u64::from(b)).collect();
        assert!(
            !numbers.windows(wanted.len()).any(|w| w == wanted.as_slice()),
            "decimal secret in {printed}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detector itself catches both derived renderings (else the redaction tests could not fail).
    #[test]
    #[should_panic(expected = "decimal secret")]
    fn catches_a_derived_debug() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Leaky {
            key: Vec<u8>,
            note: &'static str,
        }
        assert_redacted(
            &Leaky {
                key: vec![0xa5, 0x5a, 0x13, 0x37, 0xc3],
                note: "redacted",
            },
            &[0xa5, 0x5a, 0x13, 0x37, 0xc3],
        );
    }
}
