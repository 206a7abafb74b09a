//! The Noise handshakes (docs/hybrid-protocol.md#noise) over P-256 / AES-256-GCM / SHA-256, both roles:
//!
//! * QR-initiated `Noise_KNpsk0_P256_AESGCM_SHA256`, prologue `01`, pre-message: the desktop's QR identity key.
//! * State-assisted `Noise_NKpsk0_P256_AESGCM_SHA256`, prologue `00`, pre-message: the phone's identity key.
//!
//! The desktop (client) is always the initiator, the phone (authenticator) the responder
//! (docs/hybrid-protocol.md#pitfall-noise-roles). Both messages are exactly 81 bytes: a 65-byte uncompressed
//! ephemeral key and a 16-byte tag over an empty payload. `Split()` gives `k1` (desktop→phone) and `k2`
//! (phone→desktop) (docs/hybrid-protocol.md#pitfall-split-orientation).
//!
//! Ephemeral keys come from the OS unless a `*_with_ephemeral` constructor is used; those exist only for
//! deterministic known-answer tests — reusing an ephemeral key across sessions destroys forward secrecy — so
//! they are compiled only with the cargo feature `hazmat` (off by default; tests and fuzz targets enable it).

use crate::crypter::Crypter;
pub use crate::handshake_hash::HandshakeHash;
use crate::keys::{KeyError, PrivateKey, PublicKey, UNCOMPRESSED_LEN};
use crate::random::RandomError;
use crate::secrets::{Psk, TrafficKey};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of each handshake message.
pub const HANDSHAKE_MSG_LEN: usize = 81;
const TAG_LEN: usize = 16;
const KN_PSK0: &[u8; 31] = b"Noise_KNpsk0_P256_AESGCM_SHA256";
const NK_PSK0: &[u8; 31] = b"Noise_NKpsk0_P256_AESGCM_SHA256";

/// Why a handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    /// A handshake message that is not exactly 81 bytes (Chromium rejects any other size,
    /// docs/hybrid-protocol.md#pitfall-handshake-length).
    #[error("handshake message must be {HANDSHAKE_MSG_LEN} bytes, got {0}")]
    Length(usize),
    /// The peer's ephemeral key is not a valid uncompressed P-256 point.
    #[error("peer ephemeral key: {0}")]
    PeerKey(#[from] KeyError),
    /// The handshake tag did not verify: wrong PSK, wrong static key, or tampering.
    #[error("handshake message failed to authenticate")]
    Decrypt,
    /// No OS randomness for the ephemeral key.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Which handshake pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeKind {
    /// QR-initiated, `KNpsk0`.
    QrInitiated,
    /// State-assisted (linked), `NKpsk0`.
    StateAssisted,
}

impl HandshakeKind {
    fn protocol_name(self) -> &'static [u8; 31] {
        match self {
            HandshakeKind::QrInitiated => KN_PSK0,
            HandshakeKind::StateAssisted => NK_PSK0,
        }
    }

    fn prologue(self) -> u8 {
        match self {
            HandshakeKind::QrInitiated => 1,
            HandshakeKind::StateAssisted => 0,
        }
    }
}

/// Noise `SymmetricState` with its `CipherState` folded in. Every handshake key encrypts exactly once, so
/// the nonce is always zero (Chromium's and standard Noise's nonce layouts agree at zero).
struct SymmetricState {
    h: [u8; 32],
    ck: Zeroizing<[u8; 32]>,
    k: Zeroizing<[u8; 32]>,
}

impl SymmetricState {
    /// `InitializeSymmetric`, prologue, the pre-message static key, and the leading `psk` token.
    fn initialize(kind: HandshakeKind, static_key: &PublicKey, psk: &Psk) -> Self {
        // Names are 31 bytes: padded with one zero byte to the hash length
        // (docs/hybrid-protocol.md#pitfall-protocol-name).
        let mut h = [0u8; 32];
        h[..31].copy_from_slice(kind.protocol_name());
        let mut s = SymmetricState {
            h,
            ck: Zeroizing::new(h),
            k: Zeroizing::new([0; 32]),
        };
        s.mix_hash(&[kind.prologue()]);
        s.mix_hash(&static_key.to_uncompressed());
        s.mix_key_and_hash(psk.as_bytes());
        s
    }

    fn mix_hash(&mut self, data: &[u8]) {
        let mut d = Sha256::new();
        d.update(self.h);
        d.update(data);
        self.h = d.finalize().into();
    }

