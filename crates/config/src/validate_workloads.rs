//! Validation of `pods` and `workloads`: replicas only where Mailu supports them, scheduling,
//! metadata, extra environment and override files.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, SecurityContext};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, join};
use crate::file::{self, ConfigFile, TaintEffect, TlsFlavor, TolerationOperator, WebmailType};
use crate::mailu_env;
use crate::model::*;
use crate::rules;
use crate::validate::check_into;

/// Every component name, in the order of `workloads`.
pub const WORKLOAD_NAMES: [&str; 13] = [
    "front",
    "admin",
    "postfix",
    "dovecot",
    "rspamd",
    "redis",
    "webmail",
    "clamav",
    "fetchmail",
    "webdav",
    "oletools",
    "tika",
    "resolver",
];

/// Components whose images are Mailu's and read Mailu's environment variables (`extraEnv`
/// names are checked against Mailu's list, `logLevel` applies).
pub const MAILU_ENV_READERS: [&str; 7] = [
    "front",
    "admin",
    "postfix",
    "dovecot",
    "rspamd",
    "webmail",
    "fetchmail",
];

/// Components that read override files from `/overrides`.
pub const OVERRIDE_READERS: [&str; 5] = ["front", "postfix", "dovecot", "rspamd", "webmail"];

/// Components that listen on nothing and so get no Service to annotate or label.
pub const WITHOUT_SERVICE: [&str; 1] = ["fetchmail"];

/// Why a component cannot run more than one replica.
fn single_replica_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "postfix" => "its mail queue lives on one volume; a second postfix would corrupt it",
        "dovecot" => "dovecot's indexes corrupt when two servers share the mailboxes",
        "rspamd" => "rspamd keeps learned data on one volume under a fixed host name",
        "webdav" => "Radicale's storage takes one writer",
        "fetchmail" => "two would fetch and deliver the same messages twice",
        "redis" => "the bundled Redis is one instance; point `redis` at a replicated Redis instead",
        _ => return None,
    })
}

fn file_entry<'a>(w: &'a file::WorkloadsFile, name: &str) -> Option<&'a file::WorkloadFile> {
    match name {
        "front" => w.front.as_ref(),
        "admin" => w.admin.as_ref(),
        "postfix" => w.postfix.as_ref(),
        "dovecot" => w.dovecot.as_ref(),
        "rspamd" => w.rspamd.as_ref(),
        "redis" => w.redis.as_ref(),
        "webmail" => w.webmail.as_ref(),
        "clamav" => w.clamav.as_ref(),
        "fetchmail" => w.fetchmail.as_ref(),
        "webdav" => w.webdav.as_ref(),
        "oletools" => w.oletools.as_ref(),
        "tika" => w.tika.as_ref(),
        "resolver" => w.resolver.as_ref(),
        _ => None,
    }
}

/// Whether the component `name` runs with this file (the topology decides the same from the
/// validated config; a topology test ties the two).
pub fn runs(file: &ConfigFile, name: &str) -> bool {
    let k = &file.components;
    match name {
        "redis" => file.redis.is_none(),
        "webmail" => k.webmail,
        "clamav" => k.clamav,
        "fetchmail" => k.fetchmail,
        "webdav" => k.webdav,
        "oletools" => k.oletools,
        "tika" => k.tika,
        "resolver" => k.resolver.unwrap_or(true),
        _ => true,
    }
}

fn err(code: Code, path: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, path, message).with_hint(hint)
}

pub(crate) fn validate_workloads(
    file: &ConfigFile,
    out: &mut Vec<Diagnostic>,
) -> Option<BTreeMap<&'static str, WorkloadSettings>> {
    let errors_before = out.iter().filter(|d| d.is_error()).count();
    check_pods(&file.pods, "pods", out);
    for (i, secret) in file.images.pull_secrets.iter().enumerate() {
        check_into(
            out,
            Code::InvalidKubernetesName,
            &format!("images.pullSecrets[{i}]"),
            secret,
            rules::check_dns1123_subdomain,
        );
    }

    let mut all = BTreeMap::new();
    for name in WORKLOAD_NAMES {
        all.insert(name, workload(file, name, out));
    }
    if out.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    Some(all)
}

