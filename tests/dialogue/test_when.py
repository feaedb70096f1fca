"""The day and time a trainee proposes are read from recognizer-style words and typed digits, and said back
in the customer's words; amounts, past days and vague offers are not proposals."""

from __future__ import annotations

import pytest

from voice_trainer.dialogue.when import DayTime, read_day_and_time, say_day_and_time


def echo(text: str, lang: str) -> str | None:
    when = read_day_and_time(text, lang)
    return None if when is None else say_day_and_time(when, lang)


@pytest.mark.parametrize(
    "text,said",
    [
        ("давайте вы подъедете во вторник к одиннадцати", "во вторник к одиннадцати"),
        ("ждём вас послезавтра в 16:00", "послезавтра в шестнадцать часов"),
        ("можно в среду в пол третьего", "в среду в половине третьего"),
        ("в четверг часам к трём подходите", "в четверг к трём"),
        ("жду вас завтра в девять утра", "завтра в девять утра"),
        ("сегодня в семь вечера будет удобно", "сегодня в семь вечера"),
        ("в пятницу без четверти двенадцать", "в пятницу без четверти двенадцать"),
        ("приходите в субботу", "в субботу"),
        ("к полудню в понедельник", "в понедельник к полудню"),
        ("в десять тридцать завтра", "завтра в десять тридцать"),
        ("в 14 30 в среду", "в среду в четырнадцать тридцать"),
        ("в час дня", "в час дня"),
        ("в воскресенье около пяти", "в воскресенье к пяти"),
    ],
)
def test_russian_proposals_are_read_and_said_back(text, said):
    assert echo(text, "ru") == said


@pytest.mark.parametrize(
    "text",
    [
        "модем переподключается секунд за двадцать",
        "в десять раз быстрее чем раньше",
        "вчера в десять вечера всё пропало",
        "вы подключились пять месяцев назад",
        "приходите когда вам будет удобно",
        "у нас в офисе работают в две смены",
        "через час всё восстановят",
        "в прошлую пятницу тоже были сбои",
    ],
)
def test_russian_look_alikes_are_not_proposals(text):
    assert read_day_and_time(text, "ru") is None


def test_a_past_time_does_not_hide_the_proposal_after_it():
    assert echo("вчера в десять пропала связь а вы приходите завтра к одиннадцати", "ru") == "завтра к одиннадцати"
    assert echo("it dropped yesterday at ten so come by tomorrow at eleven", "en") == "tomorrow at eleven"


@pytest.mark.parametrize(
    "text,said",
    [
        ("could you come over on tuesday at eleven", "on Tuesday at eleven"),
        ("tomorrow at noon works for us", "tomorrow at noon"),
        ("we can see you at 4 pm on friday", "on Friday at four in the afternoon"),
        ("drop in at half past two", "at half past two"),
        ("the day after tomorrow at 9:30 am", "the day after tomorrow at nine thirty in the morning"),
        ("at a quarter to five on monday", "on Monday at a quarter to five"),
        ("at 16:00 on wednesday", "on Wednesday at four in the afternoon"),
        ("on saturday morning", "on Saturday in the morning"),
        ("by ten tomorrow", "tomorrow by ten"),
        ("at ten o'clock on thursday", "on Thursday at ten"),
    ],
)
def test_english_proposals_are_read_and_said_back(text, said):
    assert echo(text, "en") == said


@pytest.mark.parametrize(
    "text",
    [
        "at one point the modem reconnects",
        "it takes about twenty seconds",
        "ten times faster than before",
        "yesterday at ten it dropped again",
        "come whenever it suits you",
        "at one of our offices",
        "last friday at noon it was fine",
        "around five people called today",
    ],
)
def test_english_look_alikes_are_not_proposals(text):
    assert read_day_and_time(text, "en") is None


def test_office_hours_decide_the_half_of_the_day_unless_it_was_said():
    assert read_day_and_time("в три", "ru") == DayTime(hour=15)
    assert read_day_and_time("в девять", "ru").hour == 9
    assert read_day_and_time("at three in the morning", "en").hour == 3
    assert read_day_and_time("at 7 pm", "en").hour == 19
