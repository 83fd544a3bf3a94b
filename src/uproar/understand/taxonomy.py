"""The understand stage's rules as data: the default taxonomy and a brand's tuning on top.

``taxonomy.toml`` (shipped) holds topics and the phrase lists behind complaint, sarcasm,
question, urgency and language. A brand's TOML file adds to it under ``[understand]``::

    [understand]
    industry = "airline"              # topic pack: telco, airline, bank, retail, online, energy
    example_similarity = 0.6          # token Jaccard at which a labelled example applies
    # taxonomy = "my-taxonomy.toml"   # replace the default taxonomy entirely

    [understand.topics.router_lights]  # a new topic, or more keywords for an existing one
    name = "Router lights"
    keywords = ["orange light", "flashing orange", "router lights"]

    [understand.keywords]              # extra phrases for the built-in labels
    complaint = ["no bueno"]
    not_complaint = ["planned maintenance"]
    urgency = ["stairlift"]
    praise = ["cheers"]
    question = ["any joy"]

    [[understand.examples]]            # labelled examples; similar posts take their labels
    text = "my hub 3 is flashing orange again"
    complaint = true
    sentiment = "negative"
    topics = ["router_lights"]

Everything takes effect on the next ``Classifier`` built with that config; no code changes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.config import INDUSTRY_ALIASES, read_toml
from uproar.errors import ConfigError

SENTIMENTS = ("negative", "neutral", "positive")
_KEYWORD_LISTS = ("complaint", "not_complaint", "urgency", "praise", "sarcasm", "question")


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    name: str
    keywords: tuple[str, ...]
    industries: tuple[str, ...] = ()  # the packs it belongs to; () = general, in every pack


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled example from config; ``None`` fields leave the model's label alone."""

    text: str
    complaint: bool | None = None
    sentiment: str | None = None
    topics: tuple[str, ...] | None = None
    question: bool | None = None
    urgency: bool | None = None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    complaint: tuple[str, ...]
    not_complaint: tuple[str, ...]
    praise: tuple[str, ...]
    sarcasm_markers: tuple[str, ...]
    question_starters: tuple[str, ...]
    question_phrases: tuple[str, ...]
    urgency: tuple[str, ...]
    emoji_negative: tuple[str, ...]
    emoji_positive: tuple[str, ...]
    scripts: tuple[tuple[str, str], ...]
    stopwords: tuple[tuple[str, tuple[str, ...]], ...]
    detect_languages: tuple[str, ...] = ()  # Lingua's candidates for posts in doubt
    # Platforms that detect a post's language themselves (their tag is taken as it is)
    detected_by: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # retired language code -> current code

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)


@dataclass(frozen=True, slots=True)
class UnderstandConfig:
    """Taxonomy plus a brand's examples. Build with ``load_config`` or ``parse_config``."""

    taxonomy: Taxonomy
    examples: tuple[Example, ...] = ()
    example_similarity: float = 0.6
    industry: str | None = None  # the topic pack in use (None: every topic)
    source: str = field(default="<default>", compare=False)


def _strings(value: Any, where: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"{source}: {where} must be a list of non-empty strings", file=source, key=where
        )
    return tuple(value)


def parse_taxonomy(data: Mapping[str, Any], *, source: str) -> Taxonomy:
    topics_raw = data.get("topics", {})
    if not isinstance(topics_raw, Mapping):
        raise ConfigError(f"{source}: [topics] must be a table", file=source, key="topics")
    topics = []
    for tid, spec in topics_raw.items():
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"{source}: topics.{tid} must be a table", file=source, key=f"topics.{tid}"
            )
        topics.append(
            Topic(
                id=tid,
                name=str(spec.get("name", tid)),
                keywords=_strings(spec.get("keywords", []), f"topics.{tid}.keywords", source),
                industries=_strings(spec.get("industries", []), f"topics.{tid}.industries", source),
            )
        )

    def section(name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source}: [{name}] must be a table", file=source, key=name)
        return value

    comp, sarc, ques, urg, langs, emo = (
        section(n) for n in ("complaint", "sarcasm", "question", "urgency", "languages", "emoji")
    )
    scripts = langs.get("scripts", {})
    stops = langs.get("stopwords", {})
    aliases = langs.get("aliases", {})
    if not all(isinstance(t, Mapping) for t in (scripts, stops, aliases)):
        raise ConfigError(
            f"{source}: languages.scripts, languages.stopwords and languages.aliases must be "
            "tables",
            file=source,
        )
    return Taxonomy(
        topics=tuple(topics),
        complaint=_strings(comp.get("keywords", []), "complaint.keywords", source),
        not_complaint=_strings(comp.get("not_complaint", []), "complaint.not_complaint", source),
        praise=_strings(sarc.get("praise", []), "sarcasm.praise", source),
        sarcasm_markers=_strings(sarc.get("markers", []), "sarcasm.markers", source),
        question_starters=_strings(ques.get("starters", []), "question.starters", source),
        question_phrases=_strings(ques.get("phrases", []), "question.phrases", source),
        urgency=_strings(urg.get("keywords", []), "urgency.keywords", source),
        emoji_negative=_strings(emo.get("negative", []), "emoji.negative", source),
        emoji_positive=_strings(emo.get("positive", []), "emoji.positive", source),
        scripts=tuple((str(k), str(v)) for k, v in scripts.items()),
        stopwords=tuple(
            (str(k), _strings(v, f"languages.stopwords.{k}", source)) for k, v in stops.items()
        ),
        detect_languages=_strings(langs.get("detect", []), "languages.detect", source),
        detected_by=_strings(langs.get("detected_by", []), "languages.detected_by", source),
        aliases=tuple((str(k), str(v)) for k, v in aliases.items()),
    )


