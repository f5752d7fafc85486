//! The per-instance allow-list of outbound HTTP destinations.
//!
//! An entry is `scheme://host[:port]`: the scheme is `http` or `https`; the host
//! is a DNS name, an IPv4 address or a bracketed IPv6 address, and a DNS name may
//! start with `*.` to match any subdomain (never the bare domain, never an IP
//! address); the port is a number or `*`, and defaults to the scheme's port.
//!
//! Private and loopback addresses are reachable only when they are named
//! exactly: an IP entry, or a DNS name listed without a wildcard — and the
//! whole entry must match the URL (scheme, host and port,
//! [`AllowList::names_exactly`]), not only its host name. A URL matched only
//! through a wildcard entry, whose name resolves to a private address, is
//! refused by the resolver of [`outbound`](super::outbound) — so a vendor's DNS
//! cannot point a connector at the platform's own network, even on a port
//! another entry names.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// A parsed allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    scheme: String,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    /// A DNS name, lowercase, compared exactly.
    Name(String),
    /// `*.suffix`: any name ending with `.suffix`.
    Subdomains(String),
    /// An IP address.
    Ip(IpAddr),
}

/// Why an allow-list entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entrée de liste d'autorisation invalide « {entry} » : {reason}")]
pub struct PatternError {
    entry: String,
    reason: &'static str,
}

impl Pattern {
    /// Parses one entry.
    ///
    /// # Errors
    /// [`PatternError`] for a missing or unsupported scheme, a path, user info,
    /// a bare `*` host, or a malformed port.
    pub fn parse(entry: &str) -> Result<Self, PatternError> {
        let error = |reason| PatternError {
            entry: entry.to_string(),
            reason,
        };
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| error("le schéma (http:// ou https://) est obligatoire"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(error("seuls http et https sont permis"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(error("ni chemin, ni paramètres, ni identifiants"));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| error("port invalide"))?;
        let port = match port {
            None => Some(default_port(&scheme)),
            Some("*") => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| error("port invalide"))?),
        };
        let host = if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.is_empty() || suffix.contains('*') || suffix.parse::<IpAddr>().is_ok() {
                return Err(error("un joker ne s'applique qu'à un nom de domaine"));
            }
            HostPattern::Subdomains(suffix.to_ascii_lowercase())
        } else if host.contains('*') {
            return Err(error("le joker n'est permis qu'en tête (*.exemple.fr)"));
        } else if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            HostPattern::Ip(ip)
        } else if host.is_empty() {
            return Err(error("hôte manquant"));
        } else {
            HostPattern::Name(host.to_ascii_lowercase())
        };
        Ok(Self { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &Host<&str>, port: u16) -> bool {
        if self.scheme != scheme || self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (&self.host, host) {
            (HostPattern::Name(name), Host::Domain(d)) => name.eq_ignore_ascii_case(d),
            (HostPattern::Subdomains(suffix), Host::Domain(d)) => {
                let d = d.to_ascii_lowercase();
                d.len() > suffix.len() + 1
                    && d.ends_with(suffix.as_str())
                    && d[..d.len() - suffix.len()].ends_with('.')
            }
            (HostPattern::Ip(ip), Host::Ipv4(v4)) => *ip == IpAddr::V4(*v4),
            (HostPattern::Ip(ip), Host::Ipv6(v6)) => *ip == IpAddr::V6(*v6),
            _ => false,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostPattern::Name(n) => f.write_str(n)?,
            HostPattern::Subdomains(s) => write!(f, "*.{s}")?,
            HostPattern::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            HostPattern::Ip(ip) => write!(f, "{ip}")?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => f.write_str(":*"),
        }
    }
}

fn split_host_port(rest: &str) -> Option<(&str, Option<&str>)> {
    if rest.starts_with('[') {
        let end = rest.find(']')?;
        let (host, after) = rest.split_at(end + 1);
        return match after {
            "" => Some((host, None)),
            _ => after.strip_prefix(':').map(|p| (host, Some(p))),
        };
    }
    match rest.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((rest, None)),
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// The allow-list of one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<Pattern>,
}

