//! Tunnel-service domain IDs (docs/hybrid-protocol.md#tunnel-domains): 0/1 assigned, 2–255 invalid, 256–65535
//! hashed to a host name.

use sha2::{Digest, Sha256};

/// Assigned host names, indexed by ID.
const ASSIGNED: [&str; 2] = ["cable.ua5v.com", "cable.auth.com"];
const HASH_PREFIX: &[u8; 28] = b"caBLEv2 tunnel server domain";
const TLDS: [&str; 4] = ["com", "org", "net", "info"];
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A domain ID is in the unassigned range 2..=255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tunnel-service domain ID {0} is in the unassigned range 2..=255")]
pub struct DomainError(pub u16);

/// Whether an ID names a host directly or through the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainKind {
    /// 0 (`cable.ua5v.com`, Google) or 1 (`cable.auth.com`, Apple).
    Assigned,
    /// 256..=65535: the host name is derived by hashing.
    Hashed,
}

/// A valid tunnel-service domain ID (never in 2..=255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainId(u16);

impl DomainId {
    /// Google's service, `cable.ua5v.com`.
    pub const GOOGLE: DomainId = DomainId(0);
    /// Apple's service, `cable.auth.com`.
    pub const APPLE: DomainId = DomainId(1);

    /// Validates a raw ID.
    pub const fn new(raw: u16) -> Result<Self, DomainError> {
        if raw >= 2 && raw <= 255 {
            Err(DomainError(raw))
        } else {
            Ok(DomainId(raw))
        }
    }

    /// Decodes the two little-endian bytes of the EID (docs/hybrid-protocol.md#pitfall-domain-byte-order).
    pub const fn from_le_bytes(bytes: [u8; 2]) -> Result<Self, DomainError> {
        Self::new(u16::from_le_bytes(bytes))
    }

    /// The raw number.
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// The two little-endian bytes written into the EID.
    pub const fn to_le_bytes(self) -> [u8; 2] {
        self.0.to_le_bytes()
    }

    /// Assigned or hashed.
    pub const fn kind(self) -> DomainKind {
        if self.0 < 256 {
            DomainKind::Assigned
        } else {
            DomainKind::Hashed
        }
    }

    /// Whether a desktop that knows `known_assigned` assigned domains (QR key 2) accepts this ID. Hashed IDs
    /// are always accepted; assigned ID `i` needs `i < known_assigned`
    /// (docs/hybrid-protocol.md#pitfall-unknown-assigned-domain).
    pub fn accepted_by(self, known_assigned: u64) -> bool {
        match self.kind() {
            DomainKind::Assigned => u64::from(self.0) < known_assigned,
            DomainKind::Hashed => true,
        }
    }

    /// The tunnel-service host name.
    pub fn host(self) -> String {
        match ASSIGNED.get(usize::from(self.0)) {
            Some(name) => (*name).to_owned(),
            None => hashed_host(self.0),
        }
    }

    /// The ID whose [`host`](Self::host) is `host` (case-insensitive), if any. Hashed names are found by
    /// trying all 65 280 hashed IDs, so call this once at configuration time, not per session.
    pub fn from_host(host: &str) -> Option<Self> {
        let host = host.to_ascii_lowercase();
        if let Some(i) = ASSIGNED.iter().position(|n| *n == host) {
            return u16::try_from(i).ok().map(DomainId);
        }
        if !host.starts_with("cable.") {
            return None;
        }
        (256..=u16::MAX)
            .map(DomainId)
            .find(|id| hashed_host(id.0) == host)
    }
}

/// The hashed host-name algorithm (docs/hybrid-protocol.md#tunnel-domains).
#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size arrays indexed by constants and by values masked below their lengths"
)]
fn hashed_host(id: u16) -> String {
    let mut input = [0u8; 31];
    input[..28].copy_from_slice(HASH_PREFIX);
    input[28..30].copy_from_slice(&id.to_le_bytes());
    let digest = Sha256::digest(input);
    let mut first8 = [0u8; 8];
    first8.copy_from_slice(&digest[..8]);
    let mut v = u64::from_le_bytes(first8);
    let tld = TLDS[(v & 3) as usize];
    v >>= 2;
    let mut label = String::with_capacity(13);
    while v != 0 {
        label.push(char::from(BASE32[(v & 31) as usize]));
        v >>= 5;
    }
    format!("cable.{label}.{tld}")
}

/// Picks the domain to advertise: `preferred` if the desktop will accept it, else `fallback` if it will,
/// else `None` (e.g. both assigned and the desktop knows too few assigned domains).
///
/// `known_assigned` comes from QR key 2 ([`crate::qr::QrData::known_assigned_domains`]; 1 when absent).
/// A hashed fallback is always accepted.
pub fn select_domain(preferred: DomainId, fallback: DomainId, known_assigned: u64) -> Option<DomainId> {
    [preferred, fallback]
        .into_iter()
        .find(|d| d.accepted_by(known_assigned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        assert!(DomainId::new(0).is_ok());
        assert!(DomainId::new(1).is_ok());
        assert_eq!(DomainId::new(2), Err(DomainError(2)));
        assert_eq!(DomainId::new(255), Err(DomainError(255)));
        assert_eq!(DomainId::new(256).unwrap().kind(), DomainKind::Hashed);
        assert_eq!(DomainId::from_le_bytes([0x80, 0xf9]).unwrap().raw(), 0xf980);
    }

    #[test]
    fn selection() {
        let hashed = DomainId::new(266).unwrap();
        assert_eq!(select_domain(DomainId::APPLE, hashed, 2), Some(DomainId::APPLE));
        assert_eq!(select_domain(DomainId::APPLE, hashed, 1), Some(hashed));
        assert_eq!(select_domain(DomainId::GOOGLE, hashed, 0), Some(hashed));
        assert_eq!(
            select_domain(DomainId::APPLE, DomainId::GOOGLE, 1),
            Some(DomainId::GOOGLE)
        );
        assert_eq!(select_domain(DomainId::APPLE, DomainId::GOOGLE, 0), None);
    }

    #[test]
    fn from_host_inverts_host() {
        for raw in [0u16, 1, 256, 266, 0xf980] {
            let id = DomainId::new(raw).unwrap();
            assert_eq!(DomainId::from_host(&id.host().to_uppercase()), Some(id));
        }
        assert_eq!(DomainId::from_host("example.com"), None);
    }
}
