"""How much ALLSH's picks depend on the draw of the copies (issue 29, item 4).

For one classifier tier, task pool and trained model, the augmented copies
of the pool are drawn ``--draws`` times (2 by default), independently
(TF-IDF augmenters, UDA's procedure, p = 0.3, seeds ``seed + 1``,
``seed + 2``, ..., 8 copies each), and every estimator of the local
sensitivity scores the pool from each draw:

- the paper's score, KL to one copy (K = 1, ``allsh``);
- WCA, the largest KL over K = 4 copies (``allsh-wca``);
- the mean KL over K = 8 copies (``allsh:K=8``, for reference);
- KL to the mean prediction over K = 8 copies (``allsh-mean-kl``);
- the mutual information over the text and K = 8 copies (``allsh-mi``);
- the variance of the predictions over the text and K = 8 copies
  (``allsh-var``);
- stochastic top-b: the batch sampled in proportion to the paper's score
  (power, beta = 1, ``allsh-stochastic``), each draw with its own sampling
  seed.

For each it prints the overlap of the top-b sets of two draws (b = 50 by
default; for stochastic top-b, of the two sampled batches; a random batch
shares b / n in expectation, and entropy sampling, which draws no copies,
shares all of it) and the Spearman correlation of the two score vectors
over the pool (with more than two draws, the mean over every pair of draws
and its range), the mean score of the top-b, and the cost of one query
with the estimator's K fresh copies: seconds to draw the copies
(augmentation), to predict them (inference) and to score and select,
measured in this run side by side, each copy index augmented and predicted
separately on texts no cache has seen, beside the model's pass over the
pool that every strategy pays. (With copies drawn once per pool,
``draw_copies="once"``, a later query pays no augmentation, and with a
frozen tier no inference on copies either: their features are cached.)

The classifier is the runner's tier (``make_tier``) fitted once on a random
labeled set of ``--labels`` texts of the task's training split; the pool is
``--pool-size`` other texts of it. Embeddings of a frozen tier go to a fresh
temporary folder unless ``--cache-dir`` is given, so that inference is
timed on texts never seen.

Run from the repository root::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 nice \\
        .venv/bin/python benchmarks/bench_allsh_reliability.py \\
        --tier minilm-frozen --task sst2 --pool-size 2000 --labels 200 \\
        --draws 3 --output results/benchmarks/allsh_reliability_minilm-frozen.txt

(``--tier minilm-fast`` for the fine-tuned tier, ``tfidf-lr`` for TF-IDF +
logistic regression; each file records its command.)
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import default_data_home
from scipy.stats import spearmanr

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

from allsh_sklearn.augment import TfidfAugmenter  # noqa: E402
from allsh_sklearn.experiments._runner import load_task_data  # noqa: E402
from allsh_sklearn.experiments._settings import TASKS  # noqa: E402
from allsh_sklearn.loop import initial_labeled_indices  # noqa: E402
from allsh_sklearn.models import make_tier  # noqa: E402
from allsh_sklearn.strategies import allsh_scores  # noqa: E402
from allsh_sklearn.strategies._allsh_batches import (  # noqa: E402
    stochastic_top,
)
from allsh_sklearn.strategies._allsh_scores import (  # noqa: E402
    sensitivity_scores,
)
from allsh_sklearn.utils import select_top  # noqa: E402

#: The most copies any estimator uses.
MAX_COPIES = 8

#: ``(row label, preset spec, K, score function of (p, copies))``.
ESTIMATORS = [
    ("paper: KL to one copy", "allsh", 1, lambda p, c: allsh_scores(p, c)),
    (
        "WCA: max KL over copies",
        "allsh-wca",
        4,
        lambda p, c: allsh_scores(p, c, worst_case=True),
    ),
    ("mean KL over copies", "allsh:K=8", 8, lambda p, c: allsh_scores(p, c)),
    (
        "KL to the mean prediction",
        "allsh-mean-kl",
        8,
        lambda p, c: sensitivity_scores(p, c, "divergence_to_mean"),
    ),
    (
        "mutual information (BALD)",
        "allsh-mi",
        8,
        lambda p, c: sensitivity_scores(p, c, "mutual_information"),
    ),
    (
        "variance of predictions",
        "allsh-var",
        8,
        lambda p, c: sensitivity_scores(p, c, "variance"),
    ),
]


def _split(args):
    """The labeled set, the pool, the test set and the task."""
    task = TASKS[args.task]
    data = load_task_data(
        task,
        args.data_home,
        pool_size=args.pool_size + args.labels,
        test_size=args.test_size,
    )
    X, y = data["X_pool"], data["y_pool"]
    labeled = initial_labeled_indices(y, args.labels, random_state=args.seed)
    pool = np.setdiff1d(np.arange(len(y)), labeled)
    X_test, y_test = data["evaluation"]["test"]
    return (
        [X[i] for i in labeled],
        y[labeled],
        [X[i] for i in pool],
        (X_test, y_test),
        task,
    )


def _draw(classifier, X_pool, seed):
    """Copies 0..7 of the pool from a fresh augmenter; their predictions and times."""
    augmenter = TfidfAugmenter(random_state=seed).fit(X_pool)
    probas, augment_s, infer_s = [], [], []
    for k in range(MAX_COPIES):
        started = time.perf_counter()
        copies = augmenter.augment(X_pool, 1, copy_offset=k)[0]
        augment_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        probas.append(classifier.predict_proba(copies))
        infer_s.append(time.perf_counter() - started)
    return np.stack(probas), np.asarray(augment_s), np.asarray(infer_s)


def _measure(args):
    X_labeled, y_labeled, X_pool, (X_test, y_test), task = _split(args)
    started = time.perf_counter()
    tier = make_tier(
        args.tier, cache_dir=args.cache_dir, max_length=task.max_length
    ).prepare(X_pool + X_labeled)
    classifier = tier.build(classes=np.unique(y_labeled), random_state=args.seed)
    classifier.fit(X_labeled, y_labeled)
    train_s = time.perf_counter() - started
    accuracy = float(np.mean(classifier.predict(X_test) == np.asarray(y_test)))
    started = time.perf_counter()
    proba = classifier.predict_proba(X_pool)
    pool_s = time.perf_counter() - started
    draws = [_draw(classifier, X_pool, args.seed + d) for d in range(1, args.draws + 1)]
    b, n = args.b, len(X_pool)
    rows = []
    for label, spec, k, score in ESTIMATORS:

        def select(copies, draw, score=score, k=k):
            s = score(proba, copies[:k])
            return s, select_top(s, b, random_state=args.seed)

        rows.append(_row(label, spec, k, select, draws))

    def sample(copies, draw):
        # stochastic top-b on the paper's score: each draw its own batch
        s = allsh_scores(proba, copies[:1])
        return s, stochastic_top(s, b, beta=1.0, random_state=args.seed + 10 + draw)

    rows.append(
        _row(
            "stochastic top-b (power, beta=1)",
            "allsh-stochastic",
            1,
            sample,
            draws,
        )
    )

    def resample(copies, draw):
        # the same copies (draw 1), two sampling seeds: the sampling's share
        return sample(draws[0][0], draw)

    rows.append(
        _row(
            "  same copies, two sampling seeds",
            "allsh-stochastic",
            1,
            resample,
            draws,
        )
    )
    context = {
        "n_pool": n,
        "accuracy": accuracy,
        "n_test": len(y_test),
        "train_s": train_s,
        "pool_s": pool_s,
        "b": b,
    }
    return rows, context


def _row(label, spec, k, select, draws):
    """One estimator's agreement over every pair of draws, and its cost."""
    picked, score_s = [], []
    for d, (copies, _, _) in enumerate(draws):
        started = time.perf_counter()
        picked.append(select(copies, d))
        score_s.append(time.perf_counter() - started)
    overlaps, spearmans = [], []
    for i in range(len(picked)):
        for j in range(i + 1, len(picked)):
            (first, batch_a), (second, batch_b) = picked[i], picked[j]
            shared = set(batch_a.tolist()) & set(batch_b.tolist())
            overlaps.append(len(shared) / len(batch_a))
            spearmans.append(float(spearmanr(first, second)[0]))
    _, augment_s, infer_s = draws[0]
    return {
        "label": label,
        "spec": spec,
        "K": k,
        "overlap": overlaps,
        "spearman": spearmans,
        "top_mean": float(np.mean(picked[0][0][picked[0][1]])),
        "augment_s": float(augment_s[:k].sum()),
        "infer_s": float(infer_s[:k].sum()),
        "score_s": float(np.mean(score_s)),
    }


