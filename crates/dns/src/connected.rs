//! The checks that connect to the mail host rather than only asking DNS: the MTA-STS policy
//! over HTTPS, and DANE (the TLSA records against the certificate port 25 presents after
//! STARTTLS). They run after the DNS checks (`check`), with names resolved by the same server.

use std::net::SocketAddr;

use mailu_k8s_config::Config;

use crate::finding::{Code, Finding};

use crate::check::{Check, Outcome, Scope};
use crate::lookup::HickoryLookup;
use crate::plan::Plan;
use crate::tls::{self, TlsOptions};
use crate::{dane_check, mta_sts_fetch};

/// The server the DANE query goes to: `--nameserver`, or the system's first resolver (its
/// answer must carry the AD bit, which only the resolver itself can set).
fn dnssec_server(server: Option<SocketAddr>) -> Result<SocketAddr, String> {
    if let Some(s) = server {
        return Ok(s);
    }
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("cannot read the system's resolver configuration: {e}"))?;
    let ns = config
        .name_servers()
        .first()
        .ok_or("the system has no resolver configured: pass --nameserver")?;
    let port = ns.connections.first().map_or(53, |c| c.port);
    Ok(SocketAddr::new(ns.ip, port))
}

/// Runs every connecting check on a runtime of its own. `Err`: the checks could not start (a
/// bad `--ca-file`, no resolver); what they find is in the `Outcome`. The MTA-STS fetch takes at
/// most 15 s and the SMTP exchange 20 s, side by side.
pub fn run(
    config: &Config,
    plan: &Plan,
    server: Option<SocketAddr>,
    options: &TlsOptions,
    scope: &Scope,
) -> Result<Outcome, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the TLS client: {e}"))?;
    let dns = HickoryLookup::new(server)?;
    let mut out = Outcome::default();
    let client = match plan.mta_sts_policy {
        _ if !scope.runs(Check::MtaSts) => None,
        None => None,
        Some(_) => match tls::roots(options).and_then(tls::pkix_client) {
            Ok(c) => Some(c),
            // `--ca-file` is the caller's input (refused); an empty system store is this
            // machine's state: a finding, and the other results still count.
            Err(e) if options.ca_file.is_some() => return Err(e),
            Err(e) => {
                out.checked += 1;
                out.findings.push(
                    Finding::error(Code::MtaStsFetchFailed, "MTA-STS", format!("the policy cannot be verified here: {e}"))
                        .with_hint("install the system's CA certificates (Debian: ca-certificates), or pass --ca-file"),
                );
                None
            }
        },
    };
    let dnssec = match config.dns.dane && scope.runs(Check::Dane) {
        true => Some(dnssec_server(server)?),
        false => None,
    };
    let (policy, dane) = rt.block_on(async {
        let policy = async {
            match client {
                Some(c) => mta_sts_fetch::check(&dns, plan, options, c).await,
                None => Outcome::default(),
            }
        };
        let dane = async {
            match dnssec {
                Some(s) => dane_check::check(&dns, s, plan, options).await,
                None => Outcome::default(),
            }
        };
        tokio::join!(policy, dane)
    });
    for o in [policy, dane] {
        out.checked += o.checked;
        out.findings.extend(o.findings);
    }
    Ok(out)
}
