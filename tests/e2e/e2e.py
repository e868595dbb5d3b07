"""The behaviour suite: run a generated deployment with Mailu's real daemons in network
namespaces, with a stand-in Internet, and check the flows (see scripts/e2e and README).

    python3 tests/e2e/e2e.py [--manifest FILE] [--json FILE] [--mutate NAME] CONFIG...
    python3 tests/e2e/e2e.py --load [--messages N] [--faults LIST] [--json FILE] CONFIG   (load.py)
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import ipaddress
import json
import os
import secrets as pysecrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "conformance"))

import yaml  # noqa: E402

import cluster as cl  # noqa: E402
import egress  # noqa: E402
import flows  # noqa: E402
import load  # noqa: E402
import mutations  # noqa: E402
from k8s import Manifest  # noqa: E402
from podfs import throwaway_certificates  # noqa: E402
from mailu import Templates  # noqa: E402
from netns import Run, sweep  # noqa: E402

CLI = Path(os.environ.get("MAILU_K8S", REPO / "target/debug/mailu-k8s"))
START_ORDER = ["resolver", "redis", "admin", "postfix", "dovecot", "rspamd", "front"]


# Product bugs the suite shows, by config and check prefix. Such a check still runs and is
# printed as KNOWN-BUG with the receiver's detail; it does not fail the run. When it passes, the
# line says so: remove the entry with the fix.
KNOWN_PRODUCT_BUGS = {
}


class Result:
    def __init__(self, target: str):
        self.target = target
        self.checks: list[dict] = []

    def add(self, check: str, ok: bool, detail, skip: bool = False):
        entry = {"config": self.target, "check": check, "ok": bool(ok), "detail": detail}
        if skip:
            entry["skipped"] = True
        known = next((why for prefix, why in KNOWN_PRODUCT_BUGS.get(self.target, {}).items()
                      if check.startswith(prefix)), None)
        if known and not ok and not skip:
            entry["known_bug"] = known
        self.checks.append(entry)
        status = "SKIP" if skip else ("PASS" if ok else ("KNOWN-BUG" if known else "FAIL"))
        if known and ok:
            status = "PASS (a known product bug no longer shows: update KNOWN_PRODUCT_BUGS)"
        d = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)
        print(f"  {status} {check}: {d[:600]}", flush=True)


def cli(*args, check=True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(CLI), *args], capture_output=True, text=True, **kw)
    if check and r.returncode not in (0,):
        raise RuntimeError(f"mailu-k8s {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


# ------------------------------------------------------------------------------------ setup

def prepare_config(config: Path, work: Path) -> tuple[Path, dict, Path | None]:
    """A copy of the config as a README user would complete it: a DKIM key made with
    `mailu-k8s dkim keygen` and `dns.dkim.secretName` set when the config names none."""
    cfg_path = work / "config.yaml"
    shutil.copyfile(config, cfg_path)
    cfg = yaml.safe_load(cfg_path.read_text())
    secret_file = work / "dkim-secret.yaml"
    args = ["dkim", "keygen", str(cfg_path), "-o", str(secret_file)]
    if ((cfg.get("dns") or {}).get("dkim") or {}).get("secretName"):
        args.append("--force")  # the user's own key is not here: make one under the same name
    cli(*args)
    secret = yaml.safe_load(secret_file.read_text().split("---", 1)[-1])
    cfg = yaml.safe_load(cfg_path.read_text())  # keygen may have added the public keys' place
    cfg.setdefault("dns", {}).setdefault("dkim", {})["secretName"] = secret["metadata"]["name"]
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg_path, cfg, secret_file


def secret_refs(m: Manifest):
    """(namespace, secret, key, used-as) for every Secret reference of the workloads."""
    for c in m.containers():
        for e in c.spec.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield c.namespace, ref["name"], ref["key"], e["name"]
    for d in m.docs:
        if d.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        ns = d["metadata"].get("namespace", "default")
        for v in d["spec"]["template"]["spec"].get("volumes") or []:
            if "secret" in v:
                for item in v["secret"].get("items") or []:
                    yield ns, v["secret"]["secretName"], item["key"], "volume"


def fill_secrets(m: Manifest, cfg: dict, work: Path) -> dict:
    """The Secrets a user creates before applying (README): real values, so that what admin,
    postfix and the smarthost see agree. Returns the values the flows need."""
    creds = {"admin_password": None, "relay": None}
    relay_cfg = ((cfg.get("egress") or {}).get("relay") or {})
    for ns, name, key, use in list(secret_refs(m)):
        values = m.secret_values.setdefault((ns, name), {})
        if key in values:
            continue
        if use == "RELAYUSER" or (name == relay_cfg.get("secretName") and key == "username"):
            values[key] = "e2e-relay-user"
        elif key.endswith((".crt", ".key")) or key in ("tls.crt", "tls.key"):
            continue  # podfs fills certificates
        else:
            values[key] = pysecrets.token_hex(16)
        m.secrets.setdefault((ns, name), {})[key] = "(set by the suite)"
    # Secret volumes without items: front's kubernetes.io/tls Secret (a throw-away certificate
    # for every host name). The DKIM key Secret is the one keygen wrote (add_secret_docs); when
    # it is not applied, the kubelet cannot mount it (Cluster.prepare_pod).
    dkim_secret = ((cfg.get("dns") or {}).get("dkim") or {}).get("secretName")
    for d in m.docs:
        if d.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        ns = d["metadata"].get("namespace", "default")
        for v in d["spec"]["template"]["spec"].get("volumes") or []:
            name = (v.get("secret") or {}).get("secretName")
            if name and name != dkim_secret and (ns, name) not in m.secret_values and not v["secret"].get("items"):
                crt, key = throwaway_certificates(str(work))["rsa"]
                m.secret_values[(ns, name)] = {"tls.crt": crt, "tls.key": key}
                m.secrets[(ns, name)] = {"tls.crt": "(set by the suite)", "tls.key": "(set by the suite)"}
    for ns, name, key, use in secret_refs(m):
        v = m.secret_values.get((ns, name), {}).get(key)
        if use == "INITIAL_ADMIN_PW":
            creds["admin_password"] = v
    if relay_cfg:
        vals = next((m.secret_values[k] for k in m.secret_values if k[1] == relay_cfg.get("secretName")), {})
        creds["relay"] = {"host": relay_cfg.get("host"), "port": relay_cfg.get("port", 587),
                          "username": vals.get("username"), "password": vals.get("password")}
    return creds


def add_secret_docs(m: Manifest, secret_file: Path | None) -> Manifest:
    docs = list(m.docs)
    if secret_file and secret_file.exists():
        docs += [d for d in yaml.safe_load_all(secret_file.read_text()) if d]
    return Manifest.from_docs(docs)


def avoid_list(cfg: dict, plan: dict, m: Manifest) -> list:
    nets = []
    for k in ("subnet", "subnet6"):
        if cfg.get(k):
            nets.append(cfg[k])
    nets += (cfg.get("networkPolicies") or {}).get("serviceCidrs") or []
    nets += (cfg.get("egress") or {}).get("ips") or []
    nets += ((cfg.get("egress") or {}).get("cilium") or {}).get("authorizeNodeIps") or []
    nets += (cfg.get("dns") or {}).get("inboundIps") or []
    for r in plan.get("records", []):
        if r["type"] in ("A", "AAAA"):
            nets.append(r["data"])
    for p in plan.get("ptr", []):
        nets.append(p["ip"])
    nets += ["10.43.0.0/16", "169.254.0.0/16"]
    out = []
    for n in nets:
        try:
            out.append(ipaddress.ip_network(n, strict=False))
        except ValueError:
            pass
    return out


def internet_class():
    try:
        from internet import Internet
        return Internet
    except ImportError as e:
        raise Skip(f"the stand-in Internet (tests/e2e/internet.py) is not available: {e}")


class Skip(Exception):
    pass


# ------------------------------------------------------------------------------------ one config

@dataclass
class Deployment:
    """A started run of one config: what the flows (or the load mode) drive. `ready` is False
    when the deployment did not come up (the failing check is in `res`)."""
    res: Result
    work: Path
    cfg: dict
    plan: dict
    creds: dict
    c: cl.Cluster | None = None
    inet: object = None
    inbound: list = field(default_factory=list)
    mode: str = "none"
    steered: object = None
    ready: bool = False
    t0: float = 0.0


def run_config(config: Path, manifest_file: Path | None, mutate: str | None, workroot: Path,
               tpl: Templates) -> Result:
    """The functional flows (flows.py) on one config."""
    with deploy(config, manifest_file, mutate, workroot, tpl) as d:
        if d.ready:
            flows.run_all(d.c, d.inet, d.res, d.cfg, d.plan, d.creds, d.inbound, d.mode, d.steered, mutate)
            keep(d.work)
    print(f"  ({time.monotonic() - d.t0:.0f}s)", flush=True)
    return d.res


@contextlib.contextmanager
def deploy(config: Path, manifest_file: Path | None, mutate: str | None, workroot: Path,
           tpl: Templates, suffix: str = ""):
    """Renders the config, builds the stand-in Internet and the cluster, starts every pod and
    waits for its readiness probes; yields a Deployment, and tears everything down after (the
    flows and the load mode share this setup, so they test the same deployment)."""
    name = config.stem + suffix + (f"+{mutate}" if mutate else "") + ("+manifest" if manifest_file else "")
    res = Result(name)
    print(f"== {name}", flush=True)
    work = workroot / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    cfg_path, cfg, secret_file = prepare_config(config, work)
    if suffix == "+load":
        cfg = load.prepare_config(cfg_path, cfg)
    if mutate:
        cfg = mutations.mutate_config(mutate, cfg_path, cfg) or cfg
    zone_dir = work / "zones"
    zone_dir.mkdir()
    cli("dns", "plan", str(cfg_path), "--format", "zone", "-o", str(zone_dir) + "/")
    plan = json.loads(cli("dns", "plan", str(cfg_path), "--format", "json").stdout)
    zones = {p.stem: p.read_text() for p in zone_dir.glob("*.zone")}
    if manifest_file:
        mpath = manifest_file
    else:
        mpath = work / "manifest.yaml"
        cli("synth", str(cfg_path), "-o", str(mpath))
    m = Manifest.load(mpath)
    if mutate:
        m = mutations.mutate_manifest(mutate, m) or m
    if not (mutate == "no-dkim-secret"):
        m = add_secret_docs(m, secret_file)
    creds = fill_secrets(m, cfg, work)
    (work / "manifest.effective.yaml").write_text(m.dump())

    # exposure
    front_svc = next((s for ss in m.services.values() for s in ss
                      if s["spec"].get("type") == "LoadBalancer"), None)
    hostport = any(d.get("kind") == "DaemonSet" for d in m.docs)
    traefik = any(d.get("kind") == "IngressRouteTCP" for d in m.docs)
    gateway_api = any(d.get("kind") in ("TCPRoute", "TLSRoute") for d in m.docs)
    if front_svc is None and not hostport and not traefik and not gateway_api:
        kinds = sorted({d["kind"] for d in m.docs if d["kind"] in (
            "Ingress", "IngressRoute", "IngressRouteTCP", "HTTPRoute", "TCPRoute", "TLSRoute")})
        res.add("exposure", False, f"SKIPPED: front is reached through {', '.join(kinds) or 'nothing'}: "
                "only LoadBalancer Services and hostPort DaemonSets are emulated", skip=True)
        yield Deployment(res, work, cfg, plan, creds, t0=t0)
        return

    Internet = internet_class()
    with Run(work / "run") as run:
        relay = creds["relay"]
        inet = Internet(run, work / "internet", zones, plan, avoid_list(cfg, plan, m), relay)
        # An IPv6 public address only when front's own LoadBalancer Service asks for IPv6
        # (`ipFamilies`, as a cloud load balancer reads it; an ingress controller's Service is the
        # installation's, not the manifest's).
        inbound = inbound_addresses(cfg, plan, inet, dual=front_svc is not None
                                    and "IPv6" in (front_svc["spec"].get("ipFamilies") or []))
        records = []
        host = plan.get("mailHost") or cfg["hostnames"][0]
        if not any(r["type"] in ("A", "AAAA") and r["name"].rstrip(".") == host for r in plan.get("records", [])):
            for a in inbound:
                records.append(f"{host}. 3600 IN {'AAAA' if ':' in a else 'A'} {a}")
        if mutate == "no-ptr":
            inet.plan = dict(plan, ptr=[])
        if records:
            inet.add_records(records)
        inet.start()
        res.add("internet", True, f"stand-in Internet up; foreign domain {inet.foreign_domain}")

        c = cl.Cluster(run, m, work, tpl, subnet=env_value(m, "SUBNET") or cfg["subnet"],
                       subnet6=env_value(m, "SUBNET6") or cfg.get("subnet6"), log=print)
        # Mailu's resolver must see the Internet's reverse names too (a sender's PTR), which
        # unbound would answer itself for the ranges the stand-in uses.
        c.unbound_extra = sorted(set(inet.unbound_extra()) | set(getattr(inet, "_unbound_extra_all", lambda: [])()))
        c.plan_pods()
        node1 = c.add_node("node1", c.node_labels())
        mode = (cfg.get("egress") or {}).get("mode", "none")
        edge = node1
        if mode == "static":
            edge = provider_nat(run, inet, c, node1, cfg, inbound)
            c.place_pods(node1)
        else:
            node_addrs = node_addresses(cfg, mode, inet, c)
            c.attach_uplink(node1, inet, node_addrs + inbound)
            c.place_pods(node1)
            snat(node1, c, node_addrs)
        gateways = {}

        def gateway(labels, addresses):
            # One emulated gateway node per (nodeSelector, addresses): the node the CNI picks,
            # holding the egress address on its uplink (Cilium/Antrea/OVN move it there).
            key = (tuple(sorted(labels.items())), tuple(addresses))
            if key not in gateways:
                g = c.add_node(f"gw{len(gateways) + 1}", dict(labels))
                own = [inet.allocate(4)] + ([inet.allocate(6)] if c.subnet6 else [])
                c.attach_uplink(g, inet, own + list(addresses))
                snat(g, c, own)
                gateways[key] = g
            return gateways[key]

        externals(c, node1, m, res)
        steered = egress.apply(c, inet, m.docs, gateway)
        res.add("egress datapath (from the manifest's objects)", True,
                steered or {"static": "no egress object: every pod leaves through the provider's NAT (static)",
                            "relay": "no egress object: postfix hands outbound mail to the smarthost (relay)"}.get(
                    mode, f"no egress object selects a pod: every pod leaves from its node's address ({mode})"))
        c.cluster_dns(node1)
        c.services()
        c.offered = expose(c, edge, m, front_svc, inbound) if (front_svc is not None or hostport) else set()
        if gateway_api:
            pp = {int(x) for x in (env_value(m, "PROXY_PROTOCOL") or "").split(",") if x.isdigit()}
            c.offered |= c.gateway_api(edge, m.docs, inbound, pp)
            res.add("edge", True, "a Gateway API stand-in serves the HTTPRoute (TLS terminated), TCPRoute and "
                    f"TLSRoute objects, with PROXY v2 to front's ports {sorted(pp)} (PROXY_PROTOCOL)")
        if traefik:
            c.offered |= c.traefik(edge, m.docs, inbound)
            res.add("edge", True, "a Traefik stand-in serves the IngressRoute (TLS terminated) and IngressRouteTCP "
                    "objects (PROXY v2 where their ServersTransportTCP asks) on the public address")
        ingresses = [d for d in m.docs if d.get("kind") == "Ingress"]
        if ingresses and 443 not in c.offered:
            c.offered |= c.ingress_controller(edge, ingresses, inbound)
            res.add("web edge", True, "an ingress-nginx stand-in (Debian's nginx) serves the Ingress objects "
                    "on 80/443 of the public address")

        d = Deployment(res, work, cfg, plan, creds, c, inet, inbound, mode, steered, t0=t0)
        if not start_all(c, res, inet, creds, cfg):
            keep(work)
            yield d
            return
        print(f"  deployment ready after {time.monotonic() - t0:.0f}s", flush=True)
        d.ready = True
        yield d


def keep(work: Path):
    """E2E_KEEP=FILE: leave the run up (for a look inside) until FILE is removed."""
    flag = os.environ.get("E2E_KEEP")
    if flag:
        Path(flag).touch()
        print(f"  E2E_KEEP: the run stays up until {flag} is removed (workdir {work})", flush=True)
        while Path(flag).exists():
            time.sleep(1)


def externals(c: cl.Cluster, node: cl.Node, m: Manifest, res: Result):
    """Services the config points at outside Mailu's namespace: PostgreSQL (`database`) and
    Redis (`redis.host`), started where admin's environment says they are."""
    from k8s import container_env
    admin = next((kc for kc in m.containers(include_init=False) if kc.workload.endswith("-admin")), None)
    if admin is None:
        return
    env, _ = container_env(m, admin)
    if env.get("DB_FLAVOR") == "postgresql":
        host = env.get("DB_HOST", "database")
        port = 5432
        if ":" in host:
            host, port = host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1])
        c.external_postgresql(node, host, int(env.get("DB_PORT", port)), env.get("DB_NAME", "mailu"),
                              env.get("DB_USER", "mailu"), env.get("DB_PW", ""))
        res.add("database", True, f"PostgreSQL (Debian's) at {host}:{port}, role {env.get('DB_USER')}, "
                f"database {env.get('DB_NAME', 'mailu')}")
    redis = env.get("REDIS_ADDRESS", "")
    if redis and not any(p.component == "redis" for p in c.pods):
        c.external_redis(node, redis.split(":")[0])
        res.add("redis", True, f"Redis (Debian's redis-server) at {redis}, outside Mailu's namespace")


