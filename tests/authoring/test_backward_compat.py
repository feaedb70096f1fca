"""A scenario a trainer wrote last week from the README (commit 891c437's "Writing a scenario" section) keeps
working: it loads, passes `scenario check`, plays, and its `key@stubborn` lines are now spoken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.authoring.cli import last_json, run, warnings_of

OLD = Path(__file__).resolve().parent / "fixtures" / "billing.ru.yaml"
GOOD_CALL = ["здравствуйте простите за ошибку", "какую сумму с вас списали", "когда списали деньги",
             "да вижу два списания это наша ошибка", "мы вернем деньги на ваш счет"]


def test_old_scenario_passes_check():
    done = run("scenario", "check", "--strict", OLD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert warnings_of(done) == [] and f"{OLD}: ok (billing, ru" in done.stdout


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "call.txt"
    path.write_text("\n".join(GOOD_CALL) + "\n", encoding="utf-8")
    return path


def test_old_scenario_plays_a_good_call_to_its_success_ending(script, tmp_path):
    done = run("practice", "--text", "--script", script, "--scenario", OLD, "--json", "--mute",
               "--data-dir", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert (result["outcome"], result["score"], result["penalties"]) == ("refunded", 100, [])
    assert result["turns"][0]["customer"] == "Хорошо, что извиняетесь. Разберитесь, пожалуйста."


def test_old_scenarios_stubborn_lines_are_spoken_now(script, tmp_path):
    done = run("practice", "--text", "--script", script, "--scenario", OLD, "--persona", "stubborn", "--json",
               "--mute", "--data-dir", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["turns"][0]["customer"] == "Извинения мне не нужны, мне нужны мои деньги!"


def test_old_scenario_in_the_matrix_and_the_diagram(script, tmp_path):
    matrix = run("practice", "--matrix", "--script", script, "--scenario", OLD, "--json")
    assert matrix.returncode == 0, matrix.stderr
    assert {r["outcome"] for r in last_json(matrix.stdout)} >= {"refunded"}
    page = tmp_path / "billing.html"
    assert run("scenario", "graph", OLD, "-o", page).returncode == 0
    assert "Абонентка возмущена двойным списанием." in page.read_text(encoding="utf-8")
