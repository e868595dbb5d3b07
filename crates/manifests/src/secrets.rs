//! Every Secret an installation needs, read back from the generated objects — what the kubelet
//! and the edge will ask for — so the list cannot drift from the manifest: who reads each key
//! and how, what Mailu cannot take in it, who makes the Secret, and the command that creates
//! it with placeholders (never a value: mailu-k8s never sees one).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use mailu_k8s_config::Config;
use mailu_k8s_topology::mailu_env::{TLS_CERT_FILE, TLS_KEY_FILE};
use serde::Serialize;

use crate::{Manifest, Object};

/// One Secret the manifest references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretNeed {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SecretKind,
    pub made_by: MadeBy,
    /// Keys in name order; a Secret mounted whole lists the keys its reader looks for.
    pub keys: Vec<KeyNeed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SecretKind {
    #[serde(rename = "Opaque")]
    Opaque,
    #[serde(rename = "kubernetes.io/tls")]
    Tls,
}

/// Who puts the Secret into the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "by")]
pub enum MadeBy {
    /// The operator, with the command [`SecretNeed::create_command`] prints.
    Operator,
    /// cert-manager, for the named Certificate of the manifest.
    CertManager { certificate: String },
    /// `mailu-k8s dkim keygen`, which writes it as a manifest of its own.
    DkimKeygen,
}

/// One key of a Secret and everything that reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyNeed {
    pub key: String,
    pub readers: Vec<Reader>,
    /// Characters Mailu 2024.06 cannot take in this value, when some break it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<&'static str>,
    /// What to put in `--from-literal`: a generator or a `<placeholder>`.
    pub placeholder: String,
}

/// An object (and container) reading a key, and how.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reader {
    /// `Deployment/mailu-admin`, `Ingress/mailu-web`.
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// `env SECRET_KEY`, `file /certs/tls.crt`, `tls`.
    #[serde(rename = "as")]
    pub used_as: String,
}

/// What a value read as environment variable `var` must look like and what to put in its place,
/// for the variables Mailu passes on unescaped.
struct EnvSecret {
    var: &'static str,
    placeholder: &'static str,
    constraint: Option<&'static str>,
}

/// Admin's start.py (core/admin/start.py:26) runs `flask mailu admin %s %s '%s'` through a shell.
const SHELL_QUOTED: &str = "no `'` and no newline: admin puts it inside single quotes in a shell \
     command (core/admin/start.py:26); use letters, digits and -._~";
/// core/admin/mailu/configuration.py:105 and webmail's start.py paste these raw into a URI, which
/// Roundcube's config.inc.php pastes into a single-quoted PHP string.
const IN_A_URI: &str = "no `@ / : ? # % ' \\` and no spaces: Mailu pastes it raw into a \
     database URI (core/admin/mailu/configuration.py:105); use letters, digits and -._~";

const ENV_SECRETS: &[EnvSecret] = &[
    env("SECRET_KEY", "\"$(openssl rand -hex 32)\"", None),
    env("API_TOKEN", "\"$(openssl rand -hex 32)\"", None),
    env("INITIAL_ADMIN_PW", "'<admin password>'", Some(SHELL_QUOTED)),
    env("DB_USER", "'<database user>'", Some(IN_A_URI)),
    env("DB_PW", "'<database password>'", Some(IN_A_URI)),
    env("ROUNDCUBE_DB_USER", "'<database user>'", Some(IN_A_URI)),
    env("ROUNDCUBE_DB_PW", "'<database password>'", Some(IN_A_URI)),
    env("RELAYUSER", "'<relay user name>'", None),
    env("RELAYPASSWORD", "'<relay password>'", None),
];

const fn env(
    var: &'static str,
    placeholder: &'static str,
    constraint: Option<&'static str>,
) -> EnvSecret {
    EnvSecret {
        var,
        placeholder,
        constraint,
    }
}

