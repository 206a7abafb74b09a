//! `RegistrationResponseJSON` and `AuthenticationResponseJSON` (WebAuthn Level 3 §5.1.5): what a client hands the
//! relying party after a ceremony.

use serde_json::{Map, Value as Json, json};

use crate::b64::encode as b64;
use crate::extensions::ClientExtensionResults;

/// `authenticatorAttachment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticatorAttachment {
    /// The authenticator is part of the client device (a phone's own provider).
    Platform,
    /// A roaming authenticator (a phone reached over hybrid from a desktop).
    CrossPlatform,
}

impl AuthenticatorAttachment {
    fn as_str(self) -> &'static str {
        match self {
            AuthenticatorAttachment::Platform => "platform",
            AuthenticatorAttachment::CrossPlatform => "cross-platform",
        }
    }
}

/// A finished registration, as the relying party receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationResponse<'a> {
    /// The credential ID (`id` and `rawId`).
    pub credential_id: &'a [u8],
    /// `clientDataJSON`.
    pub client_data_json: &'a [u8],
    /// `attestationObject` (CBOR).
    pub attestation_object: &'a [u8],
    /// `authenticatorData`, when the client reports it separately (L3 convenience member).
    pub authenticator_data: Option<&'a [u8]>,
    /// `publicKey` (DER SubjectPublicKeyInfo) and `publicKeyAlgorithm`, when known.
    pub public_key: Option<(&'a [u8], i64)>,
    /// `transports`.
    pub transports: &'a [String],
    /// `authenticatorAttachment`.
    pub attachment: AuthenticatorAttachment,
    /// `clientExtensionResults`.
    pub extensions: &'a ClientExtensionResults,
}

impl RegistrationResponse<'_> {
    /// The JSON value.
    pub fn to_json(&self) -> Json {
        let mut response = Map::new();
        response.insert("clientDataJSON".into(), b64(self.client_data_json).into());
        response.insert("attestationObject".into(), b64(self.attestation_object).into());
        if let Some(ad) = self.authenticator_data {
            response.insert("authenticatorData".into(), b64(ad).into());
        }
        response.insert("transports".into(), json!(self.transports));
        if let Some((spki, alg)) = self.public_key {
            response.insert("publicKey".into(), b64(spki).into());
            response.insert("publicKeyAlgorithm".into(), alg.into());
        }
        envelope(
            self.credential_id,
            self.attachment,
            Json::Object(response),
            self.extensions,
        )
    }
}

/// A finished authentication, as the relying party receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResponse<'a> {
    /// The credential ID (`id` and `rawId`).
    pub credential_id: &'a [u8],
    /// `clientDataJSON`.
    pub client_data_json: &'a [u8],
    /// `authenticatorData`.
    pub authenticator_data: &'a [u8],
    /// `signature`.
    pub signature: &'a [u8],
    /// `userHandle` (omitted when the authenticator returned none).
    pub user_handle: Option<&'a [u8]>,
    /// `authenticatorAttachment`.
    pub attachment: AuthenticatorAttachment,
    /// `clientExtensionResults`.
    pub extensions: &'a ClientExtensionResults,
}

impl AuthenticationResponse<'_> {
    /// The JSON value.
    pub fn to_json(&self) -> Json {
        let mut response = Map::new();
        response.insert("clientDataJSON".into(), b64(self.client_data_json).into());
        response.insert("authenticatorData".into(), b64(self.authenticator_data).into());
        response.insert("signature".into(), b64(self.signature).into());
        if let Some(handle) = self.user_handle {
            response.insert("userHandle".into(), b64(handle).into());
        }
        envelope(
            self.credential_id,
            self.attachment,
            Json::Object(response),
            self.extensions,
        )
    }
}

fn envelope(
    id: &[u8],
    attachment: AuthenticatorAttachment,
    response: Json,
    ext: &ClientExtensionResults,
) -> Json {
    json!({
        "id": b64(id),
        "rawId": b64(id),
        "type": "public-key",
        "authenticatorAttachment": attachment.as_str(),
        "response": response,
        "clientExtensionResults": ext.to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_has_the_members_relying_parties_read() {
        let ext = ClientExtensionResults::default();
        let transports = ["hybrid".to_owned()];
        let j = RegistrationResponse {
            credential_id: &[1],
            client_data_json: b"{}",
            attestation_object: &[0xa0],
            authenticator_data: None,
            public_key: Some((&[2], -7)),
            transports: &transports,
            attachment: AuthenticatorAttachment::CrossPlatform,
            extensions: &ext,
        }
        .to_json();
        assert_eq!(
            j,
            json!({"id":"AQ","rawId":"AQ","type":"public-key","authenticatorAttachment":"cross-platform",
                "response":{"clientDataJSON":"e30","attestationObject":"oA","transports":["hybrid"],
                    "publicKey":"Ag","publicKeyAlgorithm":-7},
                "clientExtensionResults":{}})
        );
    }

    #[test]
    fn assertion_omits_an_absent_user_handle() {
        let ext = ClientExtensionResults::default();
        let r = AuthenticationResponse {
            credential_id: &[1],
            client_data_json: b"{}",
            authenticator_data: &[3],
            signature: &[4],
            user_handle: None,
            attachment: AuthenticatorAttachment::Platform,
            extensions: &ext,
        };
        assert!(r.to_json()["response"].get("userHandle").is_none());
        let with = AuthenticationResponse {
            user_handle: Some(&[5]),
            ..r
        };
        assert_eq!(with.to_json()["response"]["userHandle"], "BQ");
    }
}
