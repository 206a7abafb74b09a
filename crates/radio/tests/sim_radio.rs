//! The simulated radio, in-process and over loopback UDP.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use tandem_ble::BleAdvertiser;
use tandem_ble::{AdvertScanner, SeenAdvert};
use tandem_radio::{SimRadio, UdpAdvertiser, UdpScanner};
use tokio::sync::mpsc::Receiver;

const LIMIT: Duration = Duration::from_secs(5);

fn advert(seed: u8) -> [u8; 20] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

async fn next(rx: &mut Receiver<SeenAdvert>) -> SeenAdvert {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("no advert in time")
        .expect("scan channel closed")
}

/// Reads until `want` arrives, returning everything read before it.
async fn until(rx: &mut Receiver<SeenAdvert>, want: &SeenAdvert) -> Vec<SeenAdvert> {
    let mut before = Vec::new();
    loop {
        let seen = next(rx).await;
        if &seen == want {
            return before;
        }
        before.push(seen);
    }
}

fn fido(data: [u8; 20]) -> SeenAdvert {
    SeenAdvert {
        uuid: 0xFFF9,
        data: data.to_vec(),
    }
}

#[tokio::test]
async fn in_process_advert_is_seen_and_repeated() {
    let radio = SimRadio::new();
    let advertiser = radio.advertiser();
    let mut rx = radio.scanner().scan().expect("scan");
    advertiser.start(&advert(1)).expect("start");
    for _ in 0..3 {
        assert_eq!(next(&mut rx).await, fido(advert(1)));
    }
    assert_eq!(radio.on_air(), vec![fido(advert(1))]);
}

#[tokio::test]
async fn in_process_scanner_started_late_hears_the_advert() {
    let radio = SimRadio::new();
    let advertiser = radio.advertiser();
    advertiser.start(&advert(2)).expect("start");
    let mut rx = radio.scanner().scan().expect("scan");
    assert_eq!(next(&mut rx).await, fido(advert(2)));
}

#[tokio::test]
async fn in_process_stop_stops_and_start_replaces() {
    let radio = SimRadio::new();
    let advertiser = radio.advertiser();
    let mut rx = radio.scanner().scan().expect("scan");
    advertiser.start(&advert(3)).expect("start");
    advertiser.start(&advert(4)).expect("replace");
    assert_eq!(radio.on_air(), vec![fido(advert(4))]);
    advertiser.stop();
    assert!(radio.on_air().is_empty());
    // A marker sent after stop(): once it arrives, every older copy has been read.
    let marker = radio.advertiser();
    marker.start(&advert(5)).expect("marker");
    until(&mut rx, &fido(advert(5))).await;
    for _ in 0..5 {
        assert_eq!(
            next(&mut rx).await,
            fido(advert(5)),
            "a stopped advert was still on the air"
        );
    }
}

#[tokio::test]
async fn in_process_scanner_takes_only_hybrid_uuids() {
    let radio = SimRadio::new();
    let other = radio.advertiser_with_uuid(0x180F);
    let legacy = radio.advertiser_with_uuid(0xFDE2);
    let fido_adv = radio.advertiser();
    other.start(&advert(6)).expect("start");
    let mut rx = radio.scanner().scan().expect("scan");
    legacy.start(&advert(7)).expect("start");
    fido_adv.start(&advert(8)).expect("start");
    assert_eq!(radio.on_air().len(), 3, "the unrelated advert is on the air");
    let mut seen = Vec::new();
    for _ in 0..12 {
        seen.push(next(&mut rx).await);
    }
    assert!(
        seen.iter().all(|s| s.uuid == 0xFFF9 || s.uuid == 0xFDE2),
        "{seen:?}"
    );
    assert!(seen.contains(&SeenAdvert {
        uuid: 0xFDE2,
        data: advert(7).to_vec()
    }));
    assert!(seen.contains(&fido(advert(8))));
}

#[tokio::test]
async fn in_process_drop_stops() {
    let radio = SimRadio::new();
    let advertiser = radio.advertiser();
    advertiser.start(&advert(9)).expect("start");
    drop(advertiser);
    assert!(radio.on_air().is_empty());
}

#[tokio::test]
async fn udp_advert_is_seen_repeatedly() {
    let scanner = UdpScanner::bind(0).expect("bind");
    let advertiser = UdpAdvertiser::new(scanner.port().expect("port")).expect("advertiser");
    let mut rx = scanner.scan().expect("scan");
    advertiser.start(&advert(10)).expect("start");
    for _ in 0..3 {
        assert_eq!(next(&mut rx).await, fido(advert(10)));
    }
}

#[tokio::test]
async fn udp_stop_stops_and_start_replaces() {
    let scanner = UdpScanner::bind(0).expect("bind");
    let port = scanner.port().expect("port");
    let advertiser = UdpAdvertiser::new(port).expect("advertiser");
    let mut rx = scanner.scan().expect("scan");
    advertiser.start(&advert(11)).expect("start");
    assert_eq!(next(&mut rx).await, fido(advert(11)));
    advertiser.stop();
    // Loopback delivery is synchronous and in order: after the marker, nothing older can arrive.
    let marker = UdpAdvertiser::new(port).expect("marker");
    marker.start(&advert(12)).expect("marker");
    until(&mut rx, &fido(advert(12))).await;
    for _ in 0..5 {
        assert_eq!(
            next(&mut rx).await,
            fido(advert(12)),
            "a stopped advert was still sent"
        );
    }
    drop(marker);
    advertiser.start(&advert(13)).expect("restart");
    until(&mut rx, &fido(advert(13))).await;
}

#[tokio::test]
async fn udp_scanner_takes_only_hybrid_frames() {
    let scanner = UdpScanner::bind(0).expect("bind");
    let port = scanner.port().expect("port");
    let mut rx = scanner.scan().expect("scan");
    let other = UdpAdvertiser::with_uuid(port, 0x180F).expect("other");
    other.start(&advert(14)).expect("start");
    let raw = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("raw socket");
    for junk in [&[0xF9u8][..], &[0xF9, 0xFF].repeat(20)[..]] {
        raw.send_to(junk, (Ipv4Addr::LOCALHOST, port)).expect("send junk");
    }
    let legacy = UdpAdvertiser::with_uuid(port, 0xFDE2).expect("legacy");
    legacy.start(&advert(15)).expect("start");
    let fido_adv = UdpAdvertiser::new(port).expect("fido");
    fido_adv.start(&advert(16)).expect("start");
    let mut seen = Vec::new();
    for _ in 0..12 {
        seen.push(next(&mut rx).await);
    }
    assert!(
        seen.iter()
            .all(|s| (s.uuid == 0xFFF9 || s.uuid == 0xFDE2) && s.data.len() == 20),
        "{seen:?}"
    );
    assert!(seen.contains(&SeenAdvert {
        uuid: 0xFDE2,
        data: advert(15).to_vec()
    }));
    assert!(seen.contains(&fido(advert(16))));
}

#[tokio::test]
async fn udp_scan_ends_when_receiver_dropped() {
    let scanner = UdpScanner::bind(0).expect("bind");
    let port = scanner.port().expect("port");
    let advertiser = UdpAdvertiser::new(port).expect("advertiser");
    advertiser.start(&advert(17)).expect("start");
    let mut first = scanner.scan().expect("scan");
    assert_eq!(next(&mut first).await, fido(advert(17)));
    drop(first);
    // The first scan's thread lets go of the socket's datagrams; a second scan gets them all.
    let mut second = scanner.scan().expect("rescan");
    for _ in 0..3 {
        assert_eq!(next(&mut second).await, fido(advert(17)));
    }
}
