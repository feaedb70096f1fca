"""Trainers' corrections and re-scoring.

A recognition error must not be charged to the trainee: `fix_turn` records the right text as a
TranscriptCorrected event (the log is only ever appended to) and re-scores the call. `rescore_session`
scores an old attempt against the scenario as it is now, e.g. after the rubric changed.
Both keep the first result under result["rescored"]["original"], so nothing is lost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_trainer.dialogue.scoring import Score
from voice_trainer.errors import ScenarioError, SessionError, UsageError
from voice_trainer.events import Event, MovesUnderstood, TranscriptCorrected
from voice_trainer.scenario.loader import Scenario, load_file
from voice_trainer.session import build_result, rescore
from voice_trainer.session_folder import ResultItem, SessionFolder, SessionResult

if TYPE_CHECKING:
    from voice_trainer.trainer.library.stored import StoredSession


@dataclass(frozen=True)
class ItemChange:
    id: str
    title: str
    points: float
    met_before: bool | None  # None: the item did not apply before
    met_after: bool | None


@dataclass(frozen=True)
class MovesChange:
    turn: int
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class RescoreDiff:
    session_id: str
    score_before: int | None
    score_after: int
    outcome_before: str
    outcome_after: str
    items: tuple[ItemChange, ...] = ()
    moves: tuple[MovesChange, ...] = ()
    scenario_file: str = ""
    saved: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.items or self.moves) or (self.score_before, self.outcome_before) != (
            self.score_after, self.outcome_after)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"session {self.session_id}",
            f"score: {self.score_before} -> {self.score_after}",
            f"outcome: {self.outcome_before} -> {self.outcome_after}",
        ]
        for m in self.moves:
            out.append(f"turn {m.turn} moves: {', '.join(m.before) or '-'} -> {', '.join(m.after) or '-'}")
        for i in self.items:
            out.append(f"{i.id} ({i.title}, {i.points:g}): {_mark(i.met_before)} -> {_mark(i.met_after)}")
        if not self.changed:
            out.append("no difference")
        return out


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "missed")


# --- fixing a turn -----------------------------------------------------------------------------------


def fix_turn(folder: "Path | SessionFolder | StoredSession", turn: int, text: str) -> RescoreDiff:
    """Replace what the recognizer heard in one turn and re-score the call with the corrected text.

    `folder`: a session folder, or a session stored at the centre (the same two writes go to its database)."""
    folder = _source(folder)
    text = " ".join(text.split())
    if not text:
        raise UsageError("the corrected text is empty; give what the trainee actually said")
    events = folder.events()
    started = folder.started(events)
    turns = {t.index: t for t in folder.turns(events)}
    if turn not in turns:
        valid = ", ".join(str(n) for n in sorted(turns)) or "none"
        raise SessionError(f"session {started.session_id} has no turn {turn}; valid turns: {valid}")
    result = folder.scored_result()
    scenario = folder.scenario(started)
    correction = TranscriptCorrected(turn=turn, text=text, previous=turns[turn].text,
                                     t_ms=max((e.t_ms for e in events), default=0.0))
    with folder:  # appends; never rewrites what was logged
        folder.append(correction)
    events.append(correction)
    return _apply(folder, events, result, scenario, reason="correction", save=True)


def rescore_session(folder: "Path | SessionFolder | StoredSession", scenario: Scenario | Path | str | None = None, save: bool = False) -> RescoreDiff:
    """Score a recorded attempt against the current scenario file and show what changes.

    With save=False nothing is written; with save=True result.json takes the new score and keeps
    the original one under result["rescored"]["original"].
    """
    folder = _source(folder)
    events = folder.events()
    started = folder.started(events)
    result = folder.scored_result()
    if scenario is None:
        loaded = folder.scenario(started)
    elif isinstance(scenario, Scenario):
        loaded = scenario
    else:
        path = Path(scenario)
        if not path.is_file():
            raise ScenarioError(str(path), "no such scenario file; give the path of a .yaml scenario")
        loaded = load_file(path)
    if loaded.id != started.scenario:
        raise UsageError(
            f"{loaded.path} is scenario {loaded.id!r} but the session was {started.scenario!r}; give a file of the same scenario"
        )
    return _apply(folder, events, result, loaded, reason="scenario", save=save)


def _source(folder):
    from voice_trainer.trainer.library.stored import StoredSession

    return folder if isinstance(folder, (SessionFolder, StoredSession)) else SessionFolder(folder)


def _apply(folder: SessionFolder, events: list[Event], result: SessionResult, scenario: Scenario, reason: str,
           save: bool) -> RescoreDiff:
    score, timeline = rescore(scenario, events)
    new_moves = {e.turn: tuple(e.moves) for e in timeline if isinstance(e, MovesUnderstood)}
    old_moves = {t.turn: t.moves for t in result.turns}
    diff = RescoreDiff(
        session_id=str(result.data.get("session_id", folder.id)),
        score_before=result.score,
        score_after=score.score,
        outcome_before=result.outcome,
        outcome_after=score.outcome,
        items=_item_changes(result.rubric, score),
        moves=tuple(MovesChange(n, old_moves.get(n, ()), new_moves.get(n, ()))
                    for n in sorted(set(old_moves) | set(new_moves))
                    if old_moves.get(n, ()) != new_moves.get(n, ())),
        scenario_file=str(scenario.path),
        saved=save,
    )
    if save:
        folder.write_result(_new_result(result, events, score, new_moves, scenario, reason, folder))
    return diff


def _item_changes(old_items: tuple[ResultItem, ...], score: Score) -> tuple[ItemChange, ...]:
    before = {i.id: i for i in old_items}
    after = {i.id: i for i in score.items}
    changes = []
    for item_id in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(item_id), after.get(item_id)
        met_before = old.met if old else None
        met_after = new.met if new else None
        points_before = old.points if old else None
        points_after = new.points if new else None
        if met_before != met_after or (old and new and points_before != points_after):
            changes.append(ItemChange(item_id, (new.title if new else old.title),
                                      points_after if points_after is not None else points_before or 0.0,
                                      met_before, met_after))
    return tuple(changes)


_KEPT = ("score", "outcome", "success", "met", "missed")


def _new_result(result: SessionResult, events: list[Event], score: Score, moves: dict[int, tuple[str, ...]],
                scenario: Scenario, reason: str, folder: SessionFolder) -> dict[str, Any]:
    """result.json with the new score; what was there first stays under rescored.original."""
    before = result.data
    previous = result.rescored or {}
    original = previous.get("original") or {k: before.get(k) for k in _KEPT}
    fresh = build_result(events, score, folder.path)
    for turn in fresh["turns"]:
        # The recording shows what the customer said then; the moves are re-understood from the corrected text.
        turn["moves"] = list(moves.get(turn["turn"], ()))
    for key in ("start_anger", "anger", "interrupted"):
        fresh[key] = before.get(key, fresh.get(key))
    fresh["rescored"] = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reason": reason,
        "scenario_file": str(scenario.path),
        "previous": {k: before.get(k) for k in _KEPT},
        "original": original,
        "corrections": [
            {"turn": e.turn, "text": e.text, "previous": e.previous} for e in events if isinstance(e, TranscriptCorrected)
        ],
    }
    return fresh
