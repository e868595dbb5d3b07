//! The config file as written by users: keys, documentation and simple defaults.
//!
//! These types are the user-facing contract. Their doc comments become the JSON Schema's
//! descriptions (`mailu-k8s schema`), and that same schema is what the structural check walks, so
//! the documentation, the editor completion and the errors cannot disagree. Keys mirror
//! cdk8s-mailu's `MailuChartConfig` so its users can translate their object literally.
//!
//! Values here are still unchecked text; `validate` turns them into [`crate::Config`].

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroU32};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A mailu-k8s configuration: everything needed to run Mailu 2024.06 on Kubernetes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "mailu-k8s configuration")]
pub struct ConfigFile {
    /// Kubernetes namespace for every Mailu object (a DNS-1123 label).
    #[serde(default = "defaults::namespace")]
    pub namespace: String,

    /// The primary mail domain, e.g. `example.com` (Mailu's `DOMAIN`). Internationalised names
    /// are written as punycode (`xn--...`).
    pub domain: String,

    /// Public host names of the mail server. The first is the primary one: the name postfix
    /// says in HELO and the MX target (Mailu's `HOSTNAMES`).
    pub hostnames: Vec<String>,

    /// The cluster's pod CIDR (IPv4), e.g. `10.42.0.0/16`. Mailu trusts this network as internal
    /// (Mailu's `SUBNET`): postfix relays for it, so it must be the pod network and nothing wider.
    pub subnet: String,

    /// The cluster's IPv6 pod CIDR on dual-stack clusters (Mailu's `SUBNET6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<String>,

    /// IANA time zone name for every Mailu container (Mailu's `TZ`), e.g. `Europe/Berlin`.
    #[serde(default = "defaults::timezone")]
    pub timezone: String,

    /// The cluster's DNS domain, used to build the `*_ADDRESS` service names Mailu connects to.
    #[serde(default = "defaults::cluster_domain")]
    pub cluster_domain: String,

    /// Mailu's own database. Omit it for SQLite on admin's volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseFile>,

    /// An external Redis. Omit it to run a bundled Redis (with its own volume) in the namespace.
    /// Mailu 2024.06 cannot authenticate to Redis, so it must accept connections without a
    /// password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisFile>,

    /// Names of Secrets that you create; their values never appear in the output.
    pub secrets: SecretsFile,

    /// Persistent volumes per component.
    #[serde(default)]
    pub storage: StorageFile,

    /// CPU and memory requests and limits per component. Unset values keep the defaults, which
    /// fit a small install on a 2-CPU node.
    #[serde(default)]
    pub resources: ResourcesFile,

    /// Mailu application settings.
    #[serde(default)]
    pub mailu: MailuFile,

    /// Where Mailu's container images come from.
    #[serde(default)]
    pub images: ImagesFile,

    /// TLS: Mailu's `TLS_FLAVOR` and where front's certificate comes from.
    #[serde(default)]
    pub tls: TlsFile,

    /// How web traffic (and, through an L4 proxy, mail) enters the cluster. Keys follow
    /// cdk8s-mailu: `enabled`, `type`, and a block named like the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressFile>,

    /// Which mail ports front offers, and how they reach front when no L4 proxy carries them:
    /// front's Service type, hostPorts, or front as a DaemonSet.
    #[serde(default)]
    pub exposure: ExposureFile,
}

/// Mailu's own database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseFile {
    /// `sqlite` keeps the database on admin's volume (one admin replica); `postgresql` uses the
    /// server described in `postgresql`.
    #[serde(rename = "type")]
    pub kind: DatabaseKind,
    /// Connection to PostgreSQL; required when `type` is `postgresql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgresql: Option<PostgresqlFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// SQLite on admin's volume.
    Sqlite,
    /// An external PostgreSQL server.
    Postgresql,
}

/// An external PostgreSQL server for Mailu's admin.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostgresqlFile {
    /// Host name of the server, e.g. `postgres.db.svc.cluster.local`.
    pub host: String,
    /// TCP port of the server.
    #[serde(default = "defaults::postgresql_port")]
    pub port: NonZeroU16,
    /// Database name.
    #[serde(default = "defaults::postgresql_database")]
    pub database: String,
    /// Name of the Secret holding the user name and password.
    pub secret_name: String,
    /// Keys inside that Secret.
    #[serde(default)]
    pub secret_keys: PostgresqlSecretKeysFile,
}

