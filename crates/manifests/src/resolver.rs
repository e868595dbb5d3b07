//! Mailu's resolver: unbound from Mailu's image, run with our own configuration so that it also
//! answers the cluster's names (forwarded to the cluster DNS) while validating DNSSEC for
//! everything else, and the `dnsConfig` that points Mailu's pods at it.
//!
//! Pods can name a DNS server only by IP, so the resolver's Service has a fixed `clusterIP`
//! (`resolver.serviceIP`). The cluster DNS's own IP is not configured: an init container reads
//! it from the resolver pod's `/etc/resolv.conf` (the pod keeps the default `ClusterFirst` policy)
//! and writes it into unbound's configuration.

use mailu_k8s_config::Config;
use mailu_k8s_topology::{Topology, ports};

use k8s_openapi::api::core::v1::{
    Capabilities, Container, PodDNSConfig, PodDNSConfigOption, ResourceRequirements,
    SecurityContext, Volume, VolumeMount,
};

use crate::volumes::{config_map_volume, empty_dir_volume, mount};

/// The ConfigMap holding the configuration template.
pub const CONFIGMAP: &str = "mailu-resolver";
pub const TEMPLATE_KEY: &str = "unbound.conf.template";
const TEMPLATE_DIR: &str = "/etc/mailu-k8s/template";
const CONFIG_DIR: &str = "/run/unbound-config";
const PLACEHOLDER: &str = "@CLUSTER_DNS@";
const TEMPLATE_VOLUME: &str = "template";
const CONFIG_VOLUME: &str = "config";

/// unbound's configuration; `@CLUSTER_DNS@` is filled in at pod start.
pub fn config_template(config: &Config) -> String {
    let cluster = config.cluster_domain.as_str();
    let port = ports::DNS.number;
    let mut allow = vec![config.subnet.to_string()];
    if let Some(v6) = &config.subnet6 {
        allow.push(v6.to_string());
    }
    let access: String = allow
        .iter()
        .map(|net| format!("  access-control: {net} allow\n"))
        .collect();
    // Listen on IPv6 only where pods have it: binding `::0` fails on IPv4-only pods.
    let interfaces = if config.subnet6.is_some() {
        "  interface: 0.0.0.0\n  interface: ::0\n"
    } else {
        "  interface: 0.0.0.0\n  do-ip6: no\n"
    };
    format!(
        "# Written by mailu-k8s. {PLACEHOLDER} is replaced with the cluster DNS address at start.
server:
{interfaces}  port: {port}
  do-daemonize: no
  use-syslog: no
  logfile: \"\"
  pidfile: \"\"
  chroot: \"\"
  username: \"unbound\"
  directory: \"/etc/unbound\"
  root-hints: \"/etc/unbound/root.hints\"
  auto-trust-anchor-file: \"/etc/unbound/trusted-key.key\"
  hide-identity: yes
  hide-version: yes
  access-control: 0.0.0.0/0 refuse
  access-control: ::/0 refuse
  access-control: 127.0.0.0/8 allow
  access-control: ::1/128 allow
{access}  # The cluster's own zone is unsigned: do not let DNSSEC validation reject it.
  domain-insecure: \"{cluster}\"

forward-zone:
  name: \"{cluster}.\"
  forward-addr: {PLACEHOLDER}
"
    )
}

/// The command unbound runs with (Mailu's start script would write its own configuration).
pub fn command() -> Vec<String> {
    ["/usr/sbin/unbound", "-d", "-c"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([format!("{CONFIG_DIR}/unbound.conf")])
        .collect()
}

/// The init container that writes the configuration with the cluster DNS address.
pub fn init_container(
    image: String,
    pull_policy: &'static str,
    resources: ResourceRequirements,
) -> Container {
    let script = format!(
        "set -eu; ns=$(awk '/^nameserver/ {{ print $2; exit }}' /etc/resolv.conf); \
         test -n \"$ns\"; sed \"s/{PLACEHOLDER}/$ns/\" {TEMPLATE_DIR}/{TEMPLATE_KEY} > {CONFIG_DIR}/unbound.conf"
    );
    Container {
        name: "config".to_owned(),
        image: Some(image),
        image_pull_policy: Some(pull_policy.to_owned()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        resources: Some(resources),
        volume_mounts: Some(vec![
            mount(TEMPLATE_VOLUME, TEMPLATE_DIR, None, true),
            mount(CONFIG_VOLUME, CONFIG_DIR, None, false),
        ]),
        // It only reads /etc/resolv.conf and writes into its emptyDir (mode 0777): no
        // capabilities, no writes to the image.
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                add: None,
                drop: Some(vec!["ALL".to_owned()]),
            }),
            read_only_root_filesystem: Some(true),
            ..SecurityContext::default()
        }),
        ..Container::default()
    }
}

/// The resolver container's mount of the written configuration.
pub fn config_mount() -> VolumeMount {
    mount(CONFIG_VOLUME, CONFIG_DIR, None, true)
}

pub fn volumes() -> Vec<Volume> {
    vec![
        config_map_volume(TEMPLATE_VOLUME, CONFIGMAP.to_owned()),
        empty_dir_volume(CONFIG_VOLUME),
    ]
}

/// `dnsConfig` for a pod that resolves through Mailu's resolver: the resolver only, with the
/// usual search path so short Service names keep working.
pub fn pod_dns_config(topology: &Topology) -> Option<PodDNSConfig> {
    let ip = topology.resolver?;
    let ns = &topology.namespace;
    let cd = &topology.cluster_domain;
    Some(PodDNSConfig {
        nameservers: Some(vec![ip.to_string()]),
        searches: Some(vec![
            format!("{ns}.svc.{cd}"),
            format!("svc.{cd}"),
            cd.clone(),
        ]),
        // Mailu's own names are fully qualified; a low ndots spares every external lookup a
        // round of search-domain queries.
        options: Some(vec![PodDNSConfigOption {
            name: Some("ndots".to_owned()),
            value: Some("2".to_owned()),
        }]),
    })
}
