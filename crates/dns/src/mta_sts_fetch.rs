//! The MTA-STS policy as senders fetch it: `GET https://mta-sts.<domain>/.well-known/mta-sts.txt`
//! with the certificate verified for that name (RFC 8461 §3.3), bounded in time and size, no
//! redirects followed; then compared with the policy the plan publishes and hashes into the
//! `_mta-sts` record's `id`.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::finding::{Code, Finding};
use mailu_k8s_topology::mail_dns::{MTA_STS_HOST_LABEL, MTA_STS_PATH};

use crate::check::Outcome;
use crate::lookup::Lookup;
use crate::plan::{DomainPlan, Plan};
use crate::tls::{self, TlsOptions};

/// The largest policy read: a real one is a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The whole fetch: connect, handshake, request and body. RFC 8461 §3.3 suggests senders wait
/// a minute; a checker reports a slow host sooner.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
/// RFC 8461 §3.2: max_age is at most 31557600 seconds.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// A parsed policy (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: String,
    /// The `mx` patterns, lower case, in order.
    pub mx: Vec<String>,
    pub max_age: u64,
}

/// Parses a policy body. Lines end in LF or CRLF (RFC 8461 §3.2's ABNF); unknown keys are
/// ignored; anything else malformed is an error, never a panic.
pub fn parse(body: &[u8]) -> Result<Policy, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the policy is not UTF-8 text")?;
    let (mut version, mut mode, mut max_age) = (None, None, None);
    let mut mx = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("line {} is not `key: value`", i + 1))?;
        let value = value.trim().to_owned();
        let once = |slot: &mut Option<String>, v: String| match slot {
            Some(_) => Err(format!("`{}` appears more than once", key.trim())),
            None => {
                *slot = Some(v);
                Ok(())
            }
        };
        match key.trim() {
            "version" => once(&mut version, value)?,
            "mode" => once(&mut mode, value)?,
            "max_age" => once(&mut max_age, value)?,
            "mx" => mx.push(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    if version.as_deref() != Some("STSv1") {
        return Err("no `version: STSv1` line".into());
    }
    let mode = mode.ok_or("no `mode` line")?;
    if !matches!(mode.as_str(), "enforce" | "testing" | "none") {
        return Err(format!("mode `{mode}` is not enforce, testing or none"));
    }
    let max_age = max_age.ok_or("no `max_age` line")?;
    let max_age: u64 = match max_age.len() {
        1..=10 if max_age.bytes().all(|b| b.is_ascii_digit()) => {
            max_age.parse().map_err(|_| "max_age is not a number")?
        }
        _ => return Err(format!("max_age `{max_age}` is not a number of seconds")),
    };
    if max_age > MAX_AGE_LIMIT {
        return Err(format!(
            "max_age {max_age} exceeds {MAX_AGE_LIMIT} (RFC 8461 §3.2)"
        ));
    }
    if mx.is_empty() && mode != "none" {
        return Err("no `mx` line: senders have no MX host to accept".into());
    }
    Ok(Policy { mode, mx, max_age })
}

/// Whether an `mx` pattern covers a host: equal, or `*.` standing for exactly one left-most
/// label (RFC 8461 §4.1).
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => host == pattern,
    }
}

/// What the policy host answered.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Why there is no response.
#[derive(Debug)]
pub enum FetchError {
    /// The certificate did not verify (RFC 8461 §3.3).
    Certificate(String),
    Other(String),
}

/// The certificate error inside an I/O error from the handshake, if that is what it was.
fn certificate_error(e: &std::io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(c) => Some(format!("{c:?}")),
        _ => None,
    }
}

/// One GET of the policy from `host`: no redirects (hyper's client follows none), at most
/// [`MAX_BODY`] bytes, within [`FETCH_TIMEOUT`].
pub async fn fetch<L: Lookup>(
    dns: &L,
    options: &TlsOptions,
    client: Arc<ClientConfig>,
    host: &str,
) -> Result<Response, FetchError> {
    let attempt = async {
        let addrs = tls::addresses(dns, options, host, 443)
            .await
            .map_err(FetchError::Other)?;
        let tcp = tls::connect(&addrs).await.map_err(FetchError::Other)?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| FetchError::Other(format!("{host}: {e}")))?;
        let stream = TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .map_err(|e| match certificate_error(&e) {
                Some(c) => FetchError::Certificate(c),
                None => FetchError::Other(format!("TLS handshake: {e}")),
            })?;
        request(stream, host).await.map_err(FetchError::Other)
    };
    let limit = options.timeout.unwrap_or(FETCH_TIMEOUT);
    tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Other(format!(
                "no complete answer within {}s",
                limit.as_secs_f32()
            )))
        })
}

