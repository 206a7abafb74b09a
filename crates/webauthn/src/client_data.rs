//! Collected client data (WebAuthn §5.8.1): what the authenticator signs over, by hash.

use sha2::{Digest, Sha256};

/// The ceremony a client data object is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientDataType {
    /// `webauthn.create`.
    Create,
    /// `webauthn.get`.
    Get,
}

impl ClientDataType {
    /// The `type` member's value.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientDataType::Create => "webauthn.create",
            ClientDataType::Get => "webauthn.get",
        }
    }
}

/// `{"type":..,"challenge":..,"origin":..,"crossOrigin":false}` in the member order browsers write (WebAuthn §5.8.1.1,
/// which relying parties' limited verifiers may rely on); strings escaped by serde_json.
pub fn client_data_json(ty: ClientDataType, challenge: &[u8], origin: &str) -> String {
    let s = |v: &str| serde_json::Value::String(v.to_owned()).to_string();
    format!(
        "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":false}}",
        s(ty.as_str()),
        s(&crate::b64::encode(challenge)),
        s(origin)
    )
}

/// SHA-256 of the client data JSON: the `clientDataHash` CTAP requests carry.
pub fn client_data_hash(client_data_json: &[u8]) -> [u8; 32] {
    Sha256::digest(client_data_json).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_what_browsers_serialise() {
        let json = client_data_json(ClientDataType::Get, &[1, 2, 3], "https://a.example\"x");
        assert_eq!(
            json,
            r#"{"type":"webauthn.get","challenge":"AQID","origin":"https://a.example\"x","crossOrigin":false}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["origin"], "https://a.example\"x");
    }

    #[test]
    fn hash_known_answer() {
        // SHA-256("abc")
        assert_eq!(client_data_hash(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
