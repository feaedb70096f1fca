"""Move pattern syntax and matching, on the real Russian lemmatizer (pymorphy3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_trainer.dialogue.patterns import CompiledPattern, Lexicon, PatternError, Word, parse_pattern
from voice_trainer.dialogue.text import lemmatizer_for, tokenize

RU = lemmatizer_for("ru")


def matches(pattern: str, text: str) -> bool:
    lexicon = Lexicon(RU)
    compiled = CompiledPattern(parse_pattern(pattern), lexicon)
    return bool(compiled.match(lexicon.read(tokenize(text, RU))).spans)


def test_plus_separates_groups_and_bar_separates_alternatives():
    p = parse_pattern("какой|что за + модем*")
    assert len(p.groups) == 2
    assert p.groups[0] == ((Word("какой"),), (Word("что"), Word("за")))
    assert p.groups[1] == ((Word("модем", prefix=True),),)
    assert p.max_span is None


def test_word_markers_are_parsed():
    (alt,) = parse_pattern("=понимаю приглаша*!").groups[0]
    assert alt == (Word("понимаю", form_only=True), Word("приглаша", prefix=True, affirmed=True))


def test_a_trailing_tilde_number_limits_the_span():
    assert parse_pattern("извините + вопрос* ~3").max_span == 3


@pytest.mark.parametrize("bad", ["a||b", "a + ", "*", "мод*ем", "a ~0", "a ~ 3 + b", "=модем*", "a!b"])
def test_malformed_patterns_are_rejected_with_a_message(bad):
    with pytest.raises(PatternError, match="pattern"):
        parse_pattern(bad)


def test_a_plain_word_matches_its_inflected_forms():
    assert matches("договор", "согласно договору")
    assert matches("договор", "в договоре всё написано")


def test_a_plain_word_does_not_match_a_different_word_sharing_its_start():
    assert not matches("договор", "давайте договоримся")


def test_a_prefix_matches_any_word_starting_with_it():
    assert matches("переподключ*", "модем переподключается сам")


def test_groups_match_in_any_order():
    assert matches("какой + модем*", "модем у вас какой")


def test_words_of_an_alternative_must_be_adjacent():
    assert matches("до свидания", "всего доброго до свидания")
    assert not matches("до свидания", "до завтра свидания не будет")


def test_an_exact_form_does_not_match_other_forms_of_the_lemma():
    assert matches("=понимаю", "я вас понимаю")
    assert not matches("=понимаю", "вы понимаете")


def test_an_affirmed_word_does_not_count_after_a_negation():
    assert matches("офис + приглаша*!", "приглашаю вас в наш офис")
    assert not matches("офис + приглаша*!", "я не буду вас приглашать в офис")


def test_a_negation_stops_at_the_next_content_word():
    assert matches("офис + подойд*!", "не переживайте подойдите к нам в офис")


def test_a_polite_offer_is_not_a_negation():
    assert matches("офис + подойти!", "не хотите подойти к нам в офис")


def test_groups_must_be_close_to_each_other():
    far = "когда вы подключились скажите пожалуйста а то я тут смотрю записи и никак не найду разрыв"
    assert matches("когда + разрыв* ~20", far)
    assert not matches("когда + разрыв*", far)


def test_a_misrecognized_unknown_word_matches_a_near_pattern_word():
    assert matches("разрыв*", "ни одного рызрыва")
    assert matches("извини*", "ивините пожалуйста")


def test_a_dictionary_word_is_never_taken_for_a_misrecognition():
    assert not matches("привет", "вы придете завтра")


def test_every_possible_lemma_of_an_ambiguous_word_is_tried():
    # "стали" is both "стать" (became) and "сталь" (steel).
    assert matches("стать + абонент*", "когда вы стали нашим абонентом")


def test_a_match_reaches_over_further_words_of_the_pattern_within_its_span():
    lexicon = Lexicon(RU)
    compiled = CompiledPattern(parse_pattern("пока + читаете|смотрите ~8"), lexicon)
    m = compiled.match(lexicon.read(tokenize("пока вы читаете текст смотрите картинки", RU)))
    assert [(s.start, s.end) for s in m.spans] == [(0, 2)]
    assert [(s.start, s.end) for s in m.reach] == [(0, 4)]


@pytest.mark.parametrize(
    "pattern,heard",
    [("договор", "почитайте дагавор"), ("офис*", "приходите к нам в офиз"), ("=понимаю", "я вас панимаю")],
)
def test_an_unknown_word_spelled_by_ear_matches_the_word_it_sounds_like(pattern, heard):
    assert matches(pattern, heard)


def test_a_short_unknown_word_must_sound_exactly_like_the_pattern_word():
    assert not matches("офис*", "приходите в опис")


def test_a_reach_stops_at_a_clause_break():
    lexicon = Lexicon(RU)
    compiled = CompiledPattern(parse_pattern("с какого + ни одного"), lexicon)
    m = compiled.match(lexicon.read(tokenize("то есть ни одного разрыва а с какого момента", RU)))
    assert m.spans and m.reach == ()


def test_groups_joined_by_a_chevron_must_come_in_that_order():
    assert parse_pattern("пока > читаете").ordered
    assert matches("пока > =читаете|=смотрите", "пока вы читаете страницу")
    assert not matches("пока > =читаете|=смотрите", "вы сайты читаете ну так вот пока")


def test_a_pattern_is_either_ordered_or_not():
    with pytest.raises(PatternError, match="mixes"):
        parse_pattern("a + b > c")


def test_a_word_the_recognizer_cut_in_two_still_matches():
    assert matches("когда + подключ*", "когда вы под ключились")


def test_two_dictionary_words_are_not_glued_together():
    assert not matches("завод", "за вода")


def test_a_caret_anchors_an_alternative_to_the_start_of_the_turn():
    assert parse_pattern("^на линии").groups[0][0][0] == Word("на", at_start=True)
    assert matches("^на линии", "на линии")
    assert matches("^на линии", "э на линии")  # fillers aside
    assert not matches("^на линии", "у нас авария на линии")


def test_a_caret_may_only_mark_the_first_word_of_an_alternative():
    with pytest.raises(PatternError, match="first word"):
        parse_pattern("на ^линии")


def test_the_pattern_syntax_lives_below_the_dialogue_core():
    from voice_trainer.dialogue import patterns as matching
    from voice_trainer.scenario import patterns as syntax

    assert matching.parse_pattern is syntax.parse_pattern and matching.PatternError is syntax.PatternError
    scenario_dir = Path(syntax.__file__).parent
    for module in scenario_dir.glob("*.py"):
        assert "voice_trainer.dialogue" not in module.read_text(encoding="utf-8"), module.name
