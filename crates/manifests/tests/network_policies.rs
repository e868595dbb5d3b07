//! The NetworkPolicies of every example, evaluated with Kubernetes' semantics by a small
//! evaluator written from the API reference (not from our emitter): a pod is isolated for a
//! direction once any policy selects it for that direction; a connection is allowed when the
//! source's egress and the destination's ingress both allow it; allows are unions.
//!
//! Proven per example: every connection of the topology is allowed, nothing between Mailu's
//! pods beyond the topology is, and a pod in another namespace (or an unlabelled pod in Mailu's
//! namespace) reaches none of Mailu's trusted ports.

mod common;
use common::examples;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use mailu_k8s_topology::{Component, Protocol, Topology};
use serde_json::Value;

#[derive(Debug, Clone)]
struct Pod {
    namespace: String,
    labels: BTreeMap<String, String>,
    ip: Ipv4Addr,
}

/// A connection's source: a pod, or an address outside the cluster.
enum Source<'a> {
    Pod(&'a Pod),
    External(Ipv4Addr),
}

fn label_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `matchLabels` only: the emitter uses nothing else, and an unknown `matchExpressions` makes
/// the selector match nothing here (so a test would fail rather than pass by accident).
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if selector.get("matchExpressions").is_some() {
        return false;
    }
    label_map(&selector["matchLabels"])
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

fn in_cidr(ip: Ipv4Addr, cidr: &str) -> bool {
    // An IPv6 block never holds an IPv4 address.
    cidr.parse::<Ipv4Net>().is_ok_and(|net| net.contains(&ip))
}

fn namespace_labels(ns: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())])
}

/// Whether a peer entry of a policy in `policy_ns` matches the other side.
fn peer_matches(peer: &Value, policy_ns: &str, other: &Source) -> bool {
    if let Some(block) = peer.get("ipBlock") {
        let ip = match other {
            Source::Pod(p) => p.ip,
            Source::External(ip) => *ip,
        };
        let except = block["except"].as_array().cloned().unwrap_or_default();
        return in_cidr(ip, block["cidr"].as_str().unwrap_or_default())
            && !except
                .iter()
                .any(|e| in_cidr(ip, e.as_str().unwrap_or_default()));
    }
    let Source::Pod(pod) = other else {
        return false; // pod and namespace selectors match pods only
    };
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => selects(sel, &namespace_labels(&pod.namespace)),
        None => pod.namespace == policy_ns,
    };
    let pod_ok = match peer.get("podSelector") {
        Some(sel) => selects(sel, &pod.labels),
        None => true,
    };
    ns_ok && pod_ok
}

fn port_matches(rule: &Value, port: u16, protocol: Protocol) -> bool {
    let Some(ports) = rule["ports"].as_array() else {
        return true; // no ports: all ports
    };
    ports.iter().any(|p| {
        let proto = p["protocol"].as_str().unwrap_or("TCP");
        let number = p["port"].as_u64();
        proto == protocol.as_str() && (number.is_none() || number == Some(u64::from(port)))
    })
}

struct Policies<'a>(Vec<&'a Value>);

impl Policies<'_> {
    fn selecting<'b>(
        &'b self,
        pod: &'b Pod,
        direction: &'b str,
    ) -> impl Iterator<Item = &'b Value> {
        self.0.iter().copied().filter(move |np| {
            np["metadata"]["namespace"] == pod.namespace.as_str()
                && selects(&np["spec"]["podSelector"], &pod.labels)
                && np["spec"]["policyTypes"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == direction))
        })
    }

    /// Whether `source` may open a connection to `dest` on `port`.
    fn allows(&self, source: &Source, dest: &Pod, port: u16, protocol: Protocol) -> bool {
        let egress_ok = match source {
            Source::External(_) => true,
            Source::Pod(src) => {
                let mut selecting = self.selecting(src, "Egress").peekable();
                selecting.peek().is_none()
                    || selecting.any(|np| {
                        let ns = np["metadata"]["namespace"].as_str().unwrap_or_default();
                        np["spec"]["egress"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|rule| {
                                port_matches(rule, port, protocol)
                                    && rule["to"].as_array().is_none_or(|to| {
                                        to.iter().any(|p| peer_matches(p, ns, &Source::Pod(dest)))
                                    })
                            })
                    })
            }
        };
        let mut selecting = self.selecting(dest, "Ingress").peekable();
        let ingress_ok = selecting.peek().is_none()
            || selecting.any(|np| {
                let ns = np["metadata"]["namespace"].as_str().unwrap_or_default();
                np["spec"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|rule| {
                        port_matches(rule, port, protocol)
                            && rule["from"]
                                .as_array()
                                .is_none_or(|from| from.iter().any(|p| peer_matches(p, ns, source)))
                    })
            });
        egress_ok && ingress_ok
    }
}

/// One pod per Mailu workload, labelled as its pod template says, at an address in the pod
/// CIDR.
fn mailu_pods(objects: &[Value], config: &mailu_k8s_config::Config) -> BTreeMap<String, Pod> {
    let base = u32::from(config.subnet.addr);
    common::workloads(objects)
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let labels = label_map(&o["spec"]["template"]["metadata"]["labels"]);
            let component = labels["app.kubernetes.io/component"].clone();
            let pod = Pod {
                namespace: o["metadata"]["namespace"].as_str().expect("ns").to_owned(),
                labels,
                ip: Ipv4Addr::from(base + 10 + i as u32),
            };
            (component, pod)
        })
        .collect()
}

/// Every port number any Mailu component listens on, plus a few others.
const PROBE_PORTS: [u16; 24] = [
    25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 2525, 3310, 4190, 5232, 6379, 8080, 9998, 10025,
    10143, 11332, 11334, 11335, 11343, 14190,
];