/// `workloads.<name>`: every rule for one workload, then its settings merged with `pods`.
fn workload(file: &ConfigFile, name: &str, out: &mut Vec<Diagnostic>) -> WorkloadSettings {
    let base = join("workloads", name);
    let given = file_entry(&file.workloads, name);
    if given.is_some() && !runs(file, name) {
        out.push(err(
            Code::MissingDependency,
            &base,
            format!("settings for `{name}`, which does not run"),
            if name == "redis" {
                "the bundled Redis runs only without an external `redis`; remove this entry"
                    .to_owned()
            } else {
                format!("set `components.{name}: true`, or remove this entry")
            },
        ));
    }
    let w = given.cloned().unwrap_or_default();
    check_pods(&w.pod, &base, out);

    let replicas = w.replicas.map_or(1, |r| r.get());
    if replicas > 1 {
        check_replicas(file, name, &join(&base, "replicas"), out);
    }
    if let Some(image) = &w.image {
        check_image(image, &base, out);
    }
    if let Some(sc) = &w.security_context {
        check_kubernetes_value::<SecurityContext>(
            sc,
            &join(&base, "securityContext"),
            "SecurityContext",
            "pod.spec.containers.securityContext",
            out,
        );
    }
    let reads_mailu_env = MAILU_ENV_READERS.contains(&name);
    if w.log_level.is_some() && !reads_mailu_env {
        out.push(err(
            Code::InvalidValue,
            &join(&base, "logLevel"),
            format!("`{name}` does not read Mailu's `LOG_LEVEL`"),
            "remove it; configure the image's own logging through `extraEnv`",
        ));
    }
    check_extra_env(&w, reads_mailu_env, &base, out);
    check_overrides(&w, name, &base, out);
    check_service_metadata(&w, name, &base, out);
    workload_settings(&file.pods, &w, replicas)
}

/// `image`: a repository name without tag, a valid tag and digest.
fn check_image(image: &file::ImageFile, base: &str, out: &mut Vec<Diagnostic>) {
    if let Some(repo) = &image.repository
        && (repo.is_empty()
            || repo.ends_with('/')
            || !repo
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b)))
    {
        out.push(
            err(
                Code::InvalidValue,
                &join(base, "image.repository"),
                "not a valid image repository",
                "the full name without tag, e.g. `registry.example.com/mailu/postfix`",
            )
            .with_value(repo),
        );
    }
    if let Some(tag) = &image.tag {
        check_into(
            out,
            Code::InvalidValue,
            &join(base, "image.tag"),
            tag,
            rules::check_image_tag,
        );
    }
    if let Some(digest) = &image.digest {
        check_into(
            out,
            Code::InvalidValue,
            &join(base, "image.digest"),
            digest,
            rules::check_image_digest,
        );
    }
}

/// `extraEnv`: every variable checked; `allowUnknownEnv` only with some.
fn check_extra_env(
    w: &file::WorkloadFile,
    reads_mailu_env: bool,
    base: &str,
    out: &mut Vec<Diagnostic>,
) {
    for (var, value) in &w.extra_env {
        let path = join(&join(base, "extraEnv"), var);
        let mailu_checked = reads_mailu_env && !w.allow_unknown_env;
        if check_extra_env_name(var, &path, mailu_checked, out) {
            extra_env_value(var, value, &path, out);
        }
    }
    if w.allow_unknown_env && w.extra_env.is_empty() {
        out.push(err(
            Code::InvalidValue,
            &join(base, "allowUnknownEnv"),
            "set without `extraEnv`",
            "remove it",
        ));
    }
}

