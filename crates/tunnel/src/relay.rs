//! The tunnel task: holds the creator's socket, buffers its messages until the second party joins, then
//! relays binary messages verbatim in both directions and closes both sides when either ends.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};

use crate::conn::Ws;
use crate::registry::{Registry, TunnelHandle};

/// What one read from a client socket amounts to.
pub(crate) enum Event {
    /// A binary message to relay.
    Data(Bytes),
    /// Nothing to relay (ping/pong, answered by tungstenite itself).
    Skip,
    /// The client closed or the connection broke; nothing more can be sent to it.
    Closed,
    /// The client broke the protocol or a limit; close it with this code.
    Violation(CloseCode, &'static str),
}

pub(crate) fn classify(item: Option<Result<Message, WsError>>) -> Event {
    match item {
        Some(Ok(Message::Binary(b))) => Event::Data(b),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Event::Skip,
        Some(Ok(Message::Text(_))) => Event::Violation(CloseCode::Unsupported, "text frames are not allowed"),
        Some(Ok(Message::Close(_))) | None => Event::Closed,
        Some(Err(WsError::Capacity(_))) => Event::Violation(CloseCode::Size, "message too big"),
        Some(Err(WsError::Protocol(_))) => Event::Violation(CloseCode::Protocol, "protocol error"),
        Some(Err(WsError::Utf8(_))) => Event::Violation(CloseCode::Invalid, "invalid UTF-8"),
        Some(Err(_)) => Event::Closed,
    }
}

/// Waits for the shutdown flag (or for the server handle to be gone).
pub(crate) async fn shutdown_signal(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Frames read while waiting for a close reply before giving up on the client.
const CLOSE_DRAIN_FRAMES: usize = 8;

/// Closes a socket: with a close frame if `code` is given, then waits (bounded) for the client's close
/// reply so the close handshake completes; a broken or slow client is simply dropped.
pub(crate) async fn finish(mut ws: Ws, code: Option<(CloseCode, &'static str)>, limit: Duration) {
    let _ = timeout(limit, async {
        if let Some((code, reason)) = code
            && ws
                .close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
                .await
                .is_err()
        {
            return;
        }
        // Only a few frames: a client that keeps sending data instead of a close reply is not drained.
        for _ in 0..CLOSE_DRAIN_FRAMES {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
}

/// Bytes held for a peer that has not joined, mirrored in the server-wide counter.
struct Pending<'a> {
    messages: VecDeque<Bytes>,
    bytes: usize,
    global: &'a AtomicUsize,
}

/// Why a message could not be held for a peer that has not joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldError {
    /// This tunnel's `max_buffered_bytes` would be exceeded.
    Tunnel,
    /// The server-wide `max_buffered_bytes_total` would be exceeded.
    Server,
}

impl Pending<'_> {
    fn push(&mut self, msg: Bytes, max: usize, max_total: usize) -> Result<(), HoldError> {
        if self.bytes + msg.len() > max {
            return Err(HoldError::Tunnel);
        }
        // Reserve in the global count first, so concurrent tunnels cannot overshoot it together.
        self.global
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(msg.len()).filter(|total| *total <= max_total)
            })
            .map_err(|_| HoldError::Server)?;
        self.bytes += msg.len();
        self.messages.push_back(msg);
        Ok(())
    }

    fn take(&mut self) -> VecDeque<Bytes> {
        self.global.fetch_sub(self.bytes, Ordering::Relaxed);
        self.bytes = 0;
        std::mem::take(&mut self.messages)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.global.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Time of the last relay progress, as milliseconds since the tunnel started.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once nothing was relayed for `idle`.
    async fn idle(&self, idle: Duration) {
        loop {
            let due = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle;
            if Instant::now() >= due {
                return;
            }
            sleep_until(due).await;
        }
    }
}

/// Why one relay direction stopped.
enum PumpEnd {
    SourceClosed,
    SourceViolation(CloseCode, &'static str),
    SinkFailed,
}

async fn pump(
    rx: &mut SplitStream<Ws>,
    tx: &mut SplitSink<Ws, Message>,
    sent: &mut u32,
    max_messages: u32,
    activity: &Activity,
) -> PumpEnd {
    loop {
        match classify(rx.next().await) {
            Event::Data(msg) => {
                *sent += 1;
                if *sent > max_messages {
                    return PumpEnd::SourceViolation(CloseCode::Policy, "too many messages");
                }
                activity.touch();
                if tx.send(Message::Binary(msg)).await.is_err() {
                    return PumpEnd::SinkFailed;
                }
                activity.touch();
            }
            Event::Skip => {}
            Event::Closed => return PumpEnd::SourceClosed,
            Event::Violation(code, reason) => return PumpEnd::SourceViolation(code, reason),
        }
    }
}

/// How a paired tunnel ended.
enum Outcome {
    Shutdown,
    Expired,
    Idle,
    Creator(PumpEnd),
    Joiner(PumpEnd),
}

type CloseWith = Option<(CloseCode, &'static str)>;

const PEER_CLOSED: CloseWith = Some((CloseCode::Normal, "peer closed"));

impl Outcome {
    /// Close frames for (creator, joiner); `None` = that side is already closed or broken.
    fn close_codes(&self) -> (CloseWith, CloseWith) {
        fn side(end: &PumpEnd) -> (CloseWith, CloseWith) {
            match end {
                PumpEnd::SourceClosed => (None, PEER_CLOSED),
                PumpEnd::SourceViolation(code, reason) => (Some((*code, *reason)), PEER_CLOSED),
                PumpEnd::SinkFailed => (PEER_CLOSED, None),
            }
        }
        match self {
            Outcome::Shutdown => (
                Some((CloseCode::Away, "server shutting down")),
                Some((CloseCode::Away, "server shutting down")),
            ),
            Outcome::Expired => (
                Some((CloseCode::Policy, "tunnel lifetime exceeded")),
                Some((CloseCode::Policy, "tunnel lifetime exceeded")),
            ),
            Outcome::Idle => (
                Some((CloseCode::Policy, "idle timeout")),
                Some((CloseCode::Policy, "idle timeout")),
            ),
            Outcome::Creator(end) => side(end),
            Outcome::Joiner(end) => {
                let (j, c) = side(end);
                (c, j)
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Outcome::Shutdown => "shutdown",
            Outcome::Expired => "lifetime exceeded",
            Outcome::Idle => "idle timeout",
            Outcome::Creator(PumpEnd::SourceClosed) => "creator closed",
            Outcome::Creator(PumpEnd::SourceViolation(..)) => "creator violated a limit",
            Outcome::Creator(PumpEnd::SinkFailed) | Outcome::Joiner(PumpEnd::SourceClosed) => "joiner closed",
            Outcome::Joiner(PumpEnd::SourceViolation(..)) => "joiner violated a limit",
            Outcome::Joiner(PumpEnd::SinkFailed) => "creator closed",
        }
    }
}

/// A tunnel from the creator's successful handshake to its end.
pub(crate) struct TunnelTask {
    pub handle: TunnelHandle,
    /// The side that created the tunnel: the phone (`/cable/new`) or the desktop (`/cable/contact`).
    pub creator: Ws,
    /// Send the creator the plaintext connect signal `00` when the joiner arrives.
    pub signal: bool,
    pub registry: Arc<Registry>,
    pub shutdown: watch::Receiver<bool>,
}

impl TunnelTask {
    pub(crate) async fn run(self) {
        let TunnelTask {
            handle,
            mut creator,
            signal,
            registry,
            mut shutdown,
        } = self;
        let TunnelHandle {
            guard, mut join_rx, ..
        } = handle;
        let limits = &registry.limits;
        let tunnel = guard.tunnel();
        let close_timeout = limits.close_timeout;
        let created = Instant::now();
        let lifetime_end = created + limits.tunnel_lifetime;
        let join_end = (created + limits.join_timeout).min(lifetime_end);
        let mut pending = Pending {
            messages: VecDeque::new(),
            bytes: 0,
            global: &registry.counters.buffered_bytes,
        };
        let mut creator_sent = 0u32;

        let joined = loop {
            let (code, reason) = tokio::select! {
                biased;
                _ = shutdown_signal(&mut shutdown) => (CloseCode::Away, "server shutting down"),
                _ = sleep_until(join_end) => (CloseCode::Policy, "peer did not join in time"),
                joiner = &mut join_rx => match joiner {
                    Ok(ws) => break ws,
                    Err(_) => (CloseCode::Error, "internal error"),
                },
                item = creator.next() => match classify(item) {
                    Event::Data(msg) => {
                        creator_sent += 1;
                        if creator_sent > limits.max_messages_per_direction {
                            (CloseCode::Policy, "too many messages")
                        } else {
                            match pending.push(msg, limits.max_buffered_bytes, limits.max_buffered_bytes_total) {
                                Ok(()) => continue,
                                Err(HoldError::Tunnel) => (CloseCode::Policy, "too much data before the peer joined"),
                                // The server as a whole holds too much for absent peers: try again later.
                                Err(HoldError::Server) => (CloseCode::Again, "server buffers full"),
                            }
                        }
                    }
                    Event::Skip => continue,
                    Event::Closed => {
                        tracing::debug!(%tunnel, "creator left before the peer joined");
                        drop(guard);
                        finish(creator, None, close_timeout).await;
                        return;
                    }
                    Event::Violation(code, reason) => (code, reason),
                },
            };
            tracing::debug!(%tunnel, reason, "tunnel closed before the peer joined");
            drop(guard);
            finish(creator, Some((code, reason)), close_timeout).await;
            return;
        };
        let mut joiner = joined;
        tracing::debug!(%tunnel, "peer joined");

        // Connect signal first, then whatever the creator sent while waiting; bounded by the idle timeout.
        let backlog = pending.take();
        let flushed = timeout(limits.idle_timeout, async {
            if signal {
                creator.send(Message::Binary(Bytes::from_static(&[0]))).await?;
            }
            for msg in backlog {
                joiner.feed(Message::Binary(msg)).await?;
            }
            joiner.flush().await
        })
        .await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::debug!(%tunnel, "could not deliver the backlog");
            drop(guard);
            tokio::join!(
                finish(creator, PEER_CLOSED, close_timeout),
                finish(joiner, PEER_CLOSED, close_timeout)
            );
            return;
        }

        let (mut c_tx, mut c_rx) = creator.split();
        let (mut j_tx, mut j_rx) = joiner.split();
        let activity = Activity::new();
        let mut joiner_sent = 0u32;
        let max = limits.max_messages_per_direction;
        let outcome = tokio::select! {
            biased;
            _ = shutdown_signal(&mut shutdown) => Outcome::Shutdown,
            _ = sleep_until(lifetime_end) => Outcome::Expired,
            _ = activity.idle(limits.idle_timeout) => Outcome::Idle,
            end = pump(&mut c_rx, &mut j_tx, &mut creator_sent, max, &activity) => Outcome::Creator(end),
            end = pump(&mut j_rx, &mut c_tx, &mut joiner_sent, max, &activity) => Outcome::Joiner(end),
        };
        tracing::debug!(%tunnel, outcome = outcome.describe(), creator_sent, joiner_sent, "tunnel ended");
        drop(guard);
        let (c_close, j_close) = outcome.close_codes();
        match (c_rx.reunite(c_tx), j_rx.reunite(j_tx)) {
            (Ok(creator), Ok(joiner)) => {
                tokio::join!(
                    finish(creator, c_close, close_timeout),
                    finish(joiner, j_close, close_timeout)
                );
            }
            // Unreachable (each pair comes from one split); dropping closes the TCP connections.
            _ => tracing::error!(%tunnel, "split halves did not reunite"),
        }
    }
}
