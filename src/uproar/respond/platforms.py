"""Exact post length per platform: X's weighted count, Mastodon's, Bluesky's graphemes.

One counting mechanism; what differs between platforms is data (``data/platforms.toml``):

* **X** follows twitter-text's ``parseTweet`` with ``config/v3.json``: NFC first; a link counts
  ``transformedURLLength`` (23) whatever its length; an emoji sequence (keycap, flag, tag, skin
  tone, ZWJ) weighs ``defaultWeight`` (2 characters) once; any other code point weighs 1 when it
  falls in the config's ranges (Latin, general punctuation, ...) and 2 otherwise (CJK, most
  symbols). Links are found the way twitter-text's ``extractUrlsWithIndices`` finds them: a
  known TLD is required, bare domains count too, a domain label over 63 punycode characters
  is not a link.
* **Mastodon** follows ``StatusLengthValidator``: links with a scheme become 23 characters,
  ``@user@domain`` becomes ``@user``, then extended grapheme clusters are counted.
* **Bluesky** counts extended grapheme clusters (the post lexicon's ``maxGraphemes`` 300) and
  also caps the UTF-8 size (``maxLength`` 3000).
* **Facebook** counts code points against its 63,206 limit.

Known gaps against the reference implementations: twemoji joins only the ZWJ sequences on
Unicode's recommended list and absorbs U+FE0F only after characters that have a variation
sequence; here every well-formed ZWJ sequence is one emoji and U+FE0F is absorbed after
text-default and BMP emoji. Bare domains need their TLD in ``data/tlds.txt`` (a curated list);
with ``https://`` the same list applies.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import regex

from uproar.errors import ConfigError

PLATFORMS: tuple[str, ...] = ("x", "mastodon", "bluesky", "facebook")


@dataclass(frozen=True, slots=True)
class PlatformRules:
    """How one platform counts (fields as in ``data/platforms.toml``)."""

    id: str
    name: str
    unit: str
    max: int
    url_length: int = 0
    bare_domains: bool = False
    mention_username_only: bool = False
    nfc: bool = False
    max_bytes: int = 0
    scale: int = 1
    default_weight: int = 1
    ranges: tuple[tuple[int, int, int], ...] = ()
    emoji: bool = False
    invalid: str = ""


@cache
def _all_rules() -> dict[str, PlatformRules]:
    text = resources.files("uproar.respond").joinpath("data/platforms.toml").read_text("utf-8")
    data = tomllib.loads(text)
    rules = {}
    for pid, spec in data.items():
        spec = dict(spec)
        spec["ranges"] = tuple(tuple(r) for r in spec.get("ranges", ()))
        rules[pid] = PlatformRules(id=pid, **spec)
    return rules


def rules_for(platform: str) -> PlatformRules:
    """The counting rules of ``platform`` (one of ``PLATFORMS``)."""
    rules = _all_rules()
    if platform not in rules:
        raise ConfigError(
            f"unknown platform {platform!r}: expected one of {', '.join(PLATFORMS)}",
            key="platform",
        )
    return rules[platform]


def max_length(platform: str) -> int:
    """The platform's limit, in its own unit."""
    return rules_for(platform).max


