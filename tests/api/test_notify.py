"""Owner alerts and the outbox, black box: every monitored event kind raises
its alert as a webhook to the platform within 2 s (table-driven), retries
with backoff and dead letters against a receiver that fails N times, dead
letters listed with pagination and re-driven, webhook subscriptions and
contacts over the API, /metrics, and kill -9 with pending deliveries
(delivered after the restart, exactly once to a receiver that dedupes by
webhook-id)."""
import concurrent.futures
import json
import time

from agtest import Server, event, run
from notify_receivers import HttpReceiver

UA_DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0 Safari/537.36")
UA_PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def subscribe(srv, key, url, kinds=("alert.*",)):
    st, body, _ = srv.request("POST", "/v1/webhooks", body={"url": url, "kinds": list(kinds)},
                              key=key)
    assert st == 201, body
    assert body["secret"].startswith("whsec_")
    return body


def post(srv, key, ev):
    st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
    assert st == 200, body
    return body


def login(eid, account, device, ip="81.2.69.142", ua=UA_DESKTOP):
    return event(eid, "login.succeeded", account=account,
                 context={"ip": ip, "device_id": device, "user_agent": ua})


# (event type, properties, expected alert kind) for the account changes.
CHANGES = [
    ("password.changed", None, "alert.password_changed"),
    ("email.changed", None, "alert.email_changed"),
    ("phone.changed", None, "alert.phone_changed"),
    ("mfa.disabled", None, "alert.mfa_disabled"),
    ("mfa.enabled", None, "alert.mfa_enabled"),
    ("payment_method.added", None, "alert.payment_method_added"),
    ("payment_method.removed", None, "alert.payment_method_removed"),
    ("shipping_address.added", None, "alert.shipping_address_added"),
    ("payout_account.changed", None, "alert.payout_account_changed"),
    ("subscription.activated", {"amount": 999, "currency": "EUR"}, "alert.subscription_activated"),
    ("password.reset_requested", None, "alert.recovery_requested"),
    ("password.reset_completed", None, "alert.recovery_completed"),
]


