"""The customer's voice on the real pyttsx3 + eSpeak NG."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from voice_trainer.errors import VoiceTrainerError
from voice_trainer.speech.interfaces import Prosody
from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer, SynthesisError
from voice_trainer.speech.voice import prosody_for, split_sentences
from tests.fixtures.headset import fundamental_hz, rms

RU_LINE = "Здравствуйте, у меня опять пропал интернет, и никто не может объяснить почему."
EN_LINE = "Hello, my internet is down again and nobody can tell me why."


@pytest.fixture(scope="module")
def russian():
    synth = Pyttsx3Synthesizer("ru")
    yield synth
    synth.close()


@pytest.fixture(scope="module")
def english():
    synth = Pyttsx3Synthesizer("en")
    yield synth
    synth.close()


def plausible_seconds(text: str) -> tuple[float, float]:
    words = len(text.split())
    return 0.15 * words, 0.3 + 0.9 * words


@pytest.mark.parametrize("lang,line", [("ru", RU_LINE), ("en", EN_LINE)])
def test_a_line_renders_to_mono_22k_audio_of_plausible_length(lang, line, russian, english):
    synth = russian if lang == "ru" else english
    chunk = synth.render(line, prosody_for(0))
    low, high = plausible_seconds(line)
    assert chunk.rate_hz == 22050 and chunk.channels == 1 and chunk.width == 2
    assert low <= chunk.duration_ms / 1000 <= high
    assert rms(chunk) > 300  # speech, not silence


def test_voices_are_chosen_by_language(russian, english):
    assert russian.voice_id.endswith("/ru")
    assert english.voice_id.endswith("en-us")


def test_unknown_language_names_the_package_to_install():
    with pytest.raises(SynthesisError, match="apt-get install espeak-ng") as err:
        Pyttsx3Synthesizer("xx-nosuch")
    assert isinstance(err.value, VoiceTrainerError) and err.value.exit_code == 1


def test_twenty_lines_in_a_row_on_one_engine(russian, english):
    durations = []
    for i in range(20):
        synth, line = (russian, RU_LINE) if i % 2 else (english, EN_LINE)
        durations.append(synth.render(line, prosody_for(i * 5)).duration_ms)
    assert all(d > 1000 for d in durations)
    # angrier (later) lines of the same text are faster
    assert durations[-1] < durations[1] and durations[-2] < durations[0]


def test_angry_voice_is_faster_higher_and_louder(russian):
    calm = russian.render(RU_LINE, prosody_for(0))
    angry = russian.render(RU_LINE, prosody_for(100))
    assert angry.duration_ms < 0.9 * calm.duration_ms
    assert fundamental_hz(angry) > 1.1 * fundamental_hz(calm)
    assert rms(angry) > 1.1 * rms(calm)


def test_rendering_prints_nothing_on_stdout(russian, capfd):
    capfd.readouterr()
    russian.render("Проверка тишины на стандартном выводе.", Prosody())
    assert capfd.readouterr().out == ""


def test_empty_text_is_empty_audio(russian):
    assert russian.render("   ", Prosody()).frames == 0


def test_a_closed_synthesizer_refuses_work():
    synth = Pyttsx3Synthesizer("ru")
    synth.close()
    with pytest.raises(SynthesisError, match="closed"):
        synth.render("Алло.", Prosody())


def test_prosody_follows_anger_monotonically_from_calm_to_furious():
    assert prosody_for(0) == Prosody(rate_wpm=160, volume=0.75, pitch=45)
    assert prosody_for(100) == Prosody(rate_wpm=220, volume=1.0, pitch=70)
    steps = [prosody_for(a) for a in range(0, 101, 10)]
    for slower, faster in zip(steps, steps[1:]):
        assert slower.rate_wpm <= faster.rate_wpm
        assert slower.volume <= faster.volume
        assert slower.pitch <= faster.pitch
    assert prosody_for(150) == prosody_for(100) and prosody_for(-5) == prosody_for(0)


def test_sentences_split_at_end_punctuation_and_keep_it():
    assert split_sentences("Интернет опять пропал! Сколько можно ждать? Я жду уже неделю…  Алло, вы тут?") == [
        "Интернет опять пропал!",
        "Сколько можно ждать?",
        "Я жду уже неделю…",
        "Алло, вы тут?",
    ]


def test_sentences_do_not_split_on_abbreviations_or_numbers():
    text = "Тариф на 2.5 гигабита, т.е. самый дорогой. Mr. Smith called twice today."
    assert split_sentences(text) == ["Тариф на 2.5 гигабита, т.е. самый дорогой.", "Mr. Smith called twice today."]


def test_a_trailing_off_ellipsis_before_a_lower_case_word_does_not_split():
    assert split_sentences("Я жду... жду и жду, а мастера всё нет. Это безобразие!") == [
        "Я жду... жду и жду, а мастера всё нет.",
        "Это безобразие!",
    ]


def test_closing_quotes_stay_with_their_sentence():
    assert split_sentences("Мне сказали: «Завтра приедем!» Никто не приехал.") == [
        "Мне сказали: «Завтра приедем!»",
        "Никто не приехал.",
    ]


def test_very_short_fragments_merge_with_the_next_sentence():
    assert split_sentences("Да. Нет. Я звоню уже третий раз.") == ["Да. Нет. Я звоню уже третий раз."]
    assert split_sentences("Я звоню уже третий раз. Ну?") == ["Я звоню уже третий раз. Ну?"]
    assert split_sentences("") == []


def test_without_espeak_the_error_says_what_to_install():
    # A process where pyttsx3 cannot load its espeak binding, as on a machine without espeak-ng.
    code = (
        "import sys\n"
        "sys.modules['pyttsx3.drivers._espeak'] = None\n"
        "from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer, SynthesisError\n"
        "try:\n    Pyttsx3Synthesizer('ru')\nexcept SynthesisError as err:\n    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "apt-get install espeak-ng" in done.stdout, done.stdout + done.stderr


def test_fundamental_estimate_finds_a_known_tone():
    from voice_trainer.audio.chunk import AudioChunk

    t = np.arange(22050) / 22050
    tone = AudioChunk.from_samples(0.3 * np.sin(2 * np.pi * 150 * t), 22050)
    assert fundamental_hz(tone) == pytest.approx(150, rel=0.03)
