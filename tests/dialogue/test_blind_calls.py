"""Whole calls written blind (tests/scripts/blind/LANG/*.txt) end as a support trainer expects, with a debrief
that is true for the call.

Header lines, besides those of test_scripted_calls (`# persona=… policy=… seeds=… outcome=… score>=… penalty=…`
and `# last reply has: TEXT`):
    # met: RUBRIC_ID,...        the debrief credits these items
    # missed: RUBRIC_ID,...     the debrief lists these items as not done
    # no penalty: FLAG,...      the debrief must not show these penalties
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_trainer.practice.text import run_text, script_lines
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session

BLIND_DIR = Path(__file__).resolve().parents[1] / "scripts" / "blind"
HEADER = re.compile(r"#\s*persona=(\w+)\s+policy=(\w+)\s+(.*)$")
LIST_LINE = re.compile(r"#\s*(met|missed|no penalty):\s*(.+)$")
LAST_REPLY = re.compile(r"#\s*last reply has:\s*(.+)$")


def header_fields(rest: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+(?:[<>]=|=))(\S+)", rest))


def cases():
    for path in sorted(BLIND_DIR.glob("*/*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        lists = {m[1]: {x.strip() for x in m[2].split(",") if x.strip()} for m in map(LIST_LINE.match, lines) if m}
        last_reply = next((m[1].strip() for m in map(LAST_REPLY.match, lines) if m), "")
        for line in lines:
            m = HEADER.match(line)
            if not m:
                continue
            persona, policy, rest = m.groups()
            fields = header_fields(rest)
            expect = {
                "outcome": fields["outcome="],
                "low": int(fields.get("score>=", 0)),
                "high": int(fields.get("score<=", 100)),
                "penalties": set(filter(None, fields.get("penalty=", "").split(","))),
                "met": lists.get("met", set()),
                "missed": lists.get("missed", set()),
                "no_penalty": lists.get("no penalty", set()),
                "last_reply": last_reply,
            }
            for seed in (int(s) for s in fields.get("seeds=", "1,2").split(",")):
                yield pytest.param(path, persona, policy, seed, expect,
                                   id=f"{path.parent.name}/{path.stem}[{persona},{policy},{seed}]")


def play(path: Path, persona: str, policy: str, seed: int, data_dir: Path) -> dict:
    session = Session(load("razryv", path.parent.name), persona=persona, policy=policy, seed=seed, data_dir=data_dir)
    run_text(session, script_lines(path))
    return session.finish()


@pytest.mark.parametrize("path,persona,policy,seed,expect", list(cases()))
def test_blind_call_ends_as_a_trainer_expects(path, persona, policy, seed, expect, data_dir):
    result = play(path, persona, policy, seed, data_dir)
    summary = [(t["trainee"][:40], t["moves"], t["state"]) for t in result["turns"]]
    shown = {p["flag"] for p in result["penalties"]}
    assert result["outcome"] == expect["outcome"], summary
    assert expect["low"] <= result["score"] <= expect["high"], (result["score"], result["missed"], shown)
    assert expect["penalties"] <= shown, (expect["penalties"], shown)
    assert not expect["no_penalty"] & shown, (expect["no_penalty"] & shown, summary)
    assert expect["met"] <= set(result["met"]), (expect["met"] - set(result["met"]), summary)
    assert expect["missed"] <= set(result["missed"]), (expect["missed"] - set(result["missed"]), summary)
    assert expect["last_reply"] in result["turns"][-1]["customer"]


def test_every_language_has_a_dozen_blind_calls():
    for lang in ("ru", "en"):
        assert len(list((BLIND_DIR / lang).glob("*.txt"))) >= 12
