"""Every route, table-driven over `accountguard routes`: without a key, with
a malformed key, with a key lacking the route's scope, with a revoked key,
and with the right scope."""
from agtest import Server, cli, routes, run

SCOPES = ["events:write", "events:read", "accounts:read", "accounts:write", "cases:read",
          "cases:write", "messages:write", "intel:read", "intel:write", "rules:write",
          "metrics:read"]

srv = None


def code_of(path, body):
    """Our error code; TAXII routes answer with TAXII error resources
    (title, http_status) as the TAXII 2.1 specification requires."""
    if path.startswith("/taxii2/"):
        return "taxii" if isinstance(body, dict) and "title" in body else None
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def concrete(path):
    return path.replace("{id}", "x1").replace("{", "").replace("}", "")


def setup():
    global srv
    srv = Server().start()


def test_every_route_checks_auth_and_scope():
    table = routes()
    scopes = sorted(set(SCOPES) | {s for _, _, s, _ in table if s and s != "admin"})
    assert len(table) >= 10, table
    revoked = {}
    for method, path, scope, _ in table:
        url = concrete(path)
        st, body, resp = srv.request(method, url, body={} if method == "POST" else None)
        if scope is None:
            # Public routes (health, token links) never ask for an API key.
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            # (console endpoints answer 401 no_session: a console sign-in, not a key)
            assert code not in ("missing_api_key", "invalid_api_key", "revoked_api_key",
                                "insufficient_scope"), (method, path, st, body)
            continue
        assert st == 401, (method, path, st, body)
        assert code_of(path, body) in ("missing_api_key", "taxii"), (method, path, body)
        assert resp.getheader("WWW-Authenticate", "").startswith("Bearer"), (method, path)
        st, body, _ = srv.request(method, url, key="agk_nonsense", body={} if method == "POST" else None)
        assert st == 401 and code_of(path, body) in ("invalid_api_key", "taxii"), (method, path, st, body)
        # A scope that grants nothing here ("x:write" includes "x:read").
        implied = {scope, scope[:-5] + ":write"} if scope.endswith(":read") else {scope}
        wrong = next(s for s in scopes if s not in implied)
        wkey = srv.key(wrong, name="wrong")
        st, body, _ = srv.request(method, url, key=wkey, body={} if method == "POST" else None)
        assert st == 403, (method, path, scope, wrong, st, body)
        assert code_of(path, body) in ("insufficient_scope", "taxii"), body
        if scope not in revoked:
            k = srv.key(scope, name="revoked")
            cli("apikey", "revoke", srv.key_id(k), data_dir=srv.data_dir)
            revoked[scope] = k
        st, body, _ = srv.request(method, url, key=revoked[scope], body={} if method == "POST" else None)
        assert st == 401 and code_of(path, body) in ("revoked_api_key", "taxii"), (method, path, st, body)
        good = srv.key(scope, name="good")
        st, body, _ = srv.request(method, url, key=good, body={} if method == "POST" else None)
        # Authenticated and authorized: any 403 left is the domain's (e.g. a
        # frozen account refusing a credential change), not the key's.
        assert st != 401 and code_of(path, body) != "insufficient_scope", (method, path, st, body)


def test_write_includes_read():
    k = srv.key("cases:write")
    assert srv.request("GET", "/v1/cases", key=k)[0] == 200
    assert srv.request("GET", "/v1/event-types", key=k)[0] == 403


def test_admin_grants_every_scope():
    admin = srv.key("admin")
    st, body, _ = srv.request("GET", "/v1/event-types", key=admin)
    assert st == 200 and any(t["type"] == "order.placed" for t in body["items"])


def test_wrong_secret_for_real_key_id():
    k = srv.key("events:read")
    forged = k[:-4] + ("aaaa" if not k.endswith("aaaa") else "bbbb")
    st, body, _ = srv.request("GET", "/v1/event-types", key=forged)
    assert st == 401 and body["error"]["code"] == "invalid_api_key"


def test_keys_over_the_api():
    admin = srv.key("admin")
    st, body, _ = srv.request("POST", "/v1/apikeys", key=admin,
                              body={"name": "platform", "scopes": ["events:write"]})
    assert st == 201, body
    new = body["key"]
    assert new.startswith("agk_")
    st, _, _ = srv.request("GET", "/v1/event-types", key=new)
    assert st == 200  # events:write includes events:read
    st, _, _ = srv.request("GET", "/v1/accounts/u_1", key=new)
    assert st == 403
    st, body, _ = srv.request("GET", "/v1/apikeys", key=admin)
    listed = [k for k in body["items"] if k["id"] == srv.key_id(new)][0]
    assert "key" not in listed and "hash" not in listed
    st, body, _ = srv.request("POST", f"/v1/apikeys/{srv.key_id(new)}/revoke", key=admin)
    assert st == 200 and "revoked_at" in body
    st, body, _ = srv.request("POST", "/v1/events", key=new, body={})
    assert st == 401 and body["error"]["code"] == "revoked_api_key"
    st, body, _ = srv.request("POST", "/v1/apikeys", key=admin, body={"name": "x", "scopes": ["nope"]})
    assert st == 400 and body["error"]["code"] == "unknown_scope"


def test_unknown_route_and_method():
    k = srv.key("admin")
    st, body, _ = srv.request("GET", "/v1/nothing-here", key=k)
    assert st == 404 and body["error"]["code"] == "no_such_route"
    st, body, _ = srv.request("DELETE", "/v1/events", key=k)
    assert st == 405 and body["error"]["code"] == "method_not_allowed"


def test_secrets_never_logged():
    k = srv.key("events:write")
    srv.request("POST", "/v1/events", key=k, body={"id": "x"})
    srv.request("POST", "/v1/events", key=k[:-1] + "0", body={})
    log = srv.read_log()
    assert k not in log and k.split("_")[2] not in log


if __name__ == "__main__":
    setup()
    try:
        run([test_every_route_checks_auth_and_scope, test_write_includes_read,
             test_admin_grants_every_scope,
             test_wrong_secret_for_real_key_id, test_keys_over_the_api,
             test_unknown_route_and_method, test_secrets_never_logged])
    finally:
        srv.cleanup()
