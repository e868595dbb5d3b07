//! The config file as written by users: keys, documentation and simple defaults.
//!
//! These types are the user-facing contract. Their doc comments become the JSON Schema's
//! descriptions (`mailu-k8s schema`), and that same schema is what the structural check walks, so
//! the documentation, the editor completion and the errors cannot disagree. Keys mirror
//! cdk8s-mailu's `MailuChartConfig` so its users can translate their object literally.
//!
//! A value with a grammar of its own is a typed leaf ([`crate::leaf::Parsed`]): parsed as it is
//! read, and kept with its problem when bad. The rest is still unchecked text. `validate` reports
//! both and turns them into [`crate::Config`].

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroU32};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::component::Component;
pub use crate::file_dns::*;
pub use crate::file_egress::*;
use crate::leaf::{
    DataKey, DatabaseName, Dns1123Label, Dns1123Subdomain, Fqdn, ImageDigest, ImageRegistry,
    ImageRepository, ImageTag, IpCidr, LoadBalancerIp, LocalPart, Parsed, SecretKey, ServiceIp,
    Timezone,
};
use crate::rules::{DnsName, Ipv4Cidr, Ipv6Cidr};

/// A mailu-k8s configuration: everything needed to run Mailu 2024.06 on Kubernetes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "mailu-k8s configuration")]
pub struct ConfigFile {
    /// Kubernetes namespace for every Mailu object (a DNS-1123 label).
    #[serde(default = "defaults::namespace")]
    pub namespace: Parsed<Dns1123Label>,

    /// Write the Namespace object, with Pod Security admission labels. `false` for clusters
    /// whose namespaces are managed elsewhere (then label it yourself, see the README).
    #[serde(default = "defaults::enabled")]
    pub create_namespace: bool,

    /// The primary mail domain, e.g. `example.com` (Mailu's `DOMAIN`). Internationalised names
    /// are written as punycode (`xn--...`).
    pub domain: Parsed<Fqdn>,

    /// Public host names of the mail server. The first is the primary one: the name postfix
    /// says in HELO and the MX target (Mailu's `HOSTNAMES`).
    pub hostnames: Vec<Parsed<Fqdn>>,

    /// The cluster's pod CIDR (IPv4), e.g. `10.42.0.0/16`. Mailu trusts this network as internal
    /// (Mailu's `SUBNET`): postfix relays for it, so it must be the pod network and nothing wider.
    pub subnet: Parsed<Ipv4Cidr>,

    /// The cluster's IPv6 pod CIDR on dual-stack clusters (Mailu's `SUBNET6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<Parsed<Ipv6Cidr>>,

    /// IANA time zone name for every Mailu container (Mailu's `TZ`), e.g. `Europe/Berlin`.
    #[serde(default = "defaults::timezone")]
    pub timezone: Parsed<Timezone>,

    /// The cluster's DNS domain, used to build the `*_ADDRESS` service names Mailu connects to.
    #[serde(default = "defaults::cluster_domain")]
    pub cluster_domain: Parsed<DnsName>,

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

    /// Which components run. The core (admin, front, postfix, dovecot, rspamd) always runs; its
    /// switches are accepted for cdk8s-mailu compatibility and must stay `true`.
    #[serde(default)]
    pub components: ComponentsFile,

    /// Settings of the optional components.
    #[serde(default)]
    pub webmail: WebmailFile,

    /// Mailu's DNSSEC-validating resolver (unbound), which every Mailu pod uses.
    #[serde(default)]
    pub resolver: ResolverFile,

    /// Scheduling, annotations and labels for every pod (a component's `workloads` entry
    /// replaces scheduling fields and adds to annotations and labels).
    #[serde(default)]
    pub pods: PodsFile,

    /// Per-component settings: replicas, image, log level, scheduling, annotations, extra
    /// environment and override files.
    #[serde(default)]
    pub workloads: WorkloadsFile,

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

    /// NetworkPolicies. Mailu trusts every address in `subnet` (relaying, passwordless IMAP
    /// logins, DKIM keys from admin's API), so by default every Mailu pod accepts and opens only
    /// the connections Mailu needs.
    #[serde(default)]
    pub network_policies: NetworkPoliciesFile,

    /// Outbound mail: the address other mail servers see postfix connect from, which SPF and
    /// reverse DNS must vouch for (an egress gateway, the nodes' addresses, a provider's NAT, or
    /// a smarthost).
    #[serde(default)]
    pub egress: EgressFile,

