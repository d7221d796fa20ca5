"""
Active learning on SST-2: does ALLSH beat random at the paper's label count?
============================================================================

The README's main job. The paper's configuration, scaled to fit two CPU
cores: MiniLM fine-tuned at every iteration (the ``minilm-fast`` tier: the
bundled all-MiniLM-L6-v2, its top 2 layers trained for 200 steps on a
cached frozen trunk; :func:`allsh_sklearn.models.make_tier`), a pool of
10,000 SST-2 phrases, 0.1% of it labeled at random to start (10 labels),
then acquired by random sampling and by ALLSH (KL to one TF-IDF-replaced
copy) until the paper's own absolute count, 606 labels (its 1% of SST-2),
for 3 seeds. Each seed starts both strategies from the same initial set,
so the job ends with the paired difference ALLSH - random over the seeds
and its 95% confidence interval (:func:`allsh_sklearn.evaluation.paired_difference`).

What is scaled down to make it fit on 2 cores: the pool (10,000 of the
60,614 phrases), the batch (200 texts per query instead of the paper's 50,
so 3 queries instead of 12) and the seeds (3; ``--seeds 0 1 2 3 4`` for
the results page's 5). The whole job took 6 min 44 s on this 2-core
machine with nothing else running and an empty cache (the pool's trunk
outputs and copies made in the run; ``results/benchmarks/main_job_timing.txt``).
With these 3 seeds and batches of 200 it ended with ALLSH - random = -0.88
[-3.79, +2.03]: no difference detected. With the paper's batches of 50 and
5 seeds (``tools/run_paper_counts.sh sst2``, about 10 minutes of one core
per seed for the two strategies) ALLSH wins, +1.49 [+0.48, +2.50]: the
results page's opening table. The full-size tables are made by
``allsh-experiment`` (see the results page).

``--classifier tfidf-lr`` uses TF-IDF + logistic regression instead (a few
seconds per run). The loop is the library's
(:class:`~allsh_sklearn.loop.ActiveLearningSimulation` drives
:class:`~allsh_sklearn.loop.ActiveLearningLoop`) and the strategies are its
presets (:mod:`allsh_sklearn.presets`).

Run it with the data home pointing at the benchmark data::

    ALLSH_SKLEARN_DATA=../shared/data python examples/run_sst2_active_learning.py

Options shrink or change the run (``--help``).
"""

import argparse

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.evaluation import paired_difference
from allsh_sklearn.loop import ActiveLearningSimulation, LambdaCallback
from allsh_sklearn.models import make_tier
from allsh_sklearn.presets import make_strategy

#: Names on the command line and the presets they build.
STRATEGIES = {
    "random": "random",
    "entropy": "entropy",
    "allsh": "allsh",
    "wca": "allsh-wca",
}


