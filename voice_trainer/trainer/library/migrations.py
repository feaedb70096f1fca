"""Numbered schema changes, applied at start in one transaction, recorded in a schema version table.

Each backend lists its own migrations (its SQL) as `MIGRATIONS`; this runs them. A database set up by a
newer voice-trainer than this one is refused: reading a schema we do not know could lose data.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_trainer.trainer.library.interface import Database, SchemaTooNew, now_utc


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def migrate(db: Database, migrations: tuple[Migration, ...]) -> int:
    """Bring the schema up to the newest migration; the version now in force."""
    latest = max(m.version for m in migrations)
    with db.write() as tx:
        tx.run(db.sql.LOCK_SCHEMA)  # several stations starting at once: one migrates, the others wait
        tx.run(db.sql.CREATE_VERSION_TABLE)
        current = tx.one(db.sql.SCHEMA_VERSION)[0] or 0
        if current > latest:
            raise SchemaTooNew(
                f"{db.location}: the library has schema version {current}, this voice-trainer knows up to "
                f"{latest}; upgrade voice-trainer on this machine (nothing was changed)"
            )
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version <= current:
                continue
            for statement in migration.statements:
                tx.run(statement)
            tx.run(db.sql.RECORD_VERSION, (migration.version, migration.description, now_utc()))
    return max(current, latest)


def schema_version(db: Database) -> int:
    with db.read() as tx:
        return tx.one(db.sql.SCHEMA_VERSION)[0] or 0
