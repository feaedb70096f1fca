"""The review site's HTML, as small functions. Every value is escaped here; no page shows a file path."""

from __future__ import annotations

from html import escape as e
from http import HTTPStatus
from urllib.parse import quote, urlencode

from voice_trainer.web.catalog import Filters, ListPage, Viewer

CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.4}"
    "main{margin:1.5rem;max-width:80rem}nav.site{background:#f0f3f6;padding:.5rem 1.5rem;display:flex;gap:1.2rem;"
    "align-items:center;border-bottom:1px solid #dde}nav.site .who{margin-left:auto;color:#555}"
    "nav.site form{display:inline;margin:0}table{border-collapse:collapse}"
    "td,th{padding:.25rem .7rem;border-bottom:1px solid #eee;text-align:left}form.filters{margin:1rem 0}"
    "label{margin-right:1rem}.note{color:#8a5300}.pager a,.pager span{margin-right:.8rem}"
    "section.correct{max-width:60rem;margin:2rem auto;padding:1rem;border:1px solid #ccd;background:#f8f9fb}"
    "section.correct input[type=text]{width:100%;box-sizing:border-box}.ok{color:#1e7d32}"
    "form.login{display:grid;gap:.6rem;max-width:20rem}"
)


def document(title: str, body: str, lang: str = "en") -> str:
    return (f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")


def nav(viewer: Viewer | None, csrf: str, centre: bool) -> str:
    """The bar on top of every page: where to go, who is signed in, how to sign out."""
    if viewer is None:
        return '<nav class="site"><b>voice-trainer review</b></nav>'
    links = ['<a href="/">Sessions</a>']
    if not viewer.is_trainer:
        links.append(f'<a href="/progress/{e(quote(viewer.name, safe=""))}">My progress</a>')
    if centre and viewer.is_trainer:
        links.append('<a href="/audit">Audit log</a>')
    who = f'<span class="who">{e(viewer.name)} ({e(viewer.role)})</span>'
    out = ""
    if centre:
        out = (f'<form method="post" action="/logout"><input type="hidden" name="csrf" value="{e(csrf)}">'
               '<button type="submit">Sign out</button></form>')
    return f'<nav class="site"><b>voice-trainer review</b>{"".join(links)}{who}{out}</nav>'


def onward_page(target: str) -> str:
    """The answer to the address with the key: the cookie is set, now go on to the same page without the key.

    A page of our own rather than a redirect: the browser may have been sent here by another site or a
    file (the browser opener), and a SameSite=Strict cookie is only sent once this site itself navigates."""
    return document("voice-trainer review", f'<meta http-equiv="refresh" content="0;url={e(target)}">'
                                            f'<p><a href="{e(target)}">Continue to the review page</a></p>')


def error_page(status: int, message: str, viewer: Viewer | None = None, csrf: str = "", centre: bool = False) -> str:
    phrase = HTTPStatus(status).phrase
    return document(f"{status} {phrase}", f"{nav(viewer, csrf, centre)}<main><h1>{status} {e(phrase)}</h1>"
                                          f"<p>{e(message)}</p><p><a href=\"/\">sessions</a></p></main>")


def list_page(listing: ListPage, filters: Filters, since_text: str, note: str, viewer: Viewer, csrf: str,
              centre: bool) -> str:
    """Sessions newest first, a page at a time, filtered by trainee, outcome and day (a plain GET form)."""

    def options(values: list[str], chosen: str | None) -> str:
        return '<option value="">all</option>' + "".join(
            f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(v or "(no name)")}</option>' for v in values
        )

    rows = "".join(
        f'<tr><td><a href="/session/{e(quote(s.session_id))}">{e(s.session_id)}</a></td>'
        f'<td><a href="/progress/{e(quote(s.trainee, safe=""))}">{e(s.trainee)}</a></td><td>{e(s.started_at)}</td>'
        f"<td>{e(s.scenario)}</td><td>{e(s.persona)}</td><td>{e(s.policy)}</td><td>{e(s.outcome)}</td>"
        f"<td>{'' if s.score is None else s.score}</td><td>{s.duration_s:g} s</td>"
        f"<td>{'♪' if s.has_recording else ''}</td><td>{e(', '.join(s.marks))}</td></tr>"
        for s in listing.sessions
    ) or '<tr><td colspan="11">no sessions</td></tr>'
    trainee_field = (f'<label>trainee <select name="trainee">{options(listing.trainees, filters.trainee)}</select></label>'
                     if viewer.is_trainer or len(listing.trainees) > 1 else "")
    suggestions = "".join(f'<option value="{e(o)}">' for o in listing.outcomes)
    form = (f'<form class="filters" method="get" action="/">{trainee_field}'
            f'<label>outcome <input name="outcome" list="outcomes" size="14" value="{e(filters.outcome or "")}">'
            f'<datalist id="outcomes">{suggestions}</datalist></label>'
            f'<label>since <input type="date" name="since" value="{e(since_text)}"></label>'
            '<button type="submit">show</button></form>')
    query = {k: v for k, v in (("trainee", filters.trainee), ("outcome", filters.outcome), ("since", since_text)) if v}

    def page_link(n: int, text: str) -> str:
        return f'<a href="/?{e(urlencode({**query, "page": n}))}">{e(text)}</a>'

    pager = []
    if listing.page > 1:
        pager.append(page_link(listing.page - 1, "← newer"))
    pager.append(f"<span>page {listing.page} of {listing.pages}</span>")
    if listing.page < listing.pages:
        pager.append(page_link(listing.page + 1, "older →"))
    heading = "Practice sessions" if viewer.is_trainer else f"Practice sessions of {viewer.name}"
    body = (f"{nav(viewer, csrf, centre)}<main><h1>{e(heading)}</h1>{form}{note and f'<p class=note>{e(note)}</p>'}"
            f'<p class="count">{listing.total} sessions</p>'
            "<table><tr><th>session</th><th>trainee</th><th>started</th><th>scenario</th><th>persona</th><th>policy</th>"
            f"<th>outcome</th><th>score</th><th>length</th><th>audio</th><th>marks</th></tr>{rows}</table>"
            f'<p class="pager">{"".join(pager)}</p></main>')
    return document("voice-trainer: sessions", body)


