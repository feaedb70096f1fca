"""CLI: `voice-trainer review`, the review site (local mode by default, centre mode with accounts)."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from voice_trainer.cli.app import app
from voice_trainer.cli.options import DataDir

# A server answers many requests at once: more database connections than a one-shot command needs.
CENTRE_POOL_MAX = 8


@app.command()
def review(
    port: int = typer.Option(0, "--port", help="Port to listen on (default: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind: loopback only (127.0.0.1, ::1, localhost) "
                             "unless in centre mode."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the address; do not open a browser."),
    centre: bool = typer.Option(False, "--centre", help="Centre mode with this machine's library: sign-in with "
                                "accounts, roles, the audit log (on by itself when a centre database is configured)."),
    allowed_host: Optional[List[str]] = typer.Option(None, "--allowed-host", help="Centre mode: a name browsers "
                                                     "reach the site by (repeat it); other Host headers are refused."),
    proxy_headers: bool = typer.Option(False, "--proxy-headers", help="Behind a TLS reverse proxy: trust its "
                                       "X-Forwarded-For/-Proto (from --forwarded-allow-ips)."),
    forwarded_allow_ips: str = typer.Option("127.0.0.1,::1", "--forwarded-allow-ips",
                                            help="Comma-separated proxy addresses trusted with --proxy-headers."),
    data_dir: DataDir = None,
) -> None:
    """Browse sessions, reports, recordings and progress in a web page (local mode: this machine only)."""
    from voice_trainer.cli.trainer import _settings
    from voice_trainer.web.settings import CENTRE, LOCAL, ReviewSettings

    library_settings = _settings(data_dir)
    settings = ReviewSettings(
        mode=CENTRE if centre or library_settings.centre.enabled else LOCAL, host=host, port=port,
        allowed_hosts=tuple(allowed_host or ()), proxy_headers=proxy_headers,
        forwarded_allow_ips=tuple(a.strip() for a in forwarded_allow_ips.split(",") if a.strip()),
    ).checked()
    with _open_library(library_settings) as library:
        if settings.centre and not library.accounts.list():
            print("voice-trainer: warning: no accounts yet, nobody can sign in; add one with "
                  "'voice-trainer users add NAME --role trainer'", file=sys.stderr)
        serve(settings, library, open_browser=not no_browser)


@contextmanager
def _open_library(library_settings) -> Iterator:
    """This machine's library (crash leftovers recovered, folders indexed), or the centre's with a bigger pool."""
    from voice_trainer.cli.trainer import _recover, _warn_damaged
    from voice_trainer.trainer.library import LocalLibrary

    centre = library_settings.centre
    if centre.enabled:
        from voice_trainer.trainer.library.centre import CentreLibrary

        with CentreLibrary(centre.database, centre.recordings, connect_timeout_s=centre.connect_timeout_s,
                           pool_max=CENTRE_POOL_MAX) as library:
            yield library
        return
    _recover(library_settings.data_dir)
    with LocalLibrary(library_settings.data_dir, station=centre.station) as library:
        _warn_damaged(library.sync())
        yield library


def serve(settings, library, open_browser: bool) -> None:
    from voice_trainer.web.app import create_app
    from voice_trainer.web.server import ReviewServer

    server = ReviewServer(settings, lambda bound: create_app(bound, library))
    mode = "centre mode, sign in with an account" if settings.centre else "this machine only"
    print(f"review page ({mode}): {server.url}", flush=True)
    print("Ctrl-C to stop", file=sys.stderr, flush=True)
    with opener_file(server.url) if open_browser else nullcontext() as opener:
        if opener is not None:
            import webbrowser

            webbrowser.open(opener.as_uri())
        server.run()  # until Ctrl-C
    print("review page stopped", file=sys.stderr)


@contextmanager
def opener_file(url: str) -> Iterator[Path]:
    """A private page that sends the browser on to `url` (as Jupyter does): the browser is started with
    this file's name, so the key never shows on a command line that other users can read with `ps`."""
    from html import escape

    with tempfile.TemporaryDirectory(prefix="voice-trainer-review-") as folder:  # 0700
        path = Path(folder) / "open-review.html"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={escape(url)}">'
                    f'<title>voice-trainer review</title><a href="{escape(url)}">Open the review page</a>')
        yield path
