"""The session timeline: small typed events, append-only.

The session log (JSONL), the recording's labels, the report, the library and the benchmark
all read this one timeline. Times are milliseconds since the session started (`t_ms`);
audio positions on the recording's timeline are `*_ms` too, on the same origin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

from voice_trainer.records import kind_of, read_record


@dataclass(frozen=True)
class Word:
    """One recognized word with its timing on the session timeline and the recognizer's confidence."""

    text: str
    start_ms: float
    end_ms: float
    conf: float = 1.0


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    t_ms: float = 0.0


@dataclass(frozen=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str = ""
    scenario: str = ""
    scenario_file: str = ""
    lang: str = ""
    persona: str = ""
    policy: str = ""
    seed: int = 0
    trainee: str = ""
    mode: str = "text"  # text | voice | replay
    facts: dict[str, str] = field(default_factory=dict)
    started_at: str = ""  # ISO-8601 wall-clock time, for humans and the library
    launch_ms: float | None = None  # process age when the session started (t_ms 0), for the benchmark


@dataclass(frozen=True)
class MicrophoneOpened(Event):
    """The microphone is open: what the trainee says from now on is kept and recognized, even while the
    speech model is still loading (it is queued until then)."""

    type: ClassVar[str] = "microphone_opened"
    device: str = ""


@dataclass(frozen=True)
class TurnStarted(Event):
    """The trainee started speaking (voice) or the turn began (text)."""

    type: ClassVar[str] = "turn_started"
    turn: int = 0


@dataclass(frozen=True)
class PartialText(Event):
    type: ClassVar[str] = "partial_text"
    turn: int = 0
    text: str = ""


@dataclass(frozen=True)
class TraineeTurn(Event):
    """What the trainee said in one turn. start_ms/end_ms: voiced speech on the session timeline."""

    type: ClassVar[str] = "trainee_turn"
    turn: int = 0
    text: str = ""
    words: tuple[Word, ...] = ()
    start_ms: float = 0.0
    end_ms: float = 0.0
    source: str = "text"  # text | voice | replay


@dataclass(frozen=True)
class FullTranscript(Event):
    """The complete transcript of a voice turn from free recognition, logged when it is ready (after the
    reply has started: the customer answers the faster live pass, whose words are in the TraineeTurn).
    It is the turn's record; `moves` are what those words would have meant, for when the passes differ."""

    type: ClassVar[str] = "full_transcript"
    turn: int = 0
    text: str = ""
    words: tuple[Word, ...] = ()
    moves: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranscriptCorrected(Event):
    """A trainer replaced the recognized text of a turn; scoring uses the corrected text."""

    type: ClassVar[str] = "transcript_corrected"
    turn: int = 0
    text: str = ""
    previous: str = ""


@dataclass(frozen=True)
class MovesUnderstood(Event):
    type: ClassVar[str] = "moves_understood"
    turn: int = 0
    moves: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReactionApplied(Event):
    """How the customer took one move (or situation): which rule fired, anger change, flags."""

    type: ClassVar[str] = "reaction_applied"
    turn: int = 0
    move: str = ""
    rule: str = ""
    anger_delta: float = 0.0
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateEntered(Event):
    type: ClassVar[str] = "state_entered"
    turn: int = 0
    state: str = ""
    phase: str = ""


@dataclass(frozen=True)
class CustomerLine(Event):
    type: ClassVar[str] = "customer_line"
    turn: int = 0
    text: str = ""
    anger: float = 0.0
    lines: tuple[str, ...] = ()  # line keys the text was built from


@dataclass(frozen=True)
class SpeechPlayed(Event):
    """The customer's voice for a line, on the session timeline."""

    type: ClassVar[str] = "speech_played"
    turn: int = 0
    start_ms: float = 0.0
    end_ms: float = 0.0
    interrupted: bool = False


@dataclass(frozen=True)
class BargeIn(Event):
    """The trainee talked over the customer, who stopped."""

    type: ClassVar[str] = "barge_in"
    turn: int = 0


@dataclass(frozen=True)
class ReplyTiming(Event):
    """Where the time between the trainee's last voiced sample and the customer's first audible sample went."""

    type: ClassVar[str] = "reply_timing"
    turn: int = 0
    end_of_turn_wait_ms: float = 0.0  # last voiced sample -> the end-of-turn rule fired (the trailing silence)
    recognition_ms: float = 0.0  # FinalResult()
    dialogue_ms: float = 0.0  # understanding + the customer's reaction
    synthesis_ms: float = 0.0  # rendering the first sentence
    playback_start_ms: float = 0.0  # first block handed to the device -> playing
    reply_latency_ms: float = 0.0  # last voiced sample -> first audible sample
    rendered_ahead: bool = False  # his first sentence was rendered in the pause, before the turn ended
    # What set the pause that ended the turn (practice/turn_taking.py): the cues, e.g. "move+falling",
    # "connector", "level", "nothing"; or "max_length" / "end_of_audio".
    end_of_turn_cue: str = ""


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should know that is not part of the conversation (fallback to text, device lost)."""

    type: ClassVar[str] = "notice"
    kind: str = ""
    message: str = ""


@dataclass(frozen=True)
class SessionEnded(Event):
    type: ClassVar[str] = "session_ended"
    outcome: str = ""
    score: int = 0
    interrupted: bool = False


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStarted,
        MicrophoneOpened,
        TurnStarted,
        PartialText,
        TraineeTurn,
        FullTranscript,
        TranscriptCorrected,
        MovesUnderstood,
        ReactionApplied,
        StateEntered,
        CustomerLine,
        SpeechPlayed,
        BargeIn,
        ReplyTiming,
        Notice,
        SessionEnded,
    )
}


def to_json(event: Event) -> dict[str, Any]:
    data = {"type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name == "words":
            value = [dataclasses.asdict(w) for w in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[f.name] = value
    return data


def from_json(data: Any) -> Event:
    """Inverse of to_json, with every field's type checked: ValueError (saying what is wrong) for anything
    that is not an event of a known type. Unknown fields are dropped so older readers survive newer logs."""
    if not isinstance(data, dict):
        raise ValueError(f"not an event object but {kind_of(data)}")
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    return read_record(cls, data, cls.type)


def stamp(event: Event, t_ms: float) -> Event:
    return dataclasses.replace(event, t_ms=round(t_ms, 1))


@dataclass(frozen=True)
class Turn:
    """One trainee turn and the customer's answer, derived from the timeline."""

    index: int
    text: str
    recognized_text: str
    words: tuple[Word, ...]
    start_ms: float
    end_ms: float
    moves: tuple[str, ...]
    reply: str
    anger: float
    reply_start_ms: float | None
    barge_in: bool
    previous_reply_end_ms: float | None = None  # when the customer's voice before this turn stopped
    # Voice turns with two passes: what the live pass heard (the customer answered that) and the moves of
    # the full transcript, which is then `recognized_text`/`words`. None without a full transcript.
    live_text: str | None = None
    full_moves: tuple[str, ...] | None = None

    @property
    def passes_disagree(self) -> bool:
        """The full transcript means other moves than the live words the customer answered."""
        return self.full_moves is not None and set(self.full_moves) != set(self.moves)

    @property
    def reply_latency_ms(self) -> float | None:
        return None if self.reply_start_ms is None else reply_latency_ms(self.end_ms, self.reply_start_ms)

    @property
    def response_gap_ms(self) -> float | None:
        return None if self.previous_reply_end_ms is None else response_gap_ms(self.previous_reply_end_ms, self.start_ms)


def duration_s(events: Iterable[Event]) -> float:
    """How long the call lasted: from the session's start to its last event, in seconds."""
    return round(max((e.t_ms for e in events), default=0.0) / 1000.0, 1)


def reply_latency_ms(turn_end_ms: float, reply_start_ms: float) -> float:
    """How long the customer took to answer: the trainee's last voiced sample -> his first audible sample."""
    return round(reply_start_ms - turn_end_ms, 1)


def response_gap_ms(reply_end_ms: float, turn_start_ms: float) -> float:
    """How long the trainee took to answer: the end of the customer's voice -> the turn's first voiced sample."""
    return round(turn_start_ms - reply_end_ms, 1)


def turns_from(events: Iterable[Event]) -> list[Turn]:
    """Work turns out of the event stream; corrections replace the recognized text."""
    by_turn: dict[int, dict[str, Any]] = {}
    speech_end: dict[int, float] = {}  # turn -> when the customer's (last) line of that turn stopped
    for ev in events:
        if isinstance(ev, SpeechPlayed):
            speech_end[ev.turn] = ev.end_ms
        if isinstance(ev, TraineeTurn):
            by_turn[ev.turn] = {
                "text": ev.text, "recognized": ev.text, "words": ev.words,
                "start": ev.start_ms, "end": ev.end_ms, "moves": (), "reply": "",
                "anger": None, "reply_start": None, "barge_in": False, "live": None, "full_moves": None,
            }
        elif getattr(ev, "turn", None) in by_turn:
            t = by_turn[ev.turn]  # type: ignore[attr-defined]
            if isinstance(ev, TranscriptCorrected):
                t["text"] = ev.text
                t["corrected"] = True
            elif isinstance(ev, FullTranscript):
                t["live"], t["full_moves"] = t["recognized"], ev.moves
                if ev.text.strip():  # the record is the full transcript (unless it heard nothing at all)
                    t["recognized"], t["words"] = ev.text, ev.words
                    if not t.get("corrected"):
                        t["text"] = ev.text
            elif isinstance(ev, MovesUnderstood):
                t["moves"] = ev.moves
            elif isinstance(ev, CustomerLine):
                t["reply"] = (t["reply"] + " " + ev.text).strip()
                t["anger"] = ev.anger
            elif isinstance(ev, SpeechPlayed) and t["reply_start"] is None:
                t["reply_start"] = ev.start_ms
            elif isinstance(ev, BargeIn):
                t["barge_in"] = True
    return [
        Turn(
            index=i, text=t["text"], recognized_text=t["recognized"], words=t["words"],
            start_ms=t["start"], end_ms=t["end"], moves=t["moves"], reply=t["reply"],
            anger=t["anger"] if t["anger"] is not None else 0.0,
            reply_start_ms=t["reply_start"], barge_in=t["barge_in"], previous_reply_end_ms=speech_end.get(i - 1),
            live_text=t["live"], full_moves=t["full_moves"],
        )
        for i, t in sorted(by_turn.items())
    ]
