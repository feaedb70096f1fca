"""Every example in docs/scenarios.md works as documented.

Each ```yaml block is a fragment of a scenario: it is pasted into the template `voice-trainer scenario new`
writes (English, or Russian after a first line `# template: ru`), the way the document tells a trainer to, and
the result is checked: no error, or the error/warning a `# expect error: ...` / `# expect warning: ...` line
names. A ```text block that starts with `# play` right after it is a call through that scenario:
`> reply` is the trainee's turn, `< line` the customer's whole answer, `<~ words` a part of it, and
`= key: value` what must hold then (moves, state, anger, case, fact NAME, or at the end outcome, score, met,
missed, penalties). Merging: the fragment's `rules` and `auto` go before the template's (the first matching
rule wins); rubric items and penalties replace the ones with the same id or flag, or are added; every other
mapping is merged entry by entry; anything else replaces what the template has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.authoring.cli import template_text
from voice_trainer.dialogue.ambiguous_words import ambiguous_pattern_words
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.scoring import score_call
from voice_trainer.errors import ScenarioError
from voice_trainer.events import CustomerLine, MovesUnderstood
from voice_trainer.scenario import schema
from voice_trainer.scenario.loader import check_file
from voice_trainer.scenario.yaml_text import YamlLoader, compose

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass
class Example:
    line: int
    text: str
    plays: list[tuple[int, str]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        m = re.match(r"#\s*template:\s*(\w+)", self.text)
        return m.group(1) if m else "en"

    def expected(self, kind: str) -> list[str]:
        return re.findall(rf"^#\s*expect {kind}:\s*(.+?)\s*$", self.text, re.M)


def examples() -> list[Example]:
    found: list[Example] = []
    for m in FENCE.finditer(TEXT):
        line = TEXT[: m.start()].count("\n") + 1
        if m.group(1) == "yaml":
            found.append(Example(line, m.group(2)))
        elif m.group(1) == "text" and m.group(2).startswith("# play"):
            assert found, f"docs/scenarios.md:{line}: a play block before any yaml example"
            found[-1].plays.append((line, m.group(2)))
    return found


EXAMPLES = examples()


def load_yaml(text: str) -> dict:
    return YamlLoader("").construct_document(compose("example", text)) or {}


def merged(example: Example) -> dict:
    base = load_yaml(template_text("example", example.lang))
    for key, value in load_yaml(example.text).items():
        if key in ("rules", "auto"):
            base[key] = list(value) + list(base.get(key, []))
        elif key == "rubric":
            rubric = base["rubric"]
            for part, ident in (("items", "id"), ("penalties", "flag")):
                for entry in value.get(part, []):
                    kept = [e for e in rubric[part] if e[ident] != entry[ident]]
                    at = next((i for i, e in enumerate(rubric[part]) if e[ident] == entry[ident]), len(kept))
                    rubric[part] = kept[:at] + [entry] + kept[at:]
            rubric["ending_caps"] = {**rubric.get("ending_caps", {}), **value.get("ending_caps", {})}
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def write(example: Example, folder: Path) -> Path:
    data = merged(example)
    path = folder / f"{data['scenario']}.{data['language']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return path


def test_the_document_has_examples():
    assert len(EXAMPLES) >= 25
    assert sum(len(e.plays) for e in EXAMPLES) >= 20


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{e.line}" for e in EXAMPLES])
def test_example_checks_as_documented(example, tmp_path):
    path = write(example, tmp_path)
    errors = example.expected("error")
    try:
        _, warnings = check_file(path, lemma_traps=ambiguous_pattern_words)
    except ScenarioError as err:
        messages = [str(e) for e in getattr(err, "errors", [err])]
        assert errors, f"docs/scenarios.md:{example.line}: the example does not load:\n" + "\n".join(messages)
        for want in errors:
            assert any(want in m for m in messages), (want, messages)
        return
    assert not errors, f"docs/scenarios.md:{example.line}: expected an error {errors}, the scenario loaded"
    for want in example.expected("warning"):
        assert any(want in w.message for w in warnings), (want, [w.message for w in warnings])


def plays():
    for example in EXAMPLES:
        for line, text in example.plays:
            yield pytest.param(example, line, text, id=f"line{line}")


@pytest.mark.parametrize("example,line,script", list(plays()))
def test_example_plays_as_documented(example, line, script, tmp_path):
    s = check_file(write(example, tmp_path))[0].data
    header, *steps = script.strip().splitlines()
    settings = dict(re.findall(r"(\w+)=(\w+)", header))
    call = Conversation(s, persona=settings.get("persona"), policy=settings.get("policy"),
                        seed=int(settings.get("seed", 1)))
    call.opening()
    turn, reply, moves = 0, "", ()
    where = f"docs/scenarios.md:{line}"
    for step in steps:
        if step.startswith("> "):
            turn += 1
            events = call.handle(step[2:], turn)
            reply = " ".join(e.text for e in events if isinstance(e, CustomerLine))
            moves = next(e.moves for e in events if isinstance(e, MovesUnderstood))
        elif step.startswith("<~ "):
            assert step[3:] in reply, (where, step, reply)
        elif step.startswith("< "):
            assert reply == step[2:], (where, step, reply)
        elif step.startswith("= "):
            key, _, want = step[2:].partition(": ")
            got = _value(key, call, moves, s)
            _compare(key, want, got, where)
        elif step.strip() and not step.startswith("#"):
            raise AssertionError(f"{where}: a play line starts with '> ', '< ', '<~ ' or '= ': {step!r}")


def _value(key: str, call: Conversation, moves, s) -> object:
    if key == "moves":
        return list(moves) or ["unknown"]
    if key == "state":
        return call.state
    if key == "anger":
        return call.call.anger
    if key == "case":
        return call.case
    if key.startswith("fact "):
        return call.facts[key.removeprefix("fact ")]
    if key.startswith("flag "):
        return call.call.flags[key.removeprefix("flag ")]
    call.quit(len(call.turn_texts))
    score = score_call(s, call.call, call.turn_texts)
    return {"outcome": score.outcome, "score": score.score, "met": [i.id for i in score.items if i.met],
            "missed": [i.id for i in score.items if not i.met], "penalties": [p.flag for p in score.penalties],
            "items": [i.id for i in score.items]}[key]


def _compare(key: str, want: str, got: object, where: str) -> None:
    if key in ("moves", "met", "missed", "penalties", "items"):
        listed = [] if want == "none" else [w.strip() for w in want.split(",")]
        if key == "moves":
            assert sorted(got) == sorted(listed), (where, key, got)
        elif want == "none":
            assert got == [], (where, key, got)
        else:
            assert set(listed) <= set(got), (where, key, got)  # type: ignore[arg-type]
    elif isinstance(got, float):
        assert got == pytest.approx(float(want)), (where, key, got)
    else:
        assert str(got) == want, (where, key, got)


def _keys(model, seen: set) -> set[str]:
    """Every key a scenario file can have, from the schema."""
    if model in seen:
        return set()
    seen.add(model)
    found = set()
    for name, info in model.model_fields.items():
        found.add(info.alias or name)
        for inner in _models_in(info.annotation):
            found |= _keys(inner, seen)
    return found


def _models_in(annotation) -> list:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, schema.BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def test_every_key_of_the_schema_is_documented():
    keys = _keys(schema.ScenarioFile, set())
    missing = sorted(k for k in keys if f"`{k}`" not in TEXT)
    assert missing == [], f"docs/scenarios.md does not describe {missing}"


def test_every_key_of_the_schema_is_in_an_example():
    keys = _keys(schema.ScenarioFile, set())
    written = "\n".join(e.text for e in EXAMPLES)
    missing = sorted(k for k in keys if not re.search(rf"(^|[\s{{,]){re.escape(k)}:", written, re.M))
    assert missing == [], f"no yaml example in docs/scenarios.md uses {missing}"


def test_readme_points_to_the_reference():
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a scenario", 1)[1].split("\n## ", 1)[0]
    assert "docs/scenarios.md" in section
    assert "$comes_around_below" not in readme
    assert len(section.splitlines()) < 40
