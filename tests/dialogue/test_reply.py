"""Composing one answer for a turn of several reactions (dialogue/reply.py), on hand-made reactions."""

from __future__ import annotations

from voice_trainer.dialogue.reply import Said, compose


def said(line: str, rank: str, order: tuple[int, int] = (0, 0), lead: str | None = None, closing: bool = False) -> Said:
    return Said(line, line.upper(), rank, order, lead=lead, closing=closing)


def render(key: str) -> str:
    return f"<{key}>"


def test_the_weightiest_reaction_speaks_and_one_other_leads_in():
    texts, keys = compose([said("apology", "statement", (0, 8), lead="apology_lead"),
                           said("cause", "statement", (0, 13), lead="cause_lead"),
                           said("hello", "minor"),
                           said("modem", "answer", (1, 17))], render)
    assert keys == ["apology_lead", "modem"]
    assert texts == ["<apology_lead>", "MODEM"]


def test_within_a_rank_the_reaction_further_along_the_method_speaks():
    _, keys = compose([said("cause", "statement", (0, 13)), said("apology", "statement", (0, 8))], render)
    assert keys == ["cause"]


def test_several_questions_are_each_answered():
    _, keys = compose([said("modem", "answer", (1, 17)), said("date", "answer", (1, 15))], render)
    assert keys == ["modem", "date"]


def test_conduct_silences_everything_else_and_the_hang_up_closes():
    texts, keys = compose([said("apology", "statement", lead="apology_lead"), said("mocked", "conduct"),
                           said("hanging_up", "statement", closing=True)], render)
    assert keys == ["mocked", "hanging_up"] and texts == ["MOCKED", "HANGING_UP"]


def test_a_combined_line_replaces_the_lines_it_stands_for():
    reactions = [said("apology", "statement", (0, 8), lead="apology_lead"),
                 said("cause", "statement", (0, 13), lead="cause_lead"),
                 said("modem", "answer", (1, 17)), said("date", "answer", (1, 15))]
    _, keys = compose(reactions, render, [(["apology_lead", "cause_lead"], "apology_and_cause")])
    assert keys == ["apology_and_cause", "modem", "date"]
    _, keys = compose(reactions, render, [(["modem", "date"], "modem_and_date")])
    assert keys == ["apology_lead", "modem_and_date"]
