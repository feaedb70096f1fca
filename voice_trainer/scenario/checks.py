"""Meaning checks a schema cannot express: names that must refer to each other, lines that must exist,
endings that must be reachable. Each problem is (key path, message)."""

from __future__ import annotations

import string
from collections import deque
from typing import Any, Iterator

from voice_trainer.scenario.schema import Conditions, ScenarioFile, names

Problem = tuple[tuple[Any, ...], str]

ENGINE_TRIGGERS = {"settle", "anger_maxed", "quit"}
LINE_FIELDS = {"answer", "name"}


def check_meaning(s: ScenarioFile) -> list[Problem]:
    problems: list[Problem] = []
    for check in (_defaults, _states_and_endings, _moves, _rules, _auto, _reactions, _lines, _rubric):
        problems += list(check(s))
    # A misspelt state in a rule also cuts off what lies behind it; report the misspelling, not the consequences.
    if not any(loc[0] in ("rules", "auto") and loc[-1] in ("to", "from") for loc, _ in problems):
        problems += list(_reachability(s))
    return problems


def _defaults(s: ScenarioFile) -> Iterator[Problem]:
    if s.opening not in s.lines:
        yield ("opening",), f"no line {s.opening!r} in 'lines'"
    if s.default_persona not in s.personas:
        yield ("default_persona",), f"unknown persona {s.default_persona!r}; personas are {_list(s.personas)}"
    if s.default_policy not in s.policies:
        yield ("default_policy",), f"unknown policy {s.default_policy!r}; policies are {_list(s.policies)}"


def _states_and_endings(s: ScenarioFile) -> Iterator[Problem]:
    phases = {p.id for p in s.phases}
    initial = [name for name, st in s.states.items() if st.initial]
    if len(initial) != 1:
        yield ("states",), f"exactly one state needs 'initial: true' (found {len(initial)})"
    for name, st in s.states.items():
        if st.phase not in phases:
            yield ("states", name, "phase"), f"unknown phase {st.phase!r}; phases are {_list(phases)}"
        if name in s.endings:
            yield ("states", name), f"{name!r} is both a state and an ending; rename one"
    for name, ending in s.endings.items():
        if ending.say and ending.say not in s.lines:
            yield ("endings", name, "say"), f"no line {ending.say!r} in 'lines'"


def _moves(s: ScenarioFile) -> Iterator[Problem]:
    from voice_trainer.scenario.patterns import PatternError, parse_pattern

    phases = {p.id for p in s.phases}
    used = {m for r in s.rules for m in names(r.on)}
    for name, move in s.moves.items():
        if name in ENGINE_TRIGGERS or name == "unknown":
            yield ("moves", name), f"{name!r} is reserved by the engine; choose another move id"
        if move.phase and move.phase not in phases:
            yield ("moves", name, "phase"), f"unknown phase {move.phase!r}; phases are {_list(phases)}"
        if name not in used:
            yield ("moves", name), f"move {name!r} has no rule: add a rule with 'on: {name}' or remove the move"
        for key in ("patterns", "reject"):
            for i, pattern in enumerate(getattr(move, key)):
                try:
                    parsed = parse_pattern(pattern)
                except PatternError as err:
                    yield ("moves", name, key, i), str(err)
                    continue
                unmatchable = _unmatchable_words(parsed)
                if unmatchable:
                    yield ("moves", name, key, i), (
                        f"pattern {pattern!r}: {', '.join(map(repr, unmatchable))} can never match, because replies "
                        "are split into plain words; write words, 'prefix*', 'a|b' and 'a + b' (not a regular expression)"
                    )


def _rules(s: ScenarioFile) -> Iterator[Problem]:
    for i, rule in enumerate(s.rules):
        where = ("rules", i)
        for move in names(rule.on):
            if move not in s.moves:
                yield where + ("on",), f"unknown move {move!r}; moves are {_list(s.moves)}"
        yield from _sources(s, rule.from_, where + ("from",))
        if rule.to is not None and rule.to not in s.states and rule.to not in s.endings:
            yield where + ("to",), f"transition to unknown state {rule.to!r}; states are {_list(s.states)}, endings {_list(s.endings)}"
        if rule.say and rule.say not in s.lines:
            yield where + ("say",), f"no line {rule.say!r} in 'lines'"
        yield from _conditions(s, rule.when, where + ("when",))


