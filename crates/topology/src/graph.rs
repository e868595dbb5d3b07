//! The deployment drawn from the model (`mailu-k8s graph`): the components and their ports, who
//! connects to whom, how clients arrive (the edge, PROXY protocol), where outbound mail leaves
//! and from which address, and — when NetworkPolicies are on — exactly the connections they
//! allow. Drawn from the same [`Topology`] the manifests come from, never from a second list.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mailu_k8s_config::{Config, Edge, Peer};

use crate::egress::Identity;
use crate::network::{Endpoint, Rule};
use crate::{Component, MailPath, Port, Protocol, Topology, WebPath};

/// A box of the picture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    pub id: String,
    pub label: String,
    /// Inside the installation's namespace (a component) or outside it.
    pub inside: bool,
}

/// An arrow: `from` may open connections to `to` on the labelled ports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Arrow {
    pub from: String,
    pub to: String,
    pub label: String,
}

/// The picture, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub title: String,
    pub nodes: Vec<Node>,
    pub arrows: Vec<Arrow>,
}

const INTERNET: &str = "internet";
const EDGE: &str = "edge";
const EGRESS: &str = "egress";

impl Graph {
    pub fn of(config: &Config, topology: &Topology) -> Graph {
        let mut g = Builder::default();
        for w in &topology.workloads {
            let ports: Vec<String> = w.ports.iter().map(|p| port_number(*p)).collect();
            let label = format!("{} :{}", w.component.name(), ports.join(","));
            g.node(w.component.name(), &label, true);
        }
        let title = match topology.network_rules(config) {
            Some(rules) => {
                rules.iter().for_each(|r| g.rule(r));
                format!(
                    "mailu in namespace {}: NetworkPolicies allow exactly these connections",
                    topology.namespace
                )
            }
            None => {
                g.unfenced(topology);
                format!(
                    "mailu in namespace {}: NetworkPolicies off (every pod may reach every pod)",
                    topology.namespace
                )
            }
        };
        g.clients(config, topology);
        g.egress(topology);
        g.finish(title)
    }

    pub fn to_mermaid(&self) -> String {
        // The title is YAML front matter: quoted, because it holds `: `.
        let mut out = format!("---\ntitle: \"{}\"\n---\nflowchart LR\n", self.title);
        out.push_str("  subgraph ns[namespace]\n");
        for n in self.nodes.iter().filter(|n| n.inside) {
            let _ = writeln!(out, "    {}[\"{}\"]", n.id, n.label);
        }
        out.push_str("  end\n");
        for n in self.nodes.iter().filter(|n| !n.inside) {
            let _ = writeln!(out, "  {}([\"{}\"])", n.id, n.label);
        }
        for a in &self.arrows {
            let _ = writeln!(out, "  {} -->|\"{}\"| {}", a.from, a.label, a.to);
        }
        out
    }

    pub fn to_dot(&self) -> String {
        let mut out = format!(
            "digraph mailu {{\n  label=\"{}\";\n  rankdir=LR;\n  node [shape=box];\n",
            self.title
        );
        out.push_str("  subgraph cluster_ns {\n    label=\"namespace\";\n");
        for n in self.nodes.iter().filter(|n| n.inside) {
            let _ = writeln!(out, "    \"{}\" [label=\"{}\"];", n.id, n.label);
        }
        out.push_str("  }\n");
        for n in self.nodes.iter().filter(|n| !n.inside) {
            let _ = writeln!(
                out,
                "  \"{}\" [label=\"{}\", shape=ellipse];",
                n.id, n.label
            );
        }
        for a in &self.arrows {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                a.from, a.to, a.label
            );
        }
        out.push_str("}\n");
        out
    }
}

#[derive(Default)]
struct Builder {
    nodes: BTreeMap<String, Node>,
    /// Ports per (from, to), merged into one arrow.
    arrows: BTreeMap<(String, String), Vec<String>>,
}

impl Builder {
    fn node(&mut self, id: &str, label: &str, inside: bool) {
        self.nodes.entry(id.to_owned()).or_insert_with(|| Node {
            id: id.to_owned(),
            label: label.to_owned(),
            inside,
        });
    }

