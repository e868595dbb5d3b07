//! Golden snapshots of the plans for the egress examples (zone file and JSON), the DNSEndpoint
//! against external-dns's schema, and what the plan says when it cannot promise something.

mod common;

use std::path::PathBuf;

use serde_json::Value;

use mailu_k8s_config::Config;
use mailu_k8s_dns::finding::Code;
use mailu_k8s_dns::plan::{self, DkimKeys, Plan};
use mailu_k8s_dns::write;
use mailu_k8s_topology::Topology;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(text: &str) -> Config {
    mailu_k8s_config::load(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .config
}

fn example(name: &str) -> Config {
    load(
        &std::fs::read_to_string(root().join("examples").join(format!("{name}.yaml")))
            .expect("example"),
    )
}

fn plan_of(config: &Config) -> Plan {
    plan::build(config, &Topology::from_config(config), &DkimKeys::new())
        .unwrap_or_else(|e| panic!("{e:#?}"))
}

fn egress_examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".yaml")?;
            stem.starts_with("egress-").then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}

#[test]
fn plans_of_the_egress_examples() {
    let names = egress_examples();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let plan = plan_of(&example(&name));
        insta::assert_snapshot!(format!("{name}.zone"), write::zone(&plan, "example.com", 1));
        insta::assert_snapshot!(format!("{name}.json"), write::json(&plan));
    }
}

#[test]
fn dns_endpoints_validate_against_external_dns_schema() {
    let schema_file =
        root().join("../shared/reference/jsonschema/externaldns.k8s.io/dnsendpoint_v1alpha1.json");
    let Ok(text) = std::fs::read_to_string(&schema_file) else {
        eprintln!(
            "\n*** SKIPPED dns_endpoints_validate_against_external_dns_schema: {} is absent (the shared reference sits beside the repository) ***\n",
            schema_file.display()
        );
        return;
    };
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema");
    for name in egress_examples() {
        let config = example(&name);
        let plan = plan_of(&config);
        for with_txt in [false, true] {
            let object = write::dns_endpoint(&plan, &config.namespace, with_txt);
            let errors: Vec<String> = validator
                .iter_errors(&object)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            let types: Vec<&str> = object["spec"]["endpoints"]
                .as_array()
                .expect("endpoints")
                .iter()
                .filter_map(|e| e["recordType"].as_str())
                .collect();
            assert_eq!(
                types.contains(&"TXT"),
                with_txt,
                "{name}: TXT only when asked"
            );
            assert!(
                types.contains(&"MX") && types.contains(&"SRV"),
                "{name}: {types:?}"
            );
            assert!(!types.contains(&"CAA") && !types.contains(&"SOA"));
        }
    }
}

const BASE: &str = mailu_k8s_config::minimal_yaml!("");

#[test]
fn without_egress_the_plan_says_spf_and_ptr_cannot_be_guaranteed() {
    let plan = plan_of(&load(BASE));
    assert!(plan.ptr.is_empty());
    let note = plan
        .notes
        .iter()
        .find(|n| n.path == "egress.mode")
        .expect("a note about egress");
    assert!(note.message.contains("cannot be guaranteed"), "{note:?}");
    assert!(write::zone(&plan, "example.com", 1).contains("SPF and PTR cannot be guaranteed"));
    assert_eq!(plan.domains[0].spf.to_string(), "v=spf1 mx ~all");
}

#[test]
fn over_the_lookup_limit_is_refused() {
    let includes: Vec<String> = (0..11).map(|i| format!("s{i}.example.net")).collect();
    let config = load(&format!(
        "{BASE}egress: {{mode: static, ips: [203.0.113.25]}}\ndns: {{spfIncludes: [{}]}}\n",
        includes.join(", ")
    ));
    let errors = plan::build(&config, &Topology::from_config(&config), &DkimKeys::new())
        .expect_err("refused");
    assert_eq!(errors[0].code, Code::SpfLookupLimit);
    // A relay without its SPF include authorises nothing.
    let relay = load(&format!(
        "{BASE}egress: {{mode: relay, relay: {{host: smtp.relay.example}}}}\n"
    ));
    let errors =
        plan::build(&relay, &Topology::from_config(&relay), &DkimKeys::new()).expect_err("refused");
    assert_eq!(errors[0].path, "dns.spfIncludes");
}

