//! The live check: asks DNS what the plan says should be there and reports every difference as
//! a finding (the config's one `Diagnostic` type, with this crate's codes MK4xx). Lookups run
//! concurrently, each bounded in time, and the whole check has a time limit: a query still
//! unanswered when it passes is a finding of its own (MK460) and the rest is reported as found. A
//! server that does not answer at all is found out first, in about a second.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use mailu_k8s_config::Config;

use crate::finding::{Code, Finding};

use crate::dkim::record_tags;
use crate::lookup::{self, Answer, Budget, HickoryLookup, Lookup, Routed};
use crate::plan::{DomainPlan, Plan, Sending};
use crate::spf::{
    self, Counts, MAX_LOOKUPS, MAX_VOID_LOOKUPS, Mechanism, Qualifier, Query, SpfResult, Term,
};

/// The longest a whole check takes unless told otherwise.
pub const DEADLINE: Duration = lookup::DEFAULT_TIMEOUT;

/// The parts of a check, by the names `dns check --only` and `--skip` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Mx,
    Addresses,
    Spf,
    Dkim,
    Dmarc,
    ReportAuth,
    Ptr,
    MtaSts,
    TlsRpt,
    Srv,
    Caa,
    /// DANE: the TLSA records, and the certificate on port 25 (only with `dns.dane`; connects).
    Dane,
}

impl Check {
    pub const ALL: [Check; 12] = [
        Check::Mx,
        Check::Addresses,
        Check::Spf,
        Check::Dkim,
        Check::Dmarc,
        Check::ReportAuth,
        Check::Ptr,
        Check::MtaSts,
        Check::TlsRpt,
        Check::Srv,
        Check::Caa,
        Check::Dane,
    ];

    /// The name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::Mx => "mx",
            Check::Addresses => "addresses",
            Check::Spf => "spf",
            Check::Dkim => "dkim",
            Check::Dmarc => "dmarc",
            Check::ReportAuth => "report-auth",
            Check::Ptr => "ptr",
            Check::MtaSts => "mta-sts",
            Check::TlsRpt => "tls-rpt",
            Check::Srv => "srv",
            Check::Caa => "caa",
            Check::Dane => "dane",
        }
    }

    pub fn parse(name: &str) -> Result<Check, String> {
        Check::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a check; the checks are {}",
                    Check::ALL.map(Check::name).join(", ")
                )
            })
    }
}

/// Which parts of the check run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    skip: BTreeSet<Check>,
}

impl Scope {
    /// Every check.
    pub fn all() -> Scope {
        Scope::default()
    }

    /// Only these checks.
    pub fn only(checks: &[Check]) -> Scope {
        Scope {
            skip: Check::ALL
                .into_iter()
                .filter(|c| !checks.contains(c))
                .collect(),
        }
    }

    /// Every check but these.
    pub fn skip(checks: &[Check]) -> Scope {
        Scope {
            skip: checks.iter().copied().collect(),
        }
    }

    pub fn runs(&self, check: Check) -> bool {
        !self.skip.contains(&check)
    }

    /// The checks that do not run.
    pub fn skipped(&self) -> Vec<Check> {
        self.skip.iter().copied().collect()
    }
}

/// How a check is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The server asked (`--nameserver`); the system's resolvers without it.
    pub nameserver: Option<SocketAddr>,
    /// The server asked for names in the mail domains (`--authoritative`); the other server
    /// (or the system's resolvers) answers for the rest: reverse DNS, report domains, includes.
    pub authoritative: Option<SocketAddr>,
    /// The longest the whole check takes.
    pub timeout: Duration,
    pub scope: Scope,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nameserver: None,
            authoritative: None,
            timeout: DEADLINE,
            scope: Scope::all(),
        }
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// How many checks ran.
    pub checked: usize,
    /// The parts left out (`--only`, `--skip`).
    pub skipped: Vec<Check>,
    /// Why the check is not complete (a server that does not answer, the time limit), when it
    /// is not; what it could not conclude is among the findings (MK460).
    pub incomplete: Option<String>,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.checked += other.checked;
    }

    fn merged(all: impl IntoIterator<Item = Outcome>) -> Outcome {
        let mut out = Outcome::default();
        for o in all {
            out.merge(o);
        }
        out
    }

    fn ok(&mut self) {
        self.checked += 1;
    }

    fn push(&mut self, d: Finding) {
        self.checked += 1;
        self.findings.push(d);
    }

    /// A failed query: reported, nothing concluded.
    fn failed<T>(&mut self, path: &str, answer: &Answer<T>) -> bool {
        match answer.failure() {
            Some(e) => {
                self.push(
                    Finding::error(Code::LookupFailed, path, format!("the query failed: {e}"))
                        .with_hint(failure_hint(e)),
                );
                true
            }
            None => false,
        }
    }

    /// The same finding twice (one failed query reached by two paths) is reported once.
    fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.findings
            .retain(|d| seen.insert((d.code, d.path.clone(), d.message.clone(), d.value.clone())));
    }
}

/// What to do about a failed query, by what the failure says.
fn failure_hint(e: &str) -> &'static str {
    if e.contains("time limit") {
        "the check ran out of time before this answer: run it again, with a longer `--timeout` if the server is slow"
    } else if e.contains("REFUSED") {
        "the server refuses this name: an authoritative server answers only for its own zones; ask it for your zones with `--authoritative` and a resolver for the rest, or leave the other checks out (`--skip ptr,report-auth`)"
    } else {
        "check that the name server answers for this name (and `--nameserver`); run the check again"
    }
}

