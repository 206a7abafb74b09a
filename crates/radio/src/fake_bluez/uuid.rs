//! BLE UUID strings as BlueZ takes them on D-Bus, and legacy advertising-data sizes. Pure.

/// The Bluetooth base UUID's tail: `0000xxxx-0000-1000-8000-00805f9b34fb` is a 16-bit UUID.
const BASE_TAIL: &str = "-0000-1000-8000-00805f9b34fb";

/// Legacy advertising data is at most 31 bytes.
pub const MAX_AD_LENGTH: usize = 31;

/// The 128-bit string form of a 16-bit UUID.
pub fn from_u16(short: u16) -> String {
    format!("0000{short:04x}{BASE_TAIL}")
}

/// Normalises a UUID string ("fff9", "0xFFF9", "0000fff9", or the 128-bit form) to lower-case
/// 128-bit form; `None` if it is not a UUID.
pub fn normalize(uuid: &str) -> Option<String> {
    let lower = uuid.to_ascii_lowercase();
    let hex = lower.strip_prefix("0x").unwrap_or(&lower);
    let all_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    match hex.len() {
        4 | 8 if all_hex(hex) => Some(format!("{hex:0>8}{BASE_TAIL}")),
        36 => {
            let groups: Vec<&str> = hex.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            (lengths == [8, 4, 4, 4, 12] && groups.iter().all(|g| all_hex(g))).then(|| hex.to_owned())
        }
        _ => None,
    }
}

/// How many bytes a normalised UUID takes on air: 2, 4 or 16.
pub fn air_size(uuid128: &str) -> usize {
    match uuid128.strip_suffix(BASE_TAIL) {
        Some(head) if head.starts_with("0000") => 2,
        Some(_) => 4,
        None => 16,
    }
}

/// The legacy advertising-data length of an advert with these service UUIDs (one list AD per UUID
/// size), service data `(uuid, data length)` entries and optional local name, the way BlueZ packs it.
pub fn ad_length<'a>(
    service_uuids: &[String],
    service_data: impl IntoIterator<Item = (&'a str, usize)>,
    local_name: Option<&str>,
) -> usize {
    let mut total = 0;
    for size in [2, 4, 16] {
        let count = service_uuids.iter().filter(|u| air_size(u) == size).count();
        if count > 0 {
            total += 2 + count * size;
        }
    }
    for (uuid, len) in service_data {
        total += 2 + air_size(uuid) + len;
    }
    if let Some(name) = local_name {
        total += 2 + name.len();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FFF9: &str = "0000fff9-0000-1000-8000-00805f9b34fb";

    #[test]
    fn normalises_short_and_long_forms() {
        assert_eq!(from_u16(0xFFF9), FFF9);
        for form in [
            "fff9",
            "0xFFF9",
            "0000FFF9",
            FFF9,
            "0000FFF9-0000-1000-8000-00805F9B34FB",
        ] {
            assert_eq!(normalize(form).as_deref(), Some(FFF9), "{form}");
        }
        for bad in [
            "",
            "fff",
            "xyz9",
            "0000fff9-0000-1000-8000-00805f9b34f",
            "0000fff9+0000-1000-8000-00805f9b34fb",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn air_sizes() {
        assert_eq!(air_size(FFF9), 2);
        assert_eq!(air_size("12345678-0000-1000-8000-00805f9b34fb"), 4);
        assert_eq!(air_size("12345678-1234-1000-8000-00805f9b34fb"), 16);
    }

    #[test]
    fn hybrid_advert_length_matches_chromium_layout() {
        // `03 03 F9 FF` + `17 16 F9 FF <20 bytes>` = 4 + 24 bytes (docs/hybrid-protocol.md#advert-radio).
        assert_eq!(ad_length(&[FFF9.to_owned()], [(FFF9, 20)], None), 28);
        assert_eq!(ad_length(&[], [(FFF9, 20)], None), 24);
        assert!(ad_length(&[FFF9.to_owned()], [(FFF9, 20)], Some("phone")) > MAX_AD_LENGTH);
    }

    proptest! {
        #[test]
        fn normalize_never_panics_and_is_idempotent(s in "\\PC{0,40}") {
            if let Some(n) = normalize(&s) {
                prop_assert_eq!(normalize(&n), Some(n.clone()));
            }
        }

        #[test]
        fn short_uuids_roundtrip(short in any::<u16>()) {
            prop_assert_eq!(normalize(&format!("{short:04x}")), Some(from_u16(short)));
            prop_assert_eq!(air_size(&from_u16(short)), 2);
        }
    }
}
