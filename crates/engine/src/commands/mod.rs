//! The CTAP2 commands, one file per command family, each written as the CTAP 2.2 algorithm it implements
//! (comments name the spec's step numbers). They are `impl` blocks on [`crate::Authenticator`]; the shared
//! state and the dispatch stay in [`crate::authenticator`].

pub(crate) mod client_pin;
pub(crate) mod get_assertion;
pub(crate) mod get_info;
pub(crate) mod make_credential;
pub(crate) mod pin_uv_auth;
pub(crate) mod selection;

use crate::cancel::Cancellation;
use crate::platform::AccountInfo;
use crate::status::EngineError;
use crate::store::CredentialMeta;
use crate::uv::{Presence, Silent, TokenVerified};

/// Fails with [`EngineError::Abandoned`] once the caller stopped waiting.
fn still_wanted(cancel: &Cancellation) -> Result<(), EngineError> {
    if cancel.is_cancelled() {
        Err(EngineError::Abandoned)
    } else {
        Ok(())
    }
}

/// The presence of a request that prompted nobody: user-verified if a pinUvAuthToken authorised it.
fn silent_presence(token: Option<TokenVerified>) -> Presence {
    match token {
        Some(t) => Presence::TokenVerified(t),
        None => Presence::Silent(Silent),
    }
}

/// The account a stored credential belongs to, as prompts and the chooser show it.
fn account_of(m: &CredentialMeta) -> AccountInfo {
    AccountInfo {
        user_id: m.user_id.clone(),
        name: m.user_name.clone(),
        display_name: m.user_display_name.clone(),
    }
}
