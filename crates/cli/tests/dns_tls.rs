//! `dns plan --tls-cert` and the flags of `dns check`'s connecting checks as a user meets them:
//! the TLSA record's digest agrees with openssl's, DANE without its key says so, and bad input
//! (keys without `dns.dane`, a bad `--connect-to` or `--ca-file`) exits 2 before any query.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

const CONFIG: &str = "\
domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: k}
resolver: {serviceIP: 10.43.0.53}
tls: {certificate: {issuerName: letsencrypt}}
dns: {inboundIps: [198.51.100.80], mtaSts: {}, dane: {}}
";

fn setup(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailu.yaml");
    std::fs::write(&path, config).expect("config");
    (dir, path)
}

fn mailu_k8s(args: &[&str]) -> Output {
    cargo_bin_cmd!("mailu-k8s")
        .args(args)
        .output()
        .expect("runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
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
    // 192.0.2.1 (TEST-NET-1) is never asked: the flags are refused first.
    let base = ["dns", "check", s(&config), "--nameserver", "192.0.2.1"];
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
