"""Pool inference throughput: TransformerClassifier against a plain loop.

Both score the same SST-2 texts with the same model (the bundled
all-MiniLM-L6-v2 with a freshly initialised 2-class head, the whole model in
float32: ``trainable_layers=None, precision="float32"``), in the same
process, with the same batch size:

- ``TransformerClassifier.predict_proba``: texts tokenised once per chunk,
  batches of similar length padded to their own longest text (dynamic
  padding), :func:`torch.inference_mode`, order restored afterwards;
- a plain transformers loop: the usual ``tokenizer(batch, padding=
  "max_length", max_length=128, truncation=True)`` in input order, under
  :func:`torch.no_grad`.

The script prints texts per second for both, their ratio, and the largest
difference between the two probability arrays (padding is masked, so they
agree to float precision).

Run::

    python benchmarks/bench_inference.py                  # 2,000 SST-2 texts
    python benchmarks/bench_inference.py --n-texts 500 --threads 1
"""

import argparse
import time

import numpy as np
import torch

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.models import TransformerClassifier


def plain_loop(module, tokenizer, texts, batch_size, max_length):
    """Score ``texts`` the straightforward way: fixed-length padding, no sorting."""
    module.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size],
                padding="max_length",
                max_length=max_length,
                truncation=True,
                return_tensors="pt",
            )
            logits = module(**batch).logits
            outputs.append(torch.softmax(logits.double(), dim=-1).numpy())
    return np.concatenate(outputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-texts", type=int, default=2000)
    parser.add_argument("--split", default="train", help="SST-2 split to sample")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    texts, _ = load_dataset(
        "sst2", split=args.split, data_home=args.data_home, return_X_y=True,
        n_samples=args.n_texts, random_state=args.seed,
    )
    texts = list(texts)
    clf = TransformerClassifier(
        # load the model and a fresh head, no training; the whole model in
        # float32, as the plain loop runs it
        train_steps=None,
        max_epochs=0,
        trainable_layers=None,
        precision="float32",
        max_length=args.max_length,
        inference_batch_size=args.batch_size,
        random_state=args.seed,
    ).fit(texts[:2], [0, 1])
    lengths = [len(ids) for ids in clf.tokenizer_(texts)["input_ids"]]
    print(f"{len(texts)} SST-2 texts ({args.split}), tokens per text: mean "
          f"{np.mean(lengths):.1f}, median {np.median(lengths):.0f}, max "
          f"{max(lengths)}; batch {args.batch_size}, max_length {args.max_length}, "
          f"torch threads {torch.get_num_threads()}")

    # warm up both paths on a few texts
    clf.predict_proba(texts[:32])
    plain_loop(clf.module_, clf.tokenizer_, texts[:32], args.batch_size,
               args.max_length)

    start = time.perf_counter()
    ours = clf.predict_proba(texts)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    plain = plain_loop(clf.module_, clf.tokenizer_, texts, args.batch_size,
                       args.max_length)
    plain_seconds = time.perf_counter() - start

    ours_rate = len(texts) / ours_seconds
    plain_rate = len(texts) / plain_seconds
    print(f"TransformerClassifier.predict_proba: {ours_rate:8.1f} texts/s "
          f"({ours_seconds:.1f} s)")
    print(f"plain loop, padded to {args.max_length}:    {plain_rate:8.1f} texts/s "
          f"({plain_seconds:.1f} s)")
    print(f"speed-up: {ours_rate / plain_rate:.2f}x")
    print(f"max |proba difference|: {np.abs(ours - plain).max():.2e}")


if __name__ == "__main__":
    main()
