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


def scenario_vocabulary(scenario: ScenarioFile, lang: str) -> list[str]:
    words: set[str] = set()
    for move in scenario.moves.values():
        for example in move.examples:
            words.update(normalize(example).split())
        for source in move.patterns:
            for group in parse_pattern(source).groups:
                for alternative in group:
                    words.update(w.text for w in alternative if not w.prefix)
    for values in scenario.facts.values():
        for value in values:
            words.update(normalize(value).split())
    if lang.split("-")[0] == "ru":
        words |= _russian_forms(words)
    return sorted(w for w in words if w.isalpha() or "'" in w)


def _russian_forms(words: set[str]) -> set[str]:
    from voice_trainer.dialogue.text import _russian_analyzer

    morph = _russian_analyzer()
    forms: set[str] = set()
    for word in words:
        for parse in morph.parse(word)[:1]:
            forms.update(f.word.replace("ё", "е") for f in parse.lexeme)
    return forms
