//! The engine's CTAP entry point (`Authenticator::handle_ctap`) with a real in-memory SQLite store and an
//! approving user: never panics, always answers a status byte, and every success body is canonical CBOR.
#![no_main]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::store::CredentialStore;
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_store::{SoftwareKeyProtector, SqliteStore};

struct Approve;
impl UserVerifier for Approve {
    fn verify(&self, _: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(UvKey::from_array([0x75; 32]))
    }
}
impl AccountChooser for Approve {
    fn choose(&self, _: &str, accounts: &[AccountInfo]) -> Option<usize> {
        (!accounts.is_empty()).then_some(accounts.len() - 1)
    }
}

fn engine() -> &'static (Authenticator, Arc<SqliteStore>) {
    static ENGINE: OnceLock<(Authenticator, Arc<SqliteStore>)> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let store = Arc::new(
            SqliteStore::open_in_memory(Arc::new(SoftwareKeyProtector::from_key_bytes(&[7; 32])))
                .expect("in-memory store"),
        );
        // The direct profile enables every command and extension (ClientPIN, hmac-secret, ...).
        let engine = Authenticator::new(
            AuthenticatorConfig::direct(),
            store.clone(),
            Arc::new(Approve),
            Arc::new(Approve),
        );
        (engine, store)
    })
}

/// Inputs between store wipes: credentials made by earlier inputs are kept for a while (so assertions
/// find something), but long runs do not grow the in-memory database without bound.
const WIPE_EVERY: u32 = 4096;

fuzz_target!(|data: &[u8]| {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let (engine, store) = engine();
    if RUNS.fetch_add(1, Ordering::Relaxed) % WIPE_EVERY == WIPE_EVERY - 1 {
        store.delete_all().expect("in-memory store wipe");
    }
    let reply = engine.handle_ctap(data);
    let (&status, body) = reply
        .split_first()
        .expect("handle_ctap always answers a status byte");
    if status == 0 && !body.is_empty() {
        tandem_cbor::decode_canonical(body).expect("success bodies are canonical CBOR");
    } else if status != 0 {
        assert!(body.is_empty(), "error replies carry no body");
    }
});
