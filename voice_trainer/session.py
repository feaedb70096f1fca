"""Runs one conversation: feeds trainee turns to the dialogue core and publishes every event.

Each event is stamped on the session clock, appended to the session's log (before anyone acts on it)
and handed to the observers in order: the printer, the customer's voice, the voice loop. Modes are
sources of trainee turns (`voice_trainer/practice/`); everything else observes the session.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from voice_trainer.clock import Clock, MonotonicClock, SessionClock, process_age_ms
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.scoring import Score, score_call
from voice_trainer.events import (
    CustomerLine,
    Event,
    SessionEnded,
    SessionStarted,
    StateEntered,
    TraineeTurn,
    TranscriptCorrected,
    Word,
    stamp,
    turns_from,
)
from voice_trainer.scenario.loader import Scenario
from voice_trainer.session_folder import SessionFolder, new_session_id
from voice_trainer.settings import default_data_dir

Observer = Callable[[Event], None]


class Session:
    def __init__(
        self,
        scenario: Scenario,
        *,
        persona: str | None = None,
        policy: str | None = None,
        seed: int | None = None,
        trainee: str = "",
        mode: str = "text",
        data_dir: Path | None = None,
        clock: Clock | None = None,
        observers: Iterable[Observer] = (),
    ):
        self.scenario = scenario
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        self.conversation = Conversation(scenario.data, persona=persona, policy=policy, seed=self.seed)
        self.trainee = trainee
        self.mode = mode
        self.clock = SessionClock(clock or MonotonicClock())
        started_at = datetime.now(timezone.utc).astimezone()
        self.id = new_session_id(trainee, started_at)
        self.folder = SessionFolder.create(data_dir or default_data_dir(), self.id)
        self.events: list[Event] = []
        self.turn = 0
        self.result: dict[str, Any] | None = None
        # Milliseconds: two sessions started in the same second still sort in the order they happened.
        self._started_at = started_at.isoformat(timespec="milliseconds")
        self._observers: list[Observer] = list(observers)
        # Playback threads report SpeechPlayed while the main loop reports turns: one event at a time.
        self._lock = threading.RLock()
        self._undelivered: deque[Event] = deque()
        self._delivering = False
        self._finishing = False
        self._done = False  # finished, or gave up finishing for lack of room: nothing more is logged

    @property
    def ended(self) -> bool:
        return self.conversation.ended

    def observe(self, observer: Observer) -> None:
        """`observer(event)` for every event from now on, in order, after it is logged. Observers must not
        block: they run on whichever thread emitted (the voice's playback thread reports SpeechPlayed)."""
        self._observers.append(observer)

    def emit(self, event: Event) -> Event:
        """Stamp the event, log it, then hand it to every observer. An event emitted by an observer while it
        handles another is delivered after that one, so every observer sees the same order as the log.
        After `finish()` nothing more is logged.

        When the disk fills, the event is still logged (in the room the folder set aside) and delivered,
        then DiskFull stops the call; `finish()` logs its end in what room is left. DiskFull before
        logging when even that room is gone."""
        with self._lock:
            event = stamp(event, self.clock.now_ms())
            if self._done or self.result is not None:
                return event
            self.folder.append(event)
            self.events.append(event)
            self._undelivered.append(event)
            if not self._delivering:
                self._deliver()
        if self.folder.full is not None and not self._finishing:
            raise self.folder.full
        return event

    def _deliver(self) -> None:
        self._delivering = True
        try:
            while self._undelivered:
                event = self._undelivered.popleft()
                for observer in list(self._observers):
                    observer(event)
        except BaseException:
            self._undelivered.clear()
            raise
        finally:
            self._delivering = False

    def start(self) -> None:
        c = self.conversation
        self.emit(
            SessionStarted(
                session_id=self.id, scenario=self.scenario.id, scenario_file=str(self.scenario.path),
                lang=self.scenario.lang, persona=c.persona, policy=c.policy, seed=self.seed, trainee=self.trainee,
                mode=self.mode, facts=dict(c.facts), started_at=self._started_at,
                launch_ms=_rounded(process_age_ms()),
            )
        )
        for event in c.opening():
            self.emit(event)

    def trainee_says(
        self,
        text: str,
        words: tuple[Word, ...] = (),
        start_ms: float | None = None,
        end_ms: float | None = None,
        source: str = "text",
    ) -> list[Event]:
        """One trainee turn: logged first, then the customer's reaction (the events, as logged)."""
        self.turn += 1
        now = self.clock.now_ms()
        self.emit(
            TraineeTurn(turn=self.turn, text=text, words=words, source=source,
                        start_ms=now if start_ms is None else start_ms, end_ms=now if end_ms is None else end_ms)
        )
        return [self.emit(event) for event in self.conversation.handle(text, self.turn)]

    def finish(self, interrupted: bool = False) -> dict[str, Any]:
        """End the session (the trainee left if no ending was reached), score it, write result.json.

        DiskFull when the end or the result cannot be written: what was logged stays, and start-up
        recovery completes the session once the disk has room."""
        if self._done:
            return self.result  # type: ignore[return-value]
        self._finishing = True
        try:
            for event in self.conversation.quit(self.turn):
                self.emit(event)
            score = score_call(self.scenario.data, self.conversation.call, self.conversation.turn_texts)
            self.emit(SessionEnded(outcome=score.outcome, score=score.score, interrupted=interrupted))
            with self._lock:
                self.result = build_result(self.events, score, self.folder.path)
            self.folder.write_result(self.result)
        finally:
            self._done = True
            self.folder.close()
        return self.result

    @property
    def said(self) -> bool:
        """Whether any trainee turn is in the log (a session without one loses nothing if discarded)."""
        return any(isinstance(e, TraineeTurn) for e in self.events)


def _rounded(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 1)


def build_result(events: list[Event], score: Score, folder: Path | None = None) -> dict[str, Any]:
    """The result of a session, derived from its timeline and its score."""
    started = next(e for e in events if isinstance(e, SessionStarted))
    ended = next((e for e in events if isinstance(e, SessionEnded)), None)
    states: dict[int, str] = {}
    for e in events:
        if isinstance(e, StateEntered):
            states[e.turn] = e.state
    turns = []
    state = states.get(0, "")
    for t in turns_from(events):
        state = states.get(t.index, state)
        turns.append(
            {"turn": t.index, "trainee": t.text, "recognized": t.recognized_text, "moves": list(t.moves),
             "customer": t.reply, "anger": t.anger, "state": state,
             "start_ms": t.start_ms, "end_ms": t.end_ms, "reply_start_ms": t.reply_start_ms,
             "reply_latency_ms": t.reply_latency_ms}
        )
    opening = next((e for e in events if isinstance(e, CustomerLine) and e.turn == 0), None)
    return {
        "session_id": started.session_id,
        "folder": str(folder) if folder else None,
        "scenario": started.scenario,
        "lang": started.lang,
        "persona": started.persona,
        "policy": started.policy,
        "seed": started.seed,
        "trainee": started.trainee,
        "mode": started.mode,
        "started_at": started.started_at,
        "interrupted": bool(ended and ended.interrupted),
        **score.to_json(),
        "start_anger": opening.anger if opening else None,
        "anger": [t["anger"] for t in turns],
        "turns": turns,
    }


def rescore(scenario: Scenario, events: list[Event]) -> tuple[Score, list[Event]]:
    """Play a recorded session's trainee turns (with trainers' corrections) through a fresh customer.

    Same persona, policy and seed, so the customer behaves as he did unless the corrected text or the
    current scenario makes him react differently. Returns the new score and the new timeline.
    """
    started = next(e for e in events if isinstance(e, SessionStarted))
    texts: dict[int, str] = {}
    for e in events:
        if isinstance(e, TraineeTurn):
            texts[e.turn] = e.text
        elif isinstance(e, TranscriptCorrected):
            texts[e.turn] = e.text
    conversation = Conversation(scenario.data, persona=started.persona, policy=started.policy, seed=started.seed)
    timeline: list[Event] = [replace(started, scenario_file=str(scenario.path)), *conversation.opening()]
    for turn in sorted(texts):
        if conversation.ended:
            break
        timeline.append(TraineeTurn(turn=turn, text=texts[turn]))
        timeline += conversation.handle(texts[turn], turn)
    timeline += conversation.quit(max(texts, default=0))
    score = score_call(scenario.data, conversation.call, conversation.turn_texts)
    timeline.append(SessionEnded(outcome=score.outcome, score=score.score))
    return score, timeline
