"""One ``regex`` pattern searched over a whole column of texts at once, with the same
answers as ``pattern.search(text)`` text by text.

The column goes through RE2 (Arrow's ``match_substring_regex``, in C++) wherever RE2 means
what the pattern means, and through the ``regex`` module only where it might not:

* RE2's ``\\b``, ``\\w`` and ``\\d`` are ASCII; ``regex``'s are Unicode. They agree on a text
  with no word character beyond ASCII, so such a text ("risky", see ``risky_texts``) is
  searched by ``regex`` itself. Emoji, punctuation and spaces are not word characters in
  either, so most posts are not risky.
* ``\\s``, ``\\S`` and ``$`` are rewritten to ``regex``'s meaning (``\\v`` and
  ``\\x1c``-``\\x1f`` are spaces; ``$`` also matches before a final newline).
* RE2 has no lookaround. A pattern with one is searched in RE2 without it (which can only
  match more), and ``regex`` confirms each text RE2 found.
* A pattern RE2 cannot compile at all is searched by ``regex`` on every text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

# Non-ASCII characters that can be word characters for ``regex`` (letters, marks, numbers,
# connector punctuation, joiners, and the letter-like symbols Unicode calls alphabetic:
# circled and squared Latin letters). A text holding none of them is searched the same by
# RE2 and by ``regex``.
_RISKY_RE2 = (
    r"[^\x00-\x7F\p{S}\p{P}\p{Z}\p{C}]|[\x{200C}\x{200D}\x{24B6}-\x{24E9}"
    r"\x{1F130}-\x{1F149}\x{1F150}-\x{1F169}\x{1F170}-\x{1F189}\x{203F}\x{2040}\x{2054}"
    r"\x{FE33}\x{FE34}\x{FE4D}-\x{FE4F}\x{FF3F}]"
)
_SPACE_CLASS = r"\s\x0B\x1C-\x1F"  # regex's \s beyond RE2's, for ASCII texts


@dataclass(frozen=True, slots=True)
class Translated:
    """A pattern as RE2 reads it: ``source`` (None when RE2 cannot), and whether RE2's
    answer is exact on texts that are not risky (False: only a superset to confirm)."""

    source: str | None
    exact: bool


def risky_texts(texts: pa.Array) -> np.ndarray:
    """Which texts hold a non-ASCII character that may be a word character (searched by
    ``regex`` rather than RE2)."""
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    found = pc.match_substring_regex(texts, _RISKY_RE2)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


# regex's Unicode classes, for the superset search of risky texts.
_WORD = r"\p{L}\p{M}\p{N}\p{Pc}\x{200C}\x{200D}\x{24B6}-\x{24E9}\x{1F130}-\x{1F189}"
_SPACE = r"\s\p{Z}\x{85}\x0B\x1C-\x1F"
_UNICODE = {"w": _WORD, "d": r"\p{Nd}", "s": _SPACE}


@cache
def translate(source: str, *, unicode: bool = False) -> Translated:
    """``source`` (a ``regex`` pattern, VERSION0) rewritten for RE2. With ``unicode`` it
    is a superset for any text (word boundaries dropped, classes widened to Unicode), never
    exact: what a risky text is searched with before ``regex`` confirms."""
    if unicode:
        return _widened(source)
    out: list[str] = []
    exact = True
    i, n, in_class = 0, len(source), False
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            nxt = source[i + 1]
            if nxt == "s":
                out.append(_SPACE_CLASS if in_class else f"[{_SPACE_CLASS}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{_SPACE_CLASS}]")
            elif nxt == "Z" and not in_class:
                out.append(r"\z")
            elif nxt in "0123456789" and not in_class:
                return Translated(None, False)  # a backreference: RE2 has none
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[" and source.startswith("[:", i):
                return Translated(None, False)  # POSIX classes are ASCII in RE2
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # A ']' or '^]' first in a class is a literal.
            if source.startswith("^", i):
                out.append("^")
                i += 1
            if source.startswith("]", i):
                out.append(r"\]")
                i += 1
            continue
        if c == "$":
            out.append(r"(?:\n?\z)")
            i += 1
            continue
        if c == "(" and source.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            end = _group_end(source, i)
            if end is None:
                return Translated(None, False)
            exact = False  # without the lookaround RE2 may match more: confirm
            i = end
            continue
        if c == "(" and source.startswith(("(?>", "(?|", "(?&", "(?(", "(?P=", "(?R"), i):
            return Translated(None, False)
        if c in "+*?}" and source.startswith("+", i + 1) and c != "+":
            return Translated(None, False)  # possessive quantifiers
        out.append(c)
        i += 1
    return Translated("".join(out), exact)


def _widened(source: str) -> Translated:
    ascii_ = translate(source)
    if ascii_.source is None:
        return ascii_
    out: list[str] = []
    text = ascii_.source
    i, in_class, negated = 0, False, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "bB" and not in_class:
                pass  # a boundary only narrows: dropping it can only match more
            elif nxt in _UNICODE and not negated:
                out.append(_UNICODE[nxt] if in_class else f"[{_UNICODE[nxt]}]")
            elif nxt in _UNICODE or nxt in "WDS":
                # A negated class only approximates regex's: it might match less.
                return Translated(None, False)
            else:
                out.append(text[i : i + 2])
            i += 2
            continue
        if in_class and c == "]":
            in_class = negated = False
        elif not in_class and c == "[":
            in_class = True
            out.append(c)
            i += 1
            negated = text.startswith("^", i)
            for lead in ("^", "]", "\\]"):
                if text.startswith(lead, i):
                    out.append(lead)
                    i += len(lead)
            continue
        out.append(c)
        i += 1
    return Translated("".join(out), False)


def _group_end(source: str, start: int) -> int | None:
    """The index just past the group opened at ``start``."""
    depth, i, in_class = 0, start, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


@cache
def _compiles(source: str, ignore_case: bool) -> bool:
    try:
        pc.match_substring_regex(pa.array(["x"]), source, ignore_case=ignore_case)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def search_column(
    pattern: regex.Pattern[str],
    texts: pa.Array,
    *,
    risky: np.ndarray,
    only: np.ndarray | None = None,
) -> np.ndarray:
    """``[bool(pattern.search(t)) for t in texts]`` as a boolean array; ``only`` limits the
    search to the rows it marks (the others are False). ``risky`` comes from
    ``risky_texts(texts)``."""
    rows = len(texts)
    want = np.ones(rows, dtype=bool) if only is None else only
    out = np.zeros(rows, dtype=bool)
    if rows == 0 or not want.any():
        return out
    ignore_case = bool(pattern.flags & regex.IGNORECASE)
    translated = translate(pattern.pattern)
    python = want & risky
    widened = translate(pattern.pattern, unicode=True)
    if python.any() and widened.source is not None and _compiles(widened.source, ignore_case):
        # Risky texts: a Unicode superset in RE2 first, ``regex`` only on what it finds.
        rows_ = np.flatnonzero(python)
        found = pc.match_substring_regex(
            texts.take(pa.array(rows_)), widened.source, ignore_case=ignore_case
        )
        python = np.zeros(rows, dtype=bool)
        python[
            rows_[np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)]
        ] = True
    if translated.source is not None and _compiles(translated.source, ignore_case):
        candidates = np.asarray(
            pc.fill_null(
                pc.match_substring_regex(texts, translated.source, ignore_case=ignore_case),
                False,
            ).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        candidates &= want & ~risky
        if translated.exact:
            out |= candidates
        else:
            python |= candidates
    else:
        python = want
    for i in np.flatnonzero(python):
        text = texts[i].as_py()
        out[i] = text is not None and pattern.search(text) is not None
    return out