    fn arrow(&mut self, from: &str, to: &str, ports: impl IntoIterator<Item = String>) {
        let entry = self
            .arrows
            .entry((from.to_owned(), to.to_owned()))
            .or_default();
        for p in ports {
            if !entry.contains(&p) {
                entry.push(p);
            }
        }
    }

    /// An allow rule of the NetworkPolicies. postfix's to the internet is drawn through the
    /// egress box; clients' (edge or Internet) to front by [`Builder::clients`].
    fn rule(&mut self, r: &Rule) {
        let to_front = r.to == Endpoint::Component(Component::Front);
        if to_front && !matches!(r.from, Endpoint::Component(_)) {
            return;
        }
        let ports = r.ports.iter().map(|p| port_label(*p));
        let from = self.endpoint(&r.from);
        let to = match (&r.from, &r.to) {
            (Endpoint::Component(Component::Postfix), Endpoint::Internet) => EGRESS.to_owned(),
            _ => self.endpoint(&r.to),
        };
        self.arrow(&from, &to, ports);
    }

    fn endpoint(&mut self, e: &Endpoint) -> String {
        match e {
            Endpoint::Component(c) => c.name().to_owned(),
            Endpoint::Internet => {
                self.node(INTERNET, "Internet", false);
                INTERNET.to_owned()
            }
            Endpoint::Peer(p) => {
                let (id, label) = peer(p);
                self.node(&id, &label, false);
                id
            }
        }
    }

    /// Without NetworkPolicies: the topology's connections, and postfix to the internet.
    fn unfenced(&mut self, topology: &Topology) {
        for c in &topology.connections {
            self.arrow(c.from.name(), c.to.name(), [port_label(c.port)]);
        }
        let out = match topology.egress.relay() {
            Some(relay) => relay.port.to_string(),
            None => "25".to_owned(),
        };
        self.arrow(Component::Postfix.name(), EGRESS, [out]);
    }

    /// How clients reach front: through the edge's proxy (PROXY v2 on mail ports) or directly.
    fn clients(&mut self, config: &Config, topology: &Topology) {
        self.node(INTERNET, "Internet", false);
        let front = Component::Front.name();
        let x = &topology.exposure;
        let proxied: Vec<String> = x
            .mail
            .iter()
            .filter(|r| r.path == MailPath::Proxy)
            .map(|r| r.port.number.to_string())
            .collect();
        let mut via_edge = Vec::new();
        if !proxied.is_empty() {
            via_edge.push(format!("{} with PROXY v2", proxied.join(",")));
        }
        if x.web == WebPath::EdgeToHttp {
            via_edge.push("80 (HTTPS ends at the edge)".to_owned());
        }
        if !via_edge.is_empty() {
            self.node(EDGE, edge_label(&config.edge), false);
            let public = std::iter::once("443".to_owned()).chain(proxied.iter().cloned());
            self.arrow(INTERNET, EDGE, public);
            self.arrow(EDGE, front, via_edge);
        }
        let direct: Vec<String> = x
            .directly_published_ports()
            .iter()
            .map(|p| p.number.to_string())
            .collect();
        self.arrow(INTERNET, front, direct);
        self.arrows.retain(|_, ports| !ports.is_empty());
    }

    /// Where outbound mail leaves, and from which addresses.
    fn egress(&mut self, topology: &Topology) {
        let e = &topology.egress;
        let label = match e.identity() {
            Identity::Addresses { ips, .. } => {
                let ips: Vec<String> = ips.iter().map(ToString::to_string).collect();
                format!("egress {}: from {}", e.kind().as_str(), ips.join(", "))
            }
            Identity::Relay(r) => format!("egress relay: smarthost {}:{}", r.host, r.port),
            Identity::Unpredictable => "egress none: from whichever node runs postfix".to_owned(),
        };
        self.node(EGRESS, &label, false);
        self.node(INTERNET, "Internet", false);
        self.arrow(EGRESS, INTERNET, ["outbound mail".to_owned()]);
    }

    fn finish(self, title: String) -> Graph {
        Graph {
            title,
            nodes: self.nodes.into_values().collect(),
            arrows: self
                .arrows
                .into_iter()
                .map(|((from, to), ports)| Arrow {
                    from,
                    to,
                    label: ports.join(", "),
                })
                .collect(),
        }
    }
}

