//! Pieces shared by the subcommands: the auto/prompt user, the advert printer, the store, the relying party.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tandem_desktop::WebAuthnRequest;
use tandem_engine::platform::{
    AccountChooser, AccountInfo, UserVerifier, UvKey, VerificationError, VerificationPrompt,
};
use tandem_phone::ble::{AdvertiseError, BleAdvertiser};
use tandem_store::{SoftwareKeyProtector, SqliteStore};
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// Approves everything and picks the first account (unattended runs and the demo). Its approvals unlock
/// the store's software UV key ([`SqliteStore::software_uv_key`]): the CLI has no biometric hardware.
pub(crate) struct AutoApprove(pub UvKey);

impl UserVerifier for AutoApprove {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(self.0.clone())
    }
}

impl AccountChooser for AutoApprove {
    fn choose(&self, _rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
        (!accounts.is_empty()).then_some(0)
    }
}

/// Asks on the terminal (stderr for the question, stdin for the answer). A "yes" unlocks the store's
/// software UV key, as [`AutoApprove`] does.
pub(crate) struct TerminalPrompt(pub UvKey);

fn ask(question: &str) -> Option<String> {
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

impl UserVerifier for TerminalPrompt {
    fn verify(&self, prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        // The title names the RP ID; the RP's claimed name only appears beside it.
        let question = match prompt.subtitle() {
            Some(sub) => format!("{} ({sub})? [y/N]", prompt.title()),
            None => format!("{}? [y/N]", prompt.title()),
        };
        match ask(&question).as_deref() {
            Some("y" | "Y" | "yes") => Ok(self.0.clone()),
            Some(_) => Err(VerificationError::Denied),
            None => Err(VerificationError::Cancelled),
        }
    }
}

impl tandem_phone::LinkedSessionApprover for AutoApprove {
    fn accept(&self, _desktop_name: &str) -> bool {
        true
    }
}

impl tandem_phone::LinkedSessionApprover for TerminalPrompt {
    fn accept(&self, desktop_name: &str) -> bool {
        matches!(
            ask(&format!(
                "Start a session with linked computer {desktop_name}? [y/N]"
            ))
            .as_deref(),
            Some("y" | "Y" | "yes")
        )
    }
}

impl AccountChooser for TerminalPrompt {
    fn choose(&self, rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
        eprintln!("Accounts for {rp_id}:");
        for (i, a) in accounts.iter().enumerate() {
            eprintln!(
                "  {i}: {}",
                a.name.clone().unwrap_or_else(|| hex::encode(&a.user_id))
            );
        }
        ask("Choose a number:")?
            .parse()
            .ok()
            .filter(|i| *i < accounts.len())
    }
}

/// Prints `advert <40 hex digits>` on stdout (flushed) when advertising starts, then hands the advert to an
/// inner advertiser, if any. Test harnesses outside the project read that line.
pub(crate) struct PrintingAdvertiser {
    pub inner: Option<Arc<dyn BleAdvertiser>>,
}

impl BleAdvertiser for PrintingAdvertiser {
    fn start(&self, advert: &[u8; 20]) -> Result<(), AdvertiseError> {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "advert {}", hex::encode(advert));
        let _ = out.flush();
        match &self.inner {
            Some(inner) => inner.start(advert),
            None => Ok(()),
        }
    }

    fn stop(&self) {
        if let Some(inner) = &self.inner {
            inner.stop();
        }
    }
}

/// The software key protector's key file for a store: `<store>.key`, next to it (created 0600 on first use).
pub(crate) fn key_file_for(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Opens the SQLite store at `path` with the software key protector.
pub(crate) fn open_store(path: &Path) -> Result<Arc<SqliteStore>, String> {
    let key = key_file_for(path);
    let protector =
        SoftwareKeyProtector::load_or_create(&key).map_err(|e| format!("key file {}: {e}", key.display()))?;
    SqliteStore::open(path, Arc::new(protector))
        .map(Arc::new)
        .map_err(|e| format!("store {}: {e}", path.display()))
}

/// The store's software UV key, which the CLI's approvals unlock.
pub(crate) fn software_uv_key(store: &SqliteStore) -> Result<UvKey, String> {
    store
        .software_uv_key()
        .map_err(|e| format!("software UV key: {e}"))
}

/// A webauthn-rs relying party.
pub(crate) struct RelyingParty {
    webauthn: Webauthn,
    origin: String,
}

impl RelyingParty {
    /// Builds the RP for `rp_id` at `origin`.
    pub(crate) fn new(rp_id: &str, origin: &str) -> Result<Self, String> {
        let url = Url::parse(origin).map_err(|e| format!("origin {origin}: {e}"))?;
        let webauthn = WebauthnBuilder::new(rp_id, &url)
            .and_then(|b| b.rp_name("Tandem").build())
            .map_err(|e| format!("relying party: {e}"))?;
        Ok(RelyingParty {
            webauthn,
            origin: origin.to_string(),
        })
    }

    /// Registration options for a new user, as the browser request.
    pub(crate) fn start_registration(
        &self,
        user: &str,
    ) -> Result<(WebAuthnRequest, PasskeyRegistration), String> {
        let (options, state) = self
            .webauthn
            .start_passkey_registration(Uuid::new_v4(), user, user, None)
            .map_err(|e| e.to_string())?;
        let json = serde_json::to_value(&options).map_err(|e| e.to_string())?;
        let request =
            WebAuthnRequest::from_create_options_json(&json, &self.origin).map_err(|e| e.to_string())?;
        Ok((request, state))
    }

    /// Verifies a registration.
    pub(crate) fn finish_registration(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyRegistration,
    ) -> Result<Passkey, String> {
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|e| e.to_string())?;
        self.webauthn
            .finish_passkey_registration(&reg, state)
            .map_err(|e| e.to_string())
    }

    /// Sign-in options for `passkeys`.
    pub(crate) fn start_authentication(
        &self,
        passkeys: &[Passkey],
    ) -> Result<(WebAuthnRequest, PasskeyAuthentication), String> {
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(passkeys)
            .map_err(|e| e.to_string())?;
        let json = serde_json::to_value(&options).map_err(|e| e.to_string())?;
        let request =
            WebAuthnRequest::from_get_options_json(&json, &self.origin).map_err(|e| e.to_string())?;
        Ok((request, state))
    }

    /// Verifies a sign-in.
    pub(crate) fn finish_authentication(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyAuthentication,
    ) -> Result<AuthenticationResult, String> {
        let pkc: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|e| e.to_string())?;
        self.webauthn
            .finish_passkey_authentication(&pkc, state)
            .map_err(|e| e.to_string())
    }
}
