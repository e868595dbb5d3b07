//! Who may reach whom: the allow rules behind the NetworkPolicies, derived from the topology's
//! connections, the exposure, the DNS path and what each component needs outside the cluster.
//! Nothing here is listed by hand per connection: a connection in [`Topology::connections`] is
//! an allow rule, and a rule exists only for a connection or a documented outside need.
//!
//! Mailu trusts every address in `SUBNET` (the pod CIDR): postfix relays for it, dovecot lets it
//! log in without a password, admin's `/internal` API serves it DKIM keys, rspamd's controller
//! takes its commands. So every Mailu pod is isolated in both directions, and front's public
//! ports are reachable only from the edge that is configured, or from outside the cluster.

use mailu_k8s_config::{Config, Database, Peer, Redis};

use crate::{Component, MailPath, Port, Topology, WebPath, ports};

/// One side of an allowed connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Mailu component's pods.
    Component(Component),
    /// Pods elsewhere in the cluster or networks outside it, named by the operator.
    Peer(Peer),
    /// Any address outside the cluster (its pod and Service CIDRs excluded).
    Internet,
}

/// Traffic from `from` to `to` on `ports` (the destination pod's ports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub from: Endpoint,
    pub to: Endpoint,
    pub ports: Vec<Port>,
    /// Why the rule exists, for the reader of the generated objects and of the tests.
    pub reason: &'static str,
}

const DNS: [Port; 2] = [ports::DNS, ports::DNS_TCP];
const HTTPS_OUT: Port = ports::HTTPS;
const HTTP_OUT: Port = ports::HTTP;

impl Topology {
    /// Every allowed connection, or `None` when NetworkPolicies are off.
    pub fn network_rules(&self, config: &Config) -> Option<Vec<Rule>> {
        let np = config.network_policies.as_ref()?;
        let mut rules: Vec<Rule> = self
            .connections
            .iter()
            .map(|c| Rule {
                from: Endpoint::Component(c.from),
                to: Endpoint::Component(c.to),
                ports: vec![c.port],
                reason: "a connection of the topology",
            })
            .collect();
        rules.extend(self.dns_rules(&np.cluster_dns));
        rules.extend(self.internet_rules());
        rules.extend(self.external_service_rules(config));
        rules.extend(self.front_ingress_rules(np));
        Some(rules)
    }

    /// Name resolution: through Mailu's resolver where it runs (a topology connection), else
    /// the cluster DNS; the resolver itself asks the cluster DNS (cluster domain) and the
    /// internet's name servers.
    fn dns_rules(&self, cluster_dns: &Peer) -> Vec<Rule> {
        let to_cluster_dns = |c: Component, reason| Rule {
            from: Endpoint::Component(c),
            to: Endpoint::Peer(cluster_dns.clone()),
            ports: DNS.to_vec(),
            reason,
        };
        let mut out = Vec::new();
        if self.resolver.is_some() {
            out.push(to_cluster_dns(
                Component::Resolver,
                "the resolver forwards the cluster domain to the cluster DNS",
            ));
            out.push(Rule {
                from: Endpoint::Component(Component::Resolver),
                to: Endpoint::Internet,
                ports: DNS.to_vec(),
                reason: "the resolver recurses from the root servers",
            });
        }
        for w in &self.workloads {
            let via_resolver = self.resolver.is_some() && w.component.uses_mailu_resolver();
            if !via_resolver && needs_dns(w.component) {
                out.push(to_cluster_dns(w.component, "name resolution"));
            }
        }
        out
    }

    /// Components that must reach the internet, each on the ports its job needs.
    fn internet_rules(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        let mut push = |c: Component, ports: Vec<Port>, reason| {
            if self.workload(c).is_some() {
                out.push(Rule {
                    from: Endpoint::Component(c),
                    to: Endpoint::Internet,
                    ports,
                    reason,
                });
            }
        };
        // postfix delivers to other MX hosts on 25, or to the smarthost on its port (the egress
        // model's relay); its MTA-STS resolver fetches policies over HTTPS (core/postfix/start.py
        // line 38).
        let smtp_out = match self.egress.relay() {
            Some(relay) => crate::port("relay", relay.port.get()),
            None => ports::SMTP,
        };
        push(
            Component::Postfix,
            vec![smtp_out, HTTPS_OUT],
            "outbound mail, and MTA-STS policies",
        );
        push(
            Component::Fetchmail,
            vec![ports::POP3, ports::IMAP, ports::IMAPS, ports::POP3S],
            "users' external mailboxes",
        );
        // rspamd's stock modules download their maps over HTTPS.
        push(Component::Rspamd, vec![HTTPS_OUT], "rspamd's maps");
        // freshclam downloads signatures (HTTPS from the official mirror, HTTP from some).
        push(
            Component::Clamav,
            vec![HTTP_OUT, HTTPS_OUT],
            "virus signatures",
        );
        if self.exposure.front_runs_certbot() {
            push(
                Component::Front,
                vec![HTTPS_OUT],
                "certbot talks to the ACME server",
            );
        }
        out
    }

    /// An external PostgreSQL or Redis, where the operator said it is.
    fn external_service_rules(&self, config: &Config) -> Vec<Rule> {
        let Some(np) = &config.network_policies else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(db) = &np.database {
            let mut to = |c: Component, port: u16, reason| {
                out.push(Rule {
                    from: Endpoint::Component(c),
                    to: Endpoint::Peer(db.clone()),
                    ports: vec![crate::port("postgresql", port)],
                    reason,
                });
            };
            if let Database::Postgresql(pg) = &config.database {
                to(Component::Admin, pg.port.get(), "admin's database");
            }
            let roundcube = config.components.webmail.as_ref();
            if let Some(rc) = roundcube.and_then(|w| w.roundcube_database.as_ref()) {
                to(Component::Webmail, rc.port.get(), "Roundcube's database");
            }
        }
        if let (Some(peer), Redis::External { port, .. }) = (&np.redis, &config.redis) {
            for c in [Component::Admin, Component::Rspamd] {
                out.push(Rule {
                    from: Endpoint::Component(c),
                    to: Endpoint::Peer(peer.clone()),
                    ports: vec![crate::port("redis", port.get())],
                    reason: "the external Redis",
                });
            }
        }
        out
    }

