//! The listening server: accept loop, TLS, WebSocket upgrade with admission control, and the handle
//! used to inspect and stop it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use zeroize::Zeroizing;

use crate::clients::{ClientHold, ClientKey, Clients, Hold, PendingSlot, Refusal};
use crate::config::{ServerConfig, TlsConfig};
use crate::conn::{Conn, Ws};
use crate::error::TunnelError;
use crate::forwarded::{ProxyNet, client_address};
use crate::ids::ContactId;
use crate::registry::{ClaimError, CreateError, JoinTicket, Registry, Stats, TunnelHandle, WakeReservation};
use crate::relay::{TunnelTask, finish, shutdown_signal};
use crate::request::{
    Endpoint, ROUTING_ID_HEADER, Rejection, SIGNAL_CONNECTION_HEADER, SUBPROTOCOL, parse_request,
};
use crate::wake::PendingWake;

/// Per-connection read buffer. tungstenite allocates it eagerly, so it dominates idle memory per socket;
/// caBLE messages are small, so 4 KiB costs nothing in throughput.
const READ_BUFFER: usize = 4096;

/// Entry point: `TunnelServer::bind(config).await?` starts a server.
pub struct TunnelServer;

impl TunnelServer {
    /// Validates the configuration, loads TLS material, binds the listener and starts serving.
    pub async fn bind(config: ServerConfig) -> Result<RunningServer, TunnelError> {
        config.limits.validate().map_err(TunnelError::Config)?;
        let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| TunnelError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| TunnelError::Bind {
            addr: config.listen,
            source,
        })?;
        if tls.is_none() && !local_addr.ip().is_loopback() {
            tracing::warn!(%local_addr, "serving plain ws:// on a non-loopback address; use TLS or a TLS proxy");
        }
        let limits = config.limits;
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(0)
            .max_write_buffer_size(limits.max_message_size + 64 * 1024)
            .max_message_size(Some(limits.max_message_size))
            .max_frame_size(Some(limits.max_message_size));
        let clients = Arc::new(Clients::new(limits.per_client, limits.max_pending_handshakes));
        let registry = Arc::new(Registry::new(config.instance_id, limits));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel(1);
        let ctx = Arc::new(Context {
            registry: Arc::clone(&registry),
            clients: Arc::clone(&clients),
            trusted_proxies: config.trusted_proxies.clone(),
            tls,
            ws_config,
        });
        tokio::spawn(accept_loop(listener, ctx, shutdown_rx, done_tx));
        tracing::info!(%local_addr, tls = config.tls.is_some(), instance = config.instance_id, "tunnel server listening");
        Ok(RunningServer {
            local_addr,
            tls: config.tls.is_some(),
            registry,
            clients,
            shutdown_tx,
            done_rx,
        })
    }
}

/// A started server. Dropping it signals shutdown without waiting; call [`RunningServer::shutdown`] to
/// wait until every connection is closed.
pub struct RunningServer {
    local_addr: SocketAddr,
    tls: bool,
    registry: Arc<Registry>,
    clients: Arc<Clients>,
    shutdown_tx: watch::Sender<bool>,
    done_rx: mpsc::Receiver<()>,
}

