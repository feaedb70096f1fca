"""CLI commands for scenario authors: scenario new / check / graph."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import scenario_app
from voice_trainer.cli.render import plain
from voice_trainer.errors import ScenarioError, ScenarioErrors, UsageError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    svg = "svg"
    html = "html"


@scenario_app.command("new")
def scenario_new(
    name: str = typer.Argument(..., help="Scenario id: lowercase letters, digits, '_' or '-' (e.g. billing)."),
    lang: str = typer.Option(..., "--lang", help="Language of the scenario: ru or en."),
    output_dir: Path = typer.Option(Path("scenarios"), "--output", "-o", help="Folder to write NAME.LANG.yaml into."),
) -> None:
    """Write a commented scenario template that passes `scenario check` and plays to an ending as it is."""
    from voice_trainer.scenario.template import TEMPLATE_LANGUAGES, template

    if not _NAME.match(name):
        raise UsageError(f"scenario name {name!r}: use lowercase letters, digits, '_' or '-' (it becomes the "
                         "file name NAME.LANG.yaml and what --scenario finds)")
    if lang not in TEMPLATE_LANGUAGES:
        raise UsageError(f"--lang {lang!r}: templates exist for {', '.join(TEMPLATE_LANGUAGES)}")
    target = output_dir / f"{name}.{lang}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; pick another name or folder (nothing was written)")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as out:
            out.write(template(name, lang))
    except OSError as err:
        raise UsageError(f"{target}: cannot write it ({err.strerror}); give a folder you can write to with -o") from None
    print(f"wrote {target}")
    print(f"next: voice-trainer scenario check {target}")
    print(f"      voice-trainer practice --text --scenario {target}")


@scenario_app.command("check")
def scenario_check(
    files: list[Path] = typer.Argument(..., help="Scenario files to validate."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail the check too (exit 1)."),
) -> None:
    """Validate scenario files: errors (file, line, key path) fail; warnings point at likely traps."""
    from voice_trainer.scenario.loader import check_file

    failed = warned = False
    finder = _lemma_trap_finder()
    for file in files:
        try:
            s, warnings = check_file(file, finder)
        except ScenarioError as err:
            failed = True
            for problem in getattr(err, "errors", [err]) if isinstance(err, ScenarioErrors) else [err]:
                print(f"voice-trainer: error: {plain(problem)}", file=sys.stderr, flush=True)
            continue
        for warning in warnings:
            print(plain(warning), flush=True)
        warned = warned or bool(warnings)
        d = s.data
        note = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
        print(f"{file}: ok ({d.scenario}, {d.language}: {len(d.moves)} moves, {len(d.states)} states, "
              f"{len(d.endings)} endings, {len(d.rules)} rules{note})", flush=True)
    if failed:
        raise typer.Exit(ScenarioError.exit_code)
    if strict and warned:
        print("voice-trainer: --strict: warnings count as failures", file=sys.stderr)
        raise typer.Exit(1)


def _lemma_trap_finder():
    from voice_trainer.dialogue.ambiguous_words import ambiguous_pattern_words

    return ambiguous_pattern_words


@scenario_app.command("graph")
def scenario_graph(
    file: Path = typer.Argument(..., help="Scenario file."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the diagram here (default: stdout)."),
    fmt: Optional[GraphFormat] = typer.Option(
        None, "--format", help="mermaid (text), svg, or html (a page with the svg inside); default: from the -o "
        "suffix, else mermaid. svg and html open offline in any browser."
    ),
) -> None:
    """Draw the scenario's state diagram: states with their descriptions, and the moves between them."""
    from voice_trainer.scenario.loader import load_file

    chosen = fmt or _format_of(output)
    data = load_file(file).data
    if chosen is GraphFormat.mermaid:
        from voice_trainer.dialogue.machine import mermaid

        diagram = mermaid(data)
    else:
        from voice_trainer.scenario.diagram import html_page, svg

        diagram = svg(data) if chosen is GraphFormat.svg else html_page(data)
    if output:
        try:
            output.write_text(diagram, encoding="utf-8")
        except OSError as err:
            raise UsageError(f"{output}: cannot write the diagram ({err.strerror}); check the folder exists") from None
        print(f"wrote {output}")
    else:
        print(diagram, end="" if diagram.endswith("\n") else "\n")


def _format_of(output: Path | None) -> GraphFormat:
    suffix = output.suffix.lower() if output else ""
    return {".svg": GraphFormat.svg, ".html": GraphFormat.html, ".htm": GraphFormat.html}.get(suffix, GraphFormat.mermaid)
