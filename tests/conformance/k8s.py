"""What Kubernetes hands a container: its environment and its mounted files.

The environment follows the kubelet (pkg/kubelet/kubelet_pods.go, makeEnvironmentVariables):
service-link variables for the Services of the namespace (unless enableServiceLinks is false),
then envFrom sources in order, then env[] in order, later names replacing earlier ones. An env[]
`value` is expanded with Kubernetes' `$(VAR)` rules (third_party/forked/golang/expansion):
`$$` is a literal `$`, `$(NAME)` is the value of NAME if it is already defined (envFrom, an
earlier env entry, or a service variable), otherwise it stays `$(NAME)` verbatim. Secrets are not
in the manifests (mailu-k8s never writes them), so secretKeyRef and Secret-backed envFrom resolve
to dummy non-empty values.
"""
from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}

# Stand-ins for values only a live cluster knows.
DUMMY_POD_IP = "10.42.0.10"
DUMMY_HOST_IP = "192.0.2.10"
DUMMY_NODE = "node-1"
DUMMY_CLUSTER_DNS = "10.43.0.10"  # the cluster DNS address a ClusterFirst pod gets (k3s default)
NODE_ALLOCATABLE_CPU = 2  # a resourceFieldRef on an unset limit gets the node's allocatable
NODE_ALLOCATABLE_MEMORY = 24 * 2**30


def dummy_secret_value(secret: str, key: str) -> str:
    return f"dummy-{secret}-{key}"


def secret_value(manifest: "Manifest", ns: str, secret: str, key: str) -> str:
    """The key's value when the manifest carries the Secret, else a dummy non-empty value."""
    value = manifest.secret_values.get((ns, secret), {}).get(key)
    return dummy_secret_value(secret, key) if value is None else value


@dataclass
class Container:
    workload_kind: str
    workload: str
    namespace: str
    pod_spec: dict
    spec: dict
    init: bool = False

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def image(self) -> str:
        return self.spec.get("image", "")

    @property
    def label(self) -> str:
        kind = "initContainer" if self.init else "container"
        return f"{self.workload_kind}/{self.workload} {kind} {self.name}"


@dataclass
class Manifest:
    docs: list[dict]
    configmaps: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    # Values of the Secrets the manifest itself carries (stringData, or data decoded): a Secret
    # applied with the manifest resolves to its value, as in a cluster. The behaviour suite
    # (tests/e2e) adds the Secrets a user would create (keys, passwords, certificates) this way.
    secret_values: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        return cls.from_docs(docs)

    @classmethod
    def from_docs(cls, docs: list[dict]) -> "Manifest":
        if len(docs) == 1 and docs[0].get("kind") == "List":
            docs = docs[0]["items"]
        m = cls(docs)
        for d in docs:
            ns = d.get("metadata", {}).get("namespace", "default")
            name = d.get("metadata", {}).get("name")
            if d.get("kind") == "ConfigMap":
                m.configmaps[(ns, name)] = dict(d.get("data") or {})
            elif d.get("kind") == "Secret":
                m.secrets[(ns, name)] = dict(d.get("stringData") or {}) or {
                    k: "(base64)" for k in (d.get("data") or {})
                }
                values = {k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()}
                values.update({k: str(v) for k, v in (d.get("stringData") or {}).items()})
                m.secret_values[(ns, name)] = values
            elif d.get("kind") == "Service":
                m.services.setdefault(ns, []).append(d)
        return m

    def dump(self) -> str:
        return yaml.safe_dump_all(self.docs, sort_keys=False)

    def containers(self, include_init: bool = True):
        for d in self.docs:
            if d.get("kind") not in WORKLOAD_KINDS:
                continue
            ns = d["metadata"].get("namespace", "default")
            pod = d["spec"]["template"]["spec"]
            if include_init:
                for c in pod.get("initContainers") or []:
                    yield Container(d["kind"], d["metadata"]["name"], ns, pod, c, init=True)
            for c in pod.get("containers") or []:
                yield Container(d["kind"], d["metadata"]["name"], ns, pod, c)


# ---------------------------------------------------------------------------------------------
# $(VAR) expansion, exactly as k8s.io/kubernetes/third_party/forked/golang/expansion/expand.go


def expand(value: str, mapping: dict) -> str:
    out = []
    checkpoint = 0
    cursor = 0
    n = len(value)
    while cursor < n:
        if value[cursor] == "$" and cursor + 1 < n:
            out.append(value[checkpoint:cursor])
            rest = value[cursor + 1 :]
            read, is_var, advance = _try_read_variable_name(rest)
            if is_var:
                out.append(mapping[read] if read in mapping else f"$({read})")
            else:
                out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + value[checkpoint:]


def _try_read_variable_name(s: str):
    if s[0] == "$":
        return "$", False, 1
    if s[0] == "(":
        for i in range(1, len(s)):
            if s[i] == ")":
                return s[1:i], True, i + 1
        return "$(", False, 1
    return "$" + s[0], False, 1


# ---------------------------------------------------------------------------------------------


