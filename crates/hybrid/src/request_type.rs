//! The request-type hint of QR key 5 and of the state-assisted client payload's key 3.

/// What the desktop is about to ask for. Only a UI hint: it does not constrain later CTAP commands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestType {
    /// `"ga"`: getAssertion (also the meaning of an absent or unknown hint).
    GetAssertion,
    /// `"mc"`: makeCredential.
    MakeCredential,
    /// `"dcp"`: digital-credential presentation (Chromium only).
    DigitalCredentialPresentation,
    /// `"dci"`: digital-credential issuance (Chromium only).
    DigitalCredentialIssuance,
    /// Any other string, kept so re-encoding is faithful; treat it as [`RequestType::GetAssertion`].
    Other(String),
}

impl RequestType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            RequestType::GetAssertion => "ga",
            RequestType::MakeCredential => "mc",
            RequestType::DigitalCredentialPresentation => "dcp",
            RequestType::DigitalCredentialIssuance => "dci",
            RequestType::Other(s) => s,
        }
    }

    /// Parses a wire string; unknown strings become [`RequestType::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "ga" => RequestType::GetAssertion,
            "mc" => RequestType::MakeCredential,
            "dcp" => RequestType::DigitalCredentialPresentation,
            "dci" => RequestType::DigitalCredentialIssuance,
            other => RequestType::Other(other.to_owned()),
        }
    }

    /// Whether the desktop wants a digital credential (`"dcp"` / `"dci"`), not a WebAuthn ceremony. Such a
    /// session speaks the JSON message type, which only a digital-credential wallet can answer.
    pub fn is_digital_credential(&self) -> bool {
        matches!(
            self,
            RequestType::DigitalCredentialPresentation | RequestType::DigitalCredentialIssuance
        )
    }

    /// The hint to act on: unknown strings mean getAssertion (docs/hybrid-protocol.md#qr-payload).
    pub fn effective(&self) -> RequestType {
        match self {
            RequestType::Other(_) => RequestType::GetAssertion,
            known => known.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_as_chromium() {
        for (s, t) in [
            ("ga", RequestType::GetAssertion),
            ("mc", RequestType::MakeCredential),
            ("dcp", RequestType::DigitalCredentialPresentation),
            ("dci", RequestType::DigitalCredentialIssuance),
        ] {
            assert_eq!(RequestType::parse(s), t);
            assert_eq!(t.as_str(), s);
        }
        assert!(RequestType::parse("dcp").is_digital_credential());
        assert!(RequestType::parse("dci").is_digital_credential());
        assert!(!RequestType::parse("ga").is_digital_credential());
        assert!(
            !RequestType::parse("DCP").is_digital_credential(),
            "case-sensitive, as Chromium"
        );
        assert_eq!(RequestType::parse("").effective(), RequestType::GetAssertion);
    }
}