    /// The DNS records of the mail domains (`mailu-k8s dns plan`, `mailu-k8s dns check`): extra
    /// mail domains, the inbound addresses, DKIM keys, DMARC, MTA-STS, TLS reporting, CAA. MX,
    /// SPF and PTR follow from `hostnames`, `exposure` and `egress`.
    #[serde(default)]
    pub dns: DnsFile,
}

/// NetworkPolicies for every Mailu pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPoliciesFile {
    /// Write NetworkPolicies (default). `false` leaves Mailu's pods open to every pod of the
    /// cluster, which Mailu then trusts.
    #[serde(default = "defaults::enabled")]
    pub enabled: bool,
    /// The cluster's Service CIDRs. With the pod CIDRs (`subnet`, `subnet6`) they are excluded
    /// from the internet egress of the components that need it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_cidrs: Vec<Parsed<IpCidr>>,
    /// The cluster DNS pods: the resolver forwards the cluster domain to them, and components
    /// that do not use Mailu's resolver ask them. Default: CoreDNS in `kube-system`
    /// (`k8s-app: kube-dns`).
    #[serde(
        default = "defaults::cluster_dns",
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_dns: Option<PeerFile>,
    /// Where the ingress's traffic comes from: the pods of the proxy that forwards web (and
    /// proxied mail) to front. Default for `traefik`: namespace `traefik`, pods labelled
    /// `app.kubernetes.io/name: traefik`; for `gatewayApi`: the Gateway's namespace. Required
    /// for `ingress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<PeerFile>,
    /// In-cluster applications allowed to submit mail on front's submission ports (465/587,
    /// always with a user's password or token). Nothing else in the cluster reaches front.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submission_from: Vec<PeerFile>,
    /// Where the external PostgreSQL servers (`database`, `webmail.roundcubeDatabase`) are: a
    /// NetworkPolicy cannot name a host. Required with an external database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<PeerFile>,
    /// Where the external Redis is. Required with an external `redis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<PeerFile>,
}

impl Default for NetworkPoliciesFile {
    fn default() -> Self {
        NetworkPoliciesFile {
            enabled: true,
            service_cidrs: Vec::new(),
            cluster_dns: defaults::cluster_dns(),
            edge: None,
            submission_from: Vec::new(),
            database: None,
            redis: None,
        }
    }
}

/// Other pods or networks: `cidrs`, or a `namespace` with optional `podLabels` (all its pods
/// when omitted).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerFile {
    /// The namespace's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Parsed<Dns1123Label>>,
    /// Labels of the pods in that namespace.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    /// Networks outside the cluster, e.g. a managed database's address range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<Parsed<IpCidr>>,
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
    pub host: Parsed<DnsName>,
    /// TCP port of the server.
    #[serde(default = "defaults::postgresql_port")]
    pub port: NonZeroU16,
    /// Database name.
    #[serde(default = "defaults::postgresql_database")]
    pub database: Parsed<DatabaseName>,
    /// Name of the Secret holding the user name and password.
    pub secret_name: Parsed<Dns1123Subdomain>,
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
    pub username: Parsed<SecretKey>,
    /// Key holding the password.
    #[serde(default = "defaults::secret_key_password")]
    pub password: Parsed<SecretKey>,
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
    pub host: Parsed<DnsName>,
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
    pub mailu_secret_key: Parsed<Dns1123Subdomain>,
    /// Secret holding key `password`: the initial admin's password (`INITIAL_ADMIN_PW`).
    /// Required when `mailu.initialAccount.enabled` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_admin_password: Option<Parsed<Dns1123Subdomain>>,
    /// Secret holding key `api-token`: the REST API token (`API_TOKEN`). Required when
    /// `mailu.apiEnabled` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Parsed<Dns1123Subdomain>>,
}

