//! Request-path routing: which endpoint a WebSocket upgrade request is for (pure; no I/O).

use crate::ids::{ContactId, IdError, RoutingId, TunnelId};

/// An endpoint of the tunnel service with its parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /cable/new/<HEX tunnel id>`: the phone creates a tunnel (QR-initiated).
    New {
        /// Tunnel ID chosen (derived) by the phone.
        tunnel: TunnelId,
    },
    /// `GET /cable/connect/<HEX routing id>/<HEX tunnel id>`: the second party joins an existing tunnel.
    Connect {
        /// Routing ID the creator was given.
        routing: RoutingId,
        /// Tunnel to join.
        tunnel: TunnelId,
    },
    /// `GET /cable/contact/<base64url contact id>`: a desktop starts a state-assisted transaction.
    Contact {
        /// Contact ID from the linking data.
        contact: ContactId,
    },
    /// `GET /tandem/wake/<base64url contact id>`: a phone listens for wake messages (Tandem-specific).
    Wake {
        /// The phone's own contact ID.
        contact: ContactId,
    },
}

/// Why a path does not name an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Not one of the service's endpoints (HTTP 404).
    #[error("no such endpoint")]
    NotFound,
    /// A known endpoint with malformed arguments (HTTP 400).
    #[error("malformed {endpoint} path: {reason}")]
    Malformed {
        /// The endpoint the path was meant for.
        endpoint: &'static str,
        /// What was wrong.
        reason: String,
    },
}

fn malformed(endpoint: &'static str, reason: impl ToString) -> RouteError {
    RouteError::Malformed {
        endpoint,
        reason: reason.to_string(),
    }
}

fn arg<T>(endpoint: &'static str, r: Result<T, IdError>) -> Result<T, RouteError> {
    r.map_err(|e| malformed(endpoint, e))
}

/// Parses the path part of a request URI (no query; the caller passes `uri.path()`).
pub fn parse(path: &str) -> Result<Route, RouteError> {
    let rest = path.strip_prefix('/').ok_or(RouteError::NotFound)?;
    let mut segments = rest.split('/');
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();
    let args: Vec<&str> = segments.collect();
    let endpoint: &'static str = match (first, second) {
        ("cable", "new") => "new",
        ("cable", "connect") => "connect",
        ("cable", "contact") => "contact",
        ("tandem", "wake") => "wake",
        _ => return Err(RouteError::NotFound),
    };
    match (endpoint, args.as_slice()) {
        ("new", [tunnel]) => Ok(Route::New {
            tunnel: arg(endpoint, TunnelId::from_hex(tunnel))?,
        }),
        ("connect", [routing, tunnel]) => Ok(Route::Connect {
            routing: arg(endpoint, RoutingId::from_hex(routing))?,
            tunnel: arg(endpoint, TunnelId::from_hex(tunnel))?,
        }),
        ("contact", [contact]) => Ok(Route::Contact {
            contact: arg(endpoint, ContactId::from_base64url(contact))?,
        }),
        ("wake", [contact]) => Ok(Route::Wake {
            contact: arg(endpoint, ContactId::from_base64url(contact))?,
        }),
        _ => Err(malformed(
            endpoint,
            format!("wrong number of path segments ({})", args.len()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn known_endpoints() {
        assert_eq!(
            parse(&format!("/cable/new/{T}")).unwrap(),
            Route::New {
                tunnel: TunnelId::from_hex(T).unwrap()
            }
        );
        assert_eq!(
            parse(&format!("/cable/connect/0A0b0C/{}", T.to_uppercase())).unwrap(),
            Route::Connect {
                routing: RoutingId([0x0a, 0x0b, 0x0c]),
                tunnel: TunnelId::from_hex(T).unwrap()
            }
        );
        assert_eq!(
            parse("/cable/contact/AQID").unwrap(),
            Route::Contact {
                contact: ContactId::from_bytes(vec![1, 2, 3]).unwrap()
            }
        );
        assert_eq!(
            parse("/tandem/wake/AQID").unwrap(),
            Route::Wake {
                contact: ContactId::from_bytes(vec![1, 2, 3]).unwrap()
            }
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for p in [
            "",
            "/",
            "/cable",
            "/cable/",
            "/cable/old/00",
            "/x/new/00",
            "cable/new/00",
            "/tandem/new/AQID",
        ] {
            assert_eq!(parse(p), Err(RouteError::NotFound), "{p}");
        }
    }

    #[test]
    fn malformed_arguments_are_bad_requests() {
        for p in [
            "/cable/new/".to_string(),
            "/cable/new/0011".to_string(),
            format!("/cable/new/{T}/"),
            format!("/cable/new/{T}/extra"),
            format!("/cable/connect/{T}"),
            format!("/cable/connect/0102/{T}"),
            format!("/cable/connect/010203/{T}/x"),
            "/cable/contact/".to_string(),
            "/cable/contact/AQ==".to_string(),
            "/tandem/wake/a+b".to_string(),
        ] {
            assert!(matches!(parse(&p), Err(RouteError::Malformed { .. })), "{p}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(path in "\\PC{0,200}") {
            let _ = parse(&path);
        }

        #[test]
        fn new_round_trips(id in any::<[u8; 16]>(), upper in any::<bool>()) {
            let h = if upper { hex::encode_upper(id) } else { hex::encode(id) };
            prop_assert_eq!(parse(&format!("/cable/new/{h}")), Ok(Route::New { tunnel: TunnelId(id) }));
        }

        #[test]
        fn connect_round_trips(r in any::<[u8; 3]>(), t in any::<[u8; 16]>()) {
            let p = format!("/cable/connect/{}/{}", hex::encode_upper(r), hex::encode(t));
            prop_assert_eq!(parse(&p), Ok(Route::Connect { routing: RoutingId(r), tunnel: TunnelId(t) }));
        }

        #[test]
        fn contact_round_trips(c in proptest::collection::vec(any::<u8>(), 1..=ContactId::MAX_LEN)) {
            let id = ContactId::from_bytes(c).unwrap();
            let p = format!("/cable/contact/{}", id.to_base64url());
            prop_assert_eq!(parse(&p), Ok(Route::Contact { contact: id }));
        }
    }
}
