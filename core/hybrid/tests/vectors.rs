//! Every known-answer vector of `tests/data/hybrid-vectors.json`, pinned through the public API.

use serde_json::Value as Json;
use std::sync::OnceLock;
use tandem_hybrid_proto::crypter::Crypter;
use tandem_hybrid_proto::digits;
use tandem_hybrid_proto::domain::DomainId;
use tandem_hybrid_proto::eid::EidPlaintext;
use tandem_hybrid_proto::ids::{ConnectionNonce, RoutingId};
use tandem_hybrid_proto::kdf::{Purpose, derive};
use tandem_hybrid_proto::keys::{PrivateKey, PublicKey};
use tandem_hybrid_proto::noise::{HandshakeHash, InitiatorHandshake, ResponderHandshake};
use tandem_hybrid_proto::secrets::{EidKey, QrSecret, TrafficKey};

fn vectors() -> &'static Json {
    static V: OnceLock<Json> = OnceLock::new();
    V.get_or_init(|| serde_json::from_str(include_str!("../../../tests/data/hybrid-vectors.json")).unwrap())
}

fn s<'a>(v: &'a Json, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing"))
}

fn h(v: &Json, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).unwrap()
}

fn arr<const N: usize>(v: &Json, key: &str) -> [u8; N] {
    h(v, key).try_into().unwrap()
}

fn session() -> &'static Json {
    &vectors()["derived_qr_initiated_session"]
}

fn state_assisted() -> &'static Json {
    &vectors()["derived_state_assisted_session"]
}

fn key(v: &Json, field: &str) -> PrivateKey {
    PrivateKey::from_bytes(&arr(v, field)).unwrap()
}

#[test]
fn digits_cases() {
    let d = &vectors()["digits"];
    for case in d["cases"].as_array().unwrap() {
        let bytes = h(case, "bytes");
        assert_eq!(digits::encode(&bytes), s(case, "digits"));
        assert_eq!(digits::decode(s(case, "digits")).unwrap(), bytes);
    }
    for bad in d["must_reject"].as_array().unwrap() {
        assert!(
            digits::decode(bad.as_str().unwrap()).is_err(),
            "{bad} must be rejected"
        );
    }
}

#[test]
fn tunnel_domains() {
    for case in vectors()["tunnel_domains"]["cases"].as_array().unwrap() {
        let id = u16::try_from(case["id"].as_u64().unwrap()).unwrap();
        match case["domain"].as_str() {
            Some(host) => {
                let d = DomainId::new(id).unwrap();
                assert_eq!(d.host(), host, "id {id}");
            }
            None => assert!(DomainId::new(id).is_err(), "id {id} must be invalid"),
        }
    }
}

#[test]
fn kdf_cases() {
    for case in vectors()["kdf"]["cases"].as_array().unwrap() {
        let secret = h(case, "secret");
        let salt = h(case, "salt");
        let expected = h(case, "out");
        match case["purpose"].as_u64().unwrap() {
            1 => {
                assert_eq!(derive::<64>(&secret, &salt, Purpose::EidKey).to_vec(), expected);
                if salt.is_empty() {
                    let qr = QrSecret::from_slice(&secret).unwrap();
                    assert_eq!(qr.eid_key().to_bytes().to_vec(), expected);
                }
            }
            2 => {
                let qr = QrSecret::from_slice(&secret).unwrap();
                assert_eq!(qr.tunnel_id().as_bytes().to_vec(), expected);
                assert_eq!(derive::<16>(&secret, &salt, Purpose::TunnelId).to_vec(), expected);
            }
            p => panic!("unexpected purpose {p}"),
        }
    }
}

#[test]
fn real_android_advert() {
    let v = &vectors()["real_android_advert"];
    let secret = QrSecret::from_bytes(arr(v, "qr_secret"));
    assert_eq!(secret.tunnel_id().as_bytes().to_vec(), h(v, "tunnel_id"));
    let eid_key = secret.eid_key();
    assert_eq!(eid_key.to_bytes().to_vec(), h(v, "eid_key"));
    let plaintext = eid_key.trial_decrypt(&h(v, "advert")).unwrap();
    assert_eq!(plaintext.as_bytes().to_vec(), h(v, "eid_plaintext"));
    assert_eq!(plaintext.nonce().as_bytes().to_vec(), h(v, "nonce"));
    assert_eq!(plaintext.routing_id().to_hex(), s(v, "routing_id").to_uppercase());
    assert_eq!(
        u64::from(plaintext.domain().raw()),
        v["tunnel_server_domain_id"].as_u64().unwrap()
    );
    assert_eq!(secret.psk(&plaintext).as_bytes().to_vec(), h(v, "psk"));
    // Re-encrypting the decrypted plaintext reproduces the captured advert bit for bit.
    assert_eq!(eid_key.encrypt(&plaintext).as_bytes().to_vec(), h(v, "advert"));
}

