"""`voice-trainer scenario graph --format svg|html`: a diagram that opens offline, with each state's id and
description, drawn by us from the scenario's rules (no layout engine, nothing fetched)."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.authoring.cli import run
from voice_trainer.scenario.loader import load_file
from voice_trainer.scenario.schema import names
from voice_trainer.trainer.progress import chromium_binary

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=["razryv.ru", "speed.en"])
def drawn(request, tmp_path_factory):
    path = SCENARIOS / f"{request.param}.yaml"
    out = tmp_path_factory.mktemp("graph") / f"{request.param}.svg"
    done = run("scenario", "graph", path, "--format", "svg", "-o", out)
    assert done.returncode == 0, done.stderr
    return load_file(path).data, out.read_text(encoding="utf-8")


def texts(svg_text: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg_text).iter(f"{SVG}text")]


def test_svg_is_well_formed_and_shows_every_state_with_its_description(drawn):
    s, svg_text = drawn
    shown = texts(svg_text)
    for name, state in [*s.states.items(), *s.endings.items()]:
        assert name in shown, name
        first_words = " ".join(state.description.split()[:3])
        assert any(t.startswith(first_words) for t in shown), (name, first_words)


def test_svg_has_an_arrow_for_every_rule_that_changes_state(drawn):
    s, svg_text = drawn
    root = ET.fromstring(svg_text)
    tips = ["".join(g.find(f"{SVG}title").itertext()) for g in root.iter(f"{SVG}g")
            if "edge" in g.get("class", "")]
    pairs = {tuple(t.split("\n")[0].split(" → ")) for t in tips}
    for i, rule in enumerate(s.rules):
        if rule.to is None:
            continue
        for source in (list(s.states) if "*" in names(rule.from_) else names(rule.from_)):
            if source != rule.to:
                want = ("*" if "*" in names(rule.from_) and rule.to in s.endings else source, rule.to)
                assert want in pairs, (i, want)
                assert any(f"rules[{i}]: " in t for t in tips)
    assert ("*", s.reactions.hang_up.ending) in pairs


def test_svg_and_html_fetch_nothing(drawn, tmp_path):
    s, svg_text = drawn
    page = tmp_path / "page.html"
    done = run("scenario", "graph", SCENARIOS / f"{s.scenario}.{s.language}.yaml", "-o", page)
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    assert svg_text.strip() in html  # the page embeds the very svg
    for text in (svg_text, html):
        without_namespace = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://|<script|<link|@import|src=", without_namespace)


def test_html_opens_offline_in_chromium_with_every_state(drawn, tmp_path):
    s, _ = drawn
    page = tmp_path / "page.html"
    assert run("scenario", "graph", SCENARIOS / f"{s.scenario}.{s.language}.yaml", "--format", "html",
               "-o", page).returncode == 0
    dom = subprocess.run(
        [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert "<svg" in dom
    for name in [*s.states, *s.endings]:
        assert f'id="node-{name}"' in dom


def test_mermaid_stays_the_default(tmp_path):
    done = run("scenario", "graph", SCENARIOS / "razryv.ru.yaml")
    assert done.returncode == 0 and "stateDiagram-v2" in done.stdout
    out = tmp_path / "x.mmd"
    assert run("scenario", "graph", SCENARIOS / "razryv.ru.yaml", "-o", out).returncode == 0
    assert "stateDiagram-v2" in out.read_text(encoding="utf-8")


def test_unknown_format_is_one_line(tmp_path):
    done = run("scenario", "graph", SCENARIOS / "razryv.ru.yaml", "--format", "png")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "png" in done.stderr
