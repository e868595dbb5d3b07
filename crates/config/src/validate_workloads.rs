//! Validation of `pods` and `workloads`: replicas only where Mailu supports them, scheduling,
//! metadata, extra environment and override files.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, SecurityContext};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::check::Checker;
use crate::component::Component;
use crate::diagnostic::Code;
use crate::file::{self, ConfigFile, TaintEffect, TlsFlavor, TolerationOperator, WebmailType};
use crate::leaf::Parsed;
use crate::mailu_env;
use crate::model::*;
use crate::rules;

/// Whether `component` runs with this file (the topology decides the same from the validated
/// config; a topology test ties the two).
pub fn runs(file: &ConfigFile, component: Component) -> bool {
    let k = &file.components;
    match component {
        Component::Front
        | Component::Admin
        | Component::Postfix
        | Component::Dovecot
        | Component::Rspamd => true,
        Component::Redis => file.redis.is_none(),
        Component::Webmail => k.webmail,
        Component::Clamav => k.clamav,
        Component::Fetchmail => k.fetchmail,
        Component::Webdav => k.webdav,
        Component::Oletools => k.oletools,
        Component::Tika => k.tika,
        Component::Resolver => k.resolver.unwrap_or(true),
    }
}

/// Validates `pods`, `images.pullSecrets` and every `workloads.<name>`: each workload's
/// settings merged over `pods`, by name; `None` after a finding.
pub(crate) fn validate_workloads(
    c: &mut Checker,
    file: &ConfigFile,
) -> Option<BTreeMap<&'static str, WorkloadSettings>> {
    let mark = c.mark();
    c.field("pods", |c| check_pods(c, &file.pods));
    c.fields(&["images", "pullSecrets"], |c| {
        for (i, secret) in file.images.pull_secrets.iter().enumerate() {
            c.index(i, |c| c.leaf(Code::InvalidKubernetesName, secret));
        }
    });
    let all = c.field("workloads", |c| {
        let workloads = Component::ALL.into_iter();
        workloads
            .map(|k| (k.name(), c.field(k.name(), |c| workload(c, file, k))))
            .collect()
    });
    (!c.errors_since(mark)).then_some(all)
}

/// `workloads.<name>` (at that path): every rule for one workload, then its settings merged with
/// `pods`.
fn workload(c: &mut Checker, file: &ConfigFile, component: Component) -> WorkloadSettings {
    let name = component.name();
    let given = file.workloads.workload(component);
    if given.is_some() && !runs(file, component) {
        c.error(
            Code::MissingDependency,
            format!("settings for `{name}`, which does not run"),
            if component == Component::Redis {
                "the bundled Redis runs only without an external `redis`; remove this entry"
                    .to_owned()
            } else {
                format!("set `components.{name}: true`, or remove this entry")
            },
        );
    }
    let w = given.cloned().unwrap_or_default();
    check_pods(c, &w.pod);
    let replicas = w.replicas.map_or(1, |r| r.get());
    if replicas > 1 {
        c.field("replicas", |c| check_replicas(c, file, component));
    }
    if let Some(image) = &w.image {
        c.field("image", |c| check_image(c, image));
    }
    if let Some(sc) = &w.security_context {
        c.field("securityContext", |c| {
            let explain = "pod.spec.containers.securityContext";
            check_kubernetes_value::<SecurityContext>(c, sc, "SecurityContext", explain);
        });
    }
    let reads_mailu_env = component.is_mailu();
    if w.log_level.is_some() && !reads_mailu_env {
        c.field("logLevel", |c| {
            c.error(
                Code::InvalidValue,
                format!("`{name}` does not read Mailu's `LOG_LEVEL`"),
                "remove it; configure the image's own logging through `extraEnv`",
            );
        });
    }
    check_extra_env(c, &w, reads_mailu_env);
    check_overrides(c, &w, component);
    check_service_metadata(c, &w, component);
    workload_settings(&file.pods, &w, replicas)
}

