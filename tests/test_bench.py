"""`voice-trainer bench` runs end to end (a short run; the numbers themselves are not judged here)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.practice.test_voice_practice import cli
from voice_trainer.bench import BUDGET, BenchReport, budget_line, markdown, pause_turns


def test_a_budget_line_says_within_or_over():
    assert budget_line("total reply gap p50", 480.0, 500, " ms") == "- total reply gap p50: 480.0 ms (budget 500 ms): within"
    assert budget_line("false end of turn", 7.5, 5.0, " %") == "- false end of turn: 7.5 % (budget 5.0 %): OVER"
    assert budget_line("x", None, 1).endswith("(budget 1): not measured")


def test_pause_turns_hold_a_silence_of_the_stated_length_where_stated(tmp_path):
    import numpy as np
    import soundfile

    turns = pause_turns(tmp_path)
    assert len(turns) >= 10 and {t.pause_ms for t in turns} == {300, 400, 500, 600, 700}
    for t in turns[:3]:
        samples, rate = soundfile.read(str(t.wav), dtype="int16")
        a = int(t.pause_start_ms * rate / 1000)
        gap = samples[a : a + int(t.pause_ms * rate / 1000)]
        assert np.abs(gap).max() == 0  # digital silence: exactly the pause
        assert np.abs(samples[a - 50 : a]).max() > 0 and np.abs(samples[a + len(gap) : a + len(gap) + 2000]).max() > 0


def test_every_target_of_the_budget_is_printed_even_when_not_measured():
    text = markdown(BenchReport(machine={}, settings={"model": "m", "trailing_silence_ms": 700}))
    section = text.split("## Against the budget", 1)[1].split("##", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("- ")]
    assert len(lines) >= len(BUDGET)
    assert all(re.fullmatch(r"- .+: .+ \(budget [\d.]+[^)]*\): (within|OVER|not measured)", ln) for ln in lines)


@pytest.mark.audio  # the bench runs its spoken calls on a private PulseAudio server
@pytest.mark.timeout(1500)
def test_a_short_bench_run_measures_every_part(tmp_path):
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    proc = subprocess.run([cli(), "bench", "--turns", "4", "-o", str(out), "--json", str(raw)],
                          capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(raw.read_text(encoding="utf-8"))
    for mode in ("latency", "latency_grammar"):
        parts = report[mode]
        assert parts["reply_latency_ms"]["n"] >= 2
        assert parts["reply_latency_ms"]["p50"] >= parts["end_of_turn_wait_ms"]["p50"] > 0
    assert report["false_end"]["turns"] >= 10 and report["false_end"]["pct"] is not None
    assert report["false_end_glued"]["turns"] >= 10 and report["false_end_glued"]["pct"] is not None
    answered = report["latency"]["reply_latency_ms"]["n"] + report["latency_grammar"]["reply_latency_ms"]["n"]
    assert sum(report["end_cues"]["move turns"].values()) == answered and report["end_cues"]["pause turns"]
    assert "-" not in report["end_cues"]["move turns"]  # every ended turn says which cue ended it
    assert report["passes"]["turns"] > 0 and report["passes"]["disagree_pct"] is not None
    assert report["launch_to_first_word_ms"] and all(x > 0 for x in report["launch_to_first_word_ms"])
    curve = report["rtf_curve"]
    assert {row["chunk_ms"] for row in curve} >= {30, 100, 200, 400}
    grammar = next(row for row in curve if row.get("grammar"))
    assert 0 < grammar["rtf_cpu"] < min(row["rtf_cpu"] for row in curve if not row.get("grammar"))
    assert report["peak_rss_mb"] > 50
    text = out.read_text(encoding="utf-8")
    assert "## Against the budget" in text and "| **total reply gap**" in text
    assert "total reply gap p95, default mode:" in text and "## What each lever bought" in text


def test_a_bench_run_keeps_the_sections_other_tools_wrote_in_the_same_file():
    from voice_trainer.bench import merged

    old = ("# Benchmarks\n\n## Machine\n\nold machine\n\n## Reply gap over 9 spoken turns\n\nold gap\n\n"
           "## Scale: the centre's library and review site\n\n100,000 sessions\n")
    new = "# Benchmarks\n\n## Machine\n\nnew machine\n\n## Reply gap over 15 spoken turns\n\nnew gap\n"
    doc = merged(old, new)
    assert "new machine" in doc and "new gap" in doc
    assert "old machine" not in doc and "old gap" not in doc
    assert doc.rstrip().endswith("100,000 sessions") and doc.count("## Scale") == 1
    assert merged("", new) == new
