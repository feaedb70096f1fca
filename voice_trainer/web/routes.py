"""The pages. By the time a handler runs, the guards have checked the Host, who is signed in and the CSRF
token; a handler asks the catalog, which applies the role rules, and lays out the answer."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from voice_trainer.web import pages
from voice_trainer.web.catalog import Catalog, Filters
from voice_trainer.web.guards import LOGIN_COOKIE, PRE_LOGIN_COOKIE
from voice_trainer.web.settings import ReviewSettings

MAX_CORRECTION_CHARS = 2000


class Site:
    """The handlers, sharing the catalog, the settings and (in centre mode) the accounts and logins."""

    def __init__(self, settings: ReviewSettings, catalog: Catalog, accounts=None, logins=None, throttle=None):
        self.settings = settings
        self.catalog = catalog
        self.accounts = accounts
        self.logins = logins
        self.throttle = throttle

    def routes(self) -> list[Route]:
        routes = [
            Route("/", self.list_sessions, methods=["GET"]),
            Route("/session/{session_id}", self.session_page, methods=["GET"]),
            Route("/session/{session_id}/audio.wav", self.recording, methods=["GET"]),
            Route("/session/{session_id}/fix", self.correct_turn, methods=["POST"]),
            Route("/progress/{trainee}", self.progress_page, methods=["GET"]),
        ]
        if self.settings.centre:
            routes += [
                Route("/login", self.login_form, methods=["GET"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/audit", self.audit_page, methods=["GET"]),
            ]
        return routes

    def _nav(self, request: Request) -> str:
        return pages.nav(request.state.viewer, request.state.csrf, self.settings.centre)

    # --- reading ------------------------------------------------------------------------------------

    def list_sessions(self, request: Request) -> Response:
        query = request.query_params
        since_text = query.get("since", "").strip()
        note, since = "", None
        if since_text:
            try:
                since = date.fromisoformat(since_text)
            except ValueError:
                note = f"since: {since_text} is not a date like 2024-05-31; ignored"
        filters = Filters(trainee=query.get("trainee", "").strip() or None,
                          outcome=query.get("outcome", "").strip() or None, since=since)
        page = int(query["page"]) if query.get("page", "").isdigit() and len(query["page"]) < 9 else 1
        listing = self.catalog.list_page(request.state.viewer, filters, page, self.settings.page_size)
        return HTMLResponse(pages.list_page(listing, filters, since_text, note, request.state.viewer,
                                            request.state.csrf, self.settings.centre))

    def session_page(self, request: Request) -> Response:
        viewer, session_id = request.state.viewer, request.path_params["session_id"]
        report = self.catalog.report(viewer, session_id, f"/session/{quote(session_id)}/audio.wav")
        bottom = ""
        if viewer.is_trainer:
            corrected = request.query_params.get("corrected", "")
            note = f"Turn {corrected} corrected; the call was scored again." if corrected.isdigit() else ""
            bottom = pages.correction_form(session_id, self.catalog.turns(viewer, session_id), request.state.csrf, note)
        return HTMLResponse(pages.with_site_parts(report, self._nav(request), bottom))

    def recording(self, request: Request) -> Response:
        path = self.catalog.recording(request.state.viewer, request.path_params["session_id"],
                                      playing=request.method == "GET")
        return FileResponse(path, media_type="audio/wav", stat_result=path.stat())

    def progress_page(self, request: Request) -> Response:
        from voice_trainer.trainer.progress import progress_html

        progress = self.catalog.progress(request.state.viewer, request.path_params["trainee"])
        return HTMLResponse(pages.with_site_parts(progress_html(progress, links=True), self._nav(request), ""))

    # --- changing -----------------------------------------------------------------------------------

    def correct_turn(self, request: Request) -> Response:
        session_id, form = request.path_params["session_id"], request.state.form
        turn_text = form.get("turn", "").strip()
        text = " ".join(form.get("text", "").split())
        if not turn_text.isdigit() or len(turn_text) > 6:
            return self._bad(request, "Choose the turn to correct by its number.")
        if not text or len(text) > MAX_CORRECTION_CHARS:
            return self._bad(request, f"Write what the trainee said (1 to {MAX_CORRECTION_CHARS} characters).")
        self.catalog.correct(request.state.viewer, session_id, int(turn_text), text)
        return RedirectResponse(f"/session/{quote(session_id)}?corrected={int(turn_text)}#correct", status_code=303)

    def _bad(self, request: Request, message: str) -> Response:
        return HTMLResponse(pages.error_page(400, message, request.state.viewer, request.state.csrf,
                                             self.settings.centre), status_code=400)

    # --- centre mode: signing in and out, the audit log ---------------------------------------------

    def login_form(self, request: Request) -> Response:
        if request.state.viewer is not None:
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(pages.login_page(request.state.csrf, _local_path(request.query_params.get("next", "/"))))

    def login(self, request: Request) -> Response:
        form = request.state.form
        name, password = form.get("name", "").strip()[:200], form.get("password", "")[:1000]
        next_path = _local_path(form.get("next", "/"))
        address = request.client.host if request.client else "-"
        wait_s = self.throttle.wait_s(name, address)
        if wait_s > 0:
            self.catalog.record(name or "-", "sign in throttled", name, f"from {address}")
            minutes = max(1, round(wait_s / 60))
            page = pages.login_page(request.state.csrf, next_path,
                                    f"Too many failed sign-ins; try again in about {minutes} min.", name)
            return HTMLResponse(page, status_code=429, headers={"retry-after": str(int(wait_s) + 1)})
        account = self.accounts.verify(name, password) if name and password else None
        if account is None:
            self.throttle.failed(name, address)
            self.catalog.record(name or "-", "sign in failed", name, f"from {address}")
            page = pages.login_page(request.state.csrf, next_path, "Wrong name or password.", name)
            return HTMLResponse(page, status_code=401)
        self.throttle.succeeded(name)
        cookie, _ = self.logins.start(account.name, account.role)
        self.catalog.record(account.name, "sign in", account.name, f"from {address}")
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="strict", path="/",
                            secure=request.state.secure_cookies, max_age=int(self.settings.login_hours * 3600))
        response.delete_cookie(PRE_LOGIN_COOKIE, path="/login")
        return response

    def logout(self, request: Request) -> Response:
        login = getattr(request.state, "login", None)
        if login is not None:
            self.logins.end(login.id)
            self.catalog.record(login.name, "sign out", login.name)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def audit_page(self, request: Request) -> Response:
        viewer = request.state.viewer
        entries = self.catalog.audit_entries(viewer, limit=500)
        return HTMLResponse(pages.audit_page(entries, viewer, request.state.csrf))


def _local_path(path: str) -> str:
    """Where to go after signing in: a path on this site only (never //other.example or a full URL)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or any(ord(c) < 32 for c in path):
        return "/"
    return path

