//! Damaged, tampered and swapped rows: always `Corrupt`, never a panic, and the database is left as it was.

mod common;

use std::path::Path;

use common::{credential, dump, open, protector, raw, set_column};
use rusqlite::params;
use rusqlite::types::Value;
use tandem_engine::store::{CredentialStore, StoreError, StoredCredential};
use tandem_store::{HybridStateStore, LinkedDesktop, SqliteStore};

fn secret_column(path: &Path, id: &[u8]) -> Vec<u8> {
    raw(path)
        .query_row("SELECT secret FROM credentials WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .unwrap()
}

fn is_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Corrupt(_)))
}

/// Every operation that reads `c`'s row reports `Corrupt` and changes nothing in the file.
fn assert_row_corrupt(store: &SqliteStore, path: &Path, c: &StoredCredential) {
    let before = dump(path);
    assert!(is_corrupt(store.get(&c.meta.id)), "get");
    assert!(is_corrupt(store.increment_sign_count(&c.meta.id)), "increment");
    assert!(is_corrupt(store.rename(&c.meta.id, "renamed")), "rename");
    assert!(
        is_corrupt(store.replace_secret(&c.meta.id, b"new secret")),
        "replace_secret"
    );
    assert_eq!(dump(path), before, "a corrupt row must be left as it is");
}

fn setup() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    SqliteStore,
    StoredCredential,
    StoredCredential,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open(&path);
    let a = credential(1, "a.example", true);
    let b = credential(2, "b.example", true);
    store.insert(&a).unwrap();
    store.insert(&b).unwrap();
    (dir, path, store, a, b)
}

#[test]
fn swapped_blobs_fail_on_both_rows() {
    let (_dir, path, store, a, b) = setup();
    let (sa, sb) = (secret_column(&path, &a.meta.id), secret_column(&path, &b.meta.id));
    set_column(&path, &a.meta.id, "secret", Value::Blob(sb));
    set_column(&path, &b.meta.id, "secret", Value::Blob(sa.clone()));
    assert_row_corrupt(&store, &path, &a);
    assert_row_corrupt(&store, &path, &b);
    // Putting a's blob back restores a: the failure was the move, not collateral damage.
    set_column(&path, &a.meta.id, "secret", Value::Blob(sa));
    assert_eq!(store.get(&a.meta.id).unwrap().unwrap().secret, a.secret);
    // Listing skips b, whose secret no longer opens, and reports it; deleting a corrupt row works.
    assert_eq!(store.list_all().unwrap().len(), 1);
    assert_eq!(store.unreadable().unwrap()[0].id, b.meta.id);
    store.delete(&b.meta.id).unwrap();
    assert!(store.get(&b.meta.id).unwrap().is_none());
}

#[test]
fn every_flipped_byte_and_every_truncation_is_detected() {
    let (_dir, path, store, a, _b) = setup();
    let good = secret_column(&path, &a.meta.id);
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        set_column(&path, &a.meta.id, "secret", Value::Blob(bad));
        assert!(is_corrupt(store.get(&a.meta.id)), "flip at byte {i}");
    }
    for len in [0, 1, 12, 13, 28, 29, good.len() - 1] {
        set_column(&path, &a.meta.id, "secret", Value::Blob(good[..len].to_vec()));
        assert!(is_corrupt(store.get(&a.meta.id)), "truncated to {len}");
    }
    let mut extended = good.clone();
    extended.push(0);
    set_column(&path, &a.meta.id, "secret", Value::Blob(extended));
    assert!(is_corrupt(store.get(&a.meta.id)), "extended");
    for version in [0u8, 2, 0xff] {
        let mut v = good.clone();
        v[0] = version;
        set_column(&path, &a.meta.id, "secret", Value::Blob(v));
        assert_row_corrupt(&store, &path, &a);
    }
    set_column(&path, &a.meta.id, "secret", Value::Blob(good));
    assert_eq!(store.get(&a.meta.id).unwrap().unwrap().secret, a.secret);
}

