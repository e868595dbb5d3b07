//! `dns plan --tls-cert` and the flags of `dns check`'s connecting checks as a user meets them:
//! the TLSA record's digest agrees with openssl's, DANE without its key says so, bad input (keys
//! without `dns.dane`, a bad `--connect-to` or `--ca-file`) exits 2 before any query, and `dns
//! check` against NSD and nginx on loopback passes, then reports a wrong policy in JSON and text.

#[path = "../../dns/tests/common/mod.rs"]
mod common;
mod support;
#[path = "../../dns/tests/tls_support/mod.rs"]
mod tls_support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

use support::{s, setup};

const CONFIG: &str = mailu_k8s_config::minimal_yaml!(
    "tls: {certificate: {issuerName: letsencrypt}}\n",
    "dns: {inboundIps: [198.51.100.80], mtaSts: {}, dane: {}}\n",
);

fn mailu_k8s(args: &[&str]) -> Output {
    cargo_bin_cmd!("mailu-k8s")
        .args(args)
        .output()
        .expect("runs")
}

/// `sh -c` with openssl; `None` (after a loud notice) without openssl.
fn openssl(dir: &Path, script: &str) -> Option<String> {
    if !Path::new("/usr/bin/openssl").exists() {
        eprintln!("\n*** SKIPPED: /usr/bin/openssl is not installed ***\n");
        return None;
    }
    let out = Command::new("sh")
        .args(["-ec", script])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn the_tlsa_record_names_the_certificates_key() {
    let (dir, config) = setup(CONFIG);
    let Some(digest) = openssl(
        dir.path(),
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mx.key -out mx.pem -days 1 -subj /CN=mail.example.com 2>/dev/null
         openssl pkey -in mx.key -pubout -out next.pub
         openssl x509 -in mx.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1",
    ) else {
        return;
    };
    let cert = dir.path().join("mx.pem");
    let out = mailu_k8s(&["dns", "plan", s(&config), "--tls-cert", s(&cert)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zone = String::from_utf8_lossy(&out.stdout);
    let record = format!("_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 {digest}");
    assert!(zone.contains(&record), "{record}\n{zone}");
    assert!(
        zone.contains("only when the zone is DNSSEC-signed"),
        "{zone}"
    );
    // The same key as a bare public key (a rollover's next key): the same record, once.
    let next = dir.path().join("next.pub");
    let out = mailu_k8s(&[
        "dns",
        "plan",
        s(&config),
        "--tls-cert",
        s(&cert),
        "--tls-cert",
        s(&next),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("IN TLSA")
            .count(),
        1
    );
}

#[test]
fn dane_without_a_key_says_so_and_keys_without_dane_are_refused() {
    let (dir, config) = setup(CONFIG);
    let out = mailu_k8s(&["dns", "plan", s(&config)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("IN TLSA"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MK407") && stderr.contains("--tls-cert"),
        "{stderr}"
    );

    let pem = dir.path().join("key.pem");
    std::fs::write(&pem, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n").expect("pem");
    let (_d, off) = setup(&CONFIG.replace(", dane: {}", ""));
    let out = mailu_k8s(&["dns", "plan", s(&off), "--tls-cert", s(&pem)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dns.dane"));

    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").expect("junk");
    let out = mailu_k8s(&["dns", "plan", s(&config), "--tls-cert", s(&junk)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
}

#[test]
fn bad_connect_flags_exit_2_before_any_query() {
    let (dir, config) = setup(CONFIG);
    // The flags are refused before any query; were one sent, it would meet a closed loopback port.
    let base = ["dns", "check", s(&config), "--nameserver", "127.0.0.1:1"];
    for (flag, value) in [
        ("--connect-to", "mail.example.com:25"),
        ("--connect-to", "mail.example.com:25:not-an-ip:2525"),
        ("--ca-file", s(&dir.path().join("missing.pem"))),
        ("--ca-file", s(&config)),
    ] {
        let started = std::time::Instant::now();
        let out = mailu_k8s(&[&base[..], &[flag, value]].concat());
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(flag),
            "{flag} {value}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

const E2E: &str = mailu_k8s_config::minimal_yaml!(
    "dns: {inboundIps: [198.51.100.80], mtaSts: {mode: enforce}}\n"
);

/// `dns check` with NSD serving the plan's zone and nginx serving `policy` on loopback.
fn check_against(config: &Path, zone: &str, policy: &str, format: &str) -> Output {
    let nsd = common::Nsd::start(&[("example.com".to_owned(), zone.to_owned())]);
    let ca = tls_support::Ca::new("mailu-k8s test CA");
    let (cert, key) = ca.leaf(&["mta-sts.example.com"]);
    let port = tls_support::free_port();
    let location = format!(
        "    location = /.well-known/mta-sts.txt {{ default_type text/plain; return 200 \"{}\"; }}",
        policy.replace('\n', "\\n")
    );
    let server = format!(
        "  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {{d}}/c.pem;\n    ssl_certificate_key {{d}}/c.key;\n{location}\n  }}\n"
    );
    let files = [
        ("c.pem".to_owned(), cert),
        ("c.key".to_owned(), key),
        ("ca.pem".to_owned(), ca.pem()),
    ];
    let nginx = tls_support::Nginx::start("cli-mta-sts", &files, &server, &[port]);
    let connect_to = format!("mta-sts.example.com:443:127.0.0.1:{port}");
    let ca_file = nginx.dir.join("ca.pem");
    mailu_k8s(&[
        "dns",
        "check",
        s(config),
        "--format",
        format,
        "--nameserver",
        &nsd.addr.to_string(),
        "--ca-file",
        s(&ca_file),
        "--connect-to",
        &connect_to,
    ])
}

#[test]
fn dns_check_fetches_the_policy_and_reports_in_text_and_json() {
    if !tls_support::nginx_available("dns_check_fetches_the_policy")
        || !common::nsd_available("dns_check_fetches_the_policy")
    {
        return;
    }
    let (dir, config) = setup(E2E);
    let keygen = mailu_k8s(&[
        "dkim",
        "keygen",
        s(&config),
        "-o",
        s(&dir.path().join("k.yaml")),
    ]);
    assert_eq!(keygen.status.code(), Some(0));
    let zone =
        String::from_utf8_lossy(&mailu_k8s(&["dns", "plan", s(&config)]).stdout).into_owned();
    let plan = mailu_k8s(&["dns", "plan", s(&config), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON plan");
    let policy = doc["mtaStsPolicy"].as_str().expect("policy").to_owned();

    let good = check_against(&config, &zone, &policy, "json");
    let report: serde_json::Value = serde_json::from_slice(&good.stdout).expect("JSON");
    assert_eq!(good.status.code(), Some(0), "{report:#}");

    let testing = policy.replace("mode: enforce", "mode: testing");
    let bad = check_against(&config, &zone, &testing, "json");
    assert_eq!(bad.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON");
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["MK456"], "{report:#}");
    assert_eq!(report["findings"][0]["name"], "mta-sts-policy-mismatch");

    let text = check_against(&config, &zone, &testing, "text");
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("error[MK456]: https://mta-sts.example.com/.well-known/mta-sts.txt: the served policy differs from the plan: mode `testing` instead of `enforce`"), "{text}");
}

#[test]
fn an_empty_trust_store_is_a_finding_not_a_crash() {
    if !common::nsd_available("an_empty_trust_store_is_a_finding_not_a_crash") {
        return;
    }
    let (dir, config) = setup(E2E);
    let keygen = mailu_k8s(&[
        "dkim",
        "keygen",
        s(&config),
        "-o",
        s(&dir.path().join("k.yaml")),
    ]);
    assert_eq!(keygen.status.code(), Some(0));
    let zone =
        String::from_utf8_lossy(&mailu_k8s(&["dns", "plan", s(&config)]).stdout).into_owned();
    let nsd = common::Nsd::start(&[("example.com".to_owned(), zone)]);
    // rustls-native-certs reads these instead of the system's store.
    let missing = dir.path().join("none");
    let out = cargo_bin_cmd!("mailu-k8s")
        .args([
            "dns",
            "check",
            s(&config),
            "--format",
            "json",
            "--nameserver",
        ])
        .arg(nsd.addr.to_string())
        .env("SSL_CERT_FILE", &missing)
        .env("SSL_CERT_DIR", &missing)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["findings"][0]["code"], "MK454", "{report:#}");
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );
    assert!(
        report["checks"].as_u64().unwrap_or(0) > 10,
        "the DNS results still count"
    );
}