/// Keys inside the PostgreSQL credentials Secret.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PostgresqlSecretKeysFile {
    /// Key holding the user name.
    #[serde(default = "defaults::secret_key_username")]
    pub username: String,
    /// Key holding the password.
    #[serde(default = "defaults::secret_key_password")]
    pub password: String,
}

impl Default for PostgresqlSecretKeysFile {
    fn default() -> Self {
        PostgresqlSecretKeysFile {
            username: defaults::secret_key_username(),
            password: defaults::secret_key_password(),
        }
    }
}

/// An external Redis server.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisFile {
    /// Host name of the server, e.g. `redis.cache.svc.cluster.local`.
    pub host: String,
    /// TCP port of the server.
    #[serde(default = "defaults::redis_port")]
    pub port: NonZeroU16,
}

/// Secrets you create before applying the manifests (see the README for the commands).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretsFile {
    /// Secret holding key `secret-key`: Mailu's master secret (`SECRET_KEY`), from which every
    /// component derives its own keys.
    pub mailu_secret_key: String,
    /// Secret holding key `password`: the initial admin's password (`INITIAL_ADMIN_PW`).
    /// Required when `mailu.initialAccount.enabled` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_admin_password: Option<String>,
    /// Secret holding key `api-token`: the REST API token (`API_TOKEN`). Required when
    /// `mailu.apiEnabled` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
}

/// Persistent volumes. Each component's volume is a ReadWriteOnce PersistentVolumeClaim.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageFile {
    /// Storage class for every volume that does not name its own. Omit it for the cluster's
    /// default storage class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Front: certbot's account and certificates (`/certs`), only with the `letsencrypt`
    /// flavors. Default size 100Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front: Option<VolumeFile>,
    /// Admin: the SQLite database (`/data`) and DKIM private keys (`/dkim`). Default size 1Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<VolumeFile>,
    /// Postfix: the mail queue (`/queue`). Default size 2Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postfix: Option<VolumeFile>,
    /// Dovecot: the mailboxes (`/mail`) and its state (`/data`). Default size 10Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dovecot: Option<VolumeFile>,
    /// Rspamd: learned spam data (`/var/lib/rspamd`). Default size 1Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rspamd: Option<VolumeFile>,
    /// The bundled Redis (`/data`). Default size 1Gi. Ignored with an external `redis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<VolumeFile>,
}

/// One component's volume.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeFile {
    /// Requested size as a Kubernetes quantity, e.g. `50Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Storage class for this volume; overrides `storage.storageClass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// Requests and limits per component.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourcesFile {
    /// front (nginx). Default requests 50m/64Mi, limits 500m/256Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front: Option<ComputeFile>,
    /// admin. Default requests 50m/256Mi, limits 500m/512Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<ComputeFile>,
    /// postfix. Default requests 50m/64Mi, limits 500m/256Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postfix: Option<ComputeFile>,
    /// dovecot. Default requests 50m/128Mi, limits 1/512Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dovecot: Option<ComputeFile>,
    /// rspamd. Default requests 100m/192Mi, limits 1/512Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rspamd: Option<ComputeFile>,
    /// The bundled Redis. Default requests 25m/32Mi, limits 250m/256Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<ComputeFile>,
}

/// Requests and limits of one component's main container.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComputeFile {
    /// What the scheduler reserves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<CpuMemoryFile>,
    /// The most the container may use. Each request must not exceed its limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<CpuMemoryFile>,
}

/// CPU and memory as Kubernetes quantities.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CpuMemoryFile {
    /// CPU, e.g. `500m` or `1.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory, e.g. `512Mi` or `1G`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// Mailu application settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MailuFile {
    /// Log level of every Mailu component (`LOG_LEVEL`).
    #[serde(default = "defaults::log_level")]
    pub log_level: LogLevel,
    /// Largest message accepted, in megabytes (10^6 bytes) (`MESSAGE_SIZE_LIMIT`).
    #[serde(default = "defaults::message_size_limit")]
    pub message_size_limit: NonZeroU32,
    /// Create the first administrator when admin starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_account: Option<InitialAccountFile>,
    /// Enable Mailu's REST API at `/api` (`API`); its token comes from `secrets.apiToken`.
    #[serde(default)]
    pub api_enabled: bool,
}

impl Default for MailuFile {
    fn default() -> Self {
        MailuFile {
            log_level: defaults::log_level(),
            message_size_limit: defaults::message_size_limit(),
            initial_account: None,
            api_enabled: false,
        }
    }
}

