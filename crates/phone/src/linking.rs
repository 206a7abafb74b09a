//! Linking state: what lets a desktop reach this phone later without a QR code (the wake channel that
//! carries the wake-ups is [`crate::wake`]).
//!
//! The phone keeps two secrets in the store's encrypted secrets table: a 32-byte root secret and its contact
//! ID (the handle its tunnel service wakes it by). Link secrets are derived from them and the link ID
//! (docs/hybrid-protocol.md#linking-map), so nothing per link is secret; the linked-desktop list only lets
//! the user see and revoke links. The wake channel is Tandem's own (`/tandem/wake/<contact id>` on the
//! phone's tunnel service): one binary CBOR message `{1: tunnel id, 2: routing id, 3: client payload}` per
//! wake-up.

use std::time::{SystemTime, UNIX_EPOCH};

use tandem_engine::store::StoreError;
use tandem_hybrid::{
    ContactId, HandshakeHash, LinkId, LinkingInfo, PairedSecret, PrivateKey, PublicKey, RootSecret,
};
use tandem_store::{HybridStateStore, LinkedDesktop};

use crate::config::ResolvedTunnel;
use crate::error::SessionError;

/// Name of the root-secret entry in the store's secrets table.
pub(crate) const ROOT_SECRET_NAME: &str = "hybrid.root_secret";
/// Name of the contact-ID entry in the store's secrets table.
pub(crate) const CONTACT_ID_NAME: &str = "hybrid.contact_id";
/// Length of the contact IDs this phone creates.
pub(crate) const CONTACT_ID_LEN: usize = 16;

/// The phone's long-term linking identity: root secret, contact ID and the identity key derived from them.
pub struct LinkIdentity {
    root: RootSecret,
    contact: ContactId,
    identity: PrivateKey,
}

impl std::fmt::Debug for LinkIdentity {
    /// The root secret and identity key redact themselves; the contact ID is not secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkIdentity")
            .field("root", &self.root)
            .field("contact", &self.contact)
            .field("identity", &self.identity)
            .finish()
    }
}

/// Stored linking state that does not parse: corrupt, like any other unreadable row.
fn corrupt(what: String) -> SessionError {
    SessionError::Store(StoreError::Corrupt(what))
}

impl LinkIdentity {
    /// Loads the identity, or `None` if this phone never linked.
    pub fn load(state: &dyn HybridStateStore) -> Result<Option<Self>, SessionError> {
        let root = state.get_secret(ROOT_SECRET_NAME)?;
        let contact = state.get_secret(CONTACT_ID_NAME)?;
        let (Some(root), Some(contact)) = (root, contact) else {
            return Ok(None);
        };
        let root = RootSecret::from_slice(&root).map_err(|e| corrupt(format!("root secret: {e}")))?;
        let contact = ContactId::new(contact.to_vec()).map_err(|e| corrupt(format!("contact ID: {e}")))?;
        let identity = root
            .identity_key()
            .map_err(|e| corrupt(format!("identity key: {e}")))?;
        Ok(Some(LinkIdentity {
            root,
            contact,
            identity,
        }))
    }

    /// Loads the identity, creating and storing a fresh root secret and contact ID the first time.
    pub fn load_or_create(state: &dyn HybridStateStore) -> Result<Self, SessionError> {
        if let Some(identity) = Self::load(state)? {
            return Ok(identity);
        }
        let root = RootSecret::generate()?;
        let contact = ContactId::generate(CONTACT_ID_LEN)?;
        state.put_secret(ROOT_SECRET_NAME, root.as_bytes())?;
        state.put_secret(CONTACT_ID_NAME, contact.as_bytes())?;
        Self::load(state)?.ok_or_else(|| corrupt("linking identity vanished after storing it".into()))
    }

    /// The contact ID the tunnel service wakes this phone by.
    pub fn contact_id(&self) -> &ContactId {
        &self.contact
    }

    /// The long-term identity key (linking key 4 is its public half).
    pub fn identity_key(&self) -> &PrivateKey {
        &self.identity
    }

    /// The link secret for `link_id` under the current contact ID.
    pub fn paired_secret(&self, link_id: &LinkId) -> PairedSecret {
        self.root.paired_secret(&self.contact, link_id)
    }

    /// Builds the linking information for a QR session with handshake hash `handshake_hash`.
    pub(crate) fn prepare_link(
        &self,
        desktop_key: &PublicKey,
        handshake_hash: &HandshakeHash,
        name: &str,
    ) -> Result<PreparedLink, SessionError> {
        let link_id = LinkId::generate()?;
        let info = LinkingInfo::new(
            self.contact.clone(),
            link_id,
            self.paired_secret(&link_id),
            &self.identity,
            name,
            desktop_key,
            handshake_hash,
        );
        Ok(PreparedLink { link_id, info })
    }
}

/// A link offered to the desktop in this session's update message.
pub(crate) struct PreparedLink {
    pub(crate) link_id: LinkId,
    pub(crate) info: LinkingInfo,
}

/// Records a link offered in a QR session's update message; called before the message is sent.
pub(crate) fn record_link(
    state: &dyn HybridStateStore,
    link: &PreparedLink,
    tunnel: &ResolvedTunnel,
) -> Result<(), SessionError> {
    let created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = LinkedDesktop {
        link_id: *link.link_id.as_bytes(),
        desktop_name: format!("desktop {}", link.link_id.to_hex()),
        created_at,
        tunnel_domain: tunnel.base_url.clone(),
    };
    Ok(state.put_link(&record)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `printed` shows `secret` as hex or as a run of decimal byte values (derived `Debug`).
    fn leaks(printed: &str, secret: &[u8]) -> bool {
        let numbers: Vec<u64> = printed
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse().ok())
            .collect();
        let wanted: Vec<u64> = secret.iter().map(|&b| u64::from(b)).collect();
        printed.contains(&hex::encode(secret))
            || numbers.windows(wanted.len()).any(|w| w == wanted.as_slice())
    }

    #[test]
    fn identity_debug_redacts_root_secret() {
        let root = [0xa5; 32];
        let secret = RootSecret::from_slice(&root).unwrap();
        let identity = LinkIdentity {
            identity: secret.identity_key().unwrap(),
            root: secret,
            contact: ContactId::new(vec![7; 16]).unwrap(),
        };
        let printed = format!("{identity:?} {identity:#?}");
        assert!(printed.contains("redacted"));
        assert!(!leaks(&printed, &root), "{printed}");
        // Control: the detector sees what a derived Debug of the bytes would show.
        assert!(leaks(&format!("{:?}", root.to_vec()), &root));
    }
}
