"""The risk engine and the rules through the real server: enrichment and the
login model's reasons, credential stuffing caught by the shipped rules, a
sensitive change after a risky login, and the rules API (validate with line
and column, publish, reload on SIGHUP, backtest over stored events)."""
import os
import signal
import time

from agtest import Server, event, run

srv = None
K = None
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Safari/605.1.15")
UA_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")


def setup():
    global srv, K
    srv = Server().start()
    K = srv.key("events:write events:read rules:write accounts:read")


def post(ev):
    st, body, _ = srv.request("POST", "/v1/events", body=ev, key=K)
    assert st == 200, body
    return body["decision"]


def codes(d):
    return {r["code"] for r in d["reasons"]}


def login(eid, acct, ip, ua, device, t, etype="login.succeeded"):
    return post(event(eid, etype, account=acct, occurred_at=t,
                      context={"ip": ip, "user_agent": ua, "device_id": device}))


def ts(day, hour=10):
    return f"2026-10-{day:02d}T{hour:02d}:00:00Z"


def test_history_then_foreign_login_is_stepped_up():
    # Two weeks of logins from home (a UK address, one device, one browser).
    for day in range(1, 15):
        login(f"home-{day}", "u_hist", "81.2.69.160", UA_MAC, "d_mac", ts(day))
    d = login("home-15", "u_hist", "81.2.69.160", UA_MAC, "d_mac", ts(15))
    assert d["action"] == "allow", d
    # Then one from another continent, another device and browser.
    d = login("away-1", "u_hist", "200.160.2.3", UA_WIN, "d_new", ts(16))
    assert d["action"] in ("challenge", "deny", "review"), d
    assert {"new_country", "new_device"} <= codes(d), d
    assert d["risk"] > 0.5, d
    new_country = [r for r in d["reasons"] if r["code"] == "new_country"][0]
    assert "->" in new_country["detail"] or "BR" in new_country["detail"], new_country


def test_challenged_login_is_learned_only_after_its_second_factor():
    # A home history, then a login from another continent: challenged.
    for day in range(1, 15):
        login(f"held-home-{day}", "u_held", "81.2.69.160", UA_MAC, "d_mac", ts(day))
    d = login("held-away-1", "u_held", "200.160.2.3", UA_WIN, "d_away", ts(16, 9))
    assert d["action"] == "challenge", d
    assert {"new_country", "new_device"} <= codes(d), d
    # Not learned while the challenge is open: the same context is as new.
    d = login("held-away-2", "u_held", "200.160.2.3", UA_WIN, "d_away", "2026-10-16T09:00:10Z")
    assert d["action"] == "challenge", d
    assert {"new_country", "new_device"} <= codes(d), d
    # The owner passes the second factor from that context: now it is theirs.
    post(event("held-mfa", "mfa.succeeded", account="u_held", occurred_at="2026-10-16T09:01:00Z",
               context={"ip": "200.160.2.3", "user_agent": UA_WIN, "device_id": "d_away"}))
    d = login("held-away-3", "u_held", "200.160.2.3", UA_WIN, "d_away", ts(16, 12))
    assert not {"new_country", "new_device"} & codes(d), d
    assert d["action"] in ("allow", "review"), d


def test_attacker_who_stops_at_the_challenge_teaches_nothing():
    for day in range(1, 15):
        login(f"stop-home-{day}", "u_stop", "81.2.69.160", UA_MAC, "d_mac", ts(day))
    for n in range(3):  # three tries, each challenged, none passed
        d = login(f"stop-away-{n}", "u_stop", "200.160.2.3", UA_WIN, "d_evil", ts(16, 9 + n))
        assert d["action"] == "challenge", d
        assert {"new_country", "new_device"} <= codes(d), d
    # A second factor passed much later (another session) does not teach
    # the held login's context: the hold lasts an hour.
    post(event("stop-mfa", "mfa.succeeded", account="u_stop", occurred_at="2026-10-16T14:00:00Z",
               context={"ip": "200.160.2.3", "user_agent": UA_WIN, "device_id": "d_evil"}))
    d = login("stop-away-9", "u_stop", "200.160.2.3", UA_WIN, "d_evil", ts(16, 15))
    assert {"new_country", "new_device"} <= codes(d), d


def test_credential_stuffing_from_one_ip_is_denied():
    actions = []
    for i in range(40):
        d = login(f"stuff-{i}", f"u_victim_{i}", "45.155.205.233", "python-requests/2.31",
                  f"d_bot", ts(20, 3), etype="login.failed")
        actions.append((d["action"], codes(d)))
    later = actions[-5:]
    assert all(a == "deny" for a, _ in later), later
    assert any(any(c.startswith("rule:stuffing") for c in cs) for _, cs in later), later


def test_brute_force_on_one_account():
    # Wrong passwords on one account from one address: challenged after 10
    # within 10 minutes (never denied: the owner must not be locked out).
    for i in range(12):
        d = post(event(f"bf-{i}", "login.failed", account="u_bf", occurred_at=f"2026-10-05T10:0{i // 2}:{(i % 2) * 30:02d}Z",
                       context={"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d_bf"}))
    assert d["action"] == "challenge" and "brute_force_account" in d["rules"], d
    # From many addresses within the hour: the distributed rule.
    for i in range(22):
        d = post(event(f"bfd-{i}", "login.failed", account="u_bfd",
                       occurred_at=f"2026-10-05T11:{i * 2:02d}:00Z",
                       context={"ip": f"198.51.100.{i % 7 + 1}", "user_agent": UA_WIN}))
    assert "brute_force_distributed" in d["rules"], d


