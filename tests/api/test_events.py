"""POST /v1/events and friends against a real server: decisions, idempotent
retries, batches, pagination, freezes, and every kind of bad input."""
import concurrent.futures
import http.client
import socket
import time

from agtest import Server, event, run

srv = None
W = R = A = None


def setup():
    global srv, W, R, A
    srv = Server().start()
    W = srv.key("events:write")
    R = srv.key("events:read accounts:read")
    A = srv.key("accounts:write")


def post(ev, key=None):
    return srv.request("POST", "/v1/events", body=ev, key=key or W)


def test_decision_shape():
    st, body, resp = post(event("shape-1", context={"ip": "203.0.113.7", "user_agent": "curl/8",
                                                    "device_id": "d1", "session_id": "s1"}))
    assert st == 200, body
    assert body["event_id"] == "shape-1"
    d = body["decision"]
    assert d["action"] in ("allow", "review", "challenge", "deny")
    assert 0 <= d["risk"] <= 1
    assert isinstance(d["reasons"], list) and all("code" in r and "detail" in r for r in d["reasons"])
    assert body["account"] == {"id": "u_1", "state": "active"}
    assert resp.getheader("X-Request-Id")
    assert resp.getheader("Content-Type").startswith("application/json")


def test_idempotent_retry_same_answer_stored_once():
    ev = event("idem-1", account="u_idem")
    st1, b1, _ = post(ev)
    st2, b2, _ = post(ev)
    assert st1 == st2 == 200 and b1 == b2
    st, page, _ = srv.request("GET", "/v1/accounts/u_idem/events", key=R)
    assert [e["id"] for e in page["items"]] == ["idem-1"]
    # Same id, different body: refused, nothing changed.
    ev2 = dict(ev, type="logout")
    st, body, _ = post(ev2)
    assert st == 409 and body["error"]["code"] == "idempotency_conflict"
    st, got, _ = srv.request("GET", "/v1/events/idem-1", key=R)
    assert got["type"] == "login.succeeded"


def test_retry_after_restart_gets_the_stored_answer():
    ev = event("restart-1", account="u_restart")
    st, first, _ = post(ev)
    assert st == 200
    srv.stop()
    srv.start()
    st, again, _ = post(ev)
    assert st == 200 and again == first
    st, body, _ = post(dict(ev, type="logout"))
    assert st == 409 and body["error"]["code"] == "idempotency_conflict"
    st, page, _ = srv.request("GET", "/v1/accounts/u_restart/events", key=R)
    assert len(page["items"]) == 1


def test_concurrent_duplicates_processed_once():
    ev = event("race-1", account="u_race")
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(lambda _: post(ev), range(32)))
    assert all(r[0] == 200 for r in results), [r[0] for r in results]
    assert len({str(r[1]) for r in results}) == 1
    st, page, _ = srv.request("GET", "/v1/accounts/u_race/events", key=R)
    assert len(page["items"]) == 1


def test_batch():
    evs = [event(f"batch-{i}", account="u_batch") for i in range(20)]
    evs.append({"id": "bad", "type": "nope"})
    evs.append(evs[0])
    st, body, _ = srv.request("POST", "/v1/events/batch", body={"events": evs}, key=W)
    assert st == 200, body
    res = body["results"]
    assert len(res) == 22
    assert all(r["status"] == 200 for r in res[:20])
    assert res[20]["status"] == 400 and res[20]["error"]["code"] == "unknown_event_type"
    assert res[21]["status"] == 200 and res[21]["result"] == res[0]["result"]
    st, body, _ = srv.request("POST", "/v1/events/batch", body={"events": []}, key=W)
    assert st == 400
    big = [event(f"big-{i}") for i in range(1001)]
    st, body, _ = srv.request("POST", "/v1/events/batch", body={"events": big}, key=W)
    assert st == 400 and body["error"]["field"] == "events"


