"""Who may use the page: loopback only or a token, Host and Origin checked, a CSRF token on every form."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket

from flask import abort, request, session

from detector.messages import both

TOKEN_COOKIE = "chachong_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class Guard:
    """The security rules of one server: its bind address, its token (None on loopback without --token)."""

    def __init__(self, host: str, port: int, token: str | None):
        self.host, self.port, self.token = host, port, token
        self.loopback = is_loopback(host)
        if not self.loopback and not token:
            raise ValueError(f"--host {host} is not a loopback address: a token is required (--token, or let serve generate one)")

    def check(self) -> None:
        """Run before every request: refuse wrong hosts, foreign origins, missing tokens and forged forms."""
        if self.loopback:
            self._check_host_header()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self._check_origin()
        if self.token and not self._authenticated():
            abort(401, description=both("web_token"))
        if request.method == "POST" and not request.path.startswith("/api/"):
            check_csrf()

    def _check_host_header(self) -> None:
        """A loopback server answers only to loopback names (a DNS-rebinding page names its own host)."""
        name = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").endswith("]") else request.host
        if name.lower() not in LOOPBACK_NAMES and name != self.host:
            abort(403, description=both("web_host", host=repr(request.host), address=f"{self.host}:{self.port}"))

    def _check_origin(self) -> None:
        """A browser posting from another site says so (Origin, Sec-Fetch-Site); tools that send neither pass."""
        origin = request.headers.get("Origin")
        if origin and origin != request.host_url.rstrip("/"):
            abort(403, description=both("web_cross_site", origin=origin))
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            abort(403, description=both("web_cross_site", origin="Sec-Fetch-Site: cross-site"))

    def _authenticated(self) -> bool:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = given or request.cookies.get(TOKEN_COOKIE, "") or request.args.get("token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to them (localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def csrf_token() -> str:
    """This browser session's CSRF token (made on first use, kept in the signed session cookie)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(24)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(400, description=both("web_csrf"))
