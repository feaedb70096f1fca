"""The review page: a small local web server over the session library.

Bound to the loopback interface only (recordings of staff never leave the machine). Session ids in
URLs are looked up in the index, never joined onto paths, so a URL cannot reach outside the library.
The recording is served with HTTP Range support so the browser can seek without loading it whole.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from datetime import date
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from voice_trainer.errors import SessionError, UsageError, VoiceTrainerError
from voice_trainer.session_folder import SessionFolder
from voice_trainer.trainer.library import LocalLibrary as Library, SessionSummary

_ID = re.compile(r"^[\w.-]{1,120}$", re.UNICODE)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def check_loopback(host: str) -> str:
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise UsageError(f"--host {host}: the review page only listens on this machine (127.0.0.1 or ::1)")


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, library: Library, host: str, port: int):
        self.data_dir = library.data_dir
        if ":" in host:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__((check_loopback(host), port), ReviewHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def make_server(library: Library, host: str = "127.0.0.1", port: int = 0) -> ReviewServer:
    """A server ready to run (port 0: a free port; see .url). Call serve_forever(), shutdown() to stop."""
    return ReviewServer(library, host, port)


def serve(library: Library, host: str = "127.0.0.1", port: int = 0, on_ready=None) -> None:
    """Serve until interrupted; `on_ready(url)` is called once the socket listens (e.g. to open a browser)."""
    server = make_server(library, host, port)
    try:
        if on_ready:
            threading.Thread(target=on_ready, args=(server.url,), daemon=True).start()
        server.serve_forever()
    finally:
        server.server_close()


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "voice-trainer-review"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the terminal shows the URL only
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        # One connection per request thread: sqlite connections are not shared across threads.
        try:
            with Library(self.server.data_dir) as library:
                if not parts:
                    library.sync()
                    return self._html(list_page(library, query))
                if parts[0] == "session" and len(parts) in (2, 3):
                    summary = self._session(library, parts[1])
                    if len(parts) == 2:
                        return self._report(summary)
                    if parts[2] == "audio.wav":
                        return self._audio(SessionFolder(summary.folder).recording_path)
                if parts[0] == "progress" and len(parts) == 2:
                    from voice_trainer.trainer.progress import progress, progress_html

                    library.sync()
                    return self._html(progress_html(progress(library, parts[1]), links=True))
            self._error(HTTPStatus.NOT_FOUND, "no such page")
        except SessionError as err:
            self._error(HTTPStatus.NOT_FOUND, str(err))
        except VoiceTrainerError as err:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(err))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _session(self, library: Library, session_id: str) -> SessionSummary:
        if not _ID.match(session_id):
            raise SessionError(f"{session_id!r} is not a session id")
        summary = library.get(session_id)
        if summary.session_id != session_id:
            raise SessionError(f"no session {session_id!r}")  # prefixes are for the CLI, URLs name one session
        if summary.folder.resolve().parent != library.sessions_dir.resolve():
            raise SessionError(f"session {session_id!r} is outside the library")
        return summary

    def _report(self, summary: SessionSummary) -> None:
        from voice_trainer.trainer.report import render_report

        audio = f"/session/{quote(summary.session_id)}/audio.wav" if summary.has_recording else None
        self._html(render_report(summary.folder, "html", audio_src=audio))

    def _audio(self, path: Path) -> None:
        if not path.is_file():
            return self._error(HTTPStatus.NOT_FOUND, "this session has no recording")
        size = path.stat().st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        wanted = self.headers.get("Range")
        if wanted:
            m = _RANGE.match(wanted.strip())
            if not m or (not m.group(1) and not m.group(2)):
                return self._unsatisfiable(size)
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            if start > end or start >= size:
                return self._unsatisfiable(size)
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        with path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                block = f.read(min(64 * 1024, left))
                if not block:
                    break
                self.wfile.write(block)
                left -= len(block)

    def _unsatisfiable(self, size: int) -> None:
        self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
        self.send_header("Content-Range", f"bytes */{size}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _html(self, page: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._html(f"<!DOCTYPE html><meta charset=\"utf-8\"><title>{status.value}</title>"
                   f"<h1>{status.value} {escape(status.phrase)}</h1><p>{escape(message)}</p><p><a href=\"/\">sessions</a></p>",
                   status)


def list_page(library: Library, query: dict[str, str]) -> str:
    """All sessions, filtered by trainee, outcome and date (a plain GET form)."""
    trainee = query.get("trainee", "").strip() or None
    outcome = query.get("outcome", "").strip() or None
    since_text = query.get("since", "").strip()
    note = ""
    since = None
    if since_text:
        try:
            since = date.fromisoformat(since_text)
        except ValueError:
            note = f"<p class=\"note\">since: {escape(since_text)} is not a date like 2024-05-31; ignored</p>"
    sessions = library.list(trainee=trainee, since=since, outcome=outcome)
    e = escape
    outcomes = sorted({s.outcome for s in library.list()})

    def options(values: list[str], chosen: str | None) -> str:
        return '<option value="">all</option>' + "".join(
            f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(v or "(no name)")}</option>' for v in values
        )

    rows = "".join(
        f'<tr><td><a href="/session/{e(quote(s.session_id))}">{e(s.session_id)}</a></td>'
        f'<td><a href="/progress/{e(quote(s.trainee))}">{e(s.trainee)}</a></td><td>{e(s.started_at)}</td>'
        f"<td>{e(s.scenario)}</td><td>{e(s.persona)}</td><td>{e(s.policy)}</td><td>{e(s.outcome)}</td>"
        f"<td>{'' if s.score is None else s.score}</td><td>{s.duration_s:g} s</td>"
        f"<td>{'♪' if s.has_recording else ''}</td></tr>"
        for s in reversed(sessions)
    ) or '<tr><td colspan="10">no sessions</td></tr>'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>voice-trainer: sessions</title><style>'
        "body{font-family:system-ui,sans-serif;margin:1.5rem;}table{border-collapse:collapse}"
        "td,th{padding:.25rem .7rem;border-bottom:1px solid #eee;text-align:left}form{margin:1rem 0}"
        "label{margin-right:1rem}</style></head><body><h1>Practice sessions</h1>"
        f'<form method="get" action="/"><label>trainee <select name="trainee">{options(library.trainees(), trainee)}'
        f'</select></label><label>outcome <select name="outcome">{options(outcomes, outcome)}</select></label>'
        f'<label>since <input type="date" name="since" value="{e(since_text)}"></label>'
        f'<button type="submit">show</button></form>{note}'
        f'<p class="count">{len(sessions)} sessions</p>'
        "<table><tr><th>session</th><th>trainee</th><th>started</th><th>scenario</th><th>persona</th><th>policy</th>"
        f"<th>outcome</th><th>score</th><th>length</th><th>audio</th></tr>{rows}</table></body></html>"
    )
