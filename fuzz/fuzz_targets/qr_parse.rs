//! QR code: `FIDO:/digits` URL and its CBOR payload (the phone's first untrusted input). Accepted input
//! must re-encode to something that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_hybrid::QrData;

fuzz_target!(|data: &[u8]| {
    if let Ok(qr) = QrData::from_cbor(data) {
        assert_eq!(QrData::from_cbor(&qr.to_cbor()).as_ref(), Ok(&qr));
        assert_eq!(QrData::from_url(&qr.to_url()).as_ref(), Ok(&qr));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(qr) = QrData::from_url(text) {
            assert_eq!(QrData::from_url(&qr.to_url()).as_ref(), Ok(&qr));
        }
    }
});
