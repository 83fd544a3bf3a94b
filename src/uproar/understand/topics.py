"""Topic discovery: cluster an incident's posts and name each cluster by its top terms.

The fixed taxonomy only knows what was foreseen; this finds what people actually talk
about ("modem lights flashing orange"). TF-IDF over words (the shared tokenizer;
stop words, mentions, URLs, numbers and punctuation dropped), then average-linkage
agglomerative clustering on cosine distance (a distance threshold, or a given ``k``). A
cluster is named by the words and word pairs whose mean weight inside it most exceeds
their mean weight overall.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from uproar.errors import InputError
from uproar.understand.features import as_string_array, tokenize

LEADING_TERMS = 2  # components whose members' top terms share a word are one topic
_EXTRA_STOP = {
    "@user",
    "http",
    "rt",
    "amp",
    "just",
    "im",
    "i'm",
    "it's",
    "don't",
    "can't",
}


@dataclass(frozen=True, slots=True)
class TopicCluster:
    """One discovered topic: its name, top terms, and the posts (by input index) in it."""

    id: int
    label: str
    terms: tuple[str, ...]
    size: int
    members: tuple[int, ...]
    examples: tuple[str, ...]


def _docs(texts: Sequence[str]) -> list[list[str]]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    drop = frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP
    tokens = tokenize(texts)
    values = tokens.values.to_pylist()
    docs: list[list[str]] = [[] for _ in range(tokens.n)]
    for row, tok in zip(tokens.rows.tolist(), values, strict=True):
        word = tok.lstrip("#")
        if tok not in drop and any(ch.isalpha() for ch in word) and len(word) > 1:
            docs[row].append(word)
    return docs


def _ngrams(doc: list[str]) -> list[str]:
    return doc + [f"{a} {b}" for a, b in itertools.pairwise(doc)]


def _cluster(x: Any, k: int | None, seed: int, max_k: int, terms: np.ndarray) -> np.ndarray:
    """Non-negative matrix factorisation of the TF-IDF matrix; each post joins its
    strongest component.

    NMF finds topics as sets of co-occurring words, which suits short posts better than
    distance-based clustering (that leaves one giant cluster on real incident data).
    Without ``k`` it starts from ``max_k`` components and merges those whose members'
    heaviest terms share a word, so a topic split in two ("double charged this month",
    "charged twice") comes back whole.
    """
    from sklearn.decomposition import NMF

    n = x.shape[0]
    components = min(k if k is not None else max_k, n, x.shape[1])
    if components < 2:
        return np.zeros(n, dtype=np.int64)
    model = NMF(n_components=components, init="nndsvda", random_state=seed, max_iter=400)
    # An exact fit (a few distinct posts) leaves a loss of -1e-17, whose sqrt is harmless.
    with np.errstate(invalid="ignore"):
        weights = model.fit_transform(x)
    labels = np.asarray(weights.argmax(axis=1), dtype=np.int64)
    if k is not None:
        return labels
    merged = True
    while merged:
        merged = False
        lead: dict[int, set[str]] = {}
        for c in sorted(set(labels.tolist())):
            centroid = np.asarray(x[labels == c].mean(axis=0)).ravel()
            top = np.argsort(-centroid, kind="stable")[:LEADING_TERMS]
            lead[c] = {w for j in top if centroid[j] > 0 for w in str(terms[j]).split()}
        for a, b in itertools.combinations(sorted(lead), 2):
            if lead[a] & lead[b]:
                labels[labels == b] = a
                merged = True
                break
    return labels


def discover_topics(
    texts: Sequence[str] | Any,
    *,
    k: int | None = None,
    seed: int = 0,
    n_terms: int = 4,
    max_k: int = 8,
) -> list[TopicCluster]:
    """Cluster ``texts``; clusters come largest first. Fewer than 2 usable texts: none."""
    if k is not None and k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    items = as_string_array(texts).to_pylist()
    docs = _docs(items)
    usable = [i for i, d in enumerate(docs) if d]
    if len(usable) < 2:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(usable) >= 20 else 1
    # Cluster on words (robust for short posts); name clusters with words and word pairs.
    # Words in over half the posts (the brand's name, "internet") say nothing of the topic.
    max_df = 0.5 if len(usable) >= 20 else 1.0
    vec = TfidfVectorizer(analyzer=_ngrams, min_df=min_df, max_df=max_df, sublinear_tf=True)
    names = TfidfVectorizer(analyzer=_ngrams, min_df=min_df, sublinear_tf=True)
    try:
        x = vec.fit_transform([docs[i] for i in usable])
        xn = names.fit_transform([docs[i] for i in usable])
    except ValueError:  # empty vocabulary
        return []
    # Posts whose every word is rarer than min_df have no vector left: cosine can't place them.
    kept = np.flatnonzero(x.getnnz(axis=1) > 0)
    if len(kept) < 2:
        return []
    x, xn, usable = x[kept], xn[kept], [usable[int(i)] for i in kept]
    terms = np.asarray(names.get_feature_names_out())
    n = x.shape[0]
    distinct = len({tuple(docs[i]) for i in usable})  # no more clusters than distinct posts
    labels = _cluster(
        x,
        None if k is None else max(1, min(k, n, distinct)),
        seed,
        min(max_k, distinct),
        np.asarray(vec.get_feature_names_out()),
    )
    overall = np.asarray(xn.mean(axis=0)).ravel()
    clusters = []
    for c in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == c)
        centroid = np.asarray(xn[rows].mean(axis=0)).ravel()
        lift = centroid - overall
        order = np.argsort(-lift, kind="stable")
        top = [str(terms[j]) for j in order[: n_terms * 3] if centroid[j] > 0]
        chosen: list[str] = []
        for term in top:  # prefer a bigram over the unigrams it contains
            if any(term in t or t in term for t in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_terms:
                break
        members = tuple(usable[int(r)] for r in rows)
        clusters.append((members, tuple(chosen)))
    clusters.sort(key=lambda mc: (-len(mc[0]), mc[0][0]))
    return [
        TopicCluster(
            id=i,
            label=" / ".join(terms_[:3]),
            terms=terms_,
            size=len(members),
            members=members,
            examples=tuple(items[m] for m in members[:3]),
        )
        for i, (members, terms_) in enumerate(clusters)
    ]