def _auto(s: ScenarioFile) -> Iterator[Problem]:
    for i, rule in enumerate(s.auto):
        where = ("auto", i)
        yield from _sources(s, rule.from_, where + ("from",))
        if rule.to not in s.states and rule.to not in s.endings:
            yield where + ("to",), f"transition to unknown state {rule.to!r}; states are {_list(s.states)}, endings {_list(s.endings)}"
        if rule.say and rule.say not in s.lines:
            yield where + ("say",), f"no line {rule.say!r} in 'lines'"
        yield from _conditions(s, rule.when, where + ("when",))


def _reactions(s: ScenarioFile) -> Iterator[Problem]:
    for name in ("unknown", "repeated", "already_answered", "out_of_place", "hang_up", "quit"):
        reaction = getattr(s.reactions, name)
        if reaction.say and reaction.say not in s.lines:
            yield ("reactions", name, "say"), f"no line {reaction.say!r} in 'lines'"
        if reaction.ending is not None and reaction.ending not in s.endings:
            yield ("reactions", name, "ending"), f"unknown ending {reaction.ending!r}; endings are {_list(s.endings)}"
    for name in ("hang_up", "quit"):
        if getattr(s.reactions, name).ending is None:
            yield ("reactions", name), f"'{name}' needs an 'ending'"


def _lines(s: ScenarioFile) -> Iterator[Problem]:
    allowed = set(s.facts) | LINE_FIELDS
    for key, variants in s.lines.items():
        groups = variants.items() if isinstance(variants, dict) else [(None, variants)]
        if isinstance(variants, dict):
            for persona in variants:
                if persona != "default" and persona not in s.personas:
                    yield ("lines", key, persona), f"unknown persona {persona!r}; use a persona name or 'default'"
            missing = [p for p in s.personas if p not in variants and "default" not in variants]
            if missing:
                yield ("lines", key), f"no variants for persona(s) {', '.join(missing)}; add them or a 'default' list"
        for persona, texts in groups:
            loc = ("lines", key) + ((persona,) if persona else ())
            if not texts:
                yield loc, f"line {key!r} has no variants; write at least one"
            for i, text in enumerate(texts):
                if not text.strip():
                    yield loc + (i,), "empty line text"
                for field in _placeholders(text):
                    if field not in allowed:
                        yield loc + (i,), f"placeholder {{{field}}} is not a fact; facts are {_list(s.facts)}"


def _rubric(s: ScenarioFile) -> Iterator[Problem]:
    phases = {p.id for p in s.phases}
    ids: set[str] = set()
    for i, item in enumerate(s.rubric.items):
        where = ("rubric", "items", i)
        if item.id in ids:
            yield where + ("id",), f"rubric item id {item.id!r} is used twice"
        ids.add(item.id)
        if item.phase not in phases:
            yield where + ("phase",), f"unknown phase {item.phase!r}; phases are {_list(phases)}"
        if item.evidence and item.evidence not in s.moves:
            yield where + ("evidence",), f"unknown move {item.evidence!r}"
        yield from _conditions(s, item.met, where + ("met",))
        yield from _conditions(s, item.applies, where + ("applies",))
    produced = _flags(s)
    for i, penalty in enumerate(s.rubric.penalties):
        if penalty.flag not in produced:
            yield ("rubric", "penalties", i, "flag"), f"no rule raises flag {penalty.flag!r}; flags raised are {_list(produced)}"
    for ending in s.rubric.ending_caps:
        if ending not in s.endings:
            yield ("rubric", "ending_caps", ending), f"unknown ending {ending!r}; endings are {_list(s.endings)}"


