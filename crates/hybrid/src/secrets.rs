//! Secret key material, each in its own zeroize-on-drop type, with the derivations of
//! docs/hybrid-protocol.md#key-derivation as methods.
//!
//! ```text
//! QrSecret ──1──▶ EidKey        QrSecret ──2──▶ TunnelId        QrSecret ─(salt EID plaintext)─3──▶ Psk
//! RootSecret ─(salt contact ID)─6──▶ PerContactSecret ─(salt link ID)─4──▶ PairedSecret
//! RootSecret ──5──▶ identity key          PairedSecret ─(salt client nonce)─1──▶ EidKey
//! PairedSecret ─(salt EID plaintext)─3──▶ Psk
//! ```

// The advert key lives with the advert it encrypts; re-exported here beside the secrets it derives from.
pub(crate) use crate::eid::EidKey;
use crate::eid::EidPlaintext;
use crate::ids::{ClientNonce, ContactId, LinkId, TunnelId};
use crate::kdf::{Purpose, derive};
use crate::keys::{KeyError, PrivateKey};
use crate::random::{self, RandomError};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A slice had the wrong length for a fixed-size secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("secret must be {expected} bytes, got {got}")]
pub struct SecretLengthError {
    /// Required length.
    pub expected: usize,
    /// Received length.
    pub got: usize,
}

macro_rules! secret_bytes {
    ($(#[$m:meta])* $name:ident, $len:expr) => {
        $(#[$m])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes (the caller should zeroize its own copy).
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Copies from a slice of exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, SecretLengthError> {
                <[u8; $len]>::try_from(bytes)
                    .map(Self)
                    .map_err(|_| SecretLengthError { expected: $len, got: bytes.len() })
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            #[allow(dead_code)]
            fn from_zeroizing(bytes: Zeroizing<[u8; $len]>) -> Self {
                Self(*bytes)
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison.
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }
        impl Eq for $name {}

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_bytes!(
    /// The 16-byte QR secret (QR key 1).
    QrSecret,
    16
);
secret_bytes!(
    /// A 32-byte Noise pre-shared key.
    Psk,
    32
);
secret_bytes!(
    /// The phone's 32-byte root secret, from which link secrets and the identity key derive.
    RootSecret,
    32
);
secret_bytes!(
    /// `Derive(root, contact_id, 6, 32)`: intermediate between the root secret and a link secret.
    PerContactSecret,
    32
);
secret_bytes!(
    /// A 32-byte link secret (`paired_secret`, linking map key 3).
    PairedSecret,
    32
);
secret_bytes!(
    /// A 32-byte AES-256-GCM traffic key (one direction of a [`crate::crypter::Crypter`]).
    TrafficKey,
    32
);

impl QrSecret {
    /// A fresh random QR secret (desktop role).
    pub fn generate() -> Result<Self, RandomError> {
        random::array().map(Self)
    }

    /// `Derive(qr_secret, "", 1, 64)`.
    pub fn eid_key(&self) -> EidKey {
        EidKey::from_bytes(&derive::<64>(&self.0, &[], Purpose::EidKey))
    }

    /// `Derive(qr_secret, "", 2, 16)`.
    pub fn tunnel_id(&self) -> TunnelId {
        TunnelId::from_bytes(*derive::<16>(&self.0, &[], Purpose::TunnelId))
    }

    /// `Derive(qr_secret, eid_plaintext, 3, 32)` — salted with the 16-byte decrypted EID
    /// (docs/hybrid-protocol.md#pitfall-psk-salt).
    pub fn psk(&self, eid: &EidPlaintext) -> Psk {
        Psk::from_zeroizing(derive(&self.0, eid.as_bytes(), Purpose::Psk))
    }
}

impl RootSecret {
    /// A fresh random root secret (phone role, created once and stored).
    pub fn generate() -> Result<Self, RandomError> {
        random::array().map(Self)
    }

    /// `Derive(root, contact_id, 6, 32)`.
    pub fn per_contact_secret(&self, contact_id: &ContactId) -> PerContactSecret {
        PerContactSecret::from_zeroizing(derive(
            &self.0,
            contact_id.as_bytes(),
            Purpose::PerContactIdSecret,
        ))
    }

    /// The link secret for `link_id` under the current contact ID (Chromium keeps no per-link state).
    pub fn paired_secret(&self, contact_id: &ContactId, link_id: &LinkId) -> PairedSecret {
        self.per_contact_secret(contact_id).paired_secret(link_id)
    }

    /// `Derive(root, "", 5, 32)`: the seed of the phone's long-term identity key.
    pub fn identity_seed(&self) -> Zeroizing<[u8; 32]> {
        derive(&self.0, &[], Purpose::IdentityKeySeed)
    }

    /// The phone's long-term identity key: the seed used directly as the scalar.
    ///
    /// Chromium maps the seed with a BoringSSL-specific function instead; that mapping is purely local
    /// (desktops only ever see the public key in linking key 4), so any deterministic mapping works.
    /// Fails only if the seed is not a valid scalar (probability about 2^-32).
    pub fn identity_key(&self) -> Result<PrivateKey, KeyError> {
        PrivateKey::from_bytes(&self.identity_seed())
    }
}

impl PerContactSecret {
    /// `Derive(per_contact_secret, link_id, 4, 32)`.
    pub fn paired_secret(&self, link_id: &LinkId) -> PairedSecret {
        PairedSecret::from_zeroizing(derive(&self.0, link_id.as_bytes(), Purpose::PairedSecret))
    }
}

impl PairedSecret {
    /// State-assisted `eid_key = Derive(paired_secret, client_nonce, 1, 64)`.
    pub fn eid_key(&self, client_nonce: &ClientNonce) -> EidKey {
        EidKey::from_bytes(&derive::<64>(&self.0, client_nonce.as_bytes(), Purpose::EidKey))
    }

    /// State-assisted `psk = Derive(paired_secret, eid_plaintext, 3, 32)`.
    pub fn psk(&self, eid: &EidPlaintext) -> Psk {
        Psk::from_zeroizing(derive(&self.0, eid.as_bytes(), Purpose::Psk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let s = QrSecret::from_bytes([7; 16]);
        assert_eq!(format!("{s:?}"), "QrSecret(<redacted>)");
        assert_eq!(format!("{:?}", s.eid_key()), "EidKey(<redacted>)");
    }

    #[test]
    fn eid_key_halves() {
        let mut raw = [0u8; 64];
        raw[0] = 1;
        raw[32] = 2;
        let k = EidKey::from_bytes(&raw);
        assert_eq!(k.aes[0], 1);
        assert_eq!(k.mac[0], 2);
        assert_eq!(*k.to_bytes(), raw);
    }

    #[test]
    fn from_slice_checks_length() {
        assert_eq!(
            Psk::from_slice(&[0; 31]).unwrap_err(),
            SecretLengthError {
                expected: 32,
                got: 31
            }
        );
        assert!(Psk::from_slice(&[0; 32]).is_ok());
    }
}
