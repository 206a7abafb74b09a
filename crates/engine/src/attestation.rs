//! Attestation statements: `none`, `packed` self-attestation and `packed` with a certificate chain.

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey;
use tandem_cbor::Value;

use crate::config::{AttestationCertificate, AttestationConfig};
use crate::keys::{COSE_ES256, CredentialKey};
use crate::status::EngineError;

/// The attestation the engine will produce for one makeCredential.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttestationChoice<'a> {
    /// fmt "none", empty statement.
    None,
    /// fmt "packed", signed by the new credential key, no x5c.
    PackedSelf,
    /// fmt "packed", signed by a configured attestation key with its chain in x5c.
    PackedX5c {
        /// Certificate and key.
        certificate: &'a AttestationCertificate,
        /// Whether this is enterprise attestation (epAtt = true).
        enterprise: bool,
    },
}

/// Picks the attestation for a request.
///
/// * `enterpriseAttestation` (CTAP 2.1 §7.1): rejected with CTAP1_ERR_INVALID_PARAMETER when no enterprise
///   certificate is configured; values other than 1 and 2 are CTAP2_ERR_INVALID_OPTION; 1 applies only to the
///   configured RP IDs (others fall back to ordinary attestation); 2 applies to every RP.
/// * `attestationFormatsPreference` (CTAP 2.2): the first format the engine supports wins ("packed" or
///   "none"); without a preference, or with no supported entry, "packed" is used.
/// * "packed" uses the batch certificate when configured, self-attestation otherwise.
pub(crate) fn choose<'a>(
    config: &'a AttestationConfig,
    rp_id: &str,
    enterprise: Option<u64>,
    preference: Option<&[String]>,
) -> Result<AttestationChoice<'a>, EngineError> {
    if let Some(ep) = enterprise {
        let Some(certificate) = &config.enterprise else {
            return Err(EngineError::InvalidParameter(
                "enterprise attestation is not supported",
            ));
        };
        let allowed = match ep {
            1 => config.enterprise_rp_ids.iter().any(|r| r == rp_id),
            2 => true,
            _ => return Err(EngineError::InvalidOption("enterpriseAttestation")),
        };
        if allowed {
            return Ok(AttestationChoice::PackedX5c {
                certificate,
                enterprise: true,
            });
        }
    }
    let wants_none = preference
        .and_then(|p| p.iter().find(|f| f.as_str() == "packed" || f.as_str() == "none"))
        .is_some_and(|f| f == "none");
    Ok(if wants_none {
        AttestationChoice::None
    } else if let Some(certificate) = &config.batch {
        AttestationChoice::PackedX5c {
            certificate,
            enterprise: false,
        }
    } else {
        AttestationChoice::PackedSelf
    })
}

/// A finished attestation statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    /// Format identifier.
    pub(crate) fmt: &'static str,
    /// attStmt map.
    pub(crate) att_stmt: Value,
    /// epAtt, when enterprise attestation was returned.
    pub(crate) ep_att: Option<bool>,
}

/// Produces the statement over `authData ‖ clientDataHash`.
pub(crate) fn statement(
    choice: AttestationChoice<'_>,
    credential_key: &CredentialKey,
    auth_data: &[u8],
    client_data_hash: &[u8],
) -> Result<Statement, EngineError> {
    let mut signed = Vec::with_capacity(auth_data.len() + client_data_hash.len());
    signed.extend_from_slice(auth_data);
    signed.extend_from_slice(client_data_hash);
    Ok(match choice {
        AttestationChoice::None => Statement {
            fmt: "none",
            att_stmt: Value::Map(vec![]),
            ep_att: None,
        },
        AttestationChoice::PackedSelf => Statement {
            fmt: "packed",
            att_stmt: Value::map()
                .insert("alg", credential_key.algorithm())
                .insert("sig", credential_key.sign(&signed))
                .build(),
            ep_att: None,
        },
        AttestationChoice::PackedX5c {
            certificate,
            enterprise,
        } => {
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(&certificate.private_key_pkcs8)
                .map_err(|_| EngineError::Internal("attestation key is not a P-256 PKCS#8 key"))?;
            let sig: p256::ecdsa::Signature = key.sign(&signed);
            if certificate.chain.is_empty() {
                return Err(EngineError::Internal("attestation certificate chain is empty"));
            }
            Statement {
                fmt: "packed",
                att_stmt: Value::map()
                    .insert("alg", COSE_ES256)
                    .insert("sig", sig.to_der().as_bytes().to_vec())
                    .insert(
                        "x5c",
                        Value::Array(
                            certificate
                                .chain
                                .iter()
                                .map(|c| Value::bytes(c.clone()))
                                .collect(),
                        ),
                    )
                    .build(),
                ep_att: enterprise.then_some(true),
            }
        }
    })
}