/// Log levels Mailu's Python components understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Critical,
    Error,
    Warning,
    Info,
    Debug,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Critical => "CRITICAL",
            LogLevel::Error => "ERROR",
            LogLevel::Warning => "WARNING",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
        }
    }
}

/// The first administrator account (`INITIAL_ADMIN_*`); its password comes from
/// `secrets.initialAdminPassword`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InitialAccountFile {
    /// Create the account.
    #[serde(default)]
    pub enabled: bool,
    /// Local part of the admin's address.
    #[serde(default = "defaults::initial_account_username")]
    pub username: String,
    /// Domain of the admin's address. Defaults to `domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// What admin does at each start.
    #[serde(default = "defaults::initial_account_mode")]
    pub mode: InitialAccountMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InitialAccountMode {
    /// Create the account; admin fails to start if it exists.
    Create,
    /// Create the account or reset its password to the Secret's value at every start.
    Update,
    /// Create the account only if it does not exist (Mailu's default).
    Ifmissing,
}

impl InitialAccountMode {
    pub fn as_str(self) -> &'static str {
        match self {
            InitialAccountMode::Create => "create",
            InitialAccountMode::Update => "update",
            InitialAccountMode::Ifmissing => "ifmissing",
        }
    }
}

/// Container images.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImagesFile {
    /// Registry and path prefix of Mailu's images.
    #[serde(default = "defaults::image_registry")]
    pub registry: String,
    /// Tag of Mailu's images (the Mailu version). Quote it: `"2024.06"`.
    #[serde(default = "defaults::image_tag")]
    pub tag: String,
    /// Kubernetes `imagePullPolicy` for every container.
    #[serde(default = "defaults::pull_policy")]
    pub pull_policy: PullPolicy,
}

impl Default for ImagesFile {
    fn default() -> Self {
        ImagesFile {
            registry: defaults::image_registry(),
            tag: defaults::image_tag(),
            pull_policy: defaults::pull_policy(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// TLS settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsFile {
    /// Mailu's `TLS_FLAVOR`. Default: `mail` when an ingress terminates HTTPS (front serves web
    /// over HTTP behind it and TLS on the mail ports), otherwise `cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<TlsFlavor>,
    /// The `kubernetes.io/tls` Secret (keys `tls.crt`, `tls.key`) front serves for the mail ports
    /// (and HTTPS with `cert`), covering every name in `hostnames`. You create it, or cert-manager
    /// does when `certificate` (or `ingress.traefik.certIssuer`) is set. Default
    /// `mailu-certificates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Have cert-manager issue the certificate (a `Certificate` for every host name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateFile>,
    /// Must be `true` to use `flavor: notls`: no TLS anywhere, for throw-away test installs only
    /// (webmail cannot send without TLS, and passwords cross the network in clear text).
    #[serde(default)]
    pub notls_is_for_testing_only: bool,
}

/// Mailu's TLS flavors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TlsFlavor {
    /// TLS on the mail ports only; web on plain port 80 behind an HTTPS-terminating ingress.
    #[serde(rename = "mail")]
    Mail,
    /// front serves HTTPS and the mail ports from the Secret.
    #[serde(rename = "cert")]
    Cert,
    /// front obtains certificates itself with certbot (port 80 must reach front from the internet).
    #[serde(rename = "letsencrypt")]
    Letsencrypt,
    /// Like `letsencrypt` for the mail ports; web on plain port 80.
    #[serde(rename = "mail-letsencrypt")]
    MailLetsencrypt,
    /// No TLS at all. Testing only; needs `notlsIsForTestingOnly: true`.
    #[serde(rename = "notls")]
    Notls,
}

impl TlsFlavor {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsFlavor::Mail => "mail",
            TlsFlavor::Cert => "cert",
            TlsFlavor::Letsencrypt => "letsencrypt",
            TlsFlavor::MailLetsencrypt => "mail-letsencrypt",
            TlsFlavor::Notls => "notls",
        }
    }
}

/// A cert-manager issuer for front's certificate.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertificateFile {
    /// Name of the issuer.
    pub issuer_name: String,
    /// Kind of the issuer.
    #[serde(default = "defaults::issuer_kind")]
    pub issuer_kind: IssuerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum IssuerKind {
    ClusterIssuer,
    Issuer,
}

impl IssuerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::ClusterIssuer => "ClusterIssuer",
            IssuerKind::Issuer => "Issuer",
        }
    }
}

