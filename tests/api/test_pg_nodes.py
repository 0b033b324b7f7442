"""Two real `accountguard serve` nodes on one PostgreSQL (docs/SCALING.md):
an event retried on the other node is answered from the store, not processed
twice (also when both get it at once); failed logins spread over both nodes
count together; a freeze on one node denies money movement on the other at
once; challenges and sessions made on one node work on the other; a
notification is delivered once with both nodes' delivery workers running;
what one node learns about an account (its login profile, its activity:
failed logins, a payout hold) scores the next event on the other, and
logins learned by both nodes at once all end up in the stored profile.

Needs a PostgreSQL: AG_TEST_PG_URL, or the server of AG_TEST_PG_STATE
(ctest's pg fixture, tests/pg.cmake); run by hand without either, it starts
its own (tests/pg/pgctl.py)."""

import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import time

from agtest import Server, cli, event, run
from notify_receivers import HttpReceiver

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../pg"))
import pgctl  # noqa: E402

RULES = """
rule shared_failures_account "failed logins on the account, counted by every node"
  when velocity.failed_logins_account_1h >= 4
  then review

rule shared_failures_ip "failed logins from the IP, counted by every node"
  when velocity.failed_logins_ip_1h >= 6
  then challenge methods [totp]

rule shared_failures_10m "failed logins on the account in 10 minutes (its activity)"
  when velocity.failed_logins_account_10m >= 4
  then review

rule shared_failing_ips "addresses that failed on the account in the hour (its activity)"
  when velocity.ips_per_account_1h >= 4
  then review
"""

UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/118.0.0.0 Safari/537.36")
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
          "Gecko) Version/17.0 Safari/605.1.15")

_own_state = None


def base_url():
    global _own_state
    url = os.environ.get("AG_TEST_PG_URL")
    if url:
        return url
    state = os.environ.get("AG_TEST_PG_STATE")
    if state:
        url = pgctl.url_of(state)
        if not url:
            raise AssertionError(f"no PostgreSQL running for {state} (pg/start failed?)")
        return url
    _own_state = tempfile.mkdtemp(prefix="agpgstate")
    return pgctl.start(_own_state)


class Cluster:
    """Two nodes, each with its own data dir, sharing one database and one
    server secret (API keys and tokens are keyed with it)."""

    def __init__(self, name, extra=()):
        self.url = pgctl.createdb(base_url(), name)
        self.rules = tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False)
        self.rules.write(RULES)
        self.rules.close()
        args = [f"--store={self.url}", f"--rules-file={self.rules.name}", *extra]
        self.a = Server(args)
        self.b = Server(args)
        # one secret for the cluster: A makes it, B uses A's
        self.a.start()
        shutil.copy(os.path.join(self.a.data_dir, "secret.key"), self.b.data_dir)
        self.b.start()
        p = cli("apikey", "create", "--name", "t", "--scopes", "admin", f"--store={self.url}",
                data_dir=self.a.data_dir)
        self.key = p.stdout.strip()

    def post(self, node, ev):
        return node.request("POST", "/v1/events", body=ev, key=self.key)

    def close(self):
        self.a.cleanup()
        self.b.cleanup()
        os.unlink(self.rules.name)


