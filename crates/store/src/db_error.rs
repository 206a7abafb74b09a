//! How SQLite failures reach callers: one mapping, used by every module that touches the database.

use rusqlite::ErrorCode;
use tandem_engine::store::StoreError;

/// Maps a SQLite failure to a [`StoreError`]: a damaged file is `Corrupt`, anything else `Database`.
pub(crate) fn db_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}
