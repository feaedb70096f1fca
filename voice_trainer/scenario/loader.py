"""Find, read and validate scenario files. Every problem names the file, the line, the key path and what is wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_trainer.errors import ScenarioError, ScenarioErrors
from voice_trainer.scenario.schema import PERSONA_MARK, ScenarioFile

if TYPE_CHECKING:
    import yaml

    from voice_trainer.scenario.traps import LemmaTrapFinder

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "scenarios"


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
    dirs += [Path.cwd() / "scenarios", Path.cwd(), BUNDLED_DIR]  # `scenario new` writes where the trainer is
    return dirs


def resolve(spec: str, lang: str) -> Path:
    """`spec` is a path to a file, or a scenario name looked up as NAME.LANG.yaml in the scenario dirs."""
    as_path = Path(spec)
    if as_path.suffix in (".yaml", ".yml") or os.sep in spec or as_path.is_file():
        if not as_path.exists():
            raise ScenarioError(spec, "no such scenario file; give an existing .yaml path or a scenario name like 'razryv'")
        return as_path
    tried = []
    for folder in scenario_dirs():
        for name in (f"{spec}.{lang}.yaml", f"{spec}.{lang}.yml"):
            candidate = folder / name
            tried.append(str(candidate))
            if candidate.is_file():
                return candidate
    available = sorted({p.name for d in scenario_dirs() if d.is_dir() for p in d.glob("*.*.y*ml")})  # NAME.LANG
    raise ScenarioError(
        spec,
        f"no scenario named {spec!r} for language {lang!r} (looked for {', '.join(tried[::2])}); "
        f"available: {', '.join(available) or 'none'}",
    )


def load(spec: str | Path, lang: str = "ru") -> Scenario:
    path = resolve(str(spec), lang)
    return load_file(path)


def load_file(path: Path) -> Scenario:
    """The validated scenario; a file found valid before (same text, same program) is read back from the
    cache of validated scenarios instead of being parsed and checked again."""
    from voice_trainer.scenario.validated import ValidatedScenarios

    validated = ValidatedScenarios()
    text = _text_if_readable(path)
    if text is not None:
        data = validated.get(text)
        if data is not None:
            return Scenario(data=data, path=path)
    scenario, _, text = _load_checked(path)
    validated.put(text, scenario.data)
    return scenario


def _text_if_readable(path: Path) -> str | None:
    """The file's text, or None if anything is odd about it: the full load then says what."""
    try:
        return path.read_bytes().decode("utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def check_file(path: Path, lemma_traps: LemmaTrapFinder | None = None) -> tuple[Scenario, list[ScenarioWarning]]:
    """Load and validate like `load_file`, then look for traps: things that are valid but likely not meant
    (scenario/traps.py; `lemma_traps` finds pattern words that match unrelated words)."""
    from voice_trainer.scenario.traps import find_traps

    scenario, tree = _load_tree(path)
    warnings = []
    for loc, message in find_traps(scenario.data, path, lemma_traps):
        line, shown = locate(tree, loc)
        warnings.append(ScenarioWarning(str(path), message, shown, line))
    return scenario, sorted(warnings, key=lambda w: (w.line or 0, w.path))


@dataclass(frozen=True)
class ScenarioWarning:
    """Something `scenario check` advises to look at: valid, but probably not what the author meant."""

    file: str
    message: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "") + (f" ({self.path})" if self.path else "")
        return f"{where}: warning: {self.message}"


def _load_tree(path: Path) -> tuple[Scenario, yaml.Node]:
    scenario, tree, _ = _load_checked(path)
    return scenario, tree


def _load_checked(path: Path) -> tuple[Scenario, yaml.Node, str]:
    """The scenario, the YAML tree it was read from and the text that was validated."""
    import yaml
    from pydantic import ValidationError

    from voice_trainer.scenario.checks import check_meaning
    from voice_trainer.scenario.yaml_text import YamlLoader, compose, read_text, yaml_error

    file = str(path)
    text = read_text(path)
    tree = compose(file, text)
    try:
        raw = YamlLoader("").construct_document(tree)  # from the tree already parsed, not a second parse
    except yaml.YAMLError as err:  # e.g. a !!python tag: composes, but safe loading refuses to build it
        raise yaml_error(file, err, text) from None
    if not isinstance(raw, dict):
        raise ScenarioError(file, "the file must be a YAML mapping with keys like 'scenario', 'moves', 'states'", line=1)
    errors = _duplicate_keys(file, tree)
    try:
        data = ScenarioFile.model_validate(raw)
    except ValidationError as err:
        errors += _from_pydantic_errors(file, tree, err.errors())
        raise ScenarioErrors(errors) from None
    errors += [_located(file, tree, loc, message) for loc, message in check_meaning(data)]
    if errors:
        raise ScenarioErrors(errors)
    return Scenario(data=data, path=path), tree, text