    /// `HKDF(ck, ikm, N/32)`: RFC 5869 with salt `ck`, empty info.
    #[allow(
        clippy::expect_used,
        reason = "HKDF-SHA256 expands at most 96 bytes here, far below its 8160-byte limit"
    )]
    fn hkdf<const N: usize>(&self, ikm: &[u8]) -> Zeroizing<[u8; N]> {
        let mut out = Zeroizing::new([0u8; N]);
        Hkdf::<Sha256>::new(Some(self.ck.as_slice()), ikm)
            .expand(&[], out.as_mut())
            .expect("at most 96 bytes of output");
        out
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "slices of fixed-size HKDF output at constant offsets"
    )]
    fn mix_key(&mut self, ikm: &[u8]) {
        let out = self.hkdf::<64>(ikm);
        self.ck.copy_from_slice(&out[..32]);
        self.k.copy_from_slice(&out[32..]);
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "slices of fixed-size HKDF output at constant offsets"
    )]
    fn mix_key_and_hash(&mut self, ikm: &[u8]) {
        let out = self.hkdf::<96>(ikm);
        self.ck.copy_from_slice(&out[..32]);
        self.mix_hash(&out[32..64]);
        self.k.copy_from_slice(&out[64..]);
    }

    /// The ephemeral-key token `e` in a psk handshake: `MixHash` and `MixKey` of the public key.
    fn mix_ephemeral(&mut self, key: &[u8; UNCOMPRESSED_LEN]) {
        self.mix_hash(key);
        self.mix_key(key);
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&(*self.k).into())
    }

    /// `EncryptAndHash` of the empty payload: the 16-byte tag.
    #[allow(
        clippy::expect_used,
        reason = "AES-GCM of an empty plaintext cannot fail and yields exactly the tag"
    )]
    fn encrypt_and_hash_empty(&mut self) -> [u8; TAG_LEN] {
        let ct = self
            .cipher()
            .encrypt(
                &[0u8; 12].into(),
                Payload {
                    msg: &[],
                    aad: &self.h,
                },
            )
            .expect("empty plaintext always encrypts");
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&ct);
        self.mix_hash(&tag);
        tag
    }

    /// `DecryptAndHash` of a 16-byte ciphertext that must carry an empty payload.
    fn decrypt_and_hash_empty(&mut self, tag: &[u8]) -> Result<(), NoiseError> {
        self.cipher()
            .decrypt(
                &[0u8; 12].into(),
                Payload {
                    msg: tag,
                    aad: &self.h,
                },
            )
            .map_err(|_| NoiseError::Decrypt)?;
        self.mix_hash(tag);
        Ok(())
    }

    /// `Split()`: `(k1, k2)`, k1 protecting desktop→phone.
    #[allow(
        clippy::indexing_slicing,
        reason = "slices of fixed-size HKDF output at constant offsets"
    )]
    fn split(&self) -> (TrafficKey, TrafficKey) {
        let out = self.hkdf::<64>(&[]);
        let mut k1 = [0u8; 32];
        let mut k2 = [0u8; 32];
        k1.copy_from_slice(&out[..32]);
        k2.copy_from_slice(&out[32..]);
        let keys = (TrafficKey::from_bytes(k1), TrafficKey::from_bytes(k2));
        zeroize::Zeroize::zeroize(&mut k1);
        zeroize::Zeroize::zeroize(&mut k2);
        keys
    }

    fn handshake_hash(&self) -> HandshakeHash {
        HandshakeHash::from_bytes(self.h)
    }
}

fn split_message(msg: &[u8]) -> Result<(PublicKey, &[u8; UNCOMPRESSED_LEN], &[u8]), NoiseError> {
    let msg: &[u8; HANDSHAKE_MSG_LEN] = msg.try_into().map_err(|_| NoiseError::Length(msg.len()))?;
    let (key, tag) = msg.split_at(UNCOMPRESSED_LEN);
    let key: &[u8; UNCOMPRESSED_LEN] = key.try_into().map_err(|_| NoiseError::Length(msg.len()))?;
    Ok((PublicKey::from_uncompressed(key)?, key, tag))
}

fn join_message(key: &[u8; UNCOMPRESSED_LEN], tag: &[u8; TAG_LEN]) -> [u8; HANDSHAKE_MSG_LEN] {
    let mut msg = [0u8; HANDSHAKE_MSG_LEN];
    msg[..UNCOMPRESSED_LEN].copy_from_slice(key);
    msg[UNCOMPRESSED_LEN..].copy_from_slice(tag);
    msg
}

enum InitiatorStatic {
    /// KNpsk0: the desktop's own QR identity key (token `se` on reading msg2).
    Qr(PrivateKey),
    /// NKpsk0: the phone's identity key, known from linking.
    StateAssisted(PublicKey),
}

