"""Traps: what is valid in a scenario but is probably not what its author meant. `scenario check` warns about
each (file, line, key path, what to do); none of them stops a scenario from loading or playing.

Each trap is (key path, message), like the meaning checks in checks.py.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from voice_trainer.scenario.schema import (
    PERSONA_MARK, REACTION_NAMES, AutoRule, Conditions, Move, Rule, ScenarioFile, names, split_persona_key,
)

Problem = tuple[tuple[Any, ...], str]

# A move no rule takes in a state falls to `out_of_place` there. That is often meant (a move made far too
# early); it is likely an oversight when the move is taken in most states the customer can reach.
HANDLED_SHARE_FOR_A_GAP = 0.5
# Files are found by name: `--scenario NAME --lang LANG` looks for NAME.LANG.yaml.
_FILE_NAME = re.compile(r"^(?P<scenario>[^.]+)\.(?P<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\.ya?ml$")


class LemmaTrap(Protocol):
    """A pattern word that, through dictionary forms, also matches common words that have nothing to do with it."""

    move: str
    key: str  # "patterns" or "reject"
    index: int
    word: str
    matches: Sequence[str]  # the common unrelated words it matches


LemmaTrapFinder = Callable[[dict[str, Move], str], Iterable[LemmaTrap]]


def find_traps(s: ScenarioFile, path: Path | None = None, lemma_traps: LemmaTrapFinder | None = None) -> list[Problem]:
    """Every trap in `s`; `lemma_traps` finds pattern words that match unrelated words (the understanding
    engine's lexicon knows how words match, so the caller passes it in)."""
    traps: list[Problem] = []
    for check in (_shadowed_rules, _shadowed_auto_rules, _rules_after_their_move, _unused_lines, _persona_line_keys,
                  _unhandled_moves):
        traps += list(check(s))
    if lemma_traps is not None:
        traps += list(_lemma_traps(lemma_traps(s.moves, s.language)))
    if path is not None:
        traps += list(_file_name(s, path))
    return traps


# -- rules an earlier rule always takes first ---------------------------------------------------------------


def _shadowed_rules(s: ScenarioFile) -> Iterator[Problem]:
    for j, rule in enumerate(s.rules):
        dead: dict[str, list[int]] = {}
        for move in names(rule.on):
            earlier = [(i, r) for i, r in enumerate(s.rules[:j]) if move in names(r.on)]
            covering = _covering(s, rule, earlier)
            if covering is not None:
                dead[move] = covering
        if not dead:
            continue
        moves = names(rule.on)
        by = sorted({i for found in dead.values() for i in found})
        if len(dead) == len(moves):
            what = "this rule can never fire"
        else:
            what = f"this rule can never fire for {_quoted(dead)} (only for {_quoted(m for m in moves if m not in dead)})"
        yield ("rules", j), (
            f"{what}: {_rules_named(s.rules, by)} before it take{'s' if len(by) == 1 else ''} every turn it would "
            f"(the first matching rule wins); put it above them, or give them a 'when' it does not meet"
        )


def _shadowed_auto_rules(s: ScenarioFile) -> Iterator[Problem]:
    for j, rule in enumerate(s.auto):
        covering = _covering(s, rule, list(enumerate(s.auto[:j])))
        if covering is not None:
            yield ("auto", j), (
                f"this auto rule can never fire: {_rules_named(s.auto, covering, 'auto')} before it "
                f"take{'s' if len(covering) == 1 else ''} every case it would; put it above them, or narrow them"
            )


def _covering(s: ScenarioFile, rule: Rule | AutoRule, earlier: list[tuple[int, Any]]) -> list[int] | None:
    """The earlier rules that together take every state of `rule` whenever its conditions hold, or None."""
    used: list[int] = []
    for state in _states(s, rule.from_):
        taker = next((i for i, r in earlier if state in _states(s, r.from_) and implies(rule.when, r.when)), None)
        if taker is None:
            return None
        if taker not in used:
            used.append(taker)
    return used or None


# Conditions that hold only when each of the listed things holds: more names, fewer cases.
_ALL_OF = ("done", "not_done", "same_turn", "not_same_turn", "visited", "not_visited", "flag", "not_flag",
           "made", "said", "not_said", "heard")
# Conditions that hold when one of the listed things holds: fewer names, fewer cases.
_ONE_OF = ("persona", "policy", "ending", "case")
_EQUAL = ("done_in", "manual_phrase")


def implies(later: Conditions | None, earlier: Conditions | None) -> bool:
    """Whenever `later` holds, `earlier` holds too (judged from how they are written, never by chance)."""
    if earlier is None:
        return True
    if later is None:
        later = Conditions()
    if earlier.chance is not None:
        return False
    for key in _ALL_OF:
        wanted = set(getattr(earlier, key) or ())
        have = set(getattr(later, key) or ())
        if key == "made":  # a move done was made
            have |= set(later.done or ())
        if not wanted <= have:
            return False
    for key in _ONE_OF:
        if getattr(earlier, key) is None:
            continue
        if getattr(later, key) is None or not set(names(getattr(later, key))) <= set(names(getattr(earlier, key))):
            return False
    if earlier.done_count is not None and later.done_count != earlier.done_count:
        count = earlier.done_count
        if len(set(count.moves) & set(later.done or ())) < count.at_least:
            return False
    for key in _EQUAL:
        if getattr(earlier, key) is not None and getattr(earlier, key) != getattr(later, key):
            return False
    for key, stricter in (("anger_below", min), ("quality_below", min), ("anger_at_least", max),
                          ("quality_at_least", max)):
        bound, have = getattr(earlier, key), getattr(later, key)
        if bound is None:
            continue
        if have is None:
            return False
        if isinstance(bound, str) or isinstance(have, str):
            if bound != have:
                return False
        elif stricter(bound, have) != have:
            return False
    if earlier.any_of is not None and later.any_of != earlier.any_of:
        if not any(implies(later, alt) for alt in earlier.any_of):
            return False
    return True


def _rules_named(rules: list[Any], indexes: list[int], kind: str = "rules") -> str:
    described = []
    for i in indexes:
        rule = rules[i]
        sources = names(rule.from_)
        source = '"*"' if "*" in sources else (sources[0] if len(sources) == 1 else "[" + ", ".join(sources) + "]")
        on = f"on: {', '.join(names(rule.on))}, " if hasattr(rule, "on") else ""
        condition = "when: ..." if rule.when is not None else "no 'when'"
        described.append(f"{kind}[{i}] ({on}from: {source}, {condition})")
    return ", ".join(described)


def _rules_after_their_move(s: ScenarioFile) -> Iterator[Problem]:
    """A rule on a move that counts once, from states the customer only reaches once it was done: there the
    move is "repeated" (or "already answered") before any rule is tried."""
    for j, rule in enumerate(s.rules):
        moves = names(rule.on)
        dead = [m for m in moves if m in s.moves and _once(s, m)
                and not set(_states(s, rule.from_)) & set(reachable_states(s, without=m))]
        if not dead or len(dead) < len(moves):
            continue
        where = ", ".join(_states(s, rule.from_))
        yield ("rules", j), (
            f"this rule can never fire: the customer gets to {where} only after {_quoted(dead)} "
            f"{'was' if len(dead) == 1 else 'were'} done, and {'it counts' if len(dead) == 1 else 'they count'} "
            "once (made again, it is reactions.repeated or already_answered); give the move 'repeatable: 2' "
            "or remove the rule"
        )


def _once(s: ScenarioFile, move: str) -> bool:
    spec = s.moves[move]
    return spec.repeatable == 1 and spec.kind != "conduct"


# -- lines -------------------------------------------------------------------------------------------------


def said_lines(s: ScenarioFile) -> set[str]:
    """Every line key something in the scenario says."""
    used = {s.opening}
    for rule in [*s.rules, *s.auto]:
        used |= set(names(rule.say))
        if rule.lead:
            used.add(rule.lead)
    for name in REACTION_NAMES:
        reaction = getattr(s.reactions, name)
        if reaction is not None:
            used |= set(names(reaction.say))
    used |= {e.say for e in s.endings.values() if e.say}
    for combined in s.combined_lines:
        used |= {*combined.lines, combined.say}
    return used


def _unused_lines(s: ScenarioFile) -> Iterator[Problem]:
    used = said_lines(s)
    for key in s.lines:
        if key in used or PERSONA_MARK in key:  # a persona's variants: _persona_line_keys looks at those
            continue
        yield ("lines", key), (f"line {key!r} is never said: no rule, auto rule, reaction, ending or combined line "
                               "names it; say it in a 'say' (or 'lead') or remove it")


def _persona_line_keys(s: ScenarioFile) -> Iterator[Problem]:
    used = said_lines(s)
    for key in s.lines:
        if PERSONA_MARK not in key:
            continue
        base, persona = split_persona_key(key, s.personas)
        if persona is None:
            base, _, suffix = key.rpartition(PERSONA_MARK)
            yield ("lines", key), (
                f"{key!r} names persona {suffix!r}, which this scenario does not have (personas: "
                f"{', '.join(sorted(s.personas))}); as it is, it is a line of its own, said only where a rule names "
                f"{key!r}; rename it to '{base}{PERSONA_MARK}PERSONA'"
            )
        elif base not in s.lines and base not in used:
            yield ("lines", key), (
                f"{key!r} is the {persona} customer's {base!r}, but there is no line {base!r} for the others and no "
                f"rule says {base!r}; add '{base}:' with their lines and say {base!r} in a rule"
            )


# -- moves that fall to out_of_place ---------------------------------------------------------------------


def reachable_states(s: ScenarioFile, without: str | None = None) -> list[str]:
    """States the customer can get to from the initial one by some rule (conditions aside), in file order;
    `without` a move: without that move ever being done."""
    initial = next((n for n, st in s.states.items() if st.initial), None)
    if initial is None:
        return []
    edges: dict[str, set[str]] = {}
    for rule in [*s.rules, *s.auto]:
        if without is not None and ((isinstance(rule, Rule) and rule.counts and without in names(rule.on))
                                    or _needs(rule.when, without)):
            continue
        if rule.to in s.states:
            for source in _states(s, rule.from_):
                edges.setdefault(source, set()).add(rule.to)
    seen = {initial}
    queue = deque([initial])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return [name for name in s.states if name in seen]


def _needs(c: Conditions | None, move: str) -> bool:
    """The conditions can only hold once `move` was done."""
    if c is None:
        return False
    if move in (c.done or ()) or (c.done_in is not None and c.done_in.move == move):
        return True
    if c.done_count is not None and len(set(c.done_count.moves) - {move}) < c.done_count.at_least:
        return True
    return bool(c.any_of) and all(_needs(alt, move) for alt in c.any_of)


def _unhandled_moves(s: ScenarioFile) -> Iterator[Problem]:
    reachable = reachable_states(s)
    for move, spec in s.moves.items():
        handled = {state for r in s.rules if move in names(r.on) for state in _states(s, r.from_)}
        # Where the move has surely been done, a move made once only is "repeated" or "already answered" again.
        once = _once(s, move)
        before = set(reachable_states(s, without=move)) if once else set(reachable)
        missing = [state for state in reachable if state not in handled and state in before]
        taken = len(reachable) - len(missing)
        if not missing or taken < HANDLED_SHARE_FOR_A_GAP * len(reachable):
            continue
        yield ("moves", move), (
            f"no rule takes {move!r} in state{'s' if len(missing) > 1 else ''} {', '.join(missing)} (the customer "
            f"can get there), so there it falls to reactions.out_of_place; if it should count, add a rule with "
            f"'on: {move}' from {'them' if len(missing) > 1 else 'it'}"
        )


# -- the file's name -----------------------------------------------------------------------------------------


def _file_name(s: ScenarioFile, path: Path) -> Iterator[Problem]:
    m = _FILE_NAME.match(path.name)
    if m is None:
        yield ("scenario",), (
            f"the file name {path.name!r} is not NAME.LANG.yaml, so '--scenario {s.scenario} --lang {s.language}' "
            f"will not find it (only its path will); name it {s.scenario}.{s.language}.yaml"
        )
        return
    if m["scenario"] != s.scenario:
        yield ("scenario",), (
            f"the file is named for scenario {m['scenario']!r} but says scenario: {s.scenario}; sessions are "
            f"recorded as {s.scenario!r} while '--scenario {m['scenario']}' finds the file; make them the same"
        )
    if m["lang"].lower() != s.language.lower():
        yield ("language",), (
            f"the file is named for language {m['lang']!r} but says language: {s.language}; '--lang {m['lang']}' "
            f"finds it and the customer speaks {s.language}; make them the same"
        )


# -- pattern words that match more than they seem to -------------------------------------------------


def _lemma_traps(traps: Iterable[LemmaTrap]) -> Iterator[Problem]:
    """One warning per move and word, at its first pattern; the others are counted."""
    by_word: dict[tuple[str, str], list[LemmaTrap]] = {}
    for trap in traps:
        by_word.setdefault((trap.move, trap.word), []).append(trap)
    for (move, word), found in by_word.items():
        first = found[0]
        more = f" (and in {len(found) - 1} more of this move's patterns)" if len(found) > 1 else ""
        yield ("moves", move, first.key, first.index), (
            f"pattern word {word!r}{more} also matches {', '.join(first.matches)}, through their dictionary "
            f"forms; if those are not meant, write the forms you mean ('={word}'), a longer prefix, or add a "
            "'reject' pattern"
        )


def _states(s: ScenarioFile, value: Any) -> list[str]:
    sources = names(value)
    return list(s.states) if "*" in sources else sources


def _quoted(items: Any) -> str:
    return ", ".join(repr(i) for i in items)
