"""Middleware every request passes, outermost first: security headers, the Host check, sign-in, CSRF.

They are plain ASGI middleware applied to the whole app, so no route can forget a check. Each guard
answers a refused request itself with a short page that names the rule, never a path or a traceback.
Whatever a guard learns (who is signed in, the CSRF token, a submitted form) it leaves in
`scope["state"]`, which handlers read as `request.state`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voice_trainer.web import pages
from voice_trainer.web.catalog import TRAINER, Viewer
from voice_trainer.web.logins import LoginBook, derive

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_COOKIE = "vt_login"
PRE_LOGIN_COOKIE = "vt_pre"  # binds the login form's CSRF token to this browser before anyone signs in
AccountCheck = Callable[[str, str], bool]  # (name, role): is the account still there with that role?


def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return HTMLResponse(pages.error_page(status, message), status_code=status, headers=headers)


def _state(scope: Scope) -> dict:
    return scope.setdefault("state", {})


def script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def security_headers(scripts: tuple[str, ...] = ()) -> dict[str, str]:
    allowed = " ".join(script_hash(s) for s in scripts) or "'none'"
    return {
        "content-security-policy": (
            f"default-src 'none'; script-src {allowed}; style-src 'unsafe-inline'; img-src 'self' data:; "
            "media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        # Not no-referrer: with it the browser sends "Origin: null" even on the site's own forms.
        "referrer-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
        "cache-control": "no-store",
    }


class SecurityHeaders:
    """No framing (the correction form cannot be clickjacked), no Referer to other sites (no address of this
    site leaks out), no caching of personal data, no cross-origin embedding of recordings, and only the report's
    own script may run."""

    def __init__(self, app: ASGIApp, scripts: tuple[str, ...] = ()):
        self.app = app
        self.headers = security_headers(scripts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostGuard:
    """Refuse a request whose Host is not a name this site is reached by (DNS rebinding: a page on
    evil.example whose name now resolves to 127.0.0.1 still says `Host: evil.example`)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None):
        self.app = app
        self.allowed = None if allowed is None else frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.allowed is not None:
            host = Headers(scope=scope).get("host", "").strip().lower()
            if host not in self.allowed and host.rpartition(":")[0] not in self.allowed:
                response = refuse(403, "This address is not the review site's own (the Host header is refused). "
                                       "Open the address printed by 'voice-trainer review'.")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def local_hosts(host: str, port: int) -> frozenset[str]:
    """What a browser sends as Host for a server bound to this loopback address and port."""
    names = {"localhost"}
    if host == "localhost":
        names |= {"127.0.0.1", "[::1]"}
    else:
        names.add(f"[{host}]" if ":" in host else host)
    with_port = {f"{n}:{port}" for n in names}
    return frozenset(with_port | (names if port == 80 else set()))


class LocalKeyGuard:
    """Local mode: the key printed with the address (as Jupyter does) signs the browser in.

    `?token=KEY` once sets an HttpOnly, SameSite=Strict cookie and redirects to the same address without
    the key; afterwards the cookie is enough. No key, no cookie: 401 for every page and recording. The
    cookie's value is not the key and dies with this run of the server."""

    def __init__(self, app: ASGIApp, key: str, secret: bytes, port: int, owner: str):
        self.app = app
        self.key = key
        self.cookie_name = f"vt_review_{port}"  # cookies ignore ports: two review pages must not collide
        self.cookie_value = derive(secret, "local-cookie", key)
        self.csrf = derive(secret, "csrf", self.cookie_value)
        self.viewer = Viewer(owner, TRAINER, local=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode("utf-8"), self.key.encode("utf-8")):
                return await refuse(403, "This key is not the review page's; open the address printed by "
                                         "'voice-trainer review' (a new key is made every time it starts).")(
                    scope, receive, send)
            rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                         keep_blank_values=True) if k != "token"])
            response = HTMLResponse(pages.onward_page(request.url.path + (f"?{rest}" if rest else "")))
            response.set_cookie(self.cookie_name, self.cookie_value, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, send)
        cookie = request.cookies.get(self.cookie_name)
        if cookie is None:
            return await refuse(401, "Open the full address printed by 'voice-trainer review': it carries the key "
                                     "that lets this browser in.")(scope, receive, send)
        if not hmac.compare_digest(cookie.encode("utf-8"), self.cookie_value.encode("utf-8")):
            return await refuse(403, "This browser's key is from an earlier run of the review page; open the "
                                     "address it printed this time.")(scope, receive, send)
        state = _state(scope)
        state["viewer"], state["csrf"] = self.viewer, self.csrf
        await self.app(scope, receive, send)


