//! The checks that connect to the mail host rather than only asking DNS: the MTA-STS policy
//! over HTTPS. They run after the DNS checks (`check`), with names resolved by the same server.

use std::net::SocketAddr;

use crate::check::Outcome;
use crate::lookup::HickoryLookup;
use crate::mta_sts_fetch;
use crate::plan::Plan;
use crate::tls::{self, TlsOptions};

/// Runs every connecting check on a runtime of its own. `Err`: the checks could not start (a
/// bad `--ca-file`, no resolver); what they find is in the `Outcome`.
pub fn run(
    plan: &Plan,
    server: Option<SocketAddr>,
    options: &TlsOptions,
) -> Result<Outcome, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the TLS client: {e}"))?;
    let dns = HickoryLookup::new(server)?;
    let mut out = Outcome::default();
    if plan.mta_sts_policy.is_some() {
        let client = tls::pkix_client(tls::roots(options)?)?;
        let found = rt.block_on(mta_sts_fetch::check(&dns, plan, options, client));
        out.checked += found.checked;
        out.findings.extend(found.findings);
    }
    Ok(out)
}
