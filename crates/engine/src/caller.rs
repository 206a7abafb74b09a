//! Who is asking: the calling app or browser, and therefore which origin a WebAuthn request speaks for.
//!
//! A passkey resists phishing only if the authenticator signs for the origin the request really comes from.
//! On Android, Credential Manager tells the provider the calling package and its signing certificates, and
//! lets a browser pass a `clientDataHash` (and web origin) of its own. The rules here follow androidx's
//! `CallingAppInfo.getOrigin(privilegedAllowlistJson)`:
//!
//! - a caller's clientDataHash and web origin are honoured only when the caller is on the privileged allowlist
//!   (package name AND signing certificate, [`PrivilegedAllowlist`]); a browser then stands for the page, and the
//!   RP ID must fit the page's origin ([`crate::rpid`]);
//! - any other app gets the origin `android:apk-key-hash:<base64url(SHA-256(signing certificate))>`, Tandem
//!   builds the clientDataJSON itself, and the RP must vouch for the app in its Digital Asset Links file
//!   ([`crate::assetlinks`]);
//! - on iOS, AuthenticationServices has already checked the app's associated domains and built the client data:
//!   [`Caller::OsVerified`].
//!
//! [`Caller`] is what the platform reports (untrusted input); [`Caller::resolve`] turns it into a
//! [`ResolvedCaller`], which only this module can build, and which the WebAuthn layer needs before it calls the
//! engine: a request that skips the check does not compile.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

pub use tandem_webauthn::ClientDataType;
use tandem_webauthn::{client_data_hash, client_data_json};

use crate::assetlinks::{self, AssetLinksSource, parse_fingerprint};
pub use crate::calling_app::{AndroidApp, AppSigning, CallerError, CertDigest};
use crate::rpid::{self, WebOrigin};

#[derive(Deserialize)]
struct AllowlistJson {
    apps: Vec<AllowlistAppJson>,
}

#[derive(Deserialize)]
struct AllowlistAppJson {
    #[serde(rename = "type")]
    ty: String,
    info: AllowlistInfoJson,
}

#[derive(Deserialize)]
struct AllowlistInfoJson {
    package_name: String,
    signatures: Vec<AllowlistSignatureJson>,
}

#[derive(Deserialize)]
struct AllowlistSignatureJson {
    cert_fingerprint_sha256: String,
}

/// The browsers trusted to speak for web pages: Google's privileged-apps allowlist format, as androidx's
/// `CallingAppInfo.getOrigin` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivilegedAllowlist {
    apps: HashMap<String, HashSet<CertDigest>>,
}

/// The list shipped with Tandem (`crates/engine/data/privileged_allowlist.json`; its README says where it comes from and
/// how to update it).
const BUNDLED_ALLOWLIST: &str = include_str!("../data/privileged_allowlist.json");

impl PrivilegedAllowlist {
    /// Parses `{"apps":[{"type":"android","info":{"package_name":..,"signatures":[{"cert_fingerprint_sha256":..}]}}]}`.
    /// Entries of other types are skipped; a malformed fingerprint fails the whole list (better loud than a
    /// browser that silently stops working).
    pub fn parse(json: &str) -> Result<Self, CallerError> {
        let bad = |reason: String| CallerError::InvalidAllowlist { reason };
        let doc: AllowlistJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let mut apps: HashMap<String, HashSet<CertDigest>> = HashMap::new();
        for app in doc.apps.into_iter().filter(|a| a.ty == "android") {
            let certs = apps.entry(app.info.package_name.clone()).or_default();
            for s in app.info.signatures {
                let d = parse_fingerprint(&s.cert_fingerprint_sha256).ok_or_else(|| {
                    bad(format!(
                        "{}: bad fingerprint {}",
                        app.info.package_name, s.cert_fingerprint_sha256
                    ))
                })?;
                certs.insert(d);
            }
        }
        Ok(PrivilegedAllowlist { apps })
    }

    /// The list compiled into Tandem.
    pub fn bundled() -> &'static PrivilegedAllowlist {
        static LIST: OnceLock<PrivilegedAllowlist> = OnceLock::new();
        LIST.get_or_init(|| PrivilegedAllowlist::parse(BUNDLED_ALLOWLIST).expect("bundled allowlist parses"))
    }

    /// Whether `app` is a privileged browser: its package is listed and its certificates match.
    pub fn is_privileged(&self, app: &AndroidApp) -> bool {
        self.apps
            .get(app.package_name())
            .is_some_and(|allowed| app.signing().matches(allowed))
    }
}

