"""Egress emulated from the generated objects, never from the config.

Each CNI egress object of the manifest is read as its controller reads it, the pods it selects
are computed from their labels and their Namespace's labels, and exactly those pods' traffic to
the Internet is steered over the fabric to an emulated gateway node, which SNATs it to the
object's address:

* Cilium `CiliumEgressGatewayPolicy` (cilium.io/v2): `selectors[]` with `podSelector` (pod labels
  plus `io.kubernetes.pod.namespace`, and `io.cilium.k8s.namespace.labels.<k>` for the
  Namespace's labels), optional `namespaceSelector` and `nodeSelector` (the pod's node, >= 1.17);
  `destinationCIDRs` minus `excludedCIDRs`; the gateway is the node matching
  `egressGateway.nodeSelector`, the address `egressGateway.egressIP` (1.20's `egressGateways[]`:
  the first gateway here; Cilium spreads endpoints over them).
* Antrea `Egress` (crd.antrea.io): `appliedTo.namespaceSelector` + `podSelector`; `egressIP`,
  hosted on a node matching its `ExternalIPPool`'s `nodeSelector`.
* OVN-Kubernetes `EgressIP` (k8s.ovn.org/v1): `namespaceSelector` + `podSelector`; `egressIPs` on
  a node labelled `k8s.ovn.org/egress-assignable` (a label the cluster admin sets; not an object
  the tool writes).

Every Namespace carries `kubernetes.io/metadata.name: <name>` (set by the API server).
Unselected pods leave from their node's own address (the node SNATs them).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


def match_selector(sel: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector semantics; None matches nothing, {} matches everything."""
    if sel is None:
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


@dataclass
class Policy:
    kind: str
    name: str
    addresses: list[str]
    gateway_labels: dict
    selects: object  # (pod_labels, pod_namespace, ns_labels, node_labels) -> bool
    destinations: list[str] = field(default_factory=lambda: ["0.0.0.0/0", "::/0"])
    excluded: list[str] = field(default_factory=list)

    def family_addresses(self, version: int) -> list[str]:
        return [a for a in self.addresses if ipaddress.ip_address(a).version == version]


def namespace_labels(manifest_docs: list[dict], name: str) -> dict:
    for d in manifest_docs:
        if d.get("kind") == "Namespace" and d["metadata"]["name"] == name:
            labels = dict(d["metadata"].get("labels") or {})
            break
    else:
        labels = {}
    labels["kubernetes.io/metadata.name"] = name
    return labels


def policies(docs: list[dict]) -> list[Policy]:
    out = []
    pools = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ExternalIPPool"}
    for d in docs:
        kind, spec, name = d.get("kind"), d.get("spec") or {}, d.get("metadata", {}).get("name", "")
        if kind == "CiliumEgressGatewayPolicy":
            gws = spec.get("egressGateways") or ([spec["egressGateway"]] if spec.get("egressGateway") else [])
            if not gws:
                continue
            gw = gws[0]
            selectors = spec.get("selectors") or []

            def cilium(labels, ns, ns_labels, node_labels, selectors=selectors):
                full = dict(labels)
                full["io.kubernetes.pod.namespace"] = ns
                for k, v in ns_labels.items():
                    full[f"io.cilium.k8s.namespace.labels.{k}"] = v
                for s in selectors:
                    if "podSelector" in s and not match_selector(s["podSelector"], full):
                        continue
                    if "namespaceSelector" in s and not match_selector(s["namespaceSelector"], ns_labels):
                        continue
                    if "nodeSelector" in s and not match_selector(s["nodeSelector"], node_labels):
                        continue
                    if "podSelector" in s or "namespaceSelector" in s:
                        return True
                return False

            addr = gw.get("egressIP")
            out.append(Policy(kind, name, [addr] if addr else [],
                              (gw.get("nodeSelector") or {}).get("matchLabels") or {}, cilium,
                              spec.get("destinationCIDRs") or [], spec.get("excludedCIDRs") or []))
        elif kind == "Egress" and d.get("apiVersion", "").startswith("crd.antrea.io"):
            applied = spec.get("appliedTo") or {}

            def antrea(labels, ns, ns_labels, node_labels, applied=applied):
                if "namespaceSelector" in applied and not match_selector(applied["namespaceSelector"], ns_labels):
                    return False
                if "podSelector" in applied and not match_selector(applied["podSelector"], labels):
                    return False
                return "namespaceSelector" in applied or "podSelector" in applied

            pool = pools.get(spec.get("externalIPPool") or "")
            gw_labels = ((pool or {}).get("spec", {}).get("nodeSelector") or {}).get("matchLabels") or {}
            addrs = [spec["egressIP"]] if spec.get("egressIP") else []
            if not addrs and pool:
                for r in pool["spec"].get("ipRanges") or []:
                    if r.get("cidr"):
                        addrs.append(str(ipaddress.ip_network(r["cidr"]).network_address))
                    elif r.get("start"):
                        addrs.append(r["start"])
                    break
            out.append(Policy(kind, name, addrs, gw_labels, antrea))
        elif kind == "EgressIP" and d.get("apiVersion", "").startswith("k8s.ovn.org"):
            nsel, psel = spec.get("namespaceSelector"), spec.get("podSelector")

            def ovn(labels, ns, ns_labels, node_labels, nsel=nsel, psel=psel):
                if not match_selector(nsel, ns_labels):
                    return False
                return psel is None or match_selector(psel, labels)

            out.append(Policy(kind, name, list(spec.get("egressIPs") or []),
                              {"k8s.ovn.org/egress-assignable": ""}, ovn))
    return out


