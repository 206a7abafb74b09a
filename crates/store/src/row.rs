//! Decoding database rows into typed values. Every column is checked for its SQLite type and range, so a
//! row written by anything other than this crate becomes [`StoreError::Corrupt`], never a panic or a
//! silently coerced value.

use rusqlite::Row;
use rusqlite::types::ValueRef;
use tandem_engine::store::{CredentialMeta, StoreError, StoredCredential, UnreadableCredential};

use crate::db_error::db_error;
use crate::seal::{Purpose, SealKey};

/// The metadata column list as a literal, so the column list below is spelled once.
macro_rules! meta_columns {
    () => {
        "id, rp_id, rp_name, user_id, user_name, user_display_name, algorithm, discoverable, cred_protect, \
         backup_eligible, backup_state, sign_count, created_at, cred_blob"
    };
}
/// Every column of a credential row, in the order [`decode_credential`] reads them (and `insert` writes).
pub(crate) const CREDENTIAL_COLUMNS: &str = concat!(meta_columns!(), ", secret");
/// Index of the column after the metadata columns (where `secret` goes when selected).
const SECRET_INDEX: usize = 14;
/// Selected after [`CREDENTIAL_COLUMNS`] when scanning: the ID as bytes whatever its storage class, so an
/// unreadable row can be reported by the ID that `delete` matches.
pub(crate) const UNREADABLE_ID_COLUMN: &str = "CAST(id AS BLOB)";
const UNREADABLE_ID_INDEX: usize = SECRET_INDEX + 1;

fn corrupt(column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {what}"))
}

fn value<'r>(row: &'r Row<'_>, idx: usize) -> Result<ValueRef<'r>, StoreError> {
    row.get_ref(idx).map_err(db_error)
}

pub(crate) fn blob(row: &Row<'_>, idx: usize, column: &str) -> Result<Vec<u8>, StoreError> {
    match value(row, idx)? {
        ValueRef::Blob(b) => Ok(b.to_vec()),
        _ => Err(corrupt(column, "expected a blob")),
    }
}

fn opt_blob(row: &Row<'_>, idx: usize, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
    match value(row, idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => Ok(Some(b.to_vec())),
        _ => Err(corrupt(column, "expected a blob or null")),
    }
}

pub(crate) fn text(row: &Row<'_>, idx: usize, column: &str) -> Result<String, StoreError> {
    match value(row, idx)? {
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map_err(|_| corrupt(column, "text is not valid UTF-8"))
        }
        _ => Err(corrupt(column, "expected text")),
    }
}

fn opt_text(row: &Row<'_>, idx: usize, column: &str) -> Result<Option<String>, StoreError> {
    match value(row, idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(_) => text(row, idx, column).map(Some),
        _ => Err(corrupt(column, "expected text or null")),
    }
}

pub(crate) fn integer(row: &Row<'_>, idx: usize, column: &str) -> Result<i64, StoreError> {
    match value(row, idx)? {
        ValueRef::Integer(i) => Ok(i),
        _ => Err(corrupt(column, "expected an integer")),
    }
}

fn ranged<T: TryFrom<i64>>(row: &Row<'_>, idx: usize, column: &str) -> Result<T, StoreError> {
    let i = integer(row, idx, column)?;
    T::try_from(i).map_err(|_| corrupt(column, &format!("{i} is out of range")))
}

fn boolean(row: &Row<'_>, idx: usize, column: &str) -> Result<bool, StoreError> {
    match integer(row, idx, column)? {
        0 => Ok(false),
        1 => Ok(true),
        i => Err(corrupt(column, &format!("{i} is not a boolean"))),
    }
}

/// Decodes the metadata columns (the first 14 of [`CREDENTIAL_COLUMNS`]) of a credential row.
pub(crate) fn decode_meta(row: &Row<'_>) -> Result<CredentialMeta, StoreError> {
    Ok(CredentialMeta {
        id: blob(row, 0, "id")?,
        rp_id: text(row, 1, "rp_id")?,
        rp_name: opt_text(row, 2, "rp_name")?,
        user_id: blob(row, 3, "user_id")?,
        user_name: opt_text(row, 4, "user_name")?,
        user_display_name: opt_text(row, 5, "user_display_name")?,
        algorithm: integer(row, 6, "algorithm")?,
        discoverable: boolean(row, 7, "discoverable")?,
        cred_protect: ranged(row, 8, "cred_protect")?,
        backup_eligible: boolean(row, 9, "backup_eligible")?,
        backup_state: boolean(row, 10, "backup_state")?,
        sign_count: ranged(row, 11, "sign_count")?,
        created_at: ranged(row, 12, "created_at")?,
        cred_blob: opt_blob(row, 13, "cred_blob")?,
    })
}

/// Decodes a whole credential row ([`CREDENTIAL_COLUMNS`]) and opens its secret, which must authenticate
/// under `key` for this row's binding. The only way a credential with its secret leaves the database.
pub(crate) fn decode_credential(row: &Row<'_>, key: &SealKey) -> Result<StoredCredential, StoreError> {
    let meta = decode_meta(row)?;
    let sealed = blob(row, SECRET_INDEX, "secret")?;
    let binding = CredentialBinding::new(&meta);
    let secret = key.open(CredentialBinding::PURPOSE, &binding.parts(&meta), &sealed)?;
    Ok(StoredCredential { meta, secret })
}

/// Reports a row of [`CREDENTIAL_COLUMNS`] + [`UNREADABLE_ID_COLUMN`] that failed to decode with `reason`,
/// keeping whatever can still be read of its identity.
pub(crate) fn unreadable(row: &Row<'_>, reason: String) -> UnreadableCredential {
    UnreadableCredential {
        id: opt_blob(row, UNREADABLE_ID_INDEX, "id")
            .ok()
            .flatten()
            .unwrap_or_default(),
        rp_id: text(row, 1, "rp_id").ok(),
        reason,
    }
}

/// The associated data parts that bind a credential's secret to its row: every field fixed at creation
/// that matters to security (the ID and RP ID, plus user handle, algorithm, discoverability, credProtect
/// and backup eligibility, so none of them can be altered in the database without the row failing to
/// decrypt).
pub(crate) struct CredentialBinding {
    algorithm: [u8; 8],
    flags: [u8; 3],
}

impl CredentialBinding {
    pub(crate) const PURPOSE: Purpose = Purpose::CredentialSecret;

    pub(crate) fn new(meta: &CredentialMeta) -> Self {
        CredentialBinding {
            algorithm: meta.algorithm.to_be_bytes(),
            flags: [
                u8::from(meta.discoverable),
                meta.cred_protect,
                u8::from(meta.backup_eligible),
            ],
        }
    }

    pub(crate) fn parts<'a>(&'a self, meta: &'a CredentialMeta) -> [&'a [u8]; 5] {
        [
            &meta.id,
            meta.rp_id.as_bytes(),
            &meta.user_id,
            &self.algorithm,
            &self.flags,
        ]
    }
}
