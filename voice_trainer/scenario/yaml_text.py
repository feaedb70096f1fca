"""The YAML layer of a scenario file: read the text and parse it into a node tree, safely; a syntax error
names its likely cause (see yaml_hints).

Safely: YAML aliases (`*name`) repeat an anchored value (`&name`) without copying it, so a few hundred
bytes can stand for billions of values ("billion laughs"), and an alias inside its own anchor is a loop.
Both are refused here, before anything walks the tree.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from voice_trainer.errors import ScenarioError
from voice_trainer.scenario.yaml_hints import likely_cause

MAX_FILE_BYTES = 10 * 1024 * 1024  # the seed scenario is ~50 KB
# How many values aliases may repeat in one file. Reusing a list of phrases in a few places costs
# hundreds; a "billion laughs" file passes this within a few aliases.
ALIAS_VALUE_BUDGET = 10_000


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: start-up time
    """YAML 1.2 booleans: only true/false. In YAML 1.1 the rule key `on:` (and yes/no/off) would turn into a bool."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_text(path: Path) -> str:
    file = str(path)
    try:
        if path.is_dir():
            raise ScenarioError(file, "is a directory, not a scenario file; give the path of a .yaml file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                file, f"{size // (1024 * 1024)} MB is far too big for a scenario (they are tens of KB); "
                "check that this is the right file"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(file, "no such scenario file; check the path") from None
    except OSError as err:
        raise ScenarioError(file, f"cannot read the file ({err.strerror or err}); check its permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ScenarioError(
            file, f"not UTF-8 text (byte {data[err.start]:#04x}); save the file as UTF-8", line=line
        ) from None


def compose(file: str, text: str) -> yaml.Node:
    """The node tree of `text`; aliases are checked against the budget before anyone walks it."""
    try:
        tree = yaml.compose(text, Loader=YamlLoader)
    except yaml.YAMLError as err:
        raise yaml_error(file, err, text) from None
    if tree is None:
        raise ScenarioError(file, "the file is empty; `voice-trainer scenario new NAME --lang en` writes a template "
                            "to start from", line=1)
    if _has_shared_nodes(tree):
        _check_aliases(file, text)
    return tree


def _has_shared_nodes(tree: yaml.Node) -> bool:
    """True when some node is reached twice: the file uses aliases (or loops through one)."""
    seen: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += node.value
        elif isinstance(node, yaml.MappingNode):
            stack += [part for pair in node.value for part in pair]
    return False


def _check_aliases(file: str, text: str) -> None:
    """Replays the parse events, counting the values each alias repeats; refuses a loop or too many."""
    sizes: dict[str, int] = {}  # anchor -> how many values its node holds, itself included
    open_nodes: list[list] = []  # [anchor, values so far] of each collection being read
    repeated = 0
    for event in yaml.parse(text, Loader=YamlLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            open_nodes.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                raise ScenarioError(
                    file, f"alias *{event.anchor} is inside the value it stands for (&{event.anchor}), "
                    "a loop without end; write the value out instead", line=line,
                )
            count = sizes.get(event.anchor, 1)
            repeated += count
            if repeated > ALIAS_VALUE_BUDGET:
                raise ScenarioError(
                    file, f"aliases up to *{event.anchor} repeat more than {ALIAS_VALUE_BUDGET} values "
                    "(an alias bomb?); a scenario needs only a few small aliases — write the values out",
                    line=line,
                )
        elif isinstance(event, yaml.ScalarEvent):
            count = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, count = open_nodes.pop()
            if anchor:
                sizes[anchor] = count
        else:
            continue
        if open_nodes:
            open_nodes[-1][1] += count


def yaml_error(file: str, err: yaml.YAMLError, text: str = "") -> ScenarioError:
    if isinstance(err, yaml.reader.ReaderError):
        code = err.character if isinstance(err.character, int) else ord(err.character or "\0")
        # libyaml (the C loader) counts the position in UTF-8 bytes, the pure-Python reader in characters
        before = text.encode("utf-8")[: err.position].decode("utf-8", "ignore") if err.encoding != "unicode" \
            else text[: err.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return ScenarioError(file, f"column {column}: a control character (U+{code:04X}) YAML does not "
                             "allow; delete it (text copied from a terminal or a word processor can carry one)",
                             line=line)
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    line = mark.line + 1 if mark else None
    if "another document" in problem:
        return ScenarioError(file, "a second YAML document starts here ('---'); keep one scenario per file", line=line)
    cause = likely_cause(err, text)
    if cause is not None:
        return ScenarioError(file, f"not valid YAML: {cause[1]}", line=cause[0])
    return ScenarioError(file, f"not valid YAML: {problem}; fix the syntax", line=line)
