"""CLI command: classify — which moves an utterance makes (--explain: what made them), or how well a scenario's
moves are understood on a labelled set (--eval)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app
from voice_trainer.cli.options import ScenarioLang, ScenarioName
from voice_trainer.cli.render import plain
from voice_trainer.errors import UsageError

DEFAULT_SPAN_WORDS = 10  # the stretch a pattern's groups must fit in without '~N' (dialogue/patterns.py)
PATTERN_CHARS = 70  # a long pattern is clipped in the text output (--json has it whole)


@app.command()
def classify(
    texts: Optional[list[str]] = typer.Argument(None, help="Utterances to classify; '-' reads one per line from stdin."),
    scenario: ScenarioName = "razryv",
    lang: ScenarioLang = "ru",
    json_out: bool = typer.Option(False, "--json", help="One JSON object per utterance (with --eval: one report)."),
    explain: bool = typer.Option(False, "--explain", help="Which pattern or example and which words made each move; "
                                 "for moves not made, the nearest pattern and what cancelled a match."),
    eval_file: Optional[Path] = typer.Option(
        None, "--eval", help="A labelled set, 'moves<TAB>utterance' per line ('unknown' = no move): per-move "
        "precision, recall, F1, confusions, each miss explained; the last line is 'micro-F1 X.XXX'."
    ),
) -> None:
    """Show which trainee moves an utterance makes, with scores; --explain says why, --eval measures a labelled set."""
    from voice_trainer.dialogue.understanding import MoveClassifier
    from voice_trainer.scenario.loader import load

    if eval_file is not None and texts:
        raise UsageError("--eval reads its utterances from the file; give no TEXT with it")
    if eval_file is None and not texts:
        raise UsageError("give an utterance to classify (or '-' to read them from stdin), or --eval FILE.tsv")
    loaded = load(scenario, lang)
    classifier = MoveClassifier(loaded.data.moves, loaded.lang)
    if eval_file is not None:
        _evaluate(classifier, eval_file, json_out)
        return
    from_stdin = texts == ["-"]
    utterances = (line.rstrip("\n") for line in sys.stdin) if from_stdin else iter(texts or [])
    from voice_trainer.practice.text import MAX_REPLY_CHARS, too_long

    for number, utterance in enumerate(utterances, 1):
        if from_stdin and not utterance.strip():
            continue
        if len(utterance) > MAX_REPLY_CHARS:  # refused, not cut: a classification of part of it would mislead
            where = f"stdin:{number}" if from_stdin else f"utterance {number}"
            raise UsageError(f"{where}: {too_long(utterance)}; classify one reply at a time")
        if explain:
            explanation = classifier.explain(utterance)
            if json_out:
                print(json.dumps(explanation.to_json(), ensure_ascii=False), flush=True)
            else:
                print("\n".join(map(plain, explanation_lines(explanation))), flush=True)
            continue
        result = classifier.classify(utterance)
        moves = list(result.moves) or ["unknown"]
        scores = {k: v for k, v in sorted(result.scores.items(), key=lambda kv: -kv[1]) if v > 0}
        if json_out or from_stdin:
            print(json.dumps({"text": utterance, "moves": moves, "scores": scores}, ensure_ascii=False), flush=True)
        else:
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(scores.items())[:5])
            print(f"{' + '.join(moves)}\t({top})\t{plain(utterance)}")


def _evaluate(classifier, path: Path, json_out: bool) -> None:
    from voice_trainer.dialogue.explain import evaluate, read_rows

    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise UsageError(f"--eval {path}: {what}; give a labelled set, 'moves<TAB>utterance' per line")
    rows = read_rows(path, known=classifier.move_names)
    if not rows:
        raise UsageError(f"--eval {path}: no labelled rows in it; write 'moves<TAB>utterance' per line")
    report = evaluate(classifier, rows)
    if json_out:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
        return
    for line in evaluation_lines(report, str(path)):
        print(plain(line), flush=True)


# -- printing --------------------------------------------------------------------------------------------------


def evaluation_lines(report, file: str) -> list[str]:
    """The evaluation as text: the per-move table, the confusions, each miss explained, then micro-F1 last."""
    width = max([len("move"), *(len(m.move) for m in report.moves)])
    out = [f"{report.rows} utterances", "", f"{'move'.ljust(width)}  support  precision  recall     f1"]
    for m in report.moves:
        if m.support == 0 and m.false_positives == 0:
            continue
        out.append(f"{m.move.ljust(width)}  {m.support:7d}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:5.3f}")
    if report.confusion:
        out += ["", "confusions (labelled -> made instead, times):"]
        out += [f"  {a} -> {b}  {n}" for a, b, n in report.confusion]
    if report.misses:
        out += ["", f"misses ({len(report.misses)}):"]
        for miss in report.misses:
            out.append(f"  {file}:{miss.line}  «{miss.text}»")
            out.append(f"    expected {', '.join(miss.expected) or 'unknown'}; got {', '.join(miss.got) or 'unknown'}")
            out += ["    " + line for line in _miss_lines(miss)]
    out += ["", f"micro-F1 {report.micro_f1:.3f}"]
    return out


def _miss_lines(miss) -> list[str]:
    e = miss.explanation
    out = []
    for made in e.made:
        if made.move in miss.extra:
            out.append(f"{made.move}: made by {_made_by(made, e.words)}")
    for not_made in e.not_made:
        if not_made.move in miss.missing:
            out += _not_made_lines(not_made, e.words)
    return out


def explanation_lines(e) -> list[str]:
    out = [f"«{e.text}»"]
    if e.fillers:
        out.append(f"  fillers left out: {', '.join(e.words[i] for i in e.fillers)}")
    if not e.made:
        out.append("  no move: unknown")
    for made in e.made:
        out.append(f"  {made.move} {made.score:.2f}: made by {_made_by(made, e.words)}")
    for not_made in e.not_made:
        out += ["  " + line for line in _not_made_lines(not_made, e.words)]
    return out


def _made_by(made, words: tuple[str, ...]) -> str:
    how = f"{made.source.path} {_quoted(made.source.text)}"
    if made.similarity is not None:
        how += f" (similarity {made.similarity:.2f})"
    if made.by_sound:
        how += " (by sound)"
    return f"{how} on {_marked(words, made.words)}"


def _not_made_lines(not_made, words: tuple[str, ...]) -> list[str]:
    out = []
    if not_made.nearest is not None:
        n = not_made.nearest
        found = (f"found {n.groups_found} of {n.groups_needed} groups, missing {' and '.join(map(_quoted, n.missing))}"
                 if n.missing else f"found all {n.groups_needed} groups, but {_too_far(n)}")
        out.append(f"{not_made.move} not made: nearest {n.source.path} {_quoted(n.source.text)} {found}"
                   + (f", on {_marked(words, n.words)}" if n.words else ""))
    for c in not_made.cancelled:
        reason = {"reject": f"rejected by {c.by.path} {_quoted(c.by.text)}" if c.by else "rejected",
                  "denial": "inside a denial" + (f" ({' '.join(w.surface for w in c.frame)})" if c.frame else ""),
                  "negation": "after a negation" + (f" ({' '.join(w.surface for w in c.frame)})" if c.frame else ""),
                  "sound_context": "heard only by sound, and nothing around it fits the move"}.get(c.reason, c.reason)
        out.append(f"{not_made.move} not made: {c.source.path} {_quoted(c.source.text)} matched "
                   f"{_marked(words, c.words)} but was {reason}")
    if not out and not_made.example is not None:
        out.append(f"{not_made.move} not made: closest example {not_made.example.path} "
                   f"{_quoted(not_made.example.text)} (similarity {not_made.similarity or 0:.2f})")
    if not out:
        out.append(f"{not_made.move} not made: none of its patterns or examples has a word of this turn")
    return out


def _too_far(near) -> str:
    """How far apart the groups were, against the pattern's limit: what to change it to is then plain."""
    limit = re.search(r"~\s*(\d+)\s*$", near.source.text)
    allowed = f"'~{limit.group(1)}' allows {limit.group(1)}" if limit else f"the default allows {DEFAULT_SPAN_WORDS}"
    indexes = [w.index for w in near.words]
    if not indexes:
        return f"not close enough together ({allowed} words)"
    return f"they stretch over {max(indexes) - min(indexes) + 1} words and {allowed} (raise '~N' or add a pattern)"


def _marked(words: tuple[str, ...], said) -> str:
    """The turn with the matched words in [brackets]."""
    hit = {w.index for w in said}
    return "«" + " ".join(f"[{w}]" if i in hit else w for i, w in enumerate(words)) + "»"


def _quoted(text: str) -> str:
    text = text if len(text) <= PATTERN_CHARS else text[: PATTERN_CHARS - 1] + "…"
    return f'"{text}"'
