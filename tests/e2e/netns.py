"""Network namespaces, links and processes for the behaviour suite, all owned by one `Run`.

Every namespace name and interface name carries the run's short prefix, so two runs never share
one, and everything a run made is registered and removed when it ends: on normal exit, on an
exception, on SIGINT/SIGTERM (the context manager and `atexit`), and by `sweep()` for a run
that was killed outright (it deletes namespaces whose prefix names a pid that no longer lives).

The suite touches only addresses inside these namespaces: nothing here adds an address or a
route to the host's own namespace.
"""
from __future__ import annotations

import atexit
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX_RE = re.compile(r"^mke(\d+)-")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@dataclass
class Netns:
    """One network namespace. `exec` runs a command inside it and waits."""

    run_: "Run"
    name: str

    def argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def exec(self, argv: list[str], check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        r = subprocess.run(self.argv(argv), check=False, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"[{self.name}] {' '.join(argv)} exited {r.returncode}: {r.stderr or r.stdout}")
        return r

    def ip(self, *args: str) -> subprocess.CompletedProcess:
        return self.exec(["ip", *args])

    def sysctl(self, key: str, value: str):
        self.exec(["sysctl", "-qw", f"{key}={value}"])

    def add_address(self, dev: str, cidr: str):
        family = "-6" if ipaddress.ip_interface(cidr).version == 6 else "-4"
        extra = ["nodad"] if family == "-6" else []
        self.ip(family, "addr", "add", cidr, "dev", dev, *extra)

    def route(self, *args: str):
        """`ip route replace ARGS` (use `-6` first for IPv6)."""
        if args and args[0] in ("-4", "-6"):
            self.ip(args[0], "route", "replace", *args[1:])
        else:
            self.ip("route", "replace", *args)

    def spawn(self, argv: list[str], log: Path, env: dict | None = None, cwd: str | None = None,
              name: str | None = None) -> subprocess.Popen:
        """Starts a long-running process inside the namespace, in its own process group, its
        output appended to `log`. The run kills it (the whole group) when it ends."""
        return self.run_.spawn(self.argv(argv), log, env=env, cwd=cwd, name=name or argv[0])


@dataclass
class Run:
    """Owns the namespaces, links and processes of one suite run."""

    workdir: Path
    prefix: str = field(default_factory=lambda: f"mke{os.getpid()}-")
    namespaces: list[Netns] = field(default_factory=list)
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    _links: int = 0
    _closed: bool = False

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.close)
        self._previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            self._previous[sig] = previous

            def handler(signum, frame, previous=previous):
                self.close()
                if callable(previous):
                    previous(signum, frame)
                raise SystemExit(128 + signum)

            signal.signal(sig, handler)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc):
        self.close()

    def netns(self, name: str) -> Netns:
        """A new namespace `<prefix><name>` with loopback up and forwarding off."""
        full = self.prefix + name
        _ip("netns", "add", full)
        ns = Netns(self, full)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        return ns

    def link(self, a: Netns, b: Netns, a_addrs: list[str] = (), b_addrs: list[str] = ()) -> tuple[str, str]:
        """A veth pair between two namespaces, both ends up, with the given addresses (CIDR).
        Returns the interface names (a's end, b's end); names are at most 15 characters."""
        self._links += 1
        tag = self.prefix.rstrip("-")[-8:]
        ea, eb = f"{tag}a{self._links}", f"{tag}b{self._links}"
        _ip("link", "add", ea, "netns", a.name, "type", "veth", "peer", "name", eb, "netns", b.name)
        for ns, dev, addrs in ((a, ea, a_addrs), (b, eb, b_addrs)):
            for cidr in addrs:
                ns.add_address(dev, cidr)
            ns.ip("link", "set", dev, "up")
        for ns, dev in ((a, ea), (b, eb)):
            _wait_not_tentative(ns, dev)
        return ea, eb

    def spawn(self, argv: list[str], log: Path, env: dict | None = None, cwd: str | None = None,
              name: str = "") -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, cwd=cwd, start_new_session=True)
        out.close()
        self.processes.append((name, p))
        return p

    def close(self):
        """Kills every process and removes every namespace. SIGINT/SIGTERM are held back while it
        runs (a Ctrl-C during teardown must not leave namespaces behind) and delivered after."""
        if self._closed:
            return
        self._closed = True
        main = threading.current_thread() is threading.main_thread()
        held = {signal.SIGINT, signal.SIGTERM}
        if main:
            signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            self._teardown()
        finally:
            if main:
                for sig, previous in getattr(self, "_previous", {}).items():
                    try:
                        signal.signal(sig, previous)
                    except (TypeError, ValueError):
                        pass
                signal.pthread_sigmask(signal.SIG_UNBLOCK, held)

    def _teardown(self):
        for _, p in reversed(self.processes):
            _kill_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for _, p in self.processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, p in self.processes:
            _kill_group(p.pid, signal.SIGKILL)
        for _, p in self.processes:  # reap them: a long run of many configs leaves no zombies
            try:
                p.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        for ns in reversed(self.namespaces):
            _kill_namespace(ns.name)
            _ip("netns", "del", ns.name, check=False)
        # A process that double-forked out of its group and out of every namespace we know of
        # (none should) would survive; a namespace whose `ip netns pids` was empty is gone.


def _wait_not_tentative(ns: Netns, dev: str, seconds: float = 5):
    """IPv6 neighbour discovery needs the link-local address; the first packets over a fresh veth
    are lost while it is still tentative."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not ns.exec(["ip", "-6", "addr", "show", "dev", dev, "tentative"]).stdout.strip():
            return
        time.sleep(0.05)


def _kill_group(pid: int, sig: int):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_namespace(name: str):
    """Kills whatever still runs in the namespace (daemons that double-forked out of our
    process groups, such as postfix's master or dovecot)."""
    r = _ip("netns", "pids", name, check=False)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def sweep() -> list[str]:
    """Deletes the namespaces of runs whose process no longer exists. Returns their names."""
    gone = []
    r = _ip("netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        m = PREFIX_RE.match(name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            _kill_namespace(name)
            _ip("netns", "del", name, check=False)
            gone.append(name)
    # /etc/netns/<namespace>/ (per-namespace resolv.conf) of runs that no longer exist.
    etc = Path("/etc/netns")
    for d in (etc.iterdir() if etc.is_dir() else []):
        m = PREFIX_RE.match(d.name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            shutil.rmtree(d, ignore_errors=True)
            gone.append(str(d))
    return gone
