//! The `dns` block of the config file: what the DNS plan (`mailu-k8s dns plan`) publishes beyond
//! what the rest of the config already decides (MX, SPF and PTR come from `hostnames`, `exposure`
//! and `egress`). Same conventions as `file.rs`: doc comments become the JSON Schema's
//! descriptions; values are unchecked text until `validate_dns`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::leaf::{Dns1123Subdomain, Fqdn, InboundIp, Parsed};

/// The DNS records of the mail domains: `mailu-k8s dns plan` writes them (zone file, JSON,
/// external-dns `DNSEndpoint`s) and `mailu-k8s dns check` compares the live DNS with them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsFile {
    /// More mail domains besides `domain` (each gets MX, SPF, DKIM, DMARC and, when configured,
    /// MTA-STS and TLS-RPT). Create them in Mailu's admin too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Parsed<Fqdn>>,
    /// The public addresses that mail and web clients reach front at: the A/AAAA records of every
    /// name in `hostnames`. Default: `exposure.service.loadBalancerIP` when set; without either
    /// the plan names no address (and says so).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inbound_ips: Vec<Parsed<InboundIp>>,
    /// Time to live of every record, in seconds (60 to 86400). Default 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 86400))]
    pub ttl: Option<u32>,
    /// The zone's name servers (NS records and the SOA's primary in `--format zone`). Default
    /// `ns1.<domain>`: replace it with your provider's when you load the zone into a server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<Parsed<Fqdn>>,
    /// Domains whose SPF records the mail domains' SPF includes (`include:`), besides the
    /// egress addresses: the relay provider's with `egress.mode: relay` (e.g.
    /// `spf.relay-provider.example`, from its documentation), and other services that send as
    /// your domains, e.g. `_spf.google.com` for Google Workspace (SPF domains may hold `_`;
    /// macros are not taken). Each costs at least one of SPF's 10 DNS lookups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spf_includes: Vec<String>,
    /// DKIM keys: the selector and where the keys come from.
    #[serde(default)]
    pub dkim: DkimFile,
    /// The DMARC record of every mail domain (`_dmarc.<domain>`).
    #[serde(default)]
    pub dmarc: DmarcPolicyFile,
    /// Publish an MTA-STS policy (RFC 8461): front serves it at
    /// `https://mta-sts.<domain>/.well-known/mta-sts.txt`, `mta-sts.<domain>` joins the
    /// certificate and the web routes, and `_mta-sts.<domain>` announces it. Point
    /// `mta-sts.<domain>` at front first (the plan has the record): an ACME issuer fails for names
    /// that do not resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<MtaStsFile>,
    /// Ask other servers for TLS reports (RFC 8460, `_smtp._tls.<domain>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_rpt: Option<TlsRptFile>,
    /// Certificate authorities allowed to issue for the mail domains (CAA `issue` records), e.g.
    /// `[letsencrypt.org]`: the CA's domain as it documents it. Empty: no CAA records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caa: Vec<Parsed<Fqdn>>,
    /// Restrictions on a CA of `caa`, by its domain (RFC 8657): only your ACME account, only some
    /// challenge types, e.g. `{letsencrypt.org: {accountUri: https://acme-v02.api.letsencrypt.org/acme/acct/123456789, validationMethods: [http-01]}}`.
    /// Written as parameters of that CA's `issue` record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub caa_parameters: BTreeMap<String, CaaParametersFile>,
    /// Where CAs report issuance requests that CAA refused (CAA `iodef`, RFC 8659 §4.4):
    /// addresses (`security@example.com` or `mailto:` URIs) or `https://` URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caa_iodef: Vec<String>,
    /// Publish DANE for inbound mail (RFC 7672): a TLSA `3 1 1` record at
    /// `_25._tcp.<first hostname>` holding the SHA-256 of the certificate's public key, which
    /// `mailu-k8s dns plan --tls-cert <PEM>` reads (the key is not known before cert-manager makes
    /// it). front's Certificate then keeps its key on renewal (`rotationPolicy: Never`), so the
    /// record stays valid; the README describes the key rollover. Senders use TLSA records only
    /// from a DNSSEC-signed zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<DaneFile>,
}

/// RFC 8657 parameters of a CA's CAA `issue` record.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaaParametersFile {
    /// The one ACME account allowed to issue (`accounturi`): the account URL your ACME client
    /// registered (cert-manager: the ClusterIssuer's `status.acme.uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uri: Option<String>,
    /// The ACME challenge types allowed (`validationmethods`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_methods: Vec<AcmeMethod>,
}

