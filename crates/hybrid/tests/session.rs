//! Both roles talking to each other in memory: a QR-initiated session that links, then a state-assisted
//! session over that link. Every value crosses the "wire" only as bytes or strings.

use tandem_hybrid::{
    AuthenticatorMessage, ClientMessage, ClientPayload, ContactId, CtapRequest, CtapResponse, DesktopQr,
    DomainId, EidPlaintext, InitiatorHandshake, LinkId, LinkingInfo, PostHandshakeMessage, QrData,
    RequestType, ResponderHandshake, RootSecret, RoutingId, UpdateMessage, select_domain,
};

const GET_INFO: &[u8] = &[
    0xa1, 0x01, 0x81, 0x68, b'F', b'I', b'D', b'O', b'_', b'2', b'_', b'0',
];

#[test]
fn qr_session_then_state_assisted_session() {
    // --- Desktop shows a QR code.
    let desktop = DesktopQr::generate(1_700_000_000, true, RequestType::MakeCredential).unwrap();
    let url = desktop.url();

    // --- Phone scans it, opens a tunnel (routing ID from the service), advertises.
    let qr = QrData::from_url(&url).unwrap();
    assert!(qr.desktop_can_link());
    let own_domain = DomainId::new(0xf980).unwrap();
    let domain = select_domain(DomainId::GOOGLE, own_domain, qr.known_assigned_domains()).unwrap();
    assert_eq!(domain, DomainId::GOOGLE);
    let routing = RoutingId::from_hex("A1B2C3").unwrap();
    let phone_eid = EidPlaintext::generate(&routing, domain).unwrap();
    let advert = qr.secret.eid_key().encrypt(&phone_eid);

    // --- Desktop trial-decrypts the advert and derives the PSK and the connect path.
    let desktop_eid_key = desktop.data.secret.eid_key();
    let seen = desktop_eid_key.trial_decrypt(advert.as_bytes()).unwrap();
    assert_eq!(seen.routing_id(), routing);
    assert_eq!(seen.domain(), domain);
    let (init, msg1) = InitiatorHandshake::qr(&desktop.identity, &desktop.data.secret.psk(&seen)).unwrap();

    // --- Phone answers the handshake.
    let responder = ResponderHandshake::qr(&qr.identity_key, &qr.secret.psk(&phone_eid)).unwrap();
    let (msg2, mut phone) = responder.read_msg1(&msg1).unwrap();
    let mut client = init.read_msg2(&msg2).unwrap();
    assert_eq!(client.handshake_hash(), phone.handshake_hash());

    // --- Phone: post-handshake message, then an update with linking information.
    let root = RootSecret::generate().unwrap();
    let contact = ContactId::new(b"push-token".to_vec()).unwrap();
    let link_id = LinkId::generate().unwrap();
    let link = LinkingInfo::from_root_secret(
        &root,
        contact.clone(),
        link_id,
        "Test Phone",
        &qr.identity_key,
        phone.handshake_hash(),
    )
    .unwrap();
    let wire_post = phone
        .encrypt(&PostHandshakeMessage::ctap(GET_INFO.to_vec()).to_bytes())
        .unwrap();
    let update = AuthenticatorMessage::Update(UpdateMessage { linking: Some(link) });
    let wire_update = phone.encrypt(&update.to_bytes()).unwrap();
    assert_eq!(wire_update.len(), 528);

    // --- Desktop: reads both, verifies the link.
    let post = PostHandshakeMessage::parse(&client.decrypt(&wire_post).unwrap()).unwrap();
    assert_eq!(post.get_info(), Some(GET_INFO));
    let AuthenticatorMessage::Update(UpdateMessage {
        linking: Some(stored_link),
    }) = AuthenticatorMessage::parse(&client.decrypt(&wire_update).unwrap()).unwrap()
    else {
        panic!("expected an update with linking information")
    };
    stored_link
        .verify(&desktop.identity, client.handshake_hash())
        .unwrap();

    // --- One CTAP exchange and shutdown.
    let req = ClientMessage::Ctap(CtapRequest {
        command: 0x01,
        params: vec![0xa0],
    });
    let got =
        ClientMessage::parse(&phone.decrypt(&client.encrypt(&req.to_bytes()).unwrap()).unwrap()).unwrap();
    assert_eq!(got, req);
    let resp = AuthenticatorMessage::Ctap(CtapResponse::success(vec![0xa0]));
    let got =
        AuthenticatorMessage::parse(&client.decrypt(&phone.encrypt(&resp.to_bytes()).unwrap()).unwrap());
    assert_eq!(got.unwrap(), resp);
    let bye = phone
        .decrypt(&client.encrypt(&ClientMessage::Shutdown.to_bytes()).unwrap())
        .unwrap();
    assert_eq!(ClientMessage::parse(&bye).unwrap(), ClientMessage::Shutdown);

    // === Later: a state-assisted transaction over the stored link.
    let payload = ClientPayload::generate(*stored_link.link_id(), RequestType::GetAssertion).unwrap();
    let header = payload.to_header_value();

    // --- Phone, woken with the payload: recomputes everything from its root secret.
    let woken = ClientPayload::from_header_value(&header).unwrap();
    let paired = root.paired_secret(&contact, &woken.link_id);
    let phone_eid = EidPlaintext::generate_state_assisted(own_domain).unwrap();
    let advert = paired.eid_key(&woken.client_nonce).encrypt(&phone_eid);
    let responder =
        ResponderHandshake::state_assisted(&root.identity_key().unwrap(), &paired.psk(&phone_eid)).unwrap();

    // --- Desktop: trial-decrypts with the link secret, runs NKpsk0 against the stored identity key.
    let secret = stored_link.link_secret();
    let seen = secret
        .eid_key(&payload.client_nonce)
        .trial_decrypt(advert.as_bytes())
        .unwrap();
    assert_eq!(seen.domain(), own_domain);
    let (init, msg1) =
        InitiatorHandshake::state_assisted(stored_link.authenticator_key(), &secret.psk(&seen)).unwrap();
    let (msg2, mut phone) = responder.read_msg1(&msg1).unwrap();
    let mut client = init.read_msg2(&msg2).unwrap();
    let wire_post = phone
        .encrypt(&PostHandshakeMessage::ctap(GET_INFO.to_vec()).to_bytes())
        .unwrap();
    assert!(PostHandshakeMessage::parse(&client.decrypt(&wire_post).unwrap()).is_ok());

    // A stale link (contact ID rotated) no longer decrypts the advert.
    let rotated = root.paired_secret(&ContactId::new(b"new-token".to_vec()).unwrap(), &woken.link_id);
    let stale = rotated.eid_key(&woken.client_nonce).encrypt(&phone_eid);
    assert!(
        secret
            .eid_key(&payload.client_nonce)
            .trial_decrypt(stale.as_bytes())
            .is_err()
    );
}
