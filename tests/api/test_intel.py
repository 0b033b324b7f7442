"""Threat intelligence against a real server: indicator CRUD with filters and
pages, expiry, matches in decisions (CIDR edges, IDN domains, informational
hits, every checked property), STIX and MISP round trips through the store
with schema validation, a malformed bundle rejected whole, and feeds from a
file and from a local HTTP server on a schedule."""
import datetime
import functools
import http.server
import json
import os
import socketserver
import subprocess
import tempfile
import threading
import time

from agtest import SRC, Server, event, run

srv = None
W = R = E = None
NODE_DIR = os.path.join(SRC, "tests/node")


def setup():
    global srv, W, R, E
    srv = Server().start()
    W = srv.key("intel:write intel:read")
    R = srv.key("intel:read")
    E = srv.key("events:write events:read")


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_plus(seconds):
    return iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds))


def add(body, key=None, expect=(200, 201)):
    st, b, _ = srv.request("POST", "/v1/intel/indicators", body=body, key=key or W)
    assert st in expect, (st, b)
    return b


def decide(eid, ip=None, device=None, props=None, etype="login.succeeded"):
    ctx = {}
    if ip:
        ctx["ip"] = ip
    if device:
        ctx["device_id"] = device
    st, b, _ = srv.request("POST", "/v1/events", body=event(eid, etype, account="u_intel", context=ctx,
                                                             properties=props or {}), key=E)
    assert st == 200, b
    return b["decision"]


def codes(d):
    return [r["code"] for r in d["reasons"]]


def listing(query=""):
    st, b, _ = srv.request("GET", "/v1/intel/indicators" + query, key=R)
    assert st == 200, b
    return b


def test_crud_pages_and_filters():
    ids = add({"indicators": [{"type": "domain", "value": f"page{i}.crud.example", "source": "crud",
                               "tags": ["even" if i % 2 == 0 else "odd"]} for i in range(25)]})["ids"]
    assert len(ids) == 25
    seen, cursor = [], None
    while True:
        b = listing("?source=crud&limit=10" + (f"&cursor={cursor}" if cursor else ""))
        seen += [i["id"] for i in b["items"]]
        assert len(b["items"]) <= 10
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 25
    assert len(listing("?source=crud&tag=even&limit=100")["items"]) == 13
    assert listing("?source=crud&type=ipv4")["items"] == []
    # The value filter normalises like the store: upper case, a trailing dot.
    got = listing("?value=PAGE3.crud.example.")["items"]
    assert [i["id"] for i in got] == [ids[3]]
    one = got[0]
    assert one["state"] == "live" and one["tags"] == ["odd"] and one["added"]
    st, b, _ = srv.request("GET", "/v1/intel/indicators/" + ids[3], key=R)
    assert st == 200 and b["value"] == "page3.crud.example"
    # Patch: confidence and tags change, created stays, modified moves.
    st, p, _ = srv.request("PATCH", "/v1/intel/indicators/" + ids[3],
                           body={"confidence": 95, "tags": ["botnet"]}, key=W)
    assert st == 200, p
    assert p["confidence"] == 95 and p["tags"] == ["botnet"] and p["created"] == b["created"]
    st, e, _ = srv.request("PATCH", "/v1/intel/indicators/" + ids[3], body={"id": "x"}, key=W)
    assert st == 400 and e["error"]["field"] == "id"
    st, e, _ = srv.request("PATCH", "/v1/intel/indicators/" + ids[3], body={"confidence": 101}, key=W)
    assert st == 400 and e["error"]["field"] == "confidence"
    # Delete; then it is gone.
    st, _, _ = srv.request("DELETE", "/v1/intel/indicators/" + ids[4], key=W)
    assert st == 204
    st, e, _ = srv.request("GET", "/v1/intel/indicators/" + ids[4], key=R)
    assert st == 404
    st, e, _ = srv.request("DELETE", "/v1/intel/indicators/" + ids[4], key=W)
    assert st == 404
    # Bad input names the field; a read-only key cannot write.
    st, e, _ = srv.request("POST", "/v1/intel/indicators", body={"type": "ipv4", "value": "300.1.2.3"}, key=W)
    assert st == 400 and e["error"]["field"] == "value", e
    st, e, _ = srv.request("POST", "/v1/intel/indicators",
                           body={"indicators": [{"type": "domain", "value": "ok.example"},
                                                {"type": "email", "value": "nope"}]}, key=W)
    assert st == 400 and e["error"]["field"].startswith("indicators[1]"), e
    assert listing("?value=ok.example")["items"] == []  # nothing of the batch stored
    st, e, _ = srv.request("POST", "/v1/intel/indicators", body={"type": "domain", "value": "x.example"}, key=R)
    assert st == 403
    st, e, _ = srv.request("GET", "/v1/intel/indicators?state=bogus", key=R)
    assert st == 400 and e["error"]["field"] == "state"


