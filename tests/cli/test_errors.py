"""Every command answers --help; a wrong command is a short message and a non-zero exit, never a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def listed_commands(help_text: str) -> list[str]:
    """Names in the 'Commands:' section of a help page."""
    section = help_text.split("\nCommands:\n", 1)
    if len(section) < 2:
        return []
    return re.findall(r"^  (\S+)", section[1], flags=re.MULTILINE)


def discover(prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command, found the way a user finds them: by reading --help."""
    found = []
    for name in listed_commands(run(*prefix, "--help").stdout):
        found.append(prefix + (name,))
        found += discover(prefix + (name,))
    return found


COMMANDS = discover()


def test_the_main_commands_are_there():
    assert {("practice",), ("scenario",), ("scenario", "check"), ("scenario", "graph")} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help(command):
    done = run(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"voice-trainer {' '.join(command)}" in done.stdout
    description = done.stdout.split("\n\n", 2)[1].strip()
    assert description and not description.startswith("Options"), done.stdout


def test_top_level_help_exits_0():
    done = run("--help")
    assert done.returncode == 0 and "Commands:" in done.stdout


@pytest.mark.parametrize(
    "args,mentions",
    [
        (["nosuch"], "nosuch"),
        (["scenario", "nosuch"], "nosuch"),
        (["practice", "--nosuch"], "--nosuch"),
        (["scenario", "check"], "FILES"),
    ],
    ids=["unknown_command", "unknown_subcommand", "unknown_option", "missing_argument"],
)
def test_wrong_usage_is_a_short_message_and_non_zero_exit(args, mentions):
    done = run(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert mentions.lower() in done.stderr.lower()
    assert len(done.stderr.strip().splitlines()) <= 4  # usage, hint, error


def test_no_arguments_shows_help_without_traceback():
    done = run()
    assert "Traceback" not in done.stderr
    assert "Commands:" in done.stdout + done.stderr


def test_help_does_not_load_speech_or_audio_libraries():
    probe = (
        "import sys\n"
        "from voice_trainer.cli import main\n"
        "code = main(['--help'])\n"
        "print(sorted(m for m in ('vosk', 'sounddevice', 'pyttsx3', 'soundfile') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
