"""The review report of one session: the call as a timeline, anger over the call, timings and the rubric.

`review_data` works everything out of the session folder (the timeline and result.json); the three
renderers only lay it out. The HTML is one self-contained file: CSS, JS, the anger chart and the
recording (as a data URI) are inline, so it opens offline and can be mailed to a trainee.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_trainer.errors import AudioFileError, ScenarioError, UsageError, VoiceTrainerError
from voice_trainer.events import CustomerLine, SessionStarted, TranscriptCorrected, duration_s
from voice_trainer.session_folder import ResultItem, SessionFolder, SessionResult
from voice_trainer.trainer.printable import printable

if TYPE_CHECKING:
    from voice_trainer.trainer.library.stored import StoredSession

FORMATS = ("html", "md", "json")

LABELS = {
    "ru": {
        "title": "Разбор звонка", "trainee": "Стажёр", "date": "Дата", "scenario": "Сценарий", "lang": "Язык",
        "persona": "Клиент", "policy": "Политика", "outcome": "Итог", "score": "Оценка", "call": "Звонок",
        "customer": "Клиент", "you": "Стажёр", "moves": "Понято", "play": "▶ слушать", "anger": "Злость клиента",
        "latency": "ответ клиента через", "gap": "пауза перед ответом стажёра", "rubric": "Методика по этапам",
        "met": "выполнено", "missed": "упущено", "said": "Сказано", "try": "Как можно сказать",
        "penalties": "Ошибки поведения", "corrected": "исправлено тренером", "rescored": "Пересчитано",
        "before": "было", "no_recording": "Записи нет (текстовый режим).", "interrupted": "прервана",
        "turn": "Реплика", "opening": "Начало звонка", "times": "раз", "nothing": "—",
        "live_heard": "клиент услышал (быстрое распознавание)", "full_means": "по полной записи",
    },
    "en": {
        "title": "Call review", "trainee": "Trainee", "date": "Date", "scenario": "Scenario", "lang": "Language",
        "persona": "Customer", "policy": "Policy", "outcome": "Outcome", "score": "Score", "call": "The call",
        "customer": "Customer", "you": "Trainee", "moves": "Understood", "play": "▶ play", "anger": "Customer's anger",
        "latency": "customer replied after", "gap": "trainee's pause before speaking", "rubric": "The method, phase by phase",
        "met": "met", "missed": "missed", "said": "Said", "try": "Suggested phrasing",
        "penalties": "Conduct mistakes", "corrected": "corrected by a trainer", "rescored": "Re-scored",
        "before": "was", "no_recording": "No recording (text mode).", "interrupted": "interrupted",
        "turn": "Turn", "opening": "Call opening", "times": "times", "nothing": "—",
        "live_heard": "the customer heard (live recognition)", "full_means": "the full transcript means",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get((lang or "en").split("-")[0], LABELS["en"])


# --- the data ----------------------------------------------------------------------------------------


def scenario_phases(folder: SessionFolder, started: SessionStarted) -> list[tuple[str, str]] | None:
    """(id, title) of the scenario's phases in the method's order, or None if the scenario cannot be loaded."""
    try:
        scenario = folder.scenario(started)
    except (ScenarioError, VoiceTrainerError):
        return None
    return [(p.id, p.title) for p in scenario.data.phases]


def review_data(folder: "Path | SessionFolder | StoredSession") -> dict[str, Any]:
    """Everything the report shows, as plain JSON-ready data. A damaged session is shown as far as it
    can be read, with what was skipped."""
    folder = _source(folder)
    timeline = folder.read()
    events = timeline.events
    started = next((e for e in events if isinstance(e, SessionStarted)), None) or SessionStarted(session_id=folder.id)
    result, damage = _result(folder, events, started)
    if timeline.skipped:
        first = timeline.skipped[0]
        damage.insert(0, f"{len(timeline.skipped)} damaged line(s) of the log skipped (line {first.line}: {first.reason})")
    corrections: dict[int, list[dict[str, str]]] = {}
    for e in events:
        if isinstance(e, TranscriptCorrected):
            corrections.setdefault(e.turn, []).append({"text": e.text, "previous": e.previous})
    opening = " ".join(e.text for e in events if isinstance(e, CustomerLine) and e.turn == 0 and e.text)
    turns = []
    for t in folder.turns(events):
        stored = result.turn(t.index) if result is not None else None
        turns.append({
            "turn": t.index,
            "start_ms": t.start_ms,
            "end_ms": t.end_ms,
            "reply_start_ms": t.reply_start_ms,
            "recognized": t.recognized_text,
            "text": t.text,
            "corrections": corrections.get(t.index, []),
            "words": [{"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "conf": w.conf} for w in t.words],
            "moves": list(stored.moves if stored is not None else t.moves),
            "customer": t.reply,
            "anger": t.anger,
            "state": stored.state if stored is not None else "",
            "barge_in": t.barge_in,
            "reply_latency_ms": _whole_ms(t.reply_latency_ms),
            "response_gap_ms": _whole_ms(t.response_gap_ms),
            "passes": _passes(t),
        })
    return {
        "session_id": started.session_id or folder.id,
        "trainee": started.trainee,
        "started_at": started.started_at,
        "scenario": started.scenario,
        "lang": started.lang,
        "persona": started.persona,
        "policy": started.policy,
        "mode": started.mode,
        "outcome": result.outcome if result else "unfinished",
        "success": result.success if result else None,
        "score": result.score if result else None,
        "interrupted": result.interrupted if result else True,
        "duration_s": duration_s(events),
        "opening": opening,
        "start_anger": result.start_anger if result else None,
        "turns": turns,
        "phases": _phases(result.rubric if result else (), scenario_phases(folder, started)),
        "penalties": [asdict(p) for p in result.penalties] if result else [],
        "rescored": result.rescored if result else None,
        "has_recording": folder.has_recording,
        "damaged": "; ".join(damage),
    }


def _source(folder):
    from voice_trainer.trainer.library.stored import StoredSession

    return folder if isinstance(folder, (SessionFolder, StoredSession)) else SessionFolder(folder)


def _result(folder, events: list, started: SessionStarted) -> tuple[SessionResult | None, list[str]]:
    """The stored result; one that cannot be read is rebuilt from the log (the log is the truth)."""
    from voice_trainer.errors import SessionError

    try:
        return folder.result(), []
    except SessionError as err:
        problem = str(err)
    from voice_trainer.trainer.library.folders import rebuild_result

    try:
        return SessionResult.from_json(rebuild_result(folder, events, started)), []
    except Exception as err:  # noqa: BLE001 - the report still shows the call
        return None, [f"{problem}; it could not be rebuilt ({err})"]


def _whole_ms(ms: float | None) -> int | None:
    return None if ms is None else round(ms)


def _phases(items: tuple[ResultItem, ...], order: list[tuple[str, str]] | None) -> list[dict[str, Any]]:
    """Rubric items grouped by phase, in the scenario's phase order (else in order of appearance)."""
    groups: dict[str, dict[str, Any]] = {}
    if order:
        for pid, title in order:
            groups[pid] = {"id": pid, "title": title, "items": []}
    for item in items:
        group = groups.setdefault(item.phase, {"id": item.phase, "title": item.phase_title, "items": []})
        group["items"].append({"id": item.id, "title": item.title, "points": item.points, "met": item.met,
                               "said": item.said, "praise": item.praise, "suggestion": item.suggestion})
    return [g for g in groups.values() if g["items"]]


