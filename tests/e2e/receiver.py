"""The foreign domain's MX: a real receiving postfix and an independent judge.

Debian's postfix runs with its own config directory (`postfix -c DIR start-fg`; its own
queue_directory, data_directory, syslog_name and maillog_file) in the Internet's `inet-mx`
namespace and delivers every message for the foreign domain into a maildir. Postfix itself does the
forward-confirmed reverse lookup of each client: its Received header reads
`from HELO (NAME [ADDR])`, NAME being `unknown` unless the PTR's name resolves back to ADDR
(postconf(5), smtpd_peername_lookup; the same test `reject_unknown_client_hostname` applies, here
only logged via `warn_if_reject`).

The judge (`python receiver.py judge ...`, in the same namespace, resolving through the Internet's
resolver) reads each delivered message and scores it with libraries that are not the project's:
authheaders (DMARC, with dkimpy for DKIM and pyspf for SPF, checked against the connecting address,
HELO and MAIL FROM as postfix received them), pyspf and dkimpy directly as well, and dnspython for
the HELO name's addresses. One JSON line per message goes to verdicts/<sha256(Message-ID)>.jsonl.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _mid(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def verdict_path(directory: Path, message_id: str) -> Path:
    return Path(directory) / (hashlib.sha256(_mid(message_id).encode()).hexdigest()[:32] + ".jsonl")


MASTER_CF = """\
# postfix master.cf of the stand-in Internet's receiving MX (no chroot: the namespace's
# /etc/resolv.conf is the Internet's resolver)
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Receiver:
    def __init__(self, inet, python: Path):
        self.inet = inet
        self.python = python
        self.dir = inet.workdir / "mx"
        if not _traversable(inet.workdir):
            # postfix opens its data_directory as mail_owner and virtual(8) writes as nobody: they
            # must reach the directory. A workdir under a private (0700) directory such as
            # mkdtemp's gets a world-traversable stand-in in /var/tmp, linked from the workdir and
            # removed at close.
            base = Path("/var/tmp") / f"{inet.run.prefix}inet-mx"
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir(mode=0o755, parents=True)
            base.chmod(0o755)
            if self.dir.is_symlink() or self.dir.exists():
                self.dir.unlink() if self.dir.is_symlink() else shutil.rmtree(self.dir)
            self.dir.symlink_to(base)
            inet.cleanup_paths.append(base)
            self.dir = base
        self.conf = self.dir / "etc"
        self.mail = self.dir / "mail"
        self.verdicts = self.dir / "verdicts"

    def start(self):
        inet = self.inet
        for d in (self.conf, self.dir / "queue", self.dir / "data", self.mail, self.verdicts):
            d.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", "postfix:postfix", str(self.dir / "data")], check=True)
        subprocess.run(["chown", "-R", "65534:65534", str(self.mail)], check=True)
        cert, key = self.conf / "cert.pem", self.conf / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "30",
                        "-subj", f"/CN={inet.mx_host}"], check=True, capture_output=True)
        main = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.dir / "queue"),
            "data_directory": str(self.dir / "data"),
            "syslog_name": "mke-inet-mx",
            "maillog_file": str(self.dir / "maillog"),
            "maillog_file_prefixes": str(self.dir),   # postconf(5): the file must start with one
            "myhostname": inet.mx_host,
            "mydomain": inet.foreign_domain,
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "all",
            "inet_protocols": "all",
            "mynetworks": "127.0.0.0/8 [::1]/128",
            "relay_domains": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "virtual_mailbox_domains": inet.foreign_domain,
            "virtual_mailbox_base": str(self.mail),
            "virtual_mailbox_maps": "static:inbox/",
            "virtual_uid_maps": "static:65534",
            "virtual_gid_maps": "static:65534",
            "virtual_minimum_uid": "100",
            "smtpd_banner": "$myhostname ESMTP",
            "smtpd_helo_required": "yes",
            # Log, never reject: the judge scores every message, failing ones too.
            "smtpd_client_restrictions": "warn_if_reject reject_unknown_client_hostname",
            "smtpd_helo_restrictions": "warn_if_reject reject_unknown_helo_hostname, "
                                       "warn_if_reject reject_invalid_helo_hostname",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": str(cert),
            "smtpd_tls_key_file": str(key),
            "smtpd_tls_received_header": "yes",
            "smtp_tls_security_level": "none",
            "biff": "no",
            "append_dot_mydomain": "no",
            "maximal_queue_lifetime": "1h",
        }
        (self.conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.conf / "master.cf").write_text(MASTER_CF)
        env = dict(os.environ, MAIL_CONFIG=str(self.conf))
        r = inet.mx_ns.exec(["postfix", "-c", str(self.conf), "check"], check=False, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"postfix check (receiver): {r.stderr}{r.stdout}")
        inet.mx_ns.spawn(["postfix", "-c", str(self.conf), "start-fg"], self.dir / "postfix.out",
                         env=env, name="postfix-mx")
        inet.mx_ns.spawn([str(self.python), str(HERE / "receiver.py"), "judge",
                          "--maildir", str(self.mail / "inbox"), "--out", str(self.verdicts),
                          "--maillog", str(self.dir / "maillog"),
                          "--authserv-id", inet.mx_host,
                          "--relay-ips", ",".join(inet.relay_addrs)],
                         self.dir / "judge.log", name="judge")

    def ready(self) -> bool:
        from internet import tcp_open
        return (self.dir / "judge.ready").exists() and all(
            tcp_open(self.inet.res_ns, a, 25) for a in self.inet.mx_addrs)


