"""Compiled rules: a taxonomy turned into phrase tables, applied to a batch column-wise.

``Rules.apply`` takes the tokens of a batch and the sentiment model's log-probabilities and
returns every label as an array. Decisions, in order:

* topics: any phrase of a topic;
* sarcasm: a sarcasm marker, or praise next to a complaint phrase ("great job, third outage");
* sentiment: the model's argmax, forced to negative when sarcastic;
* complaint: a complaint phrase, or a topic with negative sentiment, or a "problem" topic
  (no connection, slow, intermittent) without positive sentiment, or sarcasm — unless a
  "problem over" phrase (``not_complaint``) is present;
* question: a '?', a question phrase, or a question word as the first token after mentions;
* urgency: any urgency phrase;
* language: dominant non-Latin script, else the language with most stop words, else English
  for Latin text, else none;
* config examples: posts whose token set is close (Jaccard) to a labelled example take the
  labels that example gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from uproar.understand.features import PhraseTable, Tokens, tokenize, tokenize_many, vocabulary_hits
from uproar.understand.taxonomy import SENTIMENTS, UnderstandConfig

# Flag ids in the flags phrase table.
COMPLAINT, NOT_COMPLAINT, PRAISE, SARCASM, QUESTION, URGENCY, EMOJI_NEG, EMOJI_POS = range(8)
N_FLAGS = 8
_SCRIPT_SHARE = 0.3  # a script owns a text when it has this share of the letters


@dataclass(frozen=True, slots=True)
class LabelArrays:
    """Labels of a batch, one array per label (row i belongs to text i)."""

    complaint: np.ndarray  # bool
    sentiment: np.ndarray  # int8 index into SENTIMENTS
    scores: np.ndarray  # float32 (n, 3) probabilities
    topics: pa.ListArray  # list<string>
    question: np.ndarray
    urgency: np.ndarray
    sarcasm: np.ndarray
    language: pa.StringArray

    def __len__(self) -> int:
        return len(self.complaint)

    def sentiment_labels(self) -> pa.StringArray:
        return pa.array(SENTIMENTS, type=pa.string()).take(
            pa.array(self.sentiment.astype(np.int32))
        )


class Rules:
    """Phrase tables built once from an ``UnderstandConfig``."""

    def __init__(self, config: UnderstandConfig) -> None:
        tax = config.taxonomy
        self.config = config
        self.topic_ids = pa.array(tax.topic_ids, type=pa.string())
        self.problem_topics = np.array([t.problem for t in tax.topics], dtype=bool)
        self.topics = PhraseTable((kw, i) for i, t in enumerate(tax.topics) for kw in t.keywords)
        groups = (
            (COMPLAINT, tax.complaint),
            (NOT_COMPLAINT, tax.not_complaint),
            (PRAISE, tax.praise),
            (SARCASM, tax.sarcasm_markers),
            (QUESTION, (*tax.question_phrases, "?")),
            (URGENCY, tax.urgency),
            (EMOJI_NEG, tax.emoji_negative),
            (EMOJI_POS, tax.emoji_positive),
        )
        self.flags = PhraseTable((p, gid) for gid, phrases in groups for p in phrases)
        starters = {toks[0] for toks in tokenize_many(tax.question_starters) if toks}
        self.starters = pa.array(sorted(starters), type=pa.string())
        self.languages = [lang for lang, _ in tax.stopwords]
        self.stopwords = PhraseTable(
            (w, i) for i, (_, words) in enumerate(tax.stopwords) for w in words
        )
        self.scripts = tax.scripts
        self.examples = config.examples
        if self.examples:
            ex_tokens = tokenize([e.text for e in self.examples])
            self.example_vocab = pa.array(
                sorted(set(ex_tokens.values.to_pylist())), type=pa.string()
            )
            r, c = vocabulary_hits(ex_tokens, self.example_vocab, (1,))
            self.example_matrix = _binary(r, c, len(self.examples), len(self.example_vocab))

    def apply(self, texts: pa.StringArray, tokens: Tokens, log_probs: np.ndarray) -> LabelArrays:
        n = tokens.n
        counts = self.flags.counts(tokens, N_FLAGS)
        flags = counts > 0
        topic_hits = self.topics.indicator(tokens, len(self.topic_ids))
        sarcasm = flags[:, SARCASM] | (flags[:, PRAISE] & flags[:, COMPLAINT])
        sentiment = log_probs.argmax(axis=1).astype(np.int8) if n else np.zeros(0, dtype=np.int8)
        scores = np.exp(log_probs).astype(np.float32)
        # A sarcastic post means the opposite of its words: swap negative and positive.
        scores[sarcasm] = scores[sarcasm][:, ::-1]
        sentiment[sarcasm] = 0
        # No words: an empty post is neutral; emoji alone decide by their count.
        letters = (
            pc.count_substring_regex(texts, r"\pL")
            .to_numpy(zero_copy_only=False)
            .astype(np.float64)
        )
        wordless = letters == 0
        neg, pos = counts[:, EMOJI_NEG], counts[:, EMOJI_POS]
        sentiment[wordless] = 1
        sentiment[wordless & (neg > pos)] = 0
        sentiment[wordless & (pos > neg)] = 2
        onehot = np.eye(3, dtype=np.float32)[sentiment[wordless]]
        scores[wordless] = 0.8 * onehot + 0.2 / 3
        negative = sentiment == 0
        problem = topic_hits[:, self.problem_topics].any(axis=1) & (sentiment != 2)
        complaint = flags[:, COMPLAINT] | (topic_hits.any(axis=1) & negative) | problem | sarcasm
        complaint &= ~flags[:, NOT_COMPLAINT]
        question = flags[:, QUESTION] | self._starts_with_question(tokens)
        urgency = flags[:, URGENCY].copy()
        language = self._language(texts, tokens, letters)
        if self.examples and n:
            self._apply_examples(tokens, complaint, sentiment, topic_hits, question, urgency)
        return LabelArrays(
            complaint=complaint,
            sentiment=sentiment,
            scores=scores,
            topics=_list_array(topic_hits, self.topic_ids),
            question=question,
            urgency=urgency,
            sarcasm=sarcasm,
            language=language,
        )

    def _starts_with_question(self, tokens: Tokens) -> np.ndarray:
        out = np.zeros(tokens.n, dtype=bool)
        if len(tokens.values) == 0:
            return out
        not_mention = pc.not_equal(tokens.values, "@user").to_numpy(zero_copy_only=False)
        idx = np.flatnonzero(not_mention)
        rows, first = np.unique(tokens.rows[idx], return_index=True)
        firsts = tokens.values.take(pa.array(idx[first]))
        out[rows] = pc.is_in(firsts, value_set=self.starters).to_numpy(zero_copy_only=False)
        return out

    def _language(
        self, texts: pa.StringArray, tokens: Tokens, letters: np.ndarray
    ) -> pa.StringArray:
        n = tokens.n
        codes = np.full(n, -1, dtype=np.int64)
        names: list[str] = []
        # Only texts with non-Latin letters need the per-script counts.
        other = pc.count_substring_regex(texts, r"[^\P{L}\p{Latin}]").to_numpy(zero_copy_only=False)
        sel = np.flatnonzero(other > 0)
        if len(sel):
            sub = texts.take(pa.array(sel))
            sub_letters = letters[sel]
            best_share = np.zeros(len(sel))
            for code, pattern in self.scripts:
                count = pc.count_substring_regex(sub, pattern).to_numpy(zero_copy_only=False)
                share = np.divide(count, sub_letters, out=np.zeros(len(sel)), where=sub_letters > 0)
                # Strictly better only: kana beside Han means Japanese (ja is listed first).
                better = (share >= _SCRIPT_SHARE) & (share > best_share)
                codes[sel[better]] = len(names)
                best_share[better] = share[better]
                names.append(code)
        else:
            names.extend(code for code, _ in self.scripts)
        latin = (codes < 0) & (letters > 0)
        if self.languages:
            counts = self.stopwords.counts(tokens, len(self.languages))
            top = counts.argmax(axis=1)
            has = counts.max(axis=1) > 0 if n else np.zeros(0, dtype=bool)
            pick = latin & has
            codes[pick] = len(names) + top[pick]
            names.extend(self.languages)
            english = (
                len(names) - len(self.languages) + self.languages.index("en")
                if "en" in self.languages
                else -1
            )
            if english >= 0:
                codes[latin & ~has] = english
        table = pa.array([*names, None], type=pa.string())
        codes[codes < 0] = len(names)
        return table.take(pa.array(codes))

    def _apply_examples(
        self,
        tokens: Tokens,
        complaint: np.ndarray,
        sentiment: np.ndarray,
        topic_hits: np.ndarray,
        question: np.ndarray,
        urgency: np.ndarray,
    ) -> None:
        r, c = vocabulary_hits(tokens, self.example_vocab, (1,))
        posts = _binary(r, c, tokens.n, len(self.example_vocab))
        overlap = (posts @ self.example_matrix.T).toarray()
        post_sizes = _unique_counts(tokens)
        ex_sizes = np.asarray(self.example_matrix.sum(axis=1)).ravel()
        union = post_sizes[:, None] + ex_sizes[None, :] - overlap
        jaccard = np.divide(
            overlap, union, out=np.zeros_like(overlap, dtype=np.float64), where=union > 0
        )
        best = jaccard.argmax(axis=1)
        hit = jaccard[np.arange(tokens.n), best] >= self.config.example_similarity
        topic_index = {t: i for i, t in enumerate(self.topic_ids.to_pylist())}
        for row in np.flatnonzero(hit):
            ex = self.examples[int(best[row])]
            if ex.complaint is not None:
                complaint[row] = ex.complaint
            if ex.sentiment is not None:
                sentiment[row] = SENTIMENTS.index(ex.sentiment)
            if ex.topics is not None:
                topic_hits[row] = False
                topic_hits[row, [topic_index[t] for t in ex.topics]] = True
            if ex.question is not None:
                question[row] = ex.question
            if ex.urgency is not None:
                urgency[row] = ex.urgency


def _binary(rows: np.ndarray, cols: np.ndarray, n: int, m: int) -> sparse.csr_matrix:
    mat = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, m))
    mat.data[:] = 1.0
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return mat


def _unique_counts(tokens: Tokens) -> np.ndarray:
    if len(tokens.values) == 0:
        return np.zeros(tokens.n)
    codes = (
        pc.dictionary_encode(tokens.values).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    )
    pairs = np.unique(tokens.rows * (int(codes.max()) + 1) + codes)
    return np.bincount(pairs // (int(codes.max()) + 1), minlength=tokens.n).astype(np.float64)


def _list_array(indicator: np.ndarray, names: pa.StringArray) -> pa.ListArray:
    rows, cols = np.nonzero(indicator)
    counts = np.bincount(rows, minlength=indicator.shape[0])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(cols.astype(np.int64))))