/// Generates the per-component config structs from the component table's rows
/// ([`crate::component`]): `StorageFile`, `ResourcesFile` and `WorkloadsFile`, their doc comments
/// (the schema's descriptions, defaults included) and the accessors that read them by
/// [`Component`].
macro_rules! component_files {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $key:ident {
            mailu: $mailu:literal,
            overrides: $overrides:expr,
            service: $service:literal,
            resources: ($label:literal, [$req_cpu:literal, $req_mem:literal], [$lim_cpu:literal, $lim_mem:literal], $note:literal),
            $(volume: ($rank:literal, $size:literal, $before:literal, $after:literal),)?
            single_replica: $single:expr,
        }
    )*) => {
        /// Persistent volumes. Each component's volume is a ReadWriteOnce PersistentVolumeClaim.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        #[schemars(transform = storage_key_order)]
        pub struct StorageFile {
            /// Storage class for every volume that does not name its own. Omit it for the cluster's
            /// default storage class.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub storage_class: Option<Parsed<Dns1123Subdomain>>,
            $($(
                #[doc = concat!($before, "Default size ", $size, ".", $after)]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $key: Option<VolumeFile>,
            )?)*
        }

        impl StorageFile {
            /// The volume the file gives for `component`; `None` also for a stateless one.
            pub fn volume(&self, component: Component) -> Option<&VolumeFile> {
                #[allow(unreachable_patterns)]
                match component {
                    $($(Component::$variant => only_with!($size, self.$key.as_ref()),)?)*
                    _ => None,
                }
            }
        }

        /// Requests and limits per component.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct ResourcesFile {
            $(
                #[doc = concat!($label, ". Default requests ", $req_cpu, "/", $req_mem, ", limits ", $lim_cpu, "/", $lim_mem, $note, ".")]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $key: Option<ComputeFile>,
            )*
        }

        impl ResourcesFile {
            /// The requests and limits the file gives for `component`.
            pub fn compute(&self, component: Component) -> Option<&ComputeFile> {
                match component {
                    $(Component::$variant => self.$key.as_ref(),)*
                }
            }
        }

        /// Settings of each component's workload.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct WorkloadsFile {
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $key: Option<WorkloadFile>,
            )*
        }

        impl WorkloadsFile {
            /// The settings the file gives for `component`.
            pub fn workload(&self, component: Component) -> Option<&WorkloadFile> {
                match component {
                    $(Component::$variant => self.$key.as_ref(),)*
                }
            }
        }
    };
}

/// `$value`; `$_row` only makes the table's macro repeat this per row that has it.
macro_rules! only_with {
    ($_row:literal, $value:expr) => {
        $value
    };
}

/// The schema lists `storage`'s keys in the components' storage order
/// ([`Component::storage_rank`]), which is older than the component table and not the table's.
fn storage_key_order(schema: &mut schemars::Schema) {
    let Some(properties) = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let mut entries: Vec<(String, serde_json::Value)> =
        std::mem::take(properties).into_iter().collect();
    entries.sort_by_key(|(key, _)| Component::from_name(key).and_then(Component::storage_rank));
    properties.extend(entries);
}

crate::component::component_table!(component_files);

/// One component's volume.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeFile {
    /// Requested size as a Kubernetes quantity, e.g. `50Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Storage class for this volume; overrides `storage.storageClass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<Parsed<Dns1123Subdomain>>,
    /// Access modes of the claim. Default `[ReadWriteOnce]`; `ReadWriteMany` lets a scalable
    /// component (webmail) run more than one replica on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_modes: Option<Vec<AccessMode>>,
    /// Use this existing PersistentVolumeClaim instead of creating one (e.g. restored from a
    /// backup). `size`, `storageClass` and `accessModes` then do not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_claim: Option<Parsed<Dns1123Subdomain>>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteOncePod,
    ReadWriteMany,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadWriteMany => "ReadWriteMany",
        }
    }
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
    pub limits: Option<LimitsFile>,
}

/// CPU and memory as Kubernetes quantities.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CpuMemoryFile {
    /// CPU, e.g. `500m`, `1.5` or `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<QuantityText>,
    /// Memory, e.g. `512Mi` or `1G`; a number without a unit counts bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<QuantityText>,
}

/// CPU and memory limits; `null` runs the container without that limit (many operators run
/// without CPU limits on purpose, to avoid CFS throttling).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsFile {
    /// CPU, e.g. `500m`, `1.5` or `2`; `null` for no CPU limit.
    #[serde(
        default,
        deserialize_with = "Limit::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu: Option<Limit>,
    /// Memory, e.g. `512Mi` or `1G`; a number without a unit counts bytes; `null` for no memory
    /// limit.
    #[serde(
        default,
        deserialize_with = "Limit::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub memory: Option<Limit>,
}

