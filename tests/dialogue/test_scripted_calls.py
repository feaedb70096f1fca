"""Scripted conversations (tests/scripts/LANG/*.txt) end as the method implies, with scores in range.

Each script's header lines say for which persona and policy it is meant and what must happen:
    # persona=stubborn policy=let_go outcome=contract_hangup score>=85
"""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from voice_trainer.practice.text import run_text, script_lines
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "scripts"
HEADER = re.compile(r"#\s*persona=(\w+)\s+policy=(\w+)\s+outcome=(\w+)((?:\s+score[<>]=\d+)*)")


def cases():
    for path in sorted(SCRIPTS_DIR.glob("*/*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = HEADER.match(line)
            if m:
                persona, policy, outcome, bounds = m.groups()
                low = max([int(x) for x in re.findall(r"score>=(\d+)", bounds)], default=0)
                high = min([int(x) for x in re.findall(r"score<=(\d+)", bounds)], default=100)
                yield pytest.param(path, path.parent.name, persona, policy, outcome, low, high,
                                   id=f"{path.parent.name}/{path.stem}[{persona},{policy}]")


def play(path: Path, lang: str, persona: str, policy: str, seed: int, data_dir: Path) -> dict:
    session = Session(load("razryv", lang), persona=persona, policy=policy, seed=seed, data_dir=data_dir)
    run_text(session, script_lines(path))
    return session.finish()


@pytest.mark.parametrize("path,lang,persona,policy,outcome,low,high", list(cases()))
@pytest.mark.parametrize("seed", [1, 2])
def test_scripted_call_ends_as_the_method_implies(path, lang, persona, policy, outcome, low, high, seed, data_dir):
    result = play(path, lang, persona, policy, seed, data_dir)
    summary = [(t["trainee"][:40], t["moves"], t["state"]) for t in result["turns"]]
    assert result["outcome"] == outcome, summary
    assert low <= result["score"] <= high, (result["score"], result["missed"], result["penalties"])


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_scripts_reach_every_ending_for_every_persona_and_policy(lang):
    s = load("razryv", lang).data
    covered = {(c.values[2], c.values[3], c.values[4]) for c in cases() if c.values[1] == lang}
    wanted = set(product(s.personas, s.policies, s.endings))
    assert wanted - covered == set()
