//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use tandem_engine::store::{CredentialMeta, StoredCredential};
use tandem_store::{KeyProtector, SoftwareKeyProtector, SqliteStore};
use zeroize::Zeroizing;

/// A software protector with a fixed key.
pub(crate) fn protector() -> Arc<dyn KeyProtector> {
    Arc::new(SoftwareKeyProtector::from_key_bytes(&[0x42; 32]))
}

/// Opens (or creates) a file store with the fixed test protector.
pub(crate) fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, protector()).expect("open store")
}

/// A credential whose fields are all derived from `n` (secret included), so tests can recognise it.
pub(crate) fn credential(n: u8, rp_id: &str, discoverable: bool) -> StoredCredential {
    StoredCredential {
        meta: CredentialMeta {
            id: vec![0xc0, n, n, n, 0x11, 0x22, 0x33, 0x44, n],
            rp_id: rp_id.to_owned(),
            rp_name: Some(format!("RP {rp_id}")),
            user_id: vec![0x75, n],
            user_name: Some(format!("user{n}@{rp_id}")),
            user_display_name: Some(format!("User {n}")),
            algorithm: -7,
            discoverable,
            cred_protect: 2,
            backup_eligible: true,
            backup_state: false,
            sign_count: 0,
            created_at: 1_700_000_000 + u64::from(n),
            cred_blob: Some(vec![0xb1, n]),
        },
        secret: Zeroizing::new(secret_bytes(n)),
    }
}

/// A distinctive 64-byte secret for credential `n`.
pub(crate) fn secret_bytes(n: u8) -> Vec<u8> {
    (0u8..64).map(|i| i.wrapping_mul(37) ^ n ^ 0xa5).collect()
}

/// A plain connection to the store file, for inspecting and damaging it behind the store's back.
pub(crate) fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("raw open");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn
}

/// Overwrites one column of one credential row behind the store's back (tamper and damage tests).
pub(crate) fn set_column(path: &Path, id: &[u8], column: &str, value: rusqlite::types::Value) {
    let n = raw(path)
        .execute(
            &format!("UPDATE credentials SET {column} = ?2 WHERE id = ?1"),
            rusqlite::params![id, value],
        )
        .unwrap();
    assert_eq!(n, 1, "test setup must hit the row");
}

/// Every row of every table, in a stable order: two equal dumps mean nothing changed.
pub(crate) fn dump(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = raw(path);
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(cell))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push((t.clone(), row.unwrap()));
        }
    }
    out
}

/// A cell as type and exact bytes (text cells may hold invalid UTF-8, so no `String` conversion).
fn cell(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "null".into(),
        ValueRef::Integer(i) => format!("int:{i}"),
        ValueRef::Real(f) => format!("real:{:016x}", f.to_bits()),
        ValueRef::Text(t) => format!("text:{}", hex::encode(t)),
        ValueRef::Blob(b) => format!("blob:{}", hex::encode(b)),
    }
}
