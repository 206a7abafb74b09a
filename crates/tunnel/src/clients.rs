//! Fair admission: what each client may hold at once, so that one host cannot lock everyone else out.
//!
//! A client is an IPv4 address or an IPv6 /64 (one subscriber's prefix: a host can pick any address inside
//! it). Each client has its own caps on connections still in handshake, on tunnel sockets and on wake
//! listeners, and a token bucket on new connections. The global cap on pending handshakes is shared: when it
//! is full, the newest pending handshake of the busiest client gives way to a client holding fewer, so a
//! flood from one address delays only that address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

/// Admissions between two sweeps of idle clients from the table.
const SWEEP_EVERY: u64 = 1024;

/// A client as admission counts it: an IPv4 address, or the /64 prefix of an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The client `ip` belongs to. IPv4-mapped IPv6 addresses count as their IPv4 address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientKey(IpAddr::V6(prefix.into()))
                }
            },
        }
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// Per-client limits (part of [`crate::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// Most connections one client may have in TLS/WebSocket handshake at once.
    pub max_pending_handshakes: usize,
    /// Most tunnels (waiting or paired) one client may have created and still hold. More ⇒ HTTP 503.
    /// Joiners need no cap of their own: each tunnel takes one.
    pub max_tunnels: usize,
    /// Most wake listeners one client may hold at once. More ⇒ HTTP 503.
    pub max_wake_listeners: usize,
    /// New connections one client may open per second, on average.
    pub accept_rate: u32,
    /// New connections one client may open in a burst above `accept_rate`.
    pub accept_burst: u32,
}

impl Default for ClientLimits {
    /// Sized for carrier-grade NAT, where many honest phones share one IPv4 address.
    fn default() -> Self {
        ClientLimits {
            max_pending_handshakes: 32,
            max_tunnels: 256,
            max_wake_listeners: 1024,
            accept_rate: 20,
            accept_burst: 60,
        }
    }
}

/// Why a connection or request was refused at admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client opened connections faster than its accept rate.
    Rate,
    /// The client already has its share of pending handshakes.
    ClientPending,
    /// Every pending-handshake slot is taken by clients holding no more than this one.
    GlobalPending,
    /// The client holds its share of tunnels.
    Tunnels,
    /// The client holds its share of wake listeners.
    Listeners,
}

/// What a client holds once admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// A tunnel the client created.
    Tunnel,
    /// A wake listener.
    WakeListener,
}

/// One client's usage.
struct Usage {
    /// Its pending handshakes, oldest first: ticket number and the sender that tells the connection task
    /// it was evicted.
    pending: Vec<(u64, watch::Sender<bool>)>,
    tunnels: usize,
    listeners: usize,
    /// Token bucket for new connections.
    tokens: f64,
    refilled: Instant,
    /// A trusted proxy: its handshakes speak for many clients and are never evicted.
    proxy: bool,
}

impl Usage {
    fn new(limits: &ClientLimits, now: Instant) -> Self {
        Usage {
            pending: Vec::new(),
            tunnels: 0,
            listeners: 0,
            tokens: f64::from(limits.accept_burst),
            refilled: now,
            proxy: false,
        }
    }

    fn idle(&self, limits: &ClientLimits, now: Instant) -> bool {
        self.pending.is_empty()
            && self.tunnels == 0
            && self.listeners == 0
            && self.refill(limits, now) >= f64::from(limits.accept_burst)
    }

    /// Takes one token for a new connection, if there is one.
    fn take_token(&mut self, limits: &ClientLimits, now: Instant) -> bool {
        let tokens = self.refill(limits, now);
        self.refilled = now;
        self.tokens = if tokens >= 1.0 { tokens - 1.0 } else { tokens };
        tokens >= 1.0
    }

    fn refill(&self, limits: &ClientLimits, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        (self.tokens + elapsed * f64::from(limits.accept_rate)).min(f64::from(limits.accept_burst))
    }
}

