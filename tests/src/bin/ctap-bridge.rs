//! ctap-bridge: hosts Tandem's real engine (`tandem_engine::Authenticator` over a real `SqliteStore` with a
//! `SoftwareKeyProtector`) for third-party clients and relying-party verifiers in other languages.
//!
//! Framing on stdin/stdout (one reply per request, in order):
//! `u32 big-endian length ‖ channel byte ‖ payload`.
//! * `0x01` CTAP: payload = command byte ‖ CBOR; reply = `handle_ctap`'s status byte ‖ CBOR, untouched.
//! * `0x02` control (JSON): `{"verifier": "approve"|"deny"|"cancel"|"timeout"|"unavailable"}`,
//!   `{"choose": <index>|null}`, `{"prompts": true}` (returns and clears the prompts shown so far),
//!   `{"info": true}` (AAGUID and, with `--batch-attestation`, the attestation root certificate).
//! * `0x03` WebAuthn (JSON): `{"op": "create"|"get", "origin": ..., "options": <W3C options JSON>}` →
//!   `{"credential": <W3C PublicKeyCredential JSON>}`, produced by Tandem's own WebAuthn layer
//!   (`tandem_desktop::webauthn`) around the same engine, or `{"error": ...}`.
//!
//! Flags: `--store FILE` (required; the key-protector key lives in `FILE.key`), `--profile direct|hybrid`,
//! `--batch-attestation` (generate a CA and a packed-attestation certificate at start-up),
//! `--aaguid HEX`.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value as Json, json};
use tandem_cbor::Value;
use tandem_desktop::webauthn::{self, CreateRequest, GetRequest, RelyingParty, UserEntity, WebAuthnRequest};
use tandem_engine::platform::{
    AccountChooser, AccountInfo, Operation, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::{
    AttestationCertificate, AttestationConfig, Authenticator, AuthenticatorConfig, GetInfoProfile,
};
use tandem_store::{SoftwareKeyProtector, SqliteStore};

const CHANNEL_CTAP: u8 = 0x01;
const CHANNEL_CONTROL: u8 = 0x02;
const CHANNEL_WEBAUTHN: u8 = 0x03;
/// Upper bound on one request frame (CTAP messages are far smaller; this only stops runaway input).
const MAX_FRAME: usize = 1 << 20;

/// What the scripted "user" does, changed at run time over the control channel.
struct Script {
    verifier: Option<VerificationError>,
    choice: Option<usize>,
    prompts: Vec<Json>,
}

/// The platform side, scripted: implements both platform traits over one shared [`Script`].
#[derive(Clone)]
struct ScriptedUser(Arc<Mutex<Script>>);

impl ScriptedUser {
    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn account_json(a: &AccountInfo) -> Json {
    json!({"user_id": URL_SAFE_NO_PAD.encode(&a.user_id), "name": a.name, "display_name": a.display_name})
}

impl UserVerifier for ScriptedUser {
    fn verify(&self, prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        let mut s = self.lock();
        s.prompts.push(json!({
            "operation": match prompt.operation { Operation::Register => "register", Operation::SignIn => "sign_in" },
            "rp_id": prompt.rp_id,
            "rp_name": prompt.rp_name,
            "account": prompt.account.as_ref().map(account_json),
        }));
        match &s.verifier {
            None => Ok(UvKey::from_array(tandem_tests::TEST_UV_KEY)),
            Some(e) => Err(e.clone()),
        }
    }
}

impl AccountChooser for ScriptedUser {
    fn choose(&self, rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
        let mut s = self.lock();
        s.prompts.push(json!({
            "operation": "choose",
            "rp_id": rp_id,
            "accounts": accounts.iter().map(account_json).collect::<Vec<_>>(),
        }));
        s.choice.filter(|i| *i < accounts.len())
    }
}

struct Args {
    store: PathBuf,
    profile: GetInfoProfile,
    batch_attestation: bool,
    aaguid: [u8; 16],
}

fn parse_args() -> Result<Args, String> {
    let mut store = None;
    let mut profile = GetInfoProfile::Direct;
    let mut batch_attestation = false;
    let mut aaguid = *b"tandem-interop!!";
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--store" => store = it.next().map(PathBuf::from),
            "--profile" => {
                profile = match it.next().as_deref() {
                    Some("direct") => GetInfoProfile::Direct,
                    Some("hybrid") => GetInfoProfile::Hybrid,
                    other => return Err(format!("bad --profile {other:?}")),
                }
            }
            "--batch-attestation" => batch_attestation = true,
            "--aaguid" => {
                let hex = it.next().ok_or("--aaguid needs a value")?;
                aaguid = hex::decode(&hex)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .ok_or("--aaguid must be 32 hex digits")?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        store: store.ok_or("--store FILE is required")?,
        profile,
        batch_attestation,
        aaguid,
    })
}

/// A packed-attestation chain made at start-up: a root CA and an attestation certificate meeting
/// WebAuthn §8.2.1 (subject C/O/OU="Authenticator Attestation"/CN, CA=false, AAGUID extension).
fn make_attestation(aaguid: &[u8; 16]) -> Result<(AttestationCertificate, Vec<u8>), rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DistinguishedName, DnType,
        IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let mut ca = CertificateParams::new(Vec::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Tandem Interop Test Root");
    dn.push(DnType::OrganizationName, "Tandem");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let issuer = CertifiedIssuer::self_signed(ca, ca_key)?;

    let mut leaf = CertificateParams::new(Vec::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Tandem");
    dn.push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    dn.push(DnType::CommonName, "Tandem Interop Batch");
    leaf.distinguished_name = dn;
    leaf.is_ca = IsCa::ExplicitNoCa;
    // id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4): an OCTET STRING holding the AAGUID, not critical.
    let mut content = vec![0x04, 0x10];
    content.extend_from_slice(aaguid);
    leaf.custom_extensions = vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
        content,
    )];
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = leaf.signed_by(&leaf_key, &issuer)?;
    Ok((
        AttestationCertificate {
            private_key_pkcs8: zeroize::Zeroizing::new(leaf_key.serialize_der()),
            chain: vec![cert.der().to_vec()],
        },
        issuer.der().to_vec(),
    ))
}