def test_payout_account_change_is_held():
    for day in range(1, 5):
        login(f"hold-{day}", "u_hold", "81.2.69.160", UA_MAC, "d_mac", ts(day))
    # Changed without 2-step verification: held, and payouts denied meanwhile.
    d = post(event("hold-change", "payout_account.changed", account="u_hold",
                   occurred_at="2026-10-05T10:00:00Z",
                   context={"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d_mac"}))
    assert "payout_change_held" in codes(d) and d["hold"]["until"].startswith("2026-10-07"), d
    d = post(event("hold-payout", "payout.requested", account="u_hold",
                   occurred_at="2026-10-06T10:00:00Z", properties={"amount": 5000, "currency": "EUR"},
                   context={"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d_mac"}))
    assert d["action"] == "deny" and "payout_account_on_hold" in codes(d), d
    # After the hold, payouts go through again.
    d = post(event("hold-later", "payout.requested", account="u_hold",
                   occurred_at="2026-10-08T10:00:00Z", properties={"amount": 5000, "currency": "EUR"},
                   context={"ip": "81.2.69.160", "user_agent": UA_MAC, "device_id": "d_mac"}))
    assert "payout_account_on_hold" not in codes(d), d


def test_payout_change_after_risky_login_escalates():
    for day in range(1, 10):
        login(f"sel-{day}", "u_seller", "81.2.69.160", UA_MAC, "d_mac", ts(day))
    login("sel-risky", "u_seller", "200.160.2.3", UA_WIN, "d_attacker", ts(10, 9))
    d = post(event("sel-payout", "payout_account.changed", account="u_seller",
                   occurred_at="2026-10-10T09:20:00Z",
                   context={"ip": "200.160.2.3", "user_agent": UA_WIN, "device_id": "d_attacker"}))
    assert d["action"] in ("deny", "review", "challenge"), d
    assert any(r.startswith("rule:") for r in codes(d)), d
    assert d["rules"], d


def test_rules_api_validate_publish_backtest():
    st, cur, _ = srv.request("GET", "/v1/rules", key=K)
    assert st == 200 and cur["rules"] and cur["text"] and cur["fields"], cur
    bad = "rule x \"d\"\n  when event.type == \"login.failed\" and\n  then deny\n"
    st, body, _ = srv.request("POST", "/v1/rules/validate", key=K, body={"text": bad})
    assert st == 400 and body["error"]["line"] == 3 and body["error"]["column"] >= 1, body
    st, body, _ = srv.request("POST", "/v1/rules/validate", key=K,
                              body={"text": 'rule y "d" when no.such.field then deny\n'})
    assert st == 400 and body["error"]["code"] == "rules_unknown_field", body
    # A bad publish keeps the running rules.
    st, body, _ = srv.request("PUT", "/v1/rules", key=K, body={"text": bad})
    assert st == 400
    st, again, _ = srv.request("GET", "/v1/rules", key=K)
    assert again["version"] == cur["version"]
    # Backtest a rule that denies every logout over the stored events.
    post(event("bt-logout", "logout", account="u_bt", occurred_at=ts(21)))
    text = cur["text"] + '\nrule no_logouts "deny logouts" when event.type == "logout" then deny\n'
    st, rep, _ = srv.request("POST", "/v1/rules/backtest", key=K, body={"text": text, "examples": 5})
    assert st == 200, rep
    r = [x for x in rep["rules"] if x["id"] == "no_logouts"][0]
    assert r["fired"] >= 1 and r["changed"] >= 1 and "bt-logout" in r["examples"], r
    assert rep["events"] > 10
    # Publish it: it fires on the next logout.
    st, pub, _ = srv.request("PUT", "/v1/rules", key=K, body={"text": text})
    assert st == 200 and any(x["id"] == "no_logouts" for x in pub["rules"]), pub
    d = post(event("after-publish", "logout", account="u_bt", occurred_at=ts(22)))
    assert d["action"] == "deny" and "no_logouts" in d["rules"], d
    # The published rules survive a restart.
    srv.stop()
    srv.start()
    d = post(event("after-restart", "logout", account="u_bt", occurred_at=ts(23)))
    assert d["action"] == "deny", d


def test_sighup_reloads_rules_file():
    path = os.path.join(srv.data_dir, "rules.rules")
    text = open(path).read().replace('rule no_logouts "deny logouts" when event.type == "logout" then deny\n', "")
    with open(path, "w") as f:
        f.write(text + '\nrule review_logouts "watch logouts" when event.type == "logout" then review\n')
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline:
        d = post(event(f"hup-{time.time()}", "logout", account="u_bt", occurred_at=ts(24)))
        if "review_logouts" in d["rules"]:
            break
        time.sleep(0.1)
    assert d["action"] == "review" and "review_logouts" in d["rules"], d
    # A broken file is refused and the running rules stay.
    with open(path, "a") as f:
        f.write("rule broken when\n")
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    d = post(event("hup-broken", "logout", account="u_bt", occurred_at=ts(25)))
    assert "review_logouts" in d["rules"], d
    assert "rules reload refused" in srv.read_log()


if __name__ == "__main__":
    setup()
    try:
        run([test_history_then_foreign_login_is_stepped_up,
             test_challenged_login_is_learned_only_after_its_second_factor,
             test_attacker_who_stops_at_the_challenge_teaches_nothing,
             test_credential_stuffing_from_one_ip_is_denied,
             test_brute_force_on_one_account,
             test_payout_account_change_is_held,
             test_payout_change_after_risky_login_escalates,
             test_rules_api_validate_publish_backtest,
             test_sighup_reloads_rules_file])
    finally:
        srv.cleanup()