/// Desktop (client) side after sending message 1, waiting for message 2.
pub struct InitiatorHandshake {
    sym: SymmetricState,
    ephemeral: PrivateKey,
    statik: InitiatorStatic,
}

impl InitiatorHandshake {
    /// QR-initiated: `identity` is the key whose public half is QR key 0. Returns message 1.
    pub fn qr(identity: &PrivateKey, psk: &Psk) -> Result<(Self, [u8; HANDSHAKE_MSG_LEN]), NoiseError> {
        Ok(Self::qr_from(identity, psk, PrivateKey::generate()?))
    }

    /// [`qr`](Self::qr) with a caller-chosen ephemeral key — deterministic tests only (feature `hazmat`).
    #[cfg(any(test, feature = "hazmat"))]
    pub fn qr_with_ephemeral(
        identity: &PrivateKey,
        psk: &Psk,
        ephemeral: PrivateKey,
    ) -> (Self, [u8; HANDSHAKE_MSG_LEN]) {
        Self::qr_from(identity, psk, ephemeral)
    }

    fn qr_from(identity: &PrivateKey, psk: &Psk, ephemeral: PrivateKey) -> (Self, [u8; HANDSHAKE_MSG_LEN]) {
        let sym = SymmetricState::initialize(HandshakeKind::QrInitiated, &identity.public_key(), psk);
        Self::start(sym, ephemeral, InitiatorStatic::Qr(identity.clone()))
    }

    /// State-assisted: `phone_identity` is linking key 4. Returns message 1.
    pub fn state_assisted(
        phone_identity: &PublicKey,
        psk: &Psk,
    ) -> Result<(Self, [u8; HANDSHAKE_MSG_LEN]), NoiseError> {
        Ok(Self::state_assisted_from(
            phone_identity,
            psk,
            PrivateKey::generate()?,
        ))
    }

    /// [`state_assisted`](Self::state_assisted) with a caller-chosen ephemeral key — deterministic tests only
    /// (feature `hazmat`).
    #[cfg(any(test, feature = "hazmat"))]
    pub fn state_assisted_with_ephemeral(
        phone_identity: &PublicKey,
        psk: &Psk,
        ephemeral: PrivateKey,
    ) -> (Self, [u8; HANDSHAKE_MSG_LEN]) {
        Self::state_assisted_from(phone_identity, psk, ephemeral)
    }

    fn state_assisted_from(
        phone_identity: &PublicKey,
        psk: &Psk,
        ephemeral: PrivateKey,
    ) -> (Self, [u8; HANDSHAKE_MSG_LEN]) {
        let sym = SymmetricState::initialize(HandshakeKind::StateAssisted, phone_identity, psk);
        Self::start(sym, ephemeral, InitiatorStatic::StateAssisted(*phone_identity))
    }

    fn start(
        mut sym: SymmetricState,
        ephemeral: PrivateKey,
        statik: InitiatorStatic,
    ) -> (Self, [u8; HANDSHAKE_MSG_LEN]) {
        let e = ephemeral.public_key().to_uncompressed();
        sym.mix_ephemeral(&e);
        if let InitiatorStatic::StateAssisted(phone) = &statik {
            sym.mix_key(ephemeral.ecdh(phone).as_slice()); // es
        }
        let tag = sym.encrypt_and_hash_empty();
        (
            InitiatorHandshake {
                sym,
                ephemeral,
                statik,
            },
            join_message(&e, &tag),
        )
    }

    /// Which pattern this handshake runs.
    pub fn kind(&self) -> HandshakeKind {
        match self.statik {
            InitiatorStatic::Qr(_) => HandshakeKind::QrInitiated,
            InitiatorStatic::StateAssisted(_) => HandshakeKind::StateAssisted,
        }
    }

    /// Processes message 2 (exactly 81 bytes) and returns the session: writes with `k1`, reads with `k2`.
    pub fn read_msg2(mut self, msg2: &[u8]) -> Result<Crypter, NoiseError> {
        let (re, re_bytes, tag) = split_message(msg2)?;
        self.sym.mix_ephemeral(re_bytes);
        self.sym.mix_key(self.ephemeral.ecdh(&re).as_slice()); // ee
        if let InitiatorStatic::Qr(identity) = &self.statik {
            self.sym.mix_key(identity.ecdh(&re).as_slice()); // se
        }
        self.sym.decrypt_and_hash_empty(tag)?;
        let (k1, k2) = self.sym.split();
        Ok(Crypter::from_keys(&k1, &k2, self.sym.handshake_hash()))
    }
}

