//! SQLite credential store with private keys encrypted at rest.
//!
//! [`SqliteStore`] implements the engine's [`tandem_engine::store::CredentialStore`] and the phone's
//! [`HybridStateStore`]. Secrets (each credential's engine-owned blob, and named hybrid secrets) are sealed
//! with AES-256-GCM under a random 32-byte data key, with associated data binding each blob to its row, so a
//! blob that is altered, truncated or moved to another row fails to decrypt ([`StoreError::Corrupt`]).
//! The data key is stored only wrapped by a [`KeyProtector`]: the Android Keystore or iOS Keychain in the
//! apps, or [`SoftwareKeyProtector`] for tests and desktops.
//!
//! ```
//! use std::sync::Arc;
//! use tandem_engine::store::CredentialStore;
//! use tandem_store::{HybridStateStore, SoftwareKeyProtector, SqliteStore};
//!
//! let protector = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7; 32]));
//! let store = SqliteStore::open_in_memory(protector)?;
//! store.put_secret("identity", b"phone identity key")?;
//! assert_eq!(store.get_secret("identity")?.as_deref().map(Vec::as_slice), Some(&b"phone identity key"[..]));
//! assert!(store.list_all()?.is_empty());
//! # Ok::<(), tandem_engine::store::StoreError>(())
//! ```
//!
//! [`StoreError::Corrupt`]: tandem_engine::store::StoreError::Corrupt

#![warn(missing_docs)]

mod db_error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod hybrid;
mod protector;
mod row;
pub mod schema;
mod seal;
mod sqlite;

pub use hybrid::{HybridStateStore, LINK_ID_LEN, LinkedDesktop};
pub use protector::{KeyProtector, ProtectorError, SOFTWARE_KEY_LEN, SoftwareKeyProtector};
pub use seal::DATA_KEY_LEN;
pub use sqlite::SqliteStore;