def test_cidr_edges_in_decisions():
    add({"type": "ipv4", "value": "198.51.100.77/24", "source": "edges", "confidence": 85,
         "tags": ["botnet"]})
    add({"type": "ipv6", "value": "2001:db8:abcd::/48", "source": "edges", "confidence": 60})
    inside = ["198.51.100.0", "198.51.100.255", "::ffff:198.51.100.9", "2001:db8:abcd::",
              "2001:db8:abcd:ffff:ffff:ffff:ffff:ffff"]
    outside = ["198.51.99.255", "198.51.101.0", "2001:db8:abce::", "2001:db8:abcc:ffff::1"]
    for i, ip in enumerate(inside):
        d = decide(f"edge-in-{i}", ip=ip)
        assert "intel_match" in codes(d), (ip, d)
        hit = d["intel"][0]
        assert hit["field"] == "context.ip" and hit["source"] == "edges"
    d = decide("edge-in-rule", ip="198.51.100.1")
    assert hit["value"] in ("198.51.100.0/24", "2001:db8:abcd::/48")
    assert d["intel"][0]["value"] == "198.51.100.0/24" and d["intel"][0]["labels"] == ["botnet"]
    detail = [r["detail"] for r in d["reasons"] if r["code"] == "intel_match"][0]
    assert "198.51.100.0/24" in detail and "edges" in detail and "85" in detail
    # The rules saw intel.match, intel.confidence and intel.labels.
    assert {"intel_high_confidence", "intel_botnet", "intel_match_login"} <= set(d["rules"]), d
    for i, ip in enumerate(outside):
        d = decide(f"edge-out-{i}", ip=ip)
        assert "intel_match" not in codes(d) and "intel" not in d, (ip, d)
        assert not any(r.startswith("intel_") for r in d["rules"]), d


def test_idn_domains_and_properties():
    add({"type": "domain", "value": "Bücher.example", "source": "idn"})
    add({"type": "phone", "value": "+44 7700 900999", "source": "props"})
    add({"type": "device", "value": "d_mule_1", "source": "props"})
    add({"type": "url", "value": "http://cash.example/Pay?x=1", "source": "props"})
    fp = "a" * 64
    add({"type": "financial", "value": fp, "source": "props"})
    cases = [
        ({"email": "x@shop.xn--bcher-kva.example"}, "properties.email"),
        ({"url": "https://BÜCHER.example/login"}, "properties.url"),
        ({"domain": "mail.bücher.example"}, "properties.domain"),
        ({"new_phone": "+44 (7700) 900-999"}, "properties.new_phone"),
        ({"url": "http://CASH.example:80/Pay?x=1#frag"}, "properties.url"),
        ({"payout_fingerprint": fp.upper()}, "properties.payout_fingerprint"),
    ]
    for i, (props, field) in enumerate(cases):
        d = decide(f"prop-{i}", props=props, etype="payout_account.changed")
        assert "intel_match" in codes(d), (props, d)
        assert d["intel"][0]["field"] == field, d["intel"]
    d = decide("prop-dev", device="d_mule_1")
    assert d["intel"][0]["field"] == "context.device_id"
    for i, props in enumerate([{"email": "x@xbücher.example"}, {"domain": "bücher.example.evil.net"},
                               {"url": "http://cash.example/pay?x=1"}, {"phone": "+447700900998"}]):
        d = decide(f"prop-miss-{i}", props=props)
        assert "intel_match" not in codes(d), (props, d)


def test_informational_hits_shown_not_matched():
    add({"type": "domain", "value": "context-only.example", "source": "info", "informational": True,
         "confidence": 99})
    d = decide("info-1", props={"email": "a@context-only.example"})
    assert "intel_match" not in codes(d) and "intel_context" in codes(d), d
    assert d["intel"][0]["informational"] is True
    assert not any(r.startswith("intel_") for r in d["rules"]), d


