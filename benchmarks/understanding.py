"""Precision / recall per move of the move classifier on a labelled utterance set.

    python benchmarks/understanding.py                      # every dev, holdout and blind set, both languages
    python benchmarks/understanding.py --lang ru tests/data/moves.ru.tsv [--errors] [--timing]
    python benchmarks/understanding.py --lang ru tests/data/sound_alikes.ru.tsv --sounds
    python benchmarks/understanding.py --lang ru tests/data/moves.ru.tsv --fillers
    python benchmarks/understanding.py --lang ru --long

File format: one utterance per line, `moves<TAB>utterance`, moves comma-separated or `unknown`;
lines starting with '#' are comments.
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

from voice_trainer.dialogue.understanding import UNKNOWN, MoveClassifier
from voice_trainer.errors import VoiceTrainerError
from voice_trainer.scenario.loader import load


def read_labelled(path: Path) -> list[tuple[set[str], str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            labels, text = line.split("\t", 1)
        except ValueError:
            sys.exit(f"{path}:{n}: expected 'moves<TAB>utterance'")
        moves = {m.strip() for m in labels.split(",") if m.strip()} - {UNKNOWN}
        rows.append((moves, text.strip()))
    return rows


def evaluate(classifier: MoveClassifier, rows: list[tuple[set[str], str]]):
    tp, fp, fn = Counter(), Counter(), Counter()
    errors = []
    for gold, text in rows:
        predicted = set(classifier.classify(text).moves)
        for m in predicted & gold:
            tp[m] += 1
        for m in predicted - gold:
            fp[m] += 1
        for m in gold - predicted:
            fn[m] += 1
        if predicted != gold:
            errors.append((text, sorted(gold) or [UNKNOWN], sorted(predicted) or [UNKNOWN]))
    return tp, fp, fn, errors


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def report(tp: Counter, fp: Counter, fn: Counter, moves: list[str], rows: int) -> tuple[str, float]:
    out = ["| move | support | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for m in moves:
        p = tp[m] / (tp[m] + fp[m]) if tp[m] + fp[m] else 1.0
        r = tp[m] / (tp[m] + fn[m]) if tp[m] + fn[m] else 1.0
        out.append(f"| {m} | {tp[m] + fn[m]} | {p:.2f} | {r:.2f} | {f1(p, r):.2f} |")
    T, F_P, F_N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p = T / (T + F_P) if T + F_P else 1.0
    micro_r = T / (T + F_N) if T + F_N else 1.0
    micro = f1(micro_p, micro_r)
    out.append(f"| **micro** | {T + F_N} | {micro_p:.2f} | {micro_r:.2f} | **{micro:.3f}** |")
    out.append(f"\n{rows} utterances.")
    return "\n".join(out), micro


def timing(classifier: MoveClassifier, rows: list[tuple[set[str], str]], build_ms: float) -> str:
    """First pass: words not seen before (lemmatizer and lexicon caches cold); second pass: warm caches."""
    passes = []
    for _ in range(2):
        ms = []
        for _, text in rows:
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


def sounds(moves, lang: str, rows: list[tuple[set[str], str]]) -> str:
    """What taking real words for the pattern words they sound like gains, and what it gets wrong."""
    plain = MoveClassifier(moves, lang, sound_alikes=False)
    heard = MoveClassifier(moves, lang)
    right, wrong = [], []
    for gold, text in rows:
        for move in heard.classify(text).by_sound:
            (right if move in gold else wrong).append((move, text))
    out = []
    for name, classifier in (("without sound-alikes", plain), ("with sound-alikes", heard)):
        tp, fp, fn, _ = evaluate(classifier, rows)
        _, micro = report(tp, fp, fn, list(moves), len(rows))
        out.append(f"{name}: micro-F1 {micro:.3f}")
    out.append(f"moves made only through a sound-alike: {len(right)} right, {len(wrong)} wrong")
    out += [f"  wrong: {move}\t{text}" for move, text in wrong]
    return "\n".join(out)


FILLERS = {
    "ru": ["ну", "э", "ээ", "значит", "как бы", "в общем", "короче", "это самое", "так сказать", "м"],
    "en": ["um", "uh", "like", "so", "well", "you know", "i mean", "basically", "er", "kind of"],
}


def fillers(classifier: MoveClassifier, lang: str, rows: list[tuple[set[str], str]], seed: int = 7) -> str:
    """Put one to three fillers between the words of every utterance: how often does that change the moves?"""
    rng = random.Random(seed)
    changed = []
    for _, text in rows:
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


def long_turns(classifier: MoveClassifier, rows: list[tuple[set[str], str]]) -> str:
    """CPU time for one turn of 100, 1,000 and 10,000 words (dev utterances run together): it should grow
    linearly, about tenfold per step."""
    words = " ".join(text for _, text in rows).split()
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


DEFAULT_SETS = ("moves.{lang}.tsv", "moves.{lang}.holdout.tsv", "moves.{lang}.blind3.tsv")


def summary(data: Path) -> None:
    """The micro-F1 of every labelled set in both languages, one line each."""
    for lang in ("ru", "en"):
        scenario = load("razryv", lang)
        classifier = MoveClassifier(scenario.data.moves, scenario.lang)
        for pattern in DEFAULT_SETS:
            path = data / pattern.format(lang=lang)
            rows = read_labelled(path)
            tp, fp, fn, _ = evaluate(classifier, rows)
            _, micro = report(tp, fp, fn, list(scenario.data.moves), len(rows))
            print(f"{lang}  {path.name:<28} {len(rows):>5} utterances  micro-F1 {micro:.3f}")


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
    args = ap.parse_args()
    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    if not args.files and not args.long:
        summary(data)
        return
    try:
        scenario = load(args.scenario, args.lang)
    except VoiceTrainerError as err:
        sys.exit(str(err))
    started = time.perf_counter()
    classifier = MoveClassifier(scenario.data.moves, scenario.lang)
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
    tp, fp, fn, errors = evaluate(classifier, rows)
    table, micro = report(tp, fp, fn, list(scenario.data.moves), len(rows))
    print(table)
    if args.errors:
        print()
        for text, gold, predicted in errors:
            print(f"gold={','.join(gold)}\tgot={','.join(predicted)}\t{text}")


if __name__ == "__main__":
    main()