def test_every_monitored_kind_alerts_within_2s():
    recv = HttpReceiver()
    # The delay measured is the owner's: end to end, a retry included. The
    # first retry comes after 200 ms here rather than the default 2 s, so a
    # hiccup of this test's own receiver under a loaded sanitizer run (seen
    # once: one alert at 3.07 s, its first POST failed) does not read as a
    # slow pipeline.
    srv = Server(["--notify-backoff-base-ms=200"]).start()
    try:
        key = srv.key("admin")
        subscribe(srv, key, recv.url)
        delays = []

        def expect(ev, kind):
            t0 = time.time()
            body = post(srv, key, ev)
            assert kind in body["decision"].get("alerts", []), (ev["type"], body)
            got = recv.wait_kind(kind, ev["id"], timeout=5)
            assert got, f"no {kind} webhook for {ev['type']}"
            payload, headers, _, t = got
            delays.append(t - t0)
            assert payload["data"]["account_id"] == ev["account"]["id"]
            assert payload["data"]["link"].startswith(f"http://127.0.0.1:{srv.port}/v1/wasnt-me/")
            assert payload["data"]["message"]["subject"]
            return payload

        # logins: the first is the account's first (no alert), the same device
        # again is quiet, a new device alerts, a new country alerts.
        b = post(srv, key, login("l1", "u_t", "d1"))
        assert "alerts" not in b["decision"], b
        b = post(srv, key, login("l2", "u_t", "d1"))
        assert "alerts" not in b["decision"], b
        p = expect(login("l3", "u_t", "d2", ua=UA_PHONE), "alert.new_device_login")
        assert "new_device" in p["data"]["reasons"]
        post(srv, key, login("l4", "u_u", "e1"))
        post(srv, key, login("l5", "u_u", "e1"))
        p = expect(login("l6", "u_u", "e1", ip="175.16.199.1"), "alert.unusual_login")
        assert "new_country" in p["data"]["reasons"]
        # every sensitive change
        for i, (etype, props, kind) in enumerate(CHANGES):
            ev = event(f"c{i}", etype, account="u_t", properties=props,
                       context={"ip": "81.2.69.142", "device_id": "d1"})
            expect(ev, kind)
        # a freeze, then denied money movement
        st, body, _ = srv.request("POST", "/v1/accounts/u_t/freeze", body={"reason": "test"},
                                  key=key)
        assert st == 200, body
        assert recv.wait_kind("alert.account_frozen", timeout=5)
        for i, etype in enumerate(["order.placed", "wallet.transfer", "payout.requested"]):
            ev = event(f"m{i}", etype, account="u_t", properties={"amount": 5000, "currency": "EUR"})
            p = expect(ev, "alert.money_denied")
            assert p["data"]["held"] is True
        # quiet events
        for i, etype in enumerate(["profile.updated", "logout", "listing.created"]):
            b = post(srv, key, event(f"q{i}", etype, account="u_t"))
            assert "alerts" not in b["decision"], (etype, b)
        assert max(delays) < 2.0, delays
        # /metrics: the delay histogram and the delivery counters (a hand-off
        # is counted just after the receiver answers)
        time.sleep(0.3)
        st, text, _ = srv.request("GET", "/metrics", key=key)
        assert st == 200
        text = text.decode() if isinstance(text, bytes) else str(text)
        assert 'ag_notify_delay_seconds_bucket{channel="webhook",le="2"}' in text, text[-2000:]
        n = len(CHANGES) + 6
        line = [l for l in text.splitlines()
                if l.startswith('ag_notify_deliveries_total{channel="webhook",outcome="delivered"}')]
        assert line and int(line[0].split()[-1]) >= n, line
        le2 = [l for l in text.splitlines()
               if l.startswith('ag_notify_delay_seconds_bucket{channel="webhook",le="2"}')]
        assert int(le2[0].split()[-1]) >= n, le2
    finally:
        srv.cleanup()
        recv.close()


def test_retries_then_dead_letter_and_redrive():
    flaky = HttpReceiver(fail_first=2)
    broken = HttpReceiver()
    broken.failing = True
    srv = Server(["--notify-max-attempts=4", "--notify-backoff-base-ms=100",
                  "--notify-backoff-max-ms=400"]).start()
    try:
        key = srv.key("admin")
        subscribe(srv, key, flaky.url)
        wb = subscribe(srv, key, broken.url)
        for i in range(3):
            post(srv, key, event(f"p{i}", "password.changed", account=f"u_{i}"))
        # the flaky receiver gets each after its two failures
        assert flaky.wait(lambda r: len(r.unique()) == 3, timeout=15), flaky.requests
        # the broken one: 4 attempts each, then dead
        def dead():
            st, body, _ = srv.request("GET", "/v1/notifications?state=dead", key=key)
            assert st == 200
            return len(body["items"]) == 3 and body
        deadline = time.time() + 20
        while time.time() < deadline and not dead():
            time.sleep(0.1)
        body = dead()
        assert body, "messages did not go dead"
        for item in body["items"]:
            assert item["destination"] == wb["id"]
            assert item["attempts"] == 4
            assert item["last_error"] == "HTTP 500"
        assert len([r for r in broken.requests]) == 12
        # retries were spaced out (backoff), not hammered
        times = sorted(r[3] for r in broken.requests)
        assert times[-1] - times[0] > 0.25
        # pagination over the dead letters
        st, page1, _ = srv.request("GET", "/v1/notifications?state=dead&limit=2", key=key)
        assert st == 200 and len(page1["items"]) == 2 and page1["next_cursor"]
        st, page2, _ = srv.request(
            "GET", f"/v1/notifications?state=dead&limit=2&cursor={page1['next_cursor']}", key=key)
        assert st == 200 and len(page2["items"]) == 1 and page2["next_cursor"] is None
        ids = {i["id"] for i in page1["items"]} | {i["id"] for i in page2["items"]}
        assert len(ids) == 3
        st, err, _ = srv.request("GET", "/v1/notifications?state=lost", key=key)
        assert st == 400
        # re-drive one after the receiver is fixed
        broken.failing = False
        victim = page2["items"][0]["id"]
        st, item, _ = srv.request("POST", f"/v1/notifications/{victim}/retry", key=key)
        assert st == 202, item
        # Reset to 0 (a worker may already have made the first new attempt);
        # "delivered after 1 attempt" below proves the reset.
        assert item["attempts"] in (0, 1), item
        assert broken.wait(lambda r: len(r.accepted) == 1, timeout=5)
        assert broken.accepted[0][1]["webhook-id"] == victim
        deadline = time.time() + 5
        while True:
            st, item, _ = srv.request("GET", f"/v1/notifications/{victim}", key=key)
            if item["state"] == "delivered" or time.time() > deadline:
                break
            time.sleep(0.05)
        assert item["state"] == "delivered" and item["attempts"] == 1, item
        # a delivered message cannot be re-driven; an unknown one is 404
        st, err, _ = srv.request("POST", f"/v1/notifications/{victim}/retry", key=key)
        assert st == 409, err
        st, err, _ = srv.request("POST", "/v1/notifications/msg_nope/retry", key=key)
        assert st == 404
        st, text, _ = srv.request("GET", "/metrics", key=key)
        text = text.decode() if isinstance(text, bytes) else str(text)
        assert 'ag_notify_deliveries_total{channel="webhook",outcome="dead"} 3' in text
        retries = (len(flaky.requests) - 3) + (12 - 3)
        assert f'ag_notify_deliveries_total{{channel="webhook",outcome="retry"}} {retries}' in text
    finally:
        srv.cleanup()
        flaky.close()
        broken.close()