# --- audio -------------------------------------------------------------------------------------------


def audio_data_uri(path: Path) -> str:
    """The recording as a data URI, compressed to Ogg/Vorbis (or FLAC) to keep the report small."""
    import soundfile as sf

    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise AudioFileError(f"{path}: cannot read the recording ({err}); the file may be damaged") from None
    for fmt, subtype, mime in (("OGG", "VORBIS", "audio/ogg"), ("FLAC", "PCM_16", "audio/flac")):
        buffer = io.BytesIO()
        try:
            sf.write(buffer, data, rate, format=fmt, subtype=subtype)
        except (RuntimeError, sf.LibsndfileError, TypeError):
            continue  # libsndfile built without this codec
        return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return "data:audio/wav;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# --- rendering ---------------------------------------------------------------------------------------


def render_report(folder: "Path | SessionFolder | StoredSession", fmt: str = "html", audio_src: str | None = None) -> str:
    """The report as html, md or json. `audio_src`: a URL for the recording instead of an embedded data URI
    (by default the recording is embedded; from the centre's store only once its checksum matches)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; use html, md or json")
    folder = _source(folder)
    data = review_data(folder)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if fmt == "md":
        return render_markdown(data)
    if data["has_recording"] and audio_src is None:
        audio_src = audio_data_uri(folder.recording_path)
    return render_html(data, audio_src if data["has_recording"] else None)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value / 1000:.1f} s"


def _clock(ms: float) -> str:
    seconds = int(ms // 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def render_markdown(data: dict[str, Any]) -> str:
    data = _printable(data)  # on a terminal, or pasted anywhere: no escapes, no forged lines
    w = labels(data["lang"])
    lines = [f"# {w['title']}: {data['trainee'] or '—'}", ""]
    for key, value in _header_fields(data, w):
        lines.append(f"- **{key}:** {value}")
    if data.get("damaged"):
        lines.append(f"- **damaged:** {data['damaged']}")
    lines += ["", f"## {w['call']}", ""]
    if data["opening"]:
        lines += [f"**{w['customer']}:** {data['opening']}", ""]
    for t in data["turns"]:
        lines.append(f"### {w['turn']} {t['turn']}")
        lines.append("")
        said = t["text"]
        if t["corrections"]:
            said = f"~~{t['recognized']}~~ {t['text']} ({w['corrected']})"
        lines.append(f"**{w['you']}:** {said}")
        lines.append("")
        lines.append(f"- {w['moves']}: {', '.join(t['moves']) or w['nothing']}")
        if t.get("passes"):
            lines.append(f"- {_passes_text(t, w)}")
        timing = _timings_text(t, w)
        if timing:
            lines.append(f"- {timing}")
        lines.append(f"- {w['anger']}: {t['anger']:g}")
        lines.append("")
        if t["customer"]:
            lines += [f"**{w['customer']}:** {t['customer']}", ""]
    lines += [f"## {w['anger']}", "", " → ".join(f"{a:g}" for a in _anger_series(data)), ""]
    lines += [f"## {w['rubric']}", ""]
    for phase in data["phases"]:
        lines += [f"### {phase['title']}", ""]
        for item in phase["items"]:
            mark = "✔" if item["met"] else "✘"
            lines.append(f"- {mark} **{item['title']}** ({w['met'] if item['met'] else w['missed']}, {item['points']:g})")
            if item["said"]:
                lines.append(f"  - {w['said']}: «{item['said']}»")
            if not item["met"]:
                lines.append(f"  - {w['try']}: {item['suggestion']}")
        lines.append("")
    if data["penalties"]:
        lines += [f"## {w['penalties']}", ""]
        for p in data["penalties"]:
            lines.append(f"- {p['title']} ({p['times']} {w['times']}, −{p['points']:g}). {p['suggestion']}")
        lines.append("")
    return "\n".join(lines)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _header_fields(data: dict[str, Any], w: dict[str, str]) -> list[tuple[str, str]]:
    score = "—" if data["score"] is None else f"{data['score']}/100"
    rescored = data.get("rescored") or {}
    original = rescored.get("original") or {}
    if original and original.get("score") != data["score"]:
        score += f" ({w['before']} {original.get('score')})"
    outcome = data["outcome"] + (f" ({w['interrupted']})" if data["interrupted"] else "")
    return [
        (w["trainee"], data["trainee"] or "—"), (w["date"], data["started_at"]),
        (w["scenario"], data["scenario"]), (w["lang"], data["lang"]), (w["persona"], data["persona"]),
        (w["policy"], data["policy"]), (w["outcome"], outcome), (w["score"], score),
    ]


def _timings_text(t: dict[str, Any], w: dict[str, str]) -> str:
    parts = []
    if t["response_gap_ms"] is not None:
        parts.append(f"{w['gap']}: {_ms(t['response_gap_ms'])}")
    if t["reply_latency_ms"] is not None:
        parts.append(f"{w['latency']}: {_ms(t['reply_latency_ms'])}")
    return "; ".join(parts)


def _anger_series(data: dict[str, Any]) -> list[float]:
    start = data.get("start_anger")
    series = [float(start)] if start is not None else []
    return series + [float(t["anger"]) for t in data["turns"]]


def anger_svg(series: list[float], title: str, max_anger: float = 100.0, width: int = 640, height: int = 180) -> str:
    """Anger after each turn (0 = the opening) as an inline SVG line chart."""
    left, right, top, bottom = 36, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([max_anger, *series]) if series else max_anger
    n = max(len(series) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top + plot_h * (1 - v / top_value)

    parts = [f'<svg class="anger" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    for v in (0, top_value / 2, top_value):
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{v:g}</text>')
    if series:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(series)))
        parts.append(f'<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(series):
            x, y = xy(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#c0392b"><title>{i}: {v:g}</title></circle>'
                         f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="11">{i}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
table.header td{padding:.1rem .8rem .1rem 0}table.header td:first-child{color:#666}
.turn{border-left:4px solid #89a;padding:.4rem .8rem;margin:.8rem 0;background:#f7f9fb}
.customer{border-left:4px solid #c0392b;padding:.4rem .8rem;margin:.4rem 0 .4rem 2rem;background:#fbf5f4}
.meta{color:#666;font-size:.85rem}.moves code{background:#e8eef3;padding:0 .3rem;margin-right:.2rem;border-radius:3px}
.w{border-radius:3px;padding:0 1px}del{color:#a33}ins{color:#272;text-decoration:none;font-weight:600}
button.play{font-size:.8rem;margin-right:.5rem;cursor:pointer}
.item{margin:.4rem 0 .8rem 0}.met{color:#1e7d32}.missed{color:#b3261e}.said,.try{margin-left:1.5rem;font-size:.92rem}
audio{width:100%}
"""

