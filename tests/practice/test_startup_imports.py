"""What opening a call needs, and no more: the customer's first line comes before understanding is loaded
(patterns, examples, the lemmatizer, rapidfuzz); reading the first turn loads it and understands as ever."""

from __future__ import annotations

import json
import subprocess
import sys

# Runs in a fresh interpreter: sys.modules there shows what opening the call imported.
OPEN_THEN_ANSWER = r"""
import json, sys
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.scenario.loader import load

scenario = load("razryv", "ru").data
call = Conversation(scenario, seed=5)
opening = call.opening()
before = sorted(m for m in sys.modules if m.startswith(("voice_trainer", "rapidfuzz", "pymorphy3")))
events = call.handle(sys.argv[1], turn=1)
print(json.dumps({"before": before, "opening": opening[-1].text,
                  "moves": [list(e.moves) for e in events if type(e).__name__ == "MovesUnderstood"]}))
"""

APOLOGY = "Извините, пожалуйста, за неудобства, сейчас всё выясним."


def open_then_answer(text: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", OPEN_THEN_ANSWER, text], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_opening_line_needs_no_understanding():
    seen = open_then_answer(APOLOGY)
    assert seen["opening"].strip()
    loaded = [m for m in seen["before"] if m.startswith(("voice_trainer.dialogue.understanding",
                                                         "voice_trainer.dialogue.reading", "voice_trainer.dialogue.examples",
                                                         "voice_trainer.dialogue.patterns", "rapidfuzz", "pymorphy3"))]
    assert loaded == []


def test_the_first_turn_is_understood_as_by_a_core_loaded_up_front():
    from voice_trainer.dialogue.conversation import Conversation
    from voice_trainer.dialogue.understanding import MoveClassifier
    from voice_trainer.scenario.loader import load

    scenario = load("razryv", "ru").data
    up_front = Conversation(scenario, seed=5, classifier=MoveClassifier(scenario.moves, scenario.language))
    up_front.opening()
    expected = [list(e.moves) for e in up_front.handle(APOLOGY, turn=1) if type(e).__name__ == "MovesUnderstood"]
    assert expected and expected[0], "the apology should be understood as a move"
    assert open_then_answer(APOLOGY)["moves"] == expected
