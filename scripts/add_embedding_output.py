"""Expose the MiniLM's mean-pooled sentence vector as a second ONNX output, ``embedding``.

    python scripts/add_embedding_output.py    # rewrites models/sentiment-minilm.int8.onnx in place

The complaint head (``uproar.understand.complaint``) reads this 384-float vector, the input of
the sentiment head, so one encoder run per post gives sentiment and complaint. The logits are
untouched: the rewritten model scores sentiment exactly as before. Needs ``onnx`` (the
``train`` extra); idempotent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "src" / "uproar" / "understand" / "models" / "sentiment-minilm.int8.onnx"
POOLED = "/Div_output_0"  # mean pooling over real tokens (scripts/minilm.py, SentimentModel)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default=str(MODEL))
    args = p.parse_args()
    model = onnx.load(args.model)
    graph = model.graph
    if any(o.name == "embedding" for o in graph.output):
        print("already has an embedding output")
        return
    if not any(POOLED in n.output for n in graph.node):
        raise SystemExit(f"no node writes {POOLED}: not the model scripts/minilm.py exports")
    graph.node.append(helper.make_node("Identity", [POOLED], ["embedding"], name="embedding"))
    graph.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["b", 384]))
    onnx.checker.check_model(model)
    onnx.save(model, args.model)
    print(f"added output 'embedding' to {args.model}")


if __name__ == "__main__":
    main()
