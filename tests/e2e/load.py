"""Load and faults: does the deployment lose mail (issue 19)? `scripts/e2e --load [--messages N]
[--faults LIST] [--json FILE] CONFIG`.

After the same setup as the flows (e2e.deploy), phase `load` sends N inbound messages through the
edge to the user's mailbox (PROXY v2 where front expects it: the edge stand-in adds it) and N/5
authenticated submissions to the foreign receiver, 20 senders at once, each message with its own
Message-ID (loadgen.py; senders retry 4xx and broken connections as real ones do). Each fault
phase then runs a smaller load (N/5 + N/25) with one fault injected while it runs:

  postfix-kill   kill -9 of every postfix process; the container restarts after 15 s with a fresh
                 writable layer on the same volume (its queue on the claim)
  dovecot-stop   dovecot stopped as Kubernetes stops its pod, for 30 s (postfix must defer LMTP,
                 deliver after); an LMTP session held open from front's pod across the stop must
                 complete its next delivery
  rspamd-stop    rspamd stopped for 20 s (Mailu's milter_default_action decides: tempfail)
  resolver-stop  the resolver stopped for 20 s (defer, not bounce)
  receiver-down  the foreign MX unreachable (its port 25 refused) for 30 s
  front-restart  front stopped as Kubernetes stops it (out of its endpoints, preStop, SIGTERM:
                 Cluster.kubelet_stop) and started again (clients and postfix's LMTP, which goes
                 through front, retry); an LMTP session held open from postfix's pod across the
                 stop must complete its next delivery (LMTP_SESSION)

Per phase: accepted (250), delivered (in the maildir on dovecot's volume, or at the receiver),
deferred (still queued at the end), bounced (postfix logged status=bounced), lost (none of these:
must be 0), duplicates (a Message-ID delivered twice: allowed only after postfix-kill, where
postfix may redeliver what it delivered but had not yet removed), recovery_seconds (from the
restart until the backlog is delivered: every message first tried before the restart), latency (250 -> file written), throughput, each daemon's peak RSS and
CPU, and the manifest's probes while the daemon is down and after its restart.

Postfix retries deferred mail only after minimal_backoff_time (300 s, Mailu's main.cf does not
set it), so once the faulted daemon is back the test runs `postqueue -f`, as an operator would;
each phase says how often it did (`flushes`).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FAULTS = ["postfix-kill", "dovecot-stop", "rspamd-stop", "resolver-stop", "receiver-down", "front-restart"]
CONCURRENCY = 20
# How long each fault lasts (s): the figures (postfix 15 s, dovecot 30 s); the rest long
# enough for many messages to meet the fault.
DOWN = {"postfix-kill": 15, "dovecot-stop": 30, "rspamd-stop": 20, "resolver-stop": 20, "receiver-down": 30,
        "front-restart": 3}
FAULT_AFTER = 5  # s of load before the fault
SETTLE_SECONDS = 300


# Product bugs the load mode shows and that are not fixed yet: the phase still counts and prints
# them (KNOWN-BUG) but they do not fail the run. Remove an entry with its fix.
KNOWN_PRODUCT_BUGS: dict[tuple[str, str], str] = {}

# An LMTP session to front, as postfix holds one (load.front_restart): one delivery, a pause in
# which front's stop begins, a second delivery on the same session. Prints one JSON line per step.
LMTP_SESSION = r"""
import json, socket, sys, time
host, rcpt, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
def reply(f):
    lines = []
    while True:
        line = f.readline().decode(errors="replace")
        lines.append(line.strip())
        if len(line) < 4 or line[3] != "-":
            return " | ".join(lines)
def deliver(s, f, n):
    for cmd in ("MAIL FROM:<lmtp-session@e2e.test>", f"RCPT TO:<{rcpt}>", "DATA"):
        s.sendall(cmd.encode() + b"\r\n")
        reply(f)
    s.sendall(f"Message-ID: <lmtp-session-{n}-{time.time()}@e2e.test>\r\nSubject: {n}\r\n\r\nx\r\n.\r\n".encode())
    return reply(f)
def step(name, fn):
    try:
        out = fn()
    except Exception as e:
        out = f"error: {e!r}"
    print(json.dumps({"step": name, "reply": out}), flush=True)
