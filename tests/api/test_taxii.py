"""A TAXII 2.1 client written against the specification (OASIS TAXII 2.1,
sections 1.6 media types, 3.4 pagination, 3.5 filtering, 4 and 5 endpoints)
talking to a real server: discovery, API root, collections, add objects and
the status resource, paging to the end with limit/next, added_after, the
X-TAXII-Date-Added-First/Last headers, manifests, versions, one object,
Accept/Content-Type negotiation (406, 415), authentication (401, 403) with
TAXII error bodies, and the served objects validated against the STIX 2.1
schemas."""
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

from agtest import SRC, Server, run

TAXII = "application/taxii+json;version=2.1"
srv = None
R = W = None
NODE_DIR = os.path.join(SRC, "tests/node")
ROOT = None


def setup():
    global srv, R, W
    srv = Server().start()
    R = srv.key("intel:read")
    W = srv.key("intel:read intel:write")


def get(path, key=None, accept=TAXII, **kw):
    h = {"Accept": accept} if accept else {}
    return srv.request("GET", path, key=key or R, headers=h, **kw)


def is_taxii(resp):
    ct = resp.getheader("Content-Type").replace(" ", "").lower()
    return ct == TAXII


def local(url):
    """A URL the server advertised, as a path on the test server."""
    u = urllib.parse.urlsplit(url)
    return u.path


def stix_indicator(i, tlp_green=False):
    o = {"type": "indicator", "spec_version": "2.1",
         "id": f"indicator--{i:08x}-aaaa-4bbb-8ccc-000000000000",
         "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
         "pattern": f"[ipv4-addr:value = '10.{i // 256}.{i % 256}.1']",
         "pattern_type": "stix", "pattern_version": "2.1", "valid_from": "2026-02-01T00:00:00Z"}
    if tlp_green:
        o["object_marking_refs"] = ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    return o


def post_objects(coll, objs, key=None, ctype=TAXII):
    data = json.dumps({"objects": objs}).encode()
    return srv.request("POST", ROOT + f"collections/{coll}/objects/", key=key or W, raw=data,
                       headers={"Accept": TAXII, "Content-Type": ctype})


def test_discovery_root_collections():
    global ROOT
    st, d, resp = get("/taxii2/")
    assert st == 200 and is_taxii(resp), (st, d)
    assert d["title"] and len(d["api_roots"]) == 1 and d["default"] == d["api_roots"][0]
    ROOT = local(d["default"])
    assert ROOT.endswith("/")
    st, r, resp = get(ROOT)
    assert st == 200 and is_taxii(resp)
    assert TAXII in r["versions"] and r["max_content_length"] > 0
    st, c, _ = get(ROOT + "collections/")
    assert st == 200
    byalias = {x["alias"]: x for x in c["collections"]}
    assert byalias["indicators"]["can_read"] and byalias["indicators"]["can_write"]
    assert byalias["shareable"]["can_read"] and not byalias["shareable"]["can_write"]
    cid = byalias["indicators"]["id"]
    st, one, _ = get(ROOT + f"collections/{cid}/")
    assert st == 200 and one["id"] == cid
    st, e, resp = get(ROOT + "collections/00000000-0000-4000-8000-000000000000/")
    assert st == 404 and is_taxii(resp) and e["http_status"] == "404" and e["title"]


def collection_id(alias):
    st, c, _ = get(ROOT + "collections/")
    return [x["id"] for x in c["collections"] if x["alias"] == alias][0]