def apply(cluster, inet, docs: list[dict], node_of_labels) -> list[dict]:
    """Programs the datapath: returns one line per (policy, pod) for the summary.
    `node_of_labels(labels, addresses)` returns the gateway node (made on first use)."""
    report = []
    for pol in policies(docs):
        gw = node_of_labels(pol.gateway_labels, pol.addresses)
        table = 100 + len(report)
        for p in cluster.pods:
            ns_labels = namespace_labels(docs, p.namespace)
            if not pol.selects(p.labels, p.namespace, ns_labels, p.node.labels):
                continue
            for ip, version in ((p.ip4, 4), (p.ip6, 6)):
                addrs = pol.family_addresses(version)
                dests = [c for c in pol.destinations if ipaddress.ip_network(c).version == version] \
                    if pol.kind == "CiliumEgressGatewayPolicy" else (["0.0.0.0/0"] if version == 4 else ["::/0"])
                if not ip or not addrs or not dests:
                    continue
                steer(cluster, p, ip, version, gw, addrs[0], table, pol.excluded, dests)
                report.append({"policy": f"{pol.kind}/{pol.name}", "pod": p.name, "source": ip,
                               "snat": addrs[0], "gateway": gw.name})
            table += 1
    return report


def steer(cluster, p, ip: str, version: int, gw, snat: str, table: int, excluded: list[str], dests: list[str]):
    v = f"-{version}"
    node, fabric = p.node, cluster.fabric
    keep = [str(cluster.subnet)] + ([str(cluster.subnet6)] if cluster.subnet6 else []) + list(excluded)
    keep = list(dict.fromkeys(c for c in keep if ipaddress.ip_network(c).version == version))
    for ns, via, dev in ((node.ns, node.fabric_peer4 if version == 4 else "fe80::b", node.fabric_dev),
                         (fabric, gw.fabric4 if version == 4 else "fe80::a", gw.fabric_peer_dev)):
        for c in keep:
            ns.exec(["ip", v, "rule", "add", "from", ip, "to", c, "lookup", "main", "pref", "150"], check=False)
        for dst in dests:
            ns.exec(["ip", v, "rule", "add", "from", ip, "to", dst, "lookup", str(table), "pref", "200"])
        ns.exec(["ip", v, "route", "replace", "default", "via", via, "dev", dev, "table", str(table)])
    tool = "ip6tables" if version == 6 else "iptables"
    gw.ns.exec([tool, "-w", "-t", "nat", "-I", "POSTROUTING", "-s", ip, "-o", gw.uplink, "-j", "SNAT",
                "--to-source", snat])
