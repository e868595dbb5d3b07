//! Mailu's environment, as Mailu 2024.06's containers read it.
//!
//! Settings that several components read go into one shared ConfigMap; settings only one
//! component reads, and every secret, go on that component's container alone. Every name written
//! here is one Mailu reads (a test checks them against `mailu-2024.06-env.json`).

use std::collections::BTreeMap;

use mailu_k8s_config::{Config, Database, SecretRef};
use mailu_k8s_topology::{Component, Topology};

use crate::k8s::{EnvVar, EnvVarSource, SecretKeySelector};

/// Name of the shared environment ConfigMap.
pub const SHARED_ENV_CONFIGMAP: &str = "mailu-env";

/// Key and mount point of front's certificate, as cert-manager and `kubectl create secret tls`
/// name them; `TLS_CERT_FILENAME`/`TLS_KEYPAIR_FILENAME` tell front to use these names.
pub const CERTS_DIR: &str = "/certs";
pub const TLS_CERT_FILE: &str = "tls.crt";
pub const TLS_KEY_FILE: &str = "tls.key";

/// The shared settings: read by more than one Mailu component.
pub fn shared(config: &Config, topology: &Topology) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set("DOMAIN", config.domain.to_string());
    set(
        "HOSTNAMES",
        config
            .hostnames
            .all()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    set("SUBNET", config.subnet.to_string());
    if let Some(subnet6) = &config.subnet6 {
        set("SUBNET6", subnet6.to_string());
    }
    set("TZ", config.timezone.clone());
    set("LOG_LEVEL", config.mailu.log_level.as_str().to_owned());
    set(
        "MESSAGE_SIZE_LIMIT",
        config.mailu.message_size_limit_bytes().to_string(),
    );
    // front reads the flavor for its listeners; admin for secure cookies.
    set(
        "TLS_FLAVOR",
        topology.exposure.tls_flavor.as_str().to_owned(),
    );
    // Front routes /admin only when ADMIN is on; admin and front both read it.
    set("ADMIN", "true".to_owned());
    if config.mailu.api.is_some() {
        set("API", "true".to_owned());
    }
    for (var, host) in topology.address_env() {
        set(var, host);
    }
    env
}

fn value(name: &'static str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name,
        value: Some(value.into()),
        value_from: None,
    }
}

fn secret(name: &'static str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name,
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
            },
        }),
    }
}

fn secret_ref(name: &'static str, r: &SecretRef) -> EnvVar {
    secret(name, &r.name, r.key)
}

/// Variables only `component` reads, including the secrets it needs and no others.
pub fn own(component: Component, config: &Config, topology: &Topology) -> Vec<EnvVar> {
    let mut env = Vec::new();
    if component.is_mailu() {
        // Every Mailu container derives its own keys from SECRET_KEY at start.
        env.push(secret_ref("SECRET_KEY", &config.secrets.mailu_secret_key));
    }
    match component {
        Component::Front => {
            let exposure = &topology.exposure;
            env.push(value("PORTS", topology.mailu_ports_env()));
            if let Some(ports) = exposure.proxy_protocol_env() {
                env.push(value("PROXY_PROTOCOL", ports));
            }
            if !exposure.real_ip_from.is_empty() {
                env.push(value("REAL_IP_FROM", exposure.real_ip_from.join(",")));
            }
            if let Some(header) = &exposure.real_ip_header {
                env.push(value("REAL_IP_HEADER", header.clone()));
            }
            if config.tls.secret_name.is_some() {
                env.push(value("TLS_CERT_FILENAME", TLS_CERT_FILE));
                env.push(value("TLS_KEYPAIR_FILENAME", TLS_KEY_FILE));
            }
            if let Some(api) = &config.mailu.api {
                env.push(secret_ref("API_TOKEN", &api.token));
            }
        }
        Component::Admin => {
            // Admin loops forever on an "unsupported system" check unless told it runs under a
            // Kubernetes deployer.
            env.push(value("MAILU_HELM_CHART", "true"));
            if let Database::Postgresql(pg) = &config.database {
                env.push(value("DB_FLAVOR", "postgresql"));
                // Admin builds postgresql://USER:PW@DB_HOST/DB_NAME: a port goes into DB_HOST.
                let host = if pg.port.get() == mailu_k8s_config::file::defaults::POSTGRESQL_PORT {
                    pg.host.to_string()
                } else {
                    format!("{}:{}", pg.host, pg.port)
                };
                env.push(value("DB_HOST", host));
                env.push(value("DB_NAME", pg.database.clone()));
                let creds = &pg.credentials;
                env.push(secret("DB_USER", &creds.secret_name, &creds.username_key));
                env.push(secret("DB_PW", &creds.secret_name, &creds.password_key));
            }
            if let Some(account) = &config.mailu.initial_account {
                env.push(value("INITIAL_ADMIN_ACCOUNT", account.username.clone()));
                env.push(value("INITIAL_ADMIN_DOMAIN", account.domain.to_string()));
                env.push(value("INITIAL_ADMIN_MODE", account.mode.as_str()));
                env.push(secret_ref("INITIAL_ADMIN_PW", &account.password));
            }
            if let Some(api) = &config.mailu.api {
                env.push(secret_ref("API_TOKEN", &api.token));
            }
        }
        Component::Postfix | Component::Dovecot | Component::Rspamd | Component::Redis => {}
    }
    env
}