fn port_label(p: Port) -> String {
    format!("{} {}", port_number(p), p.name)
}

/// `53/udp`; TCP, the usual case, goes unsaid.
fn port_number(p: Port) -> String {
    match p.protocol {
        Protocol::Tcp => p.number.to_string(),
        Protocol::Udp => format!("{}/udp", p.number),
    }
}

fn edge_label(edge: &Edge) -> &'static str {
    match edge {
        Edge::Traefik(_) => "Traefik",
        Edge::GatewayApi(_) => "Gateway API",
        Edge::Ingress(_) => "Ingress controller",
        Edge::None => "edge",
    }
}

/// A NetworkPolicy peer: its id and label.
fn peer(p: &Peer) -> (String, String) {
    match p {
        Peer::Pods {
            namespace,
            pod_labels,
        } => {
            let labels: Vec<String> = pod_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let what = if labels.is_empty() {
                "every pod".to_owned()
            } else {
                labels.join(",")
            };
            let id = format!("peer_{}_{}", namespace, labels.join("_"));
            (sanitize(&id), format!("{namespace}: {what}"))
        }
        Peer::Cidrs(cidrs) => (
            sanitize(&format!("peer_{}", cidrs.join("_"))),
            cidrs.join(", "),
        ),
    }
}

/// An id Mermaid and DOT take unquoted-safe: letters, digits and `_`.
fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(extra: &str) -> Graph {
        let yaml = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n\
             secrets: {{mailuSecretKey: k}}\nresolver: {{serviceIP: 10.43.0.53}}\n{extra}"
        );
        let config = mailu_k8s_config::load(yaml.as_bytes())
            .expect("valid")
            .config;
        Graph::of(&config, &Topology::from_config(&config))
    }

    fn arrow<'a>(g: &'a Graph, from: &str, to: &str) -> Option<&'a Arrow> {
        g.arrows.iter().find(|a| a.from == from && a.to == to)
    }

    #[test]
    fn every_connection_of_the_topology_is_an_arrow() {
        for extra in ["", "networkPolicies: {enabled: false}\n"] {
            let g = graph(extra);
            let topology_connections = Topology::from_config(
                &mailu_k8s_config::load(
                    format!(
                        "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n\
                         secrets: {{mailuSecretKey: k}}\nresolver: {{serviceIP: 10.43.0.53}}\n{extra}"
                    )
                    .as_bytes(),
                )
                .expect("valid")
                .config,
            )
            .connections;
            for c in topology_connections {
                let a = arrow(&g, c.from.name(), c.to.name()).expect("an arrow per connection");
                assert!(a.label.contains(&port_label(c.port)), "{extra}: {a:?}");
            }
        }
    }

    #[test]
    fn the_title_says_whether_networkpolicies_fence_the_pods() {
        assert!(graph("").title.contains("NetworkPolicies allow exactly"));
        let open = graph("networkPolicies: {enabled: false}\n");
        assert!(open.title.contains("NetworkPolicies off"), "{}", open.title);
    }

    #[test]
    fn networkpolicy_peers_are_drawn() {
        let g = graph("");
        let dns = g
            .nodes
            .iter()
            .find(|n| n.label.contains("kube-system"))
            .expect("cluster DNS");
        assert!(arrow(&g, "resolver", &dns.id).is_some(), "{g:?}");
    }

    #[test]
    fn outbound_mail_leaves_through_the_egress_box_with_its_address() {
        let g = graph(
            "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.17', \
             egressIP: 203.0.113.10, nodeSelector: {egress: 'true'}}}\n",
        );
        let egress = g
            .nodes
            .iter()
            .find(|n| n.id == EGRESS)
            .expect("egress node");
        assert!(egress.label.contains("203.0.113.10"), "{}", egress.label);
        assert!(arrow(&g, "postfix", EGRESS).is_some());
        assert!(arrow(&g, "postfix", INTERNET).is_none());
    }

    #[test]
    fn proxied_mail_ports_arrive_through_the_edge() {
        let g = graph("ingress: {traefik: {hostname: mail.example.com, enableTcp: true}}\n");
        let edge = arrow(&g, EDGE, "front").expect("edge → front");
        assert!(
            edge.label.starts_with("25,465,587,993,995 with PROXY v2"),
            "{}",
            edge.label
        );
    }
}
