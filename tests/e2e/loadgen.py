"""A load of SMTP senders run inside an Internet host's namespace: `python3 loadgen.py JSON`.

Sends `count` messages, each with its own Message-ID, over `concurrency` threads, one connection
per message (at a steady `rate` when given), and behaves as a real sender does: a 4xx reply, a refused or broken connection or a
timeout is retried with the same Message-ID (backoff up to 5 s) until `deadline` seconds have
passed; a 5xx reply is final. One JSON line per message goes to `out` as soon as it is settled
(the parent reads progress from it): Message-ID, the wall time of the 250 after DATA, attempts and
the replies that made it retry. Standard library only (client.py's PROXY-aware SMTP classes).
"""
from __future__ import annotations

import json
import secrets
import smtplib
import sys
import threading
import time

import client


def send_one(a: dict, mid: str) -> tuple[bool, int | None, str]:
    """One attempt: (accepted, reply code, text). A connection-level failure is code None."""
    mode = a.get("mode", "plain")
    cls = client.ProxySMTP_SSL if mode == "ssl" else client.ProxySMTP
    cls.proxy = a.get("proxy")
    kw = {"context": client.ctx()} if mode == "ssl" else {}
    try:
        s = cls(a["host"], a["port"], local_hostname=a.get("helo", "client.e2e.test"), timeout=30, **kw)
    except (OSError, smtplib.SMTPException) as e:
        return False, getattr(e, "smtp_code", None), f"connect: {type(e).__name__}: {e}"[:200]
    try:
        s.ehlo()
        if mode == "starttls":
            s.starttls(context=client.ctx())
            s.ehlo()
        if a.get("user"):
            s.login(a["user"], a["password"])
        _, body = client.message(dict(a, message_id=mid, subject=f"{a['tag']} {mid}"))
        s.sendmail(a["mail_from"], [a["rcpt"]], body)
        return True, 250, "accepted"
    except smtplib.SMTPRecipientsRefused as e:
        (code, msg), = e.recipients.values()
        return False, code, msg.decode(errors="replace")[:200]
    except smtplib.SMTPResponseException as e:
        text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return False, e.smtp_code, text[:200]
    except (OSError, smtplib.SMTPException) as e:
        return False, None, f"{type(e).__name__}: {e}"[:200]
    finally:
        try:
            s.quit()
        except Exception:
            s.close()


def worker(a: dict, todo: list, lock: threading.Lock, out, stop_at: float):
    while True:
        with lock:
            if not todo:
                return
            mid, due = todo.pop()
        if due > time.time():
            time.sleep(due - time.time())
        attempts, retries = 0, []
        t_first = time.time()
        while True:
            attempts += 1
            ok, code, text = send_one(a, mid)
            if ok:
                rec = {"mid": mid, "ok": True, "t_first": t_first, "t_accept": time.time(), "attempts": attempts}
                break
            if code is not None and 500 <= code < 600:
                rec = {"mid": mid, "ok": False, "final": f"{code} {text}", "attempts": attempts}
                break
            retries.append(f"{code} {text}" if code else text)
            if time.time() > stop_at:
                rec = {"mid": mid, "ok": False, "final": "gave up at the deadline", "attempts": attempts}
                break
            time.sleep(min(attempts, 5))
        rec["retries"] = retries[:3] + ([f"... {len(retries) - 3} more"] if len(retries) > 3 else [])
        rec["retry_count"] = len(retries)
        with lock:
            out.write(json.dumps(rec) + "\n")
            out.flush()


def main():
    a = json.loads(sys.argv[1])
    nonce = secrets.token_hex(4)
    # With `rate` (messages per second), message i is not sent before start + i / rate: a steady
    # stream that runs before, through and after a fault; without, as fast as the senders can.
    t0, rate = time.time(), a.get("rate")
    todo = [(f"<{a['tag']}-{i}-{nonce}@load.e2e.test>", t0 + i / rate if rate else 0)
            for i in range(a["count"])][::-1]
    lock = threading.Lock()
    stop_at = time.time() + a.get("deadline", 300)
    with open(a["out"], "a") as out:
        threads = [threading.Thread(target=worker, args=(a, todo, lock, out, stop_at))
                   for _ in range(min(a.get("concurrency", 20), a["count"]) or 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(json.dumps({"ok": True, "sent": a["count"]}))


if __name__ == "__main__":
    main()
