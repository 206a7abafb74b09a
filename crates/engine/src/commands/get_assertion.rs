//! authenticatorGetAssertion (CTAP 2.2 §6.2.2) and authenticatorGetNextAssertion (CTAP 2.2 §6.3), step by
//! step.
//!
//! Deviations worth knowing: nothing matching means CTAP2_ERR_NO_CREDENTIALS without a prompt (no point
//! asking for a biometric that cannot lead anywhere), and several discoverable credentials with user presence
//! go to the [`crate::platform::AccountChooser`] (an authenticator with a display) instead of a
//! getNextAssertion sequence.

use std::time::Duration;

use tandem_cbor::Value;

use crate::authdata::{self, BackupFlags};
use crate::authenticator::{Authenticator, PendingAssertions, lock, rp_id_hash};
use crate::cancel::Cancellation;
use crate::commands::client_pin::PERMISSION_GA;
use crate::commands::{account_of, silent_presence, still_wanted};
use crate::config::GetInfoProfile;
use crate::ctap::{GetAssertionRequest, GetAssertionResponse, ResponseUser};
use crate::extensions::{self, VerifiedSalts, cred_protect_allows};
use crate::keys::CredentialSecret;
use crate::platform::{AccountInfo, Operation, VerificationPrompt};
use crate::status::EngineError;
use crate::store::{CredentialMeta, StoreError, StoredCredential};
use crate::uv::{OperationBinding, Presence};
use crate::uvkey;

/// How long getNextAssertion state lives (CTAP 2.1 §6.3: 30 seconds).
const NEXT_ASSERTION_TTL: Duration = Duration::from_secs(30);

impl Authenticator {
    /// authenticatorGetAssertion on a typed request.
    pub fn get_assertion(&self, req: GetAssertionRequest) -> Result<GetAssertionResponse, EngineError> {
        self.get_assertion_cancellable(req, &Cancellation::new())
    }

