"""Precision / recall per move of the move classifier on a labelled set.

    python benchmarks/understanding.py                      # every set of the seed scenario, both languages
    python benchmarks/understanding.py --scenario speed     # every set of the speed scenario
    python benchmarks/understanding.py --scenario speed --examples-only   # each move's patterns removed
    python benchmarks/understanding.py --lang ru tests/data/moves.ru.tsv [--errors] [--timing]
    python benchmarks/understanding.py --lang ru tests/data/sound_alikes.ru.tsv --sounds
    python benchmarks/understanding.py --lang ru tests/data/moves.ru.tsv --fillers
    python benchmarks/understanding.py --lang ru --long

File format: one utterance per line, `moves<TAB>utterance`, moves comma-separated or `unknown`;
lines starting with '#' are comments. Micro-F1 has one definition, `voice_trainer.dialogue.explain.evaluate`.

`--examples-only`: every move's patterns and rejects are removed and its examples replaced by those in
tests/data/SCENARIO.examples.LANG.yaml (≤ 10 per move, as a trainer would start), if that file exists.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from voice_trainer.dialogue.explain import Evaluation, Row, evaluate, read_rows
from voice_trainer.dialogue.understanding import UNKNOWN, MoveClassifier
from voice_trainer.errors import VoiceTrainerError
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def read_labelled(path: Path) -> list[Row]:
    try:
        return read_rows(path)
    except VoiceTrainerError as err:
        sys.exit(str(err))


def report(result: Evaluation) -> tuple[str, float]:
    out = ["| move | support | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for m in result.moves:
        out.append(f"| {m.move} | {m.support} | {m.precision:.2f} | {m.recall:.2f} | {m.f1:.2f} |")
    support = sum(m.support for m in result.moves)
    out.append(f"| **micro** | {support} | {result.micro_precision:.2f} | {result.micro_recall:.2f} | "
               f"**{result.micro_f1:.3f}** |")
    out.append(f"\n{result.rows} utterances.")
    return "\n".join(out), result.micro_f1


def examples_only(moves: dict, scenario: str, lang: str) -> dict:
    """The scenario's moves with patterns and rejects removed: what a trainer has who wrote examples only."""
    path = DATA / f"{scenario}.examples.{lang}.yaml"
    examples = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {name: move.model_copy(update={"patterns": [], "reject": [], "examples": examples.get(name, move.examples)})
            for name, move in moves.items()}


def timing(classifier: MoveClassifier, rows: list[Row], build_ms: float) -> str:
    """First pass: words not seen before (lemmatizer and lexicon caches cold); second pass: warm caches."""
    passes = []
    for _ in range(2):
        ms = []
        for row in rows:
            text = row.text
            # CPU time of this process, so other jobs on a busy machine don't inflate the figure.
            started = time.process_time()
            classifier.classify(text)
            ms.append((time.process_time() - started) * 1000)
        passes.append(ms)
    out = [f"classifier built in {build_ms:.0f} ms; CPU time per utterance:"]
    for name, ms in zip(("first pass", "warm"), passes):
        p95 = statistics.quantiles(ms, n=20)[-1]
        out.append(f"  {name}: mean {statistics.mean(ms):.2f} ms, p95 {p95:.2f} ms, max {max(ms):.2f} ms")
    return "\n".join(out)


def sounds(moves, lang: str, rows: list[Row]) -> str:
    """What taking real words for the pattern words they sound like gains, and what it gets wrong."""
    plain = MoveClassifier(moves, lang, sound_alikes=False)
    heard = MoveClassifier(moves, lang)
    right, wrong = [], []
    for row in rows:
        for move in heard.classify(row.text).by_sound:
            (right if move in row.moves else wrong).append((move, row.text))
    out = []
    for name, classifier in (("without sound-alikes", plain), ("with sound-alikes", heard)):
        out.append(f"{name}: micro-F1 {evaluate(classifier, rows, explain_misses=False).micro_f1:.3f}")
    out.append(f"moves made only through a sound-alike: {len(right)} right, {len(wrong)} wrong")
    out += [f"  wrong: {move}\t{text}" for move, text in wrong]
    return "\n".join(out)


FILLERS = {
    "ru": ["ну", "э", "ээ", "значит", "как бы", "в общем", "короче", "это самое", "так сказать", "м"],
    "en": ["um", "uh", "like", "so", "well", "you know", "i mean", "basically", "er", "kind of"],
}


