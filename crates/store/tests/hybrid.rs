//! Hybrid linking state: named secrets and linked desktops.

mod common;

use common::{open, protector};
use tandem_engine::store::{CredentialStore, StoreError};
use tandem_store::{HybridStateStore, LinkedDesktop, SqliteStore};

fn link(n: u8, created_at: u64) -> LinkedDesktop {
    LinkedDesktop {
        link_id: [n, 1, 2, 3, 4, 5, 6, n],
        desktop_name: format!("Desktop {n}"),
        created_at,
        tunnel_domain: "cable.example".into(),
    }
}

#[test]
fn secrets_round_trip_replace_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open(&path);
    assert!(store.get_secret("identity").unwrap().is_none());
    store.put_secret("identity", b"first").unwrap();
    store.put_secret("root", &[0u8; 32]).unwrap();
    store.put_secret("identity", b"second").unwrap();
    store.put_secret("", b"empty name is a name").unwrap();
    store.put_secret("empty", b"").unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(
        store.get_secret("identity").unwrap().unwrap().as_slice(),
        b"second"
    );
    assert_eq!(store.get_secret("root").unwrap().unwrap().as_slice(), &[0u8; 32]);
    assert_eq!(
        store.get_secret("").unwrap().unwrap().as_slice(),
        b"empty name is a name"
    );
    assert!(store.get_secret("empty").unwrap().unwrap().is_empty());
    assert!(store.delete_secret("identity").unwrap());
    assert!(!store.delete_secret("identity").unwrap());
    assert!(store.get_secret("identity").unwrap().is_none());
    // Secrets are independent of credentials: deleting every credential keeps them.
    store.delete_all().unwrap();
    assert!(store.get_secret("root").unwrap().is_some());
}

#[test]
fn links_list_newest_first_replace_and_delete() {
    let store = SqliteStore::open_in_memory(protector()).unwrap();
    assert!(store.list_links().unwrap().is_empty());
    store.put_link(&link(1, 100)).unwrap();
    store.put_link(&link(2, 300)).unwrap();
    store.put_link(&link(3, 200)).unwrap();
    let order = |s: &SqliteStore| {
        s.list_links()
            .unwrap()
            .iter()
            .map(|l| l.link_id[0])
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&store), vec![2, 3, 1]);
    // Re-linking the same desktop replaces its record.
    let mut renamed = link(1, 400);
    renamed.desktop_name = "Renamed".into();
    renamed.tunnel_domain = "other.example".into();
    store.put_link(&renamed).unwrap();
    assert_eq!(order(&store), vec![1, 2, 3]);
    assert_eq!(store.get_link(&renamed.link_id).unwrap(), Some(renamed.clone()));
    store.delete_link(&link(2, 0).link_id).unwrap();
    assert!(matches!(
        store.delete_link(&link(2, 0).link_id),
        Err(StoreError::NotFound)
    ));
    assert!(store.get_link(&link(2, 0).link_id).unwrap().is_none());
    assert_eq!(order(&store), vec![1, 3]);
    let mut far = link(9, u64::MAX);
    assert!(matches!(store.put_link(&far), Err(StoreError::Database(_))));
    far.created_at = i64::MAX as u64;
    store.put_link(&far).unwrap();
    assert_eq!(store.get_link(&far.link_id).unwrap(), Some(far));
}
