"""Which moves a trainee's utterance makes. One utterance may carry several moves; none means `unknown`.

A move is recognized when one of its patterns matches completely (see patterns.py) on a stretch of words
that no `reject` pattern overlaps, or, failing that, when the utterance is close to one of its example phrases.
Moves come out in the order they appear in the utterance, so "sorry ... when did you connect" is
apologize before ask_connect_date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from voice_trainer.dialogue.patterns import CompiledPattern, Lexicon, Span, Utterance, parse_pattern
from voice_trainer.dialogue.text import Token, lemmatizer_for, tokenize
from voice_trainer.scenario.schema import Move

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Understanding:
    moves: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def is_unknown(self) -> bool:
        return not self.moves


@dataclass(frozen=True)
class _MoveModel:
    name: str
    patterns: tuple[CompiledPattern, ...]
    reject: tuple[CompiledPattern, ...]
    examples: tuple[tuple[str, frozenset[str]], ...]  # (sorted lemma string, lemma set)


class MoveClassifier:
    # An utterance this close to an example counts as that move even if no pattern matched.
    # Tuned on the dev sets in tests/data/; see docs/understanding.md.
    example_threshold = 0.86
    # Example matching is only trusted for utterances of a few words or more; short ones are too easy to confuse.
    example_min_tokens = 3
    # Scores below this are noise (any two sentences share some letters); they are left out of `scores`.
    near_miss_score = 0.5

    def __init__(self, moves: dict[str, Move], lang: str):
        self._lemmatizer = lemmatizer_for(lang)
        self._lexicon = Lexicon(self._lemmatizer)
        self._moves = tuple(self._compile(name, move) for name, move in moves.items())

    def _compile(self, name: str, move: Move) -> _MoveModel:
        lem = self._lemmatizer
        examples = []
        for example in move.examples:
            lemmas = [t.lemma for t in tokenize(example, lem)]
            examples.append((" ".join(sorted(lemmas)), frozenset(lemmas)))
        return _MoveModel(
            name=name,
            patterns=tuple(CompiledPattern(parse_pattern(p), self._lexicon) for p in move.patterns),
            reject=tuple(CompiledPattern(parse_pattern(p), self._lexicon) for p in move.reject),
            examples=tuple(examples),
        )

    def tokens(self, text: str) -> list[Token]:
        return tokenize(text, self._lemmatizer)

    def classify(self, text: str) -> Understanding:
        tokens = self.tokens(text)
        if not tokens:
            return Understanding(())
        utterance = self._lexicon.read(tokens)
        lemma_key = " ".join(sorted(t.lemma for t in tokens))
        found: list[tuple[int, str]] = []
        scores: dict[str, float] = {}
        for move in self._moves:
            score, position = self._score(move, utterance, lemma_key)
            if score >= self.near_miss_score:
                scores[move.name] = round(score, 3)
            if position is not None:
                found.append((position, move.name))
            elif score >= 1.0:
                scores[move.name] = 0.0  # every match was cancelled by a reject pattern
        found.sort()
        return Understanding(tuple(name for _, name in found), scores)

    def _score(self, move: _MoveModel, u: Utterance, lemma_key: str) -> tuple[float, int | None]:
        """The move's score and, if it is made, the word where it starts."""
        matches = [p.match(u) for p in move.patterns]
        spans = [span for m in matches for span in m.spans]
        if spans:
            rejected = self._rejected(move, u)
            kept = [s for s in spans if not any(s.overlaps(r) for r in rejected)]
            return 1.0, (min(s.start for s in kept) if kept else None)
        best = max((0.5 * m.groups_found / m.groups_total for m in matches if m.groups_total > 1), default=0.0)
        position = None
        for key, example_lemmas in move.examples:
            similarity = fuzz.ratio(lemma_key, key) / 100.0
            if similarity > best:
                best = similarity
                close = similarity >= self.example_threshold and len(u.tokens) >= self.example_min_tokens
                if close and not self._rejected(move, u):
                    shared = [t.index for t in u.tokens if t.lemma in example_lemmas]
                    position = shared[0] if shared else len(u.tokens)
        return best, position

    @staticmethod
    def _rejected(move: _MoveModel, u: Utterance) -> list[Span]:
        return [span for r in move.reject for span in r.match(u).reach]
