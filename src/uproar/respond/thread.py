"""Status threads: incident facts in, a numbered thread that fits the platform out.

    facts = load_facts("kiwinet-update1.toml")
    thread = compose_thread(facts, "x")          # Thread(posts=(ThreadPost("... 1/3"), ...))

The sentences come from ``templates/thread.toml`` (data, in the brand's voice). Posts are
packed sentence by sentence; a sentence too long for one post is split at a clause boundary,
then between words, never inside a word or a link. Every post carries its number (" 2/4"),
counted in its length exactly as the platform counts it (``platforms.weighted_length``).
Follow-up updates continue the numbering and lead with what changed.

Every post goes through the voice linter; when it reports an error-level finding the
sentence it falls in moves to its next phrasing, and when the phrasings run out the
composer raises ``InputError`` naming the fact to reword.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex

from uproar.errors import ConfigError, InputError
from uproar.records import Finding
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter, Profile, default_linter
from uproar.respond.platforms import fits, link_spans, max_length, rules_for, weighted_length

REQUIRED_FACTS: tuple[str, ...] = ("brand", "what", "link")
TEXT_FACTS: tuple[str, ...] = ("who", "do", "doing", "next_update")
OPTIONAL_FACTS: tuple[str, ...] = (
    *TEXT_FACTS,
    "update",
    "changed",
    "previous",
    "hashtag",
    "stage",
)
# Statuspage's incident lifecycle; each stage's required facts are in templates/thread.toml.
STAGES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the brand knows right now. Each text fact may be written as a sentence, a clause
    or a fragment, in any case, with or without a full stop: ``parse_facts`` brings it to
    the shape its sentence needs (``what`` a clause, ``who`` a noun phrase, ``do`` an
    instruction, ``doing`` an -ing phrase, ``next_update`` a time with its preposition) or,
    when it is a whole sentence of its own, keeps it whole (``sentences``)."""

    brand: str
    what: str
    link: str
    who: str | None = None
    do: str | None = None
    doing: str | None = None
    next_update: str | None = None
    update: int = 1
    changed: str | None = None
    previous: int = 0
    hashtag: str | None = None
    stage: str = "investigating"
    # Facts written as whole sentences: their sections use them as they stand.
    sentences: frozenset[str] = frozenset()
    source: str | None = field(default=None, compare=False)


def parse_facts(
    data: Mapping[str, Any],
    *,
    source: str = "<facts>",
    tz: str | None = None,
    templates: ThreadTemplates | None = None,
) -> Facts:
    """Validate a parsed facts document and shape its text; errors name the file and key.
    ``tz`` (an IANA zone, e.g. "Pacific/Auckland") shows a ``next_update`` given as an ISO
    date-time as people write local times ("by 11:30pm NZST")."""
    templates = templates or load_templates()
    values: dict[str, Any] = {}
    unknown = sorted(set(data) - set(REQUIRED_FACTS) - set(OPTIONAL_FACTS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}", file=source, field=unknown[0])
    for key in (*REQUIRED_FACTS, *TEXT_FACTS, "changed", "hashtag"):
        value = data.get(key)
        if value is None:
            if key in REQUIRED_FACTS:
                raise InputError(f"missing key {key!r}", file=source, field=key)
            continue
        if isinstance(value, datetime) and key == "next_update":
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{key!r} must be a non-empty string", file=source, field=key)
        values[key] = _clean(value)
    for key, low in (("update", 1), ("previous", 0)):
        value = data.get(key, low)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InputError(f"{key!r} must be a whole number >= {low}", file=source, field=key)
        values[key] = value
    if values["update"] > 1 and values.get("changed") is None:
        raise InputError(
            "a follow-up (update > 1) must say what changed", file=source, field="changed"
        )
    if values.get("hashtag") and not values["hashtag"].startswith("#"):
        values["hashtag"] = "#" + values["hashtag"]
    stage = data.get("stage", "identified" if values.get("doing") else "investigating")
    if stage not in STAGES:
        raise InputError(
            f"'stage' must be one of {', '.join(STAGES)}, got {stage!r}", file=source, field="stage"
        )
    values["stage"] = stage
    link = values["link"]
    if not regex.match(r"https?://", link, regex.IGNORECASE):
        link = "https://" + link
    if " " in link or not link_spans(link, "mastodon"):
        raise InputError(f"'link' is not a web address: {link!r}", file=source, field="link")
    values["link"] = link
    if values.get("next_update"):
        values["next_update"] = local_time(values["next_update"], tz, source=source)
    sentences = set()
    for key in (*TEXT_FACTS, "what", "changed"):
        if values.get(key) is None:
            continue
        shaped, whole = shape_fact(key, values[key], templates)
        values[key] = shaped
        if whole:
            sentences.add(key)
    return Facts(**values, sentences=frozenset(sentences), source=source)


_ISO = regex.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:Z|[+-]\d\d:?\d\d)?$")