def test_subscriptions_and_contacts_api():
    recv = HttpReceiver()
    srv = Server().start()
    try:
        admin = srv.key("admin")
        reader = srv.key("notifications:read")
        for bad in [{"url": "ftp://x/y", "kinds": ["*"]}, {"url": "http://", "kinds": ["*"]},
                    {"url": recv.url, "kinds": []}, {"url": recv.url, "kinds": ["Alert.X"]},
                    {"url": recv.url, "kinds": ["a*b"]}, {"url": recv.url}, {"kinds": ["*"]}]:
            st, err, _ = srv.request("POST", "/v1/webhooks", body=bad, key=admin)
            assert st == 400, (bad, err)
        st, _, _ = srv.request("POST", "/v1/webhooks", body={"url": recv.url, "kinds": ["*"]},
                               key=reader)
        assert st == 403
        a = subscribe(srv, admin, recv.url, ["account.*", "alert.password_changed"])
        st, listing, _ = srv.request("GET", "/v1/webhooks", key=reader)
        assert st == 200 and [w["id"] for w in listing["items"]] == [a["id"]]
        assert "secret" not in listing["items"][0]
        assert listing["items"][0]["kinds"] == ["account.*", "alert.password_changed"]
        # only the subscribed kinds arrive
        post(srv, admin, event("k1", "email.changed", account="u_k"))
        post(srv, admin, event("k2", "password.changed", account="u_k"))
        assert recv.wait_kind("alert.password_changed", "k2", timeout=5)
        time.sleep(0.3)
        assert [p["type"] for p in recv.payloads()] == ["alert.password_changed"]
        st, _, _ = srv.request("DELETE", f"/v1/webhooks/{a['id']}", key=admin)
        assert st == 204
        st, _, _ = srv.request("DELETE", f"/v1/webhooks/{a['id']}", key=admin)
        assert st == 404
        post(srv, admin, event("k3", "password.changed", account="u_k"))
        time.sleep(0.5)
        assert len(recv.payloads()) == 1
        # contacts
        st, err, _ = srv.request("GET", "/v1/accounts/u_k/contact", key=admin)
        assert st == 404
        for bad in [{"email": "nope"}, {"phone": "0612"}, {"locale": "x"}, {"email": 5}]:
            st, err, _ = srv.request("PUT", "/v1/accounts/u_k/contact", body=bad, key=admin)
            assert st == 400, (bad, err)
        st, c, _ = srv.request("PUT", "/v1/accounts/u_k/contact",
                               body={"email": "ana@example.com", "phone": "+34600111222",
                                     "locale": "es"}, key=admin)
        assert st == 200, c
        st, c, _ = srv.request("GET", "/v1/accounts/u_k/contact", key=admin)
        assert c == {**c, "email": "ana@example.com", "phone": "+34600111222", "locale": "es"}
        # notifications filtered by account and kind; scopes enforced
        st, body, _ = srv.request("GET", "/v1/notifications?account_id=u_k&kind=alert.password_changed",
                                  key=reader)
        assert st == 200 and {i["event_id"] for i in body["items"]} >= {"k2"}
        st, _, _ = srv.request("POST", f"/v1/notifications/{body['items'][0]['id']}/retry",
                               key=reader)
        assert st == 403
    finally:
        srv.cleanup()
        recv.close()


