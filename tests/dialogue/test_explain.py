"""The explain API (which pattern or example and which words made a move; for a move not made, the nearest
pattern and what cancelled a match) and evaluate() (per-move precision/recall/F1, confusion pairs, misses),
on the real razryv and speed scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice_trainer.dialogue.errors import DialogueError
from voice_trainer.dialogue.explain import Row, evaluate, read_rows
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "data"
SCENARIOS = {(name, lang): load(name, lang).data for name in ("razryv", "speed") for lang in ("ru", "en")}
CLASSIFIERS = {key: MoveClassifier(s.moves, key[1]) for key, s in SCENARIOS.items()}
RU = CLASSIFIERS[("razryv", "ru")]
SETS = {("razryv", "ru"): "moves.ru.tsv", ("razryv", "en"): "moves.en.tsv",
        ("speed", "ru"): "speed.moves.ru.tsv", ("speed", "en"): "speed.moves.en.tsv"}


@pytest.mark.parametrize("key", list(SETS))
def test_explain_makes_the_same_moves_as_classify_and_names_a_real_pattern(key):
    classifier, scenario = CLASSIFIERS[key], SCENARIOS[key]
    for row in read_rows(DATA / SETS[key])[::3]:
        explanation = classifier.explain(row.text, moves=[])
        assert explanation.moves == classifier.classify(row.text).moves, row.text
        for made in explanation.made:
            written = getattr(scenario.moves[made.move], made.source.key)[made.source.index]
            assert written == made.source.text and made.source.path.startswith(f"moves.{made.move}.")
            assert made.words, (row.text, made)
            assert all(explanation.words[w.index] == w.surface for w in made.words)


def test_a_made_move_names_its_pattern_and_words_and_fillers_are_left_out():
    e = RU.explain("извините за разрывы э-э талый снег затопил узлы")
    assert e.moves == ("apologize", "explain_outage")
    apology = e.made[0]
    assert apology.source.path == "moves.apologize.patterns.0"
    assert [(w.index, w.surface) for w in apology.words] == [(0, "извините")]
    assert e.fillers == (3, 4)
    outage = e.made[1]
    assert outage.source.key == "patterns" and {w.surface for w in outage.words} >= {"снег"}


def test_a_denied_move_shows_the_frame_that_cancelled_it():
    e = RU.explain("о пунктах договора речь не идет")
    contract = next(n for n in e.not_made if n.move == "cite_contract")
    (cancel,) = contract.cancelled
    assert cancel.reason == "denial"
    assert [w.surface for w in cancel.words] == ["договора"]
    assert [w.surface for w in cancel.frame] == ["речь", "не", "идет"]


def test_a_rejected_match_names_the_reject_pattern():
    e = RU.explain("простите что")
    apology = next(n for n in e.not_made if n.move == "apologize")
    cancel = apology.cancelled[0]
    assert cancel.reason == "reject"
    assert cancel.by.key == "reject" and "что$" in cancel.by.text
    assert cancel.by.text == SCENARIOS[("razryv", "ru")].moves["apologize"].reject[cancel.by.index]


def test_a_negated_move_shows_the_negation():
    e = RU.explain("я не буду вас приглашать в офис")
    invite = next(n for n in e.not_made if n.move == "invite_office")
    assert any(c.reason == "negation" for c in invite.cancelled)


def test_a_move_not_made_shows_the_nearest_pattern_and_the_missing_group():
    e = RU.explain("какая у вас", moves=["ask_modem"])
    (modem,) = e.not_made
    assert modem.nearest.groups_found == 1 and modem.nearest.groups_needed == 2
    assert modem.nearest.missing == ("модем*|роутер*|маршрутизатор*|модел*",)
    assert [w.surface for w in modem.nearest.words] == ["какая"]


def test_a_move_made_by_a_sound_alike_says_which_word_was_heard():
    e = RU.explain("пустите за неудобства")
    (apology,) = e.made
    assert apology.by_sound and [w.surface for w in apology.words if w.by_sound] == ["пустите"]


def test_an_examples_only_move_names_its_example_and_similarity():
    moves = {name: move.model_copy(update={"patterns": [], "reject": []})
             for name, move in SCENARIOS[("speed", "ru")].moves.items()}
    classifier = MoveClassifier(moves, "ru")
    e = classifier.explain("с какого устройства вы мерили скорость")
    made = next(m for m in e.made if m.move == "ask_device")
    assert made.source.key == "examples" and made.similarity > 0.5
    assert made.source.text in moves["ask_device"].examples


def test_an_explanation_is_json():
    data = json.loads(json.dumps(RU.explain("о пунктах договора речь не идет какой у вас модем").to_json()))
    assert data["moves"] == ["ask_modem"]
    assert data["made"][0]["by"]["path"].startswith("moves.ask_modem.patterns.")
    assert any(n["move"] == "cite_contract" and n["cancelled"][0]["reason"] == "denial" for n in data["not_made"])


# -- evaluate -----------------------------------------------------------------------------------------------------

ROWS = [
    Row(frozenset({"ask_modem"}), "какой у вас модем", 1),
    Row(frozenset({"ask_modem"}), "какая у вас", 2),  # missed
    Row(frozenset(), "о пунктах договора речь не идет", 3),
    Row(frozenset({"apologize"}), "извините за разрывы", 4),
    Row(frozenset(), "простите за разрывы", 5),  # labelled wrong on purpose: a false positive
]


def test_evaluate_counts_per_move_and_micro_f1():
    result = evaluate(RU, ROWS)
    modem, apology = result.move("ask_modem"), result.move("apologize")
    assert (modem.support, modem.true_positives, modem.false_negatives, modem.recall) == (2, 1, 1, 0.5)
    assert (apology.true_positives, apology.false_positives, apology.precision) == (1, 1, 0.5)
    tp, fp, fn = 2, 1, 1
    assert result.micro_f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert result.rows == 5


def test_evaluate_lists_confusions_and_misses_with_their_explanation():
    result = evaluate(RU, ROWS)
    assert ("ask_modem", "unknown", 1) in result.confusion
    assert ("unknown", "apologize", 1) in result.confusion
    miss = next(m for m in result.misses if m.line == 2)
    assert miss.missing == ("ask_modem",) and miss.got == ()
    assert miss.explanation.not_made[0].nearest.missing == ("модем*|роутер*|маршрутизатор*|модел*",)
    assert json.loads(json.dumps(result.to_json()))["micro_f1"] == round(result.micro_f1, 4)


def test_evaluate_takes_plain_pairs_too():
    assert evaluate(RU, [({"ask_modem"}, "какой у вас модем")]).micro_f1 == 1.0


def test_a_labelled_set_with_a_bad_line_or_an_unknown_move_is_one_clear_error(tmp_path):
    bad = tmp_path / "set.tsv"
    bad.write_text("# comment\nask_modem\tкакой модем\nthis line has no tab\n", encoding="utf-8")
    with pytest.raises(DialogueError, match=r"set.tsv:3: expected 'moves<TAB>utterance'"):
        read_rows(bad)
    bad.write_text("ask_modme\tкакой модем\n", encoding="utf-8")
    with pytest.raises(DialogueError, match=r"set.tsv:1: unknown move ask_modme; the scenario's moves are"):
        read_rows(bad, known=SCENARIOS[("razryv", "ru")].moves)
    assert read_rows(DATA / "moves.ru.holdout.tsv", known=SCENARIOS[("razryv", "ru")].moves)
