//! The plan against a real DNS server: NSD on 127.0.0.1 serves the zone `dns plan` writes (the
//! check passes) and broken variants of it (each gives its finding); nsd-checkzone accepts every
//! zone we emit; checkdmarc, an independent SPF implementation, counts what we count. Skips loudly
//! without NSD (`scripts/dns-tests` installs it and makes it required).

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mailu_k8s_config::{Config, FindingCode};
use mailu_k8s_dns::check::{Check, Options, Scope};
use mailu_k8s_dns::dkim::PublicKey;
use mailu_k8s_dns::finding::Code;
use mailu_k8s_dns::plan::{self, DkimKeys, Plan};
use mailu_k8s_dns::{check, keygen, write};
use mailu_k8s_topology::Topology;

use common::{Nsd, checkzone, nsd_available, zone_header};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// What the tests add to an example: the inbound address, DKIM, DMARC reports to another domain,
/// MTA-STS, TLS-RPT and CAA, so every kind of record is served and checked.
const DNS_BLOCK: &str = "
dns:
  inboundIps: [198.51.100.80, '2001:db8:80::80']
  dkim: {ed25519Selector: ed}
  dmarc: {policy: reject, rua: [dmarc@example.com, reports@reports.example.net], adkim: s}
  mtaSts: {mode: enforce}
  tlsRpt: {rua: [tls-reports@example.com]}
  caa: [letsencrypt.org]
";

/// A config with [`DNS_BLOCK`]. Its IPv6 inbound address needs front's Service dual-stack
/// (`subnet6`), which `check` requires (issue 21): a single-stack config gets the IPv4 one only.
fn with_dns_block(text: &str) -> String {
    if text.contains("\nsubnet6:") {
        format!("{text}{DNS_BLOCK}")
    } else {
        format!("{text}{}", DNS_BLOCK.replace(", '2001:db8:80::80'", ""))
    }
}

fn config(example: &str) -> Config {
    let text = with_dns_block(
        &std::fs::read_to_string(examples_dir().join(format!("{example}.yaml"))).expect("example"),
    );
    mailu_k8s_config::load(text.as_bytes())
        .unwrap_or_else(|e| panic!("{example}: {e:#?}"))
        .config
}

/// Generated once: the keys (and a second, stale set).
fn keys(config: &Config) -> &'static (DkimKeys, DkimKeys) {
    static KEYS: OnceLock<(DkimKeys, DkimKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let set = || -> DkimKeys {
            keygen::generate(config)
                .expect("keygen")
                .into_iter()
                .map(|k| {
                    let key = PublicKey::parse(&k.public_pem, k.key_type).expect("public key");
                    ((k.domain, k.selector), key)
                })
                .collect()
        };
        (set(), set())
    })
}

