"""Retention (`sessions purge`) and accounts (`users ...`), on this machine and at a centre, as a user runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.centre.conftest import Centre, Machine
from tests.faults.cli_run import assert_one_line_error, clean_env
from tests.fixtures.sessions import SHORT_CALL, record_session
from tests.trainer.test_library import add_recording
from voice_trainer.trainer.library import INDEX_FILE

OLD = "2020-02-03T10:00:00+03:00"


@pytest.fixture(params=["here", "centre"])
def machine(request, tmp_path) -> Machine:
    """A station of a centre, or a machine on its own."""
    if request.param == "centre":
        centre: Centre = request.getfixturevalue("centre")
        return centre.station("room1-pc01")
    (tmp_path / "alone").mkdir()
    data_dir = tmp_path / "alone" / "data"
    env = clean_env(data_dir)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "alone" / "config")
    return Machine("alone", data_dir, env)


def test_purge_deletes_old_rows_and_recordings_together_and_keeps_the_rest(machine, tmp_path):
    old = [record_session(machine.data_dir, SHORT_CALL, seed=n, started_at=OLD) for n in (1, 2)]
    new = record_session(machine.data_dir, SHORT_CALL, seed=3)
    for folder in (*old, new):
        add_recording(folder)
    before = {s["session_id"]: s for s in json.loads(machine.ok("sessions", "list", "--json").stdout)}
    assert len(before) == 3

    message = assert_one_line_error(machine.run("sessions", "purge", "--older-than", "90d"))
    assert "needs confirmation; add --yes" in message
    assert "give an age like 90d" in assert_one_line_error(machine.run("sessions", "purge", "--older-than", "soon"), 2)

    done = machine.ok("sessions", "purge", "--older-than", "90d", "--yes")
    assert done.stdout.startswith("purged 2 sessions started before")
    after = json.loads(machine.ok("sessions", "list", "--json").stdout)
    assert [s["session_id"] for s in after] == [new.name]
    for folder in old:
        assert not folder.exists()  # this machine's copy (published, at a centre) goes too
        row = before[folder.name]
        if "VOICE_TRAINER_RECORDINGS" in machine.env:
            share = Path(machine.env["VOICE_TRAINER_RECORDINGS"])
            assert row["recording_name"] and not (share / "recordings" / row["recording_name"]).exists()
    assert new.is_dir() and (new / "recording.wav").is_file()
    assert machine.ok("sessions", "purge", "--older-than", "90d", "--yes").stdout.startswith("no sessions")


def test_purge_at_a_centre_keeps_a_station_copy_that_never_reached_it(centre: Centre, tmp_path):
    station = centre.station("room1-pc02")
    station.env["VOICE_TRAINER_RECORDINGS"] = str(tmp_path / "share-not-mounted")
    folder = record_session(station.data_dir, SHORT_CALL, seed=1, started_at=OLD)
    add_recording(folder)
    done = station.ok("sessions", "purge", "--older-than", "30d", "--yes")
    assert "is the share mounted" in done.stderr  # its recording could not be copied: not published
    assert "kept " + folder.name in done.stderr and "not published yet" in done.stderr
    assert folder.is_dir() and (folder / "recording.wav").is_file()


def test_users_are_added_listed_changed_and_removed_and_every_change_is_audited(machine):
    done = machine.ok("users", "add", "olga", "--role", "trainer", "--password-stdin", stdin="correct horse\n")
    assert done.stdout.strip() == "added trainer olga"
    machine.ok("users", "add", "anna", "--role", "trainee", "--password-stdin", stdin="anna's secret\n")
    assert machine.ok("users", "list").stdout.splitlines() == ["anna\ttrainee", "olga\ttrainer"]
    assert json.loads(machine.ok("users", "list", "--json").stdout)[1] == {"name": "olga", "role": "trainer"}

    assert "already exists" in assert_one_line_error(
        machine.run("users", "add", "olga", "--role", "trainer", "--password-stdin", stdin="another one\n"))
    assert "trainer or trainee" in assert_one_line_error(
        machine.run("users", "add", "ivan", "--role", "admin", "--password-stdin", stdin="whatever12\n"), 2)
    assert "too short" in assert_one_line_error(
        machine.run("users", "add", "ivan", "--role", "trainer", "--password-stdin", stdin="short\n"), 2)
    assert "--password-stdin" in assert_one_line_error(machine.run("users", "add", "ivan", "--role", "trainer"), 2)
    assert "no password on stdin" in assert_one_line_error(
        machine.run("users", "add", "ivan", "--role", "trainer", "--password-stdin", stdin=""), 2)
    assert "control characters" in assert_one_line_error(
        machine.run("users", "add", "iv\x1b[2Jan", "--role", "trainer", "--password-stdin", stdin="whatever12\n"), 2)

    machine.ok("users", "passwd", "anna", "--password-stdin", stdin="a new password\n")
    assert "no account 'zoe'" in assert_one_line_error(
        machine.run("users", "passwd", "zoe", "--password-stdin", stdin="whatever12\n"), 2)
    assert machine.ok("users", "remove", "anna").stdout.strip() == "removed trainee anna"
    assert machine.ok("users", "list").stdout.splitlines() == ["olga\ttrainer"]

    library = _library_of(machine)
    try:
        assert library.accounts.verify("olga", "correct horse") is not None
        entries = [(e.action, e.target) for e in library.audit.entries()]
        assert entries[:4] == [("remove account", "anna"), ("change password", "anna"), ("add account", "anna"),
                               ("add account", "olga")]
        with library.db.read() as tx:
            hashes = [r[0] for r in tx.rows("SELECT password_hash FROM accounts")]
    finally:
        library.close()
    assert all(h.startswith("scrypt$") and "correct horse" not in h for h in hashes)


def _library_of(machine: Machine):
    if "VOICE_TRAINER_DATABASE" in machine.env:
        from voice_trainer.trainer.library.centre import CentreLibrary

        return CentreLibrary(machine.env["VOICE_TRAINER_DATABASE"], machine.env["VOICE_TRAINER_RECORDINGS"])
    from voice_trainer.trainer.library import LocalLibrary

    assert sqlite3.connect(machine.data_dir / INDEX_FILE).execute("SELECT count(*) FROM accounts").fetchone()
    return LocalLibrary(machine.data_dir)
