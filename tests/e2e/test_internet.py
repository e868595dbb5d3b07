"""The stand-in Internet on its own, from real plans of the examples: DNS as the plan says, a
validating Mailu-style unbound, and the receiver's independent verdicts (and that they change when
the published data is wrong), plus the relay's smarthost.

Root only (network namespaces). Run it with the Internet venv's pytest:

    python3 -c 'import sys; sys.path.insert(0, "tests/e2e"); import internet; internet.ensure_tools(); internet.install()'
    target/e2e-internet-venv/bin/python -m pytest -v tests/e2e/test_internet.py
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent.parent
BIN = REPO / "target" / "debug" / "mailu-k8s"
SEND = HERE / "internet_send.py"

if os.geteuid() != 0:
    warnings.warn("tests/e2e/test_internet.py SKIPPED: needs root (network namespaces)")
    pytest.skip("SKIPPED LOUDLY: the stand-in Internet needs root (network namespaces)", allow_module_level=True)

import internet  # noqa: E402
from internet import Internet  # noqa: E402
from netns import Run  # noqa: E402

_missing = [b for b in internet.PACKAGES if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
if _missing:
    try:
        internet.ensure_tools()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"SKIPPED LOUDLY: missing tools {_missing} and cannot install them: {e}", allow_module_level=True)

PY = str(internet.install())
AVOID = [ipaddress.ip_network(n) for n in ("10.42.0.0/16", "10.43.0.0/16", "fd42::/48")]


def mailu_k8s(*args: str, cwd: Path) -> str:
    r = subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"mailu-k8s {' '.join(args)}: {r.stderr}"
    return r.stdout


@pytest.fixture(scope="session", autouse=True)
def binary():
    r = subprocess.run(["cargo", "build", "-q", "-p", "mailu-k8s"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        r = subprocess.run(["cargo", "build", "-q"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and BIN.exists(), r.stderr[-2000:]


class Planned:
    """An example config copied to a temporary directory, its DKIM key made by `dkim keygen`,
    and its plan (zone text and JSON)."""

    def __init__(self, example: str, tmp: Path):
        self.dir = tmp / example
        self.dir.mkdir(parents=True)
        self.config = self.dir / f"{example}.yaml"
        shutil.copy(REPO / "examples" / f"{example}.yaml", self.config)
        mailu_k8s("dkim", "keygen", self.config.name, "-o", "dkim-secret.yaml", cwd=self.dir)
        import yaml
        docs = [d for d in yaml.safe_load_all((self.dir / "dkim-secret.yaml").read_text()) if d]
        secret = next(d for d in docs if d.get("kind") == "Secret")
        self.keys = {}
        for name, pem in secret["stringData"].items():
            path = self.dir / name
            path.write_text(pem)
            self.keys[name] = path
        self.zone = mailu_k8s("dns", "plan", self.config.name, "--format", "zone", cwd=self.dir)
        self.plan = json.loads(mailu_k8s("dns", "plan", self.config.name, "--format", "json", cwd=self.dir))
        self.domain = self.plan["domains"][0]
        dkim = next(r for r in self.plan["records"] if "._domainkey." in r["name"] and r["type"] == "TXT")
        self.selector = dkim["name"].split("._domainkey.")[0]
        self.key = self.keys[f"{self.domain}.dkim.key"]
        self.helo = next((p["name"] for p in self.plan["ptr"]), None)


def start(planned: Planned, tmp: Path, tag: str, zone: str | None = None, plan: dict | None = None,
          relay: dict | None = None):
    run = Run(tmp / f"run-{tag}", prefix=f"mke{os.getpid()}-{tag}-")
    inet = Internet(run, tmp / f"inet-{tag}", {planned.domain: zone if zone is not None else planned.zone},
                    plan if plan is not None else planned.plan, AVOID, relay)
    try:
        inet.start()
    except Exception:
        run.close()
        inet.close()
        raise
    return run, inet


def send(ns, inet, planned: Planned, source: str | None, helo: str, sign: bool = True, **kw) -> dict:
    args = [PY, str(SEND), "--to", inet.foreign_rcpt, "--mail-from", f"alice@{planned.domain}",
            "--helo", helo, "--resolver", inet.resolver_addresses()[0 if not source or ":" not in source else 1],
            "--selector", planned.selector, "--domain", planned.domain]
    if sign:
        args += ["--dkim-key", str(planned.key)]
    if source:
        args += ["--source", source]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        args += [flag] if v is True else [flag, str(v)]
    r = ns.exec(args, check=False, timeout=90)
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"internet_send.py: {r.stdout} {r.stderr}")


def verdict(inet, sent: dict) -> dict:
    assert sent["ok"], sent
    v = inet.received(sent["message_id"], timeout=30)
    assert v is not None, f"the receiver did not judge {sent['message_id']} (logs in {inet.workdir / 'mx'})"
    return v


def dig(inet, ns, *args, server=None) -> str:
    return inet.dig(ns, *args, server=server)


# ------------------------------------------------------------------------------------------------
# One Internet from the Cilium 1.17 example for the passing cases


@pytest.fixture(scope="module")
def cilium(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cilium")
    planned = Planned("egress-cilium-1.17", tmp)
    run, inet = start(planned, tmp, "c")
    yield planned, run, inet
    run.close()
    inet.close()


def test_dns_serves_the_plan(cilium):
    planned, run, inet = cilium
    ns, _ = inet.host("dig")
    for r in planned.plan["records"]:
        if r["type"] in ("SRV",):
            continue
        out = dig(inet, ns, "+short", r["type"], r["name"])
        if r["type"] == "TXT":
            got = ["".join(part.strip('"') for part in line.split('" "')) for line in out.splitlines()]
            assert r["value"] in got, (r["name"], got)
        else:
            assert r["data"].rstrip(".") in [l.rstrip(".") for l in out.splitlines()], (r["name"], r["type"], out)
    for p in planned.plan["ptr"]:
        assert dig(inet, ns, "+short", "-x", p["ip"]).strip().rstrip(".") == p["name"]
    # No PTR the plan does not ask for: a fresh address has none.
    assert "NXDOMAIN" in dig(inet, ns, "-x", inet.allocate(4))
    assert f"mx.{inet.foreign_domain}." in dig(inet, ns, "+short", "MX", inet.foreign_domain)
    # The foreign domain has no MTA-STS: postfix-mta-sts-resolver must see a clean "no policy".
    assert "NXDOMAIN" in dig(inet, ns, "TXT", f"_mta-sts.{inet.foreign_domain}")
    # Signed example.org (Mailu admin's start.py waits for AD on `example.org A`).
    assert internet._has_ad(dig(inet, ns, "+dnssec", "A", "example.org"))
    # The plan's zone is served as is, except its apex NS (the zone says to replace it).
    soa = dig(inet, ns, "+short", "SOA", planned.domain)
    assert soa.startswith(f"ns1.{planned.domain}. hostmaster.{planned.domain}. 1 "), soa


def mailu_unbound(inet, run, tmp: Path, tag: str, extra: list[str]):
    """Debian's unbound configured as Mailu's optional/unbound/unbound.conf (2024.06.57) renders it
    for an IPv4-only config (auto-trust-anchor-file, root-hints, do-ip6 no), plus `extra`."""
    d = tmp / f"unbound-{tag}"
    d.mkdir()
    (d / "root.hints").write_text(inet.root_hints())
    (d / "trusted-key.key").write_text(inet.trust_anchor())
    conf = "\n".join([
        "server:", "  verbosity: 1", "  interface: 0.0.0.0", '  logfile: ""', "  do-ip4: yes",
        "  do-ip6: no", "  do-udp: yes", "  do-tcp: yes", "  do-daemonize: no",
        "  access-control: 0.0.0.0/0 allow", f'  directory: "{d}"', '  username: ""', '  chroot: ""',
        f'  pidfile: "{d}/unbound.pid"',
        "  auto-trust-anchor-file: trusted-key.key", f'  root-hints: "{d}/root.hints"',
        "  hide-identity: yes", "  hide-version: yes", "  cache-min-ttl: 300",
        *[f"  {l}" for l in extra],
        "remote-control:", "  control-enable: no", ""])
    (d / "unbound.conf").write_text(conf)
    ns = run.netns(f"pod-{tag}")
    addr = inet.allocate(4)
    inet.attach(ns, [addr])
    ns.spawn(["unbound", "-d", "-c", str(d / "unbound.conf")], d / "unbound.out", name="unbound")
    import time
    for _ in range(50):
        if "status:" in ns.exec(["dig", "+time=1", "+tries=1", "@127.0.0.1", "SOA", "."], check=False).stdout:
            break
        time.sleep(0.1)
    return ns


def test_mailu_unbound_validates_and_resolves(cilium, tmp_path):
    planned, run, inet = cilium
    ns = mailu_unbound(inet, run, tmp_path, "ok", inet.unbound_extra())
    out = dig(inet, ns, "+dnssec", "A", "example.org", server="127.0.0.1")
    assert internet._has_ad(out), out
    assert f"mx.{inet.foreign_domain}." in dig(inet, ns, "+short", "MX", inet.foreign_domain, server="127.0.0.1")
    for p in planned.plan["ptr"]:
        assert dig(inet, ns, "+short", "-x", p["ip"], server="127.0.0.1").strip().rstrip(".") == p["name"]
    assert "v=DKIM1" in dig(inet, ns, "+short", "TXT", f"{planned.selector}._domainkey.{planned.domain}",
                            server="127.0.0.1")
    # The insecure delegations are insecure, not bogus: an answer, without AD.
    out = dig(inet, ns, "+dnssec", "MX", planned.domain, server="127.0.0.1")
    assert "status: NOERROR" in out and not internet._has_ad(out), out
    assert "NXDOMAIN" in dig(inet, ns, f"_mta-sts.{inet.foreign_domain}", "TXT", server="127.0.0.1")
    # An Internet client from host() has forward-confirmed reverse DNS, also as Mailu sees it.
    peer, addrs = inet.host("peer")
    name = inet.hostname_of(peer)
    assert name == f"peer.{inet.foreign_domain}"
    for a in addrs:
        assert dig(inet, ns, "+short", "-x", a, server="127.0.0.1").strip() == name + "."
        rtype = "AAAA" if ":" in a else "A"
        assert ipaddress.ip_address(dig(inet, ns, "+short", rtype, name, server="127.0.0.1").strip()) == ipaddress.ip_address(a)
    spf = dig(inet, ns, "+short", "TXT", inet.foreign_domain, server="127.0.0.1")
    assert "v=spf1 ip4:" in spf, spf


def test_unbound_extra_is_needed(cilium, tmp_path):
    """The pitfall unbound_extra() exists for: without it, unbound's built-in local zones answer
    NXDOMAIN for the documentation ranges' reverse names and for .test."""
    planned, run, inet = cilium
    assert 'local-zone: "113.0.203.in-addr.arpa." nodefault' in inet.unbound_extra()
    ns = mailu_unbound(inet, run, tmp_path, "bare", [])
    assert "NXDOMAIN" in dig(inet, ns, "-x", planned.plan["ptr"][0]["ip"], server="127.0.0.1")
    if inet.foreign_domain.endswith(".test"):
        assert "NXDOMAIN" in dig(inet, ns, "MX", inet.foreign_domain, server="127.0.0.1")