fn plan_for(config: &Config, keys: &DkimKeys) -> Plan {
    let topology = Topology::from_config(config);
    plan::build(config, &topology, keys).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// The reverse zone holding an address's PTR: its /24 or /32 (IPv6).
fn reverse_zone(ip: IpAddr) -> String {
    let full = mailu_k8s_dns::lookup::reverse_name(ip);
    let labels: Vec<&str> = full.split('.').collect();
    let keep = if ip.is_ipv4() { 3 } else { 8 };
    // `in-addr.arpa` or `ip6.arpa`.
    let suffix = 2;
    labels[labels.len() - keep - suffix..].join(".")
}

/// Every zone NSD serves for a plan: the mail domain's, the reverse zones with the PTR records,
/// and zones for names outside the mail domains (the DMARC report domain).
struct Zones {
    zones: BTreeMap<String, String>,
}

impl Zones {
    fn of(plan: &Plan) -> Zones {
        let mut zones = BTreeMap::new();
        for d in &plan.domains {
            zones.insert(d.domain.clone(), write::zone(plan, &d.domain, 1));
        }
        for e in plan.ptr_entries() {
            let ip = plan
                .ptr
                .iter()
                .find(|p| format!("{}.", p.reverse_name) == e.name.to_ascii())
                .map(|p| p.ip)
                .expect("ptr");
            let z = reverse_zone(ip);
            zones
                .entry(z.clone())
                .or_insert_with(|| zone_header(&z))
                .push_str(&format!(
                    "{} 300 IN PTR {}\n",
                    e.name.to_ascii(),
                    write::presentation(&e.data)
                ));
        }
        for e in &plan.entries {
            let n = e.name.to_ascii();
            if plan.zone_of(&n).is_none() {
                let labels: Vec<&str> = n.trim_end_matches('.').split('.').collect();
                let z = labels[labels.len() - 2..].join(".");
                zones
                    .entry(z.clone())
                    .or_insert_with(|| zone_header(&z))
                    .push_str(&format!(
                        "{n} 300 IN {} {}\n",
                        write::rtype(&e.data),
                        write::presentation(&e.data)
                    ));
            }
        }
        Zones { zones }
    }

    fn main(&mut self) -> &mut String {
        self.zones.get_mut("example.com").expect("example.com zone")
    }

    /// Whether some zone has a line starting with `starts` that contains `contains`.
    fn has_line(&self, starts: &str, contains: &str) -> bool {
        self.zones
            .values()
            .flat_map(|text| text.lines())
            .any(|l| l.starts_with(starts) && l.contains(contains))
    }

    /// Replaces one line (which must exist) in the zone holding it.
    fn replace_line(&mut self, starts: &str, contains: &str, with: &str) {
        for text in self.zones.values_mut() {
            let lines: Vec<&str> = text.lines().collect();
            if let Some(i) = lines
                .iter()
                .position(|l| l.starts_with(starts) && l.contains(contains))
            {
                let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                out[i] = with.to_owned();
                *text = out.join("\n") + "\n";
                return;
            }
        }
        panic!("no line starting with {starts:?} containing {contains:?}");
    }

    fn serve(&self) -> Nsd {
        self.serve_only(|_| true)
    }

    /// A server for the zones `keep` selects (the mail domains: an authoritative server; the
    /// others: what a recursive resolver would find).
    fn serve_only(&self, keep: impl Fn(&str) -> bool) -> Nsd {
        let zones: Vec<(String, String)> = self
            .zones
            .iter()
            .filter(|(z, _)| keep(z))
            .map(|(z, t)| (z.clone(), t.clone()))
            .collect();
        Nsd::start(&zones)
    }
}

fn run_check(config: &Config, plan: &Plan, nsd: &Nsd) -> check::Outcome {
    check::run(config, plan, Some(nsd.addr)).expect("check runs")
}

fn errors(o: &check::Outcome) -> Vec<Code> {
    o.findings
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

fn spf_line(plan: &Plan) -> (String, String) {
    let d = &plan.domains[0];
    let ips: Vec<String> = d
        .spf
        .terms
        .iter()
        .filter(|t| {
            !matches!(
                t,
                mailu_k8s_dns::spf::Term::Directive(_, mailu_k8s_dns::spf::Mechanism::All)
            )
        })
        .map(|t| {
            mailu_k8s_dns::spf::Spf {
                terms: vec![t.clone()],
            }
            .to_string()
            .trim_start_matches("v=spf1 ")
            .to_owned()
        })
        .collect();
    (format!("{}. ", d.domain), ips.join(" "))
}

/// A TXT record line, split at 255 octets as the plan splits.
fn txt_line(start: &str, value: &str) -> String {
    format!(
        "{start} 3600 IN TXT {}",
        write::presentation(&hickory_proto::rr::RData::TXT(plan::txt(value)))
    )
}

/// A broken variant of the good zones and the finding it must produce.
struct Variant {
    what: &'static str,
    code: Code,
    apply: fn(&mut Zones, &Plan),
}

const VARIANTS: &[Variant] = &[
    Variant {
        what: "11 DNS lookups",
        code: Code::SpfLookupLimit,
        apply: |z, plan| {
            let (start, ips) = spf_line(plan);
            let includes: Vec<String> = (1..=11)
                .map(|i| format!("include:i{i}.example.com"))
                .collect();
            z.replace_line(
                &start,
                "v=spf1",
                &txt_line(&start, &format!("v=spf1 {} {ips} -all", includes.join(" "))),
            );
            for i in 1..=11 {
                z.main()
                    .push_str(&format!("i{i}.example.com. 3600 IN TXT \"v=spf1 -all\"\n"));
            }
        },
    },
    Variant {
        what: "3 void lookups",
        code: Code::SpfVoidLookupLimit,
        apply: |z, plan| {
            let (start, ips) = spf_line(plan);
            z.replace_line(
                &start,
                "v=spf1",
                &txt_line(
                    &start,
                    &format!(
                        "v=spf1 a:v1.example.com a:v2.example.com a:v3.example.com {ips} -all"
                    ),
                ),
            );
        },
    },
    Variant {
        what: "two SPF records",
        code: Code::SpfMultiple,
        apply: |z, _| {
            z.main()
                .push_str("example.com. 3600 IN TXT \"v=spf1 mx -all\"\n")
        },
    },
    Variant {
        what: "an egress address SPF does not cover",
        code: Code::SpfNotAuthorised,
        apply: |z, plan| {
            let (start, ips) = spf_line(plan);
            let fewer: Vec<&str> = ips.split(' ').skip(1).collect();
            z.replace_line(
                &start,
                "v=spf1",
                &txt_line(&start, &format!("v=spf1 {} -all", fewer.join(" "))),
            );
        },
    },
    Variant {
        what: "a PTR naming another host",
        code: Code::PtrMismatch,
        apply: |z, plan| {
            let p = &plan.ptr[0];
            z.replace_line(
                &format!("{}.", p.reverse_name),
                "PTR",
                &format!(
                    "{}. 300 IN PTR static.{}.example.net.",
                    p.reverse_name,
                    p.ip.to_string().replace(['.', ':'], "-")
                ),
            );
        },
    },
    Variant {
        what: "a PTR that does not resolve back",
        code: Code::PtrNotConfirmed,
        apply: |z, plan| {
            let p = &plan.ptr[0];
            let rtype = if p.ip.is_ipv4() { "IN A " } else { "IN AAAA " };
            z.replace_line(
                &format!("{}. ", p.name),
                &format!("{rtype}{}", p.ip),
                "; removed",
            );
        },
    },
    Variant {
        what: "no DMARC record",
        code: Code::DmarcMissing,
        apply: |z, _| z.replace_line("_dmarc.example.com.", "v=DMARC1", "; removed"),
    },
    Variant {
        what: "a stale DKIM key",
        code: Code::DkimMismatch,
        apply: |z, plan| {
            let (_, stale) = keys_for_variants();
            let _ = plan;
            let key = &stale[&("example.com".to_owned(), "dkim".to_owned())];
            z.replace_line(
                "dkim._domainkey.example.com.",
                "DKIM1",
                &txt_line("dkim._domainkey.example.com.", &key.record()),
            );
        },
    },
    Variant {
        what: "an MX target that is a CNAME",
        code: Code::MxTargetCname,
        apply: |z, _| {
            z.replace_line("mail.example.com. ", "IN A ", "mail.example.com. 3600 IN CNAME front.example.com.\nfront.example.com. 3600 IN A 198.51.100.80");
            // A single-stack example publishes no AAAA record.
            if z.has_line("mail.example.com. ", "IN AAAA ") {
                z.replace_line(
                    "mail.example.com. ",
                    "IN AAAA ",
                    "front.example.com. 3600 IN AAAA 2001:db8:80::80",
                );
            }
        },
    },
];

static VARIANT_KEYS: OnceLock<&'static (DkimKeys, DkimKeys)> = OnceLock::new();

fn keys_for_variants() -> &'static (DkimKeys, DkimKeys) {
    VARIANT_KEYS
        .get()
        .copied()
        .expect("keys set before variants run")
}

/// The plan of `example`: its zones pass nsd-checkzone, the check against them passes, and every
/// broken variant produces its finding.
fn served_plan_passes_and_breakage_is_found(example: &str) {
    if !nsd_available(example) {
        return;
    }
    let config = config(example);
    let k = keys(&config);
    let _ = VARIANT_KEYS.set(k);
    let plan = plan_for(&config, &k.0);
    assert!(
        plan.notes.is_empty(),
        "{example}: a complete plan: {:#?}",
        plan.notes
    );
    let good = Zones::of(&plan);
    for d in &plan.domains {
        checkzone(&d.domain, &good.zones[&d.domain])
            .unwrap_or_else(|e| panic!("{example}: nsd-checkzone: {e}"));
    }

    let nsd = good.serve();
    let outcome = run_check(&config, &plan, &nsd);
    assert!(
        outcome.findings.is_empty(),
        "{example}: the planned zone passes, but: {:#?}",
        outcome.findings
    );
    assert!(
        outcome.checked > 20,
        "{example}: {} checks",
        outcome.checked
    );
    oracle_agrees(&nsd, "example.com", &outcome);
    drop(nsd);

    for v in VARIANTS {
        let mut zones = Zones::of(&plan);
        (v.apply)(&mut zones, &plan);
        let nsd = zones.serve();
        let outcome = run_check(&config, &plan, &nsd);
        let found = errors(&outcome);
        assert!(
            found.contains(&v.code),
            "{example}, {}: expected {} ({}), got {:#?}",
            v.what,
            v.code.id(),
            v.code.name(),
            outcome.findings
        );
        if matches!(v.code, Code::SpfLookupLimit | Code::SpfVoidLookupLimit) {
            oracle_agrees(&nsd, "example.com", &outcome);
        }
    }
}

/// checkdmarc's counts for the SPF record at `domain` equal ours. Skips loudly without it.
fn oracle_agrees(nsd: &Nsd, domain: &str, _outcome: &check::Outcome) {
    let Some(python) = std::env::var_os("MAILU_K8S_ORACLE_PYTHON") else {
        eprintln!(
            "*** SKIPPED the checkdmarc oracle: set MAILU_K8S_ORACLE_PYTHON (scripts/dns-tests does) ***"
        );
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/spf-oracle.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(domain)
        .arg(nsd.addr.ip().to_string())
        .arg(nsd.addr.port().to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("oracle runs");
    assert!(
        out.status.success(),
        "oracle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle JSON");
    let ours = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let dns = mailu_k8s_dns::lookup::HickoryLookup::new(Some(nsd.addr)).expect("resolver");
            mailu_k8s_dns::spf::analyse(&dns, domain).await
        });
    // checkdmarc drops its lookup count when it stops early at the void-lookup limit.
    if !theirs["lookups"].is_null() {
        assert_eq!(
            theirs["lookups"].as_u64(),
            Some(u64::from(ours.counts.lookups)),
            "DNS lookups: checkdmarc {theirs}, ours {ours:?}"
        );
    }
    assert_eq!(
        theirs["void_lookups"].as_u64(),
        Some(u64::from(ours.counts.void_lookups)),
        "void lookups: checkdmarc {theirs}, ours {ours:?}"
    );
    assert_eq!(
        theirs["valid"].as_bool(),
        Some(ours.error.is_none()),
        "validity: checkdmarc {theirs}, ours {ours:?}"
    );
}

#[test]
fn cilium_example_against_nsd() {
    served_plan_passes_and_breakage_is_found("egress-cilium-1.17");
}

#[test]
fn node_ips_example_against_nsd() {
    served_plan_passes_and_breakage_is_found("egress-node-ips");
}

#[test]
fn every_emitted_zone_passes_nsd_checkzone() {
    if !nsd_available("every_emitted_zone_passes_nsd_checkzone") {
        return;
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(examples_dir()).expect("examples") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("example");
        for extra in ["", DNS_BLOCK] {
            let full = if extra.is_empty() {
                text.clone()
            } else {
                with_dns_block(&text)
            };
            let Ok(loaded) = mailu_k8s_config::load(full.as_bytes()) else {
                continue;
            };
            let c = loaded.config;
            let topology = Topology::from_config(&c);
            let with_keys = if extra.is_empty() {
                DkimKeys::new()
            } else {
                keys(&c).0.clone()
            };
            let Ok(plan) = plan::build(&c, &topology, &with_keys) else {
                continue;
            };
            for d in &plan.domains {
                checkzone(&d.domain, &write::zone(&plan, &d.domain, 1))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
    }
    assert!(seen >= 10, "{seen} zones checked");
}

/// A UDP proxy in front of a server that passes every question on except those for one name,
/// which it drops: a server that answers some questions and stays silent on others. Stops when
/// dropped.
struct DroppingProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DroppingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The question's name of a DNS message, lower case, without the trailing dot.
fn question_name(msg: &[u8]) -> Option<String> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*msg.get(i)?);
        if len == 0 {
            return Some(labels.join(".").to_ascii_lowercase());
        }
        labels.push(String::from_utf8_lossy(msg.get(i + 1..i + 1 + len)?).into_owned());
        i += 1 + len;
    }
}