/// A quantity as the file gives it: Kubernetes takes `cpu: 2` and `cpu: 0.5` as numbers, as it
/// takes `"500m"`; the number's text is the quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct QuantityText(pub String);

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            Text(String),
            Number(serde_json::Number),
        }
        Ok(QuantityText(match Given::deserialize(deserializer)? {
            Given::Text(text) => text,
            Given::Number(n) => n.to_string(),
        }))
    }
}

impl JsonSchema for QuantityText {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "QuantityText".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number"] })
    }
}

/// A limit as the file gives it: a quantity, or `null` for none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "Option<QuantityText>")]
pub enum Limit {
    Unlimited,
    Amount(QuantityText),
}

impl Limit {
    /// A key that is present: `null` is [`Limit::Unlimited`] (serde's `Option` would read it as
    /// absent, which takes the default).
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Limit>, D::Error> {
        Ok(Some(match Option::<QuantityText>::deserialize(d)? {
            Some(amount) => Limit::Amount(amount),
            None => Limit::Unlimited,
        }))
    }
}

impl From<Limit> for Option<QuantityText> {
    fn from(limit: Limit) -> Self {
        match limit {
            Limit::Unlimited => None,
            Limit::Amount(amount) => Some(amount),
        }
    }
}

/// The one kind of key where `null` means something: the structural check and `strip_null`
/// keep `null` in a schema marked with this keyword, and layered configs keep a `null` there
/// (elsewhere `null` removes what an earlier layer set).
pub const NULL_MEANS: &str = "x-null-means";

impl JsonSchema for Limit {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Limit".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = schemars::json_schema!({ "type": ["string", "number", "null"] });
        schema.insert(NULL_MEANS.to_owned(), "no limit".into());
        schema
    }
}

/// Where and how pods are scheduled, and their metadata.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodsFile {
    /// `nodeSelector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// `tolerations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<TolerationFile>>,
    /// `affinity`, passed to Kubernetes as written; it must be a Kubernetes `Affinity` (see
    /// `kubectl explain pod.spec.affinity`), unknown fields are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<serde_json::Map<String, serde_json::Value>>,
    /// `topologySpreadConstraints`; an omitted `labelSelector` selects the component's pods.
    /// Default for a component with more than one replica: spread over nodes
    /// (`kubernetes.io/hostname`, `ScheduleAnyway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadFile>>,
    /// `priorityClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<Parsed<Dns1123Subdomain>>,
    /// Annotations on pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Labels on pods (not `app.kubernetes.io/*`, which mailu-k8s sets).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A toleration.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// A topology spread constraint.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopologySpreadFile {
    #[schemars(range(max = 2147483647))]
    pub max_skew: NonZeroU32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// A Kubernetes `LabelSelector`. Default: the component's own pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum WhenUnsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

/// One component's workload.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadFile {
    /// Pod count. More than one only where Mailu supports it: front, admin (with PostgreSQL and
    /// a ReadWriteMany volume), webmail (with a ReadWriteMany volume, and PostgreSQL for
    /// Roundcube), clamav, oletools, tika, resolver. Scaled components get a
    /// PodDisruptionBudget and spread over nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub replicas: Option<NonZeroU32>,
    /// The container image, replacing the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageFile>,
    /// Log level of this component (`LOG_LEVEL`), replacing `mailu.logLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LogLevel>,
    /// Scheduling and pod metadata, over `pods`.
    #[serde(default, flatten)]
    pub pod: PodsFile,
    /// Annotations on the component's in-cluster Service (for front: `mailu-front`; its public
    /// Service takes `exposure.service.annotations`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_annotations: BTreeMap<String, String>,
    /// Labels on the component's in-cluster Service.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_labels: BTreeMap<String, String>,
    /// More Mailu environment variables for this container. Names must be ones Mailu reads and
    /// not ones mailu-k8s sets from another key. A value is text, or for a secret
    /// `{secretKeyRef: {name, key}}` (required for secret-bearing names) or
    /// `{configMapKeyRef: {name, key}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_env: BTreeMap<String, ExtraEnvFile>,
    /// Accept `extraEnv` names that are not in Mailu's list (for images newer than 2024.06).
    #[serde(default)]
    pub allow_unknown_env: bool,
    /// Files mounted at `/overrides`, where Mailu reads them: front (nginx `*.conf`), postfix
    /// (`postfix.cf`, `postfix.master`, `*.map`), dovecot (`dovecot.conf`), rspamd (`*.conf`),
    /// webmail (Roundcube `*.inc.php`). File name to content.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The container's `securityContext`, replacing the one mailu-k8s derives for the image (see
    /// the README's table). A Kubernetes `SecurityContext`; unknown fields are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An `extraEnv` value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtraEnvFile {
    /// The value itself (written literally: `$(...)` is not expanded).
    Text(String),
    /// A key of a Secret or ConfigMap you create.
    // Boxed (a plain comment: doc comments become the schema's descriptions): its typed leaves
    // make it far larger than a text value.
    Reference(Box<EnvReferenceFile>),
}

