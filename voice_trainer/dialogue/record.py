"""What has happened in the call so far, as the customer and the rubric see it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CallRecord:
    persona: str
    policy: str
    params: dict[str, float]
    anger: float
    state: str = ""
    done: Counter = field(default_factory=Counter)  # move -> times a rule accepted it
    first_done_state: dict[str, str] = field(default_factory=dict)  # move -> state it was first done in
    first_done_turn: dict[str, int] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # question move -> what the customer answered
    visited: list[str] = field(default_factory=list)
    flags: Counter = field(default_factory=Counter)
    turn_moves: tuple[str, ...] = ()  # moves of the turn being handled
    ending: str | None = None

    def mark_done(self, move: str, turn: int) -> None:
        if move not in self.done:
            self.first_done_state[move] = self.state
            self.first_done_turn[move] = turn
        self.done[move] += 1
