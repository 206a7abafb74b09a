//! Schema migrations keyed on `PRAGMA user_version`.

mod common;

use std::path::Path;

use common::{credential, open, protector, raw};
use tandem_engine::store::{CredentialStore, StoreError};
use tandem_store::schema::{MIGRATIONS, SCHEMA_VERSION};
use tandem_store::{HybridStateStore, LinkedDesktop, SqliteStore};

fn user_version(path: &Path) -> i64 {
    raw(path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// The schema objects (type, name, SQL) of a database, sorted.
fn schema_of(conn: &rusqlite::Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A database built by applying only the first `version` migration steps.
fn schema_at(version: usize) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for step in &MIGRATIONS[..version] {
        conn.execute_batch(step).unwrap();
    }
    schema_of(&conn)
}

#[test]
fn fresh_database_is_at_current_version() {
    assert_eq!(SCHEMA_VERSION as usize, MIGRATIONS.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(open(&path));
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    assert_eq!(schema_of(&raw(&path)), schema_at(MIGRATIONS.len()));
    let mode: String = raw(&path)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// A store written by the previous schema version (N-1) opens, is upgraded in place, keeps its
/// credentials readable, and gains the new tables.
#[test]
fn upgrades_from_previous_version_keeping_credentials() {
    let previous = MIGRATIONS.len() - 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let c = credential(1, "example.com", true);
    {
        let store = open(&path);
        store.insert(&c).unwrap();
        store.increment_sign_count(&c.meta.id).unwrap();
    }
    // Turn the file back into a version N-1 database: drop what the last step added, reset the version,
    // and prove the result is exactly what the first N-1 steps produce.
    let conn = raw(&path);
    conn.execute_batch(
        "DROP TABLE hybrid_secrets; DROP TABLE linked_desktops; DROP INDEX credentials_by_user;",
    )
    .unwrap();
    conn.pragma_update(None, "user_version", previous as i64).unwrap();
    assert_eq!(
        schema_of(&conn),
        schema_at(previous),
        "test setup must produce the N-1 schema"
    );
    drop(conn);
    assert_eq!(user_version(&path), previous as i64);

    let store = open(&path);
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    assert_eq!(schema_of(&raw(&path)), schema_at(MIGRATIONS.len()));
    let got = store.get(&c.meta.id).unwrap().unwrap();
    assert_eq!(got.secret, c.secret);
    assert_eq!(got.meta.sign_count, 1);
    store.put_secret("root", b"r").unwrap();
    assert_eq!(store.get_secret("root").unwrap().unwrap().as_slice(), b"r");
    let link = LinkedDesktop {
        link_id: [7; 8],
        desktop_name: "d".into(),
        created_at: 1,
        tunnel_domain: "t.example".into(),
    };
    store.put_link(&link).unwrap();
    assert_eq!(store.list_links().unwrap(), vec![link]);
}

#[test]
fn every_intermediate_version_upgrades() {
    for start in 0..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = raw(&path);
        for step in &MIGRATIONS[..start] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "user_version", start as i64).unwrap();
        drop(conn);
        let store = open(&path);
        assert_eq!(
            user_version(&path),
            i64::from(SCHEMA_VERSION),
            "from version {start}"
        );
        store.insert(&credential(1, "example.com", false)).unwrap();
    }
}

#[test]
fn newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(open(&path));
    raw(&path)
        .pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
        .unwrap();
    assert!(matches!(
        SqliteStore::open(&path, protector()),
        Err(StoreError::Database(_))
    ));
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION) + 1);
    raw(&path).pragma_update(None, "user_version", -1).unwrap();
    assert!(matches!(
        SqliteStore::open(&path, protector()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn failed_migration_step_leaves_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let conn = raw(&path);
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    // A conflicting object makes step 2 fail part-way; the step must roll back as a whole.
    conn.execute_batch("CREATE TABLE linked_desktops (x)").unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path, protector()),
        Err(StoreError::Database(_))
    ));
    assert_eq!(user_version(&path), 1);
    let names: Vec<String> = raw(&path)
        .prepare("SELECT name FROM sqlite_master WHERE name = 'hybrid_secrets'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(names.is_empty(), "partial step was rolled back");
}
