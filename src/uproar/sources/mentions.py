"""Which brands a post mentions: one Aho-Corasick pass over the text for all brands.

Matching is case-insensitive on handles, hashtags and keywords, and respects word
boundaries: ``@KiwiNetHelp`` is not ``@KiwiNet``, ``kiwinetwork`` is not ``kiwinet`` and
``me@kiwinet.co.nz`` is no mention.
"""

from __future__ import annotations

from collections.abc import Mapping

import ahocorasick_rs as ac

from uproar.config import Brand


class BrandMatcher:
    """Compiled once per ingest; ``match`` costs one automaton pass per text."""

    def __init__(self, brands: Mapping[str, Brand]) -> None:
        owners: dict[str, set[str]] = {}
        for brand in brands.values():
            for term in (*brand.handles, *brand.hashtags, *brand.keywords):
                owners.setdefault(term.lower(), set()).add(brand.id)
        self._patterns = sorted(owners)
        self._owners = [tuple(sorted(owners[p])) for p in self._patterns]
        self._bare = [p[0] not in "@#" for p in self._patterns]  # neither handle nor tag
        self._automaton = (
            ac.AhoCorasick(self._patterns, matchkind=ac.MatchKind.LeftmostLongest)
            if self._patterns
            else None
        )
        self._handles = {name: brand.id for brand in brands.values() for name in brand.handle_names}

    def match(self, text: str) -> list[str]:
        """Brand ids mentioned in ``text``, sorted, each once."""
        if self._automaton is None or not text:
            return []
        lowered = text.lower()
        hits = self._automaton.find_matches_as_indexes(lowered)
        if not hits:
            return []
        found: tuple[str, ...] = ()
        size = len(lowered)
        # A match counts only between non-word characters (word: alphanumeric or '_'),
        # tested inline: this loop runs for every post.
        for index, start, end in hits:
            if start > 0:
                before = lowered[start - 1]
                # '@x' inside an e-mail address or '#x' glued to a word is no mention.
                if before.isalnum() or before == "_" or (before in "@#" and self._bare[index]):
                    continue
            if end < size:
                after = lowered[end]
                if after.isalnum() or after == "_":
                    continue
            owners = self._owners[index]
            if not found:
                found = owners
            elif owners != found:
                found = tuple(sorted({*found, *owners}))
        return list(found)

    def own_brand(self, handle: str | None) -> str | None:
        """The brand whose own account wrote a post, from the author's handle."""
        if not handle:
            return None
        return self._handles.get(handle.lstrip("@").lower())
