//! Findings about a config file: one type, a stable code, shown the same way as text and JSON.

use std::fmt;

use serde::Serialize;

/// Every kind of problem the config layer can report. The code (`MK…`) and the name are stable:
/// scripts may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file is not valid YAML.
    YamlSyntax,
    /// The file is too large, too deep, or expands too many aliases.
    InputLimit,
    /// The file is empty or not a mapping at the top.
    NotAMapping,
    /// A key that the schema does not know.
    UnknownKey,
    /// A value of the wrong YAML type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value outside an enumeration.
    InvalidEnumValue,
    /// A number outside its allowed range.
    OutOfRange,
    /// A list that must not be empty is empty.
    EmptyList,
    /// Not a valid DNS name.
    InvalidDnsName,
    /// Not a valid CIDR for its address family, or host bits set, or an unsafe prefix.
    InvalidCidr,
    /// Not a Kubernetes resource quantity.
    InvalidQuantity,
    /// A resource request larger than its limit.
    RequestExceedsLimit,
    /// Not a valid Kubernetes object name or Secret key.
    InvalidKubernetesName,
    /// Not an IANA time zone name.
    UnknownTimezone,
    /// A setting that needs another setting which is absent.
    MissingDependency,
    /// A value that is syntactically fine but not accepted here.
    InvalidValue,
    // The DNS plan and its live check (MK4xx).
    /// SPF needs more than 10 DNS lookups (RFC 7208 §4.6.4).
    SpfLookupLimit,
    /// SPF makes more than 2 lookups that find nothing (RFC 7208 §4.6.4).
    SpfVoidLookupLimit,
    /// A name that sends mail has no SPF record.
    SpfMissing,
    /// More than one SPF record at one name (RFC 7208 §3.2: a permerror).
    SpfMultiple,
    /// SPF does not pass for an address mail leaves from.
    SpfNotAuthorised,
    /// An SPF record that does not parse or evaluates to an error.
    SpfInvalid,
    /// The plan cannot promise a record: an address, a key or an egress path is unknown.
    PlanIncomplete,
    /// The MX records do not name the mail host.
    MxMismatch,
    /// An MX target is a CNAME (RFC 2181 §10.3, RFC 5321 §5.1).
    MxTargetCname,
    /// A host name's A/AAAA records are missing or differ from the plan.
    AddressMismatch,
    /// No DKIM key record for a selector.
    DkimMissing,
    /// The published DKIM key is not ours (stale, or another key).
    DkimMismatch,
    /// No DMARC record.
    DmarcMissing,
    /// A DMARC record that is invalid, duplicated or differs from the plan.
    DmarcInvalid,
    /// Reports go to another domain that has not agreed to receive them (RFC 7489 §7.1).
    DmarcReportAuthorization,
    /// A sending address has no PTR record.
    PtrMissing,
    /// A sending address's PTR names another host than the HELO name.
    PtrMismatch,
    /// The PTR's name does not resolve back to the address (no forward-confirmed reverse DNS).
    PtrNotConfirmed,
    /// The `_mta-sts` record is missing, invalid or announces another policy.
    MtaStsMismatch,
    /// The TLS-RPT record is missing, invalid or differs from the plan.
    TlsRptMismatch,
    /// A client-discovery SRV record differs from the ports front offers.
    SrvMismatch,
    /// The CAA records differ from the plan.
    CaaMismatch,
    /// A DNS query failed (timeout, SERVFAIL, refused): nothing could be concluded.
    LookupFailed,
    /// The MTA-STS policy could not be fetched over HTTPS (RFC 8461 §3.3): no connection, an
    /// HTTP status other than 200, a redirect, a body too large, or no answer in time.
    MtaStsFetchFailed,
    /// The certificate of `mta-sts.<domain>` is not valid for that name under the trust store
    /// (RFC 8461 §3.3): senders do not fetch the policy.
    MtaStsCertificate,
    /// The policy served differs from the plan (mode, MX patterns, max_age), does not parse, or
    /// is not the text the published `id` was computed from.
    MtaStsPolicyMismatch,
    /// DANE: the published TLSA records are missing or none matches the certificate the MX
    /// presents (RFC 7672 §2.2): DANE senders defer mail.
    DaneMismatch,
    /// DANE: the TLSA records are not DNSSEC-signed (or not validated): senders ignore them.
    DaneUnsigned,
    /// DANE: port 25 of the MX could not be reached, or STARTTLS failed.
    SmtpTlsFailed,
}

