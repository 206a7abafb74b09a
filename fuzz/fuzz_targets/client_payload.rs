//! The state-assisted client payload (CBOR and its hex header form), as the tunnel and the phone parse it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::ClientPayload;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = ClientPayload::from_cbor(data) {
        assert_eq!(ClientPayload::from_cbor(&p.to_cbor()).as_ref(), Ok(&p));
        assert_eq!(
            ClientPayload::from_header_value(&p.to_header_value()).as_ref(),
            Ok(&p)
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ClientPayload::from_header_value(text);
    }
});
