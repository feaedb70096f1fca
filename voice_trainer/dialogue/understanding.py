"""Which moves a trainee's utterance makes. One utterance may carry several moves; none means `unknown`.

A move is recognized when one of its patterns matches completely (see patterns.py) and none of its
`reject` patterns does, or, failing that, when the utterance is close to one of its example phrases.
Moves come out in the order they appear in the utterance, so "sorry ... when did you connect" is
apologize before ask_connect_date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from voice_trainer.dialogue.patterns import CompiledPattern, parse_pattern
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

    def __init__(self, moves: dict[str, Move], lang: str):
        self._lemmatizer = lemmatizer_for(lang)
        self._moves = tuple(self._compile(name, move) for name, move in moves.items())

    def _compile(self, name: str, move: Move) -> _MoveModel:
        lem = self._lemmatizer
        examples = []
        for example in move.examples:
            lemmas = [t.lemma for t in tokenize(example, lem)]
            examples.append((" ".join(sorted(lemmas)), frozenset(lemmas)))
        return _MoveModel(
            name=name,
            patterns=tuple(CompiledPattern(parse_pattern(p), lem) for p in move.patterns),
            reject=tuple(CompiledPattern(parse_pattern(p), lem) for p in move.reject),
            examples=tuple(examples),
        )

    def tokens(self, text: str) -> list[Token]:
        return tokenize(text, self._lemmatizer)

    def classify(self, text: str) -> Understanding:
        tokens = self.tokens(text)
        if not tokens:
            return Understanding(())
        lemma_key = " ".join(sorted(t.lemma for t in tokens))
        found: list[tuple[int, str]] = []
        scores: dict[str, float] = {}
        for move in self._moves:
            score, position = self._score(move, tokens, lemma_key)
            if score > 0:
                scores[move.name] = round(score, 3)
            if score >= 1.0 or (score >= self.example_threshold and len(tokens) >= self.example_min_tokens):
                if any(r.match(tokens).complete for r in move.reject):
                    scores[move.name] = 0.0
                    continue
                found.append((position, move.name))
        found.sort()
        return Understanding(tuple(name for _, name in found), scores)

    def _score(self, move: _MoveModel, tokens: list[Token], lemma_key: str) -> tuple[float, int]:
        best, position = 0.0, len(tokens)
        for pattern in move.patterns:
            m = pattern.match(tokens)
            if m.complete:
                if best < 1.0 or m.first_index < position:
                    best, position = 1.0, m.first_index
            elif best < 1.0 and m.groups_total > 1:
                best = max(best, 0.5 * m.groups_matched / m.groups_total)
        if best >= 1.0:
            return best, position
        lemmas = {t.lemma for t in tokens}
        for key, example_lemmas in move.examples:
            similarity = fuzz.ratio(lemma_key, key) / 100.0
            if similarity > best:
                best = similarity
                shared = [t.index for t in tokens if t.lemma in example_lemmas]
                position = shared[0] if shared else len(tokens)
        return best, position