def _mean_range(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def _report(rows, context, args, elapsed):
    paper = rows[0]
    paper_total = paper["augment_s"] + paper["infer_s"] + paper["score_s"]
    b, n = context["b"], context["n_pool"]
    lines = [
        f"# ALLSH score reliability: two independent draws of the copies "
        f"({args.tier}, {args.task})",
        "",
        f"Command: {' '.join(['python', *sys.argv])}",
        f"Tier {args.tier}, task {args.task}: pool {n} texts, classifier fitted "
        f"on {args.labels} random labels (seed {args.seed}) in "
        f"{context['train_s']:.1f} s, test accuracy {context['accuracy']:.4f} "
        f"on {context['n_test']} texts; b = {b}. Copies: TF-IDF (UDA, p=0.3), "
        f"{args.draws} draws seeded {args.seed + 1} to {args.seed + args.draws}"
        + (
            f" (figures: mean over the {args.draws * (args.draws - 1) // 2} "
            "pairs of draws, range in brackets)."
            if args.draws > 2
            else "."
        ),
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores (shared), OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, nice "
        f"{os.nice(0)}; whole benchmark {elapsed:.0f} s.",
        "",
        f"A random batch shares b/n = {b / n:.3f} of itself with another in "
        "expectation; entropy sampling (no copies) shares 1.000.",
        "",
        "| estimator | preset | K | top-b overlap | Spearman | mean score of "
        "top-b | augmentation s | inference on copies s | score+select s | "
        "copies' cost s | ratio to paper |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        total = row["augment_s"] + row["infer_s"] + row["score_s"]
        lines.append(
            f"| {row['label']} | `{row['spec']}` | {row['K']} | "
            f"{_mean_range(row['overlap'])} | {_mean_range(row['spearman'])} | "
            f"{row['top_mean']:.4g} | {row['augment_s']:.2f} | "
            f"{row['infer_s']:.2f} | {row['score_s']:.3f} | {total:.2f} | "
            f"{total / paper_total:.2f}x |"
        )
    lines += [
        "",
        "Overlap: |top-b of one draw & top-b of another| / b (stochastic top-b: "
        "the two sampled batches, each draw with its own sampling seed). "
        "Spearman: rank correlation of the two draws' scores over the pool "
        "(stochastic top-b samples from the paper's score: the same scores). "
        "Cost: what one query with K fresh copies adds to the model's pass "
        f"over the pool ({context['pool_s']:.2f} s here, paid by every "
        "strategy): augmentation, inference on the copies, scoring and "
        "selection, from draw 1.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tier", default="minilm-frozen", help="a classifier tier (make_tier)"
    )
    parser.add_argument("--task", default="sst2", choices=list(TASKS))
    parser.add_argument("--pool-size", type=int, default=2000)
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--test-size", type=int, default=872)
    parser.add_argument("--b", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--draws", type=int, default=2, help="independent draws of the copies (>= 2)"
    )
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="embedding cache of a frozen tier (default: a fresh temporary folder)",
    )
    parser.add_argument("--output", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        if args.cache_dir is None:
            args.cache_dir = scratch
        rows, context = _measure(args)
    text = _report(rows, context, args, time.perf_counter() - started)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