def test_pagination_walks_everything_once():
    ids = [f"page-{i:02d}" for i in range(23)]
    for i in ids:
        assert post(event(i, account="u_page"))[0] == 200
    seen, cursor, pages = [], None, 0
    while True:
        q = "/v1/accounts/u_page/events?limit=5" + (f"&cursor={cursor}" if cursor else "")
        st, body, _ = srv.request("GET", q, key=R)
        assert st == 200, body
        seen += [e["id"] for e in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 5
    assert seen == list(reversed(ids))
    for bad in ("limit=0", "limit=501", "limit=abc", "cursor=-1", "cursor=x"):
        st, body, _ = srv.request("GET", "/v1/accounts/u_page/events?" + bad, key=R)
        assert st == 400 and body["error"]["code"] == "invalid_parameter", bad


def test_get_event():
    post(event("get-1", account="u_get", context={"ip": "2001:db8::1"}))
    st, body, _ = srv.request("GET", "/v1/events/get-1", key=R)
    assert st == 200 and body["account_id"] == "u_get" and body["event"]["context"]["ip"] == "2001:db8::1"
    assert body["decision"]["action"]
    st, body, _ = srv.request("GET", "/v1/events/missing", key=R)
    assert st == 404 and body["error"]["code"] == "event_not_found"


def test_freeze_denies_money_and_credentials():
    st, body, _ = srv.request("POST", "/v1/accounts/u_frz/freeze", key=A,
                              body={"reason": "reported takeover", "actor": "agent_7"})
    assert st == 200 and body["state"] == "frozen", body
    money = {"order.placed", "wallet.transfer", "payout.requested", "subscription.activated",
             "payment_method.added", "payout_account.changed"}
    creds = {"password.changed", "email.changed", "phone.changed", "mfa.enabled", "mfa.disabled"}
    st, types, _ = srv.request("GET", "/v1/event-types", key=R)
    for t in types["items"]:
        name = t["type"]
        props = {"amount": 100, "currency": "EUR"} if "amount_required" in t["flags"] else None
        st, body, _ = post(event(f"frz-{name}", name, account="u_frz", properties=props))
        assert st == 200, (name, body)
        flags = set(t["flags"])
        denied = body["decision"]["action"] == "deny"
        should = bool(flags & {"money_movement", "credential_change"}) and "recovery" not in flags
        assert denied == should, (name, body)
        if should:
            assert any(r["code"] == "account_frozen" for r in body["decision"]["reasons"])
    assert money | creds <= {t["type"] for t in types["items"]}
    st, acct, _ = srv.request("GET", "/v1/accounts/u_frz", key=R)
    assert acct["state"] == "frozen" and acct["freeze"]["by"].endswith("for agent_7")
    st, body, _ = srv.request("POST", "/v1/accounts/u_frz/unfreeze", key=A, body={"reason": "resolved"})
    assert st == 200 and body["state"] == "active"
    st, body, _ = post(event("frz-after", "order.placed", account="u_frz",
                             properties={"amount": 5, "currency": "EUR"}))
    assert body["decision"]["action"] != "deny" or not any(
        r["code"] == "account_frozen" for r in body["decision"]["reasons"])
    st, acct, _ = srv.request("GET", "/v1/accounts/u_frz", key=R)
    assert [h["action"] for h in acct["history"]] == ["freeze", "unfreeze"]
    # A freeze until a time in the past is refused.
    st, body, _ = srv.request("POST", "/v1/accounts/u_frz/freeze", key=A,
                              body={"reason": "x", "until": "2000-01-01T00:00:00Z"})
    assert st == 400 and body["error"]["field"] == "until"


BAD = [
    # (description, raw body or dict, expected code, expected field)
    ("not json", b"{nope", "invalid_json", None),
    ("array", b"[1,2]", "invalid_json", None),
    ("invalid utf8", b'{"id":"\xff\xfe","type":"logout"}', "invalid_utf8", None),
    ("too deep", b'{"id":"d","properties":' + b'{"a":' * 40 + b'1' + b'}' * 40 + b'}', "too_deep", None),
    ("missing id", {"type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}}, "missing_field", "id"),
    ("unknown type", {"id": "b1", "type": "login.exploded", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}}, "unknown_event_type", "type"),
    ("bad time", {"id": "b2", "type": "logout", "occurred_at": "2026-02-30T10:00:00Z", "account": {"id": "u"}}, "invalid_timestamp", "occurred_at"),
    ("future time", {"id": "b3", "type": "logout", "occurred_at": "2099-01-01T00:00:00Z", "account": {"id": "u"}}, "invalid_timestamp", "occurred_at"),
    ("bad ip", {"id": "b4", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "context": {"ip": "300.1.1.1"}}, "invalid_ip", "context.ip"),
    ("ip not string", {"id": "b5", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "context": {"ip": 7}}, "invalid_field", "context.ip"),
    ("long id", {"id": "x" * 129, "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}}, "field_too_long", "id"),
    ("long ua", {"id": "b6", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "context": {"user_agent": "M" * 1025}}, "field_too_long", "context.user_agent"),
    ("id with space", {"id": "a b", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}}, "invalid_field", "id"),
    ("unknown field", {"id": "b7", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "colour": "red"}, "unknown_field", "colour"),
    ("no account", {"id": "b8", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z"}, "missing_field", "account"),
    ("bad role", {"id": "b9", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u", "role": "god"}}, "invalid_field", "account.role"),
    ("order without amount", {"id": "b10", "type": "order.placed", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}}, "missing_field", "properties.amount"),
    ("float amount", {"id": "b11", "type": "order.placed", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "properties": {"amount": 1.5, "currency": "EUR"}}, "invalid_field", "properties.amount"),
    ("bad currency", {"id": "b12", "type": "order.placed", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "properties": {"amount": 1, "currency": "euro"}}, "field_too_long", "properties.currency"),
    ("huge property string", {"id": "b13", "type": "logout", "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": "u"}, "properties": {"note": "n" * 9000}}, "field_too_long", "properties.note"),
]


def test_bad_input_rejected_with_stable_codes():
    for desc, body, code, field in BAD:
        raw = body if isinstance(body, bytes) else None
        st, got, _ = srv.request("POST", "/v1/events", key=W, raw=raw,
                                 body=None if raw else body,
                                 headers={"Content-Type": "application/json"})
        assert st == 400, (desc, st, got)
        assert got["error"]["code"] == code, (desc, got)
        if field:
            assert got["error"].get("field") == field, (desc, got)
        assert got["error"]["message"], desc
    # Nothing of the above was stored, and the server still serves.
    st, body, _ = srv.request("GET", "/v1/accounts/u/events", key=R)
    assert st == 200 and body["items"] == []


def test_content_type_and_body_limits():
    st, body, _ = srv.request("POST", "/v1/events", key=W, raw=b"id=1",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 415 and body["error"]["code"] == "unsupported_media_type"
    st, body, _ = srv.request("POST", "/v1/events", key=W, raw=b"",
                              headers={"Content-Type": "application/json"})
    assert st == 400
    big = b'{"id":"big","pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    st, body, _ = srv.request("POST", "/v1/events", key=W, raw=big,
                              headers={"Content-Type": "application/json"})
    assert st == 413 and body["error"]["code"] == "body_too_large"
    assert post(event("after-big"))[0] == 200


def test_slow_client_does_not_block_others():
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"id\":")
    t0 = time.time()
    assert post(event("while-slow"))[0] == 200
    assert time.time() - t0 < 2
    s.close()


def test_metrics_exposed():
    m = srv.key("metrics:read")
    st, body, resp = srv.request("GET", "/metrics", key=m)
    assert st == 200 and resp.getheader("Content-Type").startswith("text/plain")
    text = body.decode() if isinstance(body, bytes) else str(body)
    for name in ("ag_http_requests_total", "ag_http_request_duration_seconds_bucket",
                 "ag_decisions_total", "ag_store_commit_duration_seconds_bucket"):
        assert name in text, name
    assert 'route="POST /v1/events",status="200"' in text


if __name__ == "__main__":
    setup()
    try:
        run([test_decision_shape, test_idempotent_retry_same_answer_stored_once,
             test_retry_after_restart_gets_the_stored_answer,
             test_concurrent_duplicates_processed_once, test_batch,
             test_pagination_walks_everything_once, test_get_event,
             test_freeze_denies_money_and_credentials, test_bad_input_rejected_with_stable_codes,
             test_content_type_and_body_limits, test_slow_client_does_not_block_others,
             test_metrics_exposed])
    finally:
        srv.cleanup()
