//! SPF (RFC 7208): one typed record the plan builds and the checker parses, its text form, and
//! an evaluator that follows includes and redirects while counting DNS lookups (at most 10) and
//! void lookups (at most 2), as receivers do (§4.6.4).

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

use ipnet::IpNet;

use crate::lookup::{Answer, Lookup};

/// Terms that cause a DNS lookup: at most this many per evaluation (§4.6.4).
pub const MAX_LOOKUPS: u32 = 10;
/// Lookups that return no records or NXDOMAIN: at most this many (§4.6.4).
pub const MAX_VOID_LOOKUPS: u32 = 2;
/// MX names evaluated per `mx` mechanism (§4.6.4).
pub const MAX_MX_NAMES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    /// `-`, `~`, `?`, or nothing for `+`.
    pub fn prefix(self) -> &'static str {
        match self {
            Qualifier::Pass => "",
            Qualifier::Fail => "-",
            Qualifier::SoftFail => "~",
            Qualifier::Neutral => "?",
        }
    }

    fn result(self) -> SpfResult {
        match self {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(String),
    A {
        domain: Option<String>,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Mx {
        domain: Option<String>,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Ptr(Option<String>),
    Ip4(Ipv4Addr, Option<u8>),
    Ip6(Ipv6Addr, Option<u8>),
    Exists(String),
}

impl Mechanism {
    /// Whether evaluating it costs one of the 10 DNS lookups.
    pub fn costs_lookup(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Directive(Qualifier, Mechanism),
    Redirect(String),
    Explanation(String),
    /// A modifier SPF does not define: ignored (§6).
    Unknown(String, String),
}

/// An SPF record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spf {
    pub terms: Vec<Term>,
}

fn cidr_suffix(v4: Option<u8>, v6: Option<u8>) -> String {
    let mut s = String::new();
    if let Some(p) = v4 {
        s.push_str(&format!("/{p}"));
    }
    if let Some(p) = v6 {
        s.push_str(&format!("//{p}"));
    }
    s
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mechanism::All => f.write_str("all"),
            Mechanism::Include(d) => write!(f, "include:{d}"),
            Mechanism::A { domain, v4, v6 } | Mechanism::Mx { domain, v4, v6 } => {
                f.write_str(if matches!(self, Mechanism::A { .. }) {
                    "a"
                } else {
                    "mx"
                })?;
                if let Some(d) = domain {
                    write!(f, ":{d}")?;
                }
                f.write_str(&cidr_suffix(*v4, *v6))
            }
            Mechanism::Ptr(d) => match d {
                Some(d) => write!(f, "ptr:{d}"),
                None => f.write_str("ptr"),
            },
            Mechanism::Ip4(a, p) => match p {
                Some(p) => write!(f, "ip4:{a}/{p}"),
                None => write!(f, "ip4:{a}"),
            },
            Mechanism::Ip6(a, p) => match p {
                Some(p) => write!(f, "ip6:{a}/{p}"),
                None => write!(f, "ip6:{a}"),
            },
            Mechanism::Exists(d) => write!(f, "exists:{d}"),
        }
    }
}

impl fmt::Display for Spf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for t in &self.terms {
            match t {
                Term::Directive(q, m) => write!(f, " {}{m}", q.prefix())?,
                Term::Redirect(d) => write!(f, " redirect={d}")?,
                Term::Explanation(d) => write!(f, " exp={d}")?,
                Term::Unknown(n, v) => write!(f, " {n}={v}")?,
            }
        }
        Ok(())
    }
}

/// Whether a TXT record is an SPF record: `v=spf1` alone or followed by a space (§4.5).
pub fn is_spf(txt: &str) -> bool {
    let t = txt.as_bytes();
    t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") && (t.len() == 6 || t[6] == b' ')
}

/// A CIDR length as RFC 7208 §5.6 spells it: digits only, no leading zero (`u8`'s parser would
/// also take `+5`).
fn parse_prefix(raw: &str, max: u8) -> Result<u8, String> {
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u8>() {
        Ok(p) if digits && p <= max && !(raw.len() > 1 && raw.starts_with('0')) => Ok(p),
        _ => Err(format!("`/{raw}` is not a prefix length (0-{max})")),
    }
}

/// Splits `domain/4//6` into its parts.
/// A domain-spec and its IPv4 and IPv6 prefix lengths.
type DomainCidr = (Option<String>, Option<u8>, Option<u8>);

fn domain_and_cidr(rest: &str) -> Result<DomainCidr, String> {
    let (head, v6) = match rest.split_once("//") {
        Some((h, p)) => (h, Some(parse_prefix(p, 128)?)),
        None => (rest, None),
    };
    let (domain, v4) = match head.rsplit_once('/') {
        Some((d, p)) => (d, Some(parse_prefix(p, 32)?)),
        None => (head, None),
    };
    let domain = match domain {
        "" => None,
        d => Some(check_domain_spec(
            d.strip_prefix(':').ok_or("missing `:`")?,
        )?),
    };
    Ok((domain, v4, v6))
}

