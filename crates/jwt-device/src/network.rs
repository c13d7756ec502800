//! The client's address: the peer, or — only when the peer is a trusted
//! proxy — what `Forwarded` / `X-Forwarded-For` say.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use jwt_core::RequestInfo;

/// An address block (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// A block that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an address or CIDR block like 10.0.0.0/8 or 2001:db8::/32")]
pub struct BadCidr(String);

impl FromStr for Cidr {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadCidr(text.chars().take(64).collect());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        // Peers are compared in canonical form (an IPv4-mapped address as
        // IPv4), so a block of IPv4-mapped addresses is an IPv4 block.
        Ok(match network {
            IpAddr::V6(v6) if prefix >= 96 && v6.to_ipv4_mapped().is_some() => Cidr {
                network: network.to_canonical(),
                prefix: prefix - 96,
            },
            _ => Cidr { network, prefix },
        })
    }
}

impl Cidr {
    /// Whether `address` is in the block (IPv4-mapped IPv6 addresses count
    /// as their IPv4 address).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How many hops of the forwarding header are looked at, from the right.
const MAX_HOPS: usize = 32;

/// The header a trusted proxy writes the client's address into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, cloud load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

/// The proxies whose forwarding header is believed, and which header that
/// is. Only one header is read: proxies append to the header they write and
/// pass the other through as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The proxies' addresses.
    pub blocks: Vec<Cidr>,
    /// The header they write.
    pub header: ForwardedHeader,
}

impl TrustedProxies {
    /// Proxies in `blocks` writing `header`.
    pub fn new(blocks: Vec<Cidr>, header: ForwardedHeader) -> Self {
        TrustedProxies { blocks, header }
    }

    fn contain(&self, address: IpAddr) -> bool {
        self.blocks.iter().any(|cidr| cidr.contains(address))
    }
}

/// The client's address. The forwarding header is read only when the peer
/// is a trusted proxy; then, walking from the right, the first address that
/// is not a trusted proxy is the client. Any client can write
/// `X-Forwarded-For`: believing it from anyone would let them choose the
/// address stored (the Django package does), and only the part to the right
/// of the first untrusted hop was written by our proxies. A hop that cannot
/// be read ends the walk at the last address that could.
pub fn client_ip(request: &RequestInfo, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = request.peer()?.to_canonical();
    if !proxies.contain(peer) {
        return Some(peer);
    }
    let hops: Vec<Option<&str>> = match proxies.header {
        ForwardedHeader::Forwarded => request
            .header_values("forwarded")
            .flat_map(|value| value.split(','))
            .map(forwarded_for)
            .collect(),
        ForwardedHeader::XForwardedFor => request
            .header_values("x-forwarded-for")
            .flat_map(|value| value.split(','))
            .map(|hop| Some(hop.trim()))
            .collect(),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev().take(MAX_HOPS) {
        let Some(address) = hop.and_then(parse_hop) else {
            break;
        };
        client = address;
        if !proxies.contain(address) {
            break;
        }
    }
    Some(client)
}

/// The `for=` node of one `Forwarded` element (RFC 7239), quotes stripped.
fn forwarded_for(element: &str) -> Option<&str> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
        .map(|(_, node)| node.trim().trim_matches('"'))
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<IpAddr>()
            .ok()
            .map(|a| a.to_canonical());
    }
    let (address, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|c| c.parse().unwrap()).collect(), header)
    }

    fn from(peer: &str) -> RequestInfo {
        RequestInfo::new(Some(peer.parse().unwrap()))
    }

    #[test]
    fn blocks_contain_what_they_should() {
        let block: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(block.contains("10.200.3.4".parse().unwrap()));
        assert!(
            block.contains("::ffff:10.1.1.1".parse().unwrap()),
            "IPv4-mapped"
        );
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(
            one.contains("192.0.2.7".parse().unwrap())
                && !one.contains("192.0.2.8".parse().unwrap())
        );
        let mapped: Cidr = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(mapped, block, "an IPv4-mapped block is the IPv4 block");
        assert!(mapped.contains("10.9.9.9".parse().unwrap()));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_peers() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let rfc = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let spoofed = from("203.0.113.9").with_header("X-Forwarded-For", "1.2.3.4");
        assert_eq!(
            client_ip(&spoofed, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        let proxied =
            from("10.0.0.2").with_header("X-Forwarded-For", "6.6.6.6, 198.51.100.4, 10.0.0.5");
        assert_eq!(
            client_ip(&proxied, &trusted),
            Some("198.51.100.4".parse().unwrap()),
            "the right-most address that is not a trusted proxy; the client-written left part is ignored"
        );
        let forwarded = from("10.0.0.2").with_header(
            "Forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#,
        );
        assert_eq!(
            client_ip(&forwarded, &rfc),
            Some("2001:db8:cafe::17".parse().unwrap())
        );
        assert_eq!(
            client_ip(&forwarded, &trusted),
            Some("10.0.0.2".parse().unwrap()),
            "a Forwarded header the proxy did not write is the client's: ignored"
        );
        let both = from("10.0.0.2")
            .with_header("Forwarded", "for=1.2.3.4")
            .with_header("X-Forwarded-For", "198.51.100.4");
        assert_eq!(
            client_ip(&both, &trusted),
            Some("198.51.100.4".parse().unwrap())
        );
        assert_eq!(
            client_ip(&both, &rfc),
            Some("1.2.3.4".parse().unwrap()),
            "only the configured header"
        );
        let garbage = from("10.0.0.2").with_header("X-Forwarded-For", "not-an-ip");
        assert_eq!(
            client_ip(&garbage, &trusted),
            Some("10.0.0.2".parse().unwrap())
        );
        let obfuscated = from("10.0.0.2").with_header("Forwarded", "for=_hidden");
        assert_eq!(
            client_ip(&obfuscated, &rfc),
            Some("10.0.0.2".parse().unwrap())
        );
        let garbage_left = from("10.0.0.2").with_header("X-Forwarded-For", "junk, 198.51.100.4");
        assert_eq!(
            client_ip(&garbage_left, &trusted),
            Some("198.51.100.4".parse().unwrap()),
            "what the client wrote left of the real hop does not matter"
        );
        let mut padded: String = (0..100).map(|i| format!("6.6.6.{i}, ")).collect();
        padded.push_str("198.51.100.4");
        let padded = from("10.0.0.2").with_header("X-Forwarded-For", padded);
        assert_eq!(
            client_ip(&padded, &trusted),
            Some("198.51.100.4".parse().unwrap()),
            "a long forged list cannot push the real hop out of sight"
        );
        let split = from("10.0.0.2")
            .with_header("X-Forwarded-For", "6.6.6.6")
            .with_header("X-Forwarded-For", "198.51.100.4, 10.0.0.9");
        assert_eq!(
            client_ip(&split, &trusted),
            Some("198.51.100.4".parse().unwrap()),
            "several headers read as one list"
        );
        let all_trusted = from("10.0.0.2").with_header("X-Forwarded-For", "10.1.1.1");
        assert_eq!(
            client_ip(&all_trusted, &trusted),
            Some("10.1.1.1".parse().unwrap())
        );
        assert_eq!(client_ip(&RequestInfo::new(None), &trusted), None);
    }
}
