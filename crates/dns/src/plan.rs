//! The DNS plan: every record the installation needs, built from the validated config and its
//! topology (the egress model gives SPF's addresses and the HELO name, the exposure model the
//! SRV records), as typed hickory-proto records.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData};
use serde::Serialize;

use mailu_k8s_config::dns::KeyType;
use mailu_k8s_config::egress::{EgressModeKind, IpSource};
use mailu_k8s_config::{Code as ConfigCode, Config, MailService};
use mailu_k8s_topology::egress::Identity;
use mailu_k8s_topology::mail_dns::{MTA_STS_HOST_LABEL, MtaStsPolicy};
use mailu_k8s_topology::{MailPath, Topology};

use crate::caa::CaaProperty;
use crate::dkim::PublicKey;
use crate::finding::{Code, Finding};
use crate::spf::{MAX_LOOKUPS, Mechanism, Qualifier, Spf, Term};

/// The public keys the operator has, by (domain, selector).
pub type DkimKeys = BTreeMap<(String, String), PublicKey>;

/// The largest string in a TXT record (RFC 1035 §3.3.14).
pub const TXT_STRING_MAX: usize = 255;

/// One record of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: Name,
    pub ttl: u32,
    pub data: RData,
    /// What the record is for, shown as a comment.
    pub purpose: &'static str,
}

/// A PTR record the address's provider must set (reverse zones belong to them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PtrInstruction {
    pub ip: IpAddr,
    /// `25.113.0.203.in-addr.arpa`.
    pub reverse_name: String,
    /// The name the PTR must give: the HELO name.
    pub name: String,
    /// Where to set it.
    pub how: String,
}

/// What mail leaving the cluster is promised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// From these addresses, introducing itself as `helo`.
    Addresses { ips: Vec<IpAddr>, helo: String },
    /// Through a smarthost (SPF includes the relay's record).
    Relay,
    /// From wherever postfix runs: nothing is promised.
    Unpredictable,
}

/// What the plan expects of one mail domain, for the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPlan {
    pub domain: String,
    pub spf: Spf,
    /// (selector, key type, published key when known).
    pub dkim: Vec<(String, KeyType, Option<PublicKey>)>,
    pub dmarc: String,
    /// `<domain>._report._dmarc.<other>` names that must say `v=DMARC1`.
    pub report_authorizations: Vec<String>,
    pub mta_sts_id: Option<String>,
    pub tls_rpt: Option<String>,
    /// (SRV name, `Some((port, target))` or `None` for "not offered").
    pub srv: Vec<(String, Option<(u16, String)>)>,
    pub caa: Vec<CaaProperty>,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The mail domains, each a zone the plan writes.
    pub domains: Vec<DomainPlan>,
    pub ttl: u32,
    /// Every record, in a stable order.
    pub entries: Vec<Entry>,
    /// The MX target: the first of `hostnames`.
    pub mail_host: String,
    /// Every host name and its planned addresses (empty: unknown).
    pub hosts: Vec<(String, Vec<IpAddr>)>,
    pub sending: Sending,
    pub ptr: Vec<PtrInstruction>,
    /// The SPF record of the HELO name, when it has one of its own.
    pub helo_spf: Option<(String, Spf)>,
    pub mta_sts_policy: Option<String>,
    /// Name servers per zone for `--format zone` (SOA and NS).
    pub nameservers: Vec<String>,
    /// What the plan cannot promise (warnings).
    pub notes: Vec<Finding>,
    /// The mail domains as a set: [`Plan::zone_of`] looks a name's suffixes up in it, so
    /// sorting every record into its zone stays linear in the number of domains.
    zones: HashSet<String>,
}

/// A name from a validated DNS name (always absolute).
pub fn name(s: &str) -> Name {
    let fqdn = if s.ends_with('.') {
        s.to_owned()
    } else {
        format!("{s}.")
    };
    Name::from_str(&fqdn).unwrap_or_else(|_| Name::root())
}

