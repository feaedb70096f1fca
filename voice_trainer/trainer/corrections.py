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
from typing import Any

from voice_trainer.dialogue.scoring import Score
from voice_trainer.errors import ScenarioError, SessionError, UsageError
from voice_trainer.events import Event, MovesUnderstood, SessionStarted, TranscriptCorrected, turns_from
from voice_trainer.scenario.loader import Scenario, load, load_file
from voice_trainer.session import build_result, rescore
from voice_trainer.session_log import RESULT_FILE, SessionLog, read_events, write_json_atomic


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


# --- what the session used ---------------------------------------------------------------------------


def _started(events: list[Event], folder: Path) -> SessionStarted:
    started = next((e for e in events if isinstance(e, SessionStarted)), None)
    if started is None:
        raise SessionError(f"{folder}: the log has no session_started event; it cannot be re-scored")
    return started


def session_scenario(started: SessionStarted) -> Scenario:
    """The scenario file the session used if it is still there, else the scenario of that name and language."""
    if started.scenario_file and Path(started.scenario_file).is_file():
        return load_file(Path(started.scenario_file))
    return load(started.scenario, started.lang)


def _read_result(folder: Path) -> dict[str, Any]:
    from voice_trainer.trainer.report import read_result

    result = read_result(folder)
    if result is None:
        raise SessionError(f"{folder}: no {RESULT_FILE}; the session was never scored (finish or recover it first)")
    return result


# --- fixing a turn -----------------------------------------------------------------------------------


def fix_turn(folder: Path, turn: int, text: str) -> RescoreDiff:
    """Replace what the recognizer heard in one turn and re-score the call with the corrected text."""
    folder = Path(folder)
    text = " ".join(text.split())
    if not text:
        raise UsageError("the corrected text is empty; give what the trainee actually said")
    events = read_events(folder)
    started = _started(events, folder)
    turns = {t.index: t for t in turns_from(events)}
    if turn not in turns:
        valid = ", ".join(str(n) for n in sorted(turns)) or "none"
        raise SessionError(f"session {started.session_id} has no turn {turn}; valid turns: {valid}")
    result = _read_result(folder)
    scenario = session_scenario(started)
    correction = TranscriptCorrected(turn=turn, text=text, previous=turns[turn].text,
                                     t_ms=max((e.t_ms for e in events), default=0.0))
    log = SessionLog(folder)  # appends; never rewrites what was logged
    try:
        log.write(correction)
    finally:
        log.close()
    events.append(correction)
    return _apply(folder, events, result, scenario, reason="correction", save=True)


def rescore_session(folder: Path, scenario: Scenario | Path | str | None = None, save: bool = False) -> RescoreDiff:
    """Score a recorded attempt against the current scenario file and show what changes.

    With save=False nothing is written; with save=True result.json takes the new score and keeps
    the original one under result["rescored"]["original"].
    """
    folder = Path(folder)
    events = read_events(folder)
    started = _started(events, folder)
    result = _read_result(folder)
    if scenario is None:
        loaded = session_scenario(started)
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


def _apply(folder: Path, events: list[Event], result: dict[str, Any], scenario: Scenario, reason: str,
           save: bool) -> RescoreDiff:
    score, timeline = rescore(scenario, events)
    new_moves = {e.turn: tuple(e.moves) for e in timeline if isinstance(e, MovesUnderstood)}
    old_moves = {t["turn"]: tuple(t.get("moves", ())) for t in result.get("turns", [])}
    diff = RescoreDiff(
        session_id=str(result.get("session_id", folder.name)),
        score_before=result.get("score"),
        score_after=score.score,
        outcome_before=str(result.get("outcome", "")),
        outcome_after=score.outcome,
        items=_item_changes(result.get("rubric", []), score),
        moves=tuple(MovesChange(n, old_moves.get(n, ()), new_moves.get(n, ()))
                    for n in sorted(set(old_moves) | set(new_moves))
                    if old_moves.get(n, ()) != new_moves.get(n, ())),
        scenario_file=str(scenario.path),
        saved=save,
    )
    if save:
        write_json_atomic(folder / RESULT_FILE, _new_result(result, events, score, new_moves, scenario, reason, folder))
    return diff


def _item_changes(old_items: list[dict[str, Any]], score: Score) -> tuple[ItemChange, ...]:
    before = {i["id"]: i for i in old_items}
    after = {i.id: i for i in score.items}
    changes = []
    for item_id in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(item_id), after.get(item_id)
        met_before = bool(old["met"]) if old else None
        met_after = new.met if new else None
        points_before = float(old.get("points", 0)) if old else None
        points_after = new.points if new else None
        if met_before != met_after or (old and new and points_before != points_after):
            changes.append(ItemChange(item_id, (new.title if new else old.get("title", "")),
                                      points_after if points_after is not None else points_before or 0.0,
                                      met_before, met_after))
    return tuple(changes)


def _new_result(result: dict[str, Any], events: list[Event], score: Score, moves: dict[int, tuple[str, ...]],
                scenario: Scenario, reason: str, folder: Path) -> dict[str, Any]:
    """result.json with the new score; what was there first stays under rescored.original."""
    previous = result.get("rescored") or {}
    original = previous.get("original") or {k: result.get(k) for k in ("score", "outcome", "success", "met", "missed")}
    fresh = build_result(events, score, folder)
    for turn in fresh["turns"]:
        # The recording shows what the customer said then; the moves are re-understood from the corrected text.
        turn["moves"] = list(moves.get(turn["turn"], ()))
    for key in ("start_anger", "anger", "interrupted"):
        fresh[key] = result.get(key, fresh.get(key))
    fresh["rescored"] = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reason": reason,
        "scenario_file": str(scenario.path),
        "previous": {k: result.get(k) for k in ("score", "outcome", "success", "met", "missed")},
        "original": original,
        "corrections": [
            {"turn": e.turn, "text": e.text, "previous": e.previous} for e in events if isinstance(e, TranscriptCorrected)
        ],
    }
    return fresh