impl RunningServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Base URL of the service, e.g. `ws://127.0.0.1:4321` (or `wss://` with TLS).
    pub fn ws_url(&self) -> String {
        format!("{}://{}", if self.tls { "wss" } else { "ws" }, self.local_addr)
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let mut stats = self.registry.stats();
        stats.pending_handshakes = self.clients.pending();
        stats.connections_evicted = self.clients.evicted();
        stats
    }

    /// Stops accepting, closes every tunnel and wake channel with 1001, and waits until all connection
    /// tasks have ended (each close handshake is bounded by `close_timeout`).
    pub async fn shutdown(mut self) {
        tracing::info!(local_addr = %self.local_addr, "tunnel server shutting down");
        let _ = self.shutdown_tx.send(true);
        // Every task holds a clone of the sender; `None` means all of them have finished.
        let _ = self.done_rx.recv().await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

fn tls_acceptor(config: &TlsConfig) -> Result<TlsAcceptor, TunnelError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| TunnelError::TlsFile {
            path: path.to_owned(),
            source,
        })
    };
    let (cert_pem, key_pem) = match config {
        TlsConfig::PemFiles {
            cert_chain,
            private_key,
        } => (read(cert_chain)?, Zeroizing::new(read(private_key)?)),
        TlsConfig::Pem {
            cert_chain,
            private_key,
        } => (cert_chain.clone(), private_key.clone()),
    };
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TunnelError::TlsPem(format!("certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(TunnelError::TlsPem("no certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| TunnelError::TlsPem(format!("private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// What every connection task needs.
struct Context {
    registry: Arc<Registry>,
    clients: Arc<Clients>,
    trusted_proxies: Vec<ProxyNet>,
    tls: Option<TlsAcceptor>,
    ws_config: WebSocketConfig,
}

/// A connection's admitted request, decided (and its resources reserved) during the upgrade.
enum Admission {
    NewTunnel(TunnelHandle),
    Contact {
        handle: TunnelHandle,
        contact: ContactId,
        wake: PendingWake,
        signal: bool,
    },
    Join(JoinTicket),
    Wake {
        contact: ContactId,
        reservation: WakeReservation,
    },
}

async fn accept_loop(
    listener: TcpListener,
    ctx: Arc<Context>,
    mut shutdown: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let counters = &ctx.registry.counters;
    loop {
        tokio::select! {
            biased;
            _ = shutdown_signal(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    counters.connections_accepted.fetch_add(1, Ordering::Relaxed);
                    let proxy = ctx.trusted_proxies.iter().any(|net| net.contains(peer.ip()));
                    match ctx.clients.admit_connection(ClientKey::of(peer.ip()), proxy) {
                        Ok(slot) => {
                            let task = handle_connection(Arc::clone(&ctx), tcp, peer, slot, shutdown.clone(), done.clone());
                            tokio::spawn(task);
                        }
                        Err(refusal) => {
                            counters.connections_refused.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%peer, ?refusal, "connection refused at admission");
                        }
                    }
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    tracing::debug!("accept loop stopped");
}

/// TLS and the WebSocket upgrade. `head_read` turns true once the request head arrived (the upgrade
/// callback ran), which ends the header deadline.
async fn handshake(
    ctx: &Context,
    tcp: TcpStream,
    peer: IpAddr,
    admission: &mut Option<(Admission, Option<ClientHold>)>,
    head_read: &watch::Sender<bool>,
) -> Result<Ws, String> {
    let conn = match &ctx.tls {
        Some(acceptor) => Conn::Tls(Box::new(
            acceptor.accept(tcp).await.map_err(|e| format!("TLS: {e}"))?,
        )),
        None => Conn::Plain(tcp),
    };
    // The Result shape is fixed by tungstenite's `Callback` trait.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        let _ = head_read.send(true);
        admit(ctx, peer, req, resp, admission)
    };
    tokio_tungstenite::accept_hdr_async_with_config(conn, callback, Some(ctx.ws_config))
        .await
        .map_err(|e| format!("WebSocket: {e}"))
}

async fn handle_connection(
    ctx: Arc<Context>,
    tcp: TcpStream,
    peer: SocketAddr,
    mut slot: PendingSlot,
    mut shutdown: watch::Receiver<bool>,
    _done: mpsc::Sender<()>,
) {
    let _ = tcp.set_nodelay(true);
    let registry = &ctx.registry;
    let limits = &registry.limits;
    let mut admission = None;
    let (head_tx, head_rx) = watch::channel(false);
    let header_deadline = async {
        tokio::time::sleep(limits.header_timeout).await;
        if !*head_rx.borrow() {
            return;
        }
        // The head arrived in time: no further deadline here (`handshake_timeout` still bounds the rest).
        std::future::pending::<()>().await;
    };
    let ws = tokio::select! {
        biased;
        _ = shutdown_signal(&mut shutdown) => return,
        _ = slot.evicted.wait_for(|evicted| *evicted) => {
            tracing::debug!(%peer, "handshake evicted for a less busy client");
            return;
        }
        _ = header_deadline => {
            tracing::debug!(%peer, "request head not received in time");
            return;
        }
        result = timeout(limits.handshake_timeout, handshake(&ctx, tcp, peer.ip(), &mut admission, &head_tx)) => match result {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "handshake timed out");
                return;
            }
        },
    };
    drop(slot);
    // `_hold` is kept until this connection ends: the client's share of tunnels or wake listeners.
    let Some((admission, _hold)) = admission else {
        // Cannot happen: a successful upgrade always went through `admit`.
        finish(
            ws,
            Some((CloseCode::Error, "internal error")),
            limits.close_timeout,
        )
        .await;
        return;
    };
    match admission {
        Admission::NewTunnel(handle) => {
            tracing::info!(%peer, tunnel = %handle.guard.tunnel(), routing = %handle.routing, "tunnel created");
            let task = TunnelTask {
                handle,
                creator: ws,
                signal: false,
                registry: Arc::clone(registry),
                shutdown,
            };
            task.run().await;
        }
        Admission::Contact {
            handle,
            contact,
            wake,
            signal,
        } => {
            tracing::info!(%peer, tunnel = %handle.guard.tunnel(), %contact, signal, "state-assisted tunnel created");
            registry.deliver_wake(&contact, wake);
            let task = TunnelTask {
                handle,
                creator: ws,
                signal,
                registry: Arc::clone(registry),
                shutdown,
            };
            task.run().await;
        }
        Admission::Join(ticket) => {
            let tunnel = ticket.tunnel();
            match ticket.complete(ws) {
                Ok(()) => tracing::info!(%peer, %tunnel, "tunnel joined"),
                Err(ws) => {
                    finish(
                        *ws,
                        Some((CloseCode::Normal, "tunnel closed")),
                        limits.close_timeout,
                    )
                    .await
                }
            }
        }
        Admission::Wake { contact, reservation } => {
            tracing::info!(%peer, %contact, "wake listener connected");
            let registration = registry.register_listener(contact, reservation);
            crate::wake_channel::serve(ws, registration, Arc::clone(registry), shutdown).await;
        }
    }
}

/// The upgrade callback: validates the request and reserves what it needs, or answers with an HTTP error.
#[allow(clippy::result_large_err)] // the Result shape is fixed by tungstenite's `Callback` trait
fn admit(
    ctx: &Context,
    peer: IpAddr,
    req: &Request,
    mut resp: Response,
    out: &mut Option<(Admission, Option<ClientHold>)>,
) -> Result<Response, ErrorResponse> {
    let registry = &ctx.registry;
    let reject = |rejection: Rejection| {
        registry
            .counters
            .requests_rejected
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(path_kind = path_kind(req.uri().path()), status = %rejection.status, reason = %rejection.reason, "request rejected");
        rejection.into_response()
    };
    // Behind a trusted proxy the request head names the client; it is charged for this connection now.
    let forwarded = client_address(req.headers(), peer, &ctx.trusted_proxies);
    let client = ClientKey::of(forwarded);
    if forwarded != peer {
        ctx.clients.charge(client).map_err(|_| {
            reject(Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many connections from this address",
            ))
        })?;
    }
    let endpoint = parse_request(req).map_err(reject)?;
    let headers = resp.headers_mut();
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let hold = |kind: Hold| {
        ctx.clients.hold(client, kind).map_err(|refusal| {
            let what = match refusal {
                Refusal::Listeners => "too many wake listeners from this address",
                _ => "too many tunnels from this address",
            };
            reject(Rejection::new(StatusCode::SERVICE_UNAVAILABLE, what))
        })
    };
    let admission = match endpoint {
        Endpoint::New(tunnel) => {
            let held = hold(Hold::Tunnel)?;
            let handle = registry
                .create_tunnel(tunnel)
                .map_err(|e| reject(create_rejection(e)))?;
            let routing = HeaderValue::from_str(&handle.routing.to_hex()).map_err(|_| {
                reject(Rejection::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                ))
            })?;
            headers.insert(ROUTING_ID_HEADER, routing);
            (Admission::NewTunnel(handle), Some(held))
        }
        Endpoint::Connect(routing, tunnel) => {
            let ticket = registry.claim(routing, tunnel).map_err(|e| {
                reject(match e {
                    ClaimError::NotFound => Rejection::new(StatusCode::NOT_FOUND, "no such tunnel"),
                    ClaimError::Busy => Rejection::new(StatusCode::CONFLICT, "tunnel already joined"),
                })
            })?;
            (Admission::Join(ticket), None)
        }
        Endpoint::Contact {
            contact,
            client_payload,
            signal,
        } => {
            if !registry.contact_known(&contact) {
                return Err(reject(Rejection::new(StatusCode::GONE, "unknown contact")));
            }
            let held = hold(Hold::Tunnel)?;
            let handle = registry
                .create_random_tunnel()
                .map_err(|e| reject(create_rejection(e)))?;
            let wake = PendingWake {
                tunnel: handle.guard.tunnel(),
                routing: handle.routing,
                client_payload,
            };
            if signal {
                headers.insert(SIGNAL_CONNECTION_HEADER, HeaderValue::from_static("true"));
            }
            (
                Admission::Contact {
                    handle,
                    contact,
                    wake,
                    signal,
                },
                Some(held),
            )
        }
        Endpoint::Wake(contact) => {
            if !registry.contact_room(&contact) {
                return Err(reject(Rejection::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many contacts",
                )));
            }
            let held = hold(Hold::WakeListener)?;
            let reservation = registry.reserve_wake_listener().ok_or_else(|| {
                reject(Rejection::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many listeners",
                ))
            })?;
            (Admission::Wake { contact, reservation }, Some(held))
        }
    };
    *out = Some(admission);
    Ok(resp)
}

fn create_rejection(e: CreateError) -> Rejection {
    match e {
        CreateError::Duplicate => Rejection::new(StatusCode::CONFLICT, "tunnel id in use"),
        CreateError::Full => Rejection::new(StatusCode::SERVICE_UNAVAILABLE, "too many tunnels"),
        CreateError::Rng => Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// The endpoint part of a path, for logs (IDs are left out).
fn path_kind(path: &str) -> &'static str {
    [
        "/cable/new/",
        "/cable/connect/",
        "/cable/contact/",
        "/tandem/wake/",
    ]
    .into_iter()
    .find(|p| path.starts_with(p))
    .unwrap_or("other")
}
