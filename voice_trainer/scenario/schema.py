"""The shape of a scenario file, as pydantic models (the file boundary). Meaning checks live in checks.py."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Number = Union[int, float]
# A number, or "$param" read from the persona's params (so personas can differ without code).
Threshold = Union[int, float, str]
Names = Union[str, list[str]]


class Conditions(Strict):
    """All given conditions must hold. Shared by rules, auto rules and rubric items."""

    persona: Names | None = None
    policy: Names | None = None
    done: list[str] | None = None
    not_done: list[str] | None = None
    done_count: "DoneCount | None" = None
    same_turn: list[str] | None = None
    not_same_turn: list[str] | None = None
    done_in: "DoneIn | None" = None
    visited: list[str] | None = None
    not_visited: list[str] | None = None
    flag: list[str] | None = None
    not_flag: list[str] | None = None
    anger_below: Threshold | None = None
    anger_at_least: Threshold | None = None
    ending: Names | None = None
    any_of: "list[Conditions] | None" = None  # at least one of these condition sets holds


class DoneCount(Strict):
    moves: list[str]
    at_least: int = Field(ge=1)


class DoneIn(Strict):
    """`move` was first done while the customer was in one of `states`."""

    move: str
    states: list[str]


Conditions.model_rebuild()


class Persona(Strict):
    description: str = ""
    start_anger: Number = Field(ge=0)
    anger_factor: Number = Field(default=1.0, gt=0)
    params: dict[str, Number] = {}


class Policy(Strict):
    description: str = ""


class Phase(Strict):
    id: str
    title: str


class Move(Strict):
    phase: str | None = None
    kind: Literal["statement", "question", "conduct", "closing"] = "statement"
    description: str = ""
    repeatable: int = Field(default=1, ge=1)
    examples: list[str] = Field(min_length=1)
    patterns: list[str] = []
    reject: list[str] = []


class State(Strict):
    phase: str
    initial: bool = False
    description: str = ""


class Ending(Strict):
    success: bool
    description: str = ""
    say: str | None = None


class Rule(Strict):
    """When the trainee makes move `on` in a state of `from`, and `when` holds: change anger, say a line, go `to`.

    Rules are tried in file order; the first whose state and conditions match wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    on: Names
    from_: Names = Field(alias="from")
    when: Conditions | None = None
    to: str | None = None
    anger: Number = 0
    say: str | None = None
    minor: bool = False  # dropped from the reply when another reaction in the same turn has a line
    counts: bool = True  # false: the move had no effect (premature), so it is not recorded as done
    flags: list[str] = []


class AutoRule(Strict):
    """Checked after every turn: when the customer is in `from` and `when` holds, he moves on by himself."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Names = Field(alias="from")
    when: Conditions | None = None
    to: str
    anger: Number = 0
    say: str | None = None
    flags: list[str] = []


class Reaction(Strict):
    say: str | None = None
    anger: Number = 0
    flags: list[str] = []
    ending: str | None = None


class Reactions(Strict):
    """Situations the engine detects itself, whatever the move."""

    unknown: Reaction  # nothing understood
    repeated: Reaction  # near-identical phrase again, or a statement move used more often than it may be
    already_answered: Reaction  # a question he answered already; the line may use {answer}
    out_of_place: Reaction  # a move that no rule accepts in this state
    hang_up: Reaction  # anger reached the maximum; needs `ending`
    quit: Reaction  # the trainee left (script ran out, Ctrl-D); needs `ending`


class RubricItem(Strict):
    id: str
    phase: str
    title: str
    points: Number = Field(gt=0)
    met: Conditions
    applies: Conditions | None = None
    evidence: str | None = None  # move whose first utterance is quoted as what the trainee said
    praise: str
    suggestion: str


class Penalty(Strict):
    flag: str
    title: str
    points: Number = Field(gt=0)
    max_times: int = Field(default=3, ge=1)
    suggestion: str


class Rubric(Strict):
    items: list[RubricItem] = Field(min_length=1)
    penalties: list[Penalty] = []
    ending_caps: dict[str, Number] = {}


class AngerSettings(Strict):
    max: Number = Field(default=100, gt=0)


class VoiceSettings(Strict):
    espeak: str | None = None


class Customer(Strict):
    name: str = ""


class ScenarioFile(Strict):
    scenario: str
    language: str = Field(min_length=2, max_length=8)
    title: str
    summary: str = ""
    customer: Customer = Customer()
    voice: VoiceSettings = VoiceSettings()
    facts: dict[str, list[str]] = {}
    personas: dict[str, Persona] = Field(min_length=1)
    default_persona: str
    policies: dict[str, Policy] = Field(min_length=1)
    default_policy: str
    opening: str  # line the customer opens the call with
    anger: AngerSettings = AngerSettings()
    phases: list[Phase] = Field(min_length=1)
    moves: dict[str, Move] = Field(min_length=1)
    states: dict[str, State] = Field(min_length=1)
    endings: dict[str, Ending] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    auto: list[AutoRule] = []
    reactions: Reactions
    lines: dict[str, Union[list[str], dict[str, list[str]]]]
    rubric: Rubric

    @field_validator("facts")
    @classmethod
    def _facts_have_variants(cls, facts: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, variants in facts.items():
            if not variants:
                raise ValueError(f"fact {name!r} has no values")
        return facts


def names(value: Names | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
