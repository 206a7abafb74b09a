//! Transport ciphertexts with the derived session's traffic keys, as the phone receives them: decrypt
//! (AEAD, counter, unpadding), then parse the client message. Several frames per input exercise counters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::{ClientMessage, Crypter, HandshakeHash, TrafficKey};

fuzz_target!(|data: &[u8]| {
    let s = tandem_fuzz::session();
    let mut phone = Crypter::from_keys(
        &TrafficKey::from_bytes(s.key_p2d),
        &TrafficKey::from_bytes(s.key_d2p),
        HandshakeHash::from_bytes(s.handshake_hash),
    );
    // Frames are separated by a 2-byte big-endian length prefix; the remainder is one final frame.
    let mut rest = data;
    while !rest.is_empty() {
        let (frame, tail) = match rest {
            [hi, lo, tail @ ..] if usize::from(u16::from_be_bytes([*hi, *lo])) <= tail.len() => {
                tail.split_at(usize::from(u16::from_be_bytes([*hi, *lo])))
            }
            _ => (rest, &[][..]),
        };
        if let Ok(plaintext) = phone.decrypt(frame) {
            let _ = ClientMessage::parse(&plaintext);
        }
        rest = tail;
    }
});