def test_planned_egress_passes(cilium):
    planned, run, inet = cilium
    ns = run.netns("sender")
    egress = planned.plan["ptr"][0]["ip"]
    inet.attach(ns, [egress])
    v = verdict(inet, send(ns, inet, planned, egress, planned.helo))
    assert (v["spf"], v["dkim"], v["dmarc"]) == ("pass", "pass", "pass"), v["raw_auth_results"]
    assert v["source"] == egress and v["helo"] == planned.helo
    assert v["fcrdns"] is True and v["ptr"] == planned.helo
    assert v["helo_resolves_to_source"] and v["via_relay"] is False


def test_dkim_none_and_several_signatures(cilium, tmp_path):
    """No signature is dkim=none (DMARC then rests on SPF alone); a failing signature above a
    good one does not hide it (RFC 6376 §6.1: any valid signature passes)."""
    planned, run, inet = cilium
    ns = run.netns("sender2")
    egress = planned.plan["ptr"][0]["ip"]
    inet.attach(ns, [egress])
    v = verdict(inet, send(ns, inet, planned, egress, planned.helo, sign=False))
    assert v["dkim"] == "none" and v["spf"] == "pass" and v["dmarc"] == "pass", v["raw_auth_results"]
    other = Planned("egress-cilium-1.17", tmp_path)
    v = verdict(inet, send(ns, inet, planned, egress, planned.helo, top_dkim_key=other.key))
    assert [s["ok"] for s in v["dkim_signatures"]] == [False, True], v["dkim_signatures"]
    assert v["dkim"] == "pass" and v["dmarc"] == "pass", v["raw_auth_results"]