impl DroppingProxy {
    fn start(upstream: SocketAddr, dropped: fn(&str) -> bool) -> DroppingProxy {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("proxy socket");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("proxy address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut answer = [0u8; 65536];
            while !flag.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if question_name(&buf[..n]).is_some_and(|q| dropped(&q)) {
                    continue;
                }
                let Ok(up) = UdpSocket::bind("127.0.0.1:0") else {
                    continue;
                };
                let _ = up.set_read_timeout(Some(Duration::from_secs(1)));
                if up.send_to(&buf[..n], upstream).is_ok()
                    && let Ok(m) = up.recv(&mut answer)
                {
                    let _ = sock.send_to(&answer[..m], from);
                }
            }
        });
        DroppingProxy {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

/// A server that answers everything but one question: that query is a finding (MK460) when the
/// time limit passes, every other check is reported as found, and the check ends on time.
#[test]
fn an_unanswered_query_is_a_finding_and_the_rest_is_reported() {
    if !nsd_available("an_unanswered_query_is_a_finding_and_the_rest_is_reported") {
        return;
    }
    let config = config("egress-node-ips");
    let plan = plan_for(&config, &keys(&config).0);
    let nsd = Zones::of(&plan).serve();
    let proxy = DroppingProxy::start(nsd.addr, |q| q == "_dmarc.example.com");
    let started = Instant::now();
    let outcome = check::run_with(
        &plan,
        &Options {
            nameserver: Some(proxy.addr),
            timeout: Duration::from_millis(1500),
            ..Options::default()
        },
    )
    .expect("check runs");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert_eq!(
        outcome
            .findings
            .iter()
            .map(|d| (d.code, d.path.as_str()))
            .collect::<Vec<_>>(),
        [(Code::LookupFailed, "_dmarc.example.com TXT (DMARC)")],
        "{:#?}",
        outcome.findings
    );
    assert!(outcome.findings[0].message.contains("time limit (1.5s)"));
    assert!(outcome.checked > 20, "{} checks", outcome.checked);
    assert!(
        outcome
            .incomplete
            .as_deref()
            .is_some_and(|w| w.contains("1 queries unanswered")),
        "{:?}",
        outcome.incomplete
    );
}

/// `dns check` as a CI gate: the authoritative server holds only the mail domains' zones; the
/// reverse zones and the report domain are elsewhere (a second NSD stands in for the recursive
/// resolver that finds them).
#[test]
fn the_authoritative_server_for_our_zones_and_a_resolver_for_the_rest() {
    if !nsd_available("the_authoritative_server_for_our_zones_and_a_resolver_for_the_rest") {
        return;
    }
    let config = config("egress-cilium-1.17");
    let plan = plan_for(&config, &keys(&config).0);
    let zones = Zones::of(&plan);
    let ours = |z: &str| plan.domains.iter().any(|d| d.domain == z);
    let authoritative = zones.serve_only(ours);
    let elsewhere = zones.serve_only(|z| !ours(z));
    let run = |options: Options| check::run_with(&plan, &options).expect("check runs");

    // The authoritative server alone cannot pass: it refuses the names it does not hold.
    let alone = run(Options {
        nameserver: Some(authoritative.addr),
        ..Options::default()
    });
    let failed: Vec<&str> = alone
        .findings
        .iter()
        .filter(|d| d.code == Code::LookupFailed)
        .map(|d| d.path.as_str())
        .collect();
    assert!(
        !failed.is_empty()
            && alone.findings.iter().all(|d| d.code == Code::LookupFailed
                && (d.path.contains(".arpa PTR") || d.path.contains("report authorization"))),
        "{:#?}",
        alone.findings
    );
    assert!(
        alone.findings[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("--authoritative")),
        "{:#?}",
        alone.findings[0]
    );

    // Scoped to what it holds, it passes.
    let scoped = run(Options {
        nameserver: Some(authoritative.addr),
        scope: Scope::skip(&[Check::Ptr, Check::ReportAuth]),
        ..Options::default()
    });
    assert!(scoped.findings.is_empty(), "{:#?}", scoped.findings);
    assert_eq!(scoped.skipped, [Check::ReportAuth, Check::Ptr]);

    // Or everything, the rest from the resolver.
    let split = run(Options {
        nameserver: Some(elsewhere.addr),
        authoritative: Some(authoritative.addr),
        ..Options::default()
    });
    assert!(split.findings.is_empty(), "{:#?}", split.findings);
    assert!(
        split.checked > scoped.checked,
        "{} ≤ {}",
        split.checked,
        scoped.checked
    );

    // And a broken record in our zone is found through the split.
    let mut broken = Zones::of(&plan);
    broken.replace_line("_dmarc.example.com.", "v=DMARC1", "; removed");
    let authoritative = broken.serve_only(ours);
    let split = run(Options {
        nameserver: Some(elsewhere.addr),
        authoritative: Some(authoritative.addr),
        ..Options::default()
    });
    assert_eq!(
        split.findings.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::DmarcMissing],
        "{:#?}",
        split.findings
    );
}