def test_expiry_over_api():
    b = add({"type": "ipv4", "value": "203.0.113.200", "source": "expiry"})
    assert decide("exp-1", ip="203.0.113.200")["intel"]
    st, p, _ = srv.request("PATCH", "/v1/intel/indicators/" + b["id"], body={"valid_until": now_plus(0)}, key=W)
    assert st == 200, p
    time.sleep(0.05)
    got = listing("?source=expiry")["items"][0]
    assert got["state"] == "expired"
    assert [i["id"] for i in listing("?source=expiry&state=expired")["items"]] == [b["id"]]
    assert listing("?source=expiry&state=live")["items"] == []
    d = decide("exp-2", ip="203.0.113.200")
    assert "intel" not in d and "intel_match" not in codes(d), d
    # Expiring by itself: valid for one second, then never matches.
    add({"type": "ipv4", "value": "203.0.113.201", "source": "expiry", "valid_until": now_plus(1)})
    assert decide("exp-3", ip="203.0.113.201").get("intel")
    time.sleep(1.2)
    assert "intel" not in decide("exp-4", ip="203.0.113.201")
    # A future valid_from: pending, not matched yet.
    add({"type": "ipv4", "value": "203.0.113.202", "source": "expiry", "valid_from": now_plus(3600)})
    assert listing("?value=203.0.113.202")["items"][0]["state"] == "pending"
    assert "intel" not in decide("exp-5", ip="203.0.113.202")