fn err(
    code: Code,
    path: impl Into<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Finding {
    Finding::error(code, path, message).with_hint(hint)
}

fn warn(
    code: Code,
    path: impl Into<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Finding {
    Finding::warning(code, path, message).with_hint(hint)
}

/// Runs every check against `server` (or the system's resolvers) on a runtime of its own.
pub fn run(_config: &Config, plan: &Plan, server: Option<SocketAddr>) -> Result<Outcome, String> {
    run_with(
        plan,
        &Options {
            nameserver: server,
            ..Options::default()
        },
    )
}

/// A server the check asks, and in which role, for messages.
struct Asked {
    addr: SocketAddr,
    role: &'static str,
}

/// Runs the check as `options` say, on a runtime of its own. `Err` only when the check cannot
/// start (no resolver configuration, no runtime); a server that does not answer, failed queries
/// and the time limit are findings.
pub fn run_with(plan: &Plan, options: &Options) -> Result<Outcome, String> {
    // The time limit starts now: finding the servers silent counts towards it.
    let budget = Budget::new(options.timeout);
    let asked = match servers_asked(options) {
        Ok(asked) => asked,
        Err(e) => {
            let finding = err(
                Code::LookupFailed,
                "system resolver",
                e,
                "ask a server with `--nameserver IP[:PORT]`; nothing was checked",
            );
            return Ok(nothing_checked(
                options,
                vec![finding],
                "no resolver is configured",
            ));
        }
    };
    let silent = unreachable(&asked, lookup::PROBE_TIMEOUT.min(options.timeout));
    if !silent.is_empty() {
        return Ok(nothing_checked(
            options,
            silent,
            "a name server does not answer",
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the DNS client: {e}"))?;
    rt.block_on(check_within(plan, options, budget))
}

/// The outcome of a check that could not ask anything, and why.
fn nothing_checked(options: &Options, findings: Vec<Finding>, why: &str) -> Outcome {
    Outcome {
        findings,
        checked: 0,
        skipped: options.scope.skipped(),
        incomplete: Some(format!("{why}: nothing was checked")),
    }
}

/// The servers the check asks: `--nameserver` or the system's resolvers (`Err` when their
/// configuration cannot be read), and `--authoritative`.
fn servers_asked(options: &Options) -> Result<Vec<Asked>, String> {
    let mut asked: Vec<Asked> = match options.nameserver {
        Some(addr) => vec![Asked {
            addr,
            role: "--nameserver",
        }],
        None => lookup::system_servers()?
            .into_iter()
            .map(|addr| Asked {
                addr,
                role: "system resolver",
            })
            .collect(),
    };
    if let Some(addr) = options.authoritative {
        asked.push(Asked {
            addr,
            role: "--authoritative",
        });
    }
    Ok(asked)
}

/// The checks `options.scope` names, each lookup bounded by `budget`; what the time limit cut
/// short makes the outcome incomplete.
async fn check_within(
    plan: &Plan,
    options: &Options,
    budget: Arc<Budget>,
) -> Result<Outcome, String> {
    let dns = Routed {
        zones: plan.domains.iter().map(|d| d.domain.clone()).collect(),
        ours: options
            .authoritative
            .map(|a| HickoryLookup::with_budget(Some(a), budget.clone()))
            .transpose()?,
        rest: HickoryLookup::with_budget(options.nameserver, budget.clone())?,
    };
    // Every lookup ends by the deadline; this only guards against a check that would not.
    let guard = tokio::time::Instant::from_std(budget.deadline()) + Duration::from_secs(1);
    let mut out =
        match tokio::time::timeout_at(guard, check_scoped(&dns, plan, &options.scope)).await {
            Ok(out) => out,
            Err(_) => Outcome {
                findings: vec![err(
                    Code::LookupFailed,
                    "",
                    format!(
                        "the check did not finish within its time limit ({})",
                        lookup::seconds(options.timeout)
                    ),
                    "run it again, with a longer `--timeout` if the server is slow",
                )],
                skipped: options.scope.skipped(),
                ..Outcome::default()
            },
        };
    if budget.cut() > 0 {
        out.incomplete = Some(format!(
            "the time limit ({}) passed with {} queries unanswered; they are findings (MK460), and everything else is reported as found",
            lookup::seconds(options.timeout),
            budget.cut()
        ));
    }
    Ok(out)
}

/// The servers that do not answer a first question (each asked at once), as findings. The
/// system's resolvers count as one: the check goes on while one of them answers.
fn unreachable(asked: &[Asked], wait: Duration) -> Vec<Finding> {
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = asked
            .iter()
            .map(|a| s.spawn(move || lookup::probe(a.addr, wait)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("the probe failed".to_owned()))
            })
            .collect()
    });
    let system: Vec<(&Asked, &Result<(), String>)> = asked
        .iter()
        .zip(&results)
        .filter(|(a, _)| a.role == "system resolver")
        .collect();
    let mut out = Vec::new();
    if !system.is_empty() && system.iter().all(|(_, r)| r.is_err()) {
        let reasons: Vec<String> = system
            .iter()
            .filter_map(|(_, r)| r.as_ref().err().cloned())
            .collect();
        let addrs: Vec<String> = system.iter().map(|(a, _)| a.addr.to_string()).collect();
        out.push(err(
            Code::LookupFailed,
            format!("{} (system resolver)", addrs.join(", ")),
            format!("no resolver of the system's configuration answers: {}", reasons.join("; ")),
            format!(
                "is a DNS server listening on {}? Check /etc/resolv.conf, or ask a server with `--nameserver IP[:PORT]`; nothing was checked",
                addrs.join(" or ")
            ),
        ));
    }
    for (a, r) in asked.iter().zip(&results) {
        if let (Err(e), false) = (r, a.role == "system resolver") {
            out.push(err(
                Code::LookupFailed,
                format!("{} ({})", a.addr, a.role),
                format!("the name server does not answer: {e}"),
                format!(
                    "is a DNS server listening on {}? Start it or correct `{}`; nothing was checked",
                    a.addr, a.role
                ),
            ));
        }
    }
    out
}

/// Every check of the plan, concurrently.
pub async fn check<L: Lookup>(dns: &L, plan: &Plan) -> Outcome {
    check_scoped(dns, plan, &Scope::all()).await
}

/// `future`'s outcome when `on`; nothing asked otherwise.
async fn when(on: bool, future: impl Future<Output = Outcome>) -> Outcome {
    if on { future.await } else { Outcome::default() }
}

/// The checks `scope` names, concurrently.
pub async fn check_scoped<L: Lookup>(dns: &L, plan: &Plan, scope: &Scope) -> Outcome {
    let domains = join_all(
        plan.domains
            .iter()
            .map(|d| check_domain(dns, plan, d, scope)),
    );
    let hosts = when(scope.runs(Check::Addresses), async {
        Outcome::merged(
            join_all(
                plan.hosts
                    .iter()
                    .filter(|(_, ips)| !ips.is_empty())
                    .map(|(h, ips)| check_addresses(dns, h, ips)),
            )
            .await,
        )
    });
    let ptrs = when(scope.runs(Check::Ptr), check_sending(dns, plan));
    let (domains, hosts, ptrs) = tokio::join!(domains, hosts, ptrs);
    let mut out = Outcome::merged(domains.into_iter().chain([hosts, ptrs]));
    out.skipped = scope.skipped();
    out.dedup();
    out
}

async fn check_domain<L: Lookup>(dns: &L, plan: &Plan, d: &DomainPlan, scope: &Scope) -> Outcome {
    let on = |c| scope.runs(c);
    let (mx, spf, dkim, dmarc, reports, mta_sts, tls_rpt, srv, caa) = tokio::join!(
        when(on(Check::Mx), check_mx(dns, plan, &d.domain)),
        when(on(Check::Spf), check_spf(dns, plan, d)),
        when(on(Check::Dkim), check_dkim(dns, d)),
        when(on(Check::Dmarc), check_dmarc(dns, d)),
        when(on(Check::ReportAuth), check_report_authorizations(dns, d)),
        when(on(Check::MtaSts), check_mta_sts(dns, d)),
        when(on(Check::TlsRpt), check_tls_rpt(dns, d)),
        when(on(Check::Srv), check_srv(dns, d)),
        when(on(Check::Caa), check_policies(dns, d)),
    );
    Outcome::merged([mx, spf, dkim, dmarc, reports, mta_sts, tls_rpt, srv, caa])
}

async fn check_mx<L: Lookup>(dns: &L, plan: &Plan, domain: &str) -> Outcome {
    let mut out = Outcome::default();
    let path = format!("{domain} MX");
    let mx = dns.mx(domain).await;
    if out.failed(&path, &mx) {
        return out;
    }
    let publish = format!("publish `{domain}. MX 10 {}.`", plan.mail_host);
    let records = mx.records();
    if records.is_empty() {
        out.push(err(
            Code::MxMismatch,
            &path,
            "no MX record: other servers cannot deliver mail for the domain",
            publish,
        ));
        return out;
    }
    if records.iter().any(|(_, h)| h == ".") {
        let shown: Vec<String> = records.iter().map(|(p, h)| format!("{p} {h}")).collect();
        out.push(
            err(
                Code::MxMismatch,
                &path,
                if records.len() == 1 {
                    "the domain publishes a null MX (`MX 0 .`, RFC 7505): it says it accepts no mail, and senders bounce mail to it at once"
                } else {
                    "a null MX (`MX 0 .`, RFC 7505) beside other MX records, which RFC 7505 forbids: senders may take the domain to accept no mail"
                },
                format!("remove the null MX and {publish}"),
            )
            .with_value(shown.join(", ")),
        );
        return out;
    }
    let mut targets: Vec<&String> = records.iter().map(|(_, h)| h).collect();
    targets.dedup();
    if targets.iter().any(|t| **t == plan.mail_host) {
        out.ok();
    } else {
        out.push(
            err(
                Code::MxMismatch,
                &path,
                format!(
                    "the MX records do not name the mail host {}",
                    plan.mail_host
                ),
                publish,
            )
            .with_value(
                targets
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        );
    }
    let each = join_all(targets.iter().map(|t| check_mx_target(dns, domain, t))).await;
    out.merge(Outcome::merged(each));
    out
}

async fn check_mx_target<L: Lookup>(dns: &L, domain: &str, target: &str) -> Outcome {
    let mut out = Outcome::default();
    let tpath = format!("{target} (MX target of {domain})");
    let (cname, a, aaaa) = tokio::join!(dns.cname(target), dns.a(target), dns.aaaa(target));
    if let Some(c) = cname.records().first() {
        out.push(
            err(Code::MxTargetCname, &tpath, "the MX target is a CNAME; RFC 2181 §10.3 forbids it and some senders refuse it", format!("point MX at a name with its own A/AAAA records, or replace the CNAME at {target} with A/AAAA records"))
                .with_value(format!("CNAME {c}")),
        );
    } else {
        out.ok();
    }
    if out.failed(&tpath, &a) || out.failed(&tpath, &aaaa) {
        return out;
    }
    if a.records().is_empty() && aaaa.records().is_empty() {
        out.push(err(
            Code::AddressMismatch,
            &tpath,
            "the MX target has no A or AAAA record",
            "publish the mail host's addresses (`dns.inboundIps`)",
        ));
    } else {
        out.ok();
    }
    out
}

async fn addresses<L: Lookup>(dns: &L, name: &str) -> Result<Vec<IpAddr>, String> {
    let (a, aaaa) = tokio::join!(dns.a(name), dns.aaaa(name));
    if let Some(e) = a.failure().or(aaaa.failure()) {
        return Err(e.to_owned());
    }
    Ok(a.records()
        .iter()
        .map(|x| IpAddr::V4(*x))
        .chain(aaaa.records().iter().map(|x| IpAddr::V6(*x)))
        .collect())
}

async fn check_addresses<L: Lookup>(dns: &L, host: &str, planned: &[IpAddr]) -> Outcome {
    let mut out = Outcome::default();
    let path = format!("{host} A/AAAA");
    match addresses(dns, host).await {
        Err(e) => out.failed(&path, &Answer::<()>::Failed(e)),
        Ok(found) => {
            let missing: Vec<String> = planned
                .iter()
                .filter(|ip| !found.contains(ip))
                .map(ToString::to_string)
                .collect();
            if missing.is_empty() {
                out.ok();
            } else {
                out.push(
                    err(
                        Code::AddressMismatch,
                        &path,
                        format!("missing address(es) {}", missing.join(", ")),
                        format!("publish every planned address of {host} (`mailu-k8s dns plan`)"),
                    )
                    .with_value(
                        found
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                );
            }
            false
        }
    };
    out
}

fn sending_ips(plan: &Plan) -> &[IpAddr] {
    match &plan.sending {
        Sending::Addresses { ips, .. } => ips,
        _ => &[],
    }
}

/// What to tell a user whose record does not pass for `ip`: add the address, unless the record
/// already names it (then what stands in its way).
pub(crate) fn not_authorised_hint(text: &str, ip: IpAddr, result: &SpfResult) -> String {
    if let SpfResult::PermError(e) = result {
        return format!(
            "fix the record first ({e}): receivers give up before they reach the addresses"
        );
    }
    let mechanism = if ip.is_ipv4() { "ip4" } else { "ip6" };
    let add = format!("add `{mechanism}:{ip}` to the record");
    let Ok(record) = spf::Spf::parse(text) else {
        return add;
    };
    let listed = record.terms.iter().find_map(|t| match t {
        Term::Directive(q, m @ Mechanism::Ip4(net, p))
            if spf::in_net(ip, IpAddr::V4(*net), p.unwrap_or(32)) =>
        {
            Some((*q, m))
        }
        Term::Directive(q, m @ Mechanism::Ip6(net, p))
            if spf::in_net(ip, IpAddr::V6(*net), p.unwrap_or(128)) =>
        {
            Some((*q, m))
        }
        _ => None,
    });
    match listed {
        Some((Qualifier::Pass, m)) => format!(
            "`{m}` is in the record, but a term before it decides for {ip} first: move `{m}` to the front of the record"
        ),
        Some((q, m)) => format!(
            "the record has `{}{m}`, which does not authorise {ip}: write `{m}`, without `{}`",
            q.prefix(),
            q.prefix()
        ),
        None => add,
    }
}

/// One SPF record at `name`, its limits, and a pass for every address in `ips`.
async fn check_spf_at<L: Lookup>(
    dns: &L,
    name: &str,
    ips: &[IpAddr],
    helo: &str,
    out: &mut Outcome,
) -> Option<String> {
    let path = format!("{name} TXT (SPF)");
    let text = the_spf_record(dns, name, &path, out).await?;
    let queries: Vec<Query> = ips
        .iter()
        .map(|ip| Query {
            ip: *ip,
            local_part: "postmaster".into(),
            sender_domain: name.to_owned(),
            helo: helo.to_owned(),
        })
        .collect();
    let evaluations = join_all(queries.iter().map(|q| async move {
        let mut c = Counts::default();
        spf::check_host(dns, q, name.to_owned(), &mut c).await
    }));
    let (analysis, results) = tokio::join!(spf::analyse(dns, name), evaluations);
    check_spf_limits(&analysis, &path, &text, out);
    for (q, result) in queries.iter().zip(results) {
        check_spf_result(q.ip, result, &path, &text, out);
    }
    Some(text)
}

/// The one SPF record at `name`; none (with a finding) when the query fails, there is no
/// record, or there are several (a permanent error to receivers).
async fn the_spf_record<L: Lookup>(
    dns: &L,
    name: &str,
    path: &str,
    out: &mut Outcome,
) -> Option<String> {
    let found = spf::records(dns, name).await;
    if out.failed(path, &found) {
        return None;
    }
    match found.records() {
        [] => {
            out.push(err(
                Code::SpfMissing,
                path,
                "no SPF record",
                "publish the planned SPF record (`mailu-k8s dns plan`)",
            ));
            None
        }
        [one] => {
            out.ok();
            Some(one.clone())
        }
        many => {
            out.push(
                err(Code::SpfMultiple, path, format!("{} SPF records: receivers treat that as a permanent error (RFC 7208 §4.5) and SPF fails for every message", many.len()), "keep exactly one `v=spf1` record: merge them")
                    .with_value(many.join(" | ")),
            );
            None
        }
    }
}

/// The record as receivers walk it (RFC 7208 §4.6.4): no loop, at most [`MAX_LOOKUPS`] lookups
/// and [`MAX_VOID_LOOKUPS`] void ones; within them, no failed query and nothing unevaluable.
fn check_spf_limits(analysis: &spf::Analysis, path: &str, text: &str, out: &mut Outcome) {
    if let Some(chain) = &analysis.looped {
        out.push(
            err(Code::SpfLookupLimit, path, format!("the record loops: {} leads back to a record on its own path; receivers follow it until {MAX_LOOKUPS} DNS lookups (RFC 7208 §4.6.4) and SPF fails", chain.join(" → ")), "remove the include or redirect that leads back")
                .with_value(text),
        );
    } else if analysis.counts.lookups > MAX_LOOKUPS {
        out.push(
            err(Code::SpfLookupLimit, path, format!("the record needs more than {MAX_LOOKUPS} DNS lookups; receivers stop at {MAX_LOOKUPS} (RFC 7208 §4.6.4) and SPF fails"), "replace includes with ip4:/ip6: ranges, or drop includes you no longer need")
                .with_value(text),
        );
    } else if analysis.counts.void_lookups > MAX_VOID_LOOKUPS {
        out.push(
            err(Code::SpfVoidLookupLimit, path, format!("more than {MAX_VOID_LOOKUPS} lookups find nothing; receivers stop after {MAX_VOID_LOOKUPS} (RFC 7208 §4.6.4) and SPF fails"), "remove mechanisms naming hosts or includes that do not exist")
                .with_value(text),
        );
    } else {
        let mut clean = true;
        if let Some(e) = &analysis.failed {
            out.failed(path, &Answer::<()>::Failed(e.clone()));
            clean = false;
        }
        if let Some(e) = &analysis.error {
            out.push(
                err(
                    Code::SpfInvalid,
                    path,
                    format!("the record cannot be evaluated: {e}"),
                    "fix the record (`mailu-k8s dns plan` has one that works)",
                )
                .with_value(text),
            );
            clean = false;
        }
        if clean {
            out.ok();
        }
    }
}

/// What the record gives a sending address: a pass, or a finding saying what to change.
fn check_spf_result(ip: IpAddr, result: SpfResult, path: &str, text: &str, out: &mut Outcome) {
    match result {
        SpfResult::Pass => out.ok(),
        SpfResult::TempError(e) => {
            out.failed(path, &Answer::<()>::Failed(e));
        }
        r => out.push(
            err(
                Code::SpfNotAuthorised,
                path,
                format!("SPF gives `{r}` for {ip}, an address mail leaves from"),
                not_authorised_hint(text, ip, &r),
            )
            .with_value(text),
        ),
    }
}

async fn check_spf<L: Lookup>(dns: &L, plan: &Plan, d: &DomainPlan) -> Outcome {
    let helo = match &plan.sending {
        Sending::Addresses { helo, .. } => helo.clone(),
        _ => plan.mail_host.clone(),
    };
    let own = async {
        let mut out = Outcome::default();
        let text = check_spf_at(dns, &d.domain, sending_ips(plan), &helo, &mut out).await;
        (out, text)
    };
    // The HELO name's own record, once (for the primary domain).
    let helo_record = async {
        let mut out = Outcome::default();
        if plan.domains.first().map(|f| &f.domain) == Some(&d.domain)
            && let Some((name, _)) = &plan.helo_spf
        {
            check_spf_at(dns, name, sending_ips(plan), name, &mut out).await;
        }
        out
    };
    let ((mut out, text), helo_out) = tokio::join!(own, helo_record);
    if let (Some(text), Sending::Relay) = (text, &plan.sending) {
        for term in &d.spf.terms {
            if let spf::Term::Directive(_, m @ spf::Mechanism::Include(target)) = term {
                let has = text.split(' ').any(|t| {
                    t.trim_start_matches('+')
                        .eq_ignore_ascii_case(&m.to_string())
                });
                if has {
                    out.ok();
                } else {
                    out.push(
                        err(
                            Code::SpfNotAuthorised,
                            format!("{} TXT (SPF)", d.domain),
                            format!(
                                "the record does not include {target}, which authorises the relay"
                            ),
                            format!("add `include:{target}`"),
                        )
                        .with_value(&text),
                    );
                }
            }
        }
    }
    out.merge(helo_out);
    out
}

/// The `k=` and `p=` of a DKIM record, for messages.
fn dkim_key(tags: &[(String, String)]) -> (&str, &str) {
    let p = tags
        .iter()
        .find(|(k, _)| k == "p")
        .map_or("", |(_, v)| v.as_str());
    let k = tags
        .iter()
        .find(|(k, _)| k == "k")
        .map_or("rsa", |(_, v)| v.as_str());
    (k, p)
}

fn shown_key(tags: &[(String, String)]) -> String {
    let (k, p) = dkim_key(tags);
    format!("k={k}; p={}…", p.chars().take(24).collect::<String>())
}

async fn check_dkim<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    Outcome::merged(
        join_all(d.dkim.iter().map(|(selector, key_type, key)| async move {
            check_dkim_selector(dns, d, selector, key_type.as_str(), key.as_ref()).await
        }))
        .await,
    )
}

async fn check_dkim_selector<L: Lookup>(
    dns: &L,
    d: &DomainPlan,
    selector: &str,
    key_type: &str,
    key: Option<&crate::dkim::PublicKey>,
) -> Outcome {
    let mut out = Outcome::default();
    let name = format!("{selector}._domainkey.{}", d.domain);
    let path = format!("{name} TXT (DKIM)");
    let found = dns.txt(&name).await;
    if out.failed(&path, &found) {
        return out;
    }
    let records: Vec<Vec<(String, String)>> = found
        .records()
        .iter()
        .filter_map(|t| record_tags(t))
        .collect();
    let tags = match records.as_slice() {
        [] => {
            out.push(err(Code::DkimMissing, &path, format!("no DKIM key record for selector `{selector}`: receivers cannot verify the signature"), "publish the DKIM record from `mailu-k8s dns plan`"));
            return out;
        }
        [one] => one,
        many => {
            out.push(
                err(Code::DkimMismatch, &path, format!("{} DKIM key records for selector `{selector}`: which one a verifier uses is undefined (RFC 6376 §3.6.2.2), so signatures fail at some receivers", many.len()), "keep exactly one record: the one from `mailu-k8s dns plan`")
                    .with_value(many.iter().map(|t| shown_key(t)).collect::<Vec<_>>().join(" | ")),
            );
            return out;
        }
    };
    let (k, p) = dkim_key(tags);
    match key {
        Some(ours) if ours.p != p || k != key_type => out.push(
            err(Code::DkimMismatch, &path, "the published key is not the key mail is signed with (a stale or another key): signatures fail", "publish the record from `mailu-k8s dns plan` (or, if the published key is right, update the public key file)")
                .with_value(shown_key(tags)),
        ),
        _ if p.is_empty() => out.push(err(Code::DkimMismatch, &path, "the record has an empty key (`p=`): the key is revoked", "publish the current key")),
        _ => out.ok(),
    }
    out
}

/// The tags of a `tag=value; …` record (DMARC, MTA-STS, TLS-RPT): lower-case names, trimmed
/// values.
pub(crate) fn tags(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

/// SP and HTAB: the white space of these records' grammars (RFC 7489 §6.4, RFC 8461 §3.1).
fn wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether a TXT record's first tag is `v=<version>` (white space around `=` allowed).
fn first_tag_is(text: &str, version: &str) -> bool {
    let first = text.split(';').next().unwrap_or("");
    first.split_once('=').is_some_and(|(k, v)| {
        k.trim_matches(wsp).eq_ignore_ascii_case("v") && v.trim_matches(wsp) == version
    })
}

/// Whether a TXT record starts like `prefix` (ASCII, case ignored), whatever follows: a
/// record meant to be one, valid or not.
pub(crate) fn starts_like(text: &str, prefix: &str) -> bool {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(prefix.len())
        .collect();
    t.eq_ignore_ascii_case(prefix)
}

/// Whether a TXT record is a DMARC record: `v=DMARC1` is its first tag (RFC 7489 §6.4).
pub(crate) fn is_dmarc(t: &str) -> bool {
    first_tag_is(t, "DMARC1")
}

/// Whether a TXT record is an MTA-STS record: `v=STSv1` first (RFC 8461 §3.1).
pub(crate) fn is_mta_sts(t: &str) -> bool {
    first_tag_is(t, "STSv1")
}

/// Whether a TXT record is a TLS-RPT record: `v=TLSRPTv1` first (RFC 8460 §3).
pub(crate) fn is_tls_rpt(t: &str) -> bool {
    first_tag_is(t, "TLSRPTv1")
}

async fn check_dmarc<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    let name = format!("_dmarc.{}", d.domain);
    let path = format!("{name} TXT (DMARC)");
    let found = dns.txt(&name).await;
    if out.failed(&path, &found) {
        return out;
    }
    let records: Vec<&String> = found.records().iter().filter(|t| is_dmarc(t)).collect();
    let lookalikes: Vec<&String> = found
        .records()
        .iter()
        .filter(|t| !is_dmarc(t) && starts_like(t, "v=DMARC"))
        .collect();
    match records.as_slice() {
        [] if !lookalikes.is_empty() => out.push(
            err(Code::DmarcInvalid, &path, "the record does not start with `v=DMARC1` exactly (RFC 7489 §6.4): receivers ignore it, as if there were none", format!("publish `{name}. TXT \"{}\"`", d.dmarc))
                .with_value(lookalikes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" | ")),
        ),
        [] => out.push(err(Code::DmarcMissing, &path, "no DMARC record: Gmail and Yahoo refuse bulk mail without one, and nobody reports abuse of the domain", format!("publish `{name}. TXT \"{}\"`", d.dmarc))),
        [one] => {
            let found_tags = tags(one);
            let policy = found_tags.iter().find(|(k, _)| k == "p").map(|(_, v)| v.as_str());
            let want = tags(&d.dmarc);
            let want_p = want.iter().find(|(k, _)| k == "p").map(|(_, v)| v.as_str());
            match policy {
                Some("none" | "quarantine" | "reject") if policy == want_p => out.ok(),
                Some("none" | "quarantine" | "reject") => out.push(
                    warn(Code::DmarcInvalid, &path, format!("the policy differs from the plan's (`p={}`)", want_p.unwrap_or("")), format!("publish `{}` or change `dns.dmarc.policy`", d.dmarc)).with_value(one.as_str()),
                ),
                _ => out.push(err(Code::DmarcInvalid, &path, "the record has no valid policy (`p=none|quarantine|reject`): receivers ignore it", format!("publish `{}`", d.dmarc)).with_value(one.as_str())),
            }
        }
        many => out.push(
            err(Code::DmarcInvalid, &path, format!("{} DMARC records: receivers ignore them all (RFC 7489 §6.6.3)", many.len()), "keep one record")
                .with_value(many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" | ")),
        ),
    }
    out
}

/// The report domains' consent (RFC 7489 §7.1), each asked at once. These names are in other
/// domains, which a third party controls.
async fn check_report_authorizations<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    Outcome::merged(
        join_all(d.report_authorizations.iter().map(|auth| async move {
            let mut out = Outcome::default();
            let path = format!("{auth} TXT (DMARC report authorization)");
            let found = dns.txt(auth).await;
            if out.failed(&path, &found) {
                return out;
            }
            if found.records().iter().any(|t| is_dmarc(t)) {
                out.ok();
            } else {
                out.push(err(Code::DmarcReportAuthorization, &path, "reports go to another domain, which has not agreed to receive them: receivers send none", format!("publish `{auth}. TXT \"v=DMARC1\"` in that domain")));
            }
            out
        }))
        .await,
    )
}

