"""Data files declared once, as msgspec types, with errors that name the file and key.

A data file's shape is a ``msgspec.Struct`` (``forbid_unknown_fields=True``; constraints as
``Annotated[..., msgspec.Meta(...)]``, with a ``description`` that reads as "expected ...").
``decode(data, Type, source=...)`` validates a parsed TOML/YAML document against it; a
mistake becomes one ``ConfigError`` whose ``key`` is the dotted path of the offending entry
(``brands.kiwinet.handles``) and whose message says what was expected, and, for an unknown
key, which known key was probably meant::

    brands.toml: brands.kiwinet: unknown key 'handels'; did you mean 'handles'?

msgspec reports the position inside a table of user-chosen names as ``[...]``; ``decode``
finds the entry by validating that table's values one by one, so the message names it.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import msgspec

from uproar.errors import ConfigError

T = TypeVar("T")

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>.*)`)?$", re.S)
_STEP = re.compile(r"\.(?P<name>[^.\[]+)|\[(?P<index>\d+)\]|\[(?P<any>\.\.\.)\]")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>.+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>.+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?P<rest>.*)$")

# msgspec's JSON-schema names for types, as a user of a TOML file would say them.
_TYPE_WORDS = {
    "array": "a list",
    "object": "a table",
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "nothing",
    "datetime": "a date and time",
}


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'handles'?"`` for the closest of ``choices``, or ``""``."""
    close = get_close_matches(name, list(choices), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def decode(data: Any, type_: type[T], *, source: str, strict: bool = True) -> T:
    """``data`` (a parsed document, or part of one) as ``type_``, or a ``ConfigError`` naming
    ``source`` and the key. ``strict=False`` also converts strings ("10" to 10), for values
    that come from environment variables."""
    try:
        return msgspec.convert(data, type_, strict=strict)
    except msgspec.ValidationError as exc:
        raise config_error(exc, data, type_, source=source, strict=strict) from None


def config_error(
    exc: msgspec.ValidationError, data: Any, type_: Any, *, source: str, strict: bool = True
) -> ConfigError:
    """Translate msgspec's error (message and ``$.path``) into one ``ConfigError``."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    what, path = match["what"], match["path"] or ""
    keys, value, where_type = _walk(path, data, type_, strict)
    key = ".".join(k for k in keys if not k.startswith("["))
    shown = "".join(k if k.startswith("[") else f".{k}" for k in keys).lstrip(".")
    if unknown := _UNKNOWN.match(what):
        field = unknown["field"]
        known = _field_names(where_type)
        hint = did_you_mean(field, known) or (f"; known keys: {', '.join(known)}" if known else "")
        full_key = f"{key}.{field}" if key else field
        message = f"{shown + ': ' if shown else ''}unknown key {field!r}{hint}"
        return ConfigError(f"{source}: {message}", file=source, key=full_key)
    if missing := _MISSING.match(what):
        full_key = f"{key}.{missing['field']}" if key else missing["field"]
        message = f"{shown + ': ' if shown else ''}missing key {missing['field']!r}"
        return ConfigError(f"{source}: {message}", file=source, key=full_key)
    expected = _describe(what, where_type)
    got = f", got {value!r}" if value is not _ABSENT and not isinstance(value, Mapping) else ""
    return ConfigError(
        f"{source}: {shown or 'the file'}: expected {expected}{got}", file=source, key=key or None
    )


_ABSENT = object()


def _describe(what: str, where_type: Any) -> str:
    """What the value should have been: the type's own ``Meta(description=...)`` if it has
    one, else msgspec's words made plain."""
    for meta in _metas(where_type):
        if meta.description:
            return str(meta.description)
    expected = _EXPECTED.match(what)
    if not expected:
        return what[0].lower() + what[1:] if what else "something else"
    names = [t.strip() for t in expected["type"].split("|") if t.strip() != "null"]
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in names)
    rest = expected["rest"].split(", got", 1)[0].strip()
    return f"{words} {rest}".strip()


def _walk(path: str, data: Any, type_: Any, strict: bool) -> tuple[list[str], Any, Any]:
    """Follow msgspec's ``$.a[...].b[0]`` path through ``data`` and ``type_``: the keys
    (with the real names where msgspec wrote ``[...]``), the value there and its type."""
    keys: list[str] = []
    value: Any = data
    current: Any = type_
    for step in _STEP.finditer(path):
        container = _container(current)
        if step["name"] is not None:
            name = step["name"]
            keys.append(name)
            value = value.get(name, _ABSENT) if isinstance(value, Mapping) else _ABSENT
            current = _field_type(container, name)
        elif step["index"] is not None:
            index = int(step["index"])
            keys.append(f"[{index}]")
            ok = isinstance(value, list | tuple) and index < len(value)
            value = value[index] if ok else _ABSENT
            current = _item_type(container)
        else:  # a table of user-chosen names: the first entry that fails is the one
            item_type = _item_type(container)
            name, value = _first_invalid(value, item_type, strict)
            keys.append(name)
            current = item_type
    return keys, value, current


def _first_invalid(table: Any, item_type: Any, strict: bool) -> tuple[str, Any]:
    if isinstance(table, Mapping):
        for name, item in table.items():
            try:
                msgspec.convert(item, item_type, strict=strict)
            except msgspec.ValidationError:
                return str(name), item
    return "[...]", _ABSENT


def _strip(type_: Any) -> Any:
    """``Annotated[X, ...]`` to ``X``."""
    while get_origin(type_) is Annotated:
        type_ = get_args(type_)[0]
    return type_


def _metas(type_: Any) -> list[msgspec.Meta]:
    found: list[msgspec.Meta] = []
    while get_origin(type_) is Annotated:
        found += [m for m in get_args(type_)[1:] if isinstance(m, msgspec.Meta)]
        type_ = get_args(type_)[0]
    return found


def _container(type_: Any) -> Any:
    """The struct, dict, list or tuple type inside ``type_`` (through Optional)."""
    type_ = _strip(type_)
    if get_origin(type_) in (Union, types.UnionType):
        for arg in get_args(type_):
            arg = _strip(arg)
            if arg is not type(None):
                return arg
    return type_


def _field_type(container: Any, name: str) -> Any:
    if isinstance(container, type) and issubclass(container, msgspec.Struct):
        for f in msgspec.structs.fields(container):
            if f.encode_name == name:
                return f.type
    return Any


def _item_type(container: Any) -> Any:
    args = get_args(container)
    if get_origin(container) in (dict, Mapping) and len(args) == 2:
        return args[1]
    if args:
        return args[0]
    return Any


def _field_names(type_: Any) -> list[str]:
    container = _container(type_)
    if isinstance(container, type) and issubclass(container, msgspec.Struct):
        return [f.encode_name for f in msgspec.structs.fields(container)]
    return []
