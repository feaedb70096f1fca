"""Issue 7, round 2: what blind batch 4 and the blind calls showed, each fix with look-alikes that must NOT fire.

The turn end `$`, the delicate question's preface, softeners that ask nothing, short phone openers, an office
invitation by its day and time, refusals ("не буду я вам про договор рассказывать"), "X has nothing to do
with it", exact English forms, English sound-alikes only for whole words, a stock phrase said again, and
complaint lines that don't alternate. Real razryv and speed scenarios, real lemmatizers.
"""

from __future__ import annotations

import random

import pytest

from voice_trainer.dialogue.lines import LineBook
from voice_trainer.dialogue.negation import denials
from voice_trainer.dialogue.patterns import CompiledPattern, Lexicon
from voice_trainer.dialogue.text import lemmatizer_for, tokenize
from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load
from voice_trainer.scenario.patterns import PatternError, parse_pattern

RAZRYV = {lang: MoveClassifier(load("razryv", lang).data.moves, lang) for lang in ("ru", "en")}
SPEED = {lang: MoveClassifier(load("speed", lang).data.moves, lang) for lang in ("ru", "en")}


def moves(text: str, lang: str, scenario: dict = RAZRYV) -> set[str]:
    return set(scenario[lang].classify(text).moves)


def matches(pattern: str, text: str, lang: str, by_sound: bool = False) -> bool:
    lemmatizer = lemmatizer_for(lang)
    lexicon = Lexicon(lemmatizer)
    compiled = CompiledPattern(parse_pattern(pattern), lexicon)
    return bool(compiled.match(lexicon.read(tokenize(text, lemmatizer)), by_sound=by_sound).spans)


# -- the turn end `$` -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,found", [
    ("простите что", True),
    ("ну простите что э-э", True),  # fillers aside, as for '^'
    ("простите что так вышло", False),
    ("простите", False),
])
def test_a_word_marked_dollar_counts_only_at_the_end_of_the_turn(text, found):
    assert matches("простите > =что$", text, "ru") is found


def test_dollar_marks_only_the_last_word_of_an_alternative():
    with pytest.raises(PatternError, match="turn end"):
        parse_pattern("что$ вы + простите")
    assert parse_pattern("простите > что вы$").groups[1][0][-1].at_end


@pytest.mark.parametrize("text,lang,apology", [
    ("простите что", "ru", False),
    ("извините что вы сказали", "ru", False),
    ("извините что так получилось", "ru", True),
    ("простите что заставили ждать", "ru", True),
    ("sorry what", "en", False),
    ("sorry what a mess we made today", "en", True),
    ("sorry", "en", True),
])
def test_pardon_at_the_end_of_the_turn_is_no_apology(text, lang, apology):
    assert ("apologize" in moves(text, lang)) is apology
    assert ("apologize" in moves(text, lang, SPEED)) is apology


# -- the delicate question's preface and softeners --------------------------------------------------------------

@pytest.mark.parametrize("text,lang,want,not_want", [
    ("простите мне неловко спрашивать но", "ru", "ask_permission", "apologize"),
    ("простите мне неловко спрашивать но можно личный вопрос", "ru", "ask_permission", "apologize"),
    ("sorry this is a bit awkward to ask but", "en", "ask_permission", "apologize"),
])
def test_an_apology_that_prefaces_a_delicate_question_asks_permission(text, lang, want, not_want):
    found = moves(text, lang)
    assert want in found and not_want not in found


@pytest.mark.parametrize("text,lang", [
    ("ой извините пожалуйста нам очень неловко", "ru"),
    ("мне правда неловко перед вами извините", "ru"),
    ("i'm so sorry this is awkward for us", "en"),
])
def test_an_apology_that_is_embarrassed_is_still_an_apology(text, lang):
    assert moves(text, lang) >= {"apologize"}
    assert "ask_permission" not in moves(text, lang)