def validate_stix(bundle, expect_valid=True):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                       check=True, timeout=600)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bundle, f)
    try:
        args = ["node", os.path.join(NODE_DIR, "validate-stix.mjs")] + ([] if expect_valid else ["--expect-invalid"])
        p = subprocess.run(args + [f.name], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
    finally:
        os.unlink(f.name)


def stix_bundle(n=3, tag="rt"):
    objs = []
    for i in range(n):
        objs.append({
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{i:08d}-1111-4111-8111-111111111111",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '192.0.2.{i}']" if i % 2 == 0 else f"[domain-name:value = 'rt{i}.example']",
            "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2036-01-01T00:00:00Z",
            "confidence": 70 + i, "labels": [tag],
        })
    objs.append({"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--99999999-1111-4111-8111-111111111111",
                 "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
                 "pattern": "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                 "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"})
    return {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs}


def test_stix_round_trip_and_schema():
    bundle = stix_bundle()
    st, rep, _ = srv.request("POST", "/v1/intel/import/stix?source=peer-stix", body=bundle, key=W)
    assert st == 200, rep
    assert rep["imported"] == 3 and rep["created"] == 3
    assert rep["unsupported"][0]["where"] == "indicator--99999999-1111-4111-8111-111111111111"
    assert "file" in rep["unsupported"][0]["reason"]
    st, out, resp = srv.request("GET", "/v1/intel/export/stix?source=peer-stix", key=R)
    assert st == 200 and resp.getheader("Content-Type").startswith("application/stix+json")
    validate_stix(out)
    inds = {o["id"]: o for o in out["objects"] if o["type"] == "indicator"}
    for o in bundle["objects"][:3]:
        got = inds[o["id"]]
        assert got["pattern"] == o["pattern"], (got, o)
        assert got["confidence"] == o["confidence"] and got["labels"] == o["labels"]
        assert got["valid_until"].startswith("2036-01-01T00:00:00")
    assert any(o["type"] == "identity" for o in out["objects"])
    assert any(o["type"] == "marking-definition" for o in out["objects"])
    # Importing the export again changes nothing but updates in place.
    st, rep2, _ = srv.request("POST", "/v1/intel/import/stix", body=out, key=W,
                              headers={"Content-Type": "application/stix+json;version=2.1"})
    assert st == 200 and rep2["created"] == 0 and rep2["updated"] == 3, rep2
    # The validator does fail a broken export.
    broken = json.loads(json.dumps(out))
    broken["objects"][-1]["id"] = "indicator--nope"
    validate_stix(broken, expect_valid=False)


def test_malformed_bundle_rejected_whole():
    bundle = stix_bundle(4, tag="half")
    for o in bundle["objects"][:4]:
        o["id"] = o["id"].replace("1111-4111", "2222-4222")
    del bundle["objects"][2]["valid_from"]
    st, e, _ = srv.request("POST", "/v1/intel/import/stix", body=bundle, key=W)
    assert st == 400, e
    assert e["error"]["field"] == "objects[2].valid_from", e
    assert e["error"]["code"] == "invalid_stix"
    assert listing("?tag=half")["items"] == []
    st, e, _ = srv.request("POST", "/v1/intel/import/stix", raw=b'{"type": "bundle", "objects": [', key=W,
                           headers={"Content-Type": "application/json"})
    assert st == 400 and e["error"]["code"] == "invalid_json"
    st, e, _ = srv.request("POST", "/v1/intel/import/stix", raw=b'x', key=W,
                           headers={"Content-Type": "text/plain"})
    assert st == 415


def test_misp_round_trip():
    with open(os.path.join(SRC, "tests/data/intel/misp-event.json")) as f:
        doc = json.load(f)
    st, rep, _ = srv.request("POST", "/v1/intel/import/misp", body=doc, key=W)
    assert st == 200, rep
    assert rep["imported"] >= 9 and rep["created"] == rep["imported"], rep
    reported = {u["where"] for u in rep["unsupported"]}
    assert any("md5" in u["reason"] for u in rep["unsupported"]), rep["unsupported"]
    assert any("not-an-ip" in u["reason"] for u in rep["unsupported"]), rep["unsupported"]
    src = "misp:" + doc["Event"]["Orgc"]["name"]
    imported = {i["id"]: i for i in listing("?source=" + src + "&limit=1000")["items"]}
    assert len(imported) == rep["imported"]
    # Kept ids, normalised values, to_ids=false as informational.
    host = imported["indicator--6d9c1f2e-3b4a-4c5d-8e7f-0a1b2c3d4e54"]
    assert host["value"] == "cdn.xn--mnchen-3ya.example" and host["informational"] is True
    assert imported["indicator--6d9c1f2e-3b4a-4c5d-8e7f-0a1b2c3d4e53"]["value"] == "secure-login.example"
    assert any(i["type"] == "financial" and len(i["value"]) == 64 for i in imported.values())
    assert not any("WEST" in i["value"] for i in imported.values())  # the IBAN itself is never kept
    st, out, _ = srv.request("GET", "/v1/intel/export/misp?source=" + src, key=R)
    assert st == 200
    attrs = out["Event"]["Attribute"]
    assert len(attrs) == len(imported)
    for a in attrs:
        ind = imported["indicator--" + a["uuid"]]
        assert a["to_ids"] == (not ind["informational"]), (a, ind)
        assert a["value"] == ind["value"] or ind["type"] in ("financial", "device"), (a, ind)
    # The export imports back onto the same indicators, values and flags intact.
    st, rep2, _ = srv.request("POST", "/v1/intel/import/misp", body=out, key=W)
    assert st == 200 and rep2["created"] == 0 and rep2["updated"] == len(attrs), rep2
    again = {i["id"]: i for i in listing("?source=" + src + "&limit=1000")["items"]}
    for k, v in imported.items():
        for field in ("type", "value", "informational", "confidence", "tlp"):
            assert again[k][field] == v[field], (field, v, again[k])
    st, e, _ = srv.request("POST", "/v1/intel/import/misp",
                           body={"Event": {"Attribute": [{"type": "domain"}]}}, key=W)
    assert st == 400 and e["error"]["field"].startswith("Event.Attribute[0]"), e
    assert reported


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def wait_feed(name, want="ok", timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, f, _ = srv.request("GET", "/v1/intel/feeds/" + name, key=R)
        assert st == 200, f
        if f["fetch"]["state"] != "never":
            assert f["fetch"]["state"] == want, f
            return f
        time.sleep(0.1)
    raise AssertionError(f"feed {name} not fetched")


def test_feed_from_file_on_schedule():
    feeds = os.path.join(srv.data_dir, "feeds")
    os.makedirs(feeds, exist_ok=True)
    with open(os.path.join(feeds, "level1.netset"), "w") as f:
        f.write("# FireHOL-style\n192.0.2.128/25\n2001:db8:feed::/48 ; comment\n300.1.2.3\n")
    st, f, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
        "name": "level1", "format": "netset", "url": "file://" + os.path.join(feeds, "level1.netset"),
        "interval_s": 3600, "confidence": 75})
    assert st == 201, f
    assert f["fetch"]["state"] == "never"
    f = wait_feed("level1")  # the background thread fetches a new feed at once
    assert f["fetch"]["indicators"] == 2
    assert f["fetch"]["notes"][0]["where"] == "line 4", f
    nxt = datetime.datetime.fromisoformat(f["fetch"]["next_fetch_at"].replace("Z", "+00:00"))
    last = datetime.datetime.fromisoformat(f["fetch"]["last_fetch_at"].replace("Z", "+00:00"))
    assert abs((nxt - last).total_seconds() - 3600) < 1
    items = listing("?source=feed:level1")["items"]
    assert {i["value"] for i in items} == {"192.0.2.128/25", "2001:db8:feed::/48"}
    assert all(i["valid_until"] for i in items)
    d = decide("feed-1", ip="192.0.2.200")
    assert d["intel"][0]["source"] == "feed:level1"
    # A file outside <data_dir>/feeds is refused, and so is a too-large one.
    st, f, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
        "name": "escape", "format": "netset", "url": "file:///etc/hostname"})
    assert st == 201
    f = wait_feed("escape", want="error")
    assert "feed directory" in f["fetch"]["error"], f
    with open(os.path.join(feeds, "big.txt"), "w") as fh:
        fh.write("192.0.2.1\n" * 500)
    st, f, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
        "name": "big", "format": "netset", "url": "file://" + os.path.join(feeds, "big.txt"),
        "max_bytes": 1024})
    f = wait_feed("big", want="error")
    assert "max_bytes" in f["fetch"]["error"]
    st, b, _ = srv.request("GET", "/v1/intel/feeds", key=R)
    assert {x["id"] for x in b["items"]} >= {"level1", "escape", "big"}
    st, e, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
        "name": "level1", "format": "netset", "url": "file:///x"})
    assert st == 409
    st, e, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
        "name": "Bad Name", "format": "netset", "url": "file:///x"})
    assert st == 400 and e["error"]["field"] == "name"