/// A request as the platform delivered it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An Android app calling through Credential Manager.
    Android {
        /// The calling package and its certificates (`CallingAppInfo`).
        app: AndroidApp,
        /// The web origin the framework reports (`CallingAppInfo.origin`): set only for callers that may
        /// set one; honoured only for allowlisted browsers.
        origin: Option<String>,
        /// The clientDataHash in the request; honoured only for allowlisted browsers.
        client_data_hash: Option<CertDigest>,
    },
    /// The operating system is the WebAuthn client and has already bound the request to the RP: iOS
    /// AuthenticationServices checks the app's associated domains (or the browser's page origin) and builds the
    /// clientDataJSON before a credential-provider extension sees the request.
    OsVerified {
        /// The OS-computed clientDataHash.
        client_data_hash: [u8; 32],
    },
}

/// Where the clientDataHash comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClientDataSource {
    /// A trusted client (privileged browser, the OS) computed it.
    Given([u8; 32]),
    /// Tandem builds clientDataJSON for this origin.
    Build(String),
}

/// How the RP ID is tied to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RpBinding {
    /// The page's origin must be on the RP ID's registrable domain.
    Web(WebOrigin),
    /// The RP must list the app in its asset links.
    App(AndroidApp),
    /// The trusted client checked it (the OS; a privileged browser that gave its hash but no origin).
    Client,
}

/// A caller that passed the allowlist check; only [`Caller::resolve`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCaller {
    client_data: ClientDataSource,
    binding: RpBinding,
}

/// The client data a request is signed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientData {
    /// SHA-256 of the clientDataJSON: what the authenticator signs.
    pub hash: [u8; 32],
    /// The clientDataJSON Tandem built, or `None` when a trusted client supplied the hash (it reports its own).
    pub json: Option<Vec<u8>>,
}

impl Caller {
    /// Applies the allowlist: decides whose clientDataHash and origin count.
    pub fn resolve(&self, allowlist: &PrivilegedAllowlist) -> Result<ResolvedCaller, CallerError> {
        match self {
            Caller::OsVerified { client_data_hash } => Ok(ResolvedCaller {
                client_data: ClientDataSource::Given(*client_data_hash),
                binding: RpBinding::Client,
            }),
            Caller::Android {
                app,
                origin,
                client_data_hash,
            } => {
                let package = || app.package_name().to_owned();
                if !allowlist.is_privileged(app) {
                    if client_data_hash.is_some() {
                        return Err(CallerError::UnprivilegedClientDataHash { package: package() });
                    }
                    if origin.is_some() {
                        return Err(CallerError::UnprivilegedOrigin { package: package() });
                    }
                    return Ok(ResolvedCaller {
                        client_data: ClientDataSource::Build(app.apk_key_hash_origin()?),
                        binding: RpBinding::App(app.clone()),
                    });
                }
                let web = origin.as_deref().map(WebOrigin::parse).transpose()?;
                Ok(match (client_data_hash, web) {
                    (Some(hash), Some(web)) => ResolvedCaller {
                        client_data: ClientDataSource::Given(*hash),
                        binding: RpBinding::Web(web),
                    },
                    // A privileged browser that hashed its own client data is the WebAuthn client and has
                    // applied the RP ID rule itself (androidx gives the provider nothing more to check).
                    (Some(hash), None) => ResolvedCaller {
                        client_data: ClientDataSource::Given(*hash),
                        binding: RpBinding::Client,
                    },
                    (None, Some(web)) => ResolvedCaller {
                        client_data: ClientDataSource::Build(web.as_str().to_owned()),
                        binding: RpBinding::Web(web),
                    },
                    // The browser signing in to a site for itself, like any app.
                    (None, None) => ResolvedCaller {
                        client_data: ClientDataSource::Build(app.apk_key_hash_origin()?),
                        binding: RpBinding::App(app.clone()),
                    },
                })
            }
        }
    }
}

impl ResolvedCaller {
    /// The origin Tandem writes into clientDataJSON, when it builds it.
    pub fn built_origin(&self) -> Option<&str> {
        match &self.client_data {
            ClientDataSource::Build(origin) => Some(origin),
            ClientDataSource::Given(_) => None,
        }
    }