/// Every Secret the manifest references, by namespace and name.
pub fn secret_needs(config: &Config, manifest: &Manifest) -> Vec<SecretNeed> {
    let mut found: BTreeMap<(String, String), Found> = BTreeMap::new();
    for object in &manifest.objects {
        let namespace = object.metadata().namespace.clone().unwrap_or_default();
        let here = format!("{}/{}", object.kind(), object.name());
        let mut note = |name: &str, key: Option<&str>, reader: Reader| {
            let entry = found
                .entry((namespace.clone(), name.to_owned()))
                .or_default();
            entry.add(key, reader);
        };
        match object {
            Object::Certificate(c) => {
                let entry = found
                    .entry((namespace.clone(), c.spec.secret_name.clone()))
                    .or_default();
                entry.certificate = Some(object.name().to_owned());
            }
            Object::Ingress(i) => {
                let tls = i.spec.as_ref().and_then(|s| s.tls.as_ref());
                for name in tls
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.secret_name.as_ref())
                {
                    note(name, None, edge_reader(&here));
                }
            }
            Object::IngressRoute(r) => {
                if let Some(name) = r.spec.tls.as_ref().and_then(|t| t.secret_name.as_ref()) {
                    note(name, None, edge_reader(&here));
                }
            }
            _ => {
                if let Some(pod) = pod_spec(object) {
                    pod_reads(&here, pod, &mut note);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|((namespace, name), f)| f.into_need(config, namespace, name))
        .collect()
}

fn edge_reader(object: &str) -> Reader {
    Reader {
        object: object.to_owned(),
        container: None,
        used_as: "tls".to_owned(),
    }
}

fn pod_spec(object: &Object) -> Option<&PodSpec> {
    let template = match object {
        Object::Deployment(d) => &d.spec.as_ref()?.template,
        Object::StatefulSet(s) => &s.spec.as_ref()?.template,
        Object::DaemonSet(d) => &d.spec.as_ref()?.template,
        _ => return None,
    };
    template.spec.as_ref()
}

/// Records every Secret key a pod's containers read: env references and Secret volumes (a
/// volume listing `items` reads those keys; one without reads whatever its reader opens).
fn pod_reads(object: &str, pod: &PodSpec, note: &mut impl FnMut(&str, Option<&str>, Reader)) {
    let containers = pod.init_containers.iter().flatten().chain(&pod.containers);
    for c in containers {
        for e in c.env.iter().flatten() {
            let reference = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref());
            if let Some(r) = reference {
                note(
                    &r.name,
                    Some(&r.key),
                    reader(object, c, format!("env {}", e.name)),
                );
            }
        }
        for (volume, path) in secret_mounts(pod, c) {
            let items = volume.items.filter(|i| !i.is_empty());
            match items {
                Some(items) => {
                    for item in items {
                        let file = format!("file {path}/{}", item.path);
                        note(volume.secret_name, Some(&item.key), reader(object, c, file));
                    }
                }
                None => note(
                    volume.secret_name,
                    None,
                    reader(object, c, format!("files in {path}")),
                ),
            }
        }
    }
}

/// The Secret volumes `c` mounts, with their mount paths.
fn secret_mounts<'a>(
    pod: &'a PodSpec,
    c: &'a Container,
) -> impl Iterator<Item = (SecretVolume<'a>, &'a str)> {
    c.volume_mounts.iter().flatten().filter_map(move |m| {
        let volume = pod.volumes.iter().flatten().find(|v| v.name == m.name)?;
        let secret = volume.secret.as_ref()?;
        Some((
            SecretVolume {
                secret_name: secret.secret_name.as_deref()?,
                items: secret.items.as_ref(),
            },
            m.mount_path.as_str(),
        ))
    })
}

struct SecretVolume<'a> {
    secret_name: &'a str,
    items: Option<&'a Vec<k8s_openapi::api::core::v1::KeyToPath>>,
}

fn reader(object: &str, c: &Container, used_as: String) -> Reader {
    Reader {
        object: object.to_owned(),
        container: Some(c.name.clone()),
        used_as,
    }
}

/// What was found of one Secret while walking the objects.
#[derive(Default)]
struct Found {
    keys: BTreeMap<String, Vec<Reader>>,
    /// Readers of the whole Secret (a volume without items, an edge's TLS).
    whole: Vec<Reader>,
    certificate: Option<String>,
}

impl Found {
    fn add(&mut self, key: Option<&str>, reader: Reader) {
        let readers = match key {
            Some(k) => self.keys.entry(k.to_owned()).or_default(),
            None => &mut self.whole,
        };
        if !readers.contains(&reader) {
            readers.push(reader);
        }
    }

    fn into_need(mut self, config: &Config, namespace: String, name: String) -> SecretNeed {
        let tls =
            config.tls.secret_name.as_deref() == Some(name.as_str()) || self.certificate.is_some();
        let dkim = config.dns.dkim.secret_name.as_deref() == Some(name.as_str());
        // A whole-Secret reader reads the keys its Secret's kind defines.
        let whole_keys: &[&str] = match (tls, dkim) {
            (true, _) => &[TLS_CERT_FILE, TLS_KEY_FILE],
            (false, true) => &["<domain>.<selector>.key"],
            (false, false) => &["<any key>"],
        };
        for key in whole_keys {
            if !self.whole.is_empty() {
                let readers = self.keys.entry((*key).to_owned()).or_default();
                readers.extend(self.whole.iter().cloned());
            }
        }
        let made_by = match (self.certificate, dkim) {
            (Some(certificate), _) => MadeBy::CertManager { certificate },
            (None, true) => MadeBy::DkimKeygen,
            (None, false) => MadeBy::Operator,
        };
        SecretNeed {
            namespace,
            name,
            kind: if tls {
                SecretKind::Tls
            } else {
                SecretKind::Opaque
            },
            made_by,
            keys: self.keys.into_iter().map(key_need).collect(),
        }
    }
}

