//! The user-verification gate: the only road to a signature with UP and UV set.
//!
//! * [`Approval`] can only be made by [`UvGate::verify`], i.e. by a successful [`UserVerifier::verify`]
//!   call whose [`UvKey`] passes the store's check ([`crate::uvkey`]). It carries that key, has no public
//!   constructor, is not `Clone`, and is consumed by value.
//! * An approval is bound to one operation ([`OperationBinding`]: a hash of the operation kind, rpIdHash and
//!   clientDataHash) and expires at a monotonic deadline.
//! * [`Approval::redeem`] checks both and yields [`Presence::Verified`], the only value whose flags carry
//!   UP|UV. The silent `up=false` pre-flight uses [`Presence::Silent`], which can only produce UP=0, UV=0.
//! * A pinUvAuthToken is issued only through [`UvGate::grant_token`] (a successful verification), which
//!   yields a [`TokenGrant`] kept with the token. A request carrying a valid pinUvAuthParam for that token
//!   gets a [`TokenVerified`] from it; a silent pre-flight authorised that way is [`Presence::TokenVerified`]:
//!   UV=1 (the user was verified when the token was issued, CTAP 2.2 §6.2.2 "uv bit"), UP=0 (nobody was
//!   asked now).
//!
//! The authenticator-data builder ([`crate::authdata`]) takes a [`Presence`], so no code path can set UP
//! without a redeemed approval, nor UV without one or a token granted after verification. The verified
//! presences carry the [`UvKey`] ([`Presence::uv_key`]): the only way to open a credential secret sealed
//! under it.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::cancel::Cancellation;
use crate::clock::{Clock, SystemClock};
use crate::env::{Env, OsRandom, RandomSource};
use crate::platform::{Operation, UserVerifier, UvKey, VerificationPrompt};
use crate::status::EngineError;
use crate::store::UvKeyCheckStore;

/// Default lifetime of an approval.
pub(crate) const DEFAULT_APPROVAL_TTL: Duration = Duration::from_secs(60);

/// Binds an approval to one operation: SHA-256("tandem-uv-binding-v1" ‖ kind ‖ rpIdHash ‖ clientDataHash).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OperationBinding([u8; 32]);