    /// Clients of front: the edge proxy on the ports it forwards, the internet on the ports
    /// published directly, and named in-cluster senders on the submission ports. No other pod
    /// of the cluster: front hands the client address to postfix (XCLIENT) and postfix relays
    /// for `SUBNET`, so a pod reaching front:25 directly would be an open relay's client.
    fn front_ingress_rules(&self, np: &mailu_k8s_config::NetworkPolicies) -> Vec<Rule> {
        let mut out = Vec::new();
        let front = Endpoint::Component(Component::Front);
        let mut edge_ports: Vec<Port> = self
            .exposure
            .mail
            .iter()
            .filter(|r| r.path == MailPath::Proxy)
            .map(|r| r.port)
            .collect();
        if self.exposure.web == WebPath::EdgeToHttp {
            edge_ports.push(ports::HTTP);
        }
        if let (Some(edge), false) = (&np.edge, edge_ports.is_empty()) {
            out.push(Rule {
                from: Endpoint::Peer(edge.clone()),
                to: front.clone(),
                ports: edge_ports,
                reason: "the ingress proxy forwards clients",
            });
        }
        let direct = self.exposure.directly_published_ports();
        if !direct.is_empty() {
            out.push(Rule {
                from: Endpoint::Internet,
                to: front.clone(),
                ports: direct,
                reason: "clients outside the cluster, through the public Service or hostPorts",
            });
        }
        let offered: Vec<Port> = [ports::SUBMISSIONS, ports::SUBMISSION]
            .into_iter()
            .filter(|p| {
                self.workload(Component::Front)
                    .is_some_and(|w| w.ports.contains(p))
            })
            .collect();
        for peer in &np.submission_from {
            out.push(Rule {
                from: Endpoint::Peer(peer.clone()),
                to: front.clone(),
                ports: offered.clone(),
                reason: "in-cluster applications submitting mail (authenticated)",
            });
        }
        out
    }
}

/// Whether a component resolves names at all: every Mailu image, and ClamAV (freshclam). The
/// bundled Redis, Tika and the resolver (which recurses itself) need no resolver.
fn needs_dns(c: Component) -> bool {
    c.uses_mailu_resolver() || c == Component::Clamav
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(extra: &str) -> Vec<Rule> {
        let config = mailu_k8s_config::testing::config(extra);
        let t = Topology::from_config(&config);
        t.network_rules(&config).expect("on by default")
    }

    fn internet_ports(rules: &[Rule], c: Component) -> Vec<u16> {
        let mut p: Vec<u16> = rules
            .iter()
            .filter(|r| r.from == Endpoint::Component(c) && r.to == Endpoint::Internet)
            .flat_map(|r| r.ports.iter().map(|p| p.number.get()))
            .collect();
        p.sort_unstable();
        p
    }

    #[test]
    fn only_the_components_that_need_it_reach_the_internet() {
        let r = rules(
            "components: {webmail: true, clamav: true, oletools: true, tika: true, fetchmail: true, webdav: true}\n",
        );
        assert_eq!(internet_ports(&r, Component::Postfix), [25, 443]);
        assert_eq!(
            internet_ports(&r, Component::Fetchmail),
            [110, 143, 993, 995]
        );
        assert_eq!(internet_ports(&r, Component::Resolver), [53, 53]);
        assert_eq!(internet_ports(&r, Component::Clamav), [80, 443]);
        for c in [
            Component::Admin,
            Component::Dovecot,
            Component::Webmail,
            Component::Tika,
            Component::Oletools,
            Component::Redis,
            Component::Webdav,
            Component::Front,
        ] {
            assert!(internet_ports(&r, c).is_empty(), "{c:?}");
        }
    }

    #[test]
    fn a_relay_replaces_port_25() {
        let r = rules("egress: {mode: relay, relay: {host: smtp.relay.example, port: 2587}}\n");
        assert_eq!(internet_ports(&r, Component::Postfix), [443, 2587]);
    }

    #[test]
    fn front_is_reached_from_outside_only_on_published_ports() {
        let r = rules("exposure: {service: {type: LoadBalancer}}\n");
        let from_internet: Vec<&Rule> = r.iter().filter(|r| r.from == Endpoint::Internet).collect();
        assert_eq!(from_internet.len(), 1);
        let ports: Vec<u16> = from_internet[0]
            .ports
            .iter()
            .map(|p| p.number.get())
            .collect();
        assert!(
            !ports.contains(&2525) && !ports.contains(&10025),
            "{ports:?}"
        );
        assert!(ports.contains(&25));
    }

    #[test]
    fn proxied_mail_comes_only_from_the_edge() {
        let r = rules("ingress: {type: traefik, traefik: {enableTcp: true}}\n");
        assert!(r.iter().all(|r| r.from != Endpoint::Internet));
        let edge: Vec<&Rule> = r
            .iter()
            .filter(|r| matches!(r.from, Endpoint::Peer(_)))
            .collect();
        assert_eq!(edge.len(), 1);
        assert!(edge[0].ports.contains(&ports::SMTP) && edge[0].ports.contains(&ports::HTTP));
    }
}
