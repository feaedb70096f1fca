"""`voice-trainer classify --eval FILE.tsv` and `classify --explain TEXT`, as an author runs them on a scenario
of his own (the template), built on the understanding engine's `evaluate` and `explain`."""

from __future__ import annotations

import json

import pytest

from tests.authoring.cli import run, template_text, write_scenario

ROWS = [
    ("apologize", "I am so sorry about your parcel"),
    ("ask_order", "what is your order number please"),
    ("ask_order", "could you tell me the number"),          # a miss: 'order' is missing
    ("ask_address", "I'm sorry, what is the delivery address"),  # an extra apologize
    ("apologize,explain_delay", "apologies, the storm closed our warehouse"),
    ("unknown", "let me have a look"),
    ("offer_refund", "you will get your money back"),
]


@pytest.fixture
def scenario_file(tmp_path):
    return write_scenario(tmp_path, "sample", "en", template_text("sample", "en"))


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "set.tsv"
    path.write_text("# moves<TAB>utterance\n" + "".join(f"{m}\t{t}\n" for m, t in ROWS), encoding="utf-8")
    return path


def test_eval_prints_scores_confusions_explained_misses_and_micro_f1_last(scenario_file, labelled):
    done = run("classify", "--scenario", scenario_file, "--eval", labelled)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    # 7 labelled moves, 6 of them made, 1 made too many: P = 6/7, R = 6/7.
    assert out[-1] == "micro-F1 0.857"
    assert out[0] == "7 utterances"
    table = {line.split()[0]: line.split()[1:] for line in out[3:] if line and not line.startswith(" ")
             and line.split()[0] in ("ask_order", "apologize", "ask_address")}
    assert table["ask_order"] == ["2", "1.000", "0.500", "0.667"]
    assert table["apologize"] == ["2", "0.667", "1.000", "0.800"]
    text = done.stdout
    assert "  ask_order -> unknown  1" in text and "  unknown -> apologize  1" in text
    assert f"{labelled}:4  «could you tell me the number»" in text
    assert ('ask_order not made: nearest moves.ask_order.patterns.0 "order + number|id|reference" found 1 of 2 '
            'groups, missing "order"') in text
    assert f"{labelled}:5  «I'm sorry, what is the delivery address»" in text
    assert 'apologize: made by moves.apologize.patterns.0 "sorry|apologi*|apology" on «i\'m [sorry] what' in text


def test_eval_json_is_the_same_report(scenario_file, labelled):
    done = run("classify", "--scenario", scenario_file, "--eval", labelled, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["micro_f1"] == 0.8571 and report["rows"] == 7
    assert [m["text"] for m in report["misses"]] == ["could you tell me the number",
                                                      "I'm sorry, what is the delivery address"]


def test_eval_on_a_shipped_scenario_set(tmp_path):
    done = run("classify", "--scenario", "speed", "--lang", "ru", "--eval", "tests/data/speed.moves.ru.holdout.tsv")
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("micro-F1 ") and 0.9 <= float(last.split()[1]) <= 1.0


def test_explain_names_the_pattern_and_the_words(scenario_file):
    done = run("classify", "--scenario", scenario_file, "--explain", "hello, sorry, the storm held it up at the depot")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0] == "«hello, sorry, the storm held it up at the depot»"
    assert 'greet 1.00: made by moves.greet.patterns.0 "hello|hi|good morning|good afternoon|good evening" on «[hello]' in out
    assert 'apologize 1.00: made by moves.apologize.patterns.0 "sorry|apologi*|apology" on «hello [sorry]' in out
    assert "explain_delay 1.00: made by moves.explain_delay.patterns.0" in out and "[storm]" in out


def test_explain_shows_what_cancelled_a_move(tmp_path):
    done = run("classify", "--scenario", "razryv", "--lang", "ru", "--explain", "простите можно вопрос")
    assert done.returncode == 0, done.stderr
    assert "ask_permission 1.00: made by moves.ask_permission.patterns." in done.stdout
    assert ("apologize not made: moves.apologize.patterns.1" in done.stdout
            and "but was rejected by moves.apologize.reject.0" in done.stdout)