def _reachability(s: ScenarioFile) -> Iterator[Problem]:
    initial = next((n for n, st in s.states.items() if st.initial), None)
    if initial is None:
        return
    edges: dict[str, set[str]] = {name: set() for name in s.states}
    for rule in [*s.rules, *s.auto]:
        if rule.to is None:
            continue
        for source in _expand(s, rule.from_):
            edges.setdefault(source, set()).add(rule.to)
    for name in ("hang_up", "quit"):
        ending = getattr(s.reactions, name).ending
        if ending:
            for source in s.states:
                edges[source].add(ending)
    seen = _reachable(edges, initial)
    lost = [name for name in [*s.states, *s.endings] if name not in seen]
    behind = {name: _reachable(edges, name) - {name} for name in lost}
    for name in lost:
        # Only the first cut-off state is the problem; what lies behind it is mentioned, not reported again.
        if any(name in behind[other] and other not in behind[name] for other in lost if other != name):
            continue
        downstream = [other for other in lost if other in behind[name] and name not in behind[other]]
        also = f" (so are {', '.join(map(repr, downstream))}, reached only through it)" if downstream else ""
        if name in s.states:
            yield ("states", name), f"state {name!r} can never be entered from {initial!r}{also}; add a rule leading to it"
        else:
            yield ("endings", name), f"ending {name!r} is unreachable: no rule leads to it from {initial!r}{also}"


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _unmatchable_words(pattern: Any) -> list[str]:
    from voice_trainer.scenario.patterns import normalize

    words = [w.text for group in pattern.groups for alt in group for w in alt]
    return [w for w in words if normalize(w) != w]


def _sources(s: ScenarioFile, value: Any, where: tuple[Any, ...]) -> Iterator[Problem]:
    for source in names(value):
        if source != "*" and source not in s.states:
            yield where, f"unknown state {source!r}; states are {_list(s.states)} (or '*')"


def _conditions(s: ScenarioFile, c: Conditions | None, where: tuple[Any, ...]) -> Iterator[Problem]:
    if c is None:
        return
    for persona in names(c.persona):
        if persona not in s.personas:
            yield where + ("persona",), f"unknown persona {persona!r}; personas are {_list(s.personas)}"
    for policy in names(c.policy):
        if policy not in s.policies:
            yield where + ("policy",), f"unknown policy {policy!r}; policies are {_list(s.policies)}"
    for ending in names(c.ending):
        if ending not in s.endings:
            yield where + ("ending",), f"unknown ending {ending!r}; endings are {_list(s.endings)}"
    move_lists = {
        "done": c.done, "not_done": c.not_done, "same_turn": c.same_turn, "not_same_turn": c.not_same_turn,
        "done_count": c.done_count.moves if c.done_count else None,
        "done_in": [c.done_in.move] if c.done_in else None,
    }
    for key, moves in move_lists.items():
        for move in moves or []:
            if move not in s.moves:
                yield where + (key,), f"unknown move {move!r}; moves are {_list(s.moves)}"
    for key, states in {"visited": c.visited, "not_visited": c.not_visited,
                        "done_in": c.done_in.states if c.done_in else None}.items():
        for state in states or []:
            if state not in s.states and state not in s.endings:
                yield where + (key,), f"unknown state {state!r}; states are {_list(s.states)}"
    produced = _flags(s)
    for key, flags in {"flag": c.flag, "not_flag": c.not_flag}.items():
        for flag in flags or []:
            if flag not in produced:
                yield where + (key,), f"no rule raises flag {flag!r}; flags raised are {_list(produced)}"
    for i, alternative in enumerate(c.any_of or []):
        yield from _conditions(s, alternative, where + ("any_of", i))
    for key in ("anger_below", "anger_at_least"):
        value = getattr(c, key)
        if isinstance(value, str):
            param = value.removeprefix("$")
            if not value.startswith("$"):
                yield where + (key,), f"{value!r} must be a number or '$param' naming a persona param"
                continue
            for pname, persona in s.personas.items():
                if param not in persona.params:
                    yield where + (key,), f"persona {pname!r} has no param {param!r} (used as {value!r})"


def _flags(s: ScenarioFile) -> set[str]:
    flags = {f for r in [*s.rules, *s.auto] for f in r.flags}
    for name in ("unknown", "repeated", "already_answered", "out_of_place", "hang_up", "quit"):
        flags |= set(getattr(s.reactions, name).flags)
    return flags


def _expand(s: ScenarioFile, value: Any) -> list[str]:
    sources = names(value)
    return list(s.states) if "*" in sources else sources


def _placeholders(text: str) -> list[str]:
    try:
        return [field for _, field, _, _ in string.Formatter().parse(text) if field]
    except ValueError:
        return ["<unbalanced braces>"]


def _list(items: Any) -> str:
    return ", ".join(sorted(items)) or "none"