def correction_form(session_id: str, turns: list[tuple[int, str]], csrf: str, note: str = "") -> str:
    """For trainers: what the trainee really said in one turn; saving re-scores the call."""
    if not turns:
        return ""
    options = "".join(f'<option value="{n}">{n}: {e(text[:80])}</option>' for n, text in turns)
    done = f'<p class="ok">{e(note)}</p>' if note else ""
    return (f'<section class="correct" id="correct"><h2>Correct a misheard turn</h2>{done}'
            "<p>When the recognizer misheard the trainee, write what was really said: the correction is added to "
            "the session's log (nothing is overwritten) and the call is scored again.</p>"
            f'<form method="post" action="/session/{e(quote(session_id))}/fix">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}">'
            f'<p><label>turn <select name="turn">{options}</select></label></p>'
            '<p><label>what was said<br><input type="text" name="text" required maxlength="2000"></label></p>'
            '<button type="submit">Save and re-score</button></form></section>')


def with_site_parts(report: str, top: str, bottom: str) -> str:
    """The stand-alone report page with the site's bar on top and site-only parts (the correction form) below."""
    report = report.replace("<body>", "<body>" + top, 1)
    head, sep, tail = report.rpartition("</body>")
    return f"{head}{bottom}{sep}{tail}" if sep else report + bottom


def login_page(csrf: str, next_path: str, message: str = "", name: str = "") -> str:
    error = f'<p class="note" role="alert">{e(message)}</p>' if message else ""
    body = (f'{nav(None, "", True)}<main><h1>Sign in</h1>{error}'
            '<form class="login" method="post" action="/login">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="next" value="{e(next_path)}">'
            f'<label>name<br><input name="name" autocomplete="username" required value="{e(name)}"></label>'
            '<label>password<br><input name="password" type="password" autocomplete="current-password" required></label>'
            '<button type="submit">Sign in</button></form>'
            "<p>Trainees: your account name is the name you practise under (<code>--trainee</code>), "
            "in any mix of capitals; you see your own calls and progress. Trainers see everyone's calls. "
            "Accounts are made by whoever runs the centre (<code>voice-trainer users add</code>).</p></main>")
    return document("voice-trainer: sign in", body)


def audit_page(entries: list, viewer: Viewer, csrf: str) -> str:
    rows = "".join(
        f"<tr><td>{e(str(getattr(x, 'at', '')))}</td><td>{e(str(getattr(x, 'actor', '')))}</td>"
        f"<td>{e(str(getattr(x, 'action', '')))}</td><td>{e(str(getattr(x, 'target', '')))}</td>"
        f"<td>{e(str(getattr(x, 'detail', '')))}</td></tr>"
        for x in entries
    ) or '<tr><td colspan="5">nothing yet</td></tr>'
    body = (f"{nav(viewer, csrf, True)}<main><h1>Audit log</h1><p>Newest first: who looked at which session or "
            "recording, who changed what, who signed in.</p><table><tr><th>when</th><th>who</th><th>what</th>"
            f"<th>session / account</th><th>detail</th></tr>{rows}</table></main>")
    return document("voice-trainer: audit log", body)
