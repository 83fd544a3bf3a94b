"""One draft as the checks see it: lines, sentences, words and readability counts.

Everything here is computed lazily and at most once per draft, because a live composer
lints at every keystroke and most checks need only the raw text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cached_property

# A sentence ends at . ! ? (not inside a number such as "3.5" or a URL) or at a line break.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]’”]*(?=\s|$)|\n")
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
# Suffixes Vale's complex_words ignores when counting syllables ("es", "ed", "ing").
_COMMON_SUFFIX = re.compile(r"(?:es|ed|ing)$")
# A final silent e after a consonant in a word with an earlier vowel ("restore", not "the").
_SILENT_E = re.compile(r"(?<=[a-z])[aeiouy][^\W\daeiouy]*[^\W\daeiouyl]e\b")
# Vale's metric variables: the counts a draft has, then the markup ones (zero in plain text).
COUNT_VARIABLES = (
    "words",
    "sentences",
    "syllables",
    "characters",
    "complex_words",
    "long_words",
    "polysyllabic_words",
    "paragraphs",
)
MARKUP_VARIABLES = ("list", "pre", "blockquote")
_NO_VOWEL_WORD = re.compile(r"\b[^\W\daeiouy]+\b")


def syllables(word: str) -> int:
    """Estimate English syllables: vowel groups, minus a silent final e, at least one."""
    w = word.lower().strip("'’")
    if not w:
        return 0
    if not w.isalpha():
        # Numbers and codes: count their letters' groups, or one for a bare number.
        return max(1, len(_VOWEL_GROUPS.findall(w)))
    count = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if w.endswith(("ed", "es")) and len(w) > 3 and w[-3] not in "tdsxzgc" and count > 1:
        count -= 1
    return max(1, count)


class Document:
    """A draft. Offsets are 0-based character offsets into ``text``."""

    __slots__ = ("__dict__", "text")

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        return starts

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of a character offset."""
        starts = self.line_starts
        index = max(0, bisect_right(starts, offset) - 1)
        return index + 1, offset - starts[index]

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        begin = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:end]

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        """(start, end) spans of the non-blank sentences."""
        spans: list[tuple[int, int]] = []
        text = self.text
        cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
        if not cuts or cuts[-1] != len(text):
            cuts.append(len(text))
        prev = 0
        for cut in cuts:
            s, e, prev = prev, cut, cut
            chunk = text[s:e]
            if not chunk.strip():
                continue
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk) - len(chunk.rstrip())
            spans.append((s + lead, e - trail))
        return spans

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [s for s, _ in self.sentences]

    def _sentence_index(self, offset: int) -> int | None:
        """Index of the sentence holding ``offset``, or None (between sentences)."""
        i = bisect_right(self._sentence_starts, offset) - 1
        return i if i >= 0 and offset < self.sentences[i][1] else None

    def sentences_at(self, offsets: list[int]) -> list[tuple[int, int]]:
        """The sentences holding any of ``offsets``, in order, each once."""
        picked = {i for off in offsets if (i := self._sentence_index(off)) is not None}
        return [self.sentences[i] for i in sorted(picked)]

    def sentence_at(self, offset: int) -> tuple[int, int]:
        """The sentence holding ``offset``, or the whole text when none does."""
        i = self._sentence_index(offset)
        return self.sentences[i] if i is not None else (0, len(self.text))

    @cached_property
    def paragraphs(self) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for m in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", self.text):
            if m.group().strip():
                spans.append(m.span())
        return spans

    @cached_property
    def words(self) -> list[str]:
        return _WORD.findall(self.text)

    @cached_property
    def syllable_count(self) -> int:
        """Syllables estimated over the whole text with three regex counts (vowel groups,
        minus silent final e, plus one per vowel-less word): cheap enough for every
        keystroke, and within a few percent of per-word counting on prose."""
        lower = self.text.lower()
        sylls = (
            len(_VOWEL_GROUPS.findall(lower))
            - len(_SILENT_E.findall(lower))
            + len(_NO_VOWEL_WORD.findall(lower))
        )
        return max(sylls, len(self.words))

    @cached_property
    def word_variables(self) -> dict[str, float]:
        """The per-word counts (slower): complex and polysyllabic words."""
        words = self.words
        sylls = [syllables(w) for w in words]
        complex_words = sum(
            1
            for w, n in zip(words, sylls, strict=True)
            if n >= 3 and not w[:1].isupper() and syllables(_COMMON_SUFFIX.sub("", w)) >= 3
        )
        return {
            "complex_words": float(complex_words),
            "polysyllabic_words": float(sum(1 for n in sylls if n >= 3)),
        }

    def variable_env(self, names: frozenset[str]) -> dict[str, float]:
        """The variables a formula names (computed lazily; unknown names are zero)."""
        words = self.words
        env: dict[str, float] = {"words": float(len(words))}
        env.update(dict.fromkeys(MARKUP_VARIABLES, 0.0))
        if "sentences" in names:
            env["sentences"] = float(max(1, len(self.sentences))) if words else 0.0
        if "syllables" in names:
            env["syllables"] = float(self.syllable_count)
        if "characters" in names:
            env["characters"] = float(sum(len(w) for w in words))
        if "long_words" in names:
            env["long_words"] = float(sum(1 for w in words if len(w) > 6))
        if "paragraphs" in names:
            env["paragraphs"] = float(len(self.paragraphs))
        if names & {"complex_words", "polysyllabic_words"}:
            env.update(self.word_variables)
        return env


def words_before(text: str, end: int, count: int, *, floor: int = 0) -> int:
    """Offset where the ``count`` words ending at ``end`` begin (for context windows),
    not before ``floor``."""
    pos = end
    for seen, m in enumerate(reversed(list(_WORD.finditer(text, floor, end))), start=1):
        pos = m.start()
        if seen >= count:
            break
    return pos


def words_after(text: str, start: int, count: int) -> int:
    """Offset where the ``count`` words starting at ``start`` end."""
    pos = start
    for seen, m in enumerate(_WORD.finditer(text, start), start=1):
        pos = m.end()
        if seen >= count:
            break
    return pos
