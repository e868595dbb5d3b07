"""The stand-in Internet of the behaviour suite: DNS, a router, a recursive resolver, a foreign
domain whose MX judges every message, and a smarthost for `egress.mode: relay`.

Everything runs in network namespaces of one `netns.Run` and under `workdir`; nothing touches the
host's own addresses, routes, /etc/postfix, /etc/unbound or /etc/nsd.

Layout (one router, every other namespace hangs off it by a veth, addresses are /32 and /128):

    inet-rt    the router: forwards between all attached namespaces
    inet-dns   NSD, authoritative for everything: the signed stand-in root, a signed example.org,
               the zones `mailu-k8s dns plan` wrote (apex NS pointed at this server, nothing else
               changed), reverse zones holding exactly the plan's PTR instructions, the foreign
               domain, the relay provider's zone, and any extra records
    inet-res   unbound, recursive and DNSSEC-validating from `root_hints()` + `trust_anchor()`: the
               resolver of every Internet host (the receiver's postfix and judge, the smarthost,
               `host()` namespaces)
    inet-mx    the foreign domain's MX: Debian's postfix (its own config dir) delivering into a
               maildir, and the judge (receiver.py) scoring each message with dkimpy, pyspf and
               authheaders
    inet-relay (relay mode) the smarthost (smarthost.py, aiosmtpd): AUTH required, then it forwards
               to the foreign MX from its own address

Internet clients (`host()`) get a name under the foreign domain with agreeing A/AAAA and PTR
records, published after start by an NSD reload (`publish()`). Cluster namespaces attached with
`attach()` get no DNS at all unless the plan (or `add_records()`) says so.

Why one NSD for every zone: NSD answers from the most specific zone it holds, and a DS query at a
zone apex from the parent zone it also holds, so one server behaves as the whole delegation tree
(RFC 4035 §3.1.4.1 for DS). Every delegation names `ns.mke-internet.`, an address record in the
signed root itself, so no zone depends on glue from another.
"""
from __future__ import annotations

import atexit
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REQUIREMENTS = HERE / "internet_requirements.txt"
DEFAULT_VENV = REPO / "target" / "e2e-internet-venv"

# Debian packages the stand-in needs, with one binary each proves present.
PACKAGES = {
    "nsd": "nsd",
    "ldns-keygen": "ldnsutils",
    "ldns-signzone": "ldnsutils",
    "unbound": "unbound",
    "unbound-checkconf": "unbound",
    "postfix": "postfix",
    "dig": "dnsutils",
    "openssl": "openssl",
    "ip": "iproute2",
}

NS_NAME = "ns.mke-internet."          # the one name server of every zone (an A/AAAA in the root)
POOLS4 = ["100.64.0.0/10", "198.18.0.0/15", "172.16.0.0/12", "10.0.0.0/8"]
POOLS6 = ["fd6d:6b65:696e::/48", "fd6d:6b66::/32", "fc00::/7"]
FOREIGN_CANDIDATES = ["foreign.test", "judge-foreign.test", "foreign-mx.invalid"]

# unbound's built-in local zones (unbound.conf(5), "local-zone: ... nodefault", unbound 1.17):
# it answers these itself (NXDOMAIN or static data) unless told `nodefault`.
UNBOUND_DEFAULT_ZONES = (
    ["localhost.", "127.in-addr.arpa.", "1." + "0." * 31 + "ip6.arpa.", "home.arpa.", "onion.",
     "test.", "invalid.", "10.in-addr.arpa.", "168.192.in-addr.arpa.", "0.in-addr.arpa.",
     "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
     "113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.", "0." * 32 + "ip6.arpa.",
     "d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
     "8.b.d.0.1.0.0.2.ip6.arpa."]
    + [f"{i}.172.in-addr.arpa." for i in range(16, 32)]
    + [f"{i}.100.in-addr.arpa." for i in range(64, 128)]
)


# --------------------------------------------------------------------------------------------
# Installation


