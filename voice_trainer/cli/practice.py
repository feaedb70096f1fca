"""CLI command: practice."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app
from voice_trainer.cli.options import DataDir, InputDevice, Model, ScenarioLang, ScenarioName
from voice_trainer.cli.render import conversation_printer, debrief_text, partial_printer, plain, ui
from voice_trainer.cli.stderr import wait_for_stderr
from voice_trainer.errors import UsageError
from voice_trainer.settings import (
    DEFAULT_DECODER_MAX_ACTIVE,
    DEFAULT_TRAILING_SILENCE_CEILING_MS,
    DEFAULT_TRAILING_SILENCE_FLOOR_MS,
    DEFAULT_TRAILING_SILENCE_MS,
    PracticeSettings,
    VoiceSettings,
    default_data_dir,
)


def _raise_interrupt(signum, frame):  # SIGTERM ends a session like Ctrl-C: logged, scored, marked interrupted
    raise KeyboardInterrupt


@app.command(context_settings={"allow_extra_args": False})
def practice(
    more_replies: Optional[list[Path]] = typer.Argument(None, hidden=True, help="More --replies files."),
    text: bool = typer.Option(False, "--text", help="Type replies instead of speaking them."),
    script: Optional[Path] = typer.Option(None, "--script", help="Read replies from FILE, one per line (implies --text)."),
    replies: Optional[list[Path]] = typer.Option(
        None, "--replies", help="Replay recorded trainee turns: WAV files, one per turn, in order (--replies a.wav b.wav ...)."
    ),
    scenario: ScenarioName = "razryv",
    lang: ScenarioLang = "ru",
    persona: Optional[str] = typer.Option(None, "--persona", help="Customer persona (e.g. reasonable, stubborn)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Company policy (e.g. keep_client, let_go)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the customer's choices (same seed, same call)."),
    case: Optional[str] = typer.Option(None, "--case", help="Play this case of the scenario (its `cases`); picks a seed that gives it."),
    trainee: str = typer.Option("", "--trainee", help="Trainee name, stored with the session."),
    data_dir: DataDir = None,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on the last line of stdout."),
    model: Model = None,
    input_device: InputDevice = None,
    output_device: Optional[str] = typer.Option(None, "--output", help="Speaker: device index or part of its name."),
    barge_in: bool = typer.Option(False, "--barge-in", help="Talking over the customer stops him (he may resent it)."),
    trailing_silence_ms: int = typer.Option(
        DEFAULT_TRAILING_SILENCE_MS, "--trailing-silence-ms", min=200, max=5000, help="A pause this long ends your turn."
    ),
    trailing_silence_floor_ms: int = typer.Option(
        DEFAULT_TRAILING_SILENCE_FLOOR_MS, "--trailing-silence-floor-ms", min=100, max=5000,
        help="After a finished phrase the customer understands, this shorter pause ends your turn."),
    trailing_silence_ceiling_ms: int = typer.Option(
        DEFAULT_TRAILING_SILENCE_CEILING_MS, "--trailing-silence-ceiling-ms", min=200, max=10000,
        help="After 'and', 'because', 'um' or a number, your pause may last this long."),
    decoder_max_active: int = typer.Option(
        DEFAULT_DECODER_MAX_ACTIVE, "--decoder-max-active", min=0, max=100000,
        help="Recognizer search width (hypotheses per frame; lower is faster; 0: the model's own)."),
    grammar: bool = typer.Option(False, "--grammar", help="Recognize only the scenario's vocabulary (small models: much less CPU)."),
    grammar_words: Optional[Path] = typer.Option(
        None, "--grammar-words", help="More words for --grammar (implies it): a text file, one word or phrase per line."
    ),
    mute: bool = typer.Option(False, "--mute", help="Don't voice the customer."),
    speak: bool = typer.Option(False, "--speak", help="Voice the customer in --script runs too."),
    matrix: bool = typer.Option(
        False, "--matrix", help="Play the --script against every persona x policy (x case): a table of endings and "
        "scores (with --json, rows as JSON on the last line). Nothing is recorded."
    ),
) -> None:
    """Practise a call with the simulated customer: by voice when a microphone and a speech model are present."""
    if matrix:
        if script is None or replies or more_replies:
            raise UsageError("--matrix plays one --script FILE against every persona and policy; give --script "
                             "(not --replies)")
        if persona or policy or case:
            raise UsageError("--matrix plays every persona, policy and case; leave out --persona, --policy and --case")
        _print_matrix(_load_scenario(scenario, lang), script, seed, json_out)
        return
    files = [*(replies or []), *(more_replies or [])]
    if more_replies and not replies:
        raise UsageError(f"unexpected argument {str(more_replies[0])!r}; replay files go after --replies")
    if files and (text or script):
        raise UsageError("--replies replays recorded turns; it cannot be combined with --text or --script")
    if data_dir is not None and data_dir.exists() and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir}: not a folder; give a folder for the session files")
    if not (mute or script or files) or speak:
        from voice_trainer.speech.synthesizer import start_engine_early

        start_engine_early()  # overlaps loading the scenario
    from voice_trainer.practice.runner import run_practice
    from voice_trainer.practice.text import prompted_lines, script_lines

    loaded = _load_scenario(scenario, lang)
    if case is not None:
        seed = _seed_for_case(loaded.data, case, seed)
    settings = PracticeSettings(
        scenario=scenario, lang=loaded.lang, persona=persona, policy=policy, seed=seed, trainee=trainee,
        data_dir=data_dir or default_data_dir(),
        voice=VoiceSettings(
            model=model, input=input_device, output=output_device, barge_in=barge_in,
            trailing_silence_ms=trailing_silence_ms, trailing_silence_floor_ms=trailing_silence_floor_ms,
            trailing_silence_ceiling_ms=trailing_silence_ceiling_ms, decoder_max_active=decoder_max_active,
            grammar=grammar or grammar_words is not None,
            grammar_words=_words_file(grammar_words) if grammar_words else (), mute=mute, speak=True if speak else None,
        ),
    )
    words = ui(loaded.lang)
    out = lambda line: print(line, flush=True)  # noqa: E731
    say = _say
    interactive = _is_tty(sys.stdin)
    text_mode = bool(text or script)
    reply_lines = None
    if script:
        reply_lines = script_lines(script)
    elif not files:
        if sys.stdin is None or sys.stdin.closed:
            if text:
                raise UsageError("no replies to read: stdin is closed; use --script FILE")
        else:
            reply_lines = prompted_lines(_reader(interactive, words["prompt"]))
    echo_typed = bool(script) or not interactive
    observers = [conversation_printer(loaded.lang, out, echo_trainee=echo_typed or not text_mode)]
    if _is_tty(sys.stderr):
        observers.append(partial_printer())
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        outcome = run_practice(
            settings, loaded, replies=files or None, replies_from=reply_lines, text_mode=text_mode,
            interactive=interactive, observers=observers, say=say,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    out(debrief_text(outcome.result, loaded.lang))
    out(f"{words['interrupted'] if outcome.interrupted else words['session']}: {outcome.session.folder}")
    if json_out:
        out(json.dumps(outcome.result, ensure_ascii=False))
    if outcome.interrupted:
        raise typer.Exit(130)


def _say(line: str) -> None:
    """A notice on stderr, once the early start of the sound system no longer hides stderr."""
    wait_for_stderr()
    print(f"voice-trainer: {line}", file=sys.stderr, flush=True)


def _load_scenario(name: str, lang: str):
    # Imported here: building the scenario schema is a fifth of a second that commands which never
    # load a scenario (sessions, report, devices) should not pay.
    from voice_trainer.scenario.loader import load

    return load(name, lang)


def _print_matrix(loaded, script: Path, seed: int | None, json_out: bool) -> None:
    from voice_trainer.practice.matrix import play_matrix
    from voice_trainer.practice.text import script_lines

    replies = script_lines(script)
    if not replies:
        raise UsageError(f"{script}: no replies in it; write the trainee's replies, one per line ('#' starts a comment)")
    rows = play_matrix(loaded.data, replies, seed=seed if seed is not None else 0)
    with_cases = bool(loaded.data.cases)
    header = ["persona", "policy", *(["case"] if with_cases else []), "seed", "outcome", "score", "turns", "anger",
              "penalties", "missed"]
    table = [header] + [
        [r.persona, r.policy, *([r.case or ""] if with_cases else []), str(r.seed),
         r.outcome + ("" if r.success else " (failed)"), str(r.score), str(r.turns), f"{r.final_anger:g}",
         ",".join(r.penalties) or "-", ",".join(r.missed) or "-"]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print(plain("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]), flush=True)
    if json_out:
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False), flush=True)


def _seed_for_case(data, case: str, seed: int | None) -> int:
    """A seed whose call is `case`: `seed` itself if it is one, else a fresh one."""
    import secrets

    from voice_trainer.dialogue.cases import pick_case, seed_for_case

    if case not in data.cases:
        known = ", ".join(data.cases) or "none (the scenario has no 'cases')"
        raise UsageError(f"--case {case!r}: no such case; cases are: {known}")
    if seed is not None:
        if pick_case(data, seed) != case:
            raise UsageError(f"--seed {seed} plays case {pick_case(data, seed)!r}, not {case!r}; give one of the two")
        return seed
    found = seed_for_case(data, case, start=secrets.randbelow(2**31))
    if found is None:
        raise UsageError(f"--case {case!r}: no seed found for it; give it a weight above 0")
    return found


def _words_file(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--grammar-words {path}: cannot read it ({err}); give a UTF-8 text file, one word per line") from None
    return tuple(w for line in text.splitlines() for w in line.lower().split())


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
