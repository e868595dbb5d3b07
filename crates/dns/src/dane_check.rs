//! The live DANE check (RFC 7672): the TLSA records of the MX host, asked for with the DNSSEC OK
//! and AD bits so the answer tells whether it is signed and validated; then port 25, STARTTLS,
//! and the certificate the MX presents matched against them. Network code: `dane` has the plan.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::TLSA;
use hickory_proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_proto::rr::{Name, RData, RecordType};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256, Sha512};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;

use crate::finding::{Code, Finding};

use crate::check::Outcome;
use crate::dane::tlsa_name;
use crate::lookup::Lookup;
use crate::plan::Plan;
use crate::tls::{self, TlsOptions, cert_spki, hex};

/// How long one DNS exchange waits (twice over UDP, then TCP for a truncated answer).
const DNS_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole SMTP exchange, greeting to certificate.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest SMTP reply line read (RFC 5321 §4.5.3.1.5 allows 512 octets) and the most lines.
const MAX_LINE: u64 = 2048;
const MAX_LINES: usize = 100;

/// The TLSA answer and what it says about DNSSEC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsaAnswer {
    pub records: Vec<TLSA>,
    /// The AD bit: the server validated the answer (meaningful from a validating resolver).
    pub authenticated: bool,
    /// RRSIGs came with the answer: the zone is signed.
    pub signed: bool,
}

/// The query: recursion desired, AD set to ask for the validation result (RFC 6840 §5.7), and
/// EDNS with DO so signatures come along (RFC 3225).
fn tlsa_query(name: &Name) -> Result<Message, String> {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.metadata.authentic_data = true;
    m.add_query(Query::query(name.clone(), RecordType::TLSA));
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true);
    edns.set_max_payload(1232);
    m.set_edns(edns);
    Ok(m)
}

/// A response that answers `query` (same id and question), or why not.
fn accept(query: &Message, bytes: &[u8]) -> Result<Message, String> {
    let m = Message::from_vec(bytes).map_err(|e| format!("an answer that does not parse: {e}"))?;
    if m.metadata.id != query.metadata.id
        || m.metadata.message_type != MessageType::Response
        || m.queries != query.queries
    {
        return Err("an answer to another question".into());
    }
    Ok(m)
}

async fn exchange_udp(server: SocketAddr, query: &Message) -> Result<Message, String> {
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(bind).await.map_err(|e| e.to_string())?;
    sock.connect(server).await.map_err(|e| e.to_string())?;
    let mut last = String::from("no answer");
    for _ in 0..2 {
        sock.send(&bytes).await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(DNS_TIMEOUT, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => match accept(query, &buf[..n]) {
                Ok(m) => return Ok(m),
                Err(e) => last = e,
            },
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {}s", DNS_TIMEOUT.as_secs()),
        }
    }
    Err(last)
}

async fn exchange_tcp(server: SocketAddr, query: &Message) -> Result<Message, String> {
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let talk = async {
        let mut s = TcpStream::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        let len = u16::try_from(bytes.len()).map_err(|e| e.to_string())?;
        s.write_all(&len.to_be_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(&bytes).await.map_err(|e| e.to_string())?;
        let n = s.read_u16().await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; usize::from(n)];
        s.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        accept(query, &buf)
    };
    tokio::time::timeout(DNS_TIMEOUT, talk)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer over TCP within {}s",
                DNS_TIMEOUT.as_secs()
            ))
        })
}

/// Asks `server` for the TLSA records at `owner`.
pub async fn query_tlsa(server: SocketAddr, owner: &str) -> Result<TlsaAnswer, String> {
    let name = Name::from_ascii(format!("{}.", owner.trim_end_matches('.')))
        .map_err(|e| format!("{owner}: {e}"))?;
    let query = tlsa_query(&name)?;
    let mut m = exchange_udp(server, &query).await?;
    if m.metadata.truncation {
        m = exchange_tcp(server, &query).await?;
    }
    match m.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        other => return Err(format!("the server answered {other}")),
    }
    let records = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TLSA(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let signed = m
        .answers
        .iter()
        .chain(&m.authorities)
        .any(|r| r.record_type() == RecordType::RRSIG);
    Ok(TlsaAnswer {
        records,
        authenticated: m.metadata.authentic_data,
        signed,
    })
}

