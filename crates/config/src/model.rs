//! The validated configuration. Every value here has been checked; emitters use it as is and
//! never re-validate.

use std::num::NonZeroU16;

use std::collections::BTreeMap;

use crate::component::Component;

pub use crate::egress::Relay;
pub use crate::file::{
    AccessMode, AntivirusAction, BrandingFile as Branding, DmarcFile as Dmarc, InitialAccountMode,
    IpFamilyPolicy, IssuerKind, LogLevel, OutboundTlsLevel, PullPolicy,
    RateLimitsFile as RateLimits, ServiceType, TlsFlavor, TlsPolicyFile as TlsPolicy,
    TolerationFile as Toleration, TrafficPolicy, WebPathsFile as WebPaths, WebmailType,
    WelcomeFile as Welcome, WhenUnsatisfiable,
};
pub use crate::rules::{DnsName, Ipv4Cidr, Ipv6Cidr, Quantity};

/// A validated mailu-k8s configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub namespace: String,
    pub create_namespace: bool,
    pub cluster_domain: DnsName,
    pub domain: DnsName,
    pub hostnames: Hostnames,
    pub subnet: Ipv4Cidr,
    pub subnet6: Option<Ipv6Cidr>,
    pub timezone: String,
    pub database: Database,
    pub redis: Redis,
    pub secrets: Secrets,
    pub storage: Storage,
    pub resources: Resources,
    pub components: Components,
    /// Settings of every component's workload, by component name (`front`, `admin`, ...);
    /// every name is present, with defaults and `pods` merged in.
    pub workloads: BTreeMap<&'static str, WorkloadSettings>,
    pub mailu: Mailu,
    pub images: Images,
    pub tls: Tls,
    pub edge: Edge,
    pub exposure: Exposure,
    /// `None` when the operator turned NetworkPolicies off.
    pub network_policies: Option<NetworkPolicies>,
    /// Outbound mail's source address.
    pub egress: crate::egress::Egress,
    /// What the DNS plan publishes beyond MX, SPF and PTR.
    pub dns: crate::dns::Dns,
}

/// What the NetworkPolicies need to know beyond the topology: where the cluster's own
/// networks, DNS, ingress proxy, allowed senders and external services are.
#[derive(Debug, Clone)]
pub struct NetworkPolicies {
    /// Pod and Service CIDRs: never reached through an "internet" rule.
    pub cluster_cidrs: Vec<String>,
    pub cluster_dns: Peer,
    /// The ingress proxy's pods, when an ingress forwards to front.
    pub edge: Option<Peer>,
    pub submission_from: Vec<Peer>,
    pub database: Option<Peer>,
    pub redis: Option<Peer>,
}

/// Pods of another namespace, or networks outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Pods {
        namespace: String,
        /// Empty: every pod of the namespace.
        pod_labels: BTreeMap<String, String>,
    },
    Cidrs(Vec<String>),
}

/// The public host names; there is always a primary one.
#[derive(Debug, Clone)]
pub struct Hostnames {
    pub primary: DnsName,
    pub others: Vec<DnsName>,
}

impl Hostnames {
    pub fn all(&self) -> impl Iterator<Item = &DnsName> {
        std::iter::once(&self.primary).chain(self.others.iter())
    }
}

#[derive(Debug, Clone)]
pub enum Database {
    /// SQLite on admin's volume.
    Sqlite,
    Postgresql(Postgresql),
}

#[derive(Debug, Clone)]
pub struct Postgresql {
    pub host: DnsName,
    pub port: NonZeroU16,
    pub database: String,
    pub credentials: SecretKeys,
}

/// A Secret and the keys inside it that hold a user name and a password.
#[derive(Debug, Clone)]
pub struct SecretKeys {
    pub secret_name: String,
    pub username_key: String,
    pub password_key: String,
}

#[derive(Debug, Clone)]
pub enum Redis {
    /// A Redis Deployment in the namespace, created by mailu-k8s.
    Bundled,
    External {
        host: DnsName,
        port: NonZeroU16,
    },
}

