"""Edit a generated manifest's container environments (for the mutation tests)."""
from __future__ import annotations

import copy

from k8s import Manifest
from mailu import component_of


def _containers(m: Manifest, component: str):
    for c in m.containers(include_init=False):
        if component_of(c) == component:
            yield c


def set_env(m: Manifest, component: str, name: str, value: str) -> Manifest:
    """Give `component`'s containers name=value (an env entry, which wins over envFrom)."""
    m = Manifest.from_docs(copy.deepcopy(m.docs))
    for c in _containers(m, component):
        env = [e for e in c.spec.get("env") or [] if e["name"] != name]
        env.append({"name": name, "value": value})
        c.spec["env"] = env
    return Manifest.from_docs(m.docs)


def drop_env(m: Manifest, component: str, name: str) -> Manifest:
    """Take name away from `component`'s containers only: env entries are removed, and a shared
    envFrom ConfigMap that carries it is replaced, for these containers, by a copy without it."""
    m = Manifest.from_docs(copy.deepcopy(m.docs))
    extra = []
    for c in _containers(m, component):
        c.spec["env"] = [e for e in c.spec.get("env") or [] if e["name"] != name]
        for src in c.spec.get("envFrom") or []:
            ref = src.get("configMapRef")
            if not ref:
                continue
            data = m.configmaps.get((c.namespace, ref["name"]))
            if data is not None and name in data:
                new_name = f"{ref['name']}-without-{name.lower().replace('_', '-')}-{component}"
                doc = next(d for d in m.docs if d.get("kind") == "ConfigMap"
                           and d["metadata"]["name"] == ref["name"] and d["metadata"].get("namespace", "default") == c.namespace)
                clone = copy.deepcopy(doc)
                clone["metadata"]["name"] = new_name
                clone["data"].pop(name)
                extra.append(clone)
                ref["name"] = new_name
    return Manifest.from_docs(m.docs + extra)


def env_of(m: Manifest, component: str) -> dict:
    from k8s import container_env

    c = next(_containers(m, component))
    return container_env(m, c)[0]
