//! Digital Asset Links: whether a relying party vouches for a native app.
//!
//! A native Android app has no web origin; it may use the RP ID `example.com` only when
//! `https://example.com/.well-known/assetlinks.json` lists the app's package name and signing-certificate
//! SHA-256 with the relation `delegate_permission/common.get_login_creds` (credential sharing) or
//! `delegate_permission/common.handle_all_urls` (app links), as Credential Manager and Google Password Manager
//! require (developer.android.com, "Add support for Digital Asset Links").
//!
//! Parsing and matching are pure and live here; fetching is the platform's job behind [`AssetLinksSource`]
//! (the FFI crate ships an HTTPS fetcher with a cache). `include` statements are not followed: the RP's own
//! file must name the app.

use std::collections::HashSet;

use serde::Deserialize;

use crate::calling_app::{AndroidApp, CallerError, CertDigest};

/// Relations that let an app use the site's credentials.
const RELATIONS: [&str; 2] = [
    "delegate_permission/common.get_login_creds",
    "delegate_permission/common.handle_all_urls",
];

/// Largest statement list accepted (Google's verifier caps the file at a few hundred KB too).
pub const MAX_ASSET_LINKS_BYTES: usize = 512 * 1024;

/// Where the statement list of an RP ID comes from: `https://<rp_id>/.well-known/assetlinks.json`, fetched
/// over HTTPS with certificate validation and no redirects. Implemented at the edge (I/O), consulted by the
/// WebAuthn layer only for native-app callers.
pub trait AssetLinksSource: Send + Sync {
    /// The body of `https://<rp_id>/.well-known/assetlinks.json`, or why it could not be had.
    fn fetch(&self, rp_id: &str) -> Result<Vec<u8>, String>;
}

/// A source that has nothing: every native-app request is refused. For platforms without native-app callers
/// and for tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAssetLinks;

impl AssetLinksSource for NoAssetLinks {
    fn fetch(&self, rp_id: &str) -> Result<Vec<u8>, String> {
        Err(format!("no asset-links source configured (asked for {rp_id})"))
    }
}

#[derive(Deserialize)]
struct StatementJson {
    #[serde(default)]
    relation: Vec<String>,
    target: Option<TargetJson>,
}

#[derive(Deserialize)]
struct TargetJson {
    namespace: String,
    package_name: Option<String>,
    #[serde(default)]
    sha256_cert_fingerprints: Vec<String>,
}

/// Parses an `AA:BB:...` SHA-256 fingerprint (colons optional, any case).
pub fn parse_fingerprint(text: &str) -> Option<CertDigest> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The certificate digests `statements` grant `package` for credential use.
fn granted(statements: &[StatementJson], package: &str) -> HashSet<CertDigest> {
    statements
        .iter()
        .filter(|s| s.relation.iter().any(|r| RELATIONS.contains(&r.as_str())))
        .filter_map(|s| s.target.as_ref())
        .filter(|t| t.namespace == "android_app" && t.package_name.as_deref() == Some(package))
        .flat_map(|t| {
            t.sha256_cert_fingerprints
                .iter()
                .filter_map(|f| parse_fingerprint(f))
        })
        .collect()
}

/// Checks that the asset-links file `body` of `rp_id` associates `app`: its package with every current
/// signing certificate (all signers of a multi-signer APK; the newest of a rotated lineage).
pub fn check_association(body: &[u8], rp_id: &str, app: &AndroidApp) -> Result<(), CallerError> {
    let unavailable = |reason: String| CallerError::AssetLinksUnavailable {
        rp_id: rp_id.to_owned(),
        reason,
    };
    if body.len() > MAX_ASSET_LINKS_BYTES {
        return Err(unavailable(format!(
            "file larger than {MAX_ASSET_LINKS_BYTES} bytes"
        )));
    }
    let statements: Vec<StatementJson> =
        serde_json::from_slice(body).map_err(|e| unavailable(format!("not a statement list: {e}")))?;
    let granted = granted(&statements, app.package_name());
    let current = app.signing().current();
    if !current.is_empty() && current.iter().all(|c| granted.contains(c)) {
        Ok(())
    } else {
        Err(CallerError::NotAssociated {
            rp_id: rp_id.to_owned(),
            package: app.package_name().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::AppSigning;

    fn app(cert: u8) -> AndroidApp {
        AndroidApp::new("com.bank.app", AppSigning::Lineage(vec![[cert; 32]]))
    }

    fn fp(b: u8) -> String {
        vec![format!("{b:02X}"); 32].join(":")
    }

    fn file(relation: &str, package: &str, cert: u8) -> Vec<u8> {
        format!(
            r#"[{{"relation":["{relation}"],"target":{{"namespace":"android_app","package_name":"{package}","sha256_cert_fingerprints":["{}"]}}}},
                {{"relation":["delegate_permission/common.get_login_creds"],"target":{{"namespace":"web","site":"https://bank.com"}}}}]"#,
            fp(cert)
        )
        .into_bytes()
    }

    #[test]
    fn listed_app_with_either_relation_is_associated() {
        let get = file("delegate_permission/common.get_login_creds", "com.bank.app", 7);
        check_association(&get, "bank.com", &app(7)).unwrap();
        let links = file("delegate_permission/common.handle_all_urls", "com.bank.app", 7);
        check_association(&links, "bank.com", &app(7)).unwrap();
    }

    #[test]
    fn other_cert_package_or_relation_is_not() {
        let cases = [
            file("delegate_permission/common.get_login_creds", "com.bank.app", 8),
            file("delegate_permission/common.get_login_creds", "com.evil.app", 7),
            file("delegate_permission/common.use_as_origin", "com.bank.app", 7),
            b"[]".to_vec(),
        ];
        for body in cases {
            assert!(matches!(
                check_association(&body, "bank.com", &app(7)),
                Err(CallerError::NotAssociated { .. })
            ));
        }
        assert!(matches!(
            check_association(b"<html>", "bank.com", &app(7)),
            Err(CallerError::AssetLinksUnavailable { .. })
        ));
    }

    #[test]
    fn every_signer_of_a_multi_signer_app_must_be_listed() {
        let two = AndroidApp::new(
            "com.bank.app",
            AppSigning::MultipleSigners(vec![[7; 32], [9; 32]]),
        );
        let body = file("delegate_permission/common.get_login_creds", "com.bank.app", 7);
        assert!(check_association(&body, "bank.com", &two).is_err());
    }

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        assert_eq!(parse_fingerprint(&fp(0xab)), Some([0xab; 32]));
        assert_eq!(parse_fingerprint(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_fingerprint("AB:CD"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }
}
