"""The words a scenario's trainee is likely to say, for recognizer biasing (`practice --grammar`).

With a grammar, a small Vosk model decodes only these words (plus [unk]) in any order: ~25x less
work than free recognition, and in-scenario words are recognized more reliably. The cost: words
outside the list come back as nothing. So the list is generous: every word of every example and
pattern, the facts, and for Russian every inflected form of those words (pymorphy3), since trainees
say "подключились", "подключили", "подключения" where an example has only one of them.
"""

from __future__ import annotations

from voice_trainer.dialogue.patterns import parse_pattern
from voice_trainer.dialogue.text import normalize
from voice_trainer.scenario.schema import ScenarioFile


# Endings tried on a pattern prefix (`подключ*`) to find the dictionary words it stands for.
_RUSSIAN_ENDINGS = ("", "ать", "ить", "еть", "иться", "аться", "ение", "ание", "ка", "ок", "ой", "ый", "ий", "о", "а")


def scenario_vocabulary(scenario: ScenarioFile, lang: str) -> list[str]:
    words: set[str] = set()
    prefixes: set[str] = set()
    for move in scenario.moves.values():
        for example in move.examples:
            words.update(normalize(example).split())
        for source in move.patterns:
            for group in parse_pattern(source).groups:
                for alternative in group:
                    words.update(w.text for w in alternative if not w.prefix)
                    prefixes.update(w.text for w in alternative if w.prefix)
    for values in scenario.facts.values():
        for value in values:
            words.update(normalize(value).split())
    if lang.split("-")[0] == "ru":
        words |= _russian_forms(words | _russian_words_for(prefixes))
    else:
        words |= {p for p in prefixes if len(p) >= 3}
    return sorted(w for w in words if w.isalpha() or "'" in w)


def _russian_words_for(prefixes: set[str]) -> set[str]:
    from voice_trainer.dialogue.text import _russian_analyzer

    morph = _russian_analyzer()
    return {p + e for p in prefixes for e in _RUSSIAN_ENDINGS if morph.word_is_known(p + e)}


def _russian_forms(words: set[str]) -> set[str]:
    from voice_trainer.dialogue.text import _russian_analyzer

    morph = _russian_analyzer()
    forms: set[str] = set()
    for word in words:
        for parse in morph.parse(word)[:1]:
            forms.update(f.word.replace("ё", "е") for f in parse.lexeme)
    return forms
