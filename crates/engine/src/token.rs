//! pinUvAuthToken state (CTAP 2.1 §6.5.2.1 "pinUvAuthToken State"), for the Direct profile's
//! getPinUvAuthTokenUsingUvWithPermissions.
//!
//! * Permissions mc and ga need a permissions RP ID, given when the token is issued (the engine refuses a
//!   request for them without `rpId`); the token then only authorises requests for that RP.
//! * Lifetime: the token must be used within [`INITIAL_USAGE_TIME_LIMIT`] of being issued, and never
//!   serves past [`MAX_USAGE_TIME_PERIOD`] after that (the spec's usage timer and its defaults). An
//!   expired token is refused ([`EngineError::PinUvAuthTokenExpired`], CTAP2_ERR_PIN_AUTH_INVALID on the
//!   wire, as a token that is no longer in use).
//! * Flags: `userVerified` and `userPresent` are set on issue (the platform prompt is both); the
//!   userPresent flag lapses after [`USER_PRESENT_TIME_LIMIT`]. After an operation that collected user
//!   presence with the token, [`PinUvAuthToken::spend`] clears both flags and every permission (the spec's
//!   clearUserPresentFlag / clearUserVerifiedFlag / clearPinUvAuthTokenPermissionsExceptLbw; this engine
//!   grants no lbw), so it authorises nothing more.
//!
//! Time comes from the engine's [`crate::clock::Clock`], so tests move it instead of sleeping.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::pin::PinProtocol;
use crate::status::EngineError;
use crate::uv::{TokenGrant, TokenVerified};

/// How long an issued token may wait for its first use (the spec's default initial usage time limit).
pub const INITIAL_USAGE_TIME_LIMIT: Duration = Duration::from_secs(30);
/// How long the userPresent flag stays set after issue (the spec's default user present time limit).
pub const USER_PRESENT_TIME_LIMIT: Duration = Duration::from_secs(30);
/// The longest a token serves after issue, used or not (the spec's max usage time period, 10 minutes).
pub const MAX_USAGE_TIME_PERIOD: Duration = Duration::from_secs(600);

/// One issued pinUvAuthToken and its state.
pub(crate) struct PinUvAuthToken {
    token: Zeroizing<[u8; 32]>,
    permissions: u64,
    rp_id: String,
    issued_at: Instant,
    /// Set by the first request the token authorised (the spec's "in use" with its usage timer running).
    first_used_at: Option<Instant>,
    user_present: bool,
    user_verified: bool,
    /// The verification the token was issued after.
    grant: TokenGrant,
}

impl std::fmt::Debug for PinUvAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinUvAuthToken")
            .field("permissions", &self.permissions)
            .field("rp_id", &self.rp_id)
            .field("user_present", &self.user_present)
            .field("user_verified", &self.user_verified)
            .finish_non_exhaustive()
    }
}

impl PinUvAuthToken {
    /// A token just issued at `now` after the verification `grant`, for `permissions` on `rp_id`
    /// (beginUsingPinUvAuthToken with userIsPresent = true: the prompt collected presence).
    pub(crate) fn issue(
        token: Zeroizing<[u8; 32]>,
        permissions: u64,
        rp_id: String,
        grant: TokenGrant,
        now: Instant,
    ) -> Self {
        PinUvAuthToken {
            token,
            permissions,
            rp_id,
            issued_at: now,
            first_used_at: None,
            user_present: true,
            user_verified: true,
            grant,
        }
    }

    /// Whether the usage timer has run out at `now`: unused past the initial limit, or past the maximum
    /// usage period.
    pub(crate) fn is_expired(&self, now: Instant) -> bool {
        let age = now.saturating_duration_since(self.issued_at);
        age >= MAX_USAGE_TIME_PERIOD || (self.first_used_at.is_none() && age >= INITIAL_USAGE_TIME_LIMIT)
    }

    /// Checks a request's `pin_uv_auth_param` (over `client_data_hash`, under `protocol`) for `permission`
    /// on `rp_id` at `now`, and starts the usage timer on first use. Returns the UV witness.
    pub(crate) fn authorise(
        &mut self,
        protocol: PinProtocol,
        client_data_hash: &[u8],
        pin_uv_auth_param: &[u8],
        permission: u64,
        rp_id: &str,
        now: Instant,
    ) -> Result<TokenVerified, EngineError> {
        if self.is_expired(now) {
            return Err(EngineError::PinUvAuthTokenExpired);
        }
        if !protocol.verify(self.token.as_ref(), client_data_hash, pin_uv_auth_param) {
            return Err(EngineError::PinAuthInvalid);
        }
        if self.permissions & permission == 0 || self.rp_id != rp_id || !self.user_verified {
            return Err(EngineError::PinAuthInvalid);
        }
        self.first_used_at.get_or_insert(now);
        Ok(self.grant.authorise())
    }

    /// After an operation that collected user presence with this token: clear both flags and every
    /// permission, so the token authorises nothing more.
    pub(crate) fn spend(&mut self) {
        self.user_present = false;
        self.user_verified = false;
        self.permissions = 0;
    }
}