fn read_frame(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

fn write_frame(out: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| io::Error::other("reply too large"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(body)?;
    out.flush()
}

fn b64d(v: &Json, what: &str) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what} must be a base64url string"))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("{what}: {e}"))
}

fn descriptors(v: Option<&Json>) -> Result<Vec<Vec<u8>>, String> {
    match v.and_then(Json::as_array) {
        None => Ok(Vec::new()),
        Some(list) => list
            .iter()
            .map(|d| b64d(&d["id"], "credential descriptor id"))
            .collect(),
    }
}

/// Turns W3C `PublicKeyCredential{Creation,Request}OptionsJSON` into Tandem's WebAuthn request.
fn webauthn_request(op: &str, origin: &str, o: &Json) -> Result<WebAuthnRequest, String> {
    let text = |v: &Json, what: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{what} missing"))
    };
    match op {
        "create" => Ok(WebAuthnRequest::Create(CreateRequest {
            origin: origin.to_owned(),
            rp: RelyingParty {
                id: text(&o["rp"]["id"], "rp.id")?,
                name: text(&o["rp"]["name"], "rp.name")?,
            },
            user: UserEntity {
                id: b64d(&o["user"]["id"], "user.id")?,
                name: text(&o["user"]["name"], "user.name")?,
                display_name: text(&o["user"]["displayName"], "user.displayName")?,
            },
            challenge: b64d(&o["challenge"], "challenge")?,
            algorithms: o["pubKeyCredParams"]
                .as_array()
                .ok_or("pubKeyCredParams missing")?
                .iter()
                .filter_map(|p| p["alg"].as_i64())
                .collect(),
            resident_key: matches!(
                o["authenticatorSelection"]["residentKey"].as_str(),
                Some("required" | "preferred")
            ) || o["authenticatorSelection"]["requireResidentKey"].as_bool() == Some(true),
            exclude: descriptors(o.get("excludeCredentials"))?,
        })),
        "get" => Ok(WebAuthnRequest::Get(GetRequest {
            origin: origin.to_owned(),
            rp_id: text(&o["rpId"], "rpId")?,
            challenge: b64d(&o["challenge"], "challenge")?,
            allow: descriptors(o.get("allowCredentials"))?,
        })),
        other => Err(format!("unknown op {other}")),
    }
}

