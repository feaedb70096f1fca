"""What the customer hears in a turn besides its moves: the details he reacts to (the cause named, the day
and time proposed), whether it is a phrase from a support manual, and how well each move was made.

Everything is read with the same move classifier the moves use, over the scenario's own cues
(`details`, `manual_phrases`, `tone`), so a scenario author writes them like moves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.dialogue.when import read_day_and_time, say_day_and_time
from voice_trainer.scenario.schema import Cue, Move, Quality, ScenarioFile

_MANUAL = "manual_phrase"


@dataclass(frozen=True)
class TurnReading:
    details: dict[str, str] = field(default_factory=dict)  # detail -> how the customer says it back
    kinds: dict[str, str] = field(default_factory=dict)  # detail -> which kind was named (or the value read)
    manual_phrase: bool = False
    quality: dict[str, float] = field(default_factory=dict)  # move -> how well it was made (0..1)


class TurnReader:
    def __init__(self, scenario: ScenarioFile, rng: random.Random):
        self._s = scenario
        self._rng = rng  # picks how the customer words a detail; its own stream, so lines do not shift
        cues: dict[str, Cue] = {}
        for name, detail in scenario.details.items():
            for kind, cue in detail.kinds.items():
                cues[_detail_cue(name, kind)] = cue
        if scenario.manual_phrases is not None:
            cues[_MANUAL] = scenario.manual_phrases
        for name, cue in scenario.tone.markers.items():
            cues[_marker_cue(name)] = cue
        for i, spec in enumerate(scenario.tone.quality):
            for name, cue in spec.elements.items():
                cues[_element_cue(i, name)] = cue
        moves = {name: Move(examples=cue.examples, patterns=cue.patterns, reject=cue.reject)
                 for name, cue in cues.items()}
        self._classifier = MoveClassifier(moves, scenario.language) if moves else None
        self._quality_of = {move: (i, spec) for i, spec in enumerate(scenario.tone.quality) for move in spec.moves}

    def read(self, text: str, moves: tuple[str, ...]) -> TurnReading:
        heard = set(self._classifier.classify(text).moves) if self._classifier else set()
        details: dict[str, str] = {}
        kinds: dict[str, str] = {}
        for name, detail in self._s.details.items():
            if detail.read == "day_and_time":
                when = read_day_and_time(text, self._s.language)
                if when is not None:
                    details[name] = say_day_and_time(when, self._s.language)
                    kinds[name] = details[name]
                continue
            # Several named: the first listed wins (a scenario lists specific kinds before general ones).
            kind = next((k for k in detail.kinds if _detail_cue(name, k) in heard), None)
            if kind is not None:
                kinds[name] = kind
                details[name] = self._rng.choice(detail.kinds[kind].say)
        quality = {}
        for move in moves:
            if move in self._quality_of:
                i, spec = self._quality_of[move]
                quality[move] = _quality(i, spec, heard)
        return TurnReading(details, kinds, _MANUAL in heard, quality)

    def anger_scale(self, move: str, quality: float) -> tuple[float, float]:
        """(calming multiplier, angering multiplier) for a move made this well."""
        if move not in self._quality_of:
            return 1.0, 1.0
        low, high = (float(x) for x in self._quality_of[move][1].scale)
        return low + (high - low) * quality, high - (high - low) * quality


def _quality(i: int, spec: Quality, heard: set[str]) -> float:
    best = sum(w for w in spec.markers.values() if w > 0) + len(spec.elements)
    if best <= 0:
        return 1.0
    got = sum(w for name, w in spec.markers.items() if _marker_cue(name) in heard)
    got += sum(1 for name in spec.elements if _element_cue(i, name) in heard)
    return round(min(1.0, max(0.0, got / best)), 3)


def _detail_cue(detail: str, kind: str) -> str:
    return f"detail:{detail}:{kind}"


def _marker_cue(name: str) -> str:
    return f"marker:{name}"


def _element_cue(i: int, name: str) -> str:
    return f"element:{i}:{name}"
