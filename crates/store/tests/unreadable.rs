//! One damaged row is not the end: listing and sign-in skip unreadable rows and `unreadable` reports them,
//! so the user can delete them and keep using the rest.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{open, raw, set_column};
use rusqlite::params;
use rusqlite::types::Value as Sql;
use tandem_cbor::Value;
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::store::{CredentialMeta, CredentialStore, StoredCredential};
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_engine::{COSE_ES256, CredentialKey, CredentialSecret};
use tandem_store::SqliteStore;

const RP: &str = "a.example";

/// A discoverable credential for `rp_id` with a real engine secret (so the engine can sign with it).
fn signing_credential(n: u8, rp_id: &str) -> StoredCredential {
    let secret = CredentialSecret::generate(CredentialKey::generate(COSE_ES256).unwrap(), false).unwrap();
    StoredCredential {
        meta: CredentialMeta {
            id: vec![0xc0, n, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
            rp_id: rp_id.to_owned(),
            rp_name: None,
            user_id: vec![0x75, n],
            user_name: Some(format!("user{n}")),
            user_display_name: None,
            algorithm: COSE_ES256,
            discoverable: true,
            cred_protect: 1,
            backup_eligible: false,
            backup_state: false,
            sign_count: 0,
            created_at: 1_700_000_000 + u64::from(n),
            cred_blob: None,
        },
        secret: secret.to_blob(),
    }
}

/// Flips one bit of a row's sealed secret.
fn damage_secret(path: &Path, id: &[u8]) {
    let mut sealed: Vec<u8> = raw(path)
        .query_row("SELECT secret FROM credentials WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    set_column(path, id, "secret", Sql::Blob(sealed));
}

/// Three credentials for [`RP`] (1 intact, 2 with a damaged secret, 3 with damaged metadata) and an intact
/// one for another RP.
fn damaged_store() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Arc<SqliteStore>,
    [StoredCredential; 4],
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Arc::new(open(&path));
    let creds = [
        signing_credential(1, RP),
        signing_credential(2, RP),
        signing_credential(3, RP),
        signing_credential(4, "b.example"),
    ];
    for c in &creds {
        store.insert(c).unwrap();
    }
    damage_secret(&path, &creds[1].meta.id);
    set_column(&path, &creds[2].meta.id, "discoverable", Sql::Integer(2));
    (dir, path, store, creds)
}

#[test]
fn listing_skips_unreadable_rows_and_reports_them() {
    let (_dir, path, store, [good, bad_secret, bad_meta, other]) = damaged_store();
    let ids = |v: Vec<CredentialMeta>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_for_rp(RP).unwrap()), vec![good.meta.id.clone()]);
    assert_eq!(
        ids(store.list_all().unwrap()),
        vec![other.meta.id.clone(), good.meta.id.clone()]
    );
    let unreadable = store.unreadable().unwrap();
    assert_eq!(
        unreadable.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        vec![bad_meta.meta.id.clone(), bad_secret.meta.id.clone()]
    );
    assert!(unreadable.iter().all(|u| u.rp_id.as_deref() == Some(RP)));
    assert!(
        unreadable[0].reason.contains("discoverable"),
        "{:?}",
        unreadable[0]
    );

    // The user deletes what is reported; the intact credentials are untouched.
    store.delete(&bad_secret.meta.id).unwrap();
    store.delete(&bad_meta.meta.id).unwrap();
    assert!(store.unreadable().unwrap().is_empty());
    assert_eq!(store.list_all().unwrap().len(), 2);

    // Even a row whose ID is not a blob any more is reported by an ID that deletes it.
    let c5 = signing_credential(5, RP);
    store.insert(&c5).unwrap();
    set_column(&path, &c5.meta.id, "id", Sql::Text("broken".into()));
    let [u] = <[_; 1]>::try_from(store.unreadable().unwrap()).unwrap();
    assert_eq!(u.id, b"broken");
    store.delete(&u.id).unwrap();
    assert!(store.unreadable().unwrap().is_empty());
    assert_eq!(store.list_all().unwrap().len(), 2);
}

struct AlwaysYes;
impl UserVerifier for AlwaysYes {
    fn verify(&self, _: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(UvKey::from_array([0x75; 32]))
    }
}

#[derive(Default)]
struct RecordingChooser(Mutex<Vec<usize>>);
impl AccountChooser for RecordingChooser {
    fn choose(&self, _: &str, accounts: &[AccountInfo]) -> Option<usize> {
        self.0.lock().unwrap().push(accounts.len());
        Some(0)
    }
}

/// getAssertion for [`RP`] with an optional allow list; the status and the credential ID that signed.
fn get_assertion(auth: &Authenticator, allow: &[&[u8]]) -> (u8, Option<Vec<u8>>) {
    let mut params = Value::map().insert(1, RP).insert(2, vec![0x5a; 32]);
    if !allow.is_empty() {
        let list = allow
            .iter()
            .map(|id| {
                Value::map()
                    .insert("id", id.to_vec())
                    .insert("type", "public-key")
                    .build()
            })
            .collect();
        params = params.insert(3, Value::Array(list));
    }
    let mut msg = vec![0x02];
    msg.extend(params.build().to_vec());
    let resp = auth.handle_ctap(&msg);
    if resp[0] != 0 {
        return (resp[0], None);
    }
    let body = tandem_cbor::decode(&resp[1..]).unwrap();
    let id = body
        .get_int(1)
        .and_then(|c| c.get_text("id"))
        .and_then(Value::as_bytes)
        .map(<[u8]>::to_vec);
    (0, id)
}

#[test]
fn sign_in_uses_the_readable_credentials() {
    let (_dir, _path, store, [good, bad_secret, bad_meta, _other]) = damaged_store();
    let chooser = Arc::new(RecordingChooser::default());
    let auth = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        Arc::new(AlwaysYes),
        chooser.clone(),
    );
    // Discoverable: only the intact credential is a candidate (no chooser with three entries, two dead).
    assert_eq!(get_assertion(&auth, &[]), (0, Some(good.meta.id.clone())));
    assert!(chooser.0.lock().unwrap().is_empty());
    // Allow list naming the damaged ones first: they are passed over, the intact one signs.
    assert_eq!(
        get_assertion(&auth, &[&bad_secret.meta.id, &bad_meta.meta.id, &good.meta.id]),
        (0, Some(good.meta.id.clone()))
    );
    // Only damaged ones named: no credentials (0x2E), not a store failure.
    assert_eq!(get_assertion(&auth, &[&bad_secret.meta.id]), (0x2e, None));
    // The damaged rows are still there for the user to see and delete.
    assert_eq!(store.unreadable().unwrap().len(), 2);
}
