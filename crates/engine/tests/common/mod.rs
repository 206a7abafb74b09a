//! Shared test helpers: the real SQLite store, a scripted platform verifier/chooser that records every
//! prompt, and CTAP request builders.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tandem_cbor::Value;
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::store::CredentialStore;
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_store::{SoftwareKeyProtector, SqliteStore};

/// The UV key the scripted verifier unlocks.
pub(crate) fn test_uv_key() -> UvKey {
    UvKey::from_array([0x75; 32])
}

/// A platform verifier whose answers are scripted (`Ok(())` unlocks [`test_uv_key`]); `Ok(())` once the
/// script is exhausted. Records prompts.
#[derive(Default)]
pub(crate) struct ScriptedVerifier {
    pub script: Mutex<VecDeque<Result<(), VerificationError>>>,
    pub prompts: Mutex<Vec<VerificationPrompt>>,
}

impl ScriptedVerifier {
    pub(crate) fn push(&self, outcome: Result<(), VerificationError>) {
        self.script.lock().unwrap().push_back(outcome);
    }
    pub(crate) fn prompt_count(&self) -> usize {
        self.prompts.lock().unwrap().len()
    }
    pub(crate) fn last_prompt(&self) -> VerificationPrompt {
        self.prompts
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a prompt was shown")
    }
}

impl UserVerifier for ScriptedVerifier {
    fn verify(&self, prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        self.prompts.lock().unwrap().push(prompt.clone());
        let outcome = self.script.lock().unwrap().pop_front().unwrap_or(Ok(()));
        outcome.map(|()| test_uv_key())
    }
}

/// Picks a fixed index (or cancels) and records what it was offered.
pub(crate) struct FixedChooser {
    pub answer: Mutex<Option<usize>>,
    pub offered: Mutex<Vec<Vec<AccountInfo>>>,
}

impl AccountChooser for FixedChooser {
    fn choose(&self, _rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
        self.offered.lock().unwrap().push(accounts.to_vec());
        *self.answer.lock().unwrap()
    }
}

pub(crate) struct Harness {
    pub auth: Authenticator,
    pub verifier: Arc<ScriptedVerifier>,
    pub chooser: Arc<FixedChooser>,
    pub store: Arc<SqliteStore>,
}

pub(crate) fn sqlite_store() -> Arc<SqliteStore> {
    let protector = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
    Arc::new(SqliteStore::open_in_memory(protector).expect("in-memory SQLite store"))
}

pub(crate) fn harness(config: AuthenticatorConfig) -> Harness {
    let verifier = Arc::new(ScriptedVerifier::default());
    let chooser = Arc::new(FixedChooser {
        answer: Mutex::new(Some(0)),
        offered: Mutex::new(vec![]),
    });
    let store = sqlite_store();
    let auth = Authenticator::new(config, store.clone(), verifier.clone(), chooser.clone());
    Harness {
        auth,
        verifier,
        chooser,
        store,
    }
}

impl Harness {
    pub(crate) fn credential_count(&self) -> usize {
        self.store.list_all().unwrap().len()
    }

    /// Sends command ‖ CBOR and splits status from body.
    pub(crate) fn ctap(&self, cmd: u8, params: Option<&Value>) -> (u8, Vec<u8>) {
        let mut msg = vec![cmd];
        if let Some(p) = params {
            msg.extend(p.to_vec());
        }
        let resp = self.auth.handle_ctap(&msg);
        (resp[0], resp[1..].to_vec())
    }

    /// Sends and decodes a successful response canonically (as Chromium's reader would).
    pub(crate) fn ok(&self, cmd: u8, params: &Value) -> Value {
        let (status, body) = self.ctap(cmd, Some(params));
        assert_eq!(status, 0, "expected success, got status 0x{status:02x}");
        tandem_cbor::decode_canonical(&body).expect("response is canonical CBOR")
    }
}

pub(crate) const CDH: [u8; 32] = [0x5a; 32];

pub(crate) fn make_credential_params(rp: &str, user_id: &[u8], algs: &[i64], rk: bool) -> Value {
    Value::map()
        .insert(1, CDH.to_vec())
        .insert(2, Value::map().insert("id", rp).insert("name", "Example").build())
        .insert(
            3,
            Value::map()
                .insert("id", user_id.to_vec())
                .insert("name", "alice@example.com")
                .insert("displayName", "Alice")
                .build(),
        )
        .insert(
            4,
            Value::Array(
                algs.iter()
                    .map(|a| {
                        Value::map()
                            .insert("alg", *a)
                            .insert("type", "public-key")
                            .build()
                    })
                    .collect(),
            ),
        )
        .insert(7, Value::map().insert("rk", rk).build())
        .build()
}

pub(crate) fn descriptor_list(ids: &[&[u8]]) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| {
                Value::map()
                    .insert("id", id.to_vec())
                    .insert("type", "public-key")
                    .build()
            })
            .collect(),
    )
}

