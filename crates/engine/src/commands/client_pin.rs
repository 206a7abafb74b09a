//! authenticatorClientPIN (CTAP 2.2 §6.5): the subcommands a PIN-less authenticator with built-in user
//! verification serves.

use crate::authenticator::{Authenticator, lock};
use crate::cancel::Cancellation;
use crate::config::GetInfoProfile;
use crate::ctap::{ClientPinRequest, ClientPinResponse, Command};
use crate::env::random_bytes;
use crate::pin::PinProtocol;
use crate::platform::{Operation, VerificationPrompt};
use crate::status::EngineError;
use crate::token::PinUvAuthToken;

/// pinUvAuthToken permission: makeCredential.
pub const PERMISSION_MC: u64 = 0x01;
/// pinUvAuthToken permission: getAssertion.
pub const PERMISSION_GA: u64 = 0x02;

/// What getUVRetries (ClientPIN 0x07) reports. The engine's user verification is the platform's biometric
/// prompt (BiometricPrompt, LocalAuthentication), which counts failed matches and locks itself out on its own
/// (after five on both Android and iOS); the engine never sees individual failures, only the prompt's final
/// answer, and a lockout comes back as CTAP2_ERR_UV_BLOCKED. So it reports the platforms' allowance of five
/// rather than a count it cannot keep. Clients such as Yubico's Swift SDK call getUVRetries before using
/// built-in UV and give up on an error or zero.
pub const UV_RETRIES: u32 = 5;

/// ClientPIN subcommands (CTAP 2.2 §6.5.5), all of them named so the ones refused are refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subcommand {
    /// getPINRetries (0x01).
    GetPinRetries,
    /// getKeyAgreement (0x02).
    GetKeyAgreement,
    /// setPIN (0x03).
    SetPin,
    /// changePIN (0x04).
    ChangePin,
    /// getPinToken (0x05).
    GetPinToken,
    /// getPinUvAuthTokenUsingUvWithPermissions (0x06).
    GetPinUvAuthTokenUsingUvWithPermissions,
    /// getUVRetries (0x07).
    GetUvRetries,
    /// getPinUvAuthTokenUsingPinWithPermissions (0x09).
    GetPinUvAuthTokenUsingPinWithPermissions,
}

impl Subcommand {
    /// The subcommand a wire value names, if any.
    pub(crate) fn from_wire(value: u64) -> Option<Self> {
        Some(match value {
            0x01 => Subcommand::GetPinRetries,
            0x02 => Subcommand::GetKeyAgreement,
            0x03 => Subcommand::SetPin,
            0x04 => Subcommand::ChangePin,
            0x05 => Subcommand::GetPinToken,
            0x06 => Subcommand::GetPinUvAuthTokenUsingUvWithPermissions,
            0x07 => Subcommand::GetUvRetries,
            0x09 => Subcommand::GetPinUvAuthTokenUsingPinWithPermissions,
            _ => return None,
        })
    }
}

impl Authenticator {
    /// authenticatorClientPIN: getKeyAgreement, getPinUvAuthTokenUsingUvWithPermissions and getUVRetries. The
    /// engine has no PIN, so PIN subcommands are CTAP2_ERR_INVALID_SUBCOMMAND. The Hybrid profile lists
    /// neither clientPin nor pinUvAuthToken, so there the whole command is CTAP1_ERR_INVALID_COMMAND.
    pub fn client_pin(&self, req: ClientPinRequest) -> Result<ClientPinResponse, EngineError> {
        if self.config.profile == GetInfoProfile::Hybrid {
            return Err(EngineError::InvalidCommand(Command::ClientPin.code()));
        }
        match Subcommand::from_wire(req.sub_command) {
            Some(Subcommand::GetKeyAgreement) => self.get_key_agreement(&req),
            Some(Subcommand::GetPinUvAuthTokenUsingUvWithPermissions) => self.get_uv_token(&req),
            // getUVRetries takes no other parameter (a pinUvAuthProtocol, if sent, is not needed); see
            // UV_RETRIES for the count.
            Some(Subcommand::GetUvRetries) => Ok(ClientPinResponse {
                uv_retries: Some(UV_RETRIES),
                ..Default::default()
            }),
            // No PIN exists: every PIN subcommand is refused like an unknown one.
            Some(
                Subcommand::GetPinRetries
                | Subcommand::SetPin
                | Subcommand::ChangePin
                | Subcommand::GetPinToken
                | Subcommand::GetPinUvAuthTokenUsingPinWithPermissions,
            )
            | None => Err(EngineError::InvalidSubcommand(req.sub_command)),
        }
    }

    /// getKeyAgreement (CTAP 2.2 §6.5.5.4).
    fn get_key_agreement(&self, req: &ClientPinRequest) -> Result<ClientPinResponse, EngineError> {
        // Step 1: the pinUvAuthProtocol must be present and supported.
        PinProtocol::from_wire(
            req.protocol
                .ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?,
        )?;
        // Step 2: return this power-up's key-agreement public key.
        Ok(ClientPinResponse {
            key_agreement: Some(self.key_agreement()?.cose_public()),
            ..Default::default()
        })
    }

    /// getPinUvAuthTokenUsingUvWithPermissions (CTAP 2.2 §6.5.5.7.3).
    fn get_uv_token(&self, req: &ClientPinRequest) -> Result<ClientPinResponse, EngineError> {
        // Step 1: mandatory parameters (pinUvAuthProtocol, keyAgreement, permissions).
        let protocol = PinProtocol::from_wire(
            req.protocol
                .ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?,
        )?;
        let peer = req
            .key_agreement
            .as_ref()
            .ok_or(EngineError::MissingParameter("keyAgreement"))?;
        let permissions = req
            .permissions
            .ok_or(EngineError::MissingParameter("permissions"))?;
        // Step 3: no permission at all is an invalid parameter.
        if permissions == 0 {
            return Err(EngineError::InvalidParameter("permissions"));
        }
        // Step 4: only mc and ga are offered (no credential management, large blobs or config here).
        if permissions & !(PERMISSION_MC | PERMISSION_GA) != 0 {
            return Err(EngineError::UnauthorizedPermission);
        }
        // Step 5: mc and ga need a permissions RP ID (CTAP 2.1 §6.5.5.7.2): the token is bound to that RP
        // from issue, not to whichever RP first uses it.
        let rp_id = req.rp_id.clone().ok_or(EngineError::MissingParameter("rpId"))?;
        // Step 6: the shared secret with the platform; a bad keyAgreement fails here, before any prompt.
        let shared = self.key_agreement()?.shared_secret(protocol, peer)?;
        // Steps 7–9: built-in user verification (the platform prompt), through the gate.
        let operation = if permissions & PERMISSION_MC != 0 {
            Operation::Register
        } else {
            Operation::SignIn
        };
        let prompt = VerificationPrompt {
            operation,
            rp_id: rp_id.clone(),
            rp_name: None,
            account: None,
        };
        let grant = self.gate(&Cancellation::new()).grant_token(&prompt)?;
        // Steps 10–12: a new token, its permissions and RP ID, its usage timer started.
        let token = random_bytes::<32>(self.env.random())?;
        let encrypted = shared.encrypt_with(token.as_ref(), self.env.random())?;
        *lock(&self.pin_token) = Some(PinUvAuthToken::issue(
            token,
            permissions,
            rp_id,
            grant,
            self.env.clock().now(),
        ));
        // Step 13: the token, encrypted under the shared secret.
        Ok(ClientPinResponse {
            pin_uv_auth_token: Some(encrypted),
            ..Default::default()
        })
    }
}
