//! Validation of the `dns` block: [`crate::file_dns::DnsFile`] → [`Dns`], every problem at once.
//!
//! One source of truth for DMARC reports: `dns.dmarc.rua`/`ruf` (full addresses, any domain).
//! Mailu's `DMARC_RUA`/`DMARC_RUF` (a local part in `domain`, used only for the record Mailu's
//! admin suggests) are derived from them; the older `mailu.dmarc` still works alone and means
//! `<local part>@<domain>`, and is refused together with `dns.dmarc`.

use std::net::IpAddr;

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::dns::*;
use crate::file::{ConfigFile, DmarcFile};
use crate::file_dns::{CaaParametersFile, DnsFile};
use crate::rules::{self, DnsName, Problem};

/// front's override file that serves the MTA-STS policy (written by the manifests).
pub const MTA_STS_OVERRIDE_FILE: &str = "mailu-k8s-mta-sts.conf";

/// What `dns` validation yields: the DNS settings and the `mailu.dmarc` values Mailu's
/// environment gets from them.
pub(crate) struct Validated {
    pub dns: Dns,
    pub mailu_dmarc: DmarcFile,
}

fn problem(message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Parses `user@domain` or `mailto:user@domain`.
pub fn parse_mailbox(raw: &str) -> Result<Mailbox, Problem> {
    let bare = raw.strip_prefix("mailto:").unwrap_or(raw);
    let Some((local, domain)) = bare.rsplit_once('@') else {
        return Err(problem(
            format!("`{raw}` is not a mail address"),
            "write an address such as `dmarc-reports@example.com`",
        ));
    };
    rules::check_local_part(local)?;
    let domain = DnsName::parse_fqdn(domain)?;
    Ok(Mailbox {
        local: local.to_owned(),
        domain,
    })
}

/// A TLS-RPT report URI: a mail address or an `https://` URL.
fn parse_report_uri(raw: &str) -> Result<ReportUri, Problem> {
    if let Some(rest) = raw.strip_prefix("https://") {
        let host = rest.split(['/', ':', '?']).next().unwrap_or_default();
        let bad = rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | ',' | '!'));
        if bad || DnsName::parse_fqdn(host).is_err() {
            return Err(problem(
                format!("`{raw}` is not a usable https URL"),
                "write `https://reports.example.com/tlsrpt` (no spaces, `;` or `,`)",
            ));
        }
        return Ok(ReportUri::Https(raw.to_owned()));
    }
    parse_mailbox(raw).map(ReportUri::Mailto)
}

fn selector(raw: &str) -> Result<String, Problem> {
    let name = DnsName::parse(raw)?;
    Ok(name.as_str().to_owned())
}

/// Validates `dns`, and `mailu.dmarc` against it. `domain` is `None` when invalid (reported
/// elsewhere).
pub(crate) fn validate_dns(
    c: &mut Checker,
    file: &ConfigFile,
    domain: Option<&DnsName>,
) -> Option<Validated> {
    let mark = c.mark();
    let d = &file.dns;
    let mut dns = Dns::default();
    c.field("dns", |c| {
        c.field("domains", |c| validate_domains(c, d, domain, &mut dns));
        c.field("inboundIps", |c| validate_inbound_ips(c, file, &mut dns));
        if let Some(ttl) = d.ttl {
            dns.ttl = ttl;
        }
        c.field("nameservers", |c| validate_nameservers(c, d, &mut dns));
        c.field("spfIncludes", |c| validate_spf_includes(c, d, &mut dns));
        c.field("dkim", |c| {
            validate_dkim_selectors(c, d, &mut dns);
            validate_dkim_files(c, d, &mut dns);
        });
        c.field("dmarc", |c| validate_dmarc_reports(c, d, &mut dns));
    });
    check_dmarc_reports_set_once(c, file);
    let mailu_dmarc = mailu_dmarc(file, domain, &mut dns);
    validate_mta_sts(c, file, &mut dns);
    c.field("dns", |c| {
        validate_tls_rpt(c, d, &mut dns);
        validate_caa(c, d, &mut dns);
    });
    dns.dane = d.dane.is_some();
    (!c.errors_since(mark)).then_some(Validated { dns, mailu_dmarc })
}

