//! Outbound mail's objects, translated from the topology's egress model: the CNI's egress custom
//! resources (Cilium, Antrea, OVN-Kubernetes), and postfix's parameters merged into its
//! `postfix.cf` override file. Every object selects exactly the sending pods, by their namespace
//! and the workloads' own selector labels; cluster-scoped objects carry the namespace in their
//! name, so two Mailu installations never collide.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use serde::Serialize;

use crate::crd::{CustomResource, CustomResourceSpec, custom_resource_kind};
use crate::{COMPONENT_LABEL, Object, match_labels, namespace_selector};

use mailu_k8s_config::egress::GatewaySource;
use mailu_k8s_topology::egress::CiliumPolicy;
use mailu_k8s_topology::{Component, Topology};

use crate::Labels;

/// Annotation on a `CiliumEgressGatewayPolicy`: the Cilium release whose CRD its shape follows
/// (`egress.cilium.version`), for readers and schema checks.
pub const CILIUM_VERSION_ANNOTATION: &str = "mailu-k8s.io/cilium-version";

/// The pod label Cilium gives every endpoint with its namespace.
pub const CILIUM_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";

/// `cilium.io/v2` `CiliumEgressGatewayPolicy` (cluster-scoped): the selected pods' traffic to
/// `destinationCIDRs` leaves through the gateway node, SNATed to its address.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumEgressGatewayPolicy {
    pub selectors: Vec<CiliumEgressSelector>,
    #[serde(rename = "destinationCIDRs")]
    pub destination_cidrs: Vec<String>,
    #[serde(rename = "excludedCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub excluded_cidrs: Vec<String>,
    /// Required in every release; ignored when `egressGateways` has entries (≥ 1.18).
    pub egress_gateway: CiliumEgressGateway,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress_gateways: Vec<CiliumEgressGateway>,
}

pub type CiliumEgressGatewayPolicyObject = CustomResource<CiliumEgressGatewayPolicy>;
custom_resource_kind!(
    CiliumEgressGatewayPolicy,
    "cilium.io",
    "v2",
    "CiliumEgressGatewayPolicy",
    "ciliumegressgatewaypolicies",
    k8s_openapi::ClusterResourceScope
);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumEgressSelector {
    pub pod_selector: LabelSelector,
    /// Cilium ≥ 1.17.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumEgressGateway {
    pub node_selector: LabelSelector,
    #[serde(rename = "egressIP", skip_serializing_if = "Option::is_none")]
    pub egress_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// `crd.antrea.io/v1beta1` `Egress` (cluster-scoped). One address: `egressIP` (and
/// `externalIPPool`); one per family: `egressIPs` (and `externalIPPools`, index-correlated).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AntreaEgress {
    pub applied_to: AntreaAppliedTo,
    #[serde(rename = "egressIP", skip_serializing_if = "Option::is_none")]
    pub egress_ip: Option<String>,
    #[serde(rename = "egressIPs", skip_serializing_if = "Vec::is_empty")]
    pub egress_ips: Vec<String>,
    #[serde(rename = "externalIPPool", skip_serializing_if = "Option::is_none")]
    pub external_ip_pool: Option<String>,
    #[serde(rename = "externalIPPools", skip_serializing_if = "Vec::is_empty")]
    pub external_ip_pools: Vec<String>,
}

pub type AntreaEgressObject = CustomResource<AntreaEgress>;
custom_resource_kind!(
    AntreaEgress,
    "crd.antrea.io",
    "v1beta1",
    "Egress",
    "egresses",
    k8s_openapi::ClusterResourceScope
);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AntreaAppliedTo {
    pub namespace_selector: LabelSelector,
    pub pod_selector: LabelSelector,
}

/// `crd.antrea.io/v1beta1` `ExternalIPPool` (cluster-scoped): addresses Antrea assigns to one of
/// the selected nodes, and moves on failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AntreaExternalIpPool {
    pub ip_ranges: Vec<AntreaIpRange>,
    pub node_selector: LabelSelector,
}

pub type AntreaExternalIpPoolObject = CustomResource<AntreaExternalIpPool>;
custom_resource_kind!(
    AntreaExternalIpPool,
    "crd.antrea.io",
    "v1beta1",
    "ExternalIPPool",
    "externalippools",
    k8s_openapi::ClusterResourceScope
);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AntreaIpRange {
    pub cidr: String,
}

/// `k8s.ovn.org/v1` `EgressIP` (cluster-scoped): OVN-Kubernetes assigns the addresses to nodes
/// labelled `k8s.ovn.org/egress-assignable: ""`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OvnEgressIp {
    #[serde(rename = "egressIPs")]
    pub egress_ips: Vec<String>,
    pub namespace_selector: LabelSelector,
    pub pod_selector: LabelSelector,
}