/// An `extraEnv` name: well formed, not one mailu-k8s sets, and (`mailu_checked`) one Mailu
/// reads. `false` after reporting it.
fn check_extra_env_name(
    var: &str,
    path: &str,
    mailu_checked: bool,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let well_formed = var.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && var
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        out.push(
            err(
                Code::InvalidValue,
                path,
                format!("`{var}` is not an environment variable name"),
                "use upper-case letters, digits and `_`",
            )
            .with_value(var),
        );
        return false;
    }
    if let Some(key) = mailu_env::managed_by(var) {
        out.push(
            err(
                Code::InvalidValue,
                path,
                format!("`{var}` is set by mailu-k8s"),
                format!("set it through `{key}`"),
            )
            .with_value(var),
        );
        return false;
    }
    if mailu_checked && !mailu_env::is_mailu_env(var) {
        let hint = mailu_env::known_mistake(var).map(str::to_owned).unwrap_or_else(|| match crate::structure::did_you_mean(var, mailu_env::MAILU_ENV.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? (set `allowUnknownEnv: true` for variables of newer Mailu images)"),
            None => "Mailu 2024.06 never reads it; set `allowUnknownEnv: true` if your image does".to_owned(),
        });
        out.push(
            err(
                Code::UnknownKey,
                path,
                format!("Mailu does not read `{var}`"),
                hint,
            )
            .with_value(var),
        );
        return false;
    }
    true
}

/// `overrides`: only for the components that read them, each a usable file name.
fn check_overrides(w: &file::WorkloadFile, name: &str, base: &str, out: &mut Vec<Diagnostic>) {
    if !w.overrides.is_empty() && !OVERRIDE_READERS.contains(&name) {
        out.push(err(
            Code::InvalidValue,
            &join(base, "overrides"),
            format!("`{name}` does not read override files"),
            format!("overrides apply to {}", OVERRIDE_READERS.join(", ")),
        ));
    }
    for file_name in w.overrides.keys() {
        if let Err(p) = rules::check_secret_key(file_name) {
            out.push(
                err(
                    Code::InvalidValue,
                    &join(&join(base, "overrides"), file_name),
                    format!("`{file_name}` is not a usable file name"),
                    p.hint,
                )
                .with_value(file_name),
            );
        }
    }
}

/// `serviceAnnotations`/`serviceLabels`: only for workloads with a Service, and valid.
fn check_service_metadata(
    w: &file::WorkloadFile,
    name: &str,
    base: &str,
    out: &mut Vec<Diagnostic>,
) {
    for (key, given) in [
        ("serviceAnnotations", !w.service_annotations.is_empty()),
        ("serviceLabels", !w.service_labels.is_empty()),
    ] {
        if given && WITHOUT_SERVICE.contains(&name) {
            out.push(err(
                Code::InvalidValue,
                &join(base, key),
                format!("`{name}` listens on nothing and has no Service"),
                "remove it; `annotations` and `labels` apply to the pods",
            ));
        }
    }
    check_annotations(
        &w.service_annotations,
        &join(base, "serviceAnnotations"),
        out,
    );
    check_labels(&w.service_labels, &join(base, "serviceLabels"), out);
}

/// One workload's settings: its own, each pod setting falling back to `pods` (`global`).
fn workload_settings(
    global: &file::PodsFile,
    w: &file::WorkloadFile,
    replicas: u32,
) -> WorkloadSettings {
    let pod = &w.pod;
    let mut pod_annotations = global.annotations.clone();
    pod_annotations.extend(pod.annotations.clone());
    let mut pod_labels = global.labels.clone();
    pod_labels.extend(pod.labels.clone());
    WorkloadSettings {
        replicas,
        image_repository: w.image.as_ref().and_then(|i| i.repository.clone()),
        image_tag: w.image.as_ref().and_then(|i| i.tag.clone()),
        image_digest: w.image.as_ref().and_then(|i| i.digest.clone()),
        pull_policy: w.image.as_ref().and_then(|i| i.pull_policy),
        log_level: w.log_level,
        node_selector: pod
            .node_selector
            .clone()
            .or_else(|| global.node_selector.clone())
            .unwrap_or_default(),
        tolerations: pod
            .tolerations
            .clone()
            .or_else(|| global.tolerations.clone())
            .unwrap_or_default(),
        affinity: pod
            .affinity
            .as_ref()
            .or(global.affinity.as_ref())
            .and_then(checked_kubernetes_value),
        topology_spread: pod
            .topology_spread_constraints
            .as_ref()
            .or(global.topology_spread_constraints.as_ref())
            .map(|list| list.iter().map(topology_spread).collect())
            .unwrap_or_default(),
        priority_class_name: pod
            .priority_class_name
            .clone()
            .or_else(|| global.priority_class_name.clone()),
        pod_annotations,
        pod_labels,
        service_annotations: w.service_annotations.clone(),
        service_labels: w.service_labels.clone(),
        extra_env: w
            .extra_env
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), checked_extra_env(v)?)))
            .collect(),
        overrides: w.overrides.clone(),
        security_context: w
            .security_context
            .as_ref()
            .and_then(checked_kubernetes_value),
    }
}