_JS = """
(function(){
  var player = document.getElementById('player');
  document.querySelectorAll('button.play').forEach(function(b){
    b.disabled = !player;
    b.addEventListener('click', function(){
      if (!player) return;
      player.currentTime = Number(b.dataset.startMs) / 1000;
      player.play();
    });
  });
  document.body.dataset.ready = '1';
})();
"""


def render_html(data: dict[str, Any], audio_src: str | None) -> str:
    w = labels(data["lang"])
    e = escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(data["lang"] or "en")}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(w['title'])}: {e(data['trainee'])} {e(data['started_at'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(w['title'])}</h1>",
        '<table class="header">',
    ]
    for key, value in _header_fields(data, w):
        out.append(f"<tr><td>{e(key)}</td><td>{e(str(value))}</td></tr>")
    out.append("</table>")
    if data.get("damaged"):
        out.append(f'<p class="damaged"><b>damaged:</b> {e(data["damaged"])}</p>')
    out.append(f"<h2>{e(w['call'])}</h2>")
    if audio_src:
        out.append(f'<audio id="player" controls preload="metadata" src="{e(audio_src)}"></audio>')
    else:
        out.append(f'<p class="meta">{e(w["no_recording"])}</p>')
    if data["opening"]:
        out.append(f'<div class="customer"><b>{e(w["customer"])}:</b> {e(data["opening"])}</div>')
    for t in data["turns"]:
        out.append(_turn_html(t, w, bool(audio_src)))
    out.append(f"<h2>{e(w['anger'])}</h2>")
    out.append(anger_svg(_anger_series(data), w["anger"]))
    out.append(f"<h2>{e(w['rubric'])}</h2>")
    for phase in data["phases"]:
        out.append(f'<section class="phase" data-phase="{e(phase["id"])}"><h3>{e(phase["title"])}</h3>')
        for item in phase["items"]:
            cls = "met" if item["met"] else "missed"
            out.append(f'<div class="item {cls}" data-item="{e(item["id"])}">'
                       f'<b>{"✔" if item["met"] else "✘"} {e(item["title"])}</b> '
                       f'<span class="meta">({e(w[cls])}, {item["points"]:g})</span>')
            out.append(f'<div class="said">{e(w["said"])}: {("«" + e(item["said"]) + "»") if item["said"] else ""}</div>')
            out.append(f'<div class="try">{e(w["try"])}: {e(item["suggestion"] or "")}</div></div>')
        out.append("</section>")
    if data["penalties"]:
        out.append(f"<h2>{e(w['penalties'])}</h2><ul>")
        for p in data["penalties"]:
            out.append(f"<li>{e(p['title'])} ({p['times']} {e(w['times'])}, −{p['points']:g}). {e(p['suggestion'])}</li>")
        out.append("</ul>")
    out.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(out)


def _turn_html(t: dict[str, Any], w: dict[str, str], playable: bool) -> str:
    e = escape
    if t["corrections"]:
        said = f'<del>{_words_html(t) if t["words"] else e(t["recognized"])}</del> <ins>{e(t["text"])}</ins> ' \
               f'<span class="meta">({e(w["corrected"])})</span>'
    else:
        said = _words_html(t) if t["words"] else e(t["text"])
    button = (f'<button class="play" type="button" data-start-ms="{t["start_ms"]:.0f}">{e(w["play"])} '
              f'{_clock(t["start_ms"])}</button>') if playable else ""
    moves = "".join(f"<code>{e(m)}</code>" for m in t["moves"]) or e(w["nothing"])
    timing = _timings_text(t, w)
    parts = [
        f'<div class="turn" id="turn-{t["turn"]}" data-turn="{t["turn"]}">',
        f'<div>{button}<b>{e(w["you"])}:</b> <span class="utterance">{said}</span></div>',
        f'<div class="meta moves">{e(w["moves"])}: {moves} · {e(w["anger"])}: {t["anger"]:g}'
        + (f" · {e(timing)}" if timing else "") + "</div>"
        + (f'<div class="meta passes">{e(_passes_text(t, w))}</div>' if t.get("passes") else "") + "</div>",
    ]
    if t["customer"]:
        parts.append(f'<div class="customer"><b>{e(w["customer"])}:</b> {e(t["customer"])}</div>')
    return "\n".join(parts)


def _words_html(t: dict[str, Any]) -> str:
    """Recognized words shaded by confidence: the less sure the recognizer, the paler and yellower."""
    spans = []
    for word in t["words"]:
        conf = max(0.0, min(1.0, float(word["conf"])))
        spans.append(
            f'<span class="w" title="{conf:.2f}" data-conf="{conf:.2f}" '
            f'style="opacity:{0.45 + 0.55 * conf:.2f};background:rgba(255,196,0,{0.6 * (1 - conf):.2f})">'
            f"{escape(word['text'])}</span>"
        )
    return " ".join(spans)


# --- two recognition passes (voice turns): shown only where they disagree on moves ---------------------


def _passes(t) -> dict[str, Any] | None:
    """The live words the customer answered and the moves of the full transcript, when they differ."""
    if not t.passes_disagree:
        return None
    return {"live": t.live_text or "", "full_moves": list(t.full_moves or ())}


def _passes_text(t: dict[str, Any], w: dict[str, str]) -> str:
    p = t["passes"]
    return (f"{w['live_heard']}: «{p['live']}» → {', '.join(t['moves']) or w['nothing']}; "
            f"{w['full_means']}: {', '.join(p['full_moves']) or w['nothing']}")
