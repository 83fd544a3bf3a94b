"""Compiled rules: a taxonomy turned into phrase tables, applied to a batch column-wise.

``Rules.apply`` takes the tokens of a batch and the sentiment model's log-probabilities and
returns every label as an array. Decisions, in order:

* topics: any phrase of a topic (of the brand's industry pack, if it names one);
* sarcasm: a sarcasm marker, or praise next to a complaint phrase ("great job, third outage");
* sentiment: the model's argmax, forced to negative when sarcastic;
* complaint: the complaint head (``complaint.py``: n-grams plus these rules' phrase hits as
  features, and the encoder's sentence vector on the accurate path), or a problem topic
  without positive sentiment, never with a "problem over" phrase; the phrase rule for posts
  in other languages; a brand's own complaint / not-complaint phrases decide outright;
* question: a '?', a question phrase anywhere ("what do I do"), or a question word as the
  first token after mentions;
* urgency: any urgency phrase;
* language: the platform's own where it detected it (``known``), else dominant non-Latin
  script, else English when its stop words win outright, else Lingua (``language.py``); no
  letters outside mentions and URLs: none;
* config examples: posts whose token set is close (Jaccard) to a labelled example take the
  labels that example gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.understand.chars import contains
from uproar.understand.complaint import (
    DENSE,
    PROBLEM,
    ComplaintHead,
    Design,
    decide,
    load_head,
    load_topic_phrases,
)
from uproar.understand.features import (
    PhraseTable,
    Tokens,
    take_tokens,
    tokenize,
    tokenize_many,
    vocabulary_hits,
)
from uproar.understand.language import identify, in_doubt, word_counts, word_letters
from uproar.understand.taxonomy import SENTIMENTS, UnderstandConfig, default_taxonomy

if TYPE_CHECKING:
    from scipy import sparse

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


@dataclass(frozen=True, slots=True)
class _Signals:
    counts: np.ndarray  # int (n, N_FLAGS)
    flags: np.ndarray  # bool (n, N_FLAGS)
    topic_hits: np.ndarray  # bool (n, topics)
    sarcasm: np.ndarray
    question: np.ndarray


class Rules:
    """Phrase tables built once from an ``UnderstandConfig``. ``heads`` loads the shipped
    complaint heads; without them (training) the complaint label is the phrase rule."""

    def __init__(self, config: UnderstandConfig, *, heads: bool = True) -> None:
        tax = config.taxonomy
        self.config = config
        self.fast_head: ComplaintHead | None = load_head("fast") if heads else None
        self.accurate_head: ComplaintHead | None = load_head("accurate") if heads else None
        self.head_topics = load_topic_phrases()
        # Phrases a brand added in its config (not in the shipped taxonomy) decide outright.
        default = default_taxonomy()
        added = [p for p in tax.complaint if p not in set(default.complaint)]
        removed = [p for p in tax.not_complaint if p not in set(default.not_complaint)]
        self.forced = (
            PhraseTable([*((p, 0) for p in added), *((p, 1) for p in removed)])
            if added or removed
            else None
        )
        self.topic_ids = pa.array(tax.topic_ids, type=pa.string())
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
        self.detect_languages = tax.detect_languages
        self.examples = config.examples
        if self.examples:
            ex_tokens = tokenize([e.text for e in self.examples])
            self.example_vocab = pa.array(
                sorted(set(ex_tokens.values.to_pylist())), type=pa.string()
            )
            r, c = vocabulary_hits(ex_tokens, self.example_vocab, (1,))
            self.example_matrix = _binary(r, c, len(self.examples), len(self.example_vocab))

    def _signals(self, tokens: Tokens) -> _Signals:
        counts = self.flags.counts(tokens, N_FLAGS)
        flags = counts > 0
        topic_hits = self.topics.indicator(tokens, len(self.topic_ids))
        sarcasm = flags[:, SARCASM] | (flags[:, PRAISE] & flags[:, COMPLAINT])
        question = flags[:, QUESTION] | self._starts_with_question(tokens)
        return _Signals(counts, flags, topic_hits, sarcasm, question)

    def _design(
        self,
        s: _Signals,
        tokens: Tokens,
        fast_log_probs: np.ndarray,
        embedding: np.ndarray | None,
    ) -> Design:
        """The complaint heads' inputs: the rules' phrase hits as dense features."""
        negative = fast_log_probs.argmax(axis=1) == 0 if tokens.n else np.zeros(0, dtype=bool)
        positive = fast_log_probs.argmax(axis=1) == 2 if tokens.n else np.zeros(0, dtype=bool)
        # The heads' own topic phrases, not the brand's pack (``load_topic_phrases``).
        hits = self.head_topics.indicator(tokens, 2)
        problem = hits[:, PROBLEM]
        any_topic = hits.any(axis=1)
        rule = s.flags[:, COMPLAINT] | (any_topic & negative) | (problem & ~positive) | s.sarcasm
        rule &= ~s.flags[:, NOT_COMPLAINT]
        dense = np.column_stack(
            [
                np.minimum(s.counts[:, COMPLAINT], 3),
                s.flags[:, NOT_COMPLAINT],
                s.flags[:, PRAISE],
                s.sarcasm,
                s.question,
                problem,
                any_topic,
                s.flags[:, EMOJI_NEG],
                s.flags[:, EMOJI_POS],
                rule,
                fast_log_probs,
                np.log1p(tokens.lengths),
            ]
        ).astype(np.float32)
        return Design(tokens, dense.reshape(tokens.n, len(DENSE)), embedding)

    def design(
        self, tokens: Tokens, fast_log_probs: np.ndarray, embedding: np.ndarray | None = None
    ) -> Design:
        """The complaint heads' inputs for a batch (training and evaluation use this)."""
        return self._design(self._signals(tokens), tokens, fast_log_probs, embedding)

    def apply(
        self,
        texts: pa.StringArray,
        tokens: Tokens,
        log_probs: np.ndarray,
        *,
        fast_log_probs: np.ndarray | None = None,
        embedding: np.ndarray | None = None,
        known: pa.StringArray | None = None,
    ) -> LabelArrays:
        """Every label of a batch. ``log_probs`` decide sentiment; ``fast_log_probs`` (the fast
        model's, default ``log_probs``) and ``embedding`` (accurate path) feed the complaint
        head. ``known`` is each text's language where its platform detected it (null where
        not): only the others are guessed."""
        n = tokens.n
        s = self._signals(tokens)
        counts, flags, topic_hits, sarcasm = s.counts, s.flags, s.topic_hits, s.sarcasm
        fast_lp = log_probs if fast_log_probs is None else fast_log_probs
        sentiment = log_probs.argmax(axis=1).astype(np.int8) if n else np.zeros(0, dtype=np.int8)
        scores = np.exp(log_probs).astype(np.float32)
        # A sarcastic post means the opposite of its words: swap negative and positive.
        scores[sarcasm] = scores[sarcasm][:, ::-1]
        sentiment[sarcasm] = 0
        # No words: an empty post is neutral; emoji alone decide by their count.
        wordless = ~contains(texts, r"\pL")
        neg, pos = counts[:, EMOJI_NEG], counts[:, EMOJI_POS]
        sentiment[wordless] = 1
        sentiment[wordless & (neg > pos)] = 0
        sentiment[wordless & (pos > neg)] = 2
        onehot = np.eye(3, dtype=np.float32)[sentiment[wordless]]
        scores[wordless] = 0.8 * onehot + 0.2 / 3
        design = self._design(s, tokens, fast_lp, embedding)
        head = self.accurate_head if embedding is not None else self.fast_head
        if head is not None:
            complaint = decide(head, design) if n else np.zeros(0, dtype=bool)
        else:
            complaint = design.dense[:, DENSE.index("rule_complaint")] > 0
        # Emoji alone ("😡" at a brand) complain when they are negative.
        complaint |= wordless & (neg > pos)
        language = self._language(texts, tokens, known)
        # The heads learnt English; other languages keep the phrase rule (taxonomy.toml lists
        # complaint phrases in several).
        foreign = pc.and_(
            pc.is_valid(language), pc.not_equal(pc.fill_null(language, "en"), "en")
        ).to_numpy(zero_copy_only=False)
        if foreign.any():
            rule = design.dense[:, DENSE.index("rule_complaint")] > 0
            complaint = np.where(foreign, rule, complaint)
        # A brand's own phrases (config) decide outright: its words, its call.
        if self.forced is not None:
            forced = self.forced.counts(tokens, 2) > 0
            complaint = (complaint | forced[:, 0]) & ~forced[:, 1]
        question = s.question.copy()
        urgency = flags[:, URGENCY].copy()
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
        words, codes = tokens.distinct(1)  # each distinct token is tested once
        mention = pc.equal(words, "@user").to_numpy(zero_copy_only=False)
        starter = pc.is_in(words, value_set=self.starters).to_numpy(zero_copy_only=False)
        idx = np.flatnonzero(~mention[codes])
        rows = tokens.rows[idx]
        first = np.ones(len(idx), dtype=bool)  # rows ascend: a text's first non-mention
        first[1:] = rows[1:] != rows[:-1]
        out[rows[first]] = starter[codes[idx[first]]]
        return out

    def _language(
        self, texts: pa.StringArray, tokens: Tokens, known: pa.StringArray | None = None
    ) -> pa.StringArray:
        """``known`` where it is set; the guess (``_guess``) for the other texts only."""
        if known is None or known.null_count == len(known):
            return self._guess(texts, tokens)
        if known.null_count == 0:
            return known
        missing = pc.is_null(known)
        rows = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
        guessed = self._guess(texts.take(pa.array(rows)), take_tokens(tokens, rows))
        return pc.replace_with_mask(known, missing, guessed)

    def _guess(self, texts: pa.StringArray, tokens: Tokens) -> pa.StringArray:
        n = tokens.n
        letters = word_letters(texts)
        codes = np.full(n, -1, dtype=np.int64)
        names: list[str] = []
        # Only texts with non-Latin letters need the per-script counts.
        other = pc.count_substring_regex(texts, r"[^\P{L}\p{Latin}]").to_numpy(zero_copy_only=False)
        sel = np.flatnonzero((other > 0) & (letters > 0))
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
            base = len(names)
            names.extend(self.languages)
            counts = self.stopwords.counts(tokens, len(self.languages))
            english = self.languages.index("en") if "en" in self.languages else -1
            top = counts.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
            has = counts.max(axis=1) > 0 if n else np.zeros(0, dtype=bool)
            codes[latin & has] = base + top[latin & has]
            if english >= 0:
                # Ties go to English; so does Latin text with no stop words at all.
                en_wins = counts[:, english] >= counts.max(axis=1) if n else has
                codes[latin & (en_wins | ~has)] = base + english
            doubt = np.flatnonzero(in_doubt(texts, latin, counts, english, word_counts(tokens)))
            if len(doubt) and self.detect_languages:
                picks = identify(texts.take(pa.array(doubt)).to_pylist(), self.detect_languages)
                index = {name: i for i, name in enumerate(names)}
                for row, pick in zip(doubt, picks, strict=True):
                    if pick is None:
                        continue
                    if pick not in index:
                        index[pick] = len(names)
                        names.append(pick)
                    codes[row] = index[pick]
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
    from scipy import sparse  # only for a config's labelled examples (0.1-0.2 s to import)

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