# -- links ---------------------------------------------------------------------------------
# The shapes below follow twitter-text's regexp/*.js (validUrlPath, validUrlQueryChars, ...);
# the ranges are Unicode facts, the structure is re-expressed for the `regex` module.
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = "\u0400-\u04ff"
_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_BALANCED = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_PATH_END = rf"(?:[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|{_BALANCED})"
_PATH = rf"(?:{_PATH_CHAR}*(?:{_BALANCED}{_PATH_CHAR}*)*{_PATH_END}|@{_PATH_CHAR}+/)"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
# A domain character is anything but ASCII punctuation, spaces, direction marks and non-characters.
_DOMAIN_CHAR = (
    r"[^!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$\s\u2000-\u200a\u202a-\u202e\u2066-\u2069"
    r"\u200e\u200f\u061c\ufffe\ufeff\uffff\p{Cc}]"
)
_NOT_BEFORE = r"(?<![A-Za-z0-9@\uff20$#\uff03\ufffe\ufeff\uffff])"
_MAX_URL_LENGTH = 4096  # twitter-text extractUrlsWithIndices: MAX_URL_LENGTH
_MAX_TCO_SLUG = 40  # twitter-text: MAX_TCO_SLUG_LENGTH
# A t.co link ends after its slug (and query): anything glued on is counted as text.
_TCO = regex.compile(rf"^https?://t\.co/([a-z0-9]+)(?:{_QUERY})?", regex.IGNORECASE)
_MAX_LABEL = 63  # a DNS label, punycode-encoded (RFC 1035; twitter-text's idna.toAscii)


@cache
def _tld_alternation() -> str:
    text = resources.files("uproar.respond").joinpath("data/tlds.txt").read_text("utf-8")
    tlds = {ln.strip().lower() for ln in text.splitlines() if ln.strip() and ln[0] != "#"}
    # Longest first, as twitter-text orders its TLD alternation, so "co" never cuts "com".
    return "|".join(regex.escape(t) for t in sorted(tlds, key=lambda t: (-len(t), t)))


@cache
def _link_patterns() -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    tld = rf"(?:{_tld_alternation()}|xn--[\-0-9a-z]+)(?=[^a-z0-9@+\-]|$)"
    sub = rf"(?:(?:{_DOMAIN_CHAR}(?:[_\-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
    name = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
    url = regex.compile(
        rf"{_NOT_BEFORE}(?P<scheme>https?://)?(?P<domain>{sub}*{name}{tld})"
        rf"(?::[0-9]+)?(?P<path>/{_PATH}*)?(?:{_QUERY})?",
        regex.IGNORECASE,
    )
    ascii_label = rf"[\-a-z0-9{_LATIN_ACCENTS}]+"
    ascii_domain = regex.compile(rf"(?:{ascii_label}\.)+{tld}", regex.IGNORECASE)
    return url, ascii_domain


def _punycode(label: str) -> str:
    return label.lower().encode("punycode").decode("ascii")


def _valid_domain(domain: str, url: str) -> bool:
    for label in domain.split("."):
        try:
            encoded = label if label.isascii() else "xn--" + _punycode(label)
        except UnicodeError:  # a lone surrogate: no DNS label can hold it
            return False
        if not encoded or len(encoded) > _MAX_LABEL:
            return False
    return len(url) <= _MAX_URL_LENGTH


def link_spans(text: str, platform: str = "x") -> list[tuple[int, int]]:
    """``(start, end)`` code point offsets of the links ``platform`` counts as links."""
    return _link_spans(text, bare=rules_for(platform).bare_domains)


def _link_spans(text: str, *, bare: bool) -> list[tuple[int, int]]:
    """twitter-text's extractUrlsWithIndices: a domain with a known TLD, after a character
    that may precede a link; without a scheme only its ASCII domains count, and not after
    one of ``-_./``."""
    if "." not in text:
        return []
    url, ascii_domain = _link_patterns()
    spans: list[tuple[int, int]] = []
    for m in url.finditer(text):
        if not _valid_domain(m["domain"], m[0]):
            continue
        if m["scheme"]:
            tco = _TCO.match(m[0])
            if tco is None:
                spans.append(m.span())
            elif len(tco[1]) <= _MAX_TCO_SLUG:
                spans.append((m.start(), m.start() + tco.end()))
            continue
        if not bare or (m.start() > 0 and text[m.start() - 1] in "-_./"):
            continue
        found = [d.span() for d in ascii_domain.finditer(m["domain"])]
        if not found:
            continue
        base = m.start("domain")
        spans.extend((base + s, base + e) for s, e in found)
        if m["path"]:
            spans[-1] = (spans[-1][0], m.end())
    return spans


