//! front's MTA-STS override under a real nginx: `nginx -t` accepts it inside a server block (where
//! Mailu includes `/overrides/*.conf`), and nginx serves exactly the policy the `_mta-sts` id is
//! computed from, as text/plain. Skips loudly without nginx (`apt-get install nginx-light`).

#[path = "../../dns/tests/tls_support/mod.rs"]
mod tls_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mailu_k8s_topology::mail_dns::MtaStsPolicy;

use tls_support::{Nginx, free_port, nginx_available};

#[test]
fn nginx_serves_the_policy() {
    if !nginx_available("nginx_serves_the_policy") {
        return;
    }
    let config = mailu_k8s_config::testing::config(
        "dns: {mtaSts: {mode: enforce}}\nworkloads: {front: {overrides: {'mine.conf': 'location = /mine { return 204; }'}}}\n",
    );
    let objects = mailu_k8s_manifests::synthesize(&config).values();
    let files = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "mailu-front-overrides")
        .expect("front's overrides")["data"]
        .as_object()
        .expect("data")
        .clone();
    assert!(files.contains_key("mine.conf"), "the user's file stays");
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(name, body)| {
            (
                format!("overrides/{name}"),
                body.as_str().expect("text").to_owned(),
            )
        })
        .collect();
    let port = free_port();
    // Where Mailu includes them: inside front's server block.
    let server = format!(
        "  server {{\n    listen 127.0.0.1:{port};\n    include {{d}}/overrides/*.conf;\n  }}"
    );
    let _nginx = Nginx::start("front-policy", &files, &server, &[port]);
    // `start` returns once nginx listens.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("nginx listens");
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    s.write_all(b"GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: mta-sts.example.com\r\n\r\n")
        .expect("request");
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    let policy = MtaStsPolicy::from_config(&config).expect("policy");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Type: text/plain"), "{head}");
    assert_eq!(body, policy.text());
}