#[test]
fn bound_metadata_cannot_be_edited() {
    let (_dir, path, store, a, _b) = setup();
    let edits: [(&str, Value, Value); 6] = [
        (
            "rp_id",
            Value::Text("evil.example".into()),
            Value::Text(a.meta.rp_id.clone()),
        ),
        (
            "user_id",
            Value::Blob(vec![9, 9]),
            Value::Blob(a.meta.user_id.clone()),
        ),
        ("algorithm", Value::Integer(-8), Value::Integer(a.meta.algorithm)),
        (
            "cred_protect",
            Value::Integer(1),
            Value::Integer(i64::from(a.meta.cred_protect)),
        ),
        ("discoverable", Value::Integer(0), Value::Integer(1)),
        ("backup_eligible", Value::Integer(0), Value::Integer(1)),
    ];
    for (column, bad, good) in edits {
        set_column(&path, &a.meta.id, column, bad);
        assert!(is_corrupt(store.get(&a.meta.id)), "edited {column}");
        assert!(
            is_corrupt(store.increment_sign_count(&a.meta.id)),
            "edited {column}"
        );
        set_column(&path, &a.meta.id, column, good);
        assert!(store.get(&a.meta.id).unwrap().is_some(), "restored {column}");
    }
    // Moving a row's whole identity to another credential's ID fails as well.
    let id2 = vec![0xee; 9];
    set_column(&path, &a.meta.id, "id", Value::Blob(id2.clone()));
    assert!(is_corrupt(store.get(&id2)));
}

#[test]
fn wrong_types_and_ranges_are_corrupt() {
    let cases: Vec<(&str, Value)> = vec![
        ("rp_id", Value::Blob(b"a.example".to_vec())),
        // TEXT columns convert numbers to text (SQLite affinity), so only blobs are the wrong type there.
        ("rp_name", Value::Blob(b"RP".to_vec())),
        ("user_id", Value::Text("u".into())),
        ("user_name", Value::Blob(vec![])),
        ("user_display_name", Value::Blob(vec![0xff])),
        ("algorithm", Value::Text("ES256".into())),
        ("algorithm", Value::Real(-7.5)),
        ("discoverable", Value::Integer(2)),
        ("cred_protect", Value::Integer(256)),
        ("cred_protect", Value::Integer(-1)),
        ("backup_state", Value::Text("yes".into())),
        ("sign_count", Value::Integer(-1)),
        ("sign_count", Value::Integer(1 << 32)),
        ("sign_count", Value::Text("many".into())),
        ("created_at", Value::Integer(-5)),
        ("cred_blob", Value::Text("blob".into())),
        ("secret", Value::Text("secret".into())),
        ("secret", Value::Integer(0)),
    ];
    for (column, value) in cases {
        let (_dir, path, store, a, b) = setup();
        set_column(&path, &a.meta.id, column, value.clone());
        assert_row_corrupt(&store, &path, &a);
        // Listing skips the damaged row (the other one still lists) and reports it as unreadable.
        let listed = store.list_all().unwrap();
        assert_eq!(listed.len(), 1, "{column} = {value:?}: list_all");
        assert_eq!(listed[0].id, b.meta.id);
        // A non-text rp_id no longer matches a text RP ID, so it is simply not listed for that RP.
        assert!(store.list_for_rp(&a.meta.rp_id).unwrap().is_empty());
        let unreadable = store.unreadable().unwrap();
        assert_eq!(unreadable.len(), 1, "{column} = {value:?}: unreadable");
        assert_eq!(unreadable[0].id, a.meta.id);
        // Other RPs' rows are unaffected.
        assert_eq!(store.list_for_rp("b.example").unwrap().len(), 1);
    }
    // Invalid UTF-8 stored as text.
    let (_dir, path, store, a, _b) = setup();
    raw(&path)
        .execute(
            "UPDATE credentials SET user_name = CAST(x'c328' AS TEXT) WHERE id = ?1",
            params![a.meta.id],
        )
        .unwrap();
    assert_eq!(store.list_all().unwrap().len(), 1);
    assert_eq!(store.unreadable().unwrap()[0].id, a.meta.id);
    assert_row_corrupt(&store, &path, &a);
}

