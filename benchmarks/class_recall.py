"""Per-class recall of a defaults-benchmark task: which class is below 0.5.

For one task of ``bench_session_defaults.py`` (by default ``long-8``),
prints the recall of every class on the task's test set

- of a classifier tier trained on every text of the pool (all labels
  known: what the model can reach on that class), and
- at the end of an active learning run of a tier and a strategy (the
  benchmark's run, same seeds), with the class counts it labeled.

Run::

    python benchmarks/class_recall.py                      # long-8, the default
    python benchmarks/class_recall.py --task long-8 \\
        --classifier tfidf-lr-20k-balanced --strategy margin --seed 0 --budget 800
"""

import argparse
import tempfile

import numpy as np
from _common import default_data_home
from bench_session_defaults import Benchmark, load_task
from sklearn.metrics import recall_score

from allsh_sklearn.models import make_tier
from allsh_sklearn.session import DEFAULT_CLASSIFIER, DEFAULT_STRATEGY


def recall_by_class(y_true, y_pred, classes):
    """``{class: recall}`` on the given classes."""
    values = recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {str(c): float(v) for c, v in zip(classes, values, strict=True)}


def _print(title, recalls, counts=None):
    print(title)
    for name, value in sorted(recalls.items(), key=lambda item: item[1]):
        extra = f"  ({counts[name]} labeled)" if counts else ""
        print(f"  {name:<20} {value:.3f}{extra}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="long-8")
    parser.add_argument("--classifier", default=DEFAULT_CLASSIFIER)
    parser.add_argument("--strategy", default=DEFAULT_STRATEGY)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=800)
    parser.add_argument("--data-home", default=default_data_home())
    args = parser.parse_args(argv)

    X, y, X_test, y_test, max_length = load_task(args.task, data_home=args.data_home)
    classes = np.unique(y)
    tier = make_tier(args.classifier, max_length=max_length).prepare(X)
    model = tier.build(classes=classes, random_state=0).fit(X, y)
    _print(
        f"{args.task}, {args.classifier} trained on all {len(y)} pool texts:",
        recall_by_class(y_test, model.predict(X_test), classes),
    )

    with tempfile.TemporaryDirectory() as folder:  # simulate() records nothing
        bench = Benchmark(folder, data_home=args.data_home, budget=args.budget)
        record, final_model = bench.simulate(
            args.task, args.classifier, args.strategy, args.seed
        )
    _print(
        f"{args.task}, {args.classifier} + {args.strategy}, seed {args.seed}, "
        f"after {args.budget} labels (macro-F1 {record['curve'][-1]['macro_f1']:.3f}):",
        recall_by_class(y_test, final_model.predict(X_test), classes),
        record["labeled_class_counts"],
    )


if __name__ == "__main__":
    main()