def test_unlisted_address_fails_spf_and_fcrdns(cilium):
    planned, run, inet = cilium
    ns = run.netns("stranger")
    addr = "192.0.2.77"          # in no SPF record, no PTR
    inet.attach(ns, [addr])
    v = verdict(inet, send(ns, inet, planned, addr, planned.helo))
    assert v["spf"] == "fail", v["raw_auth_results"]
    assert v["dkim"] == "pass"           # the signature does not depend on the path
    assert v["fcrdns"] is False and v["ptr"] is None and v["source"] == addr
    assert any("cannot find your hostname" in w for w in v["postfix_warnings"]), v["postfix_warnings"]
    # Neither SPF nor DKIM: DMARC fails.
    v = verdict(inet, send(ns, inet, planned, addr, planned.helo, sign=False))
    assert (v["spf"], v["dkim"], v["dmarc"]) == ("fail", "none", "fail"), v["raw_auth_results"]


# ------------------------------------------------------------------------------------------------
# Mutations of the published data: the verdict must change


def test_mutation_no_dkim_record(tmp_path):
    planned = Planned("egress-cilium-1.17", tmp_path)
    zone = "\n".join(l for l in planned.zone.splitlines() if "._domainkey." not in l)
    plan = dict(planned.plan, records=[r for r in planned.plan["records"] if "._domainkey." not in r["name"]])
    run, inet = start(planned, tmp_path, "nodkim", zone=zone, plan=plan)
    with run:
        ns = run.netns("sender")
        egress = planned.plan["ptr"][0]["ip"]
        inet.attach(ns, [egress])
        v = verdict(inet, send(ns, inet, planned, egress, planned.helo))
        assert v["dkim"] != "pass", v["raw_auth_results"]
        assert v["spf"] == "pass"
    inet.close()


