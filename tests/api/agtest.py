"""Harness for black-box API tests: start a real `accountguard serve` on a
free loopback port with its own data directory, make API keys with the CLI,
talk HTTP with the standard library, kill it (-9 if asked) and restart it.

Each test file is a plain script run by ctest; it prints
'N passed, M failed' and exits non-zero on any failure."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BIN = os.environ.get("AG_BIN") or os.path.join(os.path.dirname(__file__), "../../build/accountguard")
SRC = os.environ.get("AG_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "../..")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# AG_TEST_API_STORE=pg (with AG_TEST_PG_URL, e.g. under tests/pg/pgctl.py run):
# every Server gets a fresh PostgreSQL database instead of its SQLite file,
# and cli() calls with that data dir use it too (tests/pg.cmake runs some
# test files this way; any can be run so by hand).
PG_URL = os.environ.get("AG_TEST_PG_URL") if os.environ.get("AG_TEST_API_STORE") == "pg" else None
_pg_stores = {}


def pg_store(data_dir):
    """The PostgreSQL URL standing in for <data_dir>'s store (None: SQLite)."""
    if not PG_URL:
        return None
    if data_dir not in _pg_stores:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../pg"))
        import pgctl
        name = "api_" + "".join(c for c in os.path.basename(data_dir.rstrip("/")).lower() if c.isalnum())
        _pg_stores[data_dir] = pgctl.createdb(PG_URL, name)
    return _pg_stores[data_dir]


def cli(*args, data_dir=None, check=True, env=None):
    cmd = [BIN, *args]
    if data_dir:
        cmd.append("--data-dir=" + data_dir)
        if pg_store(data_dir) and not any(a.startswith("--store") for a in args):
            cmd.append("--store=" + pg_store(data_dir))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


class Server:
    def __init__(self, extra_args=(), data_dir=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="agapi")
        self.extra = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    def start(self):
        self.port = free_port()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data-dir=" + self.data_dir, f"--listen=127.0.0.1:{self.port}",
             *(["--store=" + pg_store(self.data_dir)] if pg_store(self.data_dir) else []),
             *self.extra],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.read_log()[-2000:]}")
            try:
                st, _, _ = self.request("GET", "/healthz")
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not come up")

    def read_log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def key(self, scopes, name="test"):
        p = cli("apikey", "create", "--name", name, "--scopes", scopes, data_dir=self.data_dir)
        return p.stdout.strip()

    def key_id(self, key):
        return key.split("_")[1]

    def request(self, method, path, body=None, key=None, headers=None, raw=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload
        return r.status, parsed, r

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and sig == signal.SIGTERM and self.proc.returncode not in (0, -15):
            raise AssertionError(f"server exited {self.proc.returncode} on SIGTERM: {self.read_log()[-3000:]}")
        self.proc = None

    def kill9(self):
        self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def event(eid, etype="login.succeeded", account="u_1", **kw):
    ev = {"id": eid, "type": etype, "occurred_at": kw.pop("occurred_at", "2026-11-21T10:00:00Z"),
          "account": {"id": account}}
    ctx = kw.pop("context", None)
    if ctx is not None:
        ev["context"] = ctx
    props = kw.pop("properties", None)
    if props is not None:
        ev["properties"] = props
    ev.update(kw)
    return ev


def routes():
    p = cli("routes")
    rows = []
    for line in p.stdout.strip().splitlines()[1:]:
        method, path, scope, summary = line.split("\t")
        rows.append((method, path, None if scope == "-" else scope, summary))
    return rows


def run(tests):
    """Run test functions; print the closing count line; exit non-zero on failure."""
    passed = failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        t0 = time.time()
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__} ({time.time() - t0:.2f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