impl AllowList {
    /// Parses every entry.
    ///
    /// # Errors
    /// The first invalid entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, PatternError> {
        let patterns = entries
            .iter()
            .map(|e| Pattern::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether `url` may be requested.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return false;
        };
        let Some(port) = url.port_or_known_default() else {
            return false;
        };
        self.patterns
            .iter()
            .any(|p| p.matches(url.scheme(), &host, port))
    }

    /// Whether `url` is matched by an entry naming its DNS host exactly
    /// (without a wildcard) with the same scheme and port: only such a URL may
    /// reach a private or loopback address.
    pub fn names_exactly(&self, url: &Url) -> bool {
        let (Some(host @ Host::Domain(_)), Some(port)) = (url.host(), url.port_or_known_default())
        else {
            return false;
        };
        self.patterns
            .iter()
            .any(|p| matches!(p.host, HostPattern::Name(_)) && p.matches(url.scheme(), &host, port))
    }

    /// Whether the DNS name `host` is listed exactly in some entry, whatever
    /// its scheme and port (a second check in the resolver of URLs already
    /// matched by [`AllowList::names_exactly`]).
    pub(crate) fn lists_name(&self, host: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| matches!(&p.host, HostPattern::Name(n) if n.eq_ignore_ascii_case(host)))
    }

    /// The entries, normalised.
    pub fn entries(&self) -> Vec<String> {
        self.patterns.iter().map(ToString::to_string).collect()
    }
}

/// Whether an address is loopback, private, link-local, unspecified or otherwise
/// not a public internet address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // 100.64.0.0/10
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], url: &str) -> bool {
        let list = AllowList::parse(entries).expect("valid list");
        list.allows(&Url::parse(url).expect("valid url"))
    }

    #[test]
    fn exact_entries_match_scheme_host_and_port() {
        let entries = ["https://atal.ville.fr", "http://127.0.0.1:8091"];
        assert!(allows(&entries, "https://atal.ville.fr/api/Test"));
        assert!(allows(&entries, "https://ATAL.ville.fr:443/x"));
        assert!(allows(&entries, "http://127.0.0.1:8091/api"));
        assert!(!allows(&entries, "http://atal.ville.fr/api"));
        assert!(!allows(&entries, "https://atal.ville.fr:8443/api"));
        assert!(!allows(&entries, "http://127.0.0.1:8092/api"));
        assert!(!allows(&entries, "http://localhost:8091/api"));
        assert!(!allows(&entries, "http://[::1]:8091/api"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let entries = ["https://*.famille.fr:*"];
        assert!(allows(&entries, "https://api.famille.fr/x"));
        assert!(allows(&entries, "https://a.b.famille.fr:8443/x"));
        assert!(!allows(&entries, "https://famille.fr/x"));
        assert!(!allows(&entries, "https://evilfamille.fr/x"));
        assert!(!allows(&entries, "http://api.famille.fr/x"));
    }

    #[test]
    fn the_private_address_exemption_needs_the_whole_exact_entry() {
        // The entries of issue 7: the wildcard lets the port 18482 through,
        // the exact entry names the host on another port only.
        let list = AllowList::parse(&[
            "http://*.vendor.test:18482",
            "http://exact.vendor.test:18481",
        ])
        .expect("valid");
        let url = |u: &str| Url::parse(u).expect("valid url");

        assert!(list.allows(&url("http://exact.vendor.test:18482/")));
        assert!(!list.names_exactly(&url("http://exact.vendor.test:18482/")));
        assert!(!list.names_exactly(&url("https://exact.vendor.test:18481/")));
        assert!(!list.names_exactly(&url("http://other.vendor.test:18482/")));
        assert!(list.names_exactly(&url("http://exact.vendor.test:18481/api")));
    }

    #[test]
    fn bad_entries_are_refused() {
        for entry in [
            "atal.ville.fr",
            "ftp://atal.ville.fr",
            "https://*",
            "https://*.10.0.0.1",
            "https://a.*.fr",
            "https://atal.ville.fr/api",
            "https://user@atal.ville.fr",
            "https://atal.ville.fr:port",
            "https://",
        ] {
            assert!(Pattern::parse(entry).is_err(), "{entry} should be refused");
        }
    }

    #[test]
    fn entries_are_normalised_for_display() {
        let list = AllowList::parse(&[
            "HTTPS://Atal.Ville.fr",
            "http://[::1]:80",
            "https://*.x.fr:*",
        ])
        .expect("valid");
        assert_eq!(
            list.entries(),
            [
                "https://atal.ville.fr:443",
                "http://[::1]:80",
                "https://*.x.fr:*"
            ]
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2a00:1450::1"] {
            assert!(!is_private(ip.parse().expect("ip")), "{ip}");
        }
    }
}
