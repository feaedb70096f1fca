"""Scenario conditions compiled to small named predicates over the CallRecord.

Each predicate carries a readable __name__ ("anger_below_calm_limit"), which is what the
transitions machine shows on its diagram edges. `chance` draws from the call's dice, so only a
conversation (which has them) can compile it; the rubric cannot depend on luck.
"""

from __future__ import annotations

import random
from typing import Callable

from voice_trainer.dialogue.record import CallRecord
from voice_trainer.scenario.schema import Chance, Conditions, names

Predicate = Callable[[CallRecord], bool]


def compile_conditions(c: Conditions | None, dice: random.Random | None = None) -> list[Predicate]:
    if c is None:
        return []
    preds: list[Predicate] = []
    if c.persona is not None:
        preds.append(_persona_in(names(c.persona)))
    if c.policy is not None:
        preds.append(_policy_in(names(c.policy)))
    if c.done:
        preds.append(_done_all(c.done))
    if c.not_done:
        preds.append(_done_none(c.not_done))
    if c.done_count:
        preds.append(_done_at_least(c.done_count.moves, c.done_count.at_least))
    if c.same_turn:
        preds.append(_in_turn(c.same_turn))
    if c.not_same_turn:
        preds.append(_not_in_turn(c.not_same_turn))
    if c.done_in:
        preds.append(_done_in(c.done_in.move, c.done_in.states))
    if c.visited:
        preds.append(_visited(c.visited))
    if c.not_visited:
        preds.append(_not_visited(c.not_visited))
    if c.flag:
        preds.append(_flagged(c.flag))
    if c.not_flag:
        preds.append(_not_flagged(c.not_flag))
    if c.anger_below is not None:
        preds.append(_anger_below(c.anger_below))
    if c.anger_at_least is not None:
        preds.append(_anger_at_least(c.anger_at_least))
    if c.ending is not None:
        preds.append(_ending_in(names(c.ending)))
    if c.made:
        preds.append(_made(c.made))
    if c.said:
        preds.append(_said(c.said))
    if c.not_said:
        preds.append(_not_said(c.not_said))
    if c.heard:
        preds.append(_heard(c.heard))
    if c.manual_phrase is not None:
        preds.append(_manual_phrase(c.manual_phrase))
    if c.quality_at_least is not None:
        preds.append(_quality_at_least(c.quality_at_least))
    if c.quality_below is not None:
        preds.append(_quality_below(c.quality_below))
    if c.case is not None:
        preds.append(_case_in(names(c.case)))
    if c.any_of:
        preds.append(_any_of([compile_conditions(alt, dice) for alt in c.any_of]))
    if c.chance is not None:  # last: the dice are only thrown when everything else holds
        if dice is None:
            raise ValueError("a 'chance' condition needs the call's dice; it cannot judge a finished call")
        preds.append(_chance(c.chance, dice))
    return preds


def holds(preds: list[Predicate], record: CallRecord) -> bool:
    return all(p(record) for p in preds)


def _named(name: str, fn: Predicate) -> Predicate:
    fn.__name__ = name
    fn.__qualname__ = name
    return fn


def _threshold(value: float | str, record: CallRecord) -> float:
    if isinstance(value, str):
        return float(record.params[value.removeprefix("$")])
    return float(value)


def _label(value: float | str) -> str:
    return value.removeprefix("$") if isinstance(value, str) else f"{value:g}"


def _persona_in(personas: list[str]) -> Predicate:
    return _named("persona_" + "_or_".join(personas), lambda r: r.persona in personas)


def _policy_in(policies: list[str]) -> Predicate:
    return _named("policy_" + "_or_".join(policies), lambda r: r.policy in policies)


def _done_all(moves: list[str]) -> Predicate:
    return _named("done_" + "_".join(moves), lambda r: all(r.done[m] > 0 for m in moves))


def _done_none(moves: list[str]) -> Predicate:
    return _named("not_done_" + "_".join(moves), lambda r: all(r.done[m] == 0 for m in moves))


