//! Every known-answer vector of `tests/data/hybrid-vectors.json`, pinned through the public API.

use serde_json::Value as Json;
use std::sync::OnceLock;
use tandem_hybrid::digits;
use tandem_hybrid::kdf::{Purpose, derive};
use tandem_hybrid::{
    AuthenticatorMessage, ClientMessage, ClientNonce, ClientPayload, ConnectionNonce, ContactId, Crypter,
    CtapRequest, CtapResponse, DomainId, EidPlaintext, Feature, HandshakeHash, InitiatorHandshake, LinkId,
    LinkingInfo, PostHandshakeMessage, PrivateKey, PublicKey, QrData, QrKey6, QrSecret, RequestType,
    ResponderHandshake, RootSecret, RoutingId, TrafficKey, TunnelId, UpdateMessage, handshake_signature,
};

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
        tandem_hybrid::pad(&h(v, "plaintext_frame")).to_vec(),
        h(v, "padded")
    );
    let mut desktop = Crypter::from_keys(&write, &read, hash);
    assert_eq!(
        desktop.encrypt(&h(v, "plaintext_frame")).unwrap(),
        h(v, "ciphertext_with_tag")
    );
    // Counter 1 with the same key (docs/hybrid-protocol.md#pitfall-transport-nonce: the counter's byte order
    // only shows from 1 on).
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
    let psk = tandem_hybrid::Psk::from_bytes(arr(v, "psk"));
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
    let psk = tandem_hybrid::Psk::from_bytes(arr(v, "psk"));
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
    let root = tandem_hybrid::RootSecret::from_bytes(arr(q, "root_secret"));
    let contact = tandem_hybrid::ContactId::new(h(q, "contact_id")).unwrap();
    let link = tandem_hybrid::LinkId::from_bytes(arr(q, "pairing_id"));
    assert_eq!(
        root.per_contact_secret(&contact).as_bytes().to_vec(),
        h(q, "per_contact_id_secret")
    );
    let paired = root.paired_secret(&contact, &link);
    assert_eq!(paired.as_bytes().to_vec(), h(q, "paired_secret"));
    let nonce = tandem_hybrid::ClientNonce::from_bytes(arr(v, "client_nonce"));
    let eid_key = paired.eid_key(&nonce);
    assert_eq!(eid_key.to_bytes().to_vec(), h(v, "eid_key"));
    let plaintext = EidPlaintext::from_bytes(arr(v, "eid_plaintext")).unwrap();
    assert_eq!(eid_key.encrypt(&plaintext).as_bytes().to_vec(), h(v, "advert"));
    assert_eq!(eid_key.trial_decrypt(&h(v, "advert")).unwrap(), plaintext);
    assert_eq!(paired.psk(&plaintext).as_bytes().to_vec(), h(v, "psk"));
}

use tandem_hybrid::tunnel;

fn check_qr_fields(qr: &QrData, fields: &Json) {
    assert_eq!(qr.identity_key.to_compressed().to_vec(), h(fields, "0"));
    assert_eq!(qr.secret.as_bytes().to_vec(), h(fields, "1"));
    assert_eq!(qr.known_domains, fields["2"].as_i64());
    assert_eq!(qr.timestamp, fields["3"].as_u64());
    assert_eq!(qr.supports_linking, fields["4"].as_bool());
    assert_eq!(qr.request_type, Some(RequestType::parse(s(fields, "5"))));
    assert_eq!(qr.key6, None::<QrKey6>);
}

#[test]
fn real_qr_codes() {
    for name in ["chrome", "safari_ios"] {
        let v = &vectors()["real_qr_codes"][name];
        let qr = QrData::from_url(s(v, "url")).unwrap();
        check_qr_fields(&qr, &v["fields"]);
        // The decompressed key is what the handshake hashes; it must re-compress to key 0.
        assert_eq!(qr.identity_key.to_uncompressed().len(), 65);
        assert_eq!(qr.to_cbor(), h(v, "cbor"));
        assert_eq!(qr.to_url(), s(v, "url"));
        assert_eq!(qr.effective_request_type(), RequestType::MakeCredential);
    }
    let chrome = QrData::from_url(s(&vectors()["real_qr_codes"]["chrome"], "url")).unwrap();
    assert!(chrome.desktop_can_link());
}

