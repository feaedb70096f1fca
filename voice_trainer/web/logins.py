"""Centre-mode sign-in: who is logged in (kept in memory, so logging out really ends a login), the signed
cookie that names a login, the CSRF token bound to it, and the throttle on failed logins.

A login lives in this process only: restarting the review site signs everyone out, which is the safe
direction. The cookie carries a random login id and its HMAC under a per-process secret, so a forged or
guessed cookie is refused before any lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

Clock = Callable[[], float]


def sign(secret: bytes, value: str) -> str:
    mac = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(mac).decode('ascii').rstrip('=')}"


def unsign(secret: bytes, signed: str) -> str | None:
    """The value if the signature is ours, else None."""
    value, dot, _ = signed.rpartition(".")
    if not dot or not value:
        return None
    return value if hmac.compare_digest(sign(secret, value), signed) else None


def derive(secret: bytes, purpose: str, value: str) -> str:
    """A token tied to one value for one purpose (e.g. the CSRF token of one login)."""
    mac = hmac.new(secret, f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Login:
    id: str
    name: str
    role: str
    csrf: str
    expires_at: float  # on the book's clock


class LoginBook:
    """The logins of this review site. Thread-safe: handlers run in a thread pool."""

    def __init__(self, secret: bytes, hours: float, clock: Clock = time.monotonic):
        self._secret = secret
        self._lifetime_s = hours * 3600
        self._clock = clock
        self._logins: dict[str, Login] = {}
        self._lock = threading.Lock()

    def start(self, name: str, role: str) -> tuple[str, Login]:
        """A new login (a new id every time: a login id seen before signing in is worthless). Returns the cookie."""
        login_id = secrets.token_urlsafe(32)
        login = Login(login_id, name, role, derive(self._secret, "csrf", login_id), self._clock() + self._lifetime_s)
        with self._lock:
            self._expire()
            self._logins[login_id] = login
        return sign(self._secret, login_id), login

    def find(self, cookie: str) -> Login | None:
        login_id = unsign(self._secret, cookie)
        if login_id is None:
            return None
        with self._lock:
            login = self._logins.get(login_id)
            if login is not None and login.expires_at <= self._clock():
                del self._logins[login_id]
                return None
            return login

    def end(self, login_id: str) -> None:
        with self._lock:
            self._logins.pop(login_id, None)

    def end_all(self, name: str) -> int:
        """Sign an account out everywhere (it was removed or its role changed)."""
        with self._lock:
            gone = [k for k, v in self._logins.items() if v.name == name]
            for k in gone:
                del self._logins[k]
        return len(gone)

    def __len__(self) -> int:
        with self._lock:
            return len(self._logins)

    def _expire(self) -> None:
        now = self._clock()
        for k in [k for k, v in self._logins.items() if v.expires_at <= now]:
            del self._logins[k]


class LoginThrottle:
    """Failed logins counted per account and per client address over a sliding window.

    Past the limit the login form answers 429 without checking the password, so guessing costs the
    attacker time and costs the server no password hashing."""

    def __init__(self, per_account: int, per_address: int, window_s: float, clock: Clock = time.monotonic):
        self._limits = {"account": per_account, "address": per_address}
        self._window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        return [("account", name.casefold()), ("address", address)]

    def wait_s(self, name: str, address: str) -> float:
        """0 if a login may be tried now, else the seconds until it may."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(name, address):
                times = self._recent(key, now)
                if len(times) >= self._limits[key[0]]:
                    wait = max(wait, times[0] + self._window_s - now)
        return wait

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10_000:  # a flood of made-up names must not grow memory without end
                self._forget_idle(now)
            for key in self._keys(name, address):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("account", name.casefold()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._window_s:
            times.popleft()
        return times

    def _forget_idle(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
