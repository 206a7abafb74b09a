//! The CredentialStore contract over a real SQLite file.

mod common;

use std::sync::Arc;

use common::{credential, open, protector, secret_bytes};
use tandem_engine::store::{CredentialStore, StoreError};
use tandem_store::{KeyProtector, ProtectorError, SoftwareKeyProtector, SqliteStore};
use zeroize::Zeroizing;

#[test]
fn insert_get_round_trip_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let c = credential(1, "example.com", true);
    open(&path).insert(&c).unwrap();
    let store = open(&path);
    let got = store.get(&c.meta.id).unwrap().expect("present");
    assert_eq!(got.meta, c.meta);
    assert_eq!(got.secret.as_slice(), secret_bytes(1).as_slice());
    assert!(store.get(b"nope").unwrap().is_none());
}

#[test]
fn lists_are_newest_first_and_filtered_by_rp() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    for (n, rp) in [
        (1, "a.example"),
        (3, "b.example"),
        (2, "a.example"),
        (5, "a.example"),
    ] {
        store.insert(&credential(n, rp, false)).unwrap();
    }
    // Same created_at as credential 5, inserted later: later insertion counts as newer.
    let mut tie = credential(6, "a.example", false);
    tie.meta.created_at = credential(5, "a.example", false).meta.created_at;
    store.insert(&tie).unwrap();
    let ids =
        |v: Vec<tandem_engine::store::CredentialMeta>| v.into_iter().map(|m| m.id[1]).collect::<Vec<_>>();
    assert_eq!(ids(store.list_for_rp("a.example").unwrap()), vec![6, 5, 2, 1]);
    assert_eq!(ids(store.list_for_rp("b.example").unwrap()), vec![3]);
    assert!(store.list_for_rp("c.example").unwrap().is_empty());
    assert_eq!(ids(store.list_all().unwrap()), vec![6, 5, 3, 2, 1]);
}

#[test]
fn discoverable_insert_replaces_same_rp_and_user_only() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    let old = credential(1, "example.com", true);
    let non_disc = {
        let mut c = credential(2, "example.com", false);
        c.meta.user_id = old.meta.user_id.clone();
        c
    };
    let other_rp = {
        let mut c = credential(3, "other.example", true);
        c.meta.user_id = old.meta.user_id.clone();
        c
    };
    let other_user = credential(4, "example.com", true);
    for c in [&old, &non_disc, &other_rp, &other_user] {
        store.insert(c).unwrap();
    }
    let mut new = credential(9, "example.com", true);
    new.meta.user_id = old.meta.user_id.clone();
    store.insert(&new).unwrap();
    assert!(
        store.get(&old.meta.id).unwrap().is_none(),
        "old discoverable credential replaced"
    );
    for c in [&non_disc, &other_rp, &other_user, &new] {
        assert!(store.get(&c.meta.id).unwrap().is_some());
    }
    assert_eq!(store.list_all().unwrap().len(), 4);
}

#[test]
fn duplicate_id_is_refused_without_side_effects() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    let a = credential(1, "example.com", false);
    let x = credential(3, "example.com", true);
    store.insert(&a).unwrap();
    store.insert(&x).unwrap();
    // b would replace x (same RP and user, discoverable) but reuses a's ID: the whole insert must roll back.
    let mut b = credential(2, "example.com", true);
    b.meta.id = a.meta.id.clone();
    b.meta.user_id = x.meta.user_id.clone();
    assert!(matches!(store.insert(&b), Err(StoreError::Database(_))));
    assert_eq!(store.get(&a.meta.id).unwrap().unwrap().meta, a.meta);
    assert_eq!(store.get(&x.meta.id).unwrap().unwrap().meta, x.meta);
    assert_eq!(store.list_all().unwrap().len(), 2);
}

#[test]
fn counter_rename_delete() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    let a = credential(1, "example.com", true);
    let b = credential(2, "example.com", false);
    store.insert(&a).unwrap();
    store.insert(&b).unwrap();
    assert_eq!(store.increment_sign_count(&a.meta.id).unwrap(), 1);
    assert_eq!(store.increment_sign_count(&a.meta.id).unwrap(), 2);
    assert_eq!(store.get(&a.meta.id).unwrap().unwrap().meta.sign_count, 2);
    assert_eq!(store.get(&b.meta.id).unwrap().unwrap().meta.sign_count, 0);
    assert!(matches!(
        store.increment_sign_count(b"missing"),
        Err(StoreError::NotFound)
    ));

    store.rename(&a.meta.id, "Work account").unwrap();
    let got = store.get(&a.meta.id).unwrap().unwrap();
    assert_eq!(got.meta.user_display_name.as_deref(), Some("Work account"));
    assert_eq!(
        got.secret.as_slice(),
        secret_bytes(1).as_slice(),
        "rename keeps the secret readable"
    );
    assert!(matches!(store.rename(b"missing", "x"), Err(StoreError::NotFound)));

    store.delete(&a.meta.id).unwrap();
    assert!(store.get(&a.meta.id).unwrap().is_none());
    assert!(matches!(store.delete(&a.meta.id), Err(StoreError::NotFound)));
    store.insert(&credential(3, "x.example", false)).unwrap();
    assert_eq!(store.delete_all().unwrap(), 2);
    assert!(store.list_all().unwrap().is_empty());
    assert_eq!(store.delete_all().unwrap(), 0);
}

