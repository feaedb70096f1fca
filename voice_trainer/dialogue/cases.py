"""Which case a call is (`cases` in the scenario): picked by the seed, so a replay or a rescore is the same call.

Cases draw from their own seeded streams, so a scenario without cases, or adding a case, leaves the facts and
line variants every other stream picks for a seed as they were.
"""

from __future__ import annotations

import random

from voice_trainer.scenario.schema import ScenarioFile


def pick_case(s: ScenarioFile, seed: int) -> str | None:
    """The case of the call with this seed (weighted), or None when the scenario has no cases."""
    if not s.cases:
        return None
    names = list(s.cases)
    return random.Random(f"case/{seed}").choices(names, weights=[float(s.cases[n].weight) for n in names])[0]


def case_facts(s: ScenarioFile, case: str | None, seed: int) -> dict[str, str]:
    """The facts the case sets; a list of values is picked by the seed."""
    if case is None:
        return {}
    dice = random.Random(f"case facts/{seed}")
    return {name: value if isinstance(value, str) else dice.choice(value)
            for name, value in sorted(s.cases[case].facts.items())}


def seed_for_case(s: ScenarioFile, case: str, start: int = 0, tries: int = 10_000) -> int | None:
    """The first seed from `start` on whose call is `case` (for practising one case on purpose)."""
    for seed in range(start, start + tries):
        if pick_case(s, seed) == case:
            return seed
    return None
