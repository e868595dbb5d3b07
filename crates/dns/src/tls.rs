//! TLS for the checks that connect to the mail host: trust roots (the system's or a CA file),
//! where a host name is reached (DNS, or a `--connect-to` override), and the SHA-256 of a
//! certificate's public key (what a TLSA `3 1 1` record holds). Network code: the plan never
//! uses it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

use crate::lookup::Lookup;

/// How long connecting, and each exchange after it, may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// `HOST:PORT:ADDR:PORT`, as curl's `--connect-to`: a connection to `HOST:PORT` goes to
/// `ADDR:PORT` instead (an empty `ADDR`: `HOST`'s own addresses). The TLS name stays `HOST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: String,
    pub port: u16,
    pub addr: Option<IpAddr>,
    pub to_port: u16,
}

impl FromStr for ConnectTo {
    type Err = String;

    fn from_str(raw: &str) -> Result<ConnectTo, String> {
        let bad = || {
            format!(
                "`{raw}` is not HOST:PORT:ADDR:PORT (e.g. `mta-sts.example.com:443:127.0.0.1:8443`, `mail.example.com:25::2525`, `[::1]` for IPv6)"
            )
        };
        let (host, rest) = raw.split_once(':').ok_or_else(bad)?;
        let (port, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (addr, to_port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad());
        }
        Ok(ConnectTo {
            host,
            port: port.parse().map_err(|_| bad())?,
            addr: if addr.is_empty() {
                None
            } else {
                Some(addr.parse().map_err(|_| bad())?)
            },
            to_port: to_port.parse().map_err(|_| bad())?,
        })
    }
}

/// What the connecting checks need besides the plan.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Trust the CA certificates in this PEM file instead of the system's store.
    pub ca_file: Option<PathBuf>,
    pub connect_to: Vec<ConnectTo>,
    /// How long one whole exchange (connect, handshake, request, answer) may take; `None`: the
    /// check's own default.
    pub timeout: Option<Duration>,
}

/// The crypto every connection uses, named explicitly rather than a process default.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The trust roots: the CA file's certificates, or the system's store.
pub fn roots(options: &TlsOptions) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match &options.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read --ca-file {}: {e}", path.display()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "--ca-file {} holds no usable CA certificate (PEM `BEGIN CERTIFICATE`)",
                    path.display()
                ));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err("no trusted CA certificates in the system's store: install ca-certificates, or pass --ca-file".into());
            }
        }
    }
    Ok(store)
}

/// A client that verifies the server as a browser does: a chain to `roots`, the name, expiry.
pub fn pkix_client(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where `host:port` is reached: the `--connect-to` override, or the host's A/AAAA records.
pub async fn addresses<L: Lookup>(
    dns: &L,
    options: &TlsOptions,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let over = options
        .connect_to
        .iter()
        .find(|c| c.host == host && c.port == port);
    let port = over.map_or(port, |c| c.to_port);
    if let Some(ip) = over.and_then(|c| c.addr) {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (a, aaaa) = tokio::join!(dns.a(host), dns.aaaa(host));
    if let Some(e) = a.failure().or(aaaa.failure()) {
        return Err(format!("cannot look up {host}: {e}"));
    }
    let all: Vec<SocketAddr> = a
        .records()
        .iter()
        .map(|ip| SocketAddr::new(IpAddr::V4(*ip), port))
        .chain(
            aaaa.records()
                .iter()
                .map(|ip| SocketAddr::new(IpAddr::V6(*ip), port)),
        )
        .collect();
    if all.is_empty() {
        return Err(format!("{host} has no A or AAAA record"));
    }
    Ok(all)
}

/// A TCP connection to the first of `addrs` that answers, each tried for [`IO_TIMEOUT`].
pub async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, String> {
    let mut errors = Vec::new();
    for addr in addrs {
        match tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => errors.push(format!("{addr}: {e}")),
            Err(_) => errors.push(format!(
                "{addr}: no connection within {}s",
                IO_TIMEOUT.as_secs()
            )),
        }
    }
    Err(errors.join("; "))
}

/// At most `max` characters of text a server sent, control characters escaped (`\u{1b}`), so
/// it cannot forge lines or move the cursor when a finding is printed.
pub fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a DER SubjectPublicKeyInfo: the data of a TLSA record with selector 1 (SPKI) and
/// matching type 1 (SHA-256) (RFC 6698 §2.1.2, §2.1.3).
pub fn spki_sha256(spki: &[u8]) -> [u8; 32] {
    Sha256::digest(spki).into()
}

/// The DER SubjectPublicKeyInfo of a DER certificate (webpki's parser, which refuses what it
/// cannot read rather than guessing).
pub fn cert_spki(cert: &CertificateDer<'_>) -> Result<Vec<u8>, String> {
    let parsed = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("the certificate does not parse: {e}"))?;
    Ok(parsed.subject_public_key_info().as_ref().to_vec())
}

/// The SPKI digests of a PEM file's certificates and public keys (`BEGIN CERTIFICATE` or
/// `BEGIN PUBLIC KEY`, as `openssl pkey -pubout` writes for a key not yet in a certificate).
pub fn pem_spki_digests(pem: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let mut out = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("not PEM: {e}"))?;
        out.push(spki_sha256(&cert_spki(&cert)?));
    }
    for key in SubjectPublicKeyInfoDer::pem_slice_iter(pem) {
        let key = key.map_err(|e| format!("not PEM: {e}"))?;
        out.push(spki_sha256(key.as_ref()));
    }
    if out.is_empty() {
        return Err("no `BEGIN CERTIFICATE` or `BEGIN PUBLIC KEY` block".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parses_like_curl() {
        let c: ConnectTo = "Mta-Sts.Example.com.:443:127.0.0.1:8443"
            .parse()
            .expect("parses");
        assert_eq!(c.host, "mta-sts.example.com");
        assert_eq!((c.port, c.to_port), (443, 8443));
        assert_eq!(c.addr, Some("127.0.0.1".parse().expect("ip")));
        let v6: ConnectTo = "mail.example.com:25:[::1]:2525".parse().expect("v6");
        assert_eq!(v6.addr, Some("::1".parse().expect("ip")));
        let same: ConnectTo = "mail.example.com:25::2525".parse().expect("empty addr");
        assert_eq!(same.addr, None);
        for bad in [
            "",
            "x",
            "h:1",
            "h:1:2",
            ":1::2",
            "h:x::2",
            "h:1:nope:2",
            "h:1::99999",
        ] {
            assert!(bad.parse::<ConnectTo>().is_err(), "{bad}");
        }
    }

    #[test]
    fn server_text_is_printed_inert() {
        assert_eq!(
            printable("ok\r\n\u{1b}]0;x\u{7}é", 100),
            "ok\\r\\n\\u{1b}]0;x\\u{7}é"
        );
        assert_eq!(printable("abcdef", 3), "abc");
    }

    #[test]
    fn pem_without_keys_is_refused_and_garbage_never_panics() {
        assert!(pem_spki_digests(b"").is_err());
        assert!(
            pem_spki_digests(
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
        assert!(
            pem_spki_digests(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        assert!(cert_spki(&CertificateDer::from(vec![0x30, 0x82, 0xff])).is_err());
    }
}
