"""Which module defines each command. A command module registers its commands on `app` when imported;
`voice-trainer practice` imports the practice module alone, so the customer's first word does not wait
for the imports of the library, the review site or the bench. Anything else (`--help`, no command, a
misspelt one) imports them all, and typer answers exactly as it would with every command present."""

from __future__ import annotations

import importlib
from typing import Sequence

# Imported in this order, which is the order `voice-trainer --help` lists the commands in.
MODULES = ("practice", "scenario", "classify", "speech", "audio", "trainer", "review", "bench")

DEFINED_IN = {
    "practice": "practice",
    "scenario": "scenario",
    "classify": "classify",
    "transcribe": "speech",
    "models": "speech",
    "devices": "audio",
    "mic-check": "audio",
    "report": "trainer",
    "progress": "trainer",
    "sessions": "trainer",
    "users": "trainer",
    "config": "trainer",
    "review": "review",
    "bench": "bench",
}

# The top-level options that take a value (see `app.py`); the command name comes after them.
_OPTIONS_WITH_VALUE = ("--config",)


def register(argv: Sequence[str]) -> None:
    """Register the command `argv` runs, or every command when that is not certain."""
    name = command_name(argv)
    for module in (DEFINED_IN[name],) if name in DEFINED_IN else MODULES:
        importlib.import_module(f"voice_trainer.cli.{module}")


def register_all() -> None:
    register(())


def command_name(argv: Sequence[str]) -> str | None:
    """The first argument after the top-level options; None if an option comes first that is not one of
    ours (`--help`, a typo), so that typer sees every command when it answers."""
    args = iter(argv)
    for arg in args:
        if arg in _OPTIONS_WITH_VALUE:
            next(args, None)
        elif arg.startswith(tuple(f"{o}=" for o in _OPTIONS_WITH_VALUE)):
            continue
        elif arg.startswith("-"):
            return None
        else:
            return arg
    return None