async fn request<S>(stream: S, host: &str) -> Result<Response, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    // The connection is driven beside the request; it ends with the runtime at the latest.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::get(MTA_STS_PATH)
        .header(hyper::header::HOST, host)
        .header(hyper::header::USER_AGENT, "mailu-k8s-dns-check")
        .header(hyper::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("HTTP request: {e}"))?;
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let status = res.status().as_u16();
    let content_type = header(hyper::header::CONTENT_TYPE);
    let location = header(hyper::header::LOCATION);
    let body = Limited::new(res.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("the body is larger than {} KiB", MAX_BODY / 1024)
            } else {
                format!("HTTP body: {e}")
            }
        })?
        .to_bytes()
        .to_vec();
    Ok(Response {
        status,
        content_type,
        location,
        body,
    })
}

fn finding(out: &mut Outcome, d: Finding) {
    out.checked += 1;
    out.findings.push(d);
}

/// Fetches every mail domain's policy and compares it with the plan's.
pub async fn check<L: Lookup>(
    dns: &L,
    plan: &Plan,
    options: &TlsOptions,
    client: Arc<ClientConfig>,
) -> Outcome {
    let Some(text) = &plan.mta_sts_policy else {
        return Outcome::default();
    };
    let Ok(want) = parse(text.as_bytes()) else {
        return Outcome::default();
    };
    let all = futures_util::future::join_all(
        plan.domains
            .iter()
            .filter(|d| d.mta_sts_id.is_some())
            .map(|d| check_domain(dns, d, &want, text, options, client.clone())),
    )
    .await;
    let mut out = Outcome::default();
    for o in all {
        out.checked += o.checked;
        out.findings.extend(o.findings);
    }
    out
}

async fn check_domain<L: Lookup>(
    dns: &L,
    d: &DomainPlan,
    want: &Policy,
    want_text: &str,
    options: &TlsOptions,
    client: Arc<ClientConfig>,
) -> Outcome {
    let mut out = Outcome::default();
    let host = format!("{MTA_STS_HOST_LABEL}.{}", d.domain);
    let path = format!("https://{host}{MTA_STS_PATH}");
    let response = match fetch(dns, options, client, &host).await {
        Ok(r) => r,
        Err(FetchError::Certificate(e)) => {
            finding(&mut out, Finding::error(Code::MtaStsCertificate, &path, format!("the certificate is not valid for {host}: {e}; senders do not fetch the policy (RFC 8461 §3.3)"))
                .with_hint(format!("serve a certificate from a public CA that names {host}: with `tls.issuer`, mailu-k8s puts the name on front's Certificate (`kubectl get certificate` shows whether it is Ready)")));
            return out;
        }
        Err(FetchError::Other(e)) => {
            finding(&mut out, Finding::error(Code::MtaStsFetchFailed, &path, format!("the policy cannot be fetched: {e}"))
                .with_hint(format!("{host} must reach front on port 443 (the plan has its record); run the check again")));
            return out;
        }
    };
    out.checked += 1;
    let id = d.mta_sts_id.as_deref().unwrap_or("");
    compare(&mut out, &path, &response, id, want, want_text);
    out
}