async fn check_mta_sts<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    let Some(id) = &d.mta_sts_id else {
        return out;
    };
    let name = format!("_mta-sts.{}", d.domain);
    let path = format!("{name} TXT (MTA-STS)");
    let found = dns.txt(&name).await;
    if out.failed(&path, &found) {
        return out;
    }
    let records: Vec<&String> = found.records().iter().filter(|t| is_mta_sts(t)).collect();
    let want = format!("v=STSv1; id={id}");
    match records.as_slice() {
        [one] if tags(one).iter().any(|(k, v)| k == "id" && v == id) => out.ok(),
        [one] => out.push(
            err(
                Code::MtaStsMismatch,
                &path,
                "the record announces another policy id: senders keep the policy they cached",
                format!("publish `{want}`"),
            )
            .with_value(one.as_str()),
        ),
        [] => out.push(err(
            Code::MtaStsMismatch,
            &path,
            "no MTA-STS record: senders never fetch the policy front serves",
            format!("publish `{name}. TXT \"{want}\"`"),
        )),
        many => out.push(
            err(
                Code::MtaStsMismatch,
                &path,
                format!(
                    "{} MTA-STS records: senders ignore them (RFC 8461 §3.1)",
                    many.len()
                ),
                "keep one record",
            )
            .with_value(
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
        ),
    }
    out
}

