"""Misheard real words: Vosk only outputs dictionary words, so a misheard move word arrives as another real
word that sounds alike. It counts only when its nearest neighbour is one of the move's own words; the
labelled sets measure the gain and the false alarms (tests/data/sound_alikes.*.tsv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_trainer.dialogue.sounds import english_sound_key, russian_sound_key, same_onset, sound_distance
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "data"
MOVES = {lang: load("razryv", lang).data.moves for lang in ("ru", "en")}
CLASSIFIERS = {lang: MoveClassifier(moves, lang) for lang, moves in MOVES.items()}


def labelled(name: str) -> list[tuple[set[str], str]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            labels, text = line.split("\t", 1)
            rows.append(({m for m in labels.split(",") if m != "unknown"}, text))
    return rows


def micro_f1(classifier: MoveClassifier, rows) -> float:
    tp = fp = fn = 0
    for gold, text in rows:
        got = set(classifier.classify(text).moves)
        tp, fp, fn = tp + len(got & gold), fp + len(got - gold), fn + len(gold - got)
    return 2 * tp / (2 * tp + fp + fn)


def test_a_confusable_sound_costs_half_a_different_one_a_whole():
    assert sound_distance(russian_sound_key("прощания"), russian_sound_key("прощения")) == 0.5  # а/е
    assert sound_distance("прашини", "пращини") == 0.5  # ш/щ
    assert sound_distance("мадим", "мадил") == 1.0  # м/л: different sounds
    assert sound_distance(english_sound_key("contact"), english_sound_key("contract")) == 1.0
    assert same_onset("пустити", "прастити") and not same_onset("двари", "авари")


@pytest.mark.parametrize(
    "lang,text,move",
    [
        ("ru", "прошу прошения за эти неудобства", "apologize"),  # прошения ~ прощения
        ("ru", "ещё раз пустите нас пожалуйста за неудобства", "apologize"),  # пустите ~ простите
        ("ru", "это из за поводка всё затопило", "explain_outage"),  # поводка ~ паводка
        ("en", "the contact says drops can happen now and then", "cite_contract"),  # contact ~ contract
    ],
)
def test_a_real_word_heard_for_a_move_word_counts_when_its_neighbours_fit(lang, text, move):
    result = CLASSIFIERS[lang].classify(text)
    assert move in result.moves and move in result.by_sound
    assert result.scores[move] < 1.0  # made, but less sure than an exact match
    assert move not in MoveClassifier(MOVES[lang], lang, sound_alikes=False).classify(text).moves


@pytest.mark.parametrize(
    "lang,text,move",
    [
        ("ru", "пустите мастера в квартиру он проверит линию", "apologize"),
        ("ru", "прошение о перерасчете за разрывы подайте письменно", "apologize"),
        ("ru", "пёс сорвался с поводка и перегрыз кабель", "explain_outage"),
        ("ru", "просто разрывы такие не видны", "apologize"),  # short words need a homophone: просто ≠ прости
        ("ru", "офорт висит в офисе на стене", "invite_office"),  # висит ~ визит, but "офис" is the pattern's own word
        ("en", "our contact centre says drops were reported in your area", "cite_contract"),
        ("en", "please update your contact details", "cite_contract"),
        # Mockery and rudeness are never heard in a misheard word.
        ("en", "one moment let me pull up your account", "rude"),
    ],
)
def test_a_sound_alike_in_its_own_meaning_does_not_count(lang, text, move):
    assert move not in CLASSIFIERS[lang].classify(text).moves


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_sound_alikes_gain_on_misheard_words_and_make_no_false_alarm_anywhere(lang):
    rows = labelled(f"sound_alikes.{lang}.tsv")
    plain = MoveClassifier(MOVES[lang], lang, sound_alikes=False)
    assert micro_f1(CLASSIFIERS[lang], rows) > micro_f1(plain, rows) + 0.04
    wrong = []
    for name in (f"sound_alikes.{lang}.tsv", f"moves.{lang}.tsv", f"moves.{lang}.holdout.tsv", f"moves.{lang}.blind3.tsv"):
        for gold, text in labelled(name):
            wrong += [(move, text) for move in CLASSIFIERS[lang].classify(text).by_sound if move not in gold]
    assert wrong == []
