"""One natural answer to a turn that made several moves.

Every reaction in a turn changes anger and raises its flags; only the weightiest one speaks, the way a
person answers the point that matters most to him. Ranks, highest first:

    conduct    he was mocked or insulted: nothing else in the turn matters
    ending     the call ends
    turn       the call moves on (he accepts or rejects an explanation, grants permission...)
    answer     he answers a question (several questions in one turn: he answers each)
    statement  he takes an apology, a cause
    minor      a greeting, an "I see": spoken only when nothing else is

Within a rank, the reaction further along the method speaks (later phase, then later rule). A reaction
that does not speak can still lead in with its short `lead` line ("Well, apology accepted."); not before
conduct. One lead, the first made, unless the scenario's `combined_lines` has one line for several of
them (and for any other lines said together). The engine's hang-up closes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

RANKS = ("minor", "statement", "answer", "turn", "ending", "conduct")


@dataclass(frozen=True)
class Said:
    """What one reaction would say."""

    line: str | None  # line key
    text: str
    rank: str
    order: tuple[int, int]  # (phase in the method, rule in the file): the tie-break within a rank
    lead: str | None = None  # line key of a short lead-in used when another reaction speaks
    closing: bool = False  # said after the rest (the customer hanging up)


def compose(reactions: list[Said], say: Callable[[str], str],
            combined: Sequence[tuple[Sequence[str], str]] = ()) -> tuple[list[str], list[str]]:
    """The texts and line keys of the turn's one answer. `say` renders a line that no reaction rendered
    (a lead, a combined line); `combined` is (line keys, the line said instead of them)."""
    speaking = [r for r in reactions if r.text and not r.closing]
    parts: list[_Part] = []
    if speaking:
        top = max(RANKS.index(r.rank) for r in speaking)
        candidates = [r for r in speaking if RANKS.index(r.rank) == top]
        main = candidates if RANKS[top] == "answer" else [max(candidates, key=lambda r: r.order)]
        if RANKS[top] != "conduct":
            leads = dict.fromkeys(r.lead for r in speaking if r.lead and r not in main)
            parts += [_Part(lead, None, lead=True) for lead in leads if lead]
        parts += [_Part(r.line, r.text) for r in main]
    parts += [_Part(r.line, r.text) for r in reactions if r.text and r.closing]
    parts = _combine(parts, combined)
    texts = [p.text if p.text is not None else say(p.key) for p in parts if p.key or p.text]  # type: ignore[arg-type]
    return texts, [p.key for p in parts if p.key]


@dataclass(frozen=True)
class _Part:
    key: str | None
    text: str | None  # None: render the line `key`
    lead: bool = False


def _combine(parts: list[_Part], combined: Sequence[tuple[Sequence[str], str]]) -> list[_Part]:
    for keys, line in combined:
        at = [i for i, part in enumerate(parts) if part.key in keys]
        if len({parts[i].key for i in at}) == len(set(keys)):
            all_leads = all(parts[i].lead for i in at)
            parts = [part for i, part in enumerate(parts) if i not in at[1:]]
            parts[at[0]] = _Part(line, None, lead=all_leads)
    leads = [i for i, part in enumerate(parts) if part.lead]
    return [part for i, part in enumerate(parts) if i not in leads[1:]]  # uncombined, one lead is enough