pub type OvnEgressIpObject = CustomResource<OvnEgressIp>;
custom_resource_kind!(
    OvnEgressIp,
    "k8s.ovn.org",
    "v1",
    "EgressIP",
    "egressips",
    k8s_openapi::ClusterResourceScope
);

/// A cluster-scoped object: no namespace.
fn object<S: CustomResourceSpec>(
    name: &str,
    labels: &Labels,
    annotations: BTreeMap<&'static str, String>,
    spec: S,
) -> CustomResource<S> {
    CustomResource {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.clone()),
            annotations: (!annotations.is_empty()).then(|| {
                annotations
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            }),
            ..ObjectMeta::default()
        },
        spec,
    }
}

/// The sending pods of the namespace, by the workloads' selector labels: one component's
/// labels, or the instance labels and the component among the senders.
fn senders_selector(senders: &[Component]) -> LabelSelector {
    match senders {
        [one] => match_labels(crate::selector_labels(*one)),
        _ => LabelSelector {
            match_labels: Some(crate::instance_labels()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: COMPONENT_LABEL.to_owned(),
                operator: "In".to_owned(),
                values: Some(senders.iter().map(|c| c.name().to_owned()).collect()),
            }]),
        },
    }
}

/// The policy, or `None` for a policy without a gateway (the model never makes one).
fn cilium_policy(p: &CiliumPolicy, topology: &Topology) -> Option<CiliumEgressGatewayPolicy> {
    let e = &topology.egress;
    let selectors = e
        .senders
        .iter()
        .map(|c| {
            let mut labels = crate::selector_labels(*c);
            labels.insert(CILIUM_NAMESPACE_LABEL.to_owned(), e.namespace.clone());
            CiliumEgressSelector {
                pod_selector: match_labels(labels),
                node_selector: (!p.source_node_selector.is_empty())
                    .then(|| match_labels(p.source_node_selector.clone())),
            }
        })
        .collect();
    let gateways: Vec<CiliumEgressGateway> = p
        .gateways
        .iter()
        .map(|g| {
            let (egress_ip, interface) = match &g.source {
                GatewaySource::EgressIp(ip) => (Some(ip.to_string()), None),
                GatewaySource::Interface(name) => (None, Some(name.clone())),
            };
            CiliumEgressGateway {
                node_selector: match_labels(g.node_selector.clone()),
                egress_ip,
                interface,
            }
        })
        .collect();
    Some(CiliumEgressGatewayPolicy {
        selectors,
        destination_cidrs: p.destination_cidrs.clone(),
        excluded_cidrs: p.excluded_cidrs.clone(),
        egress_gateway: gateways.first()?.clone(),
        egress_gateways: if gateways.len() > 1 {
            gateways
        } else {
            Vec::new()
        },
    })
}

/// A host route for one address.
fn host_cidr(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    }
}

/// Every egress object of the installation, in apply order (pools before the Egress using them).
pub fn objects(topology: &Topology, labels: &Labels) -> Vec<Object> {
    let e = &topology.egress;
    let mut out = Vec::new();
    for policy in e.cilium_policies() {
        if let Some(spec) = cilium_policy(&policy, topology) {
            let version = BTreeMap::from([(CILIUM_VERSION_ANNOTATION, policy.version.to_string())]);
            out.push(object(&policy.name, labels, version, spec).into());
        }
    }
    if let Some(plan) = e.antrea_plan() {
        for (name, ip, nodes) in &plan.created_pools {
            let pool = AntreaExternalIpPool {
                ip_ranges: vec![AntreaIpRange {
                    cidr: host_cidr(ip),
                }],
                node_selector: match_labels(nodes.clone()),
            };
            out.push(object(name, labels, BTreeMap::new(), pool).into());
        }
        let ips: Vec<String> = plan.ips.iter().map(IpAddr::to_string).collect();
        // One address: the singular fields; one per family: the lists, index-correlated.
        let (egress_ip, egress_ips, external_ip_pool, external_ip_pools) = match ips.as_slice() {
            [one] => (
                Some(one.clone()),
                Vec::new(),
                plan.pools.first().cloned(),
                Vec::new(),
            ),
            _ => (None, ips, None, plan.pools),
        };
        let egress = AntreaEgress {
            applied_to: AntreaAppliedTo {
                namespace_selector: namespace_selector(&e.namespace),
                pod_selector: senders_selector(&e.senders),
            },
            egress_ip,
            egress_ips,
            external_ip_pool,
            external_ip_pools,
        };
        out.push(object(&plan.egress_name, labels, BTreeMap::new(), egress).into());
    }
    if let Some((name, ips)) = e.ovn_egress_ip() {
        let egress_ip = OvnEgressIp {
            egress_ips: ips.iter().map(IpAddr::to_string).collect(),
            namespace_selector: namespace_selector(&e.namespace),
            pod_selector: senders_selector(&e.senders),
        };
        out.push(object(&name, labels, BTreeMap::new(), egress_ip).into());
    }
    out
}
