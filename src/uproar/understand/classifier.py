"""One interface over both paths: ``Classifier(model="fast"|"accurate")``.

The fast path scores sentiment with a linear model over n-gram and lexicon features; the
accurate path with the fine-tuned MiniLM (int8 ONNX) blended with the fast model. Both
share the tokens, the rules (topics, complaint, sarcasm, question, urgency, language) and
the brand's config. Models load once, in the constructor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import ModelError
from uproar.records import Labels
from uproar.understand.features import as_string_array, tokenize
from uproar.understand.language import platform_languages
from uproar.understand.rules import LabelArrays, Rules
from uproar.understand.taxonomy import SENTIMENTS, UnderstandConfig, resolve_config

MODELS: tuple[str, ...] = ("fast", "accurate")
ConfigLike = UnderstandConfig | str | Path | Mapping[str, Any] | None

# Arrow type of the store's ``labels`` table (src/uproar/store/schema.sql).
LABELS_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("id", pa.string()),
        ("complaint", pa.bool_()),
        ("sentiment", pa.string()),
        ("topics", pa.list_(pa.string())),
        ("question", pa.bool_()),
        ("urgency", pa.bool_()),
        ("language", pa.string()),
        ("sarcasm", pa.bool_()),
        ("reach", pa.float64()),
        ("model", pa.string()),
    ]
)


class Classifier:
    """Labels batches of texts. ``threads`` is how many posts the accurate path runs at
    once (0: one per core); the fast path is single-threaded."""

    def __init__(self, model: str = "fast", config: ConfigLike = None, *, threads: int = 0) -> None:
        if model not in MODELS:
            raise ModelError(f"unknown model {model!r}: expected one of {', '.join(MODELS)}")
        self.model = model
        self.threads = threads
        self.config = resolve_config(config)
        self.rules = Rules(self.config)
        from uproar.understand.fast import FastSentiment

        self._fast = FastSentiment()
        self._accurate: Any = None
        if model == "accurate":
            from uproar.understand.accurate import AccurateSentiment

            self._accurate = AccurateSentiment(threads=threads, fast=self._fast)

    def arrays(self, texts: Any, *, known: pa.StringArray | None = None) -> LabelArrays:
        """All labels of a batch as arrays (the columnar core the other methods wrap).
        ``known``: each text's language where its platform detected it, null elsewhere."""
        arr = as_string_array(texts)
        tokens = tokenize(arr)
        fast_lp = self._fast.log_probs_tokens(tokens)
        if self._accurate is None:
            return self.rules.apply(arr, tokens, fast_lp, known=known)
        log_probs, embedding = self._accurate.encode(arr.to_pylist(), tokens, fast_lp)
        return self.rules.apply(
            arr, tokens, log_probs, fast_log_probs=fast_lp, embedding=embedding, known=known
        )

    def classify(
        self,
        texts: Sequence[str] | pa.Array | pa.ChunkedArray | Any,
        *,
        counts: Mapping[str, Sequence[int | None]] | None = None,
    ) -> list[Labels]:
        """One ``Labels`` per text, in order. ``counts`` optionally gives the posts'
        author_followers / like_count / repost_count / reply_count for ``reach``."""
        a = self.arrays(texts)
        reaches = (
            reach(pa.table({k: pa.array(v, type=pa.int64()) for k, v in counts.items()}))
            if counts
            else None
        )
        topics = a.topics.to_pylist()
        langs = a.language.to_pylist()
        out = []
        for i in range(len(a)):
            out.append(
                Labels(
                    complaint=bool(a.complaint[i]),
                    sentiment=SENTIMENTS[int(a.sentiment[i])],  # type: ignore[arg-type]
                    topics=tuple(topics[i]),
                    question=bool(a.question[i]),
                    urgency=bool(a.urgency[i]),
                    language=langs[i],
                    sarcasm=bool(a.sarcasm[i]),
                    reach=float(reaches[i]) if reaches is not None else 0.0,
                    sentiment_scores={
                        s: round(float(a.scores[i, j]), 4) for j, s in enumerate(SENTIMENTS)
                    },
                )
            )
        return out

    def complaint_signal(self, texts: Any) -> np.ndarray:
        """Boolean array: is each text a complaint (the detector's first-pass signal)."""
        return self.arrays(texts).complaint

    def label_table(self, posts: pa.Table) -> pa.Table:
        """Labels for a posts table, shaped like the store's ``labels`` table."""
        missing = {"platform", "id", "text"} - set(posts.column_names)
        if missing:
            raise ModelError(f"posts table lacks column(s) {', '.join(sorted(missing))}")
        known = None
        if "lang" in posts.column_names:
            # A platform that detects the language itself (X) is taken at its word; the
            # other posts' language is guessed from the text (rules.py).
            tax = self.config.taxonomy
            known = platform_languages(
                posts.column("platform"), posts.column("lang"), tax.detected_by, tax.aliases
            )
        a = self.arrays(posts.column("text"), known=known)
        n = posts.num_rows
        columns = [
            posts.column("platform").combine_chunks().cast(pa.string()),
            posts.column("id").combine_chunks().cast(pa.string()),
            pa.array(a.complaint, type=pa.bool_()),
            a.sentiment_labels(),
            a.topics,
            pa.array(a.question, type=pa.bool_()),
            pa.array(a.urgency, type=pa.bool_()),
            a.language,
            pa.array(a.sarcasm, type=pa.bool_()),
            pa.array(reach(posts), type=pa.float64()),
            pa.repeat(pa.scalar(self.model, pa.string()), n),
        ]
        return pa.Table.from_arrays(columns, schema=LABELS_SCHEMA)


