//! Decrypted transport plaintexts: padding removal and both directions' message parsers. A parsed message
//! re-serialises to bytes that parse to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::{AuthenticatorMessage, ClientMessage, pad, unpad};

fuzz_target!(|data: &[u8]| {
    if let Ok(unpadded) = unpad(data.to_vec()) {
        assert_eq!(unpad(pad(&unpadded).to_vec()).as_ref(), Ok(&unpadded));
    }
    if let Ok(m) = ClientMessage::parse(data) {
        assert_eq!(ClientMessage::parse(&m.to_bytes()).as_ref(), Ok(&m));
    }
    if let Ok(m) = AuthenticatorMessage::parse(data) {
        assert_eq!(AuthenticatorMessage::parse(&m.to_bytes()).as_ref(), Ok(&m));
    }
});
