//! Database schema and its migrations, keyed on `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes a database from version `i` to `i + 1`; version 0 is an empty file. Each step runs
//! in the same transaction as the `user_version` update, so a crash leaves the database at a whole version.
//! Never edit a released step: append a new one.

use rusqlite::{Connection, TransactionBehavior};
use tandem_engine::store::StoreError;

use crate::db_error::db_error;

/// Version 1: credentials and the wrapped data key.
const V1: &str = "
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
CREATE TABLE credentials (
    seq               INTEGER PRIMARY KEY,
    id                BLOB NOT NULL UNIQUE,
    rp_id             TEXT NOT NULL,
    rp_name           TEXT,
    user_id           BLOB NOT NULL,
    user_name         TEXT,
    user_display_name TEXT,
    algorithm         INTEGER NOT NULL,
    discoverable      INTEGER NOT NULL,
    cred_protect      INTEGER NOT NULL,
    backup_eligible   INTEGER NOT NULL,
    backup_state      INTEGER NOT NULL,
    sign_count        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    cred_blob         BLOB,
    secret            BLOB NOT NULL
);
CREATE INDEX credentials_by_rp ON credentials (rp_id, created_at);
";

/// Version 2: hybrid linking state (encrypted named secrets, linked desktops) and an index for the
/// discoverable-credential replacement lookup.
const V2: &str = "
CREATE TABLE hybrid_secrets (
    name   TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL
);
CREATE TABLE linked_desktops (
    link_id       BLOB PRIMARY KEY NOT NULL,
    desktop_name  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    tunnel_domain TEXT NOT NULL
);
CREATE INDEX credentials_by_user ON credentials (rp_id, user_id) WHERE discoverable = 1;
";

/// Every migration step, in order: `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build creates and expects (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`SCHEMA_VERSION`]. A database from a newer build is refused rather than
/// touched.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_error)?;
    let version = u32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("schema version {version} is negative or too large")))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Database(format!(
            "database schema version {version} is newer than this build supports ({SCHEMA_VERSION})"
        )));
    }
    for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(step).map_err(db_error)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)
            .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
}
