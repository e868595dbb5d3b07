//! DANE for inbound mail (RFC 7672): the TLSA records of the MX host, `3 1 1` (DANE-EE, the
//! certificate's SubjectPublicKeyInfo, SHA-256), which RFC 7672 §3.1.1 recommends because they
//! survive a renewal that keeps the key. The key is not known when the config is rendered, so the
//! digests come from the operator (`dns plan --tls-cert`). Pure: no network here.

use hickory_proto::rr::RData;
use hickory_proto::rr::rdata::TLSA;
use hickory_proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};

use mailu_k8s_config::{Code as ConfigCode, Config};

use crate::finding::{Code, Finding};

use crate::plan::{Entry, Plan, name};

/// Where SMTP's TLSA records live for a host (RFC 7672 §2.2.1: port 25, TCP).
pub fn tlsa_name(host: &str) -> String {
    format!("_25._tcp.{host}")
}

/// What the zone file says of the records: they count only in a signed zone.
pub const PURPOSE: &str = "DANE (RFC 7672): the key of the MX's certificate; senders use these records only when the zone is DNSSEC-signed";

/// A `3 1 1` record for a key's SPKI SHA-256.
pub fn tlsa(digest: &[u8; 32]) -> TLSA {
    TLSA::new(
        CertUsage::DaneEe,
        Selector::Spki,
        Matching::Sha256,
        digest.to_vec(),
    )
}

/// Adds the MX host's TLSA records, one per distinct key (two during a rollover), or a note
/// saying why there are none. `Err`: keys were given but `dns.dane` is off.
pub fn add_to_plan(
    plan: &mut Plan,
    config: &Config,
    digests: &[[u8; 32]],
) -> Result<(), Vec<Finding>> {
    if !config.dns.dane {
        if digests.is_empty() {
            return Ok(());
        }
        return Err(vec![Finding::error(
            Code::Config(ConfigCode::MissingDependency),
            "dns.dane",
            "`--tls-cert` gives keys for TLSA records, but DANE is not enabled",
        )
        .with_hint(
            "add `dane: {}` to `dns` (the zone must be DNSSEC-signed), or leave out `--tls-cert`",
        )]);
    }
    if digests.is_empty() {
        plan.notes.push(
            Finding::warning(
                Code::PlanIncomplete,
                "dns.dane",
                "the key of front's certificate is not known here, so the plan has no TLSA record",
            )
            .with_hint("pass the certificate: `kubectl -n <namespace> get secret <tls secret> -o jsonpath='{.data.tls\\.crt}' | base64 -d > mx.pem` and `mailu-k8s dns plan --tls-cert mx.pem`"),
        );
        return Ok(());
    }
    let owner = tlsa_name(&plan.mail_host);
    let mut seen = Vec::new();
    for d in digests {
        if seen.contains(d) {
            continue;
        }
        seen.push(*d);
        plan.entries.push(Entry {
            name: name(&owner),
            ttl: plan.ttl,
            data: RData::TLSA(tlsa(d)),
            purpose: PURPOSE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use mailu_k8s_config::testing::config;

    fn tlsa_lines(p: &Plan) -> Vec<String> {
        p.entries
            .iter()
            .filter(|e| matches!(e.data, RData::TLSA(_)))
            .map(|e| format!("{} {}", e.name, crate::write::presentation(&e.data)))
            .collect()
    }

    #[test]
    fn tlsa_records_come_from_the_given_keys() {
        let on = config("dns: {dane: {}}\n");
        let (a, b) = ([0xab; 32], [0x01; 32]);
        let mut p = crate::testing::plan_of(&on);
        add_to_plan(&mut p, &on, &[a, b, a]).expect("added");
        assert_eq!(
            tlsa_lines(&p),
            [
                format!("_25._tcp.mail.example.com. 3 1 1 {}", "ab".repeat(32)),
                format!("_25._tcp.mail.example.com. 3 1 1 {}", "01".repeat(32)),
            ]
        );
        assert!(p.notes.iter().all(|n| n.path != "dns.dane"));
    }

    #[test]
    fn without_keys_the_plan_says_so_and_without_dane_keys_are_refused() {
        let on = config("dns: {dane: {}}\n");
        let mut p = crate::testing::plan_of(&on);
        add_to_plan(&mut p, &on, &[]).expect("a note");
        assert!(tlsa_lines(&p).is_empty());
        assert!(
            p.notes
                .iter()
                .any(|n| n.path == "dns.dane" && !n.is_error())
        );

        let off = config("");
        let mut p = crate::testing::plan_of(&off);
        add_to_plan(&mut p, &off, &[]).expect("nothing to do");
        assert!(tlsa_lines(&p).is_empty() && p.notes.iter().all(|n| n.path != "dns.dane"));
        let refused = add_to_plan(&mut p, &off, &[[0; 32]]).expect_err("refused");
        assert_eq!(refused[0].code, Code::Config(ConfigCode::MissingDependency));
    }
}