/// Queries run at once, each given up after two attempts of 2 s: seven unanswered SRV questions
/// cost 4 s, not 7 × 6 s, and each is a finding of its own.
#[test]
fn unanswered_queries_are_asked_at_once_and_given_up_after_two_attempts() {
    if !nsd_available("unanswered_queries_are_asked_at_once_and_given_up_after_two_attempts") {
        return;
    }
    let config = config("egress-node-ips");
    let plan = plan_for(&config, &keys(&config).0);
    let nsd = Zones::of(&plan).serve();
    let proxy = DroppingProxy::start(nsd.addr, |q| q.ends_with("._tcp.example.com"));
    let started = Instant::now();
    let outcome = check::run_with(
        &plan,
        &Options {
            nameserver: Some(proxy.addr),
            ..Options::default()
        },
    )
    .expect("check runs");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let srv = plan.domains[0].srv.len();
    assert!(srv >= 7, "{srv} SRV names");
    assert_eq!(outcome.findings.len(), srv, "{:#?}", outcome.findings);
    for f in &outcome.findings {
        assert_eq!(f.code, Code::LookupFailed);
        assert!(f.path.ends_with("._tcp.example.com SRV"), "{f:#?}");
        assert!(f.message.contains("(2 attempts of 2s)"), "{f:#?}");
    }
    assert_eq!(outcome.incomplete, None);
}
