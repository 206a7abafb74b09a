//! [`CredentialStore`]: the SQLite credential store as an FFI object (credential list, delete, rename, linked
//! desktops).
//!
//! Every call does disk I/O (one SQLite transaction) and opening may wait on the key protector, so each is
//! async (`suspend` in Kotlin, `async` in Swift) and runs on the library's blocking pool: no call ever
//! blocks the caller's thread. Cancelling the caller's coroutine or task stops waiting; a transaction
//! already running still completes or rolls back as a whole.

use std::sync::Arc;

pub use tandem_engine::store::UnreadableCredential;
use tandem_engine::store::{CredentialMeta, CredentialStore as _};
use tandem_store::{HybridStateStore as _, LINK_ID_LEN, LinkedDesktop as CoreLink, SqliteStore};

use crate::TandemError;
use crate::callbacks::{KeyProtector, ProtectorAdapter};
use crate::runtime::spawn_blocking;

/// A passkey as the credentials list shows it (no secret material).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Credential {
    /// The credential ID handed to the relying party.
    pub id: Vec<u8>,
    /// The relying party's identifier (a domain).
    pub rp_id: String,
    /// The relying party's display name at registration.
    pub rp_name: Option<String>,
    /// The user handle.
    pub user_id: Vec<u8>,
    /// The account name at registration.
    pub user_name: Option<String>,
    /// The friendly name (as registered or renamed).
    pub user_display_name: Option<String>,
    /// COSE algorithm (-7 ES256, -8 EdDSA).
    pub algorithm: i64,
    /// Whether the credential is discoverable (a passkey).
    pub discoverable: bool,
    /// Backup eligibility (BE flag).
    pub backup_eligible: bool,
    /// Signature counter as last stored.
    pub sign_count: u32,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
}

impl From<CredentialMeta> for Credential {
    fn from(m: CredentialMeta) -> Self {
        Credential {
            id: m.id,
            rp_id: m.rp_id,
            rp_name: m.rp_name,
            user_id: m.user_id,
            user_name: m.user_name,
            user_display_name: m.user_display_name,
            algorithm: m.algorithm,
            discoverable: m.discoverable,
            backup_eligible: m.backup_eligible,
            sign_count: m.sign_count,
            created_at: m.created_at,
        }
    }
}

/// A stored passkey that cannot be read (damaged or tampered): `tandem_engine::store::UnreadableCredential`,
/// derived. `list` skips it and sign-in passes it over; the app shows it so the user can delete it.
#[uniffi::remote(Record)]
pub struct UnreadableCredential {
    /// The credential ID to pass to `delete` (empty when even the ID is damaged: only `delete_all` removes
    /// such a row).
    pub id: Vec<u8>,
    /// The site it was for, if that can still be read.
    pub rp_id: Option<String>,
    /// Why it cannot be read.
    pub reason: String,
}

/// A desktop this phone is linked with (hybrid "remember this device").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkedDesktop {
    /// Link ID shared with the desktop (8 bytes).
    pub link_id: Vec<u8>,
    /// The name the desktop gave itself.
    pub desktop_name: String,
    /// When the link was made, seconds since the Unix epoch.
    pub created_at: u64,
    /// Tunnel server domain the link uses.
    pub tunnel_domain: String,
}

impl From<CoreLink> for LinkedDesktop {
    fn from(l: CoreLink) -> Self {
        LinkedDesktop {
            link_id: l.link_id.to_vec(),
            desktop_name: l.desktop_name,
            created_at: l.created_at,
            tunnel_domain: l.tunnel_domain,
        }
    }
}

/// The credential store: one SQLite file, secrets sealed under a data key that only the app's
/// [`KeyProtector`] can release.
#[derive(uniffi::Object)]
pub struct CredentialStore {
    inner: Arc<SqliteStore>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore").finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// The store as the engine and the session driver use it.
    pub(crate) fn sqlite(&self) -> Arc<SqliteStore> {
        Arc::clone(&self.inner)
    }
}

fn require_non_empty(what: &str, bytes: &[u8]) -> Result<(), TandemError> {
    if bytes.is_empty() {
        return Err(TandemError::InvalidInput {
            reason: format!("{what} is empty"),
        });
    }
    Ok(())
}

#[uniffi::export]
impl CredentialStore {
    /// Opens (creating if needed) the store at `path`. A new store gets a fresh data key wrapped by
    /// `protector`; an existing one asks `protector` to unwrap its key, and fails with `KeyProtector` if it
    /// cannot.
    #[uniffi::constructor]
    pub async fn open(path: String, protector: Arc<dyn KeyProtector>) -> Result<Arc<Self>, TandemError> {
        spawn_blocking(move || {
            if path.is_empty() {
                return Err(TandemError::InvalidInput {
                    reason: "store path is empty".into(),
                });
            }
            let inner = SqliteStore::open(&path, Arc::new(ProtectorAdapter(protector)))?;
            Ok(Arc::new(CredentialStore {
                inner: Arc::new(inner),
            }))
        })
        .await
    }

    /// Opens a store that lives in memory only (tests, throw-away sessions).
    #[uniffi::constructor]
    pub async fn open_in_memory(protector: Arc<dyn KeyProtector>) -> Result<Arc<Self>, TandemError> {
        spawn_blocking(move || {
            let inner = SqliteStore::open_in_memory(Arc::new(ProtectorAdapter(protector)))?;
            Ok(Arc::new(CredentialStore {
                inner: Arc::new(inner),
            }))
        })
        .await
    }

