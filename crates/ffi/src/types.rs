//! Plain records and enums that cross the FFI, with conversions from the core's types.

use tandem_engine::platform as core;

/// Which ceremony the user is asked to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Operation {
    /// Creating a new passkey.
    Register,
    /// Signing in with an existing passkey.
    SignIn,
}

impl From<core::Operation> for Operation {
    fn from(op: core::Operation) -> Self {
        match op {
            core::Operation::Register => Operation::Register,
            core::Operation::SignIn => Operation::SignIn,
        }
    }
}

/// An account as the relying party described it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountInfo {
    /// Opaque user handle chosen by the relying party.
    pub user_id: Vec<u8>,
    /// Account name (e.g. an e-mail address), if given.
    pub name: Option<String>,
    /// Friendly name, if given.
    pub display_name: Option<String>,
}

impl From<&core::AccountInfo> for AccountInfo {
    fn from(a: &core::AccountInfo) -> Self {
        AccountInfo {
            user_id: a.user_id.clone(),
            name: a.name.clone(),
            display_name: a.display_name.clone(),
        }
    }
}

/// What a biometric prompt should tell the user they are approving.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationPrompt {
    /// Register or sign in.
    pub operation: Operation,
    /// The relying party's identifier (a domain).
    pub rp_id: String,
    /// The relying party's display name, when known.
    pub rp_name: Option<String>,
    /// The account concerned, when already known.
    pub account: Option<AccountInfo>,
    /// The title to show, built from the RP ID ("Sign in to example.com"): never from the RP's claimed
    /// name, which anyone can set.
    pub title: String,
    /// The line under the title: the account, with the RP's claimed name beside it, labelled as a name.
    pub subtitle: Option<String>,
}

impl From<&core::VerificationPrompt> for VerificationPrompt {
    fn from(p: &core::VerificationPrompt) -> Self {
        VerificationPrompt {
            operation: p.operation.into(),
            rp_id: p.rp_id.clone(),
            rp_name: p.rp_name.clone(),
            account: p.account.as_ref().map(AccountInfo::from),
            title: p.title(),
            subtitle: p.subtitle(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record the apps build their prompt from carries a title naming the RP ID, not the claimed name.
    #[test]
    fn prompt_title_names_the_rp_id() {
        let p = VerificationPrompt::from(&core::VerificationPrompt {
            operation: core::Operation::Register,
            rp_id: "evil.example".into(),
            rp_name: Some("Google".into()),
            account: None,
        });
        assert_eq!(p.title, "Create a passkey for evil.example");
        assert_eq!(p.subtitle.as_deref(), Some("named \"Google\""));
    }
}
