"""Crash safety: under concurrent load, kill -9 the server at random moments;
after each restart every acknowledged event is there with the decision that
was returned, nothing is half-written (an event's account exists, the store
passes its integrity check), and unacknowledged events are either whole or
absent. Repeats AG_CRASH_ROUNDS times (default 10, about 11 s; `make soak` runs 200)."""
import concurrent.futures
import os
import random
import sqlite3
import threading
import time

from agtest import Server, event, run

ROUNDS = int(os.environ.get("AG_CRASH_ROUNDS", "10"))


def load(srv, key, prefix, stop, acked, lock):
    def one(i):
        eid = f"{prefix}-{i}"
        ev = event(eid, "order.placed" if i % 3 == 0 else "login.succeeded",
                   account=f"u_{i % 50}", properties={"amount": i, "currency": "EUR"} if i % 3 == 0 else None,
                   context={"ip": f"198.51.100.{i % 250}"})
        try:
            st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key, timeout=10)
        except OSError:
            return
        if st == 200:
            with lock:
                acked[eid] = body
    i = 0
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        while not stop.is_set():
            list(ex.map(one, range(i, i + 64)))
            i += 64


def test_kill9_loses_nothing_acknowledged():
    srv = Server().start()
    key = srv.key("events:write events:read")
    acked, lock = {}, threading.Lock()
    rng = random.Random(7)
    try:
        for rnd in range(ROUNDS):
            stop = threading.Event()
            t = threading.Thread(target=load, args=(srv, key, f"r{rnd}", stop, acked, lock))
            t.start()
            time.sleep(rng.uniform(0.3, 1.2))
            srv.kill9()
            stop.set()
            t.join()
            db = os.path.join(srv.data_dir, "accountguard.db")
            con = sqlite3.connect(db)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            orphans = con.execute("SELECT count(*) FROM events e LEFT JOIN accounts a "
                                  "ON a.id = e.account_id WHERE a.id IS NULL").fetchone()[0]
            assert orphans == 0
            stored = {r[0]: r[1] for r in con.execute("SELECT id, response_json FROM events")}
            con.close()
            missing = [e for e in acked if e not in stored]
            assert not missing, f"round {rnd}: {len(missing)} acknowledged events lost, e.g. {missing[:3]}"
            srv.start()
            for eid in rng.sample(sorted(acked), min(20, len(acked))):
                st, body, _ = srv.request("GET", f"/v1/events/{eid}", key=key)
                assert st == 200 and body["decision"] == acked[eid]["decision"], eid
        assert len(acked) > 100, f"only {len(acked)} events acknowledged: load too small"
        print(f"  {len(acked)} acknowledged events survived {ROUNDS} kill -9 rounds")
    finally:
        srv.cleanup()


if __name__ == "__main__":
    run([test_kill9_loses_nothing_acknowledged])
