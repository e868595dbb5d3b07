"""Containers as processes with their own root, PID namespace and the pod's network namespace.

A container's root is an overlay: the machine's own root (the Debian builds of Mailu's daemons)
below, the container's own directory above (`upper`: the files Mailu's start script renders, as
the conformance emulation writes them, at their container paths), and the pod's volumes bound at
their mount paths. A `pause` process (`sleep infinity` as PID 1 of a new PID namespace, chrooted
into the overlay, inside the pod's network namespace) holds the namespaces; every command of the
container (its start sequence, probes, `flask mailu ...`) enters them with `nsenter`. Nothing is
mounted in the machine's own mount namespace; the overlay disappears with the pause process.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from netns import Netns, Run


@dataclass
class Container:
    run: Run
    ns: Netns
    name: str  # <pod>/<container>
    base: Path
    env: dict = field(default_factory=dict)
    pause_pid: int = 0
    procs: list = field(default_factory=list)

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    def write(self, path: str, text: str, mode: int | None = None):
        p = self.upper / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink() or p.is_file():
            p.unlink()
        p.write_text(text)
        if mode is not None:
            p.chmod(mode)

    def start(self, volumes: list[tuple[Path, str]]):
        """volumes: (host path, container path); a file binds onto a file."""
        merged, work = self.base / "merged", self.base / "work"
        for d in (self.upper, merged, work):
            d.mkdir(parents=True, exist_ok=True)
        binds = []
        for host, path in volumes:
            target = self.upper / path.lstrip("/")
            if target.is_symlink():
                target.unlink()
            if host.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.write_text("")
            binds.append(f"mount --bind {shlex.quote(str(host))} {shlex.quote(str(merged) + path)}")
        script = "\n".join([
            "set -e",
            f"mount -t overlay overlay -o lowerdir=/,upperdir={self.upper},workdir={work} {merged}",
            f"mount -t proc proc {merged}/proc",
            f"mount --rbind /dev {merged}/dev",
            f"mount -t tmpfs -o mode=1777 tmpfs {merged}/dev/shm",
            f"mount -t tmpfs -o mode=1777 tmpfs {merged}/tmp" if not any(p == "/tmp" for _, p in volumes) else "true",
            *binds,
            f"exec chroot {merged} sleep infinity",
        ])
        log = self.base / "pause.log"
        p = self.run.spawn(self.ns.argv(["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
                                          "sh", "-c", script]), log, name=f"pause {self.name}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kids = _children(p.pid)
            if kids and Path(f"/proc/{kids[0]}/root").resolve() == merged.resolve():
                pid = kids[0]
                try:
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                        self.pause_pid = pid
                        return
                except OSError:
                    pass
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"container {self.name} did not start: {log.read_text() if log.exists() else ''}")

    def argv(self, argv: list[str], env: dict | None = None, cwd: str = "/") -> list[str]:
        e = dict(self.env if env is None else env)
        e.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        return ["nsenter", "-t", str(self.pause_pid), "-m", "-n", "-p", "-r", "-w",
                "env", "-i", *[f"{k}={v}" for k, v in e.items()],
                "sh", "-c", 'cd "$0" && exec "$@"', cwd, *argv]

    def exec(self, argv: list[str], timeout: float = 60, env: dict | None = None, cwd: str = "/",
             check: bool = False) -> subprocess.CompletedProcess:
        r = subprocess.run(self.argv(argv, env, cwd), capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"[{self.name}] {' '.join(argv)} exited {r.returncode}: {r.stderr or r.stdout}")
        return r

    def sh(self, script: str, **kw) -> subprocess.CompletedProcess:
        return self.exec(["sh", "-c", script], **kw)

    def spawn(self, argv: list[str], log_name: str, env: dict | None = None, cwd: str = "/") -> subprocess.Popen:
        p = self.run.spawn(self.argv(argv, env, cwd), self.base / f"{log_name}.log", name=f"{self.name} {log_name}")
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        f = self.base / f"{name}.log"
        return f.read_text(errors="replace") if f.exists() else ""


def _children(pid: int) -> list[int]:
    out = []
    for t in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (t / "children").read_text().split()]
        except OSError:
            pass
    return out


def add_users(c: Container, users: list[tuple[str, int, int]]):
    """Users the image has and Debian does not (Mailu's `mailu`, front's `nginx`): written into
    the container's own /etc/passwd and /etc/group (the machine's files are untouched)."""
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    names = {l.split(":")[0] for l in passwd.splitlines()}
    gnames = {l.split(":")[0] for l in group.splitlines()}
    for name, uid, gid in users:
        if name not in gnames:
            group += f"{name}:x:{gid}:\n"
        if name not in names:
            passwd += f"{name}:x:{uid}:{gid}:{name}:/nonexistent:/usr/sbin/nologin\n"
    c.write("/etc/passwd", passwd)
    c.write("/etc/group", group)


def copy_tree_into(c: Container, root: Path, skip: set[str]):
    """The conformance PodFS root (rendered files at container paths) into the container's
    upper directory; volume mount points (symlinks into the pod's volumes) are skipped: they are
    bound instead."""
    for dirpath, dirnames, filenames in os.walk(root):
        rel = "/" + str(Path(dirpath).relative_to(root)).lstrip(".")
        rel = rel.rstrip("/") or "/"
        for d in list(dirnames):
            full = Path(dirpath) / d
            cpath = (rel.rstrip("/") + "/" + d)
            if full.is_symlink() or cpath in skip:
                dirnames.remove(d)
        for f in filenames:
            full = Path(dirpath) / f
            cpath = rel.rstrip("/") + "/" + f
            if full.is_symlink() or cpath in skip:
                continue
            dest = c.upper / cpath.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(full, dest)