GENERAL = "general"  # the pack of a brand with no industry: the topics every pack shares


def industries(tax: Taxonomy) -> tuple[str, ...]:
    """The industries with a topic pack in ``tax`` (sorted; not ``general``)."""
    return tuple(sorted({i for t in tax.topics for i in t.industries} - {GENERAL}))


@lru_cache(maxsize=16)
def for_industry(industry: str | None) -> UnderstandConfig:
    """The default config with one industry's topic pack (a brand's ``industry``; "isp"
    shares telco's); None gives the general pack (the topics every industry shares)."""
    name = INDUSTRY_ALIASES.get(industry, industry) if industry else GENERAL
    return parse_config({"understand": {"industry": name}}, source="<industry>")


def keep_pack_topics(
    topics: pa.Array | pa.ChunkedArray,
    brands: pa.Array | pa.ChunkedArray,
    industries: Mapping[str, str],
) -> pa.ListArray:
    """Each post's topics, kept to the packs of the brands it mentions (``brands``: lists
    of brand ids) whose industry ``industries`` names (brand id -> industry). A post that
    mentions no such brand keeps every topic. Labelling with every topic and keeping a
    pack's afterwards gives what labelling with that pack gives: topics match apart.
    Columnar: one membership test per industry over the flattened lists."""
    topics = _one_chunk(topics)
    brands = _one_chunk(brands)
    n = len(topics)
    flat_brands = pc.list_flatten(brands)
    brand_rows = np.asarray(pc.list_parent_indices(brands), dtype=np.int64)
    flat_topics = pc.list_flatten(topics)
    topic_rows = np.asarray(pc.list_parent_indices(topics), dtype=np.int64)
    chosen = np.zeros(n, dtype=bool)  # the post mentions a brand with an industry
    keep = np.zeros(len(flat_topics), dtype=bool)
    for industry in sorted(set(industries.values())):
        ids = pa.array(sorted(b for b, i in industries.items() if i == industry), pa.string())
        mentions = np.zeros(n, dtype=bool)
        hit = np.asarray(pc.is_in(flat_brands, value_set=ids).to_numpy(zero_copy_only=False))
        mentions[brand_rows[hit]] = True
        chosen |= mentions
        pack = pa.array(for_industry(industry).taxonomy.topic_ids, pa.string())
        in_pack = np.asarray(pc.is_in(flat_topics, value_set=pack).to_numpy(zero_copy_only=False))
        keep |= mentions[topic_rows] & in_pack
    keep |= ~chosen[topic_rows]
    counts = np.bincount(topic_rows[keep], minlength=n)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    values = flat_topics.filter(pa.array(keep))
    out = pa.ListArray.from_arrays(offsets, values, mask=pc.is_null(topics))
    return out.cast(pa.list_(pa.string()))


