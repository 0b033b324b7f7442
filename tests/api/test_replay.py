"""accountguard replay end to end: the RBA fixture and JSONL events through the
pipeline in time order, one `index<TAB>risk<TAB>action` line per row; the
in-memory run decides exactly as a run that stores every event; legitimate
users pass the challenges they get (an mfa.succeeded follows) and attackers do
not, so only the former teach their new context; bad input is a one-line error."""
import json
import os
import sqlite3
import subprocess
import tempfile

from agtest import BIN, SRC, run

FIXTURE = os.path.join(SRC, "tests/data/risk/rba_small.csv")
HEADER = ("index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,"
          "ASN,User Agent String,Browser Name and Version,OS Name and Version,Device Type,"
          "Login Successful,Is Attack IP,Is Account Takeover,Device ID")
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
          "Gecko) Version/17.1 Safari/605.1.15")
UA_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")


def replay(*args, check=True):
    p = subprocess.run([BIN, "replay", *args], capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"replay {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def lines(out):
    rows = [line.split("\t") for line in out.strip().splitlines()]
    for r in rows:
        assert len(r) == 3, r
    return rows


def test_rba_fixture_in_time_order():
    # The fixture mixes good rows (IPv4 and IPv6, with and without given
    # fields) with malformed ones, each skipped with its line named.
    p = replay("--format", "rba", FIXTURE, check=False)
    assert p.returncode == 1, p  # rows were skipped
    rows = lines(p.stdout)
    assert [r[0] for r in rows] == ["0", "1", "2", "3", "10"], rows  # by timestamp
    for idx, risk, action in rows:
        assert 0.0 <= float(risk) <= 1.0, (idx, risk)
        assert action in ("allow", "review", "challenge", "deny"), action
    said = {int(m.split(":")[0]): m for m in p.stderr.split("skipped line ")[1:]}
    for line, why in ((6, "Login Timestamp"), (7, "Login Successful"), (8, "the header has"),
                      (9, "ASN"), (10, "IP Address"), (13, "unterminated")):
        assert why in said.get(line, ""), (line, p.stderr)
    assert "replayed 5 events (6 skipped or failed)" in p.stderr, p.stderr
    # the same rows in another order replay the same
    with tempfile.TemporaryDirectory() as d:
        with open(FIXTURE) as f:
            text = f.read().splitlines()
        shuffled = os.path.join(d, "shuffled.csv")
        with open(shuffled, "w") as f:
            good = [t for t in text[1:] if t.split(",")[0] in ("0", "1", "2", "3", "10")]
            f.write("\n".join([text[0]] + good[::-1]) + "\n")
        again = replay("--format", "rba", shuffled)
        assert lines(again.stdout) == rows, (again.stdout, rows)


def test_stored_run_decides_as_the_in_memory_one():
    with tempfile.TemporaryDirectory() as d:
        csv = os.path.join(d, "sim.csv")
        subprocess.run([BIN, "simulate", "--users", "40", "--days", "10", "--seed", "5",
                        "--out", csv], check=True, capture_output=True, timeout=120)
        mem = replay("--format", "rba", csv).stdout
        db = os.path.join(d, "kept.db")
        kept = replay("--format", "rba", "--store", db, csv).stdout
        assert mem == kept
        n = len(mem.strip().splitlines())
        assert n > 500, n
        con = sqlite3.connect(db)
        stored = con.execute("SELECT count(*) FROM events WHERE id NOT LIKE '%-mfa'").fetchone()[0]
        passed = con.execute("SELECT count(*) FROM events WHERE type = 'mfa.succeeded'").fetchone()[0]
        con.close()
        assert stored == n, (stored, n)
        assert passed >= 1  # a simulated month has legitimate users challenged


def held_csv(d, takeover):
    """Two weeks from home, then a login from another continent on another
    device (marked an account takeover or not), then one more from there."""
    rows = [HEADER]
    for day in range(1, 15):
        rows.append(f"h{day},2026-10-{day:02d} 10:00:00.000,u1,,81.2.69.160,GB,,London,20712,"
                    f"\"{UA_MAC}\",Safari 17.1,Mac OS X 10.15.7,desktop,True,False,False,d_mac")
    ato = "True" if takeover else "False"
    for n, hour in (("a1", 9), ("a2", 12)):
        rows.append(f"{n},2026-10-16 {hour:02d}:00:00.000,u1,,200.160.2.3,BR,,Sao Paulo,22548,"
                    f"\"{UA_WIN}\",Chrome 120.0,Windows 10,desktop,True,{ato},{ato},d_away")
    path = os.path.join(d, "held.csv")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    return path


def test_legitimate_users_pass_their_challenge_attackers_do_not():
    with tempfile.TemporaryDirectory() as d:
        legit = {r[0]: r for r in lines(replay("--format", "rba", held_csv(d, False)).stdout)}
        assert legit["a1"][2] == "challenge", legit["a1"]
        # the owner passed the second factor from there: now it is theirs
        assert legit["a2"][2] == "allow", legit["a2"]
        assert float(legit["a2"][1]) < float(legit["a1"][1]) / 2, (legit["a1"], legit["a2"])
        ato = {r[0]: r for r in lines(replay("--format", "rba", held_csv(d, True)).stdout)}
        assert ato["a1"][2] == "challenge", ato["a1"]
        # the attacker stopped at the challenge: the context is still strange
        assert ato["a2"][2] == "challenge", ato["a2"]


def test_jsonl_events_and_bad_lines():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "events.jsonl")
        evs = [{"id": f"j{i}", "type": "login.succeeded", "account": {"id": "u_j"},
                "occurred_at": f"2026-10-0{9 - i}T10:00:00Z",
                "context": {"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d1"}}
               for i in range(3)]
        with open(path, "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
            f.write("{not json\n")
        p = replay("--format", "jsonl", path, check=False)
        assert p.returncode == 1, p  # a line was skipped
        assert "skipped line 4" in p.stderr, p.stderr
        assert [r[0] for r in lines(p.stdout)] == ["j2", "j1", "j0"]  # time order


def test_bad_invocations_are_one_line_errors():
    p = replay("--format", "xml", FIXTURE, check=False)
    assert p.returncode == 2 and "--format must be rba or jsonl" in p.stderr, p
    p = replay("--format", "rba", "/nonexistent/file.csv", check=False)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = replay(check=False)
    assert p.returncode == 2 and "give the file" in p.stderr, p


if __name__ == "__main__":
    run([test_rba_fixture_in_time_order,
         test_stored_run_decides_as_the_in_memory_one,
         test_legitimate_users_pass_their_challenge_attackers_do_not,
         test_jsonl_events_and_bad_lines,
         test_bad_invocations_are_one_line_errors])
