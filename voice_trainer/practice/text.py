"""Text-mode practice: replies typed at a prompt, or read one per line from a script or a pipe."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

from voice_trainer.errors import UsageError
from voice_trainer.session import Session


def script_lines(path: Path) -> list[str]:
    """Replies from a file, one per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such script file; give a text file with one reply per line") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read the script ({err}); it must be UTF-8 text, one reply per line") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def prompted_lines(ask: Callable[[], str]) -> Iterator[str]:
    """Lines typed by the trainee until end of input; empty lines are ignored."""
    while True:
        try:
            line = ask()
        except EOFError:
            return
        if line.strip():
            yield line.strip()


def run_text(
    session: Session,
    replies: Iterable[str],
    echo: Callable[[str], None] | None = None,
    after_turn: Callable[[Session, int], None] | None = None,
) -> None:
    """Feed replies until the call reaches an ending or the replies run out. The caller finishes the session.

    `after_turn(session, since)` sees each batch of new events (from index `since`): the customer's voice
    speaks his lines there.
    """
    since = len(session.events)
    session.start()
    if after_turn:
        after_turn(session, since)
    for reply in replies:
        if session.ended:
            break
        if echo:
            echo(reply)
        since = len(session.events)
        session.trainee_says(reply, source="text")
        if after_turn:
            after_turn(session, since)
