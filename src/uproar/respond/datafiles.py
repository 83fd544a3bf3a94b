"""The respond stage's TOML data files (templates, inbox settings): the shipped copy under
``respond/templates/`` or a brand's own file, read and parsed in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from uproar.config import parse_toml
from uproar.errors import ConfigError

T = TypeVar("T")


def load_toml(
    path: str | Path | None,
    parse: Callable[[dict[str, Any], str], T],
    *,
    shipped: str,
    what: str,
) -> T:
    """``parse(data, source)`` over ``path``, or over the shipped ``templates/<shipped>``
    when ``path`` is None (parsed once per process). ``what`` names the file in errors."""
    if path is None:
        return cast(T, _load_shipped(parse, shipped))
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}", file=str(path)) from exc
    return parse(parse_toml(text, source=str(path)), str(path))


@cache
def _load_shipped(parse: Callable[[dict[str, Any], str], T], shipped: str) -> T:
    source = f"templates/{shipped}"
    text = resources.files("uproar.respond").joinpath(source).read_text("utf-8")
    return parse(parse_toml(text, source=source), source)
