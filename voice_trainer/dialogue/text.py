"""Turning an utterance into tokens with lemmas, the way speech-recognition output looks: lowercase, no punctuation;
and which tokens sit under a negation."""

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
    # Every normal form the word could have ("стали": стать, сталь); lemma is the likeliest one.
    lemmas: tuple[str, ...] = ()


class Lemmatizer(Protocol):
    def lemma(self, word: str) -> str: ...

    def lemmas(self, word: str) -> tuple[str, ...]: ...


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

    @lru_cache(maxsize=50_000)
    def is_known(self, word: str) -> bool:
        """In the dictionary; only unknown words are taken for misrecognitions of pattern words."""
        return bool(re.search("[а-я]", word)) and self._morph.word_is_known(word)

    @staticmethod
    def sound_key(word: str, word_end: bool = True) -> str:
        """How a word sounds, roughly: unstressed vowels merge and a final consonant devoices in speech,
        so "дагавор", "офиз" and "панимаю" are spelled by ear for "договор", "офис" and "понимаю"."""
        if not word:
            return word
        # A first "я", "е", "ю" is still heard as such ("ясно" is not "исно"); a first "о" is an "а".
        sounded = word[0].replace("о", "а") + word[1:].translate(_VOWELS)
        return sounded[:-1] + sounded[-1].translate(_DEVOICED) if word_end else sounded

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

    def __init__(self, language: str) -> None:
        import snowballstemmer

        self._stemmer = snowballstemmer.stemmer(language)

    @lru_cache(maxsize=50_000)
    def lemma(self, word: str) -> str:
        return self._stemmer.stemWord(word.replace("'", ""))

    def lemmas(self, word: str) -> tuple[str, ...]:
        return (self.lemma(word),)


class IdentityLemmatizer:
    def lemma(self, word: str) -> str:
        return word

    def lemmas(self, word: str) -> tuple[str, ...]:
        return (word,)


_VOWELS = str.maketrans("оеяэыю", "аииииу")
_DEVOICED = str.maketrans("дзбгвж", "тспкфш")


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
    return [Token(w, lemmatizer.lemma(w), i, lemmatizer.lemmas(w)) for i, w in enumerate(normalize(text).split())]


# Words that start a new clause in unpunctuated speech ("ни одного разрыва | а с какого момента…").
CLAUSE_BREAKS = frozenset({"а", "но", "однако", "but", "whereas"})
# Words that negate what follows.
NEGATIONS = frozenset({"не", "ни", "нет", "без", "ничего", "not", "never", "no", "cannot"} | {
    # English contractions, with and without the apostrophe (speech recognition drops it)
    form
    for stem in ("don", "won", "can", "didn", "doesn", "isn", "aren", "wasn", "haven", "wouldn", "couldn")
    for form in (stem + "'t", stem + "t")
})
# "не хотите подойти", "не могли бы вы": polite offers, not negations.
POLITE_AFTER_NEGATION = frozenset({"хотите", "хотели", "желаете", "могли", "можете", "против", "сложно", "трудно", "откажите"})
# A negation reaches over these to the word it negates ("не буду вас приглашать") but stops at any other word
# ("не переживайте подойдите к нам" invites).
NEGATION_PASSES = frozenset({
    "буду", "будем", "стану", "станем", "хочу", "хотим", "могу", "можем", "нужно", "надо", "стоит", "следует",
    "собираюсь", "собираемся", "вас", "вам", "вы", "я", "мы", "никуда", "никого", "же", "бы", "уж", "даже",
    "совсем", "очень", "особо", "так", "такой", "такая", "такие", "то", "ли", "до",
    "will", "be", "going", "to", "you", "i", "we", "want", "really", "even", "at", "all",
})
NEGATION_REACH = 3


def negated_positions(tokens: list[Token] | tuple[Token, ...]) -> tuple[bool, ...]:
    """For each token, whether a negation governs it ("не буду вас **приглашать**")."""
    flags = []
    for i in range(len(tokens)):
        negated = False
        for j in range(i - 1, max(-1, i - 1 - NEGATION_REACH), -1):
            surface = tokens[j].surface
            if surface in NEGATIONS and not (j + 1 < len(tokens) and tokens[j + 1].surface in POLITE_AFTER_NEGATION):
                negated = True
                break
            if surface not in NEGATION_PASSES:
                break
        flags.append(negated)
    return tuple(flags)
