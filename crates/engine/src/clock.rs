//! Monotonic time for the engine, injectable so tests move time instead of sleeping.
//!
//! The pinUvAuthToken lifetime ([`crate::token`]), approvals' deadlines, the getNextAssertion window and
//! credentials' creation times read time only through [`Clock`] (part of the engine's [`crate::env::Env`]);
//! production uses [`SystemClock`], tests a [`ManualClock`] they advance by hand.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of monotonic instants, and of wall-clock time for records.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;

    /// Seconds since the Unix epoch (0 if the system clock is before it), as stored credentials record it.
    fn unix_time(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// The operating system's monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The Unix time a [`ManualClock`] starts at (2023-11-14), fixed so records made under it are reproducible.
pub const MANUAL_CLOCK_UNIX_START: u64 = 1_700_000_000;

/// A clock that stands still until [`ManualClock::advance`] moves it (for tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<(Instant, Duration)>);

impl ManualClock {
    /// A clock starting at the real current instant, and at [`MANUAL_CLOCK_UNIX_START`] on the wall clock.
    pub fn new() -> Self {
        ManualClock(Mutex::new((Instant::now(), Duration::ZERO)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (now, elapsed) = &mut *state;
        if let Some(later) = now.checked_add(by) {
            *now = later;
            *elapsed = elapsed.saturating_add(by);
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    fn unix_time(&self) -> u64 {
        let elapsed = self.0.lock().unwrap_or_else(|p| p.into_inner()).1;
        MANUAL_CLOCK_UNIX_START.saturating_add(elapsed.as_secs())
    }
}
