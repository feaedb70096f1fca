"""The customer's state machine, built from the scenario's rules with `transitions`.

Triggers are the scenario's move ids plus three the engine fires itself:
`settle` (auto rules, after every turn), `anger_maxed` (he hangs up) and `quit` (the trainee left).
For one trigger, transitions tries the rules in file order and takes the first whose source state
and conditions match. Each transition carries its rule, so the caller learns which rule fired from
the transition itself. The model holds the state; the call record it carries holds the history.
"""

from __future__ import annotations

import random
from typing import Any, Union

from transitions import Machine, Transition
from transitions.core import EventData

from voice_trainer.dialogue.conditions import Predicate, compile_conditions
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.scenario.schema import AutoRule, Reaction, Rule, ScenarioFile, names

SETTLE = "settle"
ANGER_MAXED = "anger_maxed"
QUIT = "quit"

# What a transition can carry: a rule for a move, an auto rule, or the engine's own reaction.
Carried = Union[Rule, AutoRule, Reaction]


class RuleTransition(Transition):
    """A transition that knows the scenario rule it stands for and that rule's place in the file."""

    def __init__(self, *args: Any, rule: Carried | None = None, rule_id: str = "", index: int = 0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.rule_id = rule_id  # "rules[3]": how the session log names it
        self.index = index  # its place in the file's list


class CustomerMachine(Machine):
    transition_cls = RuleTransition


class CustomerModel:
    """What the machine drives. transitions keeps `state` here; conditions read `call`.

    transitions also binds a method per move and state to it (`apologize()`, `is_opening()`), so a
    scenario may not name a move or state after these attributes (scenario/checks.py: MODEL_ATTRIBUTES).
    """

    state: str

    def __init__(self, call: CallRecord, endings: set[str]):
        self.call = call
        self.fired: RuleTransition | None = None
        self._endings = endings
        self._machine: Machine | None = None  # set by build_machine

    def fire(self, trigger: str) -> RuleTransition | None:
        """Fire `trigger`; the transition that fired, or None when no rule accepts it here.

        A trigger with no transition from this state is not fired at all: transitions would log
        a warning for it, and here it only means the customer has no rule for it now."""
        self.fired = None
        assert self._machine is not None, "build_machine binds the model"
        if trigger in self._machine.get_triggers(self.state):
            self.trigger(trigger)  # type: ignore[attr-defined]  # bound by transitions
        return self.fired

    def remember(self, event: EventData) -> None:
        """After every transition: which one fired, and where the customer went."""
        transition = event.transition
        assert isinstance(transition, RuleTransition)
        self.fired = transition
        if transition.dest is not None and transition.dest != transition.source:
            self.call.visited.append(transition.dest)
            if transition.dest in self._endings:
                self.call.ending = transition.dest


class _Condition:
    """A compiled predicate bound to the model; its name is what the diagram shows."""

    def __init__(self, pred: Predicate, model: CustomerModel | None):
        self._pred = pred
        self._model = model
        self.__name__ = pred.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        assert self._model is not None
        return self._pred(self._model.call)


def initial_state(s: ScenarioFile) -> str:
    return next(name for name, st in s.states.items() if st.initial)


def transition_table(s: ScenarioFile, model: CustomerModel | None, dice: random.Random | None = None,
                     carry_rules: bool = True) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = []

    def add(trigger: str, source: Any, dest: str | None, rule: Carried, rule_id: str, index: int = 0) -> None:
        sources = names(source)
        when = getattr(rule, "when", None)
        entry = {
            "trigger": trigger,
            # "*" means any state the customer can be in; endings are final, nothing leaves them.
            "source": list(s.states) if "*" in sources else sources,
            "dest": dest,
            "conditions": [_Condition(p, model) for p in compile_conditions(when, dice or random.Random(0))],
        }
        if carry_rules:
            entry |= {"rule": rule, "rule_id": rule_id, "index": index}
        table.append(entry)

    for i, rule in enumerate(s.rules):
        for move in names(rule.on):
            add(move, rule.from_, rule.to, rule, f"rules[{i}]", i)
    for i, auto in enumerate(s.auto):
        add(SETTLE, auto.from_, auto.to, auto, f"auto[{i}]", i)
    states = list(s.states)
    add(ANGER_MAXED, states, s.reactions.hang_up.ending, s.reactions.hang_up, "reactions.hang_up")
    add(QUIT, states, s.reactions.quit.ending, s.reactions.quit, "reactions.quit")
    return table


def build_machine(s: ScenarioFile, model: CustomerModel, dice: random.Random) -> Machine:
    machine = CustomerMachine(
        model=model,
        states=[*s.states, *s.endings],
        initial=initial_state(s),
        transitions=transition_table(s, model, dice),
        auto_transitions=False,
        send_event=True,
        after_state_change=model.remember,
        # CustomerModel.fire only fires triggers valid in the current state; anything else is a bug.
        ignore_invalid_triggers=False,
    )
    model._machine = machine
    model.call.visited.append(model.state)
    return machine


def mermaid(s: ScenarioFile) -> str:
    """The scenario's state diagram in Mermaid, drawn by transitions itself (no Graphviz needed)."""
    from transitions.extensions import GraphMachine

    machine = GraphMachine(
        states=[*s.states, *s.endings],
        initial=initial_state(s),
        transitions=[t for t in transition_table(s, None, carry_rules=False) if t["dest"] is not None],
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=s.title,
    )
    return machine.get_graph().draw(None)
