//! WebAuthn options JSON as an app or relying party hands it over: arbitrary text never panics, and the first
//! byte picks creation or request options so both readers are exercised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_webauthn::{CreationOptions, RequestOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if which & 1 == 0 {
        let _ = CreationOptions::from_json(text);
    } else {
        let _ = RequestOptions::from_json(text);
    }
});
