//! Shared server state: tunnels waiting for or paired with their second party, and the wake-channel
//! contacts. Every entry is owned by an RAII guard held by the task serving it, so a task that ends for
//! any reason (including a panic or a failed handshake) removes its entry.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::config::Limits;
use crate::conn::Ws;
use crate::ids::{ContactId, RoutingId, TunnelId};
use crate::wake::PendingWake;

/// Wakes held for a phone that is not listening right now (it may reconnect within the join timeout).
const MAX_QUEUED_WAKES: usize = 4;
/// Capacity of a listener's wake queue; wakes beyond it are dropped (their tunnels time out).
const LISTENER_QUEUE: usize = 8;

/// A snapshot of the server's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Tunnels that exist (waiting or paired).
    pub tunnels: usize,
    /// Tunnels whose second party has not joined yet.
    pub waiting_tunnels: usize,
    /// Connections currently in TLS/WebSocket handshake.
    pub pending_handshakes: usize,
    /// Phones listening on a wake channel.
    pub wake_listeners: usize,
    /// Contact IDs remembered.
    pub known_contacts: usize,
    /// Bytes held for peers that have not joined yet, over all tunnels.
    pub buffered_bytes: usize,
    /// Bytes of wakes queued for phones that were not listening.
    pub queued_wake_bytes: usize,
    /// TCP connections accepted since start.
    pub connections_accepted: u64,
    /// TCP connections dropped at once: the client connected too fast or held its share of pending
    /// handshakes, or every pending slot was taken by clients holding no more than it.
    pub connections_refused: u64,
    /// Pending handshakes dropped to make room for a client holding fewer (the busiest client's newest).
    pub connections_evicted: u64,
    /// Upgrade requests answered with an HTTP error status.
    pub requests_rejected: u64,
    /// Tunnels created since start.
    pub tunnels_created: u64,
    /// Tunnels whose second party joined, since start.
    pub tunnels_paired: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub buffered_bytes: AtomicUsize,
    pub wake_listeners: AtomicUsize,
    pub connections_accepted: AtomicU64,
    pub connections_refused: AtomicU64,
    pub requests_rejected: AtomicU64,
    pub tunnels_created: AtomicU64,
    pub tunnels_paired: AtomicU64,
}

enum JoinState {
    /// Creator connected; the sender hands the joiner's socket to the tunnel task.
    Waiting(oneshot::Sender<Ws>),
    /// A joiner passed the path check and is finishing its handshake.
    Joining,
    /// Both parties are connected.
    Paired,
}

struct Slot {
    routing: RoutingId,
    state: JoinState,
    /// The contact whose queue holds a wake for this tunnel: the wake goes when the tunnel goes.
    queued_for: Option<ContactId>,
}

struct Listener {
    id: u64,
    tx: mpsc::Sender<PendingWake>,
}

struct ContactEntry {
    listener: Option<Listener>,
    last_seen: Instant,
    queued: VecDeque<PendingWake>,
}

#[derive(Default)]
struct Inner {
    tunnels: HashMap<TunnelId, Slot>,
    contacts: HashMap<ContactId, ContactEntry>,
    next_listener_id: u64,
    /// Bytes of every queued wake (see [`queued_size`]), bounded by `max_queued_wake_bytes`.
    queued_bytes: usize,
}

/// What a queued wake costs against `max_queued_wake_bytes`: its payload and IDs.
fn queued_size(wake: &PendingWake) -> usize {
    wake.client_payload.len() + 16 + 3
}

impl Inner {
    /// Forgets a contact and its queued wakes.
    fn remove_contact(&mut self, contact: &ContactId) {
        if let Some(entry) = self.contacts.remove(contact) {
            self.unqueue(entry.queued.iter());
        }
    }

    /// Accounts for wakes leaving a queue.
    fn unqueue<'a>(&mut self, wakes: impl Iterator<Item = &'a PendingWake>) {
        for wake in wakes {
            self.queued_bytes = self.queued_bytes.saturating_sub(queued_size(wake));
            if let Some(slot) = self.tunnels.get_mut(&wake.tunnel) {
                slot.queued_for = None;
            }
        }
    }
}

/// The state shared by the accept loop and every connection task.
pub(crate) struct Registry {
    pub instance_id: u8,
    pub limits: Limits,
    pub counters: Counters,
    inner: Mutex<Inner>,
}

/// Why a tunnel could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateError {
    /// The tunnel ID is in use (HTTP 409).
    Duplicate,
    /// `max_tunnels` reached (HTTP 503).
    Full,
    /// The system RNG failed (HTTP 500).
    Rng,
}

