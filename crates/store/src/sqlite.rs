//! [`SqliteStore`]: the SQLite implementation of [`CredentialStore`].

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use tandem_engine::platform::{UV_KEY_LEN, UvKey};
use tandem_engine::store::{
    CredentialMeta, CredentialStore, StoreError, StoredCredential, UnreadableCredential, UvKeyCheckStore,
};
use zeroize::Zeroizing;

use crate::db_error::db_error;
use crate::protector::KeyProtector;
use crate::row::{self, CREDENTIAL_COLUMNS, CredentialBinding, UNREADABLE_ID_COLUMN};
use crate::schema;
use crate::seal::{DATA_KEY_LEN, Purpose, SealKey};

/// How long a writer waits for another connection's lock before failing with a database error.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const META_DATA_KEY: &str = "wrapped_data_key";
const META_KEY_CHECK: &str = "data_key_check";
const META_UV_KEY_CHECK: &str = "uv_key_check";
const META_SOFTWARE_UV_KEY: &str = "software_uv_key";
const META_WRAPPED_UV_KEY: &str = "wrapped_uv_key";

/// A credential store in one SQLite database.
///
/// Secrets are sealed with AES-256-GCM under a random data key that is kept in the database only wrapped by
/// a [`KeyProtector`], and cached (zeroized on drop) while the store is open. Every method runs as one
/// transaction on a single connection guarded by a mutex, so the store can be shared between threads; other
/// processes opening the same file are serialised by SQLite's locks (WAL mode, busy timeout).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    key: SealKey,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`: migrates the schema, then unwraps the data key with
    /// `protector`, or creates and wraps a new one for a new database.
    pub fn open(path: impl AsRef<Path>, protector: Arc<dyn KeyProtector>) -> Result<Self, StoreError> {
        let conn = Connection::open(path.as_ref()).map_err(db_error)?;
        Self::init(conn, protector.as_ref(), true)
    }

    /// Opens a fresh store that lives in memory only (tests, ephemeral sessions).
    pub fn open_in_memory(protector: Arc<dyn KeyProtector>) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(db_error)?;
        Self::init(conn, protector.as_ref(), false)
    }

    fn init(mut conn: Connection, protector: &dyn KeyProtector, on_disk: bool) -> Result<Self, StoreError> {
        configure(&mut conn, on_disk)?;
        let key = load_or_create_data_key(&mut conn, protector)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            key,
        })
    }

    /// An in-memory store sealing under `data_key` directly (no wrapped key in `meta`), so the fuzz targets
    /// and tests can make and check rows under a key they know.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn open_in_memory_with_data_key(data_key: &[u8; DATA_KEY_LEN]) -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(db_error)?;
        configure(&mut conn, false)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            key: SealKey::from_array(data_key),
        })
    }

    /// The connection. A panic while holding the lock cannot leave a half-done change behind (every change
    /// is a transaction that rolls back when dropped), so a poisoned lock is safe to reuse.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn key(&self) -> &SealKey {
        &self.key
    }

    /// Runs `f` in an immediate (write-locking) transaction and commits if it succeeds.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let out = f(&tx)?;
        tx.commit().map_err(db_error)?;
        Ok(out)
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(db_error)?;
        let out = f(&tx)?;
        tx.commit().map_err(db_error)?;
        Ok(out)
    }

    /// The software UV key: 32 random bytes kept in this database sealed under the data key, created on
    /// first use. For verifiers with no hardware to unlock a key (the CLI's auto/terminal approval, tests,
    /// and the app bindings until the platform unlock lands): it stands in for a key only a biometric can
    /// release, so it protects no more than the data key does.
    pub fn software_uv_key(&self) -> Result<UvKey, StoreError> {
        self.write(|tx| {
            let sealed = meta_blob(tx, META_SOFTWARE_UV_KEY)?;
            let raw = match sealed {
                Some(blob) => self.key.open(Purpose::SoftwareUvKey, &[], &blob)?,
                None => {
                    let mut raw = Zeroizing::new(vec![0u8; UV_KEY_LEN]);
                    getrandom::fill(raw.as_mut_slice())
                        .map_err(|e| StoreError::Database(format!("random number generator failed: {e}")))?;
                    let blob = self.key.seal(Purpose::SoftwareUvKey, &[], &raw)?;
                    tx.execute(
                        "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                        params![META_SOFTWARE_UV_KEY, blob],
                    )
                    .map_err(db_error)?;
                    raw
                }
            };
            UvKey::from_slice(&raw)
                .ok_or_else(|| StoreError::Corrupt("the software UV key has the wrong length".into()))
        })
    }

    /// The UV key as the platform wrapped it (with its auth-bound key), or `None` before the first
    /// verification. Opaque to the store: only the platform's verifier can unwrap it.
    pub fn wrapped_uv_key(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|tx| meta_blob(tx, META_WRAPPED_UV_KEY))
    }

    /// Keeps `wrapped` as the wrapped UV key unless one is kept already; returns the one kept (so of two
    /// first verifications racing, both learn which key won).
    pub fn keep_wrapped_uv_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.write(|tx| match meta_blob(tx, META_WRAPPED_UV_KEY)? {
            Some(kept) => Ok(kept),
            None => {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                    params![META_WRAPPED_UV_KEY, wrapped],
                )
                .map_err(db_error)?;
                Ok(wrapped.to_vec())
            }
        })
    }

    /// Reads every credential row (of `rp_id`, or all), newest first, and verifies each fully (metadata
    /// decodes, secret authenticates): the metadata of the readable rows, and a report for each row that is
    /// not. Only a failure of the database itself fails the whole scan.
    fn scan(
        &self,
        rp_id: Option<&str>,
    ) -> Result<(Vec<CredentialMeta>, Vec<UnreadableCredential>), StoreError> {
        self.read(|tx| {
            let select = format!("SELECT {CREDENTIAL_COLUMNS}, {UNREADABLE_ID_COLUMN} FROM credentials");
            let sql = match rp_id {
                Some(_) => format!("{select} WHERE rp_id = ?1 ORDER BY created_at DESC, seq DESC"),
                None => format!("{select} ORDER BY created_at DESC, seq DESC"),
            };
            let mut stmt = tx.prepare(&sql).map_err(db_error)?;
            let mut rows = match rp_id {
                Some(rp) => stmt.query(params![rp]),
                None => stmt.query([]),
            }
            .map_err(db_error)?;
            let (mut readable, mut unreadable) = (Vec::new(), Vec::new());
            while let Some(r) = rows.next().map_err(db_error)? {
                match row::decode_credential(r, &self.key) {
                    // The opened secret is zeroized here; callers load it again with `get` when they sign.
                    Ok(c) => readable.push(c.meta),
                    Err(StoreError::Corrupt(reason)) => unreadable.push(row::unreadable(r, reason)),
                    Err(e) => return Err(e),
                }
            }
            Ok((readable, unreadable))
        })
    }

    /// Loads and fully verifies one credential (metadata decodes, secret authenticates) inside `tx`.
    fn load(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &[u8],
    ) -> Result<Option<StoredCredential>, StoreError> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = ?1");
        let mut stmt = tx.prepare(&sql).map_err(db_error)?;
        let mut rows = stmt.query(params![id]).map_err(db_error)?;
        let Some(r) = rows.next().map_err(db_error)? else {
            return Ok(None);
        };
        row::decode_credential(r, &self.key).map(Some)
    }
}