def make_classifier():
    """TF-IDF features (unigrams and bigrams) + logistic regression."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )


def run_loop(name, seed, X_pool, y_pool, X_test, y_test, args, tier=None):
    """One active learning run; returns the learning curve and query times.

    ``tier`` (a prepared classifier tier) builds the classifier; None is
    TF-IDF + logistic regression.
    """

    def report(loop, record, **kwargs):
        if args.verbose and record.iteration:
            print(
                f"  {name:8s} seed {seed}  labeled {record.n_labeled:5d}  "
                f"accuracy {record.scores['score']:.4f}  "
                f"query {record.time['query']:.2f}s",
                flush=True,
            )

    if tier is None:
        classifier = make_classifier()
    else:
        classifier = tier.build(classes=np.unique(y_pool), random_state=seed)
    simulation = ActiveLearningSimulation(
        classifier,
        make_strategy(STRATEGIES[name], random_state=seed),
        initial_size=args.initial,
        batch_size=args.batch_size,
        budget=args.budget,
        random_state=seed,
        callbacks=[LambdaCallback(on_iteration_end=report)],
    ).fit(X_pool, y_pool, X_val=X_test, y_val=y_test)
    curve = simulation.learning_curve_
    points = list(zip(curve["n_labeled"].tolist(), curve["score"], strict=True))
    return points, simulation.query_times_["query"].tolist()


def _size(text):
    """'606' -> 606 labels; '0.01' or '1%' -> a fraction of the pool."""
    text = text.strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text) if "." in text else int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected a count (606), a fraction (0.01) or a percentage (1%); "
            f"got {text!r}"
        ) from error


def _describe(size):
    return f"{size} labels" if isinstance(size, int) else f"{size:.1%} of the pool"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--test-split", default="test")
    parser.add_argument(
        "--data-home",
        default=None,
        help="default: $ALLSH_SKLEARN_DATA or ~/allsh_sklearn_data",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=["random", "allsh"],
        choices=list(STRATEGIES),
        help="the first is the baseline of the paired differences "
        "(default: random allsh)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--initial",
        type=_size,
        default=0.001,
        help="initial labeled set: a count, or a fraction of the pool (default 0.1%%)",
    )
    parser.add_argument(
        "--budget",
        type=_size,
        default=606,
        help="labels at the end: a count, or a fraction of the pool "
        "(default 606, the paper's 1%% of SST-2)",
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--pool-size",
        type=int,
        default=10000,
        help="subsample the pool to this many texts (default 10000; 0: all)",
    )
    parser.add_argument(
        "--classifier",
        choices=["tfidf-lr", "minilm-fast"],
        default="minilm-fast",
        help="MiniLM fine-tuned at every iteration on a cached frozen trunk "
        "(default), or TF-IDF + logistic regression",
    )
    parser.add_argument(
        "--train-steps",
        type=int,
        default=None,
        help="optimisation steps per fit of minilm-fast (default: the tier's 200)",
    )
    parser.add_argument("--quiet", dest="verbose", action="store_false")
    args = parser.parse_args(argv)

    X_pool, y_pool = load_dataset(
        args.dataset,
        "train",
        data_home=args.data_home,
        return_X_y=True,
        n_samples=args.pool_size or None,
        random_state=0 if args.pool_size else None,
    )
    X_test, y_test = load_dataset(
        args.dataset, args.test_split, data_home=args.data_home, return_X_y=True
    )
    print(
        f"{args.dataset}: pool {len(X_pool)}, test {len(X_test)}; "
        f"{_describe(args.initial)} -> {_describe(args.budget)}, "
        f"{args.batch_size} per query, seeds {args.seeds}, {args.classifier}"
    )
    tier = None
    if args.classifier != "tfidf-lr":
        tier = make_tier(args.classifier, train_steps=args.train_steps)
        tier = tier.prepare(X_pool)
    results = {}
    for name in args.strategies:
        for seed in args.seeds:
            curve, seconds = run_loop(
                name, seed, X_pool, y_pool, X_test, y_test, args, tier
            )
            results.setdefault(name, []).append((curve, seconds))

    print("\nstrategy  final labeled  accuracy (mean ± std)  seconds/query")
    for name, runs in results.items():
        accuracies = np.array([curve[-1][1] for curve, _ in runs])
        seconds = np.mean([np.mean(s) for _, s in runs if s])
        print(
            f"{name:8s}  {runs[0][0][-1][0]:13d}  "
            f"{100 * accuracies.mean():6.2f} ± {100 * accuracies.std():4.2f}"
            f"          {seconds:6.2f}"
        )
    baseline, *others = args.strategies
    if others and len(args.seeds) >= 2:
        print(
            f"\nPaired difference from {baseline} in accuracy points, over "
            f"{len(args.seeds)} seeds sharing their initial sets (95% t CI):"
        )
        final = {
            name: {
                seed: 100 * curve[-1][1]
                for seed, (curve, _) in zip(args.seeds, runs, strict=True)
            }
            for name, runs in results.items()
        }
        for name in others:
            difference = paired_difference(final[name], final[baseline])
            print(f"  {name} - {baseline}: {difference.summary()}")
    return results


if __name__ == "__main__":
    main()
