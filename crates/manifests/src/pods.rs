//! The pod template of a component's workload: one container with its image, environment, ports,
//! resources, volumes and probes; the pod's scheduling and DNS; and the annotations that roll the
//! pods when a configuration they read changes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, LocalObjectReference, PodSecurityContext, PodSpec, PodTemplateSpec,
    ResourceRequirements, SeccompProfile, Toleration, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use mailu_k8s_config::file::{TaintEffect, TolerationOperator};
use mailu_k8s_config::{Config, WhenUnsatisfiable, WorkloadSettings};
use mailu_k8s_topology::mailu_env::{Assignment, MailuEnvs};
use mailu_k8s_topology::security::Confinement;
use mailu_k8s_topology::{Component, Topology, Workload};

use crate::security::container_security;
use crate::volumes::{claim_volume, config_map_volume, empty_dir_volume, mount, secret_volume};
use crate::{
    CONFIG_CHECKSUM_ANNOTATION, ENV_CHECKSUM_ANNOTATION, Labels, OVERRIDES_CHECKSUM_ANNOTATION,
    claim_name, digest, env, labels, non_empty, non_empty_map, overrides_configmap, resolver,
    selector_labels, settings, workloads,
};

/// The name of the pod volume backed by the component's claim.
pub(crate) const DATA_VOLUME: &str = "data";
const CERTS_VOLUME: &str = "certs";
/// Where Mailu reads override files.
const OVERRIDES_DIR: &str = "/overrides";
const OVERRIDES_VOLUME: &str = "overrides";
/// Scratch space for images confined to a read-only root.
const TMP_VOLUME: &str = "tmp";

/// One component's pod, with what it is built from.
struct Pod<'a> {
    w: &'a Workload,
    c: Component,
    config: &'a Config,
    topology: &'a Topology,
    s: &'a WorkloadSettings,
    /// The component's Mailu variables, computed once for all components.
    mailu_env: &'a [Assignment],
}

/// The pod template of `w`'s workload, running `image` (whose tag is `version`).
pub(crate) fn pod_template(
    w: &Workload,
    config: &Config,
    topology: &Topology,
    envs: &MailuEnvs,
    version: &str,
    image: String,
) -> PodTemplateSpec {
    let pod = Pod {
        w,
        c: w.component,
        config,
        topology,
        s: settings(w.component, config),
        mailu_env: envs.of(w.component),
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod.labels(version)),
            annotations: non_empty_map(pod.annotations()),
            ..ObjectMeta::default()
        }),
        spec: Some(pod.spec(image)),
    }
}

/// A component's CPU and memory requests and limits; a limit the config removed is absent.
fn compute(c: &mailu_k8s_config::Compute) -> ResourceRequirements {
    let pair = |cpu: Option<&mailu_k8s_config::Quantity>,
                memory: Option<&mailu_k8s_config::Quantity>| {
        let amounts: BTreeMap<String, Quantity> = [("cpu", cpu), ("memory", memory)]
            .into_iter()
            .filter_map(|(k, q)| Some((k.to_owned(), Quantity(q?.as_str().to_owned()))))
            .collect();
        (!amounts.is_empty()).then_some(amounts)
    };
    ResourceRequirements {
        requests: pair(Some(&c.requests.cpu), Some(&c.requests.memory)),
        limits: pair(c.limits.cpu.as_ref(), c.limits.memory.as_ref()),
        claims: None,
    }
}

/// The pod's volumes and the container's mounts of them, in the same order.
#[derive(Default)]
struct Storage {
    volumes: Vec<Volume>,
    mounts: Vec<VolumeMount>,
}

