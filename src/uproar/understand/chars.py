"""Character classes looked up per code point, so that a batch's characters are classified
with numpy over its UTF-8 bytes rather than by a regex pass.

A class is asked of Arrow itself, once per Unicode plane, on every code point of the plane
alone: RE2 (Arrow's regex engine) for a one-character pattern such as ``[^\\pL\\pN]``, which
matches a character whatever surrounds it; ``utf8_split_whitespace`` for what the split
takes for a space. Looking a batch's characters up in these tables therefore gives exactly
the answers Arrow's kernels give, without RE2 compiling a Unicode class on every call
(about 3 ms) and then walking every text.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PLANE = 0x10000
_SURROGATES = (0xD800, 0xE000)  # not characters: no UTF-8 text holds them
SPLIT_SPACE = "utf8_split_whitespace"  # the class of what Arrow's split takes for a space


@lru_cache(maxsize=64)
def plane_table(char_class: str, plane: int) -> np.ndarray:
    """Bool per code point of ``plane`` (65,536): is the character in ``char_class``, a
    one-character RE2 pattern, or ``SPLIT_SPACE``."""
    cps = np.arange(plane * PLANE, (plane + 1) * PLANE, dtype=np.int64)
    keep = (cps < _SURROGATES[0]) | (cps >= _SURROGATES[1])
    data, offsets = utf8(cps[keep])
    chars = pa.StringArray.from_buffers(int(keep.sum()), pa.py_buffer(offsets), pa.py_buffer(data))
    if char_class == SPLIT_SPACE:
        between = pc.binary_join_element_wise("a", chars, "b", "")
        found = pc.list_value_length(pc.utf8_split_whitespace(between)).to_numpy() == 2
    else:
        found = pc.match_substring_regex(chars, char_class).to_numpy(zero_copy_only=False)
    out = np.zeros(PLANE, dtype=bool)
    out[keep] = found
    out.flags.writeable = False
    return out


def ascii_table(char_class: str) -> np.ndarray:
    """Bool per byte value: an ASCII character in the class (bytes from 0x80 never are)."""
    out = np.zeros(256, dtype=bool)
    out[:128] = plane_table(char_class, 0)[:128]
    return out


def lookup(char_class: str, cps: np.ndarray) -> np.ndarray:
    """Bool per code point: is it in the class."""
    out = np.zeros(len(cps), dtype=bool)
    planes = cps >> 16
    for plane in np.flatnonzero(np.bincount(planes)).tolist():
        sel = planes == plane
        out[sel] = plane_table(char_class, plane)[cps[sel] & 0xFFFF]
    return out


def utf8_bytes(texts: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """The texts' UTF-8 bytes, one after another, and where each text starts (and the end),
    as offsets into those bytes; without copying."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    _, offset_buf, data_buf = texts.buffers()
    start = texts.offset
    offsets = np.frombuffer(offset_buf, dtype=np.int32)[start : start + n + 1].astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    if data_buf is None or hi == lo:
        return np.zeros(0, dtype=np.uint8), offsets - lo
    return np.frombuffer(data_buf, dtype=np.uint8)[lo:hi], offsets - lo


def contains(texts: pa.StringArray, char_class: str) -> np.ndarray:
    """Bool per text: does it hold a character of ``char_class`` (one-character RE2 pattern);
    ``pc.match_substring_regex(texts, char_class)`` without compiling the class."""
    if texts.null_count:
        found = pc.match_substring_regex(texts, char_class)
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)
    data, rel = utf8_bytes(texts)
    out = np.zeros(len(texts), dtype=bool)
    if len(data) == 0:
        return out
    hit = np.take(ascii_table(char_class), data)
    leads = np.flatnonzero(data >= 0xC0)
    if len(leads):
        hit[leads[lookup(char_class, decode(data, leads)[0])]] = True
    # Any per text: a text's bytes run from its start to the next non-empty text's start.
    nonempty = rel[1:] > rel[:-1]
    out[nonempty] = np.logical_or.reduceat(hit, rel[:-1][nonempty])
    return out


def utf8(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def decode(data: np.ndarray, leads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
