"""Hostile input against every endpoint, table-driven over docs/openapi.yaml
(which test_openapi.py keeps equal to the route table): each JSON request
body is generated from its schema with every string field holding an
injection payload (SQL, header CRLF, template, script), path parameters too.
No request may get a 5xx, no response may carry an injected header, and
afterwards the server still serves and the store is intact with no table
dropped."""
import json
import os
import socket
import sqlite3
import subprocess

from agtest import SRC, Server, run

PAYLOADS = [
    "' OR '1'='1",
    "x'); DROP TABLE events; --",
    "\" OR 1=1 --",
    "a\r\nX-Injected: yes",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%00%0d%0aX-Injected:%20yes",
]


def spec():
    mods = os.path.join(SRC, "tests/openapi/node_modules")
    if not os.path.isdir(mods):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=os.path.join(SRC, "tests/openapi"), check=True, timeout=600)
    out = subprocess.run(["node", os.path.join(SRC, "tests/openapi/tojson.mjs"),
                          os.path.join(SRC, "docs/openapi.yaml")],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def sample(schema, payload, depth=0):
    if depth > 6 or not isinstance(schema, dict):
        return payload
    if "allOf" in schema:
        out = {}
        for s in schema["allOf"]:
            v = sample(s, payload, depth + 1)
            if isinstance(v, dict):
                out.update(v)
        return out
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return sample(schema[key][0], payload, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "object" or "properties" in schema:
        return {k: sample(v, payload, depth + 1) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return [sample(schema.get("items", {}), payload, depth + 1)]
    if t == "integer":
        return 1
    if t == "number":
        return 0.5
    if t == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2026-10-01T00:00:00Z"
    return payload


def test_injection_everywhere():
    srv = Server().start()
    try:
        key = srv.key("admin")
        api = spec()
        db = os.path.join(srv.data_dir, "accountguard.db")
        tables = {r[0] for r in sqlite3.connect(db).execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        sent = 0
        for path, item in api["paths"].items():
            for method in ("get", "post", "put", "patch", "delete"):
                op = item.get(method)
                if not op:
                    continue
                for payload in PAYLOADS:
                    url = path
                    for seg in [p for p in path.split("/") if p.startswith("{")]:
                        url = url.replace(seg, "x%27%20OR%201%3D1--", 1)
                    body = None
                    rb = op.get("requestBody", {}).get("content", {})
                    if "application/json" in rb:
                        body = sample(rb["application/json"].get("schema", {}), payload)
                    q = "?q=" + "%27%20OR%201%3D1--" if method == "get" else ""
                    st, resp, r = srv.request(method.upper(), url + q, key=key, body=body)
                    sent += 1
                    assert st < 500 or st == 503, (method, path, payload, st, resp)
                    assert r.getheader("X-Injected") is None, (method, path)
        assert sent > 100, sent
        assert srv.request("GET", "/healthz")[0] == 200
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables <= after, tables - after
        assert con.execute("SELECT count(*) FROM api_keys").fetchone()[0] >= 1
    finally:
        srv.cleanup()


def test_request_id_cannot_inject_headers():
    srv = Server().start()
    try:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\"b<c>\\d%0d%0aX-Injected:yes\r\n\r\n")
        data = s.recv(4096).decode("latin-1")
        s.close()
        head = data.split("\r\n\r\n")[0]
        assert "X-Injected" not in head
        rid = [l for l in head.split("\r\n") if l.lower().startswith("x-request-id:")][0]
        assert "<" not in rid and '"' not in rid
    finally:
        srv.cleanup()


def test_oversized_and_deep_bodies_everywhere():
    srv = Server().start()
    try:
        key = srv.key("admin")
        api = spec()
        deep = b'{"a":' * 100 + b"1" + b"}" * 100
        big = b'{"x":"' + b"y" * (1024 * 1024 + 1) + b'"}'
        for path, item in api["paths"].items():
            for method in ("post", "put", "patch"):
                if method not in item:
                    continue
                url = path.replace("{", "x").replace("}", "")
                takes_body = "requestBody" in item[method]
                deep_ok = (400, 401, 403, 404, 405, 409, 413, 415, 422) + (
                    () if takes_body else (200, 201, 202, 204))
                for raw, ok in ((deep, deep_ok), (big, (400, 401, 403, 404, 405, 413, 415))):
                    st, resp, _ = srv.request(method.upper(), url, key=key, raw=raw,
                                              headers={"Content-Type": "application/json"})
                    assert st in ok, (method, path, st, resp)
        assert srv.request("GET", "/healthz")[0] == 200
    finally:
        srv.cleanup()


if __name__ == "__main__":
    run([test_injection_everywhere, test_request_id_cannot_inject_headers,
         test_oversized_and_deep_bodies_everywhere])
