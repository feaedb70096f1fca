"""Lemma traps: common words a pattern word also matches without the author meaning them.

A prefix catches every word that starts the same ("раз*": разрыв, but also раз, разве, разный); a word
matches all its inflections, and a form that belongs to two words brings the other one along ("стали":
стать and сталь); a real word that sounds like a pattern word may stand for it ("пустите" for
"простите"). `lemma_traps("раз*", "ru")` lists such words among the words people say in support calls
(common_words.py, counted from the scenario corpora), grouped by the word they belong to; the scenario
checker shows them so the author can narrow the pattern (a longer prefix, `=form`, a second group).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from voice_trainer.dialogue.common_words import COMMON_WORDS
from voice_trainer.dialogue.patterns import Lexicon
from voice_trainer.dialogue.text import lemmatizer_for, normalize, tokenize
from voice_trainer.scenario.patterns import PatternError, Word, parse_pattern

# Lemmas that share this many letters beyond a prefix belong to one family ("разрыв", "разрывать").
FAMILY_EXTRA = 2
# …and any that share this many letters: a long prefix ("переподключ*") keeps to one family anyway.
FAMILY_MIN = 6


@dataclass(frozen=True)
class Trap:
    word: str  # the pattern word as written ("раз*")
    via: str  # "prefix", "lemma" (a form shared by two words) or "sound" (a real word that sounds alike)
    meaning: str  # the word the matches belong to (a lemma: "разве", "сталь")
    matches: tuple[str, ...]  # the common words it also matches, most frequent first

    def message(self) -> str:
        shown = ", ".join(f"«{m}»" for m in self.matches)
        how = {"prefix": "starts", "lemma": "is also a form of", "sound": "sounds like"}[self.via]
        if self.via == "prefix":
            return f"«{self.word}» also matches {shown} ({self.meaning}): every word that {how} so"
        if self.via == "lemma":
            return f"«{self.word}» also matches {shown}: a form of «{self.meaning}» as well"
        return f"«{self.word}» may be heard in {shown} (a real word that {how} it, counted only in a fitting context)"

    def to_json(self) -> dict:
        return {"word": self.word, "via": self.via, "meaning": self.meaning, "matches": list(self.matches),
                "message": self.message()}


def lemma_traps(word: str, lang: str, common: Iterable[str] | None = None, limit: int = 6) -> list[Trap]:
    """The common words that pattern word `word` ("раз*", "стали", "=понимаю", "простите") also matches through
    a prefix, a shared form or sound, grouped by the word they belong to. `common`: the words to check (default:
    the shipped list for `lang`, most frequent first)."""
    try:
        pattern = parse_pattern(word)
    except PatternError:
        return []
    if len(pattern.groups) != 1 or len(pattern.groups[0]) != 1 or len(pattern.groups[0][0]) != 1:
        return []  # one word, as in a pattern's alternative
    w = pattern.groups[0][0][0]
    words = tuple(common) if common is not None else COMMON_WORDS.get(lang.split("-")[0], ())
    return _traps(w, lang, words, limit)


def pattern_traps(pattern: str, lang: str, limit: int = 6) -> list[Trap]:
    """The traps of every word of a pattern ("какой|что за + модем*|раз*")."""
    try:
        parsed = parse_pattern(pattern)
    except PatternError:
        return []
    out = []
    seen = set()
    for group in parsed.groups:
        for alt in group:
            for w in alt:
                key = _written(w)
                if key not in seen:
                    seen.add(key)
                    out += _traps(w, lang, COMMON_WORDS.get(lang.split("-")[0], ()), limit)
    return out


# Grammar of words too small to be worth a warning of their own ("что", "как").
_FUNCTION_GRAMMEMES = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "Apro", "PRED"})


def _traps(w: Word, lang: str, common: tuple[str, ...], limit: int) -> list[Trap]:
    lemmatizer = lemmatizer_for(lang)
    grammemes = getattr(lemmatizer, "grammemes", None)
    if grammemes is not None and grammemes(w.text) & _FUNCTION_GRAMMEMES and not w.prefix:
        return []
    lexicon, wid = _lexicon_with(w, lang)
    written = _written(w)
    meant = lemmatizer.lemma(w.text)
    prefixed: list[tuple[str, str]] = []  # (word, its lemma) for a prefix
    by_meaning: dict[tuple[str, str], list[str]] = {}
    for surface in common:
        tokens = tokenize(surface, lemmatizer)
        if len(tokens) != 1:
            continue
        t = tokens[0]
        lemmas = t.lemmas or (t.lemma,)
        if wid in lexicon.token_words(t.surface, lemmas):
            if w.prefix:
                prefixed.append((surface, next((lem for lem in lemmas if lem.startswith(w.text)), t.lemma)))
            elif not w.form_only and meant in lemmas and len(lemmas) > 1:
                other = next(lem for lem in lemmas if lem != meant)
                by_meaning.setdefault(("lemma", other), []).append(surface)
        elif wid in lexicon.sound_alikes(t.surface, lemmas):
            by_meaning.setdefault(("sound", t.lemma), []).append(surface)
    # The pattern word itself may be a form of several words ("стали": стать, сталь).
    if not w.prefix and not w.form_only:
        every = getattr(lemmatizer, "all_lemmas", lemmatizer.lemmas)
        for other in every(w.text):
            if other != meant:
                by_meaning.setdefault(("lemma", other), []).insert(0, w.text)
    traps = []
    families = _families(w.text, prefixed)
    if len(families) > 1:  # a prefix that catches words of different families
        traps += [Trap(written, "prefix", head, tuple(found)[:limit]) for head, found in families]
    traps += [Trap(written, via, meaning, tuple(dict.fromkeys(found))[:limit])
              for (via, meaning), found in by_meaning.items()]
    return traps


def _families(prefix: str, matched: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Words a prefix matched, grouped into families of lemmas that share at least FAMILY_EXTRA letters more
    than the prefix ("разрыв", "разрывать" | "разве" | "разговор", "разговаривать"); most frequent first."""
    order = {word: i for i, (word, _) in enumerate(matched)}
    lemmas = sorted({lemma for _, lemma in matched})
    family_of: dict[str, str] = {}
    head = ""
    for lemma in lemmas:
        if not head or _common(head, lemma) < min(len(prefix) + FAMILY_EXTRA, FAMILY_MIN):
            head = lemma
        family_of[lemma] = head
    groups: dict[str, list[str]] = {}
    for word, lemma in matched:
        groups.setdefault(family_of[lemma], []).append(word)
    ranked = sorted(groups.items(), key=lambda kv: min(order[w] for w in kv[1]))
    # Name each family by its most frequent lemma.
    named = []
    for fam_head, words in ranked:
        lemma = next(lem for word, lem in matched if word == words[0])
        named.append((lemma, words))
    return named


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@lru_cache(maxsize=2_000)
def _lexicon_with(w: Word, lang: str) -> tuple[Lexicon, int]:
    lexicon = Lexicon(lemmatizer_for(lang))
    return lexicon, lexicon.add(w, standalone=True)


def _written(w: Word) -> str:
    return (("^" if w.at_start else "") + ("=" if w.form_only else "") + w.text + ("*" if w.prefix else "")
            + ("!" if w.affirmed else "") + ("$" if w.at_end else ""))


def count_words(texts: Iterable[str]) -> Counter[str]:
    """How often each word occurs in `texts` (normalized as speech recognition writes them): to rebuild
    common_words.py from the scenario corpora."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(normalize(text).split())
    return counts
