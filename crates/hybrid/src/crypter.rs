//! Transport encryption after the handshake (docs/hybrid-protocol.md#transport-crypter): zero padding to a
//! multiple of 32 with a trailing count byte, AES-256-GCM with nonce `00×8 ‖ BE32(counter)` and empty AAD,
//! one counter per direction.
//!
//! Only the current ("new") construction is implemented; the legacy little-endian nonce with AAD `02` was
//! removed from Chromium and a new phone must not use it (docs/hybrid-protocol.md#transport-crypter).

use crate::handshake_hash::HandshakeHash;
use crate::secrets::TrafficKey;
use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

/// Highest counter value Chromium accepts (2^24 − 1); a direction that has used it is exhausted.
pub const MAX_COUNTER: u32 = 0x00FF_FFFF;
/// Padded plaintexts are a multiple of this many bytes.
pub const PADDING_GRANULARITY: usize = 32;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;

/// Why a transport message could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrypterError {
    /// This direction has used all 2^24 counter values; the session must end.
    #[error("transport counter exhausted")]
    CounterExhausted,
    /// Authentication failed: wrong key, wrong counter, or tampering.
    #[error("transport message failed to decrypt")]
    Decrypt,
    /// The decrypted plaintext's padding is malformed.
    #[error("transport padding is malformed")]
    Padding,
    /// The plaintext is too long for AES-GCM.
    #[error("transport message too long")]
    TooLong,
}

/// Pads `msg`: `z` zero bytes then the byte `z`, the smallest `z` making the length a multiple of 32.
pub fn pad(msg: &[u8]) -> Zeroizing<Vec<u8>> {
    let z = (PADDING_GRANULARITY - 1) - msg.len() % PADDING_GRANULARITY;
    let mut out = Zeroizing::new(Vec::with_capacity(msg.len() + z + 1));
    out.extend_from_slice(msg);
    out.resize(msg.len() + z, 0);
    // z < 32, so the cast is lossless.
    out.push(z as u8);
    out
}

/// Removes the padding of [`pad`]: reads the last byte `z` and drops `z + 1` bytes.
pub fn unpad(mut padded: Vec<u8>) -> Result<Vec<u8>, CrypterError> {
    let z = usize::from(*padded.last().ok_or(CrypterError::Padding)?);
    let keep = padded.len().checked_sub(z + 1).ok_or(CrypterError::Padding)?;
    padded.truncate(keep);
    Ok(padded)
}

fn nonce(counter: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[8..].copy_from_slice(&counter.to_be_bytes());
    n
}

/// One direction's AES-GCM key and counter.
struct Direction {
    cipher: Aes256Gcm,
    /// Counter of the next message.
    next: u32,
}

impl Direction {
    fn new(key: &TrafficKey) -> Self {
        Direction {
            cipher: Aes256Gcm::new(&(*key.as_bytes()).into()),
            next: 0,
        }
    }

    fn take_counter(&self) -> Result<u32, CrypterError> {
        if self.next > MAX_COUNTER {
            Err(CrypterError::CounterExhausted)
        } else {
            Ok(self.next)
        }
    }
}

/// The sending half of a [`Crypter`].
pub struct SendCipher(Direction);

impl SendCipher {
    /// Pads and encrypts one message; advances the send counter.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.seal(&pad(plaintext))
    }

    /// Encrypts `padded` exactly as given, skipping the padding step, so a test peer can put a frame with
    /// broken padding on the wire. Real senders always pad: this exists only with the `fault-injection`
    /// feature.
    #[cfg(feature = "fault-injection")]
    pub fn encrypt_unpadded(&mut self, padded: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.seal(padded)
    }

    fn seal(&mut self, padded: &[u8]) -> Result<Vec<u8>, CrypterError> {
        let counter = self.0.take_counter()?;
        let out = self
            .0
            .cipher
            .encrypt(&nonce(counter).into(), padded)
            .map_err(|_| CrypterError::TooLong)?;
        self.0.next = counter + 1;
        Ok(out)
    }

    /// Counter value the next message will use.
    pub fn counter(&self) -> u32 {
        self.0.next
    }
}

/// The receiving half of a [`Crypter`].
pub struct RecvCipher(Direction);

impl RecvCipher {
    /// Decrypts and unpads one message; advances the receive counter only on success.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, CrypterError> {
        let counter = self.0.take_counter()?;
        let padded = self
            .0
            .cipher
            .decrypt(&nonce(counter).into(), ciphertext)
            .map_err(|_| CrypterError::Decrypt)?;
        let plaintext = unpad(padded)?;
        self.0.next = counter + 1;
        Ok(plaintext)
    }

    /// Counter value the next message must have been sent with.
    pub fn counter(&self) -> u32 {
        self.0.next
    }
}

/// Both directions of an established session plus its handshake hash. Built by the handshakes in
/// [`crate::noise`]; split it with [`Crypter::into_halves`] to read and write from different tasks.
pub struct Crypter {
    send: SendCipher,
    recv: RecvCipher,
    handshake_hash: HandshakeHash,
}

