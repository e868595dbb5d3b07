//! `dns check` fetching the MTA-STS policy from a real nginx over HTTPS on 127.0.0.1, with a
//! throw-away CA: front's own override passes; a wrong policy, a redirect, a 404, a body over
//! 64 KiB, a certificate for another name or from an untrusted CA, and a silent server each give
//! their finding, within the timeout. One case resolves the policy host through NSD serving the
//! plan's zone. Skips loudly without nginx (or NSD for that case).

mod common;
mod tls_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use mailu_k8s_config::Config;
use mailu_k8s_dns::check::{Outcome, Scope};
use mailu_k8s_dns::finding::{Code, Finding};
use mailu_k8s_dns::plan::{self, Plan};
use mailu_k8s_dns::tls::{ConnectTo, TlsOptions};
use mailu_k8s_dns::{connected, write};
use mailu_k8s_topology::Topology;

use tls_support::{Ca, Nginx, free_port, nginx_available};

/// The mail domains: the first is served right, each other one breaks one thing.
const BROKEN: [&str; 7] = [
    "mode.example",
    "redirect.example",
    "missing.example",
    "big.example",
    "html.example",
    "name.example",
    "silent.example",
];

fn config() -> Config {
    mailu_k8s_config::testing::config(&format!(
        "dns: {{inboundIps: [198.51.100.80], domains: [{}], mtaSts: {{mode: enforce}}}}\n",
        BROKEN.join(", ")
    ))
}

fn plan_of(config: &Config) -> Plan {
    plan::build(config, &Topology::from_config(config), &Default::default())
        .unwrap_or_else(|e| panic!("{e:#?}"))
}

/// front's override files, as the manifests carry them.
fn front_overrides(config: &Config) -> Vec<(String, String)> {
    let objects = mailu_k8s_manifests::synthesize(config).values();
    let files = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "mailu-front-overrides")
        .expect("front's overrides")["data"]
        .as_object()
        .expect("data")
        .clone();
    files
        .into_iter()
        .map(|(k, v)| {
            (
                format!("overrides/{k}"),
                v.as_str().expect("text").to_owned(),
            )
        })
        .collect()
}

fn server(port: u16, cert: &str, body: &str) -> String {
    format!(
        "  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {{d}}/{cert}.pem;\n    ssl_certificate_key {{d}}/{cert}.key;\n{body}\n  }}\n"
    )
}

fn policy_location(text: &str, extra: &str) -> String {
    format!(
        "    location = /.well-known/mta-sts.txt {{ default_type text/plain; {extra} return 200 \"{}\"; }}",
        text.replace('\n', "\\n")
    )
}

fn codes(o: &Outcome, host: &str) -> Vec<(Code, bool)> {
    o.findings
        .iter()
        .filter(|d| d.path.contains(&format!("mta-sts.{host}/")))
        .map(|d| (d.code, d.is_error()))
        .collect()
}

fn show(o: &Outcome) -> String {
    o.findings
        .iter()
        .map(|d: &Finding| d.render("test"))
        .collect()
}

/// nginx serving every case, the silent listener, and the options that reach them.
struct Cases {
    nginx: Nginx,
    _silent: TcpListener,
    options: TlsOptions,
}