/// `dns.domains`: `domain` first, then these, each a valid FQDN, listed once.
fn validate_domains(c: &mut Checker, d: &DnsFile, domain: Option<&DnsName>, dns: &mut Dns) {
    // A set finds repeats (a list scan was quadratic).
    dns.domains.extend(domain.cloned());
    let mut seen: std::collections::HashSet<DnsName> = dns.domains.iter().cloned().collect();
    for (i, raw) in d.domains.iter().enumerate() {
        c.index(i, |c| {
            let name = DnsName::from(c.leaf(Code::InvalidDnsName, raw)?);
            if !seen.insert(name.clone()) {
                c.error(
                    Code::InvalidValue,
                    format!("`{name}` is already a mail domain"),
                    "list each extra domain once; `domain` is always included",
                )
                .value(raw.raw());
            } else {
                dns.domains.push(name);
            }
            Some(())
        });
    }
}

/// `dns.inboundIps`: IP addresses, each once, public ones warned about; by default front's
/// `loadBalancerIP`.
fn validate_inbound_ips(c: &mut Checker, file: &ConfigFile, dns: &mut Dns) {
    let d = &file.dns;
    for (i, raw) in d.inbound_ips.iter().enumerate() {
        c.index(i, |c| match c.leaf(Code::InvalidValue, raw).map(|ip| ip.0) {
            Some(ip) if dns.inbound_ips.contains(&ip) => {
                c.error(
                    Code::InvalidValue,
                    format!("`{ip}` is listed twice"),
                    "list each address once",
                )
                .value(raw.raw());
            }
            Some(ip) => {
                if !is_global(ip) {
                    c.warning(
                        Code::InvalidValue,
                        format!("`{ip}` is not a public address: clients on the internet cannot reach it"),
                        "give the address clients connect to (the load balancer's or the node's public one)",
                    )
                    .value(raw.raw());
                }
                dns.inbound_ips.push(ip);
            }
            None => {}
        });
    }
    if d.inbound_ips.is_empty()
        && let Some(ip) = file
            .exposure
            .service
            .load_balancer_ip
            .as_ref()
            .and_then(|ip| ip.parsed().ok())
            .map(|ip| ip.0)
    {
        dns.inbound_ips.push(ip);
    }
}

/// `dns.nameservers`: FQDNs.
fn validate_nameservers(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    for (i, raw) in d.nameservers.iter().enumerate() {
        let ns = c.index(i, |c| c.leaf(Code::InvalidDnsName, raw));
        dns.nameservers.extend(ns.map(DnsName::from));
    }
}

/// `dns.spfIncludes`: domains an SPF `include:` can name.
fn validate_spf_includes(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    for (i, raw) in d.spf_includes.iter().enumerate() {
        let name = c.index(i, |c| c.check(Code::InvalidDnsName, raw, SpfDomain::parse));
        dns.spf_includes.extend(name);
    }
}

/// `dns.dkim` selectors: valid DNS labels; the Ed25519 one differs from the RSA one.
fn validate_dkim_selectors(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    if let Some(raw) = &d.dkim.selector
        && let Some(s) = c.check_field("selector", Code::InvalidDnsName, raw, selector)
    {
        dns.dkim.selector = s;
    }
    let Some(raw) = &d.dkim.ed25519_selector else {
        return;
    };
    c.field("ed25519Selector", |c| {
        let s = c.check(Code::InvalidDnsName, raw, selector)?;
        if s == dns.dkim.selector {
            c.error(
                Code::InvalidValue,
                "the Ed25519 key needs a selector of its own",
                "choose another name, e.g. `ed25519`",
            )
            .value(raw);
        } else {
            dns.dkim.ed25519_selector = Some(s);
        }
        Some(())
    });
}

/// Where the DKIM keys live: `secretName` a Kubernetes name, `publicKeys` a non-empty directory.
fn validate_dkim_files(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    if let Some(raw) = &d.dkim.secret_name {
        dns.dkim.secret_name = c.object_name("secretName", raw);
    }
    if let Some(raw) = &d.dkim.public_keys {
        if raw.trim().is_empty() {
            c.field("publicKeys", |c| {
                c.error(
                    Code::InvalidValue,
                    "the directory is empty",
                    "name a directory relative to the config file, e.g. `dkim`",
                );
            });
        } else {
            dns.dkim.public_keys = raw.clone();
        }
    }
}