impl std::fmt::Debug for InitiatorHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitiatorHandshake")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

enum ResponderStatic {
    /// KNpsk0: the desktop's QR identity key (token `se`).
    Qr(PublicKey),
    /// NKpsk0: the phone's own identity key (token `es`).
    StateAssisted(PrivateKey),
}

/// Phone (authenticator) side, waiting for message 1.
pub struct ResponderHandshake {
    sym: SymmetricState,
    ephemeral: PrivateKey,
    statik: ResponderStatic,
}

impl ResponderHandshake {
    /// QR-initiated: `desktop_identity` is QR key 0 (decompressed), `psk` from the advert's plaintext.
    pub fn qr(desktop_identity: &PublicKey, psk: &Psk) -> Result<Self, NoiseError> {
        Ok(Self::qr_from(desktop_identity, psk, PrivateKey::generate()?))
    }

    /// [`qr`](Self::qr) with a caller-chosen ephemeral key — deterministic tests only (feature `hazmat`).
    #[cfg(any(test, feature = "hazmat"))]
    pub fn qr_with_ephemeral(desktop_identity: &PublicKey, psk: &Psk, ephemeral: PrivateKey) -> Self {
        Self::qr_from(desktop_identity, psk, ephemeral)
    }

    fn qr_from(desktop_identity: &PublicKey, psk: &Psk, ephemeral: PrivateKey) -> Self {
        ResponderHandshake {
            sym: SymmetricState::initialize(HandshakeKind::QrInitiated, desktop_identity, psk),
            ephemeral,
            statik: ResponderStatic::Qr(*desktop_identity),
        }
    }

    /// State-assisted: `identity` is the phone's long-term identity key (linking key 4).
    pub fn state_assisted(identity: &PrivateKey, psk: &Psk) -> Result<Self, NoiseError> {
        Ok(Self::state_assisted_from(identity, psk, PrivateKey::generate()?))
    }

    /// [`state_assisted`](Self::state_assisted) with a caller-chosen ephemeral key — deterministic tests only
    /// (feature `hazmat`).
    #[cfg(any(test, feature = "hazmat"))]
    pub fn state_assisted_with_ephemeral(identity: &PrivateKey, psk: &Psk, ephemeral: PrivateKey) -> Self {
        Self::state_assisted_from(identity, psk, ephemeral)
    }

    fn state_assisted_from(identity: &PrivateKey, psk: &Psk, ephemeral: PrivateKey) -> Self {
        ResponderHandshake {
            sym: SymmetricState::initialize(HandshakeKind::StateAssisted, &identity.public_key(), psk),
            ephemeral,
            statik: ResponderStatic::StateAssisted(identity.clone()),
        }
    }

    /// Which pattern this handshake runs.
    pub fn kind(&self) -> HandshakeKind {
        match self.statik {
            ResponderStatic::Qr(_) => HandshakeKind::QrInitiated,
            ResponderStatic::StateAssisted(_) => HandshakeKind::StateAssisted,
        }
    }

    /// Processes message 1 (exactly 81 bytes); returns message 2 and the session (reads with `k1`, writes
    /// with `k2`). A wrong PSK or key shows up here as [`NoiseError::Decrypt`].
    pub fn read_msg1(mut self, msg1: &[u8]) -> Result<([u8; HANDSHAKE_MSG_LEN], Crypter), NoiseError> {
        let (re, re_bytes, tag) = split_message(msg1)?;
        self.sym.mix_ephemeral(re_bytes);
        if let ResponderStatic::StateAssisted(identity) = &self.statik {
            self.sym.mix_key(identity.ecdh(&re).as_slice()); // es
        }
        self.sym.decrypt_and_hash_empty(tag)?;
        let e = self.ephemeral.public_key().to_uncompressed();
        self.sym.mix_ephemeral(&e);
        self.sym.mix_key(self.ephemeral.ecdh(&re).as_slice()); // ee
        if let ResponderStatic::Qr(desktop) = &self.statik {
            self.sym.mix_key(self.ephemeral.ecdh(desktop).as_slice()); // se
        }
        let tag = self.sym.encrypt_and_hash_empty();
        let (k1, k2) = self.sym.split();
        Ok((
            join_message(&e, &tag),
            Crypter::from_keys(&k2, &k1, self.sym.handshake_hash()),
        ))
    }
}