def _service_env(manifest: Manifest, ns: str) -> dict:
    """Docker-link style variables the kubelet adds for every Service of the namespace
    (pkg/kubelet/envvars/envvars.go FromServices); headless Services and ExternalName are skipped."""
    env = {}
    for svc in manifest.services.get(ns, []):
        spec = svc.get("spec", {})
        ip = spec.get("clusterIP")
        if ip == "None" or spec.get("type") == "ExternalName":
            continue
        ip = ip or "10.43.0.100"
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        ports = spec.get("ports") or []
        if not ports:
            continue
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
        first = ports[0]
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        for p in ports:
            proto = p.get("protocol", "TCP")
            base = f"{prefix}_PORT_{p['port']}_{proto.upper()}"
            env[base] = f"{proto.lower()}://{ip}:{p['port']}"
            env[base + "_PROTO"] = proto.lower()
            env[base + "_PORT"] = str(p["port"])
            env[base + "_ADDR"] = ip
    return env


def _quantity(q) -> float:
    s = str(q)
    suffixes = {
        "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
        "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    }
    for suf in sorted(suffixes, key=len, reverse=True):
        if s.endswith(suf):
            return float(s[: -len(suf)]) * suffixes[suf]
    return float(s)


def _resource_field(container: dict, ref: dict) -> str:
    """pkg/api/v1/resource/helpers.go ExtractContainerResourceValue: ceil(value / divisor);
    an unset limit falls back to the node's allocatable."""
    resource = ref["resource"]
    kind, _, name = resource.partition(".")
    resources = container.get("resources") or {}
    value = (resources.get(kind) or {}).get(name)
    if value is None and kind == "limits":
        value = NODE_ALLOCATABLE_CPU if name == "cpu" else NODE_ALLOCATABLE_MEMORY
    if value is None:
        value = 0
    divisor = _quantity(ref.get("divisor", "1"))
    return str(int(math.ceil(_quantity(value) / divisor - 1e-9)))


def _field_ref(c: Container, path: str) -> str:
    meta = {
        "metadata.name": f"{c.workload}-0",
        "metadata.namespace": c.namespace,
        "metadata.uid": "00000000-0000-0000-0000-000000000000",
        "spec.nodeName": DUMMY_NODE,
        "spec.serviceAccountName": c.pod_spec.get("serviceAccountName", "default"),
        "status.podIP": DUMMY_POD_IP,
        "status.podIPs": DUMMY_POD_IP,
        "status.hostIP": DUMMY_HOST_IP,
        "status.hostIPs": DUMMY_HOST_IP,
    }
    return meta.get(path, f"dummy-{path}")


def container_env(manifest: Manifest, c: Container) -> tuple[dict, list[str]]:
    """The environment the container's process starts with, and notes on what was assumed."""
    notes: list[str] = []
    service_env = {}
    if c.pod_spec.get("enableServiceLinks", True) is not False:
        service_env = _service_env(manifest, c.namespace)
    env: dict[str, str] = {}
    for src in c.spec.get("envFrom") or []:
        prefix = src.get("prefix", "")
        if "configMapRef" in src:
            name = src["configMapRef"]["name"]
            data = manifest.configmaps.get((c.namespace, name))
            if data is None:
                notes.append(f"envFrom ConfigMap {name} is not in the manifest")
                continue
            for k, v in data.items():
                env[prefix + k] = str(v)
        elif "secretRef" in src:
            name = src["secretRef"]["name"]
            data = manifest.secrets.get((c.namespace, name))
            if data is None:
                notes.append(f"envFrom Secret {name}: keys unknown (not in the manifest), nothing added")
                continue
            for k in data:
                env[prefix + k] = secret_value(manifest, c.namespace, name, k)
    for e in c.spec.get("env") or []:
        name = e["name"]
        if "valueFrom" in e:
            vf = e["valueFrom"]
            if "secretKeyRef" in vf:
                ref = vf["secretKeyRef"]
                value = secret_value(manifest, c.namespace, ref["name"], ref["key"])
            elif "configMapKeyRef" in vf:
                ref = vf["configMapKeyRef"]
                data = manifest.configmaps.get((c.namespace, ref["name"]))
                if data is not None and ref["key"] in data:
                    value = str(data[ref["key"]])
                else:
                    value = f"dummy-{ref['name']}-{ref['key']}"
                    notes.append(f"{name}: ConfigMap {ref['name']} key {ref['key']} not in the manifest")
            elif "fieldRef" in vf:
                value = _field_ref(c, vf["fieldRef"]["fieldPath"])
            elif "resourceFieldRef" in vf:
                value = _resource_field(c.spec, vf["resourceFieldRef"])
            else:
                value = "dummy"
        else:
            value = e.get("value", "")
            if value:
                value = expand(value, {**service_env, **env})
        env[name] = value
    for k, v in service_env.items():
        env.setdefault(k, v)
    return env, notes


def first_nameserver(pod_spec: dict) -> str:
    """The first `nameserver` of the pod's /etc/resolv.conf (what Mailu's scripts read)."""
    dns_config = pod_spec.get("dnsConfig") or {}
    servers = list(dns_config.get("nameservers") or [])
    if pod_spec.get("dnsPolicy") == "None":
        return servers[0] if servers else ""
    return DUMMY_CLUSTER_DNS


def resolv_conf(pod_spec: dict) -> str:
    dns_config = pod_spec.get("dnsConfig") or {}
    servers = list(dns_config.get("nameservers") or [])
    if pod_spec.get("dnsPolicy") != "None":
        servers = [DUMMY_CLUSTER_DNS] + servers
    lines = [f"nameserver {s}" for s in servers]
    searches = dns_config.get("searches") or []
    if searches:
        lines.append("search " + " ".join(searches))
    return "\n".join(lines) + "\n"


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
