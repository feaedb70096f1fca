"""What a trainee really says, beyond the textbook: sarcasm, everyday rudeness, the short ways agents pick up
the phone and end a call, and the trainee talking like the customer. Russian and English, on the real
razryv scenarios; each case is a phrasing of our own, with look-alikes that must not fire."""

from __future__ import annotations

import pytest

from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

RU = MoveClassifier(load("razryv", "ru").data.moves, "ru")
EN = MoveClassifier(load("razryv", "en").data.moves, "en")
QUESTIONS_AND_CHECKS = {"confirm_no_drops", "ask_since_when", "ask_connect_date", "ask_pc_always_on", "ask_usage",
                        "acknowledge", "apologize"}


@pytest.mark.parametrize(
    "classifier,text",
    [
        # Ironic echo of his claim
        (RU, "ну да ну да связь у вас идеальная ни единого сбоя"),
        (RU, "ага конечно пять месяцев ни одного обрыва"),
        (RU, "верю верю ни разу не пропадала"),
        (EN, "oh sure not one single drop in five months"),
        (EN, "yeah right flawless internet all year"),
        # Ironic praise of his luck or endurance
        (RU, "вам можно только позавидовать столько месяцев без сбоев"),
        (RU, "да вы счастливчик прямо"),
        (RU, "вот это терпение у вас железное"),
        (RU, "вам медаль надо дать за такое терпение"),
        (EN, "you must be the luckiest customer we have"),
        (EN, "congratulations on your perfect connection"),
        # A shrug in place of an apology
        (RU, "ну что поделаешь бывает"),
        (RU, "извините конечно но что тут поделаешь"),
        (RU, "такова жизнь"),
        (EN, "sorry but stuff happens what can you do"),
        (EN, "oh well that's life"),
    ],
)
def test_sarcasm_and_smirking_are_mockery_not_a_check_or_an_apology(classifier, text):
    result = classifier.classify(text)
    assert "mock" in result.moves
    assert not QUESTIONS_AND_CHECKS & set(result.moves), result.moves


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "вы сами то понимаете что несете"),
        (RU, "зря вы вообще позвонили"),
        (RU, "с вашими познаниями в технике лучше молчать"),
        (RU, "вам бы к врачу сходить"),
        (RU, "научитесь сначала читать договор"),
        (RU, "что вы ко мне привязались"),
        (EN, "can you even hear yourself"),
        (EN, "you shouldn't have bothered calling"),
        (EN, "learn how to use a computer"),
        (EN, "i haven't got time for this nonsense"),
        (EN, "you have no idea what you're talking about"),
    ],
)
def test_rudeness_in_everyday_words_is_rude(classifier, text):
    assert "rude" in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "на линии"),
        (RU, "техподдержка говорите"),
        (RU, "провайдер да"),
        (RU, "диспетчер слушает"),
        (RU, "служба поддержки на проводе"),
        (RU, "слушаю вас говорите"),
        (RU, "добрый вечерочек"),
        (EN, "support desk go ahead"),
        (EN, "helpdesk yeah"),
        (EN, "tech support what's the problem"),
    ],
)
def test_short_phone_openers_open_the_call(classifier, text):
    assert classifier.classify(text).moves == ("greet",)


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "на линии авария бригада уже выехала"),
        (RU, "оставайтесь на линии"),
        (RU, "я вас слушаю"),
        (EN, "please hold the line"),
        (EN, "our support team will call you"),
        (EN, "hello can you hear me"),
    ],
)
def test_the_opener_words_elsewhere_do_not_open_the_call(classifier, text):
    assert "greet" not in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "ну все я с вами прощаюсь"),
        (RU, "на этом наш разговор завершаю"),
        (RU, "больше ничем помочь не могу до свидания"),
        (RU, "давайте закругляться всего хорошего"),
        (RU, "все кладу трубку"),
        (EN, "let's wrap this up"),
        (EN, "i'm going to end the call here"),
        (EN, "i'll let you go then"),
        (EN, "we're done here goodbye"),
    ],
)
def test_plain_endings_end_the_call(classifier, text):
    assert "end_call" in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "мы с вами пока не прощаемся"),
        (RU, "не кладите трубку"),
        (RU, "разговор еще не закончен"),
        (EN, "please don't hang up"),
        (EN, "we're not done yet"),
    ],
)
def test_a_denied_ending_does_not_end_the_call(classifier, text):
    assert "end_call" not in classifier.classify(text).moves