/// `dns.dmarc`: the policy, alignment, and `rua`/`ruf` report addresses.
fn validate_dmarc_reports(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    let m = &d.dmarc;
    if let Some(policy) = m.policy {
        dns.dmarc.policy = policy;
    }
    dns.dmarc.adkim = m.adkim;
    dns.dmarc.aspf = m.aspf;
    for (key, given, target) in [
        ("rua", &m.rua, &mut dns.dmarc.rua),
        ("ruf", &m.ruf, &mut dns.dmarc.ruf),
    ] {
        c.field(key, |c| {
            for (i, raw) in given.iter().enumerate() {
                target.extend(c.index(i, |c| c.check(Code::InvalidValue, raw, parse_mailbox)));
            }
        });
    }
}

/// DMARC report addresses in `dns.dmarc` or the older `mailu.dmarc`, not both.
fn check_dmarc_reports_set_once(c: &mut Checker, file: &ConfigFile) {
    let m = &file.dns.dmarc;
    let legacy = &file.mailu.dmarc;
    for (key, old, new) in [("rua", &legacy.rua, &m.rua), ("ruf", &legacy.ruf, &m.ruf)] {
        if old.is_some() && !new.is_empty() {
            c.fields(&["mailu", "dmarc", key], |c| {
                c.error(
                    Code::InvalidValue,
                    format!("DMARC reports are set twice: here and in `dns.dmarc.{key}`"),
                    format!(
                        "remove `mailu.dmarc.{key}`: `dns.dmarc.{key}` is the one source, and Mailu's DMARC_{} is derived from it",
                        key.to_uppercase()
                    ),
                );
            });
        }
    }
}

/// The older `mailu.dmarc` alone fills `dns.dmarc`'s reports; Mailu's `DMARC_RUA`/`DMARC_RUF`
/// are the first report addresses' local parts when they are in `domain`.
fn mailu_dmarc(file: &ConfigFile, domain: Option<&DnsName>, dns: &mut Dns) -> DmarcFile {
    let legacy = &file.mailu.dmarc;
    let mut mailu_dmarc = DmarcFile::default();
    if let Some(domain) = domain {
        // The older key alone still works: a local part in `domain`.
        let from_legacy = |v: &Option<String>| {
            v.as_ref().map(|local| Mailbox {
                local: local.clone(),
                domain: domain.clone(),
            })
        };
        if dns.dmarc.rua.is_empty() {
            dns.dmarc.rua.extend(from_legacy(&legacy.rua));
        }
        if dns.dmarc.ruf.is_empty() {
            dns.dmarc.ruf.extend(from_legacy(&legacy.ruf));
        }
        let local_in_domain = |list: &[Mailbox]| {
            list.first()
                .filter(|mb| &mb.domain == domain)
                .map(|mb| mb.local.clone())
        };
        mailu_dmarc.rua = local_in_domain(&dns.dmarc.rua);
        mailu_dmarc.ruf = local_in_domain(&dns.dmarc.ruf);
    }
    mailu_dmarc
}

/// `dns.mtaSts`: its mode and max age; front's override file of that name is left to it.
fn validate_mta_sts(c: &mut Checker, file: &ConfigFile, dns: &mut Dns) {
    let d = &file.dns;
    let front_override = file
        .workloads
        .front
        .as_ref()
        .is_some_and(|w| w.overrides.contains_key(MTA_STS_OVERRIDE_FILE));
    if d.mta_sts.is_some() && front_override {
        let at = ["workloads", "front", "overrides", MTA_STS_OVERRIDE_FILE];
        c.fields(&at, |c| {
            c.error(
                Code::InvalidValue,
                "mailu-k8s writes this override file for `dns.mtaSts`",
                "rename your file: the MTA-STS policy is served from this one",
            );
        });
    }
    if let Some(s) = &d.mta_sts {
        dns.mta_sts = Some(MtaSts {
            mode: s.mode.unwrap_or(MtaStsMode::Testing),
            max_age: s.max_age.unwrap_or(DEFAULT_MTA_STS_MAX_AGE),
        });
    }
}

