//! DANE end to end on 127.0.0.1: `dns plan --tls-cert`'s TLSA record in the zone NSD serves
//! (nsd-checkzone accepts it, signed and unsigned), a tiny ESMTP server speaking STARTTLS with
//! rustls, and `dns check`'s DANE findings: a matching key passes (a rollover's two records too),
//! another key, no record, no STARTTLS and an unsigned zone each give theirs. Skips loudly
//! without NSD.

mod common;
mod tls_support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use mailu_k8s_config::Config;
use mailu_k8s_dns::check::{Outcome, Scope};
use mailu_k8s_dns::finding::Code;
use mailu_k8s_dns::plan::{self, Plan};
use mailu_k8s_dns::tls::{TlsOptions, pem_spki_digests};
use mailu_k8s_dns::{connected, dane, write};
use mailu_k8s_topology::Topology;

use common::{Nsd, checkzone, nsd_available, tempdir};
use tls_support::Ca;

/// An ESMTP server that offers STARTTLS (or not) and completes the handshake; stopped on drop.
struct Smtp {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How the test server answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    StartTls,
    /// No STARTTLS in the EHLO reply.
    Plain,
    /// Bytes after the STARTTLS reply, before the handshake (an injection, CVE-2011-0411).
    Inject,
}

async fn session(
    stream: tokio::net::TcpStream,
    mode: Mode,
    tls: tokio_rustls::TlsAcceptor,
) -> std::io::Result<()> {
    let mut conn = BufReader::new(stream);
    let mut line = String::new();
    conn.get_mut().write_all(b"220 mx.test ESMTP\r\n").await?;
    conn.read_line(&mut line).await?;
    let last = if mode == Mode::Plain {
        "8BITMIME"
    } else {
        "STARTTLS"
    };
    let ehlo = format!("250-mx.test\r\n250-PIPELINING\r\n250 {last}\r\n");
    conn.get_mut().write_all(ehlo.as_bytes()).await?;
    if mode == Mode::Plain {
        return Ok(());
    }
    line.clear();
    conn.read_line(&mut line).await?;
    let ready = match mode {
        Mode::Inject => "220 2.0.0 Ready to start TLS\r\n250 injected\r\n",
        _ => "220 2.0.0 Ready to start TLS\r\n",
    };
    conn.get_mut().write_all(ready.as_bytes()).await?;
    let mut stream = tls.accept(conn.into_inner()).await?;
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    Ok(())
}

fn smtp(cert_pem: &str, key_pem: &str, mode: Mode) -> Smtp {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("certs");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            // Bounded: a test that forgets to stop it still ends it within a minute.
            for _ in 0..600 {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let tick = tokio::time::timeout(Duration::from_millis(100), listener.accept());
                if let Ok(Ok((s, _))) = tick.await {
                    tokio::spawn(session(s, mode, acceptor.clone()));
                }
            }
        });
    });
    Smtp {
        port,
        stop,
        thread: Some(thread),
    }
}

fn config() -> Config {
    mailu_k8s_config::testing::config("dns: {inboundIps: [198.51.100.80], dane: {}}\n")
}

/// The plan with TLSA records for these certificates (PEM), and its zone file.
fn zone_with(config: &Config, certs: &[&str]) -> (Plan, String) {
    let mut plan = plan::build(config, &Topology::from_config(config), &Default::default())
        .unwrap_or_else(|e| panic!("{e:#?}"));
    let digests: Vec<[u8; 32]> = certs
        .iter()
        .map(|c| pem_spki_digests(c.as_bytes()).expect("digest")[0])
        .collect();
    dane::add_to_plan(&mut plan, config, &digests).expect("dane");
    let zone = write::zone(&plan, "example.com", 1);
    checkzone("example.com", &zone).unwrap_or_else(|e| panic!("nsd-checkzone: {e}\n{zone}"));
    (plan, zone)
}