async fn check_tls_rpt<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    let Some(want) = &d.tls_rpt else {
        return out;
    };
    let name = format!("_smtp._tls.{}", d.domain);
    let path = format!("{name} TXT (TLS-RPT)");
    let found = dns.txt(&name).await;
    if out.failed(&path, &found) {
        return out;
    }
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let records: Vec<&String> = found.records().iter().filter(|t| is_tls_rpt(t)).collect();
    match records.as_slice() {
        [one] if norm(one) == norm(want) => out.ok(),
        [one] => out.push(
            warn(
                Code::TlsRptMismatch,
                &path,
                "the record differs from the plan",
                format!("publish `{want}`"),
            )
            .with_value(one.as_str()),
        ),
        [] => out.push(err(
            Code::TlsRptMismatch,
            &path,
            "no TLS-RPT record",
            format!("publish `{name}. TXT \"{want}\"`"),
        )),
        _ => out.push(err(
            Code::TlsRptMismatch,
            &path,
            "more than one TLS-RPT record: senders ignore them (RFC 8460 §3)",
            "keep one record",
        )),
    }
    out
}

async fn check_srv<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    Outcome::merged(
        join_all(d.srv.iter().map(|(name, target)| async move {
            let mut out = Outcome::default();
            let path = format!("{name} SRV");
            let found = dns.srv(name).await;
            if out.failed(&path, &found) {
                return out;
            }
            let want = match target {
                Some((port, host)) => format!("{port} {host}"),
                None => "0 .".to_owned(),
            };
            let got: Vec<String> = found
                .records()
                .iter()
                .map(|s| format!("{} {}", s.port, s.target))
                .collect();
            if got.contains(&want) && got.len() == 1 {
                out.ok();
            } else if got.is_empty() {
                out.push(warn(
                    Code::SrvMismatch,
                    &path,
                    "no SRV record: mail clients cannot discover this service",
                    "publish the SRV records from `mailu-k8s dns plan`",
                ));
            } else {
                out.push(
                    err(
                        Code::SrvMismatch,
                        &path,
                        match target {
                            Some((port, _)) => {
                                format!("clients are sent elsewhere than front's port {port}")
                            }
                            None => {
                                "the service is announced, but front does not offer it".to_owned()
                            }
                        },
                        "publish the SRV record from `mailu-k8s dns plan`",
                    )
                    .with_value(got.join(", ")),
                );
            }
            out
        }))
        .await,
    )
}