fn serve_every_case(config: &Config, text: &str) -> Cases {
    let ca = Ca::new("mailu-k8s test CA");
    let names: Vec<String> = std::iter::once("example.com")
        .chain(BROKEN)
        .filter(|d| *d != "name.example")
        .map(|d| format!("mta-sts.{d}"))
        .collect();
    let (cert, key) = ca.leaf(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let (other_cert, other_key) = ca.leaf(&["mta-sts.elsewhere.example"]);
    let mut files = front_overrides(config);
    files.extend([
        ("good.pem".to_owned(), cert),
        ("good.key".to_owned(), key),
        ("other.pem".to_owned(), other_cert),
        ("other.key".to_owned(), other_key),
        ("ca.pem".to_owned(), ca.pem()),
        ("big/.well-known/mta-sts.txt".to_owned(), text.repeat(2000)),
    ]);
    let ports: Vec<u16> = (0..BROKEN.len()).map(|_| free_port()).collect();
    let front = free_port();
    let mut servers = server(front, "good", "    include {d}/overrides/*.conf;");
    let bodies = [
        policy_location(&text.replace("mode: enforce", "mode: testing"), ""),
        "    location / { return 301 https://elsewhere.example/policy.txt; }".to_owned(),
        "    location / { return 404; }".to_owned(),
        "    root {d}/big; default_type text/plain;".to_owned(),
        policy_location(text, "default_type text/html;").replace("default_type text/plain; ", ""),
        policy_location(text, ""),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let cert = if BROKEN[i] == "name.example" {
            "other"
        } else {
            "good"
        };
        servers.push_str(&server(ports[i], cert, body));
    }
    // The last case: a TCP listener that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("silent");
    let silent_port = silent.local_addr().expect("addr").port();
    let nginx = Nginx::start("mta-sts-fetch", &files, &servers, &ports[..bodies.len()]);
    let to = |host: String, to_port| ConnectTo {
        host,
        port: 443,
        addr: Some("127.0.0.1".parse().expect("ip")),
        to_port,
    };
    let mut connect_to = vec![to("mta-sts.example.com".into(), front)];
    for (i, d) in BROKEN.iter().enumerate() {
        let port = if *d == "silent.example" {
            silent_port
        } else {
            ports[i]
        };
        connect_to.push(to(format!("mta-sts.{d}"), port));
    }
    let options = TlsOptions {
        ca_file: Some(nginx.dir.join("ca.pem")),
        connect_to,
        timeout: Some(Duration::from_secs(2)),
    };
    Cases {
        nginx,
        _silent: silent,
        options,
    }
}

#[test]
fn the_policy_is_fetched_verified_and_compared() {
    if !nginx_available("the_policy_is_fetched_verified_and_compared") {
        return;
    }
    let config = config();
    let plan = plan_of(&config);
    let cases = serve_every_case(&config, plan.mta_sts_policy.as_deref().expect("policy"));
    let started = Instant::now();
    let out = connected::run(&config, &plan, None, &cases.options, &Scope::all()).expect("runs");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "bounded: {took:?}");
    let all = show(&out);
    let error = |c| vec![(c, true)];
    for (host, want) in [
        ("example.com", vec![]),
        ("mode.example", error(Code::MtaStsPolicyMismatch)),
        ("redirect.example", error(Code::MtaStsFetchFailed)),
        ("missing.example", error(Code::MtaStsFetchFailed)),
        ("big.example", error(Code::MtaStsFetchFailed)),
        ("html.example", vec![(Code::MtaStsFetchFailed, false)]),
        ("name.example", error(Code::MtaStsCertificate)),
        ("silent.example", error(Code::MtaStsFetchFailed)),
    ] {
        assert_eq!(codes(&out, host), want, "{host}:\n{all}");
    }
    for text in [
        "HTTP 301 redirect to https://elsewhere.example/policy.txt",
        "larger than 64 KiB",
        "within 2s",
        "mode `testing` instead of `enforce`",
    ] {
        assert!(all.contains(text), "{text}:\n{all}");
    }

    // Another CA: nothing verifies.
    let rogue_file = cases.nginx.dir.join("rogue.pem");
    std::fs::write(&rogue_file, Ca::new("someone else").pem()).expect("rogue CA");
    let untrusted = TlsOptions {
        ca_file: Some(rogue_file),
        ..cases.options.clone()
    };
    let out = connected::run(&config, &plan, None, &untrusted, &Scope::all()).expect("runs");
    let found = codes(&out, "example.com");
    assert_eq!(found, error(Code::MtaStsCertificate), "{}", show(&out));
}

#[test]
fn the_policy_host_is_found_through_dns() {
    if !nginx_available("the_policy_host_is_found_through_dns")
        || !common::nsd_available("the_policy_host_is_found_through_dns")
    {
        return;
    }
    let config =
        mailu_k8s_config::testing::config("dns: {inboundIps: [198.51.100.80], mtaSts: {}}\n");
    let plan = plan_of(&config);
    // The plan's zone, with the mail host (which `mta-sts` is a CNAME of) on loopback.
    let zone = write::zone(&plan, "example.com", 1).replace("IN A 198.51.100.80", "IN A 127.0.0.1");
    common::checkzone("example.com", &zone).expect("nsd-checkzone");
    let nsd = common::Nsd::start(&[("example.com".to_owned(), zone)]);
    let ca = Ca::new("mailu-k8s test CA");
    let (cert, key) = ca.leaf(&["mta-sts.example.com"]);
    let mut files = front_overrides(&config);
    files.extend([
        ("good.pem".to_owned(), cert),
        ("good.key".to_owned(), key),
        ("ca.pem".to_owned(), ca.pem()),
    ]);
    let port = free_port();
    let nginx = Nginx::start(
        "mta-sts-dns",
        &files,
        &server(port, "good", "    include {d}/overrides/*.conf;"),
        &[port],
    );
    let options = TlsOptions {
        ca_file: Some(nginx.dir.join("ca.pem")),
        connect_to: vec![
            format!("mta-sts.example.com:443::{port}")
                .parse()
                .expect("connect-to"),
        ],
        timeout: Some(Duration::from_secs(5)),
    };
    let out =
        connected::run(&config, &plan, Some(nsd.addr), &options, &Scope::all()).expect("runs");
    assert!(out.findings.is_empty(), "{}", show(&out));
    assert!(out.checked >= 2);
}
