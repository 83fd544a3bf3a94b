"""Language of a post: script first, then stop words, then Lingua for the posts in doubt.

Most posts settle cheaply and column-wise: a non-Latin script owns the text (``ja``, ``ru``,
...), or English stop words strictly outnumber every other language's. Only Latin-script
posts of two or more words where they do not go to Lingua (lingua-language-detector, made
for short and mixed texts), run on the text without @mentions and URLs; those are a few per
cent of an English stream, so the fast path keeps its speed. A post with no letters outside
mentions and URLs (handle-only, emoji-only) has no language: ``None``.

None of that runs for a post whose platform detected its language itself (X's ``lang``, the
taxonomy's ``languages.detected_by``): ``platform_languages`` takes those tags as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import ModelError
from uproar.understand.features import Tokens

_NOT_WORDS = r"(?:https?://|www\.)\S+|@\w+"
# A tag that names one language: an ISO 639-1 code, perhaps with subtags ("en-GB", "zh_TW").
# X's codes for no language ("und", "qme", "zxx", ...) have three letters: they name none.
_ONE_LANGUAGE = r"^(?P<code>[A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*$"
# Latin letters outside ASCII (é, ñ, ß, ã, ...): a hint of a language other than English.
_ACCENTED = r"[^\P{Latin}a-zA-Z]"


@lru_cache(maxsize=4)
def detector(codes: tuple[str, ...]) -> Any:
    """A Lingua detector over the given ISO 639-1 codes, built once (models load lazily)."""
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ModelError(f"lingua-language-detector is not installed: {exc}") from exc
    isos = [getattr(IsoCode639_1, c.upper()) for c in codes if hasattr(IsoCode639_1, c.upper())]
    if len(isos) < 2:
        raise ModelError(f"language detection needs two or more known languages, got {codes}")
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()


def word_letters(texts: pa.StringArray) -> np.ndarray:
    """Letters per text, not counting @mentions and URLs."""
    words = pc.replace_substring_regex(texts, _NOT_WORDS, "")
    return np.asarray(
        pc.count_substring_regex(words, r"\pL").to_numpy(zero_copy_only=False), dtype=np.float64
    )


def in_doubt(
    texts: pa.StringArray, latin: np.ndarray, counts: np.ndarray, english: int, words: np.ndarray
) -> np.ndarray:
    """Latin-script posts that English stop words do not settle: another language's win or
    tie; or none at all, in a post of four or more words or with accented letters. Short
    posts with no stop words ("DM sent", "So cool") stay English, the prior of a stream."""
    if english < 0 or counts.shape[1] == 0:
        return np.asarray(latin & (words >= 2), dtype=bool)
    other = counts.copy()
    other[:, english] = 0
    english_wins = counts[:, english] > other.max(axis=1)
    silent = counts.sum(axis=1) == 0
    accented = pc.count_substring_regex(texts, _ACCENTED).to_numpy(zero_copy_only=False) > 0
    unsettled = ~english_wins & (~silent | (words >= 4) | accented)
    return np.asarray(latin & (words >= 2) & unsettled, dtype=bool)


def word_counts(tokens: Tokens) -> np.ndarray:
    """Tokens per text that start with a letter, not counting @mentions and URLs."""
    if len(tokens.values) == 0:
        return np.zeros(tokens.n, dtype=np.int64)
    wordy = pc.and_(
        pc.match_substring_regex(tokens.values, r"^\pL"),
        pc.invert(pc.is_in(tokens.values, value_set=pa.array(["@user", "http"]))),
    ).to_numpy(zero_copy_only=False)
    return np.bincount(tokens.rows[wordy], minlength=tokens.n)


def identify(texts: Sequence[str], codes: tuple[str, ...]) -> list[str | None]:
    """Lingua's pick for each text (ISO 639-1, lower case; None if it has none)."""
    if not texts:
        return []
    det = detector(codes)
    out: list[str | None] = []
    for values in det.compute_language_confidence_values_in_parallel([_strip(t) for t in texts]):
        if values:
            out.append(values[0].language.iso_code_639_1.name.lower())
        else:
            out.append(None)
    return out


def _strip(text: str) -> str:
    import re

    return re.sub(_NOT_WORDS, " ", text)


def platform_languages(
    platforms: pa.Array | pa.ChunkedArray,
    tags: pa.Array | pa.ChunkedArray,
    detected_by: Sequence[str],
    aliases: Sequence[tuple[str, str]] = (),
) -> pa.StringArray:
    """Each post's language as its platform detected it (lower-case ISO 639-1), where the
    platform is one of ``detected_by`` and the tag names one language; null elsewhere (no
    tag, a tag of no language such as X's ``und``, or a platform whose tag the poster's app
    sets). ``aliases`` maps retired codes to current ones (X's ``in`` is ``id``)."""
    platforms, tags = _combined(platforms), _combined(tags)
    if len(tags) == 0 or not detected_by:
        return pa.nulls(len(tags), pa.string())
    if not pa.types.is_string(tags.type):
        tags = tags.cast(pa.string())
    # A stream has a few distinct tags: read each once.
    encoded = pc.dictionary_encode(tags)
    code = pc.utf8_lower(pc.struct_field(pc.extract_regex(encoded.dictionary, _ONE_LANGUAGE), [0]))
    if aliases:
        old = pa.array([a for a, _ in aliases], pa.string())
        new = pa.array([b for _, b in aliases], pa.string())
        code = pc.coalesce(new.take(pc.index_in(code, value_set=old)), code)
    code = code.take(encoded.indices)
    trusted = pc.is_in(platforms.cast(pa.string()), value_set=pa.array(list(detected_by)))
    return pc.if_else(trusted, code, pa.scalar(None, pa.string()))


def _combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
