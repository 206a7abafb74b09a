//! Web origins and the RP ID rule of WebAuthn §5.1.3 / §5.1.4: a page at origin `https://login.example.com`
//! may use the RP ID `login.example.com` or `example.com`, never `other.com`, and never a public suffix such as
//! `com` or `co.uk` (the registrable-domain test of the HTML spec, with the Public Suffix List from the `psl`
//! crate, which tracks publicsuffix.org and includes its private section, e.g. `github.io`).
//!
//! Pure: no I/O. The caller layer ([`crate::caller`]) decides which origin a request comes from; this module
//! only says whether that origin may claim the RP ID.

use crate::calling_app::CallerError;

/// A parsed web origin: `https://host[:port]`, or `http://localhost[:port]` for local development (browsers
/// treat localhost as a secure context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebOrigin {
    serialized: String,
    host: String,
}

impl WebOrigin {
    /// Parses an origin as a browser serialises it (scheme, host, optional port; no path, no user info).
    pub fn parse(origin: &str) -> Result<Self, CallerError> {
        let bad = |why: &str| CallerError::InvalidOrigin {
            origin: origin.to_owned(),
            reason: why.to_owned(),
        };
        let (scheme, rest) = origin.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) {
            return Err(bad("not a bare scheme://host[:port]"));
        }
        let host = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || !port.is_empty() => {
                if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
                    return Err(bad("bad port"));
                }
                host
            }
            _ => rest,
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'))
        {
            return Err(bad("bad host"));
        }
        match scheme {
            "https" => {}
            "http" if host == "localhost" || host.ends_with(".localhost") => {}
            _ => return Err(bad("only https (or http://localhost) origins may use WebAuthn")),
        }
        Ok(WebOrigin {
            serialized: origin.strip_suffix('/').unwrap_or(origin).to_owned(),
            host,
        })
    }

    /// The origin as given (what goes into clientDataJSON).
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// The host, lower-case.
    pub fn host(&self) -> &str {
        &self.host
    }
}

fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Whether `rp_id` is a public suffix (`com`, `co.uk`, `github.io`): no site may claim one as its RP ID.
pub fn is_public_suffix(rp_id: &str) -> bool {
    if rp_id == "localhost" {
        return false;
    }
    match psl::suffix_str(rp_id) {
        Some(suffix) => suffix.eq_ignore_ascii_case(rp_id),
        // Not even a suffix can be found (empty, a lone dot): treat as unusable.
        None => true,
    }
}

/// Checks that a page at `origin` may use `rp_id`: equal to the origin's host, or a registrable domain suffix
/// of it that is not a public suffix. IP-address hosts only match themselves.
pub fn check_rp_id(origin: &WebOrigin, rp_id: &str) -> Result<(), CallerError> {
    let rp = rp_id.to_ascii_lowercase();
    let host = origin.host();
    let mismatch = || CallerError::RpIdMismatch {
        rp_id: rp_id.to_owned(),
        origin: origin.as_str().to_owned(),
    };
    if rp.is_empty() || rp.starts_with('.') || rp.ends_with('.') {
        return Err(mismatch());
    }
    if is_ip_literal(host) {
        return if rp == host { Ok(()) } else { Err(mismatch()) };
    }
    let suffix_of_host = host == rp || host.ends_with(&format!(".{rp}"));
    if !suffix_of_host {
        return Err(mismatch());
    }
    if is_public_suffix(&rp) {
        return Err(CallerError::PublicSuffix {
            rp_id: rp_id.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(origin: &str, rp: &str) -> Result<(), CallerError> {
        check_rp_id(&WebOrigin::parse(origin).unwrap(), rp)
    }

    #[test]
    fn host_or_registrable_suffix_is_accepted() {
        check("https://example.com", "example.com").unwrap();
        check("https://login.example.com", "example.com").unwrap();
        check("https://login.example.com:8443", "login.example.com").unwrap();
        check("https://a.b.example.co.uk", "example.co.uk").unwrap();
        check("https://LOGIN.Example.com", "example.COM").unwrap();
        check("http://localhost:8080", "localhost").unwrap();
    }

    #[test]
    fn rp_id_outside_the_origin_is_refused() {
        for (origin, rp) in [
            ("https://evil.com", "bank.com"),
            ("https://notbank.com", "bank.com"),
            ("https://bank.com", "login.bank.com"),
            ("https://bank.com.evil.com", "bank.com"),
            ("https://127.0.0.1", "0.0.1"),
        ] {
            assert!(
                matches!(check(origin, rp), Err(CallerError::RpIdMismatch { .. })),
                "{origin} / {rp}"
            );
        }
    }

    #[test]
    fn public_suffixes_are_refused() {
        for (origin, rp) in [
            ("https://bank.com", "com"),
            ("https://bank.co.uk", "co.uk"),
            ("https://alice.github.io", "github.io"),
        ] {
            assert!(
                matches!(check(origin, rp), Err(CallerError::PublicSuffix { .. })),
                "{origin} / {rp}"
            );
        }
        assert!(!is_public_suffix("example.com"));
    }

    #[test]
    fn only_secure_origins_parse() {
        for bad in [
            "http://example.com",
            "ftp://example.com",
            "example.com",
            "https://",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com:x",
            "android:apk-key-hash:abc",
        ] {
            assert!(WebOrigin::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            WebOrigin::parse("https://Example.com/").unwrap().host(),
            "example.com"
        );
    }
}