impl std::fmt::Debug for OperationBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OperationBinding({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

impl OperationBinding {
    /// Computes the binding of an operation.
    pub(crate) fn new(operation: Operation, rp_id_hash: &[u8; 32], client_data_hash: &[u8]) -> Self {
        let kind: u8 = match operation {
            Operation::Register => 1,
            Operation::SignIn => 2,
        };
        let mut h = Sha256::new();
        h.update(b"tandem-uv-binding-v1");
        h.update([kind]);
        h.update(rp_id_hash);
        h.update(client_data_hash);
        OperationBinding(h.finalize().into())
    }
}

/// Proof that the user passed verification for one operation, valid until a deadline. Single use.
#[derive(Debug)]
pub(crate) struct Approval {
    binding: OperationBinding,
    deadline: Instant,
    key: UvKey,
}

impl Approval {
    /// Consumes the approval for `binding` at time `now`. Fails if it was issued for another operation or has
    /// expired; the approval is gone either way.
    pub(crate) fn redeem(self, binding: &OperationBinding, now: Instant) -> Result<Presence, EngineError> {
        if self.binding != *binding {
            return Err(EngineError::ApprovalRejected(
                "approval is bound to another operation",
            ));
        }
        if now >= self.deadline {
            return Err(EngineError::ApprovalRejected("approval has expired"));
        }
        Ok(Presence::Verified(Verified { key: self.key }))
    }
}

/// Asks the platform's [`UserVerifier`], checks the key it unlocked, and mints approvals.
pub(crate) struct UvGate<'a> {
    verifier: &'a dyn UserVerifier,
    checks: &'a dyn UvKeyCheckStore,
    ttl: Duration,
    /// Raised when the request's caller went away: the verifier may then dismiss its prompt.
    cancel: &'a Cancellation,
    /// Starts approvals' lifetimes: the engine's clock, so a test clock governs them too.
    clock: &'a dyn Clock,
    /// Draws the nonce of the UV key's check value ([`crate::uvkey`]).
    random: &'a dyn RandomSource,
}

impl<'a> UvGate<'a> {
    /// A gate issuing approvals that live for `ttl`, accepting only the UV key enrolled in `checks`, for a
    /// request abandoned once `cancel` is raised.
    pub(crate) fn new(
        verifier: &'a dyn UserVerifier,
        checks: &'a dyn UvKeyCheckStore,
        ttl: Duration,
        cancel: &'a Cancellation,
    ) -> Self {
        UvGate {
            verifier,
            checks,
            ttl,
            cancel,
            clock: &SystemClock,
            random: &OsRandom,
        }
    }

    /// The same gate reading time and randomness from `env` (the engine's).
    pub(crate) fn with_env(mut self, env: &'a Env) -> Self {
        self.clock = env.clock();
        self.random = env.random();
        self
    }

    /// Asks the verifier and accepts its key only if it is the enrolled one (enrolling the first).
    fn unlock(&self, prompt: &VerificationPrompt) -> Result<UvKey, EngineError> {
        let key = self.verifier.verify_cancellable(prompt, self.cancel)?;
        crate::uvkey::check(&key, self.checks, self.random)?;
        Ok(key)
    }

    /// Shows `prompt`; on success returns an approval for `binding`.
    pub(crate) fn verify(
        &self,
        prompt: &VerificationPrompt,
        binding: OperationBinding,
    ) -> Result<Approval, EngineError> {
        let key = self.unlock(prompt)?;
        // The clock starts after the user answered: the TTL bounds the time between approval and signature.
        let now = self.clock.now();
        Ok(Approval {
            binding,
            deadline: now.checked_add(self.ttl).unwrap_or(now),
            key,
        })
    }

    /// Shows `prompt` before a pinUvAuthToken is issued (getPinUvAuthTokenUsingUvWithPermissions); on success
    /// returns the grant the token is kept with.
    pub(crate) fn grant_token(&self, prompt: &VerificationPrompt) -> Result<TokenGrant, EngineError> {
        Ok(TokenGrant {
            key: self.unlock(prompt)?,
        })
    }
}

/// Proof that a pinUvAuthToken was issued after the user passed verification. Only
/// [`UvGate::grant_token`] makes one; the engine keeps it beside the token it issued. It holds the UV key
/// for as long as the token lives, so requests authorised by the token can open sealed secrets.
#[derive(Debug)]
pub(crate) struct TokenGrant {
    key: UvKey,
}

impl TokenGrant {
    /// The witness for one request whose pinUvAuthParam verified under this grant's token.
    pub(crate) fn authorise(&self) -> TokenVerified {
        TokenVerified {
            key: self.key.clone(),
        }
    }
}

/// Witness that a request carried a valid pinUvAuthParam for a token issued after user verification. Only
/// [`TokenGrant::authorise`] makes one. Cloneable so a getNextAssertion sequence keeps the UV of the
/// request that started it.
#[derive(Debug, Clone)]
pub(crate) struct TokenVerified {
    key: UvKey,
}

/// Witness of a redeemed approval. Only [`Approval::redeem`] makes one.
#[derive(Debug)]
pub(crate) struct Verified {
    key: UvKey,
}

/// Witness of the silent `up=false` pre-flight: anyone may make one, it only ever yields UP=0, UV=0.
#[derive(Debug, Default)]
pub(crate) struct Silent;

/// How the user took part in an operation; decides the UP and UV flags.
#[derive(Debug)]
pub(crate) enum Presence {
    /// The user was verified through the gate: UP=1, UV=1.
    Verified(Verified),
    /// No user interaction now, but the request carried a valid pinUvAuthToken, issued after the user was
    /// verified: UP=0, UV=1.
    TokenVerified(TokenVerified),
    /// No user interaction: UP=0, UV=0.
    Silent(Silent),
}

impl Presence {
    /// Whether user verification happened.
    pub(crate) fn user_verified(&self) -> bool {
        matches!(self, Presence::Verified(_) | Presence::TokenVerified(_))
    }

    /// The key the verification unlocked (none for a silent request).
    pub(crate) fn uv_key(&self) -> Option<&UvKey> {
        match self {
            Presence::Verified(v) => Some(&v.key),
            Presence::TokenVerified(t) => Some(&t.key),
            Presence::Silent(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::VerificationError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize, Result<UvKey, VerificationError>);
    impl UserVerifier for Counting {
        fn verify(&self, _: &VerificationPrompt) -> Result<UvKey, VerificationError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.clone()
        }
    }

    /// Enrols the first check value it is offered (what the SQLite store does, in memory).
    #[derive(Default)]
    struct Checks(std::sync::Mutex<Option<Vec<u8>>>);
    impl UvKeyCheckStore for Checks {
        fn uv_key_check(&self, candidate: &[u8]) -> Result<Vec<u8>, crate::store::StoreError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get_or_insert_with(|| candidate.to_vec())
                .clone())
        }
    }

    fn key() -> UvKey {
        UvKey::from_array([0x55; 32])
    }

    fn prompt() -> VerificationPrompt {
        VerificationPrompt {
            operation: Operation::SignIn,
            rp_id: "example.com".into(),
            rp_name: None,
            account: None,
        }
    }

    #[test]
    fn approval_redeems_once_for_its_own_operation() {
        let v = Counting(AtomicUsize::new(0), Ok(key()));
        let checks = Checks::default();
        let cancel = Cancellation::new();
        let gate = UvGate::new(&v, &checks, DEFAULT_APPROVAL_TTL, &cancel);
        let b = OperationBinding::new(Operation::SignIn, &[1; 32], &[2; 32]);
        let approval = gate.verify(&prompt(), b.clone()).unwrap();
        assert_eq!(v.0.load(Ordering::SeqCst), 1);
        let p = approval.redeem(&b, Instant::now()).unwrap();
        assert!(matches!(p, Presence::Verified(_)));
    }

    #[test]
    fn approval_for_another_operation_is_rejected() {
        let v = Counting(AtomicUsize::new(0), Ok(key()));
        let checks = Checks::default();
        let cancel = Cancellation::new();
        let gate = UvGate::new(&v, &checks, DEFAULT_APPROVAL_TTL, &cancel);
        let b = OperationBinding::new(Operation::SignIn, &[1; 32], &[2; 32]);
        for other in [
            OperationBinding::new(Operation::Register, &[1; 32], &[2; 32]),
            OperationBinding::new(Operation::SignIn, &[9; 32], &[2; 32]),
            OperationBinding::new(Operation::SignIn, &[1; 32], &[3; 32]),
        ] {
            let approval = gate.verify(&prompt(), b.clone()).unwrap();
            assert!(matches!(
                approval.redeem(&other, Instant::now()),
                Err(EngineError::ApprovalRejected(_))
            ));
        }
    }

    #[test]
    fn expired_approval_is_rejected() {
        let v = Counting(AtomicUsize::new(0), Ok(key()));
        let b = OperationBinding::new(Operation::SignIn, &[1; 32], &[2; 32]);
        // Zero lifetime: already expired when issued.
        let approval = UvGate::new(&v, &Checks::default(), Duration::ZERO, &Cancellation::new())
            .verify(&prompt(), b.clone())
            .unwrap();
        assert!(matches!(
            approval.redeem(&b, Instant::now()),
            Err(EngineError::ApprovalRejected(_))
        ));
        // A redeem time past the deadline fails even with a normal lifetime.
        let approval = UvGate::new(
            &v,
            &Checks::default(),
            Duration::from_secs(60),
            &Cancellation::new(),
        )
        .verify(&prompt(), b.clone())
        .unwrap();
        let later = Instant::now() + Duration::from_secs(61);
        assert!(matches!(
            approval.redeem(&b, later),
            Err(EngineError::ApprovalRejected(_))
        ));
    }

    #[test]
    fn failed_verification_maps_to_ctap_errors() {
        use crate::status::CtapStatus;
        let b = OperationBinding::new(Operation::SignIn, &[1; 32], &[2; 32]);
        for (err, status) in [
            (VerificationError::Denied, CtapStatus::OperationDenied),
            (VerificationError::Cancelled, CtapStatus::OperationDenied),
            (VerificationError::TimedOut, CtapStatus::UserActionTimeout),
            (
                VerificationError::Unavailable("none enrolled".into()),
                CtapStatus::UvBlocked,
            ),
        ] {
            let v = Counting(AtomicUsize::new(0), Err(err));
            let e = UvGate::new(&v, &Checks::default(), DEFAULT_APPROVAL_TTL, &Cancellation::new())
                .verify(&prompt(), b.clone())
                .unwrap_err();
            assert_eq!(e.status(), status);
        }
    }

    #[test]
    fn token_grant_needs_verification_and_yields_uv_without_up() {
        let refused = Counting(AtomicUsize::new(0), Err(VerificationError::Denied));
        assert!(
            UvGate::new(
                &refused,
                &Checks::default(),
                DEFAULT_APPROVAL_TTL,
                &Cancellation::new()
            )
            .grant_token(&prompt())
            .is_err()
        );
        let v = Counting(AtomicUsize::new(0), Ok(key()));
        let grant = UvGate::new(&v, &Checks::default(), DEFAULT_APPROVAL_TTL, &Cancellation::new())
            .grant_token(&prompt())
            .unwrap();
        assert_eq!(v.0.load(Ordering::SeqCst), 1);
        let p = Presence::TokenVerified(grant.authorise());
        assert!(matches!(p, Presence::TokenVerified(_)));
        assert!(p.user_verified());
    }

    /// A verifier that says "yes" but returns another key than the enrolled one gets neither an approval
    /// nor a token grant (on the old boolean trait any `Ok` was an approval).
    #[test]
    fn a_key_other_than_the_enrolled_one_gets_no_approval() {
        let checks = Checks::default();
        let real = Counting(AtomicUsize::new(0), Ok(key()));
        let b = OperationBinding::new(Operation::SignIn, &[1; 32], &[2; 32]);
        let approval = UvGate::new(&real, &checks, DEFAULT_APPROVAL_TTL, &Cancellation::new())
            .verify(&prompt(), b.clone())
            .unwrap();
        let p = approval.redeem(&b, Instant::now()).unwrap();
        assert_eq!(p.uv_key().map(|k| *k.expose()), Some([0x55; 32]));
        let fake = Counting(AtomicUsize::new(0), Ok(UvKey::from_array([0x66; 32])));
        let cancel = Cancellation::new();
        let gate = UvGate::new(&fake, &checks, DEFAULT_APPROVAL_TTL, &cancel);
        let e = gate.verify(&prompt(), b).unwrap_err();
        assert!(matches!(e, EngineError::UvKeyRejected));
        assert_eq!(e.status(), crate::status::CtapStatus::UvInvalid);
        assert!(matches!(
            gate.grant_token(&prompt()),
            Err(EngineError::UvKeyRejected)
        ));
    }

    #[test]
    fn silent_presence_has_no_flags() {
        assert!(!Presence::Silent(Silent).user_verified());
        assert!(Presence::Silent(Silent).uv_key().is_none());
    }
}