@pytest.mark.parametrize("text,want", [
    ("no offence", set()),
    ("no offence but can i ask you something", {"ask_permission"}),
    ("don't take it the wrong way but may i ask a question", {"ask_permission"}),
    ("no offence but like all of us you must get up for lunch sometimes", {"ask_toilet"}),
])
def test_a_softener_asks_permission_only_with_a_question_of_its_own(text, want):
    assert moves(text, "en") == want


# -- short phone openers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,lang", [
    ("да слушаю", "ru"), ("да да поддержка говорите", "ru"), ("алло алло вас слышно говорите", "ru"),
    ("техподдержка", "ru"), ("yeah support", "en"), ("yes i'm listening", "en"), ("tech support", "en"),
    ("you've reached broadband support", "en"), ("customer care this is anna", "en"),
])
def test_a_short_phone_opener_greets(text, lang):
    assert moves(text, lang) == {"greet"}


@pytest.mark.parametrize("text,lang", [
    ("да я на линии", "ru"), ("у нас авария на линии", "ru"), ("поддержка у нас круглосуточная", "ru"),
    ("hello are you even listening", "en"), ("our support team is on it", "en"),
])
def test_look_alikes_of_phone_openers_do_not_greet(text, lang):
    assert "greet" not in moves(text, lang)


def test_opening_words_said_again_later_are_no_scripted_repetition(call):
    c = call("ru")
    c.say("добрый день техподдержка")
    c.say("извините за обрывы у нас растаял снег и затопило колодцы бригада уже работает")
    c.say("да слушаю вас")
    assert "repetition" not in c.flags_of_last_turn()


# -- an office invitation by its day and time -------------------------------------------------------------------

@pytest.mark.parametrize("text,lang", [
    ("приходите во вторник к одиннадцати", "ru"),
    ("подходите завтра часам к десяти наши инженеры все покажут", "ru"),
    ("жду вас в пятницу в три", "ru"),
    ("come and see us on tuesday at eleven", "en"),
    ("drop by tomorrow morning and our engineers will show you", "en"),
])
def test_come_with_a_day_or_time_is_the_office_invitation(text, lang):
    assert "invite_office" in moves(text, lang)


@pytest.mark.parametrize("text,lang", [
    ("перезвоните во вторник к одиннадцати", "ru"),
    ("зайдите завтра на сайт и проверьте", "ru"),
    ("я приду во вторник сам", "ru"),
    ("приходить во вторник никуда не нужно", "ru"),
    ("i'll come in on tuesday myself", "en"),
    ("okay so just so i get this right not a single drop in five months", "en"),
    ("call us back on tuesday at eleven", "en"),
])
def test_look_alikes_of_a_timed_invitation_do_not_invite(text, lang):
    assert "invite_office" not in moves(text, lang)


def test_a_stubborn_customer_invited_for_tuesday_at_eleven_comes_then(call):
    c = call("ru", "stubborn", "keep_client", seed=1)
    c.say_all([
        "добрый день извините пожалуйста за обрывы у нас растаял снег и затопило узлы техники уже работают",
        "я вас понимаю давайте уточним когда вы подключились",
        "какой у вас модем",
        "то есть все пять месяцев вы не замечали ни одного разрыва",
        "компьютер у вас все время был включен",
        "вы читаете сайты или скачиваете файлы",
        "пока вы читаете страницу модем сам переподключается за двадцать секунд и вы этого не замечаете",
        "знаете я давно хотел спросить но не решался можно деликатный вопрос",
        "не обижайтесь но вы ведь как и все мы иногда отходите от компьютера налить чаю",
    ])
    assert c.state == "standing_firm"
    line = c.say("тогда приходите во вторник к одиннадцати наши специалисты все покажут")
    assert c.conversation.call.ending == "office_visit"
    assert "вторник" in line.text and "одиннадцати" in line.text


# -- refusals and "has nothing to do with it" -------------------------------------------------------------------

