//! The validated `dns` block: what the DNS plan publishes beyond the records the rest of the
//! config decides. Every value here has been checked (`validate_dns`).

use std::fmt;
use std::net::IpAddr;

pub use crate::file_dns::{AcmeMethod, Alignment, DmarcAction, MtaStsMode};
use crate::rules::{DnsName, Problem};

/// Mailu's default DKIM selector (`DKIM_SELECTOR`).
pub const DEFAULT_DKIM_SELECTOR: &str = "dkim";
/// Where the public keys are looked for, relative to the config file, by default.
pub const DEFAULT_PUBLIC_KEY_DIR: &str = "dkim";
pub const DEFAULT_TTL: u32 = 3600;
/// A week: long enough that a sender keeps the policy across an outage of the policy host.
pub const DEFAULT_MTA_STS_MAX_AGE: u32 = 604_800;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns {
    /// Every mail domain: `domain` first, then `dns.domains`.
    pub domains: Vec<DnsName>,
    /// The A/AAAA addresses of the host names; empty when unknown.
    pub inbound_ips: Vec<IpAddr>,
    pub ttl: u32,
    /// Empty: `ns1.<domain>` per zone.
    pub nameservers: Vec<DnsName>,
    /// `include:` domains of the SPF record.
    pub spf_includes: Vec<SpfDomain>,
    pub dkim: Dkim,
    pub dmarc: Dmarc,
    pub mta_sts: Option<MtaSts>,
    pub tls_rpt: Option<TlsRpt>,
    /// The CAs allowed to issue (CAA `issue`), with their RFC 8657 parameters.
    pub caa: Vec<CaaIssuer>,
    /// CAA `iodef` report addresses.
    pub caa_iodef: Vec<ReportUri>,
    /// DANE for inbound mail: TLSA records for the MX host, and a key that survives renewal.
    pub dane: bool,
}

/// A CA allowed to issue: its domain (RFC 8659 §4.2's issuer-domain-name), and the ACME
/// account and challenge types it is restricted to (RFC 8657).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaIssuer {
    pub domain: DnsName,
    pub account_uri: Option<String>,
    pub validation_methods: Vec<AcmeMethod>,
}

/// The domain of an SPF `include:` (RFC 7208 §7.1 `domain-spec` without macros), lower case.
///
/// Not a host name: SPF records live at names such as `_spf.google.com` (Google Workspace's
/// documented include), so labels may hold `_`. Only letters, digits, `-`, `_` and `.` are
/// taken: nothing that could end the term (blanks, quotes) or start a macro (`%`). The last
/// label is RFC 7208's `toplabel`: letters, digits and inner `-`, at least one letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpfDomain(String);

impl SpfDomain {
    pub fn parse(raw: &str) -> Result<SpfDomain, Problem> {
        let fail = |message: String, hint: &str| Problem {
            message,
            hint: hint.to_owned(),
        };
        if raw.contains('%') {
            return Err(fail(
                format!("`{raw}` holds an SPF macro (`%`)"),
                "name the include's domain literally, e.g. `_spf.google.com`",
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(fail(
                format!(
                    "`{raw}` contains `{}`, which an SPF include's domain cannot hold",
                    bad.escape_debug()
                ),
                "use only letters, digits, `-`, `_` and `.` (internationalised names as punycode, `xn--...`)",
            ));
        }
        let labels: Vec<&str> = raw.split('.').collect();
        if raw.len() > 253
            || labels.len() < 2
            || labels.iter().any(|l| l.is_empty() || l.len() > 63)
        {
            return Err(fail(
                format!("`{raw}` is not a full domain name"),
                "write the provider's SPF domain as documented, e.g. `_spf.google.com` (no leading, trailing or double dots)",
            ));
        }
        let top = labels[labels.len() - 1];
        let ldh = top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ldh
            || top.starts_with('-')
            || top.ends_with('-')
            || !top.bytes().any(|b| b.is_ascii_alphabetic())
        {
            return Err(fail(
                format!("`{raw}` does not end in a domain's top label"),
                "write the provider's SPF domain as documented, e.g. `_spf.google.com`",
            ));
        }
        Ok(SpfDomain(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SpfDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dkim {
    pub selector: String,
    pub ed25519_selector: Option<String>,
    /// The Secret admin copies keys from.
    pub secret_name: Option<String>,
    /// The public keys' directory, relative to the config file.
    pub public_keys: String,
}

impl Dkim {
    /// The selectors and their key types, RSA first.
    pub fn selectors(&self) -> impl Iterator<Item = (&str, KeyType)> {
        std::iter::once((self.selector.as_str(), KeyType::Rsa)).chain(
            self.ed25519_selector
                .as_deref()
                .map(|s| (s, KeyType::Ed25519)),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyType {
    Rsa,
    Ed25519,
}

impl KeyType {
    /// The DKIM `k=` tag value.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

/// A mailbox `local@domain`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mailbox {
    pub local: String,
    pub domain: DnsName,
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportUri {
    Mailto(Mailbox),
    /// An `https://` URL (TLS-RPT only).
    Https(String),
}

impl fmt::Display for ReportUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportUri::Mailto(m) => write!(f, "mailto:{m}"),
            ReportUri::Https(url) => f.write_str(url),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dmarc {
    pub policy: DmarcAction,
    pub rua: Vec<Mailbox>,
    pub ruf: Vec<Mailbox>,
    pub adkim: Option<Alignment>,
    pub aspf: Option<Alignment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtaSts {
    pub mode: MtaStsMode,
    pub max_age: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRpt {
    pub rua: Vec<ReportUri>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            domains: Vec::new(),
            inbound_ips: Vec::new(),
            ttl: DEFAULT_TTL,
            nameservers: Vec::new(),
            spf_includes: Vec::new(),
            dkim: Dkim {
                selector: DEFAULT_DKIM_SELECTOR.to_owned(),
                ed25519_selector: None,
                secret_name: None,
                public_keys: DEFAULT_PUBLIC_KEY_DIR.to_owned(),
            },
            dmarc: Dmarc {
                policy: DmarcAction::Quarantine,
                rua: Vec::new(),
                ruf: Vec::new(),
                adkim: None,
                aspf: None,
            },
            mta_sts: None,
            tls_rpt: None,
            caa: Vec::new(),
            dane: false,
            caa_iodef: Vec::new(),
        }
    }
}
