"""A spoken session killed with SIGKILL mid-call: the next start (any command) repairs its recording,
scores what was said and marks it interrupted; the library lists it and a report opens."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
import soundfile

from tests.practice.test_voice_practice import cli, events, of_type, session_folder, wait_for


@pytest.mark.audio
def test_a_killed_call_is_recovered_by_the_next_command(headset, tmp_path):
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [cli(), "practice", "--text", "--speak", "--data-dir", str(data_dir), "--seed", "2", "--trainee", "olga"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=headset.env,
    )
    proc.stdin.write("здравствуйте извините за разрывы у нас растаял снег и затопило узлы\n")
    proc.stdin.flush()
    folder = session_folder(data_dir, proc)
    wait_for(folder, proc, lambda log: of_type(log, "customer_line", 1), "the reply to the first turn")
    time.sleep(1.0)  # he is in the middle of saying it
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (folder / "result.json").exists()
    before = events(folder)
    assert of_type(before, "trainee_turn", 1)

    listed = subprocess.run([cli(), "sessions", "list", "--json", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, timeout=120, env=headset.env)
    assert listed.returncode == 0, listed.stderr
    assert "recovered interrupted session" in listed.stderr and "Traceback" not in listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["interrupted"] is True and rows[0]["trainee"] == "olga"

    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert result["interrupted"] is True and result["turns"][0]["trainee"].startswith("здравствуйте")
    info = soundfile.info(str(folder / "recording.wav"))  # playable up to the kill
    assert info.channels == 2 and info.duration > 2.0
    sox = subprocess.run(["sox", "--i", "-D", str(folder / "recording.wav")], capture_output=True, text=True)
    assert sox.returncode == 0 and float(sox.stdout) > 2.0

    report = subprocess.run([cli(), "report", folder.name, "--data-dir", str(data_dir)],
                            capture_output=True, text=True, timeout=120, env=headset.env)
    assert report.returncode == 0, report.stderr
    assert (folder / "report.html").exists()
    again = subprocess.run([cli(), "sessions", "list", "--data-dir", str(data_dir)],
                           capture_output=True, text=True, timeout=120, env=headset.env)
    assert "recovered" not in again.stderr  # once is enough
