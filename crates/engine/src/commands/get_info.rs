//! authenticatorGetInfo (CTAP 2.2 §6.4): what this authenticator supports, per profile.

use tandem_cbor::Value;

use crate::authenticator::Authenticator;
use crate::commands::make_credential::CREDENTIAL_ID_LEN;
use crate::config::GetInfoProfile;
use crate::extensions::MAX_CRED_BLOB_LENGTH;
use crate::keys::SUPPORTED_ALGORITHMS;

/// The getInfo response map's keys (CTAP 2.2 §6.4), only those this engine sends.
pub(crate) mod key {
    /// versions.
    pub(crate) const VERSIONS: u8 = 0x01;
    /// extensions.
    pub(crate) const EXTENSIONS: u8 = 0x02;
    /// aaguid.
    pub(crate) const AAGUID: u8 = 0x03;
    /// options.
    pub(crate) const OPTIONS: u8 = 0x04;
    /// maxMsgSize.
    pub(crate) const MAX_MSG_SIZE: u8 = 0x05;
    /// pinUvAuthProtocols.
    pub(crate) const PIN_UV_AUTH_PROTOCOLS: u8 = 0x06;
    /// maxCredentialCountInList.
    pub(crate) const MAX_CREDENTIAL_COUNT_IN_LIST: u8 = 0x07;
    /// maxCredentialIdLength.
    pub(crate) const MAX_CREDENTIAL_ID_LENGTH: u8 = 0x08;
    /// transports.
    pub(crate) const TRANSPORTS: u8 = 0x09;
    /// algorithms.
    pub(crate) const ALGORITHMS: u8 = 0x0A;
    /// maxCredBlobLength.
    pub(crate) const MAX_CRED_BLOB_LENGTH: u8 = 0x0F;
    /// attestationFormats.
    pub(crate) const ATTESTATION_FORMATS: u8 = 0x16;
}

/// maxMsgSize the Direct profile announces.
const MAX_MSG_SIZE: u32 = 4096;
/// maxCredentialCountInList the Direct profile announces.
const MAX_CREDENTIAL_COUNT_IN_LIST: u32 = 64;

impl Authenticator {
    /// Extensions this engine supports in the configured profile.
    pub fn supported_extensions(&self) -> Vec<&'static str> {
        match self.config.profile {
            // No PIN/UV protocol over hybrid, so no hmac-secret there: PRF travels as `prf`.
            GetInfoProfile::Hybrid => vec!["credBlob", "credProtect", "prf"],
            GetInfoProfile::Direct => {
                vec!["credBlob", "credProtect", "hmac-secret", "hmac-secret-mc", "prf"]
            }
        }
    }

    /// The getInfo response CBOR (no status byte), as the hybrid post-handshake message carries it.
    pub fn get_info_cbor(&self) -> Vec<u8> {
        self.get_info().to_vec()
    }

    pub(crate) fn get_info(&self) -> Value {
        let texts = |v: Vec<String>| Value::Array(v.into_iter().map(Value::Text).collect());
        let extensions = Value::Array(self.supported_extensions().into_iter().map(Value::text).collect());
        let transports = texts(self.config.transports());
        let versions = Value::Array(vec![Value::text("FIDO_2_0"), Value::text("FIDO_2_1")]);
        match self.config.profile {
            // maxCredBlobLength is present exactly when credBlob is listed: Chromium's getInfo parser rejects
            // the whole response otherwise and falls back to U2F (see docs/protocol-notes.md).
            GetInfoProfile::Hybrid => Value::map()
                .insert(key::VERSIONS, versions)
                .insert(key::EXTENSIONS, extensions)
                .insert(key::AAGUID, self.config.aaguid.to_vec())
                .insert(
                    key::OPTIONS,
                    Value::map().insert("rk", true).insert("uv", true).build(),
                )
                .insert(key::TRANSPORTS, transports)
                .insert(key::MAX_CRED_BLOB_LENGTH, MAX_CRED_BLOB_LENGTH as u32)
                .build(),
            GetInfoProfile::Direct => {
                let mut options = Value::map()
                    .insert("rk", true)
                    .insert("up", true)
                    .insert("uv", true)
                    .insert("pinUvAuthToken", true);
                if self.config.attestation.enterprise.is_some() {
                    options = options.insert("ep", true);
                }
                let algorithms = Value::Array(
                    SUPPORTED_ALGORITHMS
                        .iter()
                        .map(|a| {
                            Value::map()
                                .insert("alg", *a)
                                .insert("type", "public-key")
                                .build()
                        })
                        .collect(),
                );
                // PIN/UV auth protocols in order of preference: two, then one.
                let protocols = Value::Array(vec![Value::from(2u8), Value::from(1u8)]);
                Value::map()
                    .insert(key::VERSIONS, versions)
                    .insert(key::EXTENSIONS, extensions)
                    .insert(key::AAGUID, self.config.aaguid.to_vec())
                    .insert(key::OPTIONS, options.build())
                    .insert(key::MAX_MSG_SIZE, MAX_MSG_SIZE)
                    .insert(key::PIN_UV_AUTH_PROTOCOLS, protocols)
                    .insert(key::MAX_CREDENTIAL_COUNT_IN_LIST, MAX_CREDENTIAL_COUNT_IN_LIST)
                    .insert(key::MAX_CREDENTIAL_ID_LENGTH, CREDENTIAL_ID_LEN as u32)
                    .insert(key::TRANSPORTS, transports)
                    .insert(key::ALGORITHMS, algorithms)
                    .insert(key::MAX_CRED_BLOB_LENGTH, MAX_CRED_BLOB_LENGTH as u32)
                    .insert(
                        key::ATTESTATION_FORMATS,
                        Value::Array(vec![Value::text("packed"), Value::text("none")]),
                    )
                    .build()
            }
        }
    }
}