/// `image` (at that path): a repository name without tag, a valid tag and digest.
fn check_image(c: &mut Checker, image: &file::ImageFile) {
    if let Some(repo) = &image.repository {
        c.leaf_field("repository", Code::InvalidValue, repo);
    }
    if let Some(tag) = &image.tag {
        c.leaf_field("tag", Code::InvalidValue, tag);
    }
    if let Some(digest) = &image.digest {
        c.leaf_field("digest", Code::InvalidValue, digest);
    }
}

/// `extraEnv`: every variable checked; `allowUnknownEnv` only with some.
fn check_extra_env(c: &mut Checker, w: &file::WorkloadFile, reads_mailu_env: bool) {
    let mailu_checked = reads_mailu_env && !w.allow_unknown_env;
    c.field("extraEnv", |c| {
        for (var, value) in &w.extra_env {
            c.field(var, |c| {
                if check_extra_env_name(c, var, mailu_checked) {
                    extra_env_value(c, var, value);
                }
            });
        }
    });
    if w.allow_unknown_env && w.extra_env.is_empty() {
        c.field("allowUnknownEnv", |c| {
            c.error(Code::InvalidValue, "set without `extraEnv`", "remove it");
        });
    }
}

/// An `extraEnv` name (at its path): well formed, not one mailu-k8s sets, and (`mailu_checked`)
/// one Mailu reads. `false` after reporting it.
fn check_extra_env_name(c: &mut Checker, var: &str, mailu_checked: bool) -> bool {
    let well_formed = var.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && var
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        c.error(
            Code::InvalidValue,
            format!("`{var}` is not an environment variable name"),
            "use upper-case letters, digits and `_`",
        )
        .value(var);
        return false;
    }
    if let Some(key) = mailu_env::managed_by(var) {
        c.error(
            Code::InvalidValue,
            format!("`{var}` is set by mailu-k8s"),
            format!("set it through `{key}`"),
        )
        .value(var);
        return false;
    }
    if mailu_checked && !mailu_env::is_mailu_env(var) {
        c.error(
            Code::UnknownKey,
            format!("Mailu does not read `{var}`"),
            unknown_env_hint(var),
        )
        .value(var);
        return false;
    }
    true
}

/// How to fix a variable Mailu does not read: a known mistake, a near name, or the way out.
fn unknown_env_hint(var: &str) -> String {
    if let Some(hint) = mailu_env::known_mistake(var) {
        return hint.to_owned();
    }
    match crate::structure::did_you_mean(var, mailu_env::MAILU_ENV.iter().copied()) {
        Some(best) => format!(
            "did you mean `{best}`? (set `allowUnknownEnv: true` for variables of newer Mailu images)"
        ),
        None => "Mailu 2024.06 never reads it; set `allowUnknownEnv: true` if your image does"
            .to_owned(),
    }
}

/// `overrides`: only for the components that read them, each a usable file name.
fn check_overrides(c: &mut Checker, w: &file::WorkloadFile, component: Component) {
    c.field("overrides", |c| {
        if !w.overrides.is_empty() && component.overrides().is_none() {
            let readers = Component::ALL
                .into_iter()
                .filter(|k| k.overrides().is_some());
            let readers: Vec<&str> = readers.map(Component::name).collect();
            c.error(
                Code::InvalidValue,
                format!("`{}` does not read override files", component.name()),
                format!("overrides apply to {}", readers.join(", ")),
            );
        }
        for file_name in w.overrides.keys() {
            if let Err(p) = rules::check_secret_key(file_name) {
                c.field(file_name, |c| {
                    c.error(
                        Code::InvalidValue,
                        format!("`{file_name}` is not a usable file name"),
                        p.hint,
                    )
                    .value(file_name);
                });
            }
        }
    });
}

