"""The typer application and its sub-command groups; command modules register on these."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="voice-trainer",
    help="Offline voice role-play trainer for customer-support agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
scenario_app = typer.Typer(help="Check scenario files and draw their state diagrams.", no_args_is_help=True)
models_app = typer.Typer(help="Find, list and install speech-recognition models.", no_args_is_help=True)
sessions_app = typer.Typer(help="The library of recorded practice sessions.", no_args_is_help=True)

app.add_typer(scenario_app, name="scenario")
app.add_typer(models_app, name="models")
app.add_typer(sessions_app, name="sessions")


@app.callback()
def _settings_file(
    config: Optional[Path] = typer.Option(
        None, "--config", metavar="PATH",
        help="Settings file (default: voice-trainer.toml in the platform config dir, e.g. ~/.config/voice-trainer/).",
    ),
) -> None:
    """Offline voice role-play trainer for customer-support agents."""
    from voice_trainer.config import choose_file

    choose_file(config)