def test_kill9_with_pending_deliveries_delivers_once_after_restart():
    recv = HttpReceiver()
    recv.hang_s = 30  # in flight when the server dies
    srv = Server(["--notify-lease-s=2", "--notify-timeout-s=60"]).start()
    try:
        key = srv.key("admin")
        subscribe(srv, key, recv.url)
        ids = [f"kill-{i}" for i in range(12)]
        for eid in ids:
            post(srv, key, event(eid, "password.changed", account="u_kill"))
        assert recv.wait(lambda r: len(r.requests) >= 1, timeout=5)
        srv.kill9()
        recv.hang_s = 0
        srv.start()
        # claimed ones come back after their lease, the rest at once
        def all_in(r):
            got = {json.loads(b)["data"]["event_id"] for _, _, b in
                   [(x[0], x[1], x[2]) for x in r.unique()]}
            return got >= set(ids)
        assert recv.wait(all_in, timeout=20), [json.loads(x[2])["data"]["event_id"]
                                              for x in recv.unique()]
        time.sleep(0.5)
        per_event = {}
        for p in recv.payloads():
            per_event.setdefault(p["data"]["event_id"], 0)
            per_event[p["data"]["event_id"]] += 1
        assert all(per_event[e] == 1 for e in ids), per_event
        deadline = time.time() + 5
        while True:
            st, body, _ = srv.request("GET", "/v1/notifications?account_id=u_kill&limit=100",
                                      key=key)
            states = {i["state"] for i in body["items"] if i["channel"] == "webhook"}
            if states == {"delivered"} or time.time() > deadline:
                break
            time.sleep(0.05)
        assert states == {"delivered"}, states
    finally:
        recv.hang_s = 0
        srv.cleanup()
        recv.close()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def test_alerts_under_load_within_2s():
    """Normal load: 4 clients each sending an alert-raising event every 20 ms
    (about 200 alerts a second), 248 events: every webhook arrives, and the
    delay histogram shows every hand-off within 2 s of its event."""
    recv = HttpReceiver()
    srv = Server().start()
    try:
        key = srv.key("admin")
        subscribe(srv, key, recv.url)
        n, clients = 248, 4

        def client(c):
            for k in range(n // clients):
                i = c * (n // clients) + k
                st, body, _ = srv.request("POST", "/v1/events", body=event(
                    f"load-{i}", "password.changed", account=f"u_load{i % 40}"), key=key)
                assert st == 200, body
                time.sleep(0.02)

        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(clients) as ex:
            list(ex.map(client, range(clients)))
        assert recv.wait(lambda r: len(r.unique()) >= n, timeout=30), len(recv.unique())
        elapsed = time.time() - t0
        deadline = time.time() + 5  # the receiver answers before the hand-off is counted
        while True:
            st, text, _ = srv.request("GET", "/metrics", key=key)
            text = text.decode() if isinstance(text, bytes) else str(text)
            total = metric(text, 'ag_notify_delay_seconds_count{channel="webhook"}')
            if total == n or time.time() > deadline:
                break
            time.sleep(0.05)
        within = metric(text, 'ag_notify_delay_seconds_bucket{channel="webhook",le="2"}')
        assert total == n and within == n, (total, within, elapsed)
        deadline = time.time() + 5
        while metric(text, 'ag_notify_outbox_messages{state="delivered"}') != n:
            assert time.time() < deadline, text[-800:]
            time.sleep(0.1)
            st, text, _ = srv.request("GET", "/metrics", key=key)
            text = text.decode() if isinstance(text, bytes) else str(text)
        assert metric(text, 'ag_notify_outbox_messages{state="dead"}') == 0
    finally:
        srv.cleanup()
        recv.close()


def test_two_processes_never_deliver_the_same_message():
    """Two servers on one store: both claim from the same outbox (leases),
    and no message is delivered twice."""
    recv = HttpReceiver()
    recv.hang_s = 0.03  # slow enough that both nodes have claims in flight
    a = Server().start()
    b = Server(data_dir=a.data_dir).start()
    try:
        key = a.key("admin")
        subscribe(a, key, recv.url)
        n = 120

        def one(i):
            node = a if i % 2 else b
            st, body, _ = node.request("POST", "/v1/events", body=event(
                f"two-{i}", "email.changed", account=f"u_two{i % 30}"), key=key)
            assert st == 200, body

        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(one, range(n)))
        assert recv.wait(lambda r: len(r.unique()) >= n, timeout=60), len(recv.unique())
        time.sleep(1.5)
        ids = [r[1]["webhook-id"] for r in recv.requests]
        assert len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids)))
        counts = []
        for node in (a, b):
            st, text, _ = node.request("GET", "/metrics", key=key)
            text = text.decode() if isinstance(text, bytes) else str(text)
            counts.append(metric(text, 'ag_notify_deliveries_total{channel="webhook",'
                                       'outcome="delivered"}'))
        assert sum(counts) == n and min(counts) > 0, counts
    finally:
        recv.hang_s = 0
        b.stop()
        a.cleanup()
        recv.close()