fn key_need((key, mut readers): (String, Vec<Reader>)) -> KeyNeed {
    readers.sort();
    let known = readers.iter().find_map(|r| {
        let var = r.used_as.strip_prefix("env ")?;
        ENV_SECRETS.iter().find(|e| e.var == var)
    });
    KeyNeed {
        placeholder: known.map_or("'<value>'", |e| e.placeholder).to_owned(),
        constraint: known.and_then(|e| e.constraint),
        key,
        readers,
    }
}

impl SecretNeed {
    /// The command that creates the Secret, with placeholders; `None` when something else
    /// makes it (cert-manager, `dkim keygen`).
    pub fn create_command(&self) -> Option<String> {
        if self.made_by != MadeBy::Operator {
            return None;
        }
        let head = format!("kubectl -n {} create secret", self.namespace);
        Some(match self.kind {
            SecretKind::Tls => format!(
                "{head} tls {} --cert=fullchain.pem --key=privkey.pem",
                self.name
            ),
            SecretKind::Opaque => {
                let literals: Vec<String> = self
                    .keys
                    .iter()
                    .map(|k| format!(" \\\n  --from-literal={}={}", k.key, k.placeholder))
                    .collect();
                format!("{head} generic {}{}", self.name, literals.concat())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(extra: &str) -> Vec<SecretNeed> {
        let yaml = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n\
             resolver: {{serviceIP: 10.43.0.53}}\n{extra}"
        );
        let loaded = mailu_k8s_config::load(yaml.as_bytes()).expect("valid");
        secret_needs(&loaded.config, &crate::synthesize(&loaded.config))
    }

    fn need<'a>(all: &'a [SecretNeed], name: &str) -> &'a SecretNeed {
        all.iter().find(|n| n.name == name).expect(name)
    }

    #[test]
    fn the_secret_key_is_read_by_admin_only_and_generated() {
        let all = needs("secrets: {mailuSecretKey: mailu-secret-key}\n");
        let key = &need(&all, "mailu-secret-key").keys[0];
        assert_eq!(key.key, "secret-key");
        let objects: Vec<&str> = key.readers.iter().map(|r| r.object.as_str()).collect();
        assert_eq!(objects, ["Deployment/mailu-admin"]);
        assert_eq!(key.readers[0].used_as, "env SECRET_KEY");
        assert!(key.placeholder.contains("openssl rand"));
        assert!(key.constraint.is_none());
    }

    #[test]
    fn the_admin_password_carries_mailus_shell_quoting_limit() {
        let all = needs(
            "mailu: {initialAccount: {enabled: true, username: admin}}\n\
             secrets: {mailuSecretKey: mailu-secret-key, initialAdminPassword: mailu-admin}\n",
        );
        let pw = &need(&all, "mailu-admin").keys[0];
        assert_eq!(pw.readers[0].used_as, "env INITIAL_ADMIN_PW");
        assert_eq!(pw.constraint, Some(SHELL_QUOTED));
        let command = need(&all, "mailu-admin")
            .create_command()
            .expect("operator");
        assert!(
            command.contains("--from-literal=password='<admin password>'"),
            "{command}"
        );
    }

    #[test]
    fn the_tls_secret_lists_its_keys_and_its_readers() {
        let all = needs(
            "secrets: {mailuSecretKey: mailu-secret-key}\ntls: {secretName: mailu-certs}\n\
             exposure: {service: {type: LoadBalancer}}\n",
        );
        let tls = need(&all, "mailu-certs");
        assert_eq!(tls.kind, SecretKind::Tls);
        let keys: Vec<&str> = tls.keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, [TLS_CERT_FILE, TLS_KEY_FILE]);
        assert!(
            tls.keys[0]
                .readers
                .iter()
                .any(|r| r.object == "Deployment/mailu-front")
        );
        let command = tls.create_command().expect("operator");
        assert!(
            command.contains("create secret tls mailu-certs"),
            "{command}"
        );
    }

    #[test]
    fn the_dkim_secret_is_made_by_keygen_and_read_by_admins_init_container() {
        let all = needs(
            "secrets: {mailuSecretKey: mailu-secret-key}\ndns: {dkim: {secretName: mailu-dkim}}\n",
        );
        let dkim = need(&all, "mailu-dkim");
        assert_eq!(dkim.made_by, MadeBy::DkimKeygen);
        assert!(dkim.create_command().is_none());
        let reader = &dkim.keys[0].readers[0];
        assert_eq!(reader.object, "Deployment/mailu-admin");
        assert_eq!(reader.container.as_deref(), Some("dkim-keys"));
    }
}