def local_time(value: str, tz: str | None, *, source: str = "<facts>") -> str:
    """An ISO date-time as people write a time: "11:30pm NZST", "8am AEDT" (in ``tz``, or
    UTC); any other text is returned as written."""
    if not _ISO.match(value):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"next_update: {exc}", file=source, field="next_update") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {tz!r}", field="tz") from exc
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}" if local.minute else f"{hour}"
    suffix = "am" if local.hour < 12 else "pm"
    if local.hour == 12 and local.minute == 0:
        clock, suffix = "noon", ""
    return f"{clock}{suffix} {local.tzname() or ''}".strip()


_PREPOSITION = regex.compile(
    r"^(?:by|at|around|before|after|in|within|on|from|tomorrow|tonight|this|next|later|soon|"
    r"every|once|as soon)\b",
    regex.IGNORECASE,
)


def shape_fact(key: str, value: str, templates: ThreadTemplates) -> tuple[str, bool]:
    """``(text, whole)``: the fact as its section's fragment, or ``whole`` when it is a
    sentence that must stand alone (then ``text`` is that sentence, capitalised, with no
    final full stop: templates add their own)."""
    shape = templates.shapes.get(key)
    text = value
    if shape is not None:
        for pattern in shape.strip:
            text = pattern.sub("", text, count=1)
        text = text.strip(" ,;:") or value
        if not shape.fragment.search(text):
            return _capitalise(value), True
    if key in ("who", "do", "doing"):
        text = _lower_first(text, templates.lower)
    if key == "next_update" and not _PREPOSITION.match(text):
        text = "by " + text
    if key == "next_update":
        text = _lower_first(text, templates.lower)
    return text, False


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str, common: frozenset[str]) -> str:
    """Lower-case the first word when it is a common word (not a name) or an -ing verb."""
    first = text.split(" ", 1)[0]
    plain = first[:1].isupper() and first[1:] == first[1:].lower()
    if plain and (first.lower().strip(",") in common or first.lower().endswith("ing")):
        return first[:1].lower() + text[1:]
    return text


