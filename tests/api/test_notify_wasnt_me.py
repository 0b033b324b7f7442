"""The "this wasn't me" link in every alert: the GET page changes nothing;
POST secures the account (frozen, recorded, the owner and the platform told);
the token cannot be forged, replayed or used after expiry."""
import time
import urllib.parse

from agtest import Server, event, run
from notify_receivers import HttpReceiver


def setup(extra=()):
    recv = HttpReceiver()
    srv = Server(list(extra)).start()
    key = srv.key("admin")
    st, body, _ = srv.request("POST", "/v1/webhooks", body={"url": recv.url, "kinds": ["*"]},
                              key=key)
    assert st == 201, body
    return recv, srv, key


def alert_link(srv, key, recv, eid, account, etype="password.changed"):
    st, body, _ = srv.request("POST", "/v1/events", body=event(eid, etype, account=account),
                              key=key)
    assert st == 200, body
    got = recv.wait_kind("alert.password_changed", eid, timeout=5)
    assert got, "no alert"
    link = got[0]["data"]["link"]
    path = urllib.parse.urlparse(link).path
    assert path.startswith("/v1/wasnt-me/")
    return path


def html(body):
    return body.decode() if isinstance(body, bytes) else str(body)


def test_link_secures_the_account_once():
    recv, srv, key = setup()
    try:
        st, _, _ = srv.request("PUT", "/v1/accounts/u_w/contact", body={"locale": "pt-BR"},
                               key=key)
        assert st == 200
        path = alert_link(srv, key, recv, "w1", "u_w")
        # the page: public (no API key), in the owner's language, changes nothing
        st, body, r = srv.request("GET", path)
        assert st == 200, body
        assert r.getheader("Content-Type").startswith("text/html")
        assert "<form method=\"post\"" in html(body)
        assert "Não foi você?" in html(body) and '<html lang="pt">' in html(body)
        assert r.getheader("Cache-Control") == "no-store"
        st, acct, _ = srv.request("GET", "/v1/accounts/u_w", key=key)
        assert acct["state"] == "active"
        # the button
        st, body, _ = srv.request("POST", path)
        assert st == 200, body
        assert "Sua conta está protegida" in html(body)
        st, acct, _ = srv.request("GET", "/v1/accounts/u_w", key=key)
        assert acct["state"] == "frozen", acct
        # the playbook of src/cases when it is loaded, else the freeze fallback
        reason = acct["freeze"]["reason"]
        assert "wasn't me" in reason or "playbook" in reason, reason
        assert acct["freeze"]["by"] == "customer:wasnt-me-link"
        # the owner and the platform are told
        assert recv.wait(lambda r: any('"alert.account_frozen"' in x[2] or
                                       '"account.secured"' in x[2] for x in r.accepted), timeout=5)
        # replay: refused, the page says so
        st, body, _ = srv.request("POST", path)
        assert st == 409, body
        st, body, _ = srv.request("GET", path)
        assert st == 409
        st, body, _ = srv.request("POST", path, headers={"Accept": "application/json"})
        assert st == 409 and body["error"]["code"] == "link_used", body
        # money now denied for the frozen account
        st, d, _ = srv.request("POST", "/v1/events", body=event(
            "w2", "wallet.transfer", account="u_w", properties={"amount": 100, "currency": "EUR"}),
            key=key)
        assert d["decision"]["action"] == "deny"
    finally:
        srv.cleanup()
        recv.close()


def test_forged_tokens_are_refused():
    recv, srv, key = setup()
    try:
        path = alert_link(srv, key, recv, "f1", "u_f")
        token = path.rsplit("/", 1)[1]
        payload, mac = token.split(".")
        forged = []
        # flip characters of the payload and of the MAC
        for i in (0, len(payload) // 2, len(payload) - 1):
            c = "A" if payload[i] != "A" else "B"
            forged.append(payload[:i] + c + payload[i + 1:] + "." + mac)
        for i in (0, len(mac) - 2):
            c = "A" if mac[i] != "A" else "B"
            forged.append(payload + "." + mac[:i] + c + mac[i + 1:])
        forged += [payload, payload + ".", "." + mac, "x" * 80, payload + "." + mac + "x"]
        # a token for another account from a second server (another secret)
        other = Server().start()
        try:
            okey = other.key("admin")
            orecv = HttpReceiver()
            other.request("POST", "/v1/webhooks", body={"url": orecv.url, "kinds": ["*"]}, key=okey)
            opath = alert_link(other, okey, orecv, "f2", "u_f")
            forged.append(opath.rsplit("/", 1)[1])
            orecv.close()
        finally:
            other.cleanup()
        for t in forged:
            for method in ("GET", "POST"):
                st, body, _ = srv.request(method, "/v1/wasnt-me/" + urllib.parse.quote(t, safe=""))
                assert st in (403, 404), (t, method, st, body)
        st, body, _ = srv.request("GET", "/v1/wasnt-me/" + forged[0],
                                  headers={"Accept-Language": "de-DE,de;q=0.9"})
        assert st == 403 and "Dieser Link ist ungültig" in html(body), body
        st, acct, _ = srv.request("GET", "/v1/accounts/u_f", key=key)
        assert acct["state"] == "active"
        st, body, _ = srv.request("POST", path, headers={"Accept": "application/json"})
        assert st == 200 and body["secured"] is True, body
    finally:
        srv.cleanup()
        recv.close()


def test_expired_link_is_refused():
    recv, srv, key = setup(["--alert-link-ttl-s=1"])
    try:
        path = alert_link(srv, key, recv, "x1", "u_x")
        time.sleep(2.1)
        st, body, _ = srv.request("GET", path)
        assert st == 410, body
        st, body, _ = srv.request("POST", path, headers={"Accept": "application/json"})
        assert st == 410 and body["error"]["code"] == "link_expired", body
        st, acct, _ = srv.request("GET", "/v1/accounts/u_x", key=key)
        assert acct["state"] == "active"
    finally:
        srv.cleanup()
        recv.close()


if __name__ == "__main__":
    run([test_link_secures_the_account_once, test_forged_tokens_are_refused,
         test_expired_link_is_refused])