def reach(posts: pa.Table) -> np.ndarray:
    """log10(1 + followers) + log10(1 + likes + 2 reposts + replies), zero for missing counts.

    Followers say how many could see the post; engagement says how many did and carried it
    on (a repost puts it in front of a new audience, hence its double weight).
    """

    def col(name: str) -> np.ndarray:
        if name not in posts.column_names:
            return np.zeros(posts.num_rows)
        values = pc.fill_null(pc.cast(posts.column(name), pa.float64()), 0.0)
        return np.asarray(np.clip(values.to_numpy(), 0, None), dtype=np.float64)

    engagement = col("like_count") + 2 * col("repost_count") + col("reply_count")
    return np.asarray(
        np.log10(1 + col("author_followers")) + np.log10(1 + engagement), dtype=np.float64
    )


_CACHE: dict[tuple[str, object], Classifier] = {}


def _cached(model: str, config: ConfigLike) -> Classifier:
    """One classifier per (model, config), so ingest's per-batch calls load models once.

    A config file is keyed by its path and modification time: editing it takes effect on
    the next batch. A plain mapping is not cached (it may be mutated).
    """
    key: object
    if config is None or isinstance(config, UnderstandConfig):
        key = config
    elif isinstance(config, str | Path):
        path = Path(config)
        try:
            key = (str(path.resolve()), path.stat().st_mtime_ns)
        except OSError:
            return Classifier(model, config)  # raises the ConfigError that names the file
    else:
        return Classifier(model, config)
    if (model, key) not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.clear()
        _CACHE[(model, key)] = Classifier(model, config)
    return _CACHE[(model, key)]


def label_table(posts: pa.Table, *, model: str = "fast", config: ConfigLike = None) -> pa.Table:
    """Label a posts table (ingest calls this per batch); columns as the store's ``labels``.

    Classifiers are built on first use and kept per (model, config), so repeated batches do
    not reload the models; use a ``Classifier`` yourself for full control.
    """
    return _cached(model, config).label_table(posts)


def complaint_signal(texts: Any, *, model: str = "fast", config: ConfigLike = None) -> np.ndarray:
    """Boolean numpy array: does each text complain about a service (fast first pass)."""
    return np.asarray(_cached(model, config).complaint_signal(texts), dtype=bool)