/// A TXT record holding `value`, split into strings of at most 255 octets (RFC 7208 §3.3,
/// RFC 6376 §3.6.2.2: consumers join them without spaces).
pub fn txt(value: &str) -> TXT {
    let mut parts = Vec::new();
    let mut rest = value;
    while rest.len() > TXT_STRING_MAX {
        let mut cut = TXT_STRING_MAX;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        parts.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    parts.push(rest.to_owned());
    TXT::new(parts)
}

/// The TXT value as one string (its strings joined).
pub fn txt_value(t: &TXT) -> String {
    t.txt_data
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The SRV services of RFC 6186 and RFC 8314 (and ManageSieve, RFC 5804 §1.8), with the mail
/// service that offers each.
pub const SRV_SERVICES: [(&str, MailService); 7] = [
    ("_submissions._tcp", MailService::Submissions),
    ("_submission._tcp", MailService::Submission),
    ("_imaps._tcp", MailService::Imaps),
    ("_imap._tcp", MailService::Imap),
    ("_pop3s._tcp", MailService::Pop3s),
    ("_pop3._tcp", MailService::Pop3),
    ("_sieve._tcp", MailService::Sieve),
];

/// Builds the plan. `Err` holds every reason the plan is refused.
///
/// The records come in the order the zone files list them: each mail domain's records (see
/// [`plan_domain`]), then the host names' addresses, then the HELO name's SPF.
pub fn build(config: &Config, topology: &Topology, keys: &DkimKeys) -> Result<Plan, Vec<Finding>> {
    let d = &config.dns;
    let mail_host = config.hostnames.primary.as_str().to_owned();
    let mut draft = Draft::new(d.ttl);

    let sending = sending(topology);
    let spf = spf_record(config, &sending, &mut draft);
    let mut hosts = host_addresses(config, &mut draft.notes);
    let mut ptr = Vec::new();
    let mut helo_spf = None;
    if let Sending::Addresses { ips, helo } = &sending {
        add_addresses(&mut hosts, helo, ips);
        helo_spf = Some((helo.clone(), helo_spf_record(&spf)));
        ptr = ptr_instructions(config, topology, ips, helo);
    }
    let policy = MtaStsPolicy::from_config(config);

    let common = Common {
        config,
        keys,
        mail_host: &mail_host,
        spf: &spf,
        spf_text: spf.to_string(),
        dmarc: dmarc_record(config),
        mta_sts_id: policy.as_ref().map(MtaStsPolicy::id),
        offered: offered_services(topology),
        caa: caa_properties(config),
    };
    let mut missing_keys = MissingKeys::new();
    let domains: Vec<DomainPlan> = d
        .domains
        .iter()
        .map(|dom| plan_domain(&mut draft, &common, dom.as_str(), &mut missing_keys))
        .collect();
    draft.notes.extend(missing_key_notes(config, missing_keys));
    plan_addresses(&mut draft, &hosts);
    if let Some((helo, record)) = &helo_spf {
        plan_helo_spf(&mut draft, helo, record);
    }

    let Draft {
        ttl,
        entries,
        mut notes,
        mut errors,
    } = draft;
    check_txt_sizes(&entries, &mut errors, &mut notes);
    if !errors.is_empty() {
        return Err(errors);
    }
    let zones = domains.iter().map(|d| d.domain.clone()).collect();
    Ok(Plan {
        domains,
        ttl,
        entries,
        mail_host,
        hosts,
        sending,
        ptr,
        helo_spf,
        mta_sts_policy: policy.map(|p| p.text()),
        nameservers: d
            .nameservers
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect(),
        notes,
        zones,
    })
}

/// The plan as it is built: its records so far, what it cannot promise (notes) and why it is
/// refused (errors). Every `plan_*` function adds to it; `build` decides at the end.
struct Draft {
    ttl: u32,
    entries: Vec<Entry>,
    notes: Vec<Finding>,
    errors: Vec<Finding>,
}

impl Draft {
    fn new(ttl: u32) -> Draft {
        Draft {
            ttl,
            entries: Vec::new(),
            notes: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A record at `n`, with the plan's TTL.
    fn push(&mut self, n: &str, data: RData, purpose: &'static str) {
        self.entries.push(Entry {
            name: name(n),
            ttl: self.ttl,
            data,
            purpose,
        });
    }
}

/// What every mail domain's records are made from: the same in every zone, so computed once
/// rather than once per domain (configs hold thousands of domains).
struct Common<'a> {
    config: &'a Config,
    keys: &'a DkimKeys,
    /// The MX target, and the target of every CNAME and SRV record.
    mail_host: &'a str,
    spf: &'a Spf,
    spf_text: String,
    dmarc: String,
    /// The MTA-STS policy's id, when there is a policy.
    mta_sts_id: Option<String>,
    /// The mail services clients can reach from outside the cluster, and on which port.
    offered: BTreeMap<MailService, u16>,
    caa: Vec<CaaProperty>,
}

/// The domains whose DKIM public key is missing, by (selector, key type): one note each.
type MissingKeys = BTreeMap<(String, KeyType), Vec<String>>;

/// What outbound mail is promised, from the egress model: the egress addresses and the
/// addresses it also authorises (the nodes'), without repeats.
fn sending(topology: &Topology) -> Sending {
    match topology.egress.identity() {
        Identity::Addresses {
            ips,
            also_authorise,
            helo_name,
            ..
        } => {
            let mut all: Vec<IpAddr> = ips.to_vec();
            for ip in also_authorise {
                if !all.contains(ip) {
                    all.push(*ip);
                }
            }
            Sending::Addresses {
                ips: all,
                helo: helo_name.as_str().to_owned(),
            }
        }
        Identity::Relay(_) => Sending::Relay,
        Identity::Unpredictable => Sending::Unpredictable,
    }
}

/// MK407 when outbound mail leaves from no predictable address (`egress.mode: none`): SPF and
/// PTR cannot be guaranteed. The plan carries it as a note; `check` and `synth` show it too.
pub fn egress_warning(topology: &Topology) -> Option<Finding> {
    unpredictable_egress(&sending(topology))
}

fn unpredictable_egress(sending: &Sending) -> Option<Finding> {
    (*sending == Sending::Unpredictable).then(|| {
        Finding::warning(
            Code::PlanIncomplete,
            "egress.mode",
            "SPF and PTR cannot be guaranteed: with `egress.mode: none` mail leaves from whichever node runs postfix",
        )
        .with_hint("choose an egress mode (see the README's \"Outbound mail\"); until then SPF authorises the MX address with `~all`")
    })
}

/// The SPF record of every mail domain: the sending addresses (or, with no predictable
/// address, the MX), the configured includes, then `-all` (`~all` when nothing is promised).
/// A relay nothing authorises, or a record over the lookup limit, refuses the plan.
fn spf_record(config: &Config, sending: &Sending, draft: &mut Draft) -> Spf {
    let d = &config.dns;
    let mut spf = Spf::default();
    match sending {
        Sending::Addresses { ips, .. } => {
            spf.terms.extend(ips.iter().map(|ip| {
                Term::Directive(
                    Qualifier::Pass,
                    match ip {
                        IpAddr::V4(a) => Mechanism::Ip4(*a, None),
                        IpAddr::V6(a) => Mechanism::Ip6(*a, None),
                    },
                )
            }));
        }
        Sending::Relay => {
            if d.spf_includes.is_empty() {
                draft.errors.push(
                    Finding::error(
                        Code::SpfNotAuthorised,
                        "dns.spfIncludes",
                        "mail leaves through the relay, but SPF names nothing that authorises the relay's addresses",
                    )
                    .with_hint("add the relay provider's SPF domain, from its documentation, e.g. `dns: {spfIncludes: [spf.relay-provider.example]}`"),
                );
            }
        }
        Sending::Unpredictable => {
            // Mail leaves from the node running postfix; on a single node behind its own
            // address (k3s's ServiceLB) that is the MX address, which `mx` covers.
            spf.terms.push(Term::Directive(
                Qualifier::Pass,
                Mechanism::Mx {
                    domain: None,
                    v4: None,
                    v6: None,
                },
            ));
            draft.notes.extend(unpredictable_egress(sending));
        }
    }
    spf.terms.extend(
        d.spf_includes
            .iter()
            .map(|i| Term::Directive(Qualifier::Pass, Mechanism::Include(i.as_str().to_owned()))),
    );
    spf.terms.push(Term::Directive(
        if *sending == Sending::Unpredictable {
            Qualifier::SoftFail
        } else {
            Qualifier::Fail
        },
        Mechanism::All,
    ));
    check_spf_lookups(&spf, &mut draft.errors);
    spf
}

/// The record's own lookups over the limit refuse the plan; each include adds its record's,
/// which only `dns check` can count.
fn check_spf_lookups(spf: &Spf, errors: &mut Vec<Finding>) {
    let own = spf.own_lookups();
    if own > MAX_LOOKUPS {
        errors.push(
            Finding::error(
                Code::SpfLookupLimit,
                "dns.spfIncludes",
                format!("the SPF record needs {own} DNS lookups before its includes add theirs: receivers stop at {MAX_LOOKUPS} (RFC 7208 §4.6.4)"),
            )
            .with_value(spf.to_string())
            .with_hint("list fewer includes; replace a provider's include with its ip4:/ip6: ranges where it publishes them"),
        );
    }
}

/// Every host name with the inbound addresses (none when they are unknown, with a note).
fn host_addresses(config: &Config, notes: &mut Vec<Finding>) -> Vec<(String, Vec<IpAddr>)> {
    let d = &config.dns;
    if d.inbound_ips.is_empty() {
        notes.push(
            Finding::warning(
                Code::PlanIncomplete,
                "dns.inboundIps",
                "the host names' addresses are unknown, so the plan has no A/AAAA records for them",
            )
            .with_hint("set `dns.inboundIps` (or `exposure.service.loadBalancerIP`) to the address clients reach front at"),
        );
    }
    config
        .hostnames
        .all()
        .map(|h| (h.as_str().to_owned(), d.inbound_ips.clone()))
        .collect()
}

/// The HELO name resolves to the sending addresses: added to its host entry when it is one of
/// the host names, a host of its own otherwise.
fn add_addresses(hosts: &mut Vec<(String, Vec<IpAddr>)>, helo: &str, ips: &[IpAddr]) {
    match hosts.iter_mut().find(|(h, _)| h == helo) {
        Some((_, addrs)) => {
            for ip in ips {
                if !addrs.contains(ip) {
                    addrs.push(*ip);
                }
            }
        }
        None => hosts.push((helo.to_owned(), ips.to_vec())),
    }
}

/// The HELO name's own SPF record (RFC 7208 §2.3): the domains' addresses alone, then `-all`.
fn helo_spf_record(spf: &Spf) -> Spf {
    let mut helo_record = Spf::default();
    helo_record.terms.extend(
        spf.terms
            .iter()
            .filter(|t| {
                matches!(
                    t,
                    Term::Directive(_, Mechanism::Ip4(..) | Mechanism::Ip6(..))
                )
            })
            .cloned(),
    );
    helo_record
        .terms
        .push(Term::Directive(Qualifier::Fail, Mechanism::All));
    helo_record
}

/// The PTR record each sending address needs, and where to set it: reverse zones belong to
/// whoever owns the address (the node's provider, the NAT gateway's, the floating address's).
fn ptr_instructions(
    config: &Config,
    topology: &Topology,
    ips: &[IpAddr],
    helo: &str,
) -> Vec<PtrInstruction> {
    let node_ips: &[IpAddr] = match topology.egress.identity() {
        Identity::Addresses { also_authorise, .. } => also_authorise,
        _ => &[],
    };
    let source = config.egress.ip_source;
    ips.iter()
        .map(|ip| {
            let how = match (config.egress.kind(), source) {
                _ if node_ips.contains(ip) => format!(
                    "at the provider of the node with address {ip}, e.g. `hcloud server set-rdns <server> --ip {ip} --hostname {helo}`"
                ),
                (EgressModeKind::Static, _) => {
                    format!("in your provider's console for the NAT gateway's address {ip}")
                }
                (_, Some(IpSource::FloatingIp)) => format!(
                    "where the floating address is managed, e.g. `hcloud floating-ip set-rdns <floating-ip> --ip {ip} --hostname {helo}`"
                ),
                _ => format!(
                    "at the provider of the node with address {ip}, e.g. `hcloud server set-rdns <server> --ip {ip} --hostname {helo}`"
                ),
            };
            PtrInstruction {
                ip: *ip,
                reverse_name: crate::lookup::reverse_name(*ip),
                name: helo.to_owned(),
                how,
            }
        })
        .collect()
}

/// Client discovery: which mail services are reachable from outside, and on which port.
fn offered_services(topology: &Topology) -> BTreeMap<MailService, u16> {
    topology
        .exposure
        .mail
        .iter()
        .filter(|r| r.path != MailPath::ClusterOnly)
        .map(|r| (r.service, r.port.number.get()))
        .collect()
}

/// One mail domain's records, in zone-file order, and what the checker expects of it (the
/// `plan_*` functions below mirror `check`'s `check_*` ones, record kind by record kind).
fn plan_domain(
    draft: &mut Draft,
    common: &Common,
    dn: &str,
    missing_keys: &mut MissingKeys,
) -> DomainPlan {
    plan_mx(draft, dn, common.mail_host);
    plan_spf(draft, dn, &common.spf_text);
    let dkim = plan_dkim(draft, common, dn, missing_keys);
    plan_dmarc(draft, dn, &common.dmarc);
    let report_authorizations = plan_report_authorizations(draft, common.config, dn);
    let mta_sts_id = plan_mta_sts(draft, common, dn);
    let tls_rpt = plan_tls_rpt(draft, common.config, dn);
    let srv = plan_srv(draft, common, dn);
    plan_caa(draft, dn, &common.caa);
    DomainPlan {
        domain: dn.to_owned(),
        spf: common.spf.clone(),
        dkim,
        dmarc: common.dmarc.clone(),
        report_authorizations,
        mta_sts_id,
        tls_rpt,
        srv,
        caa: common.caa.clone(),
    }
}

fn plan_mx(draft: &mut Draft, dn: &str, mail_host: &str) {
    draft.push(
        dn,
        RData::MX(MX::new(10, name(mail_host))),
        "mail for the domain goes to the mail host",
    );
}

fn plan_spf(draft: &mut Draft, dn: &str, spf_text: &str) {
    draft.push(
        dn,
        RData::TXT(txt(spf_text)),
        "SPF: the addresses mail leaves from",
    );
}

/// A DKIM record per selector whose public key the operator has; the others are collected in
/// `missing_keys`, for one note per selector. Both kinds are expected by the checker.
fn plan_dkim(
    draft: &mut Draft,
    common: &Common,
    dn: &str,
    missing_keys: &mut MissingKeys,
) -> Vec<(String, KeyType, Option<PublicKey>)> {
    let mut dkim = Vec::new();
    for (selector, key_type) in common.config.dns.dkim.selectors() {
        let key = common
            .keys
            .get(&(dn.to_owned(), selector.to_owned()))
            .cloned();
        match &key {
            Some(k) => draft.push(
                &format!("{selector}._domainkey.{dn}"),
                RData::TXT(txt(&k.record())),
                "DKIM: the key mail is signed with",
            ),
            None => missing_keys
                .entry((selector.to_owned(), key_type))
                .or_default()
                .push(dn.to_owned()),
        }
        dkim.push((selector.to_owned(), key_type, key));
    }
    dkim
}

fn plan_dmarc(draft: &mut Draft, dn: &str, dmarc: &str) {
    draft.push(
        &format!("_dmarc.{dn}"),
        RData::TXT(txt(dmarc)),
        "DMARC: what receivers do with mail that fails",
    );
}

/// DMARC reports sent outside the domain need the report domain's consent (RFC 7489 §7.1):
/// one `<domain>._report._dmarc.<report domain>` record per report domain.
fn plan_report_authorizations(draft: &mut Draft, config: &Config, dn: &str) -> Vec<String> {
    let d = &config.dns;
    let mut report_authorizations = Vec::new();
    for mb in d.dmarc.rua.iter().chain(&d.dmarc.ruf) {
        let rd = mb.domain.as_str();
        if rd != dn && !rd.ends_with(&format!(".{dn}")) {
            let n = format!("{dn}._report._dmarc.{rd}");
            if !report_authorizations.contains(&n) {
                report_authorizations.push(n.clone());
                draft.push(
                    &n,
                    RData::TXT(txt("v=DMARC1")),
                    "DMARC: the report domain agrees to receive reports",
                );
            }
        }
    }
    report_authorizations
}

/// When there is an MTA-STS policy: its TXT record, and the `mta-sts` host front serves it on.
fn plan_mta_sts(draft: &mut Draft, common: &Common, dn: &str) -> Option<String> {
    let id = common.mta_sts_id.as_ref()?;
    draft.push(
        &format!("_mta-sts.{dn}"),
        RData::TXT(txt(&format!("v=STSv1; id={id}"))),
        "MTA-STS: a policy exists; its id changes with it",
    );
    draft.push(
        &format!("{MTA_STS_HOST_LABEL}.{dn}"),
        RData::CNAME(CNAME(name(common.mail_host))),
        "MTA-STS: front serves the policy",
    );
    Some(id.clone())
}

/// The TLS-RPT record, when reports are configured; its value, for the checker.
fn plan_tls_rpt(draft: &mut Draft, config: &Config, dn: &str) -> Option<String> {
    let t = config.dns.tls_rpt.as_ref()?;
    let rua: Vec<String> = t.rua.iter().map(ToString::to_string).collect();
    let value = format!("v=TLSRPTv1; rua={}", rua.join(","));
    draft.push(
        &format!("_smtp._tls.{dn}"),
        RData::TXT(txt(&value)),
        "TLS-RPT: where TLS failure reports go",
    );
    Some(value)
}

/// Client discovery: an SRV record per service of [`SRV_SERVICES`] (RFC 6186's "not offered"
/// for those not reachable), and with `exposure.clientDiscovery` Outlook's autodiscover SRV
/// and the `autoconfig`/`autodiscover` hosts.
fn plan_srv(draft: &mut Draft, common: &Common, dn: &str) -> Vec<(String, Option<(u16, String)>)> {
    let mail_host = common.mail_host;
    let mut srv = Vec::new();
    for (service, mail) in SRV_SERVICES {
        let n = format!("{service}.{dn}");
        let target = common
            .offered
            .get(&mail)
            .map(|port| (*port, mail_host.to_owned()));
        let data = match &target {
            Some((port, host)) => SRV::new(0, 1, *port, name(host)),
            None => SRV::new(0, 0, 0, Name::root()),
        };
        draft.push(
            &n,
            RData::SRV(data),
            if target.is_some() {
                "client discovery: the service and its port"
            } else {
                "client discovery: not offered"
            },
        );
        srv.push((n, target));
    }
    if common.config.exposure.client_discovery {
        let n = format!("_autodiscover._tcp.{dn}");
        draft.push(
            &n,
            RData::SRV(SRV::new(0, 1, 443, name(mail_host))),
            "client discovery: Outlook's autodiscover",
        );
        srv.push((n, Some((443, mail_host.to_owned()))));
        for label in ["autoconfig", "autodiscover"] {
            draft.push(
                &format!("{label}.{dn}"),
                RData::CNAME(CNAME(name(mail_host))),
                "client discovery: front serves the configuration",
            );
        }
    }
    srv
}

fn plan_caa(draft: &mut Draft, dn: &str, caa: &[CaaProperty]) {
    for property in caa {
        draft.push(
            dn,
            RData::CAA(property.rdata()),
            "CAA: who may issue certificates",
        );
    }
}

/// An A or AAAA record per host name and address.
fn plan_addresses(draft: &mut Draft, hosts: &[(String, Vec<IpAddr>)]) {
    for (h, addrs) in hosts {
        for ip in addrs {
            let data = match ip {
                IpAddr::V4(a) => RData::A(A(*a)),
                IpAddr::V6(a) => RData::AAAA(AAAA(*a)),
            };
            draft.push(h, data, "the host's address");
        }
    }
}

fn plan_helo_spf(draft: &mut Draft, helo: &str, record: &Spf) {
    draft.push(
        helo,
        RData::TXT(txt(&record.to_string())),
        "SPF of the HELO name (RFC 7208 §2.3)",
    );
}

/// The CAA properties of every mail domain: an `issue` per CA (RFC 8657 parameters as
/// configured), then an `iodef` per report address.
fn caa_properties(config: &Config) -> Vec<CaaProperty> {
    let d = &config.dns;
    let issue = d.caa.iter().map(|ca| {
        let mut params = Vec::new();
        if let Some(uri) = &ca.account_uri {
            params.push(("accounturi", uri.clone()));
        }
        if !ca.validation_methods.is_empty() {
            let methods: Vec<&str> = ca.validation_methods.iter().map(|m| m.as_str()).collect();
            params.push(("validationmethods", methods.join(",")));
        }
        CaaProperty::issue(ca.domain.as_str(), &params)
    });
    let iodef = d
        .caa_iodef
        .iter()
        .map(|uri| CaaProperty::iodef(&uri.to_string()));
    issue.chain(iodef).collect()
}

/// The largest DNS message (RFC 1035 §4.2.2: TCP's two-octet length; EDNS cannot go further).
pub const MAX_MESSAGE: usize = 65_535;
/// What RFC 7208 §3.4 asks an SPF answer to fit in: a plain UDP response (RFC 1035 §2.3.4).
pub const SPF_UDP_SIZE: usize = 512;

/// The size of a response carrying `e` alone: header (12), the question (the name, type and
/// class), and the answer with its name compressed to a pointer (2), type, class, TTL and
/// length (10), and the record data (each TXT string is preceded by its length octet).
fn answer_size(e: &Entry) -> Option<usize> {
    let RData::TXT(t) = &e.data else {
        return None;
    };
    let name_wire = e.name.to_ascii().trim_end_matches('.').len() + 2;
    let rdata: usize = t.txt_data.iter().map(|s| s.len() + 1).sum();
    Some(12 + name_wire + 4 + 2 + 10 + rdata)
}

/// The config field that makes a TXT record long, and how to shorten it.
fn txt_field(purpose: &str) -> (&'static str, &'static str) {
    match purpose.split(':').next().unwrap_or_default() {
        p if p.starts_with("SPF") => (
            "egress.ips",
            "authorise fewer addresses, or publish them in SPF records of your own and name those in `dns.spfIncludes`",
        ),
        "DMARC" => ("dns.dmarc", "list fewer report addresses"),
        "TLS-RPT" => ("dns.tlsRpt.rua", "list fewer report addresses"),
        _ => ("dns", "shorten the record"),
    }
}

/// A TXT record that cannot travel in a DNS message is refused (no server could answer with
/// it, and zone loaders reject it); an SPF answer over 512 octets is a warning: RFC 7208 §3.4
/// asks it to fit UDP, and receivers that cannot use TCP see no SPF at all.
fn check_txt_sizes(entries: &[Entry], errors: &mut Vec<Finding>, notes: &mut Vec<Finding>) {
    // Each record text is the same for every domain: one finding per field, the largest.
    let mut largest: BTreeMap<&'static str, (usize, &Entry)> = BTreeMap::new();
    for e in entries {
        if let Some(size) = answer_size(e)
            && largest
                .get(txt_field(e.purpose).0)
                .is_none_or(|(s, _)| size > *s)
        {
            largest.insert(txt_field(e.purpose).0, (size, e));
        }
    }
    for (path, (size, e)) in largest {
        let fix = txt_field(e.purpose).1;
        let purpose = e.purpose.split(':').next().unwrap_or_default();
        let at = e.name.to_ascii();
        let at = at.trim_end_matches('.');
        if size > MAX_MESSAGE {
            errors.push(
                Finding::error(
                    Code::Config(ConfigCode::InvalidValue),
                    path,
                    format!("the {purpose} record at {at} would take a {size}-octet answer: no DNS message holds more than {MAX_MESSAGE} octets, so no server could publish it"),
                )
                .with_hint(fix),
            );
        } else if size > SPF_UDP_SIZE && path == "egress.ips" {
            notes.push(
                Finding::warning(
                    Code::PlanIncomplete,
                    path,
                    format!("the SPF answer at {at} takes {size} octets, more than the {SPF_UDP_SIZE} RFC 7208 §3.4 asks for: receivers that cannot retry over TCP see no SPF"),
                )
                .with_hint(fix),
            );
        }
    }
}

/// One warning per selector whose public key is missing, naming the domains (a few, and how
/// many more): one line per domain would flood a config with thousands of domains.
fn missing_key_notes(
    config: &Config,
    missing: BTreeMap<(String, KeyType), Vec<String>>,
) -> Vec<Finding> {
    const NAMED: usize = 5;
    let dir = &config.dns.dkim.public_keys;
    let mut by_selector: Vec<_> = missing.into_iter().collect();
    // RSA first, as the selectors are listed.
    by_selector.sort_by_key(|((_, t), _)| *t);
    by_selector
        .into_iter()
        .map(|((selector, key_type), domains)| {
            let (whom, it, value) = match domains.as_slice() {
                [one] => (one.clone(), "it", format!("{dir}/{one}.{selector}.pub")),
                // Named in the message, so the value is the pattern of their files.
                many => {
                    let mut named = many[..many.len().min(NAMED)].join(", ");
                    if many.len() > NAMED {
                        named.push_str(&format!(" and {} more", many.len() - NAMED));
                    }
                    (
                        format!("{} mail domains ({named})", many.len()),
                        "them",
                        format!("{dir}/<domain>.{selector}.pub"),
                    )
                }
            };
            Finding::warning(
                Code::PlanIncomplete,
                "dns.dkim",
                format!("no {} public key for {whom} (selector `{selector}`): the plan has no DKIM record for {it}", key_type.as_str()),
            )
            .with_value(value)
            .with_hint(format!("run `mailu-k8s dkim keygen`, or export the key Mailu generated (admin → Mail domains → DNS) into {}", if it == "it" { "that file" } else { "those files" }))
        })
        .collect()
}

/// `v=DMARC1; p=...; rua=...; ruf=...; adkim=...; aspf=...`: valid under RFC 7489 and DMARCbis.
pub fn dmarc_record(config: &Config) -> String {
    let m = &config.dns.dmarc;
    let mut out = format!("v=DMARC1; p={}", m.policy.as_str());
    for (tag, list) in [("rua", &m.rua), ("ruf", &m.ruf)] {
        if !list.is_empty() {
            let uris: Vec<String> = list.iter().map(|mb| format!("mailto:{mb}")).collect();
            out.push_str(&format!("; {tag}={}", uris.join(",")));
        }
    }
    if let Some(a) = m.adkim {
        out.push_str(&format!("; adkim={}", a.as_str()));
    }
    if let Some(a) = m.aspf {
        out.push_str(&format!("; aspf={}", a.as_str()));
    }
    out
}

impl Plan {
    /// The zone (a mail domain) a name belongs to: the longest mail domain it is in. The
    /// name's suffixes are looked up, longest first: a scan of every domain for every record
    /// made the plan quadratic (19,800 domains took minutes).
    pub fn zone_of(&self, n: &str) -> Option<&str> {
        let mut rest = n.trim_end_matches('.');
        loop {
            if let Some(zone) = self.zones.get(rest) {
                return Some(zone);
            }
            rest = &rest[rest.find('.')? + 1..];
        }
    }

    /// The mail domain a name outside every zone is named after (`example.net._report._dmarc.
    /// reports.example.org` is example.net's): its zone file lists it.
    pub fn named_after(&self, n: &str) -> Option<&str> {
        let n = n.trim_end_matches('.');
        n.match_indices('.')
            .filter_map(|(i, _)| self.zones.get(&n[..i]))
            .map(String::as_str)
            .next()
    }

    /// The zone's name servers: the configured ones, or `ns1.<zone>`.
    pub fn nameservers_of(&self, zone: &str) -> Vec<String> {
        if self.nameservers.is_empty() {
            vec![format!("ns1.{zone}")]
        } else {
            self.nameservers.clone()
        }
    }

    /// SOA and NS records of a zone, for a zone file a server loads.
    pub fn apex(&self, zone: &str, serial: u32) -> Vec<Entry> {
        let ns = self.nameservers_of(zone);
        let mut out = vec![Entry {
            name: name(zone),
            ttl: self.ttl,
            data: RData::SOA(SOA::new(
                name(&ns[0]),
                name(&format!("hostmaster.{zone}")),
                serial,
                3600,
                900,
                1_209_600,
                300,
            )),
            purpose: "the zone's authority (replace with your provider's when importing)",
        }];
        out.extend(ns.iter().map(|n| Entry {
            name: name(zone),
            ttl: self.ttl,
            data: RData::NS(NS(name(n))),
            purpose: "the zone's name servers",
        }));
        out
    }

    /// PTR records in record form (for JSON and comments).
    pub fn ptr_entries(&self) -> Vec<Entry> {
        self.ptr
            .iter()
            .map(|p| Entry {
                name: name(&p.reverse_name),
                ttl: self.ttl,
                data: RData::PTR(PTR(name(&p.name))),
                purpose: "reverse DNS: set by the address's provider",
            })
            .collect()
    }
}
