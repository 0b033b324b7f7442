"""Identity end to end against a real server: TOTP enrolled and verified
with codes from oathtool, replay and parallel use of one code, backup codes,
passwords with throttling that spares the owner's trusted device, sessions
and revoke-all, freeze vs. credential changes and recovery, recovery alerts
in the outbox, the wallet passcode, and no secret in the server log."""
import concurrent.futures
import shutil
import subprocess
import time
from urllib.parse import parse_qs, urlparse

from agtest import Server, run

srv = None
W = R = N = None
SECRETS = []  # every secret the tests send or receive: none may reach the log


def setup():
    global srv, W, R, N
    srv = Server().start()
    W = srv.key("accounts:write events:write")
    R = srv.key("accounts:read events:read")
    N = srv.key("notifications:read")


def req(method, path, body=None, key=None):
    return srv.request(method, path, body=body, key=key or W)


def oath(secret, offset=0):
    """The TOTP code of <secret> (base32) at now + <offset> seconds, by oathtool."""
    t = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + offset))
    p = subprocess.run(["oathtool", "--totp", "-b", "-N", t, secret], capture_output=True, text=True,
                       check=True)
    code = p.stdout.strip()
    SECRETS.append(code)
    return code


def wait_step_start():
    """Avoid running a test across a 30 s step edge."""
    if time.time() % 30 > 24:
        time.sleep(30 - time.time() % 30 + 0.5)


def enroll(acct, device=None):
    st, body, resp = req("POST", f"/v1/accounts/{acct}/mfa/totp", {})
    assert st == 201, body
    assert resp.getheader("Cache-Control") == "no-store"
    uri = body["otpauth_uri"]
    assert uri.startswith("otpauth://totp/")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert secret == body["secret"]
    SECRETS.append(secret)
    assert body["qr_svg"].startswith("<?xml") or "<svg" in body["qr_svg"]
    st, png, resp = srv.request("GET", body["qr_png_url"], key=W)
    assert st == 200 and resp.getheader("Content-Type") == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    if shutil.which("zbarimg"):
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            f.write(png)
            f.flush()
            out = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True, text=True).stdout.strip()
        assert out == uri
    wait_step_start()
    ctx = {"device_id": device} if device else {}
    st, body, _ = req("POST", f"/v1/accounts/{acct}/mfa/totp/{body['enrollment_id']}/confirm",
                      {"code": oath(secret), "context": ctx})
    assert st == 200 and body["result"] == "ok", body
    return secret


def test_totp_enroll_verify_replay():
    secret = enroll("u_totp")
    st, mfa, _ = srv.request("GET", "/v1/accounts/u_totp/mfa", key=R)
    assert "totp" in mfa["methods"], mfa
    # The confirming code cannot be replayed; the next step's code (within
    # the +-1 window) works once.
    st, body, _ = req("POST", "/v1/accounts/u_totp/mfa/totp/verify", {"code": oath(secret)})
    assert body["result"] == "reused", body
    nxt = oath(secret, 30)
    st, body, _ = req("POST", "/v1/accounts/u_totp/mfa/totp/verify", {"code": nxt})
    assert st == 200 and body["result"] == "ok", body
    assert body["decision"]["action"] in ("allow", "review", "challenge", "deny")
    st, body, _ = req("POST", "/v1/accounts/u_totp/mfa/totp/verify", {"code": nxt})
    assert body["result"] == "reused", body
    st, body, _ = req("POST", "/v1/accounts/u_totp/mfa/totp/verify", {"code": "000000" if nxt != "000000" else "111111"})
    assert body["result"] == "wrong", body
    # The QR code is gone once confirmed.
    st, events, _ = srv.request("GET", "/v1/accounts/u_totp/events", key=R)
    types = [e["type"] for e in events["items"]]
    assert "mfa.enabled" in types and "mfa.succeeded" in types and "mfa.failed" in types, types


def test_totp_parallel_same_code_exactly_one_wins():
    secret = enroll("u_race_totp")
    for attempt in range(3):
        code = oath(secret, 30 * (attempt + 1))
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            res = list(ex.map(lambda _: req("POST", "/v1/accounts/u_race_totp/mfa/totp/verify",
                                            {"code": code}), range(2)))
        # Exactly one wins. Each attempt counts as failed until its code is
        # checked, so the loser is told the code was used, or, when both were
        # counted before either was checked, to wait (429): never "ok" twice.
        outcomes = sorted(r[1]["result"] if r[0] == 200 else r[1]["error"]["code"] for r in res)
        assert outcomes in (["ok", "reused"], ["ok", "too_many_attempts"]), res
        if attempt == 0:
            break


