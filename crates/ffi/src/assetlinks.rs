//! The HTTPS edge of Digital Asset Links: fetches `https://<rp id>/.well-known/assetlinks.json` for the core's
//! matcher ([`tandem_engine::assetlinks`]), with a per-RP-ID cache.
//!
//! Deliberately small: HTTP/1.0 GET (so no chunked bodies), rustls with the Mozilla roots from `webpki-roots`
//! (the same TLS stack the tunnel client uses), status 200 only (redirects are refused, as Google's verifier
//! does for credential sharing), a size cap, and timeouts. Runs on the engine's blocking thread, so plain
//! blocking sockets are fine. Only successes are cached: a site that fixes its file is picked up at once.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tandem_engine::assetlinks::{AssetLinksSource, MAX_ASSET_LINKS_BYTES};

/// How long a fetched file is trusted before it is fetched again.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(60 * 60);
const TIMEOUT: Duration = Duration::from_secs(10);
/// Room for the status line and headers on top of the body cap.
const HEADER_ROOM: usize = 16 * 1024;

/// Fetches asset-links files over HTTPS and caches them by RP ID.
pub(crate) struct HttpsAssetLinks {
    config: Arc<rustls::ClientConfig>,
    port: u16,
    /// Test hook: connect here instead of resolving the RP ID (the TLS name is still the RP ID).
    connect_to: Option<SocketAddr>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
}

impl std::fmt::Debug for HttpsAssetLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsAssetLinks")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl HttpsAssetLinks {
    /// A fetcher trusting the Mozilla root store, on port 443.
    pub(crate) fn with_public_roots() -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(roots, 443, None)
    }

    /// A fetcher trusting only `roots`, connecting to `port` (or straight to `connect_to`): for tests against a
    /// local server with a throw-away CA.
    pub(crate) fn with_roots(
        roots: rustls::RootCertStore,
        port: u16,
        connect_to: Option<SocketAddr>,
    ) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        HttpsAssetLinks {
            config: Arc::new(config),
            port,
            connect_to,
            ttl: CACHE_TTL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn download(&self, host: &str) -> Result<Vec<u8>, String> {
        let addr = match self.connect_to {
            Some(a) => a,
            None => (host, self.port)
                .to_socket_addrs()
                .map_err(|e| format!("resolving {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("{host} has no address"))?,
        };
        let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connecting: {e}"))?;
        tcp.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("server name: {e}"))?;
        let conn =
            rustls::ClientConnection::new(Arc::clone(&self.config), name).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let request = format!(
            "GET /.well-known/assetlinks.json HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\nUser-Agent: Tandem\r\n\r\n"
        );
        tls.write_all(request.as_bytes())
            .map_err(|e| format!("TLS: {e}"))?;
        let mut raw = Vec::new();
        let limit = (MAX_ASSET_LINKS_BYTES + HEADER_ROOM) as u64;
        let read = (&mut tls).take(limit + 1).read_to_end(&mut raw);
        if raw.len() as u64 > limit {
            return Err("response too large".into());
        }
        let clean_close = read.is_ok();
        if let Err(e) = &read
            && e.kind() != std::io::ErrorKind::UnexpectedEof
        {
            return Err(format!("TLS: {e}"));
        }
        parse_response(&raw, clean_close)
    }
}

/// The body of a `200` HTTP/1.x response. Without a TLS close_notify the body counts only if Content-Length
/// says it is complete (a truncated statement list must not be read as a shorter one).
fn parse_response(raw: &[u8], clean_close: bool) -> Result<Vec<u8>, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "header is not UTF-8")?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") || code != "200" {
        return Err(format!("HTTP status {status:?} (redirects are not followed)"));
    }
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && !value.eq_ignore_ascii_case("identity") {
            return Err(format!("unsupported Transfer-Encoding {value}"));
        }
    }
    match length {
        Some(n) if n != body.len() => Err(format!("body is {} bytes, Content-Length {n}", body.len())),
        None if !clean_close => Err("connection closed without close_notify or Content-Length".into()),
        _ if body.len() > MAX_ASSET_LINKS_BYTES => Err("file too large".into()),
        _ => Ok(body.to_vec()),
    }
}

impl AssetLinksSource for HttpsAssetLinks {
    fn fetch(&self, rp_id: &str) -> Result<Vec<u8>, String> {
        let key = rp_id.to_ascii_lowercase();
        if let Some((at, body)) = self.cache.lock().map_err(|_| "cache poisoned")?.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(body.clone());
        }
        let body = self.download(&key)?;
        self.cache
            .lock()
            .map_err(|_| "cache poisoned")?
            .insert(key, (Instant::now(), body.clone()));
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    struct Server {
        addr: SocketAddr,
        root: CertificateDer<'static>,
        hits: Arc<AtomicUsize>,
    }

    /// A local HTTPS server for `bank.test` with a throw-away CA, answering every request with `response`.
    fn serve(response: &'static [u8]) -> Server {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root = ca_params.self_signed(&ca_key).unwrap().der().clone();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["bank.test".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => break,
                    }
                }
                if !request.starts_with(b"GET /.well-known/assetlinks.json HTTP/1.0\r\n") {
                    continue;
                }
                let _ = tls.write_all(response);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        Server { addr, root, hits }
    }

    fn client(server: &Server) -> HttpsAssetLinks {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server.root.clone()).unwrap();
        HttpsAssetLinks::with_roots(roots, server.addr.port(), Some(server.addr))
    }

    const OK: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]";

    #[test]
    fn fetches_over_https_and_caches_by_rp_id() {
        let server = serve(OK);
        let links = client(&server);
        assert_eq!(links.fetch("bank.test").unwrap(), b"[]");
        assert_eq!(links.fetch("BANK.test").unwrap(), b"[]");
        assert_eq!(
            server.hits.load(Ordering::SeqCst),
            1,
            "second fetch served from the cache"
        );
    }

    #[test]
    fn expired_entries_are_fetched_again() {
        let server = serve(OK);
        let mut links = client(&server);
        links.ttl = Duration::ZERO;
        links.fetch("bank.test").unwrap();
        links.fetch("bank.test").unwrap();
        assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn untrusted_certificate_and_wrong_name_are_refused() {
        let server = serve(OK);
        // The server's certificate is for bank.test only.
        assert!(client(&server).fetch("other.test").is_err());
        // A client that does not trust the throw-away CA.
        let other_root = serve(OK).root;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(other_root).unwrap();
        let stranger = HttpsAssetLinks::with_roots(roots, server.addr.port(), Some(server.addr));
        assert!(stranger.fetch("bank.test").is_err());
    }

    #[test]
    fn redirects_and_errors_are_not_followed_or_cached() {
        let server =
            serve(b"HTTP/1.0 301 Moved\r\nLocation: https://evil.test/\r\nContent-Length: 0\r\n\r\n");
        let links = client(&server);
        assert!(links.fetch("bank.test").unwrap_err().contains("301"));
        assert!(links.fetch("bank.test").is_err());
        assert_eq!(server.hits.load(Ordering::SeqCst), 2, "failures are not cached");
    }

    #[test]
    fn truncated_bodies_are_refused() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]", true).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n\r\n[]", false).is_err());
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\n\r\n[]", true).unwrap(), b"[]");
        assert!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
                true
            )
            .is_err()
        );
    }
}
