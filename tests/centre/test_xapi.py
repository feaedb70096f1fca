"""`sessions export --format xapi`: one xAPI 1.0.3 statement per scored session, checked field by field
against the specification's rules (xAPI 1.0.3, part two: statement, actor, verb, object, result, context)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime

import pytest

from tests.faults.cli_run import clean_env, run_cli
from tests.fixtures.sessions import GOOD_CALL, SHORT_CALL, record_session
from voice_trainer.trainer.xapi import iso_duration

ADL_VERBS = {"passed", "failed", "completed"}
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def is_iri(value) -> bool:
    return isinstance(value, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", value) is not None


def is_language_map(value) -> bool:
    return isinstance(value, dict) and value and all(LANGUAGE_TAG.match(k) and isinstance(v, str) for k, v in value.items())


def check_statement(s: dict) -> None:
    """The rules a Learning Record Store applies to a statement (what would make it reject one)."""
    assert set(s) <= {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                      "version", "attachments"}
    assert {"actor", "verb", "object"} <= set(s)
    assert str(uuid.UUID(s["id"])) == s["id"]
    assert s["version"] == "1.0.3"
    actor = s["actor"]
    assert actor["objectType"] == "Agent"
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    assert ifis == ["account"], "an Agent has exactly one inverse functional identifier"
    assert set(actor["account"]) == {"homePage", "name"}
    assert re.match(r"^https?://", actor["account"]["homePage"]) and actor["account"]["name"]
    verb = s["verb"]
    assert is_iri(verb["id"]) and verb["id"].startswith("http://adlnet.gov/expapi/verbs/")
    assert verb["id"].rsplit("/", 1)[1] in ADL_VERBS and is_language_map(verb["display"])
    obj = s["object"]
    assert obj["objectType"] == "Activity" and is_iri(obj["id"])
    assert is_language_map(obj["definition"]["name"]) and is_iri(obj["definition"]["type"])
    result = s["result"]
    score = result["score"]
    assert -1 <= score["scaled"] <= 1 and score["min"] <= score["raw"] <= score["max"] and score["min"] < score["max"]
    assert all(isinstance(score[k], (int, float)) and not isinstance(score[k], bool) for k in score)
    assert isinstance(result["success"], bool) and isinstance(result["completion"], bool)
    assert ISO_DURATION.match(result["duration"])
    assert datetime.fromisoformat(s["timestamp"]).tzinfo is not None
    context = s["context"]
    assert str(uuid.UUID(context["registration"])) == context["registration"]
    assert LANGUAGE_TAG.match(context["language"])
    assert all(is_iri(k) for k in context["extensions"])
    json.dumps(s)  # JSON all the way down


def _export(data_dir, *args: str) -> list[dict]:
    done = run_cli("sessions", "export", "--format", "xapi", *args, env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_scored_session_is_one_valid_statement(data_dir):
    good = record_session(data_dir, GOOD_CALL, seed=1, trainee="anna", persona="reasonable", policy="keep_client")
    short = record_session(data_dir, SHORT_CALL, seed=2, trainee="Борис")
    statements = _export(data_dir)
    assert len(statements) == 2
    for s in statements:
        check_statement(s)
    by_name = {s["actor"]["account"]["name"]: s for s in statements}
    result = json.loads((good / "result.json").read_text(encoding="utf-8"))
    anna = by_name["anna"]
    assert anna["verb"]["display"]["en-US"] == ("passed" if result["success"] else "failed")
    assert anna["result"]["score"] == {"raw": result["score"], "min": 0, "max": 100, "scaled": result["score"] / 100}
    assert anna["result"]["success"] is result["success"] and anna["result"]["completion"] is True
    ext = anna["context"]["extensions"]
    assert {k.rsplit("/", 1)[1]: v for k, v in ext.items()} == {
        "session-id": good.name, "persona": "reasonable", "policy": "keep_client", "outcome": result["outcome"]}
    assert anna["object"]["id"].endswith("/scenarios/razryv/ru") and anna["timestamp"] == result["started_at"]
    assert by_name["Борис"]["verb"]["display"]["en-US"] == "failed"
    # exporting again gives the same statement ids: an LRS takes each session once
    assert [s["id"] for s in _export(data_dir)] == [s["id"] for s in statements]
    assert short.name in {s["context"]["extensions"][next(k for k in s["context"]["extensions"] if k.endswith("session-id"))]
                          for s in statements}


def test_an_interrupted_session_is_not_complete_and_an_unfinished_one_is_left_out(data_dir):
    from dataclasses import replace

    from voice_trainer.scenario.loader import load
    from voice_trainer.session import Session
    from voice_trainer.trainer.library import summarize
    from voice_trainer.trainer.xapi import statements

    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=2, trainee="boris", observers=[])
    session.start()
    session.trainee_says(SHORT_CALL[0])
    session.finish(interrupted=True)
    [s] = _export(data_dir)
    check_statement(s)
    assert s["result"]["completion"] is False
    unfinished = replace(summarize(session.folder.path), outcome="unfinished", score=None)
    assert statements([unfinished]) == []


def test_the_home_page_comes_from_the_settings_file(data_dir, tmp_path):
    record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    config = tmp_path / "vt.toml"
    config.write_text('xapi_home_page = "https://lms.centre.example/"\n', encoding="utf-8")
    done = run_cli("--config", str(config), "sessions", "export", "--format", "xapi", env=clean_env(data_dir))
    [s] = json.loads(done.stdout)
    check_statement(s)
    assert s["actor"]["account"]["homePage"] == "https://lms.centre.example"
    assert s["object"]["id"].startswith("https://lms.centre.example/scenarios/")


@pytest.mark.parametrize("seconds,expected", [
    (0, "PT0S"), (9.5, "PT9.5S"), (61.25, "PT1M1.25S"), (3600, "PT1H0S"), (3725.004, "PT1H2M5S"), (0.01, "PT0.01S"),
])
def test_durations_are_iso_8601_to_the_hundredth(seconds, expected):
    assert iso_duration(seconds) == expected and ISO_DURATION.match(expected)
