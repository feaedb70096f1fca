"""Why a turn made the moves it made, and how well a classifier does on a labelled set.

`MoveClassifier.explain(text)` returns an `Explanation`: for each move made, the pattern (its source string and
key path, `moves.NAME.patterns.I`) or example that made it and the words that matched; for a move not made, the
nearest pattern that didn't fire (groups found of groups needed, the groups missing), and any reject pattern,
denial or negation that cancelled a match. `evaluate(classifier, rows)` computes per-move precision, recall
and F1, micro-F1, the confusion pairs and every miss with its explanation. Both are small frozen values with
`to_json()`, for `voice-trainer classify --explain/--eval` and `benchmarks/understanding.py`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from voice_trainer.dialogue.errors import DialogueError

if TYPE_CHECKING:
    from voice_trainer.dialogue.understanding import MoveClassifier

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Said:
    """One word of the turn: its place among the turn's words (as normalized: lowercase, no punctuation)."""

    index: int
    surface: str
    by_sound: bool = False  # taken for a pattern word it only sounds like

    def to_json(self) -> dict:
        out: dict = {"index": self.index, "word": self.surface}
        if self.by_sound:
            out["by_sound"] = True
        return out


@dataclass(frozen=True)
class Source:
    """A pattern, reject pattern or example of a move, as written in the scenario."""

    move: str
    key: str  # "patterns", "reject" or "examples"
    index: int
    text: str

    @property
    def path(self) -> str:
        """The key path `scenario check` uses: moves.NAME.KEY.INDEX."""
        return f"moves.{self.move}.{self.key}.{self.index}"

    def to_json(self) -> dict:
        return {"path": self.path, "text": self.text}


@dataclass(frozen=True)
class Made:
    """A move the turn made, and what made it."""

    move: str
    score: float
    source: Source
    words: tuple[Said, ...]
    similarity: float | None = None  # for an example: how much of it (or of its move's words) was found
    by_sound: bool = False

    def to_json(self) -> dict:
        out = {"move": self.move, "score": self.score, "by": self.source.to_json(),
               "words": [w.to_json() for w in self.words]}
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 3)
        if self.by_sound:
            out["by_sound"] = True
        return out


@dataclass(frozen=True)
class Cancelled:
    """A match that was there but didn't count."""

    source: Source
    words: tuple[Said, ...]
    reason: str  # "reject", "denial", "negation" or "sound_context"
    by: Source | None = None  # the reject pattern
    frame: tuple[Said, ...] = ()  # the denial frame's or negation's own words

    def to_json(self) -> dict:
        out: dict = {"pattern": self.source.to_json(), "words": [w.to_json() for w in self.words],
                     "reason": self.reason}
        if self.by is not None:
            out["by"] = self.by.to_json()
        if self.frame:
            out["frame"] = [w.to_json() for w in self.frame]
        return out


@dataclass(frozen=True)
class NearMiss:
    """The pattern of a move that came closest without matching."""

    source: Source
    groups_found: int
    groups_needed: int
    missing: tuple[str, ...]  # the groups not found, as written ("модем*|роутер*")
    words: tuple[Said, ...]  # the words of the groups that were found

    def to_json(self) -> dict:
        return {"pattern": self.source.to_json(), "groups_found": self.groups_found,
                "groups_needed": self.groups_needed, "missing": list(self.missing),
                "words": [w.to_json() for w in self.words]}


@dataclass(frozen=True)
class NotMade:
    """A move the turn did not make, and how close it came."""

    move: str
    score: float
    nearest: NearMiss | None = None
    cancelled: tuple[Cancelled, ...] = ()
    example: Source | None = None  # the closest example
    similarity: float | None = None

    def to_json(self) -> dict:
        out: dict = {"move": self.move, "score": self.score}
        if self.nearest is not None:
            out["nearest"] = self.nearest.to_json()
        if self.cancelled:
            out["cancelled"] = [c.to_json() for c in self.cancelled]
        if self.example is not None:
            out["example"] = self.example.to_json()
            out["similarity"] = round(self.similarity or 0.0, 3)
        return out


@dataclass(frozen=True)
class Explanation:
    text: str
    words: tuple[str, ...]  # the turn's words, normalized; `Said.index` points into these
    fillers: tuple[int, ...]  # the words read as fillers and left out
    made: tuple[Made, ...]
    not_made: tuple[NotMade, ...] = ()

    @property
    def moves(self) -> tuple[str, ...]:
        return tuple(m.move for m in self.made)

    def to_json(self) -> dict:
        return {"text": self.text, "words": list(self.words), "fillers": list(self.fillers),
                "moves": list(self.moves) or [UNKNOWN], "made": [m.to_json() for m in self.made],
                "not_made": [m.to_json() for m in self.not_made]}


# -- evaluation ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One labelled utterance: the moves it makes (empty for `unknown`)."""

    moves: frozenset[str]
    text: str
    line: int = 0