/// More than one replica: only where Mailu supports it, and only with storage that allows it.
fn check_replicas(file: &ConfigFile, name: &str, path: &str, out: &mut Vec<Diagnostic>) {
    if let Some(reason) = single_replica_reason(name) {
        out.push(err(
            Code::InvalidValue,
            path,
            format!("`{name}` runs one replica only"),
            reason,
        ));
        return;
    }
    let shared = |v: &Option<file::VolumeFile>| {
        v.as_ref().is_some_and(|v| {
            v.existing_claim.is_none()
                && v.access_modes
                    .as_ref()
                    .is_some_and(|m| m.contains(&file::AccessMode::ReadWriteMany))
        })
    };
    match name {
        "admin" => {
            let postgres = file
                .database
                .as_ref()
                .is_some_and(|d| d.kind == file::DatabaseKind::Postgresql);
            if !postgres || !shared(&file.storage.admin) {
                out.push(err(
                    Code::MissingDependency,
                    path,
                    "several admins need PostgreSQL and a shared volume for the DKIM keys",
                    "set `database.type: postgresql` and `storage.admin.accessModes: [ReadWriteMany]`",
                ));
            }
        }
        "webmail" => {
            let db_ok = file.mailu.webmail_type == WebmailType::Snappymail
                || file.webmail.roundcube_database.is_some();
            if !db_ok || !shared(&file.storage.webmail) {
                out.push(err(
                    Code::MissingDependency,
                    path,
                    "several webmails need a shared volume, and Roundcube its database on PostgreSQL",
                    "set `storage.webmail.accessModes: [ReadWriteMany]` and, for Roundcube, `webmail.roundcubeDatabase`",
                ));
            }
        }
        "front" => {
            let ex = &file.exposure;
            let certbot = matches!(
                file.tls.flavor,
                Some(TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt)
            );
            if ex.daemon_set.is_some() {
                out.push(err(
                    Code::InvalidValue,
                    path,
                    "front runs as a DaemonSet: one pod per selected node",
                    "remove `replicas`; label more nodes instead",
                ));
            } else if ex.host_port {
                out.push(err(
                    Code::InvalidValue,
                    path,
                    "hostPorts bind once per node, so extra replicas could not start beside each other",
                    "use `exposure.daemonSet` for one front per node",
                ));
            } else if certbot {
                out.push(err(
                    Code::InvalidValue,
                    path,
                    "the letsencrypt flavors keep certbot's state on one volume",
                    "use cert-manager (`tls.certificate`) with `flavor: cert` or `mail`",
                ));
            }
        }
        _ => {}
    }
}

fn check_pods(p: &file::PodsFile, base: &str, out: &mut Vec<Diagnostic>) {
    if let Some(sel) = &p.node_selector {
        check_labels(sel, &join(base, "nodeSelector"), out);
    }
    check_annotations(&p.annotations, &join(base, "annotations"), out);
    check_labels(&p.labels, &join(base, "labels"), out);
    check_no_reserved_labels(p, base, out);
    if let Some(name) = &p.priority_class_name {
        check_into(
            out,
            Code::InvalidKubernetesName,
            &join(base, "priorityClassName"),
            name,
            rules::check_dns1123_subdomain,
        );
    }
    check_tolerations(p, base, out);
    if let Some(affinity) = &p.affinity {
        check_kubernetes_value::<Affinity>(
            affinity,
            &join(base, "affinity"),
            "Affinity",
            "pod.spec.affinity",
            out,
        );
    }
    check_topology_spread_constraints(p, base, out);
}

