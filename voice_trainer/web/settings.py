"""What the review site runs with, built once by the CLI (or a test) and passed down."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from voice_trainer.errors import UsageError

LOCAL = "local"
CENTRE = "centre"


@dataclass(frozen=True)
class ReviewSettings:
    """Local mode: one trainer on this machine, a key in the URL. Centre mode: accounts, roles, an audit log."""

    mode: str = LOCAL
    host: str = "127.0.0.1"
    port: int = 0
    # Centre mode: the names browsers reach the site by ("review.example.org", "10.0.0.5:8443"); empty: any.
    allowed_hosts: tuple[str, ...] = ()
    # Behind a reverse proxy: trust X-Forwarded-For/-Proto from these addresses (uvicorn's --proxy-headers).
    proxy_headers: bool = False
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    secure_cookies: bool | None = None  # None: Secure when the request came over https
    # Slow and half-open connections: a request's head (line and headers) and its body must arrive in time.
    request_head_timeout_s: float = 10.0
    request_body_timeout_s: float = 10.0
    keep_alive_s: int = 5
    max_connections: int = 100
    max_header_bytes: int = 16 * 1024
    max_form_bytes: int = 64 * 1024
    page_size: int = 50
    login_hours: float = 12.0  # a login lasts this long, then the person signs in again
    failed_logins_per_account: int = 5  # within failed_login_window_s, then the account waits
    failed_logins_per_address: int = 30
    failed_login_window_s: float = 900.0

    @property
    def centre(self) -> bool:
        return self.mode == CENTRE

    def checked(self) -> "ReviewSettings":
        """The settings, or UsageError naming the option that is wrong and what to give instead."""
        if self.mode not in (LOCAL, CENTRE):
            raise UsageError(f"review mode {self.mode!r}: use local or centre")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port {self.port}: a port is a number from 1 to 65535 (0: any free port)")
        if not self.centre and not is_loopback(self.host):
            raise UsageError(
                f"--host {self.host}: the review page only listens on this machine (127.0.0.1, ::1 or localhost); "
                "serving other machines needs centre mode with accounts (--centre, see docs/review.md)"
            )
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