# -- emoji ---------------------------------------------------------------------------------
# UTS #51 emoji sequences, the grammar twemoji-parser's generated regex follows: keycaps, flags,
# tag sequences, modifier sequences, presentation sequences and ZWJ sequences of those.
_EMOJI = regex.compile(
    r"""
    \U0001F3F4[\U000E0020-\U000E007E]+\U000E007F                   # tag sequence (subdivision flag)
  | (?&elem)(?:\u200d(?:(?&elem)|\p{Extended_Pictographic}\ufe0f?))+  # ZWJ sequence
  | \p{Regional_Indicator}{2}                                       # flag
  | [#*0-9]\ufe0f?\u20e3                                            # keycap
  | (?&elem)
  | \ufe0f                                                          # a stray emoji selector
  (?(DEFINE)
    (?<elem>
      (?![#*0-9])
      (?:
        [\p{Emoji_Presentation}&&\p{Emoji_Modifier}]               # a bare skin tone
      | [\p{Emoji_Presentation}&&[\u0000-\uffff]](?!\ufe0e)\ufe0f?\p{Emoji_Modifier}?
      | \p{Emoji_Presentation}(?!\ufe0e)\p{Emoji_Modifier}?
      | \p{Emoji}\ufe0f\p{Emoji_Modifier}?                          # text-default + VS16
      )
    )
  )
    """,
    regex.VERBOSE | regex.V1,
)


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the emoji sequences X weighs as one character of weight 2."""
    return [m.span() for m in _EMOJI.finditer(text)]


# -- mentions (Mastodon) ---------------------------------------------------------------------
# Mastodon's Account::MENTION_RE: "@user" or "@user@domain"; only "@user" counts.
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.\-]+[a-z0-9_]+)*)(?:@[\w.\-]+\w+)?", regex.IGNORECASE
)


# -- counting ------------------------------------------------------------------------------
def _graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _weighted(text: str, rules: PlatformRules) -> int:
    links = dict(_link_spans(text, bare=rules.bare_domains)) if rules.url_length else {}
    emoji = dict(emoji_spans(text)) if rules.emoji else {}
    total, i, n = 0, 0, len(text)
    while i < n:
        if i in links:
            total += rules.url_length * rules.scale
            i = links[i]
            continue
        if i in emoji:
            total += rules.default_weight
            i = emoji[i]
            continue
        cp = ord(text[i])
        weight = rules.default_weight
        for lo, hi, w in rules.ranges:
            if lo <= cp <= hi:
                weight = w
                break
        total += weight
        i += 1
    return total // rules.scale


def _rewrite(text: str, rules: PlatformRules) -> str:
    """Mastodon's countable text: links as 23 placeholders, mentions by username only."""
    pieces: list[str] = []
    last = 0
    spans = _link_spans(text, bare=rules.bare_domains) if rules.url_length else []
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append("x" * rules.url_length)
        last = end
    pieces.append(text[last:])
    out = "".join(pieces)
    if rules.mention_username_only:
        out = _MENTION.sub(lambda m: "@" + m["user"], out)
    return out


def weighted_length(text: str, platform: str) -> int:
    """The length of ``text`` exactly as ``platform`` counts it against its limit."""
    rules = rules_for(platform)
    if rules.nfc:
        text = unicodedata.normalize("NFC", text)
    if rules.unit == "weighted":
        return _weighted(text, rules)
    if rules.unit == "graphemes":
        return _graphemes(_rewrite(text, rules))
    return len(_rewrite(text, rules))


def fits(text: str, platform: str) -> bool:
    """Whether ``text`` is within ``platform``'s limits (and is not empty)."""
    rules = rules_for(platform)
    if not text.strip() or any(ch in rules.invalid for ch in text):
        return False
    if rules.max_bytes and len(text.encode("utf-8")) > rules.max_bytes:
        return False
    return weighted_length(text, platform) <= rules.max