def _located(file: str, tree: yaml.Node, loc: tuple[Any, ...], message: str) -> ScenarioError:
    line, shown = locate(tree, loc)
    return ScenarioError(file, message, path=shown, line=line)


def line_of(tree: yaml.Node, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node along `loc` that exists in the YAML tree."""
    return locate(tree, loc)[0]


def locate(tree: yaml.Node, loc: tuple[Any, ...]) -> tuple[int | None, str]:
    """The line of the deepest node along `loc` in the YAML tree, and the key path as the file spells it:
    a persona's lines written `answer@stubborn` are ('lines', 'answer', 'stubborn') to the schema."""
    import yaml

    node = tree
    line = node.start_mark.line + 1
    shown: list[str] = []
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, yaml.MappingNode):
            keys = {key.value: (key, value) for key, value in node.value}
            joined = f"{part}{PERSONA_MARK}{parts[i + 1]}" if i + 1 < len(parts) else None
            if joined in keys and str(parts[i + 1]) not in _persona_keys(keys.get(str(part))):
                found, i = keys[joined], i + 1
                part = joined
            else:
                found = keys.get(str(part))
            shown.append(str(part))
            if found is not None:
                line = found[0].start_mark.line + 1
                node = found[1]
            # else: pydantic inserts union-member names into locs; skip them
        else:
            shown.append(str(part))
            if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
        i += 1
    return line, ".".join(shown)


def _persona_keys(found: tuple[yaml.Node, yaml.Node] | None) -> set[str]:
    """The persona names a line written as a mapping gives (`answer: {stubborn: [...]}`)."""
    import yaml

    if found is None or not isinstance(found[1], yaml.MappingNode):
        return set()
    return {key.value for key, _ in found[1].value}


def _duplicate_keys(file: str, tree: yaml.Node, path: tuple[Any, ...] = ()) -> list[ScenarioError]:
    import yaml

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


def _from_pydantic_errors(file: str, tree: yaml.Node, errors: list[dict[str, Any]]) -> list[ScenarioError]:
    """One ScenarioError per problem. Pydantic reports a failed union once per member ("not an int", "not a
    float"); those become one message, and a member that got further into the value wins over the others."""
    errors = _furthest_union_members(errors)
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for err in errors:
        grouped.setdefault(_clean_loc(err["loc"]), []).append(err)
    return [_from_pydantic(file, tree, loc, errs) for loc, errs in grouped.items()]


def _furthest_union_members(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    depth: dict[tuple[Any, ...], int] = {}
    for err in errors:
        at = _member_index(err["loc"])
        if at is not None:
            key = tuple(err["loc"][:at])
            depth[key] = max(depth.get(key, 0), len(err["loc"]) - at - 1)
    kept = []
    for err in errors:
        at = _member_index(err["loc"])
        if at is None or len(err["loc"]) - at - 1 >= depth[tuple(err["loc"][:at])]:
            kept.append(err)
    return kept


def _member_index(loc: tuple[Any, ...]) -> int | None:
    return next((i for i, p in enumerate(loc) if _is_member_tag(p)), None)


def _is_member_tag(part: Any) -> bool:
    """Pydantic inserts union-member names (int, list[str], function-after[...]) into error locations."""
    return isinstance(part, str) and ("[" in part or part in _TYPE_WORDS)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not _is_member_tag(p))


def _from_pydantic(file: str, tree: yaml.Node, loc: tuple[Any, ...], errs: list[dict[str, Any]]) -> ScenarioError:
    err = errs[0]
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}; remove it or check its spelling"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    else:
        message = _expected(errs) or err["msg"]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message += f" (got {err['input']!r})"
    return _located(file, tree, loc, message)


def _expected(errs: list[dict[str, Any]]) -> str | None:
    """'expected a number or text' for a value that fits no member of a union."""
    if len(errs) < 2:
        return None
    kinds: list[str] = []
    for err in errs:
        tag = next((p for p in err["loc"] if _is_member_tag(p)), None)
        word = _KIND_WORDS.get(str(tag).split("[")[0]) if tag else None
        if word is None:
            return None
        if word not in kinds:
            kinds.append(word)
    if "a whole number" in kinds and "a number" in kinds:
        kinds.remove("a whole number")
    return "expected " + " or ".join(kinds)


_TYPE_WORDS = {"str", "int", "float", "list", "dict", "function-after", "union"}
_KIND_WORDS = {"int": "a whole number", "float": "a number", "str": "text", "list": "a list", "dict": "a mapping"}
