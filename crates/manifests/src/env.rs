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

/// `true`/`false` as Mailu's Python reads booleans.
fn flag(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

/// The shared settings: read by more than one Mailu component.
pub fn shared(config: &Config, topology: &Topology) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    let m = &config.mailu;
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
    set("LOG_LEVEL", m.log_level.as_str().to_owned());
    set(
        "MESSAGE_SIZE_LIMIT",
        m.message_size_limit_bytes().to_string(),
    );
    // front reads the flavor for its listeners; admin for secure cookies.
    set(
        "TLS_FLAVOR",
        topology.exposure.tls_flavor.as_str().to_owned(),
    );
    // Front routes /admin only when ADMIN is on; admin and front both read it.
    set("ADMIN", "true".to_owned());
    if m.api.is_some() {
        set("API", "true".to_owned());
    }
    // front routes /webmail, admin links to it, webmail picks its client.
    set(
        "WEBMAIL",
        config
            .components
            .webmail
            .as_ref()
            .map_or("none", |w| w.kind.as_str())
            .to_owned(),
    );
    // dovecot indexes, webmail searches.
    set(
        "FULL_TEXT_SEARCH",
        if m.full_text_search.is_empty() {
            "off".to_owned()
        } else {
            m.full_text_search.join(",")
        },
    );
    if !m.relay_nets.is_empty() {
        set("RELAYNETS", m.relay_nets.join(","));
    }
    if let Some(d) = &m.recipient_delimiter {
        set("RECIPIENT_DELIMITER", d.clone());
    }
    if let Some(p) = &m.postmaster {
        set("POSTMASTER", p.clone());
    }
    // front routes these paths; admin and webmail build their links from them.
    for (var, path) in [
        ("WEB_ADMIN", &m.web_paths.admin),
        ("WEB_WEBMAIL", &m.web_paths.webmail),
        ("WEB_API", &m.web_paths.api),
    ] {
        if let Some(p) = path {
            set(var, p.clone());
        }
    }
    // Admin hands it to postfix through its policy lookups; both read it.
    if let Some(v) = m.tls_policy.inbound_enforce {
        set("INBOUND_TLS_ENFORCE", flag(v));
    }
    for (var, host) in topology.address_env() {
        set(var, host);
    }
    env
}

fn value(name: &'static str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(literal(value.into())),
        value_from: None,
    }
}

/// Kubernetes expands `$(NAME)` in an env value from the container's earlier variables (a
/// `logoUrl` ending in `$(SECRET_KEY)` would publish the key); `$$` is a literal `$`.
fn literal(value: String) -> String {
    value.replace('$', "$$")
}