def test_mutation_no_ptr(tmp_path):
    planned = Planned("egress-cilium-1.17", tmp_path)
    run, inet = start(planned, tmp_path, "noptr", plan=dict(planned.plan, ptr=[]))
    with run:
        ns = run.netns("sender")
        egress = planned.plan["ptr"][0]["ip"]
        inet.attach(ns, [egress])
        v = verdict(inet, send(ns, inet, planned, egress, planned.helo))
        assert v["fcrdns"] is False and v["ptr"] is None, v
        assert v["spf"] == "pass" and v["dkim"] == "pass"
    inet.close()


def test_mutation_wrong_dkim_key(tmp_path):
    """A key that is not the published one (as if the Secret held another key)."""
    planned = Planned("egress-cilium-1.17", tmp_path)
    other = Planned("egress-cilium-1.17", tmp_path / "other")
    run, inet = start(planned, tmp_path, "otherkey")
    with run:
        ns = run.netns("sender")
        egress = planned.plan["ptr"][0]["ip"]
        inet.attach(ns, [egress])
        planned.key = other.key
        v = verdict(inet, send(ns, inet, planned, egress, planned.helo))
        assert v["dkim"] == "fail", v["raw_auth_results"]
    inet.close()


# ------------------------------------------------------------------------------------------------
# Dual stack: SPF and FCrDNS for an IPv6 source


def test_dual_stack_ipv6_source(tmp_path):
    planned = Planned("egress-cilium-1.20-dualstack", tmp_path)
    run, inet = start(planned, tmp_path, "ds")
    with run:
        v6 = next(p["ip"] for p in planned.plan["ptr"] if ":" in p["ip"])
        v4 = next(p["ip"] for p in planned.plan["ptr"] if ":" not in p["ip"])
        ns = run.netns("sender")
        inet.attach(ns, [v4, v6])
        for src in (v6, v4):
            v = verdict(inet, send(ns, inet, planned, src, planned.helo))
            assert ipaddress.ip_address(v["source"]) == ipaddress.ip_address(src)
            assert (v["spf"], v["dkim"], v["dmarc"], v["fcrdns"]) == ("pass", "pass", "pass", True), v["raw_auth_results"]
            assert v["ptr"] == planned.helo
        stranger = "2001:db8:99::99"
        inet.attach(run.netns("stranger6"), [stranger])
        v = verdict(inet, send(run.namespaces[-1], inet, planned, stranger, planned.helo))
        assert v["spf"] == "fail" and v["fcrdns"] is False
    inet.close()


