"""Accounts of the review site and the centre: a name, a role (trainer or trainee) and a password hash."""

from __future__ import annotations

from voice_trainer.errors import UsageError
from voice_trainer.trainer.library.interface import Account, Database, now_utc
from voice_trainer.trainer.library.passwords import MAX_PASSWORD_BYTES, burn_time, check_password, hash_password

ROLES = ("trainer", "trainee")
MIN_PASSWORD_CHARS = 8
MAX_NAME_CHARS = 64


class Accounts:
    """`library.accounts`: add, change, remove, list and verify accounts."""

    def __init__(self, db: Database):
        self.db = db
        self.sql = db.sql

    def add(self, name: str, role: str, password: str) -> Account:
        name = check_name(name)
        role = check_role(role)
        stored = hash_password(check_password_text(password))
        now = now_utc()
        with self.db.write() as tx:
            if tx.one(self.sql.GET_ACCOUNT, (name,)) is not None:
                raise UsageError(f"account {name!r} already exists; change its password with 'voice-trainer users passwd'")
            tx.run(self.sql.ADD_ACCOUNT, (name, role, stored, now, now))
        return Account(name, role)

    def set_password(self, name: str, password: str) -> None:
        stored = hash_password(check_password_text(password))
        with self.db.write() as tx:
            if tx.run(self.sql.SET_PASSWORD, (stored, now_utc(), name)) != 1:
                raise UsageError(f"no account {name!r}; see 'voice-trainer users list'")

    def remove(self, name: str) -> Account:
        with self.db.write() as tx:
            row = tx.one(self.sql.GET_ACCOUNT, (name,))
            if row is None:
                raise UsageError(f"no account {name!r}; see 'voice-trainer users list'")
            tx.run(self.sql.REMOVE_ACCOUNT, (name,))
        return Account(row[0], row[1])

    def get(self, name: str) -> Account | None:
        with self.db.read() as tx:
            row = tx.one(self.sql.GET_ACCOUNT, (name,))
        return None if row is None else Account(row[0], row[1])

    def list(self) -> list[Account]:
        with self.db.read() as tx:
            return [Account(r[0], r[1]) for r in tx.rows(self.sql.LIST_ACCOUNTS)]

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the password is its own, else None (no faster for an unknown name)."""
        if not isinstance(password, str) or len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            burn_time()
            return None
        with self.db.read() as tx:
            row = tx.one(self.sql.GET_ACCOUNT, (name,)) if isinstance(name, str) and len(name) <= MAX_NAME_CHARS else None
        if row is None:
            burn_time()
            return None
        return Account(row[0], row[1]) if check_password(password, row[2]) else None


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UsageError("an account needs a name; give one, e.g. 'anna'")
    if len(name) > MAX_NAME_CHARS:
        raise UsageError(f"account name too long ({len(name)} characters); keep it to {MAX_NAME_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 or c in "/\\" for c in name):
        raise UsageError("an account name cannot hold control characters or slashes; use letters, digits, '.', '-'")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"role {role!r}: use trainer or trainee")
    return role


def check_password_text(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsageError(f"the password is too short; use at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UsageError(f"the password is too long; keep it under {MAX_PASSWORD_BYTES} bytes")
    if "\n" in password or "\r" in password:
        raise UsageError("the password cannot hold a line break")
    return password
