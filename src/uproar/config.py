"""Brands and settings.

Brands come from a TOML file (``[brands.<id>]`` tables) whose shape is the ``BrandSpec``
struct below. Settings are one declared table, the ``Settings`` struct: each has a name, a
default and a help line, and resolves once as flag > ``UPROAR_*`` environment variable >
settings file (``uproar.toml`` in the current folder, or the file ``UPROAR_CONFIG`` names) >
default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec

from uproar.datafiles import decode, did_you_mean
from uproar.errors import ConfigError

# The respond stage's industry packs (src/uproar/respond/packs/<name>.toml; "isp" shares
# the telco pack; a test checks the two agree). The simulator's scenarios use the same names.
INDUSTRIES: tuple[str, ...] = ("telco", "isp", "airline", "bank", "retail", "online", "energy")
# Industries that share another's pack (topics in the understand taxonomy, replies in respond).
INDUSTRY_ALIASES: dict[str, str] = {"isp": "telco"}


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
    # Its industry's topic pack (understand/data/taxonomy.toml: the topics its posts get and
    # its inbox answers by) and replies (respond/packs/<industry>.toml); None: the general pack.
    industry: str | None = None

    @property
    def handle_names(self) -> frozenset[str]:
        """Lower-cased handles without the leading ``@``, for own-post detection."""
        return frozenset(h.lstrip("@").lower() for h in self.handles)


# -- the brands file ---------------------------------------------------------------------
# A keyword or name must hold something other than spaces: a keyword " " matches every post.
Text = Annotated[str, msgspec.Meta(pattern=r"\S", description="text that is not blank")]
Handle = Annotated[
    str, msgspec.Meta(pattern=r"^@[^\s@]+(@[^\s@]+)?$", description="a handle like '@KiwiNet'")
]
Hashtag = Annotated[
    str, msgspec.Meta(pattern=r"^#[^\s#]+$", description="a hashtag like '#kiwinet'")
]
Region = Annotated[
    str, msgspec.Meta(pattern=r"\S", description="an ISO 3166 code like 'NZ' or 'NZ-WGN'")
]


class BrandSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One ``[brands.<id>]`` table of a brands file."""

    name: Text | None = None
    handles: tuple[Handle, ...] = ()
    keywords: tuple[Text, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    regions: tuple[Region, ...] = ()
    peers: tuple[Text, ...] = ()
    industry: Text | None = None


class BrandsFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    brands: Annotated[
        dict[str, BrandSpec], msgspec.Meta(min_length=1, description="[brands.<id>] tables")
    ]


# ISO 3166-1 reserves these, and people write them; the hint names the assigned code.
_REGION_ALIASES = {"UK": "GB", "EL": "GR"}


def check_region(code: str) -> str | None:
    """None when ``code`` is an ISO 3166-1 country or ISO 3166-2 subdivision code (any
    case), else a hint: the code that was probably meant."""
    import pycountry  # its tables load on first use; only brands files with regions pay

    upper = code.strip().upper()
    country = pycountry.countries.get(alpha_2=upper)
    if country or pycountry.subdivisions.get(code=upper):  # type: ignore[no-untyped-call]
        return None
    if upper in _REGION_ALIASES:
        return f"did you mean {_REGION_ALIASES[upper]!r}?"
    try:
        return f"did you mean {pycountry.countries.lookup(code.strip()).alpha_2!r}?"
    except LookupError:
        return "use a country code like 'NZ' or a region code like 'NZ-WGN' (ISO 3166)"


def parse_brands(
    data: Mapping[str, Any], *, source: str = "<brands>", extra_keys: Collection[str] = ()
) -> dict[str, Brand]:
    """Validate a parsed brands document; errors name the file and the offending key.

    ``extra_keys`` are keys a caller validates itself (a scenario's ``industry``, say);
    they are left out here rather than reported as unknown."""
    if extra_keys and isinstance(data.get("brands"), Mapping):
        data = {
            **data,
            "brands": {
                k: {f: v for f, v in spec.items() if f not in extra_keys}
                if isinstance(spec, Mapping)
                else spec
                for k, spec in data["brands"].items()
            },
        }
    if "brands" not in data:
        hint = did_you_mean(next(iter(data), ""), ["brands"]) if data else ""
        raise ConfigError(
            f"{source}: expected [brands.<id>] tables{hint}", file=source, key="brands"
        )
    table = decode(data, BrandsFile, source=source).brands
    brands: dict[str, Brand] = {}
    for brand_id, spec in table.items():
        key = f"brands.{brand_id}"
        if not (spec.handles or spec.keywords or spec.hashtags):
            raise ConfigError(
                f"{source}: {key} needs at least one of handles, keywords or hashtags",
                file=source,
                key=key,
            )
        if spec.industry is not None and spec.industry not in INDUSTRIES:
            raise ConfigError(
                f"{source}: {key}.industry must be one of {', '.join(INDUSTRIES)}, "
                f"got {spec.industry!r}",
                file=source,
                key=f"{key}.industry",
            )
        for region in spec.regions:
            if fix := check_region(region):
                raise ConfigError(
                    f"{source}: {key}.regions: {region!r} is not an ISO 3166 code; {fix}",
                    file=source,
                    key=f"{key}.regions",
                )
        brands[brand_id] = Brand(
            id=brand_id,
            name=(spec.name or brand_id).strip(),
            handles=spec.handles,
            keywords=tuple(k.strip() for k in spec.keywords),
            hashtags=spec.hashtags,
            regions=tuple(r.strip().upper() for r in spec.regions),
            peers=tuple(p.strip() for p in spec.peers),
            industry=spec.industry,
        )
    for brand in brands.values():
        for peer in brand.peers:
            if peer not in brands:
                raise ConfigError(
                    f"{source}: brands.{brand.id}.peers names {peer!r}, which is not a brand in "
                    f"this file{did_you_mean(peer, brands) or '.'} Peers are brands too (their "
                    f"surges tell 'it's us' from 'it's everyone'): add a [brands.{peer}] table "
                    f"with its handles or keywords, or drop {peer!r} from peers",
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
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}", file=str(path)) from exc
    return parse_toml(text, source=str(path))


def peer_families(brands: Mapping[str, Brand]) -> dict[str, str]:
    """Each brand's family: the brands linked to it through ``peers`` (either way, and
    theirs), named by the smallest of their ids. The detector judges a family together (a
    brand's surge beside its peers'), so Spark and the stream bus keep one on one worker.
    Peers that are not configured brands link nothing."""
    parent = {b: b for b in brands}

    def root(b: str) -> str:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for brand in brands.values():
        for peer in brand.peers:
            if peer in parent:
                low, high = sorted((root(brand.id), root(peer)))
                parent[high] = low
    return {b: root(b) for b in sorted(brands)}


def load_brands(path: str | Path) -> dict[str, Brand]:
    """Read and validate a brands TOML file."""
    return parse_brands(read_toml(path, what="brands file"), source=str(path))


# -- settings ----------------------------------------------------------------------------
def _help(text: str) -> msgspec.Meta:
    """A setting's help line (``description`` is kept for what a bad value should be)."""
    return msgspec.Meta(extra={"help": text})


PositiveInt = Annotated[int, msgspec.Meta(ge=1, description="a whole number above 0")]


class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Every setting, resolved once (``Settings.resolve``) and passed explicitly."""

    db: Annotated[str, _help("DuckDB file that holds posts, labels and incidents.")] = (
        "uproar.duckdb"
    )
    brands: Annotated[
        str | None, _help("Brands TOML file; without it, brands come from the store.")
    ] = None
    # One DuckDB row group: whole-row-group appends are the store's cheapest write.
    batch_size: Annotated[
        PositiveInt, _help("Posts per ingest transaction (memory stays bounded by it).")
    ] = 122_880
    memory_limit: Annotated[str, _help("DuckDB's memory cap; beyond it, it spills to disk.")] = (
        "512MB"
    )
    model: Annotated[
        Literal["fast", "accurate"],
        msgspec.Meta(description="'fast' or 'accurate'"),
        _help("Classifier path: 'fast' or 'accurate'."),
    ] = "fast"
    profile: Annotated[str | None, _help("Brand voice profile for the linter (TOML).")] = None
    llm_url: Annotated[
        str | None, _help("OpenAI-compatible endpoint for model-assisted drafting (off).")
    ] = None

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, object] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        file: str | Path | None = None,
    ) -> Settings:
        """flag > ``UPROAR_*`` environment variable > settings file > default.

        ``file`` defaults to ``$UPROAR_CONFIG``, else ``uproar.toml`` in the current folder
        when there is one. A bad value names where it came from (the flag, the variable,
        or the file and key)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = file if file is not None else env.get("UPROAR_CONFIG") or _local_file()
        if path is not None:
            data = read_toml(path, what="settings file")
            decode(data, cls, source=str(path))
            values.update(data)
        for spec in SETTINGS:
            if spec.env in env:
                _check(spec.name, env[spec.env], source=spec.env, strict=False)
                values[spec.name] = env[spec.env]
        return decode(values, cls, source="settings", strict=False).with_flags(**(flags or {}))

    def with_flags(self, **flags: object) -> Settings:
        """These settings with the flags a command was given (None: not given)."""
        given = {k: str(v) if isinstance(v, Path) else v for k, v in flags.items()}
        given = {k: v for k, v in given.items() if v is not None}
        if not given:
            return self
        for name, value in given.items():
            _check(name, value, source="--" + name.replace("_", "-"))
        return msgspec.structs.replace(self, **given)


def _check(name: str, value: object, *, source: str, strict: bool = True) -> None:
    """Validate one setting's value; the error names its source (``--batch-size``,
    ``UPROAR_BATCH_SIZE``) rather than the field."""
    try:
        decode({name: value}, Settings, source=source, strict=strict)
    except ConfigError as exc:
        message = exc.message.replace(f"{source}: {name}: ", f"{source}: ", 1)
        raise ConfigError(message, key=name) from None


def _local_file() -> Path | None:
    local = Path("uproar.toml")
    return local if local.is_file() else None


@dataclass(frozen=True, slots=True)
class Setting:
    """One row of the settings table, for documentation: name, default, help."""

    name: str
    default: object
    help: str

    @property
    def env(self) -> str:
        return "UPROAR_" + self.name.upper()


@cache
def _settings_table() -> tuple[Setting, ...]:
    rows = []
    for f in msgspec.structs.fields(Settings):
        helps = [
            str(m.extra["help"])
            for m in get_args(f.type)[1:]
            if isinstance(m, msgspec.Meta) and m.extra and "help" in m.extra
        ]
        rows.append(Setting(f.name, f.default, helps[0] if helps else ""))
    return tuple(rows)


SETTINGS: tuple[Setting, ...] = _settings_table()


def setting(
    name: str,
    flag: object = None,
    *,
    file_values: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Any:
    """One setting, resolved on its own (for scripts and benchmarks; the CLI resolves
    ``Settings`` once per command)."""
    if name not in {s.name for s in SETTINGS}:
        raise ConfigError(
            f"unknown setting {name!r}{did_you_mean(name, (s.name for s in SETTINGS))}", key=name
        )
    if file_values is None:
        base = Settings.resolve(env=env)
    else:
        env = os.environ if env is None else env
        values = {**file_values, **{s.name: env[s.env] for s in SETTINGS if s.env in env}}
        base = decode(values, Settings, source="settings", strict=False)
    return getattr(base.with_flags(**{name: flag}), name)