impl Code {
    /// All codes, in documentation order.
    pub const ALL: [Code; 46] = [
        Code::YamlSyntax,
        Code::InputLimit,
        Code::NotAMapping,
        Code::UnknownKey,
        Code::WrongType,
        Code::MissingKey,
        Code::InvalidEnumValue,
        Code::OutOfRange,
        Code::EmptyList,
        Code::InvalidDnsName,
        Code::InvalidCidr,
        Code::InvalidQuantity,
        Code::RequestExceedsLimit,
        Code::InvalidKubernetesName,
        Code::UnknownTimezone,
        Code::MissingDependency,
        Code::InvalidValue,
        Code::SpfLookupLimit,
        Code::SpfVoidLookupLimit,
        Code::SpfMissing,
        Code::SpfMultiple,
        Code::SpfNotAuthorised,
        Code::SpfInvalid,
        Code::PlanIncomplete,
        Code::MxMismatch,
        Code::MxTargetCname,
        Code::AddressMismatch,
        Code::DkimMissing,
        Code::DkimMismatch,
        Code::DmarcMissing,
        Code::DmarcInvalid,
        Code::DmarcReportAuthorization,
        Code::PtrMissing,
        Code::PtrMismatch,
        Code::PtrNotConfirmed,
        Code::MtaStsMismatch,
        Code::TlsRptMismatch,
        Code::SrvMismatch,
        Code::CaaMismatch,
        Code::LookupFailed,
        Code::MtaStsFetchFailed,
        Code::MtaStsCertificate,
        Code::MtaStsPolicyMismatch,
        Code::DaneMismatch,
        Code::DaneUnsigned,
        Code::SmtpTlsFailed,
    ];