/// A key inside a Secret that the user creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub key: &'static str,
}

#[derive(Debug, Clone)]
pub struct Secrets {
    /// Key `secret-key`: Mailu's `SECRET_KEY`.
    pub mailu_secret_key: SecretRef,
}

/// Well-known keys inside the Secrets named in `secrets`.
pub mod secret_keys {
    pub const SECRET_KEY: &str = "secret-key";
    pub const INITIAL_ADMIN_PASSWORD: &str = "password";
    pub const API_TOKEN: &str = "api-token";
}

/// A persistent volume: a claim mailu-k8s creates, or an existing one.
#[derive(Debug, Clone)]
pub struct Volume {
    pub size: Quantity,
    pub storage_class: Option<String>,
    pub access_modes: Vec<AccessMode>,
    /// Use this claim; create none.
    pub existing_claim: Option<String>,
}

impl Volume {
    /// Whether pods on different nodes can mount it at once.
    pub fn shared_across_nodes(&self) -> bool {
        self.existing_claim.is_none() && self.access_modes.contains(&AccessMode::ReadWriteMany)
    }
}

/// Volumes of the components that keep state, by component.
#[derive(Debug, Clone)]
pub struct Storage {
    volumes: BTreeMap<Component, Volume>,
}

impl Storage {
    /// `volumes` must hold one for every component with a `storage` key.
    pub(crate) fn new(volumes: BTreeMap<Component, Volume>) -> Storage {
        Storage { volumes }
    }

    /// The volume of a component that keeps state (front's is used only when it runs certbot);
    /// `None` for a stateless one.
    pub fn volume(&self, component: Component) -> Option<&Volume> {
        self.volumes.get(&component)
    }
}

/// CPU and memory.
#[derive(Debug, Clone)]
pub struct CpuMemory {
    pub cpu: Quantity,
    pub memory: Quantity,
}

/// CPU and memory limits; `None` where the config removed the default limit (`null`).
#[derive(Debug, Clone)]
pub struct Limits {
    pub cpu: Option<Quantity>,
    pub memory: Option<Quantity>,
}

/// Requests and limits; each request is at most its limit.
#[derive(Debug, Clone)]
pub struct Compute {
    pub requests: CpuMemory,
    pub limits: Limits,
}

/// Requests and limits of every component's main container.
#[derive(Debug, Clone)]
pub struct Resources {
    compute: [Compute; Component::ALL.len()],
}

impl Resources {
    /// `compute` in [`Component::ALL`] order.
    pub(crate) fn new(compute: [Compute; Component::ALL.len()]) -> Resources {
        Resources { compute }
    }

    /// A component's CPU and memory (defaults included).
    pub fn compute(&self, component: Component) -> &Compute {
        &self.compute[component as usize]
    }
}

/// The optional components that run.
#[derive(Debug, Clone)]
pub struct Components {
    pub webmail: Option<Webmail>,
    pub clamav: bool,
    pub fetchmail: bool,
    pub webdav: bool,
    pub oletools: bool,
    pub tika: bool,
    /// `None`: pods use the cluster's DNS.
    pub resolver: Option<Resolver>,
}

#[derive(Debug, Clone)]
pub struct Webmail {
    pub kind: WebmailType,
    /// `None` keeps Mailu's default list.
    pub roundcube_plugins: Option<Vec<String>>,
    /// `None`: SQLite on webmail's volume.
    pub roundcube_database: Option<RoundcubeDatabase>,
}

#[derive(Debug, Clone)]
pub struct RoundcubeDatabase {
    pub host: DnsName,
    pub port: NonZeroU16,
    pub database: String,
    pub credentials: SecretKeys,
}

#[derive(Debug, Clone)]
pub struct Resolver {
    /// The resolver Service's fixed `clusterIP`, named in every Mailu pod's `dnsConfig`.
    pub service_ip: std::net::IpAddr,
}

