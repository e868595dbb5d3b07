//! The egress model: where outbound mail leaves the cluster and from which addresses. One model
//! that everything reads: the manifests (the CNI's egress objects, postfix's settings), the
//! NetworkPolicies (postfix's port to the internet), Mailu's environment (the relay), and the DNS
//! plan (the addresses SPF authorises and PTR covers, and the HELO name they confirm).

use std::collections::BTreeMap;
use std::net::IpAddr;

use mailu_k8s_config::egress::{
    self as cfg, AntreaPool, CiliumGateway, CiliumVersion, EgressMode, EgressModeKind, IpSource,
    Ipv6Path, postfix_params,
};
use mailu_k8s_config::{Config, DnsName, Relay};

use crate::{Component, NAME_PREFIX, Workload};

/// The installation's egress.
#[derive(Debug, Clone)]
pub struct Egress {
    /// The validated settings: mode, addresses, IPv6 path, HELO name.
    pub settings: cfg::Egress,
    /// The pods whose connections take the egress path: postfix, then `egress.components`.
    pub senders: Vec<Component>,
    /// The namespace of those pods (egress objects are cluster-scoped and select by it).
    pub namespace: String,
    /// The HELO name when it is not the first of `hostnames` (postfix's default).
    helo_override: Option<DnsName>,
}

/// What the DNS plan can promise about outbound mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity<'a> {
    /// Mail leaves from `ips`: SPF authorises them (and `also_authorise`), each has a PTR naming
    /// `helo_name`, whose A/AAAA records hold them. `survives_node_replacement` says whether
    /// replacing a node changes them.
    Addresses {
        ips: &'a [IpAddr],
        also_authorise: &'a [IpAddr],
        helo_name: &'a DnsName,
        survives_node_replacement: bool,
    },
    /// Mail leaves through a smarthost, whose operator vouches for its addresses (SPF include of
    /// the relay's record).
    Relay(&'a Relay),
    /// `none`: mail leaves from whichever node runs postfix. SPF and PTR cannot be guaranteed.
    Unpredictable,
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// Every address of the family.
    pub fn everything(self) -> &'static str {
        match self {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        }
    }

    fn of(cidr: &str) -> Family {
        if cidr.contains(':') {
            Family::V6
        } else {
            Family::V4
        }
    }
}

/// One `CiliumEgressGatewayPolicy`: one per address family, because on Cilium 1.20 an IPv4
/// `egressIP` with `::/0` destinations black-holes IPv6 traffic (cilium#48660).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiliumPolicy {
    /// The release the policy is shaped for.
    pub version: CiliumVersion,
    pub family: Family,
    pub name: String,
    /// The first is `egressGateway`; all of them are `egressGateways` when there are several.
    pub gateways: Vec<CiliumGateway>,
    pub destination_cidrs: Vec<String>,
    /// The cluster's own networks of this family.
    pub excluded_cidrs: Vec<String>,
    /// `selectors[].nodeSelector`; empty: none.
    pub source_node_selector: BTreeMap<String, String>,
}

/// The Antrea objects: an `Egress`, and the `ExternalIPPool`s mailu-k8s writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntreaPlan {
    pub egress_name: String,
    /// The egress addresses, IPv4 first.
    pub ips: Vec<IpAddr>,
    /// Per address, the pool it is taken from (same order as `ips`); empty without pools.
    pub pools: Vec<String>,
    /// The pools to write: (name, address, node selector).
    pub created_pools: Vec<(String, IpAddr, BTreeMap<String, String>)>,
}

impl Egress {
    pub fn from_config(config: &Config, workloads: &[Workload]) -> Egress {
        let runs = |c: Component| workloads.iter().any(|w| w.component == c);
        let senders = std::iter::once(Component::Postfix)
            .chain(config.egress.components.iter().filter_map(|c| {
                Component::ALL
                    .into_iter()
                    .find(|k| k.name() == c.name())
                    .filter(|k| runs(*k))
            }))
            .collect();
        let helo_override = config
            .egress
            .helo_name
            .as_ref()
            .filter(|h| **h != config.hostnames.primary)
            .cloned();
        Egress {
            settings: config.egress.clone(),
            senders,
            namespace: config.namespace.clone(),
            helo_override,
        }
    }

    pub fn kind(&self) -> EgressModeKind {
        self.settings.kind()
    }

    /// The smarthost, in `relay` mode.
    pub fn relay(&self) -> Option<&Relay> {
        self.settings.relay()
    }

