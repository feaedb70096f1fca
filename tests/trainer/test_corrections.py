import json
import re

import pytest

from tests.fixtures.sessions import MISHEARD_CALL, REAL_APOLOGY, record_session
from voice_trainer.errors import SessionError, UsageError
from voice_trainer.events import TranscriptCorrected
from voice_trainer.scenario.loader import BUNDLED_DIR
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE, SessionFolder
from voice_trainer.trainer.corrections import fix_turn, rescore_session


def _result(folder):
    return json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))


@pytest.fixture
def misheard(data_dir):
    """A good call whose apology the recognizer turned into noise: only the greeting was understood."""
    return record_session(data_dir, MISHEARD_CALL, seed=1)


def test_fixing_a_misheard_apology_credits_it_and_raises_the_score(misheard):
    before = _result(misheard)
    assert "apologized" in before["missed"]
    assert "apologize" not in before["turns"][0]["moves"]

    diff = fix_turn(misheard, 1, REAL_APOLOGY)

    after = _result(misheard)
    assert diff.score_before == before["score"] and diff.score_after == after["score"]
    assert after["score"] > before["score"]
    assert "apologized" in after["met"]
    assert "apologize" in after["turns"][0]["moves"]
    assert after["turns"][0]["trainee"] == REAL_APOLOGY
    assert after["turns"][0]["recognized"] == MISHEARD_CALL[0]
    assert any(c.id == "apologized" and c.met_before is False and c.met_after is True for c in diff.items)
    assert diff.moves[0].turn == 1 and "apologize" in diff.moves[0].after
    assert after["rescored"]["original"]["score"] == before["score"]
    assert after["rescored"]["corrections"] == [{"turn": 1, "text": REAL_APOLOGY, "previous": MISHEARD_CALL[0]}]


def test_a_correction_is_appended_and_the_log_is_never_rewritten(misheard):
    log_before = (misheard / EVENTS_FILE).read_text(encoding="utf-8")
    fix_turn(misheard, 1, REAL_APOLOGY)
    fix_turn(misheard, 1, REAL_APOLOGY + " пожалуйста")
    log_after = (misheard / EVENTS_FILE).read_text(encoding="utf-8")
    assert log_after.startswith(log_before)
    corrections = [e for e in SessionFolder(misheard).events() if isinstance(e, TranscriptCorrected)]
    assert [(c.turn, c.previous) for c in corrections] == [(1, MISHEARD_CALL[0]), (1, REAL_APOLOGY)]
    assert _result(misheard)["rescored"]["original"]["score"] == _first_score(log_before)


def _first_score(log: str) -> int:
    return next(json.loads(line)["score"] for line in log.splitlines() if '"session_ended"' in line)


def test_a_turn_that_does_not_exist_is_refused_with_the_valid_turns(misheard):
    with pytest.raises(SessionError, match=r"no turn 42; valid turns: 1, 2, 3"):
        fix_turn(misheard, 42, "что угодно")
    with pytest.raises(UsageError, match="empty"):
        fix_turn(misheard, 1, "   ")
    assert "transcript_corrected" not in (misheard / EVENTS_FILE).read_text(encoding="utf-8")


def test_rescoring_against_the_unchanged_scenario_changes_nothing(misheard):
    before = (misheard / RESULT_FILE).read_text(encoding="utf-8")
    diff = rescore_session(misheard)
    assert not diff.changed
    assert diff.lines()[-1] == "no difference"
    assert (misheard / RESULT_FILE).read_text(encoding="utf-8") == before


def _scenario_copy(tmp_path, item: str, points: int):
    text = (BUNDLED_DIR / "razryv.ru.yaml").read_text(encoding="utf-8")
    pattern = re.compile(rf"(- id: {item}\n(?:      .*\n)*?      points: )\d+")
    assert pattern.search(text)
    path = tmp_path / "razryv.ru.yaml"
    path.write_text(pattern.sub(rf"\g<1>{points}", text, count=1), encoding="utf-8")
    return path


def test_rescoring_against_a_changed_rubric_shows_the_difference_without_saving(misheard, tmp_path):
    before = _result(misheard)
    heavier = _scenario_copy(tmp_path, "apologized", 60)  # the missed apology now weighs far more

    diff = rescore_session(misheard, heavier)

    assert diff.score_before == before["score"]
    assert diff.score_after < before["score"]
    assert [(c.id, c.points, c.met_before, c.met_after) for c in diff.items] == [("apologized", 60.0, False, False)]
    assert diff.outcome_before == diff.outcome_after
    assert _result(misheard) == before


def test_saving_a_rescore_keeps_the_original_result(misheard, tmp_path):
    before = _result(misheard)
    diff = rescore_session(misheard, _scenario_copy(tmp_path, "apologized", 60), save=True)
    after = _result(misheard)
    assert diff.saved and after["score"] == diff.score_after != before["score"]
    assert after["rescored"]["original"]["score"] == before["score"]
    assert after["rescored"]["reason"] == "scenario"
    assert after["rescored"]["scenario_file"].endswith("razryv.ru.yaml")


def test_rescoring_against_another_scenario_is_refused(misheard, tmp_path):
    other = tmp_path / "other.ru.yaml"
    text = (BUNDLED_DIR / "razryv.ru.yaml").read_text(encoding="utf-8")
    other.write_text(text.replace("scenario: razryv", "scenario: other", 1), encoding="utf-8")
    with pytest.raises(UsageError, match="scenario 'other' but the session was 'razryv'"):
        rescore_session(misheard, other)