def test_add_objects_and_status():
    cid = collection_id("indicators")
    objs = [stix_indicator(i, tlp_green=(i % 5 == 0)) for i in range(25)]
    objs.append({"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--ffffffff-aaaa-4bbb-8ccc-000000000000",
                 "created": "2026-02-01T00:00:00Z", "modified": "2026-02-01T00:00:00Z",
                 "pattern": "[file:name = 'x.exe']", "pattern_type": "stix",
                 "valid_from": "2026-02-01T00:00:00Z"})
    # Two requests, so the two groups have different dates added.
    st, s, resp = post_objects(cid, objs[:10])
    assert st == 202 and s["success_count"] == 10, s
    time.sleep(0.01)
    st, s, resp = post_objects(cid, objs[10:])
    assert st == 202 and is_taxii(resp), (st, s)
    assert s["status"] == "complete" and s["total_count"] == 16
    assert s["success_count"] == 15 and s["failure_count"] == 1 and s["pending_count"] == 0
    assert all("version" in x for x in s["successes"])
    assert s["failures"][0]["id"] == "indicator--ffffffff-aaaa-4bbb-8ccc-000000000000"
    st, s2, resp = get(ROOT + f"status/{s['id']}/")
    assert st == 200 and s2 == s
    st, e, _ = get(ROOT + "status/00000000-0000-4000-8000-000000000000/")
    assert st == 404
    # A malformed object: the request fails, nothing is added.
    bad = [stix_indicator(900), dict(stix_indicator(901), created="yesterday")]
    st, e, resp = post_objects(cid, bad)
    assert st == 400 and is_taxii(resp) and "objects[1].created" in e["description"], e
    st, _, _ = get(ROOT + f"collections/{cid}/objects/{bad[0]['id']}/")
    assert st == 404
    # The read-only collection refuses writes.
    st, e, _ = post_objects(collection_id("shareable"), objs[:1])
    assert st == 403 and e["http_status"] == "403"


def page_all(path, limit, params=None):
    """Follow next to the end; returns (objects, pages)."""
    out, pages, nxt = [], [], None
    while True:
        q = dict(params or {}, limit=str(limit))
        if nxt:
            q["next"] = nxt
        st, body, resp = get(path + "?" + urllib.parse.urlencode(q))
        assert st == 200 and is_taxii(resp), body
        objs = body.get("objects", [])
        assert len(objs) <= limit
        if objs:
            first, last = resp.getheader("X-TAXII-Date-Added-First"), resp.getheader("X-TAXII-Date-Added-Last")
            assert first and last and first <= last, (first, last)
        else:
            assert resp.getheader("X-TAXII-Date-Added-First") is None
        pages.append((body, resp))
        out += objs
        if not body["more"]:
            assert "next" not in body
            return out, pages
        nxt = body["next"]


def test_pagination_to_the_end_and_added_after():
    cid = collection_id("indicators")
    path = ROOT + f"collections/{cid}/objects/"
    objs, pages = page_all(path, 7)
    ids = [o["id"] for o in objs]
    assert len(ids) == len(set(ids)) == 25, len(ids)
    assert len(pages) == 4
    # Pages follow date added: each page's first date is >= the previous last.
    lasts = [p[1].getheader("X-TAXII-Date-Added-Last") for p in pages]
    firsts = [p[1].getheader("X-TAXII-Date-Added-First") for p in pages]
    assert all(firsts[i + 1] >= lasts[i] for i in range(3))
    mf, _ = page_all(ROOT + f"collections/{cid}/manifest/", 10)
    assert [m["id"] for m in mf] == ids
    # added_after is strict: after the first request's date, only the second's.
    first_group = {stix_indicator(i)["id"] for i in range(10)}
    cut = max(m["date_added"] for m in mf if m["id"] in first_group)
    later, _ = page_all(path, 1000, {"added_after": cut})
    assert {o["id"] for o in later} == {stix_indicator(i)["id"] for i in range(10, 25)}, later
    assert page_all(path, 1000, {"added_after": lasts[-1]})[0] == []
    assert all(m["media_type"].startswith("application/stix+json") and m["version"] and m["date_added"] for m in mf)
    # Objects added after the last page: a new poll with added_after sees only them.
    st, s, _ = post_objects(cid, [stix_indicator(300)])
    assert st == 202
    newer, _ = page_all(path, 50, {"added_after": lasts[-1]})
    assert [o["id"] for o in newer] == [stix_indicator(300)["id"]]
    # Filters.
    st, b, _ = get(path + "?" + urllib.parse.urlencode({"match[id]": ids[3]}))
    assert [o["id"] for o in b["objects"]] == [ids[3]]
    st, b, _ = get(path + "?match[type]=malware")
    assert st == 200 and "objects" not in b and b["more"] is False
    st, e, resp = get(path + "?added_after=yesterday")
    assert st == 400 and is_taxii(resp) and "added_after" in e["description"]
    st, e, _ = get(path + "?next=garbage")
    assert st == 400


