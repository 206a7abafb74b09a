//! HMAC-SHA256, the one MAC of the protocol (advert tags, linking signatures).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// `HMAC-SHA256(key, data)`.
#[allow(clippy::expect_used, reason = "HMAC accepts keys of any length")]
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}
