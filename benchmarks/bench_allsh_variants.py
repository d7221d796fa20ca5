"""Per-query cost of ALLSH's variants, as a ratio to plain ALLSH, side by side.

Each variant is ``ALLSH(**params)`` with one option set (issue 13), and
the mean over K = 4 copies (``n_augmentations=4``), alone and with the
diverse batches: four model passes on copies instead of one. One
query selects 50 items from the pool with a classifier fitted on 100
labels; the copies are augmented and cached by a warm-up query, so the
timed queries cost what an active learning loop pays at every iteration
after the first: the model passes on the pool and on its copies, and the
selection. The variants are timed in turn, round after round (side by
side, under the same machine load), and the median of each is divided by
plain ALLSH's. The median over the rounds of the ratio within a round
(each variant against the plain query of the same round, a few seconds
apart) is printed too: a load that comes and goes weighs less on it. Target:
at most 1.2x.

Classifiers: ``tfidf-lr`` (TF-IDF fitted on the pool + logistic regression);
with ``--minilm``, ``minilm-frozen`` (frozen MiniLM embeddings, cached on
disk, + logistic regression): the cheapest model passes there are, so the
ratio is the largest the selection can make it; with ``--fine-tuned``,
``minilm-fast`` (the runner's tier for the paper's configuration: MiniLM's
top 2 layers fine-tuned on a cached frozen trunk, 200 steps, fitted once
here on the labels), where the model passes dominate. The fine-tuned tier
times the options with one copy only (``FINE_TUNED_VARIANTS``): the mean
over 4 copies makes four passes on copies instead of one, whose cost the
two other tiers already show.

Run from the repository root::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/bench_allsh_variants.py --pool-size 10000 \\
        --rounds 7 [--minilm] [--fine-tuned]

The header of each table gives the BLAS threads in use. On a machine whose
cores are busy with other work, two BLAS threads made the dense products
slower, not faster (frozen MiniLM's k-means++ seeding multiplies the pool's
embeddings by a vector once per centre: 40 ms per query with one thread,
90 ms with two, both cores busy), so ratios are only comparable at the same
setting.

Without the data sets (``--synthetic``) a synthetic pool of short texts is
used.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

from allsh_sklearn.augment import MemoryAugmentationCache, TfidfAugmenter
from allsh_sklearn.datasets import make_word_sentiment
from allsh_sklearn.strategies import ALLSH

VARIANTS = {
    "plain (paper)": {},
    "balance=uniform": {"balance": "uniform"},
    "score=product": {"score": "product"},
    "score=rank_mean": {"score": "rank_mean"},
    "score=entropy_ratio": {"score": "entropy_ratio"},
    "score=per_change": {"score": "per_change"},
    "batch=kmeans": {"batch": "kmeans"},
    "batch=copy_gradient": {"batch": "copy_gradient"},
    "batch=scaled_badge": {"batch": "scaled_badge"},
    "batch=scaled_badge, score=rank_mean": {
        "batch": "scaled_badge",
        "score": "rank_mean",
    },
    "K=4 mean": {"n_augmentations": 4},
    "K=4 mean, batch=copy_gradient": {"n_augmentations": 4, "batch": "copy_gradient"},
    "K=4 mean, batch=scaled_badge": {"n_augmentations": 4, "batch": "scaled_badge"},
}

#: The variants timed with the fine-tuned tier (one copy each).
FINE_TUNED_VARIANTS = [
    label for label, params in VARIANTS.items() if "n_augmentations" not in params
]


def _load(args):
    if args.synthetic:
        return make_word_sentiment(
            args.pool_size, n_filler_words=400, max_filler=20, random_state=0
        )
    from allsh_sklearn.datasets import load_dataset

    X, y = load_dataset("sst2", "train", data_home=args.data_home, return_X_y=True)
    chosen = np.random.RandomState(0).choice(len(y), args.pool_size, replace=False)
    return [X[i] for i in chosen], np.asarray(y)[chosen]


def _classifiers(X, y, args):
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(X)
    yield (
        "tfidf-lr",
        Pipeline([("tfidf", tfidf), ("lr", LogisticRegression(C=100, max_iter=2000))]),
        "tfidf",
        list(VARIANTS),
    )
    if args.minilm:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from allsh_sklearn.models import SentenceEncoder
            from allsh_sklearn.utils._cache_home import get_cache_home

        encoder = SentenceEncoder(cache_dir=str(get_cache_home())).fit(X)
        encoder.transform(X)  # cached on disk after the first run
        yield (
            "minilm-frozen",
            Pipeline([("encoder", encoder), ("lr", LogisticRegression(max_iter=2000))]),
            "encoder",
            list(VARIANTS),
        )
    if args.fine_tuned:
        from allsh_sklearn.models import make_tier

        tier = make_tier("minilm-fast").prepare(X)
        classifier = tier.build(classes=np.unique(y), random_state=0)
        yield "minilm-fast", classifier, tier.embedding, FINE_TUNED_VARIANTS


def _blas_threads():
    """The thread counts of the BLAS libraries loaded (``"?"`` if none)."""
    counts = sorted(
        {
            str(info["num_threads"])
            for info in threadpool_info()
            if info["user_api"] == "blas"
        }
    )
    return "/".join(counts) or "?"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool-size", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--minilm", action="store_true")
    parser.add_argument("--fine-tuned", action="store_true")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    X, y = _load(args)
    rng = np.random.RandomState(0)
    labeled = rng.choice(len(y), args.labels, replace=False)
    pool = np.setdiff1d(np.arange(len(y)), labeled)
    X_pool = [X[i] for i in pool]
    augmenter = TfidfAugmenter(random_state=0).fit(X_pool)
    cache = MemoryAugmentationCache()
    for name, classifier, step, labels in _classifiers(X, y, args):
        classifier.fit([X[i] for i in labeled], y[labeled])
        strategies = {
            label: ALLSH(
                augmenter=augmenter,
                cache=cache,
                random_state=0,
                **({"embedding": step} if step and "batch" in params else {}),
                **params,
            )
            for label, params in ((label, VARIANTS[label]) for label in labels)
        }
        for strategy in strategies.values():  # warm-up: copies, caches
            strategy(classifier, X_pool, args.batch, random_state=0)
        seconds = {label: [] for label in strategies}
        for round_ in range(args.rounds):
            for label, strategy in strategies.items():
                started = time.perf_counter()
                strategy(classifier, X_pool, args.batch, random_state=round_)
                seconds[label].append(time.perf_counter() - started)
        plain = np.asarray(seconds["plain (paper)"])
        base = np.median(plain)
        print(
            f"\n{name}: pool {len(X_pool)}, batch {args.batch}, {args.labels} labels, "
            f"median of {args.rounds} queries per variant, BLAS threads "
            f"{_blas_threads()}\n"
        )
        print(
            "| variant | seconds per query | ratio to plain ALLSH | "
            "median of the per-round ratios |"
        )
        print("|---|---|---|---|")
        for label, values in seconds.items():
            median = np.median(values)
            print(
                f"| {label} | {median:.3f} | {median / base:.2f}x | "
                f"{np.median(np.asarray(values) / plain):.2f}x |"
            )


if __name__ == "__main__":
    main()
