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
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from uproar.errors import ConfigError, InputError
from uproar.records import Finding
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter, Profile, default_linter
from uproar.respond.platforms import fits, link_spans, max_length, rules_for, weighted_length

REQUIRED_FACTS: tuple[str, ...] = ("brand", "what", "who", "do", "doing", "next_update", "link")
OPTIONAL_FACTS: tuple[str, ...] = ("update", "changed", "previous", "hashtag")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the brand knows right now. Text fields are phrases that slot into sentences:
    ``what`` a clause ("broadband is down"), ``who`` a noun phrase ("customers in
    Auckland"), ``do`` an instruction ("restart your modem"), ``doing`` an -ing phrase
    ("working through the night to restore service"), ``next_update`` a time."""

    brand: str
    what: str
    who: str
    do: str
    doing: str
    next_update: str
    link: str
    update: int = 1
    changed: str | None = None
    previous: int = 0
    hashtag: str | None = None
    source: str | None = field(default=None, compare=False)


def parse_facts(data: Mapping[str, Any], *, source: str = "<facts>") -> Facts:
    """Validate a parsed facts document; errors name the file and the key."""
    values: dict[str, Any] = {}
    for key in REQUIRED_FACTS:
        value = data.get(key)
        if value is None:
            raise InputError(f"missing key {key!r}", file=source, field=key)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{key!r} must be a non-empty string", file=source, field=key)
        values[key] = _clean(value)
    unknown = sorted(set(data) - set(REQUIRED_FACTS) - set(OPTIONAL_FACTS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}", file=source, field=unknown[0])
    for key, low in (("update", 1), ("previous", 0)):
        value = data.get(key, low)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InputError(f"{key!r} must be a whole number >= {low}", file=source, field=key)
        values[key] = value
    for key in ("changed", "hashtag"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError(f"{key!r} must be a non-empty string", file=source, field=key)
        values[key] = _clean(value) if value is not None else None
    if values["update"] > 1 and values["changed"] is None:
        raise InputError(
            "a follow-up (update > 1) must say what changed", file=source, field="changed"
        )
    if values["hashtag"] and not values["hashtag"].startswith("#"):
        values["hashtag"] = "#" + values["hashtag"]
    link = values["link"]
    if not regex.match(r"https?://", link, regex.IGNORECASE):
        link = "https://" + link
    if " " in link or not link_spans(link, "mastodon"):
        raise InputError(f"'link' is not a web address: {link!r}", file=source, field="link")
    values["link"] = link
    return Facts(**values, source=source)


def load_facts(path: str | Path) -> Facts:
    """Read a facts TOML file (keys: ``REQUIRED_FACTS``, optionally ``OPTIONAL_FACTS``)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("facts file not found", file=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML: {exc}", file=str(path)) from exc
    return parse_facts(data, source=str(path))


def example_facts(name: str = "kiwinet-update1") -> Facts:
    """A shipped example facts file (``respond/examples/<name>.toml``), for docs and the demo:
    ``kiwinet-update1`` and ``kiwinet-update2`` follow the isp-2014 scenario."""
    source = resources.files("uproar.respond").joinpath(f"examples/{name}.toml")
    if not source.is_file():
        raise InputError(f"no example facts named {name!r}", field="name")
    return parse_facts(tomllib.loads(source.read_text("utf-8")), source=f"examples/{name}.toml")


def _clean(value: str) -> str:
    """One line, no doubled spaces, no closing full stop (templates add their own)."""
    text = " ".join(value.split())
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


# -- templates -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Section:
    name: str
    variants: tuple[str, ...]
    uses: tuple[str, ...] = ()
    when: str = "always"
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ThreadTemplates:
    sections: tuple[Section, ...]
    numbered: Mapping[str, bool]
    joiner: Mapping[str, str]


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
        sections.append(
            Section(
                name=str(spec.get("name", key)),
                variants=tuple(str(v) for v in variants),
                uses=tuple(spec.get("uses", ())),
                when=when,
                optional=bool(spec.get("optional", False)),
            )
        )
    if not sections:
        raise ConfigError(f"{source}: no [[sections]]", file=source, key="sections")
    platforms = data.get("platforms", {})
    return ThreadTemplates(
        sections=tuple(sections),
        numbered={p: bool(v.get("numbered", True)) for p, v in platforms.items()},
        joiner={p: str(v.get("joiner", " ")) for p, v in platforms.items()},
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
    active = [
        (i, s)
        for i, s in enumerate(templates.sections)
        if s.when == "always" or (s.when == "follow-up") == follow_up
    ]
    choice = {i: 0 for i, _ in active}
    while True:
        sentences = [_Sentence(fill_facts(s.variants[choice[i]], facts), i) for i, s in active]
        posts = _pack(sentences, platform, templates, start, facts.hashtag)
        if len(posts) > 1 and all(templates.sections[sec].optional for *_, sec in posts[-1][1]):
            # An optional sentence (the thanks) is not worth a post of its own.
            kept = [x for x in sentences if not templates.sections[x.section].optional]
            posts = _pack(kept, platform, templates, start, facts.hashtag)
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