/// No `app.kubernetes.io/` labels: mailu-k8s sets them, and Deployments select on them.
fn check_no_reserved_labels(p: &file::PodsFile, base: &str, out: &mut Vec<Diagnostic>) {
    for key in p.labels.keys() {
        if key.starts_with("app.kubernetes.io/") {
            out.push(
                err(
                    Code::InvalidValue,
                    &join(&join(base, "labels"), key),
                    "`app.kubernetes.io/` labels are set by mailu-k8s (Deployments select on them)",
                    "use a label of your own prefix",
                )
                .with_value(key),
            );
        }
    }
}

/// `tolerations`: `Exists` without a value, `Equal` with a key, `tolerationSeconds` only for
/// `NoExecute`.
fn check_tolerations(p: &file::PodsFile, base: &str, out: &mut Vec<Diagnostic>) {
    for (i, t) in p.tolerations.iter().flatten().enumerate() {
        let path = format!("{}[{i}]", join(base, "tolerations"));
        match (t.operator, &t.key, &t.value) {
            (Some(TolerationOperator::Exists), _, Some(_)) => out.push(err(
                Code::InvalidValue,
                &path,
                "`operator: Exists` takes no `value`",
                "remove `value`, or use `operator: Equal`",
            )),
            (Some(TolerationOperator::Equal) | None, None, _) => out.push(err(
                Code::MissingKey,
                &path,
                "an `Equal` toleration needs a `key`",
                "add `key`, or use `operator: Exists` to tolerate every taint",
            )),
            _ => {}
        }
        if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
            out.push(err(
                Code::InvalidValue,
                &path,
                "`tolerationSeconds` applies only to `effect: NoExecute`",
                "set `effect: NoExecute`, or remove `tolerationSeconds`",
            ));
        }
    }
}

/// `topologySpreadConstraints`: a label selector Kubernetes reads, a node label key.
fn check_topology_spread_constraints(p: &file::PodsFile, base: &str, out: &mut Vec<Diagnostic>) {
    for (i, c) in p.topology_spread_constraints.iter().flatten().enumerate() {
        let path = format!("{}[{i}]", join(base, "topologySpreadConstraints"));
        if let Some(selector) = &c.label_selector {
            check_kubernetes_value::<LabelSelector>(
                selector,
                &join(&path, "labelSelector"),
                "LabelSelector",
                "pod.spec.topologySpreadConstraints.labelSelector",
                out,
            );
        }
        if !check_key(&c.topology_key) {
            out.push(
                err(
                    Code::InvalidValue,
                    &join(&path, "topologyKey"),
                    format!("`{}` is not a node label key", c.topology_key),
                    "e.g. `kubernetes.io/hostname` or `topology.kubernetes.io/zone`",
                )
                .with_value(&c.topology_key),
            );
        }
    }
}

/// A value passed to Kubernetes as written (`affinity`, a `labelSelector`) must read as the
/// Kubernetes type `what` and keep every part it gives: the typed objects drop unknown fields
/// silently, and Kubernetes would refuse them.
fn check_kubernetes_value<T: DeserializeOwned + Serialize>(
    given: &serde_json::Map<String, Value>,
    path: &str,
    what: &str,
    explain: &str,
    out: &mut Vec<Diagnostic>,
) {
    let given = Value::Object(given.clone());
    let kept = match serde_json::from_value::<T>(given.clone()).map(|t| serde_json::to_value(&t)) {
        Ok(Ok(kept)) => kept,
        Ok(Err(e)) | Err(e) => {
            out.push(err(
                Code::WrongType,
                path,
                format!("not a Kubernetes `{what}`: {e}"),
                format!("see `kubectl explain {explain}`"),
            ));
            return;
        }
    };
    if let Some(at) = first_difference(&given, &kept, path) {
        out.push(err(
            Code::UnknownKey,
            &at,
            format!("not a field of a Kubernetes `{what}`, or empty"),
            format!("remove it; see `kubectl explain {explain}`"),
        ));
    }
}

/// The typed value of something [`check_kubernetes_value`] accepted.
fn checked_kubernetes_value<T: DeserializeOwned>(
    given: &serde_json::Map<String, Value>,
) -> Option<T> {
    serde_json::from_value(Value::Object(given.clone())).ok()
}

