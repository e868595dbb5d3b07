//! The DNS questions the checker asks, behind a small trait so the SPF evaluator can be tested
//! on a table of records; [`HickoryLookup`] asks a real server with hickory-resolver, each query
//! bounded in time and by the check's [`Budget`]; [`Routed`] asks an authoritative server for
//! the mail domains and a resolver for the rest; [`probe`] finds a server that does not answer at
//! all; [`txt_string`] and [`decode`] are how record data off the wire becomes what the parsers
//! read.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, Restrict};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
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

/// How long one attempt of a query waits for an answer.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts per query: the first and one retry.
pub const QUERY_ATTEMPTS: u32 = 2;
/// How long a server has to answer the first question before it counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The time a whole check may take, shared by its lookups: a lookup still waiting when the
/// deadline passes fails at once (nothing is concluded from it), so a check always ends, in time,
/// with everything it did find.
#[derive(Debug)]
pub struct Budget {
    timeout: Duration,
    deadline: Instant,
    cut: AtomicUsize,
}

impl Budget {
    /// A budget of `timeout` from now.
    pub fn new(timeout: Duration) -> Arc<Budget> {
        Arc::new(Budget {
            timeout,
            deadline: Instant::now() + timeout,
            cut: AtomicUsize::new(0),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How many lookups the deadline cut short.
    pub fn cut(&self) -> usize {
        self.cut.load(Ordering::Relaxed)
    }
}

/// The message of a lookup the deadline cut short (see [`Budget`]).
pub fn deadline_message(timeout: Duration) -> String {
    format!(
        "no answer before the check's time limit ({}) passed",
        seconds(timeout)
    )
}

/// `2s`, `1.5s`.
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// hickory-resolver against the system's resolvers or one given server, each query bounded by
/// [`QUERY_TIMEOUT`] × [`QUERY_ATTEMPTS`] and by the check's [`Budget`].
#[derive(Clone)]
pub struct HickoryLookup {
    resolver: TokioResolver,
    /// Who is asked, for messages: `127.0.0.1:5353` or `the system's resolvers (…)`.
    asked: String,
    budget: Arc<Budget>,
}

/// The name servers of the system's resolver configuration (`/etc/resolv.conf`).
pub fn system_servers() -> Result<Vec<SocketAddr>, String> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?;
    Ok(config
        .name_servers()
        .iter()
        .map(|ns| SocketAddr::new(ns.ip, ns.connections.first().map_or(53, |c| c.port)))
        .collect())
}

impl HickoryLookup {
    /// Asks `server` (UDP, and TCP for truncated answers), or the system's resolvers, within a
    /// budget of [`DEFAULT_TIMEOUT`] from now.
    pub fn new(server: Option<SocketAddr>) -> Result<HickoryLookup, String> {
        HickoryLookup::with_budget(server, Budget::new(DEFAULT_TIMEOUT))
    }

    /// Asks `server`, or the system's resolvers, within `budget`.
    pub fn with_budget(
        server: Option<SocketAddr>,
        budget: Arc<Budget>,
    ) -> Result<HickoryLookup, String> {
        let servers = match server {
            Some(addr) => vec![addr],
            None => system_servers()?,
        };
        let asked = match server {
            Some(addr) => addr.to_string(),
            None => format!(
                "the system's resolvers ({})",
                servers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let name_servers = servers
            .iter()
            .map(|addr| {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                ns
            })
            .collect();
        let mut builder = Resolver::builder_with_config(
            ResolverConfig::from_parts(None, vec![], name_servers),
            TokioRuntimeProvider::default(),
        );
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = QUERY_TIMEOUT;
        // Retries after the first attempt (hickory's `attempts` counts retries).
        opts.attempts = (QUERY_ATTEMPTS - 1) as usize;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        // A check asks a few dozen questions at once; none may be turned away as "busy".
        opts.max_active_requests = 256;
        // Every answer is wanted as the server gives it now.
        opts.cache_size = 64;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot set up the resolver: {e}"))?;
        Ok(HickoryLookup {
            resolver,
            asked,
            budget,
        })
    }

    /// Who this lookup asks, for messages.
    pub fn asked(&self) -> &str {
        &self.asked
    }

    async fn query(&self, name: &str, rtype: RecordType) -> Answer<RData> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        // Hickory bounds each attempt; this bounds the whole query, and the check's deadline.
        let own = Instant::now() + QUERY_TIMEOUT * QUERY_ATTEMPTS + Duration::from_millis(250);
        let until = own.min(self.budget.deadline);
        let asked = tokio::time::timeout_at(
            tokio::time::Instant::from_std(until),
            self.resolver.lookup(fqdn.as_str(), rtype),
        )
        .await;
        match asked {
            Err(_) if until == self.budget.deadline => {
                self.budget.cut.fetch_add(1, Ordering::Relaxed);
                Answer::Failed(deadline_message(self.budget.timeout))
            }
            Err(_) => Answer::Failed(self.no_answer()),
            Ok(Ok(lookup)) => Answer::Found(
                lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect(),
            )
            .map(Some),
            Ok(Err(e)) if e.is_nx_domain() => Answer::NxDomain,
            Ok(Err(e)) if e.is_no_records_found() => Answer::NoData,
            Ok(Err(NetError::Dns(DnsError::ResponseCode(code)))) => {
                Answer::Failed(format!("{} answered {}", self.asked, rcode_name(code)))
            }
            Ok(Err(NetError::Timeout)) => Answer::Failed(self.no_answer()),
            Ok(Err(e)) => Answer::Failed(format!("asking {}: {e}", self.asked)),
        }
    }

    fn no_answer(&self) -> String {
        format!(
            "no answer from {} ({QUERY_ATTEMPTS} attempts of {})",
            self.asked,
            seconds(QUERY_TIMEOUT)
        )
    }
}

/// A response code as DNS people write it: `SERVFAIL`, `REFUSED`.
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("response code {}", u16::from(other)),
    }
}

/// The longest a check takes unless told otherwise (`dns check --timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A TXT record's value as the checker reads it: its strings joined without spaces (RFC 7208
/// §3.3, RFC 6376 §3.6.2.2). Bytes that are not UTF-8 become U+FFFD, which no tag, mechanism or
/// key matches, so a record holding them is judged (and shown) rather than trusted or dropped.
pub fn txt_string<S: AsRef<[u8]>>(strings: &[S]) -> String {
    strings
        .iter()
        .map(|s| String::from_utf8_lossy(s.as_ref()))
        .collect()
}

/// The record types the checker asks for, by the value it reads from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Txt(String),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(u16, String),
    Name(String),
    Srv(Srv),
    Caa(String),
}

