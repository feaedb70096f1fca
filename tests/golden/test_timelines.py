"""Golden timelines: the event logs of a few scripted calls, compared with tests/golden/*.jsonl.

A refactor that changes what happens in a call (which events, in which order, with which content)
shows up here as a diff. Times and per-run identity are normalised away (every `*_ms` field becomes
"*", the session id, start time and scenario path are dropped), and so is what the recognizer heard
(its input is dithered, so words and confidences vary from run to run); everything else must match.

After an intended change of behaviour (a new customer line, a new event), regenerate and review:

    .venv/bin/python -m pytest tests/golden --update-goldens
    git diff tests/golden/

The calls run through `run_practice`, the function behind `voice-trainer practice` (in-process, to
keep the suite quick): text mode from the replies in tests/golden/replies/, and one replay of
recorded Korean turns through the real recognizer with the customer's voice rendered by eSpeak NG
(nothing is played in replay).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from voice_trainer.events import to_json
from voice_trainer.practice.runner import run_practice
from voice_trainer.practice.text import script_lines
from voice_trainer.scenario.loader import load
from voice_trainer.settings import PracticeSettings, VoiceSettings

HERE = Path(__file__).resolve().parent
DROPPED = {"session_id", "started_at", "scenario_file", "folder"}


@dataclass(frozen=True)
class TextCall:
    name: str
    lang: str
    persona: str
    policy: str
    seed: int


TEXT_CALLS = [
    TextCall("ru-good_understood", "ru", "reasonable", "keep_client", 1),
    TextCall("ru-bad_mocking_hung_up", "ru", "stubborn", "let_go", 2),
    TextCall("en-good_firm_office", "en", "stubborn", "keep_client", 3),
    TextCall("ru-script_ran_out_abandoned", "ru", "stubborn", "keep_client", 4),
]

KOREAN_TURNS = ["안녕하세요 고객님 지원팀입니다", "연결 날짜를 알려 주시겠어요", "모뎀 모델이 무엇입니까"]


def normalised(event: dict) -> dict:
    heard = event.get("type") == "trainee_turn" and event.get("source") != "text"
    out = {}
    for key, value in event.items():
        if key in DROPPED:
            continue
        if key.endswith("_ms") or (heard and key in ("text", "words")):
            value = "*"
        elif key == "scores":
            value = {move: round(score, 3) for move, score in value.items()}
        elif isinstance(value, float):
            value = round(value, 3)
        out[key] = value
    return out


def practice(data_dir: Path, lang: str, persona: str, policy: str, seed: int, *, replies=None, replies_from=None,
             model: Path | None = None) -> list[dict]:
    settings = PracticeSettings(lang=lang, persona=persona, policy=policy, seed=seed, data_dir=data_dir,
                                voice=VoiceSettings(model=model))
    said: list[str] = []
    outcome = run_practice(settings, load("razryv", lang), replies=replies, replies_from=replies_from,
                           text_mode=replies is None, interactive=False, observers=[], say=said.append)
    assert not said, said  # nothing to tell the user: no fallback, no missing piece
    return [to_json(e) for e in outcome.session.folder.events()]


def check(name: str, log: list[dict], update: bool) -> None:
    times = [e["t_ms"] for e in log]
    assert times == sorted(times), "the timeline must never go back in time"
    lines = [json.dumps(normalised(e), ensure_ascii=False) for e in log]
    golden = HERE / f"{name}.jsonl"
    if update:
        golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    assert golden.is_file(), f"no {golden.name}; create it with: pytest tests/golden --update-goldens"
    expected = golden.read_text(encoding="utf-8").splitlines()
    if lines != expected:
        diff = "\n".join(difflib.unified_diff(expected, lines, f"{name}.jsonl (golden)", "this run", lineterm=""))
        pytest.fail(f"the timeline of {name} changed (regenerate with --update-goldens if intended):\n{diff}")


@pytest.mark.parametrize("call", TEXT_CALLS, ids=[c.name for c in TEXT_CALLS])
def test_a_scripted_text_call_keeps_its_timeline(call, tmp_path, update_goldens):
    replies = script_lines(HERE / "replies" / f"{call.name}.txt")
    log = practice(tmp_path / "data", call.lang, call.persona, call.policy, call.seed, replies_from=replies)
    check(call.name, log, update_goldens)


def test_a_replayed_voice_call_keeps_its_timeline(ko_model_path, espeak_wav, tmp_path, update_goldens):
    wavs = [espeak_wav(text, pad_ms=300) for text in KOREAN_TURNS]
    log = practice(tmp_path / "data", "ru", "reasonable", "keep_client", 5, replies=wavs, model=ko_model_path)
    check("ko-replay", log, update_goldens)
