//! `dns plan`, `dns check` and `dkim keygen` as a user meets them: formats, exit codes, and that
//! private keys never reach the main output.

#[path = "../../dns/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const CONFIG: &str = "\
domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: k}
resolver: {serviceIP: 10.43.0.53}
exposure: {service: {type: LoadBalancer, loadBalancerIP: 198.51.100.80}}
egress: {mode: static, ips: [203.0.113.25]}
dns:
  dkim: {secretName: mailu-dkim}
  mtaSts: {}
";

fn setup(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailu.yaml");
    std::fs::write(&path, config).expect("config");
    (dir, path)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn plan(config: &Path, args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("mailu-k8s")
        .args(["dns", "plan", s(config)])
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn plan_formats() {
    let (_dir, config) = setup(CONFIG);
    let zone = plan(&config, &[]);
    assert_eq!(zone.status.code(), Some(0));
    let zone = String::from_utf8_lossy(&zone.stdout).into_owned();
    assert!(
        zone.contains("example.com. 3600 IN MX 10 mail.example.com."),
        "{zone}"
    );
    assert!(zone.contains("mail.example.com. 3600 IN A 198.51.100.80"));
    assert!(zone.contains("_mta-sts.example.com. 3600 IN TXT \"v=STSv1; id="));

    let json = plan(&config, &["--format", "json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["mailHost"], "mail.example.com");
    assert_eq!(doc["ptr"][0]["name"], "out.example.com");
    assert!(
        doc["mtaStsPolicy"]
            .as_str()
            .expect("policy")
            .contains("mode: testing")
    );

    let ed = plan(&config, &["--format", "external-dns"]);
    let text = String::from_utf8_lossy(&ed.stdout);
    assert!(
        text.contains("kind: DNSEndpoint") && !text.contains("recordType: TXT"),
        "{text}"
    );
    let ed = plan(&config, &["--format", "external-dns", "--with-txt"]);
    assert!(String::from_utf8_lossy(&ed.stdout).contains("recordType: TXT"));

    let unknown = plan(&config, &["--zone", "example.org"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_refused_plan_exits_2_with_the_finding() {
    let (_dir, config) = setup(&CONFIG.replace(
        "egress: {mode: static, ips: [203.0.113.25]}",
        "egress: {mode: relay, relay: {host: smtp.relay.example}}",
    ));
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["--message-format", "json", "dns", "plan", s(&config)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stderr).expect("findings JSON");
    assert_eq!(doc["findings"][0]["code"], "MK405");
    assert!(out.stdout.is_empty());
}

#[test]
fn keygen_keeps_private_keys_out_of_the_main_output() {
    let (dir, config) = setup(&format!(
        "{CONFIG}tls: {{certificate: {{issuerName: letsencrypt}}}}\n"
    ));
    let secret = dir.path().join("dkim-secret.yaml");
    cargo_bin_cmd!("mailu-k8s")
        .args(["dkim", "keygen", s(&config), "-o", s(&secret)])
        .assert()
        .success();
    let text = std::fs::read_to_string(&secret).expect("secret");
    assert!(text.contains("kind: Secret") && text.contains("example.com.dkim.key"));
    assert!(text.contains("BEGIN PRIVATE KEY"), "PKCS#8");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads private keys");
    }
    assert!(dir.path().join("dkim/example.com.dkim.pub").exists());
    // Again: refused without --force, nothing replaced.
    cargo_bin_cmd!("mailu-k8s")
        .args(["dkim", "keygen", s(&config), "-o", s(&secret)])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&secret).expect("secret"), text);

    // The plan now publishes the key, split into strings of at most 255 octets.
    let zone = String::from_utf8_lossy(&plan(&config, &[]).stdout).into_owned();
    let line = zone
        .lines()
        .find(|l| l.starts_with("dkim._domainkey.example.com."))
        .expect("DKIM record");
    assert!(line.contains("\" \""), "split: {line}");

    // synth places the key but never holds it.
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["synth", s(&config), "-o", "-"])
        .output()
        .expect("runs");
    let manifests = String::from_utf8_lossy(&out.stdout);
    assert!(!manifests.contains("PRIVATE KEY"));
    assert!(manifests.contains("secretName: mailu-dkim"));
    assert!(manifests.contains("mailu-k8s-mta-sts.conf"));
    assert!(
        manifests.contains("mta-sts.example.com"),
        "certificate names and routes"
    );
}

#[test]
fn check_exits_0_when_dns_matches_and_1_when_it_does_not() {
    if !common::nsd_available("check_exits_0_when_dns_matches_and_1_when_it_does_not") {
        return;
    }
    let (dir, config) = setup(CONFIG);
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "dkim",
            "keygen",
            s(&config),
            "-o",
            s(&dir.path().join("secret.yaml")),
        ])
        .assert()
        .success();
    let zone = String::from_utf8_lossy(&plan(&config, &[]).stdout).into_owned();
    let reverse = format!(
        "{}25.113.0.203.in-addr.arpa. 300 IN PTR out.example.com.\n",
        common::zone_header("113.0.203.in-addr.arpa")
    );
    let check = |zone: &str| {
        let nsd = common::Nsd::start(&[
            ("example.com".to_owned(), zone.to_owned()),
            ("113.0.203.in-addr.arpa".to_owned(), reverse.clone()),
        ]);
        cargo_bin_cmd!("mailu-k8s")
            .args([
                "dns",
                "check",
                s(&config),
                "--format",
                "json",
                // The zone's addresses are documentation ones: nothing to connect to.
                "--no-connect",
                "--nameserver",
            ])
            .arg(nsd.addr.to_string())
            .output()
            .expect("runs")
    };
    let good = check(&zone);
    let doc: Value = serde_json::from_slice(&good.stdout).expect("JSON");
    assert_eq!(good.status.code(), Some(0), "{doc:#}");
    assert!(doc["checks"].as_u64().unwrap_or(0) > 10);

    let broken: String = zone
        .lines()
        .filter(|l| !l.starts_with("_dmarc."))
        .map(|l| format!("{l}\n"))
        .collect();
    let bad = check(&broken);
    assert_eq!(bad.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&bad.stdout).expect("JSON");
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["MK430"], "{doc:#}");
}
