//! The tunnel server's upgrade-request validation (`request::parse_request`, through tandem-tunnel's
//! `fuzzing` feature): endpoint from the path, the `fido.cable` subprotocol, and the caBLE headers.
//!
//! Input: an HTTP/1.1 request head as text. The first line is `METHOD URI [VERSION]` (or just `URI`); every
//! other non-empty line is `name: value` (split at the first ':', value trimmed of spaces and tabs as
//! httparse does; values are arbitrary bytes). Lines the `http` crate refuses (bad method, URI, header name
//! or value) are skipped, as tungstenite would have refused the request before the parser runs.
//!
//! Properties: an accepted request's endpoint is the one its path routes to; it offered `fido.cable`; a
//! contact request's payload is exactly its hex header (1 to `MAX_CLIENT_PAYLOAD` bytes) and its signal flag
//! is the header's; an unroutable path is 404 and a malformed one 400; a routable path offering the
//! subprotocol is refused only on the contact endpoint, with 400.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;
use tandem_tunnel::fuzzing::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use tandem_tunnel::fuzzing::{Endpoint, Request, parse_request};

use tandem_tunnel::{
    CLIENT_PAYLOAD_HEADER, FORWARDED_FOR_HEADER, MAX_CLIENT_PAYLOAD, ProxyNet, REAL_IP_HEADER, Route,
    RouteError, SIGNAL_CONNECTION_HEADER, SUBPROTOCOL, client_address, parse_path,
};

fn request(data: &[u8]) -> Option<Request> {
    let mut lines = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    let mut words = first.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let (method, uri) = match (words.next()?, words.next()) {
        (m, Some(u)) => (Method::from_bytes(m).ok()?, u),
        (u, None) => (Method::GET, u),
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(std::str::from_utf8(uri).ok()?);
    for line in lines.filter(|l| !l.is_empty()) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            builder = builder.header(name, value);
        }
    }
    builder.body(()).ok()
}

/// Whether some `Sec-WebSocket-Protocol` value that is valid text lists `fido.cable` (an independent
/// reading of the header: comma-separated, optional whitespace).
fn offers_fido_cable(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim_matches([' ', '\t']) == SUBPROTOCOL))
}

/// The client address behind a trusted proxy (127.0.0.0/8 here) is the peer or an address the forwarding
/// headers spell out; an untrusted peer is always itself.
fn check_client_address(headers: &HeaderMap) {
    let proxy: IpAddr = "127.0.0.1".parse().expect("ip");
    let trusted: [ProxyNet; 1] = ["127.0.0.0/8".parse().expect("net")];
    let got = client_address(headers, proxy, &trusted);
    if got != proxy {
        let written = [FORWARDED_FOR_HEADER, REAL_IP_HEADER]
            .iter()
            .flat_map(|h| headers.get_all(*h).iter())
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|hop| {
                hop.contains(&got.to_string()) || hop.parse::<IpAddr>() == Ok(got) || {
                    let inner = hop.trim().trim_start_matches('[');
                    inner.split(']').next().and_then(|a| a.parse::<IpAddr>().ok()) == Some(got)
                        || inner.rsplit_once(':').and_then(|(a, _)| a.parse::<IpAddr>().ok()) == Some(got)
                        || inner.parse::<IpAddr>() == Ok(got)
                }
            });
        assert!(written, "{got} is neither the peer nor in the forwarding headers");
    }
    let outsider: IpAddr = "192.0.2.1".parse().expect("ip");
    assert_eq!(client_address(headers, outsider, &trusted), outsider);
}

fuzz_target!(|data: &[u8]| {
    let Some(req) = request(data) else {
        return;
    };
    let route = parse_path(req.uri().path());
    let headers = req.headers();
    check_client_address(headers);
    match parse_request(&req) {
        Ok(endpoint) => {
            assert!(
                offers_fido_cable(headers),
                "accepted without the fido.cable subprotocol"
            );
            match (endpoint, route) {
                (Endpoint::New(t), Ok(Route::New { tunnel })) => assert_eq!(t, tunnel),
                (Endpoint::Connect(r, t), Ok(Route::Connect { routing, tunnel })) => {
                    assert_eq!((r, t), (routing, tunnel))
                }
                (Endpoint::Wake(c), Ok(Route::Wake { contact })) => assert_eq!(c, contact),
                (
                    Endpoint::Contact {
                        contact: c,
                        client_payload,
                        signal,
                    },
                    Ok(Route::Contact { contact }),
                ) => {
                    assert_eq!(c, contact);
                    assert!((1..=MAX_CLIENT_PAYLOAD).contains(&client_payload.len()));
                    let sent = headers
                        .get(CLIENT_PAYLOAD_HEADER)
                        .expect("payload header present");
                    assert!(
                        sent.as_bytes()
                            .eq_ignore_ascii_case(hex::encode(&client_payload).as_bytes())
                    );
                    let asked = headers
                        .get(SIGNAL_CONNECTION_HEADER)
                        .is_some_and(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"true"));
                    assert_eq!(signal, asked);
                }
                (e, r) => panic!("endpoint {e:?} does not match the path's route {r:?}"),
            }
        }
        Err(rejection) => {
            match &route {
                Err(RouteError::NotFound) => assert_eq!(rejection.status.as_u16(), 404),
                Err(RouteError::Malformed { .. }) => assert_eq!(rejection.status.as_u16(), 400),
                Ok(r) if offers_fido_cable(headers) => {
                    assert!(matches!(r, Route::Contact { .. }), "{r:?} refused: {rejection:?}");
                    assert_eq!(rejection.status.as_u16(), 400);
                }
                Ok(_) => assert_eq!(rejection.status.as_u16(), 400),
            }
            let status = rejection.status;
            assert_eq!(rejection.into_response().status(), status);
        }
    }
});
