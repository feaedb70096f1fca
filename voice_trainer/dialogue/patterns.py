"""Move patterns: word-order-free groups of alternatives, matched on surface forms, lemmas and near-misses.

Syntax (one pattern per string):
    group + group + ...        every group must be found, in any order, within a few words of each other
    group > group > ...        the same, in this order ("пока > читаете": "пока" first)
    alt | alt | ...            a group matches if any alternative does
    word word                  an alternative of several words must appear as adjacent words
    word*                      prefix: matches any word (or lemma) starting with `word`
    word                       matches the word itself or any inflected form (same lemma)
    =word                      this form only: "=понимаю" is the trainee's "I understand", not "вы понимаете"
    word!  word*!              affirmed: does not count right after a negation ("не буду вас приглашать")
    ... ~N                     at the end: all groups within N words (default 10)
Examples: "какой|что за + модем*|роутер*", "офис* + приглаша*!|приход*!", "извините + вопрос* ~3".

Speech recognition misspells: a pattern word of five letters or more (six without a dictionary) also
matches a token one edit away (two for long words), so "рызрывы" still counts as "разрыв*". With a
dictionary (Russian), only tokens the dictionary doesn't know are taken for misrecognitions, and words
are compared by how they sound (unstressed о/а, е/и, final д/т… merge), so "дагавор" is "договор" and a
four-letter "офиз" is "офис".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from voice_trainer.dialogue.text import CLAUSE_BREAKS, Lemmatizer, Token, negated_positions


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False
    affirmed: bool = False
    form_only: bool = False


@dataclass(frozen=True)
class Pattern:
    source: str
    groups: tuple[tuple[tuple[Word, ...], ...], ...]
    max_span: int | None = None
    ordered: bool = False


_SPAN = re.compile(r"\s~(\d+)\s*$")


def parse_pattern(source: str) -> Pattern:
    groups = []
    max_span = None
    body = source
    if m := _SPAN.search(" " + source):
        max_span = int(m.group(1))
        body = source[: source.rindex("~")]
        if max_span < 1:
            raise PatternError(f"pattern {source!r}: '~{max_span}' must allow at least one word")
    if "~" in body:
        raise PatternError(f"pattern {source!r}: '~N' (words the match may span) goes at the very end, after a space")
    ordered = ">" in body
    if ordered and "+" in body:
        raise PatternError(f"pattern {source!r} mixes '+' and '>'; a pattern is either in any order or in order")
    for raw_group in body.split(">" if ordered else "+"):
        alternatives = []
        for raw_alt in raw_group.split("|"):
            words = raw_alt.lower().replace("ё", "е").split()
            if not words:
                raise PatternError(f"pattern {source!r} has an empty alternative; write 'a|b + c'")
            alternatives.append(tuple(_parse_word(source, w) for w in words))
        groups.append(tuple(alternatives))
    return Pattern(source, tuple(groups), max_span, ordered)


def _parse_word(source: str, raw: str) -> Word:
    affirmed = raw.endswith("!")
    core = raw[:-1] if affirmed else raw
    form_only = core.startswith("=")
    core = core[1:] if form_only else core
    prefix = core.endswith("*")
    core = core[:-1] if prefix else core
    if not core or any(c in core for c in "*!=+>") or (prefix and form_only):
        raise PatternError(f"pattern {source!r}: {raw!r} is not a word, a prefix 'word*', a form '=word' "
                           "or an affirmed 'word!'")
    return Word(core, prefix, affirmed, form_only)


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # inclusive

    def overlaps(self, other: Span) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Utterance:
    """Tokens with, for each, the ids of the lexicon words it matches and whether it sits under a negation."""

    tokens: tuple[Token, ...]
    words: tuple[frozenset[int], ...]
    negated: tuple[bool, ...]
    present: frozenset[int] = frozenset()  # every lexicon word found anywhere in the utterance


class Lexicon:
    """Every distinct word of a scenario's patterns; each utterance token is matched against all of them once."""

    def __init__(self, lemmatizer: Lemmatizer, fuzzy_min_len: int | None = None, long_word_len: int = 12):
        self._lemmatizer = lemmatizer
        self._is_known = getattr(lemmatizer, "is_known", None)
        self._sound_key = getattr(lemmatizer, "sound_key", None) or (lambda word, word_end=True: word)
        # With a dictionary, only unknown tokens are taken for misrecognitions, so shorter words are safe too
        # (a four-letter word must then sound the same: "офиз" for "офис").
        if fuzzy_min_len is None:
            fuzzy_min_len = 4 if self._is_known else 6
        self._one_edit_len = fuzzy_min_len if fuzzy_min_len >= 5 else 5
        self._ids: dict[Word, int] = {}
        self._by_surface: dict[str, set[int]] = {}
        self._by_lemma: dict[str, set[int]] = {}
        self._by_prefix: dict[str, set[int]] = {}
        # key length -> (sound keys, (word id, prefix, form only))
        self._fuzzy: dict[int, tuple[list[str], list[tuple[int, bool, bool]]]] = {}
        self._fuzzy_min_len = fuzzy_min_len
        self._long_word_len = long_word_len
        self.affirmed: set[int] = set()

    def add(self, word: Word) -> int:
        if word in self._ids:
            return self._ids[word]
        wid = len(self._ids)
        self._ids[word] = wid
        if word.affirmed:
            self.affirmed.add(wid)
        keys = {word.text}
        if word.prefix:
            self._by_prefix.setdefault(word.text, set()).add(wid)
        elif word.form_only:
            self._by_surface.setdefault(word.text, set()).add(wid)
        else:
            lemma = self._lemmatizer.lemma(word.text)
            self._by_surface.setdefault(word.text, set()).add(wid)
            self._by_lemma.setdefault(lemma, set()).add(wid)
            keys.add(lemma)
        for key in keys:
            if len(key) >= self._fuzzy_min_len:
                bucket = self._fuzzy.setdefault(len(key), ([], []))
                bucket[0].append(self._sound_key(key, word_end=not word.prefix))
                bucket[1].append((wid, word.prefix, word.form_only))
        self.token_words.cache_clear()
        return wid

    def read(self, tokens: list[Token]) -> Utterance:
        words = [self.token_words(t.surface, t.lemmas or (t.lemma,)) for t in tokens]
        for i, joined in self._split_words(tokens):
            both = self.token_words(joined, self._lemmatizer.lemmas(joined))
            words[i], words[i + 1] = words[i] | both, words[i + 1] | both
        return Utterance(tuple(tokens), tuple(words), negated_positions(tokens), frozenset().union(*words))

    def _split_words(self, tokens: list[Token]):
        """Words the recognizer cut in two ("под ключились"): a piece the dictionary doesn't know that
        makes a dictionary word with its neighbour. Each piece then also counts as the whole word."""
        if not self._is_known:
            return
        for i in range(len(tokens) - 1):
            a, b = tokens[i].surface, tokens[i + 1].surface
            if (not self._is_known(a) or not self._is_known(b)) and self._is_known(a + b):
                yield i, a + b

    @lru_cache(maxsize=20_000)
    def token_words(self, surface: str, lemmas: tuple[str, ...]) -> frozenset[int]:
        found: set[int] = set(self._by_surface.get(surface, ()))
        for form in (surface, *lemmas):
            found.update(self._by_lemma.get(form, ()))
            for end in range(1, len(form) + 1):
                found.update(self._by_prefix.get(form[:end], ()))
        # A word from the dictionary is what it says ("придете" is not a misheard "привет").
        if len(surface) >= self._fuzzy_min_len and not (self._is_known and self._is_known(surface)):
            for form in dict.fromkeys((surface, *lemmas)):  # a guessed lemma may be closer than the surface
                found.update(self._near_misses(self._sound_key(form)))
        return frozenset(found)

    def _near_misses(self, sounded: str) -> set[int]:
        found = set()
        for length, (keys, owners) in self._fuzzy.items():
            if length > len(sounded) + 1:
                continue
            allowed = 2 if length >= self._long_word_len else 1 if length >= self._one_edit_len else 0
            # Compare the token's stem of about the key's length: one letter more or less is an edit too.
            stems = {sounded[:length]} if allowed == 0 else {sounded[: length - 1], sounded[:length], sounded[: length + 1]}
            for stem in stems:
                for _, distance, index in process.extract(stem, keys, scorer=Levenshtein.distance,
                                                          score_cutoff=allowed, limit=None):
                    wid, prefix, form_only = owners[index]
                    if form_only:  # an exact form is only forgiven a spelling by ear, in full
                        if distance == 0 and stem == sounded:
                            found.add(wid)
                    # A whole word may only differ by its inflection ending after the matched stem.
                    elif prefix or len(sounded) - len(stem) <= 3:
                        found.add(wid)
        return found


