"""Account-change monitoring, table-driven over every monitored change: after
a risky (new-device, new-country) login, each sensitive change within the
window is escalated by its rule in rules/default.rules, alerts the owner and
opens (or joins) a fraud case; the same change with no risky login before it
is not escalated by that rule."""
from agtest import Server, event, run

UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Safari/605.1.15")
UA_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
HOME = {"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d_home"}
AWAY = {"ip": "200.160.2.3", "user_agent": UA_WIN, "device_id": "d_attacker"}

# (event type, properties, rule expected, strongest-at-least)
SEQUENCES = [
    ("password.changed", None, "ato_password_change", "review"),
    ("email.changed", None, "ato_contact_change", "deny"),
    ("phone.changed", None, "ato_contact_change", "deny"),
    ("mfa.disabled", None, "ato_mfa_disabled", "deny"),
    ("payment_method.added", None, "ato_payment_method", "review"),
    ("shipping_address.added", None, "ato_shipping_address", "review"),
    ("payout_account.changed", None, "ato_payout_account", "deny"),
    ("subscription.activated", {"amount": 999, "currency": "EUR"}, "ato_subscription", "review"),
    ("wallet.transfer", {"amount": 50000, "currency": "EUR"}, "ato_money_out", "deny"),
]
ORDER = ["allow", "review", "challenge", "deny"]

srv = K = None


def setup():
    global srv, K
    srv = Server().start()
    K = srv.key("admin")


def post(ev):
    st, body, _ = srv.request("POST", "/v1/events", body=ev, key=K)
    assert st == 200, body
    return body


def history(acct):
    for day in range(1, 8):
        post(event(f"{acct}-h{day}", "login.succeeded", account=acct,
                   occurred_at=f"2026-09-{day:02d}T09:00:00Z", context=HOME))


def test_each_change_after_a_risky_login():
    for i, (etype, props, rule, least) in enumerate(SEQUENCES):
        acct = f"u_mon_{i}"
        history(acct)
        login = post(event(f"{acct}-risky", "login.succeeded", account=acct,
                           occurred_at="2026-09-10T10:00:00Z", context=AWAY))
        assert login["decision"]["action"] != "allow", login
        body = post(event(f"{acct}-change", etype, account=acct, properties=props,
                          occurred_at="2026-09-10T10:20:00Z", context=AWAY))
        d = body["decision"]
        assert rule in d["rules"], (etype, d)
        assert ORDER.index(d["action"]) >= ORDER.index(least), (etype, d)
        # the owner is told
        assert d.get("alerts"), (etype, body)
        # and a case holds it
        st, cases, _ = srv.request("GET", f"/v1/cases?account_id={acct}", key=K)
        assert st == 200 and cases["items"], (etype, cases)


def test_same_change_without_a_risky_login_is_not_escalated_by_the_rule():
    for i, (etype, props, rule, _) in enumerate(SEQUENCES):
        acct = f"u_calm_{i}"
        history(acct)
        post(event(f"{acct}-login", "login.succeeded", account=acct,
                   occurred_at="2026-09-10T10:00:00Z", context=HOME))
        d = post(event(f"{acct}-change", etype, account=acct, properties=props,
                       occurred_at="2026-09-10T10:20:00Z", context=HOME))["decision"]
        assert rule not in d["rules"], (etype, d)


def test_outside_the_window_the_rule_does_not_fire():
    acct = "u_mon_late"
    history(acct)
    post(event(f"{acct}-risky", "login.succeeded", account=acct,
               occurred_at="2026-09-10T10:00:00Z", context=AWAY))
    d = post(event(f"{acct}-change", "mfa.disabled", account=acct,
                   occurred_at="2026-09-10T13:00:00Z", context=AWAY))["decision"]
    assert "ato_mfa_disabled" not in d["rules"], d


if __name__ == "__main__":
    setup()
    try:
        run([test_each_change_after_a_risky_login,
             test_same_change_without_a_risky_login_is_not_escalated_by_the_rule,
             test_outside_the_window_the_rule_does_not_fire])
    finally:
        srv.cleanup()
