"""Stations publishing to one centre, as they run: `voice-trainer` processes, a real PostgreSQL, a shared folder.

20 stations at once; the database going away mid-call and coming back; a session killed mid-call published
once recovered; a trainer's laptop that never recorded anything listing, reporting, correcting and
exporting everyone's sessions.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.centre.conftest import Centre, Machine
from tests.fixtures.sessions import SHORT_CALL, record_session
from tests.trainer.test_library import add_recording
from voice_trainer.trainer.library.store import file_sha256
from voice_trainer.trainer.publish import PUBLISHED_FILE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "scripts" / "ru" / "good_understood.txt"
VT = Path(sys.executable).with_name("voice-trainer")


def practise(station: Machine, trainee: str, seed: int = 1) -> subprocess.CompletedProcess:
    return station.run("practice", "--text", "--script", str(SCRIPT), "--trainee", trainee, "--seed", str(seed),
                       "--mute", "--json")


def session_of(done: subprocess.CompletedProcess) -> Path:
    return Path(json.loads(done.stdout.strip().splitlines()[-1])["folder"])


def test_twenty_stations_publish_at_once_into_one_database_and_one_share(centre: Centre):
    stations = [centre.station(f"room1-pc{n:02d}") for n in range(20)]
    # Each station also has an earlier call with a recording that never reached the centre (its backlog).
    earlier = {}
    for n, station in enumerate(stations):
        folder = record_session(station.data_dir, SHORT_CALL, seed=n + 1, trainee=f"trainee{n:02d}")
        earlier[station.name] = (folder, file_sha256(add_recording(folder, seconds=2.0)))

    with ThreadPoolExecutor(max_workers=20) as pool:  # 20 separate processes, started together
        runs = list(pool.map(lambda sn: practise(sn[1], f"trainee{sn[0]:02d}", seed=sn[0] + 1), enumerate(stations)))

    for station, done in zip(stations, runs):
        assert done.returncode == 0, (station.name, done.stderr)
        assert "Traceback" not in done.stderr and "not published" not in done.stderr, done.stderr
    with centre.library() as library:
        rows = library.list()
        assert len(rows) == 40 and len({r.session_id for r in rows}) == 40
        assert {r.station for r in rows} == {s.name for s in stations}
        for station in stations:
            folder, sha = earlier[station.name]
            row = library.get(folder.name)
            assert row.recording_sha256 == sha and row.station == station.name
            stored = centre.share / "recordings" / row.recording_name
            assert file_sha256(stored) == sha and stored.stat().st_size == row.recording_bytes
            assert library.recording(row) == stored
    assert not list(centre.share.rglob("*.tmp")), "a copy was left half-done"
    for station in stations:  # everything marked published on the station, nothing left to push
        assert all((f / PUBLISHED_FILE).is_file() for f in (station.data_dir / "sessions").iterdir())
        assert station.ok("sessions", "sync").stdout.startswith("published 0 sessions")


def test_the_database_going_down_mid_call_loses_nothing_and_sync_publishes_it_later(
        centre_with_own_server, tmp_path):
    centre, server = centre_with_own_server
    station = centre.station("room2-pc07")
    station.ok("sessions", "list")  # the station has met the centre before (its schema is in place)
    call = subprocess.Popen([str(VT), "practice", "--text", "--trainee", "anna", "--seed", "1", "--mute", "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=station.env, cwd=tmp_path)
    try:
        replies = SCRIPT.read_text(encoding="utf-8").splitlines()
        call.stdin.write(replies[0] + "\n")
        call.stdin.flush()
        _read_until(call.stdout, "Клиент")  # the customer answered: the call is under way
        server.stop()  # the centre goes away in the middle of the call
        for reply in replies[1:]:
            call.stdin.write(reply + "\n")
        call.stdin.close()
        out, err = call.stdout.read(), call.stderr.read()
        call.wait(300)
    finally:
        if call.poll() is None:
            call.kill()
    assert call.returncode == 0, err
    assert "Traceback" not in err
    result = json.loads(out.strip().splitlines()[-1])
    folder = Path(result["folder"])
    assert result["outcome"] == "understood"  # the call itself went on as usual
    said = [line for line in err.splitlines() if "not published" in line]
    assert len(said) == 1 and folder.name in said[0] and "sessions sync" in said[0]
    assert (folder / "result.json").is_file() and not (folder / PUBLISHED_FILE).exists()

    done = station.run("sessions", "sync")  # still down: one line, non-zero, nothing lost
    assert done.returncode != 0 and "cannot be reached" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    server.start()  # back
    assert station.ok("sessions", "sync").stdout.startswith("published 1 sessions")
    listed = centre.trainer().ok("sessions", "list", "--json").stdout
    assert [s["session_id"] for s in json.loads(listed)] == [folder.name]
    assert station.ok("sessions", "sync").stdout.startswith("published 0 sessions")  # once, however often


def test_a_call_killed_mid_way_is_published_as_interrupted_at_the_next_start(centre: Centre, tmp_path):
    station = centre.station("room3-pc01")
    call = subprocess.Popen([str(VT), "practice", "--text", "--trainee", "boris", "--seed", "2", "--mute"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=station.env, cwd=tmp_path)
    call.stdin.write(SHORT_CALL[0] + "\n")
    call.stdin.flush()
    _read_until(call.stdout, "Клиент")
    os.kill(call.pid, signal.SIGKILL)  # power cut: no result, nothing published
    call.wait(60)
    [folder] = list((station.data_dir / "sessions").iterdir())
    assert not (folder / "result.json").exists()
    with centre.library() as library:
        assert library.count() == 0

    done = station.ok("sessions", "list")  # the next start recovers it and publishes it
    assert "recovered interrupted session" in done.stderr
    assert folder.name in done.stdout and "interrupted" in done.stdout
    with centre.library() as library:
        row = library.get(folder.name)
        assert row.interrupted and row.score is not None and row.station == "room3-pc01"


def test_a_trainers_laptop_lists_reports_corrects_and_exports_everyones_sessions(centre: Centre, ko_model_path,
                                                                              espeak_wav, tmp_path):
    anna, boris = centre.station("room1-pc01"), centre.station("room1-pc02")
    practise(anna, "anna")
    # a call spoken into the station (replayed turns): its recording goes to the share
    turn = espeak_wav("안녕하세요 고객님 인터넷 연결이 끊어졌습니다", pad_ms=500)
    voiced = boris.run("practice", "--replies", str(turn), "--model", str(ko_model_path), "--trainee", "boris",
                       "--seed", "3", "--mute", "--json")
    assert voiced.returncode == 0, voiced.stderr
    boris_folder = session_of(voiced)
    local_sha = file_sha256(boris_folder / "recording.wav")

    trainer = centre.trainer()
    assert not trainer.data_dir.exists()  # never recorded anything
    listed = json.loads(trainer.ok("sessions", "list", "--json").stdout)
    assert {s["trainee"] for s in listed} == {"anna", "boris"}
    by_trainee = {s["trainee"]: s for s in listed}
    assert by_trainee["boris"]["recording_sha256"] == local_sha and by_trainee["boris"]["station"] == "room1-pc02"

    report = tmp_path / "boris.html"
    trainer.ok("report", boris_folder.name, "-o", str(report))
    html = report.read_text(encoding="utf-8")
    audio = re.search(r'<audio id="player"[^>]* src="data:audio/(ogg|flac);base64,([^"]+)"', html)
    assert audio and len(base64.b64decode(audio.group(2))) > 1000  # the recording, fetched from the share
    assert oct(report.stat().st_mode & 0o777) == "0o600"
    default = trainer.ok("report", boris_folder.name).stdout.strip()
    assert Path(trainer.data_dir.parent, default).is_file()  # no folder here: <id>.report.html in the current dir

    anna_id = by_trainee["anna"]["session_id"]
    fixed = trainer.ok("sessions", "fix", anna_id, "1", "здравствуйте").stdout
    assert "score:" in fixed
    with centre.library() as library:
        assert library.get(anna_id).score == int(re.search(r"score: \d+ -> (\d+)", fixed).group(1))
        actions = [(e.action, e.target) for e in library.audit.entries()]
    assert ("fix turn", anna_id) in actions and ("view recording", boris_folder.name) in actions

    assert "anna: 1 scored sessions" in trainer.ok("progress", "--trainee", "anna").stdout
    rows = json.loads(trainer.ok("sessions", "export", "--format", "json").stdout)
    assert {r["trainee"] for r in rows} == {"anna", "boris"}
    trainer.ok("sessions", "delete", boris_folder.name, "--yes")
    assert not (centre.share / "recordings" / by_trainee["boris"]["recording_name"]).exists()
    assert boris.ok("sessions", "sync").stdout.startswith("published 0 sessions")  # deleted stays deleted


def test_a_recording_changed_on_the_share_is_refused_not_embedded(centre: Centre, tmp_path):
    station = centre.station("room1-pc03")
    folder = record_session(station.data_dir, SHORT_CALL, seed=1)
    add_recording(folder)
    station.ok("sessions", "sync")
    with centre.library() as library:
        row = library.get(folder.name)
    stored = centre.share / "recordings" / row.recording_name
    data = bytearray(stored.read_bytes())
    data[-10] ^= 0xFF
    stored.write_bytes(bytes(data))
    done = centre.trainer().run("report", folder.name, "-o", str(tmp_path / "r.html"))
    assert done.returncode != 0 and "does not match its checksum" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


def _read_until(stream, marker: str) -> str:
    seen = []
    for line in stream:
        seen.append(line)
        if marker in line:
            return line
    raise AssertionError(f"{marker!r} never came: {''.join(seen)}")


@pytest.fixture
def centre_with_own_server(tmp_path):
    """A centre on a PostgreSQL of its own, which the test may stop and start."""
    import shutil
    import tempfile

    from tests.fixtures.postgres import PostgresServer

    root = Path(tempfile.mkdtemp(prefix="vt-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    server = PostgresServer(root)
    server.init()
    server.start()
    share = tmp_path / "share"
    share.mkdir()
    try:
        yield Centre(server.create_database(), share, tmp_path), server
    finally:
        try:
            server.stop()
        except RuntimeError:
            pass
        shutil.rmtree(root, ignore_errors=True)
