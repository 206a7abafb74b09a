//! The tunnel server's request-path router and wake-message decoder (untrusted HTTP paths and bodies).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        let _ = tandem_tunnel::parse_path(path);
    }
    if let Ok(m) = tandem_tunnel::WakeMessage::decode(data) {
        assert_eq!(tandem_tunnel::WakeMessage::decode(&m.encode()).as_ref(), Ok(&m));
    }
});
