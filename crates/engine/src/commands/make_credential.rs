//! authenticatorMakeCredential (CTAP 2.2 §6.1.2), step by step.
//!
//! The steps run in the spec's order, with two deliberate deviations: extension inputs are validated before
//! the user is prompted (malformed input never costs the user a prompt), and nothing is stored until every
//! signature was produced and the caller is still waiting.

use tandem_cbor::Value;

use crate::attestation;
use crate::authdata::{self, AttestedCredentialData, BackupFlags};
use crate::authenticator::{Authenticator, rp_id_hash};
use crate::cancel::Cancellation;
use crate::commands::client_pin::PERMISSION_MC;
use crate::commands::still_wanted;
use crate::config::{BackupPolicy, DiscoverablePolicy};
use crate::ctap::{MakeCredentialRequest, MakeCredentialResponse};
use crate::env::random_bytes;
use crate::extensions::{self, MAX_CRED_BLOB_LENGTH, VerifiedSalts};
use crate::keys::{CredentialKey, CredentialSecret, SUPPORTED_ALGORITHMS};
use crate::platform::{AccountInfo, Operation, VerificationPrompt};
use crate::status::EngineError;
use crate::store::{CredentialMeta, StoredCredential};
use crate::uv::OperationBinding;
use crate::uvkey;

/// Length of generated credential IDs.
pub(crate) const CREDENTIAL_ID_LEN: usize = 32;

/// The public part of a credential just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCredential {
    /// Credential ID.
    pub id: Vec<u8>,
    /// COSE algorithm.
    pub algorithm: i64,
    /// Raw public key (uncompressed SEC1 point or Ed25519 key).
    pub public_key_raw: Vec<u8>,
    /// Whether it was stored as discoverable (what WebAuthn's credProps reports as `rk`).
    pub discoverable: bool,
}

impl Authenticator {
    /// authenticatorMakeCredential on a typed request.
    pub fn make_credential(&self, req: MakeCredentialRequest) -> Result<MakeCredentialResponse, EngineError> {
        self.make_credential_cancellable(req, &Cancellation::new())
            .map(|(response, _)| response)
    }

