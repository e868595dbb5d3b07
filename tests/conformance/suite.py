#!/usr/bin/env python3
"""Mailu conformance: render Mailu 2024.06.57's own templates with each generated container's
environment, the way Mailu's start scripts do, check them with the real daemons, and audit which
variables each component gets.

usage:
  suite.py [--keep DIR] MANIFEST...        check generated manifests (multi-document YAML)
  suite.py --examples [--matrix]           synthesize examples/*.yaml (and the matrix) and check them
  suite.py readers                         print the upstream reader table
  suite.py stubs                           print what is stubbed and why

Exit status: 0 when nothing failed, 1 when a check failed, 0 with a loud SKIPPED notice when
Mailu's templates are unavailable.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit  # noqa: E402
import daemons  # noqa: E402
import sources  # noqa: E402
from k8s import Container, Manifest, container_env  # noqa: E402
from mailu import (EMULATORS, LETSENCRYPT_FLAVORS, ComponentRender, Templates, component_of,  # noqa: E402
                   set_env, stub_certbot_state)
from podfs import Pod  # noqa: E402
from render import render  # noqa: E402

REPO = sources.REPO
CLI = REPO / "target" / "release" / "mailu-k8s"


@dataclass
class Result:
    component: str
    check: str
    status: str  # pass | fail | skip
    detail: str = ""


@dataclass
class Report:
    target: str
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, component, check, status, detail=""):
        self.results.append(Result(component, check, status, detail))

    @property
    def failures(self):
        return [r for r in self.results if r.status == "fail"]

    def counts(self):
        return {s: sum(1 for r in self.results if r.status == s) for s in ("pass", "fail", "skip")}

    def format(self, verbose=False) -> str:
        lines = [f"== {self.target}"]
        for r in self.results:
            if r.status == "pass" and not verbose:
                continue
            head = f"  {r.status.upper():4} {r.component}: {r.check}"
            lines.append(head)
            if r.detail and (r.status != "pass" or verbose):
                for d in r.detail.splitlines()[:25]:
                    lines.append(f"         {d}")
        c = self.counts()
        lines.append(f"  {c['pass']} passed, {c['fail']} failed, {c['skip']} skipped")
        return "\n".join(lines)


def _pods(manifest: Manifest):
    """Containers grouped by workload: (first container, [containers])."""
    groups: dict[tuple, list[Container]] = {}
    for c in manifest.containers():
        groups.setdefault((c.workload_kind, c.workload, c.namespace), []).append(c)
    return groups.values()


def _run_init_container(c: Container, fs, report: Report) -> bool:
    """Run a resolver init container's `sh -c` script against the pod's volumes (paths rewritten)."""
    cmd = (c.spec.get("command") or []) + (c.spec.get("args") or [])
    if len(cmd) < 3 or cmd[0] not in ("sh", "/bin/sh") or cmd[1] != "-c":
        report.notes.append(f"{c.label}: not a `sh -c` script, not emulated")
        return False
    script = cmd[2]
    paths = sorted({vm["mountPath"] for vm in c.spec.get("volumeMounts") or []} | {"/etc/resolv.conf"},
                   key=len, reverse=True)
    for p in paths:
        script = script.replace(p, str(fs.host(p)))
    p = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=20, cwd=fs.root,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    if p.returncode != 0:
        report.add("resolver", f"init container {c.name}", "fail", (p.stderr or p.stdout).strip())
        return False
    report.add("resolver", f"init container {c.name}", "pass")
    return True


def _check_resolver(manifest: Manifest, containers: list[Container], pod: Pod, tpl: Templates,
                    work: Path, report: Report, renders: list):
    main = [c for c in containers if not c.init]
    for c in [c for c in containers if c.init]:
        _run_init_container(c, pod.container_fs(c), report)
    for c in main:
        env, notes = container_env(manifest, c)
        fs = pod.container_fs(c)
        r = ComponentRender("resolver", c, fs, env)
        r.environ = r.context = dict(env)
        renders.append(r)
        cmd = (c.spec.get("command") or []) + (c.spec.get("args") or [])
        if cmd:
            conf = next((cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "-c"), None)
            if conf is None:
                report.add("resolver", "unbound config", "skip", f"no `-c FILE` in {cmd}")
                continue
        else:
            # optional/unbound/start.py:8-10: set_env, render /unbound.conf into /etc/unbound/.
            environ = dict(env)
            set_env(environ)
            res = render(tpl.read("optional/unbound/unbound.conf"), environ, "optional/unbound/unbound.conf")
            r.uses.extend(res.uses)
            conf = "/etc/unbound/unbound.conf"
            if res.text is None:
                report.add("resolver", "render optional/unbound/unbound.conf", "fail", res.error)
                continue
            fs.write(conf, res.text)
        if not fs.isfile(conf):
            report.add("resolver", "unbound-checkconf", "fail", f"{conf} does not exist in the container")
            continue
        root = work / "unbound"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(fs.root, root, symlinks=False)
        mounts = [vm["mountPath"] for vm in c.spec.get("volumeMounts") or []]
        daemons._rewrite(root, [root / conf.lstrip("/")], ["/etc/unbound", *mounts])
        chk = daemons.check_unbound(root / conf.lstrip("/"), root)
        report.add("resolver", chk.name, chk.status, chk.detail)


def _daemon_checks(r: ComponentRender, tpl: Templates, work: Path, report: Report, label: str):
    if r.component == "front":
        chk = daemons.check_nginx(r, tpl, work)
        report.add(label, chk.name, chk.status, chk.detail)
        if r.state == "first start":
            report.add(label, "doveconf -n (front /etc/dovecot/proxy.conf)", "skip",
                       "first start without certificates: front's dovecot needs the certificate files "
                       "(core/nginx/dovecot/proxy.conf:91-92); it is checked in the 'with certificates' state")
        else:
            chk = daemons.check_doveconf(r, "/etc/dovecot/proxy.conf", work, "front /etc/dovecot/proxy.conf")
            report.add(label, chk.name, chk.status, chk.detail)
    elif r.component == "dovecot":
        chk = daemons.check_doveconf(r, "/etc/dovecot/dovecot.conf", work, "dovecot /etc/dovecot/dovecot.conf")
        report.add(label, chk.name, chk.status, chk.detail)
    elif r.component == "postfix":
        for chk in daemons.check_postfix(r, work):
            report.add(label, chk.name, chk.status, chk.detail)
    elif r.component == "rspamd":
        chk = daemons.check_rspamd(r, work)
        report.add(label, chk.name, chk.status, chk.detail)


def run_manifest(manifest: Manifest, tpl: Templates, target: str, workdir: Path,
                 env_json: Path | None) -> Report:
    report = Report(target)
    renders: list[ComponentRender] = []
    for containers in _pods(manifest):
        first = containers[0]
        components = {component_of(c) for c in containers} - {None}
        if not components:
            continue
        wl_dir = workdir / first.workload
        pod = Pod(manifest, first, wl_dir / "pod", workdir)
        if components == {"resolver"}:
            _check_resolver(manifest, containers, pod, tpl, wl_dir, report, renders)
            report.notes.extend(pod.notes)
            continue
        for c in containers:
            component = component_of(c)
            if component is None:
                continue
            env, notes = container_env(manifest, c)
            report.notes.extend(f"{c.label}: {n}" for n in notes)
            states = [""]
            if component == "front" and env.get("TLS_FLAVOR") in LETSENCRYPT_FLAVORS:
                states = ["first start", "with certificates"]
            for state in states:
                label = f"{component} ({state})" if state else component
                if state == "with certificates":
                    pod_state = Pod(manifest, c, wl_dir / "pod-with-certificates", workdir)
                    fs = pod_state.container_fs(c)
                    stub_certbot_state(fs, str(workdir))
                else:
                    fs = pod.container_fs(c)
                if component == "front":
                    r = EMULATORS[component](c, env, fs, tpl, state=state)
                else:
                    r = EMULATORS[component](c, env, fs, tpl)
                report.add(label, "start script (render with the container's environment)",
                           "fail" if r.crash else "pass", r.crash or "")
                if r.missing_templates:
                    report.notes.append(f"{label}: not in the template source, not rendered: "
                                        f"{', '.join(r.missing_templates)}")
                report.notes.extend(r.notes)
                if component == "front" and state != "first start" and r.context.get("TLS_ERROR"):
                    report.add(label, "certificate files exist", "fail",
                               "front cannot find its certificate or key (config.py:129-131 sets TLS_ERROR: "
                               f"no TLS, web 403): expected {r.context.get('TLS')}")
                _daemon_checks(r, tpl, wl_dir / (state.replace(" ", "-") or "main"), report, label)
                if state != "first start":
                    renders.append(r)
        report.notes.extend(pod.notes)

    table = audit.reader_table(tpl)
    universe = audit.mailu_variables(env_json, table)
    for r in renders:
        label = r.component
        found = [f for f in audit.required_findings(r)
                 if not _renders_like_default(r, f, tpl, workdir, report)
                 and not _truth_is_harmless(r, f, tpl, workdir, report)]
        _add_findings(report, label, "audit: required variables are set", found)
        found = audit.unread_findings(r, table, universe)
        _add_findings(report, label, "audit: only variables it reads", found)
    _add_findings(report, "*", "audit: readers agree on shared variables",
                  audit.consistency_findings(renders, table, universe))
    _add_findings(report, "*", "audit: wiring between components", audit.wiring_findings(renders))
    if env_json is None:
        report.add("*", "audit: Mailu variable list", "skip",
                   "LOUD: shared/reference/mailu-2024.06-env.json is unavailable; 'Mailu variables' are "
                   "only those in the reader table")
    return report


def _renders_same(r: ComponentRender, name: str, value: str, tpl: Templates, workdir: Path) -> bool:
    """Would the container render every file the same with name=value?"""
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="variant-"))
    try:
        root = tmp / "root"
        shutil.copytree(r.fs.root, root, symlinks=False)
        from podfs import PodFS

        kwargs = {"state": r.state} if r.component == "front" else {}
        other = EMULATORS[r.component](r.container, {**r.env, name: value}, PodFS(root), tpl, **kwargs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return (other.crash is None and r.crash is None
            and {x.path: x.text for x in other.files} == {x.path: x.text for x in r.files})


def _truth_is_harmless(r: ComponentRender, f, tpl: Templates, workdir: Path, report: Report) -> bool:
    """A string like 'no' tested for truth is harmless when the files render exactly as with the
    variable empty (really false): e.g. master.cf:154 prints 'no' either way."""
    if f.source != "truth":
        return False
    return _renders_same(r, f.var, "", tpl, workdir)


def _renders_like_default(r: ComponentRender, f, tpl: Templates, workdir: Path, report: Report) -> bool:
    """A template compares an unset variable, but with Mailu's documented default (admin's
    DEFAULT_CONFIG, the only place defaults live) every file renders the same: e.g. WEB_WEBMAIL
    `!= '/'` in front's nginx.conf while webmail is off. Not a finding then."""
    from readers import ADMIN_DEFAULT_CONFIG

    if f.source != "template" or f.var not in ADMIN_DEFAULT_CONFIG or r.component == "admin":
        return False
    default = ADMIN_DEFAULT_CONFIG[f.var]
    if default is None:
        return False
    same = _renders_same(r, f.var, str(default), tpl, workdir)
    if same:
        report.notes.append(f"{r.component}: {f.var} is unset; a template compares it, but every file renders "
                            f"as with Mailu's default {default!r}")
    return same