def test_object_versions_and_shareable():
    cid = collection_id("indicators")
    oid = stix_indicator(3)["id"]
    st, b, resp = get(ROOT + f"collections/{cid}/objects/{oid}/")
    assert st == 200 and [o["id"] for o in b["objects"]] == [oid]
    assert resp.getheader("X-TAXII-Date-Added-First")
    st, v, _ = get(ROOT + f"collections/{cid}/objects/{oid}/versions/")
    assert st == 200 and v["versions"] == ["2026-02-01T00:00:00.000Z"], v
    st, e, _ = get(ROOT + f"collections/{cid}/objects/indicator--00000000-0000-4000-8000-000000000000/")
    assert st == 404 and e["http_status"] == "404"
    # shareable: only TLP:CLEAR/GREEN (every fifth object was posted GREEN).
    sid = collection_id("shareable")
    objs, _ = page_all(ROOT + f"collections/{sid}/objects/", 100)
    assert {o["id"] for o in objs} == {stix_indicator(i)["id"] for i in range(0, 25, 5)}
    st, _, _ = get(ROOT + f"collections/{sid}/objects/{oid}/")
    assert st == 404  # AMBER: not in the shareable collection


def test_media_types_and_auth():
    cid = collection_id("indicators")
    path = ROOT + f"collections/{cid}/objects/"
    st, e, resp = get(path, accept="application/json")
    assert st == 406 and is_taxii(resp) and e["http_status"] == "406"
    st, _, _ = get(path, accept="application/taxii+json")
    assert st == 200
    st, _, _ = get(path, accept="application/xml, application/taxii+json;version=2.1")
    assert st == 200
    st, e, resp = post_objects(cid, [stix_indicator(400)], ctype="application/json")
    assert st == 415 and is_taxii(resp)
    st, e, _ = post_objects(cid, [stix_indicator(400)], ctype="application/taxii+json;version=2.0")
    assert st == 415
    st, e, resp = srv.request("GET", "/taxii2/", headers={"Accept": TAXII})
    assert st == 401 and is_taxii(resp) and e["http_status"] == "401", e
    assert resp.getheader("WWW-Authenticate")
    st, e, _ = srv.request("GET", "/taxii2/", headers={"Accept": TAXII, "Authorization": "Bearer agk_nope_nope"})
    assert st == 401
    st, e, resp = post_objects(cid, [stix_indicator(400)], key=R)
    assert st == 403 and is_taxii(resp) and "intel:write" in e["description"]
    other = srv.key("events:read")
    st, e, _ = get("/taxii2/", key=other)
    assert st == 403


def test_served_objects_validate_against_stix_schemas():
    cid = collection_id("indicators")
    objs, _ = page_all(ROOT + f"collections/{cid}/objects/", 1000)
    bundle = {"type": "bundle", "id": "bundle--8d0b8f5a-6c1e-4a7e-9d41-2b3c4d5e6f70", "objects": objs}
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                       check=True, timeout=600)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bundle, f)
    try:
        p = subprocess.run(["node", os.path.join(NODE_DIR, "validate-stix.mjs"), f.name],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    setup()
    try:
        run([test_discovery_root_collections, test_add_objects_and_status,
             test_pagination_to_the_end_and_added_after, test_object_versions_and_shareable,
             test_media_types_and_auth, test_served_objects_validate_against_stix_schemas])
    finally:
        srv.cleanup()
