"""Helpers for the console's black-box tests: console users made with the
CLI, TOTP codes computed here (RFC 6238 with the standard library), and a
small cookie-keeping client that signs in and sends the CSRF header."""

import base64
import hashlib
import hmac
import struct
import time
import urllib.parse

import agtest

# Cheap Argon2id for tests (the cost is a setting; verification reads it
# from the stored hash).
FAST = ["--password_hash_ops=1", "--password_hash_mem_kib=8192"]
PASSWORD = "correct horse battery staple 42"


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{code:06d}"


def create_user(server, name, role, password=PASSWORD):
    env = dict(__import__("os").environ, AG_CONSOLE_PASSWORD=password)
    p = agtest.cli("console-user", "create", "--name", name, "--role", role, *FAST,
                   data_dir=server.data_dir, env=env)
    uri = p.stdout.strip()
    assert uri.startswith("otpauth://totp/"), uri
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    return User(name, password, q["secret"][0])


class User:
    def __init__(self, name, password, secret):
        self.name, self.password, self.secret = name, password, secret
        self.last_step = -1

    def next_code(self):
        """A code the server will accept: a step after the last one used,
        within one step of now (waits when both are used up)."""
        while True:
            now = int(time.time()) // 30
            step = max(now - 1, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return totp(self.secret, step)
            time.sleep(1)


class Client:
    """Keeps the session cookie and the CSRF token like the console page."""

    def __init__(self, server):
        self.server = server
        self.cookie = None
        self.csrf = None

    def login(self, user, code=None, password=None):
        st, body, r = self.server.request("POST", "/console/api/login", body={
            "name": user.name, "password": password or user.password,
            "code": code or user.next_code()})
        self.login_name = user.name
        if st == 200:
            self.cookie = set_cookie(r)["value"]
            self.csrf = body["csrf_token"]
        return st, body, r

    def request(self, method, path, body=None, csrf=True, headers=None, raw=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "ag_console=" + self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        return self.server.request(method, path, body=body, headers=h, raw=raw)


def set_cookie(r):
    """The ag_console Set-Cookie header of response <r>: value and attributes."""
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith("ag_console="):
            parts = [p.strip() for p in v.split(";")]
            attrs = {}
            for p in parts[1:]:
                n, _, val = p.partition("=")
                attrs[n.lower()] = val
            return {"value": parts[0].split("=", 1)[1], "attrs": attrs}
    raise AssertionError("no ag_console cookie set")
