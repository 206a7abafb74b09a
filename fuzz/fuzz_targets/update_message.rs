//! Update messages (linking info) as a desktop parses them, plus the linking-signature check with the
//! derived session's QR key. Payloads with or without the type byte are both tried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::{HandshakeHash, PrivateKey, UpdateMessage};

fuzz_target!(|data: &[u8]| {
    let s = tandem_fuzz::session();
    for payload in [data, data.get(1..).unwrap_or_default()] {
        if let Ok(m) = UpdateMessage::parse_payload(payload) {
            assert_eq!(UpdateMessage::parse_payload(&m.to_payload()).as_ref(), Ok(&m));
            if let Some(link) = &m.linking {
                let qr = PrivateKey::from_bytes(&s.desktop_identity_private).expect("vector key");
                let _ = link.verify(&qr, &HandshakeHash::from_bytes(s.handshake_hash));
            }
        }
    }
});
