"""`voice-trainer scenario new NAME --lang ru|en`: a commented template that passes `scenario check` with no
warning and plays to an ending as it is."""

from __future__ import annotations

import pytest

from tests.authoring.cli import GOOD_CALL, last_json, run, warnings_of


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_new_scenario_passes_check_and_plays_to_its_ending(lang, tmp_path):
    made = run("scenario", "new", "late_parcel", "--lang", lang, "-o", tmp_path / "mine")
    assert made.returncode == 0, made.stderr
    path = tmp_path / "mine" / f"late_parcel.{lang}.yaml"
    assert path.is_file() and str(path) in made.stdout
    text = path.read_text(encoding="utf-8")
    assert "scenario: late_parcel" in text and f"language: {lang}" in text
    assert text.count("\n#") > 20, "the template explains itself in comments"

    checked = run("scenario", "check", "--strict", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert warnings_of(checked) == []
    assert "ok (late_parcel" in checked.stdout

    script = tmp_path / "call.txt"
    script.write_text("\n".join(GOOD_CALL[lang]) + "\n", encoding="utf-8")
    for persona in ("reasonable", "stubborn"):
        for policy in ("new_date", "refund"):
            played = run("practice", "--text", "--script", script, "--scenario", path, "--persona", persona,
                         "--policy", policy, "--seed", "3", "--json", "--mute", "--data-dir", tmp_path / "data")
            assert played.returncode == 0, played.stderr
            result = last_json(played.stdout)
            assert result["scenario"] == "late_parcel" and result["lang"] == lang
            assert result["outcome"] == "resolved", result["turns"]
            want_met = policy == "new_date"  # the call offers a new date: right under new_date only
            assert ("solved_by_policy" in result["met"]) is want_met


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_new_scenario_is_found_by_name_from_the_scenarios_folder(lang, tmp_path):
    made = run("scenario", "new", "late_parcel", "--lang", lang, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "scenarios" / f"late_parcel.{lang}.yaml").is_file()
    played = run("practice", "--text", "--scenario", "late_parcel", "--lang", lang, "--json", "--mute",
                 "--data-dir", tmp_path / "data", cwd=tmp_path, input="\n".join(GOOD_CALL[lang][:2]) + "\n")
    assert played.returncode == 0, played.stderr
    assert last_json(played.stdout)["scenario"] == "late_parcel"


def test_new_scenario_written_into_the_current_folder_is_found_by_name_there(tmp_path):
    made = run("scenario", "new", "late_parcel", "--lang", "en", "-o", ".", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    played = run("practice", "--text", "--scenario", "late_parcel", "--lang", "en", "--json", "--mute",
                 "--data-dir", tmp_path / "data", cwd=tmp_path, input="\n".join(GOOD_CALL["en"][:2]) + "\n")
    assert played.returncode == 0, played.stderr
    assert last_json(played.stdout)["scenario"] == "late_parcel"


def test_new_refuses_to_overwrite_a_file(tmp_path):
    first = run("scenario", "new", "late_parcel", "--lang", "en", "-o", tmp_path)
    assert first.returncode == 0
    path = tmp_path / "late_parcel.en.yaml"
    path.write_text("# my work\n", encoding="utf-8")
    again = run("scenario", "new", "late_parcel", "--lang", "en", "-o", tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == "# my work\n"


@pytest.mark.parametrize("args,says", [
    (("Late Parcel", "--lang", "en"), "lowercase letters"),
    (("late.parcel", "--lang", "en"), "lowercase letters"),
    (("late_parcel", "--lang", "de"), "templates exist for ru, en"),
])
def test_new_with_bad_input_is_one_clear_line(args, says, tmp_path):
    done = run("scenario", "new", *args, "-o", tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_into_an_unwritable_place_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    done = run("scenario", "new", "late_parcel", "--lang", "en", "-o", blocker / "sub")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
