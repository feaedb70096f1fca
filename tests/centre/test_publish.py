"""Publishing, case by case: idempotent under races and retries, never blocking a call, atomic on the share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.centre.conftest import Centre
from tests.fixtures.sessions import SHORT_CALL, record_session
from tests.trainer.test_library import add_recording
from voice_trainer.session_folder import EVENTS_FILE
from voice_trainer.trainer.library.store import RecordingError, RecordingStore, file_sha256
from voice_trainer.trainer.publish import PUBLISHED_FILE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "scripts" / "ru" / "good_understood.txt"
VT = Path(sys.executable).with_name("voice-trainer")


def test_two_syncs_at_once_publish_each_session_exactly_once(centre: Centre):
    station = centre.station("room4-pc01")
    folders = [record_session(station.data_dir, SHORT_CALL, seed=n, trainee=f"t{n}") for n in range(8)]
    for folder in folders[:4]:
        add_recording(folder)
    syncs = [subprocess.Popen([str(VT), "sessions", "sync"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=station.env) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in syncs]
    assert [p.returncode for p in syncs] == [0, 0, 0], outs
    assert all("Traceback" not in err for _, err in outs)
    with centre.library() as library:
        rows = library.list()
    assert sorted(r.session_id for r in rows) == sorted(f.name for f in folders)
    assert all((f / PUBLISHED_FILE).is_file() for f in folders)
    stored = sorted((centre.share / "recordings").rglob("*.wav"))
    assert len(stored) == 4 and not list(centre.share.rglob("*.tmp"))


def test_a_share_that_is_not_there_does_not_stop_the_call_and_sync_catches_up(centre: Centre, tmp_path):
    share = tmp_path / "share-later"
    station = centre.station("room4-pc02")
    station.env["VOICE_TRAINER_RECORDINGS"] = str(share)
    station.ok("sessions", "list")  # meets the centre once
    earlier = record_session(station.data_dir, SHORT_CALL, seed=1)
    sha = file_sha256(add_recording(earlier))

    done = station.run("practice", "--text", "--script", str(SCRIPT), "--trainee", "anna", "--seed", "1",
                       "--mute", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    complaints = [line for line in done.stderr.splitlines() if "published" in line]
    assert len(complaints) == 1 and "is the share mounted" in complaints[0] and "sessions sync" in complaints[0]
    with centre.library() as library:  # the text call has no recording: it went through
        assert [r.session_id for r in library.list()] == [json.loads(done.stdout.splitlines()[-1])["session_id"]]

    share.mkdir()
    assert station.ok("sessions", "sync").stdout.startswith("published 1 sessions")
    with centre.library() as library:
        row = library.get(earlier.name)
        assert row.recording_sha256 == sha
    assert file_sha256(share / "recordings" / row.recording_name) == sha


def test_a_station_configured_by_its_settings_file_publishes(centre: Centre):
    station = centre.station("room4-pc03")
    config = Path(station.env["XDG_CONFIG_HOME"]) / "voice-trainer" / "voice-trainer.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'database = "{centre.url}"\nrecordings = "{centre.share}"\nstation = "from-the-file"\n',
                      encoding="utf-8")
    for name in ("VOICE_TRAINER_DATABASE", "VOICE_TRAINER_RECORDINGS", "VOICE_TRAINER_STATION"):
        station.env.pop(name)
    done = station.ok("practice", "--text", "--script", str(SCRIPT), "--trainee", "anna", "--seed", "1", "--mute",
                      "--json")
    with centre.library() as library:
        [row] = library.list()
    assert row.session_id == json.loads(done.stdout.splitlines()[-1])["session_id"] and row.station == "from-the-file"


def test_a_damaged_session_is_published_and_listed_as_damaged_at_the_centre(centre: Centre):
    station = centre.station("room4-pc04")
    folder = record_session(station.data_dir, SHORT_CALL, seed=1)
    lines = (folder / EVENTS_FILE).read_bytes().split(b"\n")
    lines.insert(2, b"\x00\xff garbage")
    (folder / EVENTS_FILE).write_bytes(b"\n".join(lines))
    station.ok("sessions", "sync")
    listed = centre.trainer().ok("sessions", "list").stdout
    assert folder.name in listed and "damaged (1 damaged line skipped" in listed


# --- the store -------------------------------------------------------------------------------------------


class _DropsMidway:
    """A source file whose read fails half-way, as a network share does when the cable is pulled."""

    def __init__(self, path: Path):
        self.data = path.read_bytes()
        self.given = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n: int) -> bytes:
        if self.given >= len(self.data) // 2:
            raise OSError(5, "Input/output error")
        piece = self.data[self.given:self.given + min(n, 4096)]
        self.given += len(piece)
        return piece


def test_a_copy_cut_off_midway_leaves_nothing_half_written(tmp_path, monkeypatch):
    source = tmp_path / "recording.wav"
    source.write_bytes(os.urandom(3 << 20))
    store = RecordingStore(tmp_path / "share")
    import builtins

    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: _DropsMidway(source) if Path(p) == source
                        else real_open(p, *a, **k))
    with pytest.raises(OSError):
        store.put(source, "20240531-101500-anna-3f9c1a", "2024-05-31T07:15:00.000+00:00")
    monkeypatch.undo()
    assert not [p for p in (tmp_path / "share").rglob("*") if p.is_file()]  # neither the file nor a temp
    stored = store.put(source, "20240531-101500-anna-3f9c1a", "2024-05-31T07:15:00.000+00:00")
    again = store.put(source, "20240531-101500-anna-3f9c1a", "2024-05-31T07:15:00.000+00:00")
    assert stored == again and stored.name == "2024/05/20240531-101500-anna-3f9c1a.wav"
    assert store.verified(stored.name, stored.sha256).read_bytes() == source.read_bytes()
    assert [p.name for p in (tmp_path / "share").rglob("*") if p.is_file()] == ["20240531-101500-anna-3f9c1a.wav"]


def test_the_store_checks_names_and_checksums_and_sweeps_stale_copies(tmp_path):
    store = RecordingStore(tmp_path / "share")
    source = tmp_path / "r.wav"
    source.write_bytes(b"RIFF" + os.urandom(1000))
    stored = store.put(source, "s1", "2024-05-31T07:15:00.000+00:00")
    for name in ("../../etc/passwd", "2024/05/../../x.wav", "/etc/passwd", "2024/05", "2024/05/a/b.wav"):
        with pytest.raises(RecordingError, match="not a recording name"):
            store.verified(name, stored.sha256)
    with pytest.raises(RecordingError, match="does not match its checksum"):
        store.verified(stored.name, "0" * 64)
    with pytest.raises(RecordingError, match="missing from the store"):
        store.verified("2024/05/other.wav", stored.sha256)
    stale = store.recordings_dir / "2024" / "05" / ".s2.wav.123.abcd.tmp"
    stale.write_bytes(b"half")
    fresh = store.recordings_dir / "2024" / "05" / ".s3.wav.124.abcd.tmp"
    fresh.write_bytes(b"being written")
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    assert store.sweep() == 1 and not stale.exists() and fresh.exists()
