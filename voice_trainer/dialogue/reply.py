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
    parts: list[tuple[str | None, str | None]] = []  # (line key, text or None: render it)
    if speaking:
        top = max(RANKS.index(r.rank) for r in speaking)
        candidates = [r for r in speaking if RANKS.index(r.rank) == top]
        main = candidates if RANKS[top] == "answer" else [max(candidates, key=lambda r: r.order)]
        leads: list[str] = []
        if RANKS[top] != "conduct":
            leads = list(dict.fromkeys(r.lead for r in speaking if r.lead and r not in main))
        parts += [(lead, None) for lead in leads]
        parts += [(r.line, r.text) for r in main]
    parts += [(r.line, r.text) for r in reactions if r.text and r.closing]
    parts = _combine(parts, combined)
    texts = [text if text is not None else say(key) for key, text in parts if key or text]  # type: ignore[arg-type]
    return texts, [key for key, _ in parts if key]


def _combine(parts: list[tuple[str | None, str | None]],
             combined: Sequence[tuple[Sequence[str], str]]) -> list[tuple[str | None, str | None]]:
    for keys, line in combined:
        at = [i for i, (key, _) in enumerate(parts) if key in keys]
        if len({parts[i][0] for i in at}) == len(set(keys)):
            parts = [p for i, p in enumerate(parts) if i not in at[1:]]
            parts[at[0]] = (line, None)
    leads = [i for i, (_, text) in enumerate(parts) if text is None]
    return [p for i, p in enumerate(parts) if i not in leads[1:]]  # uncombined, one lead is enough
