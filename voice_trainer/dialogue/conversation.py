"""The dialogue core: one simulated customer answering one trainee, turn by turn.

No I/O here. Text, voice and replay sessions all call `opening()`, then `handle(text, turn)` per
trainee turn, and `quit()` if the trainee leaves; each returns the events of what the customer
understood, how he took it and what he says. Timestamps are left at 0 for the session to stamp.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING


from voice_trainer.dialogue.cases import case_facts, pick_case
from voice_trainer.dialogue.errors import DialogueError
from voice_trainer.dialogue.lines import LineBook, escalated
from voice_trainer.dialogue.machine import (
    ANGER_MAXED, QUIT, SETTLE, CustomerModel, RuleTransition, build_machine, initial_state,
)
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.dialogue.reply import Said, compose
from voice_trainer.dialogue.text import normalize
from voice_trainer.events import CustomerLine, Event, MovesUnderstood, ReactionApplied, StateEntered
from voice_trainer.scenario.schema import Reaction as ReactionSpec
from voice_trainer.scenario.schema import ScenarioFile

if TYPE_CHECKING:
    # Understanding a turn (patterns, examples, the lemmatizer) is not needed to open the call: it is
    # imported when the first turn is read, or by the warm-up while the customer speaks his opening.
    from voice_trainer.dialogue.reading import TurnReader, TurnReading
    from voice_trainer.dialogue.understanding import MoveClassifier, Understanding

# Saying (nearly) the same sentence again is what a manual-reading agent does; the customer notices.
REPEAT_SIMILARITY = 90
REPEAT_MIN_WORDS = 3


@dataclass(frozen=True)
class _Reaction:
    move: str
    rule: str
    anger_delta: float
    said: Said
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
            raise DialogueError(f"unknown persona {self.persona!r}; this scenario has: {', '.join(s.personas)}")
        if self.policy not in s.policies:
            raise DialogueError(f"unknown policy {self.policy!r}; this scenario has: {', '.join(s.policies)}")
        self.seed = seed
        self._rng = random.Random(seed)
        self.facts = {name: self._rng.choice(values) for name, values in sorted(s.facts.items())}
        self.case = pick_case(s, seed)
        self.facts.update(case_facts(s, self.case, seed))
        persona_spec = s.personas[self.persona]
        self.call = CallRecord(
            persona=self.persona,
            policy=self.policy,
            params=dict(persona_spec.params),
            anger=float(persona_spec.start_anger),
            case=self.case,
        )
        self._lines = LineBook(s.lines, self.persona, self.facts, self._rng, s.customer.name)
        # Own streams, so that a decision or a detail's wording does not shift which lines follow.
        self._dice = random.Random(f"decisions/{seed}")
        self._wording = random.Random(f"details/{seed}")
        self._classifier = classifier  # built on first use: the customer opens the call meanwhile
        self._reader: TurnReader | None = None
        self._model = CustomerModel(self.call, set(s.endings))
        self._machine = build_machine(s, self._model, self._dice)
        self._phase_index = {p.id: i for i, p in enumerate(s.phases)}
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
        state = initial_state(self.scenario)
        text = self._lines.say(self.scenario.opening)
        return [
            StateEntered(turn=0, state=state, phase=self.scenario.states[state].phase),
            CustomerLine(turn=0, text=text, anger=self.call.anger, lines=(self.scenario.opening,)),
        ]

    @property
    def classifier(self) -> MoveClassifier:
        if self._classifier is None:
            from voice_trainer.dialogue.understanding import MoveClassifier

            self._classifier = MoveClassifier(self.scenario.moves, self.scenario.language)
        return self._classifier

    @property
    def reader(self) -> TurnReader:
        if self._reader is None:
            from voice_trainer.dialogue.reading import TurnReader

            self._reader = TurnReader(self.scenario, self._wording)
        return self._reader

    def understand(self, text: str) -> Understanding:
        """The moves in `text`. The first call also builds the turn reader, so a warm-up call made while the
        customer opens the call leaves nothing to load on the trainee's first turn."""
        understanding = self.classifier.classify(text)
        _ = self.reader
        return understanding

    def handle(self, text: str, turn: int, understanding: Understanding | None = None) -> list[Event]:
        """The customer's reaction to one trainee turn."""
        if self.ended:
            return []
        understanding = understanding or self.understand(text)
        reading = self.reader.read(text, understanding.moves)
        self.turn_texts[turn] = text
        self.call.begin_turn(understanding.moves, reading.details, reading.quality, reading.manual_phrase)
        events: list[Event] = [MovesUnderstood(turn=turn, moves=understanding.moves, scores=understanding.scores)]
        reactions: list[_Reaction] = []
        normalized = normalize(text)
        if self._is_repetition(normalized):
            reactions.append(self._engine_reaction("repeated", turn))
        elif understanding.is_unknown:
            # A turn that only carries what he was waiting for (the time of a visit) is understood.
            reactions += self._settle(turn, events)
            if not reactions:
                reactions.append(self._unknown(reading, turn))
        else:
            reactions += self._react_to_moves(understanding.moves, turn, events)
        # A stock phrase said again is the manual-reading agent of the seed: repetition at once.
        self._said.append((normalized, bool(understanding.moves) or reading.manual_phrase))
        if not self.ended:
            reactions += self._settle(turn, events)
        if not self.ended and self.call.anger >= self.scenario.anger.max:
            reactions.append(self._fire_engine(ANGER_MAXED, "hang_up", turn, events))
        for r in reactions:
            events.append(
                ReactionApplied(turn=turn, move=r.move, rule=r.rule, anger_delta=r.anger_delta, flags=r.flags)
            )
        events.append(self._reply(reactions, turn))
        self.call.end_turn()
        return events

    def quit(self, turn: int) -> list[Event]:
        """The trainee left before an ending (script ran out, end of input, Ctrl-C)."""
        if self.ended:
            return []
        events: list[Event] = []
        reaction = self._fire_engine(QUIT, "quit", turn, events)
        events.append(ReactionApplied(turn=turn, move=reaction.move, rule=reaction.rule, flags=reaction.flags))
        return events

    # -- reactions --------------------------------------------------------------------------------

    def _react_to_moves(self, moves: tuple[str, ...], turn: int, events: list[Event]) -> list[_Reaction]:
        """Rules first, in the method's order (he hears the whole turn: an apology at its end still comes
        before the questions in it). Conduct comes first, and once he is mocked or insulted nothing else in
        the turn counts (a sneering apology is no apology). The engine's complaints (already answered,
        repeated, out of place) only count when nothing else in the utterance landed: in a long statement
        they are more often a stray keyword than a real repeat, and the customer reacts to what did land."""
        landed: list[_Reaction] = []
        complaints: list[tuple[str, str]] = []
        for move in self._in_method_order(moves):
            if self.ended or any(r.said.rank == "conduct" for r in landed):
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
        return [self._engine_reaction(name, turn, move=move, answer=self.call.answers.get(move, ""))
                for name, move in complaints]

    def _in_method_order(self, moves: tuple[str, ...]) -> list[str]:
        """Conduct first (no phase), then by phase; the utterance's order within a phase."""
        phase = {m: self._phase_index.get(self.scenario.moves[m].phase or "", -1) for m in moves}
        return sorted(moves, key=lambda m: phase[m])

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
        self.call.move = move
        fired = self._model.fire(move)
        if fired is None:
            return None
        rule = fired.rule
        assert rule is not None and hasattr(rule, "counts")
        if rule.counts:
            self.call.mark_done(move, turn, before)
        elif rule.credit:
            self.call.credited[move] += 1
        calming, angering = self.reader.anger_scale(move, self.call.quality)
        delta = self._change_anger(rule.anger, calming, angering)
        reaction = self._reaction(move, fired, delta, turn, events, before)
        if spec.kind == "question" and rule.counts and reaction.said.text:
            self.call.answers[move] = reaction.said.text
        return reaction

    def _settle(self, turn: int, events: list[Event]) -> list[_Reaction]:
        """Auto rules: the customer moves on by himself once their conditions hold."""
        out = []
        for _ in range(len(self.scenario.states) + 1):
            before = self._model.state
            self.call.move = ""
            fired = self._model.fire(SETTLE)
            if fired is None:
                break
            delta = self._change_anger(fired.rule.anger)  # type: ignore[union-attr]
            out.append(self._reaction(SETTLE, fired, delta, turn, events, before))
            if self.ended:
                break
        return out

    def _reaction(self, move: str, fired: RuleTransition, delta: float, turn: int, events: list[Event],
                  before: str) -> _Reaction:
        """Flags, the line, the state entered: what every fired rule does besides anger."""
        rule = fired.rule
        assert rule is not None
        self._raise_flags(rule.flags)
        self.call.fired[fired.rule_id] += 1
        key = escalated(rule.say, self.call.fired[fired.rule_id])
        text = self._say(key) if key else ""
        self._entered(before, turn, events)
        said = Said(key, text, self._rank(move, fired, before), self._order(move, fired),
                    lead=getattr(rule, "lead", None))
        return _Reaction(move, fired.rule_id, delta, said, tuple(rule.flags))

    def _rank(self, move: str, fired: RuleTransition, before: str) -> str:
        rule = fired.rule
        explicit = getattr(rule, "rank", None)
        if explicit:
            return explicit
        if getattr(rule, "minor", False):
            return "minor"
        spec = self.scenario.moves.get(move)
        if spec is not None and spec.kind == "conduct":
            return "conduct"
        now = self._model.state
        if now != before:
            return "ending" if now in self.scenario.endings else "turn"
        return "answer" if spec is not None and spec.kind == "question" else "statement"

    def _order(self, move: str, fired: RuleTransition) -> tuple[int, int]:
        spec = self.scenario.moves.get(move)
        phase = self._phase_index.get(spec.phase or "", -1) if spec else len(self._phase_index)
        return phase, fired.index

    def _unknown(self, reading: TurnReading, turn: int) -> _Reaction:
        if reading.manual_phrase and self.scenario.reactions.manual_phrase is not None:
            return self._engine_reaction("manual_phrase", turn)
        return self._engine_reaction("unknown", turn)

    def _engine_reaction(self, name: str, turn: int, move: str = "", answer: str = "") -> _Reaction:
        spec: ReactionSpec = getattr(self.scenario.reactions, name)
        rule_id = f"reactions.{name}"
        delta = self._change_anger(spec.anger)
        self._raise_flags(spec.flags)
        self.call.fired[rule_id] += 1
        key = escalated(spec.say, self.call.fired[rule_id])
        text = self._say(key, answer=answer) if key else ""
        said = Said(key, text, "statement", (-1, 0), closing=name == "hang_up")
        return _Reaction(move or name, rule_id, delta, said, tuple(spec.flags))

    def _fire_engine(self, trigger: str, name: str, turn: int, events: list[Event]) -> _Reaction:
        before = self._model.state
        self._model.fire(trigger)
        reaction = self._engine_reaction(name, turn)
        self._entered(before, turn, events)
        return reaction

    # -- bookkeeping ------------------------------------------------------------------------------

    def _say(self, key: str, **fields: str) -> str:
        return self._lines.say(key, **{**self.call.heard, **fields})

    def _change_anger(self, delta: float, calming: float = 1.0, angering: float = 1.0) -> float:
        """Apply a rule's anger, scaled by how well the move was made and by the persona's temper."""
        if delta < 0:
            delta *= calming
        elif delta > 0:
            delta *= angering * self.scenario.personas[self.persona].anger_factor
        before = self.call.anger
        self.call.anger = min(float(self.scenario.anger.max), max(0.0, before + delta))
        return round(self.call.anger - before, 2)

    def _raise_flags(self, flags: list[str]) -> None:
        for flag in flags:
            self.call.flags[flag] += 1

    def _entered(self, before: str, turn: int, events: list[Event]) -> None:
        now = self._model.state
        if now == before:
            return
        phase = "ending" if now in self.scenario.endings else self.scenario.states[now].phase
        events.append(StateEntered(turn=turn, state=now, phase=phase))

    def _is_repetition(self, normalized: str) -> bool:
        if len(normalized.split()) < REPEAT_MIN_WORDS:
            return False
        # Saying again what the customer did not understand is fair once; a third time it is a script.
        # A turn that made a move or was a stock phrase counts at once.
        from rapidfuzz import fuzz  # imported with understanding, which reads the turn first

        similar = [had_moves for earlier, had_moves in self._said if fuzz.ratio(normalized, earlier) >= REPEAT_SIMILARITY]
        return any(similar) or len(similar) >= 2

    def _reply(self, reactions: list[_Reaction], turn: int) -> CustomerLine:
        combined = [(c.lines, c.say) for c in self.scenario.combined_lines]
        texts, keys = compose([r.said for r in reactions], self._say, combined)
        if self.ended and reactions and not reactions[-1].said.text:
            ending = self.scenario.endings[self.call.ending]  # type: ignore[index]
            if ending.say:
                texts.append(self._say(ending.say))
                keys.append(ending.say)
        return CustomerLine(turn=turn, text=" ".join(texts), anger=round(self.call.anger, 2), lines=tuple(keys))
