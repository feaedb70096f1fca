"""What has happened in the call so far, as the customer and the rubric see it.

The customer's current state is not here: the transitions machine keeps it on its model
(machine.CustomerModel). This is the call's history and the turn being answered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CallRecord:
    persona: str
    policy: str
    params: dict[str, float]
    anger: float
    case: str | None = None  # the scenario case the seed picked (`cases`)
    done: Counter = field(default_factory=Counter)  # move -> times a rule accepted it
    credited: Counter = field(default_factory=Counter)  # move -> times it was refused for another mistake
    first_done_state: dict[str, str] = field(default_factory=dict)  # move -> state it was first done in
    first_done_turn: dict[str, int] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # question move -> what the customer answered
    visited: list[str] = field(default_factory=list)  # states entered, in order (the machine appends)
    flags: Counter = field(default_factory=Counter)
    fired: Counter = field(default_factory=Counter)  # rule id -> times it fired (escalating lines)
    heard: dict[str, str] = field(default_factory=dict)  # detail -> how the customer says it back (the latest named)
    ending: str | None = None  # the ending the machine entered
    # The turn being handled:
    turn_moves: tuple[str, ...] = ()
    turn_details: dict[str, str] = field(default_factory=dict)
    turn_quality: dict[str, float] = field(default_factory=dict)  # move -> how well it was made (0..1)
    manual_phrase: bool = False
    move: str = ""  # the move whose rule is being chosen

    def mark_done(self, move: str, turn: int, state: str) -> None:
        if move not in self.done:
            self.first_done_state[move] = state
            self.first_done_turn[move] = turn
        self.done[move] += 1

    def begin_turn(self, moves: tuple[str, ...], details: dict[str, str], quality: dict[str, float],
                   manual_phrase: bool) -> None:
        self.turn_moves = moves
        self.turn_details = dict(details)
        self.turn_quality = dict(quality)
        self.manual_phrase = manual_phrase
        self.heard.update(details)

    def end_turn(self) -> None:
        self.turn_moves, self.turn_details, self.turn_quality = (), {}, {}
        self.manual_phrase, self.move = False, ""

    @property
    def quality(self) -> float:
        """How well the move being judged was made this turn; 1 when the scenario does not judge it."""
        return self.turn_quality.get(self.move, 1.0)
