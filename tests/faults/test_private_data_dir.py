"""A data dir made by any command is private (issue 9): the folder 0700 and what is in it 0600/0700,
whatever the umask. Recordings and logs of staff calls are readable by their user only. (`models
install` has its own test in test_model_install.py.)"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.cli_run import CLI, clean_env, run_cli

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ru" / "good_understood.txt"


def open_umask() -> None:
    os.umask(0)  # the worst case: everything made with the mode asked for is world-writable


def assert_private(data_dir: Path) -> None:
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700, data_dir
    for path in data_dir.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path}: {oct(mode)}"


def a_session(data_dir: Path) -> str:
    done = run_cli("practice", "--text", "--script", str(SCRIPT), "--seed", "1", "--data-dir", str(data_dir),
                   env=clean_env(data_dir), preexec_fn=open_umask)
    assert done.returncode == 0, done.stderr
    (folder,) = (data_dir / "sessions").iterdir()
    return folder.name


@pytest.mark.parametrize("command", [
    ["practice", "--text", "--script", str(SCRIPT), "--seed", "1"],
    ["sessions", "list"],
    ["sessions", "export", "--format", "csv"],
    ["progress", "--trainee", "anna"],
    ["report", "no-such-session"],
    ["sessions", "show", "no-such-session"],
], ids=lambda c: " ".join(c[:2]))
def test_a_data_dir_made_by_a_command_is_private(tmp_path, command):
    data_dir = tmp_path / "new" / "data"
    run_cli(*command, "--data-dir", str(data_dir), env=clean_env(data_dir), preexec_fn=open_umask)
    assert_private(data_dir)


def test_a_report_written_into_a_session_is_private(tmp_path):
    data_dir = tmp_path / "data"
    session_id = a_session(data_dir)
    done = run_cli("report", session_id, "--data-dir", str(data_dir), env=clean_env(data_dir), preexec_fn=open_umask)
    assert done.returncode == 0, done.stderr
    assert_private(data_dir)


def test_an_existing_data_dir_open_to_others_is_made_private_by_practice(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "sessions").mkdir(parents=True)
    os.chmod(data_dir, 0o755)
    os.chmod(data_dir / "sessions", 0o777)
    a_session(data_dir)
    assert_private(data_dir)


def test_a_data_dir_made_by_the_review_page_is_private(tmp_path):
    data_dir = tmp_path / "new" / "data"
    proc = subprocess.Popen([str(CLI), "review", "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=clean_env(data_dir), preexec_fn=open_umask)
    try:
        deadline = time.monotonic() + 120
        while not (data_dir.is_dir() and any(data_dir.iterdir())):  # the page opens the library at start
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert_private(data_dir)