def env_value(m: Manifest, key: str) -> str | None:
    for (ns, name), data in m.configmaps.items():
        if name.endswith("-env") and key in data:
            return str(data[key])
    return None


def inbound_addresses(cfg: dict, plan: dict, inet, dual: bool = False) -> list[str]:
    """Where clients reach front: the plan's A/AAAA for the mail host, the LoadBalancer IP, or a
    fresh address (then published as the mail host's A record; on a dual-stack cluster an IPv6
    one too, published as AAAA, as a dual-stack LoadBalancer Service gets)."""
    host = plan.get("mailHost") or cfg["hostnames"][0]
    addrs = [r["data"] for r in plan.get("records", []) if r["type"] in ("A", "AAAA")
             and r["name"].rstrip(".") == host]
    if not addrs:
        lb = ((cfg.get("exposure") or {}).get("service") or {}).get("loadBalancerIP")
        addrs = [lb] if lb else [inet.allocate(4)]
        if dual and not any(":" in a for a in addrs):
            addrs.append(inet.allocate(6))
    return addrs


def node_addresses(cfg: dict, mode: str, inet, c: cl.Cluster) -> list[str]:
    """The node's own public addresses: with `nodeIps` the config's egress.ips are the nodes'
    addresses (the one node here runs postfix); otherwise fresh addresses nobody vouches for."""
    if mode == "nodeIps":
        ips = (cfg.get("egress") or {}).get("ips") or []
        v4 = [a for a in ips if ":" not in a][:1]
        v6 = [a for a in ips if ":" in a][:1]
        out = v4 + (v6 if c.subnet6 else [])
        if out:
            return out
    return [inet.allocate(4)] + ([inet.allocate(6)] if c.subnet6 else [])


