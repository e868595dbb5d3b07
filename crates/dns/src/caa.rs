//! CAA properties (RFC 8659) as the plan writes them and as the checker compares them.
//!
//! A CA compares the issuer-domain-name of an `issue` property with its own exactly: RFC 8659
//! §4.2's `issuer-domain-name = label *("." label)` has no trailing dot, so
//! `0 issue "letsencrypt.org."` authorises nobody (and stops every issuance for the domain).
//! The value is therefore written from our own text, never from a `Name` (whose ASCII form is
//! absolute and ends in a dot).

use hickory_proto::rr::rdata::CAA;

/// One CAA property the plan publishes at a mail domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaProperty {
    /// `issue` (RFC 8659 §4.2) or `iodef` (§4.4).
    pub tag: &'static str,
    /// The property value, exactly as published: `letsencrypt.org`, or with RFC 8657
    /// parameters `letsencrypt.org; accounturi=https://…; validationmethods=dns-01`.
    pub value: String,
}

impl CaaProperty {
    /// `issue` for `issuer` with `(tag, value)` parameters. The caller has validated both: the
    /// issuer is an LDH host name, parameter values are RFC 8659 `parameter-value`s.
    pub fn issue(issuer: &str, parameters: &[(&str, String)]) -> CaaProperty {
        let mut value = issuer.trim_end_matches('.').to_owned();
        for (tag, v) in parameters {
            value.push_str(&format!("; {tag}={v}"));
        }
        CaaProperty {
            tag: "issue",
            value,
        }
    }

    /// `iodef` with a validated `mailto:` or `https:` URL (RFC 8659 §4.4).
    pub fn iodef(url: &str) -> CaaProperty {
        CaaProperty {
            tag: "iodef",
            value: url.to_owned(),
        }
    }

    /// The record data: flags 0 (no property the CA must understand beyond the standard
    /// ones), the tag, and the value bytes as they are.
    pub fn rdata(&self) -> CAA {
        // hickory's constructors encode the issuer from a `Name` (with its trailing dot);
        // the fields are public, so the value is set from our own text instead.
        let mut rec = CAA::new_issue(false, None, Vec::new());
        rec.tag = self.tag.to_owned();
        rec.value = self.value.clone().into_bytes();
        rec
    }

    /// Zone-file form: `0 issue "letsencrypt.org"`. Validated values hold no `"` or `\`.
    pub fn presentation(&self) -> String {
        format!("0 {} \"{}\"", self.tag, self.value)
    }

    /// Whether a live record (hickory's presentation, `FLAGS TAG "VALUE"`) publishes this
    /// property as a CA reads it: the tag case-insensitively (RFC 8659 §4.1), an `issue`
    /// value's issuer-domain-name exactly and its parameters in any order, blanks around
    /// `;` and `=` ignored (§4.2's `*WSP`).
    pub fn is_published_by(&self, live: &str) -> bool {
        let Some((_flags, rest)) = live.split_once(' ') else {
            return false;
        };
        let Some((tag, value)) = rest.split_once(' ') else {
            return false;
        };
        let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            return false;
        };
        if !tag.eq_ignore_ascii_case(self.tag) {
            return false;
        }
        if self.tag == "issue" {
            match (issue_value(&self.value), issue_value(value)) {
                (Some(want), Some(got)) => want == got,
                _ => false,
            }
        } else {
            value == self.value
        }
    }
}

