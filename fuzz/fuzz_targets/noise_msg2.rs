//! Noise handshake message 2 as the desktop (initiator) receives it from an untrusted phone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::{InitiatorHandshake, PrivateKey, Psk};

fuzz_target!(|data: &[u8]| {
    let s = tandem_fuzz::session();
    let identity = PrivateKey::from_bytes(&s.desktop_identity_private).expect("vector key");
    let eph = PrivateKey::from_bytes(&s.desktop_ephemeral_private).expect("vector key");
    let psk = Psk::from_bytes(s.psk);
    let (hs, _msg1) = InitiatorHandshake::qr_with_ephemeral(&identity, &psk, eph);
    let _ = hs.read_msg2(data);
});
