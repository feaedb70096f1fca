"""CLI commands: practice, classify, scenario check / graph."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app, scenario_app
from voice_trainer.cli.render import conversation_printer, debrief_text, ui
from voice_trainer.errors import UsageError
from voice_trainer.scenario.loader import load


def _raise_interrupt(signum, frame):  # SIGTERM ends a session like Ctrl-C: logged, scored, marked interrupted
    raise KeyboardInterrupt


@app.command()
def practice(
    text: bool = typer.Option(False, "--text", help="Type replies instead of speaking them."),
    script: Optional[Path] = typer.Option(None, "--script", help="Read replies from FILE, one per line (implies --text)."),
    scenario: str = typer.Option("razryv", "--scenario", help="Scenario name or path to a .yaml file."),
    lang: str = typer.Option("ru", "--lang", help="Scenario language: ru or en."),
    persona: Optional[str] = typer.Option(None, "--persona", help="Customer persona (e.g. reasonable, stubborn)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Company policy (e.g. keep_client, let_go)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the customer's choices (same seed, same call)."),
    trainee: str = typer.Option("", "--trainee", help="Trainee name, stored with the session."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where sessions are stored."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on the last line of stdout."),
) -> None:
    """Practise a call with the simulated customer."""
    from voice_trainer.practice.text import prompted_lines, run_text, script_lines
    from voice_trainer.session import Session

    loaded = load(scenario, lang)
    replies = script_lines(script) if script else None
    words = ui(loaded.lang)
    out = lambda line: print(line, flush=True)  # noqa: E731
    session = Session(
        loaded, persona=persona, policy=policy, seed=seed, trainee=trainee, mode="text",
        data_dir=data_dir, observers=[conversation_printer(loaded.lang, out)],
    )
    if replies is None:
        if sys.stdin is None or sys.stdin.closed:
            raise UsageError("no replies to read: stdin is closed; use --script FILE")
        replies = prompted_lines(_reader(sys.stdin.isatty(), words["prompt"]))
    echo = (lambda r: out(f"{words['you']}: {r}")) if script or not _is_tty(sys.stdin) else None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    interrupted = False
    try:
        run_text(session, replies, echo)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        try:
            result = session.finish(interrupted=interrupted)
        finally:
            signal.signal(signal.SIGTERM, previous)
    out(debrief_text(result, loaded.lang))
    out(f"{words['interrupted'] if interrupted else words['session']}: {session.folder}")
    if json_out:
        out(json.dumps(result, ensure_ascii=False))
    if interrupted:
        raise typer.Exit(130)


def _is_tty(stream) -> bool:
    try:
        return stream is not None and not stream.closed and stream.isatty()
    except ValueError:
        return False


def _reader(interactive: bool, prompt: str):
    def ask() -> str:
        if interactive:
            return input(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    return ask


@app.command()
def classify(
    texts: list[str] = typer.Argument(..., help="Utterances to classify; '-' reads one per line from stdin."),
    scenario: str = typer.Option("razryv", "--scenario", help="Scenario name or path."),
    lang: str = typer.Option("ru", "--lang", help="Scenario language."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per utterance."),
) -> None:
    """Show which trainee moves an utterance makes, with scores."""
    from voice_trainer.dialogue.understanding import UNKNOWN, MoveClassifier

    loaded = load(scenario, lang)
    classifier = MoveClassifier(loaded.data.moves, loaded.lang)
    from_stdin = texts == ["-"]
    utterances = (line.rstrip("\n") for line in sys.stdin) if from_stdin else iter(texts)
    for utterance in utterances:
        if from_stdin and not utterance.strip():
            continue
        result = classifier.classify(utterance)
        moves = list(result.moves) or [UNKNOWN]
        scores = {k: v for k, v in sorted(result.scores.items(), key=lambda kv: -kv[1]) if v > 0}
        if json_out or from_stdin:
            print(json.dumps({"text": utterance, "moves": moves, "scores": scores}, ensure_ascii=False), flush=True)
        else:
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(scores.items())[:5])
            print(f"{' + '.join(moves)}\t({top})\t{utterance}")


@scenario_app.command("check")
def scenario_check(files: list[Path] = typer.Argument(..., help="Scenario files to validate.")) -> None:
    """Validate scenario files; every problem is reported with file, line and key path."""
    from voice_trainer.scenario.loader import load_file

    for file in files:
        s = load_file(file)
        d = s.data
        print(f"{file}: ok ({d.scenario}, {d.language}: {len(d.moves)} moves, {len(d.states)} states, "
              f"{len(d.endings)} endings, {len(d.rules)} rules)")


@scenario_app.command("graph")
def scenario_graph(
    file: Path = typer.Argument(..., help="Scenario file."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the Mermaid diagram here (default: stdout)."),
) -> None:
    """Write the scenario's state diagram as Mermaid."""
    from voice_trainer.dialogue.machine import mermaid
    from voice_trainer.scenario.loader import load_file

    diagram = mermaid(load_file(file).data)
    if output:
        output.write_text(diagram, encoding="utf-8")
        print(f"wrote {output}")
    else:
        print(diagram)
