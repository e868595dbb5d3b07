"""The flows checked per config. Verdicts come from the daemons (SMTP/IMAP/POP3 replies, admin's
pages) and from the stand-in Internet's receiver (dkimpy, pyspf, authheaders, its postfix), never
from the project's own code."""
from __future__ import annotations

import ipaddress
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def client(ns, **args) -> dict:
    r = ns.exec([sys.executable if Path(sys.executable).exists() else "python3", str(HERE / "client.py"),
                 json.dumps(args)], check=False, timeout=180)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"ok": False, "detail": f"client exited {r.returncode}: {(r.stderr or r.stdout)[-500:]}"}


def expected_helo(plan: dict, cfg: dict) -> str:
    ptr = plan.get("ptr") or []
    if ptr:
        return ptr[0]["name"].rstrip(".")
    return (cfg.get("egress") or {}).get("heloName") or cfg["hostnames"][0]


def offered(c, res, port: int, what: str) -> bool:
    """Whether the exposure offers the port on the public address; a check of a port it does
    not offer is reported SKIPPED (the plan's SRV records say "not offered" too)."""
    ports = getattr(c, "offered", None)
    if ports is None or port in ports:
        return True
    res.add(what, True, f"SKIPPED: the exposure does not offer port {port}", skip=True)
    return False


def run_all(c, inet, res, cfg, plan, creds, inbound, mode, steered, mutate):
    domain = cfg["domain"]
    user, upw = creds["user"]
    admin, apw = creds["admin"]
    v4 = [a for a in inbound if ":" not in a]
    lb = v4[0] if v4 else inbound[0]
    host_ns, host_addrs = inet.host("client")
    proxy = False  # LoadBalancer/hostPort exposures carry no PROXY header (PROXY_PROTOCOL unset)

    # Inbound: the foreign domain's mail server (an Internet host with a PTR and a HELO name that
    # resolves, as a real sender has; a bare client would be greylisted by Mailu's rspamd) mails
    # the user at front's public address.
    sender_ns = getattr(inet, "mx_ns", None) or host_ns
    helo = getattr(inet, "mx_host", "client.e2e.test")
    r = client(sender_ns, op="smtp", host=lb, port=25, mail_from=f"someone@{inet.foreign_domain}",
               rcpt=user, subject="inbound", proxy=proxy, helo=helo)
    res.add("inbound SMTP to a mailbox (port 25, through the edge)", r.get("ok"), r.get("detail"))
    if r.get("ok"):
        mid = r["message_id"]
        if offered(c, res, 993, "inbound message read back over IMAP (993)"):
            r2 = client(host_ns, op="imap", host=lb, port=993, user=user, password=upw, message_id=mid, wait=60)
            res.add("inbound message read back over IMAP (993)", r2.get("ok"), r2.get("detail"))
        if offered(c, res, 995, "inbound message read back over POP3 (995)"):
            r3 = client(host_ns, op="pop3", host=lb, port=995, user=user, password=upw, message_id=mid)
            res.add("inbound message read back over POP3 (995)", r3.get("ok"), r3.get("detail"))

    # The same over IPv6 when front has an IPv6 address (a dual-stack Service).
    v6 = [a for a in inbound if ":" in a]
    if v6 and c.subnet6:
        r = client(sender_ns, op="smtp", host=v6[0], port=25, mail_from=f"someone@{inet.foreign_domain}",
                   rcpt=user, subject="inbound over IPv6", helo=helo)
        res.add("inbound SMTP over IPv6 to a mailbox (port 25)", r.get("ok"), r.get("detail"))
        if r.get("ok"):
            r2 = client(host_ns, op="imap", host=v6[0], port=993, user=user, password=upw,
                        message_id=r["message_id"], wait=60)
            res.add("inbound message read back over IMAP over IPv6", r2.get("ok"), r2.get("detail"))

    # Relay for a stranger: refused, permanently (5xx), for an existing foreign domain.
    r = client(host_ns, op="smtp", host=lb, port=25, mail_from=f"stranger@{inet.foreign_domain}",
               rcpt=inet.foreign_rcpt, subject="open relay?")
    refused = not r.get("ok") and r.get("stage") in ("rcpt", "mail", "data") and str(r.get("code", "")).startswith("5")
    res.add("relay for a stranger refused (port 25)", refused, f"{r.get('code')} {r.get('detail')}")

    # Submission with a password, 465 and 587; a wrong password refused.
    for port, mode_ in ((465, "ssl"), (587, "starttls")):
        if not offered(c, res, port, f"submission {port}"):
            continue
        r = client(host_ns, op="smtp", host=lb, port=port, mode=mode_, user=user, password=upw,
                   mail_from=user, rcpt=user, subject=f"submission {port}")
        res.add(f"submission {port} with the user's password", r.get("ok"), r.get("detail"))
        r = client(host_ns, op="smtp", host=lb, port=port, mode=mode_, user=user, password=upw + "-wrong",
                   mail_from=user, rcpt=user, subject="wrong password")
        res.add(f"submission {port} with a wrong password refused", not r.get("ok") and r.get("stage") == "auth",
                f"{r.get('code')} {r.get('detail')}")

    # Web: SSO login, then the admin UI with the session, through front on 443.
    host = plan.get("mailHost") or cfg["hostnames"][0]
    # By name (the client resolves it through the Internet's resolver), so cookies and
    # redirects work as in a browser.
    web = "web: /sso/login, sign in, admin UI with the session (https, 443)"
    if offered(c, res, 443, web):
        r = client(host_ns, op="web", base=f"https://{host}", host_header=host, user=admin, password=apw)
        res.add(web, r.get("ok"), r.get("detail"))

    outbound(c, inet, res, cfg, plan, creds, mode, steered, host_ns, lb, mutate)


