//! QR digit decoding: only exact encodings are accepted (decode then encode gives the input back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::digits;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = digits::decode(text) {
            assert_eq!(digits::encode(&bytes), text);
        }
    }
});
