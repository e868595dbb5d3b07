"""Sends one test message from inside a namespace (run it with the Internet venv's python via
`ns.exec`): optionally DKIM-signed with dkimpy, from a given source address and HELO name, straight
to the recipient domain's MX (looked up through `--resolver`) or to a given server (e.g. the
smarthost, with STARTTLS or implicit TLS and AUTH). Prints one JSON object:
{"ok": bool, "stage": "...", "code": int|null, "error": str|null, "message_id": "..."}.
"""
from __future__ import annotations

import argparse
import json
import smtplib
import ssl
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate


def build(a) -> bytes:
    m = EmailMessage()
    m["From"] = a.from_header or a.mail_from
    m["To"] = a.to
    m["Subject"] = a.subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = f"<{a.message_id}>"
    m.set_content(a.body + "\n")
    raw = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if a.dkim_key:
        import dkim
        key = open(a.dkim_key, "rb").read()
        sig = dkim.sign(raw, a.selector.encode(), a.domain.encode(), key,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        raw = sig + raw
    if a.top_dkim_key:
        # Another signature on top (verifiers see it first), e.g. by a key that is not published.
        import dkim
        sig = dkim.sign(raw, (a.top_selector or a.selector).encode(), a.domain.encode(),
                        open(a.top_dkim_key, "rb").read(),
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        raw = sig + raw
    return raw


def mx_of(domain: str, resolver: str | None) -> list[str]:
    import dns.resolver
    r = dns.resolver.Resolver(configure=resolver is None)
    if resolver:
        r.nameservers = [resolver]
    r.lifetime = 10
    hosts = sorted(((x.preference, x.exchange.to_text().rstrip(".")) for x in r.resolve(domain, "MX")))
    return [h for _, h in hosts]


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--to", required=True)
    p.add_argument("--mail-from", required=True)
    p.add_argument("--from-header")
    p.add_argument("--helo", required=True)
    p.add_argument("--source", help="local address to send from")
    p.add_argument("--server", help="connect here instead of the recipient domain's MX")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--resolver")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--ssl", action="store_true", help="implicit TLS (port 465)")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--dkim-key")
    p.add_argument("--selector", default="dkim")
    p.add_argument("--top-dkim-key", help="a second signature, placed above the first")
    p.add_argument("--top-selector")
    p.add_argument("--domain")
    p.add_argument("--message-id", default=None)
    p.add_argument("--subject", default="mailu-k8s stand-in Internet test")
    p.add_argument("--body", default="Hello from the behaviour suite.")
    a = p.parse_args(argv)
    a.message_id = a.message_id or f"{uuid.uuid4().hex}@{a.helo}"
    out = {"ok": False, "stage": "build", "code": None, "error": None, "message_id": a.message_id}
    try:
        raw = build(a)
        server = a.server
        if not server:
            out["stage"] = "mx"
            server = mx_of(a.to.split("@", 1)[1], a.resolver)[0]
            if a.resolver:  # resolve the MX host through the same resolver, in the source's family
                import dns.resolver
                import ipaddress
                r = dns.resolver.Resolver(configure=False)
                r.nameservers = [a.resolver]
                family = ipaddress.ip_address(a.source).version if a.source else 4
                server = r.resolve(server, "A" if family == 4 else "AAAA")[0].to_text()
        out["server"] = server
        out["stage"] = "connect"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        src = (a.source, 0) if a.source else None
        if a.ssl:
            s = smtplib.SMTP_SSL(server, a.port, local_hostname=a.helo, source_address=src, timeout=30, context=ctx)
        else:
            s = smtplib.SMTP(server, a.port, local_hostname=a.helo, source_address=src, timeout=30)
        with s:
            s.ehlo(a.helo)
            if a.starttls:
                out["stage"] = "starttls"
                s.starttls(context=ctx)
                s.ehlo(a.helo)
            if a.user:
                out["stage"] = "auth"
                s.login(a.user, a.password or "")
            out["stage"] = "send"
            s.sendmail(a.mail_from, [a.to], raw)
        out["ok"] = True
        out["stage"] = "done"
    except smtplib.SMTPResponseException as e:
        out["code"], out["error"] = e.smtp_code, e.smtp_error.decode(errors="replace")
    except smtplib.SMTPRecipientsRefused as e:
        code, msg = next(iter(e.recipients.values()))
        out["code"], out["error"] = code, msg.decode(errors="replace")
    except Exception as e:
        out["error"] = repr(e)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
