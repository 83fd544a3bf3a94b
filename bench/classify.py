"""Benchmark the understand stage: posts/s per core for the fast and accurate paths and VADER.

    python bench/classify.py                 # 20,000 posts fast, 1,000 accurate, 2,000 VADER
    python bench/classify.py --n 200000 --n-accurate 5000 --n-vader 20000   # the issue's size

Posts are generated from seeded templates (realistic complaint/praise/question mixes with
mentions, URLs, emoji); a second line times the same paths on real posts (the 5,000 TWCS
messages in ../shared/data, when present) and the accurate path's floor: the encoder alone,
one post per run and in padded batches, whose CPU per post bounds any path that runs it on
every post. Every path runs on one thread ("per core"); the accurate path is
also timed with two posts running at once (this machine's two cores, wall clock). Per-core
figures count CPU seconds of the one busy thread (process_time), so other work on a shared
machine does not distort them; the 2-thread figure is wall time. The inbox's sentence
encoder (``respond.clusters.TextVectors``, all-MiniLM-L6-v2 int8, one post per run) is timed
the same way, with its cache off, and given as CPU milliseconds per post. Prints two lines.
"""

from __future__ import annotations

import argparse
import os
import random
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pyarrow as pa

from uproar.errors import InputError
from uproar.respond.clusters import TextVectors
from uproar.understand import Classifier
from uproar.understand.accurate import AccurateSentiment
from uproar.understand.evaluate import find_data, read_twcs_texts, vader_predict
from uproar.understand.text import normalise

OPENERS = ["", "@acme ", "hey @acme ", "@acme_help @acme ", "RT @someone: "]
BODIES = [
    "internet down again in {city}, {n} hours now",
    "great job, {nth} outage this week",
    "is anyone else's wifi dropping every few minutes?",
    "charged twice on my bill this month, want a refund",
    "thanks for fixing it so quickly, the engineer was lovely",
    "my flight to {city} was cancelled and my bag is lost",
    "speeds are {n} mbps when I pay for 500. sort it out",
    "when will the outage in {city} be fixed? no eta on the status page",
    "love the new app, much easier to pay",
    "on hold for {n} minutes, customer service is useless",
    "my mum's medical alarm needs the landline and it's been dead since {n}am",
    "no signal at all, phone says sos only",
    "tv box lost all channels, picture keeps freezing",
    "happy friday everyone, off to {city} for the weekend",
]
CLOSERS = ["", " 😡", " 🙄", " #fail", " https://t.co/abc{n}", "!!", " 👍", "?"]
CITIES = ["Leeds", "Bristol", "Cardiff", "Glasgow", "Lisbon", "Dublin", "Manchester"]


def make_posts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body = rng.choice(BODIES).format(
            city=rng.choice(CITIES), n=rng.randint(2, 90), nth=rng.choice(["third", "fourth"])
        )
        out.append(rng.choice(OPENERS) + body + rng.choice(CLOSERS).format(n=rng.randint(0, 999)))
    return out


def rate(fn: object, texts: list[str], repeat: int = 1, *, cpu: bool = True) -> float:
    """Posts per second; ``cpu`` counts this process's CPU seconds, which on a shared,
    busy machine measures a single-threaded path's cost per core better than wall time."""
    clock = time.process_time if cpu else time.perf_counter
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn(texts)  # type: ignore[operator]
        best = min(best, clock() - t0)
    return len(texts) / best


def accurate_rates(texts: list[str], warm: int) -> tuple[float, float]:
    """The accurate path's posts/s on one core (CPU) and on 2 threads (wall), each warmed
    up on the first ``warm`` texts."""
    one, two = Classifier("accurate", threads=1), Classifier("accurate", threads=2)
    one.arrays(texts[:warm])
    two.arrays(texts[:64])
    return rate(one.arrays, texts), rate(two.arrays, texts, cpu=False)


