"""create_app(): the review site put together: routes, the guards in their order, error pages."""

from __future__ import annotations

import getpass
import os
import secrets
import time
from typing import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse

from voice_trainer.errors import VoiceTrainerError
from voice_trainer.trainer.library import Library
from voice_trainer.trainer.report import _JS as REPORT_SCRIPT  # the one inline script the CSP lets run
from voice_trainer.web import pages
from voice_trainer.web.catalog import Catalog, Forbidden, NotFound
from voice_trainer.web.guards import (
    CsrfGuard, HostGuard, LocalKeyGuard, LoginGuard, SecurityHeaders, local_hosts, security_headers,
)
from voice_trainer.web.logins import LoginBook, LoginThrottle
from voice_trainer.web.routes import Site
from voice_trainer.web.settings import ReviewSettings



def create_app(settings: ReviewSettings, library: Library, *, key: str | None = None,
               clock: Callable[[], float] = time.monotonic) -> Starlette:
    """The ASGI app over an open library (this machine's or the centre's; it stays open while the app runs).

    Local mode: `app.state.key` is the key for the printed address (`key`, or a new random one).
    Centre mode: sign-in with the library's accounts; views and changes go to its audit log."""
    settings = settings.checked()
    secret = secrets.token_bytes(32)
    catalog = Catalog(library, clock)
    middleware = [Middleware(SecurityHeaders, scripts=(REPORT_SCRIPT,))]
    if settings.centre:
        logins = LoginBook(secret, settings.login_hours, clock)
        throttle = LoginThrottle(settings.failed_logins_per_account, settings.failed_logins_per_address,
                                 settings.failed_login_window_s, clock)
        site = Site(settings, catalog, library.accounts, logins, throttle)
        allowed = frozenset(settings.allowed_hosts) if settings.allowed_hosts else None
        middleware += [
            Middleware(HostGuard, allowed=allowed),
            Middleware(LoginGuard, logins=logins, secret=secret, account_check=_account_check(library.accounts),
                       secure=settings.secure_cookies),
        ]
    else:
        key = key or secrets.token_urlsafe(32)
        site = Site(settings, catalog)
        middleware += [
            Middleware(HostGuard, allowed=local_hosts(settings.host, settings.port)),
            Middleware(LocalKeyGuard, key=key, secret=secret, port=settings.port, owner=_local_user()),
        ]
    middleware.append(Middleware(CsrfGuard, max_bytes=settings.max_form_bytes, timeout_s=settings.request_body_timeout_s))
    app = Starlette(routes=site.routes(), middleware=middleware, exception_handlers=_error_pages(settings))
    app.state.key = key
    app.state.settings = settings
    return app


def _account_check(accounts) -> Callable[[str, str], bool]:
    """Is a signed-in account still there with the same role? Asked on every request: removing an account
    or changing its role takes effect at its next request."""

    def check(name: str, role: str) -> bool:
        account = accounts.get(name)
        return account is not None and account.role == role

    return check


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _error_pages(settings: ReviewSettings) -> dict:
    """Every error as a short page: what went wrong in words, never a path or a traceback."""

    def page(request: Request, status: int, message: str) -> HTMLResponse:
        state = request.scope.get("state", {})
        return HTMLResponse(pages.error_page(status, message, state.get("viewer"), state.get("csrf", ""),
                                             settings.centre), status_code=status)

    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        messages = {404: "No such page.", 405: "This page does not take that kind of request."}
        response = page(request, exc.status_code, messages.get(exc.status_code, "The request was refused."))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return page(request, 403, f"Not yours to see: {exc}.")

    async def not_found(request: Request, exc: NotFound) -> HTMLResponse:
        return page(request, 404, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")

    async def failed(request: Request, exc: VoiceTrainerError) -> HTMLResponse:
        # The message may name files on the server; the page says what failed, the server's log says where.
        return page(request, 500, "This session's files could not be read; run 'voice-trainer sessions list' "
                                  "on the server to see which sessions are damaged.")

    async def crashed(request: Request, exc: Exception) -> HTMLResponse:
        # Answered outside the other middleware (Starlette's ServerErrorMiddleware), so the headers come along here.
        response = page(request, 500, "Something went wrong on the server; the review site's log has the details.")
        response.headers.update(security_headers((REPORT_SCRIPT,)))
        return response

    return {HTTPException: http_error, Forbidden: forbidden, NotFound: not_found, VoiceTrainerError: failed,
            Exception: crashed}
