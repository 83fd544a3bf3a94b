"""Tokens of a batch, found in a few numpy passes over its UTF-8 bytes.

The rules, on text already lower-cased, with HTML entities decoded and ’ read as ', each
working on what the one before left, as a chain of RE2 replacements would:

1. a URL, ``(?:https?://|www\\.)\\S+``, is the token ``http``;
2. a mention, ``@\\w+``, is the token ``@user``;
3. a symbol (``features.SYMBOL``: not a letter, digit, space, ', #, @ or _) is a token of its
   own; the spaces beyond ASCII are symbols too, and, being spaces, are no token;
4. a run of apostrophes at a word's edge, ``(^|\\s)'+|'+(\\s|$)``, goes, taken left to right
   as RE2 replaces: in ``x' 'y`` the second run stays, since the first took the space;
5. the tokens are what lies between spaces (``utf8_split_whitespace``'s).

That chain as Arrow regex passes cost about 2.5 us a post, most of the labeller's time;
``tests/understand/test_tokenizer.py`` keeps it as the oracle this must equal. Character
classes come from ``chars`` (Arrow's own answers, per code point); RE2's ``\\s`` and ``\\w``
are ASCII only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from uproar.errors import InputError
from uproar.understand.chars import SPLIT_SPACE, ascii_table, decode, lookup, utf8_bytes

SPACE, WORD = r"\s", r"\w"  # RE2's: [\t\n\f\r ] and [0-9A-Za-z_]
_SPACE, _SYMBOL, _NOT_WORD, _SPLIT = 1, 2, 4, 8  # bits of a byte's class
QUOTE, AT, COLON, DOT = (ord(c) for c in "'@:.")
# What a URL and a mention become, after the batch's bytes.
_HTTP, _USER = b"http", b"@user"


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Every index of the ranges [start, start + length), one range after another."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    base = np.asarray(starts, dtype=np.int64) - ends + lengths
    return np.repeat(base, lengths) + np.arange(total, dtype=np.int64)


def _next(sorted_positions: np.ndarray, at: np.ndarray, default: np.ndarray) -> np.ndarray:
    """The first of ``sorted_positions`` at or after each of ``at`` (``default`` if none)."""
    i = np.searchsorted(sorted_positions, at)
    found = np.append(sorted_positions, 0)[i]
    return np.where(i < len(sorted_positions), np.minimum(found, default), default)


def _first(cls: np.ndarray, bits: int, starts: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """For each start, the first position in [start, limit) whose class has one of ``bits``
    (``limit`` if none). Looks 16 bytes at a time: names and URLs are short."""
    window = np.arange(16, dtype=np.int64)
    out = np.asarray(limits, dtype=np.int64).copy()
    pos = np.asarray(starts, dtype=np.int64).copy()
    todo = np.flatnonzero(pos < out)
    while len(todo):
        at, limit = pos[todo], out[todo]
        idx = at[:, None] + window
        hit = ((cls[np.minimum(idx, len(cls) - 1)] & bits) != 0) & (idx < limit[:, None])
        found = hit.any(axis=1)
        out[todo[found]] = at[found] + hit[found].argmax(axis=1)
        more = ~found & (at + len(window) < limit)
        todo = todo[more]
        pos[todo] = at[more] + len(window)
    return out


def scan(texts: pa.StringArray, symbol: str) -> tuple[pa.StringArray, np.ndarray]:
    """The tokens of ``texts`` (no nulls) and the row of each, in order. ``symbol`` is the
    one-character class of symbols (RE2 syntax)."""
    n = len(texts)
    data, rel = utf8_bytes(texts)  # rel: where each text starts, and the end
    size = len(data)
    if size == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)

    def row_of(positions: np.ndarray) -> np.ndarray:
        return np.asarray(np.searchsorted(rel, positions, side="right") - 1, dtype=np.int64)

    def row_end(positions: np.ndarray) -> np.ndarray:
        return np.asarray(rel[row_of(positions) + 1], dtype=np.int64)

    lut = (
        ascii_table(SPACE) * _SPACE
        | ascii_table(symbol) * _SYMBOL
        | ~ascii_table(WORD) * _NOT_WORD
        | ascii_table(SPLIT_SPACE) * _SPLIT
    ).astype(np.uint8)
    cls = np.take(lut, data)
    # Symbols: ASCII ones from the table; beyond ASCII, each character is looked up. Those
    # that are spaces separate tokens without being one.
    symbol_byte = (cls & _SYMBOL).astype(bool)
    symbol_token = (cls & (_SYMBOL | _SPLIT)) == _SYMBOL  # a token's first byte
    symbol_rest = np.zeros(0, dtype=np.int64)  # a token's other bytes
    leads = np.flatnonzero(data >= 0xC0)  # each character beyond ASCII starts here
    if len(leads):
        cps, sizes = decode(data, leads)
        is_symbol = lookup(symbol, cps)
        symbol_byte[_ranges(leads[is_symbol], sizes[is_symbol])] = True
        token = is_symbol.copy()
        token[is_symbol] = ~lookup(SPLIT_SPACE, cps[is_symbol])
        symbol_token[leads[token]] = True
        symbol_rest = _ranges(leads[token] + 1, sizes[token] - 1)

    # 1. URLs: the first prefix in a run of non-spaces takes the rest of the run, if any.
    candidates: list[np.ndarray] = []
    prefix: list[np.ndarray] = []
    colon = np.flatnonzero(data == COLON)
    colon = colon[(colon >= 4) & (colon + 2 < size)]
    if len(colon):
        colon = colon[(data[colon + 1] == ord("/")) & (data[colon + 2] == ord("/"))]
        http = _matches(data, colon - 4, b"http")
        https = (colon >= 5) & _matches(data, colon - 5, b"https")
        for found, wide in ((https, 8), (http & ~https, 7)):
            candidates.append(colon[found] + 3 - wide)
            prefix.append(np.full(int(found.sum()), wide, dtype=np.int64))
    dot = np.flatnonzero(data == DOT)
    dot = dot[dot >= 3]
    if len(dot):
        www = dot[_matches(data, dot - 3, b"www")] - 3
        candidates.append(www)
        prefix.append(np.full(len(www), 4, dtype=np.int64))
    url_start = url_end = np.zeros(0, dtype=np.int64)
    if candidates:
        p = np.concatenate(candidates)
        order = np.argsort(p, kind="stable")
        p, after = p[order], p[order] + np.concatenate(prefix)[order]
        p_end = row_end(p)
        run_end = _first(cls, _SPACE, after, p_end)
        valid = (after < run_end) & (after <= p_end)
        p, run_end = p[valid], run_end[valid]
        # A later prefix in the same run is part of the URL before it.
        reach = np.maximum.accumulate(run_end)
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] >= reach[:-1]
        url_start, url_end = p[first], run_end[first]

    # 2. Mentions: '@' and a run of word characters, up to a URL (its ' http ' ends it).
    at = np.flatnonzero(data == AT)
    at = at[~_inside(at, url_start, url_end)]
    name = at + 1
    at_end = row_end(at)
    ok = name < at_end
    at, name, at_end = at[ok], name[ok], at_end[ok]
    ok = (cls[name] & _NOT_WORD == 0) & ~np.isin(name, url_start)
    at, name, at_end = at[ok], name[ok], at_end[ok]
    user_end = _first(cls, _NOT_WORD, name, _next(url_start, name, at_end))
    span = np.zeros(size, dtype=bool)
    span[_ranges(url_start, url_end - url_start)] = True
    span[_ranges(at, user_end - at)] = True

    # 4. Apostrophes at a word's edge. Runs one space apart form a chain: only its first run
    # can take the space before it, and then each takes the one before it, else each the one
    # after it (so the chain's last run goes only if a space or the end follows it).
    boundary = (cls & _SPACE).astype(bool) | symbol_byte | span
    quote = np.flatnonzero((data == QUOTE) & ~span)
    if len(quote):
        q_row = row_of(quote)
        cut = np.ones(len(quote), dtype=bool)
        cut[1:] = (np.diff(quote) != 1) | (q_row[1:] != q_row[:-1])
        first_q = np.flatnonzero(cut)
        a = quote[first_q]
        b = quote[np.append(first_q[1:], len(quote)) - 1] + 1
        a_row = q_row[first_q]
        left = (a == rel[a_row]) | boundary[np.maximum(a - 1, 0)]
        right = (b == rel[a_row + 1]) | boundary[np.minimum(b, size - 1)]
        chained = np.zeros(len(a), dtype=bool)
        chained[1:] = (
            (a[1:] == b[:-1] + 1)
            & (a_row[1:] == a_row[:-1])
            & (cls[np.maximum(a[1:] - 1, 0)] & _SPACE).astype(bool)
        )
        head = np.flatnonzero(~chained)
        takes_before = left[head][np.cumsum(~chained) - 1]
        goes = takes_before | right
        boundary[_ranges(a[goes], (b - a)[goes])] = True

    # 5. Tokens: runs of word bytes (not space, symbol, URL, mention or a lost apostrophe),
    # each symbol that is no space, and each URL and mention.
    inword = ~boundary
    firsts = rel[:-1][rel[:-1] < size]
    lasts = rel[1:][rel[1:] > rel[:-1]] - 1
    before = np.empty(size, dtype=bool)
    before[0] = False
    before[1:] = inword[:-1]
    before[firsts] = False
    after_ = np.empty(size, dtype=bool)
    after_[-1] = False
    after_[:-1] = inword[1:]
    after_[lasts] = False
    word_start = np.flatnonzero(inword & ~before)
    word_end = np.flatnonzero(inword & ~after_) + 1
    symbol_token &= ~span
    sym_start = np.flatnonzero(symbol_token)
    lead = data[sym_start]
    sym_size = np.where(lead < 0x80, 1, np.where(lead < 0xE0, 2, np.where(lead < 0xF0, 3, 4)))
    replaced = np.concatenate(
        [np.full(len(url_start), len(_HTTP)), np.full(len(at), len(_USER))]
    ).astype(np.int64)
    starts = np.concatenate([word_start, sym_start, url_start, at])
    lengths = np.concatenate([word_end - word_start, sym_size, replaced])
    order = np.argsort(starts, kind="stable")
    lengths = lengths[order]
    token_offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(lengths, out=token_offsets[1:])
    if token_offsets[-1] >= 2**31:
        raise InputError("a batch's tokens must fit in 2 GiB: label it in smaller batches")
    # The tokens' bytes, in order: a URL's and a mention's text is written over its own
    # first bytes (a copy's), and only where a mention is shorter than "@user" are the
    # missing bytes put in afterwards.
    keep = inword | symbol_token
    keep[symbol_rest[~span[symbol_rest]]] = True
    source = data
    short = np.zeros(0, dtype=np.int64)
    if len(replaced):
        source = data.copy()
        user_len = user_end - at
        fits = np.minimum(user_len, len(_USER))
        for first, width, text in ((url_start, len(_HTTP), _HTTP), (at, fits, _USER)):
            put = _ranges(first, np.broadcast_to(width, first.shape))
            source[put] = np.frombuffer(text, dtype=np.uint8)[put - np.repeat(first, width)]
            keep[put] = True
        short = np.flatnonzero(user_len < len(_USER))
    out = np.compress(keep, source)  # (twice as fast as source[keep])
    if len(short):
        # Where each short mention's token ends, less the bytes it lacks: there they go.
        token = np.searchsorted(starts[order], at[short])
        lacks = len(_USER) - user_len[short]
        ends = token_offsets[token + 1] - (np.cumsum(lacks) - lacks) - lacks
        rest = np.frombuffer(_USER, dtype=np.uint8)
        tail = rest[_ranges(len(_USER) - lacks, lacks)]
        out = np.insert(out, np.repeat(ends, lacks), tail)
    values = pa.StringArray.from_buffers(
        len(order), pa.py_buffer(token_offsets.astype(np.int32)), pa.py_buffer(out)
    )
    # Each text's tokens are those from its first byte on, up to the next text's.
    per_text = np.diff(np.searchsorted(starts[order], rel))
    return values, np.repeat(np.arange(n, dtype=np.int64), per_text)


def _matches(data: np.ndarray, at: np.ndarray, literal: bytes) -> np.ndarray:
    """Bool per position of ``at`` (each ``>= 0``): does ``literal`` start there."""
    ok = at + len(literal) <= len(data)
    for j, byte in enumerate(literal):
        ok &= data[np.minimum(at + j, len(data) - 1)] == byte
    return ok


def _inside(at: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Bool per position: is it inside one of the sorted, disjoint ranges [start, end)."""
    i = np.searchsorted(starts, at, side="right") - 1
    return (i >= 0) & (at < np.append(ends, 0)[i])