s = socket.create_connection((host, 2525), timeout=30)
f = s.makefile("rb")
reply(f)
s.sendall(b"LHLO e2e\r\n")
reply(f)
step("before", lambda: deliver(s, f, 1))
time.sleep(pause)
step("during-stop", lambda: deliver(s, f, 2))
step("quit", lambda: (s.sendall(b"QUIT\r\n"), reply(f))[1])
"""


def prepare_config(cfg_path: Path, cfg: dict) -> dict:
    """Mailu limits each sender to MESSAGE_RATELIMIT (200/day, core/admin/mailu/configuration.py:60)
    and answers 450 beyond it (internal/views/postfix.py:155-162): a policy, not a fault. The
    load's user sends more than that, so its config raises the limit (mailu.rateLimits.message)."""
    cfg.setdefault("mailu", {}).setdefault("rateLimits", {})["message"] = "100000/day"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg


def main(a, runs, deploy, Skip) -> int:
    """Runs the load mode on each (config, mutation); writes --json; exit 1 on a failed phase."""
    faults = [f for f in a.faults.split(",") if f]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown fault(s) {sorted(unknown)}: one of {', '.join(FAULTS)}")
    phases, failed = [], []
    for cfgp, mu in runs:
        try:
            with deploy(cfgp, mu) as d:
                if not d.ready:
                    failed.append(f"{d.res.target}: the deployment did not start")
                    continue
                out = Load(d, mu).run(a.messages, faults)
                for ph in out:
                    ph["config"] = d.res.target
                phases += out
        except Skip as e:
            print(f"e2e --load: SKIPPED: {e}")
            return 0
        except Exception as e:  # a crash of the load mode fails the run, with its trace
            import traceback
            failed.append(f"{cfgp.stem}: {type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}")
    bad_phases = sum(1 for ph in phases if ph["problems"])
    for ph in phases:
        failed += [f"{ph['config']} {ph['phase']}: {p}" for p in ph["problems"]]
    if a.json:
        a.json.write_text(json.dumps(phases, indent=1, sort_keys=True) + "\n")
    print(table(phases))
    for f in failed:
        print(f"FAIL {f}")
    if a.expect_fail:
        print(f"e2e load mutations: {'CAUGHT' if failed else 'NOT CAUGHT'} ({len(failed)} problems)")
        return 0 if failed else 1
    n_failed = max(bad_phases + len(runs) - len({p["config"] for p in phases}), 1 if failed else 0)
    print(f"e2e: {len(phases) - bad_phases} passed, {n_failed} failed, 0 skipped")
    return 1 if failed else 0


def table(phases: list[dict]) -> str:
    cols = ["phase", "accepted", "delivered", "deferred", "bounced", "lost", "duplicates", "recovery_seconds",
            "retries", "flushes", "msgs_per_s", "p50_s", "p99_s"]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for ph in phases:
        rows.append("| " + " | ".join(str(ph.get(c, "")) for c in cols) + " |")
    return "\n".join(rows)


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