/// Why a tunnel could not be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimError {
    /// No such tunnel, or the routing ID does not match (HTTP 404).
    NotFound,
    /// The tunnel already has (or is getting) its second party (HTTP 409).
    Busy,
}

/// A freshly created tunnel, before its creator's handshake has completed.
pub(crate) struct TunnelHandle {
    pub guard: TunnelGuard,
    pub routing: RoutingId,
    pub join_rx: oneshot::Receiver<Ws>,
}

/// Removes its tunnel from the registry when dropped.
pub(crate) struct TunnelGuard {
    registry: Arc<Registry>,
    tunnel: TunnelId,
}

impl TunnelGuard {
    pub(crate) fn tunnel(&self) -> TunnelId {
        self.tunnel
    }
}

impl Drop for TunnelGuard {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        let inner = &mut *inner;
        // A wake queued for this tunnel could only send the phone to a tunnel that no longer exists.
        if let Some(contact) = inner.tunnels.remove(&self.tunnel).and_then(|s| s.queued_for)
            && let Some(entry) = inner.contacts.get_mut(&contact)
        {
            let tunnel = self.tunnel;
            let (gone, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut entry.queued)
                .into_iter()
                .partition(|w| w.tunnel == tunnel);
            entry.queued = kept;
            inner.unqueue(gone.iter());
        }
    }
}

/// The right to join a waiting tunnel. If dropped without [`JoinTicket::complete`] (the joiner's
/// handshake failed), the tunnel goes back to waiting.
pub(crate) struct JoinTicket {
    registry: Arc<Registry>,
    tunnel: TunnelId,
    sender: Option<oneshot::Sender<Ws>>,
}

impl JoinTicket {
    pub(crate) fn tunnel(&self) -> TunnelId {
        self.tunnel
    }

    /// Hands the joiner's socket to the tunnel task; gives it back if the tunnel is gone meanwhile.
    pub(crate) fn complete(mut self, ws: Ws) -> Result<(), Box<Ws>> {
        let Some(sender) = self.sender.take() else {
            return Err(Box::new(ws));
        };
        if let Some(slot) = self.registry.lock().tunnels.get_mut(&self.tunnel) {
            slot.state = JoinState::Paired;
        }
        self.registry
            .counters
            .tunnels_paired
            .fetch_add(1, Ordering::Relaxed);
        sender.send(ws).map_err(Box::new)
    }
}

impl Drop for JoinTicket {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            let mut inner = self.registry.lock();
            if let Some(slot) = inner.tunnels.get_mut(&self.tunnel)
                && matches!(slot.state, JoinState::Joining)
            {
                slot.state = JoinState::Waiting(sender);
            }
        }
    }
}

/// A reserved wake-listener place; released when dropped.
pub(crate) struct WakeReservation {
    registry: Arc<Registry>,
}

