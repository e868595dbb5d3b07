//! The DNS plan's and the live check's findings: the codes MK4xx, owned here, carried by the
//! config's one [`Diagnostic`] type so that both are rendered the same way.

use mailu_k8s_config::{Diagnostic, FindingCode};

/// A finding of the DNS plan or its live check.
pub type Finding = Diagnostic<Code>;

/// Every kind of problem the DNS plan and its live check report. The code (`MK…`) and the name
/// are stable: scripts may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A problem with the config itself that only the plan finds (a setting it needs is absent
    /// or unusable): the config's code.
    Config(mailu_k8s_config::Code),
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
    /// The DNS codes (not the config's), in documentation order.
    pub const ALL: [Code; 29] = [
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
}

impl From<mailu_k8s_config::Code> for Code {
    fn from(code: mailu_k8s_config::Code) -> Self {
        Code::Config(code)
    }
}

impl FindingCode for Code {
    /// The stable short code, e.g. `MK401`.
    fn id(self) -> &'static str {
        match self {
            Code::Config(code) => code.id(),
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

    /// The stable kebab-case name, e.g. `spf-lookup-limit`.
    fn name(self) -> &'static str {
        match self {
            Code::Config(code) => code.name(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_across_config_and_dns() {
        let config = mailu_k8s_config::Code::ALL.map(Code::Config);
        let all: Vec<Code> = config.into_iter().chain(Code::ALL).collect();
        let ids: HashSet<_> = all.iter().map(|c| c.id()).collect();
        let names: HashSet<_> = all.iter().map(|c| c.name()).collect();
        assert_eq!(ids.len(), all.len());
        assert_eq!(names.len(), all.len());
        assert!(Code::ALL.iter().all(|c| c.id().starts_with("MK4")));
    }

    /// The README's two tables of codes (config, DNS) list every code with its name, and no other.
    #[test]
    fn readme_tables_list_every_code() {
        let readme = include_str!("../../../README.md");
        let mut listed: Vec<(&str, &str)> = Vec::new();
        for row in readme.lines().filter(|l| l.starts_with("| MK")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            for pair in cells[1..cells.len() - 1].chunks(2) {
                if let [id, name] = pair
                    && !id.is_empty()
                {
                    let name = name.split(' ').next().unwrap_or_default();
                    listed.push((id, name));
                }
            }
        }
        listed.sort();
        let config = mailu_k8s_config::Code::ALL.map(Code::Config);
        let mut codes: Vec<(&str, &str)> = (config.into_iter().chain(Code::ALL))
            .map(|c| (c.id(), c.name()))
            .collect();
        codes.sort();
        assert_eq!(listed, codes);
    }
}