pub(crate) fn get_assertion_params(rp: &str, allow: &[&[u8]]) -> Value {
    let mut b = Value::map().insert(1, rp).insert(2, CDH.to_vec());
    if !allow.is_empty() {
        b = b.insert(3, descriptor_list(allow));
    }
    b.build()
}

/// Returns `map` with integer key `key` set to `value` (replacing any existing entry).
pub(crate) fn with(mut map: Value, key: i64, value: Value) -> Value {
    if let Value::Map(m) = &mut map {
        m.retain(|(k, _)| k.as_i64() != Some(key));
        m.push((Value::from(key), value));
    }
    map
}

/// Returns `map` without integer key `key`.
pub(crate) fn without(mut map: Value, key: i64) -> Value {
    if let Value::Map(m) = &mut map {
        m.retain(|(k, _)| k.as_i64() != Some(key));
    }
    map
}

/// Parsed authenticator data (test-side, independent of the engine's encoder).
#[derive(Debug)]
pub(crate) struct ParsedAuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub aaguid: Option<[u8; 16]>,
    pub credential_id: Option<Vec<u8>>,
    pub cose_key: Option<Value>,
    pub extensions: Option<Value>,
}

/// Splits a CBOR item off the front of `bytes` by trying prefixes (test-only; inputs are small).
fn split_cbor(bytes: &[u8]) -> (Value, usize) {
    for end in 1..=bytes.len() {
        if let Ok(v) = tandem_cbor::decode(&bytes[..end]) {
            return (v, end);
        }
    }
    panic!("no CBOR item at the start of the input");
}

pub(crate) fn parse_auth_data(d: &[u8]) -> ParsedAuthData {
    let flags = d[32];
    let mut p = ParsedAuthData {
        rp_id_hash: d[..32].try_into().unwrap(),
        flags,
        sign_count: u32::from_be_bytes(d[33..37].try_into().unwrap()),
        aaguid: None,
        credential_id: None,
        cose_key: None,
        extensions: None,
    };
    let mut rest = &d[37..];
    if flags & 0x40 != 0 {
        p.aaguid = Some(rest[..16].try_into().unwrap());
        let len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
        p.credential_id = Some(rest[18..18 + len].to_vec());
        rest = &rest[18 + len..];
        let (key, used) = split_cbor(rest);
        p.cose_key = Some(key);
        rest = &rest[used..];
    }
    if flags & 0x80 != 0 {
        p.extensions = Some(tandem_cbor::decode(rest).expect("extensions are the rest"));
    } else {
        assert!(rest.is_empty(), "trailing bytes in authData");
    }
    p
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Verifies an ES256 signature with p256 over `auth_data ‖ cdh`, using the COSE key from registration.
pub(crate) fn verify_es256(cose: &Value, auth_data: &[u8], cdh: &[u8], sig_der: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier;
    let x = cose.get_int(-2).unwrap().as_bytes().unwrap();
    let y = cose.get_int(-3).unwrap().as_bytes().unwrap();
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let sig = p256::ecdsa::Signature::from_der(sig_der).unwrap();
    let mut msg = auth_data.to_vec();
    msg.extend_from_slice(cdh);
    vk.verify(&msg, &sig).is_ok()
}

/// AAGUID used by attestation tests.
pub(crate) const TEST_AAGUID: [u8; 16] = [
    0x7a, 0x4d, 0x9e, 0x01, 0x52, 0x8c, 0x4b, 0x1f, 0x9a, 0x3e, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
];

/// A root CA and a packed attestation certificate below it (WebAuthn §8.2.1 requirements: C/O/OU/CN subject,
/// OU "Authenticator Attestation", CA false, AAGUID extension 1.3.6.1.4.1.45724.1.1.4). Returns the engine's
/// certificate config (key + [leaf]) and the root's DER.
pub(crate) fn attestation_chain(aaguid: [u8; 16]) -> (tandem_engine::AttestationCertificate, Vec<u8>) {
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        PKCS_ECDSA_P256_SHA256,
    };
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.distinguished_name.push(DnType::CountryName, "DE");
    root.distinguished_name
        .push(DnType::OrganizationName, "Tandem Test");
    root.distinguished_name
        .push(DnType::CommonName, "Tandem Test Attestation Root");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_cert = root.self_signed(&root_key).unwrap();

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name.push(DnType::CountryName, "DE");
    leaf.distinguished_name
        .push(DnType::OrganizationName, "Tandem Test");
    leaf.distinguished_name
        .push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    leaf.distinguished_name
        .push(DnType::CommonName, "Tandem Test Batch 1");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // extnValue = OCTET STRING { OCTET STRING (16) aaguid }.
    let mut content = vec![0x04, 0x10];
    content.extend_from_slice(&aaguid);
    leaf.custom_extensions.push(CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
        content,
    ));
    let issuer = Issuer::new(root, &root_key);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    (
        tandem_engine::AttestationCertificate {
            private_key_pkcs8: zeroize::Zeroizing::new(leaf_key.serialize_der()),
            chain: vec![leaf_cert.der().to_vec()],
        },
        root_cert.der().to_vec(),
    )
}
