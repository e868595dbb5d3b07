"""The load mode's counters on fixed inputs (no root, no daemons): a counter that misreads
postfix's log or a maildir would hide lost mail, so each reading is pinned here.

    .venv/bin/python -m pytest -q tests/e2e/test_load.py
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "conformance"))

import load  # noqa: E402

# Lines as Debian's postfix 3.7 writes them to maillog_file (Mailu's main.cf:9: /dev/stdout).
LOG = """\
Dec 07 17:58:00 mx1 postfix/cleanup[596]: 8AD43A6E589: message-id=<expired@load.e2e.test>
Dec 07 17:58:00 mx1 postfix/qmgr[548]: 8AD43A6E589: from=<a@b>, status=expired, returned to sender
Dec 07 17:58:01 mx1 postfix/cleanup[597]: 1111111111A: message-id=<bounced@load.e2e.test>
Dec 07 17:58:01 mx1 postfix/lmtp[619]: 1111111111A: to=<u@example.org>, relay=front[10.0.0.1]:2525, dsn=5.1.1, status=bounced (user unknown)
Dec 07 17:58:02 mx1 postfix/cleanup[598]: 2222222222B: message-id=<sent@load.e2e.test>
Dec 07 17:58:02 mx1 postfix/lmtp[619]: 2222222222B: to=<u@example.org>, relay=front[10.0.0.1]:2525, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Dec 07 17:58:03 mx1 postfix/lmtp[619]: 3333333333C: to=<u@example.org>, status=deferred (451 4.4.0 Proxy failed)
"""


class Logs(load.Load):
    def __init__(self, text: str):  # no deployment: only the log readers
        self.text = text

    def postfix_logs(self) -> str:
        return self.text


def test_bounced_and_expired_are_returned_to_the_sender():
    assert Logs(LOG).bounced_ids() == {"<expired@load.e2e.test>", "<bounced@load.e2e.test>"}


def test_header_reads_the_header_block_only(tmp_path):
    f = tmp_path / "m"
    f.write_bytes(b"Return-Path: <x>\r\nMessage-ID: <one@x>\r\nSubject: s\r\n\r\nMessage-ID: <body@x>\r\n")
    assert load.header(f, "message-id") == "<one@x>"
    f.write_bytes(b"Subject: s\r\n\r\nMessage-ID: <body@x>\r\n")
    assert load.header(f, "message-id") == ""


def test_queue_files_counts_messages_in_hashed_queue_directories(tmp_path):
    for rel in ("incoming/A1", "active/B2", "deferred/C/C3", "deferred/D/D4", "defer/C/C3", "pid/master.pid"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    # `defer` holds delivery logs and `pid` the lock: not messages.
    assert load.queue_files(tmp_path) == 4


def test_percentiles():
    xs = [float(i) for i in range(1, 101)]
    assert load.pct(xs, 0.5) == 51.0
    assert load.pct(xs, 0.99) == 100.0
    assert load.pct([], 0.5) is None


def test_deliveries_count_a_message_moved_from_new_to_cur_once(tmp_path):
    """dovecot and the receiver's judge rename new/X to cur/X:2,S: the same copy, not two."""
    box = tmp_path / "box"
    for sub in ("new", "cur"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.M1").write_bytes(b"Message-ID: <m@x>\r\n\r\nbody\r\n")
    (box / "new" / "2.M2").write_bytes(b"Message-ID: <m@x>\r\n\r\nbody\r\n")  # a real second copy
    counter = object.__new__(load.Load)
    counter.seen = {}
    counter.mail_dirs = lambda: [box]
    assert len(counter.deliveries()["<m@x>"]) == 2
    (box / "new" / "1.M1").rename(box / "cur" / "1.M1:2,S")
    assert len(counter.deliveries()["<m@x>"]) == 2
