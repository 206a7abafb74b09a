//! The engine's environment: where its randomness and its time come from, injected at construction
//! (OpenSK-style) so that tests can run the engine deterministically.
//!
//! Production uses [`Env::system`] (the OS CSPRNG, the system clocks); tests may use [`Env::seeded`] (a
//! seeded generator and a [`ManualClock`]), under which the same requests produce byte-identical answers.
//! The other ports (store, user verifier, account chooser) are passed to
//! [`crate::Authenticator::new_with_env`] beside it.

use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::clock::{Clock, ManualClock, SystemClock};
use crate::status::EngineError;

/// A source of random bytes for keys, credential IDs, nonces and IVs.
pub trait RandomSource: Send + Sync {
    /// Fills `out` entirely, or fails.
    fn fill(&self, out: &mut [u8]) -> Result<(), EngineError>;
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), EngineError> {
        getrandom::fill(out).map_err(|_| EngineError::Internal("the OS random generator failed"))
    }
}

/// A deterministic generator for tests: block `i` of the stream is SHA-256(seed ‖ i). Predictable by
/// design, so never for production keys.
pub struct SeededRandom {
    seed: [u8; 32],
    /// The next block's index and the unread rest of the current block.
    state: Mutex<(u64, Vec<u8>)>,
}

impl SeededRandom {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        SeededRandom {
            seed,
            state: Mutex::new((0, Vec::new())),
        }
    }
}

impl std::fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeededRandom")
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), EngineError> {
        // A panic elsewhere cannot leave the state half-written (plain replacements only).
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (counter, buffer) = &mut *state;
        for byte in out.iter_mut() {
            if buffer.is_empty() {
                let block = Sha256::new()
                    .chain_update(self.seed)
                    .chain_update(counter.to_be_bytes())
                    .finalize();
                *counter += 1;
                buffer.extend(block.iter().rev());
            }
            *byte = buffer.pop().unwrap_or_default();
        }
        Ok(())
    }
}

/// Everything the engine reads from its surroundings besides its ports: randomness and time.
#[derive(Clone)]
pub struct Env {
    random: Arc<dyn RandomSource>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl Env {
    /// The production environment: the OS CSPRNG and the system clocks.
    pub fn system() -> Self {
        Env {
            random: Arc::new(OsRandom),
            clock: Arc::new(SystemClock),
        }
    }

    /// A deterministic environment for tests: randomness from `seed`, time from a fresh [`ManualClock`].
    pub fn seeded(seed: [u8; 32]) -> Self {
        Env {
            random: Arc::new(SeededRandom::new(seed)),
            clock: Arc::new(ManualClock::new()),
        }
    }

    /// The same environment reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same environment drawing randomness from `random`.
    pub fn with_random(mut self, random: Arc<dyn RandomSource>) -> Self {
        self.random = random;
        self
    }

    /// The randomness source.
    pub fn random(&self) -> &dyn RandomSource {
        self.random.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::system()
    }
}

/// `N` bytes from `random`, wiped on drop.
pub(crate) fn random_bytes<const N: usize>(
    random: &dyn RandomSource,
) -> Result<Zeroizing<[u8; N]>, EngineError> {
    let mut out = Zeroizing::new([0u8; N]);
    random.fill(out.as_mut())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_is_a_fixed_stream_whatever_the_chunking() {
        let mut whole = [0u8; 80];
        SeededRandom::new([7; 32]).fill(&mut whole).unwrap();
        let chunked = SeededRandom::new([7; 32]);
        let mut parts = [0u8; 80];
        for chunk in parts.chunks_mut(13) {
            chunked.fill(chunk).unwrap();
        }
        assert_eq!(whole, parts);
        let mut other = [0u8; 80];
        SeededRandom::new([8; 32]).fill(&mut other).unwrap();
        assert_ne!(whole, other);
    }
}
