//! The live check: asks DNS what the plan says should be there and reports every difference as
//! a finding (the config's one `Diagnostic` type, codes MK4xx). Lookups run concurrently, each
//! with a timeout, and the whole check has a deadline.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::future::join_all;

use mailu_k8s_config::{Code, Config, Diagnostic};

use crate::dkim::record_tags;
use crate::lookup::{Answer, HickoryLookup, Lookup};
use crate::plan::{DomainPlan, Plan, Sending};
use crate::spf::{self, Counts, MAX_LOOKUPS, MAX_VOID_LOOKUPS, Query, SpfResult};

/// The longest a whole check may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What a check found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Diagnostic>,
    /// How many checks ran.
    pub checked: usize,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.checked += other.checked;
    }

    fn ok(&mut self) {
        self.checked += 1;
    }

    fn push(&mut self, d: Diagnostic) {
        self.checked += 1;
        self.findings.push(d);
    }

    /// A failed query: reported, nothing concluded.
    fn failed<T>(&mut self, path: &str, answer: &Answer<T>) -> bool {
        match answer.failure() {
            Some(e) => {
                self.push(
                    Diagnostic::error(Code::LookupFailed, path, format!("the query failed: {e}"))
                        .with_hint("check that the name server answers for this name (and `--nameserver`); run the check again"),
                );
                true
            }
            None => false,
        }
    }
}

fn err(
    code: Code,
    path: impl Into<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, path, message).with_hint(hint)
}

fn warn(
    code: Code,
    path: impl Into<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Diagnostic {
    Diagnostic::warning(code, path, message).with_hint(hint)
}

/// Runs the check against `server` (or the system's resolvers) on a runtime of its own.
pub fn run(_config: &Config, plan: &Plan, server: Option<SocketAddr>) -> Result<Outcome, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the DNS client: {e}"))?;
    rt.block_on(async {
        let dns = HickoryLookup::new(server)?;
        tokio::time::timeout(DEADLINE, check(&dns, plan))
            .await
            .map_err(|_| {
                format!(
                    "the DNS check did not finish within {}s",
                    DEADLINE.as_secs()
                )
            })
    })
}

/// Every check of the plan, concurrently.
pub async fn check<L: Lookup>(dns: &L, plan: &Plan) -> Outcome {
    let domains = join_all(plan.domains.iter().map(|d| check_domain(dns, plan, d)));
    let hosts = join_all(
        plan.hosts
            .iter()
            .filter(|(_, ips)| !ips.is_empty())
            .map(|(h, ips)| check_addresses(dns, h, ips)),
    );
    let ptrs = check_sending(dns, plan);
    let (domains, hosts, ptrs) = tokio::join!(domains, hosts, ptrs);
    let mut out = Outcome::default();
    for o in domains.into_iter().chain(hosts).chain([ptrs]) {
        out.merge(o);
    }
    out
}

async fn check_domain<L: Lookup>(dns: &L, plan: &Plan, d: &DomainPlan) -> Outcome {
    let (mx, spf, dkim, dmarc, extra) = tokio::join!(
        check_mx(dns, plan, &d.domain),
        check_spf(dns, plan, d),
        check_dkim(dns, d),
        check_dmarc(dns, d),
        check_policies(dns, d),
    );
    let mut out = Outcome::default();
    for o in [mx, spf, dkim, dmarc, extra] {
        out.merge(o);
    }
    out
}

