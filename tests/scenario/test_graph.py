"""`voice-trainer scenario graph FILE` draws the scenario's state machine as a Mermaid state diagram."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voice_trainer.scenario.loader import load_file
from voice_trainer.scenario.schema import names

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "razryv.ru.yaml"
CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


def run_graph(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "scenario", "graph", *args], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, cwd=cwd,
    )


def edges(diagram: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*(\S+) --> (\S+?):?(?:\s|$)", diagram, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def diagram() -> str:
    done = run_graph(str(SEED))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_graph_prints_a_mermaid_state_diagram(diagram):
    assert "stateDiagram-v2" in diagram
    assert re.search(r"^\s*\[\*\] --> opening\s*$", diagram, flags=re.MULTILINE)


def test_graph_shows_every_state_and_ending(diagram):
    s = load_file(SEED).data
    declared = set(re.findall(r'^\s*state "[^"]*" as (\S+)', diagram, flags=re.MULTILINE))
    assert declared == set(s.states) | set(s.endings)


def test_graph_draws_every_rule_that_changes_state(diagram):
    s = load_file(SEED).data
    drawn = edges(diagram)
    for rule in [*s.rules, *s.auto]:
        if rule.to is None:
            continue
        sources = list(s.states) if "*" in names(rule.from_) else names(rule.from_)
        for source in sources:
            assert (source, rule.to) in drawn, (source, rule.to)


def test_graph_labels_edges_with_the_scenarios_move_names(diagram):
    assert re.search(r"^\s*insisting --> permission_granted: .*ask_permission", diagram, flags=re.MULTILINE)
    assert re.search(r"^\s*\w+ --> customer_hung_up: anger_maxed", diagram, flags=re.MULTILINE)


def test_endings_have_no_way_out(diagram):
    s = load_file(SEED).data
    leaving = {(src, dst) for src, dst in edges(diagram) if src in s.endings}
    assert leaving == set()


def test_graph_output_option_writes_the_file(tmp_path, diagram):
    out = tmp_path / "razryv.mmd"
    done = run_graph(str(SEED), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").strip() == diagram.strip()
    assert str(out) in done.stdout


def test_graph_of_a_bad_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.ru.yaml"
    bad.write_text(SEED.read_text(encoding="utf-8").replace("    to: debrief\n", "    to: debrif\n"), encoding="utf-8")
    out = tmp_path / "bad.mmd"
    done = run_graph(str(bad), "-o", str(out))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(bad) in done.stderr and "debrif" in done.stderr
    assert not out.exists()


def test_graph_of_a_missing_file_is_a_one_line_error(tmp_path):
    done = run_graph(str(tmp_path / "nosuch.yaml"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "nosuch.yaml" in done.stderr


def test_graph_into_a_missing_folder_is_a_one_line_error(tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "razryv.mmd"
    done = run_graph(str(SEED), "-o", str(out))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(out) in done.stderr