@dataclass(frozen=True)
class PatternMatch:
    spans: tuple[Span, ...]  # every smallest stretch holding all groups, within the pattern's span limit
    groups_found: int
    groups_total: int
    # The same stretches stretched over every further word of the pattern within the span limit:
    # what a reject pattern covers ("пока вы читаете текст смотрите картинки" covers "смотрите" too).
    reach: tuple[Span, ...] = ()


class CompiledPattern:
    """A pattern whose words are registered in a lexicon, ready to find its spans in an utterance."""

    def __init__(self, pattern: Pattern, lexicon: Lexicon, max_span: int = 10):
        self.source = pattern.source
        self.groups = tuple(tuple(tuple(lexicon.add(w) for w in alt) for alt in group) for group in pattern.groups)
        self._affirmed = lexicon.affirmed
        self.max_span = pattern.max_span or max_span
        self.ordered = pattern.ordered
        # Alternatives by their first word, so an utterance only tries the ones its words can start.
        self._by_first: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        for g, group in enumerate(self.groups):
            for alt in group:
                self._by_first.setdefault(alt[0], []).append((g, alt))
        self._firsts = frozenset(self._by_first)
        self._group_firsts = tuple(frozenset(alt[0] for alt in group) for group in self.groups)

    def hits(self, u: Utterance) -> list[tuple[int, int, int]]:
        """(start, end, group) for every place an alternative of a group occurs."""
        found = []
        n = len(u.tokens)
        affirmed = self._affirmed
        for start, words in enumerate(u.words):
            for first in words & self._firsts:
                for g, alt in self._by_first[first]:
                    end = start + len(alt) - 1
                    if end >= n:
                        continue
                    if all(wid in u.words[start + k] and not (wid in affirmed and u.negated[start + k])
                           for k, wid in enumerate(alt)):
                        found.append((start, end, g))
        return found

    def match(self, u: Utterance) -> PatternMatch:
        need = len(self.groups)
        possible = sum(1 for firsts in self._group_firsts if firsts & u.present)
        if possible < need:  # most patterns, most of the time: skip the word-by-word search
            return PatternMatch((), possible, need)
        hits = sorted(set(self.hits(u)))
        spans = self._ordered_spans(hits) if self.ordered else self._spans(hits)
        return PatternMatch(tuple(spans), len({g for _, _, g in hits}), need, self._reach(spans, hits, u))

    def _spans(self, hits: list[tuple[int, int, int]]) -> list[Span]:
        spans = []
        for i, (start, _, _) in enumerate(hits):
            seen: dict[int, int] = {}
            for s, e, g in hits[i:]:
                if s - start >= self.max_span:
                    break
                seen.setdefault(g, e)
                if len(seen) == len(self.groups):
                    end = max(seen.values())
                    if end - start < self.max_span:
                        spans.append(Span(start, end))
                    break
        return spans

    def _ordered_spans(self, hits: list[tuple[int, int, int]]) -> list[Span]:
        spans = []
        for i, (start, end, g) in enumerate(hits):
            if g != 0:
                continue
            wanted = 1
            for s, e, g in hits[i + 1:]:
                if wanted == len(self.groups) or e - start >= self.max_span:
                    break
                if g == wanted and s > end:
                    wanted, end = wanted + 1, e
            if wanted == len(self.groups) and end - start < self.max_span:
                spans.append(Span(start, end))
        return spans

    def _reach(self, spans: list[Span], hits: list[tuple[int, int, int]], u: Utterance) -> tuple[Span, ...]:
        """Each span stretched over the pattern's further words, but not past a clause break ("а", "но"):
        "ни одного разрыва а с какого момента" is two clauses, and a reject mustn't join them."""
        breaks = [i for i, t in enumerate(u.tokens) if t.surface in CLAUSE_BREAKS]
        reach = []
        for span in spans:
            stop = next((b for b in breaks if b > span.start), len(u.tokens))
            if span.end >= stop:
                continue
            end = max(e for s, e, _ in hits if span.start <= s and e < stop and e - span.start < self.max_span)
            reach.append(Span(span.start, end))
        return tuple(reach)
