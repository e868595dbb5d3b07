"""Mutations that must make the suite fail (tests/e2e/mutations.md describes each one).

`--mutate NAME` applies one to the config (before the plan and the manifests are made) or to the
manifest (after), the way a broken release of the tool would produce them."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

from k8s import Manifest

NAMES = ["egress-selects-nothing", "dkim-selector-differs", "helo-dropped", "no-dkim-secret", "no-ptr"]
# For the load mode (scripts/e2e --load --mutate NAME): each must lose or bounce mail under a fault.
LOAD_NAMES = ["queue-not-on-claim", "queue-lifetime-zero", "lmtp-discard", "front-no-prestop", "front-no-drain", "dovecot-no-drain"]
# Mutations of postfix's main.cf, applied with `postconf -e` after each postfix start (as an
# /overrides/postfix.cf would be): not every config renders an overrides ConfigMap to edit.
POSTCONF = {
    # postfix tries each delivery once (postconf(5): maximal_queue_lifetime 0): an LMTP outage
    # bounces mail instead of deferring it.
    "queue-lifetime-zero": ["maximal_queue_lifetime=0", "bounce_queue_lifetime=0"],
    # accepted mail is thrown away instead of handed to dovecot: every message is lost.
    "lmtp-discard": ["virtual_transport=discard:"],
}


def mutate_config(name: str, cfg_path: Path, cfg: dict):
    """Config-level mutations change nothing here: each one below edits the manifest, so the
    DNS plan stays the config's (what the user published)."""
    if name not in NAMES + LOAD_NAMES:
        raise SystemExit(f"unknown mutation {name!r}: one of {', '.join(NAMES + LOAD_NAMES)}")
    return None


def _docs(m: Manifest) -> list[dict]:
    return copy.deepcopy(m.docs)


def mutate_manifest(name: str, m: Manifest) -> Manifest | None:
    docs = _docs(m)
    if name == "egress-selects-nothing":
        # The egress object's pod selector names a component that does not exist.
        for d in docs:
            spec = d.get("spec") or {}
            if d.get("kind") == "CiliumEgressGatewayPolicy":
                for s in spec.get("selectors") or []:
                    s.setdefault("podSelector", {}).setdefault("matchLabels", {})["app.kubernetes.io/component"] = "nothing"
            elif d.get("kind") in ("Egress", "EgressIP"):
                sel = (spec.get("appliedTo") or spec).setdefault("podSelector", {})
                sel.pop("matchExpressions", None)
                sel.setdefault("matchLabels", {})["app.kubernetes.io/component"] = "nothing"
            elif d.get("kind") == "Deployment" and d["metadata"]["name"].endswith("-postfix"):
                # nodeIps: postfix no longer pinned to the nodes whose addresses SPF names.
                d["spec"]["template"]["spec"].pop("nodeSelector", None)
    elif name == "dkim-selector-differs":
        # admin signs with a selector the DNS plan did not publish.
        # admin reads DKIM_SELECTOR (core/admin/mailu/configuration.py:57): set it on admin's
        # container, replacing the one the manifest sets, if any.
        for d in docs:
            if d.get("kind") == "Deployment" and d["metadata"]["name"].endswith("-admin"):
                for ct in d["spec"]["template"]["spec"]["containers"]:
                    env = [e for e in ct.get("env") or [] if e["name"] != "DKIM_SELECTOR"]
                    env.append({"name": "DKIM_SELECTOR", "value": "wrong"})
                    ct["env"] = env
    elif name == "helo-dropped":
        for d in docs:
            if d.get("kind") == "ConfigMap" and "postfix.cf" in (d.get("data") or {}):
                d["data"]["postfix.cf"] = "\n".join(l for l in d["data"]["postfix.cf"].splitlines()
                                                    if not l.startswith("smtp_helo_name")) + "\n"
    elif name == "queue-not-on-claim":
        # postfix's queue_directory (/queue, core/postfix/conf/main.cf:12) in the container's own
        # writable layer: a restart starts with an empty queue.
        for d in docs:
            if d.get("kind") == "Deployment" and d["metadata"]["name"].endswith("-postfix"):
                for ct in d["spec"]["template"]["spec"]["containers"]:
                    ct["volumeMounts"] = [v for v in ct.get("volumeMounts") or [] if v["mountPath"] != "/queue"]
    elif name == "front-no-prestop":
        # front without its preStop hook: the kubelet's SIGTERM makes Mailu's start.py (PID 1)
        # exit at once, and with it every session (socrate/system.py:74-83, pid_namespaces(7)).
        for d in docs:
            if d.get("kind") in ("Deployment", "DaemonSet") and d["metadata"]["name"].endswith("-front"):
                for ct in d["spec"]["template"]["spec"]["containers"]:
                    ct.pop("lifecycle", None)
    elif name == "front-no-drain":
        # front's preStop as it was before the drain: nginx's graceful quit only, so the
        # dovecot proxy's LMTP sessions (postfix's deliveries) end with the container.
        for d in docs:
            if d.get("kind") in ("Deployment", "DaemonSet") and d["metadata"]["name"].endswith("-front"):
                for ct in d["spec"]["template"]["spec"]["containers"]:
                    ct["lifecycle"]["preStop"]["exec"]["command"][2] = \
                        "nginx -s quit; while [ -f /var/run/nginx.pid ]; do sleep 1; done"
    elif name == "dovecot-no-drain":
        # dovecot without its preStop: the SIGTERM ends its lmtp processes mid-delivery.
        for d in docs:
            if d.get("kind") in ("Deployment", "StatefulSet") and d["metadata"]["name"].endswith("-dovecot"):
                for ct in d["spec"]["template"]["spec"]["containers"]:
                    ct.pop("lifecycle", None)
    elif name in POSTCONF:
        return None  # load.py applies POSTCONF[name] to the running postfix
    elif name == "no-dkim-secret":
        return None  # e2e.py leaves the keygen Secret out of the cluster
    elif name == "no-ptr":
        return None  # e2e.py hands the Internet a plan without PTR instructions
    return Manifest.from_docs(docs)
