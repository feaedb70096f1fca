"""The scenario vocabulary handed to the recognizer with --grammar."""

from __future__ import annotations

import json

from voice_trainer.scenario.loader import load
from voice_trainer.speech.vocabulary import scenario_vocabulary
from voice_trainer.speech.vosk_recognizer import grammar_json


def test_russian_vocabulary_has_every_form_of_the_scenario_words():
    words = set(scenario_vocabulary(load("razryv", "ru").data, "ru"))
    assert {"модем", "модема", "модемом", "извините", "извинить", "офис", "офисе"} <= words
    assert {"подключились", "подключили", "переподключается"} <= words  # from pattern prefixes too
    assert all(w.isalpha() for w in words)


def test_english_vocabulary_is_the_scenario_words():
    words = set(scenario_vocabulary(load("razryv", "en").data, "en"))
    assert {"modem", "sorry", "office", "contract"} <= words


def test_cyrillic_reaches_vosk_as_itself_not_escapes():
    text = grammar_json(["модем", "офис"])
    assert "модем" in text and "\\u" not in text
    assert json.loads(text)[:2] == ["модем", "офис"]
