//! Typed CTAP2 responses, encoded canonically with tandem-cbor.

use tandem_cbor::Value;

/// authenticatorMakeCredential response.
#[derive(Clone, PartialEq)]
pub struct MakeCredentialResponse {
    /// 0x01 fmt.
    pub fmt: String,
    /// 0x02 authData.
    pub auth_data: Vec<u8>,
    /// 0x03 attStmt.
    pub att_stmt: Value,
    /// 0x04 epAtt (only when enterprise attestation was returned).
    pub ep_att: Option<bool>,
    /// 0x06 unsignedExtensionOutputs (hybrid `prf`).
    pub unsigned_extension_outputs: Option<Value>,
}

/// Shown for unsigned extension outputs in `Debug`: they carry PRF results, which are key material.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Debug for MakeCredentialResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MakeCredentialResponse")
            .field("fmt", &self.fmt)
            .field("auth_data", &self.auth_data)
            .field("att_stmt", &self.att_stmt)
            .field("ep_att", &self.ep_att)
            .field(
                "unsigned_extension_outputs",
                &self.unsigned_extension_outputs.as_ref().map(|_| Redacted),
            )
            .finish()
    }
}

impl MakeCredentialResponse {
    /// The response map.
    pub fn to_value(&self) -> Value {
        Value::map()
            .insert(1, self.fmt.as_str())
            .insert(2, self.auth_data.clone())
            .insert(3, self.att_stmt.clone())
            .insert_opt(4, self.ep_att)
            .insert_opt(6, self.unsigned_extension_outputs.clone())
            .build()
    }

    /// The canonical CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        self.to_value().to_vec()
    }

    /// The WebAuthn attestation object `{"fmt", "attStmt", "authData"}`.
    pub fn attestation_object(&self) -> Vec<u8> {
        Value::map()
            .insert("fmt", self.fmt.as_str())
            .insert("attStmt", self.att_stmt.clone())
            .insert("authData", self.auth_data.clone())
            .build()
            .to_vec()
    }
}

/// The user entity returned by getAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseUser {
    /// User handle.
    pub id: Vec<u8>,
    /// Account name (only after user verification).
    pub name: Option<String>,
    /// Friendly name (only after user verification).
    pub display_name: Option<String>,
}

/// authenticatorGetAssertion / authenticatorGetNextAssertion response.
#[derive(Clone, PartialEq)]
pub struct GetAssertionResponse {
    /// 0x01 credential: the credential ID.
    pub credential_id: Vec<u8>,
    /// Transports listed in the credential descriptor (Chromium's phone sends `["internal","cable"]`).
    pub credential_transports: Option<Vec<String>>,
    /// 0x02 authData.
    pub auth_data: Vec<u8>,
    /// 0x03 signature.
    pub signature: Vec<u8>,
    /// 0x04 user.
    pub user: Option<ResponseUser>,
    /// 0x05 numberOfCredentials.
    pub number_of_credentials: Option<u32>,
    /// 0x06 userSelected.
    pub user_selected: Option<bool>,
    /// 0x08 unsignedExtensionOutputs.
    pub unsigned_extension_outputs: Option<Value>,
}

impl std::fmt::Debug for GetAssertionResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetAssertionResponse")
            .field("credential_id", &self.credential_id)
            .field("credential_transports", &self.credential_transports)
            .field("auth_data", &self.auth_data)
            .field("signature", &self.signature)
            .field("user", &self.user)
            .field("number_of_credentials", &self.number_of_credentials)
            .field("user_selected", &self.user_selected)
            .field(
                "unsigned_extension_outputs",
                &self.unsigned_extension_outputs.as_ref().map(|_| Redacted),
            )
            .finish()
    }
}

impl GetAssertionResponse {
    /// The response map.
    pub fn to_value(&self) -> Value {
        let credential = Value::map()
            .insert("id", self.credential_id.clone())
            .insert("type", "public-key")
            .insert_opt(
                "transports",
                self.credential_transports
                    .as_ref()
                    .map(|t| Value::Array(t.iter().map(|s| Value::text(s.as_str())).collect())),
            )
            .build();
        let user = self.user.as_ref().map(|u| {
            Value::map()
                .insert("id", u.id.clone())
                .insert_opt("name", u.name.clone())
                .insert_opt("displayName", u.display_name.clone())
                .build()
        });
        Value::map()
            .insert(1, credential)
            .insert(2, self.auth_data.clone())
            .insert(3, self.signature.clone())
            .insert_opt(4, user)
            .insert_opt(5, self.number_of_credentials)
            .insert_opt(6, self.user_selected)
            .insert_opt(8, self.unsigned_extension_outputs.clone())
            .build()
    }

    /// The canonical CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        self.to_value().to_vec()
    }
}

/// authenticatorClientPIN response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientPinResponse {
    /// 0x01 keyAgreement.
    pub key_agreement: Option<Value>,
    /// 0x02 pinUvAuthToken (encrypted).
    pub pin_uv_auth_token: Option<Vec<u8>>,
    /// 0x05 uvRetries.
    pub uv_retries: Option<u32>,
}

/// authenticatorClientPIN response keys (CTAP 2.2 §6.5.5.2), only those this engine sends.
mod client_pin_key {
    /// keyAgreement.
    pub(crate) const KEY_AGREEMENT: u8 = 0x01;
    /// pinUvAuthToken.
    pub(crate) const PIN_UV_AUTH_TOKEN: u8 = 0x02;
    /// uvRetries.
    pub(crate) const UV_RETRIES: u8 = 0x05;
}

impl ClientPinResponse {
    /// The canonical CBOR encoding; empty when the subcommand returns nothing.
    pub fn to_cbor(&self) -> Vec<u8> {
        use client_pin_key as k;
        let m = Value::map()
            .insert_opt(k::KEY_AGREEMENT, self.key_agreement.clone())
            .insert_opt(k::PIN_UV_AUTH_TOKEN, self.pin_uv_auth_token.clone())
            .insert_opt(k::UV_RETRIES, self.uv_retries);
        if m.is_empty() {
            Vec::new()
        } else {
            m.build().to_vec()
        }
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;
    use crate::redaction::assert_redacted;

    const PRF: [u8; 8] = [0xa5, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66];

    fn prf_outputs() -> Option<Value> {
        Some(
            Value::map()
                .insert("prf", Value::map().insert("results", PRF.to_vec()).build())
                .build(),
        )
    }

    #[test]
    fn debug_hides_unsigned_extension_outputs() {
        let ga = GetAssertionResponse {
            credential_id: vec![1],
            credential_transports: None,
            auth_data: vec![2],
            signature: vec![3],
            user: None,
            number_of_credentials: None,
            user_selected: None,
            unsigned_extension_outputs: prf_outputs(),
        };
        assert_redacted(&ga, &PRF);
        let mc = MakeCredentialResponse {
            fmt: "none".into(),
            auth_data: vec![2],
            att_stmt: Value::map().build(),
            ep_att: None,
            unsigned_extension_outputs: prf_outputs(),
        };
        assert_redacted(&mc, &PRF);
    }
}
