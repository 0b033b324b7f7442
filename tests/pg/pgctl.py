#!/usr/bin/env python3
"""A throwaway PostgreSQL for the tests and benchmarks: initdb into a
temporary directory, start it on loopback only (TCP 127.0.0.1 on a free port,
the Unix socket in that directory), hand out its URL, stop and remove it.

    pgctl.py start STATE_DIR [--durable]   start; STATE_DIR/url gets the URL
    pgctl.py run STATE_DIR CMD ARGS...     run CMD with AG_TEST_PG_URL set
    pgctl.py stop STATE_DIR                stop and remove everything
    pgctl.py url STATE_DIR                 print the URL

The Debian `postgresql` package provides the server binaries
(/usr/lib/postgresql/<version>/bin). initdb refuses to run as root, so as
root the server runs as the `postgres` user the package creates. Tests run
with fsync off (fast; nothing here must survive a power cut); --durable
keeps PostgreSQL's defaults, for benchmarks.

Also a module: start(), stop() and createdb() for tests that want their own
server when run by hand."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[4].split(".")])
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                           "(apt-get install postgresql, or scripts/install-deps.sh test)")
    return os.path.dirname(found[-1])


def _as_owner(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(state_dir, durable=False):
    """Start a server; returns its URL (also written to STATE_DIR/url)."""
    b = bindir()
    os.makedirs(state_dir, exist_ok=True)
    stop(state_dir)  # a leftover from an interrupted run
    # short path: the Unix socket's path must stay under 108 bytes
    root = tempfile.mkdtemp(prefix="agpg")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = os.path.join(root, "data")
    with open(os.path.join(state_dir, "root"), "w") as f:
        f.write(root)
    r = subprocess.run(_as_owner([os.path.join(b, "initdb"), "-D", data, "-A", "trust", "-U", "ag",
                                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("initdb failed: " + r.stderr[-2000:])
    port = free_port()
    opts = [f"-k {root}", "-c listen_addresses=127.0.0.1", f"-p {port}",
            "-c max_connections=300", "-c deadlock_timeout=100ms", "-c shared_buffers=128MB"]
    if not durable:
        opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    r = subprocess.run(_as_owner([os.path.join(b, "pg_ctl"), "start", "-w", "-t", "60", "-D", data,
                                  "-l", os.path.join(root, "log"), "-o", " ".join(opts)]),
                       capture_output=True, text=True)
    if r.returncode != 0:
        log = ""
        try:
            log = open(os.path.join(root, "log")).read()[-2000:]
        except OSError:
            pass
        raise RuntimeError("pg_ctl start failed: " + r.stderr[-1000:] + log)
    url = f"postgres://ag@127.0.0.1:{port}/postgres"
    with open(os.path.join(state_dir, "url"), "w") as f:
        f.write(url + "\n")
    return url


def url_of(state_dir):
    try:
        with open(os.path.join(state_dir, "url")) as f:
            return f.read().strip()
    except OSError:
        return None


def stop(state_dir):
    try:
        with open(os.path.join(state_dir, "root")) as f:
            root = f.read().strip()
    except OSError:
        return
    data = os.path.join(root, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run(_as_owner([os.path.join(bindir(), "pg_ctl"), "stop", "-D", data,
                                  "-m", "immediate", "-w"]), capture_output=True)
    if os.path.basename(root).startswith("agpg"):
        shutil.rmtree(root, ignore_errors=True)
    for f in ("root", "url"):
        try:
            os.unlink(os.path.join(state_dir, f))
        except OSError:
            pass


def psql(url, sql):
    """Run SQL with psql (ON_ERROR_STOP); returns its output."""
    exe = shutil.which("psql") or os.path.join(bindir(), "psql")
    r = subprocess.run([exe, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("psql: " + r.stderr.strip())
    return r.stdout


def createdb(url, name):
    """A fresh database NAME on the server of URL; returns its URL."""
    psql(url, f'DROP DATABASE IF EXISTS "{name}"')
    psql(url, f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def main(argv):
    if len(argv) < 3 or argv[1] not in ("start", "stop", "run", "url"):
        sys.stderr.write(__doc__)
        return 2
    cmd, state = argv[1], os.path.abspath(argv[2])
    if cmd == "start":
        t0 = time.time()
        url = start(state, durable="--durable" in argv[3:])
        print(f"PostgreSQL up at {url} in {time.time() - t0:.1f}s")
        return 0
    if cmd == "stop":
        stop(state)
        return 0
    url = url_of(state)
    if not url:
        sys.stderr.write(f"pgctl: no PostgreSQL running for {state} (did pg/start fail?)\n")
        return 1
    if cmd == "url":
        print(url)
        return 0
    env = dict(os.environ, AG_TEST_PG_URL=url)
    return subprocess.run(argv[3:], env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