fn secret(name: &'static str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
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

/// `host`, or `host:port` when the port is not PostgreSQL's default: Mailu builds
/// `postgresql://USER:PW@HOST/NAME` from it, so the port goes into the host.
fn db_host(host: &mailu_k8s_config::DnsName, port: std::num::NonZeroU16) -> String {
    if port.get() == mailu_k8s_config::file::defaults::POSTGRESQL_PORT {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// Variables only `component` reads, including the secrets it needs and no others.
pub fn own(component: Component, config: &Config, topology: &Topology) -> Vec<EnvVar> {
    let mut env = Vec::new();
    let m = &config.mailu;
    let k = &config.components;
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
            env.push(value("WEBDAV", if k.webdav { "radicale" } else { "none" }));
            if let Some(api) = &m.api {
                env.push(secret_ref("API_TOKEN", &api.token));
            }
        }
        Component::Admin => {
            // Admin loops forever on an "unsupported system" check unless told it runs under a
            // Kubernetes deployer.
            env.push(value("MAILU_HELM_CHART", "true"));
            if let Database::Postgresql(pg) = &config.database {
                env.push(value("DB_FLAVOR", "postgresql"));
                env.push(value("DB_HOST", db_host(&pg.host, pg.port)));
                env.push(value("DB_NAME", pg.database.clone()));
                let creds = &pg.credentials;
                env.push(secret("DB_USER", &creds.secret_name, &creds.username_key));
                env.push(secret("DB_PW", &creds.secret_name, &creds.password_key));
            }
            if let Some(account) = &m.initial_account {
                env.push(value("INITIAL_ADMIN_ACCOUNT", account.username.clone()));
                env.push(value("INITIAL_ADMIN_DOMAIN", account.domain.to_string()));
                env.push(value("INITIAL_ADMIN_MODE", account.mode.as_str()));
                env.push(secret_ref("INITIAL_ADMIN_PW", &account.password));
            }
            if let Some(api) = &m.api {
                env.push(secret_ref("API_TOKEN", &api.token));
            }
            // Mailu shows the fetchmail pages unless told otherwise.
            env.push(value("FETCHMAIL_ENABLED", flag(k.fetchmail)));
            let limits = &m.rate_limits;
            for (name, v) in [
                ("MESSAGE_RATELIMIT", &limits.message),
                ("AUTH_RATELIMIT_IP", &limits.auth_ip),
                ("AUTH_RATELIMIT_USER", &limits.auth_user),
                ("DMARC_RUA", &m.dmarc.rua),
                ("DMARC_RUF", &m.dmarc.ruf),
                ("SITENAME", &m.branding.site_name),
                ("WEBSITE", &m.branding.website),
                ("LOGO_URL", &m.branding.logo_url),
                ("LOGO_BACKGROUND", &m.branding.logo_background),
            ] {
                if let Some(v) = v {
                    env.push(value(name, v.clone()));
                }
            }
            if let Some(w) = &m.welcome {
                env.push(value("WELCOME", "true"));
                env.push(value("WELCOME_SUBJECT", w.subject.clone()));
                env.push(value("WELCOME_BODY", w.body.clone()));
            }
            if let Some(q) = m.default_quota_bytes {
                env.push(value("DEFAULT_QUOTA", q.to_string()));
            }
            if let Some(t) = m.default_spam_threshold {
                env.push(value("DEFAULT_SPAM_THRESHOLD", t.to_string()));
            }
        }
        Component::Postfix => {
            if let Some(relay) = &m.relay {
                env.push(value(
                    "RELAYHOST",
                    format!("[{}]:{}", relay.host, relay.port),
                ));
                if let Some(secret_name) = &relay.credentials {
                    env.push(secret("RELAYUSER", secret_name, RELAY_USERNAME_KEY));
                    env.push(secret("RELAYPASSWORD", secret_name, RELAY_PASSWORD_KEY));
                }
            }
            if let Some(level) = m.tls_policy.outbound_level {
                env.push(value("OUTBOUND_TLS_LEVEL", level.as_str()));
            }
            if let Some(v) = m.tls_policy.defer_on_error {
                env.push(value("DEFER_ON_TLS_ERROR", flag(v)));
            }
            if let Some(v) = m.reject_unlisted_recipient {
                env.push(value("REJECT_UNLISTED_RECIPIENT", flag(v)));
            }
        }
        Component::Dovecot => {
            if k.tika {
                env.push(value("FULL_TEXT_SEARCH_ATTACHMENTS", "true"));
            }
        }
        Component::Rspamd => {
            if k.clamav {
                env.push(value("ANTIVIRUS", "clamav"));
                env.push(value("ANTIVIRUS_ACTION", m.antivirus_action.as_str()));
            }
            if k.oletools {
                env.push(value("SCAN_MACROS", "true"));
            }
        }
        Component::Webmail => {
            if let Some(w) = &k.webmail {
                if let Some(plugins) = &w.roundcube_plugins {
                    env.push(value("ROUNDCUBE_PLUGINS", plugins.join(",")));
                }
                if let Some(db) = &w.roundcube_database {
                    env.push(value("ROUNDCUBE_DB_FLAVOR", "postgresql"));
                    env.push(value("ROUNDCUBE_DB_HOST", db_host(&db.host, db.port)));
                    env.push(value("ROUNDCUBE_DB_NAME", db.database.clone()));
                    let creds = &db.credentials;
                    env.push(secret(
                        "ROUNDCUBE_DB_USER",
                        &creds.secret_name,
                        &creds.username_key,
                    ));
                    env.push(secret(
                        "ROUNDCUBE_DB_PW",
                        &creds.secret_name,
                        &creds.password_key,
                    ));
                }
            }
        }
        Component::Fetchmail => {
            env.push(value(
                "FETCHMAIL_DELAY",
                m.fetchmail_delay_seconds.to_string(),
            ));
        }
        Component::Redis
        | Component::Clamav
        | Component::Webdav
        | Component::Oletools
        | Component::Tika
        | Component::Resolver => {}
    }
    env
}

/// The container's whole environment: what it reads from mailu-k8s (`own`), then the
/// component's `logLevel`, then its `extraEnv` (validated not to repeat any of these).
pub fn container(component: Component, config: &Config, topology: &Topology) -> Vec<EnvVar> {
    let mut env = own(component, config, topology);
    if let Some(settings) = config.workloads.get(component.name()) {
        if let Some(level) = settings.log_level {
            env.push(value("LOG_LEVEL", level.as_str()));
        }
        env.extend(settings.extra_env.iter().map(|(name, v)| EnvVar {
            name: name.clone(),
            value: Some(literal(v.clone())),
            value_from: None,
        }));
    }
    env
}

/// Keys inside the relay credentials Secret.
pub const RELAY_USERNAME_KEY: &str = "username";
pub const RELAY_PASSWORD_KEY: &str = "password";

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `name` in `component`'s container, from a config with `extra` appended.
    fn env_value(extra: &str, component: Component, name: &str) -> Option<String> {
        let yaml = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n\
             resolver: {{serviceIP: 10.43.0.53}}\nsecrets: {{mailuSecretKey: mailu-secret-key}}\n\
             {extra}"
        );
        let config = mailu_k8s_config::load(yaml.as_bytes())
            .expect("a valid config")
            .config;
        let topology = Topology::from_config(&config);
        container(component, &config, &topology)
            .into_iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value)
    }

    #[test]
    fn variable_references_in_values_reach_the_container_literally() {
        assert_eq!(
            env_value(
                "mailu: {branding: {logoUrl: 'https://x.example/l.png?k=$(SECRET_KEY)'}}",
                Component::Admin,
                "LOGO_URL"
            )
            .as_deref(),
            Some("https://x.example/l.png?k=$$(SECRET_KEY)")
        );
        assert_eq!(
            env_value(
                "workloads: {postfix: {extraEnv: {POSTFIX_LOG_FILE: '$(SECRET_KEY)$$x'}}}",
                Component::Postfix,
                "POSTFIX_LOG_FILE"
            )
            .as_deref(),
            Some("$$(SECRET_KEY)$$$$x")
        );
    }
}