def load_facts(path: str | Path, *, tz: str | None = None) -> Facts:
    """Read a facts TOML file (keys: ``REQUIRED_FACTS``, optionally ``OPTIONAL_FACTS``)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("facts file not found", file=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from exc
    return parse_facts(data, source=str(path), tz=tz)


def example_facts(name: str = "kiwinet-update1") -> Facts:
    """A shipped example facts file (``respond/examples/<name>.toml``), for docs and the demo:
    ``kiwinet-update1`` and ``kiwinet-update2`` follow the isp-2014 scenario."""
    source = resources.files("uproar.respond").joinpath(f"examples/{name}.toml")
    if not source.is_file():
        raise InputError(f"no example facts named {name!r}", field="name")
    return parse_facts(tomllib.loads(source.read_text("utf-8")), source=f"examples/{name}.toml")


def _clean(value: str) -> str:
    """One line, no doubled spaces, no closing full stops (templates add their own)."""
    text = " ".join(value.split())
    if sum(c.isalpha() for c in text) > 8 and text.isupper():
        text = text.capitalize()  # a fact typed in capitals is not meant to shout
    while text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


# -- templates -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Section:
    name: str
    variants: tuple[str, ...]
    uses: tuple[str, ...] = ()
    when: str = "always"
    optional: bool = False
    stages: tuple[str, ...] = STAGES


@dataclass(frozen=True, slots=True)
class Shape:
    strip: tuple[regex.Pattern[str], ...]
    fragment: regex.Pattern[str]


@dataclass(frozen=True, slots=True)
class ThreadTemplates:
    sections: tuple[Section, ...]
    numbered: Mapping[str, bool]
    joiner: Mapping[str, str]
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shapes: Mapping[str, Shape] = field(default_factory=dict)
    lower: frozenset[str] = frozenset()


def load_templates(path: str | Path | None = None) -> ThreadTemplates:
    """The thread's sentence templates: the shipped ones, or a brand's own TOML file."""
    return load_toml(path, _parse_templates, shipped="thread.toml", what="templates")


def _parse_templates(data: dict[str, Any], source: str) -> ThreadTemplates:
    sections = []
    for i, spec in enumerate(data.get("sections", [])):
        key = f"sections[{i}]"
        variants = spec.get("variants")
        if not isinstance(variants, list) or not variants:
            raise ConfigError(f"{source}: {key}.variants must be a non-empty list", key=key)
        when = spec.get("when", "always")
        if when not in ("always", "first", "follow-up"):
            raise ConfigError(f"{source}: {key}.when must be always|first|follow-up", key=key)
        stages = tuple(spec.get("stages", STAGES))
        if not stages or any(st not in STAGES for st in stages):
            raise ConfigError(f"{source}: {key}.stages must name some of {STAGES}", key=key)
        sections.append(
            Section(
                name=str(spec.get("name", key)),
                variants=tuple(str(v) for v in variants),
                uses=tuple(spec.get("uses", ())),
                when=when,
                optional=bool(spec.get("optional", False)),
                stages=stages,
            )
        )
    if not sections:
        raise ConfigError(f"{source}: no [[sections]]", file=source, key="sections")
    platforms = data.get("platforms", {})
    flags = regex.IGNORECASE | regex.VERSION0
    try:
        shapes = {
            name: Shape(
                strip=tuple(regex.compile(p, flags) for p in spec.get("strip", [])),
                fragment=regex.compile(spec.get("fragment", "."), flags),
            )
            for name, spec in data.get("shapes", {}).items()
        }
    except regex.error as exc:
        raise ConfigError(f"{source}: shapes: bad pattern: {exc}", key="shapes") from exc
    return ThreadTemplates(
        sections=tuple(sections),
        numbered={p: bool(v.get("numbered", True)) for p, v in platforms.items()},
        joiner={p: str(v.get("joiner", " ")) for p, v in platforms.items()},
        required={k: tuple(v.get("required", ())) for k, v in data.get("stages", {}).items()},
        shapes=shapes,
        lower=frozenset(w.lower() for w in data.get("words", {}).get("lower", [])),
    )


_PLACEHOLDER = regex.compile(r"\{(\w+)\}")


def fill_facts(template: str, facts: Facts) -> str:
    """Put the facts into a template: ``{what}`` as written, ``{What}`` capitalised."""

    def value(m: regex.Match[str]) -> str:
        name = str(m[1])
        raw = getattr(facts, name.lower(), None)
        if raw is None:
            raise ConfigError(f"template placeholder {{{name}}} names no fact", key=name)
        text = str(raw)
        return text[:1].upper() + text[1:] if name[:1].isupper() else text

    return str(_PLACEHOLDER.sub(value, template))


_URL = regex.compile(r"https?://\S+")


def _reads_well(text: str) -> bool:
    """At most one colon per sentence, links aside."""
    bare = _URL.sub("", text)
    return all(part.count(":") <= 1 for part in regex.split(r"(?<=[.!?])\s+", bare))


def _section_text(section: Section, template: str, facts: Facts) -> str:
    """The section's sentence: the template filled, or the fact itself where it was
    written as a whole sentence (so "Our engineers are replacing..." is never slotted
    into "Our team is ...")."""
    whole = [u for u in section.uses if u in facts.sentences]
    if whole and section.name != "what":
        return " ".join(f"{getattr(facts, u)}." for u in whole)
    return fill_facts(template, facts)


# -- the thread ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ThreadPost:
    """One post: its text, its length as the platform counts it, its number in the thread,
    and the linter's (non-error) findings."""

    text: str
    length: int
    number: int
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Thread:
    platform: str
    posts: tuple[ThreadPost, ...]
    limit: int
    previous: int = 0

    @property
    def total(self) -> int:
        """Posts in the whole thread, earlier updates included."""
        return self.previous + len(self.posts)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: ``{"platform", "posts": [{"text", "length"}]}``."""
        return {
            "platform": self.platform,
            "posts": [{"text": p.text, "length": p.length} for p in self.posts],
        }


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str
    section: int


def compose_thread(
    facts: Facts,
    platform: str,
    *,
    profile: Profile | None = None,
    previous: int | None = None,
    linter: Linter | None = None,
    templates: ThreadTemplates | None = None,
) -> Thread:
    """Write the numbered thread for ``facts`` on ``platform``.

    ``previous`` is how many posts the thread already has (earlier updates); numbering
    continues after them. Without it, the facts' ``previous`` key is used."""
    rules_for(platform)  # validates the name
    templates = templates or load_templates()
    linter = linter or (Linter(profile) if profile is not None else default_linter())
    start = facts.previous if previous is None else previous
    if start < 0:
        raise InputError("previous must be >= 0", field="previous")
    follow_up = facts.update > 1
    missing = [k for k in templates.required.get(facts.stage, ()) if getattr(facts, k) is None]
    if missing:
        raise InputError(
            f"a {facts.stage!r} update needs {', '.join(repr(k) for k in missing)}",
            file=facts.source,
            field=missing[0],
        )
    active = [
        (i, s)
        for i, s in enumerate(templates.sections)
        if (s.when == "always" or (s.when == "follow-up") == follow_up)
        and facts.stage in s.stages
        and all(getattr(facts, u, None) is not None for u in s.uses)
    ]
    # Start each section at its first phrasing that reads well with these facts (one colon
    # at most per sentence: "Update 2: we've found the cause: ..." takes the next one).
    choice = {
        i: next((k for k, v in enumerate(s.variants) if _reads_well(_section_text(s, v, facts))), 0)
        for i, s in active
    }
    while True:
        sentences = [
            _Sentence(_section_text(s, s.variants[choice[i]], facts), i) for i, s in active
        ]
        posts = _pack(sentences, platform, templates, start, facts.hashtag)
        if len(posts) > 1 and any(templates.sections[x.section].optional for x in sentences):
            # An optional sentence (the thanks) is not worth a post of its own.
            kept = [x for x in sentences if not templates.sections[x.section].optional]
            shorter = _pack(kept, platform, templates, start, facts.hashtag)
            if len(shorter) < len(posts):
                posts = shorter
        objections = _lint(posts, linter, facts)
        if not objections:
            break
        for section, finding in objections:
            sec = templates.sections[section]
            if choice[section] + 1 >= len(sec.variants):
                raise InputError(
                    f"the linter rejects every phrasing of the {sec.name!r} sentence "
                    f"({finding.rule}: {finding.message}); reword the fact",
                    file=facts.source,
                    field=sec.uses[0] if sec.uses else None,
                )
            choice[section] += 1
    return Thread(
        platform=platform,
        posts=tuple(
            ThreadPost(
                text=text,
                length=weighted_length(text, platform),
                number=start + n + 1,
                findings=_post_findings(text, linter),
            )
            for n, (text, _) in enumerate(posts)
        ),
        limit=max_length(platform),
        previous=start,
    )


