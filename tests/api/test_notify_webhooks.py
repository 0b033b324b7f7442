"""Webhook deliveries follow the Standard Webhooks specification: each one is
verified with the reference npm library (tests/webhooks: standardwebhooks)
using the secret shown once at subscription; a tampered body, another
secret or a stale timestamp fail that verification. The webhook-id is the
message id, stable across retries."""
import json

from agtest import Server, event, run
from notify_receivers import HttpReceiver, verify_standard_webhooks


def test_signatures_verify_with_the_reference_library():
    recv = HttpReceiver(fail_first=1)
    srv = Server(["--notify-backoff-base-ms=50"]).start()
    try:
        key = srv.key("admin")
        st, sub, _ = srv.request("POST", "/v1/webhooks",
                                 body={"url": recv.url, "kinds": ["alert.*"],
                                       "description": "platform"}, key=key)
        assert st == 201, sub
        secret = sub["secret"]
        st, other, _ = srv.request("POST", "/v1/webhooks",
                                   body={"url": recv.url, "kinds": ["*"]}, key=key)
        srv.request("DELETE", f"/v1/webhooks/{other['id']}", key=key)
        srv.request("PUT", "/v1/accounts/u_s/contact", body={"locale": "fr"}, key=key)
        types = ["password.changed", "email.changed", "mfa.disabled", "payout_account.changed",
                 "shipping_address.added"]
        for i, t in enumerate(types):
            ev = event(f"s{i}", t, account="u_s",
                       context={"ip": "203.0.113.7", "user_agent": "Navigateur «spécial» ✓"})
            st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
            assert st == 200, body
        assert recv.wait(lambda r: len(r.unique()) == len(types), timeout=10)
        # the first attempt failed: its retry carries the same webhook-id
        first_id = recv.requests[0][1]["webhook-id"]
        assert any(r[1]["webhook-id"] == first_id for r in recv.accepted)
        items = [(secret, h, b) for _, h, b, _ in recv.accepted]
        results = verify_standard_webhooks(items)
        assert all(r["ok"] for r in results), results
        kinds = sorted(r["payload"]["type"] for r in results)
        assert len(set(kinds)) == len(types)
        for r in results:
            p = r["payload"]
            assert set(p) == {"type", "timestamp", "data"}
            assert p["data"]["account_id"] == "u_s"
            assert p["data"]["message"]["locale"] == "fr"
            assert "compte" in p["data"]["message"]["text"]
        # negative controls: the reference library rejects what it should
        _, h, b, _ = recv.accepted[0]
        tampered = b.replace("u_s", "u_x")
        stale = dict(h, **{"webhook-timestamp": str(int(h["webhook-timestamp"]) - 3600)})
        other_secret = other["secret"]
        bad = verify_standard_webhooks([(secret, h, tampered), (other_secret, h, b),
                                        (secret, stale, b)])
        assert [r["ok"] for r in bad] == [False, False, False], bad
        # GET never shows the secret again
        st, listing, _ = srv.request("GET", "/v1/webhooks", key=key)
        assert secret not in json.dumps(listing)
    finally:
        srv.cleanup()
        recv.close()


if __name__ == "__main__":
    run([test_signatures_verify_with_the_reference_library])
