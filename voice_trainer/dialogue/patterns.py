"""Move patterns: word-order-free groups of alternatives, matched on surface forms and lemmas.

Syntax (one pattern per string):
    group + group + ...        every group must be found somewhere in the utterance (any order)
    alt | alt | ...            a group matches if any alternative does
    word word                  an alternative of several words must appear as adjacent words
    word*                      prefix: matches any word (or lemma) starting with `word`
    word                       matches the word itself or any inflected form (same lemma)
Examples: "какой|что за + модем*|роутер*", "sorry|apolog* + disconnect*|drop*".
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from voice_trainer.dialogue.text import Lemmatizer, Token


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool


@dataclass(frozen=True)
class Pattern:
    source: str
    groups: tuple[tuple[tuple[Word, ...], ...], ...]


def parse_pattern(source: str) -> Pattern:
    groups = []
    for raw_group in source.split("+"):
        alternatives = []
        for raw_alt in raw_group.split("|"):
            words = raw_alt.lower().replace("ё", "е").split()
            if not words:
                raise PatternError(f"pattern {source!r} has an empty alternative; write 'a|b + c'")
            parsed = []
            for w in words:
                prefix = w.endswith("*")
                core = w.rstrip("*")
                if not core or "*" in core:
                    raise PatternError(f"pattern {source!r}: {w!r} is not a word or a prefix like 'word*'")
                parsed.append(Word(core, prefix))
            alternatives.append(tuple(parsed))
        groups.append(tuple(alternatives))
    return Pattern(source, tuple(groups))


@dataclass(frozen=True)
class CompiledWord:
    text: str
    lemma: str
    prefix: bool


@dataclass(frozen=True)
class Match:
    groups_matched: int
    groups_total: int
    first_index: int

    @property
    def complete(self) -> bool:
        return self.groups_matched == self.groups_total


class CompiledPattern:
    """A pattern with its words lemmatized once, ready to match token lists."""

    def __init__(self, pattern: Pattern, lemmatizer: Lemmatizer, fuzzy_min_len: int = 6, fuzzy_ratio: float = 86):
        self.source = pattern.source
        self.groups = tuple(
            tuple(tuple(CompiledWord(w.text, w.text if w.prefix else lemmatizer.lemma(w.text), w.prefix) for w in alt)
                  for alt in group)
            for group in pattern.groups
        )
        self._fuzzy_min_len = fuzzy_min_len
        self._fuzzy_ratio = fuzzy_ratio

    def match(self, tokens: list[Token]) -> Match:
        matched = 0
        first = len(tokens)
        for group in self.groups:
            hit = self._find_group(group, tokens)
            if hit is not None:
                matched += 1
                first = min(first, hit)
        return Match(matched, len(self.groups), first)

    def _find_group(self, group, tokens: list[Token]) -> int | None:
        for alt in group:
            for start in range(len(tokens) - len(alt) + 1):
                if all(self._word_matches(w, tokens[start + k]) for k, w in enumerate(alt)):
                    return start
        return None

    def _word_matches(self, word: CompiledWord, token: Token) -> bool:
        if word.prefix:
            if token.surface.startswith(word.text) or token.lemma.startswith(word.text):
                return True
            # A misrecognized word usually keeps most of its stem.
            return (
                len(word.text) >= self._fuzzy_min_len
                and len(token.surface) >= len(word.text)
                and fuzz.ratio(token.surface[: len(word.text)], word.text) >= self._fuzzy_ratio
            )
        if token.surface == word.text or token.lemma == word.lemma:
            return True
        return (
            len(word.text) >= self._fuzzy_min_len
            and fuzz.ratio(token.surface, word.text) >= self._fuzzy_ratio
        )