fn check_domain_spec(d: &str) -> Result<String, String> {
    if d.is_empty() || d.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(format!("`{d}` is not a domain"));
    }
    Ok(d.to_owned())
}

/// The modifiers a record may hold at most once (§6), as parsing meets them.
#[derive(Default)]
struct Seen {
    redirect: bool,
    exp: bool,
}

/// A modifier's name and value: `name=value`, the name starting with a letter (§4.6.1).
fn split_modifier(raw: &str) -> Option<(&str, &str)> {
    let (name, value) = raw.split_once('=')?;
    let is_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    is_name.then_some((name, value))
}

/// `redirect=`, `exp=` (each at most once, checked before the value), or a modifier kept as
/// it is.
fn parse_modifier(name: &str, value: &str, seen: &mut Seen) -> Result<Term, String> {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "redirect" if seen.redirect => Err("two `redirect=` modifiers".into()),
        "exp" if seen.exp => Err("two `exp=` modifiers".into()),
        "redirect" => {
            seen.redirect = true;
            Ok(Term::Redirect(check_domain_spec(value)?))
        }
        "exp" => {
            seen.exp = true;
            Ok(Term::Explanation(check_domain_spec(value)?))
        }
        _ => Ok(Term::Unknown(name, value.to_owned())),
    }
}

/// A qualifier (`+` when absent) and a mechanism (§4.6.2, §5).
fn parse_directive(raw: &str) -> Result<Term, String> {
    // The qualifier characters have no case: the raw first byte is the lower-cased one.
    let (q, body) = match raw.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &raw[1..]),
        b'-' => (Qualifier::Fail, &raw[1..]),
        b'~' => (Qualifier::SoftFail, &raw[1..]),
        b'?' => (Qualifier::Neutral, &raw[1..]),
        _ => (Qualifier::Pass, raw),
    };
    let name_end = body.find([':', '/']).unwrap_or(body.len());
    let (name, rest) = body.split_at(name_end);
    let m = match name.to_ascii_lowercase().as_str() {
        "all" if rest.is_empty() => Mechanism::All,
        "include" => Mechanism::Include(check_domain_spec(
            rest.strip_prefix(':').ok_or("`include` needs `:domain`")?,
        )?),
        "exists" => Mechanism::Exists(check_domain_spec(
            rest.strip_prefix(':').ok_or("`exists` needs `:domain`")?,
        )?),
        "a" => {
            let (domain, v4, v6) = domain_and_cidr(rest)?;
            Mechanism::A { domain, v4, v6 }
        }
        "mx" => {
            let (domain, v4, v6) = domain_and_cidr(rest)?;
            Mechanism::Mx { domain, v4, v6 }
        }
        "ptr" => Mechanism::Ptr(match rest {
            "" => None,
            r => Some(check_domain_spec(
                r.strip_prefix(':').ok_or("`ptr` takes `:domain`")?,
            )?),
        }),
        "ip4" => {
            let (addr, p) = address_and_prefix(rest, "ip4", "IPv4", 32)?;
            Mechanism::Ip4(addr, p)
        }
        "ip6" => {
            let (addr, p) = address_and_prefix(rest, "ip6", "IPv6", 128)?;
            Mechanism::Ip6(addr, p)
        }
        _ => return Err(format!("unknown mechanism `{raw}`")),
    };
    Ok(Term::Directive(q, m))
}

/// `:address` and an optional `/prefix` of an `ip4` or `ip6` mechanism (`family` names the
/// address kind in errors; `max` is its longest prefix).
fn address_and_prefix<A: std::str::FromStr>(
    rest: &str,
    mechanism: &str,
    family: &str,
    max: u8,
) -> Result<(A, Option<u8>), String> {
    let r = rest
        .strip_prefix(':')
        .ok_or_else(|| format!("`{mechanism}` needs `:address`"))?;
    let (addr, p) = match r.split_once('/') {
        Some((a, p)) => (a, Some(parse_prefix(p, max)?)),
        None => (r, None),
    };
    let addr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an {family} address"))?;
    Ok((addr, p))
}

impl Spf {
    /// Parses a record (§4.6, §5, §6). Unknown mechanisms are errors; unknown modifiers are kept.
    pub fn parse(text: &str) -> Result<Spf, String> {
        if !is_spf(text) {
            return Err("the record does not start with `v=spf1`".into());
        }
        let mut terms = Vec::new();
        let mut seen = Seen::default();
        for raw in text[6..].split(' ').filter(|t| !t.is_empty()) {
            terms.push(match split_modifier(raw) {
                Some((name, value)) => parse_modifier(name, value, &mut seen)?,
                None => parse_directive(raw)?,
            });
        }
        Ok(Spf { terms })
    }

    /// DNS lookups the record's own terms cost (includes and redirect count one each; what they
    /// lead to is counted by [`analyse`]).
    pub fn own_lookups(&self) -> u32 {
        let mut n = self
            .terms
            .iter()
            .filter(|t| match t {
                Term::Directive(_, m) => m.costs_lookup(),
                Term::Redirect(_) => true,
                _ => false,
            })
            .count() as u32;
        // `redirect` is ignored when the record has `all` (§6.1).
        if self.has_all() && self.terms.iter().any(|t| matches!(t, Term::Redirect(_))) {
            n -= 1;
        }
        n
    }