/// Accepts any certificate: DANE-EE ignores PKIX names, chains and dates (RFC 7672 §3.1.1), so
/// the match against the TLSA records is made after the handshake, on the certificate kept.
/// Handshake signatures are still verified, so the server holds the key it shows.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn dane_client() -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One SMTP reply: its code and its lines' text. Bounded in line length and count.
async fn reply<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let mut raw = Vec::new();
        let n = (&mut *r)
            .take(MAX_LINE)
            .read_until(b'\n', &mut raw)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        if !raw.ends_with(b"\n") {
            return Err(format!("a reply line longer than {MAX_LINE} octets"));
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|_| line.is_char_boundary(3));
        let Some(code) = code else {
            return Err(format!(
                "not an SMTP reply: {:?}",
                line.chars().take(80).collect::<String>()
            ));
        };
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line.get(4..).unwrap_or("").to_owned());
        if last {
            return Ok((code, lines));
        }
        if lines.len() >= MAX_LINES {
            return Err(format!("a reply of more than {MAX_LINES} lines"));
        }
    }
}

/// Greeting, EHLO, STARTTLS, handshake: the certificates the MX presents.
async fn starttls(tcp: TcpStream, host: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let local = tcp.local_addr().map_err(|e| e.to_string())?.ip();
    let mut conn = BufReader::new(tcp);
    let step = |what: &str, code: u16, want: u16, text: &[String]| {
        if code == want {
            Ok(())
        } else {
            Err(format!(
                "{what}: {code} {}",
                tls::printable(&text.join(" "), 120)
            ))
        }
    };
    let (code, text) = reply(&mut conn).await?;
    step("greeting", code, 220, &text)?;
    // An address literal: the checker has no host name of its own (RFC 5321 §4.1.4).
    let ehlo = match local {
        std::net::IpAddr::V4(a) => format!("EHLO [{a}]\r\n"),
        std::net::IpAddr::V6(a) => format!("EHLO [IPv6:{a}]\r\n"),
    };
    conn.get_mut()
        .write_all(ehlo.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let (code, text) = reply(&mut conn).await?;
    step("EHLO", code, 250, &text)?;
    if !text.iter().any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
    }) {
        return Err("the server does not offer STARTTLS".into());
    }
    conn.get_mut()
        .write_all(b"STARTTLS\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let (code, text) = reply(&mut conn).await?;
    step("STARTTLS", code, 220, &text)?;
    // Bytes sent ahead of the handshake would be read as if protected (CVE-2011-0411).
    if !conn.buffer().is_empty() {
        return Err("the server sent data after its STARTTLS reply, before TLS".into());
    }
    let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
    let tls = TlsConnector::from(dane_client()?)
        .connect(name, conn.into_inner())
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let chain = tls.get_ref().1.peer_certificates().unwrap_or_default();
    Ok(chain.iter().map(|c| c.clone().into_owned()).collect())
}

