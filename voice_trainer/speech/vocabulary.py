"""The words a scenario's trainee is likely to say, for recognizer biasing (`practice --grammar`).

With a grammar, a small Vosk model decodes only these words (plus [unk]) in any order: ~25x less
work than free recognition, and in-scenario words are recognized more reliably. The cost: words
outside the list come back as nothing. So the list is generous: every word of every example and
pattern, of every cue the engine reads besides moves (the causes a trainee may name in `details`, the
`manual_phrases`, the `tone` markers and quality elements), the facts, the days and times the turn
reader understands, and for Russian every inflected form of those words (pymorphy3), since trainees
say "подключились", "подключили", "подключения" where an example has only one of them.
"""

from __future__ import annotations

from voice_trainer.dialogue.patterns import parse_pattern
from voice_trainer.dialogue.text import normalize
from voice_trainer.scenario.schema import ScenarioFile


# Endings tried on a pattern prefix (`подключ*`) to find the dictionary words it stands for.
_RUSSIAN_ENDINGS = ("", "ать", "ить", "еть", "иться", "аться", "ение", "ание", "ка", "ок", "ой", "ый", "ий", "о", "а")


def scenario_vocabulary(scenario: ScenarioFile, lang: str) -> list[str]:
    from voice_trainer.dialogue.when import vocabulary as day_and_time_words

    words: set[str] = set(day_and_time_words(lang))
    prefixes: set[str] = set()
    for examples, patterns in _said_like_moves(scenario):
        for example in examples:
            words.update(normalize(example).split())
        for source in patterns:
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


def _said_like_moves(scenario: ScenarioFile):
    """(examples, patterns) of everything a trainee's words are read for: moves and the cues besides them."""
    for move in scenario.moves.values():
        yield move.examples, move.patterns
    for detail in scenario.details.values():
        for kind in detail.kinds.values():
            yield kind.examples, [*kind.patterns, *kind.reject]
    if scenario.manual_phrases is not None:
        yield scenario.manual_phrases.examples, [*scenario.manual_phrases.patterns, *scenario.manual_phrases.reject]
    for marker in scenario.tone.markers.values():
        yield marker.examples, [*marker.patterns, *marker.reject]
    for quality in scenario.tone.quality:
        for element in quality.elements.values():
            yield element.examples, [*element.patterns, *element.reject]


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
