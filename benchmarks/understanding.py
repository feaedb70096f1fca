"""Precision / recall per move of the move classifier on a labelled utterance set.

    python benchmarks/understanding.py --lang ru tests/data/moves.ru.tsv [--errors] [--timing]

File format: one utterance per line, `moves<TAB>utterance`, moves comma-separated or `unknown`;
lines starting with '#' are comments.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--lang", default="ru")
    ap.add_argument("--scenario", default="razryv")
    ap.add_argument("--errors", action="store_true", help="list misclassified utterances")
    ap.add_argument("--timing", action="store_true", help="print classification time per utterance")
    args = ap.parse_args()
    try:
        scenario = load(args.scenario, args.lang)
    except VoiceTrainerError as err:
        sys.exit(str(err))
    started = time.perf_counter()
    classifier = MoveClassifier(scenario.data.moves, scenario.lang)
    build_ms = (time.perf_counter() - started) * 1000
    rows = [r for f in args.files for r in read_labelled(f)]
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