def test_backup_codes_single_use():
    st, body, _ = req("POST", "/v1/accounts/u_bk/mfa/backup_codes")
    assert st == 201 and len(body["codes"]) == 10 and len(set(body["codes"])) == 10
    SECRETS.extend(body["codes"])
    code = body["codes"][3]
    st, b, _ = req("POST", "/v1/accounts/u_bk/mfa/backup_codes/verify", {"code": code.lower()})
    assert b["result"] == "ok" and b["remaining"] == 9, b
    st, b, _ = req("POST", "/v1/accounts/u_bk/mfa/backup_codes/verify", {"code": code})
    assert b["result"] == "used", b


def test_password_throttle_spares_trusted_device():
    acct = "u_pw"
    pw = "violet-harbour-tangent-91"
    SECRETS.append(pw)
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password", {"password": "password1"})
    assert st == 422 and b["error"]["code"] in ("password_common", "password_weak"), b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password", {"password": pw})
    assert st == 200 and b["set"], b
    # The owner's device becomes trusted by passing a challenge.
    secret = enroll(acct)
    st, ch, _ = req("POST", f"/v1/accounts/{acct}/challenges", {"context": {"device_id": "d_owner", "ip": "81.2.69.142"}})
    assert st == 201 and "totp" in ch["methods"], ch
    st, b, _ = req("POST", f"/v1/challenges/{ch['id']}/verify", {"method": "totp", "code": oath(secret, 30)})
    assert b["result"] == "ok" and b["challenge"]["state"] == "passed", b
    st, devs, _ = srv.request("GET", f"/v1/accounts/{acct}/devices", key=R)
    assert any(d["device_id"] == "d_owner" and d["trusted"] for d in devs["items"]), devs
    # An attacker guessing from an unknown device is slowed down...
    evil = {"device_id": "d_evil", "ip": "198.51.100.23"}
    statuses = []
    for i in range(8):
        st, b, resp = req("POST", f"/v1/accounts/{acct}/password/verify",
                          {"password": f"guess-{i}-x", "context": evil})
        statuses.append(st)
        if st == 429:
            assert int(resp.getheader("Retry-After")) >= 1 and b["error"]["code"] == "too_many_attempts"
    assert statuses[:5] == [200] * 5 and 429 in statuses, statuses
    # ...and the failures ran as login.failed events (velocity counts them).
    st, events, _ = srv.request("GET", f"/v1/accounts/{acct}/events?limit=50", key=R)
    assert sum(e["type"] == "login.failed" for e in events["items"]) >= 5
    # The owner on the trusted device is not locked out.
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password/verify",
                   {"password": pw, "context": {"device_id": "d_owner", "ip": "81.2.69.142"}})
    assert st == 200 and b["result"] == "ok" and b["trusted_device"], b


def test_password_rehash_on_cost_change():
    acct = "u_rehash"
    pw = "quartz-meadow-lantern-57"
    SECRETS.append(pw)
    assert req("POST", f"/v1/accounts/{acct}/password", {"password": pw})[0] == 200
    srv.stop()
    srv.extra = ["--password_hash_ops=3", "--password_hash_mem_kib=32768"]
    srv.start()
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password/verify", {"password": pw})
    assert b["result"] == "ok" and b["rehashed"], b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password/verify", {"password": pw})
    assert b["result"] == "ok" and not b["rehashed"], b


def test_sessions_revoke_all_invalidates_tokens():
    acct = "u_ses"
    toks = []
    for i in range(3):
        st, b, _ = req("POST", f"/v1/accounts/{acct}/sessions", {"context": {"device_id": f"d{i}"}})
        assert st == 201 and b["token"].startswith("ags_"), b
        toks.append((b["session_id"], b["token"]))
        SECRETS.append(b["token"])
    for _, t in toks:
        st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": t}, key=R)
        assert b["valid"] is True and b["account_id"] == acct
    st, b, _ = req("POST", f"/v1/accounts/{acct}/sessions/revoke_all", {"keep_session_id": toks[0][0]})
    assert b["revoked"] == 2, b
    st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": toks[0][1]}, key=R)
    assert b["valid"] is True
    for _, t in toks[1:]:
        st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": t}, key=R)
        assert b["valid"] is False and b["reason"] == "session_revoked", b
    st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": "ags_nope"}, key=R)
    assert b["valid"] is False
    # A password change signs out every other session.
    st, b, _ = req("POST", f"/v1/accounts/{acct}/sessions", {"context": {"device_id": "d9"}})
    other = b["token"]
    SECRETS.append(other)
    pw = "sapphire-kettle-orbit-33"
    SECRETS.append(pw)
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password", {"password": pw, "context": {"session_id": toks[0][0]}})
    assert st == 200, b
    st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": other}, key=R)
    assert b["valid"] is False
    st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": toks[0][1]}, key=R)
    assert b["valid"] is True
    # Forgetting a device revokes its sessions.
    st, b, _ = req("POST", f"/v1/accounts/{acct}/sessions", {"context": {"device_id": "d_lost"}})
    lost = b["token"]
    SECRETS.append(lost)
    st, ev, _ = req("POST", "/v1/events", {"id": "ses-login-1", "type": "login.succeeded",
                                           "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": acct},
                                           "context": {"device_id": "d_lost", "ip": "81.2.69.142"}})
    assert st == 200, ev
    st, devs, _ = srv.request("GET", f"/v1/accounts/{acct}/devices", key=R)
    assert any(d["device_id"] == "d_lost" for d in devs["items"]), devs
    st, b, _ = req("DELETE", f"/v1/accounts/{acct}/devices/d_lost")
    assert st == 200 and b["revoked_sessions"] == 1, b
    st, b, _ = srv.request("POST", "/v1/sessions/verify", body={"token": lost}, key=R)
    assert b["valid"] is False