/// Whether a TLSA record matches the chain: DANE-EE against the server's certificate, DANE-TA
/// against the others (RFC 7672 §3.1). PKIX usages are not for SMTP (RFC 7672 §3.1.3).
pub fn matches(record: &TLSA, chain: &[CertificateDer<'_>]) -> bool {
    let candidates = match record.cert_usage {
        CertUsage::DaneEe => chain.get(..1).unwrap_or_default(),
        CertUsage::DaneTa => chain.get(1..).unwrap_or_default(),
        _ => &[],
    };
    candidates.iter().any(|cert| {
        let selected = match record.selector {
            Selector::Full => cert.as_ref().to_vec(),
            Selector::Spki => match cert_spki(cert) {
                Ok(s) => s,
                Err(_) => return false,
            },
            _ => return false,
        };
        let digest = match record.matching {
            Matching::Raw => selected,
            Matching::Sha256 => Sha256::digest(&selected).to_vec(),
            Matching::Sha512 => Sha512::digest(&selected).to_vec(),
            _ => return false,
        };
        digest == record.cert_data
    })
}

fn finding(out: &mut Outcome, d: Finding) {
    out.checked += 1;
    out.findings.push(d);
}

/// The DNSSEC state of the TLSA answer, as a finding when it is not validated.
fn dnssec(out: &mut Outcome, path: &str, answer: &TlsaAnswer) {
    if answer.authenticated {
        out.checked += 1;
    } else if answer.signed {
        finding(out, Finding::warning(Code::DaneUnsigned, path, "the TLSA records are signed, but the server asked did not validate them (no AD bit): only a validating resolver can confirm senders will use them")
            .with_hint("run the check against a validating resolver (`--nameserver 1.1.1.1`, or your own unbound), which sets the AD bit for a secure answer"));
    } else {
        finding(out, Finding::error(Code::DaneUnsigned, path, "the TLSA records are not DNSSEC-signed: senders ignore them (RFC 7672 §2.2), so DANE does nothing")
            .with_hint("sign the zone at your DNS provider and publish its DS record at the registrar; if the zone is signed, the resolver asked strips signatures: use `--nameserver` with a validating resolver"));
    }
}

/// The DANE check of the MX host (with `dns.dane`): its TLSA records exist, are signed, and
/// one matches the certificate port 25 presents.
pub async fn check<L: Lookup>(
    dns: &L,
    server: SocketAddr,
    plan: &Plan,
    options: &TlsOptions,
) -> Outcome {
    let mut out = Outcome::default();
    let host = plan.mail_host.as_str();
    let owner = tlsa_name(host);
    let path = format!("{owner} TLSA");
    let answer = match query_tlsa(server, &owner).await {
        Ok(a) => a,
        Err(e) => {
            finding(&mut out, Finding::error(Code::LookupFailed, &path, format!("the query failed: {e}"))
                .with_hint("check that the name server answers for this name (and `--nameserver`); run the check again"));
            return out;
        }
    };
    if answer.records.is_empty() {
        finding(&mut out, Finding::error(Code::DaneMismatch, &path, "no TLSA record: `dns.dane` is on, but senders find nothing to check the MX's certificate against")
            .with_hint("publish the TLSA record of `mailu-k8s dns plan --tls-cert <front's certificate>`"));
        return out;
    }
    dnssec(&mut out, &path, &answer);
    let limit = options.timeout.unwrap_or(SMTP_TIMEOUT);
    let chain = tokio::time::timeout(limit, async {
        let addrs = tls::addresses(dns, options, host, 25).await?;
        starttls(tls::connect(&addrs).await?, host).await
    })
    .await
    .unwrap_or_else(|_| Err(format!("no certificate within {}s", limit.as_secs_f32())));
    let smtp_path = format!("{host}:25 (SMTP STARTTLS)");
    match chain {
        Err(e) => finding(&mut out, Finding::error(Code::SmtpTlsFailed, &smtp_path, format!("cannot get the MX's certificate: {e}"))
            .with_hint("front must accept connections on port 25 from the internet and offer STARTTLS; run the check again")),
        Ok(chain) => compare(&mut out, &path, &answer.records, &chain),
    }
    out
}

fn compare(out: &mut Outcome, path: &str, records: &[TLSA], chain: &[CertificateDer<'_>]) {
    if records.iter().any(|r| matches(r, chain)) {
        out.checked += 1;
        return;
    }
    let live = chain
        .first()
        .and_then(|c| cert_spki(c).ok())
        .map(|spki| format!("3 1 1 {}", hex(&tls::spki_sha256(&spki))));
    let published: Vec<String> = records.iter().map(ToString::to_string).collect();
    let mut d = Finding::error(Code::DaneMismatch, path, "no TLSA record matches the certificate the MX presents: DANE senders defer mail to it (RFC 7672 §2.2)")
        .with_value(published.join(" | "));
    d = match live {
        Some(l) => d.with_hint(format!("publish `TLSA {l}` (the key front serves now; `dns plan --tls-cert`), or restore the key the record names; during a rollover publish both")),
        None => d.with_hint("the MX's certificate does not parse; check front's TLS Secret"),
    };
    finding(out, d);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(text: &[u8]) -> Result<(u16, Vec<String>), String> {
        reply(&mut BufReader::new(text)).await
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn smtp_replies_are_read_within_bounds() {
        let ok = block(parse(
            b"250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        ));
        assert_eq!(
            ok,
            Ok((
                250,
                vec![
                    "mx.example.com".into(),
                    "PIPELINING".into(),
                    "STARTTLS".into()
                ]
            ))
        );
        // A bare code is a whole reply (RFC 5321 §4.2: the text is optional).
        assert_eq!(block(parse(b"220\r\n")), Ok((220, vec![String::new()])));
        let long = [b"250-".as_slice(), &[b'x'; 5000], b"\r\n"].concat();
        let many = b"250-x\r\n".repeat(200);
        for bad in [
            &b""[..],
            b"hello\r\n",
            b"2\xc3\xa95 x\r\n",
            b"250-unfinished",
            &long,
            &many,
            b"\xff\xfe\xfd\r\n",
        ] {
            assert!(
                block(parse(bad)).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, ..Default::default() })]
        /// Any bytes an MX or a name server sends: an error or an answer, never a panic.
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = block(parse(&bytes));
            let name = Name::from_ascii("_25._tcp.mail.example.com.").expect("name");
            let q = tlsa_query(&name).expect("query");
            let _ = accept(&q, &bytes);
            // The same bytes behind a valid header of an answer to our query.
            let mut answer = q.to_vec().expect("bytes");
            answer[2] |= 0x80;
            answer.extend_from_slice(&bytes);
            let _ = accept(&q, &answer);
        }
    }

    #[test]
    fn hostile_dns_answers_are_errors() {
        let name = Name::from_ascii("_25._tcp.mail.example.com.").expect("name");
        let q = tlsa_query(&name).expect("query");
        assert!(accept(&q, b"").is_err());
        assert!(accept(&q, &[0xff; 40]).is_err());
        let mut other = q.clone();
        other.metadata.message_type = MessageType::Response;
        other.metadata.id = q.metadata.id.wrapping_add(1);
        assert!(accept(&q, &other.to_vec().expect("bytes")).is_err());
        other.metadata.id = q.metadata.id;
        assert!(accept(&q, &other.to_vec().expect("bytes")).is_ok());
        assert!(
            accept(&q, &q.to_vec().expect("bytes")).is_err(),
            "a query is not an answer"
        );
    }

    /// A leaf and its CA, as a server sends them.
    fn chain() -> [CertificateDer<'static>; 2] {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().expect("key");
        let ca = rcgen::CertifiedIssuer::self_signed(params, key).expect("ca");
        let key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["mail.example.com".to_owned()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("leaf");
        [leaf.der().clone(), ca.der().clone()]
    }

    #[test]
    fn records_match_by_usage_selector_and_matching_type() {
        let chain = chain();
        let spki = cert_spki(&chain[0]).expect("spki");
        let ca_spki = cert_spki(&chain[1]).expect("spki");
        let rec = |u, s, m, data: Vec<u8>| TLSA::new(u, s, m, data);
        use CertUsage::*;
        assert!(matches(
            &rec(
                DaneEe,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&spki).to_vec()
            ),
            &chain
        ));
        assert!(matches(
            &rec(
                DaneEe,
                Selector::Spki,
                Matching::Sha512,
                Sha512::digest(&spki).to_vec()
            ),
            &chain
        ));
        assert!(matches(
            &rec(DaneEe, Selector::Full, Matching::Raw, chain[0].to_vec()),
            &chain
        ));
        assert!(matches(
            &rec(
                DaneTa,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&ca_spki).to_vec()
            ),
            &chain
        ));
        // The CA's key as DANE-EE, the leaf's as DANE-TA, PKIX usages, other digests: no match.
        assert!(!matches(
            &rec(
                DaneEe,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&ca_spki).to_vec()
            ),
            &chain
        ));
        assert!(!matches(
            &rec(
                DaneTa,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&spki).to_vec()
            ),
            &chain
        ));
        assert!(!matches(
            &rec(
                PkixEe,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&spki).to_vec()
            ),
            &chain
        ));
        assert!(!matches(
            &rec(DaneEe, Selector::Spki, Matching::Sha256, vec![0; 32]),
            &chain
        ));
        assert!(!matches(
            &rec(
                DaneEe,
                Selector::Spki,
                Matching::Sha256,
                Sha256::digest(&spki).to_vec()
            ),
            &[]
        ));
    }
}
