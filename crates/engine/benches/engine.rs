//! makeCredential and getAssertion through `handle_ctap` with 10,000 stored credentials in a real SQLite
//! file, beside a bare P-256 signature measured in the same run (target: getAssertion ≤ 1.5× bare sign).

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Signer;
use tandem_cbor::Value;
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::store::{CredentialMeta, CredentialStore, StoredCredential};
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_engine::{COSE_ES256, CredentialKey, CredentialSecret};
use tandem_store::{SoftwareKeyProtector, SqliteStore};

struct Approve;
impl UserVerifier for Approve {
    fn verify(&self, _: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(UvKey::from_array([0x75; 32]))
    }
}
impl AccountChooser for Approve {
    fn choose(&self, _: &str, _: &[AccountInfo]) -> Option<usize> {
        Some(0)
    }
}

const CREDENTIALS: usize = 10_000;
const RPS: usize = 100;

/// Fills the store; every other credential is a synced passkey (BE=1, counter 0), the rest device-bound
/// (counter written on each assertion). Returns one credential ID of each kind in the same RP.
fn populate(store: &SqliteStore) -> (Vec<u8>, Vec<u8>) {
    let mut synced = Vec::new();
    let mut device_bound = Vec::new();
    for i in 0..CREDENTIALS {
        let secret = CredentialSecret::generate(CredentialKey::generate(COSE_ES256).unwrap(), false).unwrap();
        let id = format!("credential-{i:08}").into_bytes();
        let rp = format!("rp{}.example", i % RPS);
        if i == CREDENTIALS / 2 {
            synced = id.clone();
        }
        if i == CREDENTIALS / 2 + RPS {
            device_bound = id.clone();
        }
        store
            .insert(&StoredCredential {
                meta: CredentialMeta {
                    id,
                    rp_id: rp,
                    rp_name: None,
                    user_id: format!("user-{i}").into_bytes(),
                    user_name: Some(format!("user{i}@example.com")),
                    user_display_name: None,
                    algorithm: COSE_ES256,
                    discoverable: true,
                    cred_protect: 1,
                    backup_eligible: i % 2 == 0,
                    backup_state: i % 2 == 0,
                    sign_count: 0,
                    created_at: 0,
                    cred_blob: None,
                },
                secret: secret.to_blob(),
            })
            .unwrap();
    }
    (synced, device_bound)
}

fn get_assertion(rp: &str, id: &[u8]) -> Vec<u8> {
    let mut ga = vec![0x02];
    ga.extend(
        Value::map()
            .insert(1, rp)
            .insert(2, vec![0x5au8; 32])
            .insert(
                3,
                Value::Array(vec![
                    Value::map()
                        .insert("id", id.to_vec())
                        .insert("type", "public-key")
                        .build(),
                ]),
            )
            .build()
            .to_vec(),
    );
    ga
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let protector = Arc::new(SoftwareKeyProtector::from_key_bytes(&[9u8; 32]));
    let store = Arc::new(SqliteStore::open(dir.path().join("bench.sqlite"), protector).unwrap());
    let (synced, device_bound) = populate(&store);
    let rp = format!("rp{}.example", (CREDENTIALS / 2) % RPS);
    let approve = Arc::new(Approve);
    let auth = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        approve.clone(),
        approve,
    );
    let ga_synced = get_assertion(&rp, &synced);
    let ga_device_bound = get_assertion(&rp, &device_bound);
    assert_eq!(auth.handle_ctap(&ga_synced)[0], 0);
    assert_eq!(auth.handle_ctap(&ga_device_bound)[0], 0);

    let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let message = [0x17u8; 69];
    c.bench_function("bare_p256_sign", |b| {
        b.iter(|| {
            let sig: p256::ecdsa::Signature = key.sign(std::hint::black_box(&message));
            sig.to_der()
        })
    });
    c.bench_function("get_assertion_synced_10k", |b| {
        b.iter(|| auth.handle_ctap(std::hint::black_box(&ga_synced)))
    });
    // Includes the durable (fsync'd) signature-counter write of the SQLite store.
    c.bench_function("get_assertion_device_bound_10k", |b| {
        b.iter(|| auth.handle_ctap(std::hint::black_box(&ga_device_bound)))
    });

    let mut n = 0u64;
    c.bench_function("make_credential_10k", |b| {
        b.iter(|| {
            n += 1;
            let mut mc = vec![0x01];
            mc.extend(
                Value::map()
                    .insert(1, vec![0x5au8; 32])
                    .insert(2, Value::map().insert("id", "bench.example").build())
                    .insert(3, Value::map().insert("id", n.to_be_bytes().to_vec()).build())
                    .insert(
                        4,
                        Value::Array(vec![
                            Value::map()
                                .insert("alg", -7)
                                .insert("type", "public-key")
                                .build(),
                        ]),
                    )
                    .insert(7, Value::map().insert("rk", true).build())
                    .build()
                    .to_vec(),
            );
            auth.handle_ctap(&mc)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