def ensure_tools() -> list[str]:
    """Installs the Debian packages the stand-in needs when a binary is missing (as root, with a
    policy-rc.d that keeps Debian from starting their services, as scripts/conformance does).
    Returns the packages it installed."""
    missing = sorted({pkg for binary, pkg in PACKAGES.items() if not shutil.which(binary)
                      and not Path("/usr/sbin", binary).exists()})
    if not missing:
        return []
    if os.geteuid() != 0:
        raise RuntimeError(f"missing Debian packages {missing}; installing them needs root")
    policy = Path("/usr/sbin/policy-rc.d")
    created = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\n# written by mailu-k8s tests/e2e/internet.py: no service starts during install\nexit 101\n")
        policy.chmod(0o755)
        created = True
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type select No configuration\n",
                       text=True, check=False)
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                        "-o", "DPkg::Lock::Timeout=600", *missing], check=True, env=env, capture_output=True)
    finally:
        if created:
            policy.unlink(missing_ok=True)
    return missing


def install(venv: Path = DEFAULT_VENV) -> Path:
    """Creates (or brings up to date) the venv with the pinned judge/smarthost libraries.
    Returns its python. Quick when nothing changed (a stamp holds the requirements' hash)."""
    venv = Path(venv)
    python = venv / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / ".requirements-sha256"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(digest + "\n")
    return python


# --------------------------------------------------------------------------------------------
# Addresses


class Allocator:
    """Hands out addresses from the first pools, skipping every network in `avoid`."""

    def __init__(self, avoid):
        self.avoid = [ipaddress.ip_network(n, strict=False) for n in avoid]
        self.used: set = set()
        self.cursor = {4: None, 6: None}
        self.pools = {4: [ipaddress.ip_network(p) for p in POOLS4],
                      6: [ipaddress.ip_network(p) for p in POOLS6]}

    def _blocked(self, addr):
        for n in self.avoid:
            if n.version == addr.version and addr in n:
                return n
        return None

    def allocate(self, version: int = 4) -> str:
        for pool in self.pools[version]:
            addr = self.cursor[version] if self.cursor[version] is not None and self.cursor[version] in pool \
                else pool.network_address + 1
            while addr in pool and addr != pool.broadcast_address:
                blocked = self._blocked(addr)
                if blocked is not None:
                    addr = blocked.broadcast_address + 1
                    continue
                if addr in self.used or (version == 4 and int(addr) & 0xFF in (0, 255)):
                    addr += 1
                    continue
                self.used.add(addr)
                self.cursor[version] = addr + 1
                return str(addr)
        raise RuntimeError(f"no free IPv{version} address outside {self.avoid}")


# --------------------------------------------------------------------------------------------
# Zone data


def _fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _within(name: str, zone: str) -> bool:
    name, zone = _fqdn(name), _fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


def _reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer + "."


def _soa(origin: str) -> str:
    host = "hostmaster." + (origin if origin != "." else "mke-internet.")
    return f"{origin} 3600 IN SOA {NS_NAME} {host} 1 3600 900 1209600 60"


class Zone:
    """One zone's master-file lines. `text` zones keep the plan's lines verbatim, except the apex
    NS (the plan says to replace the zone's authority with the provider's when importing)."""

    def __init__(self, origin: str, text: str | None = None):
        self.origin = _fqdn(origin)
        self.lines: list[str] = []
        self.from_plan = text is not None
        if text is None:
            self.lines = [f"$ORIGIN {self.origin}", "$TTL 3600", _soa(self.origin),
                          f"{self.origin} 3600 IN NS {NS_NAME}"]
            return
        for line in text.splitlines():
            fields = line.split(";", 1)[0].split()
            if fields and not line.startswith(("$", " ", "\t")) and "NS" in [f.upper() for f in fields[1:4]] \
                    and fields[0] in (self.origin, "@"):
                line = f"{self.origin} 3600 IN NS {NS_NAME}"
            self.lines.append(line)

    def add(self, line: str):
        self.lines.append(line)

    def names(self) -> list[str]:
        out = []
        for line in self.lines:
            fields = line.split(";", 1)[0].split()
            if fields and not line.startswith(("$", " ", "\t", "(", ")")):
                out.append(_fqdn(fields[0]) if fields[0] != "@" else self.origin)
        return out

    def has(self, owner: str, rtype: str) -> bool:
        for line in self.lines:
            fields = line.split(";", 1)[0].split()
            if fields and _fqdn(fields[0]) == _fqdn(owner) and rtype.upper() in [f.upper() for f in fields[1:4]]:
                return True
        return False

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _record_owner(line: str) -> str:
    return _fqdn(line.split()[0])


