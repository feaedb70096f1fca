"""CLI: `voice-trainer review`, the review site (local mode by default, centre mode with accounts)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from voice_trainer.cli.app import app
from voice_trainer.cli.options import DataDir


@app.command()
def review(
    port: int = typer.Option(0, "--port", help="Port to listen on (default: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind: loopback only (127.0.0.1, ::1, localhost) "
                             "unless --centre."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the address; do not open a browser."),
    centre: bool = typer.Option(False, "--centre", help="Centre mode: sign-in with accounts, roles, the audit log; "
                                "may listen on other addresses (see docs/review.md)."),
    allowed_host: Optional[List[str]] = typer.Option(None, "--allowed-host", help="Centre mode: a name browsers "
                                                     "reach the site by (repeat it); other Host headers are refused."),
    proxy_headers: bool = typer.Option(False, "--proxy-headers", help="Behind a TLS reverse proxy: trust its "
                                       "X-Forwarded-For/-Proto (from --forwarded-allow-ips)."),
    forwarded_allow_ips: str = typer.Option("127.0.0.1,::1", "--forwarded-allow-ips",
                                            help="Comma-separated proxy addresses trusted with --proxy-headers."),
    data_dir: DataDir = None,
) -> None:
    """Browse sessions, reports, recordings and progress in a web page (local: this machine only)."""
    from voice_trainer.web.settings import CENTRE, LOCAL, ReviewSettings

    settings = ReviewSettings(
        data_dir=_prepared_data_dir(data_dir), mode=CENTRE if centre else LOCAL, host=host, port=port,
        allowed_hosts=tuple(allowed_host or ()), proxy_headers=proxy_headers,
        forwarded_allow_ips=tuple(a.strip() for a in forwarded_allow_ips.split(",") if a.strip()),
    ).checked()
    serve(settings, open_browser=not no_browser)


def _prepared_data_dir(data_dir: Optional[Path]) -> Path:
    from voice_trainer.cli.trainer import _data_dir, _warn_damaged
    from voice_trainer.trainer.library import Library

    path = _data_dir(data_dir)
    with Library(path) as library:
        _warn_damaged(library.sync())
    return path


def serve(settings, open_browser: bool) -> None:
    from voice_trainer.web.app import create_app
    from voice_trainer.web.server import ReviewServer

    server = ReviewServer(settings, lambda bound: create_app(bound))
    mode = "centre mode, sign in with an account" if settings.centre else "this machine only"
    print(f"review page ({mode}): {server.url}", flush=True)
    print("Ctrl-C to stop", file=sys.stderr, flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn stops cleanly on Ctrl-C, then hands the signal back
        pass
    print("review page stopped", file=sys.stderr)
