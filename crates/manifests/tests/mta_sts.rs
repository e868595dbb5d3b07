//! front's MTA-STS override under a real nginx: `nginx -t` accepts it inside a server block (where
//! Mailu includes `/overrides/*.conf`), and nginx serves exactly the policy the `_mta-sts` id is
//! computed from, as text/plain. Skips loudly without nginx (`apt-get install nginx-light`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailu_k8s_topology::mail_dns::MtaStsPolicy;

const NGINX: &str = "/usr/sbin/nginx";

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn nginx_serves_the_policy() {
    if !Path::new(NGINX).exists() {
        eprintln!("\n*** SKIPPED nginx_serves_the_policy: {NGINX} is not installed ***\n");
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

    let dir = std::env::temp_dir().join(format!("mailu-k8s-nginx-{}", std::process::id()));
    let overrides = dir.join("overrides");
    std::fs::create_dir_all(&overrides).expect("dir");
    for (name, body) in &files {
        std::fs::write(overrides.join(name), body.as_str().expect("text")).expect("file");
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let d = dir.display();
    // One process (`master_process off`), so killing it on drop leaves no orphaned workers.
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\ndaemon off;\nmaster_process off;\nevents {{}}\nhttp {{\n  access_log off;\n  \
             client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n  \
             server {{\n    listen 127.0.0.1:{port};\n    include {d}/overrides/*.conf;\n  }}\n}}\n"
        ),
    )
    .expect("conf");
    let test = Command::new(NGINX)
        .args(["-t", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .output()
        .expect("nginx -t");
    assert!(
        test.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );

    let _nginx = Killed(
        Command::new(NGINX)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let response = loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            s.write_all(
                b"GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: mta-sts.example.com\r\n\r\n",
            )
            .expect("request");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            break out;
        }
        assert!(Instant::now() < deadline, "nginx did not listen");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(&dir);
    let policy = MtaStsPolicy::from_config(&config).expect("policy");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Type: text/plain"), "{head}");
    assert_eq!(body, policy.text());
}
