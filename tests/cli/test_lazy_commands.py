"""`voice-trainer CMD` imports the module that defines CMD and no other command's: practice starts without the
library's, the review site's or the bench's imports. `--help` and mistakes still see every command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from voice_trainer.cli.app import app
from voice_trainer.cli.commands import DEFINED_IN, MODULES, command_name, register_all

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"
OTHER_COMMAND_MODULES = [f"voice_trainer.cli.{m}" for m in MODULES if m != "practice"]
# What only other commands need: the review site, the bench, the scenario tools, the PostgreSQL driver.
NOT_FOR_PRACTICE = [*OTHER_COMMAND_MODULES, "voice_trainer.web", "voice_trainer.bench",
                    "voice_trainer.scenario.diagram", "voice_trainer.scenario.traps", "psycopg", "jinja2", "starlette",
                    "uvicorn", "rich"]


def imported_after(args: list[str], cwd: Path) -> tuple[int, list[str], str]:
    """Run `voice-trainer ARGS` in a fresh interpreter; its exit code, the modules it imported, its stderr."""
    code = (
        "import sys, json\n"
        "from voice_trainer.cli import main\n"
        f"rc = main({args!r})\n"
        "sys.stdout.flush()\n"
        "print('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd,
                          stdin=subprocess.DEVNULL)
    modules = json.loads(proc.stdout.rsplit("\nMODULES ", 1)[1])
    return proc.returncode, modules, proc.stderr


def test_practice_help_imports_no_other_command(tmp_path):
    rc, modules, err = imported_after(["practice", "--help"], tmp_path)
    assert rc == 0, err
    assert "voice_trainer.cli.practice" in modules
    assert [m for m in NOT_FOR_PRACTICE if m in modules] == []


def test_a_text_practice_imports_no_other_command(tmp_path):
    script = tmp_path / "replies.txt"
    script.write_text("Здравствуйте, извините за неудобства, сейчас разберёмся.\n", encoding="utf-8")
    args = ["practice", "--script", str(script), "--data-dir", str(tmp_path / "data"), "--seed", "3"]
    rc, modules, err = imported_after(args, tmp_path)
    assert rc == 0, err
    assert "voice_trainer.dialogue.understanding" in modules  # the turn was read: the core was all there
    assert [m for m in NOT_FOR_PRACTICE if m in modules] == []


@pytest.mark.parametrize("args", [["--help"], [], ["practise"], ["--config"]])
def test_help_and_mistakes_see_every_command(tmp_path, args):
    _, modules, _ = imported_after(args, tmp_path)
    assert [m for m in OTHER_COMMAND_MODULES if m not in modules] == []


def test_top_level_help_lists_every_command_with_its_help():
    out = subprocess.run([CLI, "--help"], capture_output=True, text=True, timeout=60).stdout
    listed = dict(line.split(None, 1) for line in out.split("\nCommands:\n", 1)[1].splitlines() if line.strip())
    assert set(listed) == set(DEFINED_IN)
    assert all(help_line.strip() for help_line in listed.values())


def test_the_table_names_the_module_that_defines_each_command():
    """A command added to a module but not to the table (or moved) would only work after `--help`."""
    register_all()
    group = typer.main.get_command(app)
    defined = {}
    for info in app.registered_commands:
        defined[info.name or info.callback.__name__.replace("_", "-")] = info.callback.__module__
    for info in app.registered_groups:
        modules = {c.callback.__module__ for c in info.typer_instance.registered_commands}
        assert len(modules) == 1, f"{info.name}: sub-commands in several modules {modules}"
        defined[info.name] = modules.pop()
    assert set(defined) == set(group.commands)
    assert {name: f"voice_trainer.cli.{module}" for name, module in DEFINED_IN.items()} == defined


@pytest.mark.parametrize("argv,name", [
    (["practice", "--text"], "practice"),
    (["--config", "my.toml", "sessions", "list"], "sessions"),
    (["--config=my.toml", "mic-check"], "mic-check"),
    (["--help"], None),
    (["--config", "my.toml"], None),
    ([], None),
    (["practise"], "practise"),
])
def test_the_command_is_the_first_argument_after_the_top_level_options(argv, name):
    assert command_name(argv) == name


@pytest.mark.parametrize("args,says", [
    (["practise"], "No such command 'practise'"),
    (["practice", "--bogus"], "No such option: --bogus"),
    (["--config", "nowhere.toml", "practice", "--seed", "many"], "Invalid value for '--seed'"),
])
def test_usage_errors_are_one_clear_message_without_a_traceback(args, says):
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
