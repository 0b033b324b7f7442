"""Email and SMS channels against real local servers: alert emails reach an
SMTP server (aiosmtpd) as MIME messages with a text and an HTML part in the
account's language, parsed with Python's email parser; SMS alerts reach an
HTTP gateway with the configured auth header and body template; a down SMTP
server makes the email dead after its attempts."""
import json
import time
import urllib.parse

from agtest import Server, event, run
from notify_receivers import HttpReceiver, SmtpServer


def test_email_alerts_over_smtp():
    smtp = SmtpServer()
    srv = Server([f"--smtp-url={smtp.url}", "--smtp-from=security@market.example",
                  "--smtp-tls=off", "--platform-name=Mercado Sur"]).start()
    try:
        key = srv.key("admin")
        st, c, _ = srv.request("PUT", "/v1/accounts/u_m/contact",
                               body={"email": "ana@example.com", "locale": "de-AT"}, key=key)
        assert st == 200, c
        st, c, _ = srv.request("PUT", "/v1/accounts/u_p/contact",
                               body={"email": "joao@example.com", "locale": "pt-BR"}, key=key)
        ev = event("e1", "password.changed", account="u_m",
                   context={"ip": "203.0.113.9", "user_agent": "Firefox/120"})
        st, body, _ = srv.request("POST", "/v1/events", body=ev, key=key)
        assert st == 200 and body["decision"]["alerts"] == ["alert.password_changed"], body
        srv.request("POST", "/v1/events", body=event("e2", "email.changed", account="u_p"), key=key)
        msgs = smtp.wait(2)
        assert len(msgs) == 2, len(msgs)
        by_to = {m["To"]: m for m in msgs}
        m = by_to["ana@example.com"]
        assert m["X-Envelope-From"] == "security@market.example"
        assert m["X-Envelope-To"] == "ana@example.com"
        assert m["From"].addresses[0].addr_spec == "security@market.example"
        assert m["From"].addresses[0].display_name == "Mercado Sur"
        assert m["Subject"] == "Ihr Passwort wurde geändert"
        assert m["Message-ID"].startswith("<msg_") and m["Date"]
        assert m.get_content_type() == "multipart/alternative"
        text = m.get_body(preferencelist=("plain",)).get_content()
        html = m.get_body(preferencelist=("html",)).get_content()
        assert "Das Passwort Ihres Kontos wurde soeben geändert." in text
        assert "203.0.113.9" in text
        link = [w for w in text.split() if "/v1/wasnt-me/" in w][0]
        assert link.startswith(f"http://127.0.0.1:{srv.port}/v1/wasnt-me/")
        assert f'<a href="{link}">' in html
        # the link in the email works
        st, page, _ = srv.request("GET", urllib.parse.urlparse(link).path)
        assert st == 200
        p = by_to["joao@example.com"]
        assert p["Subject"] == "Seu endereço de e-mail foi alterado"
        # the outbox shows them delivered
        want = {("email", "ana@example.com"), ("email", "joao@example.com")}
        deadline = time.time() + 5  # the server answers before the outcome is recorded
        while True:
            st, lst, _ = srv.request("GET", "/v1/notifications?state=delivered", key=key)
            got = {(i["channel"], i["destination"]) for i in lst["items"]}
            if got >= want or time.time() > deadline:
                break
            time.sleep(0.05)
        assert got >= want, got
    finally:
        srv.cleanup()
        smtp.close()


def test_email_to_a_down_server_is_retried():
    srv = Server(["--smtp-url=smtp://127.0.0.1:1", "--notify-max-attempts=2",
                  "--notify-backoff-base-ms=50"]).start()
    try:
        key = srv.key("admin")
        srv.request("PUT", "/v1/accounts/u_d/contact", body={"email": "d@example.com"}, key=key)
        srv.request("POST", "/v1/events", body=event("d1", "mfa.disabled", account="u_d"), key=key)
        deadline = time.time() + 10
        items = []
        while time.time() < deadline:
            st, lst, _ = srv.request("GET", "/v1/notifications?state=dead", key=key)
            items = lst["items"]
            if items:
                break
            time.sleep(0.1)
        assert items and items[0]["channel"] == "email" and items[0]["attempts"] == 2, items
        assert items[0]["last_error"]
    finally:
        srv.cleanup()


def test_sms_gateway():
    gw = HttpReceiver()
    srv = Server([f"--sms-gateway-url={gw.url}", "--sms-gateway-auth=Bearer gw-token-1",
                  "--sms-gateway-body={\"from\":\"Market\",\"to\":\"{to}\",\"message\":\"{text}\"}"]
                 ).start()
    try:
        key = srv.key("admin")
        srv.request("PUT", "/v1/accounts/u_s/contact",
                    body={"phone": "+34600111222", "locale": "es"}, key=key)
        # an urgent alert goes by SMS too; a minor one (shipping address) does not
        srv.request("POST", "/v1/events", body=event("s0", "shipping_address.added", account="u_s"),
                    key=key)
        st, body, _ = srv.request("POST", "/v1/events",
                                  body=event("s1", "phone.changed", account="u_s"), key=key)
        assert st == 200, body
        got = gw.wait(lambda r: r.accepted, timeout=5)
        assert got
        time.sleep(0.3)
        assert len(gw.accepted) == 1
        path, headers, raw, _ = gw.accepted[0]
        assert headers["authorization"] == "Bearer gw-token-1"
        assert headers["content-type"] == "application/json"
        sms = json.loads(raw)
        assert sms["from"] == "Market" and sms["to"] == "+34600111222"
        assert sms["message"].startswith(
            "accountguard: Se acaba de cambiar el número de teléfono de tu cuenta."), sms
        assert "/v1/wasnt-me/" in sms["message"]
    finally:
        srv.cleanup()
        gw.close()


if __name__ == "__main__":
    run([test_email_alerts_over_smtp, test_email_to_a_down_server_is_retried, test_sms_gateway])
