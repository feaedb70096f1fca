"""A trainee's progress over attempts: scores over time, the rubric items most often missed, endings reached."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path

from voice_trainer.errors import SessionError, UsageError
from voice_trainer.trainer.library import UNFINISHED, Library, SessionSummary
from voice_trainer.trainer.library.interface import utc_of


@dataclass(frozen=True)
class ScorePoint:
    session_id: str
    started_at: str
    score: int
    outcome: str


@dataclass(frozen=True)
class MissedItem:
    id: str
    title: str
    count: int  # attempts in which it was missed
    share: float  # of the attempts in which it applied


@dataclass(frozen=True)
class Progress:
    trainee: str
    sessions: tuple[SessionSummary, ...]
    scores: tuple[ScorePoint, ...]
    most_missed: tuple[MissedItem, ...]
    endings: dict[str, int]

    def to_json(self) -> dict:
        return {
            "trainee": self.trainee,
            "sessions": len(self.sessions),
            "scores": [vars(p) for p in self.scores],
            "most_missed": [vars(m) for m in self.most_missed],
            "endings": dict(self.endings),
        }


def progress(library: Library, trainee: str) -> Progress:
    """Progress of one trainee over the scored sessions in the library, oldest first."""
    # A name matches in any case and with spaces around it trimmed, as on the review site ("anna" is "Anna").
    wanted = trainee.strip().casefold()
    names = [n for n in library.trainees() if n.strip().casefold() == wanted] or [trainee]
    found = sorted((s for n in names for s in library.list(trainee=n)),
                   key=lambda s: (utc_of(s.started_at), s.session_id))
    sessions = tuple(s for s in found if s.outcome != UNFINISHED and s.score is not None)
    if not sessions:
        known = ", ".join(library.trainees()) or "none yet"
        raise SessionError(f"no scored sessions for trainee {trainee!r}; trainees in the library: {known}")
    applied: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for s in sessions:
        for item in s.items:
            applied[item.id] += 1
            titles[item.id] = item.title
            if not item.met:
                missed[item.id] += 1
    most_missed = sorted(
        (MissedItem(i, titles[i], n, round(n / applied[i], 2)) for i, n in missed.items()),
        key=lambda m: (-m.count, -m.share, m.id),
    )
    return Progress(
        trainee=trainee,
        sessions=sessions,
        scores=tuple(ScorePoint(s.session_id, s.started_at, int(s.score), s.outcome) for s in sessions),
        most_missed=tuple(most_missed),
        endings=dict(Counter(s.outcome for s in sessions).most_common()),
    )


def scores_svg(p: Progress, width: int = 720, height: int = 300, standalone: bool = True) -> str:
    """Score of each attempt (0-100) as a line chart; x is the attempt number, dates in the tooltips."""
    left, right, top, bottom = 48, 28, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(p.scores) - 1, 1)

    def xy(i: int, score: float) -> tuple[float, float]:
        x = left + (plot_w * i / n if len(p.scores) > 1 else plot_w / 2)
        return x, top + plot_h * (1 - score / 100)

    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = [f'<svg{ns} class="scores" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="{left}" y="20" font-family="sans-serif" font-size="14">{escape(p.trainee)}: '
             f'{len(p.scores)} attempts</text>']
    for v in (0, 25, 50, 75, 100):
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-family="sans-serif" '
                     f'font-size="11">{v}</text>')
    points = [xy(i, s.score) for i, s in enumerate(p.scores)]
    if len(points) > 1:
        parts.append('<polyline fill="none" stroke="#1f6feb" stroke-width="2.5" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
    for i, ((x, y), s) in enumerate(zip(points, p.scores)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="#1f6feb"><title>{escape(s.started_at)} '
                     f'{escape(s.outcome)}: {s.score}</title></circle>'
                     f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" font-family="sans-serif" '
                     f'font-size="11">{s.score}</text>'
                     f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle" font-family="sans-serif" '
                     f'font-size="11">{i + 1}</text>'
                     f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-family="sans-serif" '
                     f'font-size="9" fill="#666">{escape(s.started_at[5:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def progress_html(p: Progress, links: bool = False) -> str:
    """A self-contained page: the chart, the items most often missed, the endings reached."""
    e = escape
    rows = "".join(
        f"<tr><td>{e(m.title)} <code>{e(m.id)}</code></td><td>{m.count}</td><td>{m.share:.0%}</td></tr>"
        for m in p.most_missed
    ) or '<tr><td colspan="3">—</td></tr>'
    endings = "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in p.endings.items())
    attempts = "".join(
        f"<tr><td>{i + 1}</td><td>"
        + (f'<a href="/session/{e(s.session_id)}">{e(s.session_id)}</a>' if links else e(s.session_id))
        + f"</td><td>{e(s.started_at)}</td><td>{e(s.outcome)}</td><td>{s.score}</td></tr>"
        for i, s in enumerate(p.scores)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>Progress: {e(p.trainee)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #eee;text-align:left}"
        "</style></head><body>"
        f"<h1>Progress: {e(p.trainee)}</h1>"
        + scores_svg(p, standalone=False)
        + f"<h2>Attempts</h2><table><tr><th>#</th><th>session</th><th>date</th><th>outcome</th><th>score</th></tr>{attempts}</table>"
        + f"<h2>Most often missed</h2><table><tr><th>item</th><th>missed</th><th>share</th></tr>{rows}</table>"
        + f"<h2>Endings reached</h2><table><tr><th>ending</th><th>times</th></tr>{endings}</table>"
        + "</body></html>"
    )


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise UsageError("PNG charts need Chromium (apt install chromium); use --html or the .svg instead")


def svg_to_png(svg: str, png: Path, width: int = 720, height: int = 300) -> Path:
    """Render the SVG with headless Chromium: no drawing library needed for one picture."""
    browser = chromium_binary()
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "chart.html"
        page.write_text(f'<!DOCTYPE html><html><body style="margin:0">{svg}</body></html>', encoding="utf-8")
        cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={tmp}/profile", f"--window-size={width},{height}", f"--screenshot={png}",
               page.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise UsageError(f"Chromium did not finish drawing {png} within 120 s; use the .svg instead") from None
    if done.returncode != 0 or not png.is_file():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"Chromium could not draw {png} ({tail}); use the .svg instead")
    png.chmod(0o600)
    return png
