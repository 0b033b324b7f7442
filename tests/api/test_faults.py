"""Allocation and store-write faults (a -DAG_FAULT=ON build; `make test`
builds its sanitized binary that way): with every k-th commit or allocation
failing, the server answers 503 (never a wrong 4xx, never a crash), a retry
with the same id succeeds, and every acknowledged event is stored exactly
once with the answer that was given. In a build without fault injection
this test has nothing to inject and says so."""
import os
import sqlite3
import subprocess

from agtest import BIN, Server, event, run


def fault_build():
    return "(fault injection)" in subprocess.run([BIN, "version"], capture_output=True,
                                                  text=True).stdout


def drive(srv, key, n, prefix):
    acked, saw_503 = {}, 0
    for i in range(n):
        ev = event(f"{prefix}-{i}", "order.placed" if i % 4 == 0 else "login.succeeded",
                   account=f"u_{i % 17}", context={"ip": f"198.51.100.{i % 200}"},
                   properties={"amount": 100 + i, "currency": "EUR"} if i % 4 == 0 else None)
        for attempt in range(25):
            st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
            if st == 200:
                acked[ev["id"]] = body
                break
            assert st == 503, (ev["id"], st, body)
            assert body["error"]["code"] in ("store_unavailable", "out_of_memory", "unavailable"), body
            saw_503 += 1
        else:
            raise AssertionError(f"{ev['id']} never acknowledged")
    return acked, saw_503


def check_store(srv, acked):
    con = sqlite3.connect(os.path.join(srv.data_dir, "accountguard.db"))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = dict(con.execute("SELECT id, response_json FROM events"))
    dups = con.execute("SELECT id FROM events GROUP BY id HAVING count(*) > 1").fetchall()
    con.close()
    assert not dups
    for eid, body in acked.items():
        import json
        assert eid in rows, eid
        assert json.loads(rows[eid]) == body, eid


def with_env(env, fn):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_commit_failures_lose_nothing():
    srv = with_env({"AG_FAULT_COMMIT_EVERY": "4"}, lambda: Server().start())
    try:
        key = srv.key("events:write events:read")
        acked, saw = drive(srv, key, 120, "cf")
        assert saw > 5, saw
        check_store(srv, acked)
    finally:
        srv.cleanup()


def test_allocation_failures_answer_503_and_recover():
    # Every 997th allocation fails: a request makes a few hundred, so some
    # requests hit one and most retries get through.
    srv = with_env({"AG_FAULT_ALLOC_EVERY": "997"}, lambda: Server().start())
    try:
        key = srv.key("events:write events:read")
        acked, saw = drive(srv, key, 150, "af")
        assert saw > 0, saw
        check_store(srv, acked)
        # The server is still whole.
        assert srv.request("GET", "/healthz")[0] in (200, 503)
    finally:
        srv.cleanup()


if __name__ == "__main__":
    if not fault_build():
        print("not a fault-injection build (configure with -DAG_FAULT=ON): nothing to inject")
        print("0 passed, 0 failed")
    else:
        run([test_commit_failures_lose_nothing, test_allocation_failures_answer_503_and_recover])