def encoder_ms(enc: AccurateSentiment, texts: list[str], batch: int) -> float:
    """CPU milliseconds per post of the accurate encoder alone on one thread: one post per
    run (``batch`` 1, as the path runs it) or length-sorted padded batches."""
    ids = [e.ids for e in enc.tokenizer.encode_batch([normalise(t) for t in texts])]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    names = ["logits", "complaint_embedding"]
    t0 = time.process_time()
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        width = max(len(ids[i]) for i in rows)
        x = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(x)
        for j, i in enumerate(rows):
            x[j, : len(ids[i])] = ids[i]
            mask[j, : len(ids[i])] = 1
        enc.session.run(names, {"input_ids": x, "attention_mask": mask})
    return (time.process_time() - t0) / len(texts) * 1e3


def real_posts(n: int) -> list[str]:
    """Up to ``n`` real TWCS messages (customers and agents), or none without the data."""
    try:
        texts = list(read_twcs_texts(find_data()).values())
    except InputError:
        return []
    return [t for t in texts if t and t.strip()][:n]


def real_line(fast: Classifier, n_accurate: int) -> str:
    posts = real_posts(5_000)
    if not posts:
        return "real posts: ../shared/data not found, skipped"
    fast_rate = rate(lambda t: fast.arrays(pa.array(t)), posts, repeat=3)
    sample = posts[:n_accurate]
    acc1_rate, acc2_rate = accurate_rates(sample, warm=200)  # Lingua's models load too
    enc = AccurateSentiment(threads=1)
    one, batched = encoder_ms(enc, sample, 1), encoder_ms(enc, sample, 32)
    ceiling = 2 * 1e3 / min(one, batched)
    return (
        f"real posts (TWCS, {len(posts)}): fast {fast_rate:,.0f} posts/s/core; "
        f"accurate {acc1_rate:,.0f} posts/s/core, {acc2_rate:,.0f} posts/s on 2 threads; "
        f"encoder alone {one:.2f} ms CPU/post one per run, {batched:.2f} in batches of 32: "
        f"at most {ceiling:,.0f} posts/s on 2 cores for any path that encodes every post "
        f"(the 2-thread path reaches {acc2_rate / ceiling:.0%} of it)"
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=20_000, help="posts for the fast path")
    p.add_argument("--n-accurate", type=int, default=1_000)
    p.add_argument("--n-vader", type=int, default=2_000)
    p.add_argument("--n-encoder", type=int, default=500, help="posts for the sentence encoder")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    posts = make_posts(args.n, args.seed)
    fast = Classifier("fast")
    fast.arrays(posts[:1000])  # warm-up
    fast_rate = rate(lambda t: fast.arrays(pa.array(t)), posts, repeat=3)
    acc1_rate, acc2_rate = accurate_rates(posts[: args.n_accurate], warm=64)
    vader_rate = rate(vader_predict, posts[: args.n_vader])
    enc1, enc2 = TextVectors(threads=1, cache=0), TextVectors(threads=2, cache=0)
    enc1.encode(posts[:32])
    enc1_rate = rate(enc1.encode, posts[: args.n_encoder])
    enc2_rate = rate(enc2.encode, posts[: args.n_encoder], cpu=False)
    print(
        f"classify: {args.n} posts; fast {fast_rate:,.0f} posts/s/core "
        f"({fast_rate / vader_rate:.1f}x VADER); "
        f"accurate {acc1_rate:,.0f} posts/s/core, {acc2_rate:,.0f} posts/s on 2 threads "
        f"({acc1_rate / vader_rate:.2f}x VADER per core); VADER {vader_rate:,.0f} posts/s/core; "
        f"inbox sentence encoder {1000 / enc1_rate:.1f} ms CPU/post, "
        f"{enc2_rate:,.0f} posts/s on 2 threads"
    )
    print(real_line(fast, args.n_accurate))


if __name__ == "__main__":
    main()
