//! Entry points for the cargo-fuzz target `stored_row` (feature `fuzzing`; not a stable API).
//!
//! A damaged or tampered database file can hold any SQLite value in any column, whatever the schema says.
//! [`RowLab`] hands such values to the store's own row decoders (the ones `get`, `list_*`, `get_link`,
//! `list_links` and `get_secret` call) by selecting them as bound parameters (`SELECT ?1, ?2, …`), so each
//! decoder reads a real `rusqlite::Row` holding exactly the given storage classes, including text that is
//! not UTF-8. The store's own writers (`insert`, `put_link`, `put_secret`) make real rows that are read back
//! raw, so a target can tamper with them. Everything runs on one in-memory [`SqliteStore`] whose data key
//! the caller chooses.

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Row, params};
use tandem_engine::store::{CredentialStore, StoreError, StoredCredential};
use zeroize::Zeroizing;

use crate::db_error::db_error;
use crate::hybrid::{self, HybridStateStore, LINK_COLUMNS, LinkedDesktop};
use crate::row::{self, CREDENTIAL_COLUMNS};
use crate::seal::DATA_KEY_LEN;
use crate::sqlite::SqliteStore;

/// Number of columns in a credential row (metadata, then the sealed secret).
pub const CREDENTIAL_COLUMN_COUNT: usize = 15;
/// Number of columns in a linked-desktop row.
pub const LINK_COLUMN_COUNT: usize = 4;
/// The credential-row columns whose alteration must make the row fail to decode: the sealed secret and the
/// columns its associated data binds (id, rp_id, user_id, algorithm, discoverable, cred_protect,
/// backup_eligible). Checked against the real binding by this module's tests.
pub const CREDENTIAL_BOUND_COLUMNS: [usize; 8] = [0, 1, 3, 6, 7, 8, 9, 14];

/// One value as SQLite may return it from any column of a damaged file.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A float. SQLite stores NaN as NULL, so a NaN reads back as [`Column::Null`].
    Real(f64),
    /// Text, as bytes: a damaged file's text need not be UTF-8.
    Text(Vec<u8>),
    /// A blob.
    Blob(Vec<u8>),
}

impl Column {
    fn from_value(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Column::Null,
            ValueRef::Integer(i) => Column::Integer(i),
            ValueRef::Real(f) => Column::Real(f),
            ValueRef::Text(t) => Column::Text(t.to_vec()),
            ValueRef::Blob(b) => Column::Blob(b.to_vec()),
        }
    }
}

impl ToSql for Column {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // Borrowed text is bound with sqlite3_bind_text as is (no UTF-8 check), like a damaged file's text.
        Ok(ToSqlOutput::Borrowed(match self {
            Column::Null => ValueRef::Null,
            Column::Integer(i) => ValueRef::Integer(*i),
            Column::Real(f) => ValueRef::Real(*f),
            Column::Text(t) => ValueRef::Text(t),
            Column::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// An in-memory store with a known data key, and the store's row decoders and writers on raw columns.
#[derive(Debug)]
pub struct RowLab {
    store: SqliteStore,
}

impl RowLab {
    /// A fresh in-memory store (real schema) that seals under `data_key`.
    pub fn new(data_key: &[u8; DATA_KEY_LEN]) -> Result<Self, StoreError> {
        Ok(RowLab {
            store: SqliteStore::open_in_memory_with_data_key(data_key)?,
        })
    }

    /// The store itself, for its public read APIs.
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// Decodes a credential row and opens its secret, as `get` does.
    pub fn decode_credential(
        &self,
        columns: &[Column; CREDENTIAL_COLUMN_COUNT],
    ) -> Result<StoredCredential, StoreError> {
        self.select(columns, |r| row::decode_credential(r, self.store.key()))
    }

    /// Decodes a linked-desktop row, as `get_link` and `list_links` do.
    pub fn decode_link(&self, columns: &[Column; LINK_COLUMN_COUNT]) -> Result<LinkedDesktop, StoreError> {
        self.select(columns, hybrid::decode_link)
    }

    /// Opens a hybrid secret's sealed column found under `name`, as `get_secret(name)` does.
    pub fn open_secret(&self, name: &str, sealed: &Column) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.select(std::slice::from_ref(sealed), |r| {
            hybrid::open_secret(self.store.key(), name, r)
        })
    }

    /// Stores `credential` with `CredentialStore::insert` and returns its row as stored. The credential
    /// stays in the store until [`RowLab::clear`].
    pub fn write_credential(
        &self,
        credential: &StoredCredential,
    ) -> Result<[Column; CREDENTIAL_COLUMN_COUNT], StoreError> {
        self.store.insert(credential)?;
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = ?1");
        self.read_back(&sql, &credential.meta.id)
    }

    /// Stores `link` with `HybridStateStore::put_link` and returns its row as stored.
    pub fn write_link(&self, link: &LinkedDesktop) -> Result<[Column; LINK_COLUMN_COUNT], StoreError> {
        self.store.put_link(link)?;
        let sql = format!("SELECT {LINK_COLUMNS} FROM linked_desktops WHERE link_id = ?1");
        self.read_back(&sql, link.link_id.as_slice())
    }

    /// Stores a secret with `HybridStateStore::put_secret` and returns its sealed column as stored.
    pub fn write_secret(&self, name: &str, value: &[u8]) -> Result<Column, StoreError> {
        self.store.put_secret(name, value)?;
        let [sealed] = self.read_back("SELECT sealed FROM hybrid_secrets WHERE name = ?1", name)?;
        Ok(sealed)
    }

    /// Deletes every row the writers made.
    pub fn clear(&self) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute_batch(
                "DELETE FROM credentials; DELETE FROM linked_desktops; DELETE FROM hybrid_secrets;",
            )
            .map_err(db_error)
        })
    }