@pytest.mark.parametrize("text,lang,move", [
    ("не буду я вам про договор рассказывать", "ru", "cite_contract"),
    ("не стану я вас в офис приглашать", "ru", "invite_office"),
    ("i'm not going to apologize", "en", "apologize"),
    ("i won't read you the contract", "en", "cite_contract"),
    ("this has nothing to do with the contract", "en", "cite_contract"),
])
def test_a_refused_or_dismissed_move_is_not_made(text, lang, move):
    assert move not in moves(text, lang)


@pytest.mark.parametrize("text,lang,move", [
    ("я не буду вас больше задерживать всего доброго", "ru", "end_call"),
    ("it won't happen again sorry", "en", "apologize"),
])
def test_what_comes_after_a_refusal_still_counts(text, lang, move):
    assert move in moves(text, lang)


def test_has_nothing_to_do_with_it_covers_what_came_before_not_what_follows():
    tokens = tokenize("the contract has nothing to do with it let's sort it out", lemmatizer_for("en"))
    d = denials(tokens, "en")
    assert [t.surface for t, on in zip(tokens, d.denied) if on] == ["the", "contract"]
    assert moves("the contract has nothing to do with it let's sort it out", "en", SPEED) == {"acknowledge"}


# -- English: exact forms and real words ------------------------------------------------------------------------

@pytest.mark.parametrize("text,found", [("connect", True), ("connected", False), ("connects", False)])
def test_an_english_exact_form_is_exact(text, found):
    assert matches("=connect", text, "en") is found
    assert matches("=connect", text, "en", by_sound=True) is found


@pytest.mark.parametrize("text,heard", [
    ("contact", True), ("contacts", True), ("contracts", True),
    ("contacting", False), ("contacted", False),
])
def test_an_english_sound_alike_is_a_whole_word_not_a_stem(text, heard):
    assert matches("contract*", text, "en", by_sound=True) is heard


@pytest.mark.parametrize("text", ["thanks for contacting us", "i am contacting the engineers now",
                                  "we are contacting your landlord about the cable"])
def test_contacting_someone_is_no_contract(text):
    assert "cite_contract" not in moves(text, "en")
    assert "cite_terms" not in moves(text, "en", SPEED)


# -- stock phrases and complaint lines --------------------------------------------------------------------------

@pytest.mark.parametrize("lang,phrase", [("ru", "ваше обращение зафиксировано"),
                                         ("en", "your complaint has been logged")])
def test_a_stock_phrase_said_again_is_repetition_at_once(call, lang, phrase):
    c = call(lang)
    c.say(phrase)
    assert "repetition" not in c.flags_of_last_turn()
    c.say(phrase)
    assert "repetition" in c.flags_of_last_turn()


def test_your_call_is_very_important_is_a_stock_phrase(call):
    c = call("en")
    c.say("your call is very important to us")
    assert "manual_phrase" in c.flags_of_last_turn()


def test_complaints_go_through_every_variant_before_one_comes_back():
    book = LineBook({"k": ["a", "b", "c"]}, "reasonable", {}, random.Random(3))
    first_round = [book.say("k") for _ in range(3)]
    assert sorted(first_round) == ["a", "b", "c"]
    said = first_round + [book.say("k") for _ in range(30)]
    assert all(x != y for x, y in zip(said, said[1:]))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_stock_phrases_get_escalating_different_replies(call, lang):
    c = call(lang)
    phrases = {"ru": ["ваше обращение зафиксировано", "мы передали информацию в профильный отдел",
                      "ожидайте решения в порядке очереди", "ваш звонок очень важен для нас"],
               "en": ["your complaint has been logged", "we have passed the information to the relevant department",
                      "please wait for a resolution in the queue", "your call is very important to us"]}[lang]
    replies = [c.say(p).text for p in phrases]
    assert len(set(replies)) == len(replies)