    fn has_all(&self) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t, Term::Directive(_, Mechanism::All)))
    }

    fn redirect(&self) -> Option<&str> {
        if self.has_all() {
            return None;
        }
        self.terms.iter().find_map(|t| match t {
            Term::Redirect(d) => Some(d.as_str()),
            _ => None,
        })
    }
}

/// The result of `check_host()` (§2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError(String),
    PermError(String),
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpfResult::None => f.write_str("none"),
            SpfResult::Neutral => f.write_str("neutral"),
            SpfResult::Pass => f.write_str("pass"),
            SpfResult::Fail => f.write_str("fail"),
            SpfResult::SoftFail => f.write_str("softfail"),
            SpfResult::TempError(e) => write!(f, "temperror ({e})"),
            SpfResult::PermError(e) => write!(f, "permerror ({e})"),
        }
    }
}

/// The SPF records at `name`: every TXT record that is one.
pub async fn records<L: Lookup>(dns: &L, name: &str) -> Answer<String> {
    match dns.txt(name).await {
        Answer::Found(txt) => {
            let spf: Vec<String> = txt.into_iter().filter(|t| is_spf(t)).collect();
            if spf.is_empty() {
                Answer::NoData
            } else {
                Answer::Found(spf)
            }
        }
        other => other,
    }
}

/// The one SPF record at a name, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fetched {
    Record(String),
    /// No SPF record (NXDOMAIN, no TXT records, or none of them SPF): a void lookup.
    None,
    /// More than one SPF record: a permerror (§4.5).
    Multiple(usize),
    /// The query failed (timeout, SERVFAIL): a temperror.
    Failed(String),
}

async fn fetch<L: Lookup>(dns: &L, name: &str) -> Fetched {
    match records(dns, name).await {
        Answer::Found(r) if r.len() > 1 => Fetched::Multiple(r.len()),
        Answer::Found(r) => r.into_iter().next().map_or(Fetched::None, Fetched::Record),
        Answer::Failed(e) => Fetched::Failed(e),
        Answer::NxDomain | Answer::NoData => Fetched::None,
    }
}

/// Counters shared by one evaluation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub lookups: u32,
    pub void_lookups: u32,
}

impl Counts {
    fn lookup(&mut self) -> Result<(), SpfResult> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(SpfResult::PermError(format!(
                "more than {MAX_LOOKUPS} DNS lookups"
            )));
        }
        Ok(())
    }

    /// Counts a void lookup when `void`.
    fn void_if(&mut self, void: bool) -> Result<(), SpfResult> {
        if void {
            self.void_lookups += 1;
            if self.void_lookups > MAX_VOID_LOOKUPS {
                return Err(SpfResult::PermError(format!(
                    "more than {MAX_VOID_LOOKUPS} void lookups"
                )));
            }
        }
        Ok(())
    }

    /// Counts `answer` for the void-lookup limit; a failed query is a temperror naming `name`.
    fn void<T>(&mut self, name: &str, answer: &Answer<T>) -> Result<(), SpfResult> {
        self.void_if(answer.is_void())?;
        if let Some(e) = answer.failure() {
            return Err(SpfResult::TempError(format!("{name}: {e}")));
        }
        Ok(())
    }
}

/// What a `check_host()` call is about.
#[derive(Debug, Clone)]
pub struct Query {
    pub ip: IpAddr,
    /// The envelope sender's local part and domain (`%{l}`, `%{o}`, `%{s}`), and the HELO name
    /// (`%{h}`), for macros. The sender's domain is where evaluation starts; includes and
    /// redirects change `%{d}`, never `%{o}`.
    pub local_part: String,
    pub sender_domain: String,
    pub helo: String,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// `check_host(ip, domain, sender)` (§4): evaluates the record at `domain` for `q.ip`, following
/// includes and redirects, counting lookups in `counts`.
pub fn check_host<'a, L: Lookup>(
    dns: &'a L,
    q: &'a Query,
    domain: String,
    counts: &'a mut Counts,
) -> Boxed<'a, SpfResult> {
    Box::pin(async move {
        let fetched = fetch(dns, &domain).await;
        check_fetched(dns, q, domain, fetched, counts).await
    })
}

/// [`check_host`] with the record at `domain` already fetched.
fn check_fetched<'a, L: Lookup>(
    dns: &'a L,
    q: &'a Query,
    domain: String,
    fetched: Fetched,
    counts: &'a mut Counts,
) -> Boxed<'a, SpfResult> {
    Box::pin(async move {
        let text = match fetched {
            Fetched::Record(t) => t,
            Fetched::Multiple(n) => {
                return SpfResult::PermError(format!("{n} SPF records at {domain}"));
            }
            Fetched::Failed(e) => return SpfResult::TempError(format!("{domain}: {e}")),
            Fetched::None => return SpfResult::None,
        };
        let spf = match Spf::parse(&text) {
            Ok(s) => s,
            Err(e) => return SpfResult::PermError(format!("{domain}: {e}")),
        };
        match evaluate(dns, q, &domain, &spf, counts).await {
            Ok(Some(r)) => r,
            Ok(None) => match spf.redirect() {
                Some(target) => {
                    if let Err(r) = counts.lookup() {
                        return r;
                    }
                    let target = expand(target, q, &domain);
                    match check_host(dns, q, target.clone(), counts).await {
                        SpfResult::None => {
                            SpfResult::PermError(format!("redirect to {target}, which has no SPF"))
                        }
                        r => r,
                    }
                }
                None => SpfResult::Neutral,
            },
            Err(r) => r,
        }
    })
}

