//! The phone side of the Tandem wake channel: a long-lived WebSocket on which the server pushes
//! [`crate::wake::WakeMessage`]s (queued as `PendingWake`). The phone sends nothing but pings/pongs; the server pings it every
//! `wake_ping_interval` and drops it after two silent intervals.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, interval_at, timeout};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use crate::conn::Ws;
use crate::registry::{ListenerRegistration, Registry};
use crate::relay::{Event, classify, finish, shutdown_signal};

/// Serves one registered wake listener until it leaves, is replaced, or the server shuts down.
pub(crate) async fn serve(
    mut ws: Ws,
    mut registration: ListenerRegistration,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = &registry.limits;
    let every = limits.wake_ping_interval;
    let mut ticker = interval_at(Instant::now() + every, every);
    let mut last_heard = Instant::now();
    let end = loop {
        tokio::select! {
            biased;
            _ = shutdown_signal(&mut shutdown) => break Some((CloseCode::Away, "server shutting down")),
            wake = registration.rx.recv() => match wake {
                Some(wake) => {
                    let sent = timeout(limits.close_timeout, ws.send(Message::Binary(Bytes::from(wake.to_message().encode()))));
                    if !matches!(sent.await, Ok(Ok(()))) {
                        break None;
                    }
                    tracing::debug!(tunnel = %wake.tunnel, "wake delivered");
                }
                None => break Some((CloseCode::Normal, "replaced by a newer listener")),
            },
            item = ws.next() => match classify(item) {
                Event::Skip => last_heard = Instant::now(),
                Event::Data(_) => break Some((CloseCode::Policy, "the wake channel is server-to-phone only")),
                Event::Closed => break None,
                Event::Violation(code, reason) => break Some((code, reason)),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > 2 * every {
                    break Some((CloseCode::Policy, "keepalive timeout"));
                }
                let ping = timeout(limits.close_timeout, ws.send(Message::Ping(Bytes::new())));
                if !matches!(ping.await, Ok(Ok(()))) {
                    break None;
                }
            }
        }
    };
    // Unregister before the (bounded) close handshake so a reconnecting phone is not shadowed.
    drop(registration);
    finish(ws, end, limits.close_timeout).await;
}