def provider_nat(run, inet, c: cl.Cluster, node: cl.Node, cfg: dict, inbound: list[str]):
    """`static`: the provider's NAT gateway and load balancer, one namespace on the Internet with
    egress.ips and the inbound address. The node has no public address: its traffic to the
    Internet goes through the NAT, which SNATs it to egress.ips; the load balancer DNATs the
    inbound address to front's pod (client addresses kept)."""
    nat = run.netns("natgw")
    nat.sysctl("net.ipv4.ip_forward", "1")
    nat.sysctl("net.ipv6.conf.all.forwarding", "1")
    ips = (cfg.get("egress") or {}).get("ips") or []
    inet.attach(nat, list(ips) + list(inbound))
    a, b = run.link(node.ns, nat, ["169.254.200.1/30", "fe80::c/64"], ["169.254.200.2/30", "fe80::d/64"])
    node.ns.route("default", "via", "169.254.200.2", "dev", a)
    nat.route(str(c.subnet), "via", "169.254.200.1", "dev", b)
    if c.subnet6:
        node.ns.route("-6", "default", "via", "fe80::d", "dev", a)
        nat.route("-6", str(c.subnet6), "via", "fe80::c", "dev", b)
    uplink = [l for l in cl._links(nat) if l not in ("lo", b)][0]
    for ip in ips:
        v6 = ":" in ip
        subnet = c.subnet6 if v6 else c.subnet
        if subnet is not None:
            nat.exec(["ip6tables" if v6 else "iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", str(subnet),
                      "-o", uplink, "-j", "SNAT", "--to-source", ip])
    return cl.Node("natgw", nat, {}, 99)