impl Crypter {
    /// A crypter from known traffic keys (both counters at 0). Handshakes call this; tests use it with
    /// keys taken from vectors.
    pub fn from_keys(send_key: &TrafficKey, recv_key: &TrafficKey, handshake_hash: HandshakeHash) -> Self {
        Crypter {
            send: SendCipher(Direction::new(send_key)),
            recv: RecvCipher(Direction::new(recv_key)),
            handshake_hash,
        }
    }

    /// Pads and encrypts one outgoing message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.send.encrypt(plaintext)
    }

    /// Decrypts and unpads one incoming message.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.recv.decrypt(ciphertext)
    }

    /// See [`SendCipher::encrypt_unpadded`]; only with the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub fn encrypt_unpadded(&mut self, padded: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.send.encrypt_unpadded(padded)
    }

    /// The final Noise `h` of the handshake (input of the linking signature).
    pub fn handshake_hash(&self) -> &HandshakeHash {
        &self.handshake_hash
    }

    /// The two directions, independently usable.
    pub fn into_halves(self) -> (SendCipher, RecvCipher, HandshakeHash) {
        (self.send, self.recv, self.handshake_hash)
    }
}

impl std::fmt::Debug for Crypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypter")
            .field("send_counter", &self.send.counter())
            .field("recv_counter", &self.recv.counter())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SendCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendCipher")
            .field("counter", &self.counter())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RecvCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvCipher")
            .field("counter", &self.counter())
            .finish_non_exhaustive()
    }
}

/// Why a transport frame from the tunnel could not be used: the one error both drivers report for a frame,
/// whether the crypter refused it or the WebSocket delivered something no hybrid peer sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Decryption, unpadding or encryption failed.
    #[error(transparent)]
    Transport(#[from] CrypterError),
    /// A text WebSocket frame where only binary ones are allowed.
    #[error("non-binary WebSocket frame")]
    NonBinary,
    /// Larger than the WebSocket client accepts.
    #[error("message too large")]
    TooLarge,
    /// A zero-length plaintext.
    #[error("empty message")]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pair() -> (Crypter, Crypter) {
        let a = TrafficKey::from_bytes([1; 32]);
        let b = TrafficKey::from_bytes([2; 32]);
        let h = HandshakeHash::from_bytes([0; 32]);
        (Crypter::from_keys(&a, &b, h), Crypter::from_keys(&b, &a, h))
    }

    #[test]
    fn padding_sizes() {
        assert_eq!(pad(&[]).len(), 32);
        assert_eq!(pad(&[1; 31]).len(), 32);
        assert_eq!(pad(&[1; 31])[31], 0);
        assert_eq!(pad(&[1; 32]).len(), 64);
        assert_eq!(pad(&[1; 32])[63], 31);
        assert_eq!(unpad(vec![]), Err(CrypterError::Padding));
        assert_eq!(unpad(vec![0, 0, 5]), Err(CrypterError::Padding));
        assert_eq!(unpad(vec![7, 0, 1]).unwrap(), vec![7]);
    }

    #[test]
    fn counters_are_per_direction_and_strict() {
        let (mut desktop, mut phone) = pair();
        let m0 = desktop.encrypt(b"zero").unwrap();
        let m1 = desktop.encrypt(b"one").unwrap();
        // Out of order: counter 1 at position 0 fails and does not advance.
        assert_eq!(phone.decrypt(&m1), Err(CrypterError::Decrypt));
        assert_eq!(phone.decrypt(&m0).unwrap(), b"zero");
        assert_eq!(phone.decrypt(&m1).unwrap(), b"one");
        assert_eq!(phone.decrypt(&m1), Err(CrypterError::Decrypt), "replay must fail");
        let r0 = phone.encrypt(b"reply").unwrap();
        assert_eq!(desktop.decrypt(&r0).unwrap(), b"reply");
        assert_eq!((desktop.send.counter(), desktop.recv.counter()), (2, 1));
    }

    #[test]
    fn counter_exhaustion() {
        let (mut desktop, mut phone) = pair();
        desktop.send.0.next = MAX_COUNTER;
        phone.recv.0.next = MAX_COUNTER;
        let last = desktop.encrypt(b"last").unwrap();
        assert_eq!(phone.decrypt(&last).unwrap(), b"last");
        assert_eq!(desktop.encrypt(b"more"), Err(CrypterError::CounterExhausted));
        assert_eq!(phone.decrypt(&last), Err(CrypterError::CounterExhausted));
    }

    proptest! {
        #[test]
        fn round_trip(msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..5)) {
            let (mut desktop, mut phone) = pair();
            for m in &msgs {
                let ct = desktop.encrypt(m).unwrap();
                prop_assert_eq!((ct.len() - TAG_LEN) % PADDING_GRANULARITY, 0);
                prop_assert_eq!(phone.decrypt(&ct).unwrap(), m.clone());
            }
        }

        #[test]
        fn decrypt_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let (_, mut phone) = pair();
            prop_assert!(phone.decrypt(&data).is_err());
        }

        #[test]
        fn unpad_never_panics(data in proptest::collection::vec(any::<u8>(), 0..70)) {
            if let Ok(p) = unpad(data.clone()) {
                prop_assert!(p.len() < data.len());
            }
        }
    }
}
