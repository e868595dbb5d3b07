//! The few Kubernetes API types mailu-k8s writes, kept small: only the fields we set, in the
//! order the API documents them. `BTreeMap` keeps labels and data sorted, so output is stable.

use std::collections::BTreeMap;

use serde::Serialize;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A Kubernetes object with its `apiVersion` and `kind`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<S: Serialize> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    #[serde(flatten)]
    pub body: S,
}

#[derive(Debug, Clone, Serialize)]
pub struct Empty {}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigMapBody {
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Spec<T: Serialize> {
    pub spec: T,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcSpec {
    pub access_modes: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    pub resources: StorageRequest,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageRequest {
    pub requests: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A fixed address (the resolver's, which pods name in their `dnsConfig`).
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    pub selector: Labels,
    pub ports: Vec<ServicePort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<&'static str>,
    #[serde(rename = "loadBalancerIP", skip_serializing_if = "Option::is_none")]
    pub load_balancer_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: &'static str,
    pub protocol: &'static str,
    pub port: u16,
    /// The container port's name, so a Service port can only point at a declared port.
    pub target_port: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    pub service_name: String,
    pub replicas: u32,
    pub revision_history_limit: u32,
    pub pod_management_policy: &'static str,
    pub update_strategy: StatefulSetUpdateStrategy,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub volume_claim_templates: Vec<ClaimTemplate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatefulSetUpdateStrategy {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A PVC template of a StatefulSet: one claim per replica.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimTemplate {
    /// `name` must be the pod volume name the containers mount.
    pub metadata: ObjectMeta,
    pub spec: PvcSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    pub revision_history_limit: u32,
    pub selector: LabelSelector,
    pub update_strategy: DaemonSetUpdateStrategy,
    pub template: PodTemplate,
}

/// One node at a time: with hostPorts a replacement cannot start beside the old pod.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetUpdateStrategy {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rolling_update: DaemonSetRollingUpdate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetRollingUpdate {
    pub max_unavailable: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    pub replicas: u32,
    pub revision_history_limit: u32,
    pub selector: LabelSelector,
    pub strategy: DeploymentStrategy,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: Labels,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum DeploymentStrategy {
    /// Stop the old pod before starting the new one: a ReadWriteOnce volume attaches to one
    /// node at a time, so a surge pod on another node would hang.
    Recreate,
    #[serde(rename_all = "camelCase")]
    RollingUpdate { rolling_update: RollingUpdate },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    pub max_surge: u32,
    pub max_unavailable: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodTemplate {
    pub metadata: TemplateMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemplateMeta {
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<mailu_k8s_config::Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<NameRef>,
    pub automount_service_account_token: bool,
    pub enable_service_links: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<DnsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<InitContainer>,
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsConfig {
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<DnsOption>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsOption {
    pub name: &'static str,
    pub value: &'static str,
}

/// A container that runs to completion before the main one starts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitContainer {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: &'static str,
    pub command: Vec<String>,
    pub resources: ResourceRequirements,
    pub volume_mounts: Vec<VolumeMount>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    pub resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NameRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

impl EnvVar {
    pub fn value(name: String, value: String) -> EnvVar {
        EnvVar {
            name,
            value: Some(value),
            value_from: None,
        }
    }

    pub fn from_source(name: String, source: EnvVarSource) -> EnvVar {
        EnvVar {
            name,
            value: None,
            value_from: Some(source),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EnvVarSource {
    #[serde(rename = "secretKeyRef")]
    Secret(KeySelector),
    #[serde(rename = "configMapKeyRef")]
    ConfigMap(KeySelector),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySelector {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: &'static str,
    pub container_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceRequirements {
    pub requests: BTreeMap<&'static str, String>,
    pub limits: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: &'static str,
    pub mount_path: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<NameRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<Empty>,
}

impl Volume {
    pub fn claim(name: &'static str, claim_name: String) -> Volume {
        Volume {
            name,
            persistent_volume_claim: Some(ClaimRef { claim_name }),
            secret: None,
            config_map: None,
            empty_dir: None,
        }
    }

    pub fn secret(name: &'static str, secret_name: String) -> Volume {
        Volume {
            name,
            persistent_volume_claim: None,
            secret: Some(SecretVolume { secret_name }),
            config_map: None,
            empty_dir: None,
        }
    }

    pub fn config_map(name: &'static str, config_map: String) -> Volume {
        Volume {
            name,
            persistent_volume_claim: None,
            secret: None,
            config_map: Some(NameRef { name: config_map }),
            empty_dir: None,
        }
    }

    pub fn empty_dir(name: &'static str) -> Volume {
        Volume {
            name,
            persistent_volume_claim: None,
            secret: None,
            config_map: None,
            empty_dir: Some(Empty {}),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    pub claim_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolume {
    pub secret_name: String,
}

/// A probe; exactly one handler is set.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(flatten)]
    pub handler: ProbeHandler,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProbeHandler {
    Exec {
        command: Vec<String>,
    },
    HttpGet {
        path: &'static str,
        port: &'static str,
    },
    TcpSocket {
        port: &'static str,
    },
}
