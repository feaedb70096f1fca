"""Password hashes: scrypt from the standard library, a fresh salt per password, constant-time checks.

Stored as `scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64), so the cost can be raised later and old hashes
still verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# ~16 MiB and ~50 ms per check here: slow for a guesser, unnoticed at a login.
N, R, P = 2**14, 8, 1
KEY_BYTES = 32
MAX_PASSWORD_BYTES = 1024  # a megabyte "password" would only cost us time


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, N, R, P)
    return "$".join(("scrypt", str(N), str(R), str(P), _b64(salt), _b64(key)))


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(key)
        found = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def burn_time() -> None:
    """As long as a real check: an unknown name answers no faster than a wrong password."""
    _scrypt("-", b"\0" * 16, N, R, P)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