#[derive(Debug, Clone)]
pub struct Mailu {
    pub log_level: LogLevel,
    /// Megabytes (10^6 bytes).
    pub message_size_limit_mb: u32,
    pub initial_account: Option<InitialAccount>,
    pub api: Option<Api>,
    /// Languages; empty means off.
    pub full_text_search: Vec<String>,
    pub antivirus_action: AntivirusAction,
    pub fetchmail_delay_seconds: u32,
    pub relay_nets: Vec<String>,
    pub rate_limits: RateLimits,
    pub recipient_delimiter: Option<String>,
    pub postmaster: Option<String>,
    pub dmarc: Dmarc,
    pub welcome: Option<Welcome>,
    pub default_quota_bytes: Option<u64>,
    pub default_spam_threshold: Option<u8>,
    pub tls_policy: TlsPolicy,
    pub reject_unlisted_recipient: Option<bool>,
    pub branding: Branding,
    pub web_paths: WebPaths,
}

impl Mailu {
    /// `MESSAGE_SIZE_LIMIT` in bytes, as Mailu reads it.
    pub fn message_size_limit_bytes(&self) -> u64 {
        u64::from(self.message_size_limit_mb) * 1_000_000
    }
}

#[derive(Debug, Clone)]
pub struct InitialAccount {
    pub username: String,
    pub domain: DnsName,
    pub mode: InitialAccountMode,
    /// Key `password`.
    pub password: SecretRef,
}

#[derive(Debug, Clone)]
pub struct Api {
    /// Key `api-token`.
    pub token: SecretRef,
}

#[derive(Debug, Clone)]
pub struct Images {
    pub registry: String,
    pub tag: String,
    pub pull_policy: PullPolicy,
    pub pull_secrets: Vec<String>,
}

/// One component's workload settings, validated, with `pods` merged in.
#[derive(Debug, Clone, Default)]
pub struct WorkloadSettings {
    pub replicas: u32,
    pub image_repository: Option<String>,
    pub image_tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub image_digest: Option<String>,
    pub pull_policy: Option<PullPolicy>,
    pub log_level: Option<LogLevel>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// As given, checked to be a Kubernetes `Affinity` with no unknown field.
    pub affinity: Option<k8s_openapi::api::core::v1::Affinity>,
    pub topology_spread: Vec<TopologySpread>,
    pub priority_class_name: Option<String>,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub service_annotations: BTreeMap<String, String>,
    pub service_labels: BTreeMap<String, String>,
    /// Sorted by name.
    pub extra_env: BTreeMap<String, ExtraEnv>,
    /// File name to content, mounted at `/overrides`.
    pub overrides: BTreeMap<String, String>,
    /// The operator's container `securityContext`, replacing the derived one.
    pub security_context: Option<k8s_openapi::api::core::v1::SecurityContext>,
}

/// A topology spread constraint as given, its `labelSelector` checked to be a Kubernetes
/// `LabelSelector`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologySpread {
    pub max_skew: std::num::NonZeroU32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// `None`: the component's own pods.
    pub label_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
}

#[derive(Debug, Clone)]
pub struct Tls {
    pub flavor: TlsFlavor,
    /// The `kubernetes.io/tls` Secret front mounts at `/certs`; `None` when the flavor needs none
    /// (`notls`, or the `letsencrypt` flavors where front obtains its own).
    pub secret_name: Option<String>,
    /// cert-manager issues `secret_name` when set.
    pub issuer: Option<Issuer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub name: String,
    pub kind: IssuerKind,
}

/// A mail service front can offer to the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MailService {
    Smtp,
    Submissions,
    Submission,
    Imaps,
    Pop3s,
    Imap,
    Pop3,
    Sieve,
}

impl MailService {
    pub const ALL: [MailService; 8] = [
        MailService::Smtp,
        MailService::Submissions,
        MailService::Submission,
        MailService::Imaps,
        MailService::Pop3s,
        MailService::Imap,
        MailService::Pop3,
        MailService::Sieve,
    ];

