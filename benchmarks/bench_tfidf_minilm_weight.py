"""The weight of the MiniLM embedding beside the TF-IDF row (``"tfidf-minilm"``).

The ``"tfidf-minilm"`` tier puts the unit-norm TF-IDF row of
``"tfidf-lr-20k"`` beside the unit-norm frozen MiniLM embedding, times a
weight, and fits one logistic regression (``C = 100``). This script checks
that weight on **training splits only** (no test text is read): per
dataset, 2,400 training texts drawn with a fixed seed, models fitted on
the first 200 and on the first 800 of them and scored on the last 1,200;
it prints the mean accuracy of the two fits for each weight beside the
two tiers the combination is made of. The tier uses one weight for every
dataset.

Run from the repository root::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/bench_tfidf_minilm_weight.py
"""

import argparse

import numpy as np
from _common import default_data_home

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.models import make_tier
from allsh_sklearn.models._tiers import TfidfEncoderTier
from allsh_sklearn.utils import get_cache_home

WEIGHTS = (0.1, 0.3, 1.0, 3.0)
DATASETS = ("sst2", "ag_news", "trec")


def held_out_accuracy(tier, X, y, sizes=(200, 800), n_held_out=1200):
    """Mean accuracy on the last ``n_held_out`` texts of fits on the first ``sizes``."""
    X_held_out, y_held_out = X[-n_held_out:], y[-n_held_out:]
    scores = []
    for size in sizes:
        model = tier.build(classes=np.unique(y)).fit(X[:size], y[:size])
        scores.append(np.mean(model.predict(X_held_out) == y_held_out))
    return float(np.mean(scores))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--n-texts", type=int, default=2400)
    args = parser.parse_args(argv)
    cache_dir = get_cache_home(None)
    header = ["tfidf-lr-20k", "minilm-frozen", *(f"w={w:g}" for w in WEIGHTS)]
    print("mean held-out accuracy of fits on 200 and 800 training texts")
    print(f"{'dataset':10s}" + "".join(f"{name:>15s}" for name in header))
    for dataset in args.datasets:
        X, y = load_dataset(dataset, "train", data_home=args.data_home, return_X_y=True)
        chosen = np.random.RandomState(1).permutation(len(y))[: args.n_texts]
        texts = list(X)
        X, y = [texts[i] for i in chosen], np.asarray(y)[chosen]
        row = []
        for name in ("tfidf-lr-20k", "minilm-frozen"):
            tier = make_tier(name, cache_dir=cache_dir).prepare(X)
            row.append(held_out_accuracy(tier, X, y))
        for weight in WEIGHTS:
            tier = make_tier("tfidf-minilm", cache_dir=cache_dir)
            tier.encoder_weight = weight  # this tier only, not the class
            tier.prepare(X)
            row.append(held_out_accuracy(tier, X, y))
        print(f"{dataset:10s}" + "".join(f"{v:15.3f}" for v in row), flush=True)
    print(f"the tier's weight: {TfidfEncoderTier.encoder_weight:g}")


if __name__ == "__main__":
    main()