def test_explain_json(scenario_file):
    done = run("classify", "--scenario", scenario_file, "--explain", "--json", "what is your order number")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)["made"]
    assert made[0]["move"] == "ask_order" and made[0]["by"]["path"] == "moves.ask_order.patterns.0"
    assert [w["word"] for w in made[0]["words"]] == ["order", "number"]


@pytest.mark.parametrize("rows,says", [
    ("apologise\tsorry\n", ":1: unknown move apologise"),
    ("apologize sorry\n", ":1: expected 'moves<TAB>utterance'"),
    ("apologize\tsorry\napologize    sorry\n", ":2: expected 'moves<TAB>utterance'"),
    ("# nothing yet\n", "no labelled rows"),
    ("", "no labelled rows"),
    (b"apologize\tsorry\n\xd0\xcf\x11\xe0 binary\n", ":2: not UTF-8 text (byte 0xd0)"),
])
def test_eval_of_a_bad_file_is_one_line(rows, says, scenario_file, tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(rows if isinstance(rows, bytes) else rows.encode("utf-8"))
    done = run("classify", "--scenario", scenario_file, "--eval", path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert says in done.stderr


def test_eval_reads_a_set_saved_with_a_byte_order_mark(scenario_file, tmp_path):
    path = tmp_path / "excel.tsv"
    path.write_bytes("apologize\tsorry about that\r\n".encode("utf-8-sig"))
    done = run("classify", "--scenario", scenario_file, "--eval", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "micro-F1 1.000"


@pytest.mark.parametrize("args,says", [
    (("--eval", "NOSUCH"), "no such file"),
    (("--eval", "FOLDER"), "a folder, not a file"),
    (("--eval", "SET", "sorry"), "give no TEXT"),
    ((), "give an utterance"),
])
def test_classify_usage_mistakes_are_one_line(args, says, scenario_file, labelled, tmp_path):
    args = tuple(str(tmp_path / "nosuch.tsv") if a == "NOSUCH" else str(labelled) if a == "SET" else
                 str(tmp_path) if a == "FOLDER" else a for a in args)
    done = run("classify", "--scenario", scenario_file, *args)
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and says in done.stderr


def test_explain_says_when_all_groups_are_there_but_too_far_apart(scenario_file):
    done = run("classify", "--scenario", scenario_file, "--explain",
               "your order came in the summer and then we are going to look at the number")
    assert done.returncode == 0, done.stderr
    # order (2nd word) .. number (16th): 15 words, more than the 10 a pattern without '~N' allows
    assert ('moves.ask_order.patterns.0 "order + number|id|reference" found all 2 groups, but they stretch over 15 '
            "words and the default allows 10 (raise '~N' or add a pattern)") in done.stdout


def test_explain_names_the_limit_a_pattern_sets_with_a_tilde(tmp_path):
    path = write_scenario(tmp_path, "sample", "en", template_text("sample", "en").replace(
        '"order + number|id|reference"', '"order + number|id|reference ~3"'))
    done = run("classify", "--scenario", path, "--explain", "the order has a number")
    assert done.returncode == 0, done.stderr
    assert "found all 2 groups, but they stretch over 4 words and '~3' allows 3" in done.stdout
    assert "ask_order 1.00" in run("classify", "--scenario", path, "--explain", "order number").stdout


def test_classify_with_a_scenario_that_does_not_exist_is_one_line():
    done = run("classify", "--scenario", "nosuch", "--lang", "en", "sorry")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "no scenario named 'nosuch'" in done.stderr


def test_what_a_terminal_would_act_on_is_printed_escaped(scenario_file, tmp_path):
    done = run("classify", "--scenario", scenario_file, "--explain", "-", input="sorry \x1b[2J\x07 about that\n")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "«sorry \\x1b[2J\\x07 about that»" in done.stdout
    labelled = tmp_path / "set.tsv"
    labelled.write_text("greet\tsorry \x1b]0;title\x07\n", encoding="utf-8")  # a miss: its text is printed
    done = run("classify", "--scenario", scenario_file, "--eval", labelled)
    assert done.returncode == 0 and "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "sorry \\x1b]0;title\\x07" in done.stdout