@pytest.mark.parametrize(
    "classifier,text",
    [
        (RU, "у меня дома тоже ни одного разрыва за полгода"),
        (RU, "я сам все время сижу в интернете"),
        (RU, "у меня у самого компьютер всегда включен"),
        (RU, "вы меня слышите"),
        (RU, "алло меня слышно"),
        (EN, "i never had a single drop either"),
        (EN, "my own computer is on all the time"),
        (EN, "can you hear me okay"),
        (EN, "are you still there"),
    ],
)
def test_customer_like_statements_and_can_you_hear_me_are_no_moves(classifier, text):
    assert classifier.classify(text).moves == ()


@pytest.mark.parametrize(
    "lang,text",
    [
        ("ru", "ну конечно за полгода ни одного разрыва просто чудо"),
        ("ru", "да вам повезло как никому"),
        ("ru", "ага а я папа римский"),
        ("ru", "ну а что вы хотите бывает"),
        ("en", "oh sure five flawless months in a row"),
        ("en", "what do you expect these things happen"),
    ],
)
def test_ironic_agreement_wonder_and_shrugs_are_mockery(lang, text):
    from voice_trainer.dialogue.understanding import MoveClassifier
    from voice_trainer.scenario.loader import load

    result = MoveClassifier(load("razryv", lang).data.moves, lang).classify(text)
    assert "mock" in result.moves
    assert "apologize" not in result.moves and "confirm_no_drops" not in result.moves


@pytest.mark.parametrize(
    "lang,text,move",
    [
        ("ru", "вы хоть понимаете как компьютер работает", "rude"),
        ("ru", "что за глупый вопрос", "rude"),
        ("en", "do you even know how a router works", "rude"),
        ("ru", "извините за глупый вопрос а какой у вас модем", "ask_modem"),
        ("en", "that's not funny at all i'm sorry", "apologize"),
    ],
)
def test_condescension_is_rude_and_self_deprecation_is_not(lang, text, move):
    from voice_trainer.dialogue.understanding import MoveClassifier
    from voice_trainer.scenario.loader import load

    result = MoveClassifier(load("razryv", lang).data.moves, lang).classify(text)
    assert move in result.moves
    if move != "rude":
        assert "rude" not in result.moves


@pytest.mark.parametrize(
    "lang,text,move,absent",
    [
        ("ru", "там у нас колодец подтопило вот и обрывы", "explain_outage", None),
        ("ru", "ну-ну рассказывайте", "mock", None),
        ("ru", "извините а с какого дня это у вас", "ask_since_when", None),
        ("ru", "с какого числа вы пользуетесь нашими услугами", "ask_connect_date", "ask_since_when"),
        ("en", "uh huh go on tell me more", "mock", None),
        ("en", "alright talk soon", "end_call", None),
        ("en", "i also had no drops for five months", None, "confirm_no_drops"),
        ("en", "so in all that time not one drop is that right", "confirm_no_drops", None),
    ],
)
def test_blind_batch_six_gaps_stay_closed(lang, text, move, absent):
    from voice_trainer.dialogue.understanding import MoveClassifier
    from voice_trainer.scenario.loader import load

    moves = MoveClassifier(load("razryv", lang).data.moves, lang).classify(text).moves
    if move:
        assert move in moves
    if absent:
        assert absent not in moves
