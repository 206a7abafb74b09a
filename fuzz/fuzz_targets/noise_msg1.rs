//! Noise handshake message 1 as the phone (responder) receives it, QR (KNpsk0) and state-assisted (NKpsk0),
//! keyed with the derived session's values so mutations of the real msg1 reach the AEAD and ECDH paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::{PrivateKey, Psk, PublicKey, ResponderHandshake};

fuzz_target!(|data: &[u8]| {
    let s = tandem_fuzz::session();
    let desktop = PublicKey::from_uncompressed(&s.desktop_identity_public).expect("vector key");
    let eph = PrivateKey::from_bytes(&s.phone_ephemeral_private).expect("vector key");
    let psk = Psk::from_bytes(s.psk);
    let _ = ResponderHandshake::qr_with_ephemeral(&desktop, &psk, eph).read_msg1(data);

    let identity = PrivateKey::from_bytes(&s.phone_identity_private).expect("vector key");
    let eph = PrivateKey::from_bytes(&s.phone_ephemeral_private).expect("vector key");
    let _ = ResponderHandshake::state_assisted_with_ephemeral(&identity, &psk, eph).read_msg1(data);
});
