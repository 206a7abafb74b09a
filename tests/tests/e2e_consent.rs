//! Consent over hybrid, end to end through the real tunnel on loopback: one ceremony per session, links
//! only when the user allowed them and only after a ceremony succeeded, linked sessions only after the
//! user accepted, and nothing stored when the user approves after the session gave up.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tandem_desktop::{DesktopTimeouts, QrSession};
use tandem_engine::platform::{UserVerifier, UvKey, VerificationError, VerificationPrompt};
use tandem_engine::store::CredentialStore;
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_phone::{
    LinkedSessionApprover, Phone, PhoneConfig, SessionError, SessionOutcome, SessionStep, Timeouts,
    WakeChannel,
};
use tandem_radio::SimRadio;
use tandem_store::{HybridStateStore, SqliteStore};
use tandem_tests::*;
use tokio::task::JoinHandle;

/// Counts prompts; declines the first `deny` of them.
#[derive(Default)]
struct Counting {
    prompts: AtomicUsize,
    deny_first: bool,
}

impl UserVerifier for Counting {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        let n = self.prompts.fetch_add(1, Ordering::SeqCst);
        if self.deny_first && n == 0 {
            Err(VerificationError::Denied)
        } else {
            Ok(UvKey::from_array(tandem_tests::TEST_UV_KEY))
        }
    }
}

/// Answers linked-session requests as told and records the desktop names it was shown.
#[derive(Default)]
struct Approver {
    accept: AtomicBool,
    asked: Mutex<Vec<String>>,
}

impl LinkedSessionApprover for Approver {
    fn accept(&self, desktop_name: &str) -> bool {
        self.asked.lock().unwrap().push(desktop_name.to_owned());
        self.accept.load(Ordering::SeqCst)
    }
}

struct World {
    server: tandem_tunnel::RunningServer,
    url: String,
    radio: SimRadio,
    store: Arc<SqliteStore>,
    phone: Arc<Phone>,
    _dir: tempfile::TempDir,
}

async fn world(
    configure: impl FnOnce(&mut PhoneConfig),
    verifier: Arc<dyn UserVerifier>,
    approver: Arc<dyn LinkedSessionApprover>,
) -> World {
    let server = start_tunnel().await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let mut config = phone_config(&url, Timeouts::all(Duration::from_secs(20)));
    configure(&mut config);
    let engine = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        verifier,
        Arc::new(AutoApprove),
    );
    let phone = Arc::new(
        Phone::new(
            config,
            Arc::new(engine),
            store.clone(),
            Arc::new(radio.advertiser()),
            Arc::new(Recorder::default()),
        )
        .with_linked_session_approver(approver),
    );
    World {
        server,
        url,
        radio,
        store,
        phone,
        _dir: dir,
    }
}

fn desktop(w: &World, secs: u64) -> tandem_desktop::DesktopConfig {
    desktop_config(&w.url, DesktopTimeouts::all(Duration::from_secs(secs)))
}

fn spawn_qr(
    phone: &Arc<Phone>,
    qr: &str,
    remember: bool,
) -> JoinHandle<Result<SessionOutcome, SessionError>> {
    let phone = phone.clone();
    let qr = qr.to_string();
    tokio::spawn(async move { phone.run_qr_remembering(&qr, remember).await })
}

/// A session serves one ceremony: a second makeCredential/getAssertion is refused without a prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_ceremony_in_a_session_is_refused() {
    let verifier = Arc::new(Counting::default());
    let w = world(|_| {}, verifier.clone(), Arc::new(Approver::default())).await;
    let rp = RelyingParty::new();
    let (request, state) = rp.start_registration("gina");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), false);
    let mut channel = qr.connect(&w.radio.scanner(), &desktop(&w, 20)).await.unwrap();
    let cdj = request.client_data_json();
    let hash = tandem_desktop::webauthn::client_data_hash(&cdj);
    let first = channel.ctap(&request.to_ctap(&hash)).await.unwrap();
    assert_eq!(first[0], 0);
    let credential = request.credential_json(&cdj, &first).unwrap();
    let passkey = rp.finish_registration(&credential, &state).expect("RP accepts");

    // The same desktop tries for a signature in the same session.
    let (sign_in, _) = rp.start_authentication(&[passkey]);
    let hash = tandem_desktop::webauthn::client_data_hash(&sign_in.client_data_json());
    assert_eq!(
        channel.ctap(&sign_in.to_ctap(&hash)).await.unwrap(),
        [0x27],
        "CTAP2_ERR_OPERATION_DENIED"
    );
    // getInfo is still answered.
    assert_eq!(channel.ctap(&[0x04]).await.unwrap()[0], 0);
    channel.shutdown().await.unwrap();
    let outcome = phone.await.unwrap().unwrap();
    assert_eq!(outcome.requests_served, 3);
    assert_eq!(verifier.prompts.load(Ordering::SeqCst), 1, "one prompt");
    assert_eq!(w.store.list_all().unwrap()[0].sign_count, 0, "no signature");
    w.server.shutdown().await;
}