/// Connection settings every store uses, then the schema migrations.
fn configure(conn: &mut Connection, on_disk: bool) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
    if on_disk {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "could not enable WAL (journal mode is {mode})"
            )));
        }
    }
    // FULL: a passkey the RP has registered must survive power loss, not just a process crash.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_error)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(db_error)?;
    // Deleted rows' metadata (RP IDs, user names) is overwritten rather than left in free pages.
    conn.pragma_update(None, "secure_delete", true)
        .map_err(db_error)?;
    schema::migrate(conn)
}

fn load_or_create_data_key(
    conn: &mut Connection,
    protector: &dyn KeyProtector,
) -> Result<SealKey, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let protector_error = |e: crate::ProtectorError| match e {
        crate::ProtectorError::KeyInvalidated(reason) => StoreError::KeyInvalidated(reason),
        other => StoreError::KeyProtector(other.to_string()),
    };
    let key = match meta_blob(&tx, META_DATA_KEY)? {
        Some(wrapped) => {
            let raw = protector.unwrap(&wrapped).map_err(protector_error)?;
            let key = SealKey::from_bytes(&raw).ok_or_else(|| {
                StoreError::KeyProtector(format!(
                    "protector released a {}-byte data key, expected {DATA_KEY_LEN}",
                    raw.len()
                ))
            })?;
            let check = meta_blob(&tx, META_KEY_CHECK)?
                .ok_or_else(|| StoreError::Corrupt("the data key check is missing".into()))?;
            key.open(Purpose::KeyCheck, &[], &check).map_err(|_| {
                StoreError::KeyProtector(
                    "the released data key does not belong to this database (or its check was altered)"
                        .into(),
                )
            })?;
            key
        }
        None => {
            // Sealed rows without a data key mean the key row was removed: making a new key would
            // silently orphan them.
            let sealed_rows: i64 = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM credentials) + (SELECT count(*) FROM hybrid_secrets)",
                    [],
                    |r| r.get(0),
                )
                .map_err(db_error)?;
            if sealed_rows > 0 {
                return Err(StoreError::Corrupt(format!(
                    "the wrapped data key is missing but {sealed_rows} sealed rows exist"
                )));
            }
            let mut raw = Zeroizing::new([0u8; DATA_KEY_LEN]);
            getrandom::fill(raw.as_mut_slice())
                .map_err(|e| StoreError::Database(format!("random number generator failed: {e}")))?;
            let wrapped = protector.wrap(raw.as_slice()).map_err(protector_error)?;
            let key = SealKey::from_array(&raw);
            let check = key.seal(Purpose::KeyCheck, &[], &[])?;
            let insert = "INSERT INTO meta (name, value) VALUES (?1, ?2)";
            tx.execute(insert, params![META_DATA_KEY, wrapped])
                .map_err(db_error)?;
            tx.execute(insert, params![META_KEY_CHECK, check])
                .map_err(db_error)?;
            key
        }
    };
    tx.commit().map_err(db_error)?;
    Ok(key)
}