impl Pod<'_> {
    fn pull_policy(&self) -> &'static str {
        self.s
            .pull_policy
            .unwrap_or(self.config.images.pull_policy)
            .as_str()
    }

    fn spec(&self, image: String) -> PodSpec {
        let resources = compute(mailu_k8s_topology::resources(self.config, self.c));
        let mut init_containers = Vec::new();
        if self.c == Component::Resolver {
            init_containers.push(resolver::init_container(
                image.clone(),
                self.pull_policy(),
                resources.clone(),
            ));
        }
        let Storage {
            mut volumes,
            mounts,
        } = self.storage();
        // DKIM keys from a Secret, copied into admin's /dkim at each start (dns.dkim).
        if self.c == Component::Admin
            && let Some(dkim) = self
                .w
                .mounts
                .iter()
                .find(|m| m.mount_path == crate::mail_dns::DKIM_DIR)
            && let Some(init) = crate::mail_dns::dkim_init_container(
                self.config,
                image.clone(),
                self.pull_policy(),
                resources.clone(),
                (DATA_VOLUME, dkim.sub_path),
            )
        {
            init_containers.push(init);
            volumes.extend(crate::mail_dns::dkim_volume(self.config));
        }
        let dns_config = if self.c.uses_mailu_resolver() {
            resolver::pod_dns_config(self.topology)
        } else {
            None
        };
        PodSpec {
            hostname: self.c.needs_stable_hostname().then(|| self.c.object_name()),
            node_selector: non_empty_map(self.node_selector()),
            tolerations: non_empty(self.s.tolerations.iter().map(toleration).collect()),
            affinity: self.s.affinity.clone(),
            topology_spread_constraints: non_empty(self.topology_spread()),
            priority_class_name: self.s.priority_class_name.clone(),
            image_pull_secrets: non_empty(
                self.config
                    .images
                    .pull_secrets
                    .iter()
                    .map(|name| LocalObjectReference { name: name.clone() })
                    .collect(),
            ),
            // Mailu never talks to the Kubernetes API.
            automount_service_account_token: Some(false),
            // Service links would add env names Mailu never reads.
            enable_service_links: Some(false),
            dns_policy: dns_config.as_ref().map(|_| "None".to_owned()),
            dns_config,
            init_containers: non_empty(init_containers),
            security_context: Some(self.pod_security()),
            containers: vec![self.container(image, resources, mounts)],
            volumes: non_empty(volumes),
            ..PodSpec::default()
        }
    }

    fn container(
        &self,
        image: String,
        resources: ResourceRequirements,
        mounts: Vec<VolumeMount>,
    ) -> Container {
        let probes = workloads::probes(self.c);
        Container {
            name: self.c.name().to_owned(),
            image: Some(image),
            image_pull_policy: Some(self.pull_policy().to_owned()),
            command: (self.c == Component::Resolver).then(resolver::command),
            env: non_empty(env::container_of(self.c, self.mailu_env, self.config)),
            ports: non_empty(self.container_ports()),
            resources: Some(resources),
            volume_mounts: non_empty(mounts),
            startup_probe: probes.as_ref().map(|p| p.startup.clone()),
            readiness_probe: probes.as_ref().map(|p| p.readiness.clone()),
            liveness_probe: probes.map(|p| p.liveness),
            lifecycle: workloads::lifecycle(self.c),
            security_context: Some(
                self.s
                    .security_context
                    .clone()
                    .unwrap_or_else(|| container_security(self.c)),
            ),
            ..Container::default()
        }
    }

    /// The runtime's default seccomp profile for every pod; the image's fixed user for images
    /// that run as one (`runAsNonRoot` needs a numeric user to check).
    fn pod_security(&self) -> PodSecurityContext {
        let user = self.c.hardening().non_root_user;
        PodSecurityContext {
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                localhost_profile: None,
            }),
            run_as_non_root: user.map(|_| true),
            run_as_user: user,
            run_as_group: user,
            ..PodSecurityContext::default()
        }
    }

    /// Every port the component listens on, those the topology binds on the node also there.
    fn container_ports(&self) -> Vec<ContainerPort> {
        self.w
            .ports
            .iter()
            .map(|p| {
                let number = i32::from(p.number.get());
                ContainerPort {
                    name: Some(p.name.to_owned()),
                    container_port: number,
                    host_port: self
                        .w
                        .host_ports
                        .iter()
                        .any(|h| h.number == p.number)
                        .then_some(number),
                    protocol: Some(p.protocol.as_str().to_owned()),
                    host_ip: None,
                }
            })
            .collect()
    }

    /// The data volume, front's certificates, the resolver's configuration, override files.
    fn storage(&self) -> Storage {
        let mut st = Storage::default();
        self.add_data_volume(&mut st);
        self.add_certificates(&mut st);
        if self.c == Component::Resolver {
            st.mounts.push(resolver::config_mount());
            st.volumes.extend(resolver::volumes());
        }
        self.add_overrides(&mut st);
        if self.c.hardening().writable_tmp {
            st.mounts.push(mount(TMP_VOLUME, "/tmp", None, false));
            st.volumes.push(empty_dir_volume(TMP_VOLUME));
        }
        st
    }

    /// The component's claim, one sub-directory per mount. A StatefulSet's claim comes from its
    /// claim template instead of a pod volume.
    fn add_data_volume(&self, st: &mut Storage) {
        st.mounts.extend(
            self.w
                .mounts
                .iter()
                .map(|m| mount(DATA_VOLUME, m.mount_path, Some(m.sub_path), false)),
        );
        if !self.w.mounts.is_empty() && !self.w.claim_per_replica() {
            let claim = mailu_k8s_topology::volume(self.config, self.c)
                .and_then(|v| v.existing_claim.clone())
                .unwrap_or_else(|| claim_name(self.c));
            st.volumes.push(claim_volume(DATA_VOLUME, claim));
        }
    }

    /// front's certificate Secret, read-only at `/certs`.
    fn add_certificates(&self, st: &mut Storage) {
        if self.c == Component::Front
            && let Some(secret_name) = &self.config.tls.secret_name
        {
            st.mounts
                .push(mount(CERTS_VOLUME, env::CERTS_DIR, None, true));
            st.volumes
                .push(secret_volume(CERTS_VOLUME, secret_name.clone()));
        }
    }

    /// The files in the component's overrides ConfigMap (the user's, and egress's postfix
    /// parameters).
    fn overrides(&self) -> BTreeMap<String, String> {
        crate::overrides::overrides(self.c, self.config, self.topology)
    }

    /// The component's override files, read-only at `/overrides`.
    fn add_overrides(&self, st: &mut Storage) {
        if !self.overrides().is_empty() {
            st.mounts
                .push(mount(OVERRIDES_VOLUME, OVERRIDES_DIR, None, true));
            st.volumes.push(config_map_volume(
                OVERRIDES_VOLUME,
                overrides_configmap(self.c),
            ));
        }
    }

    /// The configured pod labels under mailu-k8s's own (which selectors rely on).
    fn labels(&self, version: &str) -> Labels {
        let mut pod_labels = self.s.pod_labels.clone();
        pod_labels.extend(labels(Some(self.c), version));
        pod_labels
    }

    /// Checksums of what the pod reads from ConfigMaps (so a change rolls it), then the
    /// configured pod annotations.
    fn annotations(&self) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::new();
        let shared_env: Vec<(String, String)> = env::shared_of(self.mailu_env.iter());
        if !shared_env.is_empty() {
            annotations.insert(
                ENV_CHECKSUM_ANNOTATION.to_owned(),
                digest(shared_env.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            );
        }
        let overrides = self.overrides();
        if !overrides.is_empty() {
            annotations.insert(
                OVERRIDES_CHECKSUM_ANNOTATION.to_owned(),
                digest(overrides.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            );
        }
        for (k, v) in &self.s.pod_annotations {
            annotations.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if self.c == Component::Resolver {
            // The unbound configuration lives in a ConfigMap: roll the pods when it changes.
            annotations.insert(
                CONFIG_CHECKSUM_ANNOTATION.to_owned(),
                digest([(
                    resolver::TEMPLATE_KEY,
                    resolver::config_template(self.config).as_str(),
                )]),
            );
        }
        annotations
    }

    /// The configured node selector; front as a DaemonSet also on the selected nodes.
    fn node_selector(&self) -> BTreeMap<String, String> {
        let mut node_selector = self.s.node_selector.clone();
        if let (Component::Front, Some(selector)) = (self.c, &self.config.exposure.daemon_set) {
            node_selector.extend(selector.clone());
        }
        node_selector
    }

    /// The component's spread constraints, with the component's own pods as the default
    /// `labelSelector`; a scaled component without any is spread over nodes.
    fn topology_spread(&self) -> Vec<TopologySpreadConstraint> {
        let own_pods = LabelSelector {
            match_labels: Some(selector_labels(self.c)),
            match_expressions: None,
        };
        if self.s.topology_spread.is_empty() {
            if self.s.replicas > 1 {
                return vec![TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: "kubernetes.io/hostname".to_owned(),
                    when_unsatisfiable: "ScheduleAnyway".to_owned(),
                    label_selector: Some(own_pods),
                    ..TopologySpreadConstraint::default()
                }];
            }
            return Vec::new();
        }
        self.s
            .topology_spread
            .iter()
            .map(|t| TopologySpreadConstraint {
                // Validated to fit Kubernetes' int32.
                max_skew: i32::try_from(t.max_skew.get()).unwrap_or(i32::MAX),
                topology_key: t.topology_key.clone(),
                when_unsatisfiable: match t.when_unsatisfiable {
                    WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
                    WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
                }
                .to_owned(),
                label_selector: Some(t.label_selector.clone().unwrap_or_else(|| own_pods.clone())),
                ..TopologySpreadConstraint::default()
            })
            .collect()
    }
}

fn toleration(t: &mailu_k8s_config::Toleration) -> Toleration {
    Toleration {
        key: t.key.clone(),
        operator: t.operator.map(|o| {
            match o {
                TolerationOperator::Exists => "Exists",
                TolerationOperator::Equal => "Equal",
            }
            .to_owned()
        }),
        value: t.value.clone(),
        effect: t.effect.map(|e| {
            match e {
                TaintEffect::NoSchedule => "NoSchedule",
                TaintEffect::PreferNoSchedule => "PreferNoSchedule",
                TaintEffect::NoExecute => "NoExecute",
            }
            .to_owned()
        }),
        toleration_seconds: t.toleration_seconds,
    }
}