/// Where an `extraEnv` value comes from; exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvReferenceFile {
    /// A key of a Secret in Mailu's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRefFile>,
    /// A key of a ConfigMap in Mailu's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRefFile>,
}

/// A key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRefFile {
    pub name: Parsed<Dns1123Subdomain>,
    pub key: Parsed<DataKey>,
}

/// A container image.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageFile {
    /// Full repository without tag, e.g. `registry.example.com/mailu/postfix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Parsed<ImageRepository>>,
    /// Tag. Quote it: `"2024.06.52"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Parsed<ImageTag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Pin the image to a digest, e.g. `sha256:…` (64 hex digits): tags such as `2024.06` move
    /// with every Mailu patch release. Written as `repository:tag@digest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Parsed<ImageDigest>>,
}

/// Component switches.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentsFile {
    /// Always on (cdk8s-mailu compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// Always on (cdk8s-mailu compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front: Option<bool>,
    /// Always on (cdk8s-mailu compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postfix: Option<bool>,
    /// Always on (cdk8s-mailu compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dovecot: Option<bool>,
    /// Always on (cdk8s-mailu compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rspamd: Option<bool>,
    /// Webmail at `/webmail` (Roundcube or SnappyMail, see `mailu.webmailType`).
    #[serde(default)]
    pub webmail: bool,
    /// ClamAV virus scanning of incoming mail (needs at least 1 GiB of memory).
    #[serde(default)]
    pub clamav: bool,
    /// Fetchmail: users fetch mail from external accounts.
    #[serde(default)]
    pub fetchmail: bool,
    /// Radicale CalDAV/CardDAV at `/webdav`.
    #[serde(default)]
    pub webdav: bool,
    /// oletools: rspamd scans Office documents for macros.
    #[serde(default)]
    pub oletools: bool,
    /// Apache Tika: dovecot indexes attachments for full-text search.
    #[serde(default)]
    pub tika: bool,
    /// Mailu's unbound resolver. Default `true`; `false` keeps the cluster's DNS, which must then
    /// validate DNSSEC (Mailu's admin refuses to start otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<bool>,
}

/// Webmail settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebmailFile {
    /// Roundcube plugins (`ROUNDCUBE_PLUGINS`). Default: Mailu's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roundcube_plugins: Option<Vec<String>>,
    /// Roundcube's own database on PostgreSQL (`ROUNDCUBE_DB_*`). Omit it for SQLite on
    /// webmail's volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roundcube_database: Option<RoundcubeDatabaseFile>,
}

/// Roundcube's PostgreSQL database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoundcubeDatabaseFile {
    /// Server host name. Default: `database.postgresql.host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Parsed<DnsName>>,
    /// Server port. Default: `database.postgresql.port`, else 5432.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<NonZeroU16>,
    /// Database name.
    #[serde(default = "defaults::roundcube_database")]
    pub database: Parsed<DatabaseName>,
    /// Secret holding the user name and password.
    pub secret_name: Parsed<Dns1123Subdomain>,
    /// Keys inside that Secret.
    #[serde(default)]
    pub secret_keys: PostgresqlSecretKeysFile,
}