/// The zone signed with a fresh key by ldns-signzone, or `None` without ldns.
fn signed(zone: &str) -> Option<String> {
    if !Path::new("/usr/bin/ldns-signzone").exists() {
        eprintln!(
            "\n*** SKIPPED the signed case: ldns-signzone is not installed (ldnsutils) ***\n"
        );
        return None;
    }
    let dir = tempdir();
    let run = |args: &[&str]| {
        let out = Command::new(args[0])
            .args(&args[1..])
            .current_dir(&dir.path)
            .stdin(Stdio::null())
            .output()
            .expect("ldns");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    std::fs::write(dir.path.join("zone"), zone).expect("zone");
    let key = run(&[
        "/usr/bin/ldns-keygen",
        "-a",
        "ECDSAP256SHA256",
        "-k",
        "example.com",
    ]);
    run(&["/usr/bin/ldns-signzone", "zone", &key]);
    std::fs::read_to_string(dir.path.join("zone.signed")).ok()
}

fn check(config: &Config, plan: &Plan, zone: String, port: u16) -> Outcome {
    let nsd = Nsd::start(&[("example.com".to_owned(), zone)]);
    let options = TlsOptions {
        ca_file: None,
        connect_to: vec![
            format!("mail.example.com:25:127.0.0.1:{port}")
                .parse()
                .expect("connect-to"),
        ],
        timeout: Some(Duration::from_secs(5)),
    };
    connected::run(config, plan, Some(nsd.addr), &options, &Scope::all()).expect("runs")
}

fn found(o: &Outcome) -> Vec<(Code, bool)> {
    let mut v: Vec<(Code, bool)> = o.findings.iter().map(|d| (d.code, d.is_error())).collect();
    v.sort();
    v
}

#[test]
fn tlsa_records_are_matched_against_the_live_certificate() {
    if !nsd_available("tlsa_records_are_matched_against_the_live_certificate") {
        return;
    }
    let config = config();
    let ca = Ca::new("mailu-k8s test CA");
    let (cert, key) = ca.leaf(&["mail.example.com"]);
    let (next, _) = ca.leaf(&["mail.example.com"]);
    let server = smtp(&cert, &key, Mode::StartTls);
    let unsigned = (Code::DaneUnsigned, true);
    let show = |o: &Outcome| o.findings.iter().map(|d| d.render("t")).collect::<String>();

    // The key front serves, beside the next one (a rollover): only the zone's signature is missing.
    let (plan, zone) = zone_with(&config, &[&next, &cert]);
    let out = check(&config, &plan, zone.clone(), server.port);
    assert_eq!(found(&out), [unsigned], "{}", show(&out));
    assert!(show(&out).contains("not DNSSEC-signed"));

    // Signed (NSD does not validate, so no AD bit): a warning that says so, nothing else.
    if let Some(signed) = signed(&zone) {
        checkzone("example.com", &signed).expect("nsd-checkzone accepts the signed zone");
        let out = check(&config, &plan, signed, server.port);
        assert_eq!(found(&out), [(Code::DaneUnsigned, false)], "{}", show(&out));
    }

    // Only another key published: senders would defer mail.
    let (plan, zone) = zone_with(&config, &[&next]);
    let out = check(&config, &plan, zone, server.port);
    assert_eq!(
        found(&out),
        [(Code::DaneMismatch, true), unsigned],
        "{}",
        show(&out)
    );
    let live = pem_spki_digests(cert.as_bytes()).expect("digest")[0];
    let hex: String = live.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        show(&out).contains(&format!("TLSA 3 1 1 {hex}")),
        "{}",
        show(&out)
    );

    // No record at all.
    let (plan, zone) = zone_with(&config, &[]);
    let out = check(&config, &plan, zone, server.port);
    assert_eq!(found(&out), [(Code::DaneMismatch, true)], "{}", show(&out));

    // A server without STARTTLS, and one that sends data ahead of the handshake.
    let (plan, zone) = zone_with(&config, &[&cert]);
    for (mode, says) in [
        (Mode::Plain, "does not offer STARTTLS"),
        (Mode::Inject, "sent data after its STARTTLS reply"),
    ] {
        let server = smtp(&cert, &key, mode);
        let out = check(&config, &plan, zone.clone(), server.port);
        let want = [unsigned, (Code::SmtpTlsFailed, true)];
        assert_eq!(found(&out), want, "{}", show(&out));
        assert!(show(&out).contains(says), "{says}: {}", show(&out));
    }
}
