"""Character classes looked up per code point, so a batch is split with numpy, not a regex.

The tokenizer puts a space either side of every symbol (``features.SYMBOL``), which as an
Arrow regex pass cost about 1.5 us a post: RE2 compiles the Unicode class (\\pL, \\pN) anew
on every call, about 3 ms, then walks each text. Here the class is asked of RE2 itself, once
per Unicode plane, on every code point of the plane alone: a one-character class matches a
character whatever surrounds it, so looking each character of a batch up in that table
gives exactly the regex's answer, in a few numpy passes over the batch's UTF-8 bytes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PLANE = 0x10000
_SURROGATES = (0xD800, 0xE000)  # not characters: no UTF-8 text holds them


@lru_cache(maxsize=64)
def plane_table(char_class: str, plane: int) -> np.ndarray:
    """Bool per code point of ``plane`` (65,536): does RE2 match ``char_class`` (a pattern
    of exactly one character, such as ``[^\\pL\\pN]``) on that character alone."""
    cps = np.arange(plane * PLANE, (plane + 1) * PLANE, dtype=np.int64)
    keep = (cps < _SURROGATES[0]) | (cps >= _SURROGATES[1])
    data, offsets = _utf8(cps[keep])
    arr = pa.StringArray.from_buffers(int(keep.sum()), pa.py_buffer(offsets), pa.py_buffer(data))
    out = np.zeros(PLANE, dtype=bool)
    out[keep] = pc.match_substring_regex(arr, char_class).to_numpy(zero_copy_only=False)
    out.flags.writeable = False
    return out


def _utf8(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of the code points, one after another, and each one's offset."""
    sizes = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= PLANE)
    offsets = np.zeros(len(cps) + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    data = np.zeros(int(offsets[-1]), dtype=np.uint8)
    for size, lead in ((1, 0x00), (2, 0xC0), (3, 0xE0), (4, 0xF0)):
        sel = sizes == size
        cp, at = cps[sel], offsets[:-1][sel]
        data[at] = lead | (cp >> (6 * (size - 1)))
        for j in range(1, size):
            data[at + j] = 0x80 | ((cp >> (6 * (size - 1 - j))) & 0x3F)
    return data, offsets


def _matching_chars(data: np.ndarray, char_class: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last byte of each character of ``data`` (UTF-8) in the class, in order."""
    ascii_hits = np.zeros(256, dtype=bool)
    ascii_hits[:128] = plane_table(char_class, 0)[:128]
    hit = np.take(ascii_hits, data)  # (a take is twice as fast as indexing here)
    leads = np.flatnonzero(data >= 0xC0)  # the first byte of each character beyond ASCII
    if len(leads):
        cps, sizes = _decode(data, leads)
        found = np.zeros(len(leads), dtype=bool)
        planes = cps >> 16
        for plane in np.unique(planes).tolist():
            sel = planes == plane
            found[sel] = plane_table(char_class, plane)[cps[sel] & 0xFFFF]
        hit[leads[found]] = True
        firsts = np.flatnonzero(hit)
        lasts = firsts.copy()
        lasts[np.searchsorted(firsts, leads[found])] += sizes[found] - 1
        return firsts, lasts
    firsts = np.flatnonzero(hit)
    return firsts, firsts


def _decode(data: np.ndarray, leads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code point and byte length of the multi-byte characters starting at ``leads``."""
    last = len(data) - 1
    b0 = data[leads].astype(np.int64)
    b1, b2, b3 = (data[np.minimum(leads + j, last)].astype(np.int64) & 0x3F for j in (1, 2, 3))
    sizes = np.where(b0 < 0xE0, 2, np.where(b0 < 0xF0, 3, 4))
    cps = np.where(
        sizes == 2,
        ((b0 & 0x1F) << 6) | b1,
        np.where(
            sizes == 3,
            ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
            ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
        ),
    )
    return np.minimum(cps, 0x10FFFF), sizes


def isolate(texts: pa.StringArray, char_class: str) -> pa.StringArray:
    """Each character in ``char_class`` (a one-character pattern) with a space either side:
    ``pc.replace_substring_regex(texts, f"({char_class})", r" \\1 ")``, without the regex."""
    if texts.null_count or len(texts) == 0:
        return pc.replace_substring_regex(texts, f"({char_class})", r" \1 ")
    _, offset_buf, data_buf = texts.buffers()
    start = texts.offset
    offsets = np.frombuffer(offset_buf, dtype=np.int32)[start : start + len(texts) + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    if data_buf is None or hi == lo:
        return texts
    data = np.frombuffer(data_buf, dtype=np.uint8)[lo:hi]
    firsts, lasts = _matching_chars(data, char_class)
    if len(firsts) == 0:
        return texts
    size = len(data) + 2 * len(firsts)
    if size >= 2**31:  # past what int32 offsets can address: let Arrow do it
        return pc.replace_substring_regex(texts, f"({char_class})", r" \1 ")
    # A space goes before each class character's first byte and after its last (so before
    # the next byte); a text's own spaces are those before its first byte's leading one.
    out = np.insert(data, np.concatenate([firsts, lasts + 1]), 0x20)
    rel = offsets - lo
    before = np.searchsorted(firsts, rel, side="left") + np.searchsorted(lasts + 1, rel, "right")
    new_offsets = np.asarray(rel + before, dtype=np.int32)
    return pa.StringArray.from_buffers(len(texts), pa.py_buffer(new_offsets), pa.py_buffer(out))
