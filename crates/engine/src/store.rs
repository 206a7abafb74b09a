//! The storage contract the engine relies on.
//!
//! The engine never touches SQLite: `tandem-store` implements [`CredentialStore`] (SQLite, private keys
//! encrypted at rest under a platform-released data key). Keeping the trait here keeps the engine pure and lets
//! it build for every target.

use zeroize::Zeroizing;

/// Credential metadata: everything except secret key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialMeta {
    /// The credential ID handed to the relying party.
    pub id: Vec<u8>,
    /// The relying party's identifier.
    pub rp_id: String,
    /// The relying party's display name at registration.
    pub rp_name: Option<String>,
    /// The user handle.
    pub user_id: Vec<u8>,
    /// The account name at registration.
    pub user_name: Option<String>,
    /// The friendly name at registration (or as renamed by the user).
    pub user_display_name: Option<String>,
    /// COSE algorithm identifier of the credential key (-7 ES256, -8 EdDSA).
    pub algorithm: i64,
    /// Whether the credential is discoverable (a resident key / passkey).
    pub discoverable: bool,
    /// credProtect level, 1..=3.
    pub cred_protect: u8,
    /// Backup eligibility (BE flag), fixed at creation.
    pub backup_eligible: bool,
    /// Backup state (BS flag) as last known.
    pub backup_state: bool,
    /// Signature counter as last stored (always 0 for credentials that use none).
    pub sign_count: u32,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// credBlob stored at registration, if any (not secret: returned to the RP on request).
    pub cred_blob: Option<Vec<u8>>,
}

/// A credential with its secret material, decrypted. The secret is an opaque blob whose format the engine
/// owns (key, hmac-secret CredRandom, largeBlobKey); the store only encrypts, binds and zeroizes it.
#[derive(Clone)]
pub struct StoredCredential {
    /// Metadata.
    pub meta: CredentialMeta,
    /// Engine-owned secret blob, zeroized on drop.
    pub secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for StoredCredential {
    /// Never prints the decrypted secret (logs and panic messages must not carry private keys).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("meta", &self.meta)
            .field("secret", &format_args!("<{} bytes redacted>", self.secret.len()))
            .finish()
    }
}

/// A credential row that exists but cannot be read (damaged or tampered): listing and discoverable sign-in
/// skip it, and report it here so the user can delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableCredential {
    /// The row's credential ID as stored (what [`CredentialStore::delete`] takes). Empty when even the ID
    /// column is unreadable; such a row goes only with [`CredentialStore::delete_all`].
    pub id: Vec<u8>,
    /// The row's RP ID, if that column still reads as text (to tell the user which site it was for).
    pub rp_id: Option<String>,
    /// Why the row could not be read.
    pub reason: String,
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The platform keystore refused or failed to release the data key.
    #[error("key protector failed: {0}")]
    KeyProtector(String),
    /// The platform key that wraps the data key is gone for good (on Android: the screen lock was removed or
    /// biometrics re-enrolled, so the Keystore invalidated it). Every secret in the store is lost: unlike
    /// [`StoreError::KeyProtector`], retrying cannot help; the app should say so and offer to start over.
    #[error("the store's key was permanently invalidated: {0}")]
    KeyInvalidated(String),
    /// A stored row could not be decrypted or parsed (tampered, swapped or corrupted). The row is left as is.
    #[error("stored credential is corrupt: {0}")]
    Corrupt(String),
    /// The credential does not exist.
    #[error("no such credential")]
    NotFound,
    /// The underlying database failed (I/O, full disk, locked).
    #[error("database error: {0}")]
    Database(String),
}

/// Keeps the check value that tells the store's real UV key ([`crate::platform::UvKey`]) from any other.
pub trait UvKeyCheckStore: Send + Sync {
    /// The enrolled check value. The first call stores `candidate` (made from the first key a verifier
    /// produced for this store) and returns it; every later call returns what was stored, ignoring
    /// `candidate`. One transaction, so two first calls cannot both enrol.
    fn uv_key_check(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError>;
}

/// Persistent credential storage. Every method is one transaction: it either happens completely or not at all.
pub trait CredentialStore: UvKeyCheckStore {
    /// Stores a new credential. For a discoverable credential, an existing discoverable credential with the
    /// same RP ID and user handle is replaced in the same transaction (CTAP 2.2 §6.1.2 step 17).
    fn insert(&self, credential: &StoredCredential) -> Result<(), StoreError>;
    /// Metadata of every readable credential for `rp_id`, newest first. Rows that cannot be read (metadata
    /// or secret damaged) are skipped, so one bad row does not hide the others; [`CredentialStore::unreadable`]
    /// reports them.
    fn list_for_rp(&self, rp_id: &str) -> Result<Vec<CredentialMeta>, StoreError>;
    /// Metadata of every readable credential, newest first (unreadable rows skipped, as in `list_for_rp`).
    fn list_all(&self) -> Result<Vec<CredentialMeta>, StoreError>;
    /// Every credential row that cannot be read, for the user to see and delete.
    fn unreadable(&self) -> Result<Vec<UnreadableCredential>, StoreError>;
    /// One credential with its decrypted secret, or `None` if absent.
    fn get(&self, id: &[u8]) -> Result<Option<StoredCredential>, StoreError>;
    /// Atomically increments the signature counter and returns the new value.
    fn increment_sign_count(&self, id: &[u8]) -> Result<u32, StoreError>;
    /// Replaces a credential's engine-owned secret (the engine re-sealing an older secret under the UV key).
    /// The row is verified first, so a damaged row is reported ([`StoreError::Corrupt`]), never rewritten;
    /// `NotFound` if it does not exist.
    fn replace_secret(&self, id: &[u8], secret: &[u8]) -> Result<(), StoreError>;
    /// Changes the user display name shown for a credential.
    fn rename(&self, id: &[u8], display_name: &str) -> Result<(), StoreError>;
    /// Deletes one credential. `NotFound` if it did not exist.
    fn delete(&self, id: &[u8]) -> Result<(), StoreError>;
    /// Deletes every credential; returns how many were removed.
    fn delete_all(&self) -> Result<usize, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_print_the_secret() {
        let secret = b"\x13\x37-private-key-bytes".to_vec();
        let c = StoredCredential {
            meta: CredentialMeta {
                id: vec![1],
                rp_id: "example.com".into(),
                rp_name: None,
                user_id: vec![2],
                user_name: None,
                user_display_name: None,
                algorithm: -7,
                discoverable: true,
                cred_protect: 1,
                backup_eligible: false,
                backup_state: false,
                sign_count: 0,
                created_at: 0,
                cred_blob: None,
            },
            secret: Zeroizing::new(secret.clone()),
        };
        let printed = format!("{c:?} {c:#?}");
        assert!(printed.contains("example.com") && printed.contains("redacted"));
        assert!(!printed.contains("private-key-bytes"));
        assert!(!printed.contains(&format!("{:?}", &secret[..4])));
    }
}