/// The user declines; the desktop follows up with selection and getInfo, which succeed. No link is sent
/// or recorded: only a session whose ceremony succeeded links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_ceremony_never_links_even_after_selection() {
    let verifier = Arc::new(Counting {
        deny_first: true,
        ..Default::default()
    });
    let w = world(|_| {}, verifier, Arc::new(Approver::default())).await;
    let rp = RelyingParty::new();
    let (request, _) = rp.start_registration("hank");
    let qr = QrSession::new(request.hint(), true).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), true);
    let mut channel = qr.connect(&w.radio.scanner(), &desktop(&w, 20)).await.unwrap();
    let hash = tandem_desktop::webauthn::client_data_hash(&request.client_data_json());
    assert_eq!(channel.ctap(&request.to_ctap(&hash)).await.unwrap(), [0x27]);
    assert_eq!(channel.ctap(&[0x0b]).await.unwrap(), [0x00], "selection");
    assert_eq!(channel.ctap(&[0x04]).await.unwrap()[0], 0, "getInfo");
    assert!(channel.link.is_none(), "no linking information was sent");
    channel.shutdown().await.unwrap();
    let outcome = phone.await.unwrap().unwrap();
    assert_eq!(outcome.last_status, Some(tandem_engine::ReportedStatus::Ok));
    assert!(!outcome.linked);
    assert!(w.store.list_links().unwrap().is_empty());
    assert!(w.store.list_all().unwrap().is_empty());
    w.server.shutdown().await;
}

/// Linking is off by default: a desktop asking for it (QR key 4) gets no link unless the user turned the
/// setting on or chose "remember this computer" before scanning. The link then arrives before the
/// ceremony's response, and a later linked sign-in through it is honoured once the user accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_needs_the_users_choice_and_a_linked_session_needs_acceptance() {
    assert!(!PhoneConfig::new(tandem_phone::Tunnel::Hashed { id: 266 }).linking);
    let approver = Arc::new(Approver::default());
    let w = world(
        |c| c.linking = false,
        Arc::new(Counting::default()),
        approver.clone(),
    )
    .await;
    let rp = RelyingParty::new();
    let d = desktop(&w, 20);

    // Default: no link.
    let (request, state) = rp.start_registration("ivy");
    let qr = QrSession::new(request.hint(), true).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), false);
    let result = qr.run(&w.radio.scanner(), &request, &d).await.unwrap();
    assert!(result.link.is_none());
    assert!(!phone.await.unwrap().unwrap().linked);
    assert!(w.store.list_links().unwrap().is_empty());
    let passkey = rp.finish_registration(&result.credential, &state).unwrap();

    // "Remember this computer": linked after the successful sign-in.
    let (request, state) = rp.start_authentication(std::slice::from_ref(&passkey));
    let qr = QrSession::new(request.hint(), true).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), true);
    let result = qr.run(&w.radio.scanner(), &request, &d).await.unwrap();
    rp.finish_authentication(&result.credential, &state).unwrap();
    let link = result
        .link
        .clone()
        .expect("the desktop got the link with the response");
    assert!(phone.await.unwrap().unwrap().linked);
    let links = w.store.list_links().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(hex::encode(links[0].link_id), link.link_id);

    // A wake-up the user refuses: nothing served, the phone never joins.
    let mut wake = WakeChannel::open(&w.phone).await.unwrap();
    let (request, _) = rp.start_authentication(std::slice::from_ref(&passkey));
    let phone = {
        let phone = w.phone.clone();
        tokio::spawn(async move {
            let wake_request = wake.next(Duration::from_secs(20)).await.expect("a wake-up");
            let r = phone.run_linked(wake_request).await;
            (r, wake)
        })
    };
    let short = desktop(&w, 3);
    let desktop_err = tandem_desktop::run_linked(&link, &w.radio.scanner(), &request, &short).await;
    assert!(desktop_err.is_err(), "the phone never answered");
    let (refused, mut wake) = phone.await.unwrap();
    assert!(matches!(
        refused,
        Err(SessionError::LinkedSessionRefused { ref desktop }) if *desktop == links[0].desktop_name
    ));
    assert_eq!(
        approver.asked.lock().unwrap().as_slice(),
        [links[0].desktop_name.clone()]
    );

    // Accepted: served, and the signature is user-verified.
    approver.accept.store(true, Ordering::SeqCst);
    let (request, state) = rp.start_authentication(std::slice::from_ref(&passkey));
    let phone = {
        let phone = w.phone.clone();
        tokio::spawn(async move {
            let wake_request = wake.next(Duration::from_secs(20)).await?;
            phone.run_linked(wake_request).await
        })
    };
    let result = tandem_desktop::run_linked(&link, &w.radio.scanner(), &request, &d)
        .await
        .expect("linked sign-in");
    phone.await.unwrap().expect("phone linked session");
    let auth = rp.finish_authentication(&result.credential, &state).unwrap();
    assert!(auth.user_verified());
    w.server.shutdown().await;
}

