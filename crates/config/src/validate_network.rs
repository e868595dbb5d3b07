//! `networkPolicies`: who, outside Mailu's own pods, may reach them or be reached.

use crate::diagnostic::{Code, Diagnostic, join};
use crate::file::{ConfigFile, IngressKind, PeerFile};
use crate::model::{NetworkPolicies, Peer};
use crate::rules;
use crate::validate::check_into;
use crate::validate_workloads::check_labels;

/// Validates `networkPolicies`; `Some(None)` when they are off. `pod_cidrs` are `subnet` and
/// `subnet6` as written (validated elsewhere).
pub(crate) fn validate_network_policies(
    file: &ConfigFile,
    pod_cidrs: &[String],
    out: &mut Vec<Diagnostic>,
) -> Option<Option<NetworkPolicies>> {
    let n = &file.network_policies;
    if !n.enabled {
        out.push(
            Diagnostic::warning(
                Code::InvalidValue,
                "networkPolicies.enabled",
                "without NetworkPolicies every pod of the cluster can relay mail through Mailu, \
                 log into any mailbox without a password and read DKIM keys",
            )
            .with_hint("keep them on unless another mechanism isolates Mailu's pods"),
        );
        return Some(None);
    }
    let errors_before = out.iter().filter(|d| d.is_error()).count();
    for (i, cidr) in n.service_cidrs.iter().enumerate() {
        let path = format!("networkPolicies.serviceCidrs[{i}]");
        check_into(out, Code::InvalidCidr, &path, cidr, rules::check_cidr);
    }
    let cluster_dns = match &n.cluster_dns {
        Some(p) => peer(p, "networkPolicies.clusterDns", out),
        None => {
            out.push(missing(
                "networkPolicies.clusterDns",
                "the cluster DNS pods are needed (the resolver forwards the cluster domain)",
                "e.g. `{namespace: kube-system, podLabels: {k8s-app: kube-dns}}`",
            ));
            None
        }
    };
    let edge = edge(file, out);
    let submission_from: Vec<Option<Peer>> = n
        .submission_from
        .iter()
        .enumerate()
        .map(|(i, p)| peer(p, &format!("networkPolicies.submissionFrom[{i}]"), out))
        .collect();
    let external_db = file
        .database
        .as_ref()
        .is_some_and(|d| d.postgresql.is_some())
        || file.webmail.roundcube_database.is_some();
    let database = external(n.database.as_ref(), external_db, "database", out);
    let redis = external(n.redis.as_ref(), file.redis.is_some(), "redis", out);
    if out.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    let mut cluster_cidrs = pod_cidrs.to_vec();
    cluster_cidrs.extend(n.service_cidrs.iter().cloned());
    Some(Some(NetworkPolicies {
        cluster_cidrs,
        cluster_dns: cluster_dns?,
        edge: edge?,
        submission_from: submission_from.into_iter().collect::<Option<Vec<_>>>()?,
        database: database?,
        redis: redis?,
    }))
}

fn missing(path: &str, message: &str, hint: &str) -> Diagnostic {
    Diagnostic::error(Code::MissingDependency, path, message).with_hint(hint)
}

/// The ingress proxy's pods: given, or the default for the ingress type.
fn edge(file: &ConfigFile, out: &mut Vec<Diagnostic>) -> Option<Option<Peer>> {
    let path = "networkPolicies.edge";
    let ingress = file.ingress.as_ref().filter(|i| i.enabled.unwrap_or(true));
    let kind = ingress.map(|i| i.kind);
    if let Some(p) = &file.network_policies.edge {
        if matches!(kind, None | Some(IngressKind::None)) {
            out.push(
                Diagnostic::error(Code::InvalidValue, path, "no ingress forwards to front")
                    .with_hint("remove `networkPolicies.edge`, or configure `ingress`"),
            );
            return None;
        }
        return peer(p, path, out).map(Some);
    }
    match kind {
        None | Some(IngressKind::None) => Some(None),
        // The official Traefik Helm chart's namespace and labels.
        Some(IngressKind::Traefik) => Some(Some(Peer::Pods {
            namespace: "traefik".into(),
            pod_labels: [("app.kubernetes.io/name".into(), "traefik".into())].into(),
        })),
        Some(IngressKind::GatewayApi) => {
            // The Gateway's namespace defaults to Mailu's, as for the routes.
            let ns = ingress.and_then(|i| i.gateway_api.as_ref()).map(|g| {
                g.gateway_namespace
                    .clone()
                    .unwrap_or_else(|| file.namespace.clone())
            });
            match ns {
                Some(namespace) => Some(Some(Peer::Pods {
                    namespace,
                    pod_labels: Default::default(),
                })),
                None => Some(None),
            }
        }
        Some(IngressKind::Ingress) => {
            out.push(missing(
                path,
                "NetworkPolicies must know where the ingress controller's pods run",
                "e.g. `edge: {namespace: ingress-nginx, podLabels: {app.kubernetes.io/name: ingress-nginx}}`",
            ));
            None
        }
    }
}

/// An external service's location, required when the service is external.
fn external(
    given: Option<&PeerFile>,
    is_external: bool,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<Option<Peer>> {
    let path = join("networkPolicies", what);
    match (given, is_external) {
        (Some(p), true) => peer(p, &path, out).map(Some),
        (None, false) => Some(None),
        (Some(_), false) => {
            out.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    &path,
                    format!("no external {what} is configured"),
                )
                .with_hint(format!("remove `networkPolicies.{what}`")),
            );
            None
        }
        (None, true) => {
            out.push(missing(
                &path,
                &format!("the external {what} must be named: a NetworkPolicy cannot match a host name"),
                "give its address range (`cidrs: [10.0.5.0/24]`) or its pods (`namespace`, `podLabels`)",
            ));
            None
        }
    }
}

fn peer(p: &PeerFile, path: &str, out: &mut Vec<Diagnostic>) -> Option<Peer> {
    match (&p.namespace, p.cidrs.is_empty()) {
        (Some(ns), true) => {
            let ns_path = join(path, "namespace");
            let namespace = check_into(out, Code::InvalidKubernetesName, &ns_path, ns, |v| {
                rules::check_dns1123_label(v).map(|()| v.to_owned())
            })?;
            let errors = out.len();
            check_labels(&p.pod_labels, &join(path, "podLabels"), out);
            (out.len() == errors).then(|| Peer::Pods {
                namespace,
                pod_labels: p.pod_labels.clone(),
            })
        }
        (None, false) if p.pod_labels.is_empty() => {
            let mut ok = true;
            for (i, cidr) in p.cidrs.iter().enumerate() {
                let c_path = format!("{path}.cidrs[{i}]");
                ok &=
                    check_into(out, Code::InvalidCidr, &c_path, cidr, rules::check_cidr).is_some();
            }
            ok.then(|| Peer::Cidrs(p.cidrs.clone()))
        }
        _ => {
            out.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    path,
                    "give either `cidrs`, or a `namespace` with optional `podLabels`",
                )
                .with_hint("a peer is pods in the cluster or networks outside it, not both"),
            );
            None
        }
    }
}
