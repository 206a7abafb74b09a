//! Shared helpers for the end-to-end and interoperability tests.
//!
//! The end-to-end helpers build a real world on loopback: the real tunnel server, the simulated radio, a
//! phone with a SQLite store on a temporary file, the desktop peer, and a relying party from webauthn-rs
//! that verifies what comes out. Nothing is mocked: faults are injected by driving the real peers message
//! by message (see `tests/tests/e2e_faults.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tandem_desktop::{DesktopConfig, DesktopTimeouts, WebAuthnRequest};
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_phone::{Phone, PhoneConfig, ProgressEvent, ProgressListener, Timeouts, TlsOptions, Tunnel};
use tandem_radio::SimRadio;
use tandem_store::{SoftwareKeyProtector, SqliteStore};
use tandem_tunnel::{RunningServer, ServerConfig, TunnelServer};
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The relying party's ID in the tests and the demo.
pub const RP_ID: &str = "tandem.example";
/// The relying party's origin.
pub const RP_ORIGIN: &str = "https://tandem.example";
/// Hashed domain ID the phone advertises when it uses a tunnel by URL (its derived host is not used:
/// the desktop overrides the URL too).
pub const TEST_DOMAIN_ID: u16 = 0x0100;

/// The UV key the tests' verifiers unlock (a software stand-in for the key a biometric releases).
pub const TEST_UV_KEY: [u8; 32] = [0x75; 32];

/// Approves every prompt and picks the first account: the "user" of unattended tests and the demo.
pub struct AutoApprove;

impl UserVerifier for AutoApprove {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(UvKey::from_array(TEST_UV_KEY))
    }
}

impl tandem_phone::LinkedSessionApprover for AutoApprove {
    fn accept(&self, _desktop_name: &str) -> bool {
        true
    }
}

impl AccountChooser for AutoApprove {
    fn choose(&self, _rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
        (!accounts.is_empty()).then_some(0)
    }
}

/// Declines every prompt.
pub struct AlwaysDeny;

impl UserVerifier for AlwaysDeny {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Err(VerificationError::Denied)
    }
}

/// Records every progress event.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<ProgressEvent>>);

impl Recorder {
    /// The events so far.
    pub fn events(&self) -> Vec<ProgressEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl ProgressListener for Recorder {
    fn on_event(&self, event: ProgressEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}

/// Starts the real tunnel server on an ephemeral loopback port.
pub async fn start_tunnel() -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    TunnelServer::bind(ServerConfig::plain(addr))
        .await
        .expect("tunnel server binds on loopback")
}

/// Phone configuration for a loopback tunnel at `ws_url`.
pub fn phone_config(ws_url: &str, timeouts: Timeouts) -> PhoneConfig {
    let mut config = PhoneConfig::new(Tunnel::Url {
        base_url: ws_url.to_string(),
        domain_id: TEST_DOMAIN_ID,
    });
    config.tls = TlsOptions {
        allow_insecure_loopback: true,
        ..TlsOptions::default()
    };
    config.timeouts = timeouts;
    // The test user turned on "link computers" (the app default is off).
    config.linking = true;
    config
}

/// Desktop configuration for a loopback tunnel at `ws_url`.
pub fn desktop_config(ws_url: &str, timeouts: DesktopTimeouts) -> DesktopConfig {
    DesktopConfig {
        tunnel_url: Some(ws_url.to_string()),
        tls: tandem_desktop::TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        },
        timeouts,
    }
}

/// Generous default limits for tests that should not time out (nothing asserts on durations).
pub fn test_timeouts() -> (Timeouts, DesktopTimeouts) {
    (
        Timeouts::all(Duration::from_secs(20)),
        DesktopTimeouts::all(Duration::from_secs(20)),
    )
}

/// Opens (or creates) a SQLite store at `path` with the software key protector (key file `<path>.key`).
pub fn open_store(path: &Path) -> Arc<SqliteStore> {
    let key_path = key_file_for(path);
    let protector = SoftwareKeyProtector::load_or_create(&key_path).expect("software key file");
    Arc::new(SqliteStore::open(path, Arc::new(protector)).expect("SQLite store opens"))
}

/// Where the software key protector keeps the data key for a store file: next to it, `<store>.key`.
pub fn key_file_for(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// A phone over `store`, advertising on `radio`.
pub fn make_phone(
    config: PhoneConfig,
    store: Arc<SqliteStore>,
    radio: &SimRadio,
    verifier: Arc<dyn UserVerifier>,
    listener: Arc<dyn ProgressListener>,
) -> Arc<Phone> {
    let engine = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        verifier,
        Arc::new(AutoApprove),
    );
    Arc::new(
        Phone::new(
            config,
            Arc::new(engine),
            store,
            Arc::new(radio.advertiser()),
            listener,
        )
        .with_linked_session_approver(Arc::new(AutoApprove)),
    )
}