/// An ACME challenge type (RFC 8555 §8, RFC 8737).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
pub enum AcmeMethod {
    #[serde(rename = "http-01")]
    Http01,
    #[serde(rename = "dns-01")]
    Dns01,
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
}

impl AcmeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AcmeMethod::Http01 => "http-01",
            AcmeMethod::Dns01 => "dns-01",
            AcmeMethod::TlsAlpn01 => "tls-alpn-01",
        }
    }
}

/// DANE (RFC 7672). No settings yet: its presence turns it on (`dane: {}`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DaneFile {}

/// DKIM keys (RFC 6376). Mailu signs with the key at `/dkim/<domain>.<selector>.key` on admin's
/// volume, which its admin UI generates; `mailu-k8s dkim keygen` makes them reproducibly instead.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DkimFile {
    /// The selector Mailu signs with (Mailu's `DKIM_SELECTOR`). Default `dkim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// A second selector for an Ed25519 key (RFC 8463), published beside the RSA one. Mailu 2024.06
    /// signs with one key only: the Ed25519 record is published for a signer you add yourself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ed25519_selector: Option<String>,
    /// A Secret holding private keys as `<domain>.<selector>.key` (PKCS#8 PEM), as
    /// `mailu-k8s dkim keygen` writes it. admin copies them to `/dkim` when it starts, replacing
    /// the files of the same name; keys for other domains stay as Mailu's UI made them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<Parsed<Dns1123Subdomain>>,
    /// A directory, relative to the config file, holding the public keys the plan publishes and
    /// the check compares: `<domain>.<selector>.pub`, as PEM (`openssl pkey -pubout`), bare
    /// base64, or the DKIM record Mailu's admin shows. `dkim keygen` writes them there. Default
    /// `dkim` beside the config; a missing key is reported, never invented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_keys: Option<String>,
}

/// The DMARC record (RFC 7489). Valid under DMARCbis as well: no `pct`, `rf` or `ri`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DmarcPolicyFile {
    /// What receivers do with mail that fails DMARC (`p=`). Default `quarantine`; start with
    /// `none` while reading reports if other services send mail as your domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<DmarcAction>,
    /// Where aggregate reports go (`rua=`): addresses such as `dmarc@example.com` (or
    /// `mailto:` URIs). A mailbox in another domain needs that domain's consent: the plan
    /// writes the `<domain>._report._dmarc.<other>` record. When the first address is in `domain`,
    /// its local part is also Mailu's `DMARC_RUA`. Replaces `mailu.dmarc.rua`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rua: Vec<String>,
    /// Where failure reports go (`ruf=`); same form as `rua`. Few receivers send them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ruf: Vec<String>,
    /// DKIM alignment (`adkim=`): `r` relaxed (the default), `s` strict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adkim: Option<Alignment>,
    /// SPF alignment (`aspf=`): `r` relaxed (the default), `s` strict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspf: Option<Alignment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DmarcAction {
    None,
    Quarantine,
    Reject,
}

impl DmarcAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcAction::None => "none",
            DmarcAction::Quarantine => "quarantine",
            DmarcAction::Reject => "reject",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Alignment {
    #[serde(rename = "r")]
    Relaxed,
    #[serde(rename = "s")]
    Strict,
}

impl Alignment {
    pub fn as_str(self) -> &'static str {
        match self {
            Alignment::Relaxed => "r",
            Alignment::Strict => "s",
        }
    }
}

/// The MTA-STS policy (RFC 8461 §3.2).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MtaStsFile {
    /// `testing` (the default: senders report failures but deliver), `enforce` (senders refuse
    /// to deliver without valid TLS to a listed MX) or `none` (withdraws a policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MtaStsMode>,
    /// How long senders cache the policy, in seconds (86400 to 31557600). Default 604800 (a
    /// week).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 86400, max = 31557600))]
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MtaStsMode {
    Enforce,
    Testing,
    None,
}

impl MtaStsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MtaStsMode::Enforce => "enforce",
            MtaStsMode::Testing => "testing",
            MtaStsMode::None => "none",
        }
    }
}

/// SMTP TLS reporting (RFC 8460).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsRptFile {
    /// Where reports go: addresses (`tls-reports@example.com`, or `mailto:` URIs) or `https://`
    /// URLs. Required, at least one.
    #[serde(default)]
    pub rua: Vec<String>,
}
