"""Lemma traps: common words a pattern word also matches through a prefix, a shared form or sound."""

from __future__ import annotations

from voice_trainer.dialogue.common_words import COMMON_WORDS
from voice_trainer.dialogue.traps import lemma_traps, pattern_traps


def meanings(word: str, lang: str = "ru", via: str | None = None) -> dict[str, tuple[str, ...]]:
    return {t.meaning: t.matches for t in lemma_traps(word, lang) if via is None or t.via == via}


def test_a_short_prefix_shows_the_unrelated_words_it_catches():
    found = meanings("раз*", via="prefix")
    assert "раз" in found and "разговор" in found and "разрыв" in found
    assert "раз" in found["раз"]


def test_a_long_prefix_of_one_family_is_no_trap():
    assert lemma_traps("переподключ*", "ru") == []
    assert lemma_traps("договор", "ru") == []


def test_a_form_of_two_words_shows_the_other_one():
    assert meanings("стали", via="lemma")["сталь"] == ("стали",)


def test_real_words_that_sound_like_the_pattern_word_are_shown():
    assert "contact" in meanings("contract*", "en", via="sound")["contact"]
    assert "пустите" in {w for m in meanings("простите", via="sound").values() for w in m}


def test_an_exact_form_has_no_lemma_or_prefix_trap():
    assert not [t for t in lemma_traps("=понимаю", "ru") if t.via != "sound"]


def test_function_words_are_not_reported():
    assert [t.word for t in pattern_traps("какой|что за + мод*", "ru")] == ["мод*", "мод*"]


def test_a_trap_has_a_message_for_the_author_and_json():
    (trap, *_) = lemma_traps("мод*", "ru")
    assert trap.message().startswith("«мод*» also matches «")
    assert set(trap.to_json()) == {"word", "via", "meaning", "matches", "message"}


def test_not_a_word_or_a_broken_pattern_gives_no_traps():
    assert lemma_traps("a + b", "en") == [] and pattern_traps("a ++ b", "en") == []


def test_the_common_word_lists_are_large_and_most_frequent_first():
    for lang in ("ru", "en"):
        assert len(COMMON_WORDS[lang]) > 1000
    assert COMMON_WORDS["ru"][:3] == ("вы", "не", "в") and "you" in COMMON_WORDS["en"][:5]
