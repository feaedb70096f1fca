"""Serving the review site: bind the socket first (so a busy port is one clear line, and the address with its
key can be printed before the first request), then hand it to uvicorn with limits for slow clients.

uvicorn closes idle keep-alive connections, but a connection that sends half a request head and then
nothing (or a byte a minute) would stay open for ever; `HeadTimeoutProtocol` gives every request head a
deadline. Bodies have theirs in the CSRF guard; `limit_concurrency` caps open connections.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
from dataclasses import replace
from typing import Any, Callable
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from voice_trainer.errors import UsageError
from voice_trainer.web.settings import ReviewSettings


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head: from the connection (or the end
    of the previous response) until its headers are complete. Dribbling bytes does not extend it."""

    head_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._arm_head_deadline()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request head arrived
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        deadline, self._head_deadline = getattr(self, "_head_deadline", None), None
        if deadline is not None:
            deadline.cancel()

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; its head came in time
        if not self.transport.is_closing():
            self.transport.close()


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: Any) -> None:
        """Ctrl-C or SIGTERM: stop serving (a second Ctrl-C: at once), then return normally. uvicorn would
        raise the signal again after its shutdown, inside the event loop's own teardown."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def bind(settings: ReviewSettings) -> socket.socket:
    """A listening socket on the settings' address; UsageError in one line if that cannot be."""
    settings.checked()
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise UsageError(f"--host {settings.host}: not an address this machine has ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        reason = err.strerror or str(err)
        hint = "choose another --port" if err.errno in (98, 13) else "check --host and --port"
        raise UsageError(f"cannot listen on {settings.host}:{settings.port} ({reason}); {hint}") from None
    sock.set_inheritable(True)
    return sock


def address_url(settings: ReviewSettings, key: str | None = None) -> str:
    host = "localhost" if settings.host == "localhost" else settings.host
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.port}/" + (f"?token={quote(key)}" if key else "")


class ReviewServer:
    """The app on a bound socket. `run()` serves until Ctrl-C or `stop()`; `start()` serves in a thread (tests)."""

    def __init__(self, settings: ReviewSettings, make_app: Callable[[ReviewSettings], Starlette]):
        self.socket = bind(settings)
        self.settings = replace(settings, port=self.socket.getsockname()[1])
        self.app = make_app(self.settings)
        protocol = type("ReviewProtocol", (HeadTimeoutProtocol,), {"head_timeout_s": settings.request_head_timeout_s})
        self.config = uvicorn.Config(
            self.app, http=protocol, lifespan="off", ws="none", interface="asgi3",
            timeout_keep_alive=settings.keep_alive_s, limit_concurrency=settings.max_connections,
            h11_max_incomplete_event_size=settings.max_header_bytes,
            proxy_headers=settings.proxy_headers, forwarded_allow_ips=list(settings.forwarded_allow_ips),
            server_header=False, access_log=False, log_config=None, timeout_graceful_shutdown=5,
        )
        self.server = _Server(self.config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to open: in local mode with the key that lets the browser in."""
        return address_url(self.settings, self.app.state.key)

    @property
    def base_url(self) -> str:
        return address_url(self.settings)

    def run(self) -> None:
        quiet_server_logs()
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self) -> "ReviewServer":
        """Serve in a background thread. The socket already listens: requests wait in its backlog until then."""
        self._thread = threading.Thread(target=self.run, name="review-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(30)


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"voice-trainer review: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
            text += f" ({type(exc).__name__}: {exc}{where})"
        return text


def quiet_server_logs(stream: Any = None) -> None:
    """uvicorn's warnings and errors as one line each on stderr; the address is the only other output."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_OneLine())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        log = logging.getLogger(name)
        log.handlers = [handler]
        log.setLevel(logging.WARNING)
        log.propagate = False
