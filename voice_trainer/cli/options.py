"""Options several commands share, declared once: `data_dir: DataDir = None` in a command's signature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="The data folder: sessions and installed models "
                 "(default: $VOICE_TRAINER_DATA or ~/.local/share/voice-trainer)."),
]
SessionId = Annotated[str, typer.Argument(help="Session id, a unique start of it, or the session folder.")]
OnlyTrainee = Annotated[Optional[str], typer.Option("--trainee", help="Only this trainee's sessions.")]
Since = Annotated[Optional[str], typer.Option("--since", help="Only sessions on or after this date (YYYY-MM-DD).")]
ScenarioName = Annotated[str, typer.Option("--scenario", help="Scenario name or path to a .yaml file.")]
ScenarioLang = Annotated[str, typer.Option("--lang", help="Scenario language: ru or en.")]
Model = Annotated[Optional[Path], typer.Option("--model", help="Vosk model folder (default: looked up, see `models path`).")]
InputDevice = Annotated[Optional[str], typer.Option("--input", help="Microphone: device index or part of its name.")]