/// Evaluates the directives in order; `Ok(None)` when none matched.
async fn evaluate<L: Lookup>(
    dns: &L,
    q: &Query,
    domain: &str,
    spf: &Spf,
    counts: &mut Counts,
) -> Result<Option<SpfResult>, SpfResult> {
    for term in &spf.terms {
        let Term::Directive(qualifier, m) = term else {
            continue;
        };
        if m.costs_lookup() {
            counts.lookup()?;
        }
        if mechanism_matches(dns, q, domain, m, counts).await? {
            return Ok(Some(qualifier.result()));
        }
    }
    Ok(None)
}

/// Whether `m` matches `q.ip` (§5); `Err` ends the evaluation with that result.
async fn mechanism_matches<L: Lookup>(
    dns: &L,
    q: &Query,
    domain: &str,
    m: &Mechanism,
    counts: &mut Counts,
) -> Result<bool, SpfResult> {
    // The domain-spec a mechanism names, macros expanded; the current domain when it names none.
    let target = |d: &Option<String>| {
        d.as_deref()
            .map_or(domain.to_owned(), |d| expand(d, q, domain))
    };
    Ok(match m {
        Mechanism::All => true,
        Mechanism::Ip4(net, p) => in_net(q.ip, IpAddr::V4(*net), p.unwrap_or(32)),
        Mechanism::Ip6(net, p) => in_net(q.ip, IpAddr::V6(*net), p.unwrap_or(128)),
        Mechanism::Include(target) => include_matches(dns, q, domain, target, counts).await?,
        Mechanism::A { domain: d, v4, v6 } => {
            addresses_match(dns, q.ip, &target(d), *v4, *v6, counts, true).await?
        }
        Mechanism::Mx { domain: d, v4, v6 } => {
            mx_matches(dns, q.ip, &target(d), *v4, *v6, counts).await?
        }
        Mechanism::Ptr(d) => ptr_matches(dns, q.ip, &target(d), counts).await?,
        Mechanism::Exists(d) => {
            let target = expand(d, q, domain);
            let a = dns.a(&target).await;
            counts.void(&target, &a)?;
            !a.records().is_empty()
        }
    })
}

/// `include:` (§5.2): matches when the target's record passes; a target without a record is
/// a permerror, and its errors are the evaluation's.
async fn include_matches<L: Lookup>(
    dns: &L,
    q: &Query,
    domain: &str,
    target: &str,
    counts: &mut Counts,
) -> Result<bool, SpfResult> {
    let target = expand(target, q, domain);
    // The target's own record: a void lookup when there is none.
    let fetched = fetch(dns, &target).await;
    counts.void_if(fetched == Fetched::None)?;
    match check_fetched(dns, q, target.clone(), fetched, counts).await {
        SpfResult::Pass => Ok(true),
        SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
        SpfResult::None => Err(SpfResult::PermError(format!(
            "include:{target} has no SPF record"
        ))),
        e => Err(e),
    }
}