/// `dns.tlsRpt`: at least one report URI, each a mail address or an https URL.
fn validate_tls_rpt(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    let Some(t) = &d.tls_rpt else {
        return;
    };
    let rua = c.field("tlsRpt", |c| {
        c.field("rua", |c| {
            if t.rua.is_empty() {
                c.error(
                    Code::EmptyList,
                    "TLS reporting needs somewhere to send reports",
                    "add an address, e.g. `rua: [tls-reports@example.com]`, or remove `dns.tlsRpt`",
                );
            }
            let uris = t.rua.iter().enumerate();
            uris.filter_map(|(i, raw)| {
                c.index(i, |c| c.check(Code::InvalidValue, raw, parse_report_uri))
            })
            .collect()
        })
    });
    dns.tls_rpt = Some(TlsRpt { rua });
}

/// `dns.caa`, `dns.caaParameters`, `dns.caaIodef`.
fn validate_caa(c: &mut Checker, d: &DnsFile, dns: &mut Dns) {
    c.field("caa", |c| {
        for (i, raw) in d.caa.iter().enumerate() {
            let domain = c.index(i, |c| c.leaf(Code::InvalidDnsName, raw));
            dns.caa.extend(domain.map(|domain| CaaIssuer {
                domain: domain.into(),
                account_uri: None,
                validation_methods: Vec::new(),
            }));
        }
    });
    c.field("caaParameters", |c| {
        for (ca, p) in &d.caa_parameters {
            c.field(ca, |c| caa_parameters(c, ca, p, dns));
        }
    });
    c.field("caaIodef", |c| {
        for (i, raw) in d.caa_iodef.iter().enumerate() {
            let uri = c.index(i, |c| c.check(Code::InvalidValue, raw, parse_report_uri));
            dns.caa_iodef.extend(uri);
        }
    });
}

/// `dns.caaParameters.<ca>` (at that path): parameters of a CA listed in `dns.caa`.
fn caa_parameters(c: &mut Checker, ca: &str, p: &CaaParametersFile, dns: &mut Dns) {
    let Some(issuer) = dns.caa.iter_mut().find(|i| i.domain.as_str() == ca) else {
        c.error(
            Code::InvalidValue,
            format!("`{}` is not one of `dns.caa`", ca.escape_debug()),
            "add the CA to `dns.caa`, or use the domain written there",
        );
        return;
    };
    if let Some(raw) = &p.account_uri {
        issuer.account_uri = c.check_field("accountUri", Code::InvalidValue, raw, account_uri);
    }
    let mut methods = p.validation_methods.clone();
    methods.sort();
    methods.dedup();
    issuer.validation_methods = methods;
}

/// An ACME account URL (RFC 8657 §3): `https://`, a host name, and only characters that stay
/// in a CAA parameter-value (RFC 8659 §4.2: visible ASCII but `;`) and in a quoted zone-file
/// string (no `"` or `\`).
fn account_uri(raw: &str) -> Result<String, Problem> {
    let host = raw
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', ':', '?']).next().unwrap_or_default());
    let chars_ok = raw
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && !matches!(b, b';' | b'"' | b'\\'));
    match host {
        Some(h) if chars_ok && DnsName::parse_fqdn(h).is_ok() => Ok(raw.to_owned()),
        _ => Err(problem(
            format!("`{}` is not an ACME account URL", raw.escape_debug()),
            "copy the account URL your ACME client registered, e.g. `https://acme-v02.api.letsencrypt.org/acme/acct/123456789` (cert-manager: the ClusterIssuer's status.acme.uri)",
        )),
    }
}

