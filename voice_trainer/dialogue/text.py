"""Turning an utterance into tokens with lemmas, the way speech-recognition output looks: lowercase, no punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Token:
    surface: str
    lemma: str
    index: int


class Lemmatizer(Protocol):
    def lemma(self, word: str) -> str: ...


def normalize(text: str) -> str:
    text = text.lower().replace("ё", "е").replace("’", "'")
    return " ".join(_WORD.findall(text))


class RussianLemmatizer:
    """pymorphy3 normal forms; the analyzer is loaded once per process (dictionary load ~0.1 s)."""

    def __init__(self) -> None:
        self._morph = _russian_analyzer()

    @lru_cache(maxsize=50_000)
    def lemma(self, word: str) -> str:
        if not re.search("[а-я]", word):
            return word
        return self._morph.parse(word)[0].normal_form.replace("ё", "е")


class SnowballLemmatizer:
    """Snowball stems stand in for lemmas where no morphological dictionary is available (English)."""

    def __init__(self, language: str) -> None:
        import snowballstemmer

        self._stemmer = snowballstemmer.stemmer(language)

    @lru_cache(maxsize=50_000)
    def lemma(self, word: str) -> str:
        return self._stemmer.stemWord(word.replace("'", ""))


class IdentityLemmatizer:
    def lemma(self, word: str) -> str:
        return word


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
        return SnowballLemmatizer(_SNOWBALL[base])
    return IdentityLemmatizer()


def tokenize(text: str, lemmatizer: Lemmatizer) -> list[Token]:
    return [Token(w, lemmatizer.lemma(w), i) for i, w in enumerate(normalize(text).split())]