/// A relying party (webauthn-rs) for [`RP_ID`] / [`RP_ORIGIN`].
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl Default for RelyingParty {
    fn default() -> Self {
        Self::new()
    }
}

impl RelyingParty {
    /// Builds the relying party.
    pub fn new() -> Self {
        let origin = Url::parse(RP_ORIGIN).expect("literal URL");
        let webauthn = WebauthnBuilder::new(RP_ID, &origin)
            .and_then(|b| b.rp_name("Tandem demo").build())
            .expect("valid relying-party configuration");
        RelyingParty { webauthn }
    }

    /// Starts a passkey registration for a new user; returns the browser request and the RP's state.
    pub fn start_registration(&self, name: &str) -> (WebAuthnRequest, PasskeyRegistration) {
        let (options, state) = self
            .webauthn
            .start_passkey_registration(Uuid::new_v4(), name, name, None)
            .expect("registration options");
        let json = serde_json::to_value(&options).expect("options serialise");
        let request =
            WebAuthnRequest::from_create_options_json(&json, RP_ORIGIN).expect("browser reads options");
        (request, state)
    }

    /// Verifies a registration response; returns the passkey or the RP's reason.
    pub fn finish_registration(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyRegistration,
    ) -> Result<Passkey, String> {
        let reg: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| format!("RP cannot parse the credential: {e}"))?;
        self.webauthn
            .finish_passkey_registration(&reg, state)
            .map_err(|e| e.to_string())
    }

    /// Starts a sign-in with `passkeys`.
    pub fn start_authentication(&self, passkeys: &[Passkey]) -> (WebAuthnRequest, PasskeyAuthentication) {
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(passkeys)
            .expect("authentication options");
        let json = serde_json::to_value(&options).expect("options serialise");
        let request =
            WebAuthnRequest::from_get_options_json(&json, RP_ORIGIN).expect("browser reads options");
        (request, state)
    }

    /// Verifies a sign-in response.
    pub fn finish_authentication(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyAuthentication,
    ) -> Result<AuthenticationResult, String> {
        let pkc: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| format!("RP cannot parse the credential: {e}"))?;
        self.webauthn
            .finish_passkey_authentication(&pkc, state)
            .map_err(|e| e.to_string())
    }
}

/// A desktop driven by hand for fault injection: it owns its QR key and secret so a test can send a
/// handshake with the wrong PSK, stay silent, or close at any step.
pub struct RawDesktop {
    /// The QR identity key.
    pub identity: tandem_hybrid::PrivateKey,
    /// The QR secret.
    pub secret: tandem_hybrid::QrSecret,
    /// The `FIDO:/…` URL for the phone.
    pub url: String,
}

impl RawDesktop {
    /// A fresh QR code (hint `"ga"`, linking as given).
    pub fn new(linking: bool) -> Self {
        let identity = tandem_hybrid::PrivateKey::generate().expect("randomness");
        let secret = tandem_hybrid::QrSecret::generate().expect("randomness");
        let url = tandem_desktop::proto::qr_url(&identity.public_key(), &secret, "ga", linking);
        RawDesktop {
            identity,
            secret,
            url,
        }
    }

    /// Waits for this QR's advert on `radio` and joins the tunnel at `ws_url`; returns the socket and the
    /// decrypted advert.
    pub async fn join(
        &self,
        radio: &SimRadio,
        ws_url: &str,
    ) -> (tandem_desktop::ws::TunnelSocket, tandem_desktop::FoundAdvert) {
        let mut seen = std::collections::HashSet::new();
        let found = tandem_desktop::find_advert(
            &radio.scanner(),
            &self.secret.eid_key(),
            &mut seen,
            Duration::from_secs(20),
        )
        .await
        .expect("advert found");
        let url = format!(
            "{ws_url}/cable/connect/{}/{}",
            found.plaintext.routing_id().to_hex(),
            self.secret.tunnel_id().to_hex()
        );
        let tls = tandem_desktop::TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        };
        let (socket, _) = tandem_desktop::ws::TunnelSocket::connect(&url, &[], &tls, Duration::from_secs(20))
            .await
            .expect("desktop joins the tunnel");
        (socket, found)
    }
}