#[test]
fn real_android_qr_url() {
    let v = &vectors()["real_android_advert"];
    let qr = QrData::from_url(s(v, "qr_url")).unwrap();
    assert_eq!(qr.to_cbor(), h(v, "qr_cbor"));
    assert_eq!(qr.secret.as_bytes().to_vec(), h(v, "qr_secret"));
    // This older QR has no key 4 (and five keys in all).
    assert_eq!(qr.supports_linking, None);
    let plaintext = qr.secret.eid_key().trial_decrypt(&h(v, "advert")).unwrap();
    let path = tunnel::connect_path(&plaintext.routing_id(), &qr.secret.tunnel_id());
    assert_eq!(tunnel::url(plaintext.domain(), &path), s(v, "connect_url"));
    let kdf = &vectors()["kdf"]["cases"][2];
    let zero = QrSecret::from_bytes([0; 16]);
    assert_eq!(
        tunnel::url(DomainId::GOOGLE, &tunnel::new_tunnel_path(&zero.tunnel_id())),
        s(kdf, "new_tunnel_url")
    );
}

#[test]
fn real_post_handshake_messages() {
    for name in ["android_chrome", "ios16"] {
        let v = &vectors()["real_post_handshake_messages"][name];
        let m = PostHandshakeMessage::parse(&h(v, "plaintext")).unwrap();
        assert_eq!(m.features(), &[Feature::Ctap], "absent key 3 means [\"ctap\"]");
        assert!(m.linking().is_none());
        let get_info = tandem_cbor::decode_canonical(m.get_info().unwrap()).unwrap();
        let versions: Vec<&str> = get_info
            .get_int(1)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_text().unwrap())
            .collect();
        let expected: Vec<&str> = v["getinfo_decoded"]["1"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(versions, expected);
        assert_eq!(
            get_info.get_int(3).unwrap().as_bytes().unwrap().to_vec(),
            h(&v["getinfo_decoded"], "3")
        );
    }
}

#[test]
fn derived_session_qr_and_paths() {
    let v = session();
    let qr = QrData::from_url(s(v, "qr_url")).unwrap();
    assert_eq!(qr.to_cbor(), h(v, "qr_cbor"));
    assert_eq!(
        qr.identity_key.to_uncompressed().to_vec(),
        h(v, "desktop_identity_public_uncompressed")
    );
    assert_eq!(qr.effective_request_type(), RequestType::GetAssertion);
    // Desktop-side generation of the same content reproduces the URL.
    let desktop_id = key(v, "desktop_identity_private");
    let generated = QrData {
        identity_key: desktop_id.public_key(),
        secret: QrSecret::from_bytes(arr(v, "qr_secret")),
        known_domains: Some(2),
        timestamp: Some(1_700_000_000),
        supports_linking: Some(true),
        request_type: Some(RequestType::GetAssertion),
        key6: None,
    };
    assert_eq!(generated.to_url(), s(v, "qr_url"));
    let tunnel_id = TunnelId::from_bytes(arr(v, "tunnel_id"));
    assert_eq!(tunnel::new_tunnel_path(&tunnel_id), s(v, "new_tunnel_path"));
    let routing = tunnel::parse_routing_id(s(v, "routing_id")).unwrap();
    assert_eq!(tunnel::connect_path(&routing, &tunnel_id), s(v, "connect_path"));
}