def account_events(c, node, account):
    st, body, _ = node.request("GET", f"/v1/accounts/{account}/events?limit=100", key=c.key)
    assert st == 200, body
    return body["items"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def codes(decision):
    return [r["code"] for r in decision["reasons"]]


def stored_profile(c, account):
    """The stored risk profile of <account> (risk/profile.c's blob: logins
    learned, the last one's time, and per feature the (value, count) pairs
    kept) and its version."""
    row = pgctl.psql(c.url, "SELECT encode(blob, 'hex'), "
                            "COALESCE(to_jsonb(risk_profiles) ->> 'version', '-1') "
                            f"FROM risk_profiles WHERE account_id = '{account}'").strip()
    assert row, f"no stored profile for {account}"
    hexblob, version = row.split("|")
    b = bytes.fromhex(hexblob)
    assert b[:3] == b"AGP", b[:4]
    n, last_s = int.from_bytes(b[12:16], "little"), int.from_bytes(b[16:20], "little")
    lens, off, feats = b[30:41], 41, []
    for f in range(11):
        feats.append([(int.from_bytes(b[off + 8 * i:off + 8 * i + 4], "little"),
                       int.from_bytes(b[off + 8 * i + 4:off + 8 * i + 6], "little"))
                      for i in range(lens[f])])
        off += 8 * lens[f]
    assert off == len(b), (off, len(b))
    return {"n": n, "last_s": last_s, "features": feats, "version": int(version)}


def stored_activity(c, account):
    """Successful logins counted in the stored activity blob
    (pipeline/activity.c) of <account>, and its version."""
    row = pgctl.psql(c.url, "SELECT encode(activity, 'hex'), "
                            "COALESCE(to_jsonb(accounts) ->> 'activity_version', '-1') "
                            f"FROM accounts WHERE id = '{account}'").strip()
    hexblob, version = row.split("|")
    b = bytes.fromhex(hexblob)
    return {"logins": int.from_bytes(b[50:54], "little"), "version": int(version)}


def test_what_one_node_learns_scores_on_the_other():
    c = Cluster("nodes_profile")
    try:
        t = time.time() - 600
        ctx = {"ip": "81.2.69.142", "user_agent": UA, "device_id": "d-home"}
        # a population, so that the model's global frequencies mean something
        for i in range(8):
            st, body, _ = c.post(c.a if i % 2 else c.b,
                                 event(f"pop-{i}", "login.succeeded", account=f"u_pop{i}",
                                       occurred_at=iso(t + i),
                                       context={"ip": f"81.2.69.{150 + i}", "user_agent": UA_MAC,
                                                "device_id": f"d-pop{i}"}))
            assert st == 200, body
        # the account logs in from home, always through node A
        for i in range(6):
            st, body, _ = c.post(c.a, event(f"home-a-{i}", "login.succeeded", account="u_home",
                                            occurred_at=iso(t + 60 + i * 60), context=ctx))
            assert st == 200, body
            if i == 0:
                assert "first_login" in codes(body["decision"]), body
        assert "new_device" not in codes(body["decision"]), body
        familiar = body["decision"]["risk"]
        # the same context through node B: as familiar as on A
        st, body, _ = c.post(c.b, event("home-b", "login.succeeded", account="u_home",
                                        occurred_at=iso(t + 480), context=ctx))
        assert st == 200, body
        d = body["decision"]
        unfamiliar = {"first_login", "new_device", "new_country", "new_ip", "new_asn",
                      "new_browser", "new_user_agent"} & set(codes(d))
        assert not unfamiliar, d
        assert d["action"] == "allow" and d["risk"] <= max(familiar * 2, 0.05), (familiar, d)
        # and what B learned is seen on A: a second device, first used on B
        ctx2 = dict(ctx, device_id="d-laptop")
        st, body, _ = c.post(c.b, event("laptop-b", "login.succeeded", account="u_home",
                                        occurred_at=iso(t + 500), context=ctx2))
        assert st == 200 and "new_device" in codes(body["decision"]), body
        st, body, _ = c.post(c.a, event("laptop-a", "login.succeeded", account="u_home",
                                        occurred_at=iso(t + 520), context=ctx2))
        assert st == 200 and "new_device" not in codes(body["decision"]), body
        p = stored_profile(c, "u_home")
        assert p["n"] == 9 and p["version"] == 9, p
        assert p["last_s"] == int(t + 520), (p, int(t + 520))
        assert stored_activity(c, "u_home")["logins"] == 9
    finally:
        c.close()


def test_login_challenged_on_one_node_passed_on_the_other_is_learned():
    c = Cluster("nodes_held")
    try:
        t = time.time() - 900
        for i in range(8):  # a population for the global frequencies
            st, body, _ = c.post(c.a, event(f"hpop-{i}", "login.succeeded", account=f"u_hpop{i}",
                                            occurred_at=iso(t + i),
                                            context={"ip": f"81.2.69.{150 + i}",
                                                     "user_agent": UA_MAC,
                                                     "device_id": f"d-hpop{i}"}))
            assert st == 200, body
        home = {"ip": "81.2.69.142", "user_agent": UA_MAC, "device_id": "d-home"}
        for i in range(6):
            st, body, _ = c.post(c.a, event(f"hh-{i}", "login.succeeded", account="u_held",
                                            occurred_at=iso(t + 60 + i * 60), context=home))
            assert st == 200, body
        away = {"ip": "200.160.2.3", "user_agent": UA, "device_id": "d-away"}
        st, body, _ = c.post(c.b, event("hb-1", "login.succeeded", account="u_held",
                                        occurred_at=iso(t + 500), context=away))
        assert st == 200 and body["decision"]["action"] == "challenge", body
        assert "new_device" in codes(body["decision"]), body
        # held, not learned, on either node until the second factor passes
        st, body, _ = c.post(c.a, event("ha-2", "login.succeeded", account="u_held",
                                        occurred_at=iso(t + 510), context=away))
        assert st == 200 and body["decision"]["action"] == "challenge", body
        assert "new_device" in codes(body["decision"]), body
        # the owner passes the second factor; the platform's call lands on A
        st, body, _ = c.post(c.a, event("ha-mfa", "mfa.succeeded", account="u_held",
                                        occurred_at=iso(t + 530), context=away))
        assert st == 200, body
        # back on B: the context is the account's now
        st, body, _ = c.post(c.b, event("hb-2", "login.succeeded", account="u_held",
                                        occurred_at=iso(t + 560), context=away))
        assert st == 200, body
        assert "new_device" not in codes(body["decision"]), body
        assert body["decision"]["action"] != "challenge", body
        assert stored_profile(c, "u_held")["n"] == 8  # 6 home, the passed one, the last
    finally:
        c.close()


def test_rules_published_on_one_node_run_on_every_node():
    c = Cluster("nodes_rules")
    try:
        t = time.time() - 60
        ctx = {"ip": "192.0.2.77", "user_agent": UA, "device_id": "d-r"}
        st, body, _ = c.post(c.b, event("r-before", "login.succeeded", account="u_r",
                                        occurred_at=iso(t), context=ctx))
        assert st == 200 and "block_doc_net" not in body["decision"]["rules"], body
        text = RULES + """
rule block_doc_net "logins from the documentation network"
  when ip.address == "192.0.2.77"
  then deny
"""
        st, body, _ = c.a.request("PUT", "/v1/rules", body={"text": text}, key=c.key)
        assert st == 200, body
        # node B picks the publication up within a couple of seconds
        deadline, d = time.time() + 5, None
        while time.time() < deadline:
            st, body, _ = c.post(c.b, event(f"r-{time.time()}", "login.succeeded", account="u_r",
                                            occurred_at=iso(t + 1), context=ctx))
            assert st == 200, body
            d = body["decision"]
            if "block_doc_net" in d["rules"]:
                break
            time.sleep(0.2)
        assert "block_doc_net" in d["rules"] and d["action"] == "deny", d
        st, body, _ = c.b.request("GET", "/v1/rules", key=c.key)
        assert st == 200 and "block_doc_net" in body["text"], body
        # a node that starts later runs the published rules, not its own file
        # (both nodes here share one file, which A's publication rewrote:
        # put the old text back, as B's own file would still have it)
        c.b.stop()
        with open(c.rules.name, "w") as f:
            f.write(RULES)
        c.b.start()
        st, body, _ = c.b.request("GET", "/v1/rules", key=c.key)
        assert st == 200 and "block_doc_net" in body["text"], body
        st, body, _ = c.post(c.b, event("r-after", "login.succeeded", account="u_r",
                                        occurred_at=iso(t + 2), context=ctx))
        assert st == 200 and "block_doc_net" in body["decision"]["rules"], body
    finally:
        c.close()


def test_concurrent_logins_on_both_nodes_all_learned():
    c = Cluster("nodes_merge")
    try:
        t = int(time.time()) - 300
        n = 48

        def login(i):
            node = c.a if i % 2 else c.b
            ctx = {"ip": "81.2.69.142" if i % 2 else "81.2.69.143", "user_agent": UA,
                   "device_id": "d-a" if i % 2 else "d-b"}
            st, body, _ = c.post(node, event(f"m-{i}", "login.succeeded", account="u_merge",
                                             occurred_at=iso(t + i), context=ctx))
            return st, body
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            res = list(ex.map(login, range(n)))
        bad = [r for r in res if r[0] != 200]
        # a request that lost a deadlock five times may be told to retry
        for i, (st, _) in enumerate(res):
            tries = 0
            while st == 503 and tries < 5:
                st, _ = login(i)
                tries += 1
            assert st == 200, (i, bad[:3])
        p = stored_profile(c, "u_merge")
        # every login, whichever node learned it, in the count and the histories
        assert p["n"] == n and p["version"] == n, p
        assert t <= p["last_s"] <= t + n - 1, (p["last_s"], t)
        devices = p["features"][8]
        assert len(devices) == 2 and sum(cnt for _, cnt in devices) == n, devices
        ips = p["features"][0]
        assert sorted(cnt for _, cnt in ips) == [n // 2, n // 2], ips
        a = stored_activity(c, "u_merge")
        assert a["logins"] == n and a["version"] == n, a
        # and both nodes now score each device as familiar
        for node, dev, ip in ((c.a, "d-b", "81.2.69.143"), (c.b, "d-a", "81.2.69.142")):
            st, body, _ = c.post(node, event(f"m-after-{dev}", "login.succeeded",
                                             account="u_merge", occurred_at=iso(t + n + 5),
                                             context={"ip": ip, "user_agent": UA,
                                                      "device_id": dev}))
            assert st == 200, body
            assert not {"new_device", "new_ip", "first_login"} & set(codes(body["decision"])), body
        p = stored_profile(c, "u_merge")
        assert p["n"] == n + 2 and p["last_s"] == t + n + 5, p
    finally:
        c.close()


def test_failed_logins_in_the_account_activity_are_shared():
    c = Cluster("nodes_activity")
    try:
        now = time.time()
        # failed logins from four addresses, alternating nodes: neither node
        # alone saw more than two, the fourth sees all four
        for i in range(4):
            node = c.a if i % 2 else c.b
            st, body, _ = c.post(node, event(f"fa-{i}", "login.failed", account="u_fa",
                                             occurred_at=iso(now - 40 + i),
                                             context={"ip": f"81.2.69.{201 + i}"}))
            assert st == 200, body
            fired = {"shared_failures_10m", "shared_failing_ips"} & set(body["decision"]["rules"])
            if i < 3:
                assert not fired, (i, body)
        assert fired == {"shared_failures_10m", "shared_failing_ips"}, body
        st, body, _ = c.post(c.a, event("fa-4", "login.failed", account="u_fa",
                                        occurred_at=iso(now - 30), context={"ip": "81.2.69.205"}))
        assert st == 200 and "shared_failures_10m" in body["decision"]["rules"], body
    finally:
        c.close()


def test_payout_hold_started_on_one_node_holds_on_the_other():
    c = Cluster("nodes_hold")
    try:
        now = time.time()
        seller = {"id": "u_seller", "role": "seller"}
        st, body, _ = c.post(c.a, event("ph-change", "payout_account.changed", account="u_seller",
                                        occurred_at=iso(now - 30)) | {"account": seller})
        assert st == 200 and "payout_change_held" in codes(body["decision"]), body
        st, body, _ = c.post(c.b, event("ph-payout", "payout.requested", account="u_seller",
                                        occurred_at=iso(now - 20),
                                        properties={"amount": 5000, "currency": "EUR"})
                             | {"account": seller})
        assert st == 200, body
        d = body["decision"]
        assert d["action"] == "deny" and "payout_account_on_hold" in codes(d), d
    finally:
        c.close()


def test_retry_on_the_other_node_is_answered_not_reprocessed():
    c = Cluster("nodes_retry")
    try:
        ev = event("r-1", "login.succeeded", account="u_r",
                   context={"ip": "81.2.69.142", "device_id": "d1"})
        st, first, _ = c.post(c.a, ev)
        assert st == 200, first
        st, again, _ = c.post(c.b, ev)
        assert st == 200 and again == first, (first, again)
        changed = dict(ev, type="login.failed")
        st, body, _ = c.post(c.b, changed)
        assert st == 409 and body["error"]["code"] == "idempotency_conflict", body
        assert len(account_events(c, c.b, "u_r")) == 1
        # both nodes at once, many times: one row and one answer per id
        ids = [f"race-{i}" for i in range(40)]
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            futs = {}
            for eid in ids:
                e = event(eid, "login.failed", account="u_race",
                          context={"ip": "81.2.69.160", "device_id": "d2"})
                futs[eid] = (ex.submit(c.post, c.a, e), ex.submit(c.post, c.b, e))
            for eid, (fa, fb) in futs.items():
                sa, ba, _ = fa.result()
                sb, bb, _ = fb.result()
                # A racing duplicate may be told 503 "retry with the same id"
                # (its transaction lost the race in a way PostgreSQL reports
                # as an error); the retry must then get the stored answer.
                e = event(eid, "login.failed", account="u_race",
                          context={"ip": "81.2.69.160", "device_id": "d2"})
                for node, st_, name in ((c.a, sa, "a"), (c.b, sb, "b")):
                    tries = 0
                    while st_ == 503 and tries < 5:
                        st_, body_, _ = c.post(node, e)
                        tries += 1
                        if name == "a":
                            sa, ba = st_, body_
                        else:
                            sb, bb = st_, body_
                assert sa == 200 and sb == 200, (sa, ba, sb, bb)
                assert ba == bb, (eid, ba, bb)
        assert len(account_events(c, c.a, "u_race")) == len(ids)
        # each failure counted once, whichever node stored it: the next one
        # sees all 40 (the rule fires at 4, the count is exact either way)
        st, body, _ = c.post(c.b, event("race-next", "login.failed", account="u_race",
                                        context={"ip": "81.2.69.161"}))
        assert st == 200 and "shared_failures_account" in body["decision"]["rules"], body
    finally:
        c.close()


def test_failed_logins_on_both_nodes_count_together():
    c = Cluster("nodes_velocity")
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

        def fail(node, i, account="u_v", ip="81.2.69.170"):
            st, body, _ = c.post(node, event(f"vf-{account}-{i}", "login.failed", account=account,
                                             occurred_at=now, context={"ip": ip}))
            assert st == 200, body
            return body["decision"]
        # 4 failures, 2 per node: neither node alone has seen 4
        for i in range(4):
            d = fail(c.a if i % 2 == 0 else c.b, i)
            assert "shared_failures_account" not in d["rules"], (i, d)
        assert "shared_failures_account" in fail(c.a, 4)["rules"]
        assert "shared_failures_account" in fail(c.b, 5)["rules"]
        # one IP over several accounts, alternating nodes
        for i in range(6):
            d = fail(c.a if i % 2 else c.b, i, account=f"u_ip{i}", ip="81.2.69.180")
            assert "shared_failures_ip" not in d["rules"], (i, d)
        d = fail(c.a, 99, account="u_ip99", ip="81.2.69.180")
        assert "shared_failures_ip" in d["rules"] and d["action"] == "challenge", d
        # another account, another IP: nothing carried over
        d = fail(c.b, 0, account="u_other", ip="81.2.69.190")
        assert d["rules"] == [], d
    finally:
        c.close()


def test_freeze_on_one_node_denies_on_the_other_at_once():
    c = Cluster("nodes_freeze")
    try:
        transfer = {"amount": 5000, "currency": "EUR"}
        st, body, _ = c.post(c.b, event("f-0", "wallet.transfer", account="u_f",
                                        properties=transfer))
        assert st == 200 and body["account"]["state"] == "active", body
        for i in range(5):
            st, body, _ = c.a.request("POST", "/v1/accounts/u_f/freeze",
                                      body={"reason": "ato"}, key=c.key)
            assert st == 200, body
            st, body, _ = c.post(c.b, event(f"f-{i}-b", "wallet.transfer", account="u_f",
                                            properties=transfer))
            assert st == 200 and body["decision"]["action"] == "deny", body
            assert body["account"]["state"] == "frozen", body
            assert "account_frozen" in [r["code"] for r in body["decision"]["reasons"]], body
            st, body, _ = c.b.request("POST", "/v1/accounts/u_f/unfreeze", body={}, key=c.key)
            assert st == 200, body
            st, body, _ = c.post(c.a, event(f"f-{i}-a", "wallet.transfer", account="u_f",
                                            properties=transfer))
            assert st == 200 and body["account"]["state"] == "active", body
            assert "account_frozen" not in [r["code"] for r in body["decision"]["reasons"]], body
    finally:
        c.close()


def test_sessions_and_challenges_are_shared():
    c = Cluster("nodes_identity")
    try:
        st, s, _ = c.a.request("POST", "/v1/accounts/u_s/sessions",
                               body={"context": {"device_id": "d1"}}, key=c.key)
        assert st == 201, s
        token = s["token"]
        st, v, _ = c.b.request("POST", "/v1/sessions/verify", body={"token": token}, key=c.key)
        assert st == 200 and v["valid"] is True and v["account_id"] == "u_s", v
        st, body, _ = c.b.request("DELETE", f"/v1/accounts/u_s/sessions/{s['session_id']}",
                                  key=c.key)
        assert st in (200, 204), body
        st, v, _ = c.a.request("POST", "/v1/sessions/verify", body={"token": token}, key=c.key)
        assert st == 200 and v["valid"] is False, v
        # backup codes made on A are used once across both nodes
        st, bk, _ = c.a.request("POST", "/v1/accounts/u_s/mfa/backup_codes", key=c.key)
        assert st == 201, bk
        code = bk["codes"][0]
        st, b, _ = c.b.request("POST", "/v1/accounts/u_s/mfa/backup_codes/verify",
                               body={"code": code}, key=c.key)
        assert b["result"] == "ok", b
        st, b, _ = c.a.request("POST", "/v1/accounts/u_s/mfa/backup_codes/verify",
                               body={"code": code}, key=c.key)
        assert b["result"] == "used", b
        st, ch, _ = c.a.request("POST", "/v1/accounts/u_s/challenges",
                                body={"context": {"device_id": "d1", "ip": "81.2.69.142"}},
                                key=c.key)
        assert st == 201, ch
        st, got, _ = c.b.request("GET", f"/v1/challenges/{ch['id']}", key=c.key)
        assert st == 200 and got["id"] == ch["id"] and got["state"] == "pending", (ch, got)
        st, ok, _ = c.b.request("POST", f"/v1/challenges/{ch['id']}/verify",
                                body={"method": "backup_code", "code": bk["codes"][1]}, key=c.key)
        assert ok["result"] == "ok", ok
        st, got, _ = c.a.request("GET", f"/v1/challenges/{ch['id']}", key=c.key)
        assert st == 200 and got["state"] == "passed", got
    finally:
        c.close()


def test_notification_delivered_once_with_both_nodes_workers():
    recv = HttpReceiver()
    c = Cluster("nodes_notify", extra=["--notify-lease-s=5"])
    try:
        st, body, _ = c.a.request("POST", "/v1/webhooks",
                                  body={"url": recv.url, "kinds": ["alert.*"]}, key=c.key)
        assert st == 201, body
        ids = [f"n-{i}" for i in range(30)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            res = list(ex.map(lambda i: c.post(c.a if i % 2 else c.b,
                                               event(ids[i], "password.changed", account="u_n")),
                              range(len(ids))))
        assert all(r[0] == 200 for r in res), [r[1] for r in res if r[0] != 200]

        def all_in(r):
            got = {json.loads(x[2])["data"]["event_id"] for x in r.accepted}
            return got >= set(ids)
        assert recv.wait(all_in, timeout=20), len(recv.accepted)
        time.sleep(1.0)  # a second delivery would have come by now
        with recv.lock:
            wids = [x[1].get("webhook-id") for x in recv.accepted]
        assert len(wids) == len(set(wids)) == len(ids), (len(wids), len(set(wids)))
        st, body, _ = c.b.request("GET", "/v1/notifications?account_id=u_n&limit=100", key=c.key)
        hooks = [i for i in body["items"] if i["channel"] == "webhook"]
        assert len(hooks) == len(ids) and all(i["attempts"] == 1 for i in hooks), hooks[:3]
    finally:
        c.close()
        recv.close()


if __name__ == "__main__":
    try:
        run([test_what_one_node_learns_scores_on_the_other,
             test_login_challenged_on_one_node_passed_on_the_other_is_learned,
             test_rules_published_on_one_node_run_on_every_node,
             test_concurrent_logins_on_both_nodes_all_learned,
             test_failed_logins_in_the_account_activity_are_shared,
             test_payout_hold_started_on_one_node_holds_on_the_other,
             test_retry_on_the_other_node_is_answered_not_reprocessed,
             test_failed_logins_on_both_nodes_count_together,
             test_freeze_on_one_node_denies_on_the_other_at_once,
             test_sessions_and_challenges_are_shared,
             test_notification_delivered_once_with_both_nodes_workers])
    finally:
        if _own_state:
            pgctl.stop(_own_state)
