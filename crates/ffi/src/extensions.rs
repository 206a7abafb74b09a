//! `clientExtensionResults` as records: the WebAuthn layer's own types (`tandem-webauthn`), derived for the
//! FFI rather than copied, so the engine's typed results cross unchanged and are written as W3C JSON only where
//! a response JSON is built. Their `Debug` keeps PRF outputs (the relying party's key material) redacted.

pub use tandem_webauthn::{ClientExtensionResults, CredPropsOutput, PrfOutput, PrfValues};

/// The client extension results of a registration or sign-in. A field is `None` when the relying party did
/// not ask for that extension.
#[uniffi::remote(Record)]
pub struct ClientExtensionResults {
    /// `credProps` (registrations only).
    pub cred_props: Option<CredPropsOutput>,
    /// `prf`.
    pub prf: Option<PrfOutput>,
}

/// The `credProps` extension's output.
#[uniffi::remote(Record)]
pub struct CredPropsOutput {
    /// Whether the credential is discoverable (a resident key): what was stored, not what was asked.
    pub rk: bool,
}

/// The `prf` extension's output.
#[uniffi::remote(Record)]
pub struct PrfOutput {
    /// Registrations only: whether the credential supports PRF.
    pub enabled: Option<bool>,
    /// The evaluated outputs, when the request asked for an evaluation.
    pub results: Option<PrfValues>,
}

/// PRF outputs (32 bytes each).
#[uniffi::remote(Record)]
pub struct PrfValues {
    /// The output for the `first` input.
    pub first: Vec<u8>,
    /// The output for the `second` input, when one was given.
    pub second: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_prf_outputs() {
        let r = ClientExtensionResults {
            cred_props: Some(CredPropsOutput { rk: true }),
            prf: Some(PrfOutput {
                enabled: Some(true),
                results: Some(PrfValues {
                    first: vec![0xA5; 32],
                    second: None,
                }),
            }),
        };
        let printed = format!("{r:?} {r:#?}");
        assert!(printed.contains("redacted"), "{printed}");
        assert!(!printed.contains("165"), "{printed}");
    }
}
