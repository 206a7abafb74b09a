//! Which passkeys the iOS extension publishes to the system's credential identity store
//! (`ASCredentialIdentityStore`), so that they appear in the QuickType bar and the passkey sheet.
//!
//! The app replaces the whole published set with [`passkey_identities`] of the store's credentials on launch and
//! after every change (`replaceCredentialIdentities`): identities of deleted passkeys disappear that way, and a
//! failed or lost save is repaired at the next sync. The decision lives here, where it is tested, because no
//! Swift compiler runs in CI.

use std::collections::HashSet;

use crate::TandemError;
use crate::store::{Credential, CredentialStore};

/// One passkey as the system's credential identity store holds it (`ASPasskeyCredentialIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasskeyIdentity {
    /// The relying party's identifier (`relyingPartyIdentifier`).
    pub rp_id: String,
    /// The account name the system shows (`userName`).
    pub user_name: String,
    /// The credential ID (`credentialID`).
    pub credential_id: Vec<u8>,
    /// The user handle (`userHandle`).
    pub user_handle: Vec<u8>,
    /// A stable identifier of the record (`recordIdentifier`): the credential ID in lowercase hex.
    pub record_identifier: String,
}

/// The name shown for an account: the account name, else the friendly name, else the relying party, so that
/// the system never lists an entry with no text.
pub(crate) fn account_label(c: &Credential) -> String {
    [c.user_name.as_deref(), c.user_display_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(&c.rp_id)
        .to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identities to publish for `credentials` (the store's readable credentials): one per passkey, sorted by
/// RP ID, then account name, then credential ID, so that the same store always gives the same list.
///
/// Left out: credentials that are not discoverable (only passkeys are offered without an allow list), and rows
/// the system could not use: an empty credential ID, RP ID or user handle (WebAuthn requires all three), and a
/// second row with an ID already listed.
#[uniffi::export]
pub fn passkey_identities(credentials: Vec<Credential>) -> Vec<PasskeyIdentity> {
    let mut seen = HashSet::new();
    let mut out: Vec<PasskeyIdentity> = credentials
        .into_iter()
        .filter(|c| c.discoverable && !c.id.is_empty() && !c.rp_id.is_empty() && !c.user_id.is_empty())
        .filter(|c| seen.insert(c.id.clone()))
        .map(|c| PasskeyIdentity {
            user_name: account_label(&c),
            record_identifier: hex(&c.id),
            rp_id: c.rp_id,
            credential_id: c.id,
            user_handle: c.user_id,
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.rp_id, &a.user_name, &a.credential_id).cmp(&(&b.rp_id, &b.user_name, &b.credential_id))
    });
    out
}

#[uniffi::export]
impl CredentialStore {
    /// [`passkey_identities`] of this store: what the system's credential identity store should hold. Damaged
    /// rows are not listed (they cannot sign in); the app shows them from `unreadable`.
    pub async fn passkey_identities(&self) -> Result<Vec<PasskeyIdentity>, TandemError> {
        Ok(passkey_identities(self.list().await?))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A discoverable credential for tests.
    pub(crate) fn credential(id: &[u8], rp_id: &str, user_name: Option<&str>, created_at: u64) -> Credential {
        Credential {
            id: id.to_vec(),
            rp_id: rp_id.into(),
            rp_name: None,
            user_id: vec![0x75, id.first().copied().unwrap_or(0)],
            user_name: user_name.map(Into::into),
            user_display_name: None,
            algorithm: -7,
            discoverable: true,
            backup_eligible: false,
            sign_count: 0,
            created_at,
        }
    }

    #[test]
    fn identities_carry_every_field_the_system_needs() {
        let got = passkey_identities(vec![credential(&[0xab, 0x01], "example.com", Some("alice"), 1)]);
        assert_eq!(
            got,
            vec![PasskeyIdentity {
                rp_id: "example.com".into(),
                user_name: "alice".into(),
                credential_id: vec![0xab, 0x01],
                user_handle: vec![0x75, 0xab],
                record_identifier: "ab01".into(),
            }]
        );
    }

    #[test]
    fn order_is_the_same_whatever_the_store_order() {
        let a = credential(&[3], "b.example", Some("zed"), 5);
        let b = credential(&[2], "a.example", Some("mallory"), 9);
        let c = credential(&[1], "a.example", Some("bob"), 1);
        let d = credential(&[0], "a.example", Some("bob"), 2);
        let forward = passkey_identities(vec![a.clone(), b.clone(), c.clone(), d.clone()]);
        let backward = passkey_identities(vec![d, c, b, a]);
        assert_eq!(forward, backward);
        let order: Vec<_> = forward.iter().map(|i| i.credential_id[0]).collect();
        assert_eq!(order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn unusable_rows_and_duplicates_are_left_out() {
        let mut not_passkey = credential(&[1], "example.com", Some("a"), 1);
        not_passkey.discoverable = false;
        let empty_id = credential(&[], "example.com", Some("b"), 1);
        let empty_rp = credential(&[2], "", Some("c"), 1);
        let mut empty_handle = credential(&[3], "example.com", Some("d"), 1);
        empty_handle.user_id.clear();
        let kept = credential(&[4], "example.com", Some("e"), 1);
        let mut twin = credential(&[4], "example.com", Some("f"), 2);
        twin.user_name = Some("other".into());
        let got = passkey_identities(vec![not_passkey, empty_id, empty_rp, empty_handle, kept, twin]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].user_name, "e");
    }

    /// Through a real store and engine: a registered passkey is published with the handle and name it was
    /// registered with, and a deleted one is no longer in the set a re-sync replaces the system's with.
    #[test]
    fn a_store_publishes_its_passkeys_and_drops_deleted_ones() {
        use std::sync::Arc;

        use crate::authenticator::{Authenticator, AuthenticatorOptions, BackupPolicy};
        use crate::callbacks::{AccountChooser, UnlockedUvKey, UserVerifier, VerificationError};
        use crate::caller::CallerContext;
        use crate::types::{AccountInfo, VerificationPrompt};

        struct Approve;
        #[async_trait::async_trait]
        impl UserVerifier for Approve {
            async fn verify(
                &self,
                _prompt: VerificationPrompt,
                wrapped_key: Option<Vec<u8>>,
            ) -> Result<UnlockedUvKey, VerificationError> {
                let key = vec![0x75; 32];
                Ok(UnlockedUvKey {
                    wrapped_key: wrapped_key.unwrap_or_else(|| key.clone()),
                    key,
                })
            }
        }
        struct First;
        #[async_trait::async_trait]
        impl AccountChooser for First {
            async fn choose(&self, _rp_id: String, _accounts: Vec<AccountInfo>) -> Option<u32> {
                Some(0)
            }
        }

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime
            .block_on(CredentialStore::open_in_memory(Arc::new(
                crate::testing::PlainProtector,
            )))
            .unwrap();
        let engine = Authenticator::new(
            Arc::clone(&store),
            Arc::new(Approve),
            Arc::new(First),
            AuthenticatorOptions {
                aaguid: vec![],
                backup: BackupPolicy::DeviceBound,
            },
        )
        .unwrap();
        let mut made = Vec::new();
        for (handle, name) in [("AQID", "alice"), ("BAUG", "bob")] {
            let options = format!(
                r#"{{"rp":{{"id":"example.com","name":"Example"}},"user":{{"id":"{handle}","name":"{name}","displayName":"{name}"}},"challenge":"AAAA","pubKeyCredParams":[{{"type":"public-key","alg":-7}}],"authenticatorSelection":{{"residentKey":"required","userVerification":"required"}}}}"#
            );
            let caller = CallerContext::OsVerified {
                client_data_hash: vec![7; 32],
            };
            made.push(
                runtime
                    .block_on(engine.register(options, caller))
                    .unwrap()
                    .credential_id,
            );
        }

        let published = runtime.block_on(store.passkey_identities()).unwrap();
        let names: Vec<_> = published.iter().map(|i| i.user_name.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(published[0].credential_id, made[0]);
        assert_eq!(published[0].user_handle, vec![1, 2, 3]);
        assert_eq!(published[1].user_handle, vec![4, 5, 6]);
        assert!(published.iter().all(|i| i.rp_id == "example.com"));

        runtime.block_on(store.delete(made[0].clone())).unwrap();
        let after: Vec<_> = runtime
            .block_on(store.passkey_identities())
            .unwrap()
            .into_iter()
            .map(|i| i.credential_id)
            .collect();
        assert_eq!(after, vec![made[1].clone()]);
    }

    #[test]
    fn the_label_falls_back_to_the_display_name_then_the_rp() {
        let mut c = credential(&[1], "example.com", Some("  "), 1);
        c.user_display_name = Some("Alice A.".into());
        assert_eq!(account_label(&c), "Alice A.");
        c.user_display_name = None;
        c.user_name = None;
        assert_eq!(account_label(&c), "example.com");
    }
}
