"""The accurate sentiment path: fine-tuned MiniLM-L6, int8 ONNX, run with onnxruntime.

The model, its tokenizer and its metadata ship in ``uproar/understand/models`` and are
made by ``scripts/train_accurate.py`` from ../shared/data. Nothing is downloaded: the files
are read with importlib.resources and onnxruntime runs on the CPU.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

import numpy as np

from uproar.errors import ModelError
from uproar.understand.complaint import EMBEDDING
from uproar.understand.fast import FastSentiment, log_softmax
from uproar.understand.features import Tokens, tokenize
from uproar.understand.text import normalise

MODEL = "sentiment-minilm"


class AccurateSentiment:
    """Batch sentiment scorer. ``threads`` is how many posts run at once (0: one per core);
    ``fast`` is a loaded fast model to blend with (loaded on first need when not given).
    Each post's scores depend on that post alone, never on the rest of the batch."""

    def __init__(self, *, threads: int = 0, fast: FastSentiment | None = None) -> None:
        if threads < 0:
            raise ModelError(f"threads must be >= 0 (0 = one per core), got {threads}")
        self.threads = threads or os.cpu_count() or 1
        from tokenizers import Tokenizer

        base = resources.files("uproar.understand") / "models"
        try:
            meta = json.loads((base / f"{MODEL}.json").read_text(encoding="utf-8"))
            tok_json = (base / f"{MODEL}.tokenizer.json").read_text(encoding="utf-8")
            onnx_bytes = (base / f"{MODEL}.int8.onnx").read_bytes()
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise ModelError(f"accurate model files missing or unreadable: {exc}") from exc
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self.bias = np.asarray(meta["bias"], dtype=np.float32)
        # Weight of the fast model's log-probabilities in the blend (chosen on val).
        self.fast_weight = float(meta.get("fast_weight", 0.0))
        self._fast = fast
        self.tokenizer = Tokenizer.from_str(tok_json)
        self.tokenizer.enable_truncation(int(meta["max_len"]))
        self.tokenizer.no_padding()
        # One post per run, one thread per run: int8 dynamic quantisation scales activations
        # per tensor, so posts batched together would move each other's probabilities.
        # Parallelism comes from concurrent runs (onnxruntime releases the GIL).
        self.session = one_thread_session(onnx_bytes, f"{MODEL}.int8.onnx")

    def log_probs(
        self,
        texts: Sequence[str],
        tokens: Tokens | None = None,
        fast_log_probs: np.ndarray | None = None,
    ) -> np.ndarray:
        """Calibrated log-probabilities, shape (n, 3), in ``self.labels`` order. ``tokens``
        (``features.tokenize`` of ``texts``) or ``fast_log_probs`` spare the fast blend
        its work."""
        return self.encode(texts, tokens, fast_log_probs)[0]

    def encode(
        self,
        texts: Sequence[str],
        tokens: Tokens | None = None,
        fast_log_probs: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sentiment log-probabilities (n, 3) and the encoder's layer-4 mean-pooled sentence
        vectors (n, 384, the complaint head's input: ``complaint_embedding``, added by
        scripts/add_embedding_output.py), from one encoder run per post."""
        n = len(texts)
        if n == 0:
            return (
                np.zeros((0, len(self.labels)), dtype=np.float32),
                np.zeros((0, EMBEDDING), dtype=np.float32),
            )
        encs = self.tokenizer.encode_batch([normalise(t) for t in texts])
        if self.threads == 1 or n == 1:
            runs = [self._run(e.ids) for e in encs]
        else:
            with ThreadPoolExecutor(min(self.threads, n)) as pool:
                runs = list(pool.map(self._run, (e.ids for e in encs)))
        logits = np.stack([r[0] for r in runs]).astype(np.float32)
        embedding = np.stack([r[1] for r in runs]).astype(np.float32)
        out: np.ndarray = log_softmax(logits) + self.bias
        if self.fast_weight:
            if fast_log_probs is None:
                if self._fast is None:
                    self._fast = FastSentiment()
                if tokens is None:
                    tokens = tokenize(list(texts))
                fast_log_probs = self._fast.log_probs_tokens(tokens)
            out = out + self.fast_weight * fast_log_probs
        return log_softmax(out), embedding

    def _run(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": x, "attention_mask": np.ones_like(x)}
        logits, embedding = self.session.run(["logits", "complaint_embedding"], feeds)
        return logits[0], embedding[0]

    def info(self) -> dict[str, Any]:
        return {"model": MODEL, "labels": list(self.labels), "bias": self.bias.tolist()}


def one_thread_session(onnx_bytes: bytes, name: str) -> Any:
    """An onnxruntime CPU session that runs each call on one thread (callers run posts
    concurrently, one per core); ``name`` names the model in the error."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(
            onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load {name}: {exc}") from exc
