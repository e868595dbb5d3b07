//! Kubernetes objects for a Mailu installation, built from the validated config and its
//! topology as typed objects ([`k8s_openapi`] for built-in kinds, [`crd`] for custom
//! resources), and written deterministically (same config, same bytes).
//!
//! [`synthesize`] returns a [`Manifest`] that a program can inspect and change before writing
//! it with [`Manifest::to_yaml`] or [`Manifest::to_json`].

pub mod crd;
pub mod diff;
pub mod edge;
pub mod egress;
pub mod env;
mod field_order;
pub mod mail_dns;
mod manifest;
pub mod network;
mod overrides;
mod pods;
pub mod resolver;
pub mod secrets;
mod security;
pub mod split;
mod volumes;
pub mod workloads;
mod yaml_style;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, Deployment, DeploymentSpec,
    DeploymentStrategy, RollingUpdateDaemonSet, RollingUpdateDeployment, StatefulSet,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec,
    Service, ServicePort, ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};

use mailu_k8s_config::{Config, ServiceType, TrafficPolicy, WorkloadSettings};
use mailu_k8s_topology::mailu_env::MailuEnvs;
use mailu_k8s_topology::{Component, Controller, Topology, Workload};

/// The `k8s-openapi` this crate's objects are made of, for programs that change them.
pub use k8s_openapi;
pub use manifest::{HEADER, Kind, Manifest, Object, yaml_documents, yaml_documents_with_header};

/// Object labels (sorted, so output is stable).
pub type Labels = BTreeMap<String, String>;

/// Annotation on pod templates holding a digest of the shared environment values the pod reads,
/// so changing one rolls exactly the pods that read it (a ConfigMap change alone rolls none).
pub const ENV_CHECKSUM_ANNOTATION: &str = "mailu-k8s.io/env-checksum";
/// Annotation on the resolver's pod template: a digest of its unbound configuration.
pub const CONFIG_CHECKSUM_ANNOTATION: &str = "mailu-k8s.io/config-checksum";
/// Pod-template annotation with a digest of the override files, so editing one rolls the pods.
pub const OVERRIDES_CHECKSUM_ANNOTATION: &str = "mailu-k8s.io/overrides-checksum";

/// Annotations on every PersistentVolumeClaim: GitOps tools must never prune mail data, even
/// when a component is switched off or renamed.
pub const PVC_ANNOTATIONS: [(&str, &str); 2] = [
    ("argocd.argoproj.io/sync-options", "Prune=false"),
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
];

/// Builds every object for `config`, in apply order.
///
/// The result is typed: find an object, change it, then write it. Here a program adds an
/// annotation to admin's Deployment before writing YAML:
///
/// ```
/// use mailu_k8s_manifests::k8s_openapi::api::apps::v1::Deployment;
///
/// let loaded = mailu_k8s_config::load(
///     b"domain: example.com
/// hostnames: [mail.example.com]
/// subnet: 10.42.0.0/16
/// secrets: {mailuSecretKey: mailu-secret-key}
/// resolver: {serviceIP: 10.43.0.53}
/// exposure: {service: {type: LoadBalancer}}
/// ",
/// )
/// .expect("a valid config");
/// let mut manifest = mailu_k8s_manifests::synthesize(&loaded.config);
///
/// let admin = manifest
///     .get_mut::<Deployment>("mailu-admin")
///     .expect("admin always runs");
/// admin
///     .metadata
///     .annotations
///     .get_or_insert_default()
///     .insert("example.com/owner".into(), "mail-team".into());
///
/// let yaml = manifest.to_yaml();
/// assert!(yaml.contains("    example.com/owner: mail-team\n"));
/// ```
pub fn synthesize(config: &Config) -> Manifest {
    let topology = Topology::from_config(config);
    synthesize_from(config, &topology)
}