/// The CAA records.
async fn check_policies<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    if !d.caa.is_empty() {
        let path = format!("{} CAA", d.domain);
        let found = dns.caa(&d.domain).await;
        if !out.failed(&path, &found) {
            // Compared as a CA reads them (crate::caa), not as strings.
            let missing: Vec<_> = d
                .caa
                .iter()
                .filter(|c| !found.records().iter().any(|r| c.is_published_by(r)))
                .collect();
            if missing.is_empty() {
                out.ok();
            } else {
                out.push(err(Code::CaaMismatch, &path, "a planned CAA record is missing: the certificate authority may refuse to issue", format!("publish `{}. CAA {}` (an issuer with a trailing dot authorises no one)", d.domain, missing[0].presentation())).with_value(found.records().join(", ")));
            }
        }
    }
    out
}

/// Reverse DNS of every sending address: a PTR naming the HELO name, which resolves back.
async fn check_sending<L: Lookup>(dns: &L, plan: &Plan) -> Outcome {
    let Sending::Addresses { ips, helo } = &plan.sending else {
        return Outcome::default();
    };
    let all = join_all(ips.iter().map(|ip| check_ptr(dns, *ip, helo))).await;
    let mut out = Outcome::default();
    for o in all {
        out.merge(o);
    }
    out
}

