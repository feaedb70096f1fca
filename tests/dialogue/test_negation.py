"""Negation and denial: a move the trainee says is *not* being made does not fire, in Russian and English.

Denial frames are language knowledge (voice_trainer/dialogue/negation.py), checked here on the real razryv
scenarios with phrasings of our own, and on look-alikes whose negation belongs to the move itself.
"""

from __future__ import annotations

import pytest

from voice_trainer.dialogue.negation import denials
from voice_trainer.dialogue.text import lemmatizer_for, tokenize
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

RU = MoveClassifier(load("razryv", "ru").data.moves, "ru")
EN = MoveClassifier(load("razryv", "en").data.moves, "en")


def flags(text: str, lang: str) -> tuple[list[str], list[str]]:
    tokens = tokenize(text, lemmatizer_for(lang))
    d = denials(tokens, lang)
    return ([t.surface for t, on in zip(tokens, d.denied) if on], [t.surface for t, on in zip(tokens, d.frame) if on])


@pytest.mark.parametrize(
    "text,lang,denied,frame",
    [
        ("о пунктах договора речь не идет", "ru", ["о", "пунктах", "договора"], ["речь", "не", "идет"]),
        ("я вовсе не намекаю что вы сидите в сети", "ru", ["что", "вы", "сидите", "в", "сети"], ["не", "намекаю"]),
        ("в офис вам приходить не нужно мы все решим", "ru", ["в", "офис", "вам", "приходить"], ["не", "нужно"]),
        ("нет необходимости ехать в офис мы все решим", "ru", ["ехать", "в", "офис"], ["нет", "необходимости"]),
        ("there is no need to visit us we can fix it", "en", ["visit", "us"], ["no", "need", "to"]),
        ("leave the contract aside", "en", ["leave", "the", "contract"], ["aside"]),
        ("i'm not saying you are online all day but", "en", ["you", "are", "online", "all", "day"], ["i'm", "not", "saying"]),
    ],
)
def test_a_denial_frame_covers_its_clause_and_no_further(text, lang, denied, frame):
    assert flags(text, lang) == (denied, frame)


@pytest.mark.parametrize(
    "text,move",
    [
        ("к нам в офис приезжать не надо разберемся по телефону", "invite_office"),
        ("в офис подъезжать вам не нужно", "invite_office"),
        ("нет никакой необходимости приходить к нам в офис", "invite_office"),
        ("о пунктах договора тут речь не идет", "cite_contract"),
        ("договор здесь совершенно ни при чем", "cite_contract"),
        ("я сейчас говорю не о договоре", "cite_contract"),
        ("забудьте вы про этот договор", "cite_contract"),
        ("извиняться вам тут не за что", "apologize"),
        ("я вовсе не намекаю что компьютер у вас круглосуточно включен", "ask_pc_always_on"),
        ("я не спрашиваю какой у вас модем", "ask_modem"),
        ("дело не в том что вы качаете фильмы", "ask_usage"),
    ],
)
def test_a_denied_move_does_not_fire_in_russian(text, move):
    result = RU.classify(text)
    assert move not in result.moves
    assert move in result.denied


@pytest.mark.parametrize(
    "text,move",
    [
        ("there's no need to come to our office", "invite_office"),
        ("you don't have to visit our branch we'll sort it out by phone", "invite_office"),
        ("forget about the contract for now", "cite_contract"),
        ("let's put the agreement aside", "cite_contract"),
        ("this isn't about your contract", "cite_contract"),
        ("there's nothing to apologize for", "apologize"),
        ("i'm not saying your computer is on around the clock", "ask_pc_always_on"),
        ("i'm not asking which router you have", "ask_modem"),
    ],
)
def test_a_denied_move_does_not_fire_in_english(text, move):
    result = EN.classify(text)
    assert move not in result.moves
    assert move in result.denied


@pytest.mark.parametrize(
    "classifier,text,move",
    [
        # The negation belongs to the move itself.
        (RU, "не переживайте это совершенно нормально", "reassure"),
        (RU, "переживать тут совершенно не стоит", "reassure"),
        (RU, "вам не о чем беспокоиться", "reassure"),
        (RU, "прощения просить вам не в чем", "reassure"),
        (RU, "вы не выключали компьютер ни разу", "ask_pc_always_on"),
        (RU, "то есть разрывов раньше не было", "confirm_no_drops"),
        (EN, "there's no need to worry it's normal", "reassure"),
        (EN, "you have nothing to apologize for", "reassure"),
        (EN, "so you never had a single drop before", "confirm_no_drops"),
        # The denial covers another clause than the move.
        (RU, "не нужно ничего делать модем сам переподключается", "explain_reconnect"),
        (RU, "приходите к нам в офис с собой ничего брать не нужно", "invite_office"),
        (RU, "речь не о договоре а о том когда вы подключились", "ask_connect_date"),
        (EN, "you don't need to do anything the modem reconnects by itself", "explain_reconnect"),
        (EN, "come to our office tomorrow no need to bring anything", "invite_office"),
    ],
)
def test_a_negation_that_is_part_of_the_move_or_of_another_clause_keeps_it(classifier, text, move):
    assert move in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text,move",
    [
        # A set phrase right after the speaker's own negation is said negated.
        (RU, "я не кладу трубку", "end_call"),
        (RU, "я не завершаю разговор мы еще не закончили", "end_call"),
        (RU, "это не наша вина а погода", "apologize"),
        (EN, "i'm not hanging up on you", "end_call"),
        (EN, "it isn't our fault at all", "apologize"),
        # A refusal covers the infinitive's own phrase: the contract after "зачитывать" is refused too.
        (RU, "я не буду вам зачитывать договор", "cite_contract"),
        (RU, "не стану я вам цитировать пункты договора", "cite_contract"),
        (EN, "we won't read you the contract", "cite_contract"),
        # "Not what matters" sets its subject aside.
        (RU, "договор тут не главное", "cite_contract"),
        (EN, "the contract isn't what matters here", "cite_contract"),
    ],
)
def test_a_negated_phrase_or_refused_object_does_not_fire(classifier, text, move):
    assert move not in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text,move",
    [
        # A negated request to the listener is the move itself, not its negation.
        (RU, "не смешите меня", "mock"),
        (RU, "не морочьте мне голову", "rude"),
        (RU, "не переживайте мы все исправим", "reassure"),
        (EN, "don't be ridiculous", "rude"),
        (EN, "please don't worry we're on it", "reassure"),
        # Intensifying negations keep the move.
        (EN, "i can't apologize enough for this", "apologize"),
        (RU, "нет нет простите нас пожалуйста за эти неудобства", "apologize"),
        # A negated question about his habits is still the question.
        (RU, "вы не выключаете компьютер на ночь", "ask_pc_always_on"),
        (EN, "do you not switch the computer off at night", "ask_pc_always_on"),
    ],
)
def test_a_negation_that_belongs_to_the_move_keeps_it(classifier, text, move):
    assert move in classifier.classify(text).moves