/// The resolver.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolverFile {
    /// A free address in the cluster's Service CIDR for the resolver's Service (`clusterIP`);
    /// Mailu's pods name it as their DNS server. Required while the resolver is on (k3s:
    /// within 10.43.0.0/16, kubeadm: within 10.96.0.0/12).
    #[serde(rename = "serviceIP", default, skip_serializing_if = "Option::is_none")]
    pub service_ip: Option<Parsed<ServiceIp>>,
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
    #[schemars(range(min = 1, max = 2000))]
    pub message_size_limit: NonZeroU32,
    /// Create the first administrator when admin starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_account: Option<InitialAccountFile>,
    /// Enable Mailu's REST API at `/api` (`API`); its token comes from `secrets.apiToken`.
    #[serde(default)]
    pub api_enabled: bool,
    /// Which webmail runs when `components.webmail` is on (`WEBMAIL`).
    #[serde(default = "defaults::webmail_type")]
    pub webmail_type: WebmailType,
    /// Languages dovecot indexes for full-text search (`FULL_TEXT_SEARCH`), e.g. `[en, de]`;
    /// empty turns full-text search off.
    #[serde(default = "defaults::full_text_search")]
    pub full_text_search: Vec<String>,
    /// What rspamd does with a virus when `components.clamav` is on (`ANTIVIRUS_ACTION`).
    #[serde(default = "defaults::antivirus_action")]
    pub antivirus_action: AntivirusAction,
    /// Seconds between fetchmail runs when `components.fetchmail` is on (`FETCHMAIL_DELAY`).
    #[serde(default = "defaults::fetchmail_delay")]
    pub fetchmail_delay: NonZeroU32,
    /// Networks allowed to relay through postfix without authentication (`RELAYNETS`). Keep it
    /// empty unless you know why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relay_nets: Vec<Parsed<IpCidr>>,
    /// Rate limits (flask-limiter syntax, e.g. `200/day`).
    #[serde(default)]
    pub rate_limits: RateLimitsFile,
    /// Characters that start an address extension, e.g. `+` (`RECIPIENT_DELIMITER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_delimiter: Option<String>,
    /// Local part of the postmaster address (`POSTMASTER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmaster: Option<Parsed<LocalPart>>,
    /// DMARC report mailboxes (local parts in `domain`) shown in the DNS records Mailu's admin
    /// suggests. Superseded by `dns.dmarc.rua`/`ruf`, from which Mailu's variables are derived.
    #[serde(default)]
    pub dmarc: DmarcFile,
    /// A welcome message sent to every new user (`WELCOME*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome: Option<WelcomeFile>,
    /// Default mailbox quota of new users, as a quantity such as `1G` or `5Gi` (`DEFAULT_QUOTA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_quota: Option<String>,
    /// Default spam threshold of new users, 0-100 (`DEFAULT_SPAM_THRESHOLD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub default_spam_threshold: Option<u8>,
    /// TLS policy of postfix.
    #[serde(default)]
    pub tls_policy: TlsPolicyFile,
    /// Reject mail for unknown recipients during the SMTP dialogue (`REJECT_UNLISTED_RECIPIENT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_unlisted_recipient: Option<bool>,
    /// Name, website and logo of the web UI.
    #[serde(default)]
    pub branding: BrandingFile,
    /// URL paths front serves the web UIs under.
    #[serde(default)]
    pub web_paths: WebPathsFile,
}

/// URL paths of the web UIs (`WEB_ADMIN`, `WEB_WEBMAIL`, `WEB_API`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebPathsFile {
    /// The admin UI. Default `/admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// The webmail. Default `/webmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webmail: Option<String>,
    /// The REST API. Default `/api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

impl Default for MailuFile {
    fn default() -> Self {
        MailuFile {
            log_level: defaults::log_level(),
            message_size_limit: defaults::message_size_limit(),
            initial_account: None,
            api_enabled: false,
            webmail_type: defaults::webmail_type(),
            full_text_search: defaults::full_text_search(),
            antivirus_action: defaults::antivirus_action(),
            fetchmail_delay: defaults::fetchmail_delay(),
            relay_nets: Vec::new(),
            rate_limits: RateLimitsFile::default(),
            recipient_delimiter: None,
            postmaster: None,
            dmarc: DmarcFile::default(),
            welcome: None,
            default_quota: None,
            default_spam_threshold: None,
            tls_policy: TlsPolicyFile::default(),
            reject_unlisted_recipient: None,
            branding: BrandingFile::default(),
            web_paths: WebPathsFile::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebmailType {
    Roundcube,
    Snappymail,
}

impl WebmailType {
    pub fn as_str(self) -> &'static str {
        match self {
            WebmailType::Roundcube => "roundcube",
            WebmailType::Snappymail => "snappymail",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AntivirusAction {
    /// Drop infected mail silently.
    Discard,
    /// Refuse it during the SMTP dialogue.
    Reject,
}

impl AntivirusAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AntivirusAction::Discard => "discard",
            AntivirusAction::Reject => "reject",
        }
    }
}

/// Rate limits.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimitsFile {
    /// Outgoing messages per user (`MESSAGE_RATELIMIT`), e.g. `200/day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Failed logins per client network (`AUTH_RATELIMIT_IP`), e.g. `5/hour`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_ip: Option<String>,
    /// Failed logins per user (`AUTH_RATELIMIT_USER`), e.g. `50/day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_user: Option<String>,
}

/// DMARC report mailboxes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DmarcFile {
    /// Local part receiving aggregate reports (`DMARC_RUA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rua: Option<String>,
    /// Local part receiving failure reports (`DMARC_RUF`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruf: Option<String>,
}