/// Whether an address is reachable from the internet (not private, loopback, link-local,
/// documentation ranges are accepted: examples use them).
fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || rules::SHARED_ADDRESS_SPACE.contains(&a))
        }
        IpAddr::V6(a) => {
            !(a.is_loopback()
                || a.is_unspecified()
                || rules::UNIQUE_LOCAL_V6.contains(&a)
                || rules::LINK_LOCAL_V6.contains(&a))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Code, load};

    use crate::testing::MINIMAL;

    fn load_with(extra: &str) -> Result<crate::Loaded, Vec<crate::Diagnostic>> {
        load(format!("{MINIMAL}{extra}").as_bytes())
    }

    #[test]
    fn defaults() {
        let c = load_with("").expect("valid").config;
        let d = &c.dns;
        assert_eq!(d.domains.len(), 1);
        assert_eq!(d.domains[0].as_str(), "example.com");
        assert_eq!(d.ttl, 3600);
        assert_eq!(d.dkim.selector, "dkim");
        assert_eq!(d.dkim.public_keys, "dkim");
        assert_eq!(d.dmarc.policy, crate::dns::DmarcAction::Quarantine);
        assert!(d.mta_sts.is_none() && d.tls_rpt.is_none() && d.inbound_ips.is_empty());
    }

    #[test]
    fn inbound_ips_default_to_the_load_balancer_address() {
        let c =
            load_with("exposure: {service: {type: LoadBalancer, loadBalancerIP: 203.0.113.10}}\n")
                .expect("valid")
                .config;
        assert_eq!(
            c.dns.inbound_ips,
            ["203.0.113.10".parse::<std::net::IpAddr>().expect("ip")]
        );
    }

    #[test]
    fn dmarc_reports_have_one_source() {
        let c =
            load_with("dns: {dmarc: {rua: [dmarc@example.com, 'mailto:x@reports.example.net']}}\n")
                .expect("valid")
                .config;
        assert_eq!(c.dns.dmarc.rua.len(), 2);
        assert_eq!(
            c.mailu.dmarc.rua.as_deref(),
            Some("dmarc"),
            "DMARC_RUA derived"
        );
        let legacy = load_with("mailu: {dmarc: {rua: reports}}\n")
            .expect("valid")
            .config;
        assert_eq!(legacy.dns.dmarc.rua[0].to_string(), "reports@example.com");
        assert_eq!(legacy.mailu.dmarc.rua.as_deref(), Some("reports"));
        let other = load_with("dns: {dmarc: {rua: [d@reports.example.net]}}\n")
            .expect("valid")
            .config;
        assert_eq!(
            other.mailu.dmarc.rua, None,
            "Mailu's variable is a local part in DOMAIN"
        );
    }

    #[test]
    fn a_dkim_selector_in_extra_env_is_refused() {
        let errors = load_with("workloads: {admin: {extraEnv: {DKIM_SELECTOR: other}}}\n")
            .expect_err("refused");
        assert!(
            errors.iter().any(|d| d
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("dns.dkim.selector")),
            "{errors:#?}"
        );
    }

    #[test]
    fn rules_table() {
        let rows: &[(&str, Code, &str, &str)] = &[
            (
                "dns: {domains: [example.com]}\n",
                Code::InvalidValue,
                "dns.domains[0]",
                "always included",
            ),
            (
                "dns: {domains: [example]}\n",
                Code::InvalidDnsName,
                "dns.domains[0]",
                "full name",
            ),
            (
                "dns: {inboundIps: [mail.example.com]}\n",
                Code::InvalidValue,
                "dns.inboundIps[0]",
                "IPv4 or IPv6",
            ),
            (
                "dns: {inboundIps: [203.0.113.1, 203.0.113.1]}\n",
                Code::InvalidValue,
                "dns.inboundIps[1]",
                "once",
            ),
            (
                "dns: {dkim: {selector: 'a b'}}\n",
                Code::InvalidDnsName,
                "dns.dkim.selector",
                "",
            ),
            (
                "dns: {dkim: {ed25519Selector: dkim}}\n",
                Code::InvalidValue,
                "dns.dkim.ed25519Selector",
                "another name",
            ),
            (
                "dns: {dkim: {secretName: Bad_Name}}\n",
                Code::InvalidKubernetesName,
                "dns.dkim.secretName",
                "",
            ),
            (
                "dns: {dmarc: {rua: [nobody]}}\n",
                Code::InvalidValue,
                "dns.dmarc.rua[0]",
                "dmarc-reports@",
            ),
            (
                "dns: {dmarc: {policy: always}}\n",
                Code::InvalidEnumValue,
                "dns.dmarc.policy",
                "",
            ),
            (
                "dns: {dmarc: {rua: [a@example.com]}}\nmailu: {dmarc: {rua: b}}\n",
                Code::InvalidValue,
                "mailu.dmarc.rua",
                "one source",
            ),
            (
                "dns: {tlsRpt: {rua: []}}\n",
                Code::EmptyList,
                "dns.tlsRpt.rua",
                "tls-reports@",
            ),
            (
                "dns: {tlsRpt: {rua: ['https://x y']}}\n",
                Code::InvalidValue,
                "dns.tlsRpt.rua[0]",
                "https://",
            ),
            (
                "dns: {mtaSts: {maxAge: 60}}\n",
                Code::OutOfRange,
                "dns.mtaSts.maxAge",
                "",
            ),
            ("dns: {ttl: 5}\n", Code::OutOfRange, "dns.ttl", ""),
            (
                "dns: {caa: ['letsencrypt org']}\n",
                Code::InvalidDnsName,
                "dns.caa[0]",
                "",
            ),
            (
                "dns: {mtaSts: {}}\nworkloads: {front: {overrides: {mailu-k8s-mta-sts.conf: x}}}\n",
                Code::InvalidValue,
                "workloads.front.overrides.mailu-k8s-mta-sts.conf",
                "rename",
            ),
            (
                "dns: {caa: [letsencrypt.org], caaParameters: {sectigo.com: {validationMethods: [dns-01]}}}\n",
                Code::InvalidValue,
                "dns.caaParameters.sectigo.com",
                "dns.caa",
            ),
            (
                "dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {accountUri: 'https://acme.example/acct/1; x=y'}}}\n",
                Code::InvalidValue,
                "dns.caaParameters.letsencrypt.org.accountUri",
                "status.acme.uri",
            ),
            (
                "dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {accountUri: 'http://acme.example/acct/1'}}}\n",
                Code::InvalidValue,
                "dns.caaParameters.letsencrypt.org.accountUri",
                "https://",
            ),
            (
                "dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {validationMethods: [http01]}}}\n",
                Code::InvalidEnumValue,
                "dns.caaParameters.letsencrypt.org.validationMethods[0]",
                "",
            ),
            (
                "dns: {caaIodef: ['security at example.com']}\n",
                Code::InvalidValue,
                "dns.caaIodef[0]",
                "",
            ),
            (
                "dns: {spfIncludes: ['_spf example']}\n",
                Code::InvalidDnsName,
                "dns.spfIncludes[0]",
                "",
            ),
            (
                "dns: {spfIncludes: ['_spf.example.com ip4:0.0.0.0/0']}\n",
                Code::InvalidDnsName,
                "dns.spfIncludes[0]",
                "letters, digits",
            ),
            (
                "dns: {spfIncludes: ['%{d}.spf.example.com']}\n",
                Code::InvalidDnsName,
                "dns.spfIncludes[0]",
                "literally",
            ),
            (
                "dns: {spfIncludes: ['spf.example._com']}\n",
                Code::InvalidDnsName,
                "dns.spfIncludes[0]",
                "_spf.google.com",
            ),
            (
                "dns: {spfIncludes: ['\"spf.example.com']}\n",
                Code::InvalidDnsName,
                "dns.spfIncludes[0]",
                "",
            ),
        ];
        for (extra, code, path, hint) in rows {
            let errors = match load_with(extra) {
                Ok(_) => panic!("expected {code:?} at {path} for {extra}"),
                Err(e) => e,
            };
            let Some(d) = errors.iter().find(|d| d.path == *path && d.code == *code) else {
                panic!("expected {code:?} at {path} for {extra}, got {errors:#?}");
            };
            assert!(
                d.hint.as_deref().unwrap_or("").contains(hint),
                "{path}: {d:?}"
            );
        }
    }

    /// SPF domain-specs are not host names (RFC 7208 §7.1): Google Workspace's documented
    /// include is `_spf.google.com`.
    #[test]
    fn spf_includes_take_underscores() {
        let c = load_with("dns: {spfIncludes: [_spf.Google.com, _netblocks.example.com]}\n")
            .expect("valid")
            .config;
        let got: Vec<&str> = c.dns.spf_includes.iter().map(|d| d.as_str()).collect();
        assert_eq!(got, ["_spf.google.com", "_netblocks.example.com"]);
    }

    #[test]
    fn a_private_inbound_address_is_a_warning() {
        let loaded = load_with("dns: {inboundIps: [192.168.1.10]}\n").expect("valid");
        assert!(
            loaded
                .warnings
                .iter()
                .any(|d| d.path == "dns.inboundIps[0]")
        );
    }
}
