"""POST /v1/messages/analyze against a real server: a phishing email and a
legitimate one from tests/data/phish (raw and as JSON), an SMS (JSON and
text/plain), bad input (not a message, empty, too large, wrong kind,
unknown fields), the scope, and with intel_from_messages on, the phishing
message's indicators added to intel with the message as provenance (and
nothing from a legitimate message, nor a brand's own domain)."""
import os

from agtest import SRC, Server, run

srv = None
M = None
DATA = os.path.join(SRC, "tests/data/phish")


def setup():
    global srv, M
    srv = Server(extra_args=["--intel-from-messages=true"]).start()
    M = srv.key("messages:write intel:read events:write")


def fixture(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def analyze(raw=None, body=None, ctype=None, query="", key=None):
    h = {"Content-Type": ctype} if ctype else None
    return srv.request("POST", "/v1/messages/analyze" + query, body=body, raw=raw, headers=h, key=key or M)


def indicators(source="phish"):
    st, b, _ = srv.request("GET", f"/v1/intel/indicators?source={source}&limit=1000", key=M)
    assert st == 200, b
    return b["items"]


def test_phishing_email_raw_adds_intel():
    st, r, _ = analyze(raw=fixture("spoof_paypal.eml"), ctype="message/rfc822")
    assert st == 200, r
    assert r["kind"] == "email" and r["verdict"] == "phishing" and r["score"] > 0.9
    assert r["reasons"] and all(x["code"] and x["evidence"] is not None for x in r["reasons"])
    urls = [u["value"] for u in r["indicators"]["urls"]]
    assert "http://paypal.com.secure-login.example.top/signin/verify" in urls
    assert r["intel_added"] > 0
    added = indicators()
    assert len(added) == r["intel_added"]
    ref = "message:sha256:" + r["message_digest"]
    assert all(i["external_ref"] == ref and i["source"] == "phish" and i["valid_until"] for i in added)
    values = {i["value"] for i in added}
    assert "paypa1.com" in values and "service@paypa1.com" in values
    assert "http://paypal.com.secure-login.example.top/signin/verify" in values
    assert "paypal.com" not in values  # a protected brand is never added
    # The added indicators match in decisions.
    st, d, _ = srv.request("POST", "/v1/events", key=M, body={
        "id": "msg-ev-1", "type": "email.changed", "occurred_at": "2026-11-21T10:00:00Z",
        "account": {"id": "u_msg"}, "properties": {"new_email": "someone@paypa1.com"}})
    assert st == 200 and any(x["code"] == "intel_match" for x in d["decision"]["reasons"]), d
    # The same message again: the same indicators, updated, not duplicated.
    st, r2, _ = analyze(raw=fixture("spoof_paypal.eml"), ctype="message/rfc822")
    assert st == 200 and len(indicators()) == len(added)


def test_legit_email_json_adds_nothing():
    before = len(indicators())
    raw = fixture("legit_amazon.eml").decode()
    st, r, _ = analyze(body={"kind": "email", "raw": raw})
    assert st == 200, r
    assert r["verdict"] == "legit" and r["score"] < 0.5
    assert "intel_added" not in r
    assert r["indicators"]["domains"]
    assert len(indicators()) == before


def test_sms_json_and_text_plain():
    text = fixture("sms_smish.txt").decode().split("\n", 1)[1].strip()
    st, r, _ = analyze(body={"kind": "sms", "sender": "+447700900123", "text": text})
    assert st == 200, r
    assert r["kind"] == "sms" and r["verdict"] in ("phishing", "suspicious"), r
    assert r["from"] == "+447700900123"
    assert any(d["value"] == "paypal-verify-account.com" for d in r["indicators"]["domains"]), r
    st, r2, _ = analyze(raw=text.encode(), ctype="text/plain; charset=utf-8", query="?sender=%2B447700900123")
    assert st == 200 and r2["verdict"] == r["verdict"] and r2["score"] == r["score"], (r, r2)
    ham = "Hi, running 10 minutes late, see you at the cafe."
    st, r3, _ = analyze(body={"kind": "sms", "text": ham})
    assert st == 200 and r3["verdict"] == "legit", r3


def test_bad_input():
    st, e, _ = analyze(raw=b"hello, this is not an email at all", ctype="message/rfc822")
    assert st == 400 and e["error"]["code"] == "invalid_message", e
    st, e, _ = analyze(body={"kind": "email", "raw": "just words\n\nmore words"})
    assert st == 400 and e["error"]["code"] == "invalid_message"
    st, e, _ = analyze(body={"kind": "email", "raw": ""})
    assert st == 400
    st, e, _ = analyze(body={"kind": "sms", "text": ""})
    assert st == 400 and e["error"]["field"] == "text"
    st, e, _ = analyze(body={"kind": "fax", "text": "x"})
    assert st == 400 and e["error"]["field"] == "kind"
    st, e, _ = analyze(body={"kind": "sms", "text": "x", "colour": "red"})
    assert st == 400 and e["error"]["field"] == "colour"
    st, e, _ = analyze(body={"text": "x"})
    assert st == 400 and e["error"]["field"] == "kind"
    st, e, _ = analyze(body={"kind": "sms", "text": "x" * (64 * 1024 + 1)})
    assert st == 413 and e["error"]["code"] == "message_too_large", e
    st, e, _ = analyze(raw=b"x" * (64 * 1024 + 1), ctype="text/plain")
    assert st == 413
    st, e, _ = analyze(raw=b"Subject: x\r\n\r\n" + b"y" * (2 * 1024 * 1024), ctype="message/rfc822")
    assert st == 413
    st, e, _ = analyze(raw=b"\xff\xfe bad utf-8", ctype="text/plain")
    assert st == 400
    st, e, _ = analyze(raw=b"{}", ctype="application/xml")
    assert st == 415
    other = srv.key("events:write")
    st, e, _ = analyze(body={"kind": "sms", "text": "hello"}, key=other)
    assert st == 403


def test_setting_off_adds_nothing():
    s2 = Server().start()
    try:
        k = s2.key("messages:write intel:read")
        st, r, _ = s2.request("POST", "/v1/messages/analyze", raw=fixture("spoof_paypal.eml"),
                              headers={"Content-Type": "message/rfc822"}, key=k)
        assert st == 200 and r["verdict"] == "phishing" and "intel_added" not in r
        st, b, _ = s2.request("GET", "/v1/intel/indicators", key=k)
        assert b["items"] == []
    finally:
        s2.cleanup()


if __name__ == "__main__":
    setup()
    try:
        run([test_phishing_email_raw_adds_intel, test_legit_email_json_adds_nothing,
             test_sms_json_and_text_plain, test_bad_input, test_setting_off_adds_nothing])
    finally:
        srv.cleanup()
