"""Frozen dataclasses read back from JSON with every field's declared type checked.

A value of the wrong type is a ValueError that names the field, at the file boundary, never a crash
three modules later. Unknown keys are dropped, so an older reader survives a newer file; missing
keys take the field's default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

R = TypeVar("R")

_HINTS: dict[type, dict[str, Any]] = {}


def read_record(cls: type[R], data: Any, where: str) -> R:
    """`cls(**data)` with each value checked against (and converted to) its field's type."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} should be an object, not {kind_of(data)}")
    hints = _field_hints(cls)
    values = {key: _checked(value, hints[key], f"{where}.{key}") for key, value in data.items() if key in hints}
    try:
        return cls(**values)
    except TypeError:  # a field without a default is missing
        missing = sorted(f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                         if f.name not in values and f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)
        raise ValueError(f"{where} lacks {', '.join(missing)}") from None


def kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _field_hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}
    return _HINTS[cls]


def _checked(value: Any, kind: Any, where: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        return _checked(value, next(a for a in args if a is not type(None)), where)
    if kind is Any:
        return value
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind in (str, int, bool) and isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    if (origin is tuple or kind is tuple) and isinstance(value, list):
        return tuple(_checked(v, args[0], where) for v in value) if args else tuple(value)
    if (origin is dict or kind is dict) and isinstance(value, dict):
        if not args:
            return value
        return {_checked(k, args[0], where): _checked(v, args[1], where) for k, v in value.items()}
    if dataclasses.is_dataclass(kind) and isinstance(value, dict):
        return read_record(kind, value, where)  # type: ignore[arg-type]
    name = getattr(kind, "__name__", None) or str(kind)
    raise ValueError(f"{where} should be {name}, not {kind_of(value)}")
