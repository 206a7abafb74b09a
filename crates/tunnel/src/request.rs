//! Validation of a WebSocket upgrade request: endpoint, subprotocol and caBLE headers (pure; no I/O).

use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{HeaderMap, StatusCode, header};

use crate::ids::{ContactId, RoutingId, TunnelId};
use crate::route::{self, Route, RouteError};
use crate::wake::MAX_CLIENT_PAYLOAD;

/// The WebSocket subprotocol every caBLE connection must request and the server echoes.
pub const SUBPROTOCOL: &str = "fido.cable";
/// Response header carrying the routing ID on `/cable/new`.
pub const ROUTING_ID_HEADER: &str = "X-caBLE-Routing-ID";
/// Request header carrying the hex client payload on `/cable/contact`.
pub const CLIENT_PAYLOAD_HEADER: &str = "X-caBLE-Client-Payload";
/// Request header asking for the connect signal; echoed when granted.
pub const SIGNAL_CONNECTION_HEADER: &str = "X-caBLE-Signal-Connection";

// `pub` (not `pub(crate)`) only so the `fuzzing` feature can re-export these; the module stays private.

/// A validated upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))] // public through `crate::fuzzing`
pub enum Endpoint {
    /// `/cable/new/<tunnel>`.
    New(TunnelId),
    /// `/cable/connect/<routing>/<tunnel>`.
    Connect(RoutingId, TunnelId),
    /// `/cable/contact/<contact>` with its decoded client payload and whether the connect signal was asked.
    Contact {
        /// Contact ID from the path.
        contact: ContactId,
        /// Decoded `X-caBLE-Client-Payload` (1 to [`MAX_CLIENT_PAYLOAD`] bytes).
        client_payload: Vec<u8>,
        /// `X-caBLE-Signal-Connection: true` was sent.
        signal: bool,
    },
    /// `/tandem/wake/<contact>`.
    Wake(ContactId),
}

/// An HTTP error answer to an upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))] // public through `crate::fuzzing`
pub struct Rejection {
    /// HTTP status sent instead of `101`.
    pub status: StatusCode,
    /// Plain-text reason sent as the body.
    pub reason: String,
}

impl Rejection {
    /// A rejection with `status` and `reason`.
    #[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))] // public through `crate::fuzzing`
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    /// The response tungstenite sends instead of `101`.
    #[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))] // public through `crate::fuzzing`
    pub fn into_response(self) -> ErrorResponse {
        let mut resp = ErrorResponse::new(Some(format!("{}\n", self.reason)));
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain"),
        );
        resp
    }
}

/// Whether the comma-separated `Sec-WebSocket-Protocol` values include `fido.cable`.
fn offers_subprotocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL)
}

/// Validates an upgrade request (tungstenite has already checked the generic WebSocket headers).
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))] // public through `crate::fuzzing`
pub fn parse_request(req: &Request) -> Result<Endpoint, Rejection> {
    let route = route::parse(req.uri().path()).map_err(|e| match e {
        RouteError::NotFound => Rejection::new(StatusCode::NOT_FOUND, "no such endpoint"),
        e @ RouteError::Malformed { .. } => Rejection::new(StatusCode::BAD_REQUEST, e.to_string()),
    })?;
    let headers = req.headers();
    if !offers_subprotocol(headers) {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "subprotocol fido.cable required",
        ));
    }
    Ok(match route {
        Route::New { tunnel } => Endpoint::New(tunnel),
        Route::Connect { routing, tunnel } => Endpoint::Connect(routing, tunnel),
        Route::Wake { contact } => Endpoint::Wake(contact),
        Route::Contact { contact } => {
            let bad = |why: &str| Rejection::new(StatusCode::BAD_REQUEST, why);
            let text = headers
                .get(CLIENT_PAYLOAD_HEADER)
                .ok_or_else(|| bad("X-caBLE-Client-Payload required"))?
                .to_str()
                .map_err(|_| bad("X-caBLE-Client-Payload must be hex"))?;
            if text.is_empty() || text.len() > 2 * MAX_CLIENT_PAYLOAD {
                return Err(bad("X-caBLE-Client-Payload has a bad length"));
            }
            let client_payload = hex::decode(text).map_err(|_| bad("X-caBLE-Client-Payload must be hex"))?;
            let signal = headers
                .get(SIGNAL_CONNECTION_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            Endpoint::Contact {
                contact,
                client_payload,
                signal,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    const T: &str = "00112233445566778899AABBCCDDEEFF";

    #[test]
    fn subprotocol_required_and_found_in_lists() {
        let p = format!("/cable/new/{T}");
        assert_eq!(
            parse_request(&req(&p, &[])).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_request(&req(&p, &[("Sec-WebSocket-Protocol", "chat")]))
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        assert!(parse_request(&req(&p, &[("Sec-WebSocket-Protocol", "chat, fido.cable")])).is_ok());
        assert!(
            parse_request(&req(
                &p,
                &[
                    ("Sec-WebSocket-Protocol", "x"),
                    ("Sec-WebSocket-Protocol", "fido.cable")
                ]
            ))
            .is_ok()
        );
    }

    #[test]
    fn unknown_path_is_404_before_subprotocol_check() {
        assert_eq!(
            parse_request(&req("/nope", &[])).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn contact_headers() {
        let sp = ("Sec-WebSocket-Protocol", "fido.cable");
        let p = "/cable/contact/AQID";
        assert_eq!(
            parse_request(&req(p, &[sp])).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_request(&req(p, &[sp, (CLIENT_PAYLOAD_HEADER, "zz")]))
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        let e = parse_request(&req(
            p,
            &[
                sp,
                (CLIENT_PAYLOAD_HEADER, "A0b1"),
                (SIGNAL_CONNECTION_HEADER, "True"),
            ],
        ))
        .unwrap();
        assert_eq!(
            e,
            Endpoint::Contact {
                contact: ContactId::from_bytes(vec![1, 2, 3]).unwrap(),
                client_payload: vec![0xa0, 0xb1],
                signal: true
            }
        );
        let e = parse_request(&req(p, &[sp, (CLIENT_PAYLOAD_HEADER, "a0")])).unwrap();
        assert!(matches!(e, Endpoint::Contact { signal: false, .. }));
    }
}
