"""`voice-trainer bench` runs end to end (a short run; the numbers themselves are not judged here)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.practice.test_voice_practice import cli


@pytest.mark.audio  # the bench runs its spoken calls on a private PulseAudio server
def test_a_short_bench_run_measures_every_part(tmp_path):
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    proc = subprocess.run([cli(), "bench", "--turns", "4", "-o", str(out), "--json", str(raw)],
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(raw.read_text(encoding="utf-8"))
    for mode in ("latency", "latency_grammar"):
        parts = report[mode]
        assert parts["reply_latency_ms"]["n"] >= 4
        assert parts["reply_latency_ms"]["p50"] >= parts["end_of_turn_wait_ms"]["p50"] > 500
    assert report["launch_to_first_word_ms"] and all(x > 0 for x in report["launch_to_first_word_ms"])
    assert 0 < report["recognition"]["grammar_rtf_wall"] < report["recognition"]["rtf_wall"]
    assert report["peak_rss_mb"] > 50
    text = out.read_text(encoding="utf-8")
    assert "## Against the budget" in text and "| **reply latency**" in text
