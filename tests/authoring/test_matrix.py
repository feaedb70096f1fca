"""`voice-trainer practice --matrix --script FILE`: one script against every persona x policy (x case), a table
of endings and scores; each row is what a single `practice --script` call with that persona, policy and seed
gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.authoring.cli import last_json, run, template_text, write_scenario
from tests.authoring.test_cases import GOOD, with_cases

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_matrix_table_has_a_row_per_persona_and_policy(tmp_path):
    done = run("practice", "--matrix", "--script", SCRIPTS / "ru" / "good_understood.txt", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["persona", "policy", "seed", "outcome"]
    rows = json.loads(lines[-1])
    assert {(r["persona"], r["policy"]) for r in rows} == {
        (p, q) for p in ("reasonable", "stubborn") for q in ("keep_client", "let_go")}
    assert len(lines) == 1 + len(rows) + 1
    for row, line in zip(rows, lines[1:-1]):
        assert line.split()[:5] == [row["persona"], row["policy"], str(row["seed"]), row["outcome"],
                                    str(row["score"]) if row["success"] else "(failed)"]


@pytest.mark.parametrize("persona,policy,case", [("reasonable", "visit_free", "line_faulty"),
                                                 ("stubborn", "check_first", "line_fine")])
def test_a_matrix_row_is_what_that_single_call_gives(persona, policy, case, tmp_path):
    script = SCRIPTS / "speed" / "en" / "good_line_check.txt"
    matrix = run("practice", "--matrix", "--script", script, "--scenario", "speed", "--lang", "en", "--seed", "5",
                 "--json")
    assert matrix.returncode == 0, matrix.stderr
    row = next(r for r in last_json(matrix.stdout) if (r["persona"], r["policy"], r["case"]) == (persona, policy, case))
    single = run("practice", "--text", "--script", script, "--scenario", "speed", "--lang", "en", "--seed", row["seed"],
                 "--case", case,
                 "--persona", persona, "--policy", policy, "--json", "--mute", "--data-dir", tmp_path / "data")
    assert single.returncode == 0, single.stderr
    result = last_json(single.stdout)
    assert (row["outcome"], row["score"], row["turns"]) == (result["outcome"], result["score"], len(result["turns"]))
    assert row["missed"] == result["missed"]
    assert row["penalties"] == [p["flag"] for p in result["penalties"]]


def test_matrix_covers_every_case_and_records_nothing(tmp_path):
    path = write_scenario(tmp_path, "sample", "en", with_cases(template_text("sample", "en")))
    script = tmp_path / "call.txt"
    script.write_text("\n".join(GOOD + ["we will deliver it tomorrow"]) + "\n", encoding="utf-8")
    done = run("practice", "--matrix", "--script", script, "--scenario", path, "--json", "--data-dir", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    rows = last_json(done.stdout)
    assert len(rows) == 2 * 2 * 2
    assert {r["case"] for r in rows} == {"storm", "lost"}
    assert "case" in done.stdout.splitlines()[0].split()
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("args,says", [
    (("--matrix",), "give --script"),
    (("--matrix", "--script", "SCRIPT", "--persona", "stubborn"), "leave out --persona"),
    (("--matrix", "--script", "NOSUCH"), "no such script file"),
    (("--matrix", "--script", "EMPTY"), "no replies in it"),
    (("--matrix", "--script", "BINARY"), "it must be UTF-8 text"),
])
def test_matrix_with_bad_input_is_one_line(args, says, tmp_path):
    (tmp_path / "empty.txt").write_text("# only a comment\n\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x7fELF\x02\x01\xd0\xcf\x00\x00")
    args = tuple(str(SCRIPTS / "ru" / "good_understood.txt") if a == "SCRIPT" else
                 str(tmp_path / "nosuch.txt") if a == "NOSUCH" else
                 str(tmp_path / "empty.txt") if a == "EMPTY" else
                 str(tmp_path / "binary.txt") if a == "BINARY" else a for a in args)
    done = run("practice", *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_matrix_with_a_scenario_that_does_not_exist_is_one_line():
    done = run("practice", "--matrix", "--script", SCRIPTS / "ru" / "good_understood.txt", "--scenario", "nosuch")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "no scenario named 'nosuch'" in done.stderr