#[test]
fn chromium_transport_ciphertext() {
    let v = &vectors()["transport_encryption_from_chromium_keys"];
    let write = TrafficKey::from_bytes(arr(v, "desktop_write_key"));
    let read = TrafficKey::from_bytes(arr(v, "desktop_read_key"));
    let hash = HandshakeHash::from_bytes([0; 32]);
    assert_eq!(
        tandem_hybrid_proto::crypter::pad(&h(v, "plaintext_frame")).to_vec(),
        h(v, "padded")
    );
    let mut desktop = Crypter::from_keys(&write, &read, hash);
    assert_eq!(
        desktop.encrypt(&h(v, "plaintext_frame")).unwrap(),
        h(v, "ciphertext_with_tag")
    );
    // Counter 1 with the same key (pitfall P8: the counter's byte order only shows from 1 on).
    let seq1 = &v["new_seq1_example"];
    assert_eq!(
        desktop.encrypt(&h(seq1, "frame")).unwrap(),
        h(seq1, "ciphertext_with_tag")
    );
    // The phone side reads both with the same key as its receive key.
    let mut phone = Crypter::from_keys(&read, &write, hash);
    assert_eq!(
        phone.decrypt(&h(v, "ciphertext_with_tag")).unwrap(),
        h(v, "plaintext_frame")
    );
    assert_eq!(
        phone.decrypt(&h(seq1, "ciphertext_with_tag")).unwrap(),
        h(seq1, "frame")
    );
}

#[test]
fn derived_session_advert_and_psk() {
    let v = session();
    let desktop_id = key(v, "desktop_identity_private");
    assert_eq!(
        desktop_id.public_key().to_uncompressed().to_vec(),
        h(v, "desktop_identity_public_uncompressed")
    );
    assert_eq!(
        desktop_id.public_key().to_compressed().to_vec(),
        h(v, "desktop_identity_public_compressed")
    );
    let secret = QrSecret::from_bytes(arr(v, "qr_secret"));
    assert_eq!(secret.tunnel_id().as_bytes().to_vec(), h(v, "tunnel_id"));
    let eid_key = secret.eid_key();
    assert_eq!(eid_key.to_bytes().to_vec(), h(v, "eid_key"));
    let plaintext = EidPlaintext::new(
        &ConnectionNonce::from_bytes(arr(v, "advert_nonce")),
        &RoutingId::from_bytes(arr(v, "routing_id")),
        DomainId::new(u16::try_from(v["tunnel_server_domain_id"].as_u64().unwrap()).unwrap()).unwrap(),
    );
    assert_eq!(plaintext.as_bytes().to_vec(), h(v, "eid_plaintext"));
    let advert = eid_key.encrypt(&plaintext);
    assert_eq!(advert.as_bytes().to_vec(), h(v, "advert"));
    assert_eq!(eid_key.trial_decrypt(advert.as_bytes()).unwrap(), plaintext);
    assert_eq!(secret.psk(&plaintext).as_bytes().to_vec(), h(v, "psk"));
}

/// Runs the deterministic QR handshake in both roles and checks every transcript byte.
fn qr_handshake() -> (Crypter, Crypter) {
    let v = session();
    let desktop_id = key(v, "desktop_identity_private");
    let psk = tandem_hybrid_proto::secrets::Psk::from_bytes(arr(v, "psk"));
    let (init, msg1) =
        InitiatorHandshake::qr_with_ephemeral(&desktop_id, &psk, key(v, "desktop_ephemeral_private"));
    assert_eq!(msg1.to_vec(), h(v, "handshake_msg1_desktop_to_phone"));
    let desktop_pub = PublicKey::from_compressed(&h(v, "desktop_identity_public_compressed")).unwrap();
    let resp = ResponderHandshake::qr_with_ephemeral(&desktop_pub, &psk, key(v, "phone_ephemeral_private"));
    let (msg2, phone) = resp.read_msg1(&msg1).unwrap();
    assert_eq!(msg2.to_vec(), h(v, "handshake_msg2_phone_to_desktop"));
    let desktop = init.read_msg2(&msg2).unwrap();
    assert_eq!(
        desktop.handshake_hash().as_bytes().to_vec(),
        h(v, "handshake_hash")
    );
    assert_eq!(phone.handshake_hash().as_bytes().to_vec(), h(v, "handshake_hash"));
    (desktop, phone)
}

