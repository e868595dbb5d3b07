"""A generated deployment run without a cluster: pods as network namespaces on emulated nodes.

What stands in for Kubernetes (each is emulated, see README "What the tests prove"):
* nodes: one namespace per node (`node1` runs every pod, with the union of the workloads'
  nodeSelector labels; a separate gateway node when an egress object names one), joined by a
  `fabric` namespace that routes each node's pod range (the CNI's datapath);
* pods: a namespace with an address from `subnet` (and `subnet6`), a /32 (/128) routed by its
  node (Calico-style: default via 169.254.1.1 / fe80::1 on the node's end);
* kube-proxy: DNAT on the node from a Service's ClusterIP (and the LoadBalancer address) to the
  pod; headless Services are answered by the cluster DNS with the pods' addresses;
* cluster DNS: NSD serving `cluster.local` (<svc>.<ns>.svc.cluster.local) at DUMMY_CLUSTER_DNS,
  the address a ClusterFirst pod's resolv.conf names in the conformance emulation;
* kubelet: the environment (tests/conformance/k8s.py), the volumes (podfs.py), init containers
  run with their command, readiness probes run in the container's namespaces.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets as pysecrets
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "conformance"))

import k8s  # noqa: E402
from k8s import Manifest, container_env  # noqa: E402
from mailu import (EMULATORS, Templates, component_of)  # noqa: E402
from podfs import Pod as PodVolumes  # noqa: E402
from podfs import throwaway_certificates  # noqa: E402

from containers import Container, add_users, copy_tree_into  # noqa: E402
from netns import Netns, Run  # noqa: E402

CACHE = Path(os.environ.get("MAILU_E2E_CACHE", "/var/cache/mailu-k8s-e2e"))
VENV = CACHE / "venv"
# Components whose daemons the suite runs (webmail, fetchmail, webdav, clamav... get a pod and an
# address, so egress selection covers them, but no process).
RUNS = ("resolver", "redis", "admin", "postfix", "dovecot", "rspamd", "front")
CLUSTER_DNS = k8s.DUMMY_CLUSTER_DNS
COMPONENT_LABEL = "app.kubernetes.io/component"
UID = {"mailu": 9100, "nginx": 9101}


def mailu_src() -> Path | None:
    """Mailu's source at the tag: MAILU_SRC, else the suite's cache (scripts/e2e fills it)."""
    for p in (os.environ.get("MAILU_SRC"), str(CACHE / "src")):
        if p and (Path(p) / "core/admin/start.py").is_file():
            return Path(p)
    return None


@dataclass
class Node:
    name: str
    ns: Netns
    labels: dict
    index: int
    fabric_dev: str = ""
    fabric_peer_dev: str = ""
    uplink: str = ""
    addrs: list = field(default_factory=list)  # public addresses of the uplink
    pods4: ipaddress.IPv4Network | None = None
    pods6: ipaddress.IPv6Network | None = None

    # The fabric's transit addresses are link-local, so they never meet an address the stand-in
    # Internet allocates: 169.254.<100+i>.1/30 on the node, .2 on the fabric; fe80::a / fe80::b.
    @property
    def fabric4(self) -> str:
        return f"169.254.{100 + self.index}.1"

    @property
    def fabric_peer4(self) -> str:
        return f"169.254.{100 + self.index}.2"


@dataclass
class PodInfo:
    workload: dict
    name: str
    namespace: str
    labels: dict
    spec: dict
    component: str | None
    node: Node | None = None
    ns: Netns | None = None
    ip4: str | None = None
    ip6: str | None = None
    containers: dict = field(default_factory=dict)  # name -> Container
    volumes: PodVolumes | None = None
    ready: bool = False


class Cluster:
    def __init__(self, run: Run, manifest: Manifest, workdir: Path, tpl: Templates, subnet: str,
                 subnet6: str | None, log=print):
        self.run = run
        self.m = manifest
        self.workdir = workdir
        self.tpl = tpl
        self.subnet = ipaddress.ip_network(subnet)
        self.subnet6 = ipaddress.ip_network(subnet6) if subnet6 else None
        self.log = log
        self.nodes: dict[str, Node] = {}
        self.pods: list[PodInfo] = []
        self.fabric: Netns | None = None
        self.namespaces = {d["metadata"]["name"]: d for d in manifest.docs if d.get("kind") == "Namespace"}
        self.dns_ns: Netns | None = None
        self.dns_ip = ""
        self.notes: list[str] = []
        self.extra_dns: list[tuple[str, str]] = []  # (name under cluster.local, address)

    # ------------------------------------------------------------------ topology

    def add_node(self, name: str, labels: dict) -> Node:
        idx = len(self.nodes) + 1
        ns = self.run.netns(name)
        node = Node(name, ns, labels, idx)
        if self.fabric is None:
            self.fabric = self.run.netns("fabric")
            self.fabric.sysctl("net.ipv4.ip_forward", "1")
            self.fabric.sysctl("net.ipv6.conf.all.forwarding", "1")
        a, b = self.run.link(ns, self.fabric, [f"{node.fabric4}/30", "fe80::a/64"],
                             [f"{node.fabric_peer4}/30", "fe80::b/64"])
        node.fabric_dev, node.fabric_peer_dev = a, b
        ns.sysctl("net.ipv4.ip_forward", "1")
        ns.sysctl("net.ipv6.conf.all.forwarding", "1")
        ns.sysctl("net.ipv4.conf.all.rp_filter", "0")
        node.pods4 = _nth_subnet(self.subnet, 24, idx)
        if self.subnet6:
            node.pods6 = _nth_subnet(self.subnet6, 112, idx) if self.subnet6.prefixlen < 112 else self.subnet6
        # The pod network and the Service range go over the fabric; the Internet over the uplink.
        ns.route(str(self.subnet), "via", node.fabric_peer4)
        if self.subnet6:
            ns.route("-6", str(self.subnet6), "via", "fe80::b", "dev", a)
        self.fabric.route(str(node.pods4), "via", node.fabric4)
        if node.pods6:
            self.fabric.route("-6", str(node.pods6), "via", "fe80::a", "dev", b)
        self.nodes[name] = node
        return node

    def attach_uplink(self, node: Node, inet, addrs: list[str]):
        before = set(_links(node.ns))
        inet.attach(node.ns, addrs)
        new = [l for l in _links(node.ns) if l not in before]
        node.uplink = new[0] if new else ""
        node.addrs = list(addrs)

    def workloads(self):
        for d in self.m.docs:
            if d.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
                yield d

    def plan_pods(self):
        for d in self.workloads():
            tmpl = d["spec"]["template"]
            labels = dict(tmpl.get("metadata", {}).get("labels") or {})
            comp = labels.get(COMPONENT_LABEL)
            spec = tmpl["spec"]
            if comp is None:
                comps = {component_of(k8s.Container(d["kind"], d["metadata"]["name"], "", spec, c))
                         for c in spec.get("containers") or []} - {None}
                comp = next(iter(comps), None)
            self.pods.append(PodInfo(d, d["metadata"]["name"], d["metadata"].get("namespace", "default"),
                                     labels, spec, comp))

    def node_labels(self) -> dict:
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/hostname": "node1"}
        for p in self.pods:
            labels.update(p.spec.get("nodeSelector") or {})
        return labels

    def place_pods(self, node: Node):
        n = 10
        for p in self.pods:
            sel = p.spec.get("nodeSelector") or {}
            if any(node.labels.get(k) != v for k, v in sel.items()):
                raise RuntimeError(f"{p.name}: no node matches its nodeSelector {sel}")
            p.node = node
            p.ns = self.run.netns(p.name[-20:])
            p.ip4 = str(node.pods4.network_address + n)
            addrs = [f"{p.ip4}/32"]
            if node.pods6:
                p.ip6 = str(node.pods6.network_address + n)
                addrs.append(f"{p.ip6}/128")
            n += 1
            pa, na = self.run.link(p.ns, node.ns, addrs, ["169.254.1.1/32", "fe80::1/64"])
            p.ns.ip("route", "add", "169.254.1.1", "dev", pa, "scope", "link")
            p.ns.ip("route", "add", "default", "via", "169.254.1.1", "dev", pa)
            node.ns.ip("route", "add", f"{p.ip4}/32", "dev", na)
            if p.ip6:
                p.ns.ip("-6", "route", "add", "default", "via", "fe80::1", "dev", pa)
                node.ns.ip("-6", "route", "add", f"{p.ip6}/128", "dev", na)

    def selected(self, svc: dict) -> list[PodInfo]:
        sel = svc.get("spec", {}).get("selector") or {}
        ns = svc["metadata"].get("namespace", "default")
        if not sel:
            return []
        return [p for p in self.pods if p.namespace == ns and all(p.labels.get(k) == v for k, v in sel.items())]

    def target_port(self, pod: PodInfo, port: dict) -> int:
        tp = port.get("targetPort", port["port"])
        if isinstance(tp, int) or str(tp).isdigit():
            return int(tp)
        for c in pod.spec.get("containers") or []:
            for cp in c.get("ports") or []:
                if cp.get("name") == tp:
                    return int(cp["containerPort"])
        raise RuntimeError(f"{pod.name}: no container port named {tp}")

    def dnat(self, node: Node, addr: str, pod: PodInfo, port: int, target: int, proto: str = "tcp"):
        v6 = ":" in addr
        dest = pod.ip6 if v6 else pod.ip4
        if dest is None:
            return
        tool = "ip6tables" if v6 else "iptables"
        to = f"[{dest}]:{target}" if v6 else f"{dest}:{target}"
        for chain in ("PREROUTING", "OUTPUT"):
            node.ns.exec([tool, "-w", "-t", "nat", "-A", chain, "-d", addr, "-p", proto.lower(),
                          "--dport", str(port), "-j", "DNAT", "--to-destination", to])

    def services(self):
        """kube-proxy: ClusterIP Services to their pod, on every node."""
        for ns_name, svcs in self.m.services.items():
            for svc in svcs:
                ip = svc["spec"].get("clusterIP")
                if not ip or ip == "None":
                    continue
                pods = self.selected(svc)
                if not pods:
                    continue
                for port in svc["spec"].get("ports") or []:
                    for node in self.nodes.values():
                        self.dnat(node, ip, pods[0], port["port"], self.target_port(pods[0], port),
                                  port.get("protocol", "TCP"))

    def cluster_dns(self, node: Node):
        """NSD answering cluster.local; a ClusterIP (DUMMY_CLUSTER_DNS) DNATed to it."""
        ns = self.run.netns("kubedns")
        self.dns_ns = ns
        ip = str(node.pods4.network_address + 2)
        self.dns_ip = ip
        pa, na = self.run.link(ns, node.ns, [f"{ip}/32"], ["169.254.1.1/32"])
        ns.ip("route", "add", "169.254.1.1", "dev", pa, "scope", "link")
        ns.ip("route", "add", "default", "via", "169.254.1.1", "dev", pa)
        node.ns.ip("route", "add", f"{ip}/32", "dev", na)
        d = self.workdir / "kubedns"
        d.mkdir(parents=True, exist_ok=True)
        lines = ["$ORIGIN cluster.local.", "$TTL 5",
                 "@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 60 60 600 5",
                 "@ IN NS ns.dns.cluster.local.", f"ns.dns IN A {ip}"]
        for ns_name, svcs in self.m.services.items():
            for svc in svcs:
                name = f"{svc['metadata']['name']}.{ns_name}.svc"
                ip_ = svc["spec"].get("clusterIP")
                if ip_ and ip_ != "None":
                    lines.append(f"{name} IN {'AAAA' if ':' in ip_ else 'A'} {ip_}")
                    continue
                for p in self.selected(svc):
                    lines.append(f"{name} IN A {p.ip4}")
                    if p.ip6:
                        lines.append(f"{name} IN AAAA {p.ip6}")
        for name, addr in self.extra_dns:
            rel = name.rstrip(".")
            rel = rel[: -len(".cluster.local")] if rel.endswith(".cluster.local") else rel
            lines.append(f"{rel} IN {'AAAA' if ':' in addr else 'A'} {addr}")
        (d / "cluster.local.zone").write_text("\n".join(lines) + "\n")
        (d / "nsd.conf").write_text(f"""server:
  ip-address: {ip}
  port: 53
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  pidfile: "{d}/nsd.pid"
  logfile: "{d}/nsd.log"
  hide-version: yes
