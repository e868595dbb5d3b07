//! Mailu's environment placed on containers. What each component reads, and the value, come
//! from the topology's table (`mailu_k8s_topology::mailu_env`); this module only decides the
//! Kubernetes form:
//! - a value every running reader shares goes into the `mailu-env` ConfigMap and each reader
//!   references its key (`configMapKeyRef`), so no container gets a variable it does not read;
//! - a value for one reader (or differing per reader) is written on that container, with `$`
//!   doubled: Kubernetes expands `$(NAME)` in `env[].value`, and a config value such as
//!   `logoUrl: …?k=$(SECRET_KEY)` must reach Mailu literally, not as the secret;
//! - a secret is a `secretKeyRef`, never a value.

use std::collections::BTreeMap;

use mailu_k8s_config::{Config, ExtraEnv};
use mailu_k8s_topology::mailu_env::{Assignment, Value};
use mailu_k8s_topology::{Component, Topology};

use k8s_openapi::api::core::v1::{ConfigMapKeySelector, EnvVar, EnvVarSource, SecretKeySelector};

/// Name of the shared environment ConfigMap.
pub const SHARED_ENV_CONFIGMAP: &str = "mailu-env";

/// Where front's certificate Secret is mounted; the file names are in the topology's table
/// (`TLS_CERT_FILENAME`/`TLS_KEYPAIR_FILENAME`).
pub const CERTS_DIR: &str = "/certs";

/// What Kubernetes turns back into `text` in `env[].value`, `command` and `args`: `$$` is a
/// literal `$`, so `$(NAME)` can never be expanded from another variable.
pub fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

/// The shared ConfigMap's data: every shared assignment of every running component.
pub fn shared(config: &Config, topology: &Topology) -> BTreeMap<String, String> {
    shared_of(topology.mailu_envs(config).all())
}

/// The shared values `component` reads, as `(name, value)`: what its pods must roll on.
pub fn shared_for(
    config: &Config,
    topology: &Topology,
    component: Component,
) -> Vec<(String, String)> {
    shared_of(topology.mailu_env(config, component).iter())
}

/// The shared text values among `assignments`, as `(name, value)`; [`shared`] and
/// [`shared_for`] from environments computed once (`Topology::mailu_envs`).
pub(crate) fn shared_of<'a, C: FromIterator<(String, String)>>(
    assignments: impl Iterator<Item = &'a Assignment>,
) -> C {
    assignments
        .filter(|a| a.shared)
        .filter_map(|a| match &a.value {
            Value::Text(t) => Some((a.name.to_owned(), t.clone())),
            Value::Secret { .. } => None,
        })
        .collect()
}

fn env_var(a: &Assignment) -> EnvVar {
    let name = a.name.to_owned();
    match &a.value {
        Value::Secret { name: secret, key } => secret_var(name, secret.clone(), key.clone()),
        Value::Text(_) if a.shared => {
            config_map_var(name, SHARED_ENV_CONFIGMAP.to_owned(), a.name.to_owned())
        }
        Value::Text(t) => literal_var(name, t),
    }
}

fn secret_var(name: String, secret: String, key: String) -> EnvVar {
    from_source(
        name,
        EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret,
                key,
                optional: None,
            }),
            ..EnvVarSource::default()
        },
    )
}

fn config_map_var(name: String, config_map: String, key: String) -> EnvVar {
    from_source(
        name,
        EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: config_map,
                key,
                optional: None,
            }),
            ..EnvVarSource::default()
        },
    )
}

fn from_source(name: String, source: EnvVarSource) -> EnvVar {
    EnvVar {
        name,
        value: None,
        value_from: Some(source),
    }
}

/// A variable whose value reaches the container exactly as `text`.
fn literal_var(name: String, text: &str) -> EnvVar {
    EnvVar {
        name,
        value: Some(literal(text)),
        value_from: None,
    }
}

fn extra_var(name: String, value: &ExtraEnv) -> EnvVar {
    match value {
        ExtraEnv::Text(t) => literal_var(name, t),
        ExtraEnv::Secret { name: s, key } => secret_var(name, s.clone(), key.clone()),
        ExtraEnv::ConfigMap { name: c, key } => config_map_var(name, c.clone(), key.clone()),
    }
}

/// The container's whole environment: the Mailu variables it reads, then its `extraEnv`
/// (validated not to repeat any of them).
pub fn container(component: Component, config: &Config, topology: &Topology) -> Vec<EnvVar> {
    container_of(component, &topology.mailu_env(config, component), config)
}

/// [`container`] from the component's Mailu variables computed once (`Topology::mailu_envs`).
pub(crate) fn container_of(
    component: Component,
    mailu_env: &[Assignment],
    config: &Config,
) -> Vec<EnvVar> {
    let mut env: Vec<EnvVar> = mailu_env.iter().map(env_var).collect();
    if let Some(settings) = config.workloads.get(component.name()) {
        env.extend(
            settings
                .extra_env
                .iter()
                .map(|(name, v)| extra_var(name.clone(), v)),
        );
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kubernetes expands `$(NAME)` in `env[].value` from earlier variables of the container:
    /// a branding URL must not be able to pull SECRET_KEY onto Mailu's login page.
    #[test]
    fn config_values_reach_the_container_literally() {
        let config = mailu_k8s_config::testing::config(
            "mailu: {branding: {logoUrl: 'https://x.example/l.png?k=$(SECRET_KEY)'}}\nworkloads: {admin: {extraEnv: {CREDENTIAL_ROUNDS: '$(SECRET_KEY)'}}}\n",
        );
        let topology = Topology::from_config(&config);
        let env = container(Component::Admin, &config, &topology);
        let value = |n: &str| {
            env.iter()
                .find(|e| e.name == n)
                .and_then(|e| e.value.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            value("LOGO_URL"),
            "https://x.example/l.png?k=$$(SECRET_KEY)"
        );
        assert_eq!(value("CREDENTIAL_ROUNDS"), "$$(SECRET_KEY)");
    }
}
