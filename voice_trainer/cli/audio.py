"""CLI commands: devices, mic-check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app
from voice_trainer.cli.options import InputDevice

_BAR_WIDTH = 40
_FLOOR_DBFS = -60.0


@app.command()
def devices() -> None:
    """List microphones and speakers with their index, channels and default rate (* = default)."""
    from voice_trainer.audio.devices import default_indices, list_devices

    found = list_devices()
    default_in, default_out = default_indices()
    for title, channels_of, default in (
        ("Inputs", lambda d: d.max_input_channels, default_in),
        ("Outputs", lambda d: d.max_output_channels, default_out),
    ):
        typer.echo(f"{title}:")
        usable = [d for d in found if channels_of(d) > 0]
        if not usable:
            typer.echo("  (none)")
        for d in usable:
            mark = "*" if d.index == default else " "
            typer.echo(f" {mark}{d.index:>3}  {d.name}  ({channels_of(d)} ch, {d.default_rate_hz} Hz, {d.hostapi})")
    typer.echo("Pick one with --input/--output INDEX or part of its name.")


@app.command("mic-check")
def mic_check(
    input_device: InputDevice = None,
    seconds: float = typer.Option(10.0, "--seconds", min=0.1, help="How long to listen (Ctrl-C stops earlier)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Vosk model folder, to show what it hears."),
    lang: str = typer.Option("ru", "--lang", help="Language of the speech model to look up."),
) -> None:
    """Show the microphone level live and, when a speech model is found, what it hears."""
    from voice_trainer.audio.devices import pick_input
    from voice_trainer.audio.streams import MicStream
    from voice_trainer.clock import MonotonicClock

    device = pick_input(input_device)
    recognizer = _recognizer(lang, model)
    clock = MonotonicClock()
    live = sys.stderr.isatty()
    levels = [-120.0]  # what level_dbfs gives for digital silence
    try:
        with MicStream(device, clock=clock) as mic:
            typer.echo(f"listening on {device.label()} for {seconds:g} s (Ctrl-C stops)", err=True)
            _show_levels(mic, clock, seconds, recognizer, live, levels)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a user ends the check: report what was measured
    if live:
        sys.stderr.write("\n")
    typer.echo(f"peak level: {max(levels):.1f} dBFS")
    if recognizer is not None:
        typer.echo(f"heard: {recognizer.finish().text or '(nothing)'}")


def _show_levels(mic, clock, seconds: float, recognizer, live: bool, levels: list[float]) -> None:
    """The meter (and partial text) for `seconds`; each block's level is appended to `levels`."""
    from voice_trainer.audio.streams import level_dbfs

    end_ms = clock.now_ms() + 1000 * seconds
    next_line_ms = 0.0
    partial = ""
    while clock.now_ms() < end_ms:
        chunk = mic.read(0.2)
        if chunk is None:
            continue
        levels.append(level_dbfs(chunk))
        if recognizer is not None:
            partial = recognizer.accept(chunk)
        if live:
            sys.stderr.write(f"\r{_meter(levels[-1])} {partial[-30:]:<30}")
            sys.stderr.flush()
        elif clock.now_ms() >= next_line_ms:  # a pipe gets a line twice a second, not 33 redraws
            typer.echo(f"{_meter(levels[-1])} {partial}".rstrip(), err=True)
            next_line_ms = clock.now_ms() + 500


def _meter(level_dbfs: float) -> str:
    share = (max(level_dbfs, _FLOOR_DBFS) - _FLOOR_DBFS) / -_FLOOR_DBFS
    filled = round(share * _BAR_WIDTH)
    return f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {level_dbfs:6.1f} dBFS"


def _recognizer(lang: str, model: Path | None):
    """A recognizer when a model is found; None (with a note) when there is none and none was asked for."""
    from voice_trainer.errors import ModelNotFound
    from voice_trainer.speech.models import find_model

    try:
        location = find_model(lang, explicit=model)
    except ModelNotFound:
        if model is not None:
            raise
        typer.echo(f"no speech model for '{lang}': showing the level only (`voice-trainer models install {lang}`)", err=True)
        return None
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer, load_model

    typer.echo(f"speech model: {location.path}", err=True)
    return VoskRecognizer(load_model(location.path))