struct Inner {
    clients: HashMap<ClientKey, Usage>,
    pending_total: usize,
    next_ticket: u64,
    evicted: u64,
}

/// The admission table, shared by every connection task.
pub(crate) struct Clients {
    limits: ClientLimits,
    max_pending_total: usize,
    inner: Mutex<Inner>,
}

/// A connection's place among the pending handshakes; released on drop. `evicted` turns true when a client
/// holding fewer pending handshakes took the place: the connection must then be dropped.
pub(crate) struct PendingSlot {
    clients: Arc<Clients>,
    key: ClientKey,
    ticket: u64,
    /// Becomes `true` if this handshake was evicted.
    pub(crate) evicted: watch::Receiver<bool>,
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut inner = self.clients.lock();
        let inner = &mut *inner;
        if let Some(usage) = inner.clients.get_mut(&self.key) {
            let before = usage.pending.len();
            usage.pending.retain(|(t, _)| *t != self.ticket);
            if usage.pending.len() < before {
                inner.pending_total -= 1;
            }
        }
        self.clients.forget_if_idle(inner, self.key);
    }
}

/// A tunnel or wake listener a client holds; released on drop.
pub(crate) struct ClientHold {
    clients: Arc<Clients>,
    key: ClientKey,
    kind: Hold,
}

impl Drop for ClientHold {
    fn drop(&mut self) {
        let mut inner = self.clients.lock();
        let inner = &mut *inner;
        if let Some(usage) = inner.clients.get_mut(&self.key) {
            match self.kind {
                Hold::Tunnel => usage.tunnels = usage.tunnels.saturating_sub(1),
                Hold::WakeListener => usage.listeners = usage.listeners.saturating_sub(1),
            }
        }
        self.clients.forget_if_idle(inner, self.key);
    }
}