impl Value {
    /// What the checker takes from one record of an answer: TXT as [`txt_string`], names lower
    /// case without the trailing dot, CAA in presentation form. `None` for other types.
    pub fn of(data: RData) -> Option<Value> {
        Some(match data {
            RData::TXT(t) => Value::Txt(txt_string(&t.txt_data)),
            RData::A(a) => Value::A(a.0),
            RData::AAAA(a) => Value::Aaaa(a.0),
            RData::MX(mx) => Value::Mx(mx.preference, normalise(&mx.exchange.to_ascii())),
            RData::PTR(p) => Value::Name(normalise(&p.0.to_ascii())),
            RData::CNAME(c) => Value::Name(normalise(&c.0.to_ascii())),
            RData::SRV(s) => Value::Srv(Srv {
                priority: s.priority,
                weight: s.weight,
                port: s.port,
                target: normalise(&s.target.to_ascii()),
            }),
            RData::CAA(c) => Value::Caa(c.to_string()),
            _ => return None,
        })
    }
}

/// Decodes one record's data as it came off the wire (`rdata` of `rtype`) and reads the checker's
/// value from it: the path every answer takes, for tests with arbitrary bytes.
pub fn decode(rtype: RecordType, rdata: &[u8]) -> Option<Value> {
    let len = u16::try_from(rdata.len()).ok()?;
    let mut decoder = BinDecoder::new(rdata);
    let data = RData::read(&mut decoder, rtype, Restrict::new(len)).ok()?;
    Value::of(data)
}

impl HickoryLookup {
    async fn values(&self, name: &str, rtype: RecordType) -> Answer<Value> {
        self.query(name, rtype).await.map(Value::of)
    }
}

impl Lookup for HickoryLookup {
    async fn txt(&self, name: &str) -> Answer<String> {
        self.values(name, RecordType::TXT).await.map(|v| match v {
            Value::Txt(t) => Some(t),
            _ => None,
        })
    }

    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.values(name, RecordType::A).await.map(|v| match v {
            Value::A(a) => Some(a),
            _ => None,
        })
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.values(name, RecordType::AAAA).await.map(|v| match v {
            Value::Aaaa(a) => Some(a),
            _ => None,
        })
    }

    async fn mx(&self, name: &str) -> Answer<(u16, String)> {
        self.values(name, RecordType::MX).await.map(|v| match v {
            Value::Mx(p, h) => Some((p, h)),
            _ => None,
        })
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        let name = reverse_name(ip);
        self.values(&name, RecordType::PTR).await.map(|v| match v {
            Value::Name(n) => Some(n),
            _ => None,
        })
    }

    async fn cname(&self, name: &str) -> Answer<String> {
        self.values(name, RecordType::CNAME).await.map(|v| match v {
            Value::Name(n) => Some(n),
            _ => None,
        })
    }

    async fn srv(&self, name: &str) -> Answer<Srv> {
        self.values(name, RecordType::SRV).await.map(|v| match v {
            Value::Srv(s) => Some(s),
            _ => None,
        })
    }

    async fn caa(&self, name: &str) -> Answer<String> {
        self.values(name, RecordType::CAA).await.map(|v| match v {
            Value::Caa(c) => Some(c),
            _ => None,
        })
    }
}

