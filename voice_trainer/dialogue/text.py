"""Turning an utterance into tokens with lemmas, the way speech-recognition output looks: lowercase, no punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from voice_trainer.dialogue.sounds import russian_sound_key
from voice_trainer.scenario.patterns import normalize

__all__ = ["CLAUSE_BREAKS", "Lemmatizer", "Token", "lemmatizer_for", "normalize", "tokenize"]


@dataclass(frozen=True)
class Token:
    surface: str
    lemma: str
    index: int
    # Every normal form the word could have ("стали": стать, сталь); lemma is the likeliest one.
    lemmas: tuple[str, ...] = ()
    # Grammar of the likeliest reading (pymorphy3 grammemes: "INFN", "VERB", "impr", "gent"…); empty without
    # a morphological dictionary.
    grammemes: frozenset[str] = frozenset()


class Lemmatizer(Protocol):
    def lemma(self, word: str) -> str: ...

    def lemmas(self, word: str) -> tuple[str, ...]: ...


class RussianLemmatizer:
    """pymorphy3 normal forms; the analyzer is loaded once per process (dictionary load ~0.1 s)."""

    language = "ru"

    def __init__(self) -> None:
        self._morph = _russian_analyzer()

    @lru_cache(maxsize=50_000)
    def lemma(self, word: str) -> str:
        if not re.search("[а-я]", word):
            return word
        return self._morph.parse(word)[0].normal_form.replace("ё", "е")

    @lru_cache(maxsize=50_000)
    def is_known(self, word: str) -> bool:
        """In the dictionary; only unknown words are taken for misrecognitions of pattern words."""
        return bool(re.search("[а-я]", word)) and self._morph.word_is_known(word)

    sound_key = staticmethod(russian_sound_key)

    @lru_cache(maxsize=50_000)
    def grammemes(self, word: str) -> frozenset[str]:
        if not re.search("[а-я]", word):
            return frozenset()
        return frozenset(self._morph.parse(word)[0].tag.grammemes)

    @lru_cache(maxsize=10_000)
    def all_lemmas(self, word: str) -> tuple[str, ...]:
        """Every normal form the dictionary has for `word`, however unlikely ("стали": стать, сталь)."""
        if not re.search("[а-я]", word):
            return (word,)
        return tuple(dict.fromkeys(p.normal_form.replace("ё", "е") for p in self._morph.parse(word)))

    @lru_cache(maxsize=50_000)
    def lemmas(self, word: str) -> tuple[str, ...]:
        if not re.search("[а-я]", word):
            return (word,)
        parses = self._morph.parse(word)
        # Guesses for out-of-dictionary words come with many unlikely normal forms; keep the plausible ones.
        likely = [p for p in parses[:4] if p.score >= parses[0].score * 0.2]
        forms = dict.fromkeys(p.normal_form.replace("ё", "е") for p in likely)
        return tuple(forms)


class SnowballLemmatizer:
    """Snowball stems stand in for lemmas where no morphological dictionary is available (English)."""

    def __init__(self, language: str, code: str = "") -> None:
        import snowballstemmer

        self._stemmer = snowballstemmer.stemmer(language)
        self.language = code

    @lru_cache(maxsize=50_000)
    def lemma(self, word: str) -> str:
        return self._stemmer.stemWord(word.replace("'", ""))

    def lemmas(self, word: str) -> tuple[str, ...]:
        return (self.lemma(word),)


class IdentityLemmatizer:
    language = ""

    def lemma(self, word: str) -> str:
        return word

    def lemmas(self, word: str) -> tuple[str, ...]:
        return (word,)


@lru_cache(maxsize=1)
def _russian_analyzer():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


_SNOWBALL = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "uk": "russian"}


@lru_cache(maxsize=None)
def lemmatizer_for(lang: str) -> Lemmatizer:
    base = lang.split("-")[0].lower()
    if base == "ru":
        return RussianLemmatizer()
    if base in _SNOWBALL:
        return SnowballLemmatizer(_SNOWBALL[base], base)
    return IdentityLemmatizer()


def tokenize(text: str, lemmatizer: Lemmatizer) -> list[Token]:
    grammar = getattr(lemmatizer, "grammemes", None)
    return [Token(w, lemmatizer.lemma(w), i, lemmatizer.lemmas(w), grammar(w) if grammar else frozenset())
            for i, w in enumerate(normalize(text).split())]


# Words that start a new clause in unpunctuated speech ("ни одного разрыва | а с какого момента…").
CLAUSE_BREAKS = frozenset({"а", "но", "однако", "but", "whereas"})
