//! BLE advert trial decryption with the derived session's EID key: arbitrary service data never panics,
//! and whatever decrypts re-encrypts to the same 20 bytes (AES-ECB + truncated HMAC are deterministic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::EidKey;

fuzz_target!(|data: &[u8]| {
    let key = EidKey::from_bytes(&tandem_fuzz::session().eid_key);
    if let Ok(plaintext) = key.trial_decrypt(data) {
        assert_eq!(&key.encrypt(&plaintext).as_bytes()[..], data);
    }
});
