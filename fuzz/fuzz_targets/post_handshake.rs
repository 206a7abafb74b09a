//! The post-handshake message (getInfo, features, legacy linking) as a desktop parses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::PostHandshakeMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = PostHandshakeMessage::parse(data) {
        assert_eq!(PostHandshakeMessage::parse(&m.to_bytes()).as_ref(), Ok(&m));
    }
});