#[test]
fn long_txt_values_are_split_at_255_octets() {
    let value = "x".repeat(600);
    let t = plan::txt(&value);
    let lens: Vec<usize> = t.txt_data.iter().map(|s| s.len()).collect();
    assert_eq!(lens, [255, 255, 90]);
    assert_eq!(plan::txt_value(&t), value);
}

#[test]
fn srv_records_follow_the_offered_ports() {
    let config = load(&format!(
        "{BASE}exposure: {{service: {{type: LoadBalancer}}, ports: {{imap: true, pop3s: false}}, clientDiscovery: true}}\n"
    ));
    let plan = plan_of(&config);
    let srv: Vec<(String, Option<u16>)> = plan.domains[0]
        .srv
        .iter()
        .map(|(n, t)| (n.clone(), t.as_ref().map(|(p, _)| *p)))
        .collect();
    let get = |n: &str| srv.iter().find(|(x, _)| x == n).map(|(_, p)| *p);
    assert_eq!(get("_imap._tcp.example.com"), Some(Some(143)));
    assert_eq!(
        get("_pop3s._tcp.example.com"),
        Some(None),
        "not offered: 0 0 0 ."
    );
    assert_eq!(get("_submissions._tcp.example.com"), Some(Some(465)));
    assert_eq!(get("_autodiscover._tcp.example.com"), Some(Some(443)));
    // Only inside the cluster: nothing is offered to clients.
    let internal = plan_of(&load(BASE));
    assert!(internal.domains[0].srv.iter().all(|(_, t)| t.is_none()));
}

/// Every key of the JSON plan is camelCase, as in the config and the manifests
/// (`ptr[].reverse_name` was the one exception).
#[test]
fn json_plan_keys_are_camel_case() {
    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    out.push(k.clone());
                    keys(child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
            _ => {}
        }
    }
    for name in egress_examples() {
        let doc: Value =
            serde_json::from_str(&write::json(&plan_of(&example(&name)))).expect("JSON");
        let mut all = Vec::new();
        keys(&doc, &mut all);
        assert!(all.iter().any(|k| k == "reverseName") || doc["ptr"] == Value::Array(vec![]));
        for k in all {
            assert!(
                k.starts_with(|c: char| c.is_ascii_lowercase())
                    && k.chars().all(|c| c.is_ascii_alphanumeric()),
                "{name}: `{k}` is not camelCase"
            );
        }
    }
}

/// Thousands of mail domains: every record lands in its zone's file and nowhere else, and a
/// missing key is one warning per selector, not one per domain. Sorting records into zones was
/// quadratic (a scan of every domain per record; 19,800 domains took minutes): timing is in
/// BENCHMARKS.md, never asserted here.
#[test]
fn thousands_of_domains_each_get_their_own_zone() {
    const N: usize = 3000;
    let domains: Vec<String> = (0..N).map(|i| format!("d{i}.example.net")).collect();
    let config = load(&format!(
        "{BASE}egress: {{mode: static, ips: [203.0.113.25]}}\ndns: {{domains: [{}], caa: [letsencrypt.org], dmarc: {{rua: [d@reports.example.org]}}}}\n",
        domains.join(", ")
    ));
    let plan = plan_of(&config);
    let zones = write::zones(&plan, 1);
    assert_eq!(zones.len(), N + 1);
    assert_eq!(
        plan.notes.iter().filter(|n| n.path == "dns.dkim").count(),
        1
    );
    for (zone, text) in zones.iter().step_by(499) {
        // Its own report authorisation, no other domain's.
        let reports: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("._report._dmarc."))
            .collect();
        assert_eq!(reports.len(), 1, "{zone}: {reports:?}");
        assert!(reports[0].starts_with(&format!(";   {zone}._report._dmarc.")));
        assert!(text.contains("One of 3001 mail domains"));
        if common::nsd_available("thousands_of_domains_each_get_their_own_zone") {
            common::checkzone(zone, text).unwrap_or_else(|e| panic!("{zone}: {e}"));
        }
    }
    // The same text as the zone of one domain alone.
    assert_eq!(zones[7].1, write::zone(&plan, &zones[7].0, 1));
    let doc: Value = serde_json::from_str(&write::json(&plan)).expect("JSON");
    assert_eq!(doc["domains"].as_array().map(Vec::len), Some(N + 1));
}