    /// Runs `decode` on the one row of `SELECT ?1, …, ?n` with `columns` bound.
    fn select<T>(
        &self,
        columns: &[Column],
        decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let conn = self.store.lock();
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {}", placeholders.join(", ")))
            .map_err(db_error)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(columns))
            .map_err(db_error)?;
        let r = rows
            .next()
            .map_err(db_error)?
            .ok_or_else(|| StoreError::Database("SELECT of bound values gave no row".into()))?;
        decode(r)
    }

    /// The raw columns of the one row `sql` selects by `key`.
    fn read_back<const N: usize>(&self, sql: &str, key: impl ToSql) -> Result<[Column; N], StoreError> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
        let mut rows = stmt.query(params![key]).map_err(db_error)?;
        let r = rows
            .next()
            .map_err(db_error)?
            .ok_or_else(|| StoreError::Database("the row just written is missing".into()))?;
        let mut out = Vec::with_capacity(N);
        for i in 0..N {
            out.push(Column::from_value(r.get_ref(i).map_err(db_error)?));
        }
        <[Column; N]>::try_from(out).map_err(|_| StoreError::Database("column count mismatch".into()))
    }
}

#[cfg(test)]
mod tests {
    use tandem_engine::store::CredentialMeta;

    use super::*;

    const KEY: [u8; DATA_KEY_LEN] = [0x42; DATA_KEY_LEN];

    fn credential() -> StoredCredential {
        StoredCredential {
            meta: CredentialMeta {
                id: vec![1, 2, 3, 4],
                rp_id: "example.com".into(),
                rp_name: Some("Example".into()),
                user_id: vec![9; 16],
                user_name: Some("alice".into()),
                user_display_name: Some("Alice".into()),
                algorithm: -7,
                discoverable: true,
                cred_protect: 2,
                backup_eligible: false,
                backup_state: false,
                sign_count: 5,
                created_at: 1_700_000_000,
                cred_blob: Some(vec![0xcb]),
            },
            secret: Zeroizing::new(b"engine secret".to_vec()),
        }
    }

    fn is_corrupt<T>(r: &Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::Corrupt(_)))
    }

    /// A different value of the column's own type, so only the binding (not the type check) can refuse it.
    fn altered(c: &Column) -> Column {
        match c {
            Column::Null => Column::Integer(0),
            Column::Integer(0) => Column::Integer(1),
            Column::Integer(1) => Column::Integer(0),
            Column::Integer(i) => Column::Integer(i + 1),
            Column::Real(f) => Column::Real(f + 1.0),
            Column::Text(t) => Column::Text([t.as_slice(), b"x"].concat()),
            Column::Blob(b) => {
                let mut b = b.clone();
                b[0] ^= 1;
                Column::Blob(b)
            }
        }
    }

    #[test]
    fn store_rows_round_trip_and_only_unbound_columns_may_change() {
        let lab = RowLab::new(&KEY).unwrap();
        let c = credential();
        let row = lab.write_credential(&c).unwrap();
        let back = lab.decode_credential(&row).unwrap();
        assert_eq!(back.meta, c.meta);
        assert_eq!(back.secret.as_slice(), c.secret.as_slice());
        for i in 0..CREDENTIAL_COLUMN_COUNT {
            let mut tampered = row.clone();
            tampered[i] = altered(&row[i]);
            let r = lab.decode_credential(&tampered);
            if CREDENTIAL_BOUND_COLUMNS.contains(&i) {
                assert!(
                    is_corrupt(&r),
                    "column {i} is bound but its change went unnoticed"
                );
            } else {
                assert!(
                    r.is_ok(),
                    "column {i} is not bound yet its change was refused: {r:?}"
                );
            }
        }
        // The same row under another data key does not open.
        assert!(is_corrupt(
            &RowLab::new(&[0x43; DATA_KEY_LEN])
                .unwrap()
                .decode_credential(&row)
        ));
    }

    #[test]
    fn wrong_storage_classes_and_bad_utf8_are_corrupt() {
        let lab = RowLab::new(&KEY).unwrap();
        let row = lab.write_credential(&credential()).unwrap();
        for (i, bad) in [
            (1, Column::Text(vec![0xff, 0xfe])),
            (1, Column::Blob(b"example.com".to_vec())),
            (6, Column::Real(-7.0)),
            (7, Column::Integer(2)),
            (8, Column::Integer(256)),
            (11, Column::Integer(-1)),
            (12, Column::Integer(-1)),
            (13, Column::Text(vec![])),
            (2, Column::Blob(vec![])),
            (14, Column::Null),
        ] {
            let mut tampered = row.clone();
            tampered[i] = bad;
            assert!(is_corrupt(&lab.decode_credential(&tampered)), "column {i}");
        }
    }

    #[test]
    fn links_and_secrets_round_trip_and_bind() {
        let lab = RowLab::new(&KEY).unwrap();
        let link = LinkedDesktop {
            link_id: [7; 8],
            desktop_name: "desk".into(),
            created_at: 3,
            tunnel_domain: "cable.ua5v.com".into(),
        };
        let row = lab.write_link(&link).unwrap();
        assert_eq!(lab.decode_link(&row).unwrap(), link);
        let mut short = row.clone();
        short[0] = Column::Blob(vec![7; 7]);
        assert!(is_corrupt(&lab.decode_link(&short)));

        let sealed = lab.write_secret("identity", b"value").unwrap();
        assert_eq!(lab.open_secret("identity", &sealed).unwrap().as_slice(), b"value");
        assert!(is_corrupt(&lab.open_secret("identitz", &sealed)));
        lab.clear().unwrap();
        assert!(lab.store().get_secret("identity").unwrap().is_none());
    }
}