impl std::fmt::Debug for ResponderHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponderHandshake")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn psk(b: u8) -> Psk {
        Psk::from_bytes([b; 32])
    }

    #[test]
    fn qr_roles_agree() {
        let desktop_id = PrivateKey::generate().unwrap();
        let (init, msg1) = InitiatorHandshake::qr(&desktop_id, &psk(1)).unwrap();
        let resp = ResponderHandshake::qr(&desktop_id.public_key(), &psk(1)).unwrap();
        let (msg2, mut phone) = resp.read_msg1(&msg1).unwrap();
        let mut desktop = init.read_msg2(&msg2).unwrap();
        assert_eq!(desktop.handshake_hash(), phone.handshake_hash());
        let ct = desktop.encrypt(b"hello").unwrap();
        assert_eq!(phone.decrypt(&ct).unwrap(), b"hello");
        let ct = phone.encrypt(b"world").unwrap();
        assert_eq!(desktop.decrypt(&ct).unwrap(), b"world");
    }

    #[test]
    fn state_assisted_roles_agree() {
        let phone_id = PrivateKey::generate().unwrap();
        let (init, msg1) = InitiatorHandshake::state_assisted(&phone_id.public_key(), &psk(2)).unwrap();
        let (msg2, mut phone) = ResponderHandshake::state_assisted(&phone_id, &psk(2))
            .unwrap()
            .read_msg1(&msg1)
            .unwrap();
        let mut desktop = init.read_msg2(&msg2).unwrap();
        assert_eq!(desktop.handshake_hash(), phone.handshake_hash());
        let ct = phone.encrypt(b"x").unwrap();
        assert_eq!(desktop.decrypt(&ct).unwrap(), b"x");
    }

    #[test]
    fn mismatches_fail() {
        let desktop_id = PrivateKey::generate().unwrap();
        let other = PrivateKey::generate().unwrap();
        let (_, msg1) = InitiatorHandshake::qr(&desktop_id, &psk(1)).unwrap();
        let wrong_psk = ResponderHandshake::qr(&desktop_id.public_key(), &psk(9)).unwrap();
        assert_eq!(wrong_psk.read_msg1(&msg1).unwrap_err(), NoiseError::Decrypt);
        // KN: msg1 does not depend on the static key's DH, but the prologue hash does.
        let wrong_key = ResponderHandshake::qr(&other.public_key(), &psk(1)).unwrap();
        assert_eq!(wrong_key.read_msg1(&msg1).unwrap_err(), NoiseError::Decrypt);
        // Patterns do not cross.
        let nk = ResponderHandshake::state_assisted(&desktop_id, &psk(1)).unwrap();
        assert_eq!(nk.read_msg1(&msg1).unwrap_err(), NoiseError::Decrypt);
        // A message 2 from another session is rejected.
        let (init, _) = InitiatorHandshake::qr(&desktop_id, &psk(1)).unwrap();
        let (init2, msg1b) = InitiatorHandshake::qr(&other, &psk(1)).unwrap();
        let (msg2_other, _) = ResponderHandshake::qr(&other.public_key(), &psk(1))
            .unwrap()
            .read_msg1(&msg1b)
            .unwrap();
        assert_eq!(init.read_msg2(&msg2_other).unwrap_err(), NoiseError::Decrypt);
        assert_eq!(
            init2.read_msg2(&msg2_other[..80]).unwrap_err(),
            NoiseError::Length(80)
        );
    }

    #[test]
    fn bad_point_rejected() {
        let desktop_id = PrivateKey::generate().unwrap();
        let resp = ResponderHandshake::qr(&desktop_id.public_key(), &psk(1)).unwrap();
        assert!(matches!(resp.read_msg1(&[4u8; 81]), Err(NoiseError::PeerKey(_))));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn responder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100), flip in 0usize..81) {
            let desktop_id = PrivateKey::from_bytes(&[0x11; 32]).unwrap();
            let resp = ResponderHandshake::qr_with_ephemeral(&desktop_id.public_key(), &psk(1),
                PrivateKey::from_bytes(&[0x33; 32]).unwrap());
            prop_assert!(resp.read_msg1(&data).is_err());
            // A single flipped bit in a genuine message is always rejected.
            let (_, mut msg1) = InitiatorHandshake::qr_with_ephemeral(&desktop_id, &psk(1),
                PrivateKey::from_bytes(&[0x22; 32]).unwrap());
            msg1[flip] ^= 0x01;
            let resp = ResponderHandshake::qr_with_ephemeral(&desktop_id.public_key(), &psk(1),
                PrivateKey::from_bytes(&[0x33; 32]).unwrap());
            prop_assert!(resp.read_msg1(&msg1).is_err());
        }
    }
}
