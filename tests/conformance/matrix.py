"""A generated matrix of configs covering the options that change what Mailu renders.

Two parts:
* every TLS flavor x every way mail and web reach front (edge), with webmail alternating
  between off, Roundcube and SnappyMail, so that each flavor meets each edge;
* single-option variations of two bases (mail direct through a LoadBalancer with `cert`, and
  mail proxied through Traefik with `mail`): rejectUnlistedRecipient, tlsPolicy, relay, relayNets,
  overrides for every component that reads them, the API on/off, IPv6, full-text search off,
  the optional components, custom web paths, webmail with ManageSieve not exposed.

Some combinations are invalid by design (e.g. `cert` behind an HTTPS-terminating ingress);
`mailu-k8s check` refuses them and the suite reports each as SKIPPED with the reason.
Keys follow crates/config/src/file.rs.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

BASE = {
    "domain": "example.com",
    "hostnames": ["mail.example.com", "mx.example.com"],
    "subnet": "10.42.0.0/16",
    "resolver": {"serviceIP": "10.43.0.53"},
    "secrets": {"mailuSecretKey": "mailu-secret-key", "initialAdminPassword": "mailu-admin-password"},
    "mailu": {"initialAccount": {"enabled": True, "username": "admin"}},
}

FLAVORS = ["mail", "cert", "letsencrypt", "mail-letsencrypt", "notls"]

EDGES = {
    # mail through the ingress's L4 proxy (PROXY protocol), web through the ingress
    "traefik": {"ingress": {"type": "traefik", "traefik": {"enableTcp": True}}},
    "gateway": {"ingress": {"type": "gatewayApi", "gatewayApi": {
        "gatewayName": "public", "backendSendsProxyProtocol": True}}},
    # mail directly to front
    "loadbalancer": {"exposure": {"service": {"type": "LoadBalancer"}}},
    "nodeport": {"exposure": {"service": {"type": "NodePort"}}},
    "hostport": {"exposure": {"hostPort": True}},
    "daemonset": {"exposure": {"hostPort": True, "daemonSet": {"nodeSelector": {"mailu.io/mx": "true"}}}},
    # web through a plain Ingress, mail through a LoadBalancer
    "ingress+loadbalancer": {
        "ingress": {"type": "ingress", "ingress": {"className": "nginx"}},
        "networkPolicies": {"edge": {"namespace": "ingress-nginx",
                                     "podLabels": {"app.kubernetes.io/name": "ingress-nginx"}}},
        "exposure": {"service": {"type": "LoadBalancer"}, "realIpHeader": "X-Forwarded-For"},
    },
    # Traefik for web only, mail not routed through it
    "traefik-web-only+loadbalancer": {
        "ingress": {"type": "traefik", "traefik": {"enableTcp": False}},
        "exposure": {"service": {"type": "LoadBalancer"}, "realIpHeader": "X-Forwarded-For"},
    },
}

WEBMAILS = ["none", "roundcube", "snappymail"]


def merge(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def with_webmail(kind: str) -> dict:
    if kind == "none":
        return {}
    return {"components": {"webmail": True}, "mailu": {"webmailType": kind}}


def with_flavor(flavor: str) -> dict:
    tls = {"flavor": flavor}
    if flavor == "notls":
        tls["notlsIsForTestingOnly"] = True
    return {"tls": tls}


VARIATIONS = {
    "reject-unlisted-true": {"mailu": {"rejectUnlistedRecipient": True}},
    "reject-unlisted-false": {"mailu": {"rejectUnlistedRecipient": False}},
    "tls-policy-strict": {"mailu": {"tlsPolicy": {"inboundEnforce": True, "outboundLevel": "secure",
                                                  "deferOnError": True}}},
    "tls-policy-lenient": {"mailu": {"tlsPolicy": {"inboundEnforce": False, "outboundLevel": "encrypt",
                                                   "deferOnError": False}}},
    # A relay's SPF include is required (`check` refuses a relay SPF cannot vouch for).
    "relay-authenticated": {"egress": {"mode": "relay", "relay": {
        "host": "smtp.relay.example", "port": 587, "secretName": "mailu-relay-credentials"}},
        "dns": {"spfIncludes": ["spf.relay.example"]}},
    "relay-open": {"egress": {"mode": "relay", "relay": {"host": "smtp.relay.example"}},
                   "dns": {"spfIncludes": ["spf.relay.example"]}},
    # SMTPS (implicit TLS): postfix needs a wrapper-mode transport for the relay only.
    "relay-smtps": {"egress": {"mode": "relay", "relay": {
        "host": "smtp.relay.example", "port": 465, "secretName": "mailu-relay-credentials"}},
        "dns": {"spfIncludes": ["spf.relay.example"]}},
    "relay-nets": {"mailu": {"relayNets": ["172.16.5.0/24", "fd12:3456:789a::/64"]}},
    "overrides": {
        "components": {"webmail": True},
        "workloads": {
            "front": {"overrides": {"proxy.conf": "proxy_buffers 16 64k;\n"}},
            "dovecot": {"overrides": {"dovecot.conf": "mail_max_userip_connections = 50\n"}},
            "postfix": {"overrides": {
                "postfix.cf": "smtp_address_preference = ipv4\nsmtpd_helo_required = yes\n",
                "postfix.master": "submission/inet = submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n",
            }},
            "rspamd": {"overrides": {
                "ratelimit.conf": "rates { to = { bucket = { burst = 100; rate = \"1 / 1s\"; } } }\n",
                "antivirus.conf": "# named like Mailu's own: included by Mailu's antivirus.conf\n",
            }},
            "webmail": {"overrides": {"custom.inc.php": "<?php $config['product_name'] = 'Mail';\n"}},
        },
    },
    "api-on": {"mailu": {"apiEnabled": True}, "secrets": {"apiToken": "mailu-api-token"}},
    "ipv6": {"subnet6": "fd00:10:42::/56"},
    # IPv4 only for postfix's SMTP client services (master.cf -o), smtpd still dual-stack.
    "ipv6-disable": {"subnet6": "fd00:10:42::/56",
                     "egress": {"mode": "static", "ips": ["203.0.113.10"], "ipv6": "disable"}},
    "network-policies-off": {"networkPolicies": {"enabled": False}},
    "full-text-search-off": {"mailu": {"fullTextSearch": []}},
    "all-components": {"components": {"webmail": True, "clamav": True, "oletools": True, "tika": True,
                                      "fetchmail": True, "webdav": True},
                       "mailu": {"antivirusAction": "reject"}},
    "web-paths": {"components": {"webmail": True},
                  "mailu": {"webPaths": {"admin": "/manage", "webmail": "/mail", "api": "/rest"}}},
    # Mailu supports WEB_WEBMAIL=/ (core/nginx/conf/nginx.conf:191,204,214).
    "webmail-at-root": {"components": {"webmail": True}, "mailu": {"webPaths": {"webmail": "/"}}},
    "webmail-sieve-not-exposed": {"components": {"webmail": True},
                                  "exposure": {"ports": {"sieve": False, "imap": True}}},
    "postgresql": {"database": {"type": "postgresql", "postgresql": {
        "host": "pg.databases.svc.cluster.local", "secretName": "mailu-db"}},
        "networkPolicies": {"database": {"namespace": "databases", "podLabels": {"app": "postgresql"}}},
        "components": {"webmail": True},
        "webmail": {"roundcubeDatabase": {"secretName": "roundcube-db"}}},
}

VARIATION_BASES = {
    "direct": merge(with_flavor("cert"), EDGES["loadbalancer"]),
    "proxied": merge(with_flavor("mail"), EDGES["traefik"]),
}


def configs() -> list[tuple[str, dict]]:
    out = []
    for i, flavor in enumerate(FLAVORS):
        for j, (edge, edge_cfg) in enumerate(EDGES.items()):
            webmail = WEBMAILS[(i + j) % len(WEBMAILS)]
            cfg = merge(merge(merge(BASE, with_flavor(flavor)), edge_cfg), with_webmail(webmail))
            out.append((f"{flavor}--{edge}--webmail-{webmail}", cfg))
    for base_name, base in VARIATION_BASES.items():
        for name, variation in VARIATIONS.items():
            out.append((f"{base_name}--{name}", merge(merge(BASE, base), variation)))
    return out


def write_configs(directory: Path) -> list[tuple[str, Path]]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, cfg in configs():
        path = directory / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        out.append((name, path))
    return out