def _add_findings(report: Report, component: str, check: str, findings):
    if findings:
        report.add(component, check, "fail", "\n".join(f"[{f.component}] {f.detail}" for f in findings))
    else:
        report.add(component, check, "pass")


# ---------------------------------------------------------------------------------------------


def templates_or_skip() -> tuple[Templates | None, str]:
    try:
        src = sources.mailu_templates()
    except sources.Unavailable as e:
        return None, str(e)
    return Templates(src.path), src.origin


def env_json_path() -> Path | None:
    try:
        return sources.env_json().path
    except sources.Unavailable:
        return None


def synth(config: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "synth", str(config), "-o", str(out)], capture_output=True, text=True)


def check_config(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "check", str(config)], capture_output=True, text=True)


SKIP_BANNER = """
########################################################################################
#  SKIPPED: Mailu conformance
#  {reason}
########################################################################################
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="*")
    ap.add_argument("--examples", action="store_true", help="synthesize and check examples/*.yaml")
    ap.add_argument("--matrix", action="store_true", help="also the generated matrix of configs")
    ap.add_argument("--keep", help="keep the rendered files in this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    if args.manifests[:1] == ["stubs"]:
        for what, why in daemons.STUBS:
            print(f"- {what}: {why}")
        return 0
    tpl, origin = templates_or_skip()
    if tpl is None:
        print(SKIP_BANNER.format(reason=origin), file=sys.stderr)
        print("conformance: 0 passed, 0 failed, 1 skipped")
        return 0
    if args.manifests[:1] == ["readers"]:
        for component, readers in sorted(audit.reader_table(tpl).items()):
            print(f"{component}:")
            for var, where in sorted(readers.items()):
                print(f"  {var:40} {where}")
        return 0
    print(f"Mailu templates: {origin}", file=sys.stderr)
    env_json = env_json_path()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mailu-conformance-"))
    targets: list[tuple[str, Path | None, str]] = []  # (name, manifest, skip reason)
    for m in args.manifests:
        targets.append((m, Path(m), ""))
    if args.examples or args.matrix:
        if not CLI.exists():
            print(f"{CLI} is missing: run `cargo build --release` first", file=sys.stderr)
            return 2
        configs = [(f"examples/{p.name}", p) for p in sorted((REPO / "examples").glob("*.yaml"))] if args.examples else []
        if args.matrix:
            import matrix

            mdir = base / "matrix-configs"
            configs += [(f"matrix/{name}", path) for name, path in matrix.write_configs(mdir)]
        for name, cfg in configs:
            chk = check_config(cfg)
            if chk.returncode != 0:
                targets.append((name, None, "invalid combination: " + (chk.stderr or chk.stdout).strip().splitlines()[0]))
                continue
            out = base / "manifests" / (name.replace("/", "__"))
            out.parent.mkdir(parents=True, exist_ok=True)
            s = synth(cfg, out)
            if s.returncode != 0:
                targets.append((name, None, "synth failed: " + s.stderr.strip()))
                continue
            targets.append((name, out, ""))
    total = {"pass": 0, "fail": 0, "skip": 0}
    failed_targets = []
    try:
        for i, (name, path, reason) in enumerate(targets):
            if path is None:
                print(f"== {name}\n  SKIP {reason}")
                total["skip"] += 1
                continue
            report = run_manifest(Manifest.load(path), tpl, name, base / f"work-{i}", env_json)
            print(report.format(args.verbose))
            if args.verbose and report.notes:
                print("  notes:\n" + "\n".join(f"    - {n}" for n in dict.fromkeys(report.notes)))
            for k, v in report.counts().items():
                total[k] += v
            if report.failures:
                failed_targets.append(name)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    if failed_targets:
        print("failing: " + ", ".join(failed_targets))
    print(f"conformance: {total['pass']} passed, {total['fail']} failed, {total['skip']} skipped")
    return 1 if total["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
