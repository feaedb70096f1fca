"""Meaning checks a schema cannot express: names that must refer to each other, lines that must exist,
endings that must be reachable. Each problem is (key path, message)."""

from __future__ import annotations

import string
from collections import deque
from typing import Any, Iterator

from voice_trainer.scenario.schema import REACTION_NAMES, Conditions, Cue, ScenarioFile, names

Problem = tuple[tuple[Any, ...], str]

ENGINE_TRIGGERS = {"settle", "anger_maxed", "quit"}
LINE_FIELDS = {"answer", "name"}
# Attributes of the customer model the state machine drives (dialogue/machine.py); transitions binds a
# method named after every move (and may_<move>, is_<state>) to it, so these names are taken.
MODEL_ATTRIBUTES = {"state", "trigger", "may_trigger", "call", "fire", "fired", "remember"}


def check_meaning(s: ScenarioFile) -> list[Problem]:
    problems: list[Problem] = []
    for check in (_defaults, _states_and_endings, _moves, _rules, _auto, _reactions, _lines, _rubric,
                  _details, _manual_phrases, _tone, _timeline, _model_names, _combined_lines, _cases):
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
            yield from _pattern_problems(getattr(move, key), ("moves", name, key))


def _pattern_problems(patterns: list[str], where: tuple[Any, ...]) -> Iterator[Problem]:
    from voice_trainer.scenario.patterns import PatternError, parse_pattern

    for i, pattern in enumerate(patterns):
        try:
            parsed = parse_pattern(pattern)
        except PatternError as err:
            yield where + (i,), str(err)
            continue
        unmatchable = _unmatchable_words(parsed)
        if unmatchable:
            yield where + (i,), (
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
        yield from _said_lines(s, rule, where)
        if rule.credit and rule.counts:
            yield where + ("credit",), "'credit: true' is for a refused move; add 'counts: false' or remove it"
        yield from _conditions(s, rule.when, where + ("when",), chance=True)


def _said_lines(s: ScenarioFile, rule: Any, where: tuple[Any, ...]) -> Iterator[Problem]:
    for i, key in enumerate(names(rule.say)):
        if key not in s.lines:
            yield where + (("say", i) if isinstance(rule.say, list) else ("say",)), f"no line {key!r} in 'lines'"
    if getattr(rule, "lead", None) and rule.lead not in s.lines:
        yield where + ("lead",), f"no line {rule.lead!r} in 'lines'"


def _auto(s: ScenarioFile) -> Iterator[Problem]:
    for i, rule in enumerate(s.auto):
        where = ("auto", i)
        yield from _sources(s, rule.from_, where + ("from",))
        if rule.to not in s.states and rule.to not in s.endings:
            yield where + ("to",), f"transition to unknown state {rule.to!r}; states are {_list(s.states)}, endings {_list(s.endings)}"
        yield from _said_lines(s, rule, where)
        yield from _conditions(s, rule.when, where + ("when",), chance=True)


def _reactions(s: ScenarioFile) -> Iterator[Problem]:
    for name in REACTION_NAMES:
        reaction = getattr(s.reactions, name)
        if reaction is None:
            continue
        yield from _said_lines(s, reaction, ("reactions", name))
        if reaction.ending is not None and reaction.ending not in s.endings:
            yield ("reactions", name, "ending"), f"unknown ending {reaction.ending!r}; endings are {_list(s.endings)}"
    for name in ("hang_up", "quit"):
        if getattr(s.reactions, name).ending is None:
            yield ("reactions", name), f"'{name}' needs an 'ending'"
    if s.reactions.manual_phrase is not None and s.manual_phrases is None:
        yield ("reactions", "manual_phrase"), "no 'manual_phrases' to react to; add them or remove this reaction"


def _lines(s: ScenarioFile) -> Iterator[Problem]:
    allowed = set(s.facts) | set(s.details) | LINE_FIELDS | _facts_of_every_case(s)
    partial = {fact: case for case, spec in s.cases.items() for fact in spec.facts} if s.cases else {}
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
                    if field not in allowed and field in partial:
                        lacking = [c for c, spec in s.cases.items() if field not in spec.facts]
                        yield loc + (i,), (f"placeholder {{{field}}} is set by case {partial[field]!r} but not by "
                                           f"{_list(lacking)}; give it in every case or a value in 'facts'")
                    elif field not in allowed:
                        yield loc + (i,), (f"placeholder {{{field}}} is not a fact or a detail; facts are "
                                           f"{_list(s.facts)}, details {_list(s.details)}")


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
        if penalty.same_as is not None and penalty.same_as not in ids:
            yield ("rubric", "penalties", i, "same_as"), f"no rubric item {penalty.same_as!r}; items are {_list(ids)}"
        if penalty.cap is not None and not 0 <= penalty.cap <= 100:
            yield ("rubric", "penalties", i, "cap"), f"cap {penalty.cap:g} is not a score; give 0 to 100"
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


def _conditions(s: ScenarioFile, c: Conditions | None, where: tuple[Any, ...], chance: bool = False) -> Iterator[Problem]:
    if c is None:
        return
    for persona in names(c.persona):
        if persona not in s.personas:
            yield where + ("persona",), f"unknown persona {persona!r}; personas are {_list(s.personas)}"
    for policy in names(c.policy):
        if policy not in s.policies:
            yield where + ("policy",), f"unknown policy {policy!r}; policies are {_list(s.policies)}"
    for case in names(c.case):
        if case not in s.cases:
            yield where + ("case",), f"unknown case {case!r}; cases are {_list(s.cases)}"
    for ending in names(c.ending):
        if ending not in s.endings:
            yield where + ("ending",), f"unknown ending {ending!r}; endings are {_list(s.endings)}"
    move_lists = {
        "done": c.done, "not_done": c.not_done, "same_turn": c.same_turn, "not_same_turn": c.not_same_turn,
        "done_count": c.done_count.moves if c.done_count else None,
        "done_in": [c.done_in.move] if c.done_in else None, "made": c.made,
    }
    for key, moves in move_lists.items():
        for move in moves or []:
            if move not in s.moves:
                yield where + (key,), f"unknown move {move!r}; moves are {_list(s.moves)}"
    for key, details in {"said": c.said, "not_said": c.not_said, "heard": c.heard}.items():
        for detail in details or []:
            if detail not in s.details:
                yield where + (key,), f"unknown detail {detail!r}; details are {_list(s.details)}"
    if c.manual_phrase is not None and s.manual_phrases is None:
        yield where + ("manual_phrase",), "the scenario has no 'manual_phrases' to look for"
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
        yield from _conditions(s, alternative, where + ("any_of", i), chance)
    thresholds: list[tuple[tuple[Any, ...], Any]] = [
        ((key,), getattr(c, key)) for key in ("anger_below", "anger_at_least", "quality_at_least", "quality_below")
    ]
    if c.chance is not None:
        if not chance:
            yield where + ("chance",), "a score cannot depend on luck; use 'chance' in rules and auto rules only"
        thresholds += [(("chance", "anger", i), v) for i, v in enumerate(c.chance.anger)]
        thresholds += [(("chance", "quality", i), v) for i, v in enumerate(c.chance.quality or ())]
    for key, value in thresholds:
        yield from _threshold(s, value, where + key)


def _threshold(s: ScenarioFile, value: Any, where: tuple[Any, ...]) -> Iterator[Problem]:
    if not isinstance(value, str):
        return
    param = value.removeprefix("$")
    if not value.startswith("$"):
        yield where, f"{value!r} must be a number or '$param' naming a persona param"
        return
    for pname, persona in s.personas.items():
        if param not in persona.params:
            yield where, f"persona {pname!r} has no param {param!r} (used as {value!r})"


def _flags(s: ScenarioFile) -> set[str]:
    flags = {f for r in [*s.rules, *s.auto] for f in r.flags}
    for name in REACTION_NAMES:
        reaction = getattr(s.reactions, name)
        flags |= set(reaction.flags) if reaction is not None else set()
    return flags


def _combined_lines(s: ScenarioFile) -> Iterator[Problem]:
    for i, combined in enumerate(s.combined_lines):
        for j, key in enumerate(combined.lines):
            if key not in s.lines:
                yield ("combined_lines", i, "lines", j), f"no line {key!r} in 'lines'"
        if combined.say not in s.lines:
            yield ("combined_lines", i, "say"), f"no line {combined.say!r} in 'lines'"


def _cases(s: ScenarioFile) -> Iterator[Problem]:
    for name, case in s.cases.items():
        for fact, value in case.facts.items():
            if isinstance(value, list) and not value:
                yield ("cases", name, "facts", fact), f"fact {fact!r} has no values in case {name!r}"
            if fact in s.details or fact in LINE_FIELDS:
                yield ("cases", name, "facts", fact), f"{fact!r} is a detail or an engine field, not a fact; rename it"


def _facts_of_every_case(s: ScenarioFile) -> set[str]:
    if not s.cases:
        return set()
    return set.intersection(*(set(case.facts) for case in s.cases.values()))


def _details(s: ScenarioFile) -> Iterator[Problem]:
    for name, detail in s.details.items():
        if name in LINE_FIELDS:
            yield ("details", name), f"{name!r} is filled in by the engine; choose another detail name"
        for kind, cue in detail.kinds.items():
            yield from _cue(cue, ("details", name, "kinds", kind))


def _manual_phrases(s: ScenarioFile) -> Iterator[Problem]:
    if s.manual_phrases is not None:
        yield from _cue(s.manual_phrases, ("manual_phrases",))


def _tone(s: ScenarioFile) -> Iterator[Problem]:
    for name, cue in s.tone.markers.items():
        yield from _cue(cue, ("tone", "markers", name))
    judged: dict[str, int] = {}
    for i, spec in enumerate(s.tone.quality):
        where = ("tone", "quality", i)
        for move in spec.moves:
            if move not in s.moves:
                yield where + ("moves",), f"unknown move {move!r}; moves are {_list(s.moves)}"
            elif move in judged:
                yield where + ("moves",), f"move {move!r} is already judged by tone.quality[{judged[move]}]; keep one"
            judged.setdefault(move, i)
        for marker in spec.markers:
            if marker not in s.tone.markers:
                yield where + ("markers", marker), f"unknown marker {marker!r}; markers are {_list(s.tone.markers)}"
        if not spec.elements and not any(w > 0 for w in spec.markers.values()):
            yield where, "nothing can make this move better: give a marker a positive weight or name its elements"
        for name, cue in spec.elements.items():
            yield from _cue(cue, where + ("elements", name))
        if any(x < 0 for x in spec.scale):
            yield where + ("scale",), "the anger scale multiplies a rule's anger; give two numbers of 0 or more"


def _cue(cue: Cue, where: tuple[Any, ...]) -> Iterator[Problem]:
    for key in ("patterns", "reject"):
        yield from _pattern_problems(getattr(cue, key), where + (key,))


# Month names as they appear in a date ("двенадцатого ноября", "on the 12th of November").
_MONTHS = {
    "ru": ["январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"],
    "en": ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"],
}


def _month_of(value: str, lang: str) -> int | None:
    stems = _MONTHS.get(lang.split("-")[0], _MONTHS["en"])
    for word in value.lower().replace("ё", "е").replace(",", " ").split():
        for month, stem in enumerate(stems, 1):
            exact = stem == "ма"  # "мая"/"май"/"маю", not "март"
            if (word in ("мая", "май", "маю", "мае") if exact else word.startswith(stem)):
                return month
    return None


def _timeline(s: ScenarioFile) -> Iterator[Problem]:
    t = s.timeline
    if t is None:
        return
    for i, month in enumerate(t.call_months):
        if not 1 <= month <= 12:
            yield ("timeline", "call_months", i), f"month {month} is not 1 to 12"
    months = [m for m in t.call_months if 1 <= m <= 12]
    for fact, rule in t.dates.items():
        low, high = rule.months_before
        values = _date_values(s, fact)
        if not values:
            yield ("timeline", "dates", fact), f"unknown fact {fact!r}; facts are {_list(s.facts)}"
            continue
        if not 0 <= low <= high <= 120:
            yield ("timeline", "dates", fact, "months_before"), "give [fewest, most] months, fewest first"
            continue
        for where, value in values:
            month = _month_of(value, s.language)
            if month is None:
                yield where, f"{value!r} names no month, but timeline.dates lists {fact!r} as a date"
                continue
            wrong = [m for m in months if not low <= (m - month) % 12 <= high]
            if wrong:
                fits = [d for d in range(1, 13) if all(low <= (m - d) % 12 <= high for m in months)]
                yield where, (
                    f"{value!r} is {(wrong[0] - month) % 12} months before a call in month {wrong[0]}, but the "
                    f"timeline says {low} to {high}; pick a date in month(s) {', '.join(map(str, fits)) or 'none'}"
                )


def _date_values(s: ScenarioFile, fact: str) -> list[tuple[tuple[Any, ...], str]]:
    """Every value a date fact can take, with where it is written: in `facts` and in each case."""
    found = [(("facts", fact, i), v) for i, v in enumerate(s.facts.get(fact, []))]
    for name, case in s.cases.items():
        value = case.facts.get(fact)
        if isinstance(value, str):
            found.append((("cases", name, "facts", fact), value))
        elif value:
            found += [(("cases", name, "facts", fact, i), v) for i, v in enumerate(value)]
    return found


def _model_names(s: ScenarioFile) -> Iterator[Problem]:
    for kind, items in (("moves", s.moves), ("states", s.states), ("endings", s.endings)):
        for name in items:
            if name in MODEL_ATTRIBUTES or name.startswith(("may_", "is_", "_")):
                yield (kind, name), (f"{name!r} is a name the state machine uses itself (with {_list(MODEL_ATTRIBUTES)} "
                                     "and names starting may_, is_ or _); choose another")


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
