"""A scenario written from README and docs/scenarios.md alone (a customer charged twice), as a trainer would:
it checks clean with --strict, a good call ends well under each policy, the wrong way of returning the money
is charged, and its moves are understood on a small labelled set written with it."""

from __future__ import annotations

from pathlib import Path

from tests.authoring.cli import last_json, run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCENARIO = FIXTURES / "double_charge.en.yaml"
START = ["hello, I'm really sorry you were charged twice", "could you give me your account number please",
         "when were the payments taken and how much",
         "yes, I can see it, the same payment was taken twice, that's our mistake"]


def play_matrix(tmp_path, last_reply: str) -> dict:
    script = tmp_path / "call.txt"
    script.write_text("\n".join(START + [last_reply]) + "\n", encoding="utf-8")
    done = run("practice", "--matrix", "--script", script, "--scenario", SCENARIO, "--json")
    assert done.returncode == 0, done.stderr
    return {(r["persona"], r["policy"]): r for r in last_json(done.stdout)}


def test_it_checks_clean():
    done = run("scenario", "check", "--strict", SCENARIO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stdout


def test_a_refund_to_the_card_ends_well_and_is_right_only_under_its_policy(tmp_path):
    rows = play_matrix(tmp_path, "the second payment will be returned to your card within five working days")
    for persona in ("reasonable", "stubborn"):
        assert (rows[persona, "refund_card"]["outcome"], rows[persona, "refund_card"]["score"]) == ("resolved", 100)
        assert rows[persona, "credit_bill"]["outcome"] == "resolved"
        assert rows[persona, "credit_bill"]["penalties"] == ["against_policy"]


def test_a_credit_on_the_next_bill_is_right_under_the_other_policy(tmp_path):
    rows = play_matrix(tmp_path, "we'll take the extra payment off next month's bill")
    assert (rows["reasonable", "credit_bill"]["outcome"], rows["reasonable", "credit_bill"]["score"]) == ("resolved", 100)
    assert rows["reasonable", "refund_card"]["penalties"] == ["against_policy"]


def test_its_moves_are_understood_on_the_set_written_with_it():
    done = run("classify", "--scenario", SCENARIO, "--eval", FIXTURES / "double_charge.en.tsv")
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1].split()[-1]) >= 0.9
