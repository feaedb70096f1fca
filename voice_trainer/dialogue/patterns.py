"""Matching move patterns: word-order-free groups of alternatives, found by surface form, lemma and sound.

The syntax (what a trainer writes) is parsed in voice_trainer/scenario/patterns.py; see its docstring and
docs/understanding.md. This module finds a parsed pattern in an utterance.

Speech recognition misspells: a pattern word of five letters or more (six without a dictionary) also
matches a token one edit away (two for long words), so "рызрывы" still counts as "разрыв*". With a
dictionary (Russian), only tokens the dictionary doesn't know are taken for misspellings, and words
are compared by how they sound (unstressed о/а, е/и, final д/т… merge), so "дагавор" is "договор" and a
four-letter "офиз" is "офис".

A recognizer with a fixed vocabulary (Vosk) also hears a *real* word that sounds like the one said
("извилите", "пустите" for "простите"). Such sound-alikes are kept apart (`Utterance.sounds`): they only
count for a move when the rest of the utterance fits that move, which the classifier decides.

Every step is linear in the length of the utterance: lookups are per token and cached, and spans and
their reach only look a bounded window ahead.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from voice_trainer.dialogue.fillers import without_fillers
from voice_trainer.dialogue.negation import denials, negated_positions
from voice_trainer.dialogue.sounds import SOUND_KEYS, allowed_sound_distance, same_onset, sound_distance
from voice_trainer.dialogue.text import CLAUSE_BREAKS, Lemmatizer, Token
from voice_trainer.scenario.patterns import Pattern, PatternError, Word, parse_pattern

__all__ = ["CompiledPattern", "Lexicon", "Pattern", "PatternError", "PatternMatch", "Span", "Utterance", "Word",
           "parse_pattern"]

# A real word is taken for a sound-alike of a pattern word only from this length on: shorter words have
# too many neighbours.
SOUND_ALIKE_MIN_LEN = 5


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # inclusive
    # Where the pattern's words were found, and which of them only by sound (a real word heard for another).
    hits: tuple[int, ...] = field(default=(), compare=False)
    sounded: tuple[int, ...] = field(default=(), compare=False)

    def overlaps(self, other: Span) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Utterance:
    """Tokens (fillers removed) with, for each, the ids of the lexicon words it matches, whether it sits
    under a negation, and whether a denial frame covers it."""

    tokens: tuple[Token, ...]
    words: tuple[frozenset[int], ...]
    negated: tuple[bool, ...]
    present: frozenset[int] = frozenset()  # every lexicon word found anywhere in the utterance
    denied: tuple[bool, ...] = ()  # covered by a denial frame ("о пунктах договора | речь не идёт")
    frame: tuple[bool, ...] = ()  # a word of a denial frame itself
    # Lexicon words a real word only sounds like ("пустите" for "простите"); count only with a fitting context.
    sounds: tuple[frozenset[int], ...] = ()
    heard: frozenset[int] = frozenset()  # every lexicon word some token sounds like
    # Where each lexicon word occurs (by form or by sound), so a pattern looks only where its words are.
    where: dict[int, tuple[int, ...]] = field(default_factory=dict)
    where_heard: dict[int, tuple[int, ...]] = field(default_factory=dict)
    breaks: tuple[int, ...] = ()  # positions of clause breaks ("а", "но")


class Lexicon:
    """Every distinct word of a scenario's patterns; each utterance token is matched against all of them once."""

    def __init__(self, lemmatizer: Lemmatizer, fuzzy_min_len: int | None = None, long_word_len: int = 12):
        self._lemmatizer = lemmatizer
        self.language = getattr(lemmatizer, "language", "")
        self._is_known = getattr(lemmatizer, "is_known", None)
        self._sound_key = getattr(lemmatizer, "sound_key", None) or (lambda word, word_end=True: word)
        self._heard_key = SOUND_KEYS.get(self.language, lambda word, word_end=True: word)
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
        # the same for sound-alikes of real words: key length -> (keys, (word id, prefix, allowed distance))
        self._heard: dict[int, tuple[list[str], list[tuple[int, bool, float, bool]]]] = {}
        self._fuzzy_min_len = fuzzy_min_len
        self._long_word_len = long_word_len
        self.affirmed: set[int] = set()
        self.at_start: set[int] = set()  # words that only count as the first word of the turn
        self.at_end: set[int] = set()  # words that only count as the last word of the turn
        # Words that make an alternative on their own: a token that is one of them means what it says.
        self.standalone: set[int] = set()

    def add(self, word: Word, standalone: bool = False) -> int:
        """Register a pattern word; `standalone`: it makes an alternative on its own."""
        if word in self._ids:
            wid = self._ids[word]
            if standalone:
                self.standalone.add(wid)
            return wid
        wid = len(self._ids)
        self._ids[word] = wid
        if standalone:
            self.standalone.add(wid)
        if word.affirmed:
            self.affirmed.add(wid)
        if word.at_start:
            self.at_start.add(wid)
        if word.at_end:
            self.at_end.add(wid)
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
        self._add_heard(word, wid)
        self.token_words.cache_clear()
        return wid

    def _add_heard(self, word: Word, wid: int) -> None:
        # Sound-alikes are compared by real words: the surface and, with a dictionary, the normal form
        # (a Snowball stem is no word anyone says); an exact form "=простите" only by that form.
        forms = {word.text}
        if self._is_known and not word.prefix and not word.form_only:
            forms.add(self._lemmatizer.lemma(word.text))
        for form in forms:
            heard = self._heard_key(form, word_end=not word.prefix)
            if len(heard) >= SOUND_ALIKE_MIN_LEN:
                bucket = self._heard.setdefault(len(heard), ([], []))
                bucket[0].append(heard)
                bucket[1].append((wid, word.prefix, allowed_sound_distance(len(heard)), word.form_only))
        self.sound_alikes.cache_clear()

    def read(self, tokens: list[Token]) -> Utterance:
        tokens = without_fillers(list(tokens), self.language)
        words = [self.token_words(t.surface, t.lemmas or (t.lemma,)) for t in tokens]
        for i, joined in self._split_words(tokens):
            both = self.token_words(joined, self._lemmatizer.lemmas(joined))
            words[i], words[i + 1] = words[i] | both, words[i + 1] | both
        sounds = tuple(
            self.sound_alikes(t.surface, t.lemmas or (t.lemma,)) - found if not found & self.standalone else frozenset()
            for t, found in zip(tokens, words)
        )
        denial = denials(tokens, self.language)
        return Utterance(tuple(tokens), tuple(words), negated_positions(tokens), frozenset().union(*words),
                         denial.denied, denial.frame, sounds, frozenset().union(*sounds), _positions(words),
                         _positions(sounds), tuple(i for i, t in enumerate(tokens) if t.surface in CLAUSE_BREAKS))

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
        # A word from the dictionary is what it says ("придете" is not a misheard "привет"). Without a
        # dictionary any token may be a real word, so its near misses only count as sound-alikes.
        if self._is_known and len(surface) >= self._fuzzy_min_len and not self._is_known(surface):
            found.update(self._spelled_by_ear(surface, lemmas))
        return frozenset(found)

    def _spelled_by_ear(self, surface: str, lemmas: tuple[str, ...]) -> set[int]:
        found: set[int] = set()
        # With a dictionary a guessed lemma may be closer than the surface; without one the "lemma" is a
        # Snowball stem, which nobody says: "connect" (of "connected") must not pass for "=connect".
        forms = (surface, *lemmas) if self._is_known else (surface,)
        for form in dict.fromkeys(forms):
            found.update(self._near_misses(self._sound_key(form), whole=form == surface))
        return found

    def _near_misses(self, sounded: str, whole: bool = True) -> set[int]:
        """Pattern words one or two edits from `sounded`; `whole`: it is the token as said (not a lemma)."""
        found = set()
        for length, (keys, owners) in self._fuzzy.items():
            if length > len(sounded) + 1:
                continue
            allowed = 2 if length >= self._long_word_len else 1 if length >= self._one_edit_len else 0
            # Compare the token's stem of about the key's length: one letter more or less is an edit too.
            # Without a dictionary a stem one letter short only counts as the whole token ("contact" for
            # "contract*"): any longer word has a real ending of its own ("contacting" is no contract).
            if allowed == 0:
                stems = {sounded[:length]}
            elif self._is_known or len(sounded) == length - 1:
                stems = {sounded[: length - 1], sounded[:length], sounded[: length + 1]}
            else:
                stems = {sounded[:length], sounded[: length + 1]}
            for stem in stems:
                for _, distance, index in process.extract(stem, keys, scorer=Levenshtein.distance,
                                                          score_cutoff=allowed, limit=None):
                    wid, prefix, form_only = owners[index]
                    if form_only:  # an exact form is only forgiven a spelling by ear, in full
                        if distance == 0 and stem == sounded and whole:
                            found.add(wid)
                    # A whole word may only differ by its inflection ending after the matched stem.
                    elif prefix or len(sounded) - len(stem) <= 3:
                        found.add(wid)
        return found

    @lru_cache(maxsize=20_000)
    def sound_alikes(self, surface: str, lemmas: tuple[str, ...]) -> frozenset[int]:
        """Lexicon words a real word sounds like ("пустите" ~ "простить", "contact" ~ "contract"): it starts
        with the same kind of sound, and differs by little more than the sounds a recognizer confuses."""
        if self._is_known and not self._is_known(surface):
            return frozenset()  # spelled by ear: token_words took it already
        found: set[int] = set()
        if not self._is_known and len(surface) >= self._fuzzy_min_len:
            found.update(self._spelled_by_ear(surface, lemmas))
        if len(surface) < SOUND_ALIKE_MIN_LEN:
            return frozenset(found)
        # Without a dictionary: the word as said, and without a plural or third-person "s" ("contacts").
        plain = (surface[:-1],) if surface.endswith("s") and len(surface) > SOUND_ALIKE_MIN_LEN else ()
        for form in dict.fromkeys((surface, *lemmas) if self._is_known else (surface, *plain)):
            heard = self._heard_key(form)
            for length, (keys, owners) in self._heard.items():
                if length > len(heard) + 1:
                    continue
                # A whole word is compared with the whole form; a prefix with the form's start of about its
                # length, leaving no more than an inflection ending. Without a dictionary the form's start is
                # no word at all ("contacting" cut to "contact" is no misheard "contract"): whole words only.
                stems = {heard}
                if self._is_known:
                    stems |= {heard[:n] for n in (length - 1, length, length + 1) if len(heard) - n <= 3}
                for stem in stems:
                    for key, _, index in process.extract(stem, keys, scorer=Levenshtein.distance, score_cutoff=2,
                                                         limit=None):
                        wid, prefix, allowed, form_only = owners[index]
                        if form_only and form != surface and not self._is_known:
                            continue  # "connects" without its "s" is no "=connect"
                        if wid in found or not (prefix or stem == heard) or not same_onset(stem, key):
                            continue
                        if sound_distance(stem, key) <= allowed:
                            found.add(wid)
        return frozenset(found)


