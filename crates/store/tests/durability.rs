//! Crash durability: a writer process is SIGKILLed mid-stream; every credential it reported as created must
//! be present and decryptable afterwards, and the database must pass SQLite's integrity check.
#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use tandem_engine::store::CredentialStore;
use tandem_store::{SoftwareKeyProtector, SqliteStore};

const ROUNDS: usize = 3;
/// Hard bounds handed to the helper so it always stops by itself.
const MAX_INSERTS: &str = "400";
const MAX_SECONDS: &str = "30";

/// Must match `secret_for` in `src/bin/store-torture.rs`.
fn secret_for(id: &[u8]) -> Vec<u8> {
    id.iter().cycle().take(48).map(|b| b ^ 0x5a).collect()
}

fn random_below(n: u32) -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    u32::from_le_bytes(b) % n
}

/// Runs the helper until it has reported `kill_after` credentials, SIGKILLs it, and returns every ID it
/// reported (including lines still in the pipe when it died).
fn run_and_kill(db: &Path, key: &Path, kill_after: usize) -> Vec<Vec<u8>> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-torture"))
        .args([db.as_os_str(), key.as_os_str()])
        .args([MAX_INSERTS, MAX_SECONDS])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn store-torture");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut ids = Vec::new();
    let parse = |line: String| -> Vec<u8> {
        let hex_id = line
            .strip_prefix("created ")
            .unwrap_or_else(|| panic!("unexpected output line {line:?}"));
        hex::decode(hex_id).unwrap()
    };
    while ids.len() < kill_after {
        match lines.next() {
            Some(line) => ids.push(parse(line.unwrap())),
            None => break,
        }
    }
    // std's kill is SIGKILL on Unix: no destructors, no checkpoint, no flush.
    let _ = child.kill();
    for line in lines {
        ids.push(parse(line.unwrap()));
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        // It finished on its own before the kill: only acceptable if it hit its bounds, not an error.
        assert!(ids.len() >= kill_after || ids.len() == MAX_INSERTS.parse::<usize>().unwrap());
    } else {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(9),
            "helper failed instead of being killed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ids
}

#[test]
fn killed_writer_loses_nothing_it_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("torture.db");
    let key = dir.path().join("torture.key");
    let mut reported: Vec<Vec<u8>> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = 3 + random_below(40) as usize;
        let ids = run_and_kill(&db, &key, kill_after);
        assert!(!ids.is_empty(), "round {round}: helper reported nothing");
        reported.extend(ids);

        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(conn);

        let protector = SoftwareKeyProtector::load_or_create(&key).unwrap();
        let store = SqliteStore::open(&db, Arc::new(protector)).unwrap();
        for id in &reported {
            let c = store
                .get(id)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: reported credential {} lost", hex::encode(id)));
            assert_eq!(c.secret.as_slice(), secret_for(id).as_slice());
            assert_eq!(
                c.meta.sign_count, 1,
                "the counter bump was committed before the report"
            );
        }
        // Each kill can leave at most one credential committed but not yet reported.
        let stored: HashSet<Vec<u8>> = store.list_all().unwrap().into_iter().map(|m| m.id).collect();
        let reported_set: HashSet<Vec<u8>> = reported.iter().cloned().collect();
        assert!(reported_set.is_subset(&stored));
        assert!(
            stored.len() - reported_set.len() <= round + 1,
            "round {round}: unexpected extra credentials"
        );
    }
}