/// An `issue` value as a CA reads it: the issuer-domain-name and the sorted parameters, or
/// `None` when it does not follow RFC 8659 §4.2's grammar (a CA then treats it as "no one").
fn issue_value(value: &str) -> Option<(String, Vec<(String, String)>)> {
    let wsp = |c: char| c == ' ' || c == '\t';
    let (issuer, params) = value.split_once(';').unwrap_or((value, ""));
    let issuer = issuer.trim_matches(wsp);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if issuer.is_empty() || !issuer.split('.').all(label_ok) {
        return None;
    }
    let mut parameters = Vec::new();
    for p in params.split(';') {
        let p = p.trim_matches(wsp);
        if p.is_empty() {
            continue;
        }
        let (tag, v) = p.split_once('=')?;
        let (tag, v) = (tag.trim_matches(wsp), v.trim_matches(wsp));
        if !label_ok(tag) || !v.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b';') {
            return None;
        }
        parameters.push((tag.to_owned(), v.to_owned()));
    }
    parameters.sort();
    Some((issuer.to_owned(), parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_has_no_trailing_dot() {
        let p = CaaProperty::issue("letsencrypt.org", &[]);
        assert_eq!(p.presentation(), "0 issue \"letsencrypt.org\"");
        // hickory's own presentation of the record data, which the zone file and the
        // lookup use, agrees.
        assert_eq!(p.rdata().to_string(), "0 issue \"letsencrypt.org\"");
        assert_eq!(p.rdata().value, b"letsencrypt.org");
    }

    #[test]
    fn parameters_follow_rfc_8657() {
        let p = CaaProperty::issue(
            "letsencrypt.org",
            &[
                (
                    "accounturi",
                    "https://acme-v02.api.letsencrypt.org/acme/acct/1".to_owned(),
                ),
                ("validationmethods", "dns-01,http-01".to_owned()),
            ],
        );
        assert_eq!(
            p.presentation(),
            "0 issue \"letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1; validationmethods=dns-01,http-01\""
        );
        // hickory reads it back as the issuer and both parameters.
        let (name, kv) = p.rdata().value_as_issue().expect("RFC 8659 grammar");
        assert_eq!(name.expect("issuer").to_ascii(), "letsencrypt.org");
        assert_eq!(kv.len(), 2);
    }

    #[test]
    fn the_checker_accepts_what_the_plan_writes_and_what_a_ca_reads_alike() {
        let p = CaaProperty::issue("letsencrypt.org", &[]);
        assert!(p.is_published_by(&p.rdata().to_string()));
        assert!(p.is_published_by("0 issue \"letsencrypt.org\""));
        assert!(p.is_published_by("128 ISSUE \" letsencrypt.org \""));
        assert!(p.is_published_by("0 issue \"letsencrypt.org;\""));
        // What CAs do not take as letsencrypt.org.
        for live in [
            "0 issue \"letsencrypt.org.\"",
            "0 issue \"letsencrypt.org;x\"",
            "0 issue \"sectigo.com\"",
            "0 issuewild \"letsencrypt.org\"",
            "0 iodef \"letsencrypt.org\"",
            "0 issue \";\"",
            "0 issue letsencrypt.org",
            "",
        ] {
            assert!(!p.is_published_by(live), "{live}");
        }
        let with = CaaProperty::issue("letsencrypt.org", &[("accounturi", "https://a/1".into())]);
        assert!(with.is_published_by("0 issue \"letsencrypt.org;accounturi = https://a/1\""));
        assert!(!with.is_published_by("0 issue \"letsencrypt.org\""));
        assert!(!p.is_published_by(&with.presentation()));
    }

    /// `dns check` against a record in the form CAs compare: no finding; against the form
    /// earlier plans wrote (trailing dot): MK453, telling to publish the right one.
    #[test]
    fn dns_check_accepts_the_record_the_plan_writes() {
        let config = mailu_k8s_config::testing::config("dns: {caa: [letsencrypt.org]}\n");
        let plan = crate::testing::plan_of(&config);
        let caa_findings = |live: &str| {
            let table = crate::testing::Table::default().caa("example.com", live);
            let out = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(crate::check::check(&table, &plan));
            out.findings
                .into_iter()
                .filter(|d| d.code == crate::finding::Code::CaaMismatch)
                .collect::<Vec<_>>()
        };
        let written = crate::write::presentation(
            &plan
                .entries
                .iter()
                .find(|e| matches!(e.data, hickory_proto::rr::RData::CAA(_)))
                .expect("a CAA entry")
                .data,
        );
        assert_eq!(written, "0 issue \"letsencrypt.org\"");
        assert!(caa_findings(&written).is_empty());
        let old = caa_findings("0 issue \"letsencrypt.org.\"");
        assert_eq!(old.len(), 1, "{old:?}");
        assert!(
            old[0]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("CAA 0 issue \"letsencrypt.org\"`"),
            "{old:?}"
        );
    }
}
