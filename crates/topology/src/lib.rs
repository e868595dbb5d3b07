//! One model of a Mailu installation: which components run, what each listens on, what state
//! each keeps, and who talks to whom.
//!
//! Every port number lives in [`ports`], every component in [`Component`]. Emitters (manifests,
//! and later routes, NetworkPolicies and DNS) read this model and never spell a port or a
//! service name themselves, so two outputs cannot disagree.

use std::num::NonZeroU16;

/// Components are rows of the config crate's component table (`mailu_k8s_config::component`).
pub use mailu_k8s_config::{Component, NAME_PREFIX};
use mailu_k8s_config::{Compute, Config, Redis as RedisConfig, Volume};

pub mod egress;
pub mod exposure;
pub mod graph;
pub mod mail_dns;
pub mod mailu_env;
pub mod network;
pub mod security;
pub use egress::Egress;
pub use exposure::{Exposure, MailPath, MailRoute, WebPath};

/// A port of a component. `name` is the Kubernetes port name (IANA service name syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub name: &'static str,
    pub number: NonZeroU16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

const fn port(name: &'static str, number: u16) -> Port {
    match NonZeroU16::new(number) {
        Some(number) => Port {
            name,
            number,
            protocol: Protocol::Tcp,
        },
        None => panic!("port 0"),
    }
}

const fn udp_port(name: &'static str, number: u16) -> Port {
    let p = port(name, number);
    Port {
        protocol: Protocol::Udp,
        ..p
    }
}

/// Every port number in the installation, in one place.
pub mod ports {
    use super::{Port, port, udp_port};

    // Front, public.
    pub const HTTP: Port = port("http", 80);
    pub const HTTPS: Port = port("https", 443);
    pub const SMTP: Port = port("smtp", 25);
    pub const SUBMISSIONS: Port = port("submissions", 465);
    pub const SUBMISSION: Port = port("submission", 587);
    pub const IMAPS: Port = port("imaps", 993);
    pub const POP3S: Port = port("pop3s", 995);
    // Front, internal: postfix delivers to front's LMTP proxy, which forwards to dovecot; dovecot
    // and webmail submit through front, which authenticates and hands to postfix.
    pub const LMTP: Port = port("lmtp", 2525);
    pub const SUBMISSION_INTERNAL: Port = port("smtp-internal", 10025);
    /// front's IMAP and sieve for webmail (authenticated by front, STARTTLS).
    pub const IMAP_INTERNAL: Port = port("imap-internal", 10143);
    pub const SIEVE_INTERNAL: Port = port("sieve-internal", 14190);
    /// front's own health endpoint, bound to localhost (probed by exec, not by the kubelet).
    pub const FRONT_HEALTH: u16 = 10204;

    // Dovecot, and front in front of it.
    pub const IMAP: Port = port("imap", 143);
    pub const POP3: Port = port("pop3", 110);
    pub const SIEVE: Port = port("sieve", 4190);

    /// The port front offers a mail service on.
    pub fn mail(service: mailu_k8s_config::MailService) -> Port {
        use mailu_k8s_config::MailService as S;
        match service {
            S::Smtp => SMTP,
            S::Submissions => SUBMISSIONS,
            S::Submission => SUBMISSION,
            S::Imaps => IMAPS,
            S::Pop3s => POP3S,
            S::Imap => IMAP,
            S::Pop3 => POP3,
            S::Sieve => SIEVE,
        }
    }

    // Admin.
    pub const ADMIN_HTTP: Port = port("http", 8080);

    // Rspamd.
    pub const RSPAMD_MILTER: Port = port("milter", 11332);
    pub const RSPAMD_CONTROLLER: Port = port("controller", 11334);

    // Redis.
    pub const REDIS: Port = port("redis", 6379);

    // Optional components.
    pub const WEBMAIL_HTTP: Port = port("http", 80);
    pub const CLAMD: Port = port("clamd", 3310);
    pub const RADICALE: Port = port("http", 5232);
    pub const OLETOOLS: Port = port("oletools", 11343);
    pub const TIKA: Port = port("http", 9998);
    pub const DNS: Port = udp_port("dns", 53);
    pub const DNS_TCP: Port = port("dns-tcp", 53);
}

/// How a component's single volume is mounted: one PVC, one sub-directory per mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mount {
    pub sub_path: &'static str,
    pub mount_path: &'static str,
}