/// `serviceAnnotations`/`serviceLabels`: only for workloads with a Service, and valid.
fn check_service_metadata(c: &mut Checker, w: &file::WorkloadFile, component: Component) {
    for (key, given) in [
        ("serviceAnnotations", !w.service_annotations.is_empty()),
        ("serviceLabels", !w.service_labels.is_empty()),
    ] {
        if given && !component.has_service() {
            c.field(key, |c| {
                c.error(
                    Code::InvalidValue,
                    format!(
                        "`{}` listens on nothing and has no Service",
                        component.name()
                    ),
                    "remove it; `annotations` and `labels` apply to the pods",
                );
            });
        }
    }
    c.field("serviceAnnotations", |c| {
        c.annotations(&w.service_annotations)
    });
    c.field("serviceLabels", |c| c.labels(&w.service_labels));
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
        image_repository: w.image.as_ref().and_then(|i| raw(&i.repository)),
        image_tag: w.image.as_ref().and_then(|i| raw(&i.tag)),
        image_digest: w.image.as_ref().and_then(|i| raw(&i.digest)),
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
        priority_class_name: raw(&pod.priority_class_name)
            .or_else(|| raw(&global.priority_class_name)),
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

/// `replicas` (at that path) above one: only where Mailu supports it, and only with storage that
/// allows it.
fn check_replicas(c: &mut Checker, file: &ConfigFile, component: Component) {
    if let Some(reason) = component.single_replica_reason() {
        c.error(
            Code::InvalidValue,
            format!("`{}` runs one replica only", component.name()),
            reason,
        );
        return;
    }
    match component {
        Component::Admin => check_admin_replicas(c, file),
        Component::Webmail => check_webmail_replicas(c, file),
        Component::Front => check_front_replicas(c, file),
        _ => {}
    }
}

/// Whether a volume is shared between replicas: `ReadWriteMany`, not an existing claim.
fn shared(v: &Option<file::VolumeFile>) -> bool {
    v.as_ref().is_some_and(|v| {
        v.existing_claim.is_none()
            && v.access_modes
                .as_ref()
                .is_some_and(|m| m.contains(&file::AccessMode::ReadWriteMany))
    })
}

/// Several admins share the database (PostgreSQL) and the DKIM keys' volume.
fn check_admin_replicas(c: &mut Checker, file: &ConfigFile) {
    let postgres = file
        .database
        .as_ref()
        .is_some_and(|d| d.kind == file::DatabaseKind::Postgresql);
    if !postgres || !shared(&file.storage.admin) {
        c.error(
            Code::MissingDependency,
            "several admins need PostgreSQL and a shared volume for the DKIM keys",
            "set `database.type: postgresql` and `storage.admin.accessModes: [ReadWriteMany]`",
        );
    }
}

/// Several webmails share a volume, and Roundcube's database.
fn check_webmail_replicas(c: &mut Checker, file: &ConfigFile) {
    let db_ok = file.mailu.webmail_type == WebmailType::Snappymail
        || file.webmail.roundcube_database.is_some();
    if !db_ok || !shared(&file.storage.webmail) {
        c.error(
            Code::MissingDependency,
            "several webmails need a shared volume, and Roundcube its database on PostgreSQL",
            "set `storage.webmail.accessModes: [ReadWriteMany]` and, for Roundcube, `webmail.roundcubeDatabase`",
        );
    }
}

/// Several fronts: not as a DaemonSet, not on hostPorts, not with certbot's one volume.
fn check_front_replicas(c: &mut Checker, file: &ConfigFile) {
    let ex = &file.exposure;
    let certbot = matches!(
        file.tls.flavor,
        Some(TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt)
    );
    if ex.daemon_set.is_some() {
        c.error(
            Code::InvalidValue,
            "front runs as a DaemonSet: one pod per selected node",
            "remove `replicas`; label more nodes instead",
        );
    } else if ex.host_port {
        c.error(
            Code::InvalidValue,
            "hostPorts bind once per node, so extra replicas could not start beside each other",
            "use `exposure.daemonSet` for one front per node",
        );
    } else if certbot {
        c.error(
            Code::InvalidValue,
            "the letsencrypt flavors keep certbot's state on one volume",
            "use cert-manager (`tls.certificate`) with `flavor: cert` or `mail`",
        );
    }
}

/// Pod settings at the current path (`pods`, or a workload's own).
fn check_pods(c: &mut Checker, p: &file::PodsFile) {
    if let Some(sel) = &p.node_selector {
        c.field("nodeSelector", |c| c.labels(sel));
    }
    c.field("annotations", |c| c.annotations(&p.annotations));
    c.field("labels", |c| {
        c.labels(&p.labels);
        check_no_reserved_labels(c, p);
    });
    if let Some(name) = &p.priority_class_name {
        c.leaf_field("priorityClassName", Code::InvalidKubernetesName, name);
    }
    c.field("tolerations", |c| check_tolerations(c, p));
    if let Some(affinity) = &p.affinity {
        c.field("affinity", |c| {
            check_kubernetes_value::<Affinity>(c, affinity, "Affinity", "pod.spec.affinity");
        });
    }
    c.field("topologySpreadConstraints", |c| {
        check_topology_spread_constraints(c, p);
    });
}

/// No `app.kubernetes.io/` labels: mailu-k8s sets them, and Deployments select on them.
fn check_no_reserved_labels(c: &mut Checker, p: &file::PodsFile) {
    for key in p.labels.keys() {
        if key.starts_with("app.kubernetes.io/") {
            c.field(key, |c| {
                c.error(
                    Code::InvalidValue,
                    "`app.kubernetes.io/` labels are set by mailu-k8s (Deployments select on them)",
                    "use a label of your own prefix",
                )
                .value(key);
            });
        }
    }
}

/// `tolerations`: `Exists` without a value, `Equal` with a key, `tolerationSeconds` only for
/// `NoExecute`.
fn check_tolerations(c: &mut Checker, p: &file::PodsFile) {
    for (i, t) in p.tolerations.iter().flatten().enumerate() {
        c.index(i, |c| {
            match (t.operator, &t.key, &t.value) {
                (Some(TolerationOperator::Exists), _, Some(_)) => {
                    c.error(
                        Code::InvalidValue,
                        "`operator: Exists` takes no `value`",
                        "remove `value`, or use `operator: Equal`",
                    );
                }
                (Some(TolerationOperator::Equal) | None, None, _) => {
                    c.error(
                        Code::MissingKey,
                        "an `Equal` toleration needs a `key`",
                        "add `key`, or use `operator: Exists` to tolerate every taint",
                    );
                }
                _ => {}
            }
            if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
                c.error(
                    Code::InvalidValue,
                    "`tolerationSeconds` applies only to `effect: NoExecute`",
                    "set `effect: NoExecute`, or remove `tolerationSeconds`",
                );
            }
        });
    }
}

