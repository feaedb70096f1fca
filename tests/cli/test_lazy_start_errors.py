"""A start-up error is one clear line even while the sound system is still starting.

practice starts PortAudio on a thread early (speech/synthesizer.py), and while it starts sounddevice
points stderr at /dev/null. With the start-up now quick, an error found meanwhile (a closed stdin, an
unknown --case, a bad scenario) used to vanish: exit code 2 and nothing said. Here a sound server that
holds every connection for half a second keeps PortAudio starting for seconds, so the error surely
comes while stderr is hidden."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


@pytest.fixture
def slow_sound_server(tmp_path):
    """A PulseAudio address whose server accepts each client and hangs up half a second later."""
    path = tmp_path / "slow-pulse.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Timer(0.5, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"unix:{path}"
    stop.set()
    server.close()


def practice(args: list[str], tmp_path: Path, pulse: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PULSE_SERVER": pulse}
    return subprocess.run([CLI, "practice", "--data-dir", str(tmp_path / "data"), *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))


def test_stdin_closed_is_said_while_the_sound_system_starts(tmp_path, slow_sound_server):
    done = practice(["--text", "--seed", "2"], tmp_path, slow_sound_server)
    assert done.returncode == 2
    assert done.stderr.strip() == "voice-trainer: error: no replies to read: stdin is closed; use --script FILE"


def test_an_unknown_case_is_said_while_the_sound_system_starts(tmp_path, slow_sound_server):
    done = practice(["--text", "--case", "no-such-case"], tmp_path, slow_sound_server)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("voice-trainer: error: --case 'no-such-case': no such case")
