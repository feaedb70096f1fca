from pathlib import Path

import pytest

from tests.fixtures.sessions import SHORT_CALL, record_session
from voice_trainer.errors import SessionError
from voice_trainer.practice.text import script_lines
from voice_trainer.trainer.library import LocalLibrary
from voice_trainer.trainer.progress import progress, progress_html, scores_svg, svg_to_png

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "ru"
ATTEMPTS = [  # anna gets better day by day
    ("bad_manual_hung_up.txt", "2024-03-01T10:00:00+00:00"),
    ("sloppy_firm_office.txt", "2024-03-02T10:00:00+00:00"),
    ("good_understood.txt", "2024-03-03T10:00:00+00:00"),
]


@pytest.fixture
def library(data_dir):
    for script, started_at in ATTEMPTS:
        record_session(data_dir, script_lines(SCRIPTS / script), seed=1, trainee="anna", started_at=started_at,
                       persona="reasonable", policy="keep_client")
    record_session(data_dir, SHORT_CALL, seed=1, trainee="boris")
    with LocalLibrary(data_dir) as lib:
        lib.sync()
        yield lib


def test_progress_follows_one_trainees_attempts_in_order(library):
    p = progress(library, "anna")
    scores = [s.score for s in p.scores]
    assert len(scores) == 3
    assert scores == sorted(scores) and scores[0] < scores[-1]
    assert [s.started_at[:10] for s in p.scores] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert p.endings == {"customer_hung_up": 1, "office_visit": 1, "understood": 1}


def test_most_missed_items_count_the_attempts_that_missed_them(library):
    p = progress(library, "anna")
    counts = {m.id: m.count for m in p.most_missed}
    expected: dict[str, int] = {}
    for s in p.sessions:
        for item_id in s.missed:
            expected[item_id] = expected.get(item_id, 0) + 1
    assert counts == expected
    assert [m.count for m in p.most_missed] == sorted((m.count for m in p.most_missed), reverse=True)
    top = p.most_missed[0]
    assert top.title and 0 < top.share <= 1


def test_score_chart_has_a_point_per_attempt_and_renders_to_png(library, tmp_path):
    p = progress(library, "anna")
    svg = scores_svg(p)
    assert svg.startswith("<svg") and svg.count("<circle") == 3 and "<polyline" in svg
    png = svg_to_png(svg, tmp_path / "anna.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 3000


def test_progress_page_lists_attempts_and_missed_items(library):
    p = progress(library, "anna")
    html = progress_html(p)
    for point in p.scores:
        assert point.session_id in html
    assert p.most_missed[0].title in html and "<svg" in html


def test_unknown_trainee_names_the_known_ones(library):
    with pytest.raises(SessionError, match="no scored sessions for trainee 'zoe'; trainees in the library: anna, boris"):
        progress(library, "zoe")