async fn check_mx<L: Lookup>(dns: &L, plan: &Plan, domain: &str) -> Outcome {
    let mut out = Outcome::default();
    let path = format!("{domain} MX");
    let mx = dns.mx(domain).await;
    if out.failed(&path, &mx) {
        return out;
    }
    let targets: Vec<&String> = mx.records().iter().map(|(_, h)| h).collect();
    if targets.is_empty() {
        out.push(err(
            Code::MxMismatch,
            &path,
            "no MX record: other servers cannot deliver mail for the domain",
            format!("publish `{domain}. MX 10 {}.`", plan.mail_host),
        ));
        return out;
    }
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
                format!("publish `{domain}. MX 10 {}.`", plan.mail_host),
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
    for target in targets {
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
            continue;
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

/// One SPF record at `name`, its limits, and a pass for every address in `ips`.
async fn check_spf_at<L: Lookup>(
    dns: &L,
    name: &str,
    ips: &[IpAddr],
    helo: &str,
    out: &mut Outcome,
) -> Option<String> {
    let path = format!("{name} TXT (SPF)");
    let found = spf::records(dns, name).await;
    if out.failed(&path, &found) {
        return None;
    }
    let records = found.records().to_vec();
    let text = match records.as_slice() {
        [] => {
            out.push(err(
                Code::SpfMissing,
                &path,
                "no SPF record",
                "publish the planned SPF record (`mailu-k8s dns plan`)",
            ));
            return None;
        }
        [one] => one.clone(),
        many => {
            out.push(
                err(Code::SpfMultiple, &path, format!("{} SPF records: receivers treat that as a permanent error (RFC 7208 §4.5) and SPF fails for every message", many.len()), "keep exactly one `v=spf1` record: merge them")
                    .with_value(many.join(" | ")),
            );
            return None;
        }
    };
    out.ok();
    let analysis = spf::analyse(dns, name).await;
    let counts = analysis.counts;
    if counts.lookups > MAX_LOOKUPS {
        out.push(
            err(Code::SpfLookupLimit, &path, format!("the record needs {} DNS lookups; receivers stop at {MAX_LOOKUPS} (RFC 7208 §4.6.4) and SPF fails", counts.lookups), "replace includes with ip4:/ip6: ranges, or drop includes you no longer need")
                .with_value(&text),
        );
    } else if counts.void_lookups > MAX_VOID_LOOKUPS {
        out.push(
            err(Code::SpfVoidLookupLimit, &path, format!("{} lookups find nothing; receivers stop after {MAX_VOID_LOOKUPS} (RFC 7208 §4.6.4) and SPF fails", counts.void_lookups), "remove mechanisms naming hosts or includes that do not exist")
                .with_value(&text),
        );
    } else if let Some(e) = &analysis.error {
        out.push(
            err(
                Code::SpfInvalid,
                &path,
                format!("the record cannot be evaluated: {e}"),
                "fix the record (`mailu-k8s dns plan` has one that works)",
            )
            .with_value(&text),
        );
    } else {
        out.ok();
    }
    for ip in ips {
        let q = Query {
            ip: *ip,
            local_part: "postmaster".into(),
            helo: helo.to_owned(),
        };
        let mut c = Counts::default();
        match spf::check_host(dns, &q, name.to_owned(), &mut c).await {
            SpfResult::Pass => out.ok(),
            SpfResult::TempError(e) => {
                out.failed(&path, &Answer::<()>::Failed(e));
            }
            r => out.push(
                err(
                    Code::SpfNotAuthorised,
                    &path,
                    format!("SPF gives `{r}` for {ip}, an address mail leaves from"),
                    format!(
                        "add `{}:{ip}` to the record",
                        if ip.is_ipv4() { "ip4" } else { "ip6" }
                    ),
                )
                .with_value(&text),
            ),
        }
    }
    Some(text)
}

async fn check_spf<L: Lookup>(dns: &L, plan: &Plan, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    let helo = match &plan.sending {
        Sending::Addresses { helo, .. } => helo.clone(),
        _ => plan.mail_host.clone(),
    };
    let text = check_spf_at(dns, &d.domain, sending_ips(plan), &helo, &mut out).await;
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
    // The HELO name's own record, once (for the primary domain).
    if plan.domains.first().map(|f| &f.domain) == Some(&d.domain)
        && let Some((name, _)) = &plan.helo_spf
    {
        check_spf_at(dns, name, sending_ips(plan), name, &mut out).await;
    }
    out
}

async fn check_dkim<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    for (selector, key_type, key) in &d.dkim {
        let name = format!("{selector}._domainkey.{}", d.domain);
        let path = format!("{name} TXT (DKIM)");
        let found = dns.txt(&name).await;
        if out.failed(&path, &found) {
            continue;
        }
        let records: Vec<Vec<(String, String)>> = found
            .records()
            .iter()
            .filter_map(|t| record_tags(t))
            .collect();
        let Some(tags) = records.first() else {
            out.push(err(Code::DkimMissing, &path, format!("no DKIM key record for selector `{selector}`: receivers cannot verify the signature"), "publish the DKIM record from `mailu-k8s dns plan`"));
            continue;
        };
        let p = tags
            .iter()
            .find(|(k, _)| k == "p")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let k = tags
            .iter()
            .find(|(k, _)| k == "k")
            .map_or("rsa", |(_, v)| v.as_str());
        match key {
            Some(ours) if ours.p != p || k != key_type.as_str() => out.push(
                err(Code::DkimMismatch, &path, "the published key is not the key mail is signed with (a stale or another key): signatures fail", "publish the record from `mailu-k8s dns plan` (or, if the published key is right, update the public key file)")
                    .with_value(format!("k={k}; p={}…", p.chars().take(24).collect::<String>())),
            ),
            _ if p.is_empty() => out.push(err(Code::DkimMismatch, &path, "the record has an empty key (`p=`): the key is revoked", "publish the current key")),
            _ => out.ok(),
        }
    }
    out
}

/// The tags of a `v=DMARC1` record.
fn dmarc_tags(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

fn is_dmarc(t: &str) -> bool {
    let t = t.trim_start();
    t.len() >= 8
        && t[..8].eq_ignore_ascii_case("v=DMARC1")
        && t[8..].trim_start().is_empty_or_semicolon()
}

trait SemiStart {
    fn is_empty_or_semicolon(&self) -> bool;
}

impl SemiStart for str {
    fn is_empty_or_semicolon(&self) -> bool {
        self.is_empty() || self.starts_with(';')
    }
}

async fn check_dmarc<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    let name = format!("_dmarc.{}", d.domain);
    let path = format!("{name} TXT (DMARC)");
    let found = dns.txt(&name).await;
    if !out.failed(&path, &found) {
        let records: Vec<&String> = found.records().iter().filter(|t| is_dmarc(t)).collect();
        match records.as_slice() {
            [] => out.push(err(Code::DmarcMissing, &path, "no DMARC record: Gmail and Yahoo refuse bulk mail without one, and nobody reports abuse of the domain", format!("publish `{name}. TXT \"{}\"`", d.dmarc))),
            [one] => {
                let tags = dmarc_tags(one);
                let policy = tags.iter().find(|(k, _)| k == "p").map(|(_, v)| v.as_str());
                let want = dmarc_tags(&d.dmarc);
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
    }
    for auth in &d.report_authorizations {
        let path = format!("{auth} TXT (DMARC report authorization)");
        let found = dns.txt(auth).await;
        if out.failed(&path, &found) {
            continue;
        }
        if found.records().iter().any(|t| is_dmarc(t)) {
            out.ok();
        } else {
            out.push(err(Code::DmarcReportAuthorization, &path, "reports go to another domain, which has not agreed to receive them: receivers send none", format!("publish `{auth}. TXT \"v=DMARC1\"` in that domain")));
        }
    }
    out
}

async fn check_policies<L: Lookup>(dns: &L, d: &DomainPlan) -> Outcome {
    let mut out = Outcome::default();
    if let Some(id) = &d.mta_sts_id {
        let name = format!("_mta-sts.{}", d.domain);
        let path = format!("{name} TXT (MTA-STS)");
        let found = dns.txt(&name).await;
        if !out.failed(&path, &found) {
            let records: Vec<&String> = found
                .records()
                .iter()
                .filter(|t| t.trim_start().starts_with("v=STSv1"))
                .collect();
            let want = format!("v=STSv1; id={id}");
            match records.as_slice() {
                [one] if dmarc_tags(one).iter().any(|(k, v)| k == "id" && v == id) => out.ok(),
                [one] => out.push(err(Code::MtaStsMismatch, &path, "the record announces another policy id: senders keep the policy they cached", format!("publish `{want}`")).with_value(one.as_str())),
                [] => out.push(err(Code::MtaStsMismatch, &path, "no MTA-STS record: senders never fetch the policy front serves", format!("publish `{name}. TXT \"{want}\"`"))),
                many => out.push(err(Code::MtaStsMismatch, &path, format!("{} MTA-STS records: senders ignore them (RFC 8461 §3.1)", many.len()), "keep one record")),
            }
        }
    }
    if let Some(want) = &d.tls_rpt {
        let name = format!("_smtp._tls.{}", d.domain);
        let path = format!("{name} TXT (TLS-RPT)");
        let found = dns.txt(&name).await;
        if !out.failed(&path, &found) {
            let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            let records: Vec<&String> = found
                .records()
                .iter()
                .filter(|t| t.trim_start().starts_with("v=TLSRPTv1"))
                .collect();
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
        }
    }
    for (name, target) in &d.srv {
        let path = format!("{name} SRV");
        let found = dns.srv(name).await;
        if out.failed(&path, &found) {
            continue;
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
                        None => "the service is announced, but front does not offer it".to_owned(),
                    },
                    "publish the SRV record from `mailu-k8s dns plan`",
                )
                .with_value(got.join(", ")),
            );
        }
    }
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
        let text = "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {mailuSecretKey: k}\nresolver: {serviceIP: 10.43.0.53}\negress: {mode: static, ips: [203.0.113.25]}\ndns: {inboundIps: [198.51.100.10]}\n";
        let config = mailu_k8s_config::load(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e:#?}"))
            .config;
        let topology = mailu_k8s_topology::Topology::from_config(&config);
        crate::plan::build(&config, &topology, &Default::default()).expect("plan")
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

    fn codes(t: &Table) -> Vec<Code> {
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(check(t, &plan()));
        out.findings
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect()
    }

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
}