/// [`synthesize`] with a topology already derived from `config`.
pub fn synthesize_from(config: &Config, topology: &Topology) -> Manifest {
    let ns = topology.namespace.as_str();
    let mailu_version = config.images.tag.as_str();
    let mut objects: Vec<Object> = Vec::new();
    if config.create_namespace {
        objects.push(namespace(ns, mailu_version, topology).into());
    }
    // Every component's Mailu environment, once: the shared ConfigMap and each pod read it.
    let envs = topology.mailu_envs(config);
    objects.extend(config_maps(config, topology, &envs, ns).map(Object::from));
    // Before the pods, so no pod ever runs unisolated.
    let policy_meta = |name: String, c: Option<Component>| {
        let version = c.map_or_else(|| mailu_version.to_owned(), |c| version_of(c, config));
        meta(name, ns, labels(c, &version))
    };
    objects.extend(
        network::policies(config, topology, policy_meta)
            .into_iter()
            .map(Object::from),
    );
    // Before the pods too, so a new postfix pod finds its egress policy already in place.
    objects.extend(egress::objects(topology, &labels(None, mailu_version)));
    // Before the pods, so the Secret front mounts is on its way.
    objects.extend(
        edge::certificate(config, ns, labels(None, mailu_version)).map(Object::Certificate),
    );
    for w in &topology.workloads {
        objects.extend(pvc(w, ns, config).map(Object::from));
    }
    for w in topology.workloads.iter().filter(|w| !w.ports.is_empty()) {
        objects.push(service(w, ns, config, topology).into());
    }
    objects.extend(front_public_service(config, topology, ns).map(Object::from));
    for w in &topology.workloads {
        objects.push(workload(w, ns, config, topology, &envs));
    }
    for w in &topology.workloads {
        objects.extend(disruption_budget(w, ns, config).map(Object::from));
    }
    objects.extend(edge::routes(
        config,
        topology,
        ns,
        labels(Some(Component::Front), mailu_version),
    ));
    Manifest { objects }
}

/// Labels that select a component's pods. Never change these for an existing component: a
/// Deployment's selector is immutable.
pub fn selector_labels(component: Component) -> Labels {
    let mut l = instance_labels();
    l.insert(COMPONENT_LABEL.into(), component.name().into());
    l
}