/// Whether the answer is a policy at all: only a 200 is (RFC 8461 §3.3); a non-text/plain
/// media type is a warning (§3.2: senders SHOULD check it).
fn answered(out: &mut Outcome, path: &str, r: &Response) -> bool {
    if r.status != 200 {
        let message = if (300..400).contains(&r.status) {
            let to = r
                .location
                .as_ref()
                .map(|l| format!(" to {}", tls::printable(l, 200)));
            format!(
                "HTTP {} redirect{}: senders follow no redirects (RFC 8461 §3.3)",
                r.status,
                to.unwrap_or_default()
            )
        } else {
            format!(
                "HTTP {}: only a 200 answer is a policy (RFC 8461 §3.3)",
                r.status
            )
        };
        finding(out, Finding::error(Code::MtaStsFetchFailed, path, message)
            .with_hint("serve the policy itself at this URL (front does with `dns.mtaSts`; a proxy in front of it must pass the path through)"));
        return false;
    }
    let media = r.content_type.as_deref().unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/plain") {
        finding(out, Finding::warning(Code::MtaStsFetchFailed, path, "the policy is not served as text/plain: senders that check the media type (RFC 8461 §3.2) ignore it")
            .with_value(tls::printable(media, 200))
            .with_hint("serve it with `Content-Type: text/plain`"));
    }
    true
}

/// How a served policy differs from the plan's, in words; empty when it does not.
pub fn differences(got: &Policy, want: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    if got.mode != want.mode {
        out.push(format!("mode `{}` instead of `{}`", got.mode, want.mode));
    }
    if got.max_age != want.max_age {
        out.push(format!(
            "max_age {} instead of {}",
            got.max_age, want.max_age
        ));
    }
    for host in &want.mx {
        if !got.mx.iter().any(|p| mx_matches(p, host)) {
            out.push(format!(
                "no `mx` pattern covers {host}: in enforce mode senders refuse to deliver to it"
            ));
        }
    }
    let extra: Vec<&str> = got
        .mx
        .iter()
        .filter(|p| !want.mx.contains(p))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        out.push(format!(
            "`mx` patterns the plan does not have: {}",
            extra.join(", ")
        ));
    }
    out
}