/// The welcome message.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WelcomeFile {
    /// Subject (`WELCOME_SUBJECT`).
    pub subject: String,
    /// Body (`WELCOME_BODY`).
    pub body: String,
}

/// postfix's TLS policy.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsPolicyFile {
    /// Require STARTTLS from sending servers (`INBOUND_TLS_ENFORCE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_enforce: Option<bool>,
    /// Outbound TLS: unset tries TLS; `encrypt` requires it; `secure` also verifies the
    /// certificate (`OUTBOUND_TLS_LEVEL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_level: Option<OutboundTlsLevel>,
    /// Defer (retry later) instead of bouncing when a TLS policy cannot be met
    /// (`DEFER_ON_TLS_ERROR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_on_error: Option<bool>,
    /// Port 25 also offers TLS 1.0/1.1 and older ciphers to sending servers (`TLS_PERMISSIVE`,
    /// front; always written). Default `true`, Mailu's own default: STARTTLS on port 25 is
    /// opportunistic, so a sender that cannot agree on TLS sends in the clear instead; `false`
    /// offers only TLS 1.2+ with strong ciphers. The other ports are strict either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissive_port25: Option<bool>,
}

impl TlsPolicyFile {
    /// Whether port 25 takes old TLS: Mailu's default when unset (front `config.py` line 133
    /// reads anything but `false`/`no`, unset included, as permissive).
    pub fn permissive_port25(&self) -> bool {
        self.permissive_port25.unwrap_or(true)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutboundTlsLevel {
    Encrypt,
    Secure,
}

impl OutboundTlsLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboundTlsLevel::Encrypt => "encrypt",
            OutboundTlsLevel::Secure => "secure",
        }
    }
}

/// Branding of the web UI.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BrandingFile {
    /// Site name (`SITENAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// Link of the site name (`WEBSITE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Logo image URL (`LOGO_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Logo background colour, e.g. `#2b2b2b` (`LOGO_BACKGROUND`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_background: Option<String>,
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
    pub username: Parsed<LocalPart>,
    /// Domain of the admin's address. Defaults to `domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Parsed<Fqdn>>,
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
    pub registry: Parsed<ImageRegistry>,
    /// Tag of Mailu's images (the Mailu version). Quote it: `"2024.06"`.
    #[serde(default = "defaults::image_tag")]
    pub tag: Parsed<ImageTag>,
    /// Kubernetes `imagePullPolicy` for every container.
    #[serde(default = "defaults::pull_policy")]
    pub pull_policy: PullPolicy,
    /// Secrets (`kubernetes.io/dockerconfigjson`) for pulling from a private registry, given to
    /// every pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_secrets: Vec<Parsed<Dns1123Subdomain>>,
}