/// The label naming a pod's component (part of [`selector_labels`]).
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// The label every namespace carries with its own name (Kubernetes >= 1.22).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A selector matching exactly these labels.
pub(crate) fn match_labels(labels: Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

/// A selector matching the namespace named `ns`.
pub(crate) fn namespace_selector(ns: &str) -> LabelSelector {
    match_labels(Labels::from([(
        NAMESPACE_NAME_LABEL.to_owned(),
        ns.to_owned(),
    )]))
}

/// Labels every pod of this Mailu installation carries.
pub fn instance_labels() -> Labels {
    Labels::from([
        ("app.kubernetes.io/name".into(), "mailu".into()),
        ("app.kubernetes.io/instance".into(), "mailu".into()),
    ])
}

fn labels(component: Option<Component>, version: &str) -> Labels {
    let mut l = match component {
        Some(c) => selector_labels(c),
        None => instance_labels(),
    };
    l.insert("app.kubernetes.io/part-of".into(), "mailu".into());
    l.insert("app.kubernetes.io/managed-by".into(), "mailu-k8s".into());
    l.insert("app.kubernetes.io/version".into(), version.into());
    l
}

/// The labels of a component's objects.
fn component_labels(c: Component, config: &Config) -> Labels {
    labels(Some(c), &version_of(c, config))
}

fn meta(name: String, namespace: &str, labels: Labels) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

fn selector(c: Component) -> LabelSelector {
    match_labels(selector_labels(c))
}

/// `Some(list)`, or `None` for an empty list: empty fields are not written.
fn non_empty<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

/// `Some(map)`, or `None` for an empty map: empty fields are not written.
fn non_empty_map<K, V>(map: BTreeMap<K, V>) -> Option<BTreeMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

/// A count as Kubernetes' int32 (the config keeps counts in range).
fn int32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The name of a component's PersistentVolumeClaim.
pub fn claim_name(component: Component) -> String {
    format!("{}-data", component.object_name())
}

/// The ConfigMap holding a component's override files.
pub fn overrides_configmap(component: Component) -> String {
    format!("{}-overrides", component.object_name())
}

fn settings(component: Component, config: &Config) -> &WorkloadSettings {
    static DEFAULT: std::sync::OnceLock<WorkloadSettings> = std::sync::OnceLock::new();
    config
        .workloads
        .get(component.name())
        .unwrap_or_else(|| DEFAULT.get_or_init(WorkloadSettings::default))
}

fn version_of(component: Component, config: &Config) -> String {
    workloads::image(component, config).1
}

/// The namespace, with Pod Security admission at the strictest level Mailu's images allow:
/// `baseline` (they start as root and drop privileges themselves, which `restricted` forbids),
/// or `privileged` when front binds hostPorts (which `baseline` forbids). `restricted` is
/// audited, so the cluster's audit log shows what stands between Mailu and it.
fn namespace(ns: &str, mailu_version: &str, topology: &Topology) -> Namespace {
    let binds_host_ports = topology.workloads.iter().any(|w| !w.host_ports.is_empty());
    let enforce = if binds_host_ports {
        "privileged"
    } else {
        "baseline"
    };
    let mut l = labels(None, mailu_version);
    for (mode, level) in [
        ("enforce", enforce),
        ("warn", enforce),
        ("audit", "restricted"),
    ] {
        l.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            level.to_owned(),
        );
    }
    Namespace {
        metadata: ObjectMeta {
            name: Some(ns.to_owned()),
            labels: Some(l),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// The shared environment, the resolver's configuration, and each component's override files.
fn config_maps(
    config: &Config,
    topology: &Topology,
    envs: &MailuEnvs,
    ns: &str,
) -> impl Iterator<Item = ConfigMap> {
    let config_map = |name: String, labels: Labels, data: BTreeMap<String, String>| ConfigMap {
        metadata: meta(name, ns, labels),
        data: Some(data),
        ..ConfigMap::default()
    };
    let shared_env = config_map(
        env::SHARED_ENV_CONFIGMAP.to_owned(),
        labels(None, &config.images.tag),
        env::shared_of(envs.all()),
    );
    let resolver = topology.resolver.map(|_| {
        config_map(
            resolver::CONFIGMAP.to_owned(),
            component_labels(Component::Resolver, config),
            BTreeMap::from([(
                resolver::TEMPLATE_KEY.to_owned(),
                resolver::config_template(config),
            )]),
        )
    });
    let overrides = topology.workloads.iter().filter_map(move |w| {
        // The user's files, with the egress model's postfix parameters merged in.
        let files = overrides::overrides(w.component, config, topology);
        (!files.is_empty()).then(|| {
            config_map(
                overrides_configmap(w.component),
                component_labels(w.component, config),
                files,
            )
        })
    });
    std::iter::once(shared_env).chain(resolver).chain(overrides)
}

/// The claim of a component that keeps state, unless it reuses an existing claim or has one per
/// replica (claim templates).
fn pvc(w: &Workload, ns: &str, config: &Config) -> Option<PersistentVolumeClaim> {
    let v = mailu_k8s_topology::volume(config, w.component)?;
    if w.mounts.is_empty() || v.existing_claim.is_some() || w.claim_per_replica() {
        return None;
    }
    let mut metadata = meta(
        claim_name(w.component),
        ns,
        component_labels(w.component, config),
    );
    metadata.annotations = Some(
        PVC_ANNOTATIONS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    Some(PersistentVolumeClaim {
        metadata,
        spec: Some(pvc_spec(v)),
        status: None,
    })
}

fn pvc_spec(v: &mailu_k8s_config::Volume) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(
            v.access_modes
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
        ),
        storage_class_name: v.storage_class.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(v.size.as_str().to_owned()),
            )])),
            limits: None,
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// The in-cluster Service of a component: every port, `ClusterIP`. Other components and the
/// ingress use it; it is never published outside the cluster.
fn service(w: &Workload, ns: &str, config: &Config, topology: &Topology) -> Service {
    let s = settings(w.component, config);
    let mut service_labels = s.service_labels.clone();
    service_labels.extend(component_labels(w.component, config));
    let mut metadata = meta(w.component.object_name(), ns, service_labels);
    metadata.annotations = non_empty_map(s.service_annotations.clone());
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            // A fixed address for the resolver, which pods name in their `dnsConfig`.
            cluster_ip: (w.component == Component::Resolver)
                .then(|| topology.resolver.map(|ip| ip.to_string()))
                .flatten(),
            selector: Some(selector_labels(w.component)),
            ports: Some(w.ports.iter().map(|p| service_port(p, None)).collect()),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// A Service port that targets the container port of the same name, so a Service port can only
/// point at a declared port.
fn service_port(p: &mailu_k8s_topology::Port, node_port: Option<u16>) -> ServicePort {
    ServicePort {
        name: Some(p.name.to_owned()),
        protocol: Some(p.protocol.as_str().to_owned()),
        port: i32::from(p.number.get()),
        target_port: Some(IntOrString::String(p.name.to_owned())),
        node_port: node_port.map(i32::from),
        app_protocol: None,
    }
}

/// The name of front's Service for clients outside the cluster.
pub fn front_public_service_name() -> String {
    format!("{}-public", Component::Front.object_name())
}

/// front's `LoadBalancer`/`NodePort` Service: only the ports that reach front directly, never
/// the internal ones (LMTP and internal submission must not face the internet).
fn front_public_service(config: &Config, topology: &Topology, ns: &str) -> Option<Service> {
    let svc = &config.exposure.service;
    if svc.kind == ServiceType::ClusterIP {
        return None;
    }
    let published = topology.exposure.directly_published_ports();
    if published.is_empty() {
        return None;
    }
    let node_port_of = |p: &mailu_k8s_topology::Port| {
        topology
            .exposure
            .mail
            .iter()
            .find(|r| r.port == *p)
            .and_then(|r| svc.node_ports.get(&r.service).copied())
    };
    let mut metadata = meta(
        front_public_service_name(),
        ns,
        component_labels(Component::Front, config),
    );
    metadata.annotations = non_empty_map(svc.annotations.clone());
    let policy = topology.exposure.ip_family_policy;
    Some(Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(svc.kind.as_str().to_owned()),
            selector: Some(selector_labels(Component::Front)),
            ports: Some(
                published
                    .iter()
                    .map(|p| service_port(p, node_port_of(p)))
                    .collect(),
            ),
            external_traffic_policy: svc.external_traffic_policy.map(|p| {
                match p {
                    TrafficPolicy::Local => "Local",
                    TrafficPolicy::Cluster => "Cluster",
                }
                .to_owned()
            }),
            load_balancer_ip: svc.load_balancer_ip.map(|ip| ip.to_string()),
            load_balancer_class: svc.load_balancer_class.clone(),
            // Both families on a dual-stack Service, IPv4 first (the family `loadBalancerIP`
            // and node ports are documented for; `subnet` is IPv4); `PreferDualStack` falls back
            // to one on a single-stack cluster.
            ip_family_policy: policy.map(|p| p.as_str().to_owned()),
            ip_families: policy.map(|p| {
                let families: &[&str] = if p.is_dual_stack() {
                    &["IPv4", "IPv6"]
                } else {
                    &["IPv4"]
                };
                families.iter().map(|f| (*f).to_owned()).collect()
            }),
            ..ServiceSpec::default()
        }),
        status: None,
    })
}