#[test]
fn derived_session_handshake_and_traffic() {
    let v = session();
    let (mut desktop, mut phone) = qr_handshake();
    let hash = *desktop.handshake_hash();
    // The split keys, pinned through crypters built from the vector's keys: identical ciphertexts.
    let d2p = TrafficKey::from_bytes(arr(v, "traffic_key_desktop_to_phone"));
    let p2d = TrafficKey::from_bytes(arr(v, "traffic_key_phone_to_desktop"));
    let mut ref_desktop = Crypter::from_keys(&d2p, &p2d, hash);
    let mut ref_phone = Crypter::from_keys(&p2d, &d2p, hash);

    // phone -> desktop counter 0: post-handshake message.
    let post = h(v, "post_handshake_plaintext");
    let ct = phone.encrypt(&post).unwrap();
    assert_eq!(ct, h(v, "post_handshake_ciphertext_seq0"));
    assert_eq!(ref_phone.encrypt(&post).unwrap(), ct);
    assert_eq!(desktop.decrypt(&ct).unwrap(), post);
    // phone -> desktop counter 1: update with linking.
    let update = h(v, "update_plaintext_with_type_byte");
    let ct = phone.encrypt(&update).unwrap();
    assert_eq!(ct.len(), 528);
    assert_eq!(ct, h(v, "update_ciphertext_seq1"));
    assert_eq!(ref_phone.encrypt(&update).unwrap(), ct);
    assert_eq!(desktop.decrypt(&ct).unwrap(), update);
    // desktop -> phone counter 0: request.
    let req = h(v, "request_plaintext_with_type_byte");
    let ct = desktop.encrypt(&req).unwrap();
    assert_eq!(ct, h(v, "request_ciphertext_seq0"));
    assert_eq!(ref_desktop.encrypt(&req).unwrap(), ct);
    assert_eq!(phone.decrypt(&ct).unwrap(), req);
    // phone -> desktop counter 2: response.
    let resp = h(v, "response_plaintext_with_type_byte");
    let ct = phone.encrypt(&resp).unwrap();
    assert_eq!(ct, h(v, "response_ciphertext_seq2"));
    assert_eq!(desktop.decrypt(&ct).unwrap(), resp);
    // desktop -> phone counter 1: shutdown.
    let ct = desktop.encrypt(&[0]).unwrap();
    assert_eq!(ct, h(v, "shutdown_ciphertext_seq1"));
    assert_eq!(phone.decrypt(&ct).unwrap(), vec![0]);
}

#[test]
fn derived_state_assisted_handshake() {
    let q = session();
    let v = state_assisted();
    let phone_id = key(q, "phone_identity_private");
    assert_eq!(
        phone_id.public_key().to_uncompressed().to_vec(),
        h(q, "phone_identity_public")
    );
    let psk = tandem_hybrid_proto::secrets::Psk::from_bytes(arr(v, "psk"));
    let (init, msg1) = InitiatorHandshake::state_assisted_with_ephemeral(
        &phone_id.public_key(),
        &psk,
        key(v, "desktop_ephemeral_private"),
    );
    assert_eq!(msg1.to_vec(), h(v, "handshake_msg1_desktop_to_phone"));
    let resp =
        ResponderHandshake::state_assisted_with_ephemeral(&phone_id, &psk, key(v, "phone_ephemeral_private"));
    let (msg2, mut phone) = resp.read_msg1(&msg1).unwrap();
    assert_eq!(msg2.to_vec(), h(v, "handshake_msg2_phone_to_desktop"));
    let mut desktop = init.read_msg2(&msg2).unwrap();
    assert_eq!(
        desktop.handshake_hash().as_bytes().to_vec(),
        h(v, "handshake_hash")
    );
    // Traffic keys: a crypter from the vector's keys interoperates with the handshake's.
    let d2p = TrafficKey::from_bytes(arr(v, "traffic_key_desktop_to_phone"));
    let p2d = TrafficKey::from_bytes(arr(v, "traffic_key_phone_to_desktop"));
    let mut ref_phone = Crypter::from_keys(&p2d, &d2p, *desktop.handshake_hash());
    let mut ref_desktop = Crypter::from_keys(&d2p, &p2d, *desktop.handshake_hash());
    for i in 0..3u8 {
        assert_eq!(
            ref_phone.decrypt(&desktop.encrypt(&[i]).unwrap()).unwrap(),
            vec![i]
        );
        assert_eq!(
            ref_desktop.decrypt(&phone.encrypt(&[i]).unwrap()).unwrap(),
            vec![i]
        );
    }
}

#[test]
fn derived_state_assisted_secrets_and_advert() {
    let q = session();
    let v = state_assisted();
    let _ = EidKey::LEN;
    let root = tandem_hybrid_proto::secrets::RootSecret::from_bytes(arr(q, "root_secret"));
    let contact = tandem_hybrid_proto::ids::ContactId::new(h(q, "contact_id")).unwrap();
    let link = tandem_hybrid_proto::ids::LinkId::from_bytes(arr(q, "pairing_id"));
    assert_eq!(
        root.per_contact_secret(&contact).as_bytes().to_vec(),
        h(q, "per_contact_id_secret")
    );
    let paired = root.paired_secret(&contact, &link);
    assert_eq!(paired.as_bytes().to_vec(), h(q, "paired_secret"));
    let nonce = tandem_hybrid_proto::ids::ClientNonce::from_bytes(arr(v, "client_nonce"));
    let eid_key = paired.eid_key(&nonce);
    assert_eq!(eid_key.to_bytes().to_vec(), h(v, "eid_key"));
    let plaintext = EidPlaintext::from_bytes(arr(v, "eid_plaintext")).unwrap();
    assert_eq!(eid_key.encrypt(&plaintext).as_bytes().to_vec(), h(v, "advert"));
    assert_eq!(eid_key.trial_decrypt(&h(v, "advert")).unwrap(), plaintext);
    assert_eq!(paired.psk(&plaintext).as_bytes().to_vec(), h(v, "psk"));
}
