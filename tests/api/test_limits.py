"""Rate limits per API key and per client IP, and connection limits."""
import socket
import time

from agtest import Server, event, run


def test_rate_limit_per_key():
    # 5 requests/s with a burst of 5: of 40 back-to-back requests most are
    # refused, however slow the machine (at most a few seconds' refills pass).
    srv = Server(["--rate-per-key=5"]).start()
    try:
        k1, k2 = srv.key("events:write"), srv.key("events:write")
        results = [srv.request("POST", "/v1/events", key=k1, body=event(f"rl-{i}")) for i in range(40)]
        codes = [r[0] for r in results]
        assert codes.count(200) >= 5 and codes.count(429) >= 20, codes
        refused = [r for r in results if r[0] == 429][0]
        assert refused[1]["error"]["code"] == "rate_limited" and refused[2].getheader("Retry-After")
        # Another key is not affected, and the limited key recovers.
        assert srv.request("POST", "/v1/events", key=k2, body=event("rl-k2"))[0] == 200
        time.sleep(1.2)
        assert srv.request("POST", "/v1/events", key=k1, body=event("rl-later"))[0] == 200
    finally:
        srv.cleanup()


def test_rate_limit_per_ip():
    srv = Server(["--rate-per-ip=10"]).start()
    try:
        k = srv.key("events:read")
        codes = [srv.request("GET", "/v1/event-types", key=k)[0] for _ in range(40)]
        assert 429 in codes and codes.count(200) >= 8, codes
    finally:
        srv.cleanup()


def test_idle_and_slow_connections_time_out():
    srv = Server(["--connection-timeout-s=1", "--max-connections=8"]).start()
    try:
        socks = []
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\n")  # never finishes
            socks.append(s)
        time.sleep(2.5)
        for s in socks:
            s.settimeout(2)
            try:
                data = s.recv(100)
            except OSError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1"), data
            s.close()
        k = srv.key("events:read")
        assert srv.request("GET", "/v1/event-types", key=k)[0] == 200
    finally:
        srv.cleanup()


if __name__ == "__main__":
    run([test_rate_limit_per_key, test_rate_limit_per_ip, test_idle_and_slow_connections_time_out])
