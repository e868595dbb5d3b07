//! The validated configuration. Every value here has been checked; emitters use it as is and
//! never re-validate.

use std::num::NonZeroU16;

pub use crate::file::{InitialAccountMode, LogLevel, PullPolicy};
pub use crate::rules::{DnsName, Ipv4Cidr, Ipv6Cidr, Quantity};

/// A validated mailu-k8s configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub namespace: String,
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
    pub mailu: Mailu,
    pub images: Images,
    pub tls: Tls,
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

/// A persistent volume request.
#[derive(Debug, Clone)]
pub struct Volume {
    pub size: Quantity,
    pub storage_class: Option<String>,
}

/// Volumes of the components that keep state.
#[derive(Debug, Clone)]
pub struct Storage {
    pub admin: Volume,
    pub postfix: Volume,
    pub dovecot: Volume,
    pub rspamd: Volume,
    pub redis: Volume,
}

/// CPU and memory.
#[derive(Debug, Clone)]
pub struct CpuMemory {
    pub cpu: Quantity,
    pub memory: Quantity,
}

/// Requests and limits; each request is at most its limit.
#[derive(Debug, Clone)]
pub struct Compute {
    pub requests: CpuMemory,
    pub limits: CpuMemory,
}

#[derive(Debug, Clone)]
pub struct Resources {
    pub front: Compute,
    pub admin: Compute,
    pub postfix: Compute,
    pub dovecot: Compute,
    pub rspamd: Compute,
    pub redis: Compute,
}

#[derive(Debug, Clone)]
pub struct Mailu {
    pub log_level: LogLevel,
    /// Megabytes (10^6 bytes).
    pub message_size_limit_mb: u32,
    pub initial_account: Option<InitialAccount>,
    pub api: Option<Api>,
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
}

#[derive(Debug, Clone)]
pub struct Tls {
    /// A `kubernetes.io/tls` Secret.
    pub secret_name: String,
}

/// Defaults that differ per component, in one place.
pub mod component_defaults {
    /// (requests cpu, requests memory, limits cpu, limits memory). Their sum must fit a small
    /// install on a 2-CPU node: 325m CPU and 736Mi requested in all.
    pub const FRONT: [&str; 4] = ["50m", "64Mi", "500m", "256Mi"];
    pub const ADMIN: [&str; 4] = ["50m", "256Mi", "500m", "512Mi"];
    pub const POSTFIX: [&str; 4] = ["50m", "64Mi", "500m", "256Mi"];
    pub const DOVECOT: [&str; 4] = ["50m", "128Mi", "1", "512Mi"];
    pub const RSPAMD: [&str; 4] = ["100m", "192Mi", "1", "512Mi"];
    pub const REDIS: [&str; 4] = ["25m", "32Mi", "250m", "256Mi"];

    pub const ADMIN_VOLUME: &str = "1Gi";
    pub const POSTFIX_VOLUME: &str = "2Gi";
    pub const DOVECOT_VOLUME: &str = "10Gi";
    pub const RSPAMD_VOLUME: &str = "1Gi";
    pub const REDIS_VOLUME: &str = "1Gi";
}
