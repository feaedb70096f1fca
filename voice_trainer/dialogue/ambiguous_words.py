"""Pattern words the dictionary reads as another word (a stand-in until the understanding engine's own lemma-trap
finder lands; `scenario check` calls it through scenario/traps.py).

A plain pattern word matches every form of its likeliest normal form (patterns.Lexicon keys it by that lemma).
When the word as written is itself the normal form of something else — "вина" (guilt) read as "вино" (wine),
"замер" (a measurement) as "замереть" (to freeze) — the pattern matches forms of a word its author never meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_trainer.dialogue.text import lemmatizer_for
from voice_trainer.scenario.patterns import PatternError, parse_pattern
from voice_trainer.scenario.schema import Move

_CONTENT = {"NOUN", "VERB", "INFN"}
_VERBS = {"VERB", "INFN"}
FORMS_SHOWN = 4
# The word as written must be a real reading of it, not a rare one ("живете" as a noun).
OWN_READING_MIN_SCORE = 0.1


@dataclass(frozen=True)
class LemmaTrap:
    move: str
    key: str
    index: int
    word: str
    matches: tuple[str, ...]


def ambiguous_pattern_words(moves: dict[str, Move], lang: str) -> list[LemmaTrap]:
    lemmatizer = lemmatizer_for(lang)
    morph = getattr(lemmatizer, "_morph", None)
    if morph is None:  # no dictionary (English stems): nothing to tell apart
        return []
    traps: list[LemmaTrap] = []
    seen: dict[str, tuple[str, ...]] = {}
    for name, move in moves.items():
        for key in ("patterns", "reject"):
            for index, source in enumerate(getattr(move, key)):
                try:
                    pattern = parse_pattern(source)
                except PatternError:
                    continue
                for word in {w.text for group in pattern.groups for alt in group for w in alt
                             if not w.prefix and not w.form_only}:
                    if word not in seen:
                        seen[word] = _other_word(morph, word)
                    if seen[word]:
                        traps.append(LemmaTrap(name, key, index, word, seen[word]))
    return traps


def _other_word(morph, word: str) -> tuple[str, ...]:
    parses = morph.parse(word)
    likeliest = parses[0]
    key = likeliest.normal_form.replace("ё", "е")
    own = [p for p in parses if p.normal_form.replace("ё", "е") == word and p.score >= OWN_READING_MIN_SCORE
           and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"]
    if key == word or not own or likeliest.tag.POS not in _CONTENT:
        return ()
    own_pos = {p.tag.POS for p in own}
    if not own_pos & (_CONTENT | {"ADVB"}) or (own_pos <= _VERBS and likeliest.tag.POS in _VERBS):
        return ()
    forms = dict.fromkeys(f.word.replace("ё", "е") for f in likeliest.lexeme)
    forms.pop(word, None)
    return tuple(list(forms)[:FORMS_SHOWN])
