//! `dns plan`, `dns check` and `dkim keygen` as a user meets them: formats, exit codes, and that
//! private keys never reach the main output.

#[path = "../../dns/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use support::{s, setup};

const CONFIG: &str = mailu_k8s_config::minimal_yaml!(
    "exposure: {service: {type: LoadBalancer, loadBalancerIP: 198.51.100.80}}\n",
    "egress: {mode: static, ips: [203.0.113.25]}\n",
    "dns:\n",
    "  dkim: {secretName: mailu-dkim}\n",
    "  mtaSts: {}\n",
);

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

/// `dns check` with `--message-format json` only: its report is JSON too.
fn check_json(config: &Path, args: &[&str]) -> (std::process::Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = cargo_bin_cmd!("mailu-k8s")
        .args(["--message-format", "json", "dns", "check", s(config)])
        .args(args)
        .output()
        .expect("runs");
    (out, started.elapsed())
}

/// A server that answers every question with another ID (a spoofer's answers, ignored).
fn wrong_ids_server() -> std::net::SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("socket");
    let addr = sock.local_addr().expect("address");
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let mut answer = buf[..n].to_vec();
            answer[0] ^= 0xff;
            answer[2] |= 0x80;
            answer[3] = (answer[3] & 0xf0) | 5;
            let _ = sock.send_to(&answer, from);
        }
    });
    addr
}

#[test]
fn a_server_that_does_not_answer_is_a_finding_within_two_seconds() {
    let (_dir, config) = setup(CONFIG);
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port");
    // Bound, never read: it answers nothing.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("socket");
    let servers = [
        ("closed port", closed, "the port is closed"),
        (
            "silent",
            silent.local_addr().expect("address"),
            "no answer from",
        ),
        ("wrong IDs", wrong_ids_server(), "another ID"),
    ];
    for (what, addr, why) in servers {
        let (out, took) = check_json(&config, &["--nameserver", &addr.to_string()]);
        assert!(
            took <= std::time::Duration::from_secs(2),
            "{what}: took {took:?}"
        );
        assert_eq!(out.status.code(), Some(1), "{what}");
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{what}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(doc["complete"], false, "{what}: {doc:#}");
        let finding = &doc["findings"][0];
        assert_eq!(finding["code"], "MK460", "{what}: {doc:#}");
        assert!(
            finding["message"].as_str().is_some_and(|m| m.contains(why)),
            "{what}: {doc:#}"
        );
        assert!(
            finding["hint"]
                .as_str()
                .is_some_and(|h| h.contains(&format!("is a DNS server listening on {addr}?"))),
            "{what}: {doc:#}"
        );
    }
    // Usage errors stay exit 2, as JSON too.
    let (out, _) = check_json(&config, &["--nameserver", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("not-an-address"))
    );
    let (out, _) = check_json(&config, &["--skip", "zone"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("report-auth"))
    );
}

/// The zones `dns plan` writes for CONFIG (with keys), and the reverse zone of its egress
/// address, for the NSD tests below.
fn served_zones(dir: &Path, config: &Path) -> (String, String) {
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "dkim",
            "keygen",
            s(config),
            "-o",
            s(&dir.join("secret.yaml")),
        ])
        .assert()
        .success();
    let zone = String::from_utf8_lossy(&plan(config, &[]).stdout).into_owned();
    let reverse = format!(
        "{}25.113.0.203.in-addr.arpa. 300 IN PTR out.example.com.\n",
        common::zone_header("113.0.203.in-addr.arpa")
    );
    (zone, reverse)
}