    /// The config key and default entry point / listener name.
    pub fn key(self) -> &'static str {
        match self {
            MailService::Smtp => "smtp",
            MailService::Submissions => "submissions",
            MailService::Submission => "submission",
            MailService::Imaps => "imaps",
            MailService::Pop3s => "pop3s",
            MailService::Imap => "imap",
            MailService::Pop3 => "pop3",
            MailService::Sieve => "sieve",
        }
    }

    /// Whether the connection starts with a TLS handshake (the others use STARTTLS or none).
    pub fn implicit_tls(self) -> bool {
        matches!(
            self,
            MailService::Submissions | MailService::Imaps | MailService::Pop3s
        )
    }

    /// Offered unless switched off.
    pub fn on_by_default(self) -> bool {
        !matches!(
            self,
            MailService::Imap | MailService::Pop3 | MailService::Sieve
        )
    }
}

/// The edge in front of the cluster (web, and mail through an L4 proxy).
#[derive(Debug, Clone)]
pub enum Edge {
    None,
    Traefik(Traefik),
    GatewayApi(GatewayApi),
    Ingress(KubernetesIngress),
}

impl Edge {
    /// Whether web traffic reaches front through an HTTPS-terminating proxy.
    pub fn terminates_https(&self) -> bool {
        !matches!(self, Edge::None)
    }

    /// Whether the mail ports reach front through this edge's L4 proxy, with PROXY protocol.
    pub fn carries_mail(&self) -> bool {
        match self {
            Edge::Traefik(t) => t.mail.is_some(),
            Edge::GatewayApi(g) => g.mail.is_some(),
            Edge::None | Edge::Ingress(_) => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Traefik {
    pub web_host: DnsName,
    pub web_entry_point: String,
    /// Mail routes; `None` when `enableTcp` is off. PROXY protocol v2 is always sent.
    pub mail: Option<TraefikMail>,
}

#[derive(Debug, Clone)]
pub struct TraefikMail {
    pub entry_points: BTreeMap<MailService, String>,
    pub smtp_connection_limit: u32,
}

#[derive(Debug, Clone)]
pub struct GatewayApi {
    pub gateway_name: String,
    pub gateway_namespace: String,
    pub web_section_name: Option<String>,
    /// Mail routes; `None` when `routeMail` is off. The gateway sends PROXY protocol v2.
    pub mail: Option<GatewayMail>,
}

#[derive(Debug, Clone)]
pub struct GatewayMail {
    pub section_names: BTreeMap<MailService, String>,
}

#[derive(Debug, Clone)]
pub struct KubernetesIngress {
    pub class_name: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

/// Which mail ports are offered and how front is reachable.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// Offered mail services, in `MailService::ALL` order; never empty when mail is routed.
    pub offered: Vec<MailService>,
    pub service: FrontService,
    pub host_port: bool,
    /// Serve `autoconfig.<domain>` and `autodiscover.<domain>`.
    pub client_discovery: bool,
    /// Node selector of front's DaemonSet; `None` runs front as a Deployment.
    pub daemon_set: Option<BTreeMap<String, String>>,
    /// Mailu's `REAL_IP_FROM` (empty: unset).
    pub real_ip_from: Vec<String>,
    /// Mailu's `REAL_IP_HEADER`.
    pub real_ip_header: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FrontService {
    pub kind: ServiceType,
    pub load_balancer_ip: Option<std::net::IpAddr>,
    pub load_balancer_class: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// Set only for `NodePort` and `LoadBalancer` (always `Local` for mail).
    pub external_traffic_policy: Option<TrafficPolicy>,
    pub node_ports: BTreeMap<MailService, u16>,
    /// As given; [`IpFamilyPolicy::of_front`] adds the default.
    pub ip_family_policy: Option<IpFamilyPolicy>,
}

/// An `extraEnv` value: literal text, or a key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraEnv {
    Text(String),
    Secret { name: String, key: String },
    ConfigMap { name: String, key: String },
}
