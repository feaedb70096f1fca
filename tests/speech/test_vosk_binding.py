"""The recognizer calls vosk's library without importing the vosk package (its model downloader's imports
cost a practice process ~10 MB): same words as the package's own API, nothing of the downloader loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import soundfile as sf

from voice_trainer.speech import vosk_binding

PHRASE = "안녕하세요 감사합니다"

# A fresh interpreter: its sys.modules shows what recognizing a file imported.
RECOGNIZE = r"""
import json, sys
from pathlib import Path
from voice_trainer.speech.vosk_recognizer import load_model, transcribe_file
model = load_model(Path(sys.argv[1]))
words = [w.text for w in transcribe_file(Path(sys.argv[2]), model).words]
print(json.dumps({"words": words, "modules": sorted(sys.modules)}))
"""


def test_recognizing_needs_neither_the_vosk_package_nor_an_http_client(ko_model_path, espeak_wav):
    wav = espeak_wav(PHRASE, pad_ms=300)
    proc = subprocess.run([sys.executable, "-c", RECOGNIZE, str(ko_model_path), str(wav)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["words"], "the bound library recognized nothing"
    loaded = {m.split(".")[0] for m in seen["modules"]}
    assert loaded.isdisjoint({"vosk", "requests", "urllib3", "tqdm", "srt"}), sorted(
        loaded & {"vosk", "requests", "urllib3", "tqdm", "srt"})


def test_the_binding_hears_what_the_vosk_package_hears(ko_model_path, espeak_wav):
    import vosk  # the package's own API, for comparison only

    samples, rate = sf.read(str(espeak_wav(PHRASE, pad_ms=300)), dtype="int16")
    assert rate == 16000 and samples.ndim == 1
    audio = samples.tobytes()
    grammar = json.dumps([PHRASE, "[unk]"], ensure_ascii=False)
    vosk.SetLogLevel(-1)

    def heard(model_class, recognizer_class) -> tuple[str, list[list[str]], bool]:
        model = model_class(str(ko_model_path))
        recognizer = recognizer_class(model, 16000, grammar)
        recognizer.SetWords(True)
        for start in range(0, len(audio), 6400):
            recognizer.AcceptWaveform(audio[start : start + 6400])
        final = json.loads(recognizer.FinalResult())
        free = recognizer_class(model, 16000)
        free.AcceptWaveform(audio)
        return final["text"], [sorted(w) for w in final["result"]], bool(json.loads(free.FinalResult())["text"])

    ours = heard(vosk_binding.Model, vosk_binding.KaldiRecognizer)
    assert ours[0] == PHRASE and ours[2]
    assert ours == heard(vosk.Model, vosk.KaldiRecognizer)


def test_a_folder_that_is_no_model_fails_as_vosk_does(tmp_path):
    vosk_binding.SetLogLevel(-3)
    with pytest.raises(RuntimeError, match="Failed to create a model"):
        vosk_binding.Model(str(tmp_path))


def test_a_grammar_recognizer_starts_and_the_model_looks_words_up(ko_model):
    grammar = vosk_binding.KaldiRecognizer(ko_model, 16000, json.dumps(["안녕하세요", "[unk]"], ensure_ascii=False))
    assert ko_model.vosk_model_find_word("안녕하세요") >= 0
    assert ko_model.vosk_model_find_word("zzzz-not-a-word") < 0
    assert grammar.AcceptWaveform(bytes(3200)) is False, "a tenth of a second of silence closes nothing"
    assert json.loads(grammar.PartialResult()) == {"partial": ""}
