//! makeCredential and getAssertion through `handle_ctap` with 10,000 stored credentials in a real SQLite
//! file, beside a bare P-256 signature measured in the same run (target: getAssertion ≤ 1.5× bare sign).

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Signer;
use tandem_cbor::Value;
use tandem_core::keys::{COSE_ES256, CredentialKey, CredentialSecret};
use tandem_core::platform::{AccountChooser, AccountInfo, UserVerifier, VerificationError, VerificationPrompt};
use tandem_core::store::{CredentialMeta, CredentialStore, StoredCredential};
use tandem_core::{Authenticator, AuthenticatorConfig};
use tandem_store::{SoftwareKeyProtector, SqliteStore};

struct Approve;
impl UserVerifier for Approve {
    fn verify(&self, _: &VerificationPrompt) -> Result<(), VerificationError> {
        Ok(())
    }
}
impl AccountChooser for Approve {
    fn choose(&self, _: &str, _: &[AccountInfo]) -> Option<usize> {
        Some(0)
    }
}

const CREDENTIALS: usize = 10_000;
const RPS: usize = 100;

fn populate(store: &SqliteStore) -> Vec<u8> {
    let mut target = Vec::new();
    for i in 0..CREDENTIALS {
        let secret = CredentialSecret::generate(CredentialKey::generate(COSE_ES256).unwrap(), false).unwrap();
        let id = format!("credential-{i:08}").into_bytes();
        let rp = format!("rp{}.example", i % RPS);
        if i == CREDENTIALS / 2 {
            target = id.clone();
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
                    backup_eligible: false,
                    backup_state: false,
                    sign_count: 0,
                    created_at: 0,
                    cred_blob: None,
                },
                secret: secret.to_blob(),
            })
            .unwrap();
    }
    target
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let protector = Arc::new(SoftwareKeyProtector::from_key_bytes(&[9u8; 32]));
    let store = Arc::new(SqliteStore::open(dir.path().join("bench.sqlite"), protector).unwrap());
    let target = populate(&store);
    let rp = format!("rp{}.example", (CREDENTIALS / 2) % RPS);
    let approve = Arc::new(Approve);
    let auth = Authenticator::new(AuthenticatorConfig::direct(), store.clone(), approve.clone(), approve);

    let mut ga = vec![0x02];
    ga.extend(
        Value::map()
            .insert(1, rp.as_str())
            .insert(2, vec![0x5au8; 32])
            .insert(3, Value::Array(vec![Value::map().insert("id", target.clone()).insert("type", "public-key").build()]))
            .build()
            .to_vec(),
    );
    assert_eq!(auth.handle_ctap(&ga)[0], 0);

    let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let message = [0x17u8; 69];
    c.bench_function("bare_p256_sign", |b| {
        b.iter(|| {
            let sig: p256::ecdsa::Signature = key.sign(std::hint::black_box(&message));
            sig.to_der()
        })
    });
    c.bench_function("get_assertion_allow_list_10k", |b| b.iter(|| auth.handle_ctap(std::hint::black_box(&ga))));

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
                    .insert(4, Value::Array(vec![Value::map().insert("alg", -7).insert("type", "public-key").build()]))
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
