//! What the DNS settings change in the manifests: front serves the MTA-STS policy (an nginx
//! override file beside the user's own), and admin finds DKIM keys from a Secret where Mailu
//! reads them (`/dkim/<domain>.<selector>.key`), copied by an init container so the directory
//! stays writable and key generation in Mailu's UI keeps working.

use std::collections::BTreeMap;

use mailu_k8s_config::Config;
use mailu_k8s_topology::mail_dns::{MTA_STS_PATH, MtaStsPolicy};

use k8s_openapi::api::core::v1::{Container, ResourceRequirements, Secret, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// front's override file that serves the MTA-STS policy. Mailu includes `/overrides/*.conf`
/// inside its main HTTP server block.
pub const MTA_STS_OVERRIDE: &str = mailu_k8s_config::MTA_STS_OVERRIDE_FILE;

/// The nginx `location` serving the policy as `text/plain` (RFC 8461 §3.3) on every host name;
/// senders ask for it at `https://mta-sts.<domain>`.
pub fn mta_sts_location(policy: &MtaStsPolicy) -> String {
    let body: String = policy
        .text()
        .chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!(
        "# written by mailu-k8s from `dns.mtaSts`: the MTA-STS policy (RFC 8461)\n\
         location = {MTA_STS_PATH} {{\n  default_type text/plain;\n  return 200 \"{body}\";\n}}\n"
    )
}

/// Adds front's generated override files to the user's.
pub fn add_front_overrides(files: &mut BTreeMap<String, String>, config: &Config) {
    if let Some(policy) = MtaStsPolicy::from_config(config) {
        files.insert(MTA_STS_OVERRIDE.to_owned(), mta_sts_location(&policy));
    }
}

/// The Secret of DKIM private keys `mailu-k8s dkim keygen` writes (apart from the main
/// output), labelled like admin's objects: `files` maps `<domain>.<selector>.key` to its PEM.
pub fn dkim_secret(name: &str, namespace: &str, files: BTreeMap<String, String>) -> Secret {
    let mut labels = crate::selector_labels(mailu_k8s_topology::Component::Admin);
    labels.insert("app.kubernetes.io/managed-by".into(), "mailu-k8s".into());
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        string_data: Some(files),
        ..Secret::default()
    }
}

const DKIM_SECRET_VOLUME: &str = "dkim-keys";
const DKIM_SECRET_DIR: &str = "/dkim-keys";
/// Where Mailu's admin reads DKIM keys (`DKIM_PATH`'s directory).
pub const DKIM_DIR: &str = "/dkim";

/// The Secret volume admin's init container reads keys from, when `dns.dkim.secretName` is set.
pub fn dkim_volume(config: &Config) -> Option<Volume> {
    let name = config.dns.dkim.secret_name.as_ref()?;
    Some(crate::volumes::secret_volume(
        DKIM_SECRET_VOLUME,
        name.clone(),
    ))
}

/// The init container copying every `*.key` of the Secret into admin's `/dkim` (on its volume),
/// replacing files of the same name and leaving other keys alone. `data` is the pod's volume
/// holding `/dkim` (its name and sub-path).
pub fn dkim_init_container(
    config: &Config,
    image: String,
    pull_policy: &str,
    resources: ResourceRequirements,
    data: (&str, &str),
) -> Option<Container> {
    config.dns.dkim.secret_name.as_ref()?;
    let script = format!(
        "set -eu; for f in {DKIM_SECRET_DIR}/*.key; do [ -e \"$f\" ] || continue; \
         cp \"$f\" {DKIM_DIR}/; chmod 600 \"{DKIM_DIR}/${{f##*/}}\"; done"
    );
    Some(Container {
        name: "dkim-keys".to_owned(),
        image: Some(image),
        image_pull_policy: Some(pull_policy.to_owned()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        resources: Some(resources),
        volume_mounts: Some(vec![
            crate::volumes::mount(DKIM_SECRET_VOLUME, DKIM_SECRET_DIR, None, true),
            crate::volumes::mount(data.0, DKIM_DIR, Some(data.1), false),
        ]),
        // Root (the image's user) writing into admin's volume; nothing more.
        security_context: Some(crate::security::container_security(
            mailu_k8s_topology::Component::Admin,
        )),
        ..Container::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\nsecrets: {{mailuSecretKey: k}}\nresolver: {{serviceIP: 10.43.0.53}}\n{extra}"
        );
        mailu_k8s_config::load(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e:#?}"))
            .config
    }

    #[test]
    fn front_serves_the_policy_beside_the_users_overrides() {
        let c = config(
            "dns: {mtaSts: {mode: enforce}}\nworkloads: {front: {overrides: {'mine.conf': 'location /x { return 204; }'}}}\n",
        );
        let mut files = c.workloads["front"].overrides.clone();
        add_front_overrides(&mut files, &c);
        assert!(files.contains_key("mine.conf"));
        assert_eq!(
            files[MTA_STS_OVERRIDE],
            "# written by mailu-k8s from `dns.mtaSts`: the MTA-STS policy (RFC 8461)\nlocation = /.well-known/mta-sts.txt {\n  default_type text/plain;\n  return 200 \"version: STSv1\\nmode: enforce\\nmx: mail.example.com\\nmax_age: 604800\\n\";\n}\n"
        );
        let mut none = BTreeMap::new();
        add_front_overrides(&mut none, &config(""));
        assert!(none.is_empty());
    }

    #[test]
    fn dkim_keys_are_copied_only_from_a_named_secret() {
        let image = || "ghcr.io/mailu/admin:2024.06".to_owned();
        let res = ResourceRequirements::default;
        assert!(
            dkim_init_container(
                &config(""),
                image(),
                "IfNotPresent",
                res(),
                ("data", "dkim")
            )
            .is_none()
        );
        let c = config("dns: {dkim: {secretName: mailu-dkim}}\n");
        let init = dkim_init_container(&c, image(), "IfNotPresent", res(), ("data", "dkim"))
            .expect("init container");
        let command = init.command.expect("command");
        assert!(command[2].contains("cp \"$f\" /dkim/"));
        assert!(
            !command[2].contains("$("),
            "no $(...) that Kubernetes would expand"
        );
        let mounts = init.volume_mounts.expect("mounts");
        assert_eq!(mounts[1].sub_path.as_deref(), Some("dkim"));
        assert!(dkim_volume(&c).is_some());
    }
}
