"""Move pattern syntax: what a trainer writes in a scenario's `patterns:` and `reject:` lists.

Parsing lives here, below both the scenario checker and the classifier (the dialogue core's patterns.py
does the matching). Syntax (one pattern per string):
    group + group + ...        every group must be found, in any order, within a few words of each other
    group > group > ...        the same, in this order ("пока > читаете": "пока" first)
    alt | alt | ...            a group matches if any alternative does
    word word                  an alternative of several words must appear as adjacent words
    word*                      prefix: matches any word (or lemma) starting with `word`
    word                       matches the word itself or any inflected form (same lemma)
    =word                      this form only: "=понимаю" is the trainee's "I understand", not "вы понимаете"
    word!  word*!              affirmed: does not count right after a negation ("не буду вас приглашать")
    ^word                      at the start of the turn only (fillers aside): "^на линии" opens a call,
                               "авария на линии" doesn't; only the first word of an alternative may have it
    word$                      at the end of the turn only (fillers aside): "простите > что$" asks to repeat
                               ("простите, что?"), "простите, что так вышло" apologises; only the last word
                               of an alternative may have it
    ... ~N                     at the end: all groups within N words (default 10)
Examples: "какой|что за + модем*|роутер*", "офис* + приглаша*!|приход*!", "извините + вопрос* ~3".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SPAN = re.compile(r"\s~(\d+)\s*$")


class PatternError(ValueError):
    pass


def normalize(text: str) -> str:
    """Text the way speech recognition writes it: lowercase words, `ё` as `е`, no punctuation."""
    text = text.lower().replace("ё", "е").replace("’", "'")
    return " ".join(_WORD.findall(text))


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False
    affirmed: bool = False
    form_only: bool = False
    at_start: bool = False
    at_end: bool = False


@dataclass(frozen=True)
class Pattern:
    source: str
    groups: tuple[tuple[tuple[Word, ...], ...], ...]
    max_span: int | None = None
    ordered: bool = False


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
            alternative = tuple(_parse_word(source, w) for w in words)
            if any(w.at_start for w in alternative[1:]):
                raise PatternError(f"pattern {source!r}: '^' (turn start) can only mark the first word of an "
                                   f"alternative, as in '^на линии'")
            if any(w.at_end for w in alternative[:-1]):
                raise PatternError(f"pattern {source!r}: '$' (turn end) can only mark the last word of an "
                                   f"alternative, as in 'простите > что$'")
            alternatives.append(alternative)
        groups.append(tuple(alternatives))
    return Pattern(source, tuple(groups), max_span, ordered)


def _parse_word(source: str, raw: str) -> Word:
    at_start = raw.startswith("^")
    raw = raw[1:] if at_start else raw
    at_end = raw.endswith("$")
    raw = raw[:-1] if at_end else raw
    affirmed = raw.endswith("!")
    core = raw[:-1] if affirmed else raw
    form_only = core.startswith("=")
    core = core[1:] if form_only else core
    prefix = core.endswith("*")
    core = core[:-1] if prefix else core
    if not core or any(c in core for c in "*!=+>^$") or (prefix and form_only):
        raise PatternError(f"pattern {source!r}: {raw!r} is not a word, a prefix 'word*', a form '=word', "
                           "an affirmed 'word!', a turn start '^word' or a turn end 'word$'")
    return Word(core, prefix, affirmed, form_only, at_start, at_end)
