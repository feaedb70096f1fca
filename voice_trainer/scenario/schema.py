"""The shape of a scenario file, as pydantic models (the file boundary). Meaning checks live in checks.py."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    # defer_build: the validators are built when a file is first validated, not on import; a scenario read
    # back from the cache of validated scenarios (scenario/validated.py) needs none of them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


Number = Union[int, float]
# A number, or "$param" read from the persona's params (so personas can differ without code).
Threshold = Union[int, float, str]
Names = Union[str, list[str]]
# How much a reaction weighs when several answer one turn; the highest speaks (see dialogue/reply.py).
Rank = Literal["minor", "statement", "answer", "turn", "ending", "conduct"]


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
    made: list[str] | None = None  # each move was done, or made and refused for another mistake (`credit`)
    said: list[str] | None = None  # this turn names each detail (see `details`)
    not_said: list[str] | None = None  # this turn names none of these details
    heard: list[str] | None = None  # each detail was named at some point in the call
    manual_phrase: bool | None = None  # this turn does (true) or does not (false) contain a `manual_phrases` match
    quality_at_least: Threshold | None = None  # how well the move was made this turn (0..1, see `tone.quality`)
    quality_below: Threshold | None = None
    chance: "Chance | None" = None  # a seeded draw: the customer sometimes does this, more likely in a good call
    case: Names | None = None  # the call is one of these `cases` (picked by the seed)


class Chance(Strict):
    """Holds with a probability: certain at or below `anger[0]`, never at or above `anger[1]`, linear between;
    times the move's quality mapped the same way onto `quality` (never at or below quality[0], certain at or
    above quality[1]). Drawn from the call's seed, so a replay decides the same way."""

    anger: tuple[Threshold, Threshold]
    quality: tuple[Threshold, Threshold] | None = None


class DoneCount(Strict):
    moves: list[str]
    at_least: int = Field(ge=1)


class DoneIn(Strict):
    """`move` was first done while the customer was in one of `states`."""

    move: str
    states: list[str]


# No Conditions.model_rebuild() here: with defer_build the forward references above (DoneCount, DoneIn,
# Conditions itself) are resolved when a file is first validated.


class Cue(Strict):
    """Something the engine reads from a turn besides its moves, written like a move: examples and patterns."""

    examples: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1)
    reject: list[str] = []


class DetailKind(Cue):
    say: list[str] = Field(min_length=1)  # how the customer names it back: fills {detail} in lines


class Detail(Strict):
    """A detail of a turn the customer reacts to: which of several `kinds` the trainee named (the cause he
    gave), or a value the engine reads itself (`read: day_and_time`: the day and time he proposed).
    Lines use it as {name}; a fact of the same name fills in when the call has not heard it."""

    kinds: dict[str, DetailKind] = {}
    read: Literal["day_and_time"] | None = None

    @model_validator(mode="after")
    def _kinds_or_read(self) -> "Detail":
        if bool(self.kinds) == (self.read is not None):
            raise ValueError("a detail needs either 'kinds' (what the trainee may name) or 'read: day_and_time'")
        return self


class Quality(Strict):
    """How well `moves` were made in a turn, from 0 to 1: the weights of the `markers` heard (a negative
    weight lowers it) plus one per `element` of the move named, over the best possible sum. The rule's
    anger is scaled by it: calming anger from scale[0] (quality 0) to scale[1] (quality 1) times, angering
    anger the other way round."""

    moves: list[str] = Field(min_length=1)
    markers: dict[str, Number] = {}
    elements: dict[str, Cue] = {}
    scale: tuple[Number, Number] = (1, 1)


class Tone(Strict):
    markers: dict[str, Cue] = {}  # how something is said: politeness, softening, warmth, curtness
    quality: list[Quality] = []


class DateFact(Strict):
    months_before: tuple[int, int]  # the date lies this many months before the call (inclusive range)


class Timeline(Strict):
    """When the story happens, so `scenario check` can tell whether date facts fit it."""

    call_months: list[int] = Field(min_length=1)  # months (1-12) the call can take place in
    dates: dict[str, DateFact] = {}  # facts that are calendar dates


class Case(Strict):
    """One consistent set of circumstances for a call ("the line is faulty"): the seed picks one case per call,
    `weight` times as often as a case of weight 1, and its facts replace the independently picked ones.
    A fact given as a list is picked by the seed within the case."""

    description: str = ""
    weight: Number = Field(default=1, gt=0)
    facts: dict[str, Union[str, list[str]]] = {}


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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    on: Names
    from_: Names = Field(alias="from")
    when: Conditions | None = None
    to: str | None = None
    anger: Number = 0
    say: Names | None = None  # a line, or lines to use on the 1st, 2nd, ... time this rule fires (then the last)
    lead: str | None = None  # a short line leading into the turn's main answer when another reaction speaks
    rank: Rank | None = None  # how much the reaction weighs in the turn's one answer (default: from the rule)
    minor: bool = False  # same as rank: minor
    counts: bool = True  # false: the move had no effect (premature), so it is not recorded as done
    credit: bool = False  # with counts: false: the move was right but refused for another mistake (`made`)
    flags: list[str] = []