def _traversable(path: Path) -> bool:
    """Whether every directory from / to path can be entered by any user."""
    p = Path(path).resolve()
    for d in [p, *p.parents]:
        if d.exists() and not (d.stat().st_mode & stat.S_IXOTH):
            return False
    return True


# --------------------------------------------------------------------------------------------
# The judge (runs in the venv, inside the MX namespace)

RECEIVED_RE = re.compile(
    r"^from\s+(?P<helo>\S+)\s+\((?P<name>\S+)\s+\[(?:IPv6:)?(?P<addr>[0-9A-Fa-f:.]+)\]\)", re.S)


def parse_received(value: str) -> dict | None:
    """Postfix's own Received header (smtpd.c): `from HELO (NAME [ADDR])`, NAME `unknown` when the
    client's reverse name is not forward-confirmed; IPv6 addresses written `IPv6:...`."""
    m = RECEIVED_RE.match(" ".join(value.split()))
    if not m:
        return None
    import ipaddress
    try:
        addr = str(ipaddress.ip_address(m.group("addr")))  # one spelling for comparisons
    except ValueError:
        addr = m.group("addr")
    return {"helo": m.group("helo"), "name": m.group("name"), "addr": addr}


def judge_message(raw: bytes, authserv_id: str, relay_ips: set[str], maillog: Path | None) -> dict:
    import email
    import email.policy
    import authheaders
    import authres
    import dkim
    import dns.exception
    import dns.resolver
    import dns.reversename
    import email.utils
    import spf

    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers: dict[str, list[str]] = {}
    for k, v in msg.items():
        headers.setdefault(k, []).append(" ".join(str(v).split()))
    # virtual(8) prepends Return-Path and Delivered-To; postfix's own Received is the first one.
    received = next((parse_received(v) for v in msg.get_all("Received", []) if parse_received(v)), None)
    mail_from = (msg.get("Return-Path") or "").strip().strip("<>")
    # What we judge is the message as the sender sent it: without the two headers delivery added.
    body = raw
    while body.startswith((b"Return-Path:", b"X-Original-To:", b"Delivered-To:")):
        body = body.split(b"\n", 1)[1]
    out: dict = {
        "message_id": _mid(msg.get("Message-ID", "")),
        "time": time.time(),
        "source": received["addr"] if received else None,
        "helo": received["helo"] if received else None,
        "mail_from": mail_from,
        "from": msg.get("From"),
        "headers": headers,
    }
    source, helo = out["source"], out["helo"]
    # FCrDNS: postfix's verdict (NAME in its Received header).
    name = received["name"] if received else "unknown"
    out["fcrdns"] = name != "unknown"
    out["ptr"] = name if out["fcrdns"] else None
    out["ptr_names"] = []
    try:
        rev = dns.reversename.from_address(source)
        out["ptr_names"] = [r.to_text() for r in dns.resolver.resolve(rev, "PTR", lifetime=5)]
    except Exception as e:  # NXDOMAIN and friends: no PTR
        out["ptr_error"] = type(e).__name__
    if out["ptr"] is None and out["ptr_names"]:
        out["ptr"] = out["ptr_names"][0].rstrip(".")
    helo_addrs = []
    for rtype in ("A", "AAAA"):
        try:
            helo_addrs += [r.to_text() for r in dns.resolver.resolve(helo, rtype, lifetime=5)]
        except Exception:
            pass
    out["helo_addresses"] = helo_addrs
    out["helo_resolves_to_source"] = source in helo_addrs
    out["helo_matches_ptr"] = bool(out["fcrdns"]) and (helo or "").lower().rstrip(".") == (out["ptr"] or "").lower()
    out["via_relay"] = source in relay_ips
    # SPF (pyspf, RFC 7208) for MAIL FROM and for HELO, against the real connecting address.
    try:
        res, expl = spf.check2(i=source, s=mail_from, h=helo)
        out["spf_direct"], out["spf_explanation"] = res, expl
    except Exception as e:
        out["spf_direct"], out["spf_explanation"] = "temperror", repr(e)
    try:
        out["spf_helo"] = spf.check2(i=source, s=f"postmaster@{helo}", h=helo)[0]
    except Exception:
        out["spf_helo"] = "temperror"
    # DKIM (dkimpy), every signature: authheaders alone verifies only the first one, and a
    # message may carry several (Mailu signs with RSA and, when configured, Ed25519).
    sigs = []
    for i, sig in enumerate(msg.get_all("DKIM-Signature", [])):
        tags = {k.strip(): v.strip() for k, v in
                (t.split("=", 1) for t in "".join(str(sig).split()).split(";") if "=" in t)}
        entry = {"d": tags.get("d", ""), "s": tags.get("s", ""), "a": tags.get("a", ""),
                 "i": tags.get("i") or "@" + tags.get("d", ""), "ok": False, "error": None}
        try:
            entry["ok"] = bool(dkim.DKIM(body).verify(idx=i))
        except dns.exception.DNSException as e:
            entry["error"], entry["temperror"] = repr(e), True
        except Exception as e:
            entry["error"] = repr(e)
        sigs.append(entry)
    out["dkim_signatures"] = sigs
    from_domain = (email.utils.parseaddr(msg.get("From", ""))[1].rpartition("@")[2]).lower()

    def aligned(d: str) -> bool:  # relaxed alignment (RFC 7489 §3.1.1), organisational domain by suffix
        d = d.lower()
        return d == from_domain or d.endswith("." + from_domain) or from_domain.endswith("." + d)

    passing = [x for x in sigs if x["ok"]]
    chosen = next((x for x in passing if aligned(x["d"])), passing[0] if passing else (sigs[0] if sigs else None))
    if chosen is None:
        prev = f"Authentication-Results: {authserv_id}; dkim=none"
    else:
        res = "pass" if chosen["ok"] else ("temperror" if chosen.get("temperror") else "fail")
        prev = f"Authentication-Results: {authserv_id}; dkim={res} header.d={chosen['d']} header.i={chosen['i']}"
    # authheaders: SPF (pyspf) against the connecting address, HELO and MAIL FROM as postfix got
    # them, and DMARC (its own implementation: policy discovery, SPF/DKIM alignment with From)
    # on top of that DKIM result.
    try:
        ar = authheaders.authenticate_message(body, authserv_id, prev=prev, spf=True, dkim=True, dmarc=True,
                                              ip=source, mail_from=mail_from, helo=helo)
    except Exception as e:
        ar = f"Authentication-Results: {authserv_id}; none (judge error {e!r})"
    out["raw_auth_results"] = ar
    results = {"spf": "none", "dkim": "none", "dmarc": "none"}
    try:
        parsed = authres.AuthenticationResultsHeader.parse(ar)
        for r in parsed.results:
            if r.method in results and results[r.method] == "none":
                results[r.method] = r.result
    except Exception as e:
        out["auth_results_parse_error"] = repr(e)
    out.update(results)
    out["postfix_warnings"] = _postfix_warnings(maillog, source)
    return out