async fn check_ptr<L: Lookup>(dns: &L, ip: IpAddr, helo: &str) -> Outcome {
    let mut out = Outcome::default();
    let path = format!("{} PTR ({ip})", crate::lookup::reverse_name(ip));
    let names = dns.ptr(ip).await;
    if out.failed(&path, &names) {
        return out;
    }
    let names = names.records();
    if names.is_empty() {
        out.push(err(Code::PtrMissing, &path, format!("{ip}, an address mail leaves from, has no PTR record: many receivers refuse such mail"), format!("ask the address's provider to set its reverse DNS to {helo}")));
        return out;
    }
    if !names.iter().any(|n| n == helo) {
        out.push(
            err(
                Code::PtrMismatch,
                &path,
                format!("the PTR names another host than the HELO name {helo}"),
                format!("set the reverse DNS of {ip} to {helo} at the address's provider"),
            )
            .with_value(names.join(", ")),
        );
        return out;
    }
    out.ok();
    match addresses(dns, helo).await {
        Err(e) => {
            out.failed(&path, &Answer::<()>::Failed(e));
        }
        Ok(found) if found.contains(&ip) => out.ok(),
        Ok(found) => out.push(
            err(Code::PtrNotConfirmed, &path, format!("the PTR names {helo}, but {helo} does not resolve back to {ip} (no forward-confirmed reverse DNS)"), format!("add {ip} to the A/AAAA records of {helo}"))
                .with_value(found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Table;

    fn plan() -> Plan {
        let config = mailu_k8s_config::testing::config(
            "egress: {mode: static, ips: [203.0.113.25]}\ndns: {inboundIps: [198.51.100.10]}\n",
        );
        crate::testing::plan_of(&config)
    }

    fn good() -> Table {
        Table::default()
            .mx("example.com", "mail.example.com")
            .a("mail.example.com", "198.51.100.10")
            .txt("example.com", "v=spf1 ip4:203.0.113.25 -all")
            .txt("_dmarc.example.com", "v=DMARC1; p=quarantine")
            .a("out.example.com", "203.0.113.25")
            .txt("out.example.com", "v=spf1 ip4:203.0.113.25 -all")
            .ptr("203.0.113.25", "out.example.com")
    }

    fn findings(t: &Table) -> Vec<Finding> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(check(t, &plan()))
            .findings
    }

    fn codes(t: &Table) -> Vec<Code> {
        findings(t)
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect()
    }

    /// The findings at `path` (`_dmarc.example.com TXT (DMARC)`).
    fn at(t: &Table, path: &str) -> Vec<Finding> {
        findings(t).into_iter().filter(|d| d.path == path).collect()
    }

    /// A table where only the SPF record at example.com differs from `good()`.
    fn with_spf(record: &str) -> Table {
        let mut t = Table::default()
            .mx("example.com", "mail.example.com")
            .a("mail.example.com", "198.51.100.10")
            .txt("_dmarc.example.com", "v=DMARC1; p=quarantine")
            .a("out.example.com", "203.0.113.25")
            .txt("out.example.com", "v=spf1 ip4:203.0.113.25 -all")
            .ptr("203.0.113.25", "out.example.com");
        if !record.is_empty() {
            t = t.txt("example.com", record);
        }
        t
    }

    const SPF: &str = "example.com TXT (SPF)";

    #[test]
    fn reverse_dns_and_mx_targets() {
        let ok = codes(&good());
        // DKIM has no key record in this table; everything else passes.
        assert_eq!(ok, [Code::DkimMissing]);
        let t = Table::default().ptr("203.0.113.25", "static.25.example.net");
        assert!(codes(&t).contains(&Code::PtrMismatch));
        let cname = good().cname("mail.example.com", "front.example.net");
        assert!(codes(&cname).contains(&Code::MxTargetCname));
    }

    #[test]
    fn dmarc_records_of_any_bytes_are_judged_not_crashed_on() {
        for text in [
            "v=DMARCé; p=reject",
            "v=DMARC\u{a0}1; p=reject",
            "v=DMARC1\u{a0}; p=reject",
            "\u{a0}v=DMARC1; p=reject",
            "v=DMARC\u{fffd}; p=reject",
            "v=DMAR",
            "é",
            "",
        ] {
            // Beside a valid record, it is ignored; alone, it is judged.
            assert!(
                at(
                    &good().txt("_dmarc.example.com", text),
                    "_dmarc.example.com TXT (DMARC)"
                )
                .is_empty()
            );
            let t = Table::default().txt("_dmarc.example.com", text);
            let found = at(&t, "_dmarc.example.com TXT (DMARC)");
            assert_eq!(found.len(), 1, "{text:?}: {found:#?}");
        }
        // A look-alike is an invalid record (MK431), not a missing one.
        let t = Table::default()
            .txt("_dmarc.example.com", "v=DMARC1\u{a0}; p=reject")
            .txt("example.com", "v=spf1 -all");
        let found = at(&t, "_dmarc.example.com TXT (DMARC)");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::DmarcInvalid, "{found:#?}");
        assert!(found[0].message.contains("v=DMARC1"), "{found:#?}");
        // Invalid UTF-8 as it comes off the wire.
        let raw = crate::lookup::txt_string(&[b"v=DMARC\xff; p=reject".as_slice()]);
        let t = Table::default().txt("_dmarc.example.com", &raw);
        assert_eq!(
            at(&t, "_dmarc.example.com TXT (DMARC)")[0].code,
            Code::DmarcInvalid
        );
        assert!(is_dmarc("v=DMARC1") && is_dmarc("V = DMARC1 ; p=none") && !is_dmarc("v=DMARC10"));
    }

    #[test]
    fn the_report_domain_is_a_third_party_and_may_hold_anything() {
        let config = mailu_k8s_config::testing::config(
            "egress: {mode: static, ips: [203.0.113.25]}\ndns: {inboundIps: [198.51.100.10], dmarc: {rua: [d@reports.example.net]}}\n",
        );
        let plan = crate::testing::plan_of(&config);
        let name = &plan.domains[0].report_authorizations[0];
        for text in ["v=DMARCé", "v=DMARC\u{a0}", "\u{1b}]0;pwned\u{7}"] {
            let t = good().txt(name, text);
            let out = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(check(&t, &plan));
            assert!(
                out.findings
                    .iter()
                    .any(|d| d.code == Code::DmarcReportAuthorization),
                "{text:?}: {:#?}",
                out.findings
            );
        }
    }

    #[test]
    fn a_null_mx_is_named_and_its_root_target_never_asked_about() {
        let t = Table::default()
            .mx_pref("example.com", 0, ".")
            .cname(".", "trap.example.net");
        let found = at(&t, "example.com MX");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, Code::MxMismatch);
        assert!(found[0].message.contains("null MX"), "{found:#?}");
        assert_eq!(found[0].value.as_deref(), Some("0 ."));
        assert!(
            !findings(&t).iter().any(|d| d.path.starts_with(". ")),
            "the root is no MX target"
        );
    }

    #[test]
    fn two_dkim_records_at_one_selector_are_a_finding() {
        let key = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";
        let one = good().txt("dkim._domainkey.example.com", key);
        assert!(!codes(&one).contains(&Code::DkimMismatch));
        let two = one.txt(
            "dkim._domainkey.example.com",
            "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEB",
        );
        let found = at(&two, "dkim._domainkey.example.com TXT (DKIM)");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::DkimMismatch);
        assert!(
            found[0].message.starts_with("2 DKIM key records"),
            "{found:#?}"
        );
    }

    #[test]
    fn servfail_from_an_include_is_a_failed_lookup_not_a_broken_record() {
        let t = with_spf("v=spf1 include:_spf.example.net ip4:203.0.113.25 -all")
            .fail("_spf.example.net", "TXT");
        let found = at(&t, SPF);
        let codes: Vec<Code> = found.iter().map(|d| d.code).collect();
        assert!(codes.contains(&Code::LookupFailed), "{found:#?}");
        assert!(!codes.contains(&Code::SpfInvalid), "{found:#?}");
        assert!(
            found.iter().all(|d| d.message.contains("_spf.example.net")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_loop_is_called_a_loop() {
        let t = with_spf("v=spf1 include:a.example.com ip4:203.0.113.25 -all")
            .txt("a.example.com", "v=spf1 include:b.example.com -all")
            .txt("b.example.com", "v=spf1 include:a.example.com -all");
        let found = at(&t, SPF);
        let limit: Vec<&Finding> = found
            .iter()
            .filter(|d| d.code == Code::SpfLookupLimit)
            .collect();
        assert_eq!(limit.len(), 1, "{found:#?}");
        assert!(
            limit[0]
                .message
                .contains("loops: example.com → a.example.com → b.example.com → a.example.com"),
            "{limit:#?}"
        );
        assert!(!limit[0].message.contains("21"), "{limit:#?}");
    }

    #[test]
    fn a_fan_out_costs_a_bounded_number_of_queries() {
        // 10 includes of 10 includes of 10 `a:` terms each: 1,110 lookups if walked whole.
        let top: Vec<String> = (0..10)
            .map(|i| format!("include:f{i}.example.net"))
            .collect();
        let mut t = with_spf(&format!("v=spf1 {} ip4:203.0.113.25 -all", top.join(" ")));
        for k in 0..10 {
            t = t.a(&format!("h{k}.example.net"), "192.0.2.1");
        }
        for i in 0..10 {
            let mid: Vec<String> = (0..10)
                .map(|j| format!("include:g{i}-{j}.example.net"))
                .collect();
            t = t.txt(
                &format!("f{i}.example.net"),
                &format!("v=spf1 {} -all", mid.join(" ")),
            );
            for j in 0..10 {
                let leaf: Vec<String> = (0..10).map(|k| format!("a:h{k}.example.net")).collect();
                t = t.txt(
                    &format!("g{i}-{j}.example.net"),
                    &format!("v=spf1 {} -all", leaf.join(" ")),
                );
            }
        }
        let found = at(&t, SPF);
        assert!(
            found.iter().any(|d| d.code == Code::SpfLookupLimit
                && d.message.contains("more than 10 DNS lookups")),
            "{found:#?}"
        );
        assert!(t.asked() < 120, "{} queries", t.asked());
    }

    #[test]
    fn the_hint_never_asks_for_an_address_the_record_has() {
        let hint = |record: &str| {
            let found = at(&with_spf(record), SPF);
            found
                .iter()
                .find(|d| d.code == Code::SpfNotAuthorised)
                .and_then(|d| d.hint.clone())
                .unwrap_or_else(|| panic!("{record}: {found:#?}"))
        };
        let after_all = hint("v=spf1 -all ip4:203.0.113.25");
        assert!(after_all.contains("move `ip4:203.0.113.25`"), "{after_all}");
        let failed = hint("v=spf1 -ip4:203.0.113.0/24 -all");
        assert!(failed.contains("without `-`"), "{failed}");
        let absent = hint("v=spf1 ip4:192.0.2.1 -all");
        assert!(absent.contains("add `ip4:203.0.113.25`"), "{absent}");
    }

    #[test]
    fn scoped_checks_ask_only_what_they_check() {
        let t = Table::default();
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(check_scoped(&t, &plan(), &Scope::only(&[Check::Dmarc])));
        let codes: Vec<Code> = out.findings.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::DmarcMissing]);
        assert_eq!(t.asked(), 1);
        assert!(out.skipped.contains(&Check::Ptr) && !out.skipped.contains(&Check::Dmarc));
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(check_scoped(
                &good(),
                &plan(),
                &Scope::skip(&[Check::Ptr, Check::Dkim]),
            ));
        assert!(
            !out.findings.iter().any(Finding::is_error),
            "{:#?}",
            out.findings
        );
        for c in Check::ALL {
            assert_eq!(Check::parse(c.name()), Ok(c));
        }
        assert!(Check::parse("zone").is_err());
    }
}
