"""Learned state written behind (src/pipeline/learned.c, one node on
SQLite): an event's risk-profile and activity changes reach the store within
learned_flush_ms of the event, all of them when the server stops, and with
every event when learned_flush_ms is 0. A kill -9 loses at most the last
interval of learning and never an acknowledged event."""
import os
import signal
import sqlite3
import time

from agtest import Server, event, run


def learned_rows(srv):
    con = sqlite3.connect(os.path.join(srv.data_dir, "accountguard.db"), timeout=10)
    try:
        profiles = con.execute("SELECT count(*) FROM risk_profiles").fetchone()[0]
        activity = con.execute(
            "SELECT count(*) FROM accounts WHERE activity IS NOT NULL").fetchone()[0]
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        return profiles, activity, events
    finally:
        con.close()


def send_logins(srv, key, prefix, n):
    for i in range(n):
        ev = event(f"{prefix}-{i}", "login.succeeded", account=f"{prefix}_u{i}",
                   context={"ip": f"81.2.69.{i + 1}", "device_id": f"d{i}",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
        st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
        assert st == 200, (st, body)


def wait_for(pred, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_flushed_within_the_interval():
    srv = Server(["--learned-flush-ms=300"]).start()
    try:
        key = srv.key("events:write")
        send_logins(srv, key, "fl", 20)
        assert wait_for(lambda: learned_rows(srv)[:2] == (20, 20)), learned_rows(srv)
        # a crash now loses nothing learned (it was all written) and no event
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        assert learned_rows(srv) == (20, 20, 20)
        srv.start()
        send_logins(srv, key, "fl2", 1)
    finally:
        srv.stop()


def test_written_at_stop():
    srv = Server(["--learned-flush-ms=600000"]).start()
    key = srv.key("events:write")
    send_logins(srv, key, "st", 30)
    # events that change only the activity keep the profile waiting with it
    for i in range(5):
        ev = event(f"st-order-{i}", "order.placed", account=f"st_u{i}",
                   properties={"amount": 10 + i, "currency": "EUR"},
                   context={"ip": f"81.2.69.{i + 1}"})
        st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
        assert st == 200, (st, body)
    time.sleep(0.3)
    profiles, activity, events = learned_rows(srv)
    assert events == 35
    assert profiles < 30, "with a 10-minute interval nothing should be written yet"
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=60) == 0
    assert learned_rows(srv) == (30, 30, 35)
    # and loaded again: the same login is familiar now, not a first login
    srv.start()
    try:
        ev = event("st-again", "login.succeeded", account="st_u3",
                   context={"ip": "81.2.69.4", "device_id": "d3",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
        st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
        assert st == 200, body
        codes = [r["code"] for r in body["decision"]["reasons"]]
        assert "first_login" not in codes, body
    finally:
        srv.stop()


def test_zero_writes_with_every_event():
    srv = Server(["--learned-flush-ms=0"]).start()
    try:
        key = srv.key("events:write")
        send_logins(srv, key, "z", 10)
        assert learned_rows(srv) == (10, 10, 10)
    finally:
        srv.stop()


def test_kill9_keeps_every_acknowledged_event():
    srv = Server(["--learned-flush-ms=600000"]).start()
    try:
        key = srv.key("events:write")
        send_logins(srv, key, "k", 25)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        assert learned_rows(srv)[2] == 25
        srv.start()
        send_logins(srv, key, "k2", 1)
    finally:
        srv.stop()


if __name__ == "__main__":
    run([test_flushed_within_the_interval, test_written_at_stop,
         test_zero_writes_with_every_event, test_kill9_keeps_every_acknowledged_event])
