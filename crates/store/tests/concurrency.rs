//! Concurrent use: the signature counter is strictly increasing and gap-free under contention, within one
//! store shared by threads and across two stores (two connections) on the same file.

mod common;

use std::sync::Arc;
use std::thread;

use common::{credential, open};
use tandem_engine::store::CredentialStore;

const THREADS: usize = 4;
const PER_THREAD: usize = 25;

/// Runs `THREADS` threads, each incrementing `id` `PER_THREAD` times on the store it is given, and checks
/// that the returned values are exactly 1..=total with no repeats, each thread seeing its own values rise.
fn hammer(stores: Vec<Arc<dyn CredentialStore>>, id: &[u8]) {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = stores[t % stores.len()].clone();
            let id = id.to_vec();
            thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|_| store.increment_sign_count(&id).unwrap())
                    .collect::<Vec<u32>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        let seen = h.join().unwrap();
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "per-thread values rise: {seen:?}"
        );
        all.extend(seen);
    }
    all.sort_unstable();
    let total = (THREADS * PER_THREAD) as u32;
    assert_eq!(
        all,
        (1..=total).collect::<Vec<_>>(),
        "gap-free and without repeats"
    );
    let final_count = stores[0].get(id).unwrap().unwrap().meta.sign_count;
    assert_eq!(final_count, total);
}

#[test]
fn shared_store_counter_is_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn CredentialStore> = Arc::new(open(&dir.path().join("s.db")));
    let c = credential(1, "example.com", true);
    store.insert(&c).unwrap();
    hammer(vec![store], &c.meta.id);
}

#[test]
fn two_connections_counter_is_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let first: Arc<dyn CredentialStore> = Arc::new(open(&path));
    let c = credential(1, "example.com", true);
    first.insert(&c).unwrap();
    let second: Arc<dyn CredentialStore> = Arc::new(open(&path));
    hammer(vec![first, second], &c.meta.id);
}

#[test]
fn concurrent_inserts_and_reads_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir.path().join("s.db")));
    let handles: Vec<_> = (0..THREADS as u8)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                for k in 0..10u8 {
                    let c = credential(t * 10 + k, &format!("rp{t}.example"), true);
                    store.insert(&c).unwrap();
                    assert_eq!(store.get(&c.meta.id).unwrap().unwrap().secret, c.secret);
                    assert!(!store.list_for_rp(&c.meta.rp_id).unwrap().is_empty());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(store.list_all().unwrap().len(), THREADS * 10);
}
