"""Scoring a call against the scenario's rubric, phase by phase in the method's order."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from voice_trainer.dialogue.conditions import compile_conditions, holds
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.scenario.schema import ScenarioFile


@dataclass(frozen=True)
class ItemResult:
    id: str
    phase: str
    phase_title: str
    title: str
    points: float
    met: bool
    said: str  # what the trainee said for it, when the item names an evidence move
    praise: str
    suggestion: str


@dataclass(frozen=True)
class PenaltyResult:
    flag: str
    title: str
    times: int
    points: float
    suggestion: str
    cap: float | None = None  # the call scores at most this because of it


@dataclass(frozen=True)
class Score:
    outcome: str
    success: bool
    score: int
    rubric_score: float
    items: tuple[ItemResult, ...]
    penalties: tuple[PenaltyResult, ...]
    cap: float | None

    def to_json(self) -> dict:
        return {
            "outcome": self.outcome,
            "success": self.success,
            "score": self.score,
            "rubric_score": round(self.rubric_score, 1),
            "cap": self.cap,
            "rubric": [asdict(i) for i in self.items],
            "met": [i.id for i in self.items if i.met],
            "missed": [i.id for i in self.items if not i.met],
            "penalties": [asdict(p) for p in self.penalties],
        }


def score_call(s: ScenarioFile, call: CallRecord, turn_texts: dict[int, str]) -> Score:
    phase_titles = {p.id: p.title for p in s.phases}
    phase_order = {p.id: i for i, p in enumerate(s.phases)}
    items = []
    for item in s.rubric.items:
        if item.applies is not None and not holds(compile_conditions(item.applies), call):
            continue
        met = holds(compile_conditions(item.met), call)
        said = ""
        if item.evidence and item.evidence in call.first_done_turn:
            said = turn_texts.get(call.first_done_turn[item.evidence], "")
        items.append(
            ItemResult(item.id, item.phase, phase_titles[item.phase], item.title, float(item.points), met, said,
                       item.praise, item.suggestion)
        )
    items.sort(key=lambda i: phase_order[i.phase])
    total = sum(i.points for i in items)
    rubric_score = 100.0 * sum(i.points for i in items if i.met) / total if total else 0.0
    # One mistake is charged once: a penalty that is the same mistake as a missed rubric item is left out.
    missed = {i.id for i in items if not i.met}
    penalties = []
    for p in s.rubric.penalties:
        times = min(call.flags[p.flag], p.max_times)
        if times and p.same_as not in missed:
            penalties.append(PenaltyResult(p.flag, p.title, times, float(p.points * times), p.suggestion,
                                           float(p.cap) if p.cap is not None else None))
    value = rubric_score - sum(p.points for p in penalties)
    outcome = call.ending or "abandoned"
    caps = [float(c) for c in [s.rubric.ending_caps.get(outcome), *(p.cap for p in penalties)] if c is not None]
    cap = min(caps) if caps else None
    if cap is not None:
        value = min(value, cap)
    success = bool(call.ending and s.endings[call.ending].success)
    return Score(outcome, success, int(round(max(0.0, min(100.0, value)))), rubric_score, tuple(items),
                 tuple(penalties), cap)