    /// makeCredential whose caller may stop waiting: after `cancel` is raised nothing is stored. Also
    /// reports the new credential's public key (for the WebAuthn-level API).
    pub fn make_credential_cancellable(
        &self,
        req: MakeCredentialRequest,
        cancel: &Cancellation,
    ) -> Result<(MakeCredentialResponse, CreatedCredential), EngineError> {
        let req = self.without_ignored_mc_extensions(req);

        // Steps 1–2: the zero-length pinUvAuthParam probe, then the pinUvAuthProtocol check.
        self.check_pin_uv_protocol(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            Operation::Register,
            &req.rp.id,
        )?;

        // Step 3: the first of pubKeyCredParams the engine supports.
        let alg = req
            .algorithms
            .iter()
            .copied()
            .find(|a| SUPPORTED_ALGORITHMS.contains(a))
            .ok_or(EngineError::UnsupportedAlgorithm)?;

        // Steps 4–5: options. up=false is invalid for makeCredential; rk is read when storing (step 17); uv is
        // always performed (the engine's only UV is the platform prompt).
        if req.options.up == Some(false) {
            return Err(EngineError::InvalidOption(
                "up=false is not allowed in makeCredential",
            ));
        }

        // Step 9: enterpriseAttestation and the attestation format, decided before any prompt.
        let attestation = attestation::choose(
            &self.config.attestation,
            &req.rp.id,
            req.enterprise_attestation,
            req.attestation_formats_preference.as_deref(),
        )?;

        // Step 11: a pinUvAuthParam must verify under the current token, with the mc permission and this RP.
        let token_used = self
            .check_pin_uv_auth(
                req.pin_uv_auth_param.as_deref(),
                req.pin_uv_auth_protocol,
                PERMISSION_MC,
                &req.rp.id,
                &req.client_data_hash,
            )?
            .is_some();

        let rp_hash = rp_id_hash(&req.rp.id);
        let account = AccountInfo {
            user_id: req.user.id.clone(),
            name: req.user.name.clone(),
            display_name: req.user.display_name.clone(),
        };
        let prompt = VerificationPrompt {
            operation: Operation::Register,
            rp_id: req.rp.id.clone(),
            rp_name: req.rp.name.clone(),
            account: Some(account),
        };
        let binding = OperationBinding::new(Operation::Register, &rp_hash, &req.client_data_hash);

        // Step 12: exclude list. Wait for the user, then CTAP2_ERR_CREDENTIAL_EXCLUDED whatever they answered
        // (a refusal must not turn into another status the RP could tell apart). A credProtect level-3
        // credential counts only if the request is user-verified: by a token, or by this prompt, which is the
        // engine's UV. If that prompt is refused, the level-3 entry is dropped and the request ends as the
        // refused creation it then is.
        if !req.exclude_list.is_empty() {
            let existing = self.store.list_for_rp(&req.rp.id)?;
            let hits: Vec<&CredentialMeta> = existing
                .iter()
                .filter(|m| req.exclude_list.iter().any(|d| d.id == m.id))
                .collect();
            if !hits.is_empty() {
                let only_uv_required = hits
                    .iter()
                    .all(|m| m.cred_protect == extensions::CRED_PROTECT_UV_REQUIRED);
                let answer = self.gate(cancel).verify(&prompt, binding.clone());
                return Err(match answer {
                    Err(e) if only_uv_required && !token_used => e,
                    _ => EngineError::CredentialExcluded,
                });
            }
        }

        // Step 15 (inputs only, moved ahead of the prompt): validate extension inputs, so malformed input
        // never costs the user a prompt.
        let ext = &req.extensions;
        let hmac_mc = match (&ext.hmac_secret_mc, ext.hmac_secret) {
            (Some(input), true) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            _ => None,
        };

        // Steps 13–14: user presence and verification, through the gate, every time (a token never
        // replaces the prompt).
        let approval = self.gate(cancel).verify(&prompt, binding.clone())?;
        still_wanted(cancel)?;

        // Everything below runs only after the user approved; nothing is stored until all of it succeeded.
        // Step 16: a new key pair for the algorithm chosen in step 3, and the credential's secrets.
        let random = self.env.random();
        let key = CredentialKey::generate_with(alg, random)?;
        let secret = CredentialSecret::generate_with(key, ext.hmac_secret || ext.prf.is_some(), random)?;
        let credential_id = random_bytes::<CREDENTIAL_ID_LEN>(random)?.to_vec();
        let cred_protect = ext.cred_protect.unwrap_or(extensions::CRED_PROTECT_UV_OPTIONAL);
        let cred_blob = ext
            .cred_blob
            .as_ref()
            .filter(|b| b.len() <= MAX_CRED_BLOB_LENGTH)
            .cloned();

        // Step 15: extension outputs, signed (in authenticator data) and unsigned.
        let mut signed_ext = Value::map();
        if let Some(level) = ext.cred_protect {
            signed_ext = signed_ext.insert("credProtect", level);
        }
        if ext.hmac_secret {
            signed_ext = signed_ext.insert("hmac-secret", true);
        }
        if let Some(salts) = &hmac_mc {
            // The credential was just verified, so the UV CredRandom applies.
            signed_ext = signed_ext.insert("hmac-secret-mc", salts.outputs(&secret.cred_random_uv)?);
        }
        if ext.cred_blob.is_some() {
            signed_ext = signed_ext.insert("credBlob", cred_blob.is_some());
        }
        let unsigned = ext.prf.as_ref().map(|prf| {
            let results = prf
                .eval
                .as_ref()
                .map(|s| extensions::prf_results(&secret.cred_random_uv, s));
            Value::map()
                .insert(
                    "prf",
                    Value::map()
                        .insert("enabled", true)
                        .insert_opt("results", results)
                        .build(),
                )
                .build()
        });

        let attested = AttestedCredentialData {
            aaguid: self.config.aaguid,
            credential_id: credential_id.clone(),
            cose_public_key: secret.key.cose_public_key(),
        };
        let presence = approval.redeem(&binding, self.env.clock().now())?;
        // The secret is stored sealed under the key this verification unlocked: only a later verification
        // that unlocks the same key can use it.
        let stored_secret = if self.config.secrets_under_uv_key {
            let uv_key = presence
                .uv_key()
                .ok_or(EngineError::Internal("a redeemed approval carries no UV key"))?;
            uvkey::seal_secret(uv_key, &credential_id, &req.rp.id, &secret.to_blob(), random)?
        } else {
            secret.to_blob()
        };

        // Step 19: authenticator data and the attestation statement over it.
        let backup = self.backup_flags();
        let auth_data = authdata::encode(
            &rp_hash,
            presence,
            backup,
            0,
            Some(&attested),
            Some(&signed_ext.build()),
        );
        let statement = attestation::statement(attestation, &secret.key, &auth_data, &req.client_data_hash)?;

        // Step 17: store the credential, discoverable as the policy (or the rk option) says.
        let stored = StoredCredential {
            meta: CredentialMeta {
                id: credential_id,
                rp_id: req.rp.id.clone(),
                rp_name: req.rp.name.clone(),
                user_id: req.user.id.clone(),
                user_name: req.user.name.clone(),
                user_display_name: req.user.display_name.clone(),
                algorithm: alg,
                discoverable: match self.config.discoverable {
                    DiscoverablePolicy::Always => true,
                    DiscoverablePolicy::AsRequested => req.options.rk,
                },
                cred_protect,
                backup_eligible: backup.eligible,
                backup_state: backup.state,
                sign_count: 0,
                created_at: self.env.clock().unix_time(),
                cred_blob,
            },
            secret: stored_secret,
        };
        // Checked again just before storing: an approval that raced the caller's timeout stores nothing.
        still_wanted(cancel)?;
        self.store.insert(&stored)?;
        // The token collected user presence once: spend it (its up flag and permissions are cleared).
        if token_used {
            self.spend_token();
        }

        // The response (the end of step 19).
        let created = CreatedCredential {
            id: stored.meta.id.clone(),
            algorithm: alg,
            public_key_raw: secret.key.public_raw(),
            discoverable: stored.meta.discoverable,
        };
        let response = MakeCredentialResponse {
            fmt: statement.fmt.to_owned(),
            auth_data,
            att_stmt: statement.att_stmt,
            ep_att: statement.ep_att,
            unsigned_extension_outputs: unsigned,
        };
        Ok((response, created))
    }

    /// `req` without the extension inputs the profile ignores. The decoder already skips them; this covers
    /// typed requests that did not come through it.
    fn without_ignored_mc_extensions(&self, mut req: MakeCredentialRequest) -> MakeCredentialRequest {
        let ignored = self.ignored_extensions();
        if ignored.contains(&"hmac-secret") {
            req.extensions.hmac_secret = false;
        }
        if ignored.contains(&"hmac-secret-mc") {
            req.extensions.hmac_secret_mc = None;
        }
        req
    }

    /// The BE/BS flags the backup policy gives new credentials.
    fn backup_flags(&self) -> BackupFlags {
        match self.config.backup {
            BackupPolicy::DeviceBound => BackupFlags {
                eligible: false,
                state: false,
            },
            BackupPolicy::Synced => BackupFlags {
                eligible: true,
                state: true,
            },
        }
    }
}