def read_rows(path: Path, known: Iterable[str] | None = None) -> list[Row]:
    """A labelled set: `moves<TAB>utterance` per line, moves comma-separated or `unknown`, `#` comments.
    Raises DialogueError naming the file and line of a malformed row or an unknown move."""
    known_moves = set(known) if known is not None else None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DialogueError(f"{path}: cannot read the labelled set ({err.__class__.__name__}: {err})") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        labels, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise DialogueError(f"{path}:{n}: expected 'moves<TAB>utterance' (moves comma-separated or 'unknown')")
        moves = frozenset(m.strip() for m in labels.split(",") if m.strip()) - {UNKNOWN}
        if known_moves is not None and moves - known_moves:
            unknown = ", ".join(sorted(moves - known_moves))
            raise DialogueError(f"{path}:{n}: unknown move {unknown}; the scenario's moves are "
                                f"{', '.join(sorted(known_moves))} (or 'unknown')")
        rows.append(Row(moves, text.strip(), n))
    return rows


@dataclass(frozen=True)
class MoveScore:
    move: str
    support: int  # utterances labelled with it
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        made = self.true_positives + self.false_positives
        return self.true_positives / made if made else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def to_json(self) -> dict:
        return {"move": self.move, "support": self.support, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(frozen=True)
class Miss:
    """An utterance whose moves differ from its label."""

    text: str
    expected: tuple[str, ...]
    got: tuple[str, ...]
    explanation: Explanation
    line: int = 0

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(m for m in self.expected if m not in self.got)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(m for m in self.got if m not in self.expected)

    def to_json(self) -> dict:
        return {"text": self.text, "line": self.line, "expected": list(self.expected) or [UNKNOWN],
                "got": list(self.got) or [UNKNOWN], "explanation": self.explanation.to_json()}


@dataclass(frozen=True)
class Evaluation:
    rows: int
    moves: tuple[MoveScore, ...]
    confusion: tuple[tuple[str, str, int], ...]  # (labelled, made instead, times); "unknown" for none
    misses: tuple[Miss, ...] = field(default=())

    @property
    def micro_precision(self) -> float:
        tp = sum(m.true_positives for m in self.moves)
        made = tp + sum(m.false_positives for m in self.moves)
        return tp / made if made else 1.0

    @property
    def micro_recall(self) -> float:
        tp = sum(m.true_positives for m in self.moves)
        support = sum(m.support for m in self.moves)
        return tp / support if support else 1.0

    @property
    def micro_f1(self) -> float:
        """The one definition of micro-F1 over moves: each utterance's made set against its labelled set."""
        return _f1(self.micro_precision, self.micro_recall)

    def move(self, name: str) -> MoveScore:
        return next(m for m in self.moves if m.move == name)

    def to_json(self) -> dict:
        return {"rows": self.rows, "micro_precision": round(self.micro_precision, 4),
                "micro_recall": round(self.micro_recall, 4), "micro_f1": round(self.micro_f1, 4),
                "moves": [m.to_json() for m in self.moves],
                "confusion": [{"expected": a, "got": b, "times": n} for a, b, n in self.confusion],
                "misses": [m.to_json() for m in self.misses]}


def evaluate(classifier: MoveClassifier, rows: Iterable[Row | tuple[Iterable[str], str]],
             explain_misses: bool = True) -> Evaluation:
    """Per-move precision, recall and F1 of `classifier` on labelled `rows`, the confusion pairs and the misses
    (each with its explanation unless `explain_misses` is off, which is faster)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    misses = []
    count = 0
    for row in rows:
        gold, text, line = (row.moves, row.text, row.line) if isinstance(row, Row) else (set(row[0]) - {UNKNOWN},
                                                                                        row[1], 0)
        count += 1
        got = classifier.classify(text).moves
        made = set(got)
        for m in made & gold:
            tp[m] += 1
        for m in made - gold:
            fp[m] += 1
        for m in gold - made:
            fn[m] += 1
        if made == gold:
            continue
        for a in sorted(gold - made) or [UNKNOWN]:
            for b in sorted(made - gold) or [UNKNOWN]:
                confusion[(a, b)] += 1
        expected = tuple(sorted(gold))
        explanation = (classifier.explain(text, moves=sorted(gold - made)) if explain_misses
                       else Explanation(text, (), (), ()))
        misses.append(Miss(text, expected, tuple(got), explanation, line))
    names = list(classifier.move_names) + sorted((set(tp) | set(fn) | set(fp)) - set(classifier.move_names))
    scores = tuple(MoveScore(m, tp[m] + fn[m], tp[m], fp[m], fn[m]) for m in names)
    pairs = tuple((a, b, n) for (a, b), n in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0])))
    return Evaluation(count, scores, pairs, tuple(misses))


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
