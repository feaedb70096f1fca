"""The customer's lines: several variants per situation, picked by the session's seeded randomness.

Placeholders are filled from the facts (the customer's seeded circumstances), then from what the
trainee said (details such as the cause he named or the time he proposed), then from the engine
(`{answer}`, `{name}`).
"""

from __future__ import annotations

import random
import re
import string


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def escalated(say: str | list[str] | None, times: int) -> str | None:
    """The line for the `times`-th occurrence: a list of lines escalates, the last one repeats."""
    if say is None or isinstance(say, str):
        return say
    return say[min(max(times, 1), len(say)) - 1]


class LineBook:
    def __init__(self, lines: dict, persona: str, facts: dict[str, str], rng: random.Random, name: str = ""):
        self._lines = lines
        self._persona = persona
        self._facts = facts
        self._rng = rng
        self._name = name
        self._used: dict[str, list[str]] = {}

    def variants(self, key: str) -> list[str]:
        entry = self._lines[key]
        if isinstance(entry, dict):
            return entry.get(self._persona) or entry["default"]
        return entry

    def say(self, key: str, **fields: str) -> str:
        """A variant of line `key` not said yet in this call while there is one; then round again, never the
        one said last (three complaints are three different lines, not two alternating)."""
        options = self.variants(key)
        used = self._used.setdefault(key, [])
        fresh = [o for o in options if o not in used]
        if not fresh:
            used[:] = used[-1:]
            fresh = [o for o in options if o not in used] or options
        text = self._rng.choice(fresh)
        used.append(text)
        values = _Fields(self._facts)
        values["name"] = self._name
        values.update(fields)
        return _fill(text, values).strip()


_SENTENCE_END = re.compile(r"(^|[.!?…]\s+)$")


def _fill(text: str, values: _Fields) -> str:
    """Format `text`; a value that starts a sentence ("{cause}, is it?") starts with a capital letter."""
    out = ""
    for literal, field, spec, conversion in string.Formatter().parse(text):
        out += literal
        if field is None:
            continue
        if field in values:
            value = format(values[field], spec or "")
        else:
            value = "{" + field + "}"
        if _SENTENCE_END.search(out):
            value = value[:1].upper() + value[1:]
        out += value
    return out