impl Default for ImagesFile {
    fn default() -> Self {
        ImagesFile {
            registry: defaults::image_registry(),
            tag: defaults::image_tag(),
            pull_policy: defaults::pull_policy(),
            pull_secrets: Vec::new(),
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
    pub secret_name: Option<Parsed<Dns1123Subdomain>>,
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
    pub issuer_name: Parsed<Dns1123Subdomain>,
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
    pub hostname: Option<Parsed<Fqdn>>,
    /// A cert-manager ClusterIssuer: creates a `Certificate` for front's Secret (same as
    /// `tls.certificate` with `issuerKind: ClusterIssuer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_issuer: Option<Parsed<Dns1123Subdomain>>,
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
    pub gateway_name: Parsed<Dns1123Subdomain>,
    /// Its namespace. Default: `namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_namespace: Option<Parsed<Dns1123Label>>,
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
    pub class_name: Option<Parsed<Dns1123Subdomain>>,
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
    pub real_ip_from: Option<Vec<Parsed<IpCidr>>>,
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
    pub load_balancer_ip: Option<Parsed<LoadBalancerIp>>,
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
    /// `spec.ipFamilyPolicy`. Default `PreferDualStack` (IPv4 and IPv6) with `subnet6`, else
    /// the cluster's single family; the dual-stack policies need `subnet6` (front has an IPv6
    /// address only on an IPv6 pod network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<IpFamilyPolicy>,
}

/// A Service's `spec.ipFamilyPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum IpFamilyPolicy {
    SingleStack,
    PreferDualStack,
    RequireDualStack,
}

impl IpFamilyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamilyPolicy::SingleStack => "SingleStack",
            IpFamilyPolicy::PreferDualStack => "PreferDualStack",
            IpFamilyPolicy::RequireDualStack => "RequireDualStack",
        }
    }

    /// The policy front's Service gets: the one given, or `PreferDualStack` on a cluster with
    /// an IPv6 pod network (`subnet6`); `None` leaves the cluster's default (single-stack).
    pub fn of_front(given: Option<IpFamilyPolicy>, subnet6: bool) -> Option<IpFamilyPolicy> {
        given.or(subnet6.then_some(IpFamilyPolicy::PreferDualStack))
    }

    pub fn is_dual_stack(self) -> bool {
        !matches!(self, IpFamilyPolicy::SingleStack)
    }
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

    pub fn namespace() -> Parsed<Dns1123Label> {
        Parsed::from("mailu".to_owned())
    }
    pub fn timezone() -> Parsed<Timezone> {
        Parsed::from("Etc/UTC".to_owned())
    }
    pub fn cluster_domain() -> Parsed<DnsName> {
        Parsed::from("cluster.local".to_owned())
    }
    /// PostgreSQL's standard port; Mailu's admin assumes it when `DB_HOST` has no port.
    pub const POSTGRESQL_PORT: u16 = 5432;
    pub fn postgresql_port() -> NonZeroU16 {
        NonZeroU16::new(POSTGRESQL_PORT).unwrap_or(NonZeroU16::MIN)
    }
    pub fn postgresql_database() -> Parsed<DatabaseName> {
        Parsed::from("mailu".to_owned())
    }
    pub fn secret_key_username() -> Parsed<SecretKey> {
        Parsed::from("username".to_owned())
    }
    pub fn secret_key_password() -> Parsed<SecretKey> {
        Parsed::from("password".to_owned())
    }
    pub fn redis_port() -> NonZeroU16 {
        NonZeroU16::new(6379).unwrap_or(NonZeroU16::MIN)
    }
    pub fn log_level() -> LogLevel {
        LogLevel::Warning
    }
    pub fn enabled() -> bool {
        true
    }
    pub fn cluster_dns() -> Option<PeerFile> {
        Some(PeerFile {
            namespace: Some(Parsed::from("kube-system".to_owned())),
            pod_labels: BTreeMap::from([("k8s-app".into(), "kube-dns".into())]),
            cidrs: Vec::new(),
        })
    }
    pub fn message_size_limit() -> NonZeroU32 {
        NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN)
    }
    pub fn initial_account_username() -> Parsed<LocalPart> {
        Parsed::from("admin".to_owned())
    }
    pub fn initial_account_mode() -> InitialAccountMode {
        InitialAccountMode::Ifmissing
    }
    pub fn image_registry() -> Parsed<ImageRegistry> {
        Parsed::from("ghcr.io/mailu".to_owned())
    }
    pub fn image_tag() -> Parsed<ImageTag> {
        Parsed::from("2024.06".to_owned())
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
    pub fn roundcube_database() -> Parsed<DatabaseName> {
        Parsed::from("roundcube".to_owned())
    }
    pub fn webmail_type() -> WebmailType {
        WebmailType::Roundcube
    }
    pub fn full_text_search() -> Vec<String> {
        vec!["en".into()]
    }
    pub fn antivirus_action() -> AntivirusAction {
        AntivirusAction::Discard
    }
    pub fn fetchmail_delay() -> NonZeroU32 {
        NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN)
    }
    pub const TRAEFIK_WEB_ENTRY_POINT: &str = "websecure";
}