impl Clients {
    /// An empty table: `limits` per client, at most `max_pending_total` handshakes over all clients.
    pub(crate) fn new(limits: ClientLimits, max_pending_total: usize) -> Self {
        Clients {
            limits,
            max_pending_total,
            inner: Mutex::new(Inner {
                clients: HashMap::new(),
                pending_total: 0,
                next_ticket: 0,
                evicted: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Poisoning only means another task panicked mid-update of plain counters; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn forget_if_idle(&self, inner: &mut Inner, key: ClientKey) {
        let now = Instant::now();
        if inner.clients.get(&key).is_some_and(|u| u.idle(&self.limits, now)) {
            inner.clients.remove(&key);
        }
    }

    /// Connections currently in handshake, over all clients.
    pub(crate) fn pending(&self) -> usize {
        self.lock().pending_total
    }

    /// Pending handshakes evicted for a less busy client, since start.
    pub(crate) fn evicted(&self) -> u64 {
        self.lock().evicted
    }

    /// Admits a new connection from `key` into the handshake phase, or says why not. When every global
    /// slot is taken, the newest pending handshake of the busiest client is evicted for it, provided that
    /// client holds more pending handshakes than `key` will.
    /// A trusted proxy (`proxy`) is exempt from the per-client rate and pending caps: it speaks for many
    /// clients, each charged when its request head names it ([`Clients::charge`]).
    pub(crate) fn admit_connection(
        self: &Arc<Self>,
        key: ClientKey,
        proxy: bool,
    ) -> Result<PendingSlot, Refusal> {
        self.admit_connection_at(key, proxy, Instant::now())
    }

    fn admit_connection_at(
        self: &Arc<Self>,
        key: ClientKey,
        proxy: bool,
        now: Instant,
    ) -> Result<PendingSlot, Refusal> {
        let limits = self.limits;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let usage = inner
            .clients
            .entry(key)
            .or_insert_with(|| Usage::new(&limits, now));
        usage.proxy = proxy;
        if !proxy {
            if !usage.take_token(&limits, now) {
                return Err(Refusal::Rate);
            }
            if usage.pending.len() >= limits.max_pending_handshakes {
                return Err(Refusal::ClientPending);
            }
        }
        let mine = usage.pending.len();
        if inner.pending_total >= self.max_pending_total {
            let busiest = inner
                .clients
                .iter()
                .filter(|(k, u)| **k != key && !u.proxy && !u.pending.is_empty())
                .max_by_key(|(_, u)| u.pending.len())
                .map(|(k, u)| (*k, u.pending.len()));
            match busiest {
                Some((victim, held)) if held > mine + 1 => {
                    if let Some((_, evict)) = inner.clients.get_mut(&victim).and_then(|u| u.pending.pop()) {
                        let _ = evict.send(true);
                        inner.pending_total -= 1;
                        inner.evicted += 1;
                    }
                }
                _ => return Err(Refusal::GlobalPending),
            }
        }
        let ticket = inner.next_ticket;
        inner.next_ticket += 1;
        if ticket.is_multiple_of(SWEEP_EVERY) {
            // Clients whose bucket was not yet full when they left are still tracked: forget them now.
            inner.clients.retain(|k, u| *k == key || !u.idle(&limits, now));
        }
        let (tx, rx) = watch::channel(false);
        if let Some(usage) = inner.clients.get_mut(&key) {
            usage.pending.push((ticket, tx));
        }
        inner.pending_total += 1;
        Ok(PendingSlot {
            clients: Arc::clone(self),
            key,
            ticket,
            evicted: rx,
        })
    }

    /// Charges `key` one connection of its accept rate: for a client a trusted proxy forwarded, known only
    /// once its request head arrived.
    pub(crate) fn charge(&self, key: ClientKey) -> Result<(), Refusal> {
        let limits = self.limits;
        let now = Instant::now();
        let mut inner = self.lock();
        let inner = &mut *inner;
        let usage = inner
            .clients
            .entry(key)
            .or_insert_with(|| Usage::new(&limits, now));
        let ok = usage.take_token(&limits, now);
        self.forget_if_idle(inner, key);
        if ok { Ok(()) } else { Err(Refusal::Rate) }
    }

    /// Lets `key` hold one more tunnel or wake listener, within its share.
    pub(crate) fn hold(self: &Arc<Self>, key: ClientKey, kind: Hold) -> Result<ClientHold, Refusal> {
        let limits = self.limits;
        let now = Instant::now();
        let mut inner = self.lock();
        let usage = inner
            .clients
            .entry(key)
            .or_insert_with(|| Usage::new(&limits, now));
        match kind {
            Hold::Tunnel if usage.tunnels >= limits.max_tunnels => return Err(Refusal::Tunnels),
            Hold::WakeListener if usage.listeners >= limits.max_wake_listeners => {
                return Err(Refusal::Listeners);
            }
            Hold::Tunnel => usage.tunnels += 1,
            Hold::WakeListener => usage.listeners += 1,
        }
        Ok(ClientHold {
            clients: Arc::clone(self),
            key,
            kind,
        })
    }

    /// [`Clients::admit_connection`] for a direct (not proxied) client.
    #[cfg(test)]
    fn admit_connection_test(self: &Arc<Self>, key: ClientKey) -> Result<PendingSlot, Refusal> {
        self.admit_connection(key, false)
    }

    /// Clients the table currently tracks (for tests: idle clients are forgotten).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// How long the refill of one token takes at `rate` per second.
    fn token_period(rate: u32) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(rate.max(1)))
    }

    fn key(s: &str) -> ClientKey {
        ClientKey::of(s.parse().unwrap())
    }

    fn limits(pending: usize) -> ClientLimits {
        ClientLimits {
            max_pending_handshakes: pending,
            max_tunnels: 2,
            max_wake_listeners: 1,
            accept_rate: 10,
            accept_burst: 100,
        }
    }

    #[test]
    fn ipv6_clients_are_their_64_prefix() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        assert_eq!(key("2001:db8:1:2:aaaa::1").to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn a_client_gets_its_share_of_pending_handshakes() {
        let clients = Arc::new(Clients::new(limits(2), 100));
        let a = key("192.0.2.1");
        let first = clients.admit_connection_test(a).unwrap();
        let _second = clients.admit_connection_test(a).unwrap();
        assert_eq!(
            clients.admit_connection_test(a).err(),
            Some(Refusal::ClientPending)
        );
        // Another client is unaffected.
        assert!(clients.admit_connection_test(key("192.0.2.2")).is_ok());
        drop(first);
        assert!(clients.admit_connection_test(a).is_ok());
    }

    #[test]
    fn when_full_the_busiest_clients_newest_handshake_gives_way() {
        let clients = Arc::new(Clients::new(limits(10), 4));
        let flood = key("192.0.2.1");
        let slots: Vec<_> = (0..4)
            .map(|_| clients.admit_connection_test(flood).unwrap())
            .collect();
        assert_eq!(clients.pending(), 4);
        let honest = clients.admit_connection_test(key("192.0.2.2")).unwrap();
        assert!(!*honest.evicted.borrow());
        // The flood's newest was evicted, its older ones were not.
        assert!(*slots[3].evicted.borrow());
        assert!(slots[..3].iter().all(|s| !*s.evicted.borrow()));
        assert_eq!(clients.pending(), 4);
        assert_eq!(clients.evicted(), 1);
        // The flood itself cannot evict anyone: it is the busiest.
        assert_eq!(
            clients.admit_connection_test(flood).err(),
            Some(Refusal::GlobalPending)
        );
        // Dropping the evicted slot does not free a second place.
        drop(slots);
        assert_eq!(clients.pending(), 1);
    }

    #[test]
    fn equal_clients_do_not_evict_each_other() {
        let clients = Arc::new(Clients::new(limits(10), 2));
        let _a = clients.admit_connection_test(key("192.0.2.1")).unwrap();
        let _b = clients.admit_connection_test(key("192.0.2.2")).unwrap();
        assert_eq!(
            clients.admit_connection_test(key("192.0.2.3")).err(),
            Some(Refusal::GlobalPending)
        );
    }

    #[test]
    fn the_accept_rate_is_a_token_bucket() {
        let clients = Arc::new(Clients::new(
            ClientLimits {
                accept_burst: 3,
                ..limits(100)
            },
            100,
        ));
        let a = key("192.0.2.1");
        let start = Instant::now();
        let held: Vec<_> = (0..3)
            .map(|_| clients.admit_connection_at(a, false, start).unwrap())
            .collect();
        assert_eq!(
            clients.admit_connection_at(a, false, start).err(),
            Some(Refusal::Rate)
        );
        let later = start + token_period(10);
        assert!(clients.admit_connection_at(a, false, later).is_ok());
        drop(held);
    }

    #[test]
    fn holds_are_capped_per_client_and_released_on_drop() {
        let clients = Arc::new(Clients::new(limits(10), 10));
        let a = key("192.0.2.1");
        let t1 = clients.hold(a, Hold::Tunnel).unwrap();
        let _t2 = clients.hold(a, Hold::Tunnel).unwrap();
        assert_eq!(clients.hold(a, Hold::Tunnel).err(), Some(Refusal::Tunnels));
        let _l = clients.hold(a, Hold::WakeListener).unwrap();
        assert_eq!(
            clients.hold(a, Hold::WakeListener).err(),
            Some(Refusal::Listeners)
        );
        assert!(clients.hold(key("192.0.2.2"), Hold::Tunnel).is_ok());
        drop(t1);
        assert!(clients.hold(a, Hold::Tunnel).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let clients = Arc::new(Clients::new(limits(10), 10));
        {
            let _h = clients.hold(key("192.0.2.1"), Hold::Tunnel).unwrap();
            assert_eq!(clients.tracked(), 1);
        }
        assert_eq!(clients.tracked(), 0);
    }
}