# A sentence ends at . ! or ? (with any closing quotes or brackets) before a space, or at a
# line break: the same boundary the linter's ``Document`` uses.
_SENTENCE = regex.compile(r"(?<=[.!?][\"')\]\u2019\u201d]*)\s+|\s*\n\s*")


def split_text(
    text: str,
    platform: str,
    *,
    previous: int = 0,
    hashtag: str | None = None,
    templates: ThreadTemplates | None = None,
) -> Thread:
    """A free text (a status update someone wrote) as the numbered thread ``platform``
    would need: sentence by sentence, split at clauses or between words only where a
    sentence is too long for one post, each post counted exactly as the platform counts
    it. Raises ``InputError`` for an empty text or a word too long for any post."""
    rules_for(platform)  # validates the name
    if previous < 0:
        raise InputError("previous must be >= 0", field="previous")
    sentences = [_Sentence(s, 0) for s in _SENTENCE.split(text.strip()) if s.strip()]
    if not sentences:
        raise InputError("nothing to split: the text is empty", field="text")
    posts = _pack(sentences, platform, templates or load_templates(), previous, hashtag)
    return Thread(
        platform=platform,
        posts=tuple(
            ThreadPost(text=body, length=weighted_length(body, platform), number=previous + n + 1)
            for n, (body, _) in enumerate(posts)
        ),
        limit=max_length(platform),
        previous=previous,
    )


def _lint(
    posts: Sequence[tuple[str, list[tuple[int, int, int]]]], linter: Linter, facts: Facts
) -> list[tuple[int, Finding]]:
    """Error-level findings, each with the section whose sentence it falls in.

    A thread is one status update spread over several posts, so the facts check (what,
    who, what to do, next update) runs on the whole thread; every other rule runs on each
    post as it will be read."""
    whole_thread = {r.id for r in linter.rules if r.extends == "facts"}
    out: list[tuple[int, Finding]] = []
    seen: set[int] = set()
    for text, spans in posts:
        lines = text.split("\n")
        for f in linter.lint(text, kind="update"):
            if f.severity != "error" or f.rule in whole_thread:
                continue
            offset = sum(len(line) + 1 for line in lines[: f.line - 1]) + f.start - 1
            section = next((sec for s, e, sec in spans if s <= offset < e), spans[0][2])
            if section not in seen:
                seen.add(section)
                out.append((section, f))
    if not out:
        joined = "\n".join(text for text, _ in posts)
        for f in linter.lint(joined, kind="update"):
            if f.severity == "error" and f.rule in whole_thread:
                raise InputError(
                    f"the thread fails {f.rule}: {f.message}", file=facts.source, field=None
                )
    return out


