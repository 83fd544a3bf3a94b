"""Clusters by meaning: sentence vectors, and leader clustering within intent and incident.

    vectors = TextVectors().encode(texts)            # (n, 384) unit rows, float32
    groups = meaning_clusters(vectors, blocks=blocks, topics=topics, similarity=0.5)

**Vectors.** The sentence-transformers model all-MiniLM-L6-v2, trained on a billion sentence
pairs to place paraphrases together, shipped as int8 ONNX (``understand/models/
sentence-minilm.int8.onnx``, built by scripts/export_sentence_encoder.py; read with
importlib.resources, nothing downloaded). A post is encoded without its handles and links
(every post to a brand names the brand: that says nothing about what it is about), mean
pooled over its word pieces and scaled to unit length; a post with no words left gets a
zero row. Each post runs alone, one thread a run and ``threads`` runs at once: int8 dynamic
quantisation scales activations per tensor, so posts in one padded batch would move each
other's vectors (and batches are no faster). A post costs about 7 ms of CPU (bench/
classify.py prints the figure), so vectors are kept, by the text as encoded, in a bounded
in-process cache: an inbox rebuilt every few seconds encodes only its new posts, and
copies of one text are encoded once. The cache is keyed by text, not by post id, because
a vector depends on the text alone and callers (the eval, tests) reuse ids.

Measured on the 340 labelled TWCS messages (``uproar eval inbox``) with the topic packs'
themes, at the ``similarity`` chosen on half of the brands: ARI 0.548 against 0.536 by theme
alone (0.572 against 0.554 on the other half), 206 clusters against 212, purity 93.8%
against 94.1%; the 312 airline posts needing a reply form 149 clusters against 159. Two real
on-hold complaints score 0.54 (0.27 with a word-piece average of the sentiment MiniLM).

**Clusters.** Mentions arrive best first. Each block (an intent group and the open incident
it was posted in) is clustered on its own, so thanks never join complaints and two
incidents never share a cluster. In a block, a mention with a known theme joins the
cluster of that theme (two known themes never share one); a mention without one joins the
cluster, of a theme or of none, whose centroid it is most similar to if the cosine reaches
``similarity`` (``templates/inbox.toml``), and otherwise starts a cluster of its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources

import numpy as np
import regex

from uproar.errors import ModelError
from uproar.understand.accurate import one_thread_session

__all__ = ["ENCODER", "TextVectors", "meaning_clusters", "text_vectors"]

ENCODER = "sentence-minilm"
WIDTH = 384  # all-MiniLM-L6-v2's hidden size
MAX_TOKENS = 128  # word pieces a post is cut to (the tokenizer file's own setting)
_NOT_WORDS = regex.compile(r"(?:https?://|www\.)\S+|[@\uff20]\w+|\s+", regex.IGNORECASE)


def encoder_text(text: str) -> str:
    """A post as the encoder sees it: no links or handles, whitespace collapsed."""
    return " ".join(_NOT_WORDS.sub(" ", text).split())


class TextVectors:
    """Unit sentence vectors from the shipped all-MiniLM-L6-v2 (see the module doc).
    ``threads``: posts encoded at once (one core each); ``cache``: vectors kept, by text."""

    def __init__(self, *, threads: int = 2, cache: int = 20_000) -> None:
        if threads < 1:
            raise ModelError(f"threads must be >= 1, got {threads}")
        if cache < 0:
            raise ModelError(f"cache must be >= 0 vectors, got {cache}")
        self.threads = threads
        self.cache = cache
        from tokenizers import Tokenizer

        base = resources.files("uproar.understand") / "models"
        try:
            tok_json = (base / f"{ENCODER}.tokenizer.json").read_text(encoding="utf-8")
            onnx_bytes = (base / f"{ENCODER}.int8.onnx").read_bytes()
        except (FileNotFoundError, OSError) as exc:
            raise ModelError(f"sentence encoder files missing or unreadable: {exc}") from exc
        self.tokenizer = Tokenizer.from_str(tok_json)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.session = one_thread_session(onnx_bytes, f"{ENCODER}.int8.onnx")
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def cached(self) -> int:
        """How many vectors the cache holds now."""
        return len(self._kept)

    def _one(self, text: str) -> np.ndarray:
        ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        row: np.ndarray = self.session.run(None, feeds)[0][0].astype(np.float32)
        row.flags.writeable = False
        return row

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit sentence vectors, (n, 384) float32; a zero row for a text with no words
        once handles and links are gone. A text's vector depends on that text alone."""
        keys = [encoder_text(t) for t in texts]
        out = np.zeros((len(keys), WIDTH), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                if not key:
                    continue
                kept = self._kept.get(key)
                if kept is None:
                    todo.setdefault(key, []).append(i)
                else:
                    self._kept.move_to_end(key)
                    out[i] = kept
        if not todo:
            return out
        new = list(todo)
        if self.threads == 1 or len(new) == 1:
            rows = [self._one(t) for t in new]
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                rows = list(pool.map(self._one, new))
        with self._lock:
            for key, row in zip(new, rows, strict=True):
                out[todo[key]] = row
                if self.cache:
                    self._kept[key] = row
                    self._kept.move_to_end(key)
            while len(self._kept) > self.cache:
                self._kept.popitem(last=False)
        return out


@cache
def text_vectors() -> TextVectors:
    """The process's one ``TextVectors`` (the encoder is loaded once, its cache shared)."""
    return TextVectors()


def meaning_clusters(
    vectors: np.ndarray,
    *,
    blocks: Sequence[Hashable],
    topics: Sequence[str | None],
    similarity: float,
) -> list[list[int]]:
    """Leader clustering of rows given best first: ``blocks[i]`` (intent group and incident)
    never mix; a row with a theme (``topics[i]``) joins its block's cluster of that theme or
    starts it; a row without one joins the cluster with the most similar centroid (cosine of
    ``vectors[i]``, unit rows, to the mean of the cluster's vectors) if that reaches
    ``similarity``, else starts one. Returns clusters as lists of rows, each best first, in
    the order they were started. Rows past ``len(vectors)`` (the long tail that got no
    vector) join by theme only, or stay alone."""
    n = len(blocks)
    out: list[list[int]] = []
    by_theme: dict[tuple[Hashable, str], int] = {}
    centroids: dict[Hashable, _Centroids] = {}
    for i in range(n):
        block, theme = blocks[i], topics[i]
        vector = vectors[i] if i < len(vectors) else None
        if theme is not None:
            c = by_theme.get((block, theme))
            if c is None:
                c = by_theme[(block, theme)] = len(out)
                out.append([])
        else:
            c = -1
            if vector is not None and block in centroids:
                c = centroids[block].nearest(vector, similarity)
            if c < 0:
                out.append([])
                c = len(out) - 1
        out[c].append(i)
        if vector is not None:
            centroids.setdefault(block, _Centroids(vectors.shape[1])).add(c, vector)
    return out


class _Centroids:
    """Running vector sums of one block's clusters, as rows of a growing matrix."""

    __slots__ = ("_ids", "_row", "_sums")

    def __init__(self, width: int) -> None:
        self._sums = np.zeros((8, width), dtype=np.float32)
        self._ids: list[int] = []  # cluster id of each row
        self._row: dict[int, int] = {}

    def add(self, cluster: int, vector: np.ndarray) -> None:
        row = self._row.get(cluster)
        if row is None:
            row = self._row[cluster] = len(self._ids)
            self._ids.append(cluster)
            if row == len(self._sums):
                self._sums = np.concatenate([self._sums, np.zeros_like(self._sums)])
        self._sums[row] += vector

    def nearest(self, vector: np.ndarray, similarity: float) -> int:
        """The cluster whose centroid is nearest ``vector`` if its cosine reaches
        ``similarity``, else -1 (the first of equals)."""
        if not self._ids:
            return -1
        sums = self._sums[: len(self._ids)]
        norms = np.linalg.norm(sums, axis=1)
        cosine = (sums @ vector) / np.where(norms > 0, norms, 1.0)
        best = int(np.argmax(cosine))
        return self._ids[best] if cosine[best] >= similarity else -1
