"""Text practice: turns typed at a prompt, or read one per line from a script or a pipe."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from voice_trainer.errors import UsageError
from voice_trainer.session import Session

if TYPE_CHECKING:
    from voice_trainer.practice.customer import SpokenCustomer


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


def run_text(session: Session, replies: Iterable[str], customer: "SpokenCustomer | None" = None) -> None:
    """Start the call, then feed replies until it reaches an ending or they run out. The caller finishes
    the session. With a spoken customer, each reply waits until he has finished his line."""
    session.start()
    if customer is not None:
        customer.wait()
    feed_text(session, replies, customer)


def feed_text(session: Session, replies: Iterable[str], customer: "SpokenCustomer | None" = None) -> None:
    """Replies as turns of a call already under way (also when voice practice falls back to typing)."""
    for reply in replies:
        if session.ended:
            break
        session.trainee_says(reply, source="text")
        if customer is not None:
            customer.wait()
