"""Brands and settings.

Brands come from a TOML file (``[brands.<id>]`` tables). Settings are one declared table:
each has a name, a default and a help line, and resolves as flag > ``UPROAR_*`` environment
variable > settings file > default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uproar.errors import ConfigError

# The respond stage's industry packs (src/uproar/respond/packs/<name>.toml; "isp" shares
# the telco pack; a test checks the two agree). The simulator's scenarios use the same names.
INDUSTRIES: tuple[str, ...] = ("telco", "isp", "airline", "bank", "retail", "online", "energy")


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand Uproar listens for. ``id`` is the table key and appears in all output."""

    id: str
    name: str
    handles: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    # Which respond industry pack answers its inbox (respond/packs/<industry>.toml).
    industry: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def handle_names(self) -> frozenset[str]:
        """Lower-cased handles without the leading ``@``, for own-post detection."""
        return frozenset(h.lstrip("@").lower() for h in self.handles)


_LIST_KEYS = ("handles", "keywords", "hashtags", "regions", "peers")


def parse_brands(data: Mapping[str, Any], *, source: str = "<brands>") -> dict[str, Brand]:
    """Validate a parsed brands document; errors name the offending key."""
    table = data.get("brands")
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{source}: expected a [brands.<id>] table", file=source, key="brands")
    brands: dict[str, Brand] = {}
    for brand_id, spec in table.items():
        key = f"brands.{brand_id}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{source}: {key} must be a table", file=source, key=key)
        name = spec.get("name", brand_id)
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{source}: {key}.name must be a non-empty string", key=f"{key}.name")
        lists: dict[str, tuple[str, ...]] = {}
        for list_key in _LIST_KEYS:
            value = spec.get(list_key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(
                    f"{source}: {key}.{list_key} must be a list of non-empty strings",
                    file=source,
                    key=f"{key}.{list_key}",
                )
            lists[list_key] = tuple(value)
        for handle in lists["handles"]:
            if not handle.startswith("@") or len(handle) < 2:
                raise ConfigError(
                    f"{source}: {key}.handles entry {handle!r} must start with '@'",
                    file=source,
                    key=f"{key}.handles",
                )
        for tag in lists["hashtags"]:
            if not tag.startswith("#") or len(tag) < 2:
                raise ConfigError(
                    f"{source}: {key}.hashtags entry {tag!r} must start with '#'",
                    file=source,
                    key=f"{key}.hashtags",
                )
        if not (lists["handles"] or lists["keywords"] or lists["hashtags"]):
            raise ConfigError(
                f"{source}: {key} needs at least one of handles, keywords or hashtags",
                file=source,
                key=key,
            )
        industry = spec.get("industry")
        if industry is not None and industry not in INDUSTRIES:
            raise ConfigError(
                f"{source}: {key}.industry must be one of {', '.join(INDUSTRIES)}, "
                f"got {industry!r}",
                file=source,
                key=f"{key}.industry",
            )
        # industry stays in extra too, so the store's copy of the brands keeps it.
        extra = {k: v for k, v in spec.items() if k not in (*_LIST_KEYS, "name")}
        brands[brand_id] = Brand(id=brand_id, name=name, industry=industry, extra=extra, **lists)
    for brand in brands.values():
        for peer in brand.peers:
            if peer not in brands:
                raise ConfigError(
                    f"{source}: brands.{brand.id}.peers names unknown brand {peer!r}",
                    file=source,
                    key=f"brands.{brand.id}.peers",
                )
    return brands


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """TOML text as a dict; a syntax error becomes a ConfigError naming ``source``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}", file=source) from exc


def read_toml(path: str | Path, *, what: str = "file") -> dict[str, Any]:
    """A TOML file as a dict; a missing file or bad syntax is a ConfigError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found", file=str(path)) from exc
    return parse_toml(text, source=str(path))


def load_brands(path: str | Path) -> dict[str, Brand]:
    """Read and validate a brands TOML file."""
    return parse_brands(read_toml(path, what="brands file"), source=str(path))


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str | int | float | bool | None
    help: str

    @property
    def env(self) -> str:
        return "UPROAR_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "uproar.duckdb", "DuckDB file that holds posts, labels and incidents."),
    Setting("brands", None, "Brands TOML file; without it, brands come from the store."),
    # One DuckDB row group: whole-row-group appends are the store's cheapest write.
    Setting("batch_size", 122_880, "Posts per ingest transaction (memory stays bounded by it)."),
    Setting("memory_limit", "512MB", "DuckDB's memory cap; beyond it, it spills to disk."),
    Setting("model", "fast", "Classifier path: 'fast' or 'accurate'."),
    Setting("profile", None, "Brand voice profile for the linter (TOML)."),
    Setting("llm_url", None, "OpenAI-compatible endpoint for model-assisted drafting (off)."),
)


def setting(
    name: str,
    flag: object = None,
    *,
    file_values: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Resolve one setting: flag > environment > settings file > default."""
    spec = next((s for s in SETTINGS if s.name == name), None)
    if spec is None:
        raise ConfigError(f"unknown setting {name!r}", key=name)
    if flag is not None:
        return flag
    env = os.environ if env is None else env
    if spec.env in env:
        raw = env[spec.env]
        return type(spec.default)(raw) if isinstance(spec.default, int | float) else raw
    if file_values and name in file_values:
        return file_values[name]
    return spec.default
