//! tandem-cbor's decoders on arbitrary bytes: never panic, and the canonical decoder accepts exactly the
//! encodings the encoder would produce (decode_canonical(x) = v ⇒ v.to_vec() == x).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = tandem_cbor::decode_canonical(data) {
        assert_eq!(
            value.to_vec(),
            data,
            "canonical decode must round-trip byte for byte"
        );
    }
    if let Ok(value) = tandem_cbor::decode(data) {
        // Whatever the lenient decoder accepts, the encoder makes canonical and the strict decoder takes back
        // (map order may differ from the input's, so compare encodings, which are canonical on both sides).
        let canonical = value.to_vec();
        let again = tandem_cbor::decode_canonical(&canonical).expect("encoder output is canonical");
        assert_eq!(again.to_vec(), canonical);
    }
});