# --------------------------------------------------------------------------------------------
# The Internet


class Internet:
    def __init__(self, run, workdir: Path, zones: dict[str, str], plan: dict,
                 avoid: list = (), relay: dict | None = None, venv: Path | None = None):
        self.run = run
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.plan_zones = {_fqdn(k): v for k, v in zones.items()}
        self.plan = plan or {}
        self.relay = relay
        self.venv = Path(venv) if venv else DEFAULT_VENV
        self.alloc = Allocator(list(avoid))
        self.extra: list[str] = []
        self.started = False
        self._etc_netns: list[Path] = []
        self.cleanup_paths: list[Path] = []
        self.hostnames: dict[str, str] = {}
        atexit.register(self.close)

        configured = set(self.plan_zones) | {_fqdn(d) for d in self.plan.get("domains", [])}
        self.foreign_domain = next(
            d for d in FOREIGN_CANDIDATES
            if not any(_within(d, z) or _within(z, d) for z in configured))
        self.foreign_rcpt = f"judge@{self.foreign_domain}"
        self.mx_host = f"mx.{self.foreign_domain}"

        # Infrastructure addresses: the router's gateway first, then one pair per service.
        self.gw4 = self.alloc.allocate(4)
        self.gw6 = "fe80::1"
        self.dns_addrs = [self.alloc.allocate(4), self.alloc.allocate(6)]
        self.res_addrs = [self.alloc.allocate(4), self.alloc.allocate(6)]
        self.mx_addrs = [self.alloc.allocate(4), self.alloc.allocate(6)]
        self.relay_addrs = [self.alloc.allocate(4), self.alloc.allocate(6)] if relay else []
        self.router = None
        self.zones: dict[str, Zone] = {}
        self.example_org_generated = False

    # ---- the interface ----

    def allocate(self, version: int = 4) -> str:
        return self.alloc.allocate(version)

    def add_records(self, zone_lines: list[str]):
        if self.started:
            return self.publish(zone_lines)  # served zones only (NSD reload)
        self.extra.extend(l for l in zone_lines if l.strip() and not l.strip().startswith(";"))

    def resolver_addresses(self) -> list[str]:
        return list(self.res_addrs)

    def root_hints(self) -> str:
        v4, v6 = self.dns_addrs
        return (f".                   3600000  IN  NS    {NS_NAME}\n"
                f"{NS_NAME:<20}3600000  IN  A     {v4}\n"
                f"{NS_NAME:<20}3600000  IN  AAAA  {v6}\n")

    def trust_anchor(self) -> str:
        return self._root_ds + "\n"

    def unbound_extra(self) -> list[str]:
        """`local-zone: "<zone>" nodefault` for each unbound built-in zone under which the stand-in
        serves a name Mailu's side looks up: its domains, their PTRs, the foreign domain, the relay,
        extra records, and the reverse names of `host()` clients (the pools' reverse zones, e.g.
        64.100.in-addr.arpa and d.f.ip6.arpa, also built-in zones of unbound)."""
        if not self.zones:
            self._build_zones()
        names = set()
        for origin, zone in self.zones.items():
            if origin in ("in-addr.arpa.", "ip6.arpa."):
                continue
            names.update(zone.names())
        for p in self.plan.get("ptr", []):
            names.add(_fqdn(p["reverseName"]))
        for line in self.extra:
            names.add(_record_owner(line))
        # host() names its clients in reverse DNS too, from the Internet's pools.
        for pool in self._pools_in_use():
            names.add(_reverse_name(str(pool.network_address + 1)))
        hit = sorted({z for z in UNBOUND_DEFAULT_ZONES for n in names if _within(n, z)})
        return [f'local-zone: "{z}" nodefault' for z in hit]

    def _unbound_extra_all(self) -> list[str]:
        names = set()
        for zone in self.zones.values():
            names.update(zone.names())
        return [f'local-zone: "{z}" nodefault'
                for z in sorted({z for z in UNBOUND_DEFAULT_ZONES for n in names if _within(n, z)})]

    def attach(self, ns, addresses: list[str]) -> tuple[str, str]:
        """A veth from the router to `ns`, the addresses (/32, /128) on ns's end, routes to them on
        the router, and default routes from ns via the router for each family given."""
        if self.router is None:
            raise RuntimeError("attach() before start()")
        ra, nb = self.run.link(self.router, ns)
        self.router.add_address(ra, f"{self.gw4}/32")
        self.router.add_address(ra, f"{self.gw6}/64")
        families = set()
        for a in addresses:
            ip = ipaddress.ip_address(a.split("/")[0])
            plen = 32 if ip.version == 4 else 128
            ns.add_address(nb, f"{ip}/{plen}")
            self.router.route(f"-{ip.version}", f"{ip}/{plen}", "dev", ra)
            families.add(ip.version)
        if 4 in families:
            ns.route("-4", "default", "via", self.gw4, "dev", nb, "onlink")
        if 6 in families:
            ns.route("-6", "default", "via", self.gw6, "dev", nb)
        return ra, nb

    def host(self, name: str, version=(4, 6)):
        """An Internet client namespace. Like any decent mail-sending host on the Internet it has
        a name, `<name>.<foreign_domain>` (`hostname_of(ns)`), with A/AAAA and PTR records that
        agree (FCrDNS), and the foreign domain's SPF covers the Internet's own address pool; use
        that name in HELO and an address at the foreign domain as sender, and a receiving Mailu
        sees a well-behaved peer (no greylisting for a missing reverse name)."""
        versions = (version,) if isinstance(version, int) else tuple(version)
        ns = self._netns(f"ih-{name}"[:20])
        addrs = [self.alloc.allocate(v) for v in versions]
        self.attach(ns, addrs)
        self.resolv_conf(ns, versions)
        label = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")[:40] or "host"
        fqdn = f"{label}.{self.foreign_domain}."
        foreign = self.zones[_fqdn(self.foreign_domain)]
        n = 1
        while foreign.has(fqdn, "A") or foreign.has(fqdn, "AAAA") or foreign.has(fqdn, "MX"):
            n += 1
            fqdn = f"{label}-{n}.{self.foreign_domain}."
        lines = []
        for a in addrs:
            lines.append(f"{fqdn} 300 IN {'A' if ipaddress.ip_address(a).version == 4 else 'AAAA'} {a}")
            lines.append(f"{_reverse_name(a)} 300 IN PTR {fqdn}")
        self.publish(lines)
        self.hostnames[ns.name] = fqdn.rstrip(".")
        return ns, addrs

    def hostname_of(self, ns) -> str | None:
        """The published name of a `host()` namespace (forward and reverse DNS agree)."""
        return self.hostnames.get(ns.name if hasattr(ns, "name") else ns)

    def publish(self, zone_lines: list[str], timeout: float = 10):
        """Adds records after start (unsigned zones only: not the root or example.org): rewrites
        the zone files, has NSD reload them (SIGHUP) and waits until it serves the last one."""
        if not self.started and not hasattr(self, "nsd_proc"):
            self.add_records(zone_lines)
            return
        touched = set()
        for line in zone_lines:
            zone = self._zone_for(_record_owner(line))
            if zone.origin in ("example.org.", "."):
                raise ValueError(f"publish(): {zone.origin} is signed; use add_records() before start()")
            zone.add(line)
            touched.add(zone.origin)
        for origin in touched:
            path = self.zone_files.get(origin)
            if path is None:  # a new zone: needs a delegation in the signed root
                raise ValueError(f"publish(): no served zone holds {origin}; use add_records() before start()")
            path.write_text(self.zones[origin].text())
        self.nsd_proc.send_signal(signal.SIGHUP)
        owner, rtype = zone_lines[-1].split()[0], zone_lines[-1].split()[3]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.dig(self.res_ns, "+norec", rtype, owner, server=self.dns_addrs[0])
            if "status: NOERROR" in out and re.search(r"ANSWER: [1-9]", out):
                return
            time.sleep(0.1)
        raise RuntimeError(f"NSD did not serve {owner} {rtype} after reload")

    def resolv_conf(self, ns, versions=(4, 6)):
        """/etc/netns/<ns>/resolv.conf naming the Internet's resolver (ip netns exec bind-mounts
        it over /etc/resolv.conf for every process started in ns). Removed at close."""
        d = Path("/etc/netns") / ns.name
        d.mkdir(parents=True, exist_ok=True)
        self._etc_netns.append(d)
        lines = [f"nameserver {a}" for a in self.res_addrs
                 if ipaddress.ip_address(a).version in versions]
        (d / "resolv.conf").write_text("\n".join(lines) + "\noptions timeout:2 attempts:2\n")

    def received(self, message_id: str, timeout: float = 30) -> dict | None:
        from receiver import verdict_path
        deadline = time.monotonic() + timeout
        while True:
            path = verdict_path(self.workdir / "mx" / "verdicts", message_id)
            if path.exists():
                lines = [l for l in path.read_text().splitlines() if l.strip()]
                if lines:
                    return json.loads(lines[-1])
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def received_all(self) -> list[dict]:
        out = []
        for p in sorted((self.workdir / "mx" / "verdicts").glob("*.jsonl")):
            out += [json.loads(l) for l in p.read_text().splitlines() if l.strip()]
        return out

    def smarthost_log(self) -> list[dict]:
        from smarthost import read_log
        return read_log(self.workdir / "relay" / "sessions.jsonl")

    # ---- start ----

    def start(self):
        if self.started:
            return
        t0 = time.monotonic()
        self.timings = {}

        def step(name, fn):
            t = time.monotonic()
            fn()
            self.timings[name] = round(time.monotonic() - t, 2)

        python = install(self.venv)
        step("zones", self._build_zones)
        step("sign", self._sign)
        step("network", self._network)
        step("nsd", self._start_nsd)
        step("resolver", self._start_resolver)
        from receiver import Receiver
        self.receiver = Receiver(self, python)
        step("receiver", self.receiver.start)
        if self.relay:
            from smarthost import Smarthost
            self.smarthost = Smarthost(self, python)
            step("smarthost", self.smarthost.start)
        step("ready", self._wait_ready)
        self.started = True
        self.startup_seconds = round(time.monotonic() - t0, 2)

    def _zone_for(self, name: str) -> Zone:
        """The served zone a name belongs to (longest match); a new zone at the name's last two
        labels when none holds it."""
        name = _fqdn(name)
        best = None
        for origin, zone in self.zones.items():
            if origin != "." and _within(name, origin) and (best is None or len(origin) > len(best.origin)):
                best = zone
        if best is None:
            labels = name.rstrip(".").split(".")
            origin = ".".join(labels[-2:]) + "." if len(labels) >= 2 else name
            best = self.zones[origin] = Zone(origin)
        return best

    def _place(self, line: str):
        self._zone_for(_record_owner(line)).add(line)

    def _build_zones(self):
        self.zones = {"in-addr.arpa.": Zone("in-addr.arpa."), "ip6.arpa.": Zone("ip6.arpa.")}
        for origin, text in self.plan_zones.items():
            self.zones[origin] = Zone(origin, text)
        # Records of the plan outside the zone files given (e.g. DMARC report authorisations
        # `<domain>._report._dmarc.<other>` in another domain's zone).
        for r in self.plan.get("records", []):
            zone = _fqdn(r.get("zone") or r["name"])
            if zone not in self.plan_zones and not any(_within(r["name"], z) for z in self.plan_zones):
                self._place(f"{_fqdn(r['name'])} {r.get('ttl', 3600)} IN {r['type']} {r['data']}")
        # Reverse DNS: exactly the plan's PTR instructions.
        for p in self.plan.get("ptr", []):
            self._place(f"{_fqdn(p['reverseName'])} 3600 IN PTR {_fqdn(p['name'])}")
        # The foreign domain: MX, its host, no MTA-STS (a clean "no policy").
        mx4, mx6 = self.mx_addrs
        self.zones[_fqdn(self.foreign_domain)] = Zone(self.foreign_domain)
        pools = " ".join(f"ip{n.version}:{n}" for n in self._pools_in_use())
        for line in (f"{self.foreign_domain}. 3600 IN MX 10 {self.mx_host}.",
                     f'{self.foreign_domain}. 3600 IN TXT "v=spf1 {pools} -all"',
                     f"{self.mx_host}. 3600 IN A {mx4}", f"{self.mx_host}. 3600 IN AAAA {mx6}",
                     f"{_reverse_name(mx4)} 3600 IN PTR {self.mx_host}.",
                     f"{_reverse_name(mx6)} 3600 IN PTR {self.mx_host}."):
            self._place(line)
        # The relay provider: its host, its reverse names, and the SPF the plan includes.
        senders = []
        if self.relay:
            host = _fqdn(self.relay["host"])
            r4, r6 = self.relay_addrs
            senders = [f"ip4:{r4}", f"ip6:{r6}"]
            for line in (f"{host} 3600 IN A {r4}", f"{host} 3600 IN AAAA {r6}",
                         f"{_reverse_name(r4)} 3600 IN PTR {host}", f"{_reverse_name(r6)} 3600 IN PTR {host}"):
                self._place(line)
        for include in sorted(self._spf_includes()):
            # A third party's SPF: authorises the addresses that really send for it (the
            # smarthost in relay mode), and nothing otherwise ("-all": the include does not match).
            self._place(f'{include} 3600 IN TXT "v=spf1 {" ".join(senders + ["-all"])}"')
        for line in self.extra:
            self._place(line)
        # example.org, signed: Mailu's admin start.py loops until its resolver returns
        # `example.org A` with the AD flag (core/admin/start.py, test_DNS, at 2024.06.57).
        eo = "example.org."
        if eo not in self.zones:
            self.zones[eo] = Zone(eo)
            self.example_org_generated = True
        if not self.zones[eo].has(eo, "A"):
            self.zones[eo].add(f"{eo} 3600 IN A {self.dns_addrs[0]}")
        # The root: the name server's address and one delegation per zone (DS added when signed).
        root = self.zones["."] = Zone(".")
        root.add(f"{NS_NAME} 3600 IN A {self.dns_addrs[0]}")
        root.add(f"{NS_NAME} 3600 IN AAAA {self.dns_addrs[1]}")
        for origin in sorted(self.zones):
            if origin != ".":
                root.add(f"{origin} 3600 IN NS {NS_NAME}")

    def _pools_in_use(self) -> list:
        """The pools the Internet's own addresses come from (hosts, infrastructure, nodes)."""
        out = []
        for a in (self.dns_addrs[0], self.dns_addrs[1]):
            ip = ipaddress.ip_address(a)
            out.append(next(p for p in self.alloc.pools[ip.version] if ip in p))
        return out

    def _spf_includes(self) -> set[str]:
        out = set()
        for s in self.plan.get("spf", []):
            for term in s.get("record", "").split():
                m = re.match(r"^[+?~-]?(include|redirect)[:=](.+)$", term)
                if m:
                    out.add(_fqdn(m.group(2)))
        return out

    def _sign(self):
        d = self.workdir / "dns"
        d.mkdir(parents=True, exist_ok=True)
        inception = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 86400))
        expiration = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 30 * 86400))
        self.zone_files = {}

        def keygen(origin: str) -> str:
            base = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin], cwd=d,
                                  check=True, capture_output=True, text=True).stdout.strip()
            return base

        def sign(origin: str, key: str) -> Path:
            src = d / (_file_name(origin) + ".zone")
            src.write_text(self.zones[origin].text())
            subprocess.run(["ldns-signzone", "-o", origin, "-i", inception, "-e", expiration,
                            "-f", str(src) + ".signed", str(src), key], cwd=d, check=True,
                           capture_output=True, text=True)
            return Path(str(src) + ".signed")

        # example.org first: its DS goes into the root before the root is signed.
        eo_key = keygen("example.org.")
        ds = (d / f"{eo_key}.ds").read_text().split(";")[0].strip()
        self.zones["."].add(ds)
        self.zone_files["example.org."] = sign("example.org.", eo_key)
        root_key = keygen(".")
        self._root_ds = (d / f"{root_key}.ds").read_text().split(";")[0].strip()
        self.zone_files["."] = sign(".", root_key)
        for origin, zone in self.zones.items():
            if origin in self.zone_files:
                continue
            path = d / (_file_name(origin) + ".zone")
            path.write_text(zone.text())
            self.zone_files[origin] = path

    # ---- namespaces and daemons ----

    def _netns(self, name: str):
        """A namespace of the Internet; its links skip IPv6 duplicate address detection (every
        address here is unique by construction), so a new veth is usable at once."""
        ns = self.run.netns(name)
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
        ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
        return ns

    def _network(self):
        r = self.router = self._netns("inet-rt")
        r.sysctl("net.ipv4.ip_forward", "1")
        r.sysctl("net.ipv6.conf.all.forwarding", "1")
        for key in ("all", "default"):
            r.sysctl(f"net.ipv4.conf.{key}.rp_filter", "0")
        self.dns_ns = self._netns("inet-dns")
        self.attach(self.dns_ns, self.dns_addrs)
        self.res_ns = self._netns("inet-res")
        self.attach(self.res_ns, self.res_addrs)
        self.mx_ns = self._netns("inet-mx")
        self.attach(self.mx_ns, self.mx_addrs)
        self.resolv_conf(self.mx_ns)
        if self.relay:
            self.relay_ns = self._netns("inet-relay")
            self.attach(self.relay_ns, self.relay_addrs)
            self.resolv_conf(self.relay_ns)

    def _start_nsd(self):
        d = self.workdir / "dns"
        conf = [
            "server:",
            *[f"  ip-address: {a}" for a in self.dns_addrs],
            "  port: 53",
            "  server-count: 1",
            "  username: \"\"",
            "  chroot: \"\"",
            f"  zonesdir: \"{d}\"",
            "  database: \"\"",
            f"  zonelistfile: \"{d}/zone.list\"",
            f"  xfrdfile: \"{d}/xfrd.state\"",
            f"  xfrdir: \"{d}\"",
            f"  pidfile: \"{d}/nsd.pid\"",
            f"  logfile: \"{d}/nsd.log\"",
            "  verbosity: 1",
            "  hide-version: yes",
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, path in sorted(self.zone_files.items()):
            conf += ["zone:", f"  name: \"{origin}\"", f"  zonefile: \"{path}\""]
        (d / "nsd.conf").write_text("\n".join(conf) + "\n")
        check = subprocess.run(["nsd-checkconf", str(d / "nsd.conf")], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nsd-checkconf: {check.stderr}{check.stdout}")
        for origin, path in self.zone_files.items():
            c = subprocess.run(["nsd-checkzone", origin, str(path)], capture_output=True, text=True)
            if c.returncode != 0:
                raise RuntimeError(f"nsd-checkzone {origin}: {c.stderr}{c.stdout}")
        self.nsd_proc = self.dns_ns.spawn(["nsd", "-d", "-c", str(d / "nsd.conf")], d / "nsd.out", name="nsd")

    def _unbound_conf(self, directory: Path, interfaces: list[str], extra: list[str]) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "root.hints").write_text(self.root_hints())
        (directory / "root.key").write_text(self.trust_anchor())
        lines = ["server:", "  verbosity: 1",
                 *[f"  interface: {a}" for a in interfaces],
                 "  access-control: 0.0.0.0/0 allow", "  access-control: ::/0 allow",
                 "  do-ip4: yes", "  do-ip6: yes", "  do-daemonize: no", "  use-syslog: no",
                 "  username: \"\"", "  chroot: \"\"", f"  directory: \"{directory}\"",
                 f"  pidfile: \"{directory}/unbound.pid\"", f"  logfile: \"{directory}/unbound.log\"",
                 "  log-servfail: yes", "  val-log-level: 2",
                 f"  root-hints: \"{directory}/root.hints\"",
                 f"  trust-anchor-file: \"{directory}/root.key\"",
                 "  cache-max-negative-ttl: 5",
                 *[f"  {l}" for l in extra],
                 "remote-control:", "  control-enable: no"]
        conf = directory / "unbound.conf"
        conf.write_text("\n".join(lines) + "\n")
        c = subprocess.run(["unbound-checkconf", str(conf)], capture_output=True, text=True)
        if c.returncode != 0:
            raise RuntimeError(f"unbound-checkconf: {c.stderr}{c.stdout}")
        return conf

    def _start_resolver(self):
        d = self.workdir / "resolver"
        conf = self._unbound_conf(d, self.res_addrs, self._unbound_extra_all())
        self.res_ns.spawn(["unbound", "-d", "-c", str(conf)], d / "unbound.out", name="unbound")

    def dig(self, ns, *args: str, server: str | None = None) -> str:
        """`dig` in a namespace, against the Internet's resolver by default."""
        server = server or self.res_addrs[0]
        return ns.exec(["dig", "+time=2", "+tries=2", f"@{server}", *args], check=False).stdout

    def _wait_ready(self, seconds: float = 60):
        deadline = time.monotonic() + seconds
        checks = {
            "nsd": lambda: "status: NOERROR" in self.dig(self.res_ns, "SOA", ".", server=self.dns_addrs[0]),
            "nsd6": lambda: "status: NOERROR" in self.dig(self.res_ns, "SOA", ".", server=self.dns_addrs[1]),
            "resolver (example.org with AD)": lambda: _has_ad(self.dig(self.mx_ns, "+dnssec", "A", "example.org")),
            "resolver (foreign MX)": lambda: self.mx_host in self.dig(self.mx_ns, "+short", "MX", self.foreign_domain),
            "receiver": lambda: self.receiver.ready(),
        }
        if self.relay:
            checks["smarthost"] = lambda: self.smarthost.ready()
        pending = dict(checks)
        while pending:
            for name in list(pending):
                try:
                    if pending[name]():
                        del pending[name]
                except Exception:
                    pass
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stand-in Internet did not come up: {sorted(pending)} not ready "
                                   f"(logs under {self.workdir})")
            time.sleep(0.2)

    def close(self):
        """Removes what the Internet made outside its namespaces and workdir (/etc/netns entries,
        a /var/tmp spool). Namespaces and processes belong to the Run and go with it."""
        for d in self._etc_netns + self.cleanup_paths:
            shutil.rmtree(d, ignore_errors=True)
        self._etc_netns, self.cleanup_paths = [], []


