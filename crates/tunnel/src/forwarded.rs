//! The client address behind a trusted reverse proxy: from `X-Forwarded-For` (or `X-Real-IP`), believed only
//! when the connection comes from a proxy the operator declared.
//!
//! Each proxy appends the address it received the request from, so the list reads client, proxy 1, …,
//! proxy n−1, and the connection itself comes from proxy n. Walking from the right, the first address that
//! is not a trusted proxy is the client as far as anyone trustworthy saw it; everything left of it may be
//! forged by that client and is ignored.

use std::net::IpAddr;
use std::str::FromStr;

use tokio_tungstenite::tungstenite::http::HeaderMap;

/// `X-Forwarded-For`, as nginx (`$proxy_add_x_forwarded_for`) and HAProxy (`option forwardfor`) send it.
pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";
/// `X-Real-IP`, nginx's single-address alternative (`$remote_addr`).
pub const REAL_IP_HEADER: &str = "x-real-ip";

/// A network of trusted proxies: an address and a prefix length (`10.0.0.0/8`, `::1/128`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a trusted-proxy network did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid proxy network {0:?}: expected an IP address with an optional /prefix")]
pub struct ProxyNetError(String);

impl FromStr for ProxyNet {
    type Err = ProxyNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ProxyNetError(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(ProxyNet { addr, prefix })
    }
}

impl ProxyNet {
    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the top `prefix` of `bits` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let shift = bits - u32::from(prefix);
    shift >= bits || (a >> shift) == (b >> shift)
}

/// The address to count a request against: `peer` itself unless `peer` is a trusted proxy, in which case
/// the rightmost untrusted address of `X-Forwarded-For` (all of its headers, in order), else `X-Real-IP`,
/// else `peer`. A malformed entry ends the walk there: what lies left of it is not believed.
pub fn client_address(headers: &HeaderMap, peer: IpAddr, trusted: &[ProxyNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if !hops.is_empty() {
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if is_trusted(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        return client;
    }
    headers
        .get(REAL_IP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_hop(v.trim()))
        .unwrap_or(peer)
}

/// One hop: an address, possibly with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (addr, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<ProxyNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        let v6: ProxyNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let one: ProxyNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["", "10.0.0.0/33", "::/129", "proxy", "10.0.0.0/x", "10.0.0/8"] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peers_are_their_own_address() {
        let h = headers(&[(FORWARDED_FOR_HEADER, "198.51.100.1")]);
        assert_eq!(
            client_address(&h, ip("203.0.113.5"), &nets(&["10.0.0.0/8"])),
            ip("203.0.113.5")
        );
        assert_eq!(client_address(&h, ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        // A forged first entry, the real client, then an inner proxy.
        let h = headers(&[(FORWARDED_FOR_HEADER, "1.2.3.4, 198.51.100.7, 10.0.0.9")]);
        assert_eq!(client_address(&h, ip("10.0.0.1"), &trusted), ip("198.51.100.7"));
        // Several headers are one list, in order; ports and brackets are accepted.
        let h = headers(&[
            (FORWARDED_FOR_HEADER, "1.2.3.4"),
            (FORWARDED_FOR_HEADER, "[2001:db8::5]:443"),
        ]);
        assert_eq!(client_address(&h, ip("10.0.0.1"), &trusted), ip("2001:db8::5"));
        let h = headers(&[(FORWARDED_FOR_HEADER, "198.51.100.7:5555")]);
        assert_eq!(client_address(&h, ip("10.0.0.1"), &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_malformed_hop_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[(FORWARDED_FOR_HEADER, "198.51.100.7, garbage, 10.0.0.9")]);
        assert_eq!(client_address(&h, ip("10.0.0.1"), &trusted), ip("10.0.0.9"));
        let h = headers(&[(FORWARDED_FOR_HEADER, "unknown")]);
        assert_eq!(client_address(&h, ip("10.0.0.1"), &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn real_ip_is_the_fallback() {
        let trusted = nets(&["127.0.0.1"]);
        let h = headers(&[(REAL_IP_HEADER, " 198.51.100.8 ")]);
        assert_eq!(client_address(&h, ip("127.0.0.1"), &trusted), ip("198.51.100.8"));
        assert_eq!(
            client_address(&HeaderMap::new(), ip("127.0.0.1"), &trusted),
            ip("127.0.0.1")
        );
    }

    proptest! {
        /// Whatever the headers say, the answer is the peer or an address written in them, and an untrusted
        /// peer is always itself.
        #[test]
        fn answers_come_from_the_peer_or_the_headers(
            xff in proptest::collection::vec("[0-9a-f:.\\[\\], ]{0,40}", 0..3),
            real in "[0-9a-f:. ]{0,40}",
            peer in any::<[u8; 4]>(),
            trust_peer in any::<bool>(),
        ) {
            let peer = IpAddr::from(peer);
            let trusted: Vec<ProxyNet> = if trust_peer { vec![format!("{peer}").parse().unwrap()] } else { vec![] };
            let mut h = HeaderMap::new();
            for v in &xff {
                if let Ok(v) = HeaderValue::from_str(v) {
                    h.append(FORWARDED_FOR_HEADER, v);
                }
            }
            if let Ok(v) = HeaderValue::from_str(&real) {
                h.append(REAL_IP_HEADER, v);
            }
            let got = client_address(&h, peer, &trusted);
            if !trust_peer {
                prop_assert_eq!(got, peer);
            } else if got != peer {
                let written = xff.iter().chain(std::iter::once(&real)).any(|v| v.contains(&got.to_string()) || v.contains(&format!("{got:?}")));
                prop_assert!(written || matches!(got, IpAddr::V6(_)), "{got} not in {xff:?} / {real:?}");
            }
        }
    }
}