def _postfix_warnings(maillog: Path | None, source: str | None) -> list[str]:
    if not maillog or not source or not maillog.exists():
        return []
    tag = f"[{source}]"
    return [l for l in maillog.read_text(errors="replace").splitlines()
            if tag in l and ("warning" in l or "reject" in l)][-20:]


def judge_main(argv: list[str]):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--maildir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--maillog")
    p.add_argument("--authserv-id", required=True)
    p.add_argument("--relay-ips", default="")
    a = p.parse_args(argv)
    maildir, out = Path(a.maildir), Path(a.out)
    import ipaddress
    relay_ips = {str(ipaddress.ip_address(x)) for x in a.relay_ips.split(",") if x}
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    os.chown(maildir, 65534, 65534)
    for sub in ("new", "cur", "tmp"):
        os.chown(maildir / sub, 65534, 65534)
    # Import the libraries once before saying ready, so a broken venv shows at start.
    import authheaders, dkim, spf, dns.resolver  # noqa: F401
    (out.parent / "judge.ready").write_text(str(os.getpid()))
    print("judge ready", flush=True)
    while True:
        for f in sorted((maildir / "new").iterdir()):
            raw = f.read_bytes()
            try:
                v = judge_message(raw, a.authserv_id, relay_ips, Path(a.maillog) if a.maillog else None)
            except Exception as e:  # never stop judging
                v = {"message_id": "", "error": repr(e)}
            v["file"] = f.name
            with open(verdict_path(out, v.get("message_id", "")), "a") as fh:
                fh.write(json.dumps(v) + "\n")
            print(f"judged {v.get('message_id')}: spf={v.get('spf')} dkim={v.get('dkim')} "
                  f"dmarc={v.get('dmarc')} source={v.get('source')} fcrdns={v.get('fcrdns')}", flush=True)
            f.rename(maildir / "cur" / (f.name + ":2,S"))
        time.sleep(0.2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "judge":
        judge_main(sys.argv[2:])
    else:
        sys.exit("usage: receiver.py judge --maildir DIR --out DIR --authserv-id NAME [--maillog F] [--relay-ips A,B]")
