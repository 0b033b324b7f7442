"""Local receivers for the notification tests (tests/api/test_notify*.py):
an HTTP receiver for webhooks and the SMS gateway (can fail N times, or hang),
an SMTP server (aiosmtpd, Debian's python3-aiosmtpd) in a child process, and
the Standard Webhooks reference verifier (npm standardwebhooks, tests/webhooks).
Everything listens on 127.0.0.1 only."""

import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AG_SOURCE_DIR") or os.path.join(HERE, "../..")


class HttpReceiver:
    """Records every POST: (path, headers dict with lower-case names, body text,
    arrival time). Answers 500 to the first `fail_first` requests, or to all
    while `failing` is set; sleeps `hang_s` before answering while it is set."""

    def __init__(self, fail_first=0):
        self.fail_first = fail_first
        self.failing = False
        self.hang_s = 0.0
        self.requests = []
        self.accepted = []
        self.lock = threading.RLock()
        recv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n).decode("utf-8")
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                with recv.lock:
                    recv.requests.append((self.path, hdrs, body, time.time()))
                    fail = recv.failing or len(recv.requests) <= recv.fail_first
                    hang = recv.hang_s
                if hang:
                    time.sleep(hang)
                if not fail:
                    with recv.lock:
                        recv.accepted.append((self.path, hdrs, body, time.time()))
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def unique(self):
        """Accepted deliveries deduplicated by webhook-id (first one kept)."""
        seen, out = set(), []
        with self.lock:
            for r in self.accepted:
                wid = r[1].get("webhook-id")
                if wid in seen:
                    continue
                seen.add(wid)
                out.append(r)
        return out

    def payloads(self):
        return [json.loads(r[2]) for r in self.unique()]

    def wait(self, pred, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = pred(self)
            if got:
                return got
            time.sleep(0.02)
        return None

    def wait_kind(self, kind, event_id=None, timeout=10.0):
        def pred(r):
            for p, h, b, t in r.accepted:
                d = json.loads(b)
                if d.get("type") == kind and (event_id is None or d["data"].get("event_id") == event_id):
                    return (d, h, b, t)
            return None
        return self.wait(pred, timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _python_with_aiosmtpd():
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import aiosmtpd"], capture_output=True).returncode == 0:
            return exe
    raise AssertionError("aiosmtpd is not installed (apt-get install python3-aiosmtpd)")


SMTP_CHILD = r'''
import os, sys, time, itertools
from aiosmtpd.controller import Controller
out = sys.argv[1]
n = itertools.count()
class H:
    async def handle_DATA(self, server, session, envelope):
        i = next(n)
        tmp = os.path.join(out, f".{i}.eml")
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, f"{i}.eml"))
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[2]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
'''


class SmtpServer:
    """A real SMTP server (aiosmtpd) in a child process; each message lands as
    a file, parsed here with the standard email parser."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="agsmtp")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([_python_with_aiosmtpd(), "-c", SMTP_CHILD, self.dir,
                                      str(self.port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise AssertionError("the SMTP server did not start")
        self.url = f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        out = []
        for name in sorted(os.listdir(self.dir), key=lambda x: (len(x), x)):
            if name.endswith(".eml") and not name.startswith("."):
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    def wait(self, n, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.messages()
            if len(m) >= n:
                return m
            time.sleep(0.05)
        return self.messages()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def verify_standard_webhooks(items):
    """items: [(secret, headers, body)] -> [{"ok": bool, "payload"|"error"}],
    checked by the reference npm package standardwebhooks."""
    script = os.path.join(SRC, "tests/webhooks/verify.mjs")
    if not os.path.isdir(os.path.join(SRC, "tests/webhooks/node_modules/standardwebhooks")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=os.path.join(SRC, "tests/webhooks"), check=True)
    data = "".join(json.dumps({"secret": s, "headers": h, "body": b}) + "\n" for s, h, b in items)
    p = subprocess.run(["node", script], input=data, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("verify.mjs failed: " + p.stderr)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
