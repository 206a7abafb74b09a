//! Engine configuration: identity (AAGUID), attestation, backup policy and the getInfo profile.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::uv::DEFAULT_APPROVAL_TTL;

/// How credentials relate to backup, fixed at creation (WebAuthn BE/BS flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupPolicy {
    /// Keys never leave this device: BE=0, BS=0, and every credential keeps an atomic signature counter
    /// (store `increment_sign_count`) so relying parties can detect clones.
    DeviceBound,
    /// Keys are synced by the platform's passkey backup: BE=1, BS=1, signature counter always 0 (a counter
    /// cannot be kept consistent across synced copies, WebAuthn §6.1.1).
    Synced,
}

/// Whether a new credential is discoverable (a passkey) or only usable with its credential ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoverablePolicy {
    /// Every new credential is discoverable, whatever the request's `rk` says. What phones do: Google
    /// Password Manager and iCloud Keychain store every passkey as discoverable, desktops that never send
    /// `rk` (webauthn-authenticator-rs) still get a passkey that signs in with an empty allow list, and
    /// WebAuthn's credProps reports `rk: true`.
    Always,
    /// `rk` decides, as on a security key with limited storage (the direct CTAP profile).
    AsRequested,
}

/// Which getInfo the engine presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetInfoProfile {
    /// What a phone offers over the hybrid transport (docs/hybrid-protocol.md#ctap-exchange): versions
    /// FIDO_2_0/FIDO_2_1, options rk/uv, transports ["cable","hybrid","internal"] as Chromium's phone sends;
    /// no clientPin, pinUvAuthToken or PIN protocols (desktops must not run PIN flows over hybrid).
    Hybrid,
    /// A full CTAP 2.1 getInfo for CTAP clients talking to the engine directly (python-fido2, libfido2):
    /// adds pinUvAuthToken, pinUvAuthProtocols [2, 1], hmac-secret, algorithms and limits.
    Direct,
}

/// A configured attestation certificate chain and its private key (batch or enterprise attestation).
#[derive(Clone)]
pub struct AttestationCertificate {
    /// PKCS#8 DER of the P-256 attestation private key.
    pub private_key_pkcs8: Zeroizing<Vec<u8>>,
    /// DER certificates, attestation certificate first.
    pub chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for AttestationCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttestationCertificate")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// Attestation behaviour.
#[derive(Debug, Clone, Default)]
pub struct AttestationConfig {
    /// Batch certificate used for `packed` x5c attestation when the client does not ask for `none`. Without
    /// one, `packed` is self-attestation.
    pub batch: Option<AttestationCertificate>,
    /// Enterprise attestation certificate (CTAP 2.1 §7.1), used only when the request carries
    /// enterpriseAttestation and the RP is allowed.
    pub enterprise: Option<AttestationCertificate>,
    /// RP IDs allowed vendor-facilitated enterprise attestation (enterpriseAttestation = 1). Value 2
    /// (platform-managed) is honoured for any RP.
    pub enterprise_rp_ids: Vec<String>,
}

/// Everything that configures an [`crate::Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    /// The authenticator model's AAGUID (Chromium's phone uses all zeros).
    pub aaguid: [u8; 16],
    /// Attestation settings.
    pub attestation: AttestationConfig,
    /// Backup policy for new credentials. Declare [`BackupPolicy::Synced`] only if the embedding app really
    /// syncs passkeys: relying parties read BE/BS as a promise.
    pub backup: BackupPolicy,
    /// Whether new credentials are discoverable regardless of `rk`.
    pub discoverable: DiscoverablePolicy,
    /// getInfo profile.
    pub profile: GetInfoProfile,
    /// Overrides the getInfo transports list (key 9); `None` uses the profile's default.
    pub transports: Option<Vec<String>>,
    /// Lifetime of a user-verification approval.
    pub approval_ttl: Duration,
    /// Whether new credentials' secrets are sealed under the key user verification unlocks
    /// ([`crate::uvkey`]), so that only a verified request (a redeemed approval, or a pinUvAuthToken granted
    /// after verification) can sign with them. A silent request without a token then finds no usable
    /// credential. On for [`Self::hybrid`], which serves no silent requests anyway; off for
    /// [`Self::direct`], whose clients (browsers probing an allow list, python-fido2) sign silently.
    /// Either way every approval needs the enrolled key.
    pub secrets_under_uv_key: bool,
}

impl AuthenticatorConfig {
    /// A phone over hybrid (and the platform providers): zero AAGUID, no attestation certificate, every
    /// credential discoverable, device-bound until the embedding app declares that it syncs passkeys.
    pub fn hybrid() -> Self {
        AuthenticatorConfig {
            aaguid: [0; 16],
            attestation: AttestationConfig::default(),
            backup: BackupPolicy::DeviceBound,
            discoverable: DiscoverablePolicy::Always,
            profile: GetInfoProfile::Hybrid,
            transports: None,
            approval_ttl: DEFAULT_APPROVAL_TTL,
            secrets_under_uv_key: true,
        }
    }

    /// A directly attached CTAP 2.1 authenticator with device-bound credentials (used by python-fido2 tests).
    pub fn direct() -> Self {
        AuthenticatorConfig {
            backup: BackupPolicy::DeviceBound,
            discoverable: DiscoverablePolicy::AsRequested,
            profile: GetInfoProfile::Direct,
            secrets_under_uv_key: false,
            ..Self::hybrid()
        }
    }

    /// The transports advertised in getInfo.
    pub fn transports(&self) -> Vec<String> {
        if let Some(t) = &self.transports {
            return t.clone();
        }
        let default: &[&str] = match self.profile {
            GetInfoProfile::Hybrid => &["cable", "hybrid", "internal"],
            GetInfoProfile::Direct => &["hybrid", "internal"],
        };
        default.iter().map(|s| (*s).to_owned()).collect()
    }
}

impl Default for AuthenticatorConfig {
    /// Same as [`AuthenticatorConfig::hybrid`].
    fn default() -> Self {
        Self::hybrid()
    }
}
