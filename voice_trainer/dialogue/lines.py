"""The customer's lines: several variants per situation, picked by the session's seeded randomness."""

from __future__ import annotations

import random
import string


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


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
        return string.Formatter().vformat(text, (), values).strip()
