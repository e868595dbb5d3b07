"""A container's file system as seen by Mailu's start scripts, laid out under a temporary root.

Volumes are materialized once per pod under <pod>/volumes/<name>; each container gets a root
directory whose mount paths are symlinks into those volumes (so an emptyDir written by an init
container is what the main container reads), plus /etc/resolv.conf from the pod's DNS settings.
A path P inside the container is `fs.host(P)` on this machine.

Stand-ins for what only a cluster has (listed in STUBS):
* Secrets are not in the manifests: a Secret volume gets the keys of its `items`, or else the
  keys of a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, which is what front's certificate
  Secret is), filled with a throw-away self-signed certificate and its key.
* PersistentVolumeClaims and emptyDirs start empty (a first start).
"""
from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from k8s import Container, Manifest, dummy_secret_value, resolv_conf

TLS_SECRET_KEYS = ("tls.crt", "tls.key")


@lru_cache(maxsize=None)
def throwaway_certificates(workdir: str) -> dict:
    """A self-signed RSA and an ECDSA certificate with their keys (PEM), made once per run."""
    d = Path(workdir) / "certs"
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, newkey in (("rsa", ["rsa:2048"]), ("ecdsa", ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])):
        key, crt = d / f"{kind}.key", d / f"{kind}.crt"
        if not crt.exists():
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", *newkey, "-nodes", "-days", "30",
                 "-subj", "/CN=mail.example.com", "-keyout", str(key), "-out", str(crt)],
                check=True, capture_output=True,
            )
        out[kind] = (crt.read_text(), key.read_text())
    return out


class PodFS:
    def __init__(self, root: Path):
        self.root = root

    def host(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def exists(self, path: str) -> bool:
        return self.host(path).exists()

    def isfile(self, path: str) -> bool:
        return self.host(path).is_file()

    def read(self, path: str) -> str:
        return self.host(path).read_text()

    def write(self, path: str, text: str):
        p = self.host(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():
            p.unlink()
        p.write_text(text)

    def listdir(self, path: str) -> list[str]:
        p = self.host(path)
        return sorted(x.name for x in p.iterdir()) if p.is_dir() else []

    def glob(self, directory: str, pattern: str = "*") -> list[str]:
        p = self.host(directory)
        if not p.is_dir():
            return []
        return [f"{directory.rstrip('/')}/{x.name}" for x in sorted(p.glob(pattern))]


class Pod:
    """The volumes of one pod, materialized under base/volumes."""

    def __init__(self, manifest: Manifest, container: Container, base: Path, workdir: Path):
        self.manifest = manifest
        self.ns = container.namespace
        self.spec = container.pod_spec
        self.base = base
        self.workdir = workdir
        self.volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        self.made: dict[str, Path] = {}
        self.notes: list[str] = []

    def volume(self, name: str) -> Path:
        if name in self.made:
            return self.made[name]
        d = self.base / "volumes" / name
        d.mkdir(parents=True, exist_ok=True)
        vol = self.volumes.get(name, {})
        if "configMap" in vol:
            self._fill_configmap(d, vol["configMap"])
        elif "secret" in vol:
            self._fill_secret(d, vol["secret"])
        elif "projected" in vol:
            for src in vol["projected"].get("sources") or []:
                if "configMap" in src:
                    self._fill_configmap(d, src["configMap"])
                elif "secret" in src:
                    self._fill_secret(d, src["secret"])
        # emptyDir, persistentVolumeClaim, hostPath...: an empty directory (a first start).
        self.made[name] = d
        return d

    def _fill_configmap(self, d: Path, ref: dict):
        data = self.manifest.configmaps.get((self.ns, ref["name"]))
        if data is None:
            self.notes.append(f"ConfigMap {ref['name']} is not in the manifest: mounted empty")
            return
        items = ref.get("items")
        pairs = [(i["key"], i["path"]) for i in items] if items else [(k, k) for k in data]
        for key, path in pairs:
            if key in data:
                f = d / path
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(str(data[key]))

    def _fill_secret(self, d: Path, ref: dict):
        name = ref.get("secretName", "")
        known = self.manifest.secrets.get((self.ns, name))
        items = ref.get("items")
        if items:
            pairs = [(i["key"], i["path"]) for i in items]
        elif known is not None:
            pairs = [(k, k) for k in known]
        else:
            pairs = [(k, k) for k in TLS_SECRET_KEYS]
            self.notes.append(
                f"Secret {name} is not in the manifest: assumed a kubernetes.io/tls Secret "
                f"({', '.join(TLS_SECRET_KEYS)}) holding a throw-away self-signed certificate"
            )
        crt, key = throwaway_certificates(str(self.workdir))["rsa"]
        values = self.manifest.secret_values.get((self.ns, name), {})
        for k, path in pairs:
            f = d / path
            f.parent.mkdir(parents=True, exist_ok=True)
            if k in values:
                f.write_text(values[k])
            elif k.endswith(".key"):
                f.write_text(key)
            elif k.endswith((".crt", ".pem", ".cert")):
                f.write_text(crt)
            else:
                f.write_text(dummy_secret_value(name, k))

    def container_fs(self, container: Container) -> PodFS:
        root = self.base / "containers" / container.name
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        fs = PodFS(root)
        for vm in container.spec.get("volumeMounts") or []:
            src = self.volume(vm["name"])
            if vm.get("subPath"):
                src = src / vm["subPath"]
                if not src.exists():
                    src.mkdir(parents=True)
            target = fs.host(vm["mountPath"])
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            target.symlink_to(src)
        if not fs.exists("/etc/resolv.conf"):
            fs.write("/etc/resolv.conf", resolv_conf(self.spec))
        return fs