/// The response against the plan's policy: status, media type, fields, and the `id`.
fn compare(out: &mut Outcome, path: &str, r: &Response, id: &str, want: &Policy, want_text: &str) {
    if !answered(out, path, r) {
        return;
    }
    let shown = tls::printable(&String::from_utf8_lossy(&r.body), 200);
    let got =
        match parse(&r.body) {
            Ok(p) => p,
            Err(e) => {
                let d = Finding::error(
                    Code::MtaStsPolicyMismatch,
                    path,
                    format!(
                        "the policy does not parse: {}; senders ignore it",
                        tls::printable(&e, 300)
                    ),
                );
                finding(out, d.with_value(shown).with_hint(
                "serve the policy `mailu-k8s dns plan --format json` shows (`mtaStsPolicy`)",
            ));
                return;
            }
        };
    let hint = "serve the plan's policy: front does with `dns.mtaSts`; if another server answers for this name, point it at front";
    let differences = differences(&got, want);
    if !differences.is_empty() {
        let message = format!(
            "the served policy differs from the plan: {}",
            tls::printable(&differences.join("; "), 600)
        );
        let d = Finding::error(Code::MtaStsPolicyMismatch, path, message);
        finding(out, d.with_value(shown).with_hint(hint));
    } else if r.body != want_text.as_bytes() {
        // Same fields, other bytes: the `_mta-sts` id the plan publishes is the hash of the
        // plan's text (topology's `MtaStsPolicy::id`), so it does not name this text.
        finding(out, Finding::warning(Code::MtaStsPolicyMismatch, path, format!("the policy says what the plan says, in other bytes: the published id ({}) is the hash of the plan's text, not of this one", id))
            .with_value(shown)
            .with_hint(hint));
    } else {
        out.checked += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n";

    #[test]
    fn policies_parse_as_rfc_8461_writes_them() {
        let p = parse(GOOD.as_bytes()).expect("parses");
        assert_eq!(p.mode, "enforce");
        assert_eq!(p.mx, ["mail.example.com"]);
        assert_eq!(p.max_age, 604_800);
        let crlf = GOOD.replace('\n', "\r\n");
        assert_eq!(parse(crlf.as_bytes()), Ok(p.clone()));
        let extra = format!("{GOOD}future_key: x\nmx: *.Backup.Example.com");
        assert_eq!(parse(extra.as_bytes()).expect("parses").mx.len(), 2);
        let none = "version: STSv1\nmode: none\nmax_age: 86400\n";
        assert!(parse(none.as_bytes()).is_ok());
    }

    #[test]
    fn bad_policies_are_errors() {
        for bad in [
            "",
            "mode: enforce\nmx: a\nmax_age: 1\n",
            "version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n",
            "version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n",
            "version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999\n",
            "version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n",
            "version: STSv1\nmode: enforce\nmode: testing\nmx: a\nmax_age: 1\n",
            "version: STSv1\ngarbage\n",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
        /// Any bytes a policy host sends: an error or a policy, never a panic; and whatever
        /// parses has the shape RFC 8461 §3.2 allows.
        #[test]
        fn hostile_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            lines in proptest::collection::vec("(version|mode|mx|max_age|x)?:? ?(STSv1|enforce|testing|none|\\*?\\.?[a-z.]{0,12}|[0-9]{0,12}|\\PC{0,6})", 0..8),
        ) {
            let _ = parse(&bytes);
            let text = lines.join("\n");
            if let Ok(p) = parse(text.as_bytes()) {
                proptest::prop_assert!(matches!(p.mode.as_str(), "enforce" | "testing" | "none"));
                proptest::prop_assert!(p.max_age <= MAX_AGE_LIMIT);
                proptest::prop_assert!(!p.mx.is_empty() || p.mode == "none");
            }
            let s = String::from_utf8_lossy(&bytes);
            let _ = mx_matches(&s, &text);
        }
    }

    fn compared(status: u16, media: &str, body: &str) -> Vec<(Code, bool)> {
        let r = Response {
            status,
            content_type: Some(media.to_owned()),
            location: None,
            body: body.as_bytes().to_vec(),
        };
        let want = parse(GOOD.as_bytes()).expect("plan's policy");
        let mut out = Outcome::default();
        compare(&mut out, "p", &r, "id", &want, GOOD);
        assert!(out.checked > 0);
        out.findings
            .iter()
            .map(|d| (d.code, d.is_error()))
            .collect()
    }

    #[test]
    fn served_policies_are_compared_with_the_plan() {
        let mismatch = [(Code::MtaStsPolicyMismatch, true)];
        assert_eq!(compared(200, "text/plain; charset=utf-8", GOOD), []);
        let crlf = GOOD.replace('\n', "\r\n");
        assert_eq!(
            compared(200, "text/plain", &crlf),
            [(Code::MtaStsPolicyMismatch, false)]
        );
        for (from, to) in [
            ("enforce", "testing"),
            ("604800", "86400"),
            ("mx: mail.example.com", "mx: mx.example.net"),
            (
                "mx: mail.example.com",
                "mx: mail.example.com\nmx: extra.example.net",
            ),
            ("version: STSv1", "version: STSv2"),
        ] {
            assert_eq!(
                compared(200, "text/plain", &GOOD.replace(from, to)),
                mismatch,
                "{to}"
            );
        }
        // A wildcard that covers the host is fine for senders, but not the plan's policy.
        let wild = GOOD.replace("mx: mail.example.com", "mx: *.example.com");
        assert_eq!(compared(200, "text/plain", &wild), mismatch);
        assert_eq!(
            compared(200, "text/html", GOOD),
            [(Code::MtaStsFetchFailed, false)]
        );
        for status in [301, 404, 500] {
            assert_eq!(
                compared(status, "text/plain", GOOD),
                [(Code::MtaStsFetchFailed, true)]
            );
        }
    }

    #[test]
    fn served_text_reaches_findings_escaped() {
        let r = Response {
            status: 200,
            content_type: Some("text/plain".into()),
            location: None,
            body: GOOD
                .replace("mx: mail.example.com", "mx: \u{1b}[2Jevil\rerror[MK000]: x")
                .into_bytes(),
        };
        let want = parse(GOOD.as_bytes()).expect("plan's policy");
        let mut out = Outcome::default();
        compare(&mut out, "p", &r, "id", &want, GOOD);
        let text: String = out.findings.iter().map(|d| d.render("t")).collect();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("\\u{1b}[2Jevil"), "{text}");
    }

    #[test]
    fn mx_patterns_match_one_label() {
        assert!(mx_matches("mail.example.com", "MAIL.example.com."));
        assert!(mx_matches("*.example.com", "mail.example.com"));
        assert!(!mx_matches("*.example.com", "a.mail.example.com"));
        assert!(!mx_matches("*.example.com", "example.com"));
        assert!(!mx_matches("mail.example.com", "mail.example.org"));
    }
}
