//! Windows single sign-on (guide 6.2) behind a reverse proxy: the proxy
//! authenticates the Windows session and passes the user name in a header,
//! which is trusted only when the connection comes from a configured proxy.

use std::fmt;
use std::net::IpAddr;

use thiserror::Error;

use super::methods::{AuthMethod, AuthMethods, MethodRefused};

/// An address block, `10.0.0.0/8`, `fd00::/8` or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProxyListError {
    #[error("trusted proxies, item {item:?}: not an IP address or CIDR block ({reason})")]
    BadItem { item: String, reason: &'static str },
}

impl Cidr {
    pub fn parse(item: &str) -> Result<Cidr, ProxyListError> {
        let bad = |reason| ProxyListError::BadItem {
            item: item.to_owned(),
            reason,
        };
        let (addr, prefix) = match item.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (item, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad("bad address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| bad("bad prefix length"))?
            }
            Some(_) => return Err(bad("bad prefix length")),
        };
        if prefix > max {
            return Err(bad("prefix length too long"));
        }
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// `::ffff:10.1.2.3` is the IPv4 address 10.1.2.3 (dual-stack sockets).
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The proxies whose user-name header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses items separated by `|`, `,` or white space; empty means none.
    pub fn parse(list: &str) -> Result<TrustedProxies, ProxyListError> {
        list.split(['|', ',', ' ', '\t', '\n'])
            .filter(|s| !s.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(peer))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SsoError {
    #[error("Windows user header from {0}, which is not a trusted proxy: ignored and refused")]
    UntrustedPeer(IpAddr),
    #[error("Windows user header is empty or malformed")]
    BadHeader,
    #[error(transparent)]
    Refused(#[from] MethodRefused),
}

/// The user name a trusted proxy vouches for: `Ok(None)` without header
/// (fall back to the next method), an error when the header comes from
/// anywhere else or names nobody. `DOMAIN\user` and `user@REALM` give
/// `user` (guide 6.2.1: TWP user names equal the Windows names).
pub fn windows_user(
    peer: IpAddr,
    header: Option<&str>,
    proxies: &TrustedProxies,
    methods: &AuthMethods,
) -> Result<Option<String>, SsoError> {
    let Some(header) = header else {
        return Ok(None);
    };
    if !proxies.trusts(peer) {
        return Err(SsoError::UntrustedPeer(peer));
    }
    methods.permit(AuthMethod::Windows)?;
    let name = header.trim();
    let name = name.rsplit('\\').next().unwrap_or(name);
    let name = name.split('@').next().unwrap_or(name);
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(SsoError::BadHeader);
    }
    Ok(Some(name.to_owned()))
}
