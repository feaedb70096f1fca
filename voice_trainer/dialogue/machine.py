"""The customer's state machine, built from the scenario's rules with `transitions`.

Triggers are the scenario's move ids plus three the engine fires itself:
`settle` (auto rules, after every turn), `anger_maxed` (he hangs up) and `quit` (the trainee left).
For one trigger, transitions tries the rules in file order and takes the first whose source state
and conditions match; an unexpected move is ignored (the caller then reacts with `out_of_place`).
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from voice_trainer.dialogue.conditions import Predicate, compile_conditions
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.scenario.schema import ScenarioFile, names

SETTLE = "settle"
ANGER_MAXED = "anger_maxed"
QUIT = "quit"


class CustomerModel:
    """What the machine drives: the call record, and which rule fired last."""

    def __init__(self, call: CallRecord):
        self.call = call
        self.fired_rule: str | None = None


class _Condition:
    """A compiled predicate bound to the model; its name is what the diagram shows."""

    def __init__(self, pred: Predicate, model: CustomerModel | None):
        self._pred = pred
        self._model = model
        self.__name__ = pred.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        assert self._model is not None
        return self._pred(self._model.call)


class _RuleFired:
    def __init__(self, rule_id: str, model: CustomerModel | None):
        self.rule_id = rule_id
        self._model = model
        self.__name__ = f"fired_{rule_id}"

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._model is not None:
            self._model.fired_rule = self.rule_id


def initial_state(s: ScenarioFile) -> str:
    return next(name for name, st in s.states.items() if st.initial)


def transition_table(s: ScenarioFile, model: CustomerModel | None) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = []

    def add(trigger: str, source: Any, dest: str | None, when: Any, rule_id: str) -> None:
        sources = names(source)
        table.append(
            {
                "trigger": trigger,
                # "*" means any state the customer can be in; endings are final, nothing leaves them.
                "source": list(s.states) if "*" in sources else sources,
                "dest": dest,
                "conditions": [_Condition(p, model) for p in compile_conditions(when)],
                "after": [_RuleFired(rule_id, model)],
            }
        )

    for i, rule in enumerate(s.rules):
        for move in names(rule.on):
            add(move, rule.from_, rule.to, rule.when, f"rules[{i}]")
    for i, auto in enumerate(s.auto):
        add(SETTLE, auto.from_, auto.to, auto.when, f"auto[{i}]")
    states = list(s.states)
    add(ANGER_MAXED, states, s.reactions.hang_up.ending, None, "reactions.hang_up")
    add(QUIT, states, s.reactions.quit.ending, None, "reactions.quit")
    return table


def build_machine(s: ScenarioFile, model: CustomerModel) -> Machine:
    return Machine(
        model=model,
        states=[*s.states, *s.endings],
        initial=initial_state(s),
        transitions=transition_table(s, model),
        auto_transitions=False,
        ignore_invalid_triggers=True,
    )


def mermaid(s: ScenarioFile) -> str:
    """The scenario's state diagram in Mermaid, drawn by transitions itself (no Graphviz needed)."""
    from transitions.extensions import GraphMachine

    machine = GraphMachine(
        states=[*s.states, *s.endings],
        initial=initial_state(s),
        transitions=[t for t in transition_table(s, None) if t["dest"] is not None],
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=s.title,
    )
    return machine.get_graph().draw(None)
