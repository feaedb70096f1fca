"""Fillers and hesitations change nothing, and a filler that is also an ordinary word stays that word where
it means it ("короче" is "in short", "стал короче" is "shorter"; "like" fills, "would you like" asks)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from voice_trainer.dialogue.fillers import filler_positions
from voice_trainer.dialogue.text import lemmatizer_for, tokenize
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "data"

RU = MoveClassifier(load("razryv", "ru").data.moves, "ru")
EN = MoveClassifier(load("razryv", "en").data.moves, "en")


def removed(text: str, lang: str) -> list[str]:
    tokens = tokenize(text, lemmatizer_for(lang))
    return [tokens[i].surface for i in sorted(filler_positions(tokens, lang))]


@pytest.mark.parametrize(
    "text,lang,fillers",
    [
        ("ну э значит извините нас", "ru", ["ну", "э", "значит"]),
        ("короче говоря в общем все в порядке", "ru", ["короче", "говоря", "в", "общем"]),
        ("разрыв стал намного короче", "ru", []),
        ("файл лежит в общем доступе", "ru", []),
        ("как бы вам это объяснить", "ru", []),
        ("это как бы не совсем так", "ru", ["как", "бы"]),
        ("ну да ну да конечно", "ru", []),
        ("это значит что модем переподключился", "ru", []),
        ("значит ни одного разрыва не было", "ru", []),
        ("какого типа у вас модем", "ru", []),
        ("um so like sorry about that", "en", ["um", "like"]),
        ("would you like to come to our office", "en", []),
        ("what kind of router is it", "en", []),
        ("it's kind of hard to notice", "en", ["kind", "of"]),
        ("you know the modem reconnects", "en", ["you", "know"]),
        ("do you know when it started", "en", []),
        ("well um i understand", "en", ["well", "um"]),
        ("it works well", "en", []),
    ],
)
def test_fillers_are_found_by_context(text, lang, fillers):
    assert removed(text, lang) == fillers


@pytest.mark.parametrize(
    "classifier,text,moves",
    [
        (RU, "ну э значит извините нас за разрывы", ("apologize",)),
        (RU, "всего э-э доброго до э свидания", ("end_call",)),
        (RU, "как бы какой у вас в общем модем", ("ask_modem",)),
        (RU, "короче у вас все в порядке не переживайте", ("reassure",)),
        (RU, "ну короче сейчас гляну", ()),
        (RU, "э-э ну в общем как бы", ()),
        (EN, "um so like what modem do you have", ("ask_modem",)),
        (EN, "uh well um goodbye", ("end_call",)),
        (EN, "like er i mean basically", ()),
        (EN, "would you like to come to our office tomorrow", ("invite_office",)),
    ],
)
def test_hesitations_change_nothing(classifier, text, moves):
    assert classifier.classify(text).moves == moves


@pytest.mark.parametrize(
    "classifier,text,move",
    [
        # "короче" is a comparative of "короткий", a word of explain_reconnect ("коротк* + разрыв*").
        (RU, "короче разрывы у вас были вчера", "explain_reconnect"),
        (RU, "короче говоря обрывы начались вчера", "explain_reconnect"),
        # "mean" is a word of confirm_no_drops ("you mean… no drops?"); "i mean" only fills.
        (EN, "i mean there were no drops at all on our side", "confirm_no_drops"),
    ],
)
def test_a_filler_never_makes_the_move_its_dictionary_form_belongs_to(classifier, text, move):
    assert move not in classifier.classify(text).moves


def test_the_comparative_still_counts_where_it_means_shorter():
    assert "explain_reconnect" in RU.classify("разрыв гораздо короче чем вы думаете его просто не видно").moves


HESITATIONS = {"ru": ["ну", "э", "ээ", "значит", "как бы", "в общем", "короче", "это самое", "м"],
               "en": ["um", "uh", "like", "well", "you know", "i mean", "basically", "er"]}


@pytest.mark.parametrize("lang,limit", [("ru", 0.02), ("en", 0.05)])
def test_fillers_inserted_at_random_into_labelled_utterances_rarely_change_the_moves(lang, limit):
    """Harsher than speech: fillers land anywhere, even inside fixed phrases ("всего э доброго")."""
    classifier = RU if lang == "ru" else EN
    rng = random.Random(11)
    texts = [line.split("\t", 1)[1] for name in (f"moves.{lang}.tsv", f"moves.{lang}.holdout.tsv")
             for line in (DATA / name).read_text(encoding="utf-8").splitlines()
             if "\t" in line and not line.startswith("#")]
    changed = []
    for text in texts:
        words = text.split()
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randint(0, len(words)), rng.choice(HESITATIONS[lang]))
        if set(classifier.classify(text).moves) != set(classifier.classify(" ".join(words)).moves):
            changed.append(" ".join(words))
    assert len(changed) <= limit * len(texts), changed[:10]