def test_freeze_blocks_credential_changes_not_recovery():
    acct = "u_frozen"
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/mfa/contacts/email", {"address": "owner@example.com", "verified": True})
    assert st == 200 and b["verified"], b
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/contact", {"email": "owner@example.com", "phone": "+447700900456"})
    assert st in (200, 201), b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/freeze", {"reason": "takeover reported", "actor": "agent_1"})
    assert st == 200 and b["state"] == "frozen"
    pw = "cobalt-window-ferry-48"
    SECRETS.append(pw)
    st, b, _ = req("POST", f"/v1/accounts/{acct}/password", {"password": pw})
    assert st == 403 and b["error"]["code"] == "account_frozen", b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/mfa/totp", {})
    assert st == 403 and b["error"]["code"] == "account_frozen", b
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/wallet/passcode", {"passcode": "480913"})
    assert st == 403 and b["error"]["code"] == "account_frozen", b
    # Recovery stays open while frozen, and every channel of the owner hears of it.
    st, b, _ = req("POST", f"/v1/accounts/{acct}/recovery", {"channel": "email", "context": {"ip": "81.2.69.142"}})
    assert st == 201 and b["recovery_id"] and b["destination"].endswith("@example.com"), b
    st, out, _ = srv.request("GET", f"/v1/notifications?account_id={acct}", key=N)
    assert st == 200, out
    kinds = [(m.get("kind"), m.get("channel")) for m in out["items"]]
    assert ("alert.recovery_requested", "email") in kinds and ("alert.recovery_requested", "sms") in kinds, kinds
    assert any(k == "otp.email" for k, _ in kinds), kinds
    # A wrong code does not complete it.
    st, b2, _ = req("POST", f"/v1/accounts/{acct}/recovery/{b['recovery_id']}/complete",
                    {"code": "000000", "new_password": pw})
    assert st == 200 and b2["result"] == "wrong", b2


def test_recovery_from_new_country_and_device_needs_second_factor():
    acct = "u_rec"
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/mfa/contacts/email", {"address": "rec@example.com", "verified": True})
    assert st == 200
    secret = enroll(acct)
    st, ev, _ = req("POST", "/v1/events", {"id": "rec-login-1", "type": "login.succeeded",
                                           "occurred_at": "2026-11-21T10:00:00Z", "account": {"id": acct},
                                           "context": {"device_id": "d_home", "ip": "81.2.69.142"}})
    assert st == 200, ev
    st, devs, _ = srv.request("GET", f"/v1/accounts/{acct}/devices", key=R)
    assert [d["country"] for d in devs["items"]] == ["GB"], devs
    st, b, _ = req("POST", f"/v1/accounts/{acct}/recovery",
                   {"channel": "email", "context": {"device_id": "d_new", "ip": "200.160.0.8"}})
    assert st == 201 and b["strong"] is True, b
    assert any(r["code"] == "recovery_new_device_new_country" for r in b["decision"]["reasons"]), b
    assert b["challenge"]["methods"] and "email" in b["challenge"]["methods"] or "totp" in b["challenge"]["methods"], b
    st, b2, _ = req("POST", f"/v1/accounts/{acct}/recovery/{b['recovery_id']}/complete",
                    {"code": "123456", "new_password": "amber-silo-pigeon-72"})
    assert st == 403 and b2["error"]["code"] == "challenge_required", b2
    # The email code alone cannot pass the strong challenge for it.
    st, b3, _ = req("POST", f"/v1/challenges/{b['challenge']['id']}/verify",
                    {"method": "totp", "code": oath(secret, 30)})
    assert b3["result"] == "ok", b3