#[test]
fn hybrid_state_tampering_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open(&path);
    store.put_secret("identity", b"identity key bytes").unwrap();
    store.put_secret("root", b"root secret bytes").unwrap();
    let conn = raw(&path);
    let sealed = |name: &str| -> Vec<u8> {
        conn.query_row(
            "SELECT sealed FROM hybrid_secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (si, sr) = (sealed("identity"), sealed("root"));
    let set = |name: &str, v: Value| {
        conn.execute(
            "UPDATE hybrid_secrets SET sealed = ?2 WHERE name = ?1",
            params![name, v],
        )
        .unwrap();
    };
    set("identity", Value::Blob(sr.clone()));
    set("root", Value::Blob(si.clone()));
    assert!(is_corrupt(store.get_secret("identity")));
    assert!(is_corrupt(store.get_secret("root")));
    set("identity", Value::Text("x".into()));
    assert!(is_corrupt(store.get_secret("identity")));
    set("identity", Value::Blob(si[..10].to_vec()));
    assert!(is_corrupt(store.get_secret("identity")));
    set("identity", Value::Blob(si));
    assert_eq!(
        store.get_secret("identity").unwrap().unwrap().as_slice(),
        b"identity key bytes"
    );

    let link = LinkedDesktop {
        link_id: [1, 2, 3, 4, 5, 6, 7, 8],
        desktop_name: "desk".into(),
        created_at: 5,
        tunnel_domain: "cable.example".into(),
    };
    store.put_link(&link).unwrap();
    for (column, value) in [
        ("link_id", Value::Blob(vec![1, 2, 3])),
        ("desktop_name", Value::Blob(b"desk".to_vec())),
        ("created_at", Value::Integer(-1)),
        ("tunnel_domain", Value::Blob(vec![0xff])),
    ] {
        conn.execute("DELETE FROM linked_desktops", []).unwrap();
        store.put_link(&link).unwrap();
        conn.execute(
            &format!("UPDATE linked_desktops SET {column} = ?1"),
            params![value],
        )
        .unwrap();
        assert!(is_corrupt(store.list_links()), "{column}");
    }
}

#[test]
fn deleted_data_key_is_corrupt_not_a_silent_new_key() {
    let (_dir, path, store, _a, _b) = setup();
    drop(store);
    raw(&path)
        .execute("DELETE FROM meta WHERE name = 'wrapped_data_key'", [])
        .unwrap();
    assert!(is_corrupt(SqliteStore::open(&path, protector())));
}

#[test]
fn altered_key_check_is_refused() {
    let (_dir, path, store, _a, _b) = setup();
    drop(store);
    let conn = raw(&path);
    let mut check: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE name = 'data_key_check'", [], |r| {
            r.get(0)
        })
        .unwrap();
    check[20] ^= 0x80;
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE name = 'data_key_check'",
        params![check],
    )
    .unwrap();
    assert!(matches!(
        SqliteStore::open(&path, protector()),
        Err(StoreError::KeyProtector(_))
    ));
}

mod random_rows {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    const COLUMNS: [&str; 15] = [
        "id",
        "rp_id",
        "rp_name",
        "user_id",
        "user_name",
        "user_display_name",
        "algorithm",
        "discoverable",
        "cred_protect",
        "backup_eligible",
        "backup_state",
        "sign_count",
        "created_at",
        "cred_blob",
        "secret",
    ];

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Integer),
            (-3i64..300).prop_map(Value::Integer),
            any::<f64>().prop_map(Value::Real),
            ".{0,12}".prop_map(Value::Text),
            proptest::collection::vec(any::<u8>(), 0..120).prop_map(Value::Blob),
        ]
    }

    /// Random values of random types in random columns, then random bytes as the sealed blob: every
    /// operation returns normally (never panics); reading the damaged row either succeeds with the original
    /// secret or reports `Corrupt`; random secret bytes never authenticate. One store file serves all cases
    /// (the runner is driven by hand so setup is not repeated per case).
    #[test]
    fn random_column_values_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = open(&path);
        let conn = raw(&path);
        let a = credential(1, "a.example", false);
        let strategy = (
            proptest::collection::vec((0..COLUMNS.len(), any_value()), 1..4),
            proptest::collection::vec(any::<u8>(), 0..120),
        );
        let mut runner = TestRunner::new(Config {
            cases: 128,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |(edits, random_secret)| {
                conn.execute("DELETE FROM credentials", []).unwrap();
                store.insert(&a).unwrap();
                for (col, value) in &edits {
                    // NOT NULL columns refuse nulls at the SQL level; the row then stays as it was.
                    let _ = conn.execute(
                        &format!("UPDATE credentials SET {} = ?1", COLUMNS[*col]),
                        params![value],
                    );
                }
                let listed = store.list_all();
                prop_assert!(listed.is_ok() || is_corrupt(listed));
                let id = match conn.query_row("SELECT id FROM credentials", [], |r| r.get::<_, Value>(0)) {
                    Ok(Value::Blob(b)) => b,
                    _ => a.meta.id.clone(),
                };
                match store.get(&id) {
                    Ok(Some(c)) => prop_assert_eq!(&c.secret, &a.secret),
                    Ok(None) => {}
                    Err(e) => prop_assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}"),
                }
                let r = store.increment_sign_count(&id);
                prop_assert!(!matches!(r, Err(StoreError::KeyProtector(_))), "{r:?}");

                conn.execute("UPDATE credentials SET secret = ?1", params![random_secret])
                    .unwrap();
                match store.get(&id) {
                    Ok(None) => {}
                    other => prop_assert!(is_corrupt(other)),
                }
                Ok(())
            })
            .unwrap();
    }
}
