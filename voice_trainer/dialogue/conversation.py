"""The dialogue core: one simulated customer answering one trainee, turn by turn.

No I/O here. Text, voice and replay sessions all call `opening()`, then `handle(text, turn)` per
trainee turn, and `quit()` if the trainee leaves; each returns the events of what the customer
understood, how he took it and what he says. Timestamps are left at 0 for the session to stamp.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rapidfuzz import fuzz

from voice_trainer.dialogue.lines import LineBook
from voice_trainer.dialogue.machine import ANGER_MAXED, QUIT, SETTLE, CustomerModel, build_machine, initial_state
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.dialogue.text import normalize
from voice_trainer.dialogue.understanding import MoveClassifier, Understanding
from voice_trainer.errors import UsageError
from voice_trainer.events import CustomerLine, Event, MovesUnderstood, ReactionApplied, StateEntered
from voice_trainer.scenario.schema import Reaction as ReactionSpec
from voice_trainer.scenario.schema import ScenarioFile

# Saying (nearly) the same sentence again is what a manual-reading agent does; the customer notices.
REPEAT_SIMILARITY = 90
REPEAT_MIN_WORDS = 3


@dataclass(frozen=True)
class _Reaction:
    move: str
    rule: str
    anger_delta: float
    line: str | None
    text: str
    minor: bool
    flags: tuple[str, ...]


class Conversation:
    def __init__(
        self,
        scenario: ScenarioFile,
        persona: str | None = None,
        policy: str | None = None,
        seed: int = 0,
        classifier: MoveClassifier | None = None,
    ):
        self.scenario = s = scenario
        self.persona = persona or s.default_persona
        self.policy = policy or s.default_policy
        if self.persona not in s.personas:
            raise UsageError(f"unknown persona {self.persona!r}; this scenario has: {', '.join(s.personas)}")
        if self.policy not in s.policies:
            raise UsageError(f"unknown policy {self.policy!r}; this scenario has: {', '.join(s.policies)}")
        self.seed = seed
        self._rng = random.Random(seed)
        self.facts = {name: self._rng.choice(values) for name, values in sorted(s.facts.items())}
        persona_spec = s.personas[self.persona]
        self.call = CallRecord(
            persona=self.persona,
            policy=self.policy,
            params=dict(persona_spec.params),
            anger=float(persona_spec.start_anger),
            state=initial_state(s),
        )
        self.call.visited.append(self.call.state)
        self._lines = LineBook(s.lines, self.persona, self.facts, self._rng, s.customer.name)
        self._classifier = classifier  # built on first use: the customer opens the call meanwhile
        self._model = CustomerModel(self.call)
        self._machine = build_machine(s, self._model)
        self._said: list[tuple[str, bool]] = []  # (normalized utterance, had moves)
        self.turn_texts: dict[int, str] = {}

    # -- public -----------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._model.state

    @property
    def ended(self) -> bool:
        return self.call.ending is not None

    def opening(self) -> list[Event]:
        state = self.call.state
        text = self._lines.say(self.scenario.opening)
        return [
            StateEntered(turn=0, state=state, phase=self.scenario.states[state].phase),
            CustomerLine(turn=0, text=text, anger=self.call.anger, lines=(self.scenario.opening,)),
        ]

    @property
    def classifier(self) -> MoveClassifier:
        if self._classifier is None:
            self._classifier = MoveClassifier(self.scenario.moves, self.scenario.language)
        return self._classifier

    def understand(self, text: str) -> Understanding:
        return self.classifier.classify(text)

    def handle(self, text: str, turn: int, understanding: Understanding | None = None) -> list[Event]:
        """The customer's reaction to one trainee turn."""
        if self.ended:
            return []
        understanding = understanding or self.understand(text)
        self.turn_texts[turn] = text
        self.call.turn_moves = understanding.moves
        events: list[Event] = [MovesUnderstood(turn=turn, moves=understanding.moves, scores=understanding.scores)]
        reactions: list[_Reaction] = []
        normalized = normalize(text)
        if self._is_repetition(normalized):
            reactions.append(self._engine_reaction("repeated", self.scenario.reactions.repeated, events, turn))
        elif understanding.is_unknown:
            reactions.append(self._engine_reaction("unknown", self.scenario.reactions.unknown, events, turn))
        else:
            reactions += self._react_to_moves(understanding.moves, turn, events)
        self._said.append((normalized, bool(understanding.moves)))
        if not self.ended:
            reactions += self._settle(turn, events)
        if not self.ended and self.call.anger >= self.scenario.anger.max:
            reactions.append(self._fire_engine(ANGER_MAXED, "hang_up", self.scenario.reactions.hang_up, turn, events))
        for r in reactions:
            events.append(
                ReactionApplied(turn=turn, move=r.move, rule=r.rule, anger_delta=r.anger_delta, flags=r.flags)
            )
        events.append(self._reply(reactions, turn))
        self.call.turn_moves = ()
        return events

    def quit(self, turn: int) -> list[Event]:
        """The trainee left before an ending (script ran out, end of input, Ctrl-C)."""
        if self.ended:
            return []
        events: list[Event] = []
        reaction = self._fire_engine(QUIT, "quit", self.scenario.reactions.quit, turn, events)
        events.append(ReactionApplied(turn=turn, move=reaction.move, rule=reaction.rule, flags=reaction.flags))
        return events

    # -- reactions --------------------------------------------------------------------------------

    def _react_to_moves(self, moves: tuple[str, ...], turn: int, events: list[Event]) -> list[_Reaction]:
        """Rules first; the engine's complaints (already answered, repeated, out of place) only count when
        nothing else in the utterance landed: in a long statement they are more often a stray keyword
        than a real repeat, and the customer reacts to what did land."""
        landed: list[_Reaction] = []
        complaints: list[tuple[str, str]] = []
        for move in moves:
            if self.ended:
                break
            complaint = self._complaint_about(move)
            if complaint:
                complaints.append((complaint, move))
                continue
            reaction = self._apply_rule(move, turn, events)
            if reaction is None:
                complaints.append(("out_of_place", move))
            else:
                landed.append(reaction)
        if landed or self.ended:
            return landed
        return [
            self._engine_reaction(name, getattr(self.scenario.reactions, name), events, turn, move=move,
                                  answer=self.call.answers.get(move, ""))
            for name, move in complaints
        ]

    def _complaint_about(self, move: str) -> str | None:
        spec = self.scenario.moves[move]
        if spec.kind == "question" and move in self.call.answers:
            return "already_answered"
        if spec.kind != "conduct" and self.call.done[move] >= spec.repeatable:
            return "repeated"
        return None

    def _apply_rule(self, move: str, turn: int, events: list[Event]) -> _Reaction | None:
        spec = self.scenario.moves[move]
        before = self._model.state
        self._model.fired_rule = None
        self._model.trigger(move)
        if self._model.fired_rule is None:
            return None
        index = int(self._model.fired_rule.removeprefix("rules[").rstrip("]"))
        rule = self.scenario.rules[index]
        if rule.counts:
            self.call.state = before
            self.call.mark_done(move, turn)
        delta = self._change_anger(rule.anger)
        self._raise_flags(rule.flags)
        text = self._lines.say(rule.say) if rule.say else ""
        if spec.kind == "question" and rule.counts and text:
            self.call.answers[move] = text
        self._sync_state(before, turn, events)
        return _Reaction(move, self._model.fired_rule, delta, rule.say, text, rule.minor, tuple(rule.flags))

    def _settle(self, turn: int, events: list[Event]) -> list[_Reaction]:
        """Auto rules: the customer moves on by himself once their conditions hold."""
        out = []
        for _ in range(len(self.scenario.states) + 1):
            before = self._model.state
            self._model.fired_rule = None
            self._model.trigger(SETTLE)
            if self._model.fired_rule is None:
                break
            auto = self.scenario.auto[int(self._model.fired_rule.removeprefix("auto[").rstrip("]"))]
            delta = self._change_anger(auto.anger)
            self._raise_flags(auto.flags)
            text = self._lines.say(auto.say) if auto.say else ""
            self._sync_state(before, turn, events)
            out.append(_Reaction(SETTLE, self._model.fired_rule, delta, auto.say, text, False, tuple(auto.flags)))
            if self.ended:
                break
        return out

    def _engine_reaction(
        self, name: str, spec: ReactionSpec, events: list[Event], turn: int, move: str = "", answer: str = ""
    ) -> _Reaction:
        delta = self._change_anger(spec.anger)
        self._raise_flags(spec.flags)
        text = self._lines.say(spec.say, answer=answer) if spec.say else ""
        return _Reaction(move or name, f"reactions.{name}", delta, spec.say, text, False, tuple(spec.flags))

    def _fire_engine(self, trigger: str, name: str, spec: ReactionSpec, turn: int, events: list[Event]) -> _Reaction:
        before = self._model.state
        self._model.trigger(trigger)
        reaction = self._engine_reaction(name, spec, events, turn)
        self._sync_state(before, turn, events)
        return reaction

    # -- bookkeeping ------------------------------------------------------------------------------

    def _change_anger(self, delta: float) -> float:
        if delta > 0:
            delta *= self.scenario.personas[self.persona].anger_factor
        before = self.call.anger
        self.call.anger = min(float(self.scenario.anger.max), max(0.0, before + delta))
        return round(self.call.anger - before, 2)

    def _raise_flags(self, flags: list[str]) -> None:
        for flag in flags:
            self.call.flags[flag] += 1

    def _sync_state(self, before: str, turn: int, events: list[Event]) -> None:
        now = self._model.state
        self.call.state = now
        if now == before:
            return
        self.call.visited.append(now)
        if now in self.scenario.endings:
            self.call.ending = now
            events.append(StateEntered(turn=turn, state=now, phase="ending"))
        else:
            events.append(StateEntered(turn=turn, state=now, phase=self.scenario.states[now].phase))

    def _is_repetition(self, normalized: str) -> bool:
        if len(normalized.split()) < REPEAT_MIN_WORDS:
            return False
        # Saying again what the customer did not understand is fair once; a third time it is a script.
        similar = [had_moves for earlier, had_moves in self._said if fuzz.ratio(normalized, earlier) >= REPEAT_SIMILARITY]
        return any(similar) or len(similar) >= 2

    def _reply(self, reactions: list[_Reaction], turn: int) -> CustomerLine:
        spoken = [r for r in reactions if r.text]
        if any(not r.minor for r in spoken):
            spoken = [r for r in spoken if not r.minor]
        texts = [r.text for r in spoken]
        keys = [r.line for r in spoken if r.line]
        if self.ended and reactions and not reactions[-1].text:
            ending = self.scenario.endings[self.call.ending]  # type: ignore[index]
            if ending.say:
                texts.append(self._lines.say(ending.say))
                keys.append(ending.say)
        return CustomerLine(turn=turn, text=" ".join(texts), anger=round(self.call.anger, 2), lines=tuple(keys))