def snat(node: cl.Node, c: cl.Cluster, own: list[str]):
    """The node masquerades its pods' Internet traffic to its own address."""
    for a in own:
        v6 = ":" in a
        subnet = c.subnet6 if v6 else c.subnet
        if subnet is None:
            continue
        node.ns.exec(["ip6tables" if v6 else "iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", str(subnet),
                      "-o", node.uplink, "-j", "SNAT", "--to-source", a])


def expose(c: cl.Cluster, node: cl.Node, m: Manifest, front_svc: dict | None, inbound: list[str]) -> set[int]:
    """Programs the edge; returns the ports the exposure offers on the public address."""
    front = c.pod("front")
    offered = set()
    if front_svc is not None:
        # A LoadBalancer with externalTrafficPolicy: Local: the node holding the address DNATs to
        # the pod, the client's address is kept.
        for a in inbound:
            for port in front_svc["spec"].get("ports") or []:
                c.dnat(node, a, front, port["port"], c.target_port(front, port), port.get("protocol", "TCP"))
                offered.add(int(port["port"]))
    else:
        for ct in front.spec.get("containers") or []:
            for p in ct.get("ports") or []:
                if p.get("hostPort"):
                    offered.add(int(p["hostPort"]))
                    for a in inbound:
                        c.dnat(node, a, front, p["hostPort"], p["containerPort"], p.get("protocol", "TCP"))
    return offered