/// Adds CTAP 2.2 attestationFormatsPreference (key 0x0B) = ["none"] to a makeCredential, which is how a
/// client asks the authenticator itself for `none` (Tandem's WebAuthn layer has no attestation option).
fn prefer_none(ctap: &[u8]) -> Result<Vec<u8>, String> {
    let (cmd, cbor) = ctap.split_first().ok_or("empty CTAP request")?;
    let map = tandem_cbor::decode_canonical(cbor).map_err(|e| e.to_string())?;
    let mut entries = map.as_map().ok_or("CTAP parameters are not a map")?.to_vec();
    entries.push((Value::from(11), Value::Array(vec![Value::text("none")])));
    let mut builder = Value::map();
    for (k, v) in entries {
        builder = builder.insert(k, v);
    }
    let mut out = vec![*cmd];
    out.extend_from_slice(&builder.build().to_vec());
    Ok(out)
}

fn handle_webauthn(engine: &Authenticator, request: &Json) -> Result<Json, String> {
    let op = request["op"].as_str().ok_or("op missing")?;
    let origin = request["origin"].as_str().ok_or("origin missing")?;
    let options = &request["options"];
    let req = webauthn_request(op, origin, options)?;
    let client_data_json = req.client_data_json();
    let mut ctap = req.to_ctap(&webauthn::client_data_hash(&client_data_json));
    if op == "create" && options["attestation"].as_str().unwrap_or("none") == "none" {
        ctap = prefer_none(&ctap)?;
    }
    let response = engine.handle_ctap(&ctap);
    let credential = req
        .credential_json(&client_data_json, &response)
        .map_err(|e| e.to_string())?;
    Ok(json!({ "credential": credential }))
}

fn handle_control(user: &ScriptedUser, info: &Json, request: &Json) -> Json {
    let mut s = user.lock();
    if let Some(v) = request.get("verifier") {
        s.verifier = match v.as_str() {
            Some("approve") => None,
            Some("deny") => Some(VerificationError::Denied),
            Some("cancel") => Some(VerificationError::Cancelled),
            Some("timeout") => Some(VerificationError::TimedOut),
            Some("unavailable") => Some(VerificationError::Unavailable("scripted".into())),
            _ => return json!({"error": format!("bad verifier {v}")}),
        };
        return json!({"ok": true});
    }
    if let Some(v) = request.get("choose") {
        s.choice = v.as_u64().and_then(|i| usize::try_from(i).ok());
        return json!({"ok": true});
    }
    if request.get("prompts").is_some() {
        return json!({"ok": true, "prompts": std::mem::take(&mut s.prompts)});
    }
    if request.get("info").is_some() {
        return info.clone();
    }
    json!({"error": "unknown control request"})
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let key_path = args.store.with_extension("key");
    let protector = SoftwareKeyProtector::load_or_create(&key_path).map_err(|e| e.to_string())?;
    let store = SqliteStore::open(&args.store, Arc::new(protector)).map_err(|e| e.to_string())?;

    let mut config = match args.profile {
        GetInfoProfile::Direct => AuthenticatorConfig::direct(),
        GetInfoProfile::Hybrid => AuthenticatorConfig::hybrid(),
    };
    config.aaguid = args.aaguid;
    let mut info = json!({"ok": true, "aaguid": hex::encode(args.aaguid)});
    if args.batch_attestation {
        let (cert, root) = make_attestation(&args.aaguid).map_err(|e| e.to_string())?;
        info["root_certificate"] = json!(URL_SAFE_NO_PAD.encode(root));
        config.attestation = AttestationConfig {
            batch: Some(cert),
            ..AttestationConfig::default()
        };
    }

    let user = ScriptedUser(Arc::new(Mutex::new(Script {
        verifier: None,
        choice: Some(0),
        prompts: Vec::new(),
    })));
    let engine = Authenticator::new(
        config,
        Arc::new(store),
        Arc::new(user.clone()),
        Arc::new(user.clone()),
    );

    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    while let Some(frame) = read_frame(&mut input).map_err(|e| e.to_string())? {
        let Some((&channel, payload)) = frame.split_first() else {
            return Err("empty frame".into());
        };
        let reply = match channel {
            CHANNEL_CTAP => engine.handle_ctap(payload),
            CHANNEL_CONTROL | CHANNEL_WEBAUTHN => {
                let request: Json = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
                let answer = if channel == CHANNEL_CONTROL {
                    handle_control(&user, &info, &request)
                } else {
                    handle_webauthn(&engine, &request).unwrap_or_else(|e| json!({ "error": e }))
                };
                answer.to_string().into_bytes()
            }
            other => return Err(format!("unknown channel {other:#04x}")),
        };
        write_frame(&mut output, &reply).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("ctap-bridge: {e}");
        std::process::exit(1);
    }
}
