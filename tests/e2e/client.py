"""A mail and web client run inside an Internet host's namespace: `python3 client.py JSON`.

Prints one JSON object: {"ok": bool, "detail": ...}. Uses only the standard library (smtplib,
imaplib, poplib, http.client), so it runs with any python3.
"""
from __future__ import annotations

import email.utils
import html.parser
import http.client
import http.cookiejar
import imaplib
import json
import poplib
import smtplib
import socket
import ssl
import struct
import sys
import time
import urllib.parse
import urllib.request


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def proxy_v2(src: str, dst: str, sport: int, dport: int) -> bytes:
    """A PROXY protocol v2 header (TCP over IPv4/IPv6), as a load balancer sends it."""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if ":" in src:
        fam, addrs = 0x21, socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    else:
        fam, addrs = 0x11, socket.inet_aton(src) + socket.inet_aton(dst)
    body = addrs + struct.pack("!HH", sport, dport)
    return sig + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


class ProxySMTP(smtplib.SMTP):
    proxy = None

    def _get_socket(self, host, port, timeout):
        s = socket.create_connection((host, port), timeout, self.source_address)
        if self.proxy:
            local = s.getsockname()
            s.sendall(proxy_v2(local[0], host, local[1], port))
        return s


class ProxySMTP_SSL(smtplib.SMTP_SSL):
    proxy = None

    def _get_socket(self, host, port, timeout):
        s = socket.create_connection((host, port), timeout, self.source_address)
        if self.proxy:
            local = s.getsockname()
            s.sendall(proxy_v2(local[0], host, local[1], port))
        return self.context.wrap_socket(s, server_hostname=self._host)


def message(a):
    mid = a.get("message_id") or email.utils.make_msgid(domain="e2e.test")
    body = (f"From: {a['mail_from']}\r\nTo: {a['rcpt']}\r\nSubject: {a.get('subject', 'e2e')}\r\n"
            f"Date: {email.utils.formatdate()}\r\nMessage-ID: {mid}\r\n\r\n{a.get('body', 'hello from the behaviour suite')}\r\n")
    return mid, body


def smtp(a):
    host, port, mode = a["host"], a["port"], a.get("mode", "plain")
    cls = ProxySMTP_SSL if mode == "ssl" else ProxySMTP
    cls.proxy = a.get("proxy")
    kw = {"context": ctx()} if mode == "ssl" else {}
    s = cls(host, port, local_hostname=a.get("helo", "client.e2e.test"), timeout=30, **kw)
    try:
        s.ehlo()
        if mode == "starttls":
            s.starttls(context=ctx())
            s.ehlo()
        if a.get("user"):
            try:
                s.login(a["user"], a["password"])
            except smtplib.SMTPAuthenticationError as e:
                return {"ok": False, "stage": "auth", "code": e.smtp_code, "detail": str(e.smtp_error)}
        mid, body = message(a)
        try:
            refused = s.sendmail(a["mail_from"], [a["rcpt"]], body)
        except smtplib.SMTPRecipientsRefused as e:
            (code, msg), = e.recipients.values()
            return {"ok": False, "stage": "rcpt", "code": code, "detail": msg.decode(errors="replace")}
        except smtplib.SMTPSenderRefused as e:
            return {"ok": False, "stage": "mail", "code": e.smtp_code, "detail": e.smtp_error.decode(errors="replace")}
        except smtplib.SMTPDataError as e:
            return {"ok": False, "stage": "data", "code": e.smtp_code, "detail": e.smtp_error.decode(errors="replace")}
        return {"ok": not refused, "message_id": mid, "detail": "accepted"}
    finally:
        try:
            s.quit()
        except Exception:
            pass


def imap(a):
    deadline = time.monotonic() + a.get("wait", 60)
    last = ""
    while time.monotonic() < deadline:
        m = imaplib.IMAP4_SSL(a["host"], a.get("port", 993), ssl_context=ctx(), timeout=20)
        try:
            m.login(a["user"], a["password"])
            m.select("INBOX")
            typ, data = m.search(None, "HEADER", "Message-ID", a["message_id"])
            ids = data[0].split()
            if ids:
                typ, msg = m.fetch(ids[-1], "(RFC822)")
                return {"ok": True, "detail": f"found in INBOX ({len(msg[0][1])} bytes)",
                        "message": msg[0][1].decode(errors="replace")}
            last = "not in INBOX yet"
        except imaplib.IMAP4.error as e:
            return {"ok": False, "detail": f"IMAP: {e}"}
        finally:
            try:
                m.logout()
            except Exception:
                pass
        time.sleep(2)
    return {"ok": False, "detail": last}


def pop3(a):
    p = poplib.POP3_SSL(a["host"], a.get("port", 995), context=ctx(), timeout=20)
    try:
        p.user(a["user"])
        p.pass_(a["password"])
        n, _ = p.stat()
        for i in range(1, n + 1):
            _, lines, _ = p.top(i, 0)
            if any(a["message_id"].encode() in l for l in lines):
                return {"ok": True, "detail": f"message {i} of {n}"}
        return {"ok": False, "detail": f"not among {n} messages"}
    except poplib.error_proto as e:
        return {"ok": False, "detail": f"POP3: {e}"}
    finally:
        try:
            p.quit()
        except Exception:
            pass


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs = {}

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "input" and d.get("name"):
            self.inputs[d["name"]] = d.get("value") or ""


def web(a):
    """GET /sso/login, POST the form with the account's credentials, follow to the admin UI."""
    base = a["base"]  # e.g. https://203.0.113.80
    host = a["host_header"]
    jar = http.cookiejar.CookieJar()
    handlers = [urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=ctx())]
    opener = urllib.request.build_opener(*handlers)

    def req(path, data=None):
        r = urllib.request.Request(base + path, data=data, headers={"User-Agent": "e2e"})
        return opener.open(r, timeout=30)

    r = req("/sso/login")
    page = r.read().decode(errors="replace")
    f = Form()
    f.feed(page)
    if "pw" not in f.inputs:
        return {"ok": False, "detail": f"/sso/login ({r.status}) has no login form"}
    form = dict(f.inputs)
    form.update({"email": a["user"], "pw": a["password"]})
    form.pop("submitWebmail", None)
    form["submitAdmin"] = form.get("submitAdmin") or "Sign in"
    r = req("/sso/login", urllib.parse.urlencode(form).encode())
    final = r.geturl()
    body = r.read().decode(errors="replace")
    ok = r.status == 200 and "/admin" in urllib.parse.urlparse(final).path and "Sign in" not in body[:0]
    cookies = sorted(c.name for c in jar)
    signed_in = ("logout" in body.lower() or "sign out" in body.lower())
    return {"ok": ok and signed_in, "detail": f"landed on {urllib.parse.urlparse(final).path} ({r.status}), "
            f"cookies {cookies}, signed-in page: {signed_in}"}


def main():
    a = json.loads(sys.argv[1])
    try:
        out = {"smtp": smtp, "imap": imap, "pop3": pop3, "web": web}[a["op"]](a)
    except Exception as e:  # a refused connection is a result too
        out = {"ok": False, "detail": f"{type(e).__name__}: {e}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
