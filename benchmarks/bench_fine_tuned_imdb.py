"""Speed of the fine-tuned tier (``minilm-fast``) on IMDB reviews at 256 tokens.

Times, on one sample of IMDB's training reviews, the three pieces an active
learning run with the runner's ``minilm-fast`` tier is made of:

- one training of the tier's 200 steps on ``--labels`` reviews;
- a first prediction on ``--texts`` other reviews, which runs the frozen
  trunk (embeddings and bottom 4 layers) and caches its output;
- a second prediction on the same reviews, the top 2 layers on the cached
  trunk: what every query after the first costs per text.

It prints the figures and the run time they imply for the runner's
IMDB setting (pool of 10,000, queries to 5%), from which the results
page estimates the cost of the fine-tuned IMDB table.

Run from the repository root::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/bench_fine_tuned_imdb.py
"""

import argparse
import time

import numpy as np

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.models import make_tier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=30)
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    X, y = load_dataset("imdb", "train", data_home=args.data_home, return_X_y=True)
    chosen = np.random.RandomState(0).choice(
        len(y), args.labels + args.texts, replace=False
    )
    texts = [X[i] for i in chosen]
    labels = np.asarray(y)[chosen]
    tier = make_tier("minilm-fast", max_length=256).prepare(texts)
    model = tier.build(classes=np.unique(y), random_state=0)

    started = time.perf_counter()
    model.fit(texts[: args.labels], labels[: args.labels])
    training = time.perf_counter() - started
    unlabeled = texts[args.labels :]
    started = time.perf_counter()
    model.predict_proba(unlabeled)
    first = time.perf_counter() - started
    started = time.perf_counter()
    model.predict_proba(unlabeled)
    cached = time.perf_counter() - started

    n = len(unlabeled)
    trunk_rate = n / (first - cached)
    top_rate = n / cached
    print(f"training (200 steps, {args.labels} reviews): {training:.0f} s")
    print(f"frozen trunk: {trunk_rate:.1f} reviews/s")
    print(f"top layers on the cached trunk: {top_rate:.1f} reviews/s")
    # The runner's ALLSH run on IMDB: a pool of 10,000 and one copy each,
    # 11 trainings and 10 queries over the pool and its copies.
    trunk = 20_000 / trunk_rate
    queries = 10 * 2 * 9_900 / top_rate
    print(
        "ALLSH run to 5% of a 10,000 pool (estimate): "
        f"trunk {trunk / 60:.0f} min, 11 trainings {11 * training / 60:.0f} min, "
        f"10 queries {queries / 60:.0f} min"
    )


if __name__ == "__main__":
    main()
