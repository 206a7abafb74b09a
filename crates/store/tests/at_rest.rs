//! Nothing secret reaches the disk in the clear: scan the raw database, WAL and shared-memory files.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{credential, open, secret_bytes};
use tandem_engine::store::CredentialStore;
use tandem_store::HybridStateStore;

/// The raw bytes of the database file and its `-wal` / `-shm` companions (whichever exist).
fn raw_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            out.push((suffix.to_owned(), bytes));
        }
    }
    out
}

/// Whether any 16-byte window of `needle` (or all of it, if shorter) appears in any of the files, so
/// partial leaks count too.
fn leaks(files: &[(String, Vec<u8>)], needle: &[u8]) -> Option<String> {
    let window = needle.len().min(16);
    let chunks: HashSet<&[u8]> = needle.windows(window).collect();
    files
        .iter()
        .find(|(_, bytes)| bytes.windows(window).any(|w| chunks.contains(w)))
        .map(|(name, _)| format!("file{name}"))
}

const HYBRID_SECRET: &[u8] = b"\x01\x9a hybrid identity private key material \xfe\x33";
const MARKER: &str = "visible-marker-7f3a9c";

#[test]
fn secrets_never_appear_in_database_or_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open(&path);
    for n in 1..=5 {
        let mut c = credential(n, "example.com", n % 2 == 0);
        c.meta.user_name = Some(format!("{MARKER}-{n}"));
        store.insert(&c).unwrap();
        store.increment_sign_count(&c.meta.id).unwrap();
    }
    store.put_secret("identity", HYBRID_SECRET).unwrap();

    // While open, recent pages live in the WAL: check that it exists and holds data.
    let files = raw_files(&path);
    assert!(
        files.iter().any(|(n, b)| n == "-wal" && !b.is_empty()),
        "expected a non-empty WAL"
    );
    check(&files);

    drop(store);
    let files = raw_files(&path);
    check(&files);
}

fn check(files: &[(String, Vec<u8>)]) {
    // Control: non-secret metadata is stored in the clear, so the scan is looking at the right bytes.
    assert!(
        leaks(files, format!("{MARKER}-3").as_bytes()).is_some(),
        "control marker not found"
    );
    for n in 1..=5 {
        assert_eq!(
            leaks(files, &secret_bytes(n)),
            None,
            "credential {n}'s secret leaked"
        );
    }
    assert_eq!(leaks(files, HYBRID_SECRET), None, "hybrid secret leaked");
    // The software protector's key is never written to the database either.
    assert_eq!(leaks(files, &[0x42; 32]), None, "protector key leaked");
}

#[test]
fn deleted_metadata_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = open(&path);
    let mut c = credential(1, "private-rp.example", true);
    c.meta.user_name = Some(MARKER.to_owned());
    store.insert(&c).unwrap();
    store.insert(&credential(2, "other.example", true)).unwrap();
    drop(store);
    assert!(
        leaks(&raw_files(&path), MARKER.as_bytes()).is_some(),
        "control: marker written"
    );
    let store = open(&path);
    store.delete(&c.meta.id).unwrap();
    drop(store);
    // secure_delete zeroes freed cells, and closing checkpoints and removes the WAL's old page images.
    assert_eq!(leaks(&raw_files(&path), MARKER.as_bytes()), None);
}
