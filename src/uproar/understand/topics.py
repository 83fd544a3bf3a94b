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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from uproar.errors import InputError
from uproar.understand.features import as_string_array, tokenize

LEADING_TERMS = 2  # components whose members' top terms share a word are one topic
LABEL_SHARE = 0.08  # a label word is in at least this share of its theme's posts
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
    "there's",
    "that's",
    "what's",
    "you're",
    "we're",
    "i've",
    "isn't",
    "doesn't",
    "didn't",
    "won't",
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
    coherence: float = 0.0  # mean NPMI of the label's word pairs over the posts, -1..1


def _docs(texts: Sequence[str], exclude: frozenset[str] = frozenset()) -> list[list[str]]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    drop = frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP | exclude
    tokens = tokenize(texts)
    values = tokens.values.to_pylist()
    docs: list[list[str]] = [[] for _ in range(tokens.n)]
    for row, tok in zip(tokens.rows.tolist(), values, strict=True):
        word = tok.lstrip("#")
        # A handle names who is talked to, not what about; nor does the brand's own name.
        if tok.startswith("@") or word in drop:
            continue
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
    max_k: int | None = None,
    exclude: Collection[str] = (),
) -> list[TopicCluster]:
    """Cluster ``texts``; clusters come largest first. Fewer than 2 usable texts: none.

    Without ``max_k``, a corpus gets up to one theme per 150 posts, between 8 and 16.
    ``exclude`` lists words that must not name a theme (a brand's own names). Each theme's
    examples are the posts nearest its centre that carry one of its label's words, and
    ``coherence`` is the mean NPMI of its label's word pairs over all the posts."""
    if k is not None and k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    items = as_string_array(texts).to_pylist()
    docs = _docs(items, frozenset(w.lower() for w in exclude))
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
        min(max_k or min(16, max(8, len(usable) // 150)), distinct),
        np.asarray(vec.get_feature_names_out()),
    )
    overall = np.asarray(xn.mean(axis=0)).ravel()
    clusters = []
    for c in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == c)
        centroid = np.asarray(xn[rows].mean(axis=0)).ravel()
        lift = centroid - overall
        order = np.argsort(-lift, kind="stable")
        # A label word must be common inside its theme, not only distinctive (a name
        # that one author repeats is distinctive and names nothing).
        share = np.asarray((xn[rows] > 0).mean(axis=0)).ravel()
        top = [str(terms[j]) for j in order[: n_terms * 12] if share[j] >= LABEL_SHARE][
            : n_terms * 3
        ]
        chosen: list[str] = []
        for term in top:  # prefer a bigram over the unigrams it contains
            if any(term in t or t in term for t in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_terms:
                break
        members = tuple(usable[int(r)] for r in rows)
        label_words = {w for t in chosen[:3] for w in t.split()}
        nearest = _nearest(xn[rows], centroid)
        with_label = [r for r in nearest if label_words & set(docs[usable[int(rows[r])]])]
        examples = tuple(items[usable[int(rows[r])]] for r in with_label[:3])
        clusters.append((members, tuple(chosen), examples))
    clusters.sort(key=lambda mc: (-len(mc[0]), mc[0][0]))
    word_sets = [set(d) for d in docs if d]
    return [
        TopicCluster(
            id=i,
            label=" / ".join(terms_[:3]),
            terms=terms_,
            size=len(members),
            members=members,
            examples=examples,
            coherence=npmi(terms_[:3], word_sets),
        )
        for i, (members, terms_, examples) in enumerate(clusters)
    ]


def _nearest(rows: Any, centroid: np.ndarray) -> list[int]:
    """Row positions ordered by cosine similarity to ``centroid``, nearest first."""
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel()) * (
        np.linalg.norm(centroid) or 1.0
    )
    similarity = np.asarray(rows @ centroid).ravel() / np.where(norms > 0, norms, 1.0)
    return [int(r) for r in np.argsort(-similarity, kind="stable")]


def npmi(terms: Sequence[str], docs: Sequence[set[str]]) -> float:
    """Mean normalised pointwise mutual information of the words in ``terms`` over
    ``docs`` (Bouma 2009; the coherence measure of Lau, Newman & Baldwin 2014): 1 when
    the words always occur together, 0 when independent, -1 when never together. A
    single-word label has no pair and scores 0."""
    words = sorted({w for t in terms for w in t.split()})
    n = len(docs)
    if len(words) < 2 or n == 0:
        return 0.0
    has = {w: np.fromiter((w in d for d in docs), dtype=bool, count=n) for w in words}
    scores = []
    for a, b in itertools.combinations(words, 2):
        pa_, pb, pab = has[a].mean(), has[b].mean(), (has[a] & has[b]).mean()
        if pab == 0:
            scores.append(-1.0)
        elif pab == 1:
            scores.append(1.0)
        else:
            scores.append(float(np.log(pab / (pa_ * pb)) / -np.log(pab)))
    return float(np.mean(scores))