/// A verifier that holds its answer until the test releases it, then approves.
#[derive(Default)]
struct HeldApproval {
    released: Mutex<bool>,
    cv: Condvar,
    answered: AtomicBool,
}

impl UserVerifier for HeldApproval {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        let mut released = self.released.lock().unwrap();
        while !*released {
            released = self.cv.wait(released).unwrap();
        }
        self.answered.store(true, Ordering::SeqCst);
        Ok(UvKey::from_array(tandem_tests::TEST_UV_KEY))
    }
}

/// The session gives up waiting for the user (its user limit is short here: the timeout path is under
/// test); the user approves afterwards. No credential is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_after_the_session_timed_out_stores_nothing() {
    let held = Arc::new(HeldApproval::default());
    let w = world(
        |c| c.timeouts.user = Duration::from_secs(1),
        held.clone(),
        Arc::new(Approver::default()),
    )
    .await;
    let rp = RelyingParty::new();
    let (request, _) = rp.start_registration("jack");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), false);
    let d = desktop(&w, 20);
    let desktop = tokio::spawn({
        let scanner = w.radio.scanner();
        async move {
            let _ = qr.run(&scanner, &request, &d).await;
        }
    });
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::Timeout {
            step: SessionStep::ProcessRequest
        }
    );
    // The user approves now.
    *held.released.lock().unwrap() = true;
    held.cv.notify_all();
    while !held.answered.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The engine finishes within moments of the answer; give it ample time to (wrongly) store.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(w.store.list_all().unwrap().is_empty(), "nothing stored");
    desktop.abort();
    w.server.shutdown().await;
}

/// The platform key behind the UV key is gone (a new fingerprint was enrolled): the desktop gets a failure
/// status for its request, and the phone's session ends with `KeyInvalidated`, so the app can say the
/// passkeys are lost and offer to start over (rather than "the request was refused").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_uv_key_ends_the_session_as_key_loss() {
    struct Lost;
    impl UserVerifier for Lost {
        fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
            Err(VerificationError::KeyInvalidated("new biometric enrolled".into()))
        }
    }
    let w = world(|_| {}, Arc::new(Lost), Arc::new(Approver::default())).await;
    let rp = RelyingParty::new();
    let (request, _) = rp.start_registration("kim");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone = spawn_qr(&w.phone, qr.url(), false);
    let mut channel = qr.connect(&w.radio.scanner(), &desktop(&w, 20)).await.unwrap();
    let hash = tandem_desktop::webauthn::client_data_hash(&request.client_data_json());
    assert_eq!(
        channel.ctap(&request.to_ctap(&hash)).await.unwrap(),
        [0x7f],
        "CTAP2_ERR_OTHER"
    );
    match phone.await.unwrap() {
        Err(SessionError::KeyInvalidated(why)) => assert!(why.contains("new biometric")),
        other => panic!("expected KeyInvalidated, got {other:?}"),
    }
    assert!(w.store.list_all().unwrap().is_empty());
    w.server.shutdown().await;
}