def start_all(c: cl.Cluster, res: Result, inet, creds: dict, cfg: dict) -> bool:
    for comp in START_ORDER:
        for p in [x for x in c.pods if x.component == comp]:
            t = time.monotonic()
            try:
                c.prepare_pod(p)
                c.run_init_containers(p)
                for kc in c.k8s_containers(p, False):
                    c.start_container(p, kc, inet)
            except Exception as e:
                res.add(f"{p.name} starts", False, f"{e}\n{traceback.format_exc()[-800:]}")
                return False
            ok, detail = c.wait_ready(p, 420 if comp == "admin" else 120)
            logs = "; ".join(f"{n}: {x.base}" for n, x in p.containers.items())
            res.add(f"{p.name} ready (readinessProbe)", ok,
                    f"{time.monotonic() - t:.0f}s {detail}" if ok else f"{detail} (logs: {logs})")
            if not ok:
                return False
            if comp == "admin":
                if not accounts(c, res, creds, cfg):
                    return False
    skipped = sorted({p.component or p.name for p in c.pods} - set(START_ORDER))
    if skipped:
        res.add("not run", True, f"pods with an address but no daemon (not in the flows): {', '.join(skipped)}",
                skip=True)
    return True


def accounts(c: cl.Cluster, res: Result, creds: dict, cfg: dict) -> bool:
    """The user the flows use, made as admin's start.py makes the initial account
    (`flask mailu admin`, core/admin/start.py:19-26) when the config has none, plus a plain user."""
    domain = cfg["domain"]
    admin_c = c.pod("admin").containers
    env = list(admin_c.values())[-1].env  # the main container (init containers come first)
    if env.get("INITIAL_ADMIN_ACCOUNT") and env.get("INITIAL_ADMIN_PW"):
        creds["admin"] = (f"{env['INITIAL_ADMIN_ACCOUNT']}@{env.get('INITIAL_ADMIN_DOMAIN', domain)}",
                          env["INITIAL_ADMIN_PW"])
        detail = f"initial account {creds['admin'][0]} from the manifest (INITIAL_ADMIN_*)"
    else:
        pw = pysecrets.token_hex(10)
        r = c.flask(["admin", "e2e-admin", domain, pw, "--mode", "ifmissing"])
        if r.returncode != 0:
            res.add("initial account", False, r.stderr[-800:])
            return False
        creds["admin"] = (f"e2e-admin@{domain}", pw)
        detail = f"no initial account in the config: made {creds['admin'][0]} with `flask mailu admin`"
    pw = pysecrets.token_hex(10)
    r = c.flask(["user", "e2e-user", domain, pw])
    if r.returncode != 0:
        res.add("accounts", False, r.stderr[-800:])
        return False
    creds["user"] = (f"e2e-user@{domain}", pw)
    res.add("accounts", True, f"{detail}; user {creds['user'][0]}")
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--manifest", type=Path, help="run this manifest instead of the config's rendering")
    ap.add_argument("--json", type=Path, help="write one object per check here")
    ap.add_argument("--mutate", action="append", default=[],
                    help=f"apply a named mutation (see tests/e2e/mutations.md): {', '.join(mutations.NAMES)}")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--expect-fail", action="store_true",
                    help="exit 0 when some check fails (for mutations)")
    ap.add_argument("--load", action="store_true",
                    help="load-and-fault mode (tests/e2e/load.py) instead of the flows; --json gets one "
                         "object per phase")
    ap.add_argument("--messages", type=int, default=1000, help="--load: inbound messages of the load phase")
    ap.add_argument("--faults", default=",".join(load.FAULTS),
                    help=f"--load: comma-separated fault phases, of {', '.join(load.FAULTS)} (empty: none)")
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("e2e: SKIPPED: needs root (network namespaces)", file=sys.stderr)
        return 0
    src = cl.mailu_src()
    if src is None:
        print("#" * 88 + "\n# SKIPPED: e2e: no Mailu source (MAILU_SRC, or scripts/e2e's cache)\n" + "#" * 88,
              file=sys.stderr)
        print("e2e: 0 passed, 0 failed (SKIPPED)")
        return 0
    sweep()
    os.environ.setdefault("MAILU_SRC", str(src))
    from sources import mailu_templates
    tsrc = mailu_templates()
    tpl = Templates(Path(tsrc.root)) if getattr(tsrc, "root", None) else Templates(src)
    workroot = a.workdir or Path(tempfile.mkdtemp(prefix="mailu-e2e-"))
    # Daemons that drop to their own users (PostgreSQL's initdb as `postgres`, postfix's spool)
    # must traverse it: mkdtemp's 0700 stopped initdb ("could not change directory").
    os.chmod(workroot, 0o711)
    results: list[Result] = []
    runs = [(cfgp, None) for cfgp in a.configs] if not a.mutate else \
        [(cfgp, mu) for cfgp in a.configs for mu in a.mutate]
    if a.load:
        return load.main(a, runs, lambda cfgp, mu: deploy(cfgp, a.manifest, mu, workroot, tpl, suffix="+load"), Skip)
    for cfgp, mu in runs:
        try:
            results.append(run_config(cfgp, a.manifest, mu, workroot, tpl))
        except Skip as e:
            r = Result(cfgp.stem)
            r.add("suite", False, f"SKIPPED: {e}", skip=True)
            results.append(r)
        except Exception as e:
            r = Result(cfgp.stem)
            r.add("suite", False, f"{type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}")
            results.append(r)
    checks = [c for r in results for c in r.checks]
    passed = sum(1 for c in checks if c["ok"] and not c.get("skipped"))
    failed = sum(1 for c in checks if not c["ok"] and not c.get("skipped") and not c.get("known_bug"))
    known = sum(1 for c in checks if c.get("known_bug"))
    skipped = sum(1 for c in checks if c.get("skipped"))
    if a.json:
        a.json.write_text(json.dumps(checks, indent=1, sort_keys=True) + "\n")
    print(f"workdir: {workroot}")
    for c in checks:
        if c.get("known_bug"):
            print(f"KNOWN PRODUCT BUG ({c['config']}: {c['check']}): {c['known_bug']}")
    if a.expect_fail:
        # Each mutation must make its run fail somewhere.
        caught = 0
        for r in results:
            bad = [c["check"] for c in r.checks if not c["ok"] and not c.get("skipped")]
            print(f"mutation {r.target}: {'CAUGHT by ' + '; '.join(bad[:3]) if bad else 'NOT CAUGHT'}")
            caught += bool(bad)
        print(f"e2e mutations: {caught} caught, {len(results) - caught} not caught")
        return 0 if caught == len(results) else 1
    print(f"e2e: {passed} passed, {failed} failed, {skipped} skipped" + (f", {known} known product bugs" if known else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
