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
            RequestType::Other(s) => s,
        }
    }

    /// Parses a wire string; unknown strings become [`RequestType::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "ga" => RequestType::GetAssertion,
            "mc" => RequestType::MakeCredential,
            "dcp" => RequestType::DigitalCredentialPresentation,
            other => RequestType::Other(other.to_owned()),
        }
    }

    /// The hint to act on: unknown strings mean getAssertion (spec §2.3).
    pub fn effective(&self) -> RequestType {
        match self {
            RequestType::Other(_) => RequestType::GetAssertion,
            known => known.clone(),
        }
    }
}
