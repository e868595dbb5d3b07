//! The override files each component's `/overrides` ConfigMap holds: the user's, plus what the
//! model adds (front's MTA-STS policy server, postfix's egress settings).

use std::collections::BTreeMap;

use mailu_k8s_config::Config;
use mailu_k8s_config::egress::postfix_params;
use mailu_k8s_topology::{Component, Topology};

/// A component's override files: the user's, with the egress model's postfix parameters
/// appended to `postfix.cf` and its `master.cf` entries to `postfix.master` (Mailu applies their
/// lines in order with `postconf -e` and `postconf -Me`; validation refuses a user's line for a
/// parameter or service appended here).
pub fn overrides(
    component: Component,
    config: &Config,
    topology: &Topology,
) -> BTreeMap<String, String> {
    let mut files = config
        .workloads
        .get(component.name())
        .map(|w| w.overrides.clone())
        .unwrap_or_default();
    if component == Component::Front {
        crate::mail_dns::add_front_overrides(&mut files, config);
    }
    if component != Component::Postfix {
        return files;
    }
    let egress = &topology.egress;
    let settings = egress.postfix_settings().into_iter();
    append_lines(
        &mut files,
        postfix_params::OVERRIDE_FILE,
        settings.map(|(name, value)| format!("{name} = {value}")),
    );
    append_lines(
        &mut files,
        postfix_params::MASTER_OVERRIDE_FILE,
        egress.postfix_master_entries(),
    );
    files
}

/// Appends `lines` to the override file `name` under a marker comment; no lines, no change.
fn append_lines(
    files: &mut BTreeMap<String, String>,
    name: &str,
    lines: impl IntoIterator<Item = String>,
) {
    let mut lines = lines.into_iter().peekable();
    if lines.peek().is_none() {
        return;
    }
    let file = files.entry(name.to_owned()).or_default();
    if !file.is_empty() && !file.ends_with('\n') {
        file.push('\n');
    }
    file.push_str("# written by mailu-k8s from `egress`\n");
    for line in lines {
        file.push_str(&line);
        file.push('\n');
    }
}
