"""The command line: help and version, --help on every subcommand, one-line
errors with a non-zero exit, API keys and migrations on a fresh store."""
import os
import shutil
import sqlite3
import subprocess
import tempfile

from agtest import BIN, cli, run


def subcommands():
    out = cli("help").stdout
    names = []
    in_list = False
    for line in out.splitlines():
        if line.startswith("Subcommands:"):
            in_list = True
            continue
        if in_list:
            if not line.strip():
                break
            names.append(line.split()[0])
    return names


def test_help_and_version():
    p = cli("version")
    assert p.stdout.startswith("accountguard ")
    names = subcommands()
    for required in ("serve", "migrate", "apikey", "version", "help"):
        assert required in names, names
    for n in names:
        p = cli(n, "--help")
        assert "Usage:" in p.stdout, n
    p = subprocess.run([BIN], capture_output=True, text=True)
    assert p.returncode == 2 and "Subcommands" in p.stdout


def test_errors_are_one_line_and_nonzero():
    d = tempfile.mkdtemp()
    try:
        cases = [
            ["frobnicate"],
            ["serve", "--no-such-flag"],
            ["serve", "--listen"],
            ["serve", "--max-body-bytes=lots", "--data-dir=" + d],
            ["apikey", "--data-dir=" + d],
            ["apikey", "create", "--name", "x", "--data-dir=" + d],
            ["apikey", "create", "--name", "x", "--scopes", "bogus", "--data-dir=" + d],
            ["apikey", "revoke", "k_nope", "--data-dir=" + d],
            ["help", "nothing"],
            ["migrate", "--store=postgres://nowhere/db", "--data-dir=" + d],
        ]
        for args in cases:
            p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30)
            assert p.returncode != 0, args
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            assert len(lines) == 1, (args, p.stderr)
            assert lines[0].startswith("accountguard"), (args, lines)
    finally:
        shutil.rmtree(d)


def test_config_file_errors_name_the_line():
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "ag.conf")
        with open(cfg, "w") as f:
            f.write("# ok\nlisten = 127.0.0.1:1\nthreads_of_doom = 3\n")
        p = subprocess.run([BIN, "migrate", "--config", cfg], capture_output=True, text=True)
        assert p.returncode == 2 and ":3:" in p.stderr and "threads_of_doom" in p.stderr
    finally:
        shutil.rmtree(d)


def test_apikey_lifecycle_and_migrate():
    d = tempfile.mkdtemp()
    try:
        p = cli("migrate", data_dir=d)
        assert "migrated from schema version 0" in p.stdout, p.stdout
        p = cli("migrate", data_dir=d)
        assert "nothing to do" in p.stdout
        key = cli("apikey", "create", "--name", "ops", "--scopes", "events:write,events:read",
                  data_dir=d).stdout.strip()
        assert key.startswith("agk_")
        listing = cli("apikey", "list", data_dir=d).stdout
        kid = key.split("_")[1]
        assert kid in listing and "events:write events:read" in listing and "active" in listing
        assert key.split("_")[2] not in listing
        con = sqlite3.connect(os.path.join(d, "accountguard.db"))
        raw = con.execute("SELECT hash FROM api_keys").fetchone()[0]
        con.close()
        assert key.encode() not in raw and len(raw) == 32
        cli("apikey", "revoke", kid, data_dir=d)
        assert "revoked" in cli("apikey", "list", data_dir=d).stdout
        st = os.stat(os.path.join(d, "secret.key"))
        assert st.st_mode & 0o077 == 0, oct(st.st_mode)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    run([test_help_and_version, test_errors_are_one_line_and_nonzero,
         test_config_file_errors_name_the_line, test_apikey_lifecycle_and_migrate])
