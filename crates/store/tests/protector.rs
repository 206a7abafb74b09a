//! The software key protector and its key file.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use tandem_store::{KeyProtector, ProtectorError, SoftwareKeyProtector};

#[test]
fn wrap_unwrap_round_trip_and_rejects_tampering() {
    let p = SoftwareKeyProtector::from_key_bytes(&[9; 32]);
    let data_key = [0x33u8; 32];
    let wrapped = p.wrap(&data_key).unwrap();
    assert_eq!(wrapped.len(), 1 + 12 + 32 + 16);
    assert!(
        !wrapped.windows(32).any(|w| w == data_key),
        "wrapped form hides the key"
    );
    assert_eq!(p.unwrap(&wrapped).unwrap().as_slice(), &data_key);
    assert_ne!(p.wrap(&data_key).unwrap(), wrapped, "fresh nonce per wrap");
    for i in 0..wrapped.len() {
        let mut bad = wrapped.clone();
        bad[i] ^= 0x10;
        assert!(
            matches!(p.unwrap(&bad), Err(ProtectorError::Rejected(_))),
            "flip at {i}"
        );
    }
    assert!(matches!(
        p.unwrap(&wrapped[..20]),
        Err(ProtectorError::Rejected(_))
    ));
    assert!(matches!(p.unwrap(&[]), Err(ProtectorError::Rejected(_))));
    let other = SoftwareKeyProtector::from_key_bytes(&[10; 32]);
    assert!(matches!(other.unwrap(&wrapped), Err(ProtectorError::Rejected(_))));
}

#[test]
fn key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.key");
    let p1 = SoftwareKeyProtector::load_or_create(&path).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), 32);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let key = std::fs::read(&path).unwrap();
    assert_ne!(key, vec![0u8; 32]);
    let wrapped = p1.wrap(&[1; 32]).unwrap();
    let p2 = SoftwareKeyProtector::load_or_create(&path).unwrap();
    assert_eq!(
        p2.unwrap(&wrapped).unwrap().as_slice(),
        &[1; 32],
        "same key loaded again"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        key,
        "existing key file not rewritten"
    );
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A different file is a different key.
    let p3 = SoftwareKeyProtector::load_or_create(&dir.path().join("other.key")).unwrap();
    assert!(matches!(p3.unwrap(&wrapped), Err(ProtectorError::Rejected(_))));
}

#[test]
fn bad_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, [1u8; 31]).unwrap();
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        SoftwareKeyProtector::load_or_create(&short),
        Err(ProtectorError::Io(_))
    ));
    let open_to_all = dir.path().join("open.key");
    std::fs::write(&open_to_all, [1u8; 32]).unwrap();
    std::fs::set_permissions(&open_to_all, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        SoftwareKeyProtector::load_or_create(&open_to_all),
        Err(ProtectorError::Io(_))
    ));
    let missing_dir = dir.path().join("no/such/dir/store.key");
    assert!(matches!(
        SoftwareKeyProtector::load_or_create(&missing_dir),
        Err(ProtectorError::Io(_))
    ));
}

#[test]
fn concurrent_creation_agrees_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.key");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SoftwareKeyProtector::load_or_create(&path).unwrap())
        })
        .collect();
    let protectors: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wrapped = protectors[0].wrap(&[5; 32]).unwrap();
    for p in &protectors {
        assert_eq!(p.unwrap(&wrapped).unwrap().as_slice(), &[5; 32]);
    }
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes given as a wrapped key never panic and are always rejected.
        #[test]
        fn random_wrapped_keys_are_rejected(wrapped in proptest::collection::vec(any::<u8>(), 0..100)) {
            let p = SoftwareKeyProtector::from_key_bytes(&[9; 32]);
            prop_assert!(matches!(p.unwrap(&wrapped), Err(ProtectorError::Rejected(_))));
        }
    }
}
