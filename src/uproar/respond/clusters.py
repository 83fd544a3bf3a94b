"""Clusters by meaning: sentence vectors, and leader clustering within intent and incident.

    vectors = TextVectors().encode(texts)            # (n, 384) unit rows, float32
    groups = meaning_clusters(vectors, blocks=blocks, topics=topics, similarity=0.4)

**Vectors.** The shipped MiniLM's word-piece table (``sentiment-minilm.int8.onnx``, fetched
once, see scripts/add_embedding_output.py), averaged over a post's word pieces with weight
log(rank): BERT's vocabulary lists whole words roughly by corpus frequency from id 1996 on,
so a rarer piece weighs more (an IDF that needs no corpus); punctuation, special pieces and
the normaliser's ``@user`` and ``http`` weigh nothing. The rows are centred before they are
scaled to unit length: on the mean of the posts being clustered, shrunk towards the table's
own frequency-weighted mean for a handful of posts. No encoder run, no download: a post
costs its tokenisation and a gather.

Why these vectors: on the 340 labelled TWCS messages (``evaldata/twcs-inbox.jsonl``), pairs
from one brand that share a labelled theme are told from pairs that do not with ROC AUC 0.71
(these vectors), 0.62 (character 3-5-gram TF-IDF) and 0.55 (the encoder's own layer-4
``complaint_embedding``, tuned to sentiment and complaint, not to what a post is about).

**Clusters.** Mentions arrive best first. Each block (an intent group and the open incident
it was posted in) is clustered on its own, so thanks never join complaints and two
incidents never share a cluster. In a block, a mention with a known theme joins the
cluster of that theme (two known themes never share one); a mention without one joins the
cluster, of a theme or of none, whose centroid it is most similar to if the cosine reaches
``similarity`` (``templates/inbox.toml``), and otherwise starts a cluster of its own.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cache
from importlib import resources

import numpy as np

from uproar.errors import ModelError
from uproar.understand.accurate import MODEL
from uproar.understand.text import normalise

__all__ = ["TextVectors", "meaning_clusters", "text_vectors"]

FIRST_WORD = 1996  # BERT uncased: ids below are special, unused and single-character pieces
SHRINK = 32  # pseudo-posts of the table's mean in the centre (matters below ~100 posts)
BATCH = 512  # posts whose word pieces are gathered at once


class TextVectors:
    """Sentence vectors from the shipped MiniLM's word-piece table (see the module doc)."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        base = resources.files("uproar.understand") / "models"
        try:
            tok_json = (base / f"{MODEL}.tokenizer.json").read_text(encoding="utf-8")
            onnx_bytes = (base / f"{MODEL}.int8.onnx").read_bytes()
        except (FileNotFoundError, OSError) as exc:
            raise ModelError(f"model files missing or unreadable: {exc}") from exc
        self.tokenizer = Tokenizer.from_str(tok_json)
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"]
            )
            one = np.asarray([[self.tokenizer.token_to_id("[CLS]")]], dtype=np.int64)
            table, scale, zero = session.run(
                ["word_vectors", "word_vectors_scale", "word_vectors_zero_point"],
                {"input_ids": one, "attention_mask": np.ones_like(one)},
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{MODEL}.int8.onnx has no word-piece table output: {exc}") from exc
        self.table: np.ndarray = np.asarray(table, dtype=np.uint8)
        self.scale, self.zero = np.float32(scale), np.float32(zero)
        ids = np.arange(len(self.table))
        weight = np.where(ids >= FIRST_WORD, np.log(np.maximum(ids - FIRST_WORD + 1, 1) + 1), 0)
        for placeholder in ("user", "http"):  # what ``normalise`` leaves of handles and links
            token = self.tokenizer.token_to_id(placeholder)
            if token is not None:
                weight[token] = 0.0
        self.weight = weight.astype(np.float32)
        # The mean vector of a post under Zipf's law over the ranked vocabulary.
        zipf = np.where(ids >= FIRST_WORD, 1.0 / np.maximum(ids - FIRST_WORD + 1, 1), 0.0)
        mass = (zipf * self.weight).astype(np.float32)
        self.prior: np.ndarray = (mass @ self._rows(ids)) / mass.sum()

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        rows: np.ndarray = (self.table[ids].astype(np.float32) - self.zero) * self.scale
        return rows

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """Weighted mean word-piece vector per text, (n, 384), before centring."""
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for b0 in range(0, len(texts), BATCH):
            encs = self.tokenizer.encode_batch(
                [normalise(t) for t in texts[b0 : b0 + BATCH]], add_special_tokens=False
            )
            lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
            ids = np.fromiter((i for e in encs for i in e.ids), dtype=np.int64)
            if not len(ids):
                continue
            post = np.repeat(np.arange(len(encs)), lengths)
            weight = self.weight[ids]
            sums = np.zeros((len(encs), self.table.shape[1]), dtype=np.float32)
            np.add.at(sums, post, self._rows(ids) * weight[:, None])
            total = np.bincount(post, weights=weight, minlength=len(encs))
            out[b0 : b0 + len(encs)] = sums / np.maximum(total, 1e-9)[:, None]
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Centred unit sentence vectors, (n, 384) float32 (zero rows for texts with no
        weighted word piece)."""
        pooled = self.pooled(texts)
        centre = (pooled.sum(axis=0) + SHRINK * self.prior) / (len(pooled) + SHRINK)
        rows = pooled - centre
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        empty = ~pooled.any(axis=1)
        rows[empty] = 0.0
        out: np.ndarray = rows / np.where(norms > 0, norms, 1.0)
        return out


@cache
def text_vectors() -> TextVectors:
    """The process's one ``TextVectors`` (the table is read once)."""
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
