"""The audit log: who did what to which session or account, and when. Only ever appended to."""

from __future__ import annotations

from voice_trainer.trainer.library.interface import AuditEntry, Database, db_text, now_utc

MAX_FIELD_CHARS = 2000


class AuditLog:
    """`library.audit`: record(actor, action, target, detail) and read back the newest entries."""

    def __init__(self, db: Database):
        self.db = db
        self.sql = db.sql

    def record(self, actor: str, action: str, target: str, detail: str = "") -> AuditEntry:
        entry = AuditEntry(now_utc(), *(db_text(str(v))[:MAX_FIELD_CHARS] for v in (actor, action, target, detail)))
        with self.db.write() as tx:
            tx.run(self.sql.ADD_AUDIT, (entry.at, entry.actor, entry.action, entry.target, entry.detail))
        return entry

    def entries(self, limit: int = 100, actor: str | None = None, target: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        sql, params = self.sql.audit_entries(actor, target, max(1, int(limit)))
        with self.db.read() as tx:
            return [AuditEntry(_iso(r[0]), r[1], r[2], r[3], r[4]) for r in tx.rows(sql, params)]


def _iso(at) -> str:
    return at.isoformat(timespec="milliseconds") if hasattr(at, "isoformat") else str(at)
