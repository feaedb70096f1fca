import base64
import io
import json
import re
from html import escape

import soundfile as sf

from tests.fixtures.sessions import GOOD_CALL, MISHEARD_CALL, REAL_APOLOGY, REPLY_LATENCY_MS, RESPONSE_GAP_MS, record_session
from voice_trainer.events import TraineeTurn
from voice_trainer.scenario.loader import load
from voice_trainer.session_folder import RECORDING_FILE, RESULT_FILE, SessionFolder
from voice_trainer.trainer.corrections import fix_turn
from voice_trainer.trainer.report import render_report

EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _result(folder):
    return json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))


def test_html_report_shows_every_turn_with_a_play_button_at_its_start(voiced_session):
    html = render_report(voiced_session, "html")
    turns = _result(voiced_session)["turns"]
    assert turns
    for t in turns:
        block = html.split(f'id="turn-{t["turn"]}"')[1].split('class="turn"')[0]
        assert f'data-start-ms="{t["start_ms"]:.0f}"' in block
        assert all(escape(word) in block for word in t["trainee"].split())
        assert escape(t["customer"]) in block
        assert all(f"<code>{m}</code>" in block for m in t["moves"])


def test_html_report_embeds_the_recording_as_a_compressed_data_uri(voiced_session):
    html = render_report(voiced_session, "html")
    match = re.search(r'<audio id="player"[^>]* src="data:(audio/[a-z]+);base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "no embedded audio player"
    audio = base64.b64decode(match.group(2))
    data, rate = sf.read(io.BytesIO(audio))
    original = sf.info(voiced_session / RECORDING_FILE)
    assert match.group(1) in ("audio/ogg", "audio/flac")
    assert (rate, data.shape[1]) == (original.samplerate, 2)
    assert abs(len(data) / rate - original.duration) < 0.1
    assert len(audio) < (voiced_session / RECORDING_FILE).stat().st_size / 3


def test_html_report_is_self_contained(voiced_session):
    html = render_report(voiced_session, "html")
    assert not EXTERNAL.search(html)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "<script src" not in html and "@import" not in html


def test_html_report_shows_timings_anger_chart_and_word_confidence(voiced_session):
    html = render_report(voiced_session, "html")
    result = _result(voiced_session)
    assert html.count(f"{RESPONSE_GAP_MS / 1000:.1f} s") == len(result["turns"])
    assert html.count(f"{REPLY_LATENCY_MS / 1000:.1f} s") == len(result["turns"])
    svg = re.search(r"<svg class=\"anger\".*?</svg>", html, re.S).group(0)
    assert svg.count("<circle") == 1 + len(result["turns"])  # the opening and every turn
    assert f"<title>0: {result['start_anger']:g}</title>" in svg
    words = [w for e in SessionFolder(voiced_session).events() if isinstance(e, TraineeTurn) for w in e.words]
    spans = re.findall(r'data-conf="([0-9.]+)" style="opacity:([0-9.]+)', html)
    assert len(spans) == len(words)
    by_conf = sorted((float(c), float(o)) for c, o in spans)
    assert by_conf[0][0] < by_conf[-1][0] and by_conf[0][1] < by_conf[-1][1]


def test_rubric_is_shown_phase_by_phase_in_the_scenarios_order(good_session):
    html = render_report(good_session, "html")
    shown = re.findall(r'<section class="phase" data-phase="([^"]+)">', html)
    order = [p.id for p in load("razryv", "ru").data.phases]
    result = _result(good_session)
    assert shown == [p for p in order if any(i["phase"] == p for i in result["rubric"])]
    for item in result["rubric"]:
        block = html.split(f'data-item="{item["id"]}"')[1].split('class="item')[0]
        assert ("✔" in block) == item["met"]
        assert escape(item["suggestion"]) in block
        if item["said"]:
            assert f"«{escape(item['said'])}»" in block


def test_text_session_report_has_no_player_and_says_so(good_session):
    html = render_report(good_session, "html")
    assert "<audio" not in html
    assert "Записи нет" in html


def test_corrections_show_the_recognized_text_struck_through(data_dir):
    folder = record_session(data_dir, MISHEARD_CALL, seed=1)
    misheard = MISHEARD_CALL[0]
    fix_turn(folder, 1, REAL_APOLOGY)
    html = render_report(folder, "html")
    assert f"<del>{escape(misheard)}</del> <ins>{escape(REAL_APOLOGY)}</ins>" in html
    md = render_report(folder, "md")
    assert f"~~{misheard}~~ {REAL_APOLOGY}" in md
    data = json.loads(render_report(folder, "json"))
    assert data["turns"][0]["corrections"] == [{"text": REAL_APOLOGY, "previous": misheard}]
    assert "apologize" in data["turns"][0]["moves"]


def test_markdown_and_json_carry_the_same_content_without_audio(voiced_session):
    result = _result(voiced_session)
    md = render_report(voiced_session, "md")
    data = json.loads(render_report(voiced_session, "json"))
    assert "data:audio" not in md and "data:audio" not in json.dumps(data)
    assert [t["turn"] for t in data["turns"]] == [t["turn"] for t in result["turns"]]
    for t in result["turns"]:
        assert t["trainee"] in md and t["customer"] in md
    assert data["score"] == result["score"] and f"{result['score']}/100" in md
    items = [i["id"] for p in data["phases"] for i in p["items"]]
    assert sorted(items) == sorted(i["id"] for i in result["rubric"])
    for item in result["rubric"]:
        assert item["title"] in md
    assert data["turns"][0]["reply_latency_ms"] == round(REPLY_LATENCY_MS)


def test_text_is_escaped_everywhere(data_dir):
    folder = record_session(data_dir, ['<script>alert("x")</script> здравствуйте', *GOOD_CALL[1:3]],
                            trainee="<b>eve</b>")
    html = render_report(folder, "html")
    assert "<script>alert" not in html and "<b>eve</b>" not in html
    assert escape('<script>alert("x")</script>') in html and escape("<b>eve</b>") in html


def test_report_of_an_unfinished_session_shows_the_turns_so_far(data_dir):
    from voice_trainer.session import Session

    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=1, trainee="anna", observers=[])
    session.start()
    session.trainee_says(GOOD_CALL[0])
    session.folder.close()
    data = json.loads(render_report(session.folder.path, "json"))
    assert data["outcome"] == "unfinished" and data["score"] is None and data["phases"] == []
    assert [t["text"] for t in data["turns"]] == [GOOD_CALL[0]]
    assert escape(GOOD_CALL[0].split()[0]) in render_report(session.folder.path, "html")
