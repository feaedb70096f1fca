"""Running `voice-trainer` as a user does, and what every failure must look like: one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).parent / "voice-trainer"
ERROR_PREFIX = "voice-trainer: error: "


def clean_env(data_dir: Path) -> dict[str, str]:
    """The environment without any VOICE_TRAINER_* setting, with `data_dir` as the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_TRAINER_")}
    env["VOICE_TRAINER_DATA"] = str(data_dir)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300,
            preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
        stdin=subprocess.DEVNULL, preexec_fn=preexec_fn,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int | None = None) -> str:
    """The error line (without the prefix) of a run that must have failed cleanly."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode != 0, (result.stdout, result.stderr)
    if code is not None:
        assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    return lines[0][len(ERROR_PREFIX):]