/// An SPF record no DNS message can carry is refused (NSD rejects it as "too large rdata
/// element"); the largest that fits is written and loads; over 512 octets is a warning
/// (RFC 7208 §3.4).
#[test]
fn spf_records_must_fit_a_dns_message() {
    let with_ips = |n: usize| {
        let ips: Vec<String> = (0..n)
            .map(|i| format!("203.{}.{}.1", i / 250, i % 250))
            .collect();
        load(&format!(
            "{BASE}egress: {{mode: static, ips: [{}]}}\n",
            ips.join(", ")
        ))
    };
    let config = with_ips(4500);
    let errors = plan::build(&config, &Topology::from_config(&config), &DkimKeys::new())
        .expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].code, errors[0].path.as_str()),
        (
            Code::Config(mailu_k8s_config::Code::InvalidValue),
            "egress.ips"
        )
    );
    assert!(errors[0].message.contains("65535"), "{errors:#?}");
    assert!(
        errors[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("dns.spfIncludes")
    );

    let spf_warnings = |plan: &Plan| plan.notes.iter().filter(|n| n.path == "egress.ips").count();
    let big = plan_of(&with_ips(4000));
    assert_eq!(spf_warnings(&big), 1);
    if common::nsd_available("spf_records_must_fit_a_dns_message") {
        common::checkzone("example.com", &write::zone(&big, "example.com", 1))
            .expect("the largest SPF record that fits loads");
    }
    assert_eq!(spf_warnings(&plan_of(&with_ips(40))), 1, "over 512 octets");
    assert_eq!(spf_warnings(&plan_of(&with_ips(2))), 0);
}

/// CAA with RFC 8657 parameters and iodef: the zone carries the value forms CAs compare
/// (`0 issue "letsencrypt.org; accounturi=…"`, no trailing dot), NSD loads and serves it, and
/// `dns check` against NSD finds exactly what the plan wrote; the form earlier plans wrote
/// (`"letsencrypt.org."`) is MK453.
#[test]
fn caa_records_are_what_cas_compare_and_what_the_check_accepts() {
    let config = load(&format!(
        "{BASE}dns: {{caa: [letsencrypt.org, sectigo.com], caaParameters: {{letsencrypt.org: {{accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/123456789', validationMethods: [http-01, dns-01]}}}}, caaIodef: [security@example.com, 'https://iodef.example.com/report']}}\n"
    ));
    let plan = plan_of(&config);
    let zone = write::zone(&plan, "example.com", 1);
    let caa: Vec<&str> = zone.lines().filter(|l| l.contains(" CAA ")).collect();
    assert_eq!(
        caa,
        [
            "example.com. 3600 IN CAA 0 issue \"letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/123456789; validationmethods=http-01,dns-01\"",
            "example.com. 3600 IN CAA 0 issue \"sectigo.com\"",
            "example.com. 3600 IN CAA 0 iodef \"mailto:security@example.com\"",
            "example.com. 3600 IN CAA 0 iodef \"https://iodef.example.com/report\"",
        ]
    );
    if !common::nsd_available("caa_records_are_what_cas_compare_and_what_the_check_accepts") {
        return;
    }
    common::checkzone("example.com", &zone).expect("nsd-checkzone");
    let caa_findings = |zone: &str| {
        let nsd = common::Nsd::start(&[("example.com".to_owned(), zone.to_owned())]);
        mailu_k8s_dns::check::run(&config, &plan, Some(nsd.addr))
            .expect("check runs")
            .findings
            .into_iter()
            .filter(|d| d.code == Code::CaaMismatch)
            .collect::<Vec<_>>()
    };
    assert!(caa_findings(&zone).is_empty(), "{:#?}", caa_findings(&zone));
    let dotted = zone.replace("\"sectigo.com\"", "\"sectigo.com.\"");
    let found = caa_findings(&dotted);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("CAA 0 issue \"sectigo.com\"`")),
        "{found:#?}"
    );
}