zone:
  name: cluster.local
  zonefile: cluster.local.zone
""")
        ns.spawn(["nsd", "-d", "-c", str(d / "nsd.conf")], d / "nsd.out", name="cluster-dns")
        for node_ in self.nodes.values():
            for proto in ("udp", "tcp"):
                node_.ns.exec(["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", CLUSTER_DNS, "-p", proto,
                               "--dport", "53", "-j", "DNAT", "--to-destination", f"{ip}:53"])
        _wait(lambda: ns.exec(["dig", f"@{ip}", "+short", "+time=1", "+tries=1", "SOA", "cluster.local"],
                              check=False).stdout.strip() != "", 15, "cluster DNS (NSD) answers")

    # ------------------------------------------------------------------ services outside Mailu

    def external_pod(self, node: Node, name: str, n: int) -> tuple[Netns, str]:
        """A pod of another namespace (a database, a Redis the config points at): an address on
        the node, no container (Debian's server runs in the namespace)."""
        ns = self.run.netns(name)
        ip = str(node.pods4.network_address + n)
        pa, na = self.run.link(ns, node.ns, [f"{ip}/32"], ["169.254.1.1/32"])
        ns.ip("route", "add", "169.254.1.1", "dev", pa, "scope", "link")
        ns.ip("route", "add", "default", "via", "169.254.1.1", "dev", pa)
        node.ns.ip("route", "add", f"{ip}/32", "dev", na)
        return ns, ip

    def external_postgresql(self, node: Node, host: str, port: int, db: str, user: str, password: str):
        """Debian's PostgreSQL at the host and port the config names, with the role and database
        Mailu is given (what a user's database operator would have made)."""
        ns, ip = self.external_pod(node, "ext-postgres", 3)
        self.extra_dns.append((host, ip))
        d = self.workdir / "postgres"
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o777)
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        data = d / "data"
        pw = d / "pw"
        pw.write_text("bootstrap\n")
        os.chmod(pw, 0o644)
        as_pg = ["setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups"]
        subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-A", "scram-sha-256", "-U", "postgres",
                        f"--pwfile={pw}"], check=True, capture_output=True, cwd="/tmp")
        with open(data / "pg_hba.conf", "a") as f:
            f.write(f"host all all {self.subnet} scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
        ns.spawn([*as_pg, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=*",
                  "-c", f"unix_socket_directories={d}"], d / "postgres.log", name="postgres")
        env = {"PGPASSWORD": "bootstrap", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        _wait(lambda: ns.exec([str(bindir / "pg_isready"), "-h", ip, "-p", str(port)], check=False).returncode == 0,
              30, "PostgreSQL accepts connections")
        sql = (f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'; "
               f"CREATE DATABASE \"{db}\" OWNER \"{user}\";")
        r = ns.exec(["psql", "-h", ip, "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                    check=False, env=env)
        if r.returncode != 0:
            # psql runs one transaction for -c with two statements only if allowed: split them.
            for stmt in sql.split("; "):
                ns.exec(["psql", "-h", ip, "-p", str(port), "-U", "postgres", "-c", stmt.rstrip(";")], env=env)
        return ip

    def external_redis(self, node: Node, host: str):
        ns, ip = self.external_pod(node, "ext-redis", 4)
        self.extra_dns.append((host, ip))
        d = self.workdir / "ext-redis"
        d.mkdir(parents=True, exist_ok=True)
        ns.spawn(["redis-server", "--protected-mode", "no", "--bind", ip, "--dir", str(d), "--save", ""],
                 d / "redis.log", name="redis")
        return ip

    def ingress_controller(self, node: Node, ingresses: list[dict], public: list[str],
                           pod_name: str = "ingress", n: int = 5):
        """An ingress-nginx stand-in for `networking.k8s.io/v1` Ingress objects: Debian's nginx in
        a pod of its own, terminating TLS for each rule's host (a throw-away certificate for the
        Secret cert-manager would fill) and proxying each path to the Service's pod with the
        headers ingress-nginx sends (Host, X-Forwarded-For/-Proto, X-Real-IP). The public
        address's ports 80 and 443 are DNATed to it (a LoadBalancer shared with front's, as
        `metallb.universe.tf/allow-shared-ip` does)."""
        ns, ip = self.external_pod(node, pod_name, n)
        d = self.workdir / pod_name
        d.mkdir(parents=True, exist_ok=True)
        crt, key = throwaway_certificates(str(self.workdir))["rsa"]
        (d / "tls.crt").write_text(crt)
        (d / "tls.key").write_text(key)
        servers = []
        for ing in ingresses:
            ns_name = ing["metadata"].get("namespace", "default")
            svcs = {s["metadata"]["name"]: s for s in self.m.services.get(ns_name, [])}
            for rule in ing["spec"].get("rules") or []:
                locs = []
                for path in (rule.get("http") or {}).get("paths") or []:
                    b = path["backend"]["service"]
                    svc = svcs.get(b["name"])
                    pods = self.selected(svc) if svc else []
                    if not pods:
                        continue
                    port = b["port"].get("number")
                    sport = next((p for p in svc["spec"]["ports"]
                                  if p["port"] == port or p.get("name") == b["port"].get("name")), None)
                    target = self.target_port(pods[0], sport) if sport else port
                    locs.append(f"""    location {path.get('path', '/')} {{
      proxy_pass http://{pods[0].ip4}:{target};
      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      client_max_body_size 60m;
    }}""")
                host = rule.get("host", "_")
                body = "\n".join(locs)
                servers.append(f"""  server {{
    listen 443 ssl;
    server_name {host};
    ssl_certificate {d}/tls.crt;
    ssl_certificate_key {d}/tls.key;
{body}
  }}
  server {{
    listen 80;
    server_name {host};
    return 308 https://$host$request_uri;
  }}""")
        (d / "nginx.conf").write_text(f"""pid {d}/nginx.pid;
error_log {d}/error.log;
events {{}}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
{chr(10).join(servers)}
}}
""")
        ns.spawn(["nginx", "-c", str(d / "nginx.conf"), "-g", "daemon off;"], d / "nginx.out", name="ingress")
        for a in public:
            for port in (80, 443):
                v6 = ":" in a
                if v6:
                    continue
                node.ns.exec(["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", a, "-p", "tcp",
                              "--dport", str(port), "-j", "DNAT", "--to-destination", f"{ip}:{port}"])
        _wait(lambda: ns.exec(["bash", "-c", f"exec 3<>/dev/tcp/{ip}/443"], check=False).returncode == 0, 15,
              "the ingress stand-in listens")
        return {80, 443}

    # Traefik's entry points as its Helm chart and the README name them (the installation
    # defines them; the objects only name them).
    ENTRYPOINTS = {"web": 80, "websecure": 443, "smtp": 25, "submissions": 465, "submission": 587,
                   "imaps": 993, "pop3s": 995, "imap": 143, "pop3": 110, "sieve": 4190}

    def _start_edge_proxy(self, node, ns, ip: str, public, routes: list, name: str, what: str) -> set:
        """An L4 stand-in (edgeproxy.py) serving `routes` at `ip`, the public IPv4 addresses DNATed
        to it on the node; returns the ports it offers once it listens."""
        d = self.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "routes.json").write_text(json.dumps(routes, indent=1))
        ns.spawn([sys.executable, str(HERE / "edgeproxy.py"), str(d / "routes.json")], d / "edgeproxy.log",
                 name=name)
        for r in routes:
            for a in public:
                if ":" not in a:
                    node.ns.exec(["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", a, "-p", "tcp",
                                  "--dport", str(r["port"]), "-j", "DNAT", "--to-destination", f"{ip}:{r['port']}"])
        if routes:
            _wait(lambda: ns.exec(["bash", "-c", f"exec 3<>/dev/tcp/{ip}/{routes[0]['port']}"],
                                  check=False).returncode == 0, 15, what)
        return {r["port"] for r in routes}

    def traefik(self, node: Node, docs: list[dict], public: list[str]) -> set[int]:
        """A Traefik stand-in for IngressRoute (web: TLS terminated, as the ingress stand-in) and
        IngressRouteTCP (edgeproxy.py: bytes forwarded, a PROXY v2 header first when the route's
        ServersTransportTCP asks for it)."""
        transports = {(d["metadata"].get("namespace"), d["metadata"]["name"]): d
                      for d in docs if d.get("kind") == "ServersTransportTCP"}
        offered = set()
        web = []
        for d in docs:
            if d.get("kind") != "IngressRoute":
                continue
            ns_name = d["metadata"].get("namespace", "default")
            for r in d["spec"].get("routes") or []:
                hosts = re.findall(r"Host\(`([^`]+)`\)", r.get("match", ""))
                svc = (r.get("services") or [{}])[0]
                web.append({"metadata": {"namespace": ns_name}, "spec": {"rules": [
                    {"host": h, "http": {"paths": [{"path": "/", "backend": {"service": {
                        "name": svc.get("name"), "port": {"number": svc.get("port")}}}}]}} for h in hosts]}})
        if web:
            offered |= self.ingress_controller(node, web, public, pod_name="traefik-web", n=6)
        ns, ip = self.external_pod(node, "traefik-tcp", 7)
        routes = []
        for d in docs:
            if d.get("kind") != "IngressRouteTCP":
                continue
            ns_name = d["metadata"].get("namespace", "default")
            svcs = {s["metadata"]["name"]: s for s in self.m.services.get(ns_name, [])}
            port = self.ENTRYPOINTS.get((d["spec"].get("entryPoints") or [""])[0])
            for r in d["spec"].get("routes") or []:
                svc_ref = (r.get("services") or [{}])[0]
                svc = svcs.get(svc_ref.get("name"))
                pods = self.selected(svc) if svc else []
                if not pods or port is None:
                    continue
                sport = next((p for p in svc["spec"]["ports"] if p["port"] == svc_ref.get("port")), None)
                target = self.target_port(pods[0], sport) if sport else svc_ref.get("port")
                tr = transports.get((ns_name, svc_ref.get("serversTransport")))
                proxy = ((tr or {}).get("spec", {}).get("proxyProtocol") or {}).get("version")
                routes.append({"listen": ip, "port": port, "backend": pods[0].ip4, "backend_port": target,
                               "proxy": proxy})
        offered |= self._start_edge_proxy(node, ns, ip, public, routes, "traefik-tcp", "the Traefik stand-in listens")
        return offered

    def gateway_api(self, node: Node, docs: list[dict], public: list[str], proxy_ports: set[int]) -> set[int]:
        """A Gateway API implementation stand-in: HTTPRoute as the ingress stand-in (TLS
        terminated), TCPRoute and TLSRoute (passthrough) by edgeproxy.py. The Gateway's listeners
        are the installation's: each route listens on its backend's port, and sends a PROXY v2
        header to the ports front expects it on (PROXY_PROTOCOL; the config says the Gateway is
        set up to send it, `backendSendsProxyProtocol`)."""
        offered = set()
        web = []
        for d in docs:
            if d.get("kind") != "HTTPRoute":
                continue
            ns_name = d["metadata"].get("namespace", "default")
            for rule in d["spec"].get("rules") or []:
                b = (rule.get("backendRefs") or [{}])[0]
                web.append({"metadata": {"namespace": ns_name}, "spec": {"rules": [
                    {"host": h, "http": {"paths": [{"path": "/", "backend": {"service": {
                        "name": b.get("name"), "port": {"number": b.get("port")}}}}]}}
                    for h in d["spec"].get("hostnames") or ["_"]]}})
        if web:
            offered |= self.ingress_controller(node, web, public, pod_name="gateway-web", n=6)
        ns, ip = self.external_pod(node, "gateway-tcp", 7)
        routes = []
        for d in docs:
            if d.get("kind") not in ("TCPRoute", "TLSRoute"):
                continue
            ns_name = d["metadata"].get("namespace", "default")
            svcs = {s["metadata"]["name"]: s for s in self.m.services.get(ns_name, [])}
            for rule in d["spec"].get("rules") or []:
                b = (rule.get("backendRefs") or [{}])[0]
                svc = svcs.get(b.get("name"))
                pods = self.selected(svc) if svc else []
                if not pods:
                    continue
                sport = next((p for p in svc["spec"]["ports"] if p["port"] == b.get("port")), None)
                target = self.target_port(pods[0], sport) if sport else b.get("port")
                routes.append({"listen": ip, "port": b.get("port"), "backend": pods[0].ip4, "backend_port": target,
                               "proxy": 2 if b.get("port") in proxy_ports else None})
        offered |= self._start_edge_proxy(node, ns, ip, public, routes, "gateway-tcp", "the Gateway stand-in listens")
        return offered

    # ------------------------------------------------------------------ containers

    def pod(self, component: str) -> PodInfo | None:
        return next((p for p in self.pods if p.component == component), None)

    def k8s_containers(self, p: PodInfo, init: bool):
        key = "initContainers" if init else "containers"
        for c in p.spec.get(key) or []:
            yield k8s.Container(p.workload["kind"], p.name, p.namespace, p.spec, c, init=init)

    def container(self, p: PodInfo, kc: k8s.Container, env: dict) -> Container:
        c = Container(self.run, p.ns, f"{p.name}/{kc.name}", self.workdir / "pods" / p.name / kc.name, env)
        if c.base.exists():
            shutil.rmtree(c.base)
        c.base.mkdir(parents=True)
        p.containers[kc.name] = c
        return c

    def mounts(self, p: PodInfo, kc: k8s.Container) -> list[tuple[Path, str]]:
        out = []
        for vm in kc.spec.get("volumeMounts") or []:
            src = p.volumes.volume(vm["name"])
            if vm.get("subPath"):
                src = src / vm["subPath"]
                if not src.exists():
                    src.mkdir(parents=True)
            out.append((src, vm["mountPath"]))
        return out

    def env_of(self, kc: k8s.Container) -> dict:
        env, notes = container_env(self.m, kc)
        # status.podIP and friends: the pod's real addresses.
        p = next(x for x in self.pods if x.name == kc.workload)
        for e in kc.spec.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
            if ref in ("status.podIP", "status.podIPs"):
                env[e["name"]] = p.ip4 if ref == "status.podIP" else ",".join(x for x in (p.ip4, p.ip6) if x)
            elif ref in ("status.hostIP", "status.hostIPs"):
                env[e["name"]] = p.node.fabric4
        return env

    def prepare_pod(self, p: PodInfo):
        # The kubelet mounts a Secret volume only when the Secret exists (or the volume is
        # optional): otherwise the pod stays in ContainerCreating.
        for v in p.spec.get("volumes") or []:
            sec = v.get("secret")
            if sec and not sec.get("optional") and (p.namespace, sec["secretName"]) not in self.m.secret_values:
                raise RuntimeError(f"{p.name}: Secret {sec['secretName']} does not exist: the kubelet cannot "
                                   f"mount volume {v['name']} (the pod stays ContainerCreating)")
        kcs = list(self.k8s_containers(p, False))
        p.volumes = PodVolumes(self.m, kcs[0], self.workdir / "pods" / p.name / "pod", self.workdir)

    def run_init_containers(self, p: PodInfo):
        for kc in self.k8s_containers(p, True):
            env = self.env_of(kc)
            c = self.container(p, kc, env)
            c.write("/etc/resolv.conf", k8s.resolv_conf(p.spec))
            c.start(self.mounts(p, kc))
            cmd = (kc.spec.get("command") or []) + (kc.spec.get("args") or [])
            r = c.exec(cmd, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"{p.name}: init container {kc.name} failed: {r.stderr or r.stdout}")
            self.log(f"  init container {p.name}/{kc.name}: ok")

    def render(self, p: PodInfo, kc: k8s.Container, comp: str, env: dict):
        """The conformance emulation of Mailu's start script: files at container paths."""
        fs = p.volumes.container_fs(kc)
        fs.write("/etc/resolv.conf", k8s.resolv_conf(p.spec))
        r = EMULATORS[comp](kc, env, fs, self.tpl)
        if r.crash:
            raise RuntimeError(f"{p.name}: Mailu's start script would stop: {r.crash}")
        return r, fs

    def start_container(self, p: PodInfo, kc: k8s.Container, inet=None):
        comp = component_of(kc) or p.component
        env = self.env_of(kc)
        c = self.container(p, kc, env)
        mounts = self.mounts(p, kc)
        if comp == "admin":
            mounts += self.admin_volumes_extra()
        mpaths = {m for _, m in mounts}
        r = None
        if comp in ("front", "postfix", "dovecot", "rspamd"):
            r, fs = self.render(p, kc, comp, env)
            copy_tree_into(c, fs.root, mpaths)
        c.write("/etc/resolv.conf", k8s.resolv_conf(p.spec))
        add_users(c, [("mailu", UID["mailu"], UID["mailu"]), ("nginx", UID["nginx"], UID["nginx"])])
        getattr(self, f"_pre_{comp}", lambda *a: None)(p, kc, c, r, inet)
        c.start(mounts)
        getattr(self, f"_start_{comp}")(p, kc, c, r)
        return c

    # Each _start_<component> is the tail of the image's start script (cited), on Debian's
    # builds of the daemon.

    def _pre_resolver(self, p, kc, c, r, inet):
        # Mailu's unbound image ships root.hints and the root trust anchor in /etc/unbound
        # (optional/unbound/Dockerfile); here they are the stand-in Internet's.
        c.write("/etc/unbound/root.hints", inet.root_hints())
        c.write("/etc/unbound/trusted-key.key", inet.trust_anchor())

    def _start_resolver(self, p, kc, c, r):
        cmd = (kc.spec.get("command") or []) + (kc.spec.get("args") or [])
        conf = next((cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "-c"), "/etc/unbound/unbound.conf")
        extra = getattr(self, "unbound_extra", [])
        if extra:
            # The stand-in Internet uses documentation ranges and .test names, which unbound
            # answers itself unless told `local-zone: ... nodefault` (a test artefact).
            c.sh(f"printf 'server:\\n%s\\n' {shlex.quote(chr(10).join('  ' + l for l in extra))} >> {conf}")
        c.sh("chown -R unbound /etc/unbound")
        c.spawn(cmd or ["unbound", "-d", "-c", conf], "resolver")

    def _start_redis(self, p, kc, c, r):
        # The valkey image's entrypoint: valkey-server with protected mode off (the image's
        # build sets it), data in /data. Debian's redis-server stands in; the probe's valkey-cli
        # is redis-cli.
        c.sh("mkdir -p /usr/local/bin && ln -sf /usr/bin/redis-cli /usr/local/bin/valkey-cli")
        c.spawn(["redis-server", "--protected-mode", "no", "--dir", "/data", "--bind", "0.0.0.0", "::",
                 "--save", ""], "redis")

    def _pre_admin(self, p, kc, c, r, inet):
        src = mailu_src()
        # The admin image: /app holds mailu/ and migrations/, /start.py and /audit.py at the root
        # (core/admin/Dockerfile:12-19), FLASK_APP=mailu (:30), the venv on PATH (core/base).
        c.write("/start.py", (src / "core/admin/start.py").read_text(), 0o755)
        c.write("/audit.py", (src / "core/admin/audit.py").read_text(), 0o755)

    def _admin_env(self, c):
        env = dict(c.env)
        env["FLASK_APP"] = "mailu"
        env["PATH"] = f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        env["VIRTUAL_ENV"] = str(VENV)
        return env

    def _start_admin(self, p, kc, c, r):
        c.spawn(["python3", "/start.py"], "admin", env=self._admin_env(c), cwd="/app")

    def admin_volumes_extra(self) -> list[tuple[Path, str]]:
        return [(mailu_src() / "core/admin", "/app")]

    def flask(self, argv: list[str], timeout=60) -> subprocess.CompletedProcess:
        p = self.pod("admin")
        c = list(p.containers.values())[-1]  # the main container (init containers come first)
        return c.exec(["setpriv", "--reuid", "mailu", "--regid", "mailu", "--init-groups", "flask", "mailu", *argv],
                      env=self._admin_env(c), cwd="/app", timeout=timeout)

    def _podop(self, c, user: str, name: str, maps: str):
        script = (f"from podop import run_server\n"
                  f"run_server(0, {name!r}, '/tmp/podop.socket', {maps})\n")
        c.write("/e2e/run_podop.py", script)
        env = dict(c.env)
        env["PATH"] = f"{VENV}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        c.spawn(["setpriv", "--reuid", user, "--regid", user, "--init-groups", "python3", "/e2e/run_podop.py"],
                "podop", env=env)

    def _start_postfix(self, p, kc, c, r):
        url = "http://" + c.env["ADMIN_ADDRESS"] + ":8080/internal/postfix/"
        maps = [(n, "url", url + path + "/§") for n, path in (
            ("transport", "transport"), ("alias", "alias"), ("dane", "dane"), ("domain", "domain"),
            ("mailbox", "mailbox"), ("recipientmap", "recipient/map"), ("sendermap", "sender/map"),
            ("senderlogin", "sender/login"), ("senderrate", "sender/rate"))]  # core/postfix/start.py:21-36
        # start.py:19: a pid file left by a killed master (its lock died with it) is removed.
        lines = ["set -e", "mkdir -p /queue/pid; flock -n /queue/pid/master.pid rm -f /queue/pid/master.pid || true"]
        for line in r.postconf_e:  # start.py:58-61
            lines.append(f"postconf -e {shlex.quote(line)}")
        for line in r.postconf_me:  # start.py:63-66
            lines.append(f"postconf -Me {shlex.quote(line)}")
        # start.py:68-72, 79-82, 84-87. Alpine's postfix is built with lmdb as its default
        # database type; Debian's is hash, so the type is named.
        lines += [
            "for m in /overrides/*.map; do [ -f \"$m\" ] || continue; cp \"$m\" /etc/postfix/; "
            "postmap lmdb:/etc/postfix/$(basename \"$m\"); rm /etc/postfix/$(basename \"$m\"); done",
            "for pol in tls_policy transport; do touch /etc/postfix/$pol.map; postmap lmdb:/etc/postfix/$pol.map; done",
            "[ ! -f /etc/postfix/sasl_passwd ] || postmap lmdb:/etc/postfix/sasl_passwd",
            "mkdir -p -m 700 /dev/shm/postfix && chown postfix /dev/shm/postfix",
        ]
        c.write("/e2e/prepare.sh", "\n".join(lines) + "\n")
        c.exec(["sh", "/e2e/prepare.sh"], check=True)
        self._podop(c, "postfix", "postfix", repr(maps))
        env = dict(c.env)
        env["PATH"] = f"{VENV}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        c.write("/e2e/mta-sts.py", "from postfix_mta_sts_resolver import daemon\ndaemon.main()\n")
        c.spawn(["setpriv", "--reuid", "postfix", "--regid", "postfix", "--init-groups", "python3",
                 "/e2e/mta-sts.py"], "mta-sts", env=env)  # start.py:38-42
        # start.py:95-100
        c.sh("/usr/lib/postfix/sbin/post-install meta_directory=/etc/postfix create-missing; "
             "postfix set-permissions >/dev/null 2>&1; true")
        c.spawn(["postfix", "start-fg"], "postfix")

    def _pre_dovecot(self, p, kc, c, r, inet):
        # Debian has no fts-flatcurve (Alpine's dovecot-fts-flatcurve): without this rewrite every
        # mail process dies "Plugin 'fts_flatcurve' not found". Full-text search is therefore not
        # exercised (README: what is emulated).
        conf = c.upper / "etc/dovecot/dovecot.conf"
        import re
        text = conf.read_text()
        if "fts_flatcurve" in text:
            text = re.sub(r"^(mail_plugins = .*?) fts fts_flatcurve", r"\1", text, flags=re.M)
            text = re.sub(r"^(\s*)(fts\w* = .*)$", r"\1# \2 (no fts-flatcurve in Debian)", text, flags=re.M)
            conf.write_text(text)
            self.notes.append("dovecot: full-text search (fts_flatcurve) removed: Debian does not build it")

    def _start_dovecot(self, p, kc, c, r):
        url = "http://" + c.env["ADMIN_ADDRESS"] + ":8080/internal/dovecot/§"
        c.sh("chmod 555 /conf/bin/* 2>/dev/null; chown mail:mail /mail; chown -R mail:mail /var/lib/dovecot /conf",
             check=False)  # core/dovecot/start.py:28-38
        self._podop(c, "mail", "dovecot", repr([("quota", "url", url), ("auth", "url", url), ("sieve", "url", url)]))
        c.spawn(["/usr/sbin/dovecot", "-c", "/etc/dovecot/dovecot.conf", "-F"], "dovecot")

    def _start_rspamd(self, p, kc, c, r):
        # core/rspamd/start.py:27-41: wait for admin, then rspamd as the rspamd user (Debian's is
        # _rspamd).
        c.write("/e2e/start.sh", f"""
until curl -sf -o /dev/null --max-time 2 http://{c.env['ADMIN_ADDRESS']}:8080/internal/rspamd/local_domains; do sleep 1; done
mkdir -m 755 -p /run/rspamd; chown _rspamd:_rspamd /run/rspamd
find /var/lib/rspamd | grep -v /filter | xargs -n1 chown _rspamd:_rspamd
exec /usr/bin/rspamd -f -u _rspamd -g _rspamd
""")
        c.spawn(["sh", "/e2e/start.sh"], "rspamd")

    def _pre_front(self, p, kc, c, r, inet):
        src = mailu_src()
        # The nginx image's /conf/dhparam.pem and ISRG root (core/nginx/Dockerfile).
        c.write("/conf/dhparam.pem", (src / "core/nginx/conf/dhparam.pem").read_text())
        isrg = Path("/etc/ssl/certs/ISRG_Root_X1.pem")
        c.write("/etc/ssl/certs/ca-cert-ISRG_Root_X1.pem", isrg.read_text() if isrg.exists()
                else throwaway_certificates(str(self.workdir))["rsa"][0])
        conf = c.upper / "etc/nginx/nginx.conf"
        text = conf.read_text()
        from daemons import nginx_version
        if nginx_version() and nginx_version() < (1, 25, 1):
            # Debian bookworm's nginx 1.22 predates `http2 on;` (the conformance check does the same).
            import re
            text = re.sub(r"^(\s*)http2 on;", r"\1# http2 on; (local nginx < 1.25.1)", text, flags=re.M)
        conf.write_text(text)

    def _start_front(self, p, kc, c, r):
        # core/nginx/start.py:22-24
        c.spawn(["sh", "-c", "dovecot -c /etc/dovecot/proxy.conf && exec /usr/sbin/nginx -g 'daemon off;'"], "front")

    # ------------------------------------------------------------------ readiness

    def probe(self, p: PodInfo, kc: k8s.Container, which: str = "readinessProbe") -> tuple[bool, str]:
        """Runs the container's probe (`readinessProbe`, `livenessProbe`) once, as the kubelet
        does each periodSeconds."""
        pr = kc.spec.get(which)
        if not pr:
            return True, f"no {which}"
        c = p.containers[kc.name]
        if "exec" in pr:
            r = c.exec(pr["exec"]["command"], timeout=pr.get("timeoutSeconds", 5) + 5)
            return r.returncode == 0, (r.stderr or r.stdout)[-300:]
        if "httpGet" in pr:
            port = pr["httpGet"]["port"]
            if not str(port).isdigit():
                port = self.target_port(p, {"port": 0, "targetPort": port})
            url = f"http://{p.ip4}:{port}{pr['httpGet'].get('path', '/')}"
            r = p.node.ns.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url], check=False)
            code = r.stdout.strip()
            return code.isdigit() and 200 <= int(code) < 400, f"{url} -> {code}"
        if "tcpSocket" in pr:
            port = pr["tcpSocket"]["port"]
            r = p.node.ns.exec(["bash", "-c", f"exec 3<>/dev/tcp/{p.ip4}/{port}"], check=False)
            return r.returncode == 0, ""
        return True, "probe kind not emulated"

    # ------------------------------------------------------------------ restarts (the kubelet's)

    def container_pids(self, c: Container) -> list[int]:
        """Every process in the container's PID namespace, its pause process included."""
        try:
            ns = os.readlink(f"/proc/{c.pause_pid}/ns/pid")
        except OSError:
            return []
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if os.readlink(d / "ns/pid") == ns:
                        out.append(int(d.name))
                except OSError:
                    pass
        return out

    def stop_container(self, p: PodInfo, kc: k8s.Container, sig: int, only=None, grace: float = 10,
                       end: bool = True):
        """Stops a container: `sig` to its processes (all, or those `only(pid)` selects), then,
        after up to `grace` seconds and with `end`, SIGKILL to the pause process, which ends the
        PID namespace and so every process left in it (the container's writable layer goes with
        it). Without `end` the namespaces stay, so its probes can run against the stopped daemon."""
        import signal
        c = p.containers[kc.name]
        for pid in self.container_pids(c):
            if pid != c.pause_pid and (only is None or only(pid)):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
                pid != c.pause_pid and (only is None or only(pid)) and not _zombie(pid)
                for pid in self.container_pids(c)):
            time.sleep(0.2)
        p.ready = False
        if not end:
            return
        try:
            os.kill(c.pause_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for proc in c.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        p.ready = False

    def kubelet_stop(self, p: PodInfo, kc: k8s.Container) -> dict:
        """Stops a container as Kubernetes does: the pod leaves its Services' endpoints (here:
        new TCP connections to it are refused, as kube-proxy refuses or sends elsewhere; those
        already established go on; `readmit` undoes it), the preStop hook runs, then SIGTERM goes
        to the container's PID 1. PID 1 of Mailu's images is their /start.py, whose SIGTERM
        handler (socrate's `system.set_env`, core/base/libs/socrate/socrate/system.py:74-83)
        only exits, and which also exits when its main daemon does (front: nginx, start.py:
        22-23); when a PID namespace's init exits, the kernel SIGKILLs everything else in it
        (pid_namespaces(7)). Here the pause process is the namespace's init, so the emulation
        does the kernel's part: once the container's main processes have exited, even while the
        preStop still runs, and after the preStop in any case, every process left is SIGKILLed.
        The container's namespaces stay (end with stop_container): its probes can still run."""
        import signal
        c = p.containers[kc.name]
        grace = p.spec.get("terminationGracePeriodSeconds", 30)
        t0 = time.monotonic()
        self.unendpoint(p)
        hook = (((kc.spec.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command")
        out = {"pre_stop": bool(hook), "grace_seconds": grace, "ended_during_pre_stop": False}
        hook_proc = subprocess.Popen(c.argv(hook), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) \
            if hook else None
        while hook_proc and hook_proc.poll() is None and time.monotonic() - t0 < grace:
            if all(x.poll() is not None for x in c.procs):
                out["ended_during_pre_stop"] = True  # start.py gone: so is the container
                break
            time.sleep(0.1)
        if hook_proc:
            out["pre_stop_exit"] = hook_proc.poll() if hook_proc.poll() is not None else "cut"
        # The SIGTERM ends start.py and with it the container: what has not exited by now dies.
        time.sleep(0.2)
        out["exited_by_itself"] = all(x.poll() is not None for x in c.procs)
        self.stop_container(p, kc, signal.SIGKILL, grace=0, end=False)
        if hook_proc:
            hook_proc.kill()
            hook_proc.wait()
        out["stop_seconds"] = round(time.monotonic() - t0, 1)
        p.ready = False
        return out

    # A pod out of its Services' endpoints: new connections to it refused (not on loopback, where
    # exec probes connect).
    UNENDPOINT = ["INPUT", "-p", "tcp", "--syn", "!", "-i", "lo", "-j", "REJECT", "--reject-with", "tcp-reset"]

    def unendpoint(self, p: PodInfo):
        for tool in ("iptables", "ip6tables"):
            p.ns.exec([tool, "-w", "-I", *self.UNENDPOINT], check=False)

    def readmit(self, p: PodInfo):
        for tool in ("iptables", "ip6tables"):
            while p.ns.exec([tool, "-w", "-D", *self.UNENDPOINT], check=False).returncode == 0:
                pass

    def restart_container(self, p: PodInfo, kc: k8s.Container, inet=None) -> Container:
        """Starts the container again as the kubelet does after it ended: a fresh writable layer
        (the previous one is kept aside as `<name>.previous-N` for its logs: `kubectl logs
        --previous`), the same volumes, the image's start script from the top."""
        old = p.containers[kc.name]
        n = 1
        while old.base.with_name(f"{kc.name}.previous-{n}").exists():
            n += 1
        old.base.rename(old.base.with_name(f"{kc.name}.previous-{n}"))
        return self.start_container(p, kc, inet)

    def wait_ready(self, p: PodInfo, timeout: float) -> tuple[bool, str]:
        deadline = time.monotonic() + timeout
        detail = ""
        while time.monotonic() < deadline:
            ok = True
            for kc in self.k8s_containers(p, False):
                if kc.name not in p.containers:
                    continue
                good, detail = self.probe(p, kc)
                ok = ok and good
                for proc in p.containers[kc.name].procs:
                    if proc.poll() is not None and proc.returncode != 0:
                        return False, f"{kc.name}: a process exited {proc.returncode}"
            if ok:
                p.ready = True
                return True, detail
            time.sleep(1)
        return False, detail


def _zombie(pid: int) -> bool:
    """A process that exited but is not reaped (the pause process, `sleep`, never reaps): gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _nth_subnet(net, prefix: int, n: int):
    """The n-th /prefix of net (without enumerating a /56's 2^56 subnets)."""
    size = 2 ** (net.max_prefixlen - prefix)
    return ipaddress.ip_network((int(net.network_address) + n * size, prefix))


def _links(ns: Netns) -> list[str]:
    out = ns.exec(["ip", "-o", "link", "show"]).stdout
    return [l.split(":")[1].strip().split("@")[0] for l in out.splitlines()]


def _wait(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for: {what}")
