"""Every command a user can run has help and is documented in the README (after sqlite-utils' test_docs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from voice_trainer.cli.app import app
from voice_trainer.cli.commands import register_all

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands() -> list[tuple[str, object]]:
    found = []

    def walk(group, prefix: str) -> None:
        for name, command in sorted(group.commands.items()):
            if getattr(command, "hidden", False):
                continue
            path = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                walk(command, path)
            else:
                found.append((path, command))

    register_all()  # `voice-trainer` imports a command's module when it runs it; here we want them all
    walk(typer.main.get_command(app), "")
    return found


COMMANDS = commands()


def test_the_cli_has_the_commands_the_issues_name():
    names = {name for name, _ in COMMANDS}
    assert {"practice", "classify", "transcribe", "devices", "mic-check", "report", "progress", "review", "bench",
            "scenario check", "scenario graph", "models list", "models install", "models path",
            "sessions list", "sessions show", "sessions delete", "sessions export", "sessions fix",
            "sessions rescore"} <= names


@pytest.mark.parametrize("name,command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_has_help_and_is_in_the_readme(name, command):
    assert (command.help or "").strip(), f"{name} has no help text"
    assert re.search(rf"voice-trainer {re.escape(name)}\b", README), f"README does not mention `voice-trainer {name}`"


def test_the_quick_start_is_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert [line for line in block.splitlines() if line.strip()] == ["./quickstart practice", "./quickstart test"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./quickstart test" in ci