fn with_dmarc(zone: &str, record: &str) -> String {
    zone.lines()
        .map(|l| {
            if l.starts_with("_dmarc.example.com.") {
                format!("_dmarc.example.com. 3600 IN TXT {record}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// `dns check` of CONFIG's planned zones with the DMARC record replaced by `record` (zone-file
/// syntax), in `format`.
fn check_with_dmarc(record: &str, format: &str) -> std::process::Output {
    let (dir, config) = setup(CONFIG);
    let (zone, reverse) = served_zones(dir.path(), &config);
    let nsd = common::Nsd::start(&[
        ("example.com".to_owned(), with_dmarc(&zone, record)),
        ("113.0.203.in-addr.arpa".to_owned(), reverse),
    ]);
    cargo_bin_cmd!("mailu-k8s")
        .args([
            "dns",
            "check",
            s(&config),
            "--format",
            format,
            "--no-connect",
            "--nameserver",
        ])
        .arg(nsd.addr.to_string())
        .output()
        .expect("runs")
}

#[test]
fn a_dmarc_record_of_any_bytes_is_judged_not_crashed_on() {
    if !common::nsd_available("a_dmarc_record_of_any_bytes_is_judged_not_crashed_on") {
        return;
    }
    // `v=DMARCé`, and invalid UTF-8: judged (MK431), no panic (exit 101 before).
    for record in [
        "\"v=DMARC\\195\\169; p=reject\"",
        "\"v=DMARC\\255; p=reject\"",
    ] {
        let out = check_with_dmarc(record, "json");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{record}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let codes: Vec<&str> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert_eq!(codes, ["MK431"], "{record}: {doc:#}");
    }
}

#[test]
fn control_characters_in_records_are_printed_escaped() {
    if !common::nsd_available("control_characters_in_records_are_printed_escaped") {
        return;
    }
    // ESC, BEL, CR and LF in a record cannot retitle the terminal or forge a line.
    let forged = "\"v=DMARC1; p=none\\027]0;pwned\\007\\013\\010error[MK000]: forged\\010DNS: 99 checks, 0 problem(s), 0 warning(s)\"";
    let out = check_with_dmarc(forged, "text");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\r']),
        "raw control characters: {text:?}"
    );
    assert!(
        text.lines()
            .all(|l| !l.starts_with("error[MK000]") && !l.starts_with("DNS: 99")),
        "{text}"
    );
    assert!(
        text.contains("\\u{1b}]0;pwned\\u{7}\\r\\nerror[MK000]: forged\\n"),
        "{text}"
    );
    let json = check_with_dmarc(forged, "json");
    let doc: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert!(
        doc["findings"][0]["value"]
            .as_str()
            .is_some_and(|v| v.contains("\u{1b}]0;pwned\u{7}\r\n")),
        "JSON keeps the value as it is: {doc:#}"
    );
}

#[test]
fn an_authoritative_server_is_a_ci_gate() {
    if !common::nsd_available("an_authoritative_server_is_a_ci_gate") {
        return;
    }
    let (dir, config) = setup(CONFIG);
    let (zone, reverse) = served_zones(dir.path(), &config);
    // Our zone only, as an authoritative server holds it; the reverse zone elsewhere.
    let ours = common::Nsd::start(&[("example.com".to_owned(), zone)]);
    let elsewhere = common::Nsd::start(&[("113.0.203.in-addr.arpa".to_owned(), reverse)]);
    let ours = ours.addr.to_string();
    let elsewhere = elsewhere.addr.to_string();

    let (alone, _) = check_json(&config, &["--no-connect", "--nameserver", &ours]);
    assert_eq!(alone.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&alone.stdout).expect("JSON");
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "MK460", "{doc:#}");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("REFUSED")),
        "{doc:#}"
    );
    assert!(
        finding["path"]
            .as_str()
            .is_some_and(|p| p.contains(".arpa PTR")),
        "{doc:#}"
    );

    let (scoped, _) = check_json(
        &config,
        &["--no-connect", "--nameserver", &ours, "--skip", "ptr"],
    );
    let doc: Value = serde_json::from_slice(&scoped.stdout).expect("JSON");
    assert_eq!(scoped.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["skipped"], serde_json::json!(["ptr"]));
    assert_eq!(doc["complete"], true);

    // The scope governs the connecting checks too: without `mta-sts` and `dane` nothing connects
    // (the planned policy host has no server here, so a fetch would be a finding).
    let (only, _) = check_json(&config, &["--nameserver", &ours, "--only", "dmarc,spf"]);
    let doc: Value = serde_json::from_slice(&only.stdout).expect("JSON");
    assert_eq!(only.status.code(), Some(0), "{doc:#}");
    assert!(
        doc["skipped"].as_array().is_some_and(|s| s.len() == 10),
        "{doc:#}"
    );
    // Connections go to a closed port on loopback, never to the planned (documentation) address.
    let (fetched, _) = check_json(
        &config,
        &[
            "--nameserver",
            &ours,
            "--only",
            "mta-sts",
            "--connect-to",
            "mta-sts.example.com:443:127.0.0.1:1",
        ],
    );
    let doc: Value = serde_json::from_slice(&fetched.stdout).expect("JSON");
    assert_eq!(fetched.status.code(), Some(1), "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["code"] == "MK454")),
        "{doc:#}"
    );

    let (split, _) = check_json(
        &config,
        &[
            "--no-connect",
            "--authoritative",
            &ours,
            "--nameserver",
            &elsewhere,
            "--timeout",
            "10s",
        ],
    );
    let doc: Value = serde_json::from_slice(&split.stdout).expect("JSON");
    assert_eq!(split.status.code(), Some(0), "{doc:#}");
    assert!(
        doc["source"]
            .as_str()
            .is_some_and(|s| s.contains("authoritative for example.com")),
        "{doc:#}"
    );
}
