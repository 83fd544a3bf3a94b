"""The accurate sentiment path: fine-tuned MiniLM-L6, int8 ONNX, run with onnxruntime.

The model, its tokenizer and its metadata ship in ``uproar/understand/models`` and are
made by ``scripts/train_accurate.py`` from ../shared/data. Nothing is downloaded: the files
are read with importlib.resources and onnxruntime runs on the CPU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from uproar.errors import ModelError
from uproar.understand.fast import FastSentiment, log_softmax
from uproar.understand.features import Tokens, tokenize
from uproar.understand.text import normalise

MODEL = "sentiment-minilm"


class AccurateSentiment:
    """Batch sentiment scorer. ``threads`` caps onnxruntime's intra-op threads; ``fast``
    is a loaded fast model to blend with (loaded on first need when not given)."""

    def __init__(
        self, *, threads: int = 0, batch_size: int = 64, fast: FastSentiment | None = None
    ) -> None:
        if threads < 0:
            raise ModelError(f"threads must be >= 0 (0 = onnxruntime's default), got {threads}")
        if batch_size < 1:
            raise ModelError(f"batch_size must be >= 1, got {batch_size}")
        self.threads = threads
        self.batch_size = batch_size
        import onnxruntime as ort
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
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load {MODEL}.int8.onnx: {exc}") from exc

    def log_probs(self, texts: Sequence[str], tokens: Tokens | None = None) -> np.ndarray:
        """Calibrated log-probabilities, shape (n, 3), in ``self.labels`` order. ``tokens``
        (``features.tokenize`` of ``texts``) spares the fast blend tokenizing again."""
        n = len(texts)
        out: np.ndarray = np.zeros((n, len(self.labels)), dtype=np.float32)
        if n == 0:
            return out
        encs = self.tokenizer.encode_batch([normalise(t) for t in texts])
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=n)
        # Length-bucketed batching: similar lengths together, so little padding is computed.
        order = np.argsort(lengths, kind="stable")
        for start in range(0, n, self.batch_size):
            sel = order[start : start + self.batch_size]
            width = int(lengths[sel].max())
            ids = np.zeros((len(sel), width), dtype=np.int64)
            mask = np.zeros((len(sel), width), dtype=np.int64)
            for row, i in enumerate(sel):
                e = encs[int(i)].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            logits = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
            out[sel] = log_softmax(np.asarray(logits, dtype=np.float32))
        out = out + self.bias
        if self.fast_weight:
            if self._fast is None:
                self._fast = FastSentiment()
            if tokens is None:
                tokens = tokenize(list(texts))
            out = out + self.fast_weight * self._fast.log_probs_tokens(tokens)
        return log_softmax(out)

    def info(self) -> dict[str, Any]:
        return {"model": MODEL, "labels": list(self.labels), "bias": self.bias.tolist()}
