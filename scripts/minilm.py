"""A BERT encoder in plain PyTorch, enough to fine-tune all-MiniLM-L6-v2 and export it to ONNX.

Training-time only (needs torch, the ``train`` extra). Written out here rather than taken
from ``transformers`` so the training machine and the export machine run the same code and
load the same Hugging Face state-dict keys (``embeddings.*``, ``encoder.layer.N.*``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

# all-MiniLM-L6-v2's config.json (nreimers/MiniLM-L6-H384-uncased).
CONFIG: dict[str, Any] = {
    "vocab_size": 30522,
    "hidden": 384,
    "layers": 6,
    "heads": 12,
    "intermediate": 1536,
    "max_positions": 512,
    "type_vocab": 2,
    "eps": 1e-12,
}
LABELS = ("negative", "neutral", "positive")


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, inter: int, eps: float, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.fc1 = nn.Linear(hidden, inter)
        self.fc2 = nn.Linear(inter, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        d = h // self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        att = self.drop(torch.softmax(att, dim=-1))
        ctx = torch.matmul(att, v).transpose(1, 2).reshape(b, t, h)
        x = self.ln1(x + self.drop(self.o(ctx)))
        ff = self.fc2(nn.functional.gelu(self.fc1(x)))
        return self.ln2(x + self.drop(ff))


class SentimentModel(nn.Module):
    """MiniLM encoder, mean pooling over real tokens, one linear layer to three classes."""

    def __init__(self, dropout: float = 0.1) -> None:
        super().__init__()
        c = CONFIG
        self.word = nn.Embedding(c["vocab_size"], c["hidden"])
        self.pos = nn.Embedding(c["max_positions"], c["hidden"])
        self.typ = nn.Embedding(c["type_vocab"], c["hidden"])
        self.ln = nn.LayerNorm(c["hidden"], eps=c["eps"])
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            Layer(c["hidden"], c["heads"], c["intermediate"], c["eps"], dropout)
            for _ in range(c["layers"])
        )
        self.head = nn.Linear(c["hidden"], len(LABELS))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        pos = torch.arange(t, device=ids.device).unsqueeze(0)
        x = self.word(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids))
        x = self.drop(self.ln(x))
        m = mask.to(x.dtype)
        bias = ((1.0 - m) * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(self.drop(pooled))


def hf_key_map() -> dict[str, str]:
    """Our parameter names -> the Hugging Face BertModel names in model.safetensors."""
    out = {
        "word.weight": "embeddings.word_embeddings.weight",
        "pos.weight": "embeddings.position_embeddings.weight",
        "typ.weight": "embeddings.token_type_embeddings.weight",
        "ln.weight": "embeddings.LayerNorm.weight",
        "ln.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "o": "attention.output.dense",
        "ln1": "attention.output.LayerNorm",
        "fc1": "intermediate.dense",
        "fc2": "output.dense",
        "ln2": "output.LayerNorm",
    }
    for i in range(CONFIG["layers"]):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                out[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    return out


def load_pretrained(model: SentimentModel, tensors: dict[str, torch.Tensor]) -> None:
    """Copy encoder weights from a Hugging Face state dict; the head stays freshly initialised."""
    state = model.state_dict()
    for ours, theirs in hf_key_map().items():
        state[ours] = tensors[theirs].to(torch.float32)
    model.load_state_dict(state)