/// `mx` (§5.4): matches when `ip` is an address of one of the target's (at most
/// [`MAX_MX_NAMES`]) mail hosts.
async fn mx_matches<L: Lookup>(
    dns: &L,
    ip: IpAddr,
    target: &str,
    v4: Option<u8>,
    v6: Option<u8>,
    counts: &mut Counts,
) -> Result<bool, SpfResult> {
    let mx = dns.mx(target).await;
    counts.void(target, &mx)?;
    if mx.records().len() > MAX_MX_NAMES {
        return Err(SpfResult::PermError(format!(
            "mx:{target} has more than {MAX_MX_NAMES} MX records"
        )));
    }
    for (_, host) in mx.records() {
        if addresses_match(dns, ip, host, v4, v6, counts, false).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `ptr` (§5.5): matches when a name `ip` reverses to, confirmed by its own addresses, is the
/// target or below it.
async fn ptr_matches<L: Lookup>(
    dns: &L,
    ip: IpAddr,
    target: &str,
    counts: &mut Counts,
) -> Result<bool, SpfResult> {
    let names = dns.ptr(ip).await;
    counts.void(&crate::lookup::reverse_name(ip), &names)?;
    for name in names.records().iter().take(MAX_MX_NAMES) {
        let confirmed = addresses_match(dns, ip, name, None, None, counts, false)
            .await
            .unwrap_or(false);
        if confirmed && (name == target || name.ends_with(&format!(".{target}"))) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `ip` is among `name`'s addresses (of its own family), within the given prefixes.
async fn addresses_match<L: Lookup>(
    dns: &L,
    ip: IpAddr,
    name: &str,
    v4: Option<u8>,
    v6: Option<u8>,
    counts: &mut Counts,
    count_void: bool,
) -> Result<bool, SpfResult> {
    Ok(match ip {
        IpAddr::V4(_) => {
            let a = dns.a(name).await;
            if count_void {
                counts.void(name, &a)?;
            }
            a.records()
                .iter()
                .any(|n| in_net(ip, IpAddr::V4(*n), v4.unwrap_or(32)))
        }
        IpAddr::V6(_) => {
            let a = dns.aaaa(name).await;
            if count_void {
                counts.void(name, &a)?;
            }
            a.records()
                .iter()
                .any(|n| in_net(ip, IpAddr::V6(*n), v6.unwrap_or(128)))
        }
    })
}

/// Whether `ip` lies in `net/prefix` (never across families).
pub fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let longest = if net.is_ipv4() { 32 } else { 128 };
    IpNet::new(net, prefix.min(longest)).is_ok_and(|net| net.contains(&ip))
}

/// Expands the macros of a domain-spec (§7): `%{s}`, `%{l}`, `%{o}`, `%{d}`, `%{i}`, `%{h}`,
/// `%{v}`, with digit and `r` transformers and delimiters; `%%`, `%_`, `%-`. An upper-case macro
/// letter URL-escapes its value. A result longer than a domain name may be loses labels from the
/// left until it fits (§7.3). `domain` is the domain being evaluated (`%{d}`).
pub fn expand(spec: &str, q: &Query, domain: &str) -> String {
    if !spec.contains('%') {
        return spec.to_ascii_lowercase();
    }
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('_') => out.push(' '),
            Some('-') => out.push_str("%20"),
            Some('{') => {
                let mut body = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    body.push(c);
                }
                out.push_str(&expand_macro(&body, q, domain));
            }
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    truncate_domain(out.to_ascii_lowercase())
}

/// One `%{...}` macro (§7.1), given what is between the braces: the letter's value, split at
/// the delimiters (`.` by default), reversed with `r`, its rightmost labels kept with a digit
/// transformer, joined with `.`, and URL-escaped when the letter is upper-case.
fn expand_macro(body: &str, q: &Query, domain: &str) -> String {
    let mut it = body.chars();
    let raw_letter = it.next().unwrap_or('d');
    let rest: String = it.collect();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = rest.get(digits.len()..).unwrap_or("");
    let reverse = after.starts_with(['r', 'R']);
    let delims: Vec<char> = after
        .trim_start_matches(['r', 'R'])
        .chars()
        .filter(|c| ".-+,/_=".contains(*c))
        .collect();
    let value = macro_value(raw_letter.to_ascii_lowercase(), q, domain);
    let mut parts: Vec<&str> = value
        .split(|c| {
            if delims.is_empty() {
                c == '.'
            } else {
                delims.contains(&c)
            }
        })
        .collect();
    if reverse {
        parts.reverse();
    }
    if let Ok(n) = digits.parse::<usize>()
        && n > 0
        && n < parts.len()
    {
        parts = parts.split_off(parts.len() - n);
    }
    let joined = parts.join(".");
    if raw_letter.is_ascii_uppercase() {
        url_escape(&joined)
    } else {
        joined
    }
}

/// The value of a (lower-case) macro letter (§7.2); `i` of an IPv6 address is its nibbles,
/// dot-separated.
fn macro_value(letter: char, q: &Query, domain: &str) -> String {
    match letter {
        's' => format!("{}@{}", q.local_part, q.sender_domain),
        'l' => q.local_part.clone(),
        'o' => q.sender_domain.clone(),
        'd' => domain.to_owned(),
        'i' => match q.ip {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => a
                .octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .map(|n| format!("{n:x}"))
                .collect::<Vec<_>>()
                .join("."),
        },
        'h' => q.helo.clone(),
        'v' => if q.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_owned(),
        _ => "unknown".to_owned(),
    }
}

/// The longest domain name in text form, without the trailing dot (§7.3).
pub const MAX_DOMAIN_LEN: usize = 253;

/// Drops labels from the left until `name` is at most [`MAX_DOMAIN_LEN`] characters (§7.3).
pub fn truncate_domain(mut name: String) -> String {
    while name.len() > MAX_DOMAIN_LEN {
        match name.find('.') {
            Some(i) => {
                name.drain(..=i);
            }
            None => break,
        }
    }
    name
}

/// URL escaping (RFC 3986): every byte outside the unreserved set as `%XX` (§7.3).
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A record's whole tree: every lookup and void lookup it can cost, whatever the address (what
/// checkdmarc and similar tools count). The walk stops as soon as a limit is passed or a loop is
/// found, so a hostile record costs at most a few dozen queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Counted until a limit is passed: `lookups` is then [`MAX_LOOKUPS`] + 1 ("more than 10").
    pub counts: Counts,
    /// The first permanent error: a record that does not parse, an include without SPF, two
    /// records at a name, a limit passed, a loop.
    pub error: Option<String>,
    /// The first query that failed (timeout, SERVFAIL): the tree could not be read whole, and
    /// nothing is concluded from the missing part.
    pub failed: Option<String>,
    /// An include or redirect that leads back to a record on its own path: the names, in order,
    /// ending with the repeated one.
    pub looped: Option<Vec<String>>,
}

impl Analysis {
    /// Whether the walk passed a limit or found a loop (no more queries are made).
    fn stopped(&self) -> bool {
        self.looped.is_some()
            || self.counts.lookups > MAX_LOOKUPS
            || self.counts.void_lookups > MAX_VOID_LOOKUPS
    }

    fn void(&mut self) {
        self.counts.void_lookups += 1;
    }
}

/// Walks the record at `domain` and everything it includes or redirects to.
pub async fn analyse<L: Lookup>(dns: &L, domain: &str) -> Analysis {
    let mut a = Analysis::default();
    let domain = domain.to_ascii_lowercase();
    match fetch(dns, &domain).await {
        Fetched::Record(text) => {
            let mut path = vec![domain.clone()];
            walk(dns, domain, text, &mut a, &mut path).await;
        }
        Fetched::Multiple(n) => a.error = Some(format!("{n} SPF records at {domain}")),
        Fetched::Failed(e) => a.failed = Some(format!("{domain}: {e}")),
        Fetched::None => {}
    }
    if let Some(chain) = &a.looped {
        a.error = Some(format!("an include loop: {}", chain.join(" → ")));
    } else if a.counts.lookups > MAX_LOOKUPS {
        a.error = Some(format!(
            "more than {MAX_LOOKUPS} DNS lookups; at most {MAX_LOOKUPS} are allowed"
        ));
    } else if a.counts.void_lookups > MAX_VOID_LOOKUPS {
        a.error = Some(format!(
            "more than {MAX_VOID_LOOKUPS} void lookups; at most {MAX_VOID_LOOKUPS} are allowed"
        ));
    }
    a
}

/// Follows `target` (an include or redirect of the record at the end of `path`): its record, a
/// void lookup when it has none, a loop when it is on the path.
async fn follow<L: Lookup>(
    dns: &L,
    target: String,
    a: &mut Analysis,
    path: &mut Vec<String>,
    what: &str,
) {
    if path.contains(&target) {
        let mut chain = path.clone();
        chain.push(target);
        a.looped = Some(chain);
        return;
    }
    match fetch(dns, &target).await {
        Fetched::Record(text) => {
            path.push(target.clone());
            walk(dns, target, text, a, path).await;
            path.pop();
        }
        Fetched::None => {
            a.void();
            a.error
                .get_or_insert(format!("{what}:{target} has no SPF record"));
        }
        Fetched::Multiple(n) => {
            a.error
                .get_or_insert(format!("{n} SPF records at {target}"));
        }
        Fetched::Failed(e) => {
            a.failed.get_or_insert(format!("{target}: {e}"));
        }
    }
}

fn walk<'a, L: Lookup>(
    dns: &'a L,
    domain: String,
    text: String,
    a: &'a mut Analysis,
    path: &'a mut Vec<String>,
) -> Boxed<'a, ()> {
    Box::pin(async move {
        if a.stopped() {
            return;
        }
        let spf = match Spf::parse(&text) {
            Ok(s) => s,
            Err(e) => {
                a.error.get_or_insert(format!("{domain}: {e}"));
                return;
            }
        };
        let q = Query {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            local_part: "postmaster".into(),
            sender_domain: path.first().cloned().unwrap_or_else(|| domain.clone()),
            helo: domain.clone(),
        };
        for term in &spf.terms {
            let Term::Directive(_, m) = term else {
                continue;
            };
            if !m.costs_lookup() {
                continue;
            }
            a.counts.lookups += 1;
            if a.stopped() {
                return;
            }
            walk_mechanism(dns, &domain, &q, m, a, path).await;
            if a.stopped() {
                return;
            }
        }
        if let Some(target) = spf.redirect()
            && !target.contains('%')
        {
            a.counts.lookups += 1;
            if a.stopped() {
                return;
            }
            follow(dns, target.to_ascii_lowercase(), a, path, "redirect").await;
        }
    })
}

