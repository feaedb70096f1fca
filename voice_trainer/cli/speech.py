"""CLI commands: transcribe, models list / install / path. Parsing and printing only."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer

from voice_trainer.cli.app import app, models_app

MODEL_HELP = "Vosk model folder (default: looked up for --lang; see `voice-trainer models path`)."
DATA_DIR_HELP = "Data dir whose models/ folder holds installed models (default: the user data dir)."


def _data_dir(data_dir: Optional[Path]) -> Path:
    from voice_trainer.settings import default_data_dir

    return data_dir if data_dir is not None else default_data_dir()


@app.command()
def transcribe(
    file: Path = typer.Argument(..., help="Audio file: WAV (integer or float samples), FLAC or OGG; any rate, channels and length."),
    model: Optional[Path] = typer.Option(None, "--model", help=MODEL_HELP),
    lang: str = typer.Option("ru", "--lang", help="Language of the speech (picks the model): ru, en, ..."),
    phrase: Optional[list[str]] = typer.Option(None, "--phrase", help="Only recognize these phrases (repeatable)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    json_out: bool = typer.Option(False, "--json", help='Print {"text", "words": [{"word","start","end","conf"}]}.'),
) -> None:
    """Recognize the speech in an audio file: words with start/end seconds and confidences."""
    import sys

    from voice_trainer.speech.audio_file import open_audio_file, recognize_file
    from voice_trainer.speech.models import find_model
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer, load_model

    with open_audio_file(file) as audio:  # a bad file fails before the slow model load
        location = find_model(lang, model, _data_dir(data_dir))
        recognizer = VoskRecognizer(load_model(location.path), grammar=phrase or None)
        with _audio_progress(sys.stderr.isatty(), audio.info) as advance:
            recognition = recognize_file(audio, recognizer, on_block=advance)
    words = [
        {"word": w.text, "start": round(w.start_ms / 1000, 3), "end": round(w.end_ms / 1000, 3), "conf": round(w.conf, 3)}
        for w in recognition.words
    ]
    if json_out:
        print(json.dumps({"text": recognition.text, "words": words}, ensure_ascii=False))
        return
    print(f"{'start':>8} {'end':>8} {'conf':>5}  word")
    for w in words:
        print(f"{w['start']:8.2f} {w['end']:8.2f} {w['conf']:5.2f}  {w['word']}")
    print(f"text: {recognition.text}")


@contextmanager
def _audio_progress(enabled: bool, info) -> Iterator[Callable[[object], None]]:
    """A progress bar over the file's length on a terminal (stderr), nothing otherwise."""
    if not enabled:
        yield lambda block: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total_s = info.duration_ms / 1000
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[done]} of " + _clock(total_s)),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"transcribing {info.path.name}", total=total_s, done=_clock(0))
        done_s = 0.0

        def advance(block) -> None:
            nonlocal done_s
            done_s += block.duration_ms / 1000
            bar.update(task, completed=done_s, done=_clock(done_s))

        yield advance


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@models_app.command("list")
def models_list(data_dir: Optional[Path] = typer.Option(None, "--data-dir", help=DATA_DIR_HELP)) -> None:
    """Show every speech model found, in lookup order."""
    from voice_trainer.speech.models import list_models

    found = list_models(_data_dir(data_dir))
    if not found:
        print("no speech models found; run `voice-trainer models install ru`")
        return
    print(f"{'lang':<8} {'size':>8}  {'source':<24} path")
    for m in found:
        print(f"{m.lang:<8} {m.size_bytes / 1e6:6.0f} MB  {m.source:<24} {m.path}")


@models_app.command("install")
def models_install(
    lang: str = typer.Argument(..., help="Language: ru or en (others need --url)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    url: Optional[str] = typer.Option(None, "--url", help="Zip or tar.gz of a Vosk model to install instead (http(s):// or file://)."),
) -> None:
    """Download and unpack the small official Vosk model for a language (resumes if interrupted)."""
    import sys

    from voice_trainer.speech.models import install_model

    path = install_model(lang, _data_dir(data_dir), url=url, progress=sys.stderr.isatty())
    print(f"{lang} model installed: {path}")


@models_app.command("path")
def models_path(
    lang: str = typer.Argument(..., help="Language of the model to look up."),
    model: Optional[Path] = typer.Option(None, "--model", help=MODEL_HELP),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
) -> None:
    """Print the folder of the model the trainer would use for a language."""
    from voice_trainer.speech.models import find_model

    print(find_model(lang, model, _data_dir(data_dir)).path)