/// A PodDisruptionBudget for a component running more than one pod: drains take one pod at a
/// time.
fn disruption_budget(w: &Workload, ns: &str, config: &Config) -> Option<PodDisruptionBudget> {
    if !w.needs_disruption_budget() {
        return None;
    }
    let c = w.component;
    Some(PodDisruptionBudget {
        metadata: meta(c.object_name(), ns, component_labels(c, config)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(c)),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    })
}

/// A hex SHA-256 over key/value pairs, for pod-template annotations that roll pods on change.
fn digest<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in pairs {
        hasher.update(k.as_bytes());
        hasher.update([0]);
        hasher.update(v.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many old ReplicaSets / revisions a workload keeps for rollbacks.
const REVISION_HISTORY: i32 = 3;

/// A component's workload, of the kind the topology chose.
fn workload(
    w: &Workload,
    ns: &str,
    config: &Config,
    topology: &Topology,
    envs: &MailuEnvs,
) -> Object {
    let c = w.component;
    let (image, version) = workloads::image(c, config);
    let template = pods::pod_template(w, config, topology, envs, &version, image);
    let metadata = meta(c.object_name(), ns, labels(Some(c), &version));
    match w.controller {
        Controller::StatefulSet => stateful_set(w, metadata, template, config, &version).into(),
        Controller::DaemonSet => daemon_set(c, metadata, template).into(),
        Controller::Deployment { recreate } => deployment(w, metadata, template, recreate).into(),
    }
}

/// One claim per replica from a template; replicas start together.
fn stateful_set(
    w: &Workload,
    metadata: ObjectMeta,
    template: PodTemplateSpec,
    config: &Config,
    version: &str,
) -> StatefulSet {
    let c = w.component;
    let claim_templates = mailu_k8s_topology::volume(config, c)
        .map(|v| PersistentVolumeClaim {
            metadata: ObjectMeta {
                // The pod volume name the containers mount.
                name: Some(pods::DATA_VOLUME.to_owned()),
                labels: Some(labels(Some(c), version)),
                ..ObjectMeta::default()
            },
            spec: Some(pvc_spec(v)),
            status: None,
        })
        .into_iter()
        .collect();
    StatefulSet {
        metadata,
        spec: Some(StatefulSetSpec {
            service_name: Some(c.object_name()),
            replicas: Some(int32(w.replicas)),
            revision_history_limit: Some(REVISION_HISTORY),
            pod_management_policy: Some("Parallel".to_owned()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: None,
            }),
            selector: selector(c),
            template,
            volume_claim_templates: Some(claim_templates),
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

/// One pod per selected node, replaced one node at a time: with hostPorts a replacement cannot
/// start beside the old pod.
fn daemon_set(c: Component, metadata: ObjectMeta, template: PodTemplateSpec) -> DaemonSet {
    DaemonSet {
        metadata,
        spec: Some(DaemonSetSpec {
            revision_history_limit: Some(REVISION_HISTORY),
            selector: selector(c),
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_unavailable: Some(IntOrString::Int(1)),
                    max_surge: None,
                }),
            }),
            template,
            min_ready_seconds: None,
        }),
        status: None,
    }
}

/// `recreate`: stop the old pod before starting the new one; otherwise one extra pod at a
/// time, never one fewer.
fn deployment(
    w: &Workload,
    metadata: ObjectMeta,
    template: PodTemplateSpec,
    recreate: bool,
) -> Deployment {
    let strategy = if recreate {
        DeploymentStrategy {
            type_: Some("Recreate".to_owned()),
            rolling_update: None,
        }
    } else {
        DeploymentStrategy {
            type_: Some("RollingUpdate".to_owned()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }
    };
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(int32(w.replicas)),
            revision_history_limit: Some(REVISION_HISTORY),
            selector: selector(w.component),
            strategy: Some(strategy),
            template,
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}