/// The path of the first part of `given` that `kept` lacks or holds differently.
fn first_difference(given: &Value, kept: &Value, path: &str) -> Option<String> {
    match (given, kept) {
        (Value::Object(g), Value::Object(k)) => g.iter().find_map(|(key, v)| match k.get(key) {
            Some(kv) => first_difference(v, kv, &join(path, key)),
            None => Some(join(path, key)),
        }),
        (Value::Array(g), Value::Array(k)) if g.len() == k.len() => g
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (g, k))| first_difference(g, k, &format!("{path}[{i}]"))),
        _ => (given != kept).then(|| path.to_owned()),
    }
}

fn topology_spread(t: &file::TopologySpreadFile) -> TopologySpread {
    TopologySpread {
        max_skew: t.max_skew,
        topology_key: t.topology_key.clone(),
        when_unsatisfiable: t.when_unsatisfiable,
        label_selector: t.label_selector.as_ref().and_then(checked_kubernetes_value),
    }
}

/// Annotation and label keys: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_`, `.`.
pub(crate) fn check_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    name_ok && prefix.is_none_or(|p| rules::check_dns1123_subdomain(p).is_ok())
}

pub(crate) fn check_annotations(
    map: &BTreeMap<String, String>,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    for key in map.keys() {
        if !check_key(key) {
            out.push(err(
                Code::InvalidKubernetesName,
                &join(path, key),
                format!("`{key}` is not a valid annotation key"),
                "use `prefix/name` with a DNS prefix and a name of letters, digits, `-`, `_`, `.`",
            ).with_value(key));
        }
    }
}

pub(crate) fn check_labels(map: &BTreeMap<String, String>, path: &str, out: &mut Vec<Diagnostic>) {
    for (key, value) in map {
        let value_ok = value.len() <= 63
            && (value.is_empty()
                || (value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && value.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))));
        if !check_key(key) || !value_ok {
            out.push(
                err(
                    Code::InvalidKubernetesName,
                    &join(path, key),
                    format!("`{key}: {value}` is not a valid label"),
                    "keys are `prefix/name`, values at most 63 letters, digits, `-`, `_`, `.`",
                )
                .with_value(format!("{key}={value}")),
            );
        }
    }
}

/// Checks one `extraEnv` value: a reference names exactly one Secret or ConfigMap key; text must
/// not hand out Mailu's trust or carry a secret.
fn extra_env_value(var: &str, value: &file::ExtraEnvFile, path: &str, out: &mut Vec<Diagnostic>) {
    let r = match value {
        file::ExtraEnvFile::Text(text) => {
            if let Some((message, hint)) = mailu_env::dangerous(var, text) {
                out.push(err(Code::InvalidValue, path, message, hint).with_value(text));
            }
            return;
        }
        file::ExtraEnvFile::Reference(r) => r,
    };
    let (kind, key_ref) = match (&r.secret_key_ref, &r.config_map_key_ref) {
        (Some(k), None) => ("secretKeyRef", k),
        (None, Some(k)) => ("configMapKeyRef", k),
        _ => {
            out.push(err(
                Code::InvalidValue,
                path,
                "give exactly one of `secretKeyRef` and `configMapKeyRef`",
                "e.g. `{secretKeyRef: {name: mailu-recaptcha, key: private-key}}`",
            ));
            return;
        }
    };
    let base = join(path, kind);
    check_into(
        out,
        Code::InvalidKubernetesName,
        &join(&base, "name"),
        &key_ref.name,
        rules::check_dns1123_subdomain,
    );
    check_into(
        out,
        Code::InvalidValue,
        &join(&base, "key"),
        &key_ref.key,
        rules::check_data_key,
    );
}

/// The model's form of an `extraEnv` value [`extra_env_value`] accepted.
fn checked_extra_env(value: &file::ExtraEnvFile) -> Option<ExtraEnv> {
    Some(match value {
        file::ExtraEnvFile::Text(t) => ExtraEnv::Text(t.clone()),
        file::ExtraEnvFile::Reference(r) => match (&r.secret_key_ref, &r.config_map_key_ref) {
            (Some(k), None) => ExtraEnv::Secret {
                name: k.name.clone(),
                key: k.key.clone(),
            },
            (None, Some(k)) => ExtraEnv::ConfigMap {
                name: k.name.clone(),
                key: k.key.clone(),
            },
            _ => return None,
        },
    })
}