#[test]
fn derived_session_messages() {
    let v = session();
    let post = PostHandshakeMessage::ctap(h(v, "getinfo_cbor"));
    assert_eq!(post.to_bytes(), h(v, "post_handshake_plaintext"));
    assert_eq!(
        PostHandshakeMessage::parse(&h(v, "post_handshake_plaintext")).unwrap(),
        post
    );

    let req = ClientMessage::parse(&h(v, "request_plaintext_with_type_byte")).unwrap();
    let ClientMessage::Ctap(CtapRequest { command, params }) = &req else {
        panic!("not CTAP: {req:?}")
    };
    assert_eq!(*command, 0x02, "getAssertion");
    assert_eq!(
        tandem_cbor::decode_canonical(params)
            .unwrap()
            .get_int(1)
            .unwrap()
            .as_text(),
        Some("example.com")
    );
    assert_eq!(req.to_bytes(), h(v, "request_plaintext_with_type_byte"));

    let resp = AuthenticatorMessage::Ctap(CtapResponse::error(0x2e));
    assert_eq!(resp.to_bytes(), h(v, "response_plaintext_with_type_byte"));
    assert_eq!(ClientMessage::Shutdown.to_bytes(), vec![0]);
}

#[test]
fn derived_session_linking_update() {
    let v = session();
    let hash = HandshakeHash::from_bytes(arr(v, "handshake_hash"));
    let desktop_id = key(v, "desktop_identity_private");
    let phone_id = key(v, "phone_identity_private");
    assert_eq!(
        handshake_signature(&phone_id, &desktop_id.public_key(), &hash).to_vec(),
        h(v, "linking_signature")
    );
    assert_eq!(
        handshake_signature(&desktop_id, &phone_id.public_key(), &hash).to_vec(),
        h(v, "linking_signature")
    );

    let root = RootSecret::from_bytes(arr(v, "root_secret"));
    let contact = ContactId::new(h(v, "contact_id")).unwrap();
    let link = LinkId::from_bytes(arr(v, "pairing_id"));
    let info = LinkingInfo::new(
        contact.clone(),
        link,
        root.paired_secret(&contact, &link),
        &phone_id,
        "Example Phone",
        &desktop_id.public_key(),
        &hash,
    );
    let update = AuthenticatorMessage::Update(UpdateMessage {
        linking: Some(info.clone()),
    });
    let bytes = update.to_bytes();
    assert_eq!(bytes, h(v, "update_plaintext_with_type_byte"));
    assert_eq!(tandem_hybrid::pad(&bytes).len(), 512);

    // Desktop side: parse and verify with the QR private key.
    let AuthenticatorMessage::Update(parsed) = AuthenticatorMessage::parse(&bytes).unwrap() else {
        panic!("not an update")
    };
    let parsed = parsed.linking.unwrap();
    assert_eq!(parsed, info);
    parsed.verify(&desktop_id, &hash).unwrap();
    assert!(
        parsed
            .verify(&desktop_id, &HandshakeHash::from_bytes([0; 32]))
            .is_err()
    );
    assert_eq!(parsed.link_secret().as_bytes().to_vec(), h(v, "paired_secret"));
    assert_eq!(
        parsed.authenticator_key().to_uncompressed().to_vec(),
        h(v, "phone_identity_public")
    );
}

#[test]
fn derived_state_assisted_payload_and_paths() {
    let q = session();
    let v = state_assisted();
    let payload = ClientPayload {
        link_id: LinkId::from_bytes(arr(q, "pairing_id")),
        client_nonce: ClientNonce::from_bytes(arr(v, "client_nonce")),
        request_type: RequestType::GetAssertion,
    };
    assert_eq!(payload.to_cbor(), h(v, "client_payload_cbor"));
    assert_eq!(payload.to_header_value(), s(v, "X-caBLE-Client-Payload"));
    assert_eq!(
        ClientPayload::from_header_value(s(v, "X-caBLE-Client-Payload")).unwrap(),
        payload
    );
    let contact = ContactId::new(h(q, "contact_id")).unwrap();
    assert_eq!(tunnel::contact_path(&contact), s(v, "contact_path"));
}
