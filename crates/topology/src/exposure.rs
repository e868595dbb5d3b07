//! How clients reach front: one model from which Mailu's `PORTS`, `PROXY_PROTOCOL`,
//! `REAL_IP_FROM`, `REAL_IP_HEADER` and `TLS_FLAVOR`, front's public ports, its Services and
//! the edge routes are all derived.

use mailu_k8s_config::{Config, IpFamilyPolicy, MailService, TlsFlavor};

use crate::{Port, port_list, ports};

/// How a mail port reaches front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailPath {
    /// Through the ingress's L4 proxy (Traefik or a Gateway), with PROXY protocol v2.
    Proxy,
    /// Straight to front's public Service (`LoadBalancer`/`NodePort`, `externalTrafficPolicy:
    /// Local`) and/or a hostPort: the client's IP arrives as the source address.
    Direct,
    /// Only inside the cluster (front's Service is `ClusterIP` and nothing routes mail).
    ClusterOnly,
}

/// One offered mail service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailRoute {
    pub service: MailService,
    pub port: Port,
    pub path: MailPath,
}

impl MailRoute {
    /// Whether front must expect a PROXY header on this port.
    pub fn proxy_protocol(&self) -> bool {
        self.path == MailPath::Proxy
    }
}

/// How web traffic reaches front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebPath {
    /// An ingress terminates HTTPS and forwards plain HTTP to front's port 80.
    EdgeToHttp,
    /// Clients reach front's own ports (HTTPS served by front with `cert`/`letsencrypt`).
    Direct,
}

#[derive(Debug, Clone)]
pub struct Exposure {
    pub tls_flavor: TlsFlavor,
    pub web: WebPath,
    pub mail: Vec<MailRoute>,
    /// Everything front listens on for clients (web and mail): Mailu's `PORTS`.
    pub front_public_ports: Vec<Port>,
    /// Mailu's `REAL_IP_FROM` entries.
    pub real_ip_from: Vec<String>,
    /// Mailu's `REAL_IP_HEADER`.
    pub real_ip_header: Option<String>,
    /// Whether front's public ports are also bound on its node.
    pub host_port: bool,
    /// `spec.ipFamilyPolicy` of front's public Service: by default `PreferDualStack` on a
    /// dual-stack cluster (`subnet6`), since the DNS plan may publish an AAAA record for the
    /// mail host and a single-stack Service would leave it unanswered; `None` leaves the
    /// cluster's default.
    pub ip_family_policy: Option<IpFamilyPolicy>,
}

impl Exposure {
    pub fn from_config(config: &Config) -> Exposure {
        let x = &config.exposure;
        let tls_flavor = config.tls.flavor;
        let web = if config.edge.terminates_https() {
            WebPath::EdgeToHttp
        } else {
            WebPath::Direct
        };
        let direct = x.service.kind != mailu_k8s_config::ServiceType::ClusterIP || x.host_port;
        let path = if config.edge.carries_mail() {
            MailPath::Proxy
        } else if direct {
            MailPath::Direct
        } else {
            MailPath::ClusterOnly
        };
        let mail: Vec<MailRoute> = x
            .offered
            .iter()
            .map(|&service| MailRoute {
                service,
                port: ports::mail(service),
                path,
            })
            .collect();

        // front always listens on 80 (the ingress's backend, the HTTPS redirect, ACME); on 443
        // only when it serves HTTPS itself.
        let mut front_public_ports = vec![ports::HTTP];
        if matches!(tls_flavor, TlsFlavor::Cert | TlsFlavor::Letsencrypt) {
            front_public_ports.push(ports::HTTPS);
        }
        front_public_ports.extend(mail.iter().map(|r| r.port));

        Exposure {
            tls_flavor,
            web,
            mail,
            front_public_ports,
            real_ip_from: x.real_ip_from.clone(),
            real_ip_header: x.real_ip_header.clone(),
            host_port: x.host_port,
            ip_family_policy: IpFamilyPolicy::of_front(
                x.service.ip_family_policy,
                config.subnet6.is_some(),
            ),
        }
    }

    /// Mailu's `PROXY_PROTOCOL`: the ports that must carry a PROXY header, or `None`.
    pub fn proxy_protocol_env(&self) -> Option<String> {
        let proxied: Vec<Port> = self
            .mail
            .iter()
            .filter(|r| r.proxy_protocol())
            .map(|r| r.port)
            .collect();
        (!proxied.is_empty()).then(|| port_list(&proxied))
    }

    /// Whether connections to front's `port` must start with a PROXY header.
    pub fn proxies_port(&self, port: Port) -> bool {
        self.mail
            .iter()
            .any(|r| r.port == port && r.proxy_protocol())
    }

    /// front obtains its own certificates (and needs somewhere to keep them).
    pub fn front_runs_certbot(&self) -> bool {
        matches!(
            self.tls_flavor,
            TlsFlavor::Letsencrypt | TlsFlavor::MailLetsencrypt
        )
    }

    /// The public ports that leave the cluster through front's own public Service or hostPorts:
    /// web when no ingress carries it, and directly exposed mail.
    pub fn directly_published_ports(&self) -> Vec<Port> {
        let mut out = Vec::new();
        if self.web == WebPath::Direct {
            out.extend(
                self.front_public_ports
                    .iter()
                    .filter(|p| p.number == ports::HTTP.number || p.number == ports::HTTPS.number),
            );
        }
        out.extend(
            self.mail
                .iter()
                .filter(|r| r.path == MailPath::Direct)
                .map(|r| r.port),
        );
        out
    }
}
