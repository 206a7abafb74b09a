//! Self-hostable hybrid (caBLE v2) tunnel server: a WebSocket relay that behaves like Google's tunnel
//! service for the endpoints of the spec (§5), plus a Tandem wake channel for state-assisted use.
//! It never sees plaintext: everything it relays is Noise-encrypted end to end.
//!
//! TODO: module doc filled in below.

mod config;
mod conn;
mod error;
mod ids;
mod registry;
mod relay;
mod request;
mod route;
mod server;
mod wake;
mod wake_channel;

pub use config::{Limits, ServerConfig, TlsConfig};
pub use error::TunnelError;
pub use ids::{ContactId, IdError, RoutingId, TunnelId};
pub use registry::Stats;
pub use request::{CLIENT_PAYLOAD_HEADER, ROUTING_ID_HEADER, SIGNAL_CONNECTION_HEADER, SUBPROTOCOL};
pub use route::{Route, RouteError, parse as parse_path};
pub use server::{RunningServer, TunnelServer};
pub use wake::{MAX_CLIENT_PAYLOAD, WakeDecodeError, WakeMessage};