/// A `meta` value that must be a blob, or `None` when absent.
fn meta_blob(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let v: Option<rusqlite::types::Value> = tx
        .query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db_error)?;
    match v {
        None => Ok(None),
        Some(rusqlite::types::Value::Blob(b)) => Ok(Some(b)),
        Some(_) => Err(StoreError::Corrupt(format!("meta {name} is not a blob"))),
    }
}

impl UvKeyCheckStore for SqliteStore {
    fn uv_key_check(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.write(|tx| match meta_blob(tx, META_UV_KEY_CHECK)? {
            Some(enrolled) => Ok(enrolled),
            None => {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES (?1, ?2)",
                    params![META_UV_KEY_CHECK, candidate],
                )
                .map_err(db_error)?;
                Ok(candidate.to_vec())
            }
        })
    }
}

impl CredentialStore for SqliteStore {
    fn insert(&self, credential: &StoredCredential) -> Result<(), StoreError> {
        let m = &credential.meta;
        let created_at = i64::try_from(m.created_at)
            .map_err(|_| StoreError::Database(format!("created_at {} is out of range", m.created_at)))?;
        let binding = CredentialBinding::new(m);
        let sealed = self
            .key
            .seal(CredentialBinding::PURPOSE, &binding.parts(m), &credential.secret)?;
        self.write(|tx| {
            if m.discoverable {
                tx.execute(
                    "DELETE FROM credentials WHERE rp_id = ?1 AND user_id = ?2 AND discoverable = 1",
                    params![m.rp_id, m.user_id],
                )
                .map_err(db_error)?;
            }
            tx.execute(
                &format!(
                    "INSERT INTO credentials ({CREDENTIAL_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    m.id,
                    m.rp_id,
                    m.rp_name,
                    m.user_id,
                    m.user_name,
                    m.user_display_name,
                    m.algorithm,
                    m.discoverable,
                    m.cred_protect,
                    m.backup_eligible,
                    m.backup_state,
                    m.sign_count,
                    created_at,
                    m.cred_blob,
                    sealed,
                ],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(ErrorCode::ConstraintViolation) => {
                    StoreError::Database("a credential with this ID already exists".into())
                }
                _ => db_error(e),
            })?;
            Ok(())
        })
    }

    fn list_for_rp(&self, rp_id: &str) -> Result<Vec<CredentialMeta>, StoreError> {
        Ok(self.scan(Some(rp_id))?.0)
    }

    fn list_all(&self) -> Result<Vec<CredentialMeta>, StoreError> {
        Ok(self.scan(None)?.0)
    }

    fn unreadable(&self) -> Result<Vec<UnreadableCredential>, StoreError> {
        Ok(self.scan(None)?.1)
    }

    fn get(&self, id: &[u8]) -> Result<Option<StoredCredential>, StoreError> {
        self.read(|tx| self.load(tx, id))
    }

    fn increment_sign_count(&self, id: &[u8]) -> Result<u32, StoreError> {
        self.write(|tx| {
            // Verifying the whole row first means a corrupt row is reported, never modified.
            let current = self.load(tx, id)?.ok_or(StoreError::NotFound)?.meta.sign_count;
            let next = current
                .checked_add(1)
                .ok_or_else(|| StoreError::Database("signature counter exhausted".into()))?;
            tx.execute(
                "UPDATE credentials SET sign_count = ?2 WHERE id = ?1",
                params![id, next],
            )
            .map_err(db_error)?;
            Ok(next)
        })
    }

    fn replace_secret(&self, id: &[u8], secret: &[u8]) -> Result<(), StoreError> {
        self.write(|tx| {
            let meta = self.load(tx, id)?.ok_or(StoreError::NotFound)?.meta;
            let binding = CredentialBinding::new(&meta);
            let sealed = self
                .key
                .seal(CredentialBinding::PURPOSE, &binding.parts(&meta), secret)?;
            tx.execute(
                "UPDATE credentials SET secret = ?2 WHERE id = ?1",
                params![id, sealed],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn rename(&self, id: &[u8], display_name: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            self.load(tx, id)?.ok_or(StoreError::NotFound)?;
            tx.execute(
                "UPDATE credentials SET user_display_name = ?2 WHERE id = ?1",
                params![id, display_name],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn delete(&self, id: &[u8]) -> Result<(), StoreError> {
        // Deliberately no verification: deleting is how a user gets rid of a corrupt row. A damaged file may
        // hold a non-blob ID; `unreadable` reports it as `CAST(id AS BLOB)`, so that form matches too.
        self.write(|tx| {
            match tx
                .execute(
                    "DELETE FROM credentials WHERE id = ?1 \
                     OR (typeof(id) <> 'blob' AND CAST(id AS BLOB) = ?1)",
                    params![id],
                )
                .map_err(db_error)?
            {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    fn delete_all(&self) -> Result<usize, StoreError> {
        self.write(|tx| tx.execute("DELETE FROM credentials", []).map_err(db_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SoftwareKeyProtector;

    /// The data key itself (not only the secrets it seals) never reaches the file in the clear.
    #[test]
    fn data_key_is_not_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let protector: Arc<dyn KeyProtector> = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
        let store = SqliteStore::open(&path, protector.clone()).unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let wrapped: Vec<u8> = conn
            .query_row(
                "SELECT value FROM meta WHERE name = ?1",
                params![META_DATA_KEY],
                |r| r.get(0),
            )
            .unwrap();
        drop(conn);
        let data_key = protector.unwrap(&wrapped).unwrap();
        assert_eq!(data_key.len(), DATA_KEY_LEN);
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(DATA_KEY_LEN).any(|w| w == data_key.as_slice()));
        // Control: the wrapped form is in the file, so the scan reads the right bytes.
        assert!(raw.windows(wrapped.len()).any(|w| w == wrapped.as_slice()));
    }

    /// The platform's wrapped UV key is kept once: the first offered wins, and it survives reopening.
    #[test]
    fn wrapped_uv_key_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let protector: Arc<dyn KeyProtector> = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
        let store = SqliteStore::open(&path, protector.clone()).unwrap();
        assert_eq!(store.wrapped_uv_key().unwrap(), None);
        assert_eq!(store.keep_wrapped_uv_key(b"one").unwrap(), b"one");
        assert_eq!(store.keep_wrapped_uv_key(b"two").unwrap(), b"one");
        drop(store);
        let store = SqliteStore::open(&path, protector).unwrap();
        assert_eq!(store.wrapped_uv_key().unwrap().as_deref(), Some(&b"one"[..]));
    }

    /// The first check value offered is enrolled, later candidates are ignored, and it survives reopening.
    #[test]
    fn uv_key_check_enrols_once_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let protector: Arc<dyn KeyProtector> = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
        let store = SqliteStore::open(&path, protector.clone()).unwrap();
        assert_eq!(store.uv_key_check(b"first").unwrap(), b"first");
        assert_eq!(store.uv_key_check(b"second").unwrap(), b"first");
        drop(store);
        let store = SqliteStore::open(&path, protector).unwrap();
        assert_eq!(store.uv_key_check(b"third").unwrap(), b"first");
    }

    /// The software UV key is created once, kept sealed (not in the file in the clear), and read back the
    /// same after reopening; another database gets another key.
    #[test]
    fn software_uv_key_is_stable_sealed_and_per_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let protector: Arc<dyn KeyProtector> = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
        let store = SqliteStore::open(&path, protector.clone()).unwrap();
        let key = *store.software_uv_key().unwrap().expose();
        assert_eq!(*store.software_uv_key().unwrap().expose(), key);
        drop(store);
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(key.len()).any(|w| w == key));
        let store = SqliteStore::open(&path, protector.clone()).unwrap();
        assert_eq!(*store.software_uv_key().unwrap().expose(), key);
        let other = SqliteStore::open_in_memory(protector).unwrap();
        assert_ne!(*other.software_uv_key().unwrap().expose(), key);
    }
}
