"""Find, read and validate scenario files. Every problem names the file, the line, the key path and what is wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
import re
from typing import Any

import yaml
from pydantic import ValidationError

from voice_trainer.errors import ScenarioError, ScenarioErrors
from voice_trainer.scenario.schema import ScenarioFile

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "scenarios"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 the rule key `on:` (and yes/no/off) would turn into a bool."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario and where it came from."""

    data: ScenarioFile
    path: Path

    @property
    def id(self) -> str:
        return self.data.scenario

    @property
    def lang(self) -> str:
        return self.data.language


def scenario_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("VOICE_TRAINER_SCENARIOS"):
        dirs.append(Path(os.environ["VOICE_TRAINER_SCENARIOS"]))
    dirs += [Path.cwd() / "scenarios", BUNDLED_DIR]
    return dirs


def resolve(spec: str, lang: str) -> Path:
    """`spec` is a path to a file, or a scenario name looked up as NAME.LANG.yaml in the scenario dirs."""
    as_path = Path(spec)
    if as_path.suffix in (".yaml", ".yml") or os.sep in spec or as_path.is_file():
        if not as_path.is_file():
            raise ScenarioError(spec, "no such scenario file; give an existing .yaml path or a scenario name like 'razryv'")
        return as_path
    tried = []
    for folder in scenario_dirs():
        for name in (f"{spec}.{lang}.yaml", f"{spec}.{lang}.yml"):
            candidate = folder / name
            tried.append(str(candidate))
            if candidate.is_file():
                return candidate
    available = sorted({p.name for d in scenario_dirs() if d.is_dir() for p in d.glob("*.y*ml")})
    raise ScenarioError(
        spec,
        f"no scenario named {spec!r} for language {lang!r} (looked for {', '.join(tried[:3])}); "
        f"available: {', '.join(available) or 'none'}",
    )


def load(spec: str | Path, lang: str = "ru") -> Scenario:
    path = resolve(str(spec), lang)
    return load_file(path)


def load_file(path: Path) -> Scenario:
    from voice_trainer.scenario.checks import check_meaning

    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(file, f"cannot read the file ({err}); check it exists and is UTF-8 text") from None
    tree = _compose(file, text)
    raw = yaml.load(text, Loader=_Loader)
    if not isinstance(raw, dict):
        raise ScenarioError(file, "the file must be a YAML mapping with keys like 'scenario', 'moves', 'states'", line=1)
    errors = _duplicate_keys(file, tree)
    try:
        data = ScenarioFile.model_validate(raw)
    except ValidationError as err:
        errors += [_from_pydantic(file, tree, e) for e in err.errors()]
        raise ScenarioErrors(errors) from None
    errors += [
        ScenarioError(file, message, path=".".join(str(p) for p in loc), line=line_of(tree, loc))
        for loc, message in check_meaning(data)
    ]
    if errors:
        raise ScenarioErrors(errors)
    return Scenario(data=data, path=path)


def _compose(file: str, text: str) -> yaml.Node:
    try:
        tree = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(
            file, f"not valid YAML: {problem}; fix the syntax", line=mark.line + 1 if mark else None
        ) from None
    if tree is None:
        raise ScenarioError(file, "the file is empty; start from scenarios/razryv.en.yaml", line=1)
    return tree


def line_of(tree: yaml.Node, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node along `loc` that exists in the YAML tree."""
    node = tree
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if key.value == str(part):
                    found = (key, value)
                    break
            if found is None:
                continue  # pydantic inserts union-member names into locs; skip them
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def _duplicate_keys(file: str, tree: yaml.Node, path: tuple[Any, ...] = ()) -> list[ScenarioError]:
    errors: list[ScenarioError] = []
    if isinstance(tree, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in tree.value:
            if key.value in seen:
                errors.append(
                    ScenarioError(
                        file, f"key {key.value!r} appears twice; keep one", path=".".join(map(str, path + (key.value,))),
                        line=key.start_mark.line + 1,
                    )
                )
            seen.add(key.value)
            errors += _duplicate_keys(file, value, path + (key.value,))
    elif isinstance(tree, yaml.SequenceNode):
        for i, item in enumerate(tree.value):
            errors += _duplicate_keys(file, item, path + (i,))
    return errors


def _from_pydantic(file: str, tree: yaml.Node, err: dict[str, Any]) -> ScenarioError:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in _TYPE_WORDS)))
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}; remove it or check its spelling"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    else:
        message = err["msg"]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message += f" (got {err['input']!r})"
    return ScenarioError(file, message, path=".".join(map(str, loc)), line=line_of(tree, loc))


_TYPE_WORDS = {"str", "int", "float", "list", "dict", "function-after", "union"}
