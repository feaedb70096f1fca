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
that does not speak can still lead in with its short `lead` line ("Well, apology accepted."), at most
two of them, in the order they were made; not before conduct. The engine's hang-up closes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

RANKS = ("minor", "statement", "answer", "turn", "ending", "conduct")
MAX_LEADS = 2


@dataclass(frozen=True)
class Said:
    """What one reaction would say."""

    line: str | None  # line key
    text: str
    rank: str
    order: tuple[int, int]  # (phase in the method, rule in the file): the tie-break within a rank
    lead: str | None = None  # line key of a short lead-in used when another reaction speaks
    closing: bool = False  # said after the rest (the customer hanging up)


def compose(reactions: list[Said], say: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The texts and line keys of the turn's one answer. `say` renders a lead line."""
    speaking = [r for r in reactions if r.text and not r.closing]
    closing = [r for r in reactions if r.text and r.closing]
    texts: list[str] = []
    keys: list[str] = []
    if speaking:
        top = max(RANKS.index(r.rank) for r in speaking)
        candidates = [r for r in speaking if RANKS.index(r.rank) == top]
        main = candidates if RANKS[top] == "answer" else [max(candidates, key=lambda r: r.order)]
        if RANKS[top] != "conduct":
            leads = [r.lead for r in reactions if r.lead and r not in main and r.text and not r.closing]
            for lead in list(dict.fromkeys(leads))[:MAX_LEADS]:
                texts.append(say(lead))
                keys.append(lead)
        for r in main:
            texts.append(r.text)
            if r.line:
                keys.append(r.line)
    for r in closing:
        texts.append(r.text)
        if r.line:
            keys.append(r.line)
    return texts, keys