def fillers(classifier: MoveClassifier, lang: str, rows: list[Row], seed: int = 7) -> str:
    """Put one to three fillers between the words of every utterance: how often does that change the moves?"""
    rng = random.Random(seed)
    changed = []
    for row in rows:
        text = row.text
        words = text.split()
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randint(0, len(words)), rng.choice(FILLERS[lang]))
        hesitant = " ".join(words)
        before, after = classifier.classify(text).moves, classifier.classify(hesitant).moves
        if set(before) != set(after):
            changed.append((text, hesitant, before, after))
    out = [f"fillers inserted into {len(rows)} utterances: moves changed in {len(changed)} "
           f"({100 * len(changed) / max(1, len(rows)):.1f} %)"]
    out += [f"  {hesitant}\t{','.join(b) or UNKNOWN} -> {','.join(a) or UNKNOWN}" for _, hesitant, b, a in changed]
    return "\n".join(out)


def long_turns(classifier: MoveClassifier, rows: list[Row]) -> str:
    """CPU time for one turn of 100, 1,000 and 10,000 words (dev utterances run together): it should grow
    linearly, about tenfold per step."""
    words = " ".join(row.text for row in rows).split()
    while len(words) < 10_000:
        words += words
    out = ["words  CPU ms  per 1,000 words"]
    for n in (100, 1_000, 10_000):
        text = " ".join(words[:n])
        classifier.classify(text)  # warm the caches: this measures the matching, not the dictionary
        started = time.process_time()
        classifier.classify(text)
        ms = (time.process_time() - started) * 1000
        out.append(f"{n:>6} {ms:>7.1f} {ms * 1000 / n:>9.1f}")
    return "\n".join(out)


def default_sets(scenario: str, lang: str) -> list[Path]:
    """Dev, holdout, then every blind batch of a scenario ("moves.LANG*.tsv" for the seed scenario)."""
    prefix = "moves" if scenario == "razryv" else f"{scenario}.moves"
    found = sorted(DATA.glob(f"{prefix}.{lang}*.tsv"))
    order = {f"{prefix}.{lang}.tsv": 0, f"{prefix}.{lang}.holdout.tsv": 1}
    return sorted(found, key=lambda p: (order.get(p.name, 2), p.name))


def summary(scenario_name: str, only_examples: bool = False) -> None:
    """The micro-F1 of every labelled set of a scenario in both languages, one line each."""
    for lang in ("ru", "en"):
        scenario = load(scenario_name, lang)
        moves = examples_only(scenario.data.moves, scenario_name, lang) if only_examples else scenario.data.moves
        classifier = MoveClassifier(moves, scenario.lang)
        for path in default_sets(scenario_name, lang):
            result = evaluate(classifier, read_labelled(path), explain_misses=False)
            print(f"{lang}  {path.name:<30} {result.rows:>5} utterances  micro-F1 {result.micro_f1:.3f}  "
                  f"(precision {result.micro_precision:.2f}, recall {result.micro_recall:.2f})")


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="labelled sets (default: all sets, both languages)")
    ap.add_argument("--lang", default="ru")
    ap.add_argument("--scenario", default="razryv")
    ap.add_argument("--errors", action="store_true", help="list misclassified utterances")
    ap.add_argument("--timing", action="store_true", help="print classification time per utterance")
    ap.add_argument("--sounds", action="store_true", help="compare with and without sound-alikes")
    ap.add_argument("--fillers", action="store_true", help="insert fillers and count changed results")
    ap.add_argument("--long", action="store_true", help="time turns of 100, 1,000 and 10,000 words")
    ap.add_argument("--examples-only", action="store_true", help="remove every move's patterns (examples only)")
    args = ap.parse_args()
    data = DATA
    if not args.files and not args.long:
        summary(args.scenario, args.examples_only)
        return
    try:
        scenario = load(args.scenario, args.lang)
    except VoiceTrainerError as err:
        sys.exit(str(err))
    moves = scenario.data.moves
    if args.examples_only:
        moves = examples_only(moves, args.scenario, scenario.lang)
    started = time.perf_counter()
    classifier = MoveClassifier(moves, scenario.lang)
    build_ms = (time.perf_counter() - started) * 1000
    rows = [r for f in args.files for r in read_labelled(f)]
    if args.long:
        print(long_turns(classifier, rows or read_labelled(data / f"moves.{args.lang}.tsv")))
        return
    if args.sounds:
        print(sounds(scenario.data.moves, scenario.lang, rows))
        return
    if args.fillers:
        print(fillers(classifier, scenario.lang, rows))
        return
    if args.timing:
        print(timing(classifier, rows, build_ms) + "\n")
    result = evaluate(classifier, rows, explain_misses=False)
    table, _ = report(result)
    print(table)
    if args.errors:
        print()
        for miss in result.misses:
            print(f"gold={','.join(miss.expected) or UNKNOWN}\tgot={','.join(miss.got) or UNKNOWN}\t{miss.text}")


if __name__ == "__main__":
    main()
