//! `networkPolicies`: who, outside Mailu's own pods, may reach them or be reached.

use crate::check::Checker;
use crate::diagnostic::Code;
use crate::file::{ConfigFile, IngressKind, PeerFile};
use crate::leaf::Parsed;
use crate::model::{NetworkPolicies, Peer};

/// Validates `networkPolicies`; `Some(None)` when they are off. `pod_cidrs` are `subnet` and
/// `subnet6` as written (validated elsewhere).
pub(crate) fn validate_network_policies(
    c: &mut Checker,
    file: &ConfigFile,
    pod_cidrs: &[String],
) -> Option<Option<NetworkPolicies>> {
    c.field("networkPolicies", |c| network_policies(c, file, pod_cidrs))
}

fn network_policies(
    c: &mut Checker,
    file: &ConfigFile,
    pod_cidrs: &[String],
) -> Option<Option<NetworkPolicies>> {
    let n = &file.network_policies;
    if !n.enabled {
        c.field("enabled", |c| {
            c.warning(
                Code::InvalidValue,
                "without NetworkPolicies every pod of the cluster can relay mail through Mailu, \
                 log into any mailbox without a password and read DKIM keys",
                "keep them on unless another mechanism isolates Mailu's pods",
            );
        });
        return Some(None);
    }
    let mark = c.mark();
    c.field("serviceCidrs", |c| {
        for (i, cidr) in n.service_cidrs.iter().enumerate() {
            c.index(i, |c| c.leaf(Code::InvalidCidr, cidr));
        }
    });
    let cluster_dns = c.field("clusterDns", |c| match &n.cluster_dns {
        Some(p) => peer(c, p),
        None => {
            c.error(
                Code::MissingDependency,
                "the cluster DNS pods are needed (the resolver forwards the cluster domain)",
                "e.g. `{namespace: kube-system, podLabels: {k8s-app: kube-dns}}`",
            );
            None
        }
    });
    let edge = c.field("edge", |c| edge(c, file));
    let submission_from: Vec<Option<Peer>> = c.field("submissionFrom", |c| {
        let peers = n.submission_from.iter().enumerate();
        peers.map(|(i, p)| c.index(i, |c| peer(c, p))).collect()
    });
    let external_db = file
        .database
        .as_ref()
        .is_some_and(|d| d.postgresql.is_some())
        || file.webmail.roundcube_database.is_some();
    let database = external(c, n.database.as_ref(), external_db, "database");
    let redis = external(c, n.redis.as_ref(), file.redis.is_some(), "redis");
    if c.errors_since(mark) {
        return None;
    }
    let mut cluster_cidrs = pod_cidrs.to_vec();
    cluster_cidrs.extend(n.service_cidrs.iter().map(|n| n.raw().to_owned()));
    Some(Some(NetworkPolicies {
        cluster_cidrs,
        cluster_dns: cluster_dns?,
        edge: edge?,
        submission_from: submission_from.into_iter().collect::<Option<Vec<_>>>()?,
        database: database?,
        redis: redis?,
    }))
}

/// `networkPolicies.edge`, the ingress proxy's pods: given, or the default for the ingress type.
fn edge(c: &mut Checker, file: &ConfigFile) -> Option<Option<Peer>> {
    let ingress = file.ingress.as_ref().filter(|i| i.enabled.unwrap_or(true));
    let kind = ingress.map(|i| i.kind);
    if let Some(p) = &file.network_policies.edge {
        if matches!(kind, None | Some(IngressKind::None)) {
            c.error(
                Code::InvalidValue,
                "no ingress forwards to front",
                "remove `networkPolicies.edge`, or configure `ingress`",
            );
            return None;
        }
        return peer(c, p).map(Some);
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
                let given = g.gateway_namespace.as_ref().map(Parsed::raw);
                given.unwrap_or(file.namespace.raw()).to_owned()
            });
            Some(ns.map(|namespace| Peer::Pods {
                namespace,
                pod_labels: Default::default(),
            }))
        }
        Some(IngressKind::Ingress) => {
            c.error(
                Code::MissingDependency,
                "NetworkPolicies must know where the ingress controller's pods run",
                "e.g. `edge: {namespace: ingress-nginx, podLabels: {app.kubernetes.io/name: \
                 ingress-nginx}}`",
            );
            None
        }
    }
}

/// `networkPolicies.<what>`: an external service's location, required when the service is
/// external.
fn external(
    c: &mut Checker,
    given: Option<&PeerFile>,
    is_external: bool,
    what: &str,
) -> Option<Option<Peer>> {
    c.field(what, |c| match (given, is_external) {
        (Some(p), true) => peer(c, p).map(Some),
        (None, false) => Some(None),
        (Some(_), false) => {
            c.error(
                Code::InvalidValue,
                format!("no external {what} is configured"),
                format!("remove `networkPolicies.{what}`"),
            );
            None
        }
        (None, true) => {
            c.error(
                Code::MissingDependency,
                format!(
                    "the external {what} must be named: a NetworkPolicy cannot match a host name"
                ),
                "give its address range (`cidrs: [10.0.5.0/24]`) or its pods (`namespace`, \
                 `podLabels`)",
            );
            None
        }
    })
}

/// A peer at the current path: pods (a namespace and labels) or networks, not both.
fn peer(c: &mut Checker, p: &PeerFile) -> Option<Peer> {
    match (&p.namespace, p.cidrs.is_empty()) {
        (Some(ns), true) => {
            let namespace: String = c
                .leaf_field("namespace", Code::InvalidKubernetesName, ns)?
                .into();
            c.field("podLabels", |c| c.labels(&p.pod_labels))
                .then(|| Peer::Pods {
                    namespace,
                    pod_labels: p.pod_labels.clone(),
                })
        }
        (None, false) if p.pod_labels.is_empty() => {
            let valid = c.field("cidrs", |c| {
                let cidrs = p.cidrs.iter().enumerate();
                let checked =
                    cidrs.map(|(i, cidr)| c.index(i, |c| c.leaf(Code::InvalidCidr, cidr)));
                checked.fold(true, |all, one| all & one.is_some())
            });
            valid.then(|| Peer::Cidrs(p.cidrs.iter().map(|n| n.raw().to_owned()).collect()))
        }
        _ => {
            c.error(
                Code::InvalidValue,
                "give either `cidrs`, or a `namespace` with optional `podLabels`",
                "a peer is pods in the cluster or networks outside it, not both",
            );
            None
        }
    }
}