class LoginGuard:
    """Centre mode: a signed login cookie names the person; pages without one send the browser to /login,
    recordings and form posts without one answer 401. The login form itself is open to all."""

    public = frozenset({"/login"})

    def __init__(self, app: ASGIApp, logins: LoginBook, secret: bytes, account_check: AccountCheck,
                 secure: bool | None):
        self.app = app
        self.logins = logins
        self.secret = secret
        self.account_check = account_check
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        state = _state(scope)
        state["secure_cookies"] = self.secure if self.secure is not None else request.url.scheme == "https"
        cookie = request.cookies.get(LOGIN_COOKIE)
        login = self.logins.find(cookie) if cookie else None
        if login is not None and not await anyio.to_thread.run_sync(self.account_check, login.name, login.role):
            self.logins.end_all(login.name)  # removed, or the role changed: sign in again
            login = None
        if login is not None:
            state["viewer"], state["csrf"], state["login"] = Viewer(login.name, login.role), login.csrf, login
            return await self.app(scope, receive, send)
        if request.url.path in self.public:
            pre = request.cookies.get(PRE_LOGIN_COOKIE) or ""
            fresh = len(pre) < 32
            if fresh:
                pre = secrets.token_urlsafe(32)
            state["viewer"], state["csrf"], state["pre_login"] = None, derive(self.secret, "csrf-pre", pre), pre
            if not fresh:
                return await self.app(scope, receive, send)

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    probe = Response()
                    probe.set_cookie(PRE_LOGIN_COOKIE, pre, httponly=True, samesite="strict", path="/login",
                                     secure=state["secure_cookies"])
                    MutableHeaders(scope=message).append("set-cookie", probe.headers["set-cookie"])
                await send(message)

            return await self.app(scope, receive, send_with_cookie)
        if request.method in ("GET", "HEAD") and not request.url.path.endswith(".wav"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        else:
            response = refuse(401, "Sign in first (/login).")
        await response(scope, receive, send)


class CsrfGuard:
    """Every request that changes something (any method but GET/HEAD/OPTIONS) must come from this site's
    own form: a urlencoded body within the size limit, read within the time limit, whose `csrf` field is
    the token bound to this browser's login. A cross-site Origin is refused outright. The form, once read,
    is left in `request.state.form`."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and origin.partition("://")[2].lower() != headers.get("host", "").lower():
            return await refuse(403, "A form from another site cannot change anything here.")(scope, receive, send)
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return await refuse(415, "Send this site's own form.")(scope, receive, send)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await refuse(413, "The form is too large.")(scope, receive, send)
        try:
            with anyio.fail_after(self.timeout_s):
                body = await _read_body(receive, self.max_bytes)
        except TimeoutError:
            return await refuse(408, "The form took too long to arrive.", {"connection": "close"})(scope, receive, send)
        except _TooLarge:
            return await refuse(413, "The form is too large.", {"connection": "close"})(scope, receive, send)
        except _Disconnected:
            return
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=50))
        expected = _state(scope).get("csrf") or ""
        given = form.get("csrf", "")
        if not expected or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return await refuse(403, "This form has expired or did not come from this site (CSRF token missing or "
                                     "wrong); reload the page and try again.")(scope, receive, send)
        _state(scope)["form"] = form
        await self.app(scope, _replay(body, receive), send)


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """The body already read, then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
