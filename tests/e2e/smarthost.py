"""The smarthost stand-in for `egress.mode: relay`: a submission server at the config's relay host
and port that requires AUTH with exactly the credentials given (the values of the referenced
Secret), over STARTTLS (587, 25 and any other port) or implicit TLS (465), and forwards each
accepted message to the recipient domain's MX (looked up through the Internet's resolver) from its
own address, with its own name in HELO, so the receiver judges the relayed message.

Runs as `python smarthost.py serve CONFIG.json` (aiosmtpd, in the venv) inside the Internet's
`inet-relay` namespace. Every AUTH attempt and every message is a JSON line in sessions.jsonl;
`read_log()` folds them into one record per SMTP session.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Smarthost:
    def __init__(self, inet, python: Path):
        self.inet = inet
        self.python = python
        self.dir = inet.workdir / "relay"
        self.relay = inet.relay

    @property
    def port(self) -> int:
        return int(self.relay.get("port") or 587)

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        host = self.relay["host"].rstrip(".")
        cert, key = self.dir / "cert.pem", self.dir / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "30",
                        "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}"],
                       check=True, capture_output=True)
        conf = {
            "host": host,
            "addresses": self.inet.relay_addrs,
            "port": self.port,
            "implicit_tls": self.port == 465,
            "username": self.relay.get("username"),
            "password": self.relay.get("password"),
            "cert": str(cert),
            "key": str(key),
            "log": str(self.dir / "sessions.jsonl"),
            "ready": str(self.dir / "smarthost.ready"),
        }
        path = self.dir / "smarthost.json"
        path.write_text(json.dumps(conf, indent=1))
        path.chmod(0o600)
        self.inet.relay_ns.spawn([str(self.python), str(HERE / "smarthost.py"), "serve", str(path)],
                                 self.dir / "smarthost.out", name="smarthost")

    def ready(self) -> bool:
        from internet import tcp_open
        return (self.dir / "smarthost.ready").exists() and all(
            tcp_open(self.inet.res_ns, a, self.port, banner=False) for a in self.inet.relay_addrs)


def read_log(path: Path) -> list[dict]:
    """One record per SMTP session: peer, tls, every AUTH attempt (`auth`: [{user, ok}]), the
    user that authenticated (`auth_user`, None if none did), `auth_ok`, the last attempted `user`,
    `mail_from`/`rcpts` of the last message, and `messages` with each forwarding outcome."""
    path = Path(path)
    if not path.exists():
        return []
    sessions: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        s = sessions.setdefault(e["session"], {
            "session": e["session"], "peer": e.get("peer"), "tls": False, "auth": [],
            "auth_user": None, "auth_ok": False, "user": None, "mail_from": None, "rcpts": [],
            "messages": [], "refused": []})
        s["tls"] = s["tls"] or bool(e.get("tls"))
        if e["event"] == "auth":
            s["auth"].append({"user": e.get("user"), "ok": e.get("ok"), "mechanism": e.get("mechanism")})
            s["user"] = e.get("user")
            if e.get("ok"):
                s["auth_user"], s["auth_ok"] = e.get("user"), True
        elif e["event"] == "message":
            s["messages"].append({k: e.get(k) for k in ("mail_from", "rcpts", "forwarded", "detail", "message_id")})
            s["mail_from"], s["rcpts"] = e.get("mail_from"), e.get("rcpts")
        elif e["event"] == "refused":
            s["refused"].append({k: e.get(k) for k in ("command", "reply")})
    return list(sessions.values())


# --------------------------------------------------------------------------------------------
# The server (runs in the venv, inside the relay namespace)


def serve(conf_path: str):
    import asyncio
    import email
    import itertools
    import ipaddress
    import smtplib
    import ssl

    import dns.resolver
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    conf = json.loads(Path(conf_path).read_text())
    counter = itertools.count(1)
    log_path = Path(conf["log"])

    def log(event: dict):
        with open(log_path, "a") as fh:
            fh.write(json.dumps(event) + "\n")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(conf["cert"], conf["key"])
    v4 = next((a for a in conf["addresses"] if ipaddress.ip_address(a).version == 4), None)
    v6 = next((a for a in conf["addresses"] if ipaddress.ip_address(a).version == 6), None)

    def forward(mail_from: str, rcpts: list[str], data: bytes) -> tuple[bool, str]:
        """Delivers to each recipient domain's MX from our own address (IPv4 first)."""
        r = dns.resolver.Resolver()
        r.lifetime = 10
        details = []
        for domain in sorted({x.rsplit("@", 1)[1] for x in rcpts}):
            targets = [x for x in rcpts if x.rsplit("@", 1)[1] == domain]
            try:
                mx = sorted(r.resolve(domain, "MX"), key=lambda x: x.preference)[0].exchange.to_text()
                tries = []
                for rtype, src in (("A", v4), ("AAAA", v6)):
                    if src:
                        try:
                            tries += [(a.to_text(), src) for a in r.resolve(mx, rtype)]
                        except Exception:
                            pass
                last = None
                for addr, src in tries:
                    try:
                        with smtplib.SMTP(addr, 25, local_hostname=conf["host"], source_address=(src, 0),
                                          timeout=30) as s:
                            s.ehlo(conf["host"])
                            if s.has_extn("starttls"):
                                c = ssl.create_default_context()
                                c.check_hostname, c.verify_mode = False, ssl.CERT_NONE
                                s.starttls(context=c)
                                s.ehlo(conf["host"])
                            s.sendmail(mail_from, targets, data)
                        details.append(f"{domain}: sent to {mx} [{addr}] from {src}")
                        last = None
                        break
                    except Exception as e:
                        last = f"{domain}: {mx} [{addr}]: {e!r}"
                if last or not tries:
                    return False, last or f"{domain}: no address for {mx}"
            except Exception as e:
                return False, f"{domain}: {e!r}"
        return True, "; ".join(details)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.original_content or envelope.content)
            ok, detail = await asyncio.get_running_loop().run_in_executor(
                None, forward, envelope.mail_from, list(envelope.rcpt_tos),
                envelope.original_content or envelope.content)
            log({"session": server.mke_id, "event": "message", "peer": session.peer[0],
                 "tls": server.mke_tls(), "auth_user": server.mke_user, "mail_from": envelope.mail_from,
                 "rcpts": list(envelope.rcpt_tos), "forwarded": ok, "detail": detail,
                 "message_id": (msg.get("Message-ID") or "").strip().strip("<>")})
            return "250 2.0.0 OK relayed" if ok else f"451 4.4.0 forwarding failed: {detail[:200]}"

    def authenticator(server, session, envelope, mechanism, auth_data):
        user = password = None
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(errors="replace"), auth_data.password.decode(errors="replace")
        ok = user is not None and user == conf["username"] and password == conf["password"]
        log({"session": server.mke_id, "event": "auth", "peer": session.peer[0], "tls": server.mke_tls(),
             "mechanism": mechanism, "user": user, "ok": ok})
        if ok:
            server.mke_user = user
        return AuthResult(success=ok, handled=False)

    class Server(SMTP):
        def connection_made(self, transport):
            # Called again after STARTTLS, with a fresh session: the ids live on the server.
            if self.transport is None:
                self.mke_id = f"{os.getpid()}-{next(counter)}"
                self.mke_user = None
                self.mke_implicit = transport.get_extra_info("sslcontext") is not None
            super().connection_made(transport)

        def mke_tls(self) -> bool:
            return bool(self.mke_implicit or self._tls_protocol)

        async def push(self, status):
            if status[:1] in ("4", "5") and self.session is not None:
                log({"session": self.mke_id, "event": "refused", "peer": self.session.peer[0],
                     "tls": self.mke_tls(), "reply": status})
            return await super().push(status)

    implicit = conf["implicit_tls"]

    def factory():
        return Server(Handler(), hostname=conf["host"], ident="mke smarthost",
                      tls_context=None if implicit else ctx, require_starttls=not implicit,
                      auth_required=True, auth_require_tls=not implicit,
                      authenticator=authenticator)

    async def main():
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(factory, host=a, port=conf["port"],
                                            ssl=ctx if implicit else None)
                   for a in conf["addresses"]]
        Path(conf["ready"]).write_text(str(os.getpid()))
        print(f"smarthost {conf['host']} on {conf['addresses']} port {conf['port']} "
              f"({'implicit TLS' if implicit else 'STARTTLS'}), AUTH required", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit("usage: smarthost.py serve CONFIG.json")