/// Where each stateful component keeps its data: one sub-directory of its volume per mount.
/// These paths are an installation's data; `volume_names_are_stable` pins them.
/// certbot's account and certificates (front with the letsencrypt flavors).
const FRONT_CERTBOT_MOUNTS: &[Mount] = &[Mount {
    sub_path: "certs",
    mount_path: "/certs",
}];
const ADMIN_MOUNTS: &[Mount] = &[
    Mount {
        sub_path: "data",
        mount_path: "/data",
    },
    Mount {
        sub_path: "dkim",
        mount_path: "/dkim",
    },
];
const POSTFIX_MOUNTS: &[Mount] = &[Mount {
    sub_path: "queue",
    mount_path: "/queue",
}];
/// Only /mail: nothing in Mailu 2024.06's dovecot writes to /data.
const DOVECOT_MOUNTS: &[Mount] = &[Mount {
    sub_path: "mail",
    mount_path: "/mail",
}];
const RSPAMD_MOUNTS: &[Mount] = &[Mount {
    sub_path: "rspamd",
    mount_path: "/var/lib/rspamd",
}];
const REDIS_MOUNTS: &[Mount] = &[Mount {
    sub_path: "redis",
    mount_path: "/data",
}];
const WEBMAIL_MOUNTS: &[Mount] = &[Mount {
    sub_path: "webmail",
    mount_path: "/data",
}];
const WEBDAV_MOUNTS: &[Mount] = &[Mount {
    sub_path: "webdav",
    mount_path: "/data",
}];
const FETCHMAIL_MOUNTS: &[Mount] = &[Mount {
    sub_path: "fetchmail",
    mount_path: "/data",
}];
const CLAMAV_MOUNTS: &[Mount] = &[Mount {
    sub_path: "clamav",
    mount_path: "/var/lib/clamav",
}];

/// A running component: what it listens on and keeps, and how Kubernetes runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub component: Component,
    /// Container ports, also published by its Service.
    pub ports: Vec<Port>,
    /// Mounts of the component's persistent volume; empty for stateless components.
    pub mounts: &'static [Mount],
    pub controller: Controller,
    /// Pod count (a DaemonSet's comes from its nodes).
    pub replicas: u32,
    /// Ports also bound on the node's own address (front with `exposure.hostPort`).
    pub host_ports: Vec<Port>,
}

/// How Kubernetes runs a workload's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// A Deployment. `recreate`: the old pod must stop before its replacement starts, because
    /// a ReadWriteOnce volume attaches to one node at a time or hostPorts bind once per node;
    /// otherwise one extra pod at a time, never one fewer.
    Deployment { recreate: bool },
    /// One pod per selected node (front with `exposure.daemonSet`), replaced node by node.
    DaemonSet,
    /// A volume per replica from a claim template (ClamAV's signatures).
    StatefulSet,
}

impl Workload {
    /// Whether each replica gets its own claim (from a template) rather than sharing one.
    pub fn claim_per_replica(&self) -> bool {
        self.controller == Controller::StatefulSet
    }

    /// Whether drains must take its pods one at a time: it runs more than one.
    pub fn needs_disruption_budget(&self) -> bool {
        self.replicas > 1 || self.controller == Controller::DaemonSet
    }
}

/// One component reaching another on a port: the basis for `*_ADDRESS` wiring, Service checks and
/// (later) NetworkPolicies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    pub from: Component,
    pub to: Component,
    pub port: Port,
}

const fn link(from: Component, to: Component, port: Port) -> Connection {
    Connection { from, to, port }
}

/// The core components' connections.
const CORE_CONNECTIONS: [Connection; 15] = {
    use Component::*;
    use ports::*;
    [
        // Authentication and lookups: front (nginx auth and its dovecot proxy), postfix and
        // dovecot (podop maps), rspamd (domains, DKIM keys) ask admin.
        link(Front, Admin, ADMIN_HTTP),
        link(Postfix, Admin, ADMIN_HTTP),
        link(Dovecot, Admin, ADMIN_HTTP),
        link(Rspamd, Admin, ADMIN_HTTP),
        // Mail flow: front hands authenticated clients to the backend admin names.
        link(Front, Postfix, SMTP),
        link(Front, Postfix, SUBMISSION_INTERNAL),
        link(Front, Dovecot, IMAP),
        link(Front, Dovecot, POP3),
        link(Front, Dovecot, LMTP),
        link(Front, Dovecot, SIEVE),
        // postfix delivers through front's LMTP proxy (main.cf `lmtp:inet:FRONT_ADDRESS:2525`).
        link(Postfix, Front, LMTP),
        // admin sends welcome mail over LMTP to front (models.py line 430).
        link(Admin, Front, LMTP),
        link(Postfix, Rspamd, RSPAMD_MILTER),
        // front serves rspamd's UI under WEB_ADMIN/antispam; dovecot's learning scripts
        // call rspamc on the controller.
        link(Front, Rspamd, RSPAMD_CONTROLLER),
        link(Dovecot, Rspamd, RSPAMD_CONTROLLER),
    ]
};