/// `topologySpreadConstraints`: a label selector Kubernetes reads, a node label key.
fn check_topology_spread_constraints(c: &mut Checker, p: &file::PodsFile) {
    for (i, t) in p.topology_spread_constraints.iter().flatten().enumerate() {
        c.index(i, |c| {
            if let Some(selector) = &t.label_selector {
                c.field("labelSelector", |c| {
                    let explain = "pod.spec.topologySpreadConstraints.labelSelector";
                    check_kubernetes_value::<LabelSelector>(c, selector, "LabelSelector", explain);
                });
            }
            if !rules::is_label_key(&t.topology_key) {
                c.field("topologyKey", |c| {
                    c.error(
                        Code::InvalidValue,
                        format!("`{}` is not a node label key", t.topology_key),
                        "e.g. `kubernetes.io/hostname` or `topology.kubernetes.io/zone`",
                    )
                    .value(&t.topology_key);
                });
            }
        });
    }
}

/// A value passed to Kubernetes as written (`affinity`, a `labelSelector`; at the current path)
/// must read as the Kubernetes type `what` and keep every part it gives: the typed objects drop
/// unknown fields silently, and Kubernetes would refuse them.
fn check_kubernetes_value<T: DeserializeOwned + Serialize>(
    c: &mut Checker,
    given: &serde_json::Map<String, Value>,
    what: &str,
    explain: &str,
) {
    let given = Value::Object(given.clone());
    let kept = match serde_json::from_value::<T>(given.clone()).map(|t| serde_json::to_value(&t)) {
        Ok(Ok(kept)) => kept,
        Ok(Err(e)) | Err(e) => {
            c.error(
                Code::WrongType,
                format!("not a Kubernetes `{what}`: {e}"),
                format!("see `kubectl explain {explain}`"),
            );
            return;
        }
    };
    if let Some(steps) = first_difference(&given, &kept) {
        at_steps(c, &steps, |c| {
            c.error(
                Code::UnknownKey,
                format!("not a field of a Kubernetes `{what}`, or empty"),
                format!("remove it; see `kubectl explain {explain}`"),
            );
        });
    }
}