def test_sigterm_does_not_wait_for_a_hung_receiver():
    recv = HttpReceiver()
    recv.hang_s = 20
    srv = Server(["--notify-timeout-s=60"]).start()
    try:
        key = srv.key("admin")
        subscribe(srv, key, recv.url)
        post(srv, key, event("t1", "password.changed", account="u_term"))
        assert recv.wait(lambda r: len(r.requests) >= 1, timeout=5)
        t0 = time.time()
        srv.stop()  # SIGTERM; raises if the exit status is not clean
        assert time.time() - t0 < 5, time.time() - t0
        recv.hang_s = 0
        srv.start()
        got = recv.wait_kind("alert.password_changed", "t1", timeout=10)
        assert got
        deadline = time.time() + 5  # the receiver answers before the outcome is recorded
        while True:
            st, body, _ = srv.request("GET", "/v1/notifications?account_id=u_term", key=key)
            item = [i for i in body["items"] if i["channel"] == "webhook"][0]
            if item["state"] == "delivered" or time.time() > deadline:
                break
            time.sleep(0.05)
        assert item["state"] == "delivered" and item["attempts"] == 2, item
    finally:
        recv.hang_s = 0
        srv.cleanup()
        recv.close()


if __name__ == "__main__":
    run([test_every_monitored_kind_alerts_within_2s, test_retries_then_dead_letter_and_redrive,
         test_subscriptions_and_contacts_api,
         test_kill9_with_pending_deliveries_delivers_once_after_restart,
         test_sigterm_does_not_wait_for_a_hung_receiver, test_alerts_under_load_within_2s,
         test_two_processes_never_deliver_the_same_message])
