"""What a YAML syntax error most likely is, in a trainer's words, and on which line.

The parser reports where it gave up, often a few lines after the mistake and in its own terms
("mapping values are not allowed in this context"). Each rule below recognises one common mistake
from the error and the text around it: a tab, a key without its colon, a value holding ': ', a quote
left open, a line indented off the file's steps or into the wrong column. The first rule that fits wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import yaml

QUOTE_LOOKBACK_LINES = 100  # a quoted value left open swallows the lines after it up to the next quote
_INDENTATION_PROBLEMS = (
    "mapping values are not allowed", "did not find expected key", "expected <block end>",
    "did not find expected '-' indicator",
)


@dataclass(frozen=True)
class _Failure:
    problem: str
    context: str
    line: int  # 0-based, where the parser gave up
    column: int
    context_line: int | None  # 0-based, what the parser was reading when it gave up
    lines: list[str]

    def text(self, i: int) -> str:
        return self.lines[i] if 0 <= i < len(self.lines) else ""

    def content_line_above(self, i: int) -> int | None:
        return next((j for j in range(min(i, len(self.lines)) - 1, -1, -1) if _is_content(self.lines[j])), None)


Cause = tuple[int, str]  # 1-based line, what is wrong and what to do


def likely_cause(err: yaml.YAMLError, text: str) -> Cause | None:
    mark = getattr(err, "problem_mark", None)
    if mark is None:
        return None
    context_mark = getattr(err, "context_mark", None)
    failure = _Failure(
        getattr(err, "problem", None) or "", getattr(err, "context", None) or "", mark.line, mark.column,
        context_mark.line if context_mark is not None else None, text.splitlines(),
    )
    for rule in _RULES:
        cause = rule(failure)
        if cause is not None:
            return cause
    return None


def _tab_indent(f: _Failure) -> Cause | None:
    for i in (f.context_line, f.line):
        if i is not None and "\t" in f.text(i)[: len(f.text(i)) - len(f.text(i).lstrip(" \t"))]:
            return i + 1, "a tab character indents this line; YAML indents with spaces only — replace the tab with spaces"
    return None


def _undefined_alias(f: _Failure) -> Cause | None:
    if "undefined alias" not in f.problem:
        return None
    name = re.match(r"\*([^\s,\]}]+)", f.text(f.line)[f.column :])
    alias = name.group(1) if name else "name"
    return f.line + 1, (
        f"*{alias} has no anchor &{alias} before it; define the anchor first, or quote a value that starts with '*'"
    )


def _duplicate_anchor(f: _Failure) -> Cause | None:
    if "duplicate anchor" not in f.context:
        return None
    first = f.context_line + 1 if f.context_line is not None else "?"
    return f.line + 1, f"this anchor is already defined on line {first}; give each anchor (&name) its own name"


def _nesting_depth(f: _Failure) -> Cause | None:
    if "maximum nesting depth" not in f.problem:
        return None
    return f.line + 1, "lists or mappings are nested far too deep here; a scenario needs only a few levels"


def _unusual_key_or_tag(f: _Failure) -> Cause | None:
    if "unhashable key" in f.problem:
        return f.line + 1, "a key here is a list or mapping; keys are plain words (key: value)"
    tag = re.search(r"constructor for the tag '([^']*)'", f.problem)
    if tag:
        return f.line + 1, f"the tag {tag.group(1)} is not allowed in a scenario; remove it and keep the plain value"
    return None


def _alias_character(f: _Failure) -> Cause | None:
    if "alphabetic or numeric" not in f.problem or not re.search(r"alias|anchor", f.context):
        return None
    at = f.context_line if f.context_line is not None else f.line
    return at + 1, "a value starting with '*' or '&' is read as an alias or anchor; put the value in quotes (\"*\")"


def _key_without_colon_simple(f: _Failure) -> Cause | None:
    if "expected ':'" not in f.problem or "simple key" not in f.context or f.context_line is None:
        return None
    return _missing_colon(f, f.context_line)


def _open_quoted_value(f: _Failure) -> Cause | None:
    if "quoted scalar" in f.context and f.context_line is not None:
        return f.context_line + 1, "a quote opened here is never closed; close it on the same line"
    for i in range(max(0, f.line - QUOTE_LOOKBACK_LINES), min(f.line, len(f.lines) - 1) + 1):
        value = f.lines[i].split(" #", 1)[0]
        if re.search(r"(^|[\s:\[{,-])\"", value) and value.replace('\\"', "").count('"') % 2:
            return i + 1, "a quote opened on this line is not closed on it; close the quote (or escape it inside)"
    return None


def _colon_in_value(f: _Failure) -> Cause | None:
    """`hint: Say: "sorry"` — the second ': ' looks like a key inside the value."""
    if not f.problem.startswith("mapping values are not allowed"):
        return None
    before = f.text(f.line)[: f.column]
    if re.match(r"\s*(- )?[^\s:#][^:]*:\s+\S", before):
        return f.line + 1, "the value on this line holds ': ', which YAML reads as another key; put the whole value in quotes"
    return None


def _key_without_colon_nearby(f: _Failure) -> Cause | None:
    """`phase tone` where `phase: tone` was meant: YAML reads it as text running on into the next line."""
    if not f.problem.startswith(_INDENTATION_PROBLEMS):
        return None
    for i in (f.line, f.content_line_above(f.line)):
        if i is not None and re.match(r"\s*[A-Za-z_][\w@-]*\s+[^\s:#-]", f.text(i)) and ":" not in _first_word(f.text(i)):
            if not re.match(r"\s*[A-Za-z_][\w@-]*:", f.text(i)) and not _inside_block_text(f.lines, i):
                return _missing_colon(f, i)
    return None


def _off_step_indent(f: _Failure) -> Cause | None:
    unit = _indent_unit(f.lines)
    if unit is None or not f.problem.startswith(_INDENTATION_PROBLEMS + ("did not find expected",)):
        return None
    first = max(0, min(f.line, f.context_line if f.context_line is not None else f.line) - 1)
    for i in range(min(f.line, len(f.lines) - 1), first - 1, -1):
        if _is_content(f.lines[i]) and _indent(f.lines[i]) % unit and not _inside_block_text(f.lines, i):
            return i + 1, (
                f"this line is indented {_indent(f.lines[i])} spaces, off the {unit}-space steps of the lines around "
                "it; align it with the keys or list items it belongs with"
            )
    return None


def _open_bracket(f: _Failure) -> Cause | None:
    if "flow" not in f.context or f.context_line is None:
        return None
    return f.context_line + 1, (
        f"a list or mapping in brackets opened here is not closed as expected ({f.problem}); check its ']' or '}}' and commas"
    )


def _wrong_column(f: _Failure) -> Cause | None:
    if not f.problem.startswith(_INDENTATION_PROBLEMS) or f.line >= len(f.lines):
        return None
    above = f.content_line_above(f.line)
    if above is None:
        return None
    here, there = _indent(f.text(f.line)), _indent(f.text(above))
    item_here, item_there = _is_item(f.text(f.line)), _is_item(f.text(above))
    if here == there and item_here != item_there:
        what, other = ("a list item", "a key") if item_here else ("a key", "a list item ('- ')")
        return f.line + 1, (
            f"this line is {what} in the same column as {other} on line {above + 1}; "
            "indent it like the lines it belongs with (one step in or out)"
        )
    if here > there and re.match(r"\s*(- )?[^\s#][^:]*:\s+[^\s#|>]", f.text(above)):
        return f.line + 1, (
            f"this line is indented more ({here} spaces) than line {above + 1} ({there}), whose key already "
            "has a value; indent both keys the same"
        )
    if here < there:
        opener = next((j for j in range(above, -1, -1) if _is_content(f.lines[j]) and _indent(f.lines[j]) < here), None)
        if opener is not None:
            return f.line + 1, (
                f"this line ({here} spaces) lines up with nothing above it: line {above + 1} has {there} and line "
                f"{opener + 1} ({_indent(f.lines[opener])}) opens the block; one of them is indented wrong"
            )
    if here != there:
        return f.line + 1, (
            f"this line is indented {here} spaces and line {above + 1} above it {there}; align it with the lines "
            "it belongs with"
        )
    return f.line + 1, f"{f.problem}; check this line's indentation against the lines above"


_RULES: list[Callable[[_Failure], Cause | None]] = [
    _tab_indent, _undefined_alias, _duplicate_anchor, _nesting_depth, _unusual_key_or_tag, _alias_character, _key_without_colon_simple,
    _open_quoted_value, _colon_in_value, _key_without_colon_nearby, _off_step_indent, _open_bracket, _wrong_column,
]


def _missing_colon(f: _Failure, i: int) -> Cause:
    key = f.text(i).strip()
    shown = key if len(key) <= 40 else key[:40] + "…"
    return i + 1, f"'{shown}' looks like a key without its colon; put ':' after the key (key: value)"


def _first_word(line: str) -> str:
    return (line.split() or [""])[0]


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _is_item(line: str) -> bool:
    return line.lstrip().startswith("- ") or line.strip() == "-"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _indent_unit(lines: list[str]) -> int | None:
    """4 or 2 when nearly every indented line uses steps of it, else None."""
    indents = [_indent(line) for line in lines if _is_content(line) and _indent(line)]
    for unit in (4, 2):
        if indents and sum(1 for n in indents if n % unit == 0) >= 0.95 * len(indents):
            return unit
    return None


def _inside_block_text(lines: list[str], i: int) -> bool:
    """True for a line of a `|` or `>` text block (or a plain text running on), which may be indented any way."""
    here = _indent(lines[i])
    for j in range(i - 1, -1, -1):
        if _is_content(lines[j]) and _indent(lines[j]) < here:
            return bool(re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", lines[j]))
    return False