# ------------------------------------------------------------------------------------------------
# The smarthost (egress.mode: relay)


@pytest.mark.parametrize("port", [587, 465])
def test_smarthost(tmp_path, port):
    planned = Planned("egress-relay", tmp_path)
    relay = {"host": "smtp.relay-provider.example", "port": port,
             "username": "mailu@example.com", "password": uuid.uuid4().hex}
    run, inet = start(planned, tmp_path, f"r{port}", relay=relay)
    with run:
        ns, _ = inet.host("client", version=4)
        tls = {"ssl": True} if port == 465 else {"starttls": True}
        common = dict(server=relay["host"], port=port, **tls)
        r = send(ns, inet, planned, None, "pod.example.com", user=relay["username"], password="wrong", **common)
        assert not r["ok"] and r["code"] == 535, r
        r = send(ns, inet, planned, None, "pod.example.com", **common)
        assert not r["ok"] and r["code"] == 530, r
        r = send(ns, inet, planned, None, "pod.example.com", user=relay["username"], password=relay["password"], **common)
        v = verdict(inet, r)
        assert v["via_relay"] is True and v["source"] in inet.relay_addrs
        assert (v["spf"], v["dkim"], v["dmarc"]) == ("pass", "pass", "pass"), v["raw_auth_results"]
        assert v["fcrdns"] and v["helo"] == relay["host"]
        log = inet.smarthost_log()
        assert any(s["auth"] and not s["auth_ok"] and s["user"] == relay["username"] for s in log), log
        ok = [s for s in log if s["auth_ok"]]
        assert ok and ok[-1]["auth_user"] == relay["username"] and ok[-1]["tls"]
        assert ok[-1]["messages"][0]["forwarded"] and ok[-1]["rcpts"] == [inet.foreign_rcpt]
    inet.close()


def test_cleanup_leaves_nothing(tmp_path):
    planned = Planned("egress-cilium-1.17", tmp_path)
    run, inet = start(planned, tmp_path, "gone")
    ns, _ = inet.host("x")
    names = [n.name for n in run.namespaces]
    etc = Path("/etc/netns") / ns.name
    assert etc.exists()
    run.close()
    inet.close()
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in left for n in names), left
    assert not etc.exists()


# ------------------------------------------------------------------------------------------------
# Every example's plan loads and is served (any user's config must work, example.org as a mail
# domain too: it is then the signed zone Mailu's admin checks)


def _examples():
    out = []
    for p in sorted((REPO / "examples").glob("*.yaml")):
        out.append(p.stem)
    return out


@pytest.mark.parametrize("example", _examples())
def test_every_example_plan_is_served(tmp_path, example):
    try:
        planned = Planned(example, tmp_path)
    except AssertionError as e:
        pytest.skip(f"{example}: no plan ({str(e)[:200]})")
    zones = {}
    for d in planned.plan["domains"]:
        zones[d] = mailu_k8s("dns", "plan", planned.config.name, "--format", "zone", "--zone", d, cwd=planned.dir)
    run = Run(tmp_path / "run", prefix=f"mke{os.getpid()}-x-")
    inet = Internet(run, tmp_path / "inet", zones, planned.plan, AVOID)
    with run:
        inet.start()
        ns, _ = inet.host("dig")
        for r in planned.plan["records"]:
            if r["type"] == "TXT":
                out = dig(inet, ns, "+short", "TXT", r["name"])
                got = ["".join(part.strip('"') for part in line.split('" "')) for line in out.splitlines()]
                assert r["value"] in got, (r["name"], got)
            else:
                out = dig(inet, ns, "+short", r["type"], r["name"])
                assert r["data"].rstrip(".").lower() in [l.rstrip(".").lower() for l in out.splitlines()], (r, out)
        for p in planned.plan["ptr"]:
            assert dig(inet, ns, "+short", "-x", p["ip"]).strip().rstrip(".") == p["name"]
        assert internet._has_ad(dig(inet, ns, "+dnssec", "A", "example.org"))
    inet.close()