#[test]
fn every_topology_connection_is_allowed_and_nothing_else_between_mailu_pods() {
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let policies = Policies(
            objects
                .iter()
                .filter(|o| o["kind"] == "NetworkPolicy")
                .collect(),
        );
        assert!(!policies.0.is_empty(), "{name}: no NetworkPolicies");
        let pods = mailu_pods(&objects, &config);
        let topology = Topology::from_config(&config);
        for c in &topology.connections {
            let (from, to) = (&pods[c.from.name()], &pods[c.to.name()]);
            assert!(
                policies.allows(&Source::Pod(from), to, c.port.number.get(), c.port.protocol),
                "{name}: {:?} -> {:?} on {} is blocked",
                c.from,
                c.to,
                c.port.number
            );
        }
        for (from_name, from) in &pods {
            for (to_name, to) in &pods {
                for port in PROBE_PORTS {
                    for protocol in [Protocol::Tcp, Protocol::Udp] {
                        if !policies.allows(&Source::Pod(from), to, port, protocol) {
                            continue;
                        }
                        let in_topology = topology.connections.iter().any(|c| {
                            c.from.name() == from_name
                                && c.to.name() == to_name
                                && c.port.number.get() == port
                                && c.port.protocol == protocol
                        });
                        assert!(
                            in_topology,
                            "{name}: {from_name} -> {to_name} on {port}/{protocol:?} is allowed but is no connection"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn pods_outside_mailu_reach_none_of_its_trusted_ports() {
    let trusted: [(Component, u16); 10] = [
        (Component::Dovecot, 143),
        (Component::Dovecot, 2525),
        (Component::Admin, 8080),
        (Component::Postfix, 25),
        (Component::Postfix, 10025),
        (Component::Rspamd, 11334),
        (Component::Redis, 6379),
        (Component::Front, 2525),
        (Component::Front, 10025),
        (Component::Front, 25),
    ];
    for (name, config) in examples() {
        let objects = mailu_k8s_manifests::synthesize(&config).values();
        let policies = Policies(
            objects
                .iter()
                .filter(|o| o["kind"] == "NetworkPolicy")
                .collect(),
        );
        let pods = mailu_pods(&objects, &config);
        let ip = Ipv4Addr::from(u32::from(config.subnet.addr) + 200);
        let intruders = [
            Pod {
                namespace: "apps".into(),
                labels: BTreeMap::from([("app".into(), "shop".into())]),
                ip,
            },
            // In Mailu's namespace, without Mailu's labels.
            Pod {
                namespace: config.namespace.clone(),
                labels: BTreeMap::from([("app".into(), "debug".into())]),
                ip,
            },
        ];
        for intruder in &intruders {
            for (component, port) in trusted {
                let Some(target) = pods.get(component.name()) else {
                    continue;
                };
                assert!(
                    !policies.allows(&Source::Pod(intruder), target, port, Protocol::Tcp),
                    "{name}: a pod in {} reaches {component:?}:{port}",
                    intruder.namespace
                );
            }
        }
        // From outside the cluster, front's internal ports are closed.
        for port in [2525, 10025, 10143, 14190] {
            assert!(
                !policies.allows(
                    &Source::External(Ipv4Addr::new(203, 0, 113, 7)),
                    &pods["front"],
                    port,
                    Protocol::Tcp
                ),
                "{name}: the internet reaches front:{port}"
            );
        }
    }
}

#[test]
fn the_evaluator_follows_kubernetes_semantics() {
    // A negative control for the evaluator itself: no policy, everything allowed; a policy
    // without rules isolates; an ipBlock except carves out.
    let a = Pod {
        namespace: "x".into(),
        labels: BTreeMap::from([("app".into(), "a".into())]),
        ip: Ipv4Addr::new(10, 0, 0, 1),
    };
    let b = Pod {
        namespace: "x".into(),
        labels: BTreeMap::from([("app".into(), "b".into())]),
        ip: Ipv4Addr::new(10, 0, 0, 2),
    };
    let none = Policies(vec![]);
    assert!(none.allows(&Source::Pod(&a), &b, 80, Protocol::Tcp));
    let deny: Value = serde_json::json!({
        "metadata": {"namespace": "x"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    });
    let isolating = Policies(vec![&deny]);
    assert!(!isolating.allows(&Source::Pod(&a), &b, 80, Protocol::Tcp));
    let allow: Value = serde_json::json!({
        "metadata": {"namespace": "x"},
        "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                              "ports": [{"port": 80, "protocol": "TCP"}]}]},
    });
    let both = Policies(vec![&deny, &allow]);
    assert!(!both.allows(&Source::Pod(&a), &b, 80, Protocol::Tcp));
    assert!(both.allows(
        &Source::External(Ipv4Addr::new(1, 2, 3, 4)),
        &b,
        80,
        Protocol::Tcp
    ));
    assert!(!both.allows(
        &Source::External(Ipv4Addr::new(1, 2, 3, 4)),
        &b,
        81,
        Protocol::Tcp
    ));
}

#[test]
fn turning_them_off_is_a_warning_and_writes_none() {
    let text = mailu_k8s_config::minimal_yaml!(
        "exposure: {service: {type: LoadBalancer}}\nnetworkPolicies: {enabled: false}\n"
    );
    let loaded = mailu_k8s_config::load(text.as_bytes()).expect("valid");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.path == "networkPolicies.enabled"),
        "{:?}",
        loaded.warnings
    );
    let objects = mailu_k8s_manifests::synthesize(&loaded.config).values();
    assert!(objects.iter().all(|o| o["kind"] != "NetworkPolicy"));
}