/// `replace_secret` swaps the secret of one row (sealed and bound like an inserted one, surviving reopen)
/// and leaves the others alone.
#[test]
fn replace_secret_rewrites_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let a = credential(1, "example.com", true);
    let b = credential(2, "example.com", false);
    let store = open(&path);
    store.insert(&a).unwrap();
    store.insert(&b).unwrap();
    store.replace_secret(&a.meta.id, b"resealed secret").unwrap();
    drop(store);
    let store = open(&path);
    let got = store.get(&a.meta.id).unwrap().unwrap();
    assert_eq!(got.secret.as_slice(), b"resealed secret");
    assert_eq!(got.meta, a.meta);
    assert_eq!(
        store.get(&b.meta.id).unwrap().unwrap().secret.as_slice(),
        secret_bytes(2).as_slice()
    );
    assert!(store.unreadable().unwrap().is_empty());
    assert!(matches!(
        store.replace_secret(b"missing", b"x"),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn counter_exhaustion_is_an_error_not_a_wrap() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    let mut c = credential(1, "example.com", false);
    c.meta.sign_count = u32::MAX - 1;
    store.insert(&c).unwrap();
    assert_eq!(store.increment_sign_count(&c.meta.id).unwrap(), u32::MAX);
    assert!(matches!(
        store.increment_sign_count(&c.meta.id),
        Err(StoreError::Database(_))
    ));
    assert_eq!(store.get(&c.meta.id).unwrap().unwrap().meta.sign_count, u32::MAX);
}

#[test]
fn optional_fields_and_extremes_round_trip() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    let mut c = credential(1, "example.com", false);
    c.meta.rp_name = None;
    c.meta.user_name = None;
    c.meta.user_display_name = None;
    c.meta.cred_blob = None;
    c.meta.algorithm = i64::MIN;
    c.meta.created_at = i64::MAX as u64;
    c.meta.cred_protect = 3;
    c.secret = Zeroizing::new(Vec::new());
    store.insert(&c).unwrap();
    let got = store.get(&c.meta.id).unwrap().unwrap();
    assert_eq!(got.meta, c.meta);
    assert!(got.secret.is_empty());
    let mut too_late = credential(2, "example.com", false);
    too_late.meta.created_at = u64::MAX;
    assert!(matches!(store.insert(&too_late), Err(StoreError::Database(_))));
}

/// A protector whose keystore is unavailable.
struct BrokenProtector;

impl KeyProtector for BrokenProtector {
    fn wrap(&self, _: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        Err(ProtectorError::Unavailable("keystore locked".into()))
    }
    fn unwrap(&self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtectorError> {
        Err(ProtectorError::Unavailable("keystore locked".into()))
    }
}

/// A protector that "unwraps" to a fixed key of its choosing, whatever it is given.
struct LyingProtector(Vec<u8>);

impl KeyProtector for LyingProtector {
    fn wrap(&self, _: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        Ok(self.0.clone())
    }
    fn unwrap(&self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtectorError> {
        Ok(Zeroizing::new(self.0.clone()))
    }
}

#[test]
fn failing_protector_is_a_key_protector_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    // New database: wrapping fails, nothing is half-created, a later good open works.
    assert!(matches!(
        SqliteStore::open(&path, Arc::new(BrokenProtector)),
        Err(StoreError::KeyProtector(_))
    ));
    assert!(matches!(
        SqliteStore::open_in_memory(Arc::new(BrokenProtector)),
        Err(StoreError::KeyProtector(_))
    ));
    let c = credential(1, "example.com", true);
    open(&path).insert(&c).unwrap();
    // Existing database: unwrapping fails.
    assert!(matches!(
        SqliteStore::open(&path, Arc::new(BrokenProtector)),
        Err(StoreError::KeyProtector(_))
    ));
    // A different software key cannot unwrap this database's data key.
    let other = Arc::new(SoftwareKeyProtector::from_key_bytes(&[0x43; 32]));
    assert!(matches!(
        SqliteStore::open(&path, other),
        Err(StoreError::KeyProtector(_))
    ));
    // A protector that releases a wrong-length or wrong key is caught too.
    assert!(matches!(
        SqliteStore::open(&path, Arc::new(LyingProtector(vec![1; 16]))),
        Err(StoreError::KeyProtector(_))
    ));
    assert!(matches!(
        SqliteStore::open(&path, Arc::new(LyingProtector(vec![1; 32]))),
        Err(StoreError::KeyProtector(_))
    ));
    // The right key still works afterwards.
    assert_eq!(
        open(&path).get(&c.meta.id).unwrap().unwrap().secret.as_slice(),
        secret_bytes(1).as_slice()
    );
}

/// A protector whose wrapping key is permanently gone (Android: screen lock removed).
struct InvalidatedProtector;

impl KeyProtector for InvalidatedProtector {
    fn wrap(&self, _: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        Err(ProtectorError::KeyInvalidated(
            "key permanently invalidated".into(),
        ))
    }
    fn unwrap(&self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtectorError> {
        Err(ProtectorError::KeyInvalidated(
            "key permanently invalidated".into(),
        ))
    }
}

#[test]
fn invalidated_key_is_its_own_error_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let c = credential(1, "example.com", true);
    open(&path).insert(&c).unwrap();
    let before = common::dump(&path);
    let r = SqliteStore::open(&path, Arc::new(InvalidatedProtector));
    assert!(
        matches!(&r, Err(StoreError::KeyInvalidated(reason)) if reason.contains("permanently")),
        "{r:?}"
    );
    // Distinct from the transient kind, so an app can tell "try again" from "start over".
    assert!(matches!(
        SqliteStore::open(&path, Arc::new(BrokenProtector)),
        Err(StoreError::KeyProtector(_))
    ));
    // Nothing is deleted or rewritten behind the user's back: starting over is the app's explicit step.
    assert_eq!(common::dump(&path), before);
    assert!(open(&path).get(&c.meta.id).unwrap().is_some());
}

#[test]
fn garbage_file_is_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        SqliteStore::open(&path, protector()),
        Err(StoreError::Corrupt(_))
    ));
}