def _post_findings(text: str, linter: Linter) -> tuple[Finding, ...]:
    """What the linter says about one post, less the whole-thread facts check."""
    whole_thread = {r.id for r in linter.rules if r.extends == "facts"}
    return tuple(f for f in linter.lint(text, kind="update") if f.rule not in whole_thread)


# -- packing -------------------------------------------------------------------------------
_CLAUSE = regex.compile(r"(?<=[,;:\u2014\u2013])\s+|\s+(?=[\u2014\u2013]\s)")


def _suffix(number: int, total: int, hashtag: str | None) -> str:
    """What ends each post: " 3/5" when numbered (``total`` > 0), then the hashtag."""
    parts = ([f"{number}/{total}"] if total else []) + ([hashtag] if hashtag else [])
    return " " + " ".join(parts) if parts else ""


def _pack(
    sentences: Sequence[_Sentence],
    platform: str,
    templates: ThreadTemplates,
    start: int,
    hashtag: str | None,
) -> list[tuple[str, list[tuple[int, int, int]]]]:
    """Posts as (text, [(start, end, section)...]); the total is found by repacking until
    the numbering's width stops changing. A thread of one post needs no "1/1"."""
    numbered = templates.numbered.get(platform, True)
    joiner = templates.joiner.get(platform, " ")
    total = start + 1 if numbered else 0
    posts = _pack_once(sentences, platform, joiner, start, total, hashtag)
    for _ in range(8):
        if not numbered or start + len(posts) == total:
            break
        total = start + len(posts)
        posts = _pack_once(sentences, platform, joiner, start, total, hashtag)
    if numbered and len(posts) == 1 and start == 0:
        total = 0
        posts = _pack_once(sentences, platform, joiner, 0, 0, hashtag)
    return [
        (body + _suffix(start + n + 1, total, hashtag), spans)
        for n, (body, spans) in enumerate(posts)
    ]


def _pack_once(
    sentences: Sequence[_Sentence],
    platform: str,
    joiner: str,
    start: int,
    total: int,
    hashtag: str | None,
) -> list[tuple[str, list[tuple[int, int, int]]]]:
    def ok(body: str, index: int) -> bool:
        number = start + index + 1
        return fits(body + _suffix(number, max(total, number) if total else 0, hashtag), platform)

    posts: list[tuple[str, list[tuple[int, int, int]]]] = []
    body, spans = "", list[tuple[int, int, int]]()
    for sentence in sentences:
        for piece in _pieces(sentence.text, lambda t: ok(t, len(posts))):
            candidate = body + joiner + piece if body else piece
            if body and not ok(candidate, len(posts)):
                posts.append((body, spans))
                body, spans, candidate = "", [], piece
            if not ok(candidate, len(posts)):
                raise InputError(
                    f"{piece[:40]!r}... cannot fit one {platform} post even alone; shorten it"
                )
            begin = len(candidate) - len(piece)
            body = candidate
            spans.append((begin, len(body), sentence.section))
    if body:
        posts.append((body, spans))
    return posts


def _pieces(sentence: str, fits_alone: Callable[[str], bool]) -> list[str]:
    """The sentence whole if it fits a post alone; else clauses; else runs of words.
    Links and words are never cut."""
    if fits_alone(sentence):
        return [sentence]
    clauses = [c for c in _CLAUSE.split(sentence) if c]
    out: list[str] = []
    for clause in clauses:
        if fits_alone(clause):
            out.append(clause)
            continue
        run = ""
        for word in _words(clause):
            candidate = f"{run} {word}" if run else word
            if run and not fits_alone(candidate):
                out.append(run)
                candidate = word
            run = candidate
        if run:
            out.append(run)
    return _merge(out, fits_alone)


def _merge(pieces: list[str], fits_alone: Callable[[str], bool]) -> list[str]:
    """Put clause pieces back together while they fit, so a split keeps posts full."""
    out: list[str] = []
    for piece in pieces:
        if out and fits_alone(f"{out[-1]} {piece}"):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _words(text: str) -> list[str]:
    """Whitespace-separated words; a link (which may hold no spaces anyway) stays whole."""
    return text.split()