def families(c, cfg) -> list[int]:
    """The address families outbound is driven over: IPv6 too on a dual-stack cluster whose plan
    has an IPv6 egress address, or whose config says `egress.ipv6: disable` (then the IPv6 path
    must be refused: the message still leaves over IPv4)."""
    fam = [4]
    eg = cfg.get("egress") or {}
    ips = eg.get("ips") or []
    if c.subnet6 and (any(":" in a for a in ips) or eg.get("ipv6") == "disable"):
        fam.append(6)
    return fam


def outbound(c, inet, res, cfg, plan, creds, mode, steered, host_ns, lb, mutate):
    user, upw = creds["user"]
    helo = expected_helo(plan, cfg)
    ips = set((cfg.get("egress") or {}).get("ips") or [])
    postfix = list(c.pod("postfix").containers.values())[-1]
    fams = families(c, cfg) if mode != "relay" else [4]
    for fam in fams:
        if len(fams) > 1:
            # Drive one address family at a time (a test control, not Mailu's configuration).
            postfix.exec(["postconf", "-e", f"smtp_address_preference=ipv{fam}"])
            postfix.exec(["postfix", "reload"])
            time.sleep(1)
        ipv6_disabled = fam == 6 and (cfg.get("egress") or {}).get("ipv6") == "disable"
        label = f"outbound over IPv{fam}" if len(fams) > 1 else "outbound"
        if ipv6_disabled:
            label = "outbound with IPv6 preferred, egress.ipv6: disable (the IPv6 path refused: IPv4 used)"
        r = client(host_ns, op="smtp", host=lb, port=587, mode="starttls", user=user, password=upw,
                   mail_from=user, rcpt=inet.foreign_rcpt, subject=label)
        if not r.get("ok"):
            res.add(f"{label}: submitted to {inet.foreign_rcpt}", False, r.get("detail"))
            continue
        v = inet.received(r["message_id"], timeout=120)
        if v is None:
            queue = postfix.exec(["postqueue", "-p"]).stdout[-1500:]
            res.add(f"{label}: the receiver got the message", False,
                    f"not received in 120s; postfix queue: {queue}")
            continue
        detail = {k: v.get(k) for k in ("source", "helo", "ptr", "spf", "dkim", "dmarc", "fcrdns", "via_relay")}
        if mode == "none":
            ok = v.get("spf") != "pass"
            res.add(f"{label}: leaves from the node's address and SPF fails, as the plan warned "
                    "(egress.mode none)", ok, detail)
            continue
        problems = []
        for k in ("spf", "dkim", "dmarc"):
            if v.get(k) != "pass":
                problems.append(f"{k}={v.get(k)}")
        if mode == "relay":
            if not v.get("via_relay"):
                problems.append("did not come through the smarthost")
            log = inet.smarthost_log()
            if not any(e.get("auth_ok") and e.get("auth_user") == creds["relay"]["username"] and e.get("tls")
                       for e in log):
                problems.append(f"the smarthost saw no AUTH over TLS as {creds['relay']['username']}: {log[-3:]}")
        else:
            if v.get("source") not in ips:
                problems.append(f"source {v.get('source')} is not one of egress.ips {sorted(ips)}")
            if (v.get("ptr") or "").rstrip(".") != helo:
                problems.append(f"PTR {v.get('ptr')} does not name the HELO name {helo}")
            if not v.get("fcrdns"):
                problems.append("no forward-confirmed reverse DNS")
            if (v.get("helo") or "").rstrip(".") != helo:
                problems.append(f"HELO {v.get('helo')} is not the planned {helo}")
        if ipv6_disabled and ":" in (v.get("source") or ""):
            problems.append("postfix sent over IPv6 although egress.ipv6 is disable")
        res.add(f"{label}: the receiver's verdict (SPF, DKIM, DMARC, source, PTR, FCrDNS, HELO)",
                not problems, {**detail, "problems": problems} if problems else detail)
    if len(fams) > 1:
        postfix.exec(["postconf", "-X", "smtp_address_preference"])
        postfix.exec(["postfix", "reload"])