def _one_chunk(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy, parsed once (it is frozen, so every caller may share it)."""
    text = (resources.files("uproar.understand") / "data" / "taxonomy.toml").read_text(
        encoding="utf-8"
    )
    return parse_taxonomy(tomllib.loads(text), source="uproar/understand/data/taxonomy.toml")


def _example(spec: Any, i: int, source: str, topic_ids: set[str]) -> Example:
    key = f"understand.examples[{i}]"
    if (
        not isinstance(spec, Mapping)
        or not isinstance(spec.get("text"), str)
        or not spec["text"].strip()
    ):
        raise ConfigError(f"{source}: {key} needs a non-empty text", file=source, key=key)
    for flag in ("complaint", "question", "urgency"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise ConfigError(
                f"{source}: {key}.{flag} must be true or false", file=source, key=f"{key}.{flag}"
            )
    sentiment = spec.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ConfigError(
            f"{source}: {key}.sentiment must be one of {', '.join(SENTIMENTS)}, got {sentiment!r}",
            file=source,
            key=f"{key}.sentiment",
        )
    topics = None
    if "topics" in spec:
        topics = _strings(spec["topics"], f"{key}.topics", source) if spec["topics"] else ()
        unknown = [t for t in topics if t not in topic_ids]
        if unknown:
            raise ConfigError(
                f"{source}: {key}.topics names unknown topic {unknown[0]!r}",
                file=source,
                key=f"{key}.topics",
            )
    return Example(
        text=spec["text"],
        complaint=spec.get("complaint"),
        sentiment=sentiment,
        topics=topics,
        question=spec.get("question"),
        urgency=spec.get("urgency"),
    )


def parse_config(
    data: Mapping[str, Any], *, source: str = "<config>", base: Path | None = None
) -> UnderstandConfig:
    """Read the ``[understand]`` table of a parsed TOML document (absent: the defaults)."""
    spec = data.get("understand", {})
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{source}: [understand] must be a table", file=source, key="understand")
    known = {"taxonomy", "topics", "keywords", "examples", "example_similarity", "industry"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key understand.{unknown[0]} "
            f"(expected one of {', '.join(sorted(known))})",
            file=source,
            key=f"understand.{unknown[0]}",
        )
    if "taxonomy" in spec:
        path = Path(str(spec["taxonomy"]))
        if base is not None and not path.is_absolute():
            path = base / path
        tax = parse_taxonomy(read_toml(path), source=str(path))
    else:
        tax = default_taxonomy()
    topics = {t.id: t for t in tax.topics}
    extra_topics = spec.get("topics", {})
    if not isinstance(extra_topics, Mapping):
        raise ConfigError(
            f"{source}: understand.topics must be a table", file=source, key="understand.topics"
        )
    for tid, tspec in extra_topics.items():
        if not isinstance(tspec, Mapping):
            raise ConfigError(
                f"{source}: understand.topics.{tid} must be a table",
                file=source,
                key=f"understand.topics.{tid}",
            )
        words = _strings(tspec.get("keywords", []), f"understand.topics.{tid}.keywords", source)
        old = topics.get(tid)
        if old is None:
            topics[tid] = Topic(tid, str(tspec.get("name", tid)), words)
        else:
            topics[tid] = replace(
                old, name=str(tspec.get("name", old.name)), keywords=old.keywords + words
            )
    industry = spec.get("industry")
    if industry is not None:
        packs = (GENERAL, *industries(tax))
        if not isinstance(industry, str) or industry not in packs:
            raise ConfigError(
                f"{source}: understand.industry {industry!r} has no topic pack "
                f"(expected one of {', '.join(packs)})",
                file=source,
                key="understand.industry",
            )
        # The general topics, that industry's pack, and every topic the config itself adds.
        topics = {
            tid: t
            for tid, t in topics.items()
            if not t.industries or industry in t.industries or tid in extra_topics
        }
    tax = replace(tax, topics=tuple(topics.values()))
    kw = spec.get("keywords", {})
    if not isinstance(kw, Mapping):
        raise ConfigError(
            f"{source}: understand.keywords must be a table", file=source, key="understand.keywords"
        )
    for name in kw:
        if name not in _KEYWORD_LISTS:
            raise ConfigError(
                f"{source}: unknown list understand.keywords.{name} "
                f"(expected one of {', '.join(_KEYWORD_LISTS)})",
                file=source,
                key=f"understand.keywords.{name}",
            )
    fields = {
        "complaint": "complaint",
        "not_complaint": "not_complaint",
        "urgency": "urgency",
        "praise": "praise",
        "sarcasm": "sarcasm_markers",
        "question": "question_phrases",
    }
    for name, attr in fields.items():
        if name in kw:
            tax = replace(
                tax,
                **{
                    attr: getattr(tax, attr)
                    + _strings(kw[name], f"understand.keywords.{name}", source)
                },
            )
    raw_examples = spec.get("examples", [])
    if not isinstance(raw_examples, list):
        raise ConfigError(
            f"{source}: understand.examples must be an array of tables",
            file=source,
            key="understand.examples",
        )
    examples = tuple(_example(e, i, source, set(topics)) for i, e in enumerate(raw_examples))
    sim = spec.get("example_similarity", 0.6)
    if not isinstance(sim, int | float) or isinstance(sim, bool) or not 0.0 < float(sim) <= 1.0:
        raise ConfigError(
            f"{source}: understand.example_similarity must be a number in (0, 1], got {sim!r}",
            file=source,
            key="understand.example_similarity",
        )
    return UnderstandConfig(
        taxonomy=tax,
        examples=examples,
        example_similarity=float(sim),
        industry=industry,
        source=source,
    )


def load_config(path: str | Path) -> UnderstandConfig:
    """Read a TOML file's ``[understand]`` table (a brands file may carry it too)."""
    path = Path(path)
    return parse_config(read_toml(path), source=str(path), base=path.parent)


def resolve_config(
    config: UnderstandConfig | str | Path | Mapping[str, Any] | None,
) -> UnderstandConfig:
    """Accept a ready config, a TOML path, a parsed mapping, or None for the defaults."""
    if config is None:
        return UnderstandConfig(taxonomy=default_taxonomy())
    if isinstance(config, UnderstandConfig):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    if isinstance(config, Mapping):
        return parse_config(config)
    raise ConfigError(
        f"config must be an UnderstandConfig, a TOML path or a mapping, not {type(config).__name__}"
    )
