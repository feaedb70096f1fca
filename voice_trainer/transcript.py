"""transcript.json: what was said in a session and when, for people and tools that don't read the event log.

Derived from the events only (the turns via `turns_from`), so it can be rewritten at any time
(`SessionFolder.write_transcript`).
"""

from __future__ import annotations

from typing import Any, Iterable

from voice_trainer.events import CustomerLine, Event, SessionEnded, SessionStarted, SpeechPlayed, turns_from


def transcript(events: Iterable[Event]) -> dict[str, Any]:
    events = list(events)
    started = next((e for e in events if isinstance(e, SessionStarted)), None)
    ended = next((e for e in reversed(events) if isinstance(e, SessionEnded)), None)
    return {
        "session_id": started.session_id if started else "",
        "scenario": started.scenario if started else "",
        "lang": started.lang if started else "",
        "mode": started.mode if started else "",
        "outcome": ended.outcome if ended else None,
        "interrupted": ended.interrupted if ended else None,
        "turns": [
            {
                "turn": t.index,
                "trainee": t.text,
                "recognized": t.recognized_text,
                "words": [
                    {"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "conf": w.conf} for w in t.words
                ],
                "start_ms": t.start_ms,
                "end_ms": t.end_ms,
                "moves": list(t.moves),
                "customer": t.reply,
                "anger": t.anger,
                "reply_start_ms": t.reply_start_ms,
                "barge_in": t.barge_in,
            }
            for t in turns_from(events)
        ],
        "customer_lines": customer_lines(events),
    }


def customer_lines(events: list[Event]) -> list[dict[str, Any]]:
    """Every customer line with when its voice played. A turn's n-th SpeechPlayed belongs to its n-th line;
    a line never voiced (text mode, or cut before playback) has no times."""
    played: dict[int, list[SpeechPlayed]] = {}
    for e in events:
        if isinstance(e, SpeechPlayed):
            played.setdefault(e.turn, []).append(e)
    seen: dict[int, int] = {}
    lines = []
    for e in events:
        if not isinstance(e, CustomerLine):
            continue
        n = seen.get(e.turn, 0)
        seen[e.turn] = n + 1
        speech = played.get(e.turn, [])[n] if n < len(played.get(e.turn, [])) else None
        lines.append(
            {
                "turn": e.turn,
                "text": e.text,
                "anger": e.anger,
                "t_ms": e.t_ms,
                "start_ms": speech.start_ms if speech else None,
                "end_ms": speech.end_ms if speech else None,
                "interrupted": speech.interrupted if speech else None,
            }
        )
    return lines