/// Whether `name` is `zone` or below it (both lower case, without the trailing dot).
pub fn in_zone(name: &str, zone: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.len() >= zone.len()
        && name.as_bytes()[name.len() - zone.len()..].eq_ignore_ascii_case(zone.as_bytes())
        && (name.len() == zone.len() || name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// Two sources of answers: the authoritative server for names in `zones` (the mail domains),
/// another (a recursive resolver) for every other name and for reverse DNS. Without `ours`,
/// everything goes to `rest`.
pub struct Routed<A, B> {
    pub zones: Vec<String>,
    pub ours: Option<A>,
    pub rest: B,
}

impl<A: Lookup, B: Lookup> Routed<A, B> {
    fn ours(&self, name: &str) -> Option<&A> {
        self.ours
            .as_ref()
            .filter(|_| self.zones.iter().any(|z| in_zone(name, z)))
    }
}

macro_rules! route {
    ($self:ident, $name:ident, $method:ident) => {
        match $self.ours($name) {
            Some(a) => a.$method($name).await,
            None => $self.rest.$method($name).await,
        }
    };
}

impl<A: Lookup, B: Lookup> Lookup for Routed<A, B> {
    async fn txt(&self, name: &str) -> Answer<String> {
        route!(self, name, txt)
    }
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        route!(self, name, a)
    }
    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        route!(self, name, aaaa)
    }
    async fn mx(&self, name: &str) -> Answer<(u16, String)> {
        route!(self, name, mx)
    }
    /// Reverse zones belong to the addresses' providers: always the resolver.
    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.rest.ptr(ip).await
    }
    async fn cname(&self, name: &str) -> Answer<String> {
        route!(self, name, cname)
    }
    async fn srv(&self, name: &str) -> Answer<Srv> {
        route!(self, name, srv)
    }
    async fn caa(&self, name: &str) -> Answer<String> {
        route!(self, name, caa)
    }
}

/// Whether a DNS server answers at `server` at all: one question (`. NS`, which every
/// resolver has cached and every server answers, if only with REFUSED) sent up to three times
/// within `wait`. Any answer carrying our ID counts; `Err` says why none came: nothing listening
/// (the port is closed), silence, or answers with another ID (ignored, as a spoofed answer is).
pub fn probe(server: SocketAddr, wait: Duration) -> Result<(), String> {
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let fail = |e: std::io::Error| format!("cannot send a query to {server}: {e}");
    let sock = UdpSocket::bind(bind).map_err(fail)?;
    sock.connect(server).map_err(fail)?;
    let mut id = [0u8; 2];
    if getrandom::fill(&mut id).is_err() {
        id = [0x4d, 0x4b];
    }
    // Header: ID, RD, one question; the question: the root, NS, IN.
    let query = [
        id[0], id[1], 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1,
    ];
    let start = Instant::now();
    let resend = [Duration::ZERO, wait / 3, wait * 2 / 3];
    let mut sent = 0;
    let mut foreign = 0;
    let mut buf = [0u8; 4096];
    loop {
        let now = start.elapsed();
        if now >= wait {
            break;
        }
        if sent < resend.len() && now >= resend[sent] {
            sock.send(&query).map_err(fail)?;
            sent += 1;
        }
        let next = resend
            .get(sent)
            .copied()
            .unwrap_or(wait)
            .min(wait)
            .saturating_sub(now)
            .max(Duration::from_millis(1));
        sock.set_read_timeout(Some(next)).map_err(fail)?;
        match sock.recv(&mut buf) {
            Ok(n) if n >= 12 && buf[..2] == id && buf[2] & 0x80 != 0 => return Ok(()),
            Ok(_) => foreign += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(format!(
                    "nothing listens at {server}: the port is closed (connection refused)"
                ));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("asking {server}: {e}")),
        }
    }
    if foreign > 0 {
        Err(format!(
            "{server} sent {foreign} answer(s) that do not match the question (another ID), none that does, within {}",
            seconds(wait)
        ))
    } else {
        Err(format!(
            "no answer from {server} within {} ({sent} queries sent)",
            seconds(wait)
        ))
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
