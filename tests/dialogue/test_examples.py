"""Examples that carry weight: a move written with a few examples and no patterns recognizes paraphrases,
without false alarms from negation, denial or words every move shares. Measured on the speed scenario with
every pattern removed (tests/data/speed.examples.LANG.yaml: ≤ 10 examples per move)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voice_trainer.dialogue.explain import evaluate, read_rows
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "data"


def examples_only(lang: str) -> MoveClassifier:
    examples = yaml.safe_load((DATA / f"speed.examples.{lang}.yaml").read_text(encoding="utf-8"))
    moves = {name: move.model_copy(update={"patterns": [], "reject": [], "examples": examples[name]})
             for name, move in load("speed", lang).data.moves.items()}
    assert all(len(m.examples) <= 10 for m in moves.values())
    return MoveClassifier(moves, lang)


CLASSIFIERS = {lang: examples_only(lang) for lang in ("ru", "en")}


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("kind", ["", ".holdout"])
def test_examples_alone_understand_most_of_the_speed_sets(lang, kind):
    result = evaluate(CLASSIFIERS[lang], read_rows(DATA / f"speed.moves.{lang}{kind}.tsv"), explain_misses=False)
    # Before: near-verbatim examples only, micro-F1 0.03-0.10 on these sets (docs/understanding.md).
    assert result.micro_f1 >= 0.65, result.micro_f1
    assert result.micro_precision >= 0.75, result.micro_precision


@pytest.mark.parametrize("lang,text,move", [
    ("ru", "а вы мерили с планшета", "ask_device"),
    ("ru", "подсоедините ноутбук кабелем и запустите тест", "guide_cable_test"),
    ("ru", "оформлю выезд мастера на четверг", "book_technician"),
    ("en", "did you measure it on your tablet", "ask_device"),
    ("en", "an engineer will come to your home tomorrow", "book_technician"),
])
def test_a_paraphrase_of_an_example_makes_its_move(lang, text, move):
    assert move in CLASSIFIERS[lang].classify(text).moves


@pytest.mark.parametrize("lang,text,move", [
    ("ru", "я не могу обещать что будет сто мегабит", "promise_speed"),
    ("ru", "договор тут ни при чем", "cite_terms"),
    ("ru", "мастер не нужен", "book_technician"),
    ("en", "there is no need for an engineer visit", "book_technician"),
    ("ru", "скорость", "explain_up_to"),
    ("en", "the speed", "explain_up_to"),
])
def test_negation_denial_and_a_lone_shared_word_make_no_move(lang, text, move):
    assert move not in CLASSIFIERS[lang].classify(text).moves


def test_moves_with_patterns_keep_their_precision_examples_are_only_a_near_verbatim_fallback():
    classifier = MoveClassifier(load("speed", "ru").data.moves, "ru")
    assert classifier.classify("скорость").moves == ()
    assert classifier.classify("а вы мерили с планшета").moves == ("ask_device",)
