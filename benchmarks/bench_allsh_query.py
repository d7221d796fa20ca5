"""Per-query cost of ALLSH and WCA against entropy sampling, same pool.

Once a pool's augmented copies are cached (they do not depend on the model),
an ALLSH query costs its 1 + K prediction passes and nothing more. This
script measures, on the SST-2 pool with TF-IDF + logistic regression:

- entropy sampling (one prediction pass);
- ALLSH (K = 1) and WCA (K = 4): the first query, which augments the pool,
  and later queries, which reuse the cached copies;

and prints each time, its split (augmentation / inference / selection) and
its ratio to entropy next to the ideal ratio 1 + K.

    python benchmarks/bench_allsh_query.py --data-home ../shared/data
"""

import argparse
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.strategies import ALLSH, WCA_COPIES, EntropySampling


def timed_query(strategy, classifier, pool, n_instances, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        strategy(classifier, pool, n_instances, random_state=0)
        times.append((time.perf_counter() - start, dict(strategy.last_query_time_)))
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--pool-size", type=int, default=None, help="default: all")
    parser.add_argument("--n-labeled", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X, y = load_dataset("sst2", "train", data_home=args.data_home, return_X_y=True)
    rng = np.random.RandomState(0)
    labeled = rng.choice(len(X), args.n_labeled, replace=False)
    pool_indices = np.setdiff1d(np.arange(len(X)), labeled)
    if args.pool_size:
        pool_indices = pool_indices[: args.pool_size]
    pool = [X[i] for i in pool_indices]
    classifier = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    classifier.fit([X[i] for i in labeled], y[labeled])
    print(f"SST-2 pool of {len(pool)} texts, classifier fitted on {len(labeled)}")

    entropy = timed_query(EntropySampling(), classifier, pool, 50, args.repeats)
    entropy_seconds = np.median([t for t, _ in entropy])
    rows = [("entropy", "every query", entropy_seconds, entropy[-1][1], 1)]
    for name, strategy, k in [
        ("ALLSH", ALLSH(random_state=0), 1),
        ("WCA", ALLSH(n_augmentations=WCA_COPIES, worst_case=True, random_state=0),
         WCA_COPIES),
    ]:
        runs = timed_query(strategy, classifier, pool, 50, args.repeats + 1)
        rows.append((name, "first query", runs[0][0], runs[0][1], 1 + k))
        cached = np.median([t for t, _ in runs[1:]])
        rows.append((name, "cached copies", cached, runs[-1][1], 1 + k))

    print(
        f"\n{'strategy':9s} {'query':14s} {'seconds':>8s} {'augment':>8s} "
        f"{'infer':>7s} {'select':>7s} {'x entropy':>10s} {'ideal':>6s}"
    )
    for name, label, seconds, split, ideal in rows:
        print(
            f"{name:9s} {label:14s} {seconds:8.3f} "
            f"{split.get('augmentation', 0.0):8.3f} {split['inference']:7.3f} "
            f"{split['selection']:7.3f} {seconds / entropy_seconds:9.2f}x "
            f"{ideal:5d}x"
        )


if __name__ == "__main__":
    main()