/// What a mechanism of the record at `domain` leads to: an include is followed; `a`, `mx` and
/// `exists` are asked, their void answers and failures counted. A target with macros is left
/// alone: it depends on the sender, so no walk can know it.
async fn walk_mechanism<L: Lookup>(
    dns: &L,
    domain: &str,
    q: &Query,
    m: &Mechanism,
    a: &mut Analysis,
    path: &mut Vec<String>,
) {
    let macro_free = |d: &Option<String>| d.as_deref().is_none_or(|d| !d.contains('%'));
    let target_of = |d: &Option<String>| {
        d.as_deref()
            .map_or(domain.to_owned(), |d| expand(d, q, domain))
    };
    match m {
        Mechanism::Include(t) if !t.contains('%') => {
            follow(dns, t.to_ascii_lowercase(), a, path, "include").await;
        }
        Mechanism::A { domain: d, .. } if macro_free(d) => {
            let target = target_of(d);
            let (v4, v6) = tokio::join!(dns.a(&target), dns.aaaa(&target));
            if let Some(e) = v4.failure().or(v6.failure()) {
                a.failed.get_or_insert(format!("{target}: {e}"));
            } else if v4.is_void() && v6.is_void() {
                a.void();
            }
        }
        Mechanism::Mx { domain: d, .. } if macro_free(d) => {
            let target = target_of(d);
            let mx = dns.mx(&target).await;
            if let Some(e) = mx.failure() {
                a.failed.get_or_insert(format!("{target}: {e}"));
            } else if mx.is_void() {
                a.void();
            }
            if mx.records().len() > MAX_MX_NAMES {
                a.error.get_or_insert(format!(
                    "mx:{target} has more than {MAX_MX_NAMES} MX records"
                ));
            }
        }
        Mechanism::Exists(d) if !d.contains('%') => {
            let target = d.to_ascii_lowercase();
            let found = dns.a(&target).await;
            if let Some(e) = found.failure() {
                a.failed.get_or_insert(format!("{target}: {e}"));
            } else if found.is_void() {
                a.void();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Table;

    #[test]
    fn parse_and_print_round_trip() {
        for text in [
            "v=spf1 -all",
            "v=spf1 mx ip4:203.0.113.25 ip6:2001:db8::25 -all",
            "v=spf1 a:mail.example.com/24//64 mx/30 ~all",
            "v=spf1 include:_spf.example.net ?exists:%{i}.x.example redirect=_spf.example.org",
            "v=spf1 ip4:198.51.100.0/24 ptr:example.com exp=explain.example.com",
        ] {
            let spf = Spf::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(spf.to_string(), text);
        }
        for bad in [
            "v=spf10 -all",
            "v=spf1 ip4:300.1.1.1",
            "v=spf1 foo",
            "v=spf1 ip4:1.2.3.4/33",
            "v=spf1 redirect=a redirect=b",
            "v=spf1 include",
        ] {
            assert!(Spf::parse(bad).is_err(), "{bad}");
        }
        assert!(is_spf("v=spf1") && is_spf("V=SPF1 -all") && !is_spf("v=spf1x"));
    }

    fn query(ip: &str) -> Query {
        Query {
            ip: ip.parse().expect("ip"),
            local_part: "postmaster".into(),
            sender_domain: "example.com".into(),
            helo: "out.example.com".into(),
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn evaluation_follows_includes_and_counts() {
        let dns = Table::default()
            .txt("example.com", "v=spf1 include:_spf.example.com mx -all")
            .txt(
                "_spf.example.com",
                "v=spf1 ip4:203.0.113.0/28 ip6:2001:db8::/64 -all",
            )
            .mx("example.com", "mail.example.com")
            .a("mail.example.com", "198.51.100.7");
        let check = |ip: &str| {
            let mut c = Counts::default();
            let r = run(check_host(&dns, &query(ip), "example.com".into(), &mut c));
            (r, c)
        };
        assert_eq!(check("203.0.113.5").0, SpfResult::Pass);
        assert_eq!(check("2001:db8::99").0, SpfResult::Pass);
        let (r, c) = check("198.51.100.7");
        assert_eq!(r, SpfResult::Pass, "through mx");
        assert_eq!(c.lookups, 2);
        assert_eq!(check("192.0.2.1").0, SpfResult::Fail);
        let a = run(analyse(&dns, "example.com"));
        assert_eq!(
            a.counts,
            Counts {
                lookups: 2,
                void_lookups: 0
            }
        );
        assert_eq!(a.error, None);
    }

    #[test]
    fn limits_are_permerrors() {
        let mut dns = Table::default();
        let chain: Vec<String> = (0..11)
            .map(|i| format!("include:i{i}.example.com"))
            .collect();
        dns = dns.txt("example.com", &format!("v=spf1 {} -all", chain.join(" ")));
        for i in 0..11 {
            dns = dns.txt(&format!("i{i}.example.com"), "v=spf1 ip4:192.0.2.1 -all");
        }
        let mut c = Counts::default();
        let r = run(check_host(
            &dns,
            &query("203.0.113.1"),
            "example.com".into(),
            &mut c,
        ));
        assert!(
            matches!(r, SpfResult::PermError(ref e) if e.contains("10 DNS lookups")),
            "{r}"
        );
        assert_eq!(run(analyse(&dns, "example.com")).counts.lookups, 11);

        let void = Table::default().txt(
            "example.com",
            "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com ip4:203.0.113.1 -all",
        );
        let mut c = Counts::default();
        let r = run(check_host(
            &void,
            &query("203.0.113.1"),
            "example.com".into(),
            &mut c,
        ));
        assert!(
            matches!(r, SpfResult::PermError(ref e) if e.contains("void")),
            "{r}"
        );
        let a = run(analyse(&void, "example.com"));
        assert_eq!(a.counts.void_lookups, 3);
        assert!(a.error.is_some());

        let two = Table::default()
            .txt("example.com", "v=spf1 -all")
            .txt("example.com", "v=spf1 +all");
        let mut c = Counts::default();
        assert!(matches!(
            run(check_host(
                &two,
                &query("203.0.113.1"),
                "example.com".into(),
                &mut c
            )),
            SpfResult::PermError(_)
        ));
    }

    #[test]
    fn macros_expand() {
        let q = query("192.0.2.3");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", &q, "mail.example.com"),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{l}.%{h}", &q, "example.com"),
            "postmaster.out.example.com"
        );
        assert_eq!(
            expand("plain.Example.com", &q, "example.com"),
            "plain.example.com"
        );
    }

    #[test]
    fn sender_macros_keep_the_sender_inside_includes() {
        let q = query("192.0.2.3");
        // Evaluating an include: %{d} is the include's domain; %{o} and %{s} stay the sender's.
        assert_eq!(
            expand("%{o}.%{d}", &q, "_spf.example.net"),
            "example.com._spf.example.net"
        );
        assert_eq!(
            expand("%{s}", &q, "_spf.example.net"),
            "postmaster@example.com"
        );
        assert_eq!(expand("%{L}", &q, "x"), "postmaster");
        assert_eq!(
            expand("%{S}.x", &q, "x"),
            "postmaster%40example.com.x",
            "upper case is URL-escaped"
        );
        let dns = Table::default()
            .txt("example.com", "v=spf1 include:_spf.example.net -all")
            .txt(
                "_spf.example.net",
                "v=spf1 exists:%{o}.allow.example.net -all",
            )
            .a("example.com.allow.example.net", "127.0.0.2");
        let mut c = Counts::default();
        assert_eq!(
            run(check_host(
                &dns,
                &query("192.0.2.3"),
                "example.com".into(),
                &mut c
            )),
            SpfResult::Pass
        );
    }

    #[test]
    fn long_expansions_lose_labels_from_the_left() {
        let q = query("2001:db8::1");
        let spec = "%{i}.%{i}.%{i}.%{i}._spf.example.com";
        let full = 4 * 63 + 3 + "._spf.example.com".len();
        assert!(full > MAX_DOMAIN_LEN);
        let out = expand(spec, &q, "example.com");
        assert!(out.len() <= MAX_DOMAIN_LEN, "{} characters", out.len());
        assert!(out.len() > MAX_DOMAIN_LEN - 2, "only whole labels go");
        assert!(out.ends_with(".0.0.0.1._spf.example.com"), "{out}");
        assert!(!out.starts_with('.'));
        assert_eq!(
            truncate_domain("a".repeat(300)),
            "a".repeat(300),
            "one label too long stays (the query fails)"
        );
    }

    #[test]
    fn the_walk_stops_at_the_limits_and_names_loops() {
        let looped = Table::default().txt("example.com", "v=spf1 redirect=example.com");
        let a = run(analyse(&looped, "example.com"));
        assert_eq!(
            a.looped,
            Some(vec!["example.com".to_owned(), "example.com".to_owned()])
        );
        assert!(a.error.is_some_and(|e| e.contains("loop")));
        assert!(looped.asked() <= 2, "{} queries", looped.asked());
        // Lookups past the limit are counted once ("more than 10") and never asked.
        let many: Vec<String> = (0..500).map(|i| format!("a:n{i}.example.com")).collect();
        let mut wide =
            Table::default().txt("example.com", &format!("v=spf1 {} -all", many.join(" ")));
        for i in 0..500 {
            wide = wide.a(&format!("n{i}.example.com"), "192.0.2.1");
        }
        let a = run(analyse(&wide, "example.com"));
        assert_eq!(a.counts.lookups, MAX_LOOKUPS + 1);
        assert!(wide.asked() <= 1 + 2 * 10, "{} queries", wide.asked());
        // A failed query is not a broken record.
        let failing = Table::default()
            .txt("example.com", "v=spf1 include:_spf.example.net -all")
            .fail("_spf.example.net", "TXT");
        let a = run(analyse(&failing, "example.com"));
        assert_eq!(a.error, None);
        assert!(
            a.failed
                .is_some_and(|e| e.starts_with("_spf.example.net: "))
        );
    }

    #[test]
    fn prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(in_net(ip("203.0.113.7"), ip("203.0.113.0"), 28));
        assert!(!in_net(ip("203.0.113.17"), ip("203.0.113.0"), 28));
        assert!(in_net(ip("1.2.3.4"), ip("9.9.9.9"), 0));
        assert!(!in_net(ip("2001:db8::1"), ip("203.0.113.0"), 0));
        assert!(in_net(ip("2001:db8::1"), ip("2001:db8::"), 32));
    }

    /// RFC 7208's ip4-cidr-length: digits, no leading zero, within the family's width.
    #[test]
    fn prefix_lengths_are_digits_only() {
        for (raw, want) in [("24", Some(24)), ("0", Some(0)), ("32", Some(32))] {
            assert_eq!(parse_prefix(raw, 32).ok(), want, "{raw}");
        }
        for raw in ["+5", "05", "33", "", "-1", " 5"] {
            assert!(parse_prefix(raw, 32).is_err(), "{raw}");
        }
    }
}