    /// Every readable credential, newest first. Damaged rows are skipped (see `unreadable`).
    pub async fn list(&self) -> Result<Vec<Credential>, TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || Ok(inner.list_all()?.into_iter().map(Credential::from).collect())).await
    }

    /// Every stored credential that cannot be read, for the user to see and delete.
    pub async fn unreadable(&self) -> Result<Vec<UnreadableCredential>, TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || Ok(inner.unreadable()?)).await
    }

    /// The readable credentials of one relying party, newest first.
    pub async fn list_for_rp(&self, rp_id: String) -> Result<Vec<Credential>, TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || {
            if rp_id.is_empty() {
                return Err(TandemError::InvalidInput {
                    reason: "rp_id is empty".into(),
                });
            }
            Ok(inner
                .list_for_rp(&rp_id)?
                .into_iter()
                .map(Credential::from)
                .collect())
        })
        .await
    }

    /// Deletes one credential; `NotFound` if there is none with this ID.
    pub async fn delete(&self, credential_id: Vec<u8>) -> Result<(), TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || {
            require_non_empty("credential_id", &credential_id)?;
            Ok(inner.delete(&credential_id)?)
        })
        .await
    }

    /// Deletes every credential; returns how many were removed.
    pub async fn delete_all(&self) -> Result<u64, TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || {
            let n = inner.delete_all()?;
            u64::try_from(n).map_err(|_| TandemError::Internal {
                reason: "count overflow".into(),
            })
        })
        .await
    }

    /// Changes the display name shown for a credential; `NotFound` if absent.
    pub async fn rename(&self, credential_id: Vec<u8>, display_name: String) -> Result<(), TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || {
            require_non_empty("credential_id", &credential_id)?;
            Ok(inner.rename(&credential_id, &display_name)?)
        })
        .await
    }

    /// Every linked desktop, newest first.
    pub async fn linked_desktops(&self) -> Result<Vec<LinkedDesktop>, TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || Ok(inner.list_links()?.into_iter().map(LinkedDesktop::from).collect())).await
    }

    /// Forgets a linked desktop; `NotFound` if absent.
    pub async fn unlink_desktop(&self, link_id: Vec<u8>) -> Result<(), TandemError> {
        let inner = Arc::clone(&self.inner);
        spawn_blocking(move || {
            let id =
                <[u8; LINK_ID_LEN]>::try_from(link_id.as_slice()).map_err(|_| TandemError::InvalidInput {
                    reason: format!("link_id must be {LINK_ID_LEN} bytes, got {}", link_id.len()),
                })?;
            Ok(inner.delete_link(&id)?)
        })
        .await
    }
}

/// Deletes the store file at `path` and SQLite's companions (`-wal`, `-shm`, `-journal`): the app's "start
/// over" after `TandemError::KeyInvalidated`, when nothing in the store can be opened any more. Close every
/// `CredentialStore` on this path first. Files that do not exist are not an error. The platform key (the
/// Keystore alias, the Secure Enclave key) is the app's to delete: the SDKs' `resetAfterKeyLoss` does both.
#[uniffi::export]
pub async fn delete_store_files(path: String) -> Result<(), TandemError> {
    spawn_blocking(move || {
        if path.is_empty() {
            return Err(TandemError::InvalidInput {
                reason: "store path is empty".into(),
            });
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = format!("{path}{suffix}");
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(TandemError::Database {
                        reason: format!("cannot delete {file}: {e}"),
                    });
                }
            }
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::KeyProtectorError;
    use crate::runtime::block_on;
    use crate::testing::PlainProtector;

    struct Invalidated;
    impl KeyProtector for Invalidated {
        fn wrap(&self, _: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
            Err(KeyProtectorError::KeyInvalidated {
                reason: "gone".into(),
            })
        }
        fn unwrap(&self, _: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
            Err(KeyProtectorError::KeyInvalidated {
                reason: "gone".into(),
            })
        }
    }

    /// Key loss reaches the app as its own kind; starting over deletes the files and a new store opens.
    #[test]
    fn key_loss_is_typed_and_start_over_deletes_the_store() {
        let path = std::env::temp_dir()
            .join(format!("tandem-ffi-key-loss-{}.db", std::process::id()))
            .to_string_lossy()
            .into_owned();
        block_on(delete_store_files(path.clone())).unwrap();
        drop(block_on(CredentialStore::open(path.clone(), Arc::new(PlainProtector))).unwrap());
        assert!(std::path::Path::new(&path).exists());
        let e = block_on(CredentialStore::open(path.clone(), Arc::new(Invalidated))).unwrap_err();
        assert_eq!(
            e,
            TandemError::KeyInvalidated {
                reason: "gone".into()
            }
        );
        block_on(delete_store_files(path.clone())).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            assert!(
                !std::path::Path::new(&format!("{path}{suffix}")).exists(),
                "{suffix}"
            );
        }
        // Deleting again is fine; a new store then opens empty.
        block_on(delete_store_files(path.clone())).unwrap();
        let store = block_on(CredentialStore::open(path.clone(), Arc::new(PlainProtector))).unwrap();
        assert!(block_on(store.list()).unwrap().is_empty());
        assert!(block_on(store.unreadable()).unwrap().is_empty());
        drop(store);
        block_on(delete_store_files(path)).unwrap();
    }
}
