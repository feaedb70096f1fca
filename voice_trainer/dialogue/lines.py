"""The customer's lines: several variants per situation, picked by the session's seeded randomness.

Placeholders are filled from the facts (the customer's seeded circumstances), then from what the
trainee said (details such as the cause he named or the time he proposed), then from the engine
(`{answer}`, `{name}`).
"""

from __future__ import annotations

import random
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
        self._last: dict[str, str] = {}

    def variants(self, key: str) -> list[str]:
        entry = self._lines[key]
        if isinstance(entry, dict):
            return entry.get(self._persona) or entry["default"]
        return entry

    def say(self, key: str, **fields: str) -> str:
        """A variant of line `key`, not the same one as last time when there is a choice."""
        options = self.variants(key)
        if len(options) > 1 and key in self._last:
            options = [o for o in options if o != self._last[key]] or options
        text = self._rng.choice(options)
        self._last[key] = text
        values = _Fields(self._facts)
        values["name"] = self._name
        values.update(fields)
        text = string.Formatter().vformat(text, (), values).strip()
        return text[:1].upper() + text[1:]  # a line may start with a detail ("{cause}, is it?")