class Sampler(threading.Thread):
    """Each daemon's memory and CPU, from /proc of its container's processes, once a second:
    peak memory (the sum of the processes' PSS: the RSS with shared pages shared out) and CPU seconds (utime + stime of each
    process seen, at its last sample; a process that lives less than a second may be missed)."""

    def __init__(self, c):
        super().__init__(daemon=True)
        self.c = c
        self.stop = threading.Event()
        self.peak: dict[str, float] = {}
        self.cpu: dict[str, dict] = {}  # component -> {(pid, start): seconds}
        self.last: dict[str, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def run(self):
        while not self.stop.wait(1.0):
            for p in self.c.pods:
                for ct in list(p.containers.values()):
                    if ct.pause_pid:
                        self.sample(p.component or p.name, ct)

    def sample(self, comp: str, ct):
        rss, cpu = 0, self.cpu.setdefault(comp, {})
        for pid in self.c.container_pids(ct):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            cpu[(pid, stat[19])] = (int(stat[11]) + int(stat[12])) / self.tick
            # PSS: shared pages split among the processes sharing them, so the sum over a
            # container's 30 smtpd processes is not 30 copies of libc.
            rss += next((int(l.split()[1]) for l in rollup.splitlines() if l.startswith("Pss:")), 0)
        self.peak[comp] = max(self.peak.get(comp, 0), rss / 1024)

    def mark(self) -> dict:
        """(peak RSS MiB, CPU seconds) per daemon since the last mark."""
        totals = {k: sum(v.values()) for k, v in self.cpu.items()}
        out = {k: (round(self.peak.get(k, 0), 1), round(t - self.last.get(k, 0), 1)) for k, t in totals.items()}
        self.peak, self.last = {}, totals
        return out


class ProbeWatch(threading.Thread):
    """The kubelet's view of every running daemon under load: each readiness and liveness probe
    run every periodSeconds; a run that fails or takes longer than timeoutSeconds is a failure,
    and failureThreshold failures in a row would take the pod out of its Service (readiness) or
    restart it (liveness): under load, that is a misreport of a healthy daemon. Records each
    probe's slowest run too."""

    DAEMONS = ("postfix", "dovecot", "rspamd", "front", "admin", "resolver", "redis")

    def __init__(self, c):
        super().__init__(daemon=True)
        self.c = c
        self.stop = threading.Event()
        self.slowest: dict[str, float] = {}
        self.streak: dict[str, int] = {}
        self.problems: list[str] = []

    def run(self):
        due: dict[str, float] = {}
        while not self.stop.wait(1.0):
            for p in self.c.pods:
                if p.component not in self.DAEMONS or not p.containers:
                    continue
                for kc in self.c.k8s_containers(p, False):
                    for which in ("readinessProbe", "livenessProbe"):
                        spec = kc.spec.get(which)
                        key = f"{p.component} {which}"
                        if not spec or kc.name not in p.containers or due.get(key, 0) > time.monotonic():
                            continue
                        due[key] = time.monotonic() + spec.get("periodSeconds", 10)
                        self.check(p, kc, which, spec, key)

    def check(self, p, kc, which: str, spec: dict, key: str):
        t = time.monotonic()
        ok, detail = self.c.probe(p, kc, which)
        took = time.monotonic() - t
        self.slowest[key] = round(max(self.slowest.get(key, 0), took), 2)
        limit = spec.get("timeoutSeconds", 1)
        self.streak[key] = 0 if ok and took <= limit else self.streak.get(key, 0) + 1
        if self.streak[key] == spec.get("failureThreshold", 3):
            action = "taken out of its Service" if which == "readinessProbe" else "restarted"
            self.problems.append(f"{key}: {self.streak[key]} failures in a row under load (last: "
                                 f"{'ok' if ok else 'failed'} in {took:.1f}s, timeout {limit}s): the pod "
                                 f"would be {action}. {detail[-120:]}")


class Load:
    def __init__(self, d, mutate: str | None):
        self.d, self.c, self.inet, self.mutate = d, d.c, d.inet, mutate
        self.user, self.password = d.creds["user"]
        v4 = [x for x in d.inbound if ":" not in x]
        self.lb = v4[0] if v4 else d.inbound[0]
        self.sender_ns = getattr(self.inet, "mx_ns", None)
        self.helo = getattr(self.inet, "mx_host", "client.e2e.test")
        self.submit_ns, _ = self.inet.host("loadclient")
        self.work = d.work / "load"
        self.work.mkdir(parents=True, exist_ok=True)
        self.seen: dict[str, tuple[str, float]] = {}  # maildir file -> (Message-ID, mtime)
        self.sampler = Sampler(self.c)

    # ---------------------------------------------------------------- where things are

    def main_kc(self, comp: str):
        p = self.c.pod(comp)
        return p, next(self.c.k8s_containers(p, False))

    def ct(self, comp: str):
        p, kc = self.main_kc(comp)
        return p.containers[kc.name]

    def volume_of(self, comp: str, path: str) -> Path | None:
        p, kc = self.main_kc(comp)
        return next((host for host, mp in self.c.mounts(p, kc) if mp == path), None)

    def mail_dirs(self) -> list[Path]:
        """The user's maildir on dovecot's volume (mail_location = maildir:/mail/%u,
        core/dovecot/conf/dovecot.conf:30) and the receiver's."""
        vol = self.volume_of("dovecot", "/mail")
        dirs = [vol / self.user] if vol else []
        # A mutation may take /mail off the volume: then the container's own layer holds it.
        dirs.append(self.ct("dovecot").upper / "mail" / self.user)
        return dirs + [self.inet.receiver.mail / "inbox"]

    # ---------------------------------------------------------------- counting

    def deliveries(self) -> dict[str, list[float]]:
        """Message-ID -> delivery times (file mtimes), one per copy, of every message file."""
        for root in self.mail_dirs():
            for sub in root.rglob("*"):
                if sub.parent.name not in ("new", "cur") or not sub.is_file():
                    continue
                key = str(sub.parent.parent / sub.name.split(":")[0])
                if key in self.seen:
                    continue
                try:
                    mid = header(sub, "message-id")
                    self.seen[key] = (mid, sub.stat().st_mtime)
                except OSError:
                    continue
        out: dict[str, list[float]] = {}
        for mid, t in self.seen.values():
            out.setdefault(mid, []).append(t)
        return out

    def queue(self) -> list[dict]:
        r = self.ct("postfix").exec(["postqueue", "-j"], timeout=30)
        return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")] if r.returncode == 0 else []

    def queued_ids(self) -> dict[str, str]:
        """Message-ID -> queue name, for every message in postfix's queue."""
        out = {}
        for e in self.queue():
            r = self.ct("postfix").exec(["postcat", "-h", "-q", e["queue_id"]], timeout=30)
            for line in r.stdout.splitlines():
                if line.lower().startswith("message-id:"):
                    out[line.split(":", 1)[1].strip()] = e["queue_name"]
        return out

    def postfix_logs(self) -> str:
        p, kc = self.main_kc("postfix")
        base = self.c.workdir / "pods" / p.name
        return "".join(f.read_text(errors="replace") for f in sorted(base.glob(f"{kc.name}*/postfix.log")))

    def bounced_ids(self) -> set[str]:
        """Message-IDs postfix returned to their sender (cleanup logs `QID: message-id=<...>`;
        a delivery refused for good logs `status=bounced`, one that ran out of queue lifetime
        qmgr's `status=expired, returned to sender`)."""
        mids, bounced = {}, set()
        for line in self.postfix_logs().splitlines():
            parts = line.split(": ", 2)
            if len(parts) < 3:
                continue
            qid, rest = parts[1], parts[2]
            if rest.startswith("message-id="):
                mids[qid] = rest.split("=", 1)[1].strip()
            elif "status=bounced" in rest or "status=expired" in rest:
                bounced.add(qid)
        return {mids[q] for q in bounced if q in mids}

    # ---------------------------------------------------------------- load

    def start_gen(self, phase: str, kind: str, count: int, rate: float | None = None) -> tuple[subprocess.Popen, Path]:
        out = self.work / f"{phase}-{kind}.jsonl"
        out.unlink(missing_ok=True)
        if kind.startswith("in"):
            args = dict(host=self.lb, port=25, mail_from=f"someone@{self.inet.foreign_domain}", rcpt=self.user,
                        helo=self.helo)
            ns = self.sender_ns
        else:
            args = dict(host=self.lb, port=587, mode="starttls", user=self.user, password=self.password,
                        mail_from=self.user, rcpt=self.inet.foreign_rcpt)
            ns = self.submit_ns
        args.update(count=count, concurrency=CONCURRENCY, tag=f"{phase}-{kind}", out=str(out), deadline=300, rate=rate)
        py = sys.executable if Path(sys.executable).exists() else "python3"
        p = subprocess.Popen(ns.argv([py, str(HERE / "loadgen.py"), json.dumps(args)]), stdout=subprocess.DEVNULL,
                             stderr=open(self.work / f"{phase}-{kind}.err", "w"), cwd=str(HERE))
        return p, out

    @staticmethod
    def records(path: Path) -> list[dict]:
        return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []

    def mutate_postfix(self):
        """A postconf mutation (mutations.POSTCONF), applied after every postfix start."""
        import mutations
        lines = mutations.POSTCONF.get(self.mutate or "")
        if lines:
            ct = self.ct("postfix")
            ct.exec(["postconf", "-e", *lines], check=True)
            ct.exec(["postfix", "reload"], check=True)

    def run(self, messages: int, faults: list[str]) -> list[dict]:
        self.mutate_postfix()
        self.sampler.start()
        self.sampler.mark()
        phases = [self.phase("load", messages, messages // 5)]
        for f in faults:
            phases.append(self.phase(f, max(messages // 5, 20), max(messages // 25, 4), getattr(self, f.replace("-", "_"))))
        self.sampler.stop.set()
        return phases

    def phase(self, name: str, n_in: int, n_sub: int, fault=None) -> dict:
        # A fault phase's load is a steady stream: mail arrives before the fault (which comes after
        # FAULT_AFTER seconds), during it, and for 10 s after it.
        span = FAULT_AFTER + DOWN[name] + 10 if fault else None
        if name == "front-restart":
            span += 10  # the stream also meets front while it drains (its preStop)
        print(f"  load phase {name}: {n_in} inbound, {n_sub} submissions, {CONCURRENCY} senders at once"
              + (f", spread over {span} s" if span else ""), flush=True)
        t0 = time.time()
        if name == "postfix-kill":
            # Half the inbound mail as a burst, so the kill finds messages in the queue; the other
            # half as the steady stream that meets front's 451 while postfix is down.
            gens = [self.start_gen(name, "in", n_in // 2), self.start_gen(name, "in2", n_in - n_in // 2, n_in / 2 / span)]
        else:
            gens = [self.start_gen(name, "in", n_in, n_in / span if span else None)]
        gens.append(self.start_gen(name, "sub", n_sub, n_sub / span if span else None))
        info, watch = {}, None
        if fault:
            if name != "postfix-kill":  # that one waits for a filled queue
                time.sleep(FAULT_AFTER)
            info = fault()
        else:
            watch = ProbeWatch(self.c)
            watch.start()
        for g, _ in gens:
            g.wait(timeout=SETTLE_SECONDS + 60)
        recs = [r for _, out in gens for r in self.records(out)]
        accepted = {r["mid"]: r["t_accept"] for r in recs if r["ok"]}
        t_restart = info.get("t_restart", t0)
        flushes, delivered, queued = self.settle(accepted, info.get("flush_after", 0))
        if watch:
            watch.stop.set()
            watch.join(timeout=60)
        bounced = self.bounced_ids() & set(accepted)
        got = {m: ts for m, ts in delivered.items() if m in accepted}
        lost = sorted(set(accepted) - set(got) - set(queued) - bounced)
        dups = {m: len(ts) for m, ts in got.items() if len(ts) > 1}
        lat = [min(ts) - accepted[m] for m, ts in got.items()]
        last = max((min(ts) for ts in got.values()), default=t0)
        after = [min(ts) for ts in got.values() if min(ts) >= t_restart]
        # Recovery: until the backlog the fault built is delivered, i.e. every message whose
        # sender first tried before the restart (queued through the outage, or refused and
        # retried); mail first sent after the restart is the ordinary stream.
        first = {r["mid"]: r["t_first"] for r in recs if r["ok"]}
        backlog = [min(ts) for m, ts in got.items() if first[m] < t_restart]
        res = self.sampler.mark()
        ph = {
            "phase": name, "accepted": len(accepted), "delivered": len(got), "deferred": len(set(queued) - set(got)),
            "bounced": len(bounced), "lost": len(lost), "duplicates": sum(n - 1 for n in dups.values()),
            "recovery_seconds": round(max(max(backlog, default=t_restart) - t_restart, 0), 1) if fault else None,
            "first_delivery_after_restart_s": round(min(after) - t_restart, 1) if fault and after else None,
            "sent": n_in + n_sub, "rejected_5xx": [r["final"] for r in recs if not r["ok"]][:5],
            "not_accepted": sum(1 for r in recs if not r["ok"]),
            "retries": sum(r.get("retry_count", 0) for r in recs),
            "retry_replies": Counter(x for r in recs for x in r.get("retries", [])
                                     if not x.startswith("...")).most_common(6),
            "flushes": flushes, "msgs_per_s": round(len(got) / max(last - t0, 0.001), 1),
            "p50_s": pct(lat, 0.5), "p99_s": pct(lat, 0.99), "seconds": round(time.time() - t0, 1),
            "daemons": {k: {"peak_pss_mib": v[0], "cpu_s": v[1]} for k, v in res.items()},
            "lost_ids": lost[:10], "duplicate_ids": dict(list(dups.items())[:10]),
            **{k: v for k, v in info.items() if k not in ("t_restart", "flush_after")},
        }
        problems = []
        if ph["lost"]:
            problems.append(f"{ph['lost']} accepted messages lost: {lost[:3]}")
        if ph["duplicates"] and name != "postfix-kill":
            known = KNOWN_PRODUCT_BUGS.get((name, "duplicates"))
            if known:
                ph["known_bug"] = f"{ph['duplicates']} duplicates: {known}"
                print(f"    KNOWN-BUG {name}: {ph['known_bug']}", flush=True)
            else:
                problems.append(f"{ph['duplicates']} duplicates: {list(dups)[:3]}")
        if ph["bounced"]:
            problems.append(f"{ph['bounced']} bounced (a fault the deployment should ride out)")
        if ph["not_accepted"]:
            problems.append(f"{ph['not_accepted']} never accepted: {ph['rejected_5xx'][:3]}")
        if watch:
            ph["slowest_probe_s"] = watch.slowest
            problems += [f"probe under load: {b}" for b in watch.problems[:5]]
        problems += info.get("probe_problems", [])
        ph["problems"] = problems
        print(f"  {name}: " + json.dumps({k: ph[k] for k in ("accepted", "delivered", "deferred", "bounced", "lost",
                                                            "duplicates", "recovery_seconds", "retries", "flushes",
                                                            "msgs_per_s", "p50_s", "p99_s")}), flush=True)
        for p in problems:
            print(f"    problem: {p}", flush=True)
        return ph

    def settle(self, accepted: dict, flush_after: float) -> tuple[int, dict, dict]:
        """Waits until every accepted message is delivered, or nothing moves any more. Deferred
        mail is flushed (postqueue -f) once the fault is over, at most every 30 s."""
        deadline = time.time() + SETTLE_SECONDS
        flushes, last_flush, last_change, before = 0, 0.0, time.time(), -1
        while True:
            delivered = self.deliveries()
            missing = [m for m in accepted if m not in delivered]
            now = time.time()
            if not missing or now > deadline:
                break
            if len(missing) != before:
                before, last_change = len(missing), now
            q = self.queue()
            if not q and now - last_change > 20:
                break  # nothing queued, nothing arriving: what is missing is gone
            if any(e.get("queue_name") == "deferred" for e in q) and now > flush_after and now - last_flush > 30:
                self.ct("postfix").exec(["postqueue", "-f"])
                flushes, last_flush = flushes + 1, now
            time.sleep(2)
        queued = self.queued_ids() if missing else {}
        return flushes, delivered, queued

    # ---------------------------------------------------------------- faults

    def outage(self, comp: str, down: float, sig: int | None, only=None) -> dict:
        """Stops a daemon's processes (the container stays, so its probes run against nothing):
        with `sig`, that signal to them (a crash, or a daemon stopped inside its container);
        without, as Kubernetes stops a pod (Cluster.kubelet_stop: out of its endpoints, preStop,
        SIGTERM). Runs the manifest's probes while it is down, then restarts the container as the
        kubelet would and times its readiness and liveness."""
        p, kc = self.main_kc(comp)
        t_fault = time.time()
        stop = {}
        if sig is None:
            stop = self.c.kubelet_stop(p, kc)
        else:
            self.c.stop_container(p, kc, sig, only=only, grace=10, end=False)
        down_probes = []
        period = (kc.spec.get("readinessProbe") or {}).get("periodSeconds", 10)
        while True:
            t = time.time()
            for which in ("readinessProbe", "livenessProbe"):
                ok, detail = self.c.probe(p, kc, which)
                down_probes.append({"probe": which, "at_s": round(t - t_fault, 1), "ok": ok})
            left = t_fault + down - time.time()
            if left <= 0:
                break
            time.sleep(min(period, left))
        self.c.readmit(p)
        info = self.restart(p, kc, comp)
        info.update(stop)
        problems = [f"{comp} {x['probe']} passed at +{x['at_s']}s while the daemon was down"
                    for x in down_probes if x["ok"]]
        info.update(t_fault=t_fault, down_seconds=round(info["t_restart"] - t_fault, 1), probes_while_down=down_probes,
                    probe_problems=problems + info.pop("probe_problems", []))
        info.pop("t_fault")
        return info

    def restart(self, p, kc, comp: str) -> dict:
        t_restart = time.time()
        self.c.stop_container(p, kc, signal.SIGKILL, grace=0)
        self.c.restart_container(p, kc, self.inet)
        ok, detail = self.c.wait_ready(p, 180)
        ready = time.time() - t_restart
        if comp == "postfix":
            self.mutate_postfix()
        live, _ = self.c.probe(p, kc, "livenessProbe")
        pr = kc.spec.get("readinessProbe") or {}
        problems = [] if ok else [f"{comp} not ready within 180 s of its restart: {detail}"]
        if ok and not live:
            problems.append(f"{comp} ready but its livenessProbe fails after the restart")
        return {"t_restart": t_restart, "flush_after": t_restart + ready, "ready_after_restart_s": round(ready, 1),
                "live_after_restart": live, "readiness_period_s": pr.get("periodSeconds"),
                "readiness_failure_threshold": pr.get("failureThreshold"), "probe_problems": problems}

    def postfix_kill(self) -> dict:
        """kill -9 of every postfix process while messages sit in its queue; 15 s later the
        container starts again on the same volume."""
        root = Path(f"/proc/{self.ct('postfix').pause_pid}/root/queue")
        deadline = time.time() + 15
        while time.time() < deadline and queue_files(root) < 5:
            time.sleep(0.05)
        at_kill = queue_files(root)
        vol = self.volume_of("postfix", "/queue")
        info = self.outage("postfix", DOWN["postfix-kill"], signal.SIGKILL, only=is_postfix)
        info.update(queue_files_at_kill=at_kill, queue_volume=str(vol) if vol else "none (not on a volume)")
        return info

    def dovecot_stop(self) -> dict:
        """dovecot stopped as Kubernetes stops its pod (a rollout, a node drain), for 30 s. An
        LMTP session held open from front's pod, where the proxy's sessions come from, must
        complete the delivery it starts while the stop begins."""
        p, _ = self.main_kc("dovecot")
        session, session_log = self.lmtp_session("front", p.ip4)
        info = self.outage("dovecot", DOWN["dovecot-stop"], None)
        self.check_session(info, session, session_log, "dovecot")
        return info

    def rspamd_stop(self) -> dict:
        info = self.outage("rspamd", DOWN["rspamd-stop"], signal.SIGTERM)
        # What postfix did with the milter gone: Mailu's milter_default_action
        # (core/postfix/conf/main.cf:136).
        info["milter_default_action"] = self.ct("postfix").exec(
            ["postconf", "-h", "milter_default_action"]).stdout.strip()
        return info

    def resolver_stop(self) -> dict:
        return self.outage("resolver", DOWN["resolver-stop"], signal.SIGTERM)

    def front_restart(self) -> dict:
        """front restarted as a rollout or `kubectl delete pod` does it (Cluster.kubelet_stop:
        the manifest's preStop, then SIGTERM, which ends the rest), down for 3 s, started again. A stop
        that cuts sessions loses a sender's 250 after postfix accepted the message: the sender
        sends it again, a duplicate."""
        p, kc = self.main_kc("front")
        pf = self.ct("postfix")
        transport = pf.exec(["postconf", "-h", "virtual_transport"]).stdout.strip()
        session, session_log = self.lmtp_session("postfix", transport.split(":")[2])  # lmtp:inet:HOST:2525
        t_fault = time.time()
        stop = self.c.kubelet_stop(p, kc)
        probes = [{"probe": w, "at_s": round(time.time() - t_fault, 1), "ok": self.c.probe(p, kc, w)[0]}
                  for w in ("readinessProbe", "livenessProbe")]
        time.sleep(DOWN["front-restart"])
        self.c.readmit(p)
        info = self.restart(p, kc, "front")
        info["probe_problems"] += [f"front {x['probe']} passed after its stop" for x in probes if x["ok"]]
        if not stop["exited_by_itself"]:
            info["probe_problems"].append("front still ran after its preStop: the SIGTERM (start.py exits, "
                                          "the PID namespace with it) cut every session still open")
        info.update(stop, down_seconds=round(info["t_restart"] - t_fault, 1), probes_while_down=probes)
        self.check_session(info, session, session_log, "front")
        return info

    def lmtp_session(self, client: str, host: str) -> tuple[subprocess.Popen, Path]:
        """Starts LMTP_SESSION to HOST:2525 in `client`'s pod, where such sessions come from, and
        returns once its first delivery is done: its second comes while the server stops."""
        ct = self.ct(client)
        out = self.work / f"lmtp-session-{client}.jsonl"
        with open(out, "w") as fh:
            proc = subprocess.Popen(ct.argv(["python3", "-c", LMTP_SESSION, host, self.user, "4"]), stdout=fh,
                                    stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline and "before" not in out.read_text():
            time.sleep(0.1)
        return proc, out

    @staticmethod
    def check_session(info: dict, session: subprocess.Popen, log: Path, server: str):
        """A problem unless the session's delivery during the stop completed: a cut after the
        message was stored makes postfix deliver it again; the preStop must drain LMTP."""
        session.wait(timeout=60)
        steps = {}
        for line in log.read_text().splitlines():
            try:
                steps[json.loads(line)["step"]] = json.loads(line)["reply"]
            except (ValueError, KeyError):
                steps.setdefault("output", line[-300:])
        info["lmtp_session"] = steps
        if not steps.get("during-stop", "").startswith("250"):
            info.setdefault("probe_problems", []).append(
                f"an LMTP session open when {server}'s stop began was cut before its next delivery "
                f"finished ({steps}): postfix delivers a message again when the cut falls after "
                f"dovecot stored it; {server}'s preStop must wait for its LMTP sessions")

    def receiver_down(self) -> dict:
        """The foreign MX unreachable for 30 s: connections to its port 25 refused (a dropped SYN
        would only stall postfix's smtp client, smtp_connect_timeout 30 s, until the MX is back;
        a refusal makes it defer). The Internet's host, not a pod: no probe."""
        ns = self.inet.mx_ns
        rules = [(tool, ["INPUT", "-p", "tcp", "--dport", "25", "-j", "REJECT", "--reject-with", "tcp-reset"])
                 for tool in ("iptables", "ip6tables")]
        t_fault = time.time()
        for tool, rule in rules:
            ns.exec([tool, "-w", "-I", *rule])
        time.sleep(DOWN["receiver-down"])
        for tool, rule in rules:
            ns.exec([tool, "-w", "-D", *rule])
        t = time.time()
        return {"t_restart": t, "flush_after": t, "down_seconds": round(t - t_fault, 1)}


POSTFIX_PROGRAMS = {"master", "qmgr", "oqmgr", "pickup", "smtpd", "cleanup", "trivial-rewrite", "lmtp", "smtp",
                    "anvil", "tlsmgr", "proxymap", "bounce", "showq", "postlogd", "scache", "verify", "flush",
                    "postscreen", "dnsblog", "tlsproxy", "error", "discard", "local", "virtual", "pipe", "spawn"}


def is_postfix(pid: int) -> bool:
    """postfix's own processes (master and its children), not podop or the MTA-STS resolver.
    By name: /proc/PID/exe of a process in the container's overlay does not read as its path."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() in POSTFIX_PROGRAMS
    except OSError:
        return False


def queue_files(root: Path) -> int:
    """Messages in postfix's queue directories (a file per message)."""
    n = 0
    for q in ("incoming", "active", "deferred", "maildrop", "hold"):
        try:
            n += sum(len(fs) for _, _, fs in os.walk(root / q))
        except OSError:
            pass
    return n


def header(path: Path, name: str) -> str:
    """A header's value from a message file (the header block only)."""
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if not line:
                break
            if line.lower().startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return ""