impl Drop for WakeReservation {
    fn drop(&mut self) {
        self.registry
            .counters
            .wake_listeners
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A registered wake listener: receives wakes; unregisters itself when dropped.
pub(crate) struct ListenerRegistration {
    registry: Arc<Registry>,
    contact: ContactId,
    id: u64,
    pub rx: mpsc::Receiver<PendingWake>,
    _reservation: WakeReservation,
}

impl Drop for ListenerRegistration {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        if let Some(entry) = inner.contacts.get_mut(&self.contact)
            && entry.listener.as_ref().is_some_and(|l| l.id == self.id)
        {
            entry.listener = None;
            entry.last_seen = Instant::now();
        }
    }
}

impl Registry {
    pub(crate) fn new(instance_id: u8, limits: Limits) -> Self {
        Self {
            instance_id,
            limits,
            counters: Counters::default(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent (each update is one step).
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn stats(&self) -> Stats {
        let inner = self.lock();
        let waiting = inner
            .tunnels
            .values()
            .filter(|s| !matches!(s.state, JoinState::Paired))
            .count();
        let c = &self.counters;
        Stats {
            tunnels: inner.tunnels.len(),
            waiting_tunnels: waiting,
            // Admission's figures: the server fills them in.
            pending_handshakes: 0,
            connections_evicted: 0,
            wake_listeners: c.wake_listeners.load(Ordering::Relaxed),
            known_contacts: inner.contacts.len(),
            buffered_bytes: c.buffered_bytes.load(Ordering::Relaxed),
            queued_wake_bytes: inner.queued_bytes,
            connections_accepted: c.connections_accepted.load(Ordering::Relaxed),
            connections_refused: c.connections_refused.load(Ordering::Relaxed),
            requests_rejected: c.requests_rejected.load(Ordering::Relaxed),
            tunnels_created: c.tunnels_created.load(Ordering::Relaxed),
            tunnels_paired: c.tunnels_paired.load(Ordering::Relaxed),
        }
    }

    /// Creates a waiting tunnel with the given ID.
    pub(crate) fn create_tunnel(self: &Arc<Self>, tunnel: TunnelId) -> Result<TunnelHandle, CreateError> {
        let routing = RoutingId::for_instance(self.instance_id).map_err(|_| CreateError::Rng)?;
        let (tx, rx) = oneshot::channel();
        let mut inner = self.lock();
        if inner.tunnels.contains_key(&tunnel) {
            return Err(CreateError::Duplicate);
        }
        if inner.tunnels.len() >= self.limits.max_tunnels {
            return Err(CreateError::Full);
        }
        inner.tunnels.insert(
            tunnel,
            Slot {
                routing,
                state: JoinState::Waiting(tx),
                queued_for: None,
            },
        );
        drop(inner);
        self.counters.tunnels_created.fetch_add(1, Ordering::Relaxed);
        Ok(TunnelHandle {
            guard: TunnelGuard {
                registry: Arc::clone(self),
                tunnel,
            },
            routing,
            join_rx: rx,
        })
    }

    /// Creates a waiting tunnel with a fresh random ID (state-assisted flow).
    pub(crate) fn create_random_tunnel(self: &Arc<Self>) -> Result<TunnelHandle, CreateError> {
        // A collision of 128-bit random IDs is practically impossible; retry a little anyway.
        for _ in 0..4 {
            let id = TunnelId::random().map_err(|_| CreateError::Rng)?;
            match self.create_tunnel(id) {
                Err(CreateError::Duplicate) => continue,
                other => return other,
            }
        }
        Err(CreateError::Rng)
    }

    /// Claims the right to join a waiting tunnel.
    pub(crate) fn claim(
        self: &Arc<Self>,
        routing: RoutingId,
        tunnel: TunnelId,
    ) -> Result<JoinTicket, ClaimError> {
        let mut inner = self.lock();
        let slot = inner.tunnels.get_mut(&tunnel).ok_or(ClaimError::NotFound)?;
        if slot.routing != routing {
            return Err(ClaimError::NotFound);
        }
        match std::mem::replace(&mut slot.state, JoinState::Joining) {
            JoinState::Waiting(sender) => Ok(JoinTicket {
                registry: Arc::clone(self),
                tunnel,
                sender: Some(sender),
            }),
            other => {
                slot.state = other;
                Err(ClaimError::Busy)
            }
        }
    }

    /// Whether a contact ID is known (a phone listens now, or listened within `contact_ttl`).
    pub(crate) fn contact_known(&self, contact: &ContactId) -> bool {
        let mut inner = self.lock();
        let ttl = self.limits.contact_ttl;
        match inner.contacts.get(contact) {
            None => false,
            Some(e) if e.listener.is_some() || e.last_seen.elapsed() < ttl => true,
            Some(_) => {
                inner.remove_contact(contact);
                false
            }
        }
    }

    /// Sends a wake to the contact's listener, or holds it until the phone listens again: at most
    /// `MAX_QUEUED_WAKES` per contact and `max_queued_wake_bytes` over all. A wake that does not fit is
    /// dropped; its tunnel then ends at its join timeout, as if the phone never came.
    pub(crate) fn deliver_wake(&self, contact: &ContactId, wake: PendingWake) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(entry) = inner.contacts.get_mut(contact) else {
            return;
        };
        if let Some(listener) = &entry.listener
            && listener.tx.try_send(wake.clone()).is_ok()
        {
            return;
        }
        let oldest = (entry.queued.len() >= MAX_QUEUED_WAKES)
            .then(|| entry.queued.pop_front())
            .flatten();
        if let Some(oldest) = oldest {
            inner.unqueue(std::iter::once(&oldest));
        }
        let size = queued_size(&wake);
        if inner.queued_bytes + size > self.limits.max_queued_wake_bytes {
            tracing::debug!(%contact, "wake queue full; wake dropped");
            return;
        }
        if let Some(slot) = inner.tunnels.get_mut(&wake.tunnel) {
            slot.queued_for = Some(contact.clone());
        }
        inner.queued_bytes += size;
        if let Some(entry) = inner.contacts.get_mut(contact) {
            entry.queued.push_back(wake);
        }
    }

    /// Reserves a wake-listener place (checked during the upgrade so excess phones get HTTP 503).
    pub(crate) fn reserve_wake_listener(self: &Arc<Self>) -> Option<WakeReservation> {
        let max = self.limits.max_wake_listeners;
        self.counters
            .wake_listeners
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| WakeReservation {
                registry: Arc::clone(self),
            })
    }

    /// Whether a new contact could be registered (known contacts are always accepted).
    pub(crate) fn contact_room(&self, contact: &ContactId) -> bool {
        let mut inner = self.lock();
        if inner.contacts.contains_key(contact) || inner.contacts.len() < self.limits.max_contacts {
            return true;
        }
        let ttl = self.limits.contact_ttl;
        let expired: Vec<ContactId> = inner
            .contacts
            .iter()
            .filter(|(_, e)| e.listener.is_none() && e.last_seen.elapsed() >= ttl)
            .map(|(c, _)| c.clone())
            .collect();
        for contact in &expired {
            inner.remove_contact(contact);
        }
        inner.contacts.len() < self.limits.max_contacts
    }

    /// Makes this connection the contact's wake listener (replacing an older one, whose queue closes),
    /// and hands it the wakes queued for tunnels still waiting.
    pub(crate) fn register_listener(
        self: &Arc<Self>,
        contact: ContactId,
        reservation: WakeReservation,
    ) -> ListenerRegistration {
        let (tx, rx) = mpsc::channel(LISTENER_QUEUE);
        let mut inner = self.lock();
        inner.next_listener_id += 1;
        let id = inner.next_listener_id;
        let entry = inner
            .contacts
            .entry(contact.clone())
            .or_insert_with(|| ContactEntry {
                listener: None,
                last_seen: Instant::now(),
                queued: VecDeque::new(),
            });
        let queued = std::mem::take(&mut entry.queued);
        entry.listener = Some(Listener { id, tx: tx.clone() });
        entry.last_seen = Instant::now();
        inner.unqueue(queued.iter());
        for wake in queued {
            let waiting = inner
                .tunnels
                .get(&wake.tunnel)
                .is_some_and(|s| s.routing == wake.routing && matches!(s.state, JoinState::Waiting(_)));
            if waiting {
                let _ = tx.try_send(wake);
            }
        }
        drop(inner);
        ListenerRegistration {
            registry: Arc::clone(self),
            contact,
            id,
            rx,
            _reservation: reservation,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn registry(limits: Limits) -> Arc<Registry> {
        Arc::new(Registry::new(9, limits))
    }

    #[test]
    fn create_rejects_duplicates_and_respects_the_cap() {
        let r = registry(Limits {
            max_tunnels: 2,
            ..Limits::default()
        });
        let a = r.create_tunnel(TunnelId([1; 16])).unwrap();
        assert_eq!(a.routing.instance_id(), 9);
        assert_eq!(
            r.create_tunnel(TunnelId([1; 16])).err(),
            Some(CreateError::Duplicate)
        );
        let _b = r.create_random_tunnel().unwrap();
        assert_eq!(r.create_tunnel(TunnelId([2; 16])).err(), Some(CreateError::Full));
        assert_eq!(r.stats().tunnels, 2);
        drop(a);
        assert_eq!(r.stats().tunnels, 1, "dropping the guard removes the tunnel");
        assert!(r.create_tunnel(TunnelId([1; 16])).is_ok());
        assert_eq!(r.stats().tunnels_created, 3);
    }

    #[test]
    fn claim_checks_routing_and_state_and_restores_on_drop() {
        let r = registry(Limits::default());
        let t = TunnelId([3; 16]);
        let h = r.create_tunnel(t).unwrap();
        let mut wrong = h.routing;
        wrong.0[2] ^= 1;
        assert_eq!(r.claim(wrong, t).err(), Some(ClaimError::NotFound));
        assert_eq!(
            r.claim(h.routing, TunnelId([4; 16])).err(),
            Some(ClaimError::NotFound)
        );
        let ticket = r.claim(h.routing, t).unwrap();
        assert_eq!(r.claim(h.routing, t).err(), Some(ClaimError::Busy), "joining");
        assert_eq!(r.stats().waiting_tunnels, 1, "joining still counts as waiting");
        // The joiner's handshake failed: the tunnel waits again and can be claimed again.
        drop(ticket);
        let again = r.claim(h.routing, t).unwrap();
        // The tunnel ends while a joiner is mid-handshake: the ticket's drop must not resurrect it.
        drop(h);
        drop(again);
        assert_eq!(r.stats().tunnels, 0);
    }

    #[test]
    fn contacts_queue_wakes_until_a_listener_registers() {
        let r = registry(Limits::default());
        let c = ContactId::from_bytes(vec![5; 8]).unwrap();
        assert!(!r.contact_known(&c));
        let res = r.reserve_wake_listener().unwrap();
        let listener = r.register_listener(c.clone(), res);
        assert!(r.contact_known(&c));
        assert_eq!(r.stats().wake_listeners, 1);
        drop(listener);
        assert_eq!(r.stats().wake_listeners, 0);
        assert!(r.contact_known(&c), "remembered within the TTL");

        // Two wakes while away: one for a live tunnel, one for a tunnel that ended meanwhile.
        let live = r.create_random_tunnel().unwrap();
        let dead = r.create_random_tunnel().unwrap();
        for h in [&live, &dead] {
            let wake = PendingWake {
                tunnel: h.guard.tunnel(),
                routing: h.routing,
                client_payload: vec![1],
            };
            r.deliver_wake(&c, wake);
        }
        drop(dead);
        let mut listener = r.register_listener(c.clone(), r.reserve_wake_listener().unwrap());
        let got = listener.rx.try_recv().unwrap();
        assert_eq!(got.tunnel, live.guard.tunnel());
        assert!(
            listener.rx.try_recv().is_err(),
            "the wake for the ended tunnel is dropped"
        );
    }

    fn wake_for(h: &TunnelHandle, payload_len: usize) -> PendingWake {
        PendingWake {
            tunnel: h.guard.tunnel(),
            routing: h.routing,
            client_payload: vec![1; payload_len],
        }
    }

    /// A remembered contact with no listener.
    fn absent_contact(r: &Arc<Registry>, byte: u8) -> ContactId {
        let c = ContactId::from_bytes(vec![byte; 16]).unwrap();
        drop(r.register_listener(c.clone(), r.reserve_wake_listener().unwrap()));
        c
    }

    #[test]
    fn queued_wakes_die_with_their_tunnels() {
        let r = registry(Limits::default());
        let c = absent_contact(&r, 5);
        let live = r.create_random_tunnel().unwrap();
        let dead = r.create_random_tunnel().unwrap();
        r.deliver_wake(&c, wake_for(&live, 100));
        r.deliver_wake(&c, wake_for(&dead, 100));
        assert_eq!(r.stats().queued_wake_bytes, 2 * 119);
        drop(dead);
        assert_eq!(r.stats().queued_wake_bytes, 119, "freed when its tunnel ended");
        let mut listener = r.register_listener(c.clone(), r.reserve_wake_listener().unwrap());
        assert_eq!(r.stats().queued_wake_bytes, 0, "handed over");
        assert_eq!(listener.rx.try_recv().unwrap().tunnel, live.guard.tunnel());
        assert!(listener.rx.try_recv().is_err());
    }

    #[test]
    fn queued_wakes_have_a_global_byte_cap() {
        let r = registry(Limits {
            max_queued_wake_bytes: 300,
            ..Limits::default()
        });
        let (a, b) = (absent_contact(&r, 1), absent_contact(&r, 2));
        let tunnels: Vec<_> = (0..3).map(|_| r.create_random_tunnel().unwrap()).collect();
        r.deliver_wake(&a, wake_for(&tunnels[0], 100));
        r.deliver_wake(&b, wake_for(&tunnels[1], 100));
        // A third would pass 300 bytes: dropped.
        r.deliver_wake(&b, wake_for(&tunnels[2], 100));
        assert_eq!(r.stats().queued_wake_bytes, 238);
        let mut listener = r.register_listener(b.clone(), r.reserve_wake_listener().unwrap());
        assert_eq!(listener.rx.try_recv().unwrap().tunnel, tunnels[1].guard.tunnel());
        assert!(listener.rx.try_recv().is_err());
        // Forgetting a contact frees its queue too.
        let mut inner = r.lock();
        inner.remove_contact(&a);
        assert_eq!(inner.queued_bytes, 0);
    }

    #[test]
    fn wake_listener_reservations_are_capped() {
        let r = registry(Limits {
            max_wake_listeners: 1,
            ..Limits::default()
        });
        let a = r.reserve_wake_listener().unwrap();
        assert!(r.reserve_wake_listener().is_none());
        drop(a);
        assert!(r.reserve_wake_listener().is_some());
    }

    #[test]
    fn contact_ttl_expires_and_frees_room() {
        let r = registry(Limits {
            contact_ttl: Duration::ZERO,
            max_contacts: 1,
            ..Limits::default()
        });
        let c = ContactId::from_bytes(vec![1]).unwrap();
        let d = ContactId::from_bytes(vec![2]).unwrap();
        drop(r.register_listener(c.clone(), r.reserve_wake_listener().unwrap()));
        // Full, but the only entry has expired: room is made by purging it.
        assert!(r.contact_room(&d));
        assert!(!r.contact_known(&c));
    }
}
