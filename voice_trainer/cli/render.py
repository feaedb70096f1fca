"""Printing the conversation and the debrief for a person at a terminal."""

from __future__ import annotations

import re
from typing import Any, Callable

from voice_trainer.events import CustomerLine, Event, Notice, PartialText, StateEntered, TraineeTurn

UI = {
    "ru": {
        "customer": "Клиент", "you": "Вы", "anger": "злость", "outcome": "Итог", "score": "Оценка",
        "debrief": "Разбор звонка", "well": "Получилось", "missed": "Упущено", "try": "Попробуйте",
        "conduct": "Ошибки поведения", "you_said": "вы сказали", "times": "раз", "penalty": "штраф",
        "session": "Сессия сохранена", "interrupted": "Сессия прервана; всё сказанное сохранено",
        "prompt": "Вы> ",
    },
    "en": {
        "customer": "Customer", "you": "You", "anger": "anger", "outcome": "Outcome", "score": "Score",
        "debrief": "Call debrief", "well": "Went well", "missed": "Missed", "try": "Try",
        "conduct": "Conduct mistakes", "you_said": "you said", "times": "times", "penalty": "penalty",
        "session": "Session saved", "interrupted": "Session interrupted; everything said is saved",
        "prompt": "You> ",
    },
}


def ui(lang: str) -> dict[str, str]:
    return UI.get(lang.split("-")[0], UI["en"])


# What a terminal acts on instead of showing: C0 and C1 controls (escape sequences, carriage return,
# line feed), DEL, the Unicode line and paragraph separators, and the bidirectional overrides that make
# text display in another order than it is stored.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """`text` fit to print as part of one line: what a terminal would act on is shown escaped
    (`\\x1b`, `\\n`, `\\u202e`), a tab becomes a space. Names, recognized and typed text, anything
    read from a file goes through this before it is printed."""
    return _UNSAFE.sub(_escaped, str(text).replace("\t", " "))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def conversation_printer(lang: str, out: Callable[[str], None], echo_trainee: bool = True) -> Callable[[Event], None]:
    """Prints the call as it happens. `echo_trainee=False` when the trainee's words are already on screen
    (typed at the prompt)."""
    words = ui(lang)

    def on_event(event: Event) -> None:
        if isinstance(event, TraineeTurn) and echo_trainee:
            prefix = "\r\033[K" if event.source == "voice" and _stderr_is_tty() else ""
            out(f"{prefix}{words['you']}: {plain(event.text) or '…'}")
        elif isinstance(event, CustomerLine) and event.text:
            out(f"{words['customer']} [{words['anger']} {event.anger:.0f}]: {plain(event.text)}")
        elif isinstance(event, StateEntered) and event.phase == "ending":
            out(f"--- {words['outcome']}: {plain(event.state)}")
        elif isinstance(event, Notice):
            out(f"[{plain(event.kind)}] {plain(event.message)}")

    return on_event


def partial_printer() -> Callable[[Event], None]:
    """What the recognizer hears so far, overwritten in place on the terminal (stderr)."""
    import sys

    def on_event(event: Event) -> None:
        if isinstance(event, PartialText):
            print(f"\r\033[K… {plain(event.text[-100:])}", end="", file=sys.stderr, flush=True)

    return on_event


def _stderr_is_tty() -> bool:
    import sys

    try:
        return sys.stderr.isatty()
    except (ValueError, AttributeError):
        return False


def debrief_text(result: dict[str, Any], lang: str) -> str:
    words = ui(lang)
    lines = [
        "",
        f"=== {words['debrief']} ===",
        f"{words['outcome']}: {plain(result['outcome'])}    {words['score']}: {result['score']}/100",
    ]
    phase_order: list[str] = []
    by_phase: dict[str, list[dict]] = {}
    for item in result["rubric"]:
        if item["phase"] not in by_phase:
            phase_order.append(item["phase"])
        by_phase.setdefault(item["phase"], []).append(item)
    for phase in phase_order:
        items = by_phase[phase]
        lines.append("")
        lines.append(f"## {plain(items[0]['phase_title'])}")
        for item in items:
            if item["met"]:
                said = f" ({words['you_said']}: «{plain(item['said'])}»)" if item["said"] else ""
                lines.append(f"  + {words['well']}: {plain(item['praise'])}{said}")
        for item in items:
            if not item["met"]:
                lines.append(f"  - {words['missed']}: {plain(item['title'])}. {words['try']}: {plain(item['suggestion'])}")
    if result["penalties"]:
        lines.append("")
        lines.append(f"## {words['conduct']}")
        for p in result["penalties"]:
            lines.append(
                f"  ! {plain(p['title'])} ({p['times']} {words['times']}, {words['penalty']} -{p['points']:g}). "
                f"{plain(p['suggestion'])}"
            )
    return "\n".join(lines)
