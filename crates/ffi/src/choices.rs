//! Which accounts the iOS extension offers for a sign-in request the system did not tie to one passkey
//! (`prepareCredentialList`): the list the user picks from. The extension then signs with the picked
//! credential only (its ID as the sole allowCredentials entry), so the engine never has to guess.

use crate::identities::account_label;
use crate::store::Credential;

/// One account the user can pick for a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountChoice {
    /// The credential to sign with.
    pub credential_id: Vec<u8>,
    /// Its user handle.
    pub user_handle: Vec<u8>,
    /// The relying party it belongs to.
    pub rp_id: String,
    /// The line to show: the account name (else the friendly name, else the RP ID).
    pub title: String,
    /// A second line when the friendly name says more than the title.
    pub subtitle: Option<String>,
    /// When the passkey was made, seconds since the Unix epoch.
    pub created_at: u64,
}

/// The accounts to offer for a sign-in to `rp_id`, newest first (ties by credential ID, so the order never
/// depends on the store's).
///
/// Only credentials of exactly `rp_id` (the system has already matched the page or app to it) are offered.
/// With a non-empty `allow_credentials` only those credentials are; with an empty one only discoverable
/// credentials are, as CTAP2 getAssertion does.
#[uniffi::export]
pub fn account_choices(
    credentials: Vec<Credential>,
    rp_id: String,
    allow_credentials: Vec<Vec<u8>>,
) -> Vec<AccountChoice> {
    let mut matching: Vec<Credential> = credentials
        .into_iter()
        .filter(|c| !c.id.is_empty() && c.rp_id == rp_id)
        .filter(|c| {
            if allow_credentials.is_empty() {
                c.discoverable
            } else {
                allow_credentials.contains(&c.id)
            }
        })
        .collect();
    matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    matching.dedup_by(|a, b| a.id == b.id);
    matching
        .into_iter()
        .map(|c| {
            let title = account_label(&c);
            let subtitle = c
                .user_display_name
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty() && *d != title)
                .map(str::to_owned);
            AccountChoice {
                title,
                subtitle,
                created_at: c.created_at,
                rp_id: c.rp_id,
                credential_id: c.id,
                user_handle: c.user_id,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identities::tests::credential;

    fn ids(choices: &[AccountChoice]) -> Vec<u8> {
        choices.iter().map(|c| c.credential_id[0]).collect()
    }

    #[test]
    fn only_the_rp_s_passkeys_newest_first() {
        let creds = vec![
            credential(&[1], "example.com", Some("old"), 10),
            credential(&[2], "other.example", Some("elsewhere"), 50),
            credential(&[3], "example.com", Some("new"), 30),
            credential(&[4], "sub.example.com", Some("sub"), 40),
            credential(&[5], "example.com", Some("tie"), 30),
        ];
        let got = account_choices(creds, "example.com".into(), vec![]);
        assert_eq!(ids(&got), vec![3, 5, 1]);
        assert_eq!(got[0].title, "new");
        assert_eq!(got[0].rp_id, "example.com");
        assert_eq!(got[0].user_handle, vec![0x75, 3]);
    }

    #[test]
    fn an_allow_list_restricts_the_choice() {
        let creds = vec![
            credential(&[1], "example.com", Some("a"), 1),
            credential(&[2], "example.com", Some("b"), 2),
            credential(&[3], "other.example", Some("c"), 3),
        ];
        let got = account_choices(
            creds.clone(),
            "example.com".into(),
            vec![vec![1], vec![3], vec![9]],
        );
        // [3] is another RP's: an allow list cannot widen the RP.
        assert_eq!(ids(&got), vec![1]);
        assert!(account_choices(creds, "example.com".into(), vec![vec![9]]).is_empty());
    }

    #[test]
    fn non_discoverable_credentials_need_the_allow_list() {
        let mut server_side = credential(&[1], "example.com", Some("a"), 1);
        server_side.discoverable = false;
        assert!(account_choices(vec![server_side.clone()], "example.com".into(), vec![]).is_empty());
        assert_eq!(
            ids(&account_choices(
                vec![server_side],
                "example.com".into(),
                vec![vec![1]]
            )),
            vec![1]
        );
    }

    #[test]
    fn the_subtitle_is_the_friendly_name_when_it_differs() {
        let mut c = credential(&[1], "example.com", Some("alice@example.com"), 1);
        c.user_display_name = Some("Alice".into());
        let same = {
            let mut s = credential(&[2], "example.com", Some("bob"), 2);
            s.user_display_name = Some("bob".into());
            s
        };
        let got = account_choices(vec![c, same], "example.com".into(), vec![]);
        assert_eq!(got[1].title, "alice@example.com");
        assert_eq!(got[1].subtitle.as_deref(), Some("Alice"));
        assert_eq!(got[0].subtitle, None);
    }
}