    /// getAssertion whose caller may stop waiting: after `cancel` is raised nothing is signed (and no
    /// signature counter moves).
    pub fn get_assertion_cancellable(
        &self,
        req: GetAssertionRequest,
        cancel: &Cancellation,
    ) -> Result<GetAssertionResponse, EngineError> {
        let req = self.without_ignored_ga_extensions(req);

        // Steps 1–2: the zero-length pinUvAuthParam probe, then the pinUvAuthProtocol check.
        self.check_pin_uv_protocol(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            Operation::SignIn,
            &req.rp_id,
        )?;

        // Steps 3–4: options. rk is not an option of getAssertion; up defaults to true.
        if req.options.rk_present {
            return Err(EngineError::UnsupportedOption(
                "rk is not an option of getAssertion",
            ));
        }
        let silent = !req.options.up;
        if silent && self.config.profile == GetInfoProfile::Hybrid {
            // Over hybrid every signature needs the user (Chromium never sends up=false there): a silent
            // request would hand a desktop a signature over a hash it chose, credential IDs, user handles,
            // numberOfCredentials and extension outputs without anyone being asked.
            return Err(EngineError::UnsupportedOption("up=false over hybrid"));
        }
        if silent && req.options.uv {
            // The engine's only UV is the platform prompt, which is also user presence.
            return Err(EngineError::InvalidOption("uv without up"));
        }

        // Step 6: a pinUvAuthParam must verify under the current token, with the ga permission and this RP.
        let token = self.check_pin_uv_auth(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            PERMISSION_GA,
            &req.rp_id,
            &req.client_data_hash,
        )?;
        let token_used = token.is_some();

        // Step 7: locate the eligible credentials. Under credProtect every prompted assertion is
        // user-verified; a silent pre-flight is user-verified when it carries a valid pinUvAuthToken (issued
        // only after the verifier passed; CTAP 2.2 §6.2.2 "uv bit"), as python-fido2's pre-flight does. Such a
        // pre-flight answers UP=0, UV=1.
        let will_verify = !silent || token_used;
        let allow_list_given = !req.allow_list.is_empty();
        // With an allow list, look each ID up directly (one indexed read that also yields the secret) instead
        // of listing the RP; without one, list the RP's discoverable credentials.
        let mut candidates: Vec<(CredentialMeta, Option<StoredCredential>)> = Vec::new();
        if allow_list_given {
            for d in &req.allow_list {
                if candidates.iter().any(|(m, _)| m.id == d.id) {
                    continue;
                }
                let found = match self.store.get(&d.id) {
                    // A damaged row is passed over like an unknown ID, so the list's other credentials still
                    // sign (the store reports it through `unreadable`).
                    Err(StoreError::Corrupt(_)) => None,
                    other => other?,
                };
                if let Some(c) = found
                    && c.meta.rp_id == req.rp_id
                {
                    candidates.push((c.meta.clone(), Some(c)));
                }
            }
        } else {
            candidates = self
                .store
                .list_for_rp(&req.rp_id)?
                .into_iter()
                .filter(|m| m.discoverable)
                .map(|m| (m, None))
                .collect();
        }
        candidates.retain(|(m, _)| cred_protect_allows(m.cred_protect, will_verify, allow_list_given));
        if candidates.is_empty() {
            return Err(EngineError::NoCredentials);
        }

        // Step 10 (inputs only, moved ahead of the prompt): validate extension inputs.
        let hmac = match &req.extensions.hmac_secret {
            Some(input) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            None => None,
        };

        // Step 12, silent: no prompt possible, so the first credential now with numberOfCredentials, the
        // rest through getNextAssertion.
        if silent {
            let (first, loaded) = candidates.remove(0);
            let total = candidates.len() + 1;
            let presence = silent_presence(token.clone());
            let mut response = self.assert_one(&req, &first, loaded, presence, hmac.as_ref())?;
            if !allow_list_given && total > 1 {
                response.number_of_credentials = u32::try_from(total).ok();
                *lock(&self.pending) = Some(PendingAssertions {
                    request: req,
                    remaining: candidates.into_iter().map(|(m, _)| m).collect(),
                    deadline: self.env.clock().now() + NEXT_ASSERTION_TTL,
                    token,
                });
            }
            return Ok(response);
        }

        // Steps 11–12 with presence: an allow list yields its first eligible credential; several discoverable
        // ones go to the account chooser (an authenticator with a display).
        let (chosen, loaded) = if !allow_list_given && candidates.len() > 1 {
            let accounts: Vec<AccountInfo> = candidates.iter().map(|(m, _)| account_of(m)).collect();
            let index = self
                .chooser
                .choose_cancellable(&req.rp_id, &accounts, cancel)
                .ok_or(EngineError::OperationDenied)?;
            if index >= candidates.len() {
                return Err(EngineError::OperationDenied);
            }
            candidates.swap_remove(index)
        } else {
            candidates.remove(0)
        };

        // Steps 8–9: user presence and verification through the gate, for the chosen account.
        let rp_hash = rp_id_hash(&req.rp_id);
        let binding = OperationBinding::new(Operation::SignIn, &rp_hash, &req.client_data_hash);
        let prompt = VerificationPrompt {
            operation: Operation::SignIn,
            rp_id: req.rp_id.clone(),
            rp_name: chosen.rp_name.clone(),
            account: Some(account_of(&chosen)),
        };
        let approval = self.gate(cancel).verify(&prompt, binding.clone())?;
        still_wanted(cancel)?;
        let presence = approval.redeem(&binding, self.env.clock().now())?;

        // Step 13: sign and answer.
        let mut response = self.assert_one(&req, &chosen, loaded, presence, hmac.as_ref())?;
        if !allow_list_given {
            response.user_selected = Some(true);
        }
        // The token collected user presence once: spend it.
        if token_used {
            self.spend_token();
        }
        Ok(response)
    }

    /// authenticatorGetNextAssertion: the next credential of a silent multi-credential getAssertion.
    pub fn get_next_assertion(&self) -> Result<GetAssertionResponse, EngineError> {
        let mut guard = lock(&self.pending);
        // Step 1: no remembered getAssertion, CTAP2_ERR_NOT_ALLOWED.
        let pending = guard.as_mut().ok_or(EngineError::NotAllowed)?;
        // Steps 2–3: every credential served, or the 30-second window passed: the state is dropped.
        if self.env.clock().now() >= pending.deadline || pending.remaining.is_empty() {
            *guard = None;
            return Err(EngineError::NotAllowed);
        }
        // Steps 4–6: the next credential, with the presence of the request that started the sequence.
        let meta = pending.remaining.remove(0);
        let request = pending.request.clone();
        let presence = silent_presence(pending.token.clone());
        drop(guard);
        let hmac = match &request.extensions.hmac_secret {
            Some(input) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            None => None,
        };
        self.assert_one(&request, &meta, None, presence, hmac.as_ref())
    }