def _done_at_least(moves: list[str], n: int) -> Predicate:
    return _named(f"{n}_of_" + "_".join(moves), lambda r: sum(1 for m in moves if r.done[m] > 0) >= n)


def _in_turn(moves: list[str]) -> Predicate:
    return _named("with_" + "_".join(moves), lambda r: all(m in r.turn_moves for m in moves))


def _not_in_turn(moves: list[str]) -> Predicate:
    return _named("without_" + "_".join(moves), lambda r: not any(m in r.turn_moves for m in moves))


def _done_in(move: str, states: list[str]) -> Predicate:
    return _named(f"{move}_in_" + "_".join(states), lambda r: r.first_done_state.get(move) in states)


def _visited(states: list[str]) -> Predicate:
    return _named("visited_" + "_".join(states), lambda r: all(s in r.visited for s in states))


def _not_visited(states: list[str]) -> Predicate:
    return _named("not_visited_" + "_".join(states), lambda r: not any(s in r.visited for s in states))


def _flagged(flags: list[str]) -> Predicate:
    return _named("flag_" + "_".join(flags), lambda r: all(r.flags[f] > 0 for f in flags))


def _not_flagged(flags: list[str]) -> Predicate:
    return _named("no_" + "_".join(flags), lambda r: all(r.flags[f] == 0 for f in flags))


def _anger_below(value: float | str) -> Predicate:
    return _named(f"anger_below_{_label(value)}", lambda r: r.anger < _threshold(value, r))


def _anger_at_least(value: float | str) -> Predicate:
    return _named(f"anger_at_least_{_label(value)}", lambda r: r.anger >= _threshold(value, r))


def _ending_in(endings: list[str]) -> Predicate:
    return _named("ending_" + "_or_".join(endings), lambda r: r.ending in endings)


def _case_in(cases: list[str]) -> Predicate:
    return _named("case_" + "_or_".join(cases), lambda r: r.case in cases)


def _any_of(alternatives: list[list[Predicate]]) -> Predicate:
    label = "_or_".join("_and_".join(p.__name__ for p in alt) or "always" for alt in alternatives)
    return _named(f"({label})", lambda r: any(holds(alt, r) for alt in alternatives))


def _made(moves: list[str]) -> Predicate:
    return _named("made_" + "_".join(moves), lambda r: all(r.done[m] > 0 or r.credited[m] > 0 for m in moves))


def _said(details: list[str]) -> Predicate:
    return _named("said_" + "_".join(details), lambda r: all(d in r.turn_details for d in details))


def _not_said(details: list[str]) -> Predicate:
    return _named("no_" + "_".join(details), lambda r: not any(d in r.turn_details for d in details))


def _heard(details: list[str]) -> Predicate:
    return _named("heard_" + "_".join(details), lambda r: all(d in r.heard for d in details))


def _manual_phrase(value: bool) -> Predicate:
    return _named("manual_phrase" if value else "no_manual_phrase", lambda r: r.manual_phrase == value)


def _quality_at_least(value: float | str) -> Predicate:
    return _named(f"quality_at_least_{_label(value)}", lambda r: r.quality >= _threshold(value, r))


def _quality_below(value: float | str) -> Predicate:
    return _named(f"quality_below_{_label(value)}", lambda r: r.quality < _threshold(value, r))


def chance_of(c: Chance, r: CallRecord) -> float:
    """The probability that a `chance` condition holds for the call as it is now."""
    sure, never = (_threshold(v, r) for v in c.anger)
    p = _ramp(r.anger, sure, never)
    if c.quality is not None:
        none, full = (_threshold(v, r) for v in c.quality)
        p *= 1.0 - _ramp(r.quality, none, full)
    return p


def _ramp(x: float, low: float, high: float) -> float:
    """1 at or below `low`, 0 at or above `high`, linear between."""
    if high <= low:
        return 1.0 if x < high else 0.0
    return min(1.0, max(0.0, (high - x) / (high - low)))


def _chance(c: Chance, dice: random.Random) -> Predicate:
    return _named(f"chance_anger_{_label(c.anger[0])}_to_{_label(c.anger[1])}",
                  lambda r: dice.random() < chance_of(c, r))