    /// Checks that this caller may use `rp_id`, fetching the RP's asset links for a native app.
    pub fn check_rp_id(&self, rp_id: &str, asset_links: &dyn AssetLinksSource) -> Result<(), CallerError> {
        match &self.binding {
            RpBinding::Client => Ok(()),
            RpBinding::Web(origin) => rpid::check_rp_id(origin, rp_id),
            RpBinding::App(app) => {
                if rpid::is_public_suffix(rp_id) {
                    return Err(CallerError::PublicSuffix {
                        rp_id: rp_id.to_owned(),
                    });
                }
                // The RP ID becomes a host name in a URL: refuse anything that could change the URL's meaning.
                if !rp_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                {
                    return Err(CallerError::InvalidOrigin {
                        origin: rp_id.to_owned(),
                        reason: "RP ID is not a domain name".into(),
                    });
                }
                let body = asset_links.fetch(&rp_id.to_ascii_lowercase()).map_err(|reason| {
                    CallerError::AssetLinksUnavailable {
                        rp_id: rp_id.to_owned(),
                        reason,
                    }
                })?;
                assetlinks::check_association(&body, rp_id, app)
            }
        }
    }

    /// The client data for a `webauthn.create` / `webauthn.get` (`ty`) with `challenge`: the trusted client's
    /// hash, or clientDataJSON built here (WebAuthn §5.8.1.1 member order, `crossOrigin: false`).
    pub fn client_data(&self, ty: ClientDataType, challenge: &[u8]) -> ClientData {
        match &self.client_data {
            ClientDataSource::Given(hash) => ClientData {
                hash: *hash,
                json: None,
            },
            ClientDataSource::Build(origin) => {
                let json = client_data_json(ty, challenge, origin).into_bytes();
                ClientData {
                    hash: client_data_hash(&json),
                    json: Some(json),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chrome's published release signing-certificate fingerprint.
    const CHROME: &str =
        "F0:FD:6C:5B:41:0F:25:CB:25:C3:B5:33:46:C8:97:2F:AE:30:F8:EE:74:11:DF:91:04:80:AD:6B:2D:60:DB:83";

    fn chrome(cert: CertDigest) -> AndroidApp {
        AndroidApp::new("com.android.chrome", AppSigning::Lineage(vec![cert]))
    }

    #[test]
    fn bundled_list_has_the_major_browsers() {
        let list = PrivilegedAllowlist::bundled();
        assert!(list.is_privileged(&chrome(parse_fingerprint(CHROME).unwrap())));
        for package in [
            "org.mozilla.firefox",
            "com.microsoft.emmx",
            "com.brave.browser",
            "com.sec.android.app.sbrowser",
        ] {
            assert!(list.apps.contains_key(package), "{package}");
        }
    }

    #[test]
    fn privilege_needs_package_and_certificate() {
        let list = PrivilegedAllowlist::bundled();
        let real = parse_fingerprint(CHROME).unwrap();
        assert!(!list.is_privileged(&chrome([1; 32])));
        assert!(!list.is_privileged(&AndroidApp::new(
            "com.evil.chrome",
            AppSigning::Lineage(vec![real])
        )));
        // Rotation: an older certificate of the lineage keeps the browser privileged (androidx).
        assert!(list.is_privileged(&chrome([1; 32]).with_lineage(vec![real, [1; 32]])));
        // Several signers: every one must be listed.
        let both = AndroidApp::new(
            "com.android.chrome",
            AppSigning::MultipleSigners(vec![real, [1; 32]]),
        );
        assert!(!list.is_privileged(&both));
    }

    impl AndroidApp {
        fn with_lineage(mut self, lineage: Vec<CertDigest>) -> Self {
            self.signing = AppSigning::Lineage(lineage);
            self
        }
    }

    #[test]
    fn allowlist_format_errors_are_typed() {
        assert!(matches!(
            PrivilegedAllowlist::parse("{}"),
            Err(CallerError::InvalidAllowlist { .. })
        ));
        let bad = r#"{"apps":[{"type":"android","info":{"package_name":"a","signatures":[{"build":"release","cert_fingerprint_sha256":"AB"}]}}]}"#;
        assert!(PrivilegedAllowlist::parse(bad).is_err());
    }

    #[test]
    fn apk_key_hash_origin_is_base64url_sha256_of_the_certificate() {
        let app = AndroidApp::new("a.b", AppSigning::from_der(false, &[b"cert".to_vec()], &[]));
        // base64url(SHA-256("cert")), computed with Python's hashlib + base64.urlsafe_b64encode.
        assert_eq!(
            app.apk_key_hash_origin().unwrap(),
            "android:apk-key-hash:BimEMugGayniIjvMI6qVBLVq5Qj6vzQ1UIhpucMZDiI"
        );
    }
}
