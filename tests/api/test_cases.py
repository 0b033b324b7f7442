"""Fraud cases against a real server: the status workflow (every pair of
statuses, allowed or refused), search and pagination, priority and SLA,
the customer-safe timeline, evidence links and file uploads (size limit,
sniffed content types), the secure-account playbook (idempotent; a failed
step recorded, then retried by a second call and by the background retry),
resolution actions (reversal commands signed per Standard Webhooks and
tracked to confirmation), restore, disputes, labels, reports, detections,
and the audit log's tamper detection with the sqlite3 CLI."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from agtest import Server, cli, event, run

srv = None
KEY = None  # cases, events, accounts
ADMIN = None
STATUSES = ["open", "investigating", "waiting_on_customer", "resolved_fraud",
            "resolved_not_fraud", "closed"]
# The workflow as the issue states it; the server must agree pair by pair.
ALLOWED = {
    ("open", "investigating"), ("open", "waiting_on_customer"), ("open", "resolved_fraud"),
    ("open", "resolved_not_fraud"), ("investigating", "waiting_on_customer"),
    ("investigating", "resolved_fraud"), ("investigating", "resolved_not_fraud"),
    ("waiting_on_customer", "investigating"), ("waiting_on_customer", "resolved_fraud"),
    ("waiting_on_customer", "resolved_not_fraud"), ("resolved_fraud", "closed"),
    ("resolved_not_fraud", "closed"), ("resolved_fraud", "open"), ("resolved_not_fraud", "open"),
    ("closed", "open"),
}
PATH_TO = {"open": [], "investigating": ["investigating"],
           "waiting_on_customer": ["waiting_on_customer"], "resolved_fraud": ["resolved_fraud"],
           "resolved_not_fraud": ["resolved_not_fraud"], "closed": ["resolved_fraud", "closed"]}

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def setup():
    global srv, KEY, ADMIN
    srv = Server(["--cases_upload_max_bytes=4096", "--cases_auto_risk=0",
                  "--cases_retry_interval_s=0", "--notify_backoff_base_ms=100"]).start()
    KEY = srv.key("cases:read cases:write events:write events:read accounts:read accounts:write")
    ADMIN = srv.key("admin")


def req(method, path, body=None, key=None, **kw):
    return srv.request(method, path, body=body, key=key or KEY, **kw)


def new_case(account="u_case", **kw):
    body = {"account_id": account, "type": kw.pop("type", "account_compromise")}
    body.update(kw)
    st, c, _ = req("POST", "/v1/cases", body)
    assert st == 201, c
    return c


def set_status(cid, status, **kw):
    return req("POST", f"/v1/cases/{cid}/status", dict(status=status, **kw))


def post_event(ev):
    st, b, _ = req("POST", "/v1/events", ev)
    assert st == 200, b
    return b


def timeline(cid, view=None):
    q = f"?view={view}" if view else ""
    st, t, _ = req("GET", f"/v1/cases/{cid}/timeline{q}")
    assert st == 200, t
    return t


# ---- workflow ----

def test_workflow_transitions_table():
    for frm in STATUSES:
        for to in STATUSES:
            c = new_case(account=f"u_wf_{frm}_{to}")
            for step in PATH_TO[frm]:
                st, b, _ = set_status(c["id"], step)
                assert st == 200, (frm, step, b)
            st, b, _ = set_status(c["id"], to)
            if (frm, to) in ALLOWED:
                assert st == 200 and b["status"] == to, (frm, to, st, b)
            else:
                assert st == 409 and b["error"]["code"] == "invalid_transition", (frm, to, st, b)
                st, again, _ = req("GET", f"/v1/cases/{c['id']}")
                assert again["status"] == frm  # a refused change changes nothing


def test_status_bad_input():
    c = new_case()
    st, b, _ = set_status(c["id"], "done")
    assert st == 400 and b["error"]["code"] == "invalid_status"
    st, b, _ = set_status("case_nope", "investigating")
    assert st == 404 and b["error"]["code"] == "case_not_found"
    st, b, _ = set_status(c["id"], "resolved_fraud", outcome="maybe")
    assert st == 400 and b["error"]["field"] == "outcome"


def test_create_validation():
    st, b, _ = req("POST", "/v1/cases", {"account_id": "u_x", "type": "robbery"})
    assert st == 400 and b["error"]["code"] == "invalid_case_type"
    st, b, _ = req("POST", "/v1/cases", {"type": "billing_error"})
    assert st == 400 and b["error"]["field"] == "account_id"
    st, b, _ = req("POST", "/v1/cases", {"account_id": "u_x", "type": "billing_error",
                                         "amount": 100})
    assert st == 400 and b["error"]["field"] == "currency"
    st, b, _ = srv.request("POST", "/v1/cases", body={"account_id": "u", "type": "billing_error"},
                           key=srv.key("events:write"))
    assert st == 403


def test_priority_sla_assignment_tags():
    low = new_case(account="u_prio", type="billing_error")
    assert low["priority"] == "low" and low["sla"]["overdue"] is False
    money = new_case(account="u_prio", type="unauthorized_transaction", amount=150000,
                     currency="EUR")
    assert money["priority"] == "high"
    crit = new_case(account="u_prio", type="account_compromise", risk=0.97)
    assert crit["priority"] == "critical"
    assert crit["sla"]["first_action_due_at"] < money["sla"]["first_action_due_at"]
    st, b, _ = req("PATCH", f"/v1/cases/{low['id']}",
                   {"assignee": "alice", "priority": "medium", "tags": ["vip", "chargeback"]})
    assert st == 200 and b["assignee"] == "alice" and b["priority"] == "medium"
    assert sorted(b["tags"]) == ["chargeback", "vip"] and b["first_action_at"]
    st, b, _ = req("PATCH", f"/v1/cases/{low['id']}", {"remove_tags": ["vip"]})
    assert b["tags"] == ["chargeback"]
    st, b, _ = req("PATCH", f"/v1/cases/{low['id']}", {"tags": ["Bad Tag"]})
    assert st == 400 and b["error"]["code"] == "invalid_tag"
    st, b, _ = req("PATCH", f"/v1/cases/{low['id']}", {})
    assert st == 400 and b["error"]["code"] == "nothing_to_change"
    kinds = [e["kind"] for e in timeline(low["id"])["items"]]
    assert kinds[:1] == ["created"] and "assign" in kinds and "priority" in kinds


def test_search_filters_pagination():
    ids = [new_case(account="u_search", type="seller_payout_fraud", tags=["sp-batch"],
                    title=f"payout {i} zebra")["id"] for i in range(5)]
    new_case(account="u_search", type="billing_error", title="unrelated")
    st, page, _ = req("GET", "/v1/cases?tag=sp-batch&limit=2")
    assert st == 200 and len(page["items"]) == 2 and page["next_cursor"]
    seen = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        st, page, _ = req("GET", f"/v1/cases?tag=sp-batch&limit=2&cursor={page['next_cursor']}")
        seen += [c["id"] for c in page["items"]]
    assert seen == list(reversed(ids))  # newest first, each once
    st, page, _ = req("GET", "/v1/cases?account_id=u_search&type=billing_error")
    assert [c["title"] for c in page["items"]] == ["unrelated"]
    st, page, _ = req("GET", "/v1/cases?q=ZEBRA")
    assert len(page["items"]) == 5
    set_status(ids[0], "investigating")
    st, page, _ = req("GET", "/v1/cases?account_id=u_search&status=investigating")
    assert [c["id"] for c in page["items"]] == [ids[0]]
    st, page, _ = req("GET", "/v1/cases?status=bogus")
    assert st == 400
    st, page, _ = req("GET", "/v1/cases?overdue=true&account_id=u_search")
    assert st == 200 and page["items"] == []  # nothing is overdue yet


# ---- timeline ----

def test_customer_view_hides_internal_notes():
    c = new_case(account="u_view")
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/notes",
                   {"text": "INTERNAL-7731 looks like the ex-partner", "actor": "alice"})
    assert st == 201
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/notes",
                   {"text": "We are looking into your report.", "visibility": "customer"})
    assert st == 201
    set_status(c["id"], "investigating", note="INTERNAL-9911 escalated")
    internal = timeline(c["id"])
    texts = [e["text"] for e in internal["items"]]
    assert any("INTERNAL-7731" in t for t in texts) and any("INTERNAL-9911" in t for t in texts)
    assert any(e["actor"].startswith("alice via apikey:") for e in internal["items"])
    customer = timeline(c["id"], "customer")
    dump = json.dumps(customer)
    assert "INTERNAL-" not in dump and "apikey:" not in dump and "alice" not in dump, dump
    ctexts = [e["text"] for e in customer["items"]]
    assert "We are looking into your report." in ctexts
    assert any("investigating" in t for t in ctexts)
    st, b, _ = req("GET", f"/v1/cases/{c['id']}/timeline?view=everything")
    assert st == 400
    # Entries are append-only: the same entries, in the same order, later.
    assert timeline(c["id"])["items"][:len(internal["items"])] == internal["items"]


# ---- evidence ----

def test_evidence_links():
    post_event(event("ev-link-1", "order.placed", account="u_ev",
                     properties={"amount": 12000, "currency": "EUR"}))
    post_event(event("ev-other", account="u_someone_else"))
    c = new_case(account="u_ev", type="unauthorized_transaction")
    st, e, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "event", "ref": "ev-link-1"})
    assert st == 201 and e["summary"]["type"] == "order.placed", e
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "event", "ref": "ev-link-1"})
    assert st == 409 and b["error"]["code"] == "evidence_exists"
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "event", "ref": "nope"})
    assert st == 404
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "event", "ref": "ev-other"})
    assert st == 400 and b["error"]["code"] == "event_of_another_account"
    for kind, ref in [("session", "s_1"), ("device", "d_1"), ("transaction", "tx_9")]:
        st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": kind, "ref": ref})
        assert st == 201, b
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "note", "note": "called"})
    assert st == 201
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "file", "ref": "x"})
    assert st == 400 and b["error"]["code"] == "invalid_evidence_kind"
    st, got, _ = req("GET", f"/v1/cases/{c['id']}")
    assert got["money_at_stake"] == {"amount": 12000, "currency": "EUR"}
    st, lst, _ = req("GET", f"/v1/cases/{c['id']}/evidence")
    assert [e["kind"] for e in lst["items"]] == ["event", "session", "device", "transaction",
                                                 "note"]


def upload(cid, data, ctype=None, name="shot.png"):
    h = {"Content-Type": ctype} if ctype else {}
    return srv.request("POST", f"/v1/cases/{cid}/evidence/files?filename={name}&note=screenshot",
                       raw=data, key=KEY, headers=h)


def test_uploads_sniffed_limited_stored_by_hash():
    c = new_case(account="u_up")
    st, e, _ = upload(c["id"], PNG, "image/png")
    assert st == 201, e
    assert e["sha256"] == hashlib.sha256(PNG).hexdigest() and e["content_type"] == "image/png"
    path = os.path.join(srv.data_dir, "evidence", e["sha256"][:2], e["sha256"])
    assert open(path, "rb").read() == PNG
    st, body, r = srv.request("GET", f"/v1/cases/{c['id']}/evidence/{e['id']}/content", key=KEY)
    assert st == 200 and body == PNG and r.getheader("Content-Type") == "image/png"
    st, b, _ = upload(c["id"], PNG, "image/png")
    assert st == 409
    st, e2, _ = upload(c["id"], PDF, None, "statement.pdf")  # undeclared: sniffed
    assert st == 201 and e2["content_type"] == "application/pdf"
    # The header is not trusted: an executable called a PNG is refused.
    st, b, _ = upload(c["id"], ELF, "image/png", "x.png")
    assert st == 415 and b["error"]["code"] == "unsupported_content_type", b
    st, b, _ = upload(c["id"], PDF + b" ", "image/png", "fake.png")
    assert st == 415 and b["error"]["code"] == "content_type_mismatch", b
    st, b, _ = upload(c["id"], b"A" * 5000, "text/plain", "big.txt")
    assert st == 413 and b["error"]["code"] == "upload_too_large", b
    st, b, _ = upload(c["id"], b"", "text/plain", "empty.txt")
    assert st == 400
    st, lst, _ = req("GET", f"/v1/cases/{c['id']}/evidence")
    assert [e["kind"] for e in lst["items"]] == ["file", "file"]


# ---- playbook ----

def seed_account(acct):
    post_event(event(f"{acct}-login", account=acct, occurred_at="2026-11-20T09:00:00Z",
                     context={"ip": "203.0.113.9"}))
    post_event(event(f"{acct}-email", "email.changed", account=acct,
                     occurred_at="2026-11-20T09:05:00Z"))
    post_event(event(f"{acct}-order", "order.placed", account=acct,
                     occurred_at="2026-11-20T09:10:00Z",
                     properties={"amount": 30000, "currency": "EUR"}))
    post_event(event(f"{acct}-sub", "subscription.activated", account=acct,
                     occurred_at="2026-11-20T09:11:00Z",
                     properties={"amount": 999, "currency": "EUR"}))
    post_event(event(f"{acct}-xfer", "wallet.transfer", account=acct,
                     occurred_at="2026-11-20T09:12:00Z",
                     properties={"amount": 5000, "currency": "EUR"}))


def test_playbook_idempotent():
    acct = "u_pb_ok"
    seed_account(acct)
    st, r1, _ = req("POST", f"/v1/accounts/{acct}/secure", {"reason": "customer called"})
    assert st == 200, r1
    assert r1["complete"] is True  # (a detection may have opened the case already)
    names = [s["step"] for s in r1["steps"]]
    assert names == ["revoke_sessions", "require_password_reset", "require_mfa_reverify",
                     "freeze_money", "forget_untrusted_devices", "collect_activity", "notify"]
    assert all(s["status"] == "done" and s["attempts"] == 1 for s in r1["steps"])
    act = r1["activity"]
    assert act["orders"] == 1 and act["transfers"] == 1 and act["subscriptions"] == 1
    assert act["account_changes"] >= 1
    st, acc, _ = req("GET", f"/v1/accounts/{acct}")
    assert acc["state"] == "frozen"
    st, r2, _ = req("POST", f"/v1/accounts/{acct}/secure", {})
    assert st == 200 and r2["created"] is False
    assert (r2["case_id"], r2["run_id"]) == (r1["case_id"], r1["run_id"])
    assert [s["attempts"] for s in r2["steps"]] == [1] * 7  # nothing done twice
    st, ev, _ = req("GET", f"/v1/cases/{r1['case_id']}/evidence")
    refs = {e["ref"] for e in ev["items"]}
    assert {f"{acct}-order", f"{acct}-xfer", f"{acct}-sub", f"{acct}-email"} <= refs
    st, c, _ = req("GET", f"/v1/cases/{r1['case_id']}")
    assert c["type"] == "account_compromise" and c["money_at_stake"]["amount"] >= 35999
    st, b, _ = req("POST", "/v1/accounts/u_x/secure", {"source": "martians"})
    assert st == 400


def wait_for(fn, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_playbook_partial_failure_then_retry():
    d = tempfile.mkdtemp(prefix="agpb")
    s = Server(["--cases_fail_steps=forget_untrusted_devices,notify",
                "--cases_retry_interval_s=0"], data_dir=d).start()
    try:
        k = s.key("accounts:write accounts:read cases:read events:write")
        s.request("POST", "/v1/events", body=event("pf-1", "order.placed", account="u_pf",
                                                  properties={"amount": 700, "currency": "EUR"}),
                  key=k)
        st, r1, _ = s.request("POST", "/v1/accounts/u_pf/secure", body={}, key=k)
        assert st == 200 and r1["complete"] is False, r1
        by = {x["step"]: x for x in r1["steps"]}
        assert by["forget_untrusted_devices"]["status"] == "failed"
        assert "on purpose" in by["forget_untrusted_devices"]["error"]
        assert by["notify"]["status"] == "failed"
        assert by["freeze_money"]["status"] == "done" and by["collect_activity"]["status"] == "done"
        st, tl, _ = s.request("GET", f"/v1/cases/{r1['case_id']}/timeline", key=k)
        assert any("forget_untrusted_devices failed" in e["text"] for e in tl["items"])
        # A second call retries the failed steps only (they still fail here).
        st, r2, _ = s.request("POST", "/v1/accounts/u_pf/secure", body={}, key=k)
        by2 = {x["step"]: x for x in r2["steps"]}
        assert by2["forget_untrusted_devices"]["attempts"] == 2 and by2["freeze_money"]["attempts"] == 1
        s.stop()
        # The fault is gone: the background retry finishes the run on its own.
        s.extra = ["--cases_retry_interval_s=1"]
        s.start()

        def done():
            st, tl, _ = s.request("GET", f"/v1/cases/{r1['case_id']}/timeline", key=k)
            return any("every step done" in e["text"] for e in tl["items"])
        wait_for(done)
        st, r3, _ = s.request("POST", "/v1/accounts/u_pf/secure", body={}, key=k)
        by3 = {x["step"]: x for x in r3["steps"]}
        assert r3["complete"] is True and r3["run_id"] == r1["run_id"]
        assert by3["forget_untrusted_devices"]["attempts"] == 3
        assert by3["revoke_sessions"]["attempts"] == 1
    finally:
        s.cleanup()
        shutil.rmtree(d, ignore_errors=True)


# ---- actions ----

class Hooks(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Hooks.got.append((dict(self.headers), self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def verify_standard_webhook(secret, headers, body):
    key = base64.b64decode(secret.split("_", 1)[1])
    h = {k.lower(): v for k, v in headers.items()}
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig == "v1," + want for sig in h["webhook-signature"].split())


def test_reversal_signed_and_tracked_to_confirmation():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        c = new_case(account="u_rev", type="unauthorized_transaction")
        # No subscription yet: the command fails visibly instead of waiting forever.
        st, a0, _ = req("POST", f"/v1/cases/{c['id']}/actions",
                        {"kind": "reverse", "target": {"type": "transaction", "id": "tx_0"},
                         "amount": 100, "currency": "EUR"})
        assert st == 201 and a0["status"] == "failed" and "subscription" in a0["result"], a0
        st, wh, _ = srv.request("POST", "/v1/webhooks", key=ADMIN, body={
            "url": f"http://127.0.0.1:{receiver.server_port}/hooks",
            "kinds": ["reversal.command", "order_cancel.command"]})
        assert st == 201, wh
        st, a, _ = req("POST", f"/v1/cases/{c['id']}/actions",
                       {"kind": "reverse", "target": {"type": "transaction", "id": "tx_42"},
                        "amount": 4200, "currency": "EUR", "note": "card not present"})
        assert st == 201 and a["status"] == "pending", a
        headers, body = wait_for(lambda: next((g for g in Hooks.got
                                               if a["id"].encode() in g[1]), None))
        assert verify_standard_webhook(wh["secret"], headers, body)
        assert not verify_standard_webhook(wh["secret"], headers, body + b" ")
        payload = json.loads(body)
        assert payload["type"] == "reversal.command"
        data = payload["data"]
        assert data["action_id"] == a["id"] and data["target"] == {"type": "transaction",
                                                                   "id": "tx_42"}
        assert data["idempotency_key"] == a["command"]["idempotency_key"] == f"case-command:{a['id']}"
        assert data["amount"] == 4200 and data["confirm_url"].endswith(
            f"/v1/cases/{c['id']}/actions/{a['id']}/confirm")
        path = f"/v1/cases/{c['id']}/actions/{a['id']}/confirm"
        st, b, _ = req("POST", path, {"result": "maybe"})
        assert st == 400
        st, b, _ = req("POST", path, {"result": "confirmed", "detail": "reversed by PSP"})
        assert st == 200 and b["status"] == "confirmed" and b["resolved_at"]
        st, b, _ = req("POST", path, {"result": "confirmed"})  # the platform retried
        assert st == 200 and b["status"] == "confirmed"
        st, b, _ = req("POST", path, {"result": "failed"})
        assert st == 409 and b["error"]["code"] == "action_not_pending"
        st, b, _ = req("POST", f"/v1/cases/{c['id']}/actions/act_nope/confirm",
                       {"result": "confirmed"})
        assert st == 404
        # An order cancellation that the platform reports as failed.
        st, oc, _ = req("POST", f"/v1/cases/{c['id']}/actions",
                        {"kind": "cancel_order", "target": {"type": "order", "id": "o_7"}})
        assert st == 201 and oc["status"] == "pending"
        st, b, _ = req("POST", f"/v1/cases/{c['id']}/actions/{oc['id']}/confirm",
                       {"result": "failed", "detail": "already shipped"})
        assert b["status"] == "failed" and b["result"] == "already shipped"
        for kind, extra in [("mark_unauthorized", {"target": {"type": "order", "id": "o_7"}}),
                            ("refund", {"target": {"type": "order", "id": "o_7"}, "amount": 10,
                                        "currency": "EUR"}),
                            ("compensation", {"amount": 500, "currency": "EUR"})]:
            st, b, _ = req("POST", f"/v1/cases/{c['id']}/actions", dict(kind=kind, **extra))
            assert st == 201 and b["status"] == "recorded", b
        st, b, _ = req("POST", f"/v1/cases/{c['id']}/actions", {"kind": "refund"})
        assert st == 400
        st, lst, _ = req("GET", f"/v1/cases/{c['id']}/actions")
        assert [x["status"] for x in lst["items"]] == ["failed", "confirmed", "failed",
                                                        "recorded", "recorded", "recorded"]
        cust = json.dumps(timeline(c["id"], "customer"))
        assert "confirmed" in cust
    finally:
        receiver.shutdown()


def test_restore_needs_new_credentials():
    acct = "u_restore"
    post_event(event("rs-1", account=acct))
    st, r, _ = req("POST", f"/v1/accounts/{acct}/secure", {})
    cid = r["case_id"]
    st, b, _ = req("POST", f"/v1/cases/{cid}/actions", {"kind": "restore_account"})
    assert st == 409 and b["error"]["code"] == "credentials_not_renewed", b
    post_event(event("rs-2", "password.reset_completed", account=acct,
                     occurred_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    post_event(event("rs-3", "mfa.succeeded", account=acct,
                     occurred_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    st, b, _ = req("POST", f"/v1/cases/{cid}/actions", {"kind": "restore_account"})
    assert st == 201 and b["status"] == "recorded", b
    st, acc, _ = req("GET", f"/v1/accounts/{acct}")
    assert acc["state"] == "active"


# ---- disputes, labels, reports ----

def test_disputes():
    c = new_case(account="u_dsp", type="unauthorized_transaction")
    st, d, _ = req("POST", f"/v1/cases/{c['id']}/disputes",
                   {"transaction_id": "tx_5", "amount": 2500, "currency": "USD",
                    "reason": "not me"})
    assert st == 201 and d["status"] == "opened" and d["due_at"] and not d["final"], d
    st, b, _ = req("POST", f"/v1/cases/{c['id']}/disputes", {"transaction_id": "tx_5"})
    assert st == 400
    moves = [("won", 409), ("under_review", 200), ("evidence_requested", 200),
             ("under_review", 200), ("won", 200), ("lost", 409), ("opened", 409)]
    for to, want in moves:
        st, b, _ = req("POST", f"/v1/disputes/{d['id']}/status", {"status": to})
        assert st == want, (to, st, b)
        if st == 409:
            assert b["error"]["code"] == "invalid_transition"
    st, got, _ = req("GET", f"/v1/disputes/{d['id']}")
    assert got["status"] == "won" and got["final"] and got["due_at"] is None
    st, lst, _ = req("GET", f"/v1/disputes?case_id={c['id']}")
    assert [x["id"] for x in lst["items"]] == [d["id"]]
    assert any(e["kind"] == "dispute" for e in timeline(c["id"], "customer")["items"])


def test_labels_export():
    acct = "u_lab"
    post_event(event("lab-1", account=acct))
    post_event(event("lab-2", "payout_account.changed", account=acct))
    c = new_case(account=acct, type="account_compromise")
    for ref in ("lab-1", "lab-2"):
        req("POST", f"/v1/cases/{c['id']}/evidence", {"kind": "event", "ref": ref})
    st, b, _ = set_status(c["id"], "resolved_fraud")
    assert st == 200 and b["outcome"] == "fraud_confirmed"
    st, body, r = srv.request("GET", "/v1/labels", key=KEY)
    lines = [json.loads(x) for x in body.decode().splitlines()] if isinstance(body, bytes) else [body]
    mine = {x["event_id"]: x["label"] for x in lines if x["case_id"] == c["id"]}
    assert mine == {"lab-1": "account_takeover", "lab-2": "account_takeover"}, mine
    st, body, r = srv.request("GET", "/v1/labels?format=csv", key=KEY)
    text = body.decode()
    assert text.startswith("event_id,account_id,case_id,label") and '"lab-2"' in text
    set_status(c["id"], "open")  # reopened: its labels are withdrawn
    st, body, r = srv.request("GET", "/v1/labels?format=csv", key=KEY)
    assert '"lab-2"' not in body.decode()
    set_status(c["id"], "resolved_not_fraud")
    st, body, r = srv.request("GET", "/v1/labels", key=KEY)
    assert b'"legitimate"' in body
    st, b, _ = srv.request("GET", "/v1/labels?format=xml", key=KEY)
    assert st == 400


def reversed_eur():
    st, rep, _ = req("GET", "/v1/reports/cases?period=month")
    return sum(x["money_reversed"].get("EUR", 0) for x in rep["items"]
               if x["type"] == "seller_payout_fraud")


def test_reports_json_and_csv():
    srv.request("POST", "/v1/webhooks", key=ADMIN, body={
        "url": "http://127.0.0.1:9/nowhere", "kinds": ["reversal.command"]})
    before = reversed_eur()
    sp = new_case(account="u_rep", type="seller_payout_fraud")
    st, a, _ = req("POST", f"/v1/cases/{sp['id']}/actions",
                   {"kind": "reverse", "target": {"type": "payout", "id": "po_1"},
                    "amount": 777, "currency": "EUR"})
    assert a["status"] == "pending", a
    assert reversed_eur() == before  # pending money is not reversed money
    req("POST", f"/v1/cases/{sp['id']}/actions/{a['id']}/confirm", {"result": "confirmed"})
    assert reversed_eur() == before + 777
    c = new_case(account="u_rep", type="billing_error")
    set_status(c["id"], "investigating")
    set_status(c["id"], "resolved_not_fraud")
    st, rep, _ = req("GET", "/v1/reports/cases?period=month")
    assert st == 200, rep
    rows = [x for x in rep["items"] if x["type"] == "billing_error"]
    assert rows and sum(x["opened"] for x in rows) >= 1 and sum(x["resolved"] for x in rows) >= 1
    assert rows[0]["avg_time_to_resolution_s"] is not None
    st, body, r = srv.request("GET", "/v1/reports/cases?period=week&format=csv", key=KEY)
    assert st == 200 and r.getheader("Content-Type").startswith("text/csv")
    assert body.decode().splitlines()[0].startswith("period,type,opened,resolved")
    st, b, _ = req("GET", "/v1/reports/cases?period=year")
    assert st == 400


# ---- detections ----

def test_detections_open_cases():
    post_event(event("msg-1", "message.reported", account="u_det",
                     properties={"channel": "email"}))
    st, page, _ = req("GET", "/v1/cases?account_id=u_det&type=suspicious_message")
    assert len(page["items"]) == 1 and page["items"][0]["source"] == "phishing"
    cid = page["items"][0]["id"]
    st, ev, _ = req("GET", f"/v1/cases/{cid}/evidence")
    assert [(e["kind"], e["ref"]) for e in ev["items"]] == [("message", "msg-1")]
    post_event(event("msg-2", "message.reported", account="u_det"))  # joins
    st, page, _ = req("GET", "/v1/cases?account_id=u_det&type=suspicious_message")
    assert len(page["items"]) == 1
    # A denied money movement (frozen account) opens an unauthorized-transaction case
    # (this server opens cases at any risk: --cases_auto_risk=0).
    srv.request("POST", "/v1/accounts/u_det2/freeze", key=KEY, body={"reason": "test"})
    d = post_event(event("det-o1", "order.placed", account="u_det2",
                         properties={"amount": 9900, "currency": "EUR"}))
    assert d["decision"]["action"] == "deny"
    st, page, _ = req("GET", "/v1/cases?account_id=u_det2")
    assert [c["type"] for c in page["items"]] == ["unauthorized_transaction"]
    assert page["items"][0]["money_at_stake"] == {"amount": 9900, "currency": "EUR"}


# ---- audit ----

def test_audit_log_and_tamper_detection():
    st, a, _ = srv.request("GET", "/v1/audit?limit=5", key=ADMIN)
    assert st == 200 and len(a["items"]) == 5 and a["items"][0]["seq"] == 1
    assert a["items"][1]["prev_hash"] == a["items"][0]["hash"]
    st, a, _ = srv.request("GET", "/v1/audit", key=KEY)
    assert st == 403
    src = srv.data_dir
    srv.stop()
    try:
        p = cli("audit", "verify", data_dir=src)
        assert "OK" in p.stdout
        tampers = {
            "alter": ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4", "entry 4"),
            "remove": ("DELETE FROM audit_log WHERE seq = 3", "entry 3"),
            "reorder": ("UPDATE audit_log SET details = CASE seq WHEN 5 THEN "
                        "(SELECT details FROM audit_log WHERE seq = 6) ELSE "
                        "(SELECT details FROM audit_log WHERE seq = 5) END WHERE seq IN (5, 6)",
                        "entry 5"),
            "truncate": ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
                         "entry"),
        }
        for name, (sql, want) in tampers.items():
            d = tempfile.mkdtemp(prefix="agaudit")
            try:
                shutil.copy(os.path.join(src, "accountguard.db"), d)
                shutil.copy(os.path.join(src, "secret.key"), d)
                subprocess.run(["sqlite3", os.path.join(d, "accountguard.db"), sql], check=True)
                p = cli("audit", "verify", data_dir=d, check=False)
                assert p.returncode == 1, (name, p.stdout, p.stderr)
                assert "BROKEN" in p.stdout and want in p.stdout, (name, p.stdout)
            finally:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        srv.start()


if __name__ == "__main__":
    setup()
    try:
        run([test_workflow_transitions_table, test_status_bad_input, test_create_validation,
             test_priority_sla_assignment_tags, test_search_filters_pagination,
             test_customer_view_hides_internal_notes, test_evidence_links,
             test_uploads_sniffed_limited_stored_by_hash, test_playbook_idempotent,
             test_playbook_partial_failure_then_retry,
             test_reversal_signed_and_tracked_to_confirmation, test_restore_needs_new_credentials,
             test_disputes, test_labels_export, test_reports_json_and_csv,
             test_detections_open_cases, test_audit_log_and_tamper_detection])
    finally:
        srv.cleanup()
