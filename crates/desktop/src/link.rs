//! What the desktop keeps of a phone it linked with: written by the linking step, read by a later
//! state-assisted session.

use serde::{Deserialize, Serialize};

/// A link the desktop keeps after a QR session with linking: enough for a later state-assisted sign-in.
/// Serialises to JSON (hex fields) for `tandem desktop login --linked FILE`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    /// Contact ID (hex).
    pub contact_id: String,
    /// Link ID (hex, 8 bytes).
    pub link_id: String,
    /// Link secret (hex, 32 bytes).
    pub link_secret: String,
    /// Phone identity public key (hex, 65 bytes uncompressed).
    pub identity_key: String,
    /// The phone's name.
    pub name: String,
    /// Tunnel-service domain ID of the QR session's advert.
    pub domain_id: u16,
}

impl std::fmt::Debug for StoredLink {
    /// Never prints the link secret (it lets its holder wake the phone and start sessions).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredLink")
            .field("contact_id", &self.contact_id)
            .field("link_id", &self.link_id)
            .field("link_secret", &format_args!("<redacted>"))
            .field("identity_key", &self.identity_key)
            .field("name", &self.name)
            .field("domain_id", &self.domain_id)
            .finish()
    }
}