class AutoRule(Strict):
    """Checked after every turn: when the customer is in `from` and `when` holds, he moves on by himself."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    from_: Names = Field(alias="from")
    when: Conditions | None = None
    to: str
    anger: Number = 0
    say: Names | None = None
    lead: str | None = None
    rank: Rank | None = None
    flags: list[str] = []


class Reaction(Strict):
    say: Names | None = None  # a line, or escalating lines: the 1st, 2nd, ... time (then the last)
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
    manual_phrase: Reaction | None = None  # nothing understood but a `manual_phrases` match: a manual phrase


REACTION_NAMES = ("unknown", "repeated", "already_answered", "out_of_place", "hang_up", "quit", "manual_phrase")


class CombinedLine(Strict):
    """When all of `lines` would be said in one answer, say this line instead of them."""

    lines: list[str] = Field(min_length=2)
    say: str


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
    points: Number = Field(ge=0)
    max_times: int = Field(default=3, ge=1)
    suggestion: str
    cap: Number | None = None  # the call scores at most this much when the flag is raised
    same_as: str | None = None  # rubric item id: the same mistake; charged there alone when that item is missed


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
    # Defaults that are models come from a factory: an instance made here, on import, would build the
    # validators that defer_build leaves for the first file validated.
    scenario: str
    language: str = Field(min_length=2, max_length=8)
    title: str
    summary: str = ""
    customer: Customer = Field(default_factory=Customer)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    facts: dict[str, list[str]] = {}
    cases: dict[str, Case] = {}
    timeline: Timeline | None = None
    personas: dict[str, Persona] = Field(min_length=1)
    default_persona: str
    policies: dict[str, Policy] = Field(min_length=1)
    default_policy: str
    opening: str  # line the customer opens the call with
    anger: AngerSettings = Field(default_factory=AngerSettings)
    phases: list[Phase] = Field(min_length=1)
    moves: dict[str, Move] = Field(min_length=1)
    states: dict[str, State] = Field(min_length=1)
    endings: dict[str, Ending] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    auto: list[AutoRule] = []
    reactions: Reactions
    details: dict[str, Detail] = {}
    manual_phrases: Cue | None = None  # phrases from a support manual that say nothing; never credited
    tone: Tone = Field(default_factory=Tone)
    combined_lines: list[CombinedLine] = []
    lines: dict[str, Union[list[str], dict[str, list[str]]]]
    rubric: Rubric

    @model_validator(mode="before")
    @classmethod
    def _persona_lines(cls, raw: Any) -> Any:
        return merge_persona_lines(raw)

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


PERSONA_MARK = "@"


def merge_persona_lines(raw: Any) -> Any:
    """`key@persona: [...]` next to `key: [...]` is the same as `key: {persona: [...], default: [...]}`.

    Both forms are written in scenarios (the first one is older). A `key@name` whose name is no persona, or
    that has no `key` beside it, stays a line of its own (`scenario check` warns about it); the merged
    `key@persona` also stays, for rules that name it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("lines"), dict) or not isinstance(raw.get("personas"), dict):
        return raw
    lines = dict(raw["lines"])
    for full, variants in raw["lines"].items():
        key, persona = split_persona_key(full, raw["personas"])
        if persona is None or key not in lines or not isinstance(variants, list):
            continue
        base = lines[key]
        if isinstance(base, list):
            lines[key] = {"default": base, persona: variants}
        elif isinstance(base, dict) and persona not in base:
            lines[key] = {**base, persona: variants}
        elif isinstance(base, dict):
            raise ValueError(f"the {persona} customer's {key!r} lines are given twice, as '{full}' and under "
                             f"'{key}: {{{persona}: ...}}'; keep one")
    return {**raw, "lines": lines}


def split_persona_key(full: Any, personas: Any) -> tuple[str, str | None]:
    """('answer', 'stubborn') for 'answer@stubborn' when stubborn is a persona; (full, None) otherwise."""
    if not isinstance(full, str) or PERSONA_MARK not in full:
        return full, None
    key, _, persona = full.rpartition(PERSONA_MARK)
    return (key, persona) if key and persona in (personas or {}) else (full, None)