/// Where Mailu finds Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisEndpoint {
    pub host: String,
    pub port: NonZeroU16,
}

impl RedisEndpoint {
    /// `REDIS_ADDRESS` as Mailu reads it: the host, with `:port` only when not 6379.
    pub fn address(&self) -> String {
        if self.port == ports::REDIS.number {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The installation's topology.
#[derive(Debug, Clone)]
pub struct Topology {
    pub namespace: String,
    pub cluster_domain: String,
    pub workloads: Vec<Workload>,
    pub connections: Vec<Connection>,
    /// How clients reach front: Mailu's `PORTS`, `PROXY_PROTOCOL`, `REAL_IP_*`, `TLS_FLAVOR`,
    /// front's public ports and the edge routes all come from here.
    pub exposure: Exposure,
    pub redis: RedisEndpoint,
    /// The resolver Service's fixed address, when Mailu's resolver runs.
    pub resolver: Option<std::net::IpAddr>,
    /// Where outbound mail leaves from.
    pub egress: Egress,
}

impl Topology {
    /// The components `config` runs, in [`Component::ALL`] order, who talks to whom, and how
    /// each runs.
    pub fn from_config(config: &Config) -> Topology {
        let namespace = config.namespace.clone();
        let cluster_domain = config.cluster_domain.as_str().to_owned();
        let mut t = Topology {
            redis: redis_endpoint(config, &namespace, &cluster_domain),
            namespace,
            cluster_domain,
            workloads: Vec::new(),
            connections: Vec::new(),
            exposure: Exposure::from_config(config),
            resolver: config.components.resolver.as_ref().map(|r| r.service_ip),
            egress: Egress::from_config(config, &[]),
        };
        t.add_core(config);
        if matches!(config.redis, RedisConfig::Bundled) {
            t.add_bundled_redis(config);
        }
        t.add_optional(config);
        if t.resolver.is_some() {
            t.add_resolver(config);
        }
        // The egress path selects among the workloads that run.
        t.egress = Egress::from_config(config, &t.workloads);
        t
    }

    /// Adds a running component and the connections it opens or answers.
    fn add(
        &mut self,
        config: &Config,
        component: Component,
        ports: Vec<Port>,
        mounts: &'static [Mount],
        connections: impl IntoIterator<Item = Connection>,
    ) {
        let host_ports = if component == Component::Front && self.exposure.host_port {
            self.exposure.directly_published_ports()
        } else {
            Vec::new()
        };
        self.workloads.push(Workload {
            component,
            ports,
            mounts,
            controller: controller(config, &self.exposure, component, mounts),
            replicas: config
                .workloads
                .get(component.name())
                .map_or(1, |s| s.replicas),
            host_ports,
        });
        self.connections.extend(connections);
    }

    /// front, admin, postfix, dovecot and rspamd.
    fn add_core(&mut self, config: &Config) {
        use Component::*;
        use ports::*;

        let mut front_ports = self.exposure.front_public_ports.clone();
        front_ports.extend(FRONT_INTERNAL_PORTS);
        if config.components.webmail.is_some() {
            front_ports.extend(FRONT_WEBMAIL_PORTS);
        }
        let front_mounts = if self.exposure.front_runs_certbot() {
            FRONT_CERTBOT_MOUNTS
        } else {
            &[]
        };
        self.add(config, Front, front_ports, front_mounts, []);
        self.add(config, Admin, vec![ADMIN_HTTP], ADMIN_MOUNTS, []);
        self.add(
            config,
            Postfix,
            vec![SMTP, SUBMISSION_INTERNAL],
            POSTFIX_MOUNTS,
            [],
        );
        self.add(
            config,
            Dovecot,
            vec![IMAP, POP3, LMTP, SIEVE],
            DOVECOT_MOUNTS,
            [],
        );
        // No fuzzy port: rspamd's fuzzy worker is UDP and bound to localhost
        // (core/rspamd/conf/worker-fuzzy.inc).
        self.add(
            config,
            Rspamd,
            vec![RSPAMD_MILTER, RSPAMD_CONTROLLER],
            RSPAMD_MOUNTS,
            [],
        );
        self.connections.extend(CORE_CONNECTIONS);
        // dovecot submits sieve mail (redirects, vacation) to `submission_host`: front's port
        // 25, or with PROXY protocol on 25 the public host name through the edge (dovecot.conf
        // lines 8-12).
        if !self.exposure.proxies_port(SMTP) {
            self.connections.push(link(Dovecot, Front, SMTP));
        }
    }

    /// The bundled Redis, which admin (rate limits, sessions) and rspamd use.
    fn add_bundled_redis(&mut self, config: &Config) {
        use Component::*;
        self.add(
            config,
            Redis,
            vec![ports::REDIS],
            REDIS_MOUNTS,
            [
                link(Admin, Redis, ports::REDIS),
                link(Rspamd, Redis, ports::REDIS),
            ],
        );
    }

    /// The optional components that are switched on, in [`Component::ALL`] order.
    fn add_optional(&mut self, config: &Config) {
        use Component::*;
        use ports::*;

        let k = &config.components;
        if k.webmail.is_some() {
            self.add(
                config,
                Webmail,
                vec![WEBMAIL_HTTP],
                WEBMAIL_MOUNTS,
                [
                    link(Front, Webmail, WEBMAIL_HTTP),
                    link(Webmail, Front, IMAP_INTERNAL),
                    link(Webmail, Front, SUBMISSION_INTERNAL),
                    link(Webmail, Front, SIEVE_INTERNAL),
                ],
            );
        }
        if k.clamav {
            self.add(
                config,
                Clamav,
                vec![CLAMD],
                CLAMAV_MOUNTS,
                [link(Rspamd, Clamav, CLAMD)],
            );
        }
        if k.fetchmail {
            // fetchmail.py line 77: mail to scan goes to front:25 (the public name when 25
            // carries PROXY protocol), unscanned mail to front's LMTP.
            let scan = (!self.exposure.proxies_port(SMTP)).then_some(link(Fetchmail, Front, SMTP));
            self.add(
                config,
                Fetchmail,
                vec![],
                FETCHMAIL_MOUNTS,
                [
                    link(Fetchmail, Admin, ADMIN_HTTP),
                    link(Fetchmail, Front, LMTP),
                ]
                .into_iter()
                .chain(scan),
            );
        }
        if k.webdav {
            self.add(
                config,
                Webdav,
                vec![RADICALE],
                WEBDAV_MOUNTS,
                [link(Front, Webdav, RADICALE)],
            );
        }
        if k.oletools {
            self.add(
                config,
                Oletools,
                vec![OLETOOLS],
                &[],
                [link(Rspamd, Oletools, OLETOOLS)],
            );
        }
        if k.tika {
            self.add(config, Tika, vec![TIKA], &[], [link(Dovecot, Tika, TIKA)]);
        }
    }

    /// The resolver, which every pod that uses it reaches over UDP and TCP.
    fn add_resolver(&mut self, config: &Config) {
        use Component::Resolver;
        use ports::{DNS, DNS_TCP};

        let clients: Vec<Component> = self
            .workloads
            .iter()
            .map(|w| w.component)
            .filter(|c| c.uses_mailu_resolver())
            .collect();
        let links = clients
            .into_iter()
            .flat_map(|from| [link(from, Resolver, DNS), link(from, Resolver, DNS_TCP)]);
        self.add(config, Resolver, vec![DNS, DNS_TCP], &[], links);
    }

    pub fn workload(&self, component: Component) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.component == component)
    }

    /// The in-cluster DNS name of a component's Service.
    pub fn fqdn(&self, component: Component) -> String {
        service_fqdn(component, &self.namespace, &self.cluster_domain)
    }

    /// Mailu's `PORTS`: what front listens on for clients, in ascending order. With webmail,
    /// 4190 is listed even when not offered: front's sieve listener for webmail (14190) exists
    /// only with `PORT_4190` (core/nginx/dovecot/proxy.conf line 78). Listing it publishes
    /// nothing: front's Services and routes follow the exposure.
    pub fn mailu_ports_env(&self) -> String {
        let mut ports = self.exposure.front_public_ports.clone();
        if self.workload(Component::Webmail).is_some() {
            ports.push(ports::SIEVE);
        }
        port_list(&ports)
    }
}

/// Where Mailu finds Redis: the bundled one's Service, or the configured external one.
fn redis_endpoint(config: &Config, namespace: &str, cluster_domain: &str) -> RedisEndpoint {
    match &config.redis {
        RedisConfig::Bundled => RedisEndpoint {
            host: service_fqdn(Component::Redis, namespace, cluster_domain),
            port: ports::REDIS.number,
        },
        RedisConfig::External { host, port } => RedisEndpoint {
            host: host.as_str().to_owned(),
            port: *port,
        },
    }
}

/// How a component's pods run: ClamAV as a StatefulSet (a signature volume per replica), front
/// as a DaemonSet with `exposure.daemonSet`, everything else as a Deployment, which stops the
/// old pod first when its volume attaches to one node at a time or it binds hostPorts.
fn controller(
    config: &Config,
    exposure: &Exposure,
    component: Component,
    mounts: &[Mount],
) -> Controller {
    if component == Component::Clamav {
        return Controller::StatefulSet;
    }
    if component == Component::Front && config.exposure.daemon_set.is_some() {
        return Controller::DaemonSet;
    }
    let exclusive_volume =
        !mounts.is_empty() && !volume(config, component).is_some_and(|v| v.shared_across_nodes());
    let binds_host_ports = component == Component::Front && exposure.host_port;
    Controller::Deployment {
        recreate: exclusive_volume || binds_host_ports,
    }
}

/// The volume settings of a component that keeps state.
pub fn volume(config: &Config, component: Component) -> Option<&Volume> {
    config.storage.volume(component)
}

/// A component's CPU and memory: the config's value for it (defaults included).
pub fn resources(config: &Config, component: Component) -> &Compute {
    config.resources.compute(component)
}

/// front's ports for other components only: never published outside the cluster.
pub const FRONT_INTERNAL_PORTS: [Port; 2] = [ports::LMTP, ports::SUBMISSION_INTERNAL];
/// front's further internal ports when webmail runs.
pub const FRONT_WEBMAIL_PORTS: [Port; 2] = [ports::IMAP_INTERNAL, ports::SIEVE_INTERNAL];

/// Comma-separated port numbers in ascending order, as Mailu's list variables take them.
pub fn port_list(ports: &[Port]) -> String {
    let mut numbers: Vec<u16> = ports.iter().map(|p| p.number.get()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn service_fqdn(component: Component, namespace: &str, cluster_domain: &str) -> String {
    format!(
        "{}.{namespace}.svc.{cluster_domain}",
        component.object_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(extra: &str) -> Topology {
        Topology::from_config(&mailu_k8s_config::testing::config(extra))
    }

    #[test]
    fn every_connection_targets_a_port_its_workload_listens_on() {
        let t = topology("");
        for c in &t.connections {
            let target = t.workload(c.to).expect("target runs");
            assert!(target.ports.contains(&c.port), "{c:?}");
            assert!(t.workload(c.from).is_some(), "{c:?}");
        }
    }

    #[test]
    fn ports_env_follows_flavor_and_offered_ports() {
        // `cert`: front serves HTTPS itself.
        assert_eq!(topology("").mailu_ports_env(), "25,80,443,465,587,993,995");
        // `mail` behind an HTTPS ingress: no 443 on front.
        assert_eq!(
            topology("ingress: {type: traefik}\n").mailu_ports_env(),
            "25,80,465,587,993,995"
        );
        assert_eq!(
            topology("exposure: {ports: {pop3s: false, imap: true, sieve: true}}\n")
                .mailu_ports_env(),
            "25,80,143,443,465,587,993,4190"
        );
    }

    #[test]
    fn port_names_are_valid_kubernetes_port_names_and_unique_per_workload() {
        for w in topology("").workloads {
            let mut names: Vec<_> = w.ports.iter().map(|p| p.name).collect();
            for n in &names {
                assert!(
                    n.len() <= 15
                        && n.bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
                );
                assert!(n.bytes().any(|b| b.is_ascii_lowercase()));
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), w.ports.len(), "{:?}", w.component);
        }
    }

    /// The component table says which components have a Service; the ports here decide it.
    #[test]
    fn components_without_ports_are_the_table_s_components_without_service() {
        let every = topology(
            "components: {webmail: true, clamav: true, fetchmail: true, webdav: true, \
             oletools: true, tika: true}\n",
        );
        assert_eq!(every.workloads.len(), Component::ALL.len());
        for w in &every.workloads {
            assert_eq!(
                w.ports.is_empty(),
                !w.component.has_service(),
                "{:?}",
                w.component
            );
        }
        assert_eq!(
            mailu_k8s_config::file::defaults::redis_port(),
            ports::REDIS.number
        );
    }

    #[test]
    fn redis_address_follows_the_config() {
        let bundled = topology("");
        assert_eq!(
            bundled.redis.address(),
            "mailu-redis.mailu.svc.cluster.local"
        );
        assert!(bundled.workload(Component::Redis).is_some());
        let external = topology(
            "redis: {host: redis.cache, port: 6380}\nnetworkPolicies: {redis: {namespace: cache}}\n",
        );
        assert_eq!(external.redis.address(), "redis.cache:6380");
        assert!(external.workload(Component::Redis).is_none());
        assert!(
            external
                .connections
                .iter()
                .all(|c| c.to != Component::Redis)
        );
    }

    #[test]
    fn each_workload_runs_the_way_its_state_and_ports_allow() {
        let t = topology(
            "components: {clamav: true, tika: true}\nworkloads: {tika: {replicas: 2}}\nexposure: {hostPort: true}\n",
        );
        let w = |c| t.workload(c).expect("runs");
        // A ReadWriteOnce volume, or hostPorts: the old pod stops first.
        assert_eq!(
            w(Component::Admin).controller,
            Controller::Deployment { recreate: true }
        );
        assert_eq!(
            w(Component::Front).controller,
            Controller::Deployment { recreate: true }
        );
        assert!(!w(Component::Front).host_ports.is_empty());
        assert!(w(Component::Admin).host_ports.is_empty());
        assert_eq!(
            w(Component::Tika).controller,
            Controller::Deployment { recreate: false }
        );
        assert!(w(Component::Tika).needs_disruption_budget());
        assert!(!w(Component::Admin).needs_disruption_budget());
        assert!(w(Component::Clamav).claim_per_replica());

        let t = topology("exposure: {hostPort: true, daemonSet: {nodeSelector: {mx: 'true'}}}\n");
        let front = t.workload(Component::Front).expect("front");
        assert_eq!(front.controller, Controller::DaemonSet);
        assert!(front.needs_disruption_budget());
    }

    #[test]
    fn addresses_follow_namespace_and_cluster_domain() {
        let t = topology("namespace: mail\nclusterDomain: k8s.internal\n");
        assert_eq!(
            t.fqdn(Component::Admin),
            "mailu-admin.mail.svc.k8s.internal"
        );
        assert_eq!(
            t.fqdn(Component::Postfix),
            "mailu-postfix.mail.svc.k8s.internal"
        );
    }
}

#[cfg(test)]
mod runs_tests {
    use super::*;

    /// The config layer decides which `workloads.<c>` entries are allowed from the file, before a
    /// `Config` exists; it must agree with the topology on which components run.
    #[test]
    fn config_and_topology_agree_on_what_runs() {
        for extra in [
            "",
            "components: {webmail: true, clamav: true, fetchmail: true, webdav: true, oletools: true, tika: true}\n",
            "components: {resolver: false}\nredis: {host: r.cache}\nnetworkPolicies: {redis: {namespace: cache}}\n",
        ] {
            let resolver = if extra.contains("resolver: false") {
                ""
            } else {
                "resolver: {serviceIP: 10.43.0.53}\n"
            };
            let text = format!(
                "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {{mailuSecretKey: k}}\n{resolver}{extra}"
            );
            let doc = mailu_k8s_config::parse_document(text.as_bytes()).expect("yaml");
            let file: mailu_k8s_config::file::ConfigFile =
                serde_json::from_value(doc).expect("file");
            let config = mailu_k8s_config::load(text.as_bytes())
                .expect("valid")
                .config;
            let t = Topology::from_config(&config);
            for c in Component::ALL {
                assert_eq!(
                    mailu_k8s_config::validate_workloads::runs(&file, c),
                    t.workload(c).is_some(),
                    "{c:?} with {extra}"
                );
            }
        }
    }
}