def test_feed_over_http_and_refresh():
    d = tempfile.mkdtemp(prefix="agfeed")
    path = os.path.join(d, "domains.txt")
    with open(path, "w") as f:
        f.write("# domains\nphish-one.example\n0.0.0.0 phish-two.example\n")
    handler = functools.partial(Quiet, directory=d)
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/domains.txt"
        st, f, _ = srv.request("POST", "/v1/intel/feeds", key=W, body={
            "name": "web", "format": "domains", "url": url, "interval_s": 60, "ttl_s": 600})
        assert st == 201, f
        wait_feed("web")
        assert decide("web-1", props={"url": "https://login.phish-two.example/x"}).get("intel")
        # The list changes; a refresh fetches it now.
        with open(path, "w") as f:
            f.write("phish-three.example\n")
        st, f, _ = srv.request("POST", "/v1/intel/feeds/web/refresh", key=W)
        assert st == 200 and f["fetch"]["state"] == "ok" and f["fetch"]["indicators"] == 1, f
        assert decide("web-2", props={"email": "x@phish-three.example"}).get("intel")
        # A 404 is a failed fetch, and the earlier entries stay until they expire.
        os.unlink(path)
        st, f, _ = srv.request("POST", "/v1/intel/feeds/web/refresh", key=W)
        assert st == 200 and f["fetch"]["state"] == "error" and "404" in f["fetch"]["error"], f
        assert decide("web-3", props={"email": "x@phish-three.example"}).get("intel")
        st, _, _ = srv.request("POST", "/v1/intel/feeds/nope/refresh", key=W)
        assert st == 404
        st, _, _ = srv.request("DELETE", "/v1/intel/feeds/web", key=W)
        assert st == 204
        st, _, _ = srv.request("GET", "/v1/intel/feeds/web", key=R)
        assert st == 404
    finally:
        httpd.shutdown()


def test_match_set_loaded_at_start():
    add({"type": "ipv4", "value": "192.0.2.77", "source": "restart"})
    srv.stop()
    srv.start()
    assert decide("restart-1", ip="192.0.2.77").get("intel")


if __name__ == "__main__":
    setup()
    try:
        run([test_crud_pages_and_filters, test_cidr_edges_in_decisions, test_idn_domains_and_properties,
             test_informational_hits_shown_not_matched, test_expiry_over_api, test_stix_round_trip_and_schema,
             test_malformed_bundle_rejected_whole, test_misp_round_trip, test_feed_from_file_on_schedule,
             test_feed_over_http_and_refresh, test_match_set_loaded_at_start])
    finally:
        srv.cleanup()