def _has_ad(dig_output: str) -> bool:
    m = re.search(r";; flags:([^;]*);", dig_output)
    return bool(m) and "ad" in m.group(1).split() and "status: NOERROR" in dig_output


def _file_name(origin: str) -> str:
    return "root" if origin == "." else origin.rstrip(".")


def tcp_open(ns, addr: str, port: int, banner: bool = True) -> bool:
    """Whether a TCP connection to addr:port from ns succeeds (and, with `banner`, the server
    speaks first, as SMTP does) (Debian's python3, no venv)."""
    code = (f"import socket,sys\ns=socket.create_connection(({addr!r},{port}),timeout=2)\n"
            + ("s.settimeout(2); b=s.recv(200); sys.exit(0 if b else 1)" if banner else "sys.exit(0)"))
    try:
        return ns.exec(["/usr/bin/python3", "-c", code], check=False, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def sweep_etc() -> list[str]:
    """Removes /etc/netns/<run prefix>* and /var/tmp/<run prefix>* of runs whose process is gone
    (netns.sweep() removes their namespaces)."""
    gone = []
    for base in (Path("/etc/netns"), Path("/var/tmp")):
        if not base.is_dir():
            continue
        for d in base.iterdir():
            m = re.match(r"^mke(\d+)-", d.name)
            if m and not Path(f"/proc/{m.group(1)}").exists():
                shutil.rmtree(d, ignore_errors=True)
                gone.append(str(d))
    return gone


if __name__ == "__main__":
    # `python3 tests/e2e/internet.py install`: the Debian packages and the venv (as root);
    # `python3 tests/e2e/internet.py sweep`: leftovers of killed runs outside their namespaces.
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "install":
        installed = ensure_tools()
        print(f"packages installed: {installed or 'none needed'}; venv python: {install()}")
    elif cmd == "sweep":
        print("\n".join(sweep_etc()) or "nothing to sweep")
    else:
        sys.exit("usage: internet.py install|sweep")