    /// The stable short code, e.g. `MK101`.
    pub fn id(self) -> &'static str {
        match self {
            Code::YamlSyntax => "MK001",
            Code::InputLimit => "MK002",
            Code::NotAMapping => "MK003",
            Code::UnknownKey => "MK101",
            Code::WrongType => "MK102",
            Code::MissingKey => "MK103",
            Code::InvalidEnumValue => "MK104",
            Code::OutOfRange => "MK105",
            Code::EmptyList => "MK106",
            Code::InvalidDnsName => "MK201",
            Code::InvalidCidr => "MK202",
            Code::InvalidQuantity => "MK203",
            Code::RequestExceedsLimit => "MK204",
            Code::InvalidKubernetesName => "MK205",
            Code::UnknownTimezone => "MK206",
            Code::MissingDependency => "MK207",
            Code::InvalidValue => "MK208",
            Code::SpfLookupLimit => "MK401",
            Code::SpfVoidLookupLimit => "MK402",
            Code::SpfMissing => "MK403",
            Code::SpfMultiple => "MK404",
            Code::SpfNotAuthorised => "MK405",
            Code::SpfInvalid => "MK406",
            Code::PlanIncomplete => "MK407",
            Code::MxMismatch => "MK410",
            Code::MxTargetCname => "MK411",
            Code::AddressMismatch => "MK412",
            Code::DkimMissing => "MK420",
            Code::DkimMismatch => "MK421",
            Code::DmarcMissing => "MK430",
            Code::DmarcInvalid => "MK431",
            Code::DmarcReportAuthorization => "MK432",
            Code::PtrMissing => "MK440",
            Code::PtrMismatch => "MK441",
            Code::PtrNotConfirmed => "MK442",
            Code::MtaStsMismatch => "MK450",
            Code::TlsRptMismatch => "MK451",
            Code::SrvMismatch => "MK452",
            Code::CaaMismatch => "MK453",
            Code::LookupFailed => "MK460",
            Code::MtaStsFetchFailed => "MK454",
            Code::MtaStsCertificate => "MK455",
            Code::MtaStsPolicyMismatch => "MK456",
            Code::DaneMismatch => "MK470",
            Code::DaneUnsigned => "MK471",
            Code::SmtpTlsFailed => "MK472",
        }
    }

    /// The stable kebab-case name, e.g. `unknown-key`.
    pub fn name(self) -> &'static str {
        match self {
            Code::YamlSyntax => "yaml-syntax",
            Code::InputLimit => "input-limit",
            Code::NotAMapping => "not-a-mapping",
            Code::UnknownKey => "unknown-key",
            Code::WrongType => "wrong-type",
            Code::MissingKey => "missing-key",
            Code::InvalidEnumValue => "invalid-enum-value",
            Code::OutOfRange => "out-of-range",
            Code::EmptyList => "empty-list",
            Code::InvalidDnsName => "invalid-dns-name",
            Code::InvalidCidr => "invalid-cidr",
            Code::InvalidQuantity => "invalid-quantity",
            Code::RequestExceedsLimit => "request-exceeds-limit",
            Code::InvalidKubernetesName => "invalid-kubernetes-name",
            Code::UnknownTimezone => "unknown-timezone",
            Code::MissingDependency => "missing-dependency",
            Code::InvalidValue => "invalid-value",
            Code::SpfLookupLimit => "spf-lookup-limit",
            Code::SpfVoidLookupLimit => "spf-void-lookup-limit",
            Code::SpfMissing => "spf-missing",
            Code::SpfMultiple => "spf-multiple",
            Code::SpfNotAuthorised => "spf-not-authorised",
            Code::SpfInvalid => "spf-invalid",
            Code::PlanIncomplete => "plan-incomplete",
            Code::MxMismatch => "mx-mismatch",
            Code::MxTargetCname => "mx-target-cname",
            Code::AddressMismatch => "address-mismatch",
            Code::DkimMissing => "dkim-missing",
            Code::DkimMismatch => "dkim-mismatch",
            Code::DmarcMissing => "dmarc-missing",
            Code::DmarcInvalid => "dmarc-invalid",
            Code::DmarcReportAuthorization => "dmarc-report-authorization",
            Code::PtrMissing => "ptr-missing",
            Code::PtrMismatch => "ptr-mismatch",
            Code::PtrNotConfirmed => "ptr-not-confirmed",
            Code::MtaStsMismatch => "mta-sts-mismatch",
            Code::TlsRptMismatch => "tls-rpt-mismatch",
            Code::SrvMismatch => "srv-mismatch",
            Code::CaaMismatch => "caa-mismatch",
            Code::LookupFailed => "lookup-failed",
            Code::MtaStsFetchFailed => "mta-sts-fetch-failed",
            Code::MtaStsCertificate => "mta-sts-certificate",
            Code::MtaStsPolicyMismatch => "mta-sts-policy-mismatch",
            Code::DaneMismatch => "dane-mismatch",
            Code::DaneUnsigned => "dane-unsigned",
            Code::SmtpTlsFailed => "smtp-tls-failed",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// How bad a finding is. Errors stop synthesis; warnings are shown and synthesis goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Line and column (both 1-based) in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

/// One finding: what is wrong, where (field path and, when known, line), the bad value, and how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    /// `code.name()`, repeated so JSON consumers need no table.
    pub name: &'static str,
    pub severity: Severity,
    /// Dotted field path such as `storage.dovecot.size`; `hostnames[0]` for list items; empty for
    /// the document as a whole.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn error(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            name: code.name(),
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            value: None,
            hint: None,
            location: None,
        }
    }

    pub fn warning(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_location(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Human-readable rendering, `source` naming the file (or `<stdin>`).
    pub fn render(&self, source: &str) -> String {
        let mut out = String::new();
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("{severity}[{}]: ", self.code.id()));
        if !self.path.is_empty() {
            out.push_str(&format!("{}: ", self.path));
        }
        out.push_str(&self.message);
        out.push('\n');
        match self.location {
            Some(l) => out.push_str(&format!("  --> {source}:{}:{}\n", l.line, l.column)),
            None => out.push_str(&format!("  --> {source}\n")),
        }
        if let Some(value) = &self.value {
            out.push_str(&format!("  = value: {value}\n"));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = hint: {hint}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("config"))
    }
}

/// Joins a parent path and a key: `join("storage", "dovecot")` is `storage.dovecot`.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `index("hostnames", 2)` is `hostnames[2]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let ids: HashSet<_> = Code::ALL.iter().map(|c| c.id()).collect();
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(ids.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn text_rendering_names_path_value_and_hint() {
        let d = Diagnostic::error(
            Code::InvalidQuantity,
            "storage.dovecot.size",
            "not a quantity",
        )
        .with_value("50GB")
        .with_hint("write 50Gi")
        .with_location(Some(Location { line: 3, column: 9 }));
        let text = d.render("mailu.yaml");
        assert!(text.starts_with("error[MK203]: storage.dovecot.size: not a quantity\n"));
        assert!(text.contains("--> mailu.yaml:3:9"));
        assert!(text.contains("= value: 50GB"));
        assert!(text.contains("= hint: write 50Gi"));
    }
}