/// The edge in front of Mailu.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressFile {
    /// Create the edge objects. Default `true` when this block is present; `false` is the same
    /// as `type: none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Which edge: Traefik CRDs, Gateway API routes, a plain Kubernetes Ingress, or none.
    #[serde(rename = "type", default = "defaults::ingress_kind")]
    pub kind: IngressKind,
    /// Settings for `type: traefik`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traefik: Option<TraefikFile>,
    /// Settings for `type: gatewayApi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_api: Option<GatewayApiFile>,
    /// Settings for `type: ingress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<KubernetesIngressFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum IngressKind {
    /// Traefik `IngressRoute` for HTTPS and `IngressRouteTCP` per mail port (Traefik ≥ 3.6).
    #[serde(rename = "traefik")]
    Traefik,
    /// Gateway API `HTTPRoute`, `TCPRoute` and `TLSRoute` attached to an existing Gateway.
    #[serde(rename = "gatewayApi")]
    GatewayApi,
    /// A `networking.k8s.io/v1` Ingress for HTTPS only.
    #[serde(rename = "ingress")]
    Ingress,
    /// No edge objects.
    #[serde(rename = "none")]
    None,
}

/// Traefik settings (keys as in cdk8s-mailu, plus ours).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraefikFile {
    /// Host name of the web UI route. Default: the first of `hostnames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// A cert-manager ClusterIssuer: creates a `Certificate` for front's Secret (same as
    /// `tls.certificate` with `issuerKind: ClusterIssuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_issuer: Option<String>,
    /// Route the mail ports through Traefik (`IngressRouteTCP`, one entry point per port).
    /// Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_tcp: Option<bool>,
    /// Concurrent connections per client IP on port 25 (`MiddlewareTCP` `inFlightConn`).
    /// Default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_connection_limit: Option<NonZeroU32>,
    /// Send PROXY protocol v2 to front so it sees client IPs (`ServersTransportTCP`). Default
    /// `true`; turning it off with TCP routes is refused (postfix would relay for everyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<bool>,
    /// Entry point of the HTTPS route. Default `websecure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_entry_point: Option<String>,
    /// Entry point per mail port. Default: the port's name (`smtp`, `submissions`, `submission`,
    /// `imaps`, `pop3s`, `imap`, `pop3`, `sieve`).
    #[serde(default)]
    pub entry_points: MailPortsFile<String>,
}

/// Gateway API settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayApiFile {
    /// The Gateway the routes attach to.
    pub gateway_name: String,
    /// Its namespace. Default: `namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_namespace: Option<String>,
    /// The Gateway listener for HTTPS (terminating TLS). Default: any listener that accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_section_name: Option<String>,
    /// Route the mail ports through the Gateway: `TCPRoute` for STARTTLS ports, `TLSRoute` for
    /// implicit-TLS ports (the listener must use `tls.mode: Passthrough`). Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_mail: Option<bool>,
    /// The Gateway listener per mail port. Default: the port's name.
    #[serde(default)]
    pub mail_section_names: MailPortsFile<String>,
    /// Confirms that your Gateway implementation sends PROXY protocol v2 to front on the mail
    /// routes (configured outside the Gateway API, e.g. an Envoy Gateway `BackendTrafficPolicy`).
    /// Required for mail routes: without it postfix would see the gateway's pod IP and relay for
    /// everyone.
    #[serde(default)]
    pub backend_sends_proxy_protocol: bool,
}

/// A plain Kubernetes Ingress for the web UI.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesIngressFile {
    /// `spec.ingressClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Annotations for the Ingress (controller settings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One value per mail port.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MailPortsFile<T> {
    /// SMTP, port 25 (other mail servers deliver here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<T>,
    /// Submission over implicit TLS, port 465.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submissions: Option<T>,
    /// Submission with STARTTLS, port 587.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<T>,
    /// IMAP over implicit TLS, port 993.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imaps: Option<T>,
    /// POP3 over implicit TLS, port 995.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop3s: Option<T>,
    /// IMAP with STARTTLS, port 143.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<T>,
    /// POP3 with STARTTLS, port 110.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop3: Option<T>,
    /// ManageSieve, port 4190.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sieve: Option<T>,
}

