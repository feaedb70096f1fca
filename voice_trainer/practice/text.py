"""Text practice: turns typed at a prompt, or read one per line from a script or a pipe.

A reply is at most MAX_REPLY_CHARS long: a script with a longer line is refused before the call starts;
a longer line typed or piped in is cut there, and a Notice in the call says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from voice_trainer.errors import UsageError
from voice_trainer.events import Notice
from voice_trainer.session import Session

if TYPE_CHECKING:
    from voice_trainer.practice.customer import SpokenCustomer


# A turn is at most 30 s of speech (VoiceSettings.max_turn_ms): about 80 words, 600 characters. Anything
# much longer is not a reply but a pasted document; the dialogue core is linear in it, but the call, its
# log and the report would carry it on every screen.
MAX_REPLY_CHARS = 2000
MAX_SCRIPT_BYTES = 10_000_000


def script_lines(path: Path) -> list[str]:
    """Replies from a file, one per line; blank lines and lines starting with '#' are skipped.
    UsageError naming the line when one is longer than a reply can be."""
    try:
        if path.is_file() and path.stat().st_size > MAX_SCRIPT_BYTES:
            raise UsageError(f"{path}: a script of {path.stat().st_size / 1e6:.0f} MB; a script is at most "
                             f"{MAX_SCRIPT_BYTES / 1e6:.0f} MB, one reply per line")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such script file; give a text file with one reply per line") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read the script ({err}); it must be UTF-8 text, one reply per line") from None
    replies = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_REPLY_CHARS:
            raise UsageError(f"{path}:{number}: {too_long(line)}; split it into replies of one line each")
        replies.append(line)
    return replies


def too_long(reply: str) -> str:
    return (f"a reply of {len(reply)} characters, longer than a reply can be ({MAX_REPLY_CHARS} characters; "
            f"30 seconds of speech are about 600)")


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
    """Replies as turns of a call already under way (also when voice practice falls back to typing).
    A reply longer than MAX_REPLY_CHARS is cut there, with a Notice (printed and logged) saying so."""
    for reply in replies:
        if session.ended:
            break
        if len(reply) > MAX_REPLY_CHARS:
            session.emit(Notice(kind="input", message=f"{too_long(reply)}: only its first {MAX_REPLY_CHARS} are kept"))
            reply = reply[:MAX_REPLY_CHARS]
        session.trainee_says(reply, source="text")
        if customer is not None:
            customer.wait()