def test_challenge_for_account_without_second_factor_says_so():
    # A script's user agent is challenged by the shipped rules; an account with
    # nothing enrolled gets a challenge with no methods and a reason saying
    # the platform must verify the user itself.
    bot = {"ip": "81.2.69.142", "user_agent": "python-requests/2.31", "device_id": "d_bot"}
    st, ev, _ = req("POST", "/v1/events", {"id": "nosf-1", "type": "login.succeeded",
                                           "occurred_at": "2026-11-21T10:00:00Z",
                                           "account": {"id": "u_nosf"}, "context": bot})
    assert st == 200 and ev["decision"]["action"] == "challenge", ev
    assert ev["decision"]["challenge"]["methods"] == [], ev
    assert "no_second_factor" in [r["code"] for r in ev["decision"]["reasons"]], ev
    # with TOTP enrolled the challenge offers it, and the reason is absent
    enroll("u_sf")
    st, ev, _ = req("POST", "/v1/events", {"id": "sf-1", "type": "login.succeeded",
                                           "occurred_at": "2026-11-21T10:00:00Z",
                                           "account": {"id": "u_sf"}, "context": bot})
    assert st == 200 and ev["decision"]["action"] == "challenge", ev
    assert "totp" in ev["decision"]["challenge"]["methods"], ev
    assert "no_second_factor" not in [r["code"] for r in ev["decision"]["reasons"]], ev


def test_one_time_code_limits():
    acct = "u_otp"
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/mfa/contacts/sms", {"address": "+447700900123", "verified": True})
    assert st == 200, b
    codes = []
    for i in range(5):
        st, b, _ = req("POST", f"/v1/accounts/{acct}/otp", {"channel": "sms"})
        assert st == 201 and b["destination"].endswith("123") and "7700900" not in b["destination"], b
        codes.append(b["otp_id"])
    st, b, resp = req("POST", f"/v1/accounts/{acct}/otp", {"channel": "sms"})
    assert st == 429 and b["error"]["code"] == "too_many_codes", b
    # Five wrong tries exhaust a code.
    results = [req("POST", f"/v1/accounts/{acct}/otp/{codes[0]}/verify", {"code": f"00000{i}"})[1]["result"]
               for i in range(6)]
    assert results[:5] == ["wrong"] * 5 and results[5] == "exhausted", results


def test_wallet_passcode_backoff_and_unlock():
    acct = "u_wallet"
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/wallet/passcode", {"passcode": "123456"})
    assert st == 422 and b["error"]["code"] == "passcode_weak", b
    st, b, _ = req("PUT", f"/v1/accounts/{acct}/wallet/passcode", {"passcode": "480913"})
    assert st == 200, b
    SECRETS.append("480913")
    st, b, _ = req("POST", f"/v1/accounts/{acct}/wallet/passcode/verify", {"passcode": "480913"})
    assert b["result"] == "ok", b
    sts = [req("POST", f"/v1/accounts/{acct}/wallet/passcode/verify", {"passcode": "111112"})[0] for _ in range(5)]
    assert sts[:4] == [200] * 4 and sts[4] == 429, sts  # 3 free, the 4th starts the backoff
    # The owner clears the backoff with 2-step verification.
    secret = enroll(acct)
    st, ch, _ = req("POST", f"/v1/accounts/{acct}/challenges", {})
    st, b, _ = req("POST", f"/v1/challenges/{ch['id']}/verify", {"method": "totp", "code": oath(secret, 30)})
    assert b["result"] == "ok", b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/wallet/passcode/unlock", {"challenge_id": ch["id"]})
    assert st == 200 and b["unlocked"], b
    st, b, _ = req("POST", f"/v1/accounts/{acct}/wallet/passcode/verify", {"passcode": "480913"})
    assert b["result"] == "ok", b


def test_secrets_never_logged():
    log = srv.read_log()
    leaked = [s for s in SECRETS if s and s in log]
    assert not leaked, f"secrets in the server log: {leaked[:3]}"


if __name__ == "__main__":
    setup()
    try:
        run([test_totp_enroll_verify_replay, test_totp_parallel_same_code_exactly_one_wins,
             test_backup_codes_single_use, test_password_throttle_spares_trusted_device,
             test_password_rehash_on_cost_change, test_sessions_revoke_all_invalidates_tokens,
             test_freeze_blocks_credential_changes_not_recovery,
             test_recovery_from_new_country_and_device_needs_second_factor,
             test_challenge_for_account_without_second_factor_says_so, test_one_time_code_limits,
             test_wallet_passcode_backoff_and_unlock, test_secrets_never_logged])
    finally:
        srv.cleanup()