@dataclass(frozen=True)
class PatternMatch:
    spans: tuple[Span, ...]  # every smallest stretch holding all groups, within the pattern's span limit
    groups_found: int
    groups_total: int
    # The same stretches stretched over every further word of the pattern within the span limit:
    # what a reject pattern covers ("пока вы читаете текст смотрите картинки" covers "смотрите" too).
    reach: tuple[Span, ...] = ()


Hit = tuple[int, int, int, tuple[int, ...]]  # start, end (inclusive), group, positions found only by sound


class CompiledPattern:
    """A pattern whose words are registered in a lexicon, ready to find its spans in an utterance."""

    def __init__(self, pattern: Pattern, lexicon: Lexicon, max_span: int = 10):
        self.source = pattern.source
        # Each group as written, for explanations ("модем*|роутер*").
        self.group_texts = tuple("|".join(" ".join(_written(w) for w in alt) for alt in group)
                                 for group in pattern.groups)
        self.groups = tuple(
            tuple(tuple(lexicon.add(w, standalone=len(alt) == 1) for w in alt) for alt in group)
            for group in pattern.groups
        )
        self._affirmed = lexicon.affirmed
        self._at_start = lexicon.at_start
        self._at_end = lexicon.at_end
        self.max_span = pattern.max_span or max_span
        self.ordered = pattern.ordered
        self.words = frozenset(w for group in self.groups for alt in group for w in alt)
        # Alternatives by their first word, so an utterance only tries the ones its words can start.
        self._by_first: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        for g, group in enumerate(self.groups):
            for alt in group:
                self._by_first.setdefault(alt[0], []).append((g, alt))
        self._firsts = frozenset(self._by_first)
        self._group_firsts = tuple(frozenset(alt[0] for alt in group) for group in self.groups)

    def hits(self, u: Utterance, by_sound: bool = False, despite_negation: bool = False) -> list[Hit]:
        """(start, end, group, positions heard) for every place an alternative of a group occurs; positions
        heard are where a word was only found as a sound-alike (with `by_sound`). `despite_negation`: words
        marked `!` count under a negation too (to tell a negated move from one never said)."""
        found = []
        n = len(u.tokens)
        affirmed = frozenset() if despite_negation else self._affirmed
        sounds = u.sounds if by_sound and u.sounds else None
        for first in self._firsts:
            starts = u.where.get(first, ())
            if sounds:
                starts = sorted(set(starts) | set(u.where_heard.get(first, ())))
            for start in starts:
                if start and first in self._at_start:
                    continue
                for g, alt in self._by_first[first]:
                    end = start + len(alt) - 1
                    if end >= n or end < n - 1 and alt[-1] in self._at_end:
                        continue
                    heard: tuple[int, ...] = ()
                    for k, wid in enumerate(alt):
                        pos = start + k
                        if wid in affirmed and u.negated[pos]:
                            break
                        if wid not in u.words[pos]:
                            if not (sounds and wid in sounds[pos]):
                                break
                            heard += (pos,)
                    else:
                        found.append((start, end, g, heard))
        return found

    def match(self, u: Utterance, by_sound: bool = False, despite_negation: bool = False) -> PatternMatch:
        need = len(self.groups)
        present = u.present | u.heard if by_sound else u.present
        possible = sum(1 for firsts in self._group_firsts if firsts & present)
        if possible < need:  # most patterns, most of the time: skip the word-by-word search
            return PatternMatch((), possible, need)
        hits = sorted(set(self.hits(u, by_sound, despite_negation)))
        spans = self._ordered_spans(hits) if self.ordered else self._spans(hits)
        return PatternMatch(tuple(spans), len({h[2] for h in hits}), need, self._reach(spans, hits, u))

    def _spans(self, hits: list[Hit]) -> list[Span]:
        spans = []
        for i, (start, _, _, _) in enumerate(hits):
            seen: dict[int, Hit] = {}
            for k in range(i, len(hits)):  # indices, not a slice: a slice would copy the rest each time
                hit = hits[k]
                if hit[0] - start >= self.max_span:
                    break
                seen.setdefault(hit[2], hit)
                if len(seen) == len(self.groups):
                    end = max(h[1] for h in seen.values())
                    if end - start < self.max_span:
                        spans.append(_span(start, end, seen.values()))
                    break
        return spans

    def _ordered_spans(self, hits: list[Hit]) -> list[Span]:
        spans = []
        for i, first in enumerate(hits):
            start, end, g, _ = first
            if g != 0:
                continue
            used = [first]
            for k in range(i + 1, len(hits)):
                hit = hits[k]
                if len(used) == len(self.groups) or hit[1] - start >= self.max_span:
                    break
                if hit[2] == len(used) and hit[0] > end:
                    used.append(hit)
                    end = hit[1]
            if len(used) == len(self.groups) and end - start < self.max_span:
                spans.append(_span(start, end, used))
        return spans

    def _reach(self, spans: list[Span], hits: list[Hit], u: Utterance) -> tuple[Span, ...]:
        """Each span stretched over the pattern's further words, but not past a clause break ("а", "но"):
        "ни одного разрыва а с какого момента" is two clauses, and a reject mustn't join them."""
        if not spans:
            return ()
        breaks = u.breaks
        starts = [h[0] for h in hits]
        reach = []
        for span in spans:
            b = bisect_right(breaks, span.start)
            # A break that is one of the pattern's own words ("извините, но что поделаешь") doesn't cut it.
            while b < len(breaks) and breaks[b] in span.hits:
                b += 1
            stop = breaks[b] if b < len(breaks) else len(u.tokens)
            if span.end >= stop:
                continue
            end = span.end
            # Only hits starting within the span limit can count: a bounded window, so this stays linear.
            for k in range(bisect_right(starts, span.start - 1), len(hits)):
                s, e = hits[k][0], hits[k][1]
                if s - span.start >= self.max_span or s >= stop:
                    break
                if e < stop and e - span.start < self.max_span:
                    end = max(end, e)
            reach.append(Span(span.start, end, span.hits))
        return tuple(reach)


def _written(w: Word) -> str:
    return (("^" if w.at_start else "") + ("=" if w.form_only else "") + w.text + ("*" if w.prefix else "")
            + ("!" if w.affirmed else "") + ("$" if w.at_end else ""))


def _positions(per_token) -> dict[int, tuple[int, ...]]:
    where: dict[int, list[int]] = {}
    for i, ids in enumerate(per_token):
        for wid in ids:
            where.setdefault(wid, []).append(i)
    return {wid: tuple(positions) for wid, positions in where.items()}


def _span(start: int, end: int, used) -> Span:
    hits = tuple(sorted({p for h in used for p in range(h[0], h[1] + 1)}))
    sounded = tuple(sorted({p for h in used for p in h[3]}))
    return Span(start, end, hits, sounded)
