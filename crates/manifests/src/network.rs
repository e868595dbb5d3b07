//! NetworkPolicies: the topology's allow rules (`mailu_k8s_topology::network`) as objects. Every
//! Mailu pod is isolated for ingress and egress; each component's policy then allows exactly
//! its rules, selecting pods by the workloads' own selector labels.

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use mailu_k8s_config::{Config, Peer};
use mailu_k8s_topology::network::{Endpoint, Rule};
use mailu_k8s_topology::{Component, Port, Topology};

use crate::{match_labels, namespace_selector};

/// Name of the policy that isolates every Mailu pod.
pub const DEFAULT_DENY: &str = "mailu-default-deny";

/// The NetworkPolicies, or none when they are off.
pub fn policies(
    config: &Config,
    topology: &Topology,
    metadata: impl Fn(String, Option<Component>) -> ObjectMeta,
) -> Vec<NetworkPolicy> {
    let Some(rules) = topology.network_rules(config) else {
        return Vec::new();
    };
    let cluster_cidrs = config
        .network_policies
        .as_ref()
        .map(|n| n.cluster_cidrs.clone())
        .unwrap_or_default();
    let peers = |e: &Endpoint| peers(e, &cluster_cidrs);
    let mut out = vec![NetworkPolicy {
        metadata: metadata(DEFAULT_DENY.to_owned(), None),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(match_labels(crate::instance_labels())),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..Default::default()
        }),
    }];
    for w in &topology.workloads {
        let me = Endpoint::Component(w.component);
        let ingress = grouped(&rules, |r| (r.to == me).then_some(&r.from))
            .into_iter()
            .map(|(from, ports)| NetworkPolicyIngressRule {
                from: Some(peers(from)),
                ports: Some(ports),
            })
            .collect();
        let egress = grouped(&rules, |r| (r.from == me).then_some(&r.to))
            .into_iter()
            .map(|(to, ports)| NetworkPolicyEgressRule {
                to: Some(peers(to)),
                ports: Some(ports),
            })
            .collect();
        out.push(NetworkPolicy {
            metadata: metadata(w.component.object_name(), Some(w.component)),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(match_labels(crate::selector_labels(w.component))),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ingress: Some(ingress),
                egress: Some(egress),
            }),
        });
    }
    out
}

/// The rules one side of which `side` picks, merged per other endpoint (first-seen order) with
/// their ports deduplicated and sorted.
fn grouped<'a>(
    rules: &'a [Rule],
    side: impl Fn(&'a Rule) -> Option<&'a Endpoint>,
) -> Vec<(&'a Endpoint, Vec<NetworkPolicyPort>)> {
    let mut groups: Vec<(&Endpoint, Vec<Port>)> = Vec::new();
    for rule in rules {
        let Some(other) = side(rule) else { continue };
        match groups.iter_mut().find(|(e, _)| *e == other) {
            Some((_, ports)) => ports.extend(rule.ports.iter().copied()),
            None => groups.push((other, rule.ports.clone())),
        }
    }
    groups
        .into_iter()
        .map(|(e, mut ports)| {
            ports.sort_by_key(|p| (p.number, p.protocol));
            ports.dedup_by_key(|p| (p.number, p.protocol));
            (e, ports.iter().map(policy_port).collect())
        })
        .collect()
}

fn policy_port(p: &Port) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(p.number.get()))),
        protocol: Some(p.protocol.as_str().to_owned()),
        ..Default::default()
    }
}

/// The peers of an endpoint. "The internet" is every address except the cluster's own pod and
/// Service networks, for both families.
fn peers(endpoint: &Endpoint, cluster_cidrs: &[String]) -> Vec<NetworkPolicyPeer> {
    match endpoint {
        Endpoint::Component(c) => vec![NetworkPolicyPeer {
            pod_selector: Some(match_labels(crate::selector_labels(*c))),
            ..Default::default()
        }],
        Endpoint::Peer(Peer::Pods {
            namespace,
            pod_labels,
        }) => vec![NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector(namespace)),
            pod_selector: Some(match_labels(pod_labels.clone())),
            ..Default::default()
        }],
        Endpoint::Peer(Peer::Cidrs(cidrs)) => cidrs.iter().map(|c| ip_block(c, &[])).collect(),
        Endpoint::Internet => {
            let (v6, v4): (Vec<String>, Vec<String>) =
                cluster_cidrs.iter().cloned().partition(|c| c.contains(':'));
            vec![ip_block("0.0.0.0/0", &v4), ip_block("::/0", &v6)]
        }
    }
}

fn ip_block(cidr: &str, except: &[String]) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.to_owned(),
            except: (!except.is_empty()).then(|| except.to_vec()),
        }),
        ..Default::default()
    }
}
