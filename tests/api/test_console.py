"""Black-box tests of the analyst console's HTTP side: sign-in with password
and TOTP, cookie flags, CSRF, idle timeout, sign-out, roles as scopes,
throttling, the audit log, the overview figures, and the page's caching and
Content-Security-Policy headers."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import agtest  # noqa: E402
from consolekit import FAST, Client, User, create_user, set_cookie, totp  # noqa: E402

srv = None
admin = analyst = None


_n = 0


def fresh(role):
    """A new console user of <role> (each test its own: a user's TOTP codes
    are each good once, three per 30 s window at most)."""
    global _n
    _n += 1
    return create_user(srv, f"{role[:2]}{_n}", role)


def setup():
    global srv, admin, analyst
    srv = agtest.Server(FAST + ["--console_idle_timeout_s=3"]).start()
    admin = create_user(srv, "ada", "admin")
    analyst = create_user(srv, "ann", "analyst")


def test_signin_sets_a_strict_cookie():
    c = Client(srv)
    st, body, r = c.login(analyst)
    assert st == 200, body
    assert body["user"] == {"name": "ann", "role": "analyst"}, body
    assert len(body["csrf_token"]) == 64
    ck = set_cookie(r)
    assert ck["value"].startswith("agc_"), ck
    a = ck["attrs"]
    assert "httponly" in a and "secure" in a, a
    assert a.get("samesite") == "Strict", a
    assert a.get("path") == "/", a
    assert "max-age" not in a and "expires" not in a, a  # a browser-session cookie
    assert r.getheader("Cache-Control") == "no-store"
    st, me, _ = c.request("GET", "/console/api/me")
    assert st == 200 and me["user"]["name"] == "ann" and me["csrf_token"] == body["csrf_token"], me
    assert "cases:write" in me["scopes"] and "rules:write" not in me["scopes"], me["scopes"]


def test_wrong_password_code_or_name_look_the_same():
    c = Client(srv)
    u = fresh("analyst")
    good = totp(u.secret, int(time.time()) // 30)
    outcomes = [
        c.login(u, code=good, password="not the password at all")[:2],
        c.login(u, code="%06d" % ((int(good) + 1) % 1000000))[:2],
        c.login(User("nobody", u.password, u.secret), code=good)[:2],
    ]
    for st, body in outcomes:
        assert st == 401 and body["error"]["code"] == "signin_failed", body
    assert c.cookie is None


def test_code_cannot_be_used_twice():
    u = create_user(srv, "once", "analyst")
    code = u.next_code()
    st, body, _ = Client(srv).login(u, code=code)
    assert st == 200, body
    st, body, _ = Client(srv).login(u, code=code)
    assert st == 401 and body["error"]["code"] == "signin_failed", body


def test_no_cookie_no_access():
    st, body, _ = srv.request("GET", "/v1/cases")
    assert st == 401, body
    st, body, _ = srv.request("GET", "/v1/cases", headers={"Cookie": "ag_console=agc_forged"})
    assert st == 401 and body["error"]["code"] == "session_invalid", body
    st, body, _ = srv.request("GET", "/console/api/me")
    assert st == 401 and body["error"]["code"] == "no_session", body


def test_csrf_header_required_to_change_anything():
    c = Client(srv)
    assert c.login(fresh("analyst"))[0] == 200
    case = {"account_id": "u_csrf", "type": "account_compromise", "title": "csrf probe"}
    st, body, _ = c.request("POST", "/v1/cases", body=case, csrf=False)
    assert st == 403 and body["error"]["code"] == "csrf_failed", body
    st, body, _ = c.request("POST", "/v1/cases", body=case, csrf=False,
                            headers={"X-CSRF-Token": "0" * 64})
    assert st == 403 and body["error"]["code"] == "csrf_failed", body
    st, body, _ = c.request("POST", "/v1/cases", body=case,
                            headers={"Sec-Fetch-Site": "cross-site"})
    assert st == 403 and body["error"]["code"] == "csrf_failed", body
    # nothing was created by the refused requests
    st, body, _ = c.request("GET", "/v1/cases?account_id=u_csrf")
    assert st == 200 and body["items"] == [], body
    st, body, _ = c.request("POST", "/v1/cases", body=case)
    assert st == 201, body
    # reads need no token
    st, body, _ = c.request("GET", "/v1/cases/" + body["id"], csrf=False)
    assert st == 200, body
    # another session's token does not fit this one
    other = Client(srv)
    assert other.login(fresh("admin"))[0] == 200
    st, body, _ = c.request("POST", "/v1/cases", body=case, csrf=False,
                            headers={"X-CSRF-Token": other.csrf})
    assert st == 403 and body["error"]["code"] == "csrf_failed", body


def test_roles_map_to_scopes():
    an, ad = Client(srv), Client(srv)
    assert an.login(fresh("analyst"))[0] == 200 and ad.login(fresh("admin"))[0] == 200
    st, rules, _ = ad.request("GET", "/v1/rules")
    assert st == 200, rules
    text = rules["text"]
    st, body, _ = an.request("GET", "/v1/rules")  # analysts read the rules ...
    assert st == 200 and body["text"] == text, body
    st, body, _ = an.request("PUT", "/v1/rules", body={"text": text})  # ... admins change them
    assert st == 403 and body["error"]["code"] == "insufficient_scope", body
    st, body, _ = an.request("POST", "/v1/rules/backtest", body={"text": text})
    assert st == 403, body
    st, body, _ = an.request("GET", "/v1/apikeys")
    assert st == 403, body
    st, body, _ = an.request("POST", "/v1/events", body=agtest.event("console-ev-1"))
    assert st == 403, body
    st, body, _ = ad.request("PUT", "/v1/rules", body={"text": text})
    assert st == 200, body
    st, body, _ = an.request("POST", "/v1/accounts/u_roles/freeze", body={"reason": "test"})
    assert st == 200, body
    st, body, _ = an.request("GET", "/v1/stats/overview")
    assert st == 200, body


def test_api_key_still_wins_over_cookie():
    key = srv.key("events:read")
    c = Client(srv)
    assert c.login(fresh("admin"))[0] == 200
    # an Authorization header is judged alone: the admin's cookie adds nothing
    st, body, _ = c.request("GET", "/v1/apikeys", headers={"Authorization": "Bearer " + key})
    assert st == 403 and body["error"]["code"] == "insufficient_scope", body


def test_idle_timeout_and_activity():
    c = Client(srv)
    assert c.login(fresh("analyst"))[0] == 200
    for _ in range(3):  # activity keeps it alive past the 3 s timeout
        time.sleep(1.2)
        st, body, _ = c.request("GET", "/console/api/me")
        assert st == 200, body
    time.sleep(3.5)
    st, body, r = c.request("GET", "/v1/cases")
    assert st == 401 and body["error"]["code"] == "session_expired", body
    assert set_cookie(r)["attrs"].get("max-age") == "0"
    st, body, _ = c.request("GET", "/console/api/me")
    assert st == 401 and body["error"]["code"] == "session_expired", body


def test_signout_ends_the_session():
    c = Client(srv)
    assert c.login(fresh("analyst"))[0] == 200
    st, body, _ = c.request("POST", "/console/api/logout", csrf=False)
    assert st == 403 and body["error"]["code"] == "csrf_failed", body
    st, body, r = c.request("POST", "/console/api/logout")
    assert st == 200, body
    assert set_cookie(r)["attrs"].get("max-age") == "0"
    st, body, _ = c.request("GET", "/v1/cases")
    assert st == 401 and body["error"]["code"] == "session_invalid", body


def test_disabling_a_user_ends_its_sessions():
    u = create_user(srv, "gone", "analyst")
    c = Client(srv)
    assert c.login(u)[0] == 200
    assert c.request("GET", "/v1/cases")[0] == 200
    agtest.cli("console-user", "disable", "gone", data_dir=srv.data_dir)
    st, body, _ = c.request("GET", "/v1/cases")
    assert st == 401 and body["error"]["code"] == "session_invalid", body
    st, body, _ = Client(srv).login(u)
    assert st == 401, body
    p = agtest.cli("console-user", "list", data_dir=srv.data_dir)
    assert "gone\tanalyst" in p.stdout and "disabled" in p.stdout, p.stdout


def test_repeated_failures_are_throttled():
    u = create_user(srv, "slow", "analyst")
    c = Client(srv)
    for _ in range(6):
        st, body, _ = c.login(u, code="000000", password="wrong password here")
        assert st == 401, body
    st, body, r = c.login(u)
    assert st == 429 and body["error"]["code"] == "signin_throttled", body
    assert int(r.getheader("Retry-After")) >= 1


def test_console_actions_are_audited():
    c = Client(srv)
    assert c.login(admin)[0] == 200
    an = Client(srv)
    assert an.login(fresh("analyst"))[0] == 200
    assert an.request("PUT", "/v1/rules", body={"text": ""})[0] == 403
    st, body, _ = c.request("POST", "/v1/accounts/u_audited/freeze", body={"reason": "audit"})
    assert st == 200, body
    an_actor = "console:" + an.login_name
    key = srv.key("admin")
    deadline = time.time() + 5
    while True:
        st, log, _ = srv.request("GET", "/v1/audit?limit=1000", key=key)
        assert st == 200, log
        acts = [(e["actor"], e["action"], e["target"]) for e in log["items"]]
        if ("console:ada", "console.request", "/v1/accounts/u_audited/freeze") in acts or \
                time.time() > deadline:
            break
        time.sleep(0.1)
    assert ("console:ada", "console.signin", "console_user:ada") in acts, acts
    assert ("console:ada", "console.request", "/v1/accounts/u_audited/freeze") in acts, acts
    assert any(a == "console.signin_failed" for _, a, _ in acts), acts
    assert ("system:cli", "console.user_create", "console_user:ann") in acts, acts
    # refused attempts are recorded with their status; reads are not recorded
    refused = [e for e in log["items"] if e["actor"] == an_actor and e["target"] == "/v1/rules"]
    assert refused and refused[-1]["details"]["status"] == 403, refused
    assert not any(e["details"].get("method") == "GET" for e in log["items"]), acts


def test_overview_figures():
    key = srv.key("events:write,metrics:read")
    for i, ip in enumerate(["81.2.69.160", "185.220.101.4"]):
        st, body, _ = srv.request("POST", "/v1/events", key=key, body=agtest.event(
            f"ov-{i}", account="u_ov", context={"ip": ip, "device_id": f"d_{i}"}))
        assert st == 200, body
    st, body, _ = srv.request("GET", "/v1/stats/overview?minutes=5", key=key)
    assert st == 200, body
    assert body["window_minutes"] == 5 and len(body["decisions"]["per_minute"]) == 5
    pm = body["decisions"]["per_minute"]
    assert sum(sum(m[a] for a in ("allow", "review", "challenge", "deny")) for m in pm) == \
        body["decisions"]["total"] >= 2, body
    assert set(body["cases"]) == {"open", "overdue", "unassigned", "opened", "resolved"}
    assert body["cases"]["open"] >= 1  # the CSRF test's case
    assert isinstance(body["top_reasons"], list) and isinstance(body["top_rules"], list)
    st, body, _ = srv.request("GET", "/v1/stats/overview?minutes=1", key=key)
    assert st == 400, body


def test_page_headers():
    st, _, r = srv.request("GET", "/")
    assert st == 302 and r.getheader("Location") == "/console/"
    st, html, r = srv.request("GET", "/console/")
    assert st == 200 and r.getheader("Content-Type").startswith("text/html")
    csp = r.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp, csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    assert r.getheader("Cache-Control") == "no-cache"
    assert r.getheader("X-Frame-Options") == "DENY"
    page = html.decode() if isinstance(html, bytes) else html
    assert "<script>" not in page and "style=" not in page and "<style" not in page, page
    import re
    assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', page)
    assert len(assets) == 2, page
    for a in assets:
        assert re.search(r"-[A-Z0-9]{8}\.(js|css)$", a), a
        st, data, r = srv.request("GET", a)
        assert st == 200 and len(data) > 100, a
        assert r.getheader("Cache-Control") == "public, max-age=31536000, immutable"
        assert r.getheader("Content-Security-Policy") == csp
        ct = r.getheader("Content-Type")
        assert ct.startswith("text/javascript" if a.endswith(".js") else "text/css"), ct
        assert r.getheader("X-Content-Type-Options") == "nosniff"
    st, body, r = srv.request("GET", "/console/assets/nope-12345678.js")
    assert st == 404 and r.getheader("Cache-Control") == "no-store", body


def main():
    setup()
    try:
        agtest.run([
            test_signin_sets_a_strict_cookie,
            test_wrong_password_code_or_name_look_the_same,
            test_code_cannot_be_used_twice,
            test_no_cookie_no_access,
            test_csrf_header_required_to_change_anything,
            test_roles_map_to_scopes,
            test_api_key_still_wins_over_cookie,
            test_idle_timeout_and_activity,
            test_signout_ends_the_session,
            test_disabling_a_user_ends_its_sessions,
            test_repeated_failures_are_throttled,
            test_console_actions_are_audited,
            test_overview_figures,
            test_page_headers,
        ])
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
