//! The DNS questions the checker asks, behind a small trait so the SPF evaluator can be tested
//! on a table of records; [`HickoryLookup`] asks a real server with hickory-resolver.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::{RData, RecordType};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};

/// What a query found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    Found(Vec<T>),
    /// The name does not exist.
    NxDomain,
    /// The name exists, without records of the type.
    NoData,
    /// Timeout, SERVFAIL, REFUSED, an unreachable server: nothing can be concluded.
    Failed(String),
}

impl<T> Answer<T> {
    /// The records found; none for every other answer.
    pub fn records(&self) -> &[T] {
        match self {
            Answer::Found(r) => r,
            _ => &[],
        }
    }

    /// NXDOMAIN or no records: a "void lookup" in SPF's terms (RFC 7208 §4.6.4).
    pub fn is_void(&self) -> bool {
        match self {
            Answer::Found(r) => r.is_empty(),
            Answer::NxDomain | Answer::NoData => true,
            Answer::Failed(_) => false,
        }
    }

    pub fn failure(&self) -> Option<&str> {
        match self {
            Answer::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn map<U>(self, f: impl Fn(T) -> Option<U>) -> Answer<U> {
        match self {
            Answer::Found(r) => {
                let out: Vec<U> = r.into_iter().filter_map(f).collect();
                if out.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Found(out)
                }
            }
            Answer::NxDomain => Answer::NxDomain,
            Answer::NoData => Answer::NoData,
            Answer::Failed(e) => Answer::Failed(e),
        }
    }
}

/// An SRV record's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Lower case, no trailing dot; `.` for "service not available".
    pub target: String,
}

/// The questions the checker asks. Names are absolute, lower case, without the trailing dot;
/// names in answers are returned the same way.
pub trait Lookup {
    /// Every TXT record, its strings joined without spaces (RFC 7208 §3.3).
    fn txt(&self, name: &str) -> impl Future<Output = Answer<String>>;
    fn a(&self, name: &str) -> impl Future<Output = Answer<Ipv4Addr>>;
    fn aaaa(&self, name: &str) -> impl Future<Output = Answer<Ipv6Addr>>;
    /// (preference, exchange).
    fn mx(&self, name: &str) -> impl Future<Output = Answer<(u16, String)>>;
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Answer<String>>;
    /// The CNAME at `name` itself (not followed).
    fn cname(&self, name: &str) -> impl Future<Output = Answer<String>>;
    fn srv(&self, name: &str) -> impl Future<Output = Answer<Srv>>;
    /// CAA records in presentation form: `0 issue "letsencrypt.org"`.
    fn caa(&self, name: &str) -> impl Future<Output = Answer<String>>;
}

/// Normalises a name from an answer: lower case, no trailing dot.
pub fn normalise(name: &str) -> String {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty() { ".".to_owned() } else { n }
}

/// hickory-resolver against the system's resolvers or one given server.
#[derive(Clone)]
pub struct HickoryLookup {
    resolver: TokioResolver,
}

/// How long one query waits for an answer, per attempt.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

impl HickoryLookup {
    /// Asks `server` (UDP, and TCP for truncated answers), or the system's resolvers.
    pub fn new(server: Option<SocketAddr>) -> Result<HickoryLookup, String> {
        let mut builder = match server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                Resolver::builder_with_config(
                    ResolverConfig::from_parts(None, vec![], vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => Resolver::builder_tokio()
                .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?,
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = QUERY_TIMEOUT;
        opts.attempts = 2;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        // Every answer is wanted as the server gives it now.
        opts.cache_size = 64;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot set up the resolver: {e}"))?;
        Ok(HickoryLookup { resolver })
    }

    async fn query(&self, name: &str, rtype: RecordType) -> Answer<RData> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.lookup(fqdn.as_str(), rtype).await {
            Ok(lookup) => Answer::Found(
                lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect(),
            )
            .map(Some),
            Err(e) if e.is_nx_domain() => Answer::NxDomain,
            Err(e) if e.is_no_records_found() => Answer::NoData,
            Err(e) => Answer::Failed(e.to_string()),
        }
    }
}

impl Lookup for HickoryLookup {
    async fn txt(&self, name: &str) -> Answer<String> {
        self.query(name, RecordType::TXT).await.map(|d| match d {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            _ => None,
        })
    }

    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.query(name, RecordType::A).await.map(|d| match d {
            RData::A(a) => Some(a.0),
            _ => None,
        })
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.query(name, RecordType::AAAA).await.map(|d| match d {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
    }

    async fn mx(&self, name: &str) -> Answer<(u16, String)> {
        self.query(name, RecordType::MX).await.map(|d| match d {
            RData::MX(mx) => Some((mx.preference, normalise(&mx.exchange.to_ascii()))),
            _ => None,
        })
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        let name = reverse_name(ip);
        self.query(&name, RecordType::PTR).await.map(|d| match d {
            RData::PTR(p) => Some(normalise(&p.0.to_ascii())),
            _ => None,
        })
    }

    async fn cname(&self, name: &str) -> Answer<String> {
        self.query(name, RecordType::CNAME).await.map(|d| match d {
            RData::CNAME(c) => Some(normalise(&c.0.to_ascii())),
            _ => None,
        })
    }

    async fn srv(&self, name: &str) -> Answer<Srv> {
        self.query(name, RecordType::SRV).await.map(|d| match d {
            RData::SRV(s) => Some(Srv {
                priority: s.priority,
                weight: s.weight,
                port: s.port,
                target: normalise(&s.target.to_ascii()),
            }),
            _ => None,
        })
    }

    async fn caa(&self, name: &str) -> Answer<String> {
        self.query(name, RecordType::CAA).await.map(|d| match d {
            RData::CAA(c) => Some(c.to_string()),
            _ => None,
        })
    }
}

/// `in-addr.arpa` / `ip6.arpa` name of an address, without the trailing dot.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut nibbles: Vec<String> = a
                .octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .map(|n| format!("{n:x}"))
                .collect();
            nibbles.reverse();
            format!("{}.ip6.arpa", nibbles.join("."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("203.0.113.25".parse().expect("ip")),
            "25.113.0.203.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().expect("ip")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }
}