    /// What SPF and PTR can rely on.
    pub fn identity(&self) -> Identity<'_> {
        let s = &self.settings;
        match (&s.mode, &s.helo_name) {
            (EgressMode::Relay(relay), _) => Identity::Relay(relay),
            (EgressMode::None, _) | (_, None) => Identity::Unpredictable,
            (mode, Some(helo_name)) => Identity::Addresses {
                ips: &s.ips,
                also_authorise: match mode {
                    EgressMode::Cilium(c) => &c.authorize_node_ips,
                    _ => &[],
                },
                helo_name,
                survives_node_replacement: match mode {
                    EgressMode::Static => true,
                    EgressMode::NodeIps => false,
                    _ => s.ip_source == Some(IpSource::FloatingIp),
                },
            },
        }
    }

    /// postfix parameters the egress needs (`name`, `value`), in order, for its `postfix.cf`.
    pub fn postfix_settings(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(name) = &self.helo_override {
            out.push((postfix_params::SMTP_HELO_NAME, name.to_string()));
        }
        if self.relay_needs_implicit_tls() {
            // `relayhost` is the next hop of the default transport (postconf(5) default_transport):
            // pointing that at the TLS-wrapping service changes the relay connection only, not
            // Mailu's per-domain relays (its transport map names `smtp:` itself).
            out.push((
                postfix_params::DEFAULT_TRANSPORT,
                postfix_params::RELAY_TLS_SERVICE.to_owned(),
            ));
        }
        out
    }

    /// `master.cf` entries the egress needs, as `postconf -Me` takes them (`service/type = line`),
    /// for the `postfix.master` override file.
    pub fn postfix_master_entries(&self) -> Vec<String> {
        // `ipv6: disable` confines postfix's SMTP client, not postfix: a global `inet_protocols =
        // ipv4` would also make smtpd refuse front's XCLIENT for every IPv6 client ("5.5.4 Bad
        // ADDR syntax"), so inbound mail from IPv6 senders would bounce (found by the behaviour
        // suite). Each sending transport gets it as its own `-o` (smtp(8) reads it per process).
        let ipv4_only = match self.settings.ipv6 {
            Ipv6Path::Disabled => " -o inet_protocols=ipv4",
            _ => "",
        };
        let entry = |service: &str, options: &str| {
            format!("{service}/unix = {service} unix - - n - - smtp{options}{ipv4_only}")
        };
        let mut out = Vec::new();
        if !ipv4_only.is_empty() {
            // The stock client services of Mailu's master.cf (core/postfix/conf/master.cf), as
            // they are but for the option.
            out.extend(postfix_params::SENDING_SERVICES.map(|service| entry(service, "")));
        }
        if self.relay_needs_implicit_tls() {
            // postfix refuses to send to port 465 without wrapper mode: "SMTPS wrappermode (TCP
            // port 465) requires setting smtp_tls_wrappermode = yes, and
            // smtp_tls_security_level = encrypt".
            out.push(entry(
                postfix_params::RELAY_TLS_SERVICE,
                " -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt",
            ));
        }
        out
    }

    /// The `master.cf` services mailu-k8s writes (to refuse a user's own line for one of them).
    pub fn postfix_master_services(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.settings.ipv6 == Ipv6Path::Disabled {
            out.extend(postfix_params::SENDING_SERVICES);
        }
        if self.relay_needs_implicit_tls() {
            out.push(postfix_params::RELAY_TLS_SERVICE);
        }
        out
    }

    /// A relay on port 465 speaks TLS from the first byte (RFC 8314 §3.3), not STARTTLS.
    fn relay_needs_implicit_tls(&self) -> bool {
        self.relay()
            .is_some_and(|r| r.port.get() == postfix_params::IMPLICIT_TLS_PORT)
    }

    /// The name of a cluster-scoped egress object, `mailu-<namespace>-egress` and a suffix per
    /// address family where there is one object per family: it carries the namespace, so two
    /// Mailu installations never write the same object.
    pub fn object_name(&self, family: Option<Family>) -> String {
        let base = format!("{NAME_PREFIX}{}-egress", self.namespace);
        match family {
            Some(f) => format!("{base}-{}", f.suffix()),
            None => base,
        }
    }

    /// The Cilium policies: IPv4 always, IPv6 when it goes through the gateway (1.20).
    pub fn cilium_policies(&self) -> Vec<CiliumPolicy> {
        let EgressMode::Cilium(c) = &self.settings.mode else {
            return Vec::new();
        };
        let policy = |family: Family, gateways: Vec<CiliumGateway>| CiliumPolicy {
            version: c.version,
            family,
            name: self.object_name(Some(family)),
            gateways,
            destination_cidrs: vec![family.everything().to_owned()],
            excluded_cidrs: c
                .excluded_cidrs
                .iter()
                .filter(|n| Family::of(n) == family)
                .cloned()
                .collect(),
            source_node_selector: c.source_node_selector.clone(),
        };
        let mut out = vec![policy(Family::V4, c.gateways.clone())];
        if let Some(g) = &c.ipv6_gateway {
            out.push(policy(Family::V6, vec![g.clone()]));
        }
        out
    }

    /// The Antrea objects, in `antrea` mode.
    pub fn antrea_plan(&self) -> Option<AntreaPlan> {
        let EgressMode::Antrea(a) = &self.settings.mode else {
            return None;
        };
        let mut ips: Vec<IpAddr> = self.settings.gateway_ips();
        ips.sort_by_key(|ip| ip.is_ipv6());
        let family = |ip: &IpAddr| {
            if ip.is_ipv6() { Family::V6 } else { Family::V4 }
        };
        let (pools, created_pools) = match &a.pool {
            AntreaPool::None => (Vec::new(), Vec::new()),
            AntreaPool::Existing(name) => (vec![name.clone(); ips.len()], Vec::new()),
            AntreaPool::Created { node_selector } => {
                let created: Vec<(String, IpAddr, BTreeMap<String, String>)> = ips
                    .iter()
                    .map(|ip| {
                        (
                            self.object_name(Some(family(ip))),
                            *ip,
                            node_selector.clone(),
                        )
                    })
                    .collect();
                (created.iter().map(|(n, _, _)| n.clone()).collect(), created)
            }
        };
        Some(AntreaPlan {
            egress_name: self.object_name(None),
            ips,
            pools,
            created_pools,
        })
    }

    /// The OVN-Kubernetes `EgressIP` (name, addresses), in `ovn` mode.
    pub fn ovn_egress_ip(&self) -> Option<(String, Vec<IpAddr>)> {
        matches!(self.settings.mode, EgressMode::Ovn)
            .then(|| (self.object_name(None), self.settings.gateway_ips()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Topology;

    fn egress(extra: &str) -> Egress {
        Topology::from_config(&mailu_k8s_config::testing::config(extra)).egress
    }

    #[test]
    fn none_promises_nothing_and_changes_nothing() {
        let e = egress("");
        assert_eq!(e.identity(), Identity::Unpredictable);
        assert!(e.postfix_settings().is_empty());
        assert!(e.cilium_policies().is_empty());
        assert_eq!(e.senders, [Component::Postfix]);
    }

    #[test]
    fn a_gateway_gets_its_own_helo_name() {
        let e = egress(
            "egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.17', nodeSelector: {gw: 'true'}}}\n",
        );
        assert_eq!(
            e.postfix_settings(),
            [("smtp_helo_name", "out.example.com".to_owned())]
        );
        let Identity::Addresses {
            ips,
            helo_name,
            survives_node_replacement,
            ..
        } = e.identity()
        else {
            panic!("addresses")
        };
        assert_eq!(ips, ["203.0.113.10".parse::<IpAddr>().expect("ip")]);
        assert_eq!(helo_name.as_str(), "out.example.com");
        assert!(!survives_node_replacement, "nodeIp is the default source");
        // The HELO name can be the MX host when the egress address is also the inbound one.
        let same =
            egress("egress: {mode: static, ips: [203.0.113.10], heloName: mail.example.com}\n");
        assert!(same.postfix_settings().is_empty());
    }

    #[test]
    fn a_relay_on_port_465_gets_a_tls_wrapping_default_transport() {
        let relay = |port: u16| {
            egress(&format!(
                "egress: {{mode: relay, relay: {{host: smtp.relay.example, port: {port}}}}}\n"
            ))
        };
        let smtps = relay(465);
        assert_eq!(
            smtps.postfix_settings(),
            [("default_transport", "relaysmtps".to_owned())]
        );
        assert_eq!(
            smtps.postfix_master_entries(),
            [
                "relaysmtps/unix = relaysmtps unix - - n - - smtp -o smtp_tls_wrappermode=yes -o smtp_tls_security_level=encrypt"
            ]
        );
        let submission = relay(587);
        assert!(
            submission.postfix_settings().is_empty(),
            "STARTTLS needs nothing"
        );
        assert!(submission.postfix_master_entries().is_empty());
    }

    #[test]
    fn ipv4_only_is_the_smtp_clients_setting() {
        let e = egress(
            "subnet6: fd00:42::/56\negress: {mode: static, ips: [203.0.113.10], ipv6: disable}\n",
        );
        assert_eq!(
            e.postfix_settings(),
            [("smtp_helo_name", "out.example.com".to_owned())]
        );
        // The SMTP client only: smtpd must still take front's XCLIENT for IPv6 clients.
        assert_eq!(
            e.postfix_master_entries(),
            [
                "smtp/unix = smtp unix - - n - - smtp -o inet_protocols=ipv4",
                "relay/unix = relay unix - - n - - smtp -o inet_protocols=ipv4"
            ]
        );
        assert_eq!(e.postfix_master_services(), ["smtp", "relay"]);
    }

    #[test]
    fn cilium_policies_follow_the_release() {
        let dual = "subnet6: fd00:42::/56\nnetworkPolicies: {serviceCidrs: [10.43.0.0/16, 'fd00:43::/112']}\n";
        let v19 = egress(&format!(
            "{dual}egress: {{mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: nodeIps, cilium: {{version: '1.19', nodeSelector: {{gw: 'true'}}}}}}\n"
        ));
        let p = v19.cilium_policies();
        assert_eq!(
            p.len(),
            1,
            "before 1.20 IPv6 never goes through the gateway"
        );
        assert_eq!(p[0].destination_cidrs, ["0.0.0.0/0"]);
        assert_eq!(p[0].excluded_cidrs, ["10.42.0.0/16", "10.43.0.0/16"]);
        assert_eq!(p[0].name, "mailu-mailu-egress-ipv4");
        let v20 = egress(&format!(
            "{dual}egress: {{mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {{version: '1.20', nodeSelector: {{gw: 'true'}}}}}}\n"
        ));
        let p = v20.cilium_policies();
        assert_eq!(p.len(), 2, "separate IPv4 and IPv6 policies");
        assert_eq!(p[1].destination_cidrs, ["::/0"]);
        assert_eq!(p[1].excluded_cidrs, ["fd00:42::/56", "fd00:43::/112"]);
        assert_eq!(
            p[1].gateways[0].source,
            cfg::GatewaySource::EgressIp("2001:db8::10".parse().expect("ip"))
        );
        assert_eq!(
            p[0].gateways[0].source,
            cfg::GatewaySource::EgressIp("203.0.113.10".parse().expect("ip"))
        );
    }

    #[test]
    fn senders_are_postfix_and_the_running_components() {
        let e = egress(
            "components: {fetchmail: true}\negress: {mode: static, ips: [203.0.113.10], components: [fetchmail, resolver]}\n",
        );
        assert_eq!(
            e.senders,
            [
                Component::Postfix,
                Component::Fetchmail,
                Component::Resolver
            ]
        );
    }

    #[test]
    fn antrea_writes_one_pool_per_family() {
        let e = egress(
            "subnet6: fd00:42::/56\negress: {mode: antrea, ips: ['2001:db8::10', 203.0.113.10], antrea: {nodeSelector: {egress: 'true'}}}\n",
        );
        let plan = e.antrea_plan().expect("antrea");
        assert_eq!(plan.ips[0], "203.0.113.10".parse::<IpAddr>().expect("ip"));
        assert_eq!(
            plan.pools,
            ["mailu-mailu-egress-ipv4", "mailu-mailu-egress-ipv6"]
        );
        assert_eq!(plan.created_pools.len(), 2);
        assert_eq!(e.settings.ip_source, Some(IpSource::FloatingIp));
        // With `ipv6: nodeIps` the IPv6 addresses are the nodes': the Egress holds IPv4 only.
        let nodes = egress(
            "subnet6: fd00:42::/56\negress: {mode: antrea, ips: [203.0.113.10, '2001:db8::1', '2001:db8::2'], ipv6: nodeIps}\n",
        );
        let plan = nodes.antrea_plan().expect("antrea");
        assert_eq!(plan.ips, ["203.0.113.10".parse::<IpAddr>().expect("ip")]);
        assert!(plan.pools.is_empty(), "no pool without a nodeSelector");
    }
}
