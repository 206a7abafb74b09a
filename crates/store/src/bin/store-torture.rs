//! Durability torture helper: inserts credentials into a store file in a loop and prints
//! `created <hex id>` after each insert has committed, so a test can kill it at any moment and check that
//! everything it reported survived.
//!
//! Usage: `store-torture <database> <key file> <max inserts> <max seconds>`. It stops by itself after
//! `max inserts` credentials or `max seconds`, whichever comes first. Each credential's secret is derived
//! from its ID (see [`secret_for`]) so the checker can verify contents without a side channel.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tandem_engine::store::{CredentialMeta, CredentialStore, StoredCredential};
use tandem_store::{SoftwareKeyProtector, SqliteStore};
use zeroize::Zeroizing;

/// The secret the torture loop stores for credential `id`: the ID repeated to 48 bytes, each byte XOR 0x5a.
fn secret_for(id: &[u8]) -> Vec<u8> {
    id.iter().cycle().take(48).map(|b| b ^ 0x5a).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(args: &[String]) -> Result<(), String> {
    let [db, key_file, max_count, max_secs] = args else {
        return Err("usage: store-torture <database> <key file> <max inserts> <max seconds>".into());
    };
    let max_count: u64 = max_count.parse().map_err(|e| format!("max inserts: {e}"))?;
    let max_secs: u64 = max_secs.parse().map_err(|e| format!("max seconds: {e}"))?;
    let protector =
        SoftwareKeyProtector::load_or_create(&PathBuf::from(key_file)).map_err(|e| e.to_string())?;
    let store = SqliteStore::open(db, Arc::new(protector)).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(max_secs);
    let mut stdout = std::io::stdout().lock();
    for n in 0..max_count {
        if Instant::now() >= deadline {
            break;
        }
        let mut id = vec![0u8; 16];
        getrandom::fill(&mut id).map_err(|e| e.to_string())?;
        let created_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let credential = StoredCredential {
            meta: CredentialMeta {
                id: id.clone(),
                rp_id: format!("rp{}.example", n % 7),
                rp_name: Some("Torture RP".into()),
                // Unique per credential, so no discoverable credential replaces an earlier one.
                user_id: id.clone(),
                user_name: Some(format!("user{n}")),
                user_display_name: None,
                algorithm: -7,
                discoverable: n % 2 == 0,
                cred_protect: 1,
                backup_eligible: false,
                backup_state: false,
                sign_count: 0,
                created_at,
                cred_blob: None,
            },
            secret: Zeroizing::new(secret_for(&id)),
        };
        store.insert(&credential).map_err(|e| e.to_string())?;
        // Also churn existing pages: bump the counter of the credential just written.
        store.increment_sign_count(&id).map_err(|e| e.to_string())?;
        writeln!(stdout, "created {}", hex(&id)).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store-torture: {e}");
            ExitCode::FAILURE
        }
    }
}