/// The typed value of something [`check_kubernetes_value`] accepted.
fn checked_kubernetes_value<T: DeserializeOwned>(
    given: &serde_json::Map<String, Value>,
) -> Option<T> {
    serde_json::from_value(Value::Object(given.clone())).ok()
}

/// One step into a JSON value: a key or a list index.
enum Step {
    Key(String),
    Index(usize),
}

/// The steps to the first part of `given` that `kept` lacks or holds differently.
fn first_difference(given: &Value, kept: &Value) -> Option<Vec<Step>> {
    let (step, rest) = match (given, kept) {
        (Value::Object(g), Value::Object(k)) => g.iter().find_map(|(key, v)| {
            let rest = match k.get(key) {
                Some(kv) => first_difference(v, kv)?,
                None => Vec::new(),
            };
            Some((Step::Key(key.clone()), rest))
        })?,
        (Value::Array(g), Value::Array(k)) if g.len() == k.len() => g
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (g, k))| Some((Step::Index(i), first_difference(g, k)?)))?,
        _ => return (given != kept).then(Vec::new),
    };
    Some(std::iter::once(step).chain(rest).collect())
}

/// Runs `f` at `steps` below the current path.
fn at_steps(c: &mut Checker, steps: &[Step], f: impl FnOnce(&mut Checker)) {
    match steps.split_first() {
        None => f(c),
        Some((Step::Key(key), rest)) => c.field(key, |c| at_steps(c, rest, f)),
        Some((Step::Index(i), rest)) => c.index(*i, |c| at_steps(c, rest, f)),
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

/// Checks one `extraEnv` value (at its path): a reference names exactly one Secret or ConfigMap
/// key; text must not hand out Mailu's trust or carry a secret.
fn extra_env_value(c: &mut Checker, var: &str, value: &file::ExtraEnvFile) {
    let r = match value {
        file::ExtraEnvFile::Text(text) => {
            if let Some((message, hint)) = mailu_env::dangerous(var, text) {
                c.error(Code::InvalidValue, message, hint).value(text);
            }
            return;
        }
        file::ExtraEnvFile::Reference(r) => r,
    };
    let (kind, key_ref) = match (&r.secret_key_ref, &r.config_map_key_ref) {
        (Some(k), None) => ("secretKeyRef", k),
        (None, Some(k)) => ("configMapKeyRef", k),
        _ => {
            c.error(
                Code::InvalidValue,
                "give exactly one of `secretKeyRef` and `configMapKeyRef`",
                "e.g. `{secretKeyRef: {name: mailu-recaptcha, key: private-key}}`",
            );
            return;
        }
    };
    c.field(kind, |c| {
        c.leaf_field("name", Code::InvalidKubernetesName, &key_ref.name);
        c.leaf_field("key", Code::InvalidValue, &key_ref.key);
    });
}

/// The text of an optional leaf the validation accepted.
fn raw<T>(leaf: &Option<Parsed<T>>) -> Option<String> {
    leaf.as_ref().map(|l| l.raw().to_owned())
}

/// The model's form of an `extraEnv` value [`extra_env_value`] accepted.
fn checked_extra_env(value: &file::ExtraEnvFile) -> Option<ExtraEnv> {
    Some(match value {
        file::ExtraEnvFile::Text(t) => ExtraEnv::Text(t.clone()),
        file::ExtraEnvFile::Reference(r) => match (&r.secret_key_ref, &r.config_map_key_ref) {
            (Some(k), None) => ExtraEnv::Secret {
                name: k.name.raw().to_owned(),
                key: k.key.raw().to_owned(),
            },
            (None, Some(k)) => ExtraEnv::ConfigMap {
                name: k.name.raw().to_owned(),
                key: k.key.raw().to_owned(),
            },
            _ => return None,
        },
    })
}