/// Mail ports and how they reach front.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposureFile {
    /// Which mail ports front offers. Default: `smtp`, `submissions`, `submission`, `imaps`,
    /// `pop3s` on; `imap`, `pop3`, `sieve` off.
    #[serde(default)]
    pub ports: MailPortsFile<bool>,
    /// front's Service. Use `LoadBalancer` or `NodePort` to take mail without an L4 proxy.
    #[serde(default)]
    pub service: FrontServiceFile,
    /// Bind the offered ports on the node running front (`hostPort`); the node's IP is the MX.
    #[serde(default)]
    pub host_port: bool,
    /// Run front as a DaemonSet on the selected nodes (one MX IP per node, with `hostPort` or a
    /// `LoadBalancer` Service) instead of a one-replica Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon_set: Option<DaemonSetFile>,
    /// Mailu's `REAL_IP_FROM`: CIDRs trusted to send PROXY headers (or the `realIpHeader`).
    /// Default with an L4 proxy: the pod networks (`subnet`, `subnet6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_ip_from: Option<Vec<String>>,
    /// Serve `autoconfig.<domain>` and `autodiscover.<domain>` (automatic account set-up in
    /// Thunderbird, Outlook and others): adds both names to the web routes and the certificate.
    /// Point their DNS at the mail host first; an ACME issuer fails for names that do not resolve.
    #[serde(default)]
    pub client_discovery: bool,
    /// Mailu's `REAL_IP_HEADER`, e.g. `X-Forwarded-For`, for web requests through an HTTP proxy.
    /// Not allowed together with PROXY protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_ip_header: Option<String>,
}

/// front's Service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FrontServiceFile {
    /// Service type. Default `ClusterIP`.
    #[serde(rename = "type", default = "defaults::service_type")]
    pub kind: ServiceType,
    /// A fixed address for a `LoadBalancer` (`spec.loadBalancerIP`, honoured by MetalLB and
    /// several clouds).
    #[serde(
        rename = "loadBalancerIP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub load_balancer_ip: Option<String>,
    /// `spec.loadBalancerClass` of a `LoadBalancer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
    /// Annotations for the Service (load-balancer settings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `Local` (default for `LoadBalancer` and `NodePort`) keeps client IPs; `Cluster` hides
    /// them and is refused for mail ports. Not allowed on `ClusterIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<TrafficPolicy>,
    /// Fixed node ports (30000-32767) per mail port, for `NodePort` and `LoadBalancer`.
    #[serde(default)]
    pub node_ports: MailPortsFile<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TrafficPolicy {
    Local,
    Cluster,
}

/// front as a DaemonSet.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DaemonSetFile {
    /// Nodes that run front (and whose IPs are MX addresses). Required: mail nodes are chosen.
    pub node_selector: BTreeMap<String, String>,
}

/// Every default of the file format, in one place.
pub mod defaults {
    use super::*;

    pub fn namespace() -> String {
        "mailu".into()
    }
    pub fn timezone() -> String {
        "Etc/UTC".into()
    }
    pub fn cluster_domain() -> String {
        "cluster.local".into()
    }
    /// PostgreSQL's standard port; Mailu's admin assumes it when `DB_HOST` has no port.
    pub const POSTGRESQL_PORT: u16 = 5432;
    pub fn postgresql_port() -> NonZeroU16 {
        NonZeroU16::new(POSTGRESQL_PORT).unwrap_or(NonZeroU16::MIN)
    }
    pub fn postgresql_database() -> String {
        "mailu".into()
    }
    pub fn secret_key_username() -> String {
        "username".into()
    }
    pub fn secret_key_password() -> String {
        "password".into()
    }
    pub fn redis_port() -> NonZeroU16 {
        NonZeroU16::new(6379).unwrap_or(NonZeroU16::MIN)
    }
    pub fn log_level() -> LogLevel {
        LogLevel::Warning
    }
    pub fn message_size_limit() -> NonZeroU32 {
        NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN)
    }
    pub fn initial_account_username() -> String {
        "admin".into()
    }
    pub fn initial_account_mode() -> InitialAccountMode {
        InitialAccountMode::Ifmissing
    }
    pub fn image_registry() -> String {
        "ghcr.io/mailu".into()
    }
    pub fn image_tag() -> String {
        "2024.06".into()
    }
    pub fn pull_policy() -> PullPolicy {
        PullPolicy::IfNotPresent
    }
    pub fn tls_secret_name() -> String {
        "mailu-certificates".into()
    }
    pub fn issuer_kind() -> IssuerKind {
        IssuerKind::ClusterIssuer
    }
    pub fn ingress_kind() -> IngressKind {
        IngressKind::Traefik
    }
    pub fn service_type() -> ServiceType {
        ServiceType::ClusterIP
    }
    pub const SMTP_CONNECTION_LIMIT: u32 = 15;
    pub const TRAEFIK_WEB_ENTRY_POINT: &str = "websecure";
}