    /// getAssertion step 13 for one credential: extension outputs, authenticator data and signature.
    fn assert_one(
        &self,
        req: &GetAssertionRequest,
        meta: &CredentialMeta,
        loaded: Option<StoredCredential>,
        presence: Presence,
        hmac: Option<&VerifiedSalts>,
    ) -> Result<GetAssertionResponse, EngineError> {
        let stored = match loaded {
            Some(s) => s,
            None => self.store.get(&meta.id)?.ok_or(EngineError::NoCredentials)?,
        };
        let blob = uvkey::open_secret(
            presence.uv_key(),
            &stored.meta.id,
            &stored.meta.rp_id,
            &stored.secret,
        )?;
        let secret = CredentialSecret::from_blob(&blob)?;
        if self.config.secrets_under_uv_key
            && !uvkey::is_uv_sealed(&stored.secret)
            && let Some(key) = presence.uv_key()
        {
            // A secret stored before the UV layer: seal it now, so from here on only a verification opens it.
            let sealed =
                uvkey::seal_secret(key, &stored.meta.id, &stored.meta.rp_id, &blob, self.env.random())?;
            self.store.replace_secret(&stored.meta.id, &sealed)?;
        }
        let verified = presence.user_verified();
        let cred_random = if verified {
            &secret.cred_random_uv
        } else {
            &secret.cred_random_no_uv
        };

        let mut signed_ext = Value::map();
        if let Some(salts) = hmac.filter(|_| secret.hmac_secret) {
            signed_ext = signed_ext.insert("hmac-secret", salts.outputs(cred_random)?);
        }
        if req.extensions.cred_blob {
            signed_ext = signed_ext.insert("credBlob", stored.meta.cred_blob.clone().unwrap_or_default());
        }
        // PRF is offered for every credential (as platform passkey providers do); raw CTAP hmac-secret only
        // for credentials created with it.
        let unsigned = match &req.extensions.prf {
            Some(prf) => {
                let salts = prf
                    .eval_by_credential
                    .iter()
                    .find(|(id, _)| *id == meta.id)
                    .map(|(_, s)| s)
                    .or(prf.eval.as_ref());
                salts.map(|s| {
                    Value::map()
                        .insert(
                            "prf",
                            Value::map()
                                .insert("results", extensions::prf_results(cred_random, s))
                                .build(),
                        )
                        .build()
                })
            }
            None => None,
        };

        // Backup-eligible credentials use no counter (always 0); device-bound ones count atomically.
        let sign_count = if stored.meta.backup_eligible {
            0
        } else {
            self.store.increment_sign_count(&meta.id)?
        };
        let backup = BackupFlags {
            eligible: stored.meta.backup_eligible,
            state: stored.meta.backup_state,
        };
        let rp_hash = rp_id_hash(&req.rp_id);
        let auth_data = authdata::encode(
            &rp_hash,
            presence,
            backup,
            sign_count,
            None,
            Some(&signed_ext.build()),
        );
        let mut message = auth_data.clone();
        message.extend_from_slice(&req.client_data_hash);
        let signature = secret.key.sign(&message);

        let user = stored.meta.discoverable.then(|| ResponseUser {
            id: stored.meta.user_id.clone(),
            // Identifying fields only after user verification (CTAP 2.1 §6.2.2).
            name: if verified {
                Some(stored.meta.user_name.clone().unwrap_or_default())
            } else {
                None
            },
            display_name: if verified {
                Some(stored.meta.user_display_name.clone().unwrap_or_default())
            } else {
                None
            },
        });
        Ok(GetAssertionResponse {
            credential_id: meta.id.clone(),
            credential_transports: (self.config.profile == GetInfoProfile::Hybrid)
                .then(|| vec!["internal".to_owned(), "cable".to_owned()]),
            auth_data,
            signature,
            user,
            number_of_credentials: None,
            user_selected: None,
            unsigned_extension_outputs: unsigned,
        })
    }

    /// `req` without the extension inputs the profile ignores (the decoder already skips them; this covers
    /// typed requests that did not come through it).
    fn without_ignored_ga_extensions(&self, mut req: GetAssertionRequest) -> GetAssertionRequest {
        if self.ignored_extensions().contains(&"hmac-secret") {
            req.extensions.hmac_secret = None;
        }
        req
    }
}
