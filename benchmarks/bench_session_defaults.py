"""Which strategy and classifier a labeling session should start with (issue 30).

A benchmark of the session's candidate defaults on data shaped like real
labeling work, simulated with :class:`~allsh_sklearn.loop.ActiveLearningLoop`
(the loop the session itself runs) and a scripted annotator that reveals the
true labels:

- ``ag_news-zipf``: AG News (4 topics) subsampled to Zipf-like class shares
  (1 : 1/2 : 1/3 : 1/4, so 48/24/16/12%); its test set subsampled to the
  same shares. Multi-class, imbalanced, ~31 words.
- ``trec``: TREC questions (6 classes) as they come, imbalanced from 23%
  (ENTY) to 1.6% (ABBR; Zipf shares would leave a pool of 1,261 questions);
  the whole TREC test set. Multi-class, imbalanced, short.
- ``long-8``: 5,000 long texts of 8 imbalanced classes (Zipf shares, 37% to
  5%) built by :func:`long_text_pool`: IMDB reviews (first 80-160 words)
  of each sentiment, 4 AG News descriptions of one topic joined, 10 TREC
  questions of one class joined. Test texts are built the same way from
  texts the pool does not use.
- ``imdb``: IMDB reviews, binary and balanced, long (~230 words).
- ``sst2``: SST-2 phrases, binary and balanced, short (the paper's).

Every run starts from the same random labeled set for a task and seed
(100 labels, one per class first), queries rounds of 50 up to 1,000 labels
and evaluates every model on the task's test set: accuracy, macro-F1 and the
smallest per-class recall. Strategies are preset specs
(:data:`allsh_sklearn.presets.PRESETS`, ``"allsh-wca"``,
``"allsh:balanced=uniform"``) or ``"balanced:<spec>"`` for
:class:`~allsh_sklearn.strategies.ClassBalanced` around a spec (shares of
the batch proportional to the predicted classes of the pool). Classifiers
are tier names (:data:`allsh_sklearn.models.TIERS`): by default the TF-IDF
tiers, ``tfidf-lr-20k`` and ``tfidf-lr`` with their ``-balanced`` and
``-cv`` variants; ``--minilm`` adds the frozen-MiniLM ones. The runs go
seed by seed, so each finished seed gives a whole table.

Runs are appended to ``<output>/runs.jsonl`` as they finish (one JSON line
each: configuration and learning curve); a run already there is skipped, so
an interrupted benchmark resumes where it stopped. ``--report`` (also run at
the end) writes ``<output>/table.md`` (per task, classifier and strategy:
mean scores at each checkpoint, and the paired difference from random
sampling with the same classifier, with a 95% t interval over seeds) and
``<output>/curves_<task>.png``.

Run::

    # the full benchmark (see the session guide for its time)
    python benchmarks/bench_session_defaults.py --output results/defaults
    # a tiny check of the machinery (seconds)
    python benchmarks/bench_session_defaults.py --tiny --output /tmp/defaults
    # tables and curves from the runs finished so far
    python benchmarks/bench_session_defaults.py --output results/defaults --report
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from _common import default_data_home

from allsh_sklearn.augment import MemoryAugmentationCache
from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.loop import (
    ActiveLearningLoop,
    derive_seed,
    initial_labeled_indices,
    plan_labeling,
)
from allsh_sklearn.models import make_tier
from allsh_sklearn.presets import build_strategy, canonical_strategy
from allsh_sklearn.strategies import ClassBalanced
from allsh_sklearn.utils import get_cache_home

#: Candidate strategies: the baselines, ALLSH and its options, and
#: class-balanced wrappers.
STRATEGIES = (
    "random",
    "entropy",
    "margin",
    "badge",
    "allsh",
    "allsh-wca",
    "allsh-balanced",
    "allsh:balanced=uniform",
    "allsh-rank-mean",
    "allsh-scaled-badge",
    "balanced:entropy",
    "balanced:random",
)

#: Candidate classifier tiers (``--minilm`` adds the frozen-MiniLM ones).
CLASSIFIERS = (
    "tfidf-lr-20k",
    "tfidf-lr-20k-balanced",
    "tfidf-lr-20k-cv",
    "tfidf-lr",
    "tfidf-lr-balanced",
    "tfidf-lr-cv",
)
MINILM_CLASSIFIERS = ("minilm-frozen", "minilm-frozen-balanced", "minilm-frozen-cv")

TASKS = ("ag_news-zipf", "trec", "long-8", "imdb", "sst2")

#: The session's default before ``tfidf-minilm`` (issue 30's first choice):
#: the report pairs today's default against it.
PREVIOUS_DEFAULT = ("tfidf-lr-20k", "allsh-rank-mean")

#: Labeled-set sizes the tables report.
CHECKPOINTS = (200, 500, 800, 1000)

#: The classes of :func:`long_text_pool`: (name, source dataset, source label).
LONG_CLASSES = (
    ("review-negative", "imdb", 0),
    ("review-positive", "imdb", 1),
    ("world", "ag_news", 0),
    ("sports", "ag_news", 1),
    ("business", "ag_news", 2),
    ("sci-tech", "ag_news", 3),
    ("question-person", "trec", 3),
    ("question-place", "trec", 4),
)


# Data ------------------------------------------------------------------------


def zipf_shares(n_classes, exponent=1.0):
    """Class shares proportional to ``1 / rank ** exponent``, largest first.

    Examples
    --------
    >>> [round(s, 2) for s in zipf_shares(4)]
    [0.48, 0.24, 0.16, 0.12]
    """
    weights = 1.0 / np.arange(1, n_classes + 1) ** exponent
    return (weights / weights.sum()).tolist()


def zipf_counts(n, n_classes, exponent=1.0):
    """``n`` split into Zipf-like class counts (largest first, summing to ``n``)."""
    counts = np.floor(np.asarray(zipf_shares(n_classes, exponent)) * n).astype(int)
    counts[0] += n - counts.sum()
    return counts


def zipf_subsample(y, order, n_max=None, exponent=1.0, random_state=0):
    """Positions of a subsample of ``y`` with Zipf-like class shares.

    Parameters
    ----------
    y : array-like of int
    order : sequence of int
        The classes from the largest share to the smallest.
    n_max : int or None, default=None
        At most this many positions; None: as many as the classes allow.
    exponent : float, default=1.0
    random_state : int, default=0

    Returns
    -------
    positions : ndarray of int, sorted
    """
    y = np.asarray(y)
    shares = np.asarray(zipf_shares(len(order), exponent))
    available = np.array([np.sum(y == c) for c in order])
    n = int(np.floor(np.min(available / shares)))
    if n_max is not None:
        n = min(n, int(n_max))
    counts = zipf_counts(n, len(order), exponent)
    rng = np.random.RandomState(random_state)
    chosen = [
        rng.choice(np.flatnonzero(y == c), count, replace=False)
        for c, count in zip(order, counts, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def _load(name, split, data_home):
    X, y = load_dataset(name, split, data_home=data_home, return_X_y=True)
    return np.asarray(list(X), dtype=object), np.asarray(y)


def long_text_pool(n_texts=5000, *, part="pool", data_home=None, random_state=0):
    """Long texts of 8 imbalanced classes (Zipf shares) from IMDB, AG News, TREC.

    A text of class ``review-*`` is the first 80-160 words of an IMDB
    review; ``world`` .. ``sci-tech`` join 4 AG News descriptions of that
    topic; ``question-*`` join 10 TREC questions of that class (about 116
    words on average). Classes take ``zipf_shares(8)`` of the texts, in
    :data:`LONG_CLASSES` order (37% negative reviews .. 5% place questions).
    ``part="pool"`` draws from IMDB and AG News train and the first 75% of
    the TREC training questions of each class; ``part="test"`` from IMDB and
    AG News test and the other TREC questions, so no source text is in both.

    Parameters
    ----------
    n_texts : int, default=5000
    part : {"pool", "test"}, default="pool"
    data_home : str or None, default=None
    random_state : int, default=0

    Returns
    -------
    texts : list of str
    labels : ndarray of str
    """
    rng = np.random.RandomState(derive_seed("long-8", part, random_state))
    split = "train" if part == "pool" else "test"
    sources = {name: _load(name, split, data_home) for name in ("imdb", "ag_news")}
    trec_X, trec_y = _load("trec", "train", data_home)
    if part == "test":
        test_X, test_y = _load("trec", "test", data_home)
    trec = {}
    for label in {c[2] for c in LONG_CLASSES if c[1] == "trec"}:
        members = np.random.RandomState(0).permutation(np.flatnonzero(trec_y == label))
        cut = int(0.75 * len(members))
        if part == "pool":
            trec[label] = trec_X[members[:cut]]
        else:
            trec[label] = np.r_[trec_X[members[cut:]], test_X[test_y == label]]
    texts, labels = [], []
    counts = zipf_counts(n_texts, len(LONG_CLASSES))
    for (name, source, label), count in zip(LONG_CLASSES, counts, strict=True):
        if source == "trec":
            for _ in range(count):
                texts.append(" ".join(rng.choice(trec[label], 10, replace=False)))
            labels += [name] * count
            continue
        X, y = sources[source]
        members = X[y == label]
        if source == "imdb":
            for review in rng.choice(members, count, replace=False):
                words = review.split()
                texts.append(" ".join(words[: rng.randint(80, 161)]))
        else:
            needed = 4 * count
            order = rng.permutation(len(members))
            if needed > len(order):  # a small test split: reuse descriptions
                order = np.r_[order, rng.randint(0, len(members), needed - len(order))]
            for start in range(0, needed, 4):
                texts.append(" ".join(members[order[start : start + 4]]))
        labels += [name] * count
    shuffle = rng.permutation(len(texts))
    return [texts[i] for i in shuffle], np.asarray(labels, dtype=object)[shuffle]


def load_task(task, *, data_home=None, pool_size=5000, test_size=2000):
    """A task's pool and test set: ``(X_pool, y_pool, X_test, y_test, max_length)``.

    Parameters
    ----------
    task : str
        One of :data:`TASKS`.
    data_home : str or None, default=None
    pool_size : int, default=5000
        Texts in the pool (at most; fixed seed).
    test_size : int, default=2000
        Texts in the test set (at most; fixed seed).
    """
    rng = np.random.RandomState(0)

    def cap(X, y, size):
        if len(y) <= size:
            return list(X), np.asarray(y)
        keep = np.sort(rng.choice(len(y), size, replace=False))
        return [X[i] for i in keep], np.asarray(y)[keep]

    if task == "long-8":
        X, y = long_text_pool(pool_size, part="pool", data_home=data_home)
        X_test, y_test = long_text_pool(test_size, part="test", data_home=data_home)
        return X, y, X_test, y_test, 256
    if task == "ag_news-zipf":
        X, y = _load("ag_news", "train", data_home)
        X_test, y_test = _load("ag_news", "test", data_home)
        # The largest share to the class with the most texts.
        order = np.argsort(-np.bincount(y), kind="stable")
        keep = zipf_subsample(y, order, pool_size)
        X, y = cap(X[keep], y[keep], pool_size)
        keep = zipf_subsample(y_test, order, test_size, random_state=1)
        X_test, y_test = cap(X_test[keep], y_test[keep], test_size)
        return X, y, X_test, y_test, 128
    if task in ("imdb", "sst2", "trec"):
        X, y = _load(task, "train", data_home)
        X_test, y_test = _load(task, "test", data_home)
        X, y = cap(X, y, pool_size)
        X_test, y_test = cap(X_test, y_test, test_size)
        return X, y, X_test, y_test, 256 if task == "imdb" else 128
    raise ValueError(f"The 'task' must be one of {list(TASKS)}. Got {task!r} instead.")


# Runs --------------------------------------------------------------------------


def make_query_strategy(spec, *, embedding, seed, cache):
    """A strategy from a spec; ``"balanced:<spec>"`` wraps it in ClassBalanced."""
    wrapped = spec.startswith("balanced:")
    inner = spec.removeprefix("balanced:")
    strategy = build_strategy(
        inner, embedding=embedding, seed=seed, augmentation_cache=cache
    )
    return ClassBalanced(strategy) if wrapped else strategy


def canonical(spec):
    """The spec with sorted options (``balanced:`` kept in front)."""
    if spec.startswith("balanced:"):
        return "balanced:" + canonical_strategy(spec.removeprefix("balanced:"))
    return canonical_strategy(spec)


def evaluate_predictions(y_true, y_pred, classes):
    """Accuracy, macro-F1, smallest per-class recall, classes below 0.5 recall."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    recall = recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
        ),
        "min_recall": float(np.min(recall)),
        "n_below_half": int(np.sum(recall < 0.5)),
    }


class Benchmark:
    """Runs of one configuration of the benchmark, resumable from runs.jsonl.

    Parameters
    ----------
    output : Path
    data_home : str or None
    initial : int
        Labels of the initial random set.
    budget : int
        Labels at the end of a run.
    batch_size : int
    pool_size, test_size : int
    cache_dir : Path or None
        The frozen encoders' embedding cache (None:
        :func:`~allsh_sklearn.utils.get_cache_home`), shared by every run.
    max_length : int or None, default=None
        The encoders' truncation for every task (None: each task's own,
        256 for IMDB and the long texts, 128 for the others; a labeling
        session's tier uses 128). Part of a run's key when set.
    """

    def __init__(
        self,
        output,
        *,
        data_home=None,
        initial=100,
        budget=1000,
        batch_size=50,
        pool_size=5000,
        test_size=2000,
        cache_dir=None,
        max_length=None,
    ):
        self.output = Path(output)
        self.data_home = data_home
        self.initial = initial
        self.budget = budget
        self.batch_size = batch_size
        self.pool_size = pool_size
        self.test_size = test_size
        self.cache_dir = cache_dir
        self.max_length = max_length
        self.output.mkdir(parents=True, exist_ok=True)
        self.runs_path = self.output / "runs.jsonl"
        self._tasks = {}

    def key(self, task, classifier, strategy, seed):
        """The identity of a run (finished runs are skipped by it)."""
        key = (
            f"{task}|{classifier}|{canonical(strategy)}|seed={seed}|"
            f"pool={self.pool_size}|test={self.test_size}|initial={self.initial}|"
            f"batch={self.batch_size}|budget={self.budget}"
        )
        if self.max_length is not None:
            key += f"|max_length={self.max_length}"
        return key

    def finished(self):
        """The finished runs, by key."""
        if not self.runs_path.exists():
            return {}
        runs = {}
        with open(self.runs_path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:  # a line cut by a kill
                        continue
                    runs[record["key"]] = record
        return runs

    def _data(self, task):
        """The task's data, prepared tiers and ALLSH copies (kept for the run)."""
        if task not in self._tasks:
            X, y, X_test, y_test, max_length = load_task(
                task,
                data_home=self.data_home,
                pool_size=self.pool_size,
                test_size=self.test_size,
            )
            self._tasks[task] = {
                "X": X,
                "y": y,
                "X_test": X_test,
                "y_test": y_test,
                "classes": np.unique(y),
                "max_length": self.max_length or max_length,
                "tiers": {},
                "copies": MemoryAugmentationCache(),
            }
        return self._tasks[task]

    def _tier(self, data, classifier):
        if classifier not in data["tiers"]:
            data["tiers"][classifier] = make_tier(
                classifier,
                cache_dir=get_cache_home(self.cache_dir),
                max_length=data["max_length"],
            ).prepare(data["X"])
        return data["tiers"][classifier]

    def run(self, task, classifier, strategy, seed):
        """One active learning run; returns its record (also appended)."""
        record, _ = self.simulate(task, classifier, strategy, seed)
        with open(self.runs_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return record

    def simulate(self, task, classifier, strategy, seed):
        """One active learning run, not recorded: its record and final model.

        Returns
        -------
        record : dict
            What :meth:`run` appends to ``runs.jsonl``.
        model : estimator
            The classifier fitted on the run's last labeled set.
        """
        data = self._data(task)
        X, y, classes = data["X"], data["y"], data["classes"]
        X_test, y_test = data["X_test"], data["y_test"]
        key = self.key(task, classifier, strategy, seed)
        tier = self._tier(data, classifier)
        estimator = tier.build(
            classes=classes, random_state=derive_seed(key, "classifier")
        )
        query_strategy = make_query_strategy(
            strategy,
            embedding=tier.embedding,
            # one augmenter seed per pool: every run shares ALLSH's copies
            seed=derive_seed(task, "augmenter"),
            cache=data["copies"],
        )
        plan = plan_labeling(
            len(y),
            len(classes),
            initial_size=self.initial,
            budgets=(self.budget,),
            batch_size=self.batch_size,
            owner="bench_session_defaults",
        )
        initial = initial_labeled_indices(
            y, plan.n_initial, random_state=derive_seed(task, "initial", seed)
        )

        def evaluate(model):
            return evaluate_predictions(y_test, model.predict(X_test), classes)

        loop = ActiveLearningLoop(
            estimator,
            query_strategy,
            X,
            classes=classes,
            seed=derive_seed(key, "run"),
            evaluate=evaluate,
        )
        started, cpu = time.perf_counter(), time.process_time()
        records = loop.run(plan.schedule, y, initial_indices=initial)
        acquired = np.concatenate([r.acquired for r in records]).astype(int)
        counts = {str(c): int(np.sum(y[acquired] == c)) for c in classes}
        record = {
            "key": key,
            "task": task,
            "classifier": classifier,
            "strategy": canonical(strategy),
            "seed": int(seed),
            "n_pool": len(y),
            "n_test": len(y_test),
            "curve": [
                {"n_labeled": r.n_labeled, **r.scores, **_times(r.time)}
                for r in records
            ],
            "labeled_class_counts": counts,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
        }
        return record, loop.learner_


def _times(times):
    return {
        f"{name}_s": round(float(times[name]), 4)
        for name in ("training", "query")
        if name in times
    }


# Report -------------------------------------------------------------------------


def _at(record, n):
    for point in record["curve"]:
        if point["n_labeled"] == n:
            return point
    return None


def _interval(differences):
    """Mean and 95% t interval of paired differences (NaN below 2 pairs)."""
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return float(np.mean(d)) if len(d) else np.nan, np.nan, np.nan
    mean = float(np.mean(d))
    if np.allclose(d, d[0]):
        return mean, mean, mean
    low, high = stats.t.interval(0.95, len(d) - 1, loc=mean, scale=stats.sem(d))
    return mean, float(low), float(high)


def summarise(runs, checkpoints=CHECKPOINTS, metrics=("macro_f1", "accuracy")):
    """Rows of the table: one per task, classifier, strategy and checkpoint.

    Each row holds the mean of every metric over seeds, the number of seeds,
    and for each metric in ``metrics`` the paired difference from random
    sampling with the same task, classifier and seed (mean, 95% t interval).
    """
    by_cell = _cells(runs)
    rows = []
    for (task, classifier, strategy), seeds in sorted(by_cell.items()):
        baseline = by_cell.get((task, classifier, "random"), {})
        for n in checkpoints:
            points = {s: _at(r, n) for s, r in seeds.items()}
            points = {s: p for s, p in points.items() if p is not None}
            if not points:
                continue
            row = {
                "task": task,
                "classifier": classifier,
                "strategy": strategy,
                "n_labeled": n,
                "n_seeds": len(points),
            }
            for metric in ("accuracy", "macro_f1", "min_recall", "n_below_half"):
                row[metric] = float(np.mean([p[metric] for p in points.values()]))
            for metric in metrics:
                row[f"{metric}_vs_random"] = _paired(seeds, baseline, n, metric)
            rows.append(row)
    return rows


def _cells(runs):
    """The runs by ``(task, classifier, strategy)``, each ``{seed: record}``."""
    by_cell = {}
    for record in runs.values():
        cell = (record["task"], record["classifier"], record["strategy"])
        by_cell.setdefault(cell, {})[record["seed"]] = record
    return by_cell


def _paired(first, second, n, metric):
    """``first - second`` at ``n`` labels over the seeds both reached (or None).

    ``first`` and ``second`` are ``{seed: record}``; the result is
    :func:`_interval` of the paired differences of ``metric``.
    """
    pairs = []
    for seed in sorted(set(first) & set(second)):
        a, b = _at(first[seed], n), _at(second[seed], n)
        if a is not None and b is not None:
            pairs.append(a[metric] - b[metric])
    return _interval(pairs) if pairs else None


def _fmt_diff(value):
    if value is None:
        return ""
    mean, low, high = value
    if np.isnan(low):
        return f"{100 * mean:+.1f}"
    return f"{100 * mean:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"


def write_table(rows, path, at=800, runs=None):
    """The Markdown table: per task, at checkpoint ``at`` then every checkpoint.

    With ``runs``, a last table gives each tier's training time per round.
    """
    lines = [
        "# Session defaults benchmark",
        "",
        "Scores in points (x100), means over seeds; `vs random`: paired "
        "difference from random sampling with the same classifier and seeds, "
        "mean [95% t interval]. `<0.5`: classes with recall below 0.5 (mean "
        "over seeds).",
        "",
    ]
    tasks = sorted({r["task"] for r in rows})
    header = (
        "| classifier | strategy | labels | seeds | macro-F1 | vs random | "
        "accuracy | vs random | min recall | <0.5 |"
    )
    rule = "|---|---|---:|---:|---:|---|---:|---|---:|---:|"
    for task in tasks:
        task_rows = [r for r in rows if r["task"] == task]
        lines += [f"## {task}", "", f"At {at} labels, best macro-F1 first:", ""]
        lines += [header, rule]
        best_first = sorted(
            (r for r in task_rows if r["n_labeled"] == at),
            key=lambda r: -r["macro_f1"],
        )
        lines += [_table_line(r) for r in best_first]
        lines += ["", "Every checkpoint:", "", header, rule]
        lines += [_table_line(r) for r in task_rows]
        lines.append("")
    lines += _overall(rows, at)
    if runs:
        lines += _default_against_best(runs, rows, at)
        lines += _training_times(runs)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _table_line(r):
    return (
        f"| {r['classifier']} | {r['strategy']} | {r['n_labeled']} | "
        f"{r['n_seeds']} | {100 * r['macro_f1']:.1f} | "
        f"{_fmt_diff(r.get('macro_f1_vs_random'))} | {100 * r['accuracy']:.1f} | "
        f"{_fmt_diff(r.get('accuracy_vs_random'))} | {100 * r['min_recall']:.1f} | "
        f"{r['n_below_half']:.1f} |"
    )


def _default_against_best(runs, rows, at):
    """The session's default against each task's best combination and random.

    Paired over the seeds both combinations finished (they share the
    initial labeled set): macro-F1 of the best minus the default's, and of
    the default minus random sampling with the default's classifier, and
    minus :data:`PREVIOUS_DEFAULT`; the default's smallest per-class recall
    and classes below 0.5 recall.
    """
    from allsh_sklearn.session import DEFAULT_CLASSIFIER, DEFAULT_STRATEGY

    default = (DEFAULT_CLASSIFIER, canonical(DEFAULT_STRATEGY))
    by_cell = _cells(runs)
    lines = [
        f"## The default against the best combination and random (at {at} labels)",
        "",
        f"The session's default, `{default[0]}` + `{default[1]}`; macro-F1 in "
        "points, paired differences over the seeds both runs finished, mean "
        "[95% t interval]; `min recall` and `<0.5` are the default's, means "
        "over seeds.",
        "",
        "| task | default | best combination | best - default | "
        f"default - random | default - `{' + '.join(PREVIOUS_DEFAULT)}` | "
        "min recall | <0.5 |",
        "|---|---:|---|---|---|---|---:|---:|",
    ]
    at_rows = [r for r in rows if r["n_labeled"] == at]
    for task in sorted({r["task"] for r in at_rows}):
        mine = [r for r in at_rows if r["task"] == task]
        ours = [r for r in mine if (r["classifier"], r["strategy"]) == default]
        if not ours:
            continue
        best = max(mine, key=lambda r: r["macro_f1"])
        cell = by_cell[(task, *default)]
        best_cell = by_cell[(task, best["classifier"], best["strategy"])]
        random_cell = by_cell.get((task, default[0], "random"), {})
        previous_cell = by_cell.get((task, *PREVIOUS_DEFAULT), {})
        lines.append(
            f"| {task} | {100 * ours[0]['macro_f1']:.1f} | "
            f"`{best['classifier']}` + `{best['strategy']}`, "
            f"{100 * best['macro_f1']:.1f} | "
            f"{_fmt_diff(_paired(best_cell, cell, at, 'macro_f1'))} | "
            f"{_fmt_diff(_paired(cell, random_cell, at, 'macro_f1'))} | "
            f"{_fmt_diff(_paired(cell, previous_cell, at, 'macro_f1'))} | "
            f"{100 * ours[0]['min_recall']:.1f} | {ours[0]['n_below_half']:.1f} |"
        )
    return lines + [""]


def _training_times(runs):
    """Median and largest training seconds per round, per task and tier."""
    cells = {}
    for record in runs.values():
        seconds = [p["training_s"] for p in record["curve"] if "training_s" in p]
        cells.setdefault((record["classifier"], record["task"]), []).extend(seconds)
    tasks = sorted({task for _, task in cells})
    lines = [
        "## Training time per round",
        "",
        "Wall seconds of one training (median / largest over every round of "
        "every run; 100-1,000 labels): what a person waits for, with the query, "
        "after each batch. The runs' machine load counts in.",
        "",
        "| classifier | " + " | ".join(tasks) + " |",
        "|---|" + "---:|" * len(tasks),
    ]
    for classifier in sorted({c for c, _ in cells}):
        row = []
        for task in tasks:
            values = cells.get((classifier, task))
            row.append(
                f"{np.median(values):.2f} / {np.max(values):.2f}" if values else ""
            )
        lines.append(f"| {classifier} | " + " | ".join(row) + " |")
    return lines + [""]


def _overall(rows, at):
    """One default for every dataset: each combination's gap to the best, per task."""
    at_rows = [r for r in rows if r["n_labeled"] == at]
    tasks = sorted({r["task"] for r in at_rows})
    if not tasks:
        return []
    best = {t: max(r["macro_f1"] for r in at_rows if r["task"] == t) for t in tasks}
    combos = sorted({(r["classifier"], r["strategy"]) for r in at_rows})
    table = []
    for combo in combos:
        cells = {
            r["task"]: r for r in at_rows if (r["classifier"], r["strategy"]) == combo
        }
        if set(cells) != set(tasks):
            continue
        gaps = [best[t] - cells[t]["macro_f1"] for t in tasks]
        table.append((max(gaps), combo, cells))
    table.sort(key=lambda item: item[0])
    lines = [
        f"## One default for every task (at {at} labels)",
        "",
        "Macro-F1 per task (points) and the largest gap to the best combination "
        "of that task; combinations measured on every task, smallest largest "
        "gap first.",
        "",
        "| classifier | strategy | largest gap | " + " | ".join(tasks) + " |",
        "|---|---|---:|" + "---:|" * len(tasks),
    ]
    for worst, (classifier, strategy), cells in table:
        lines.append(
            f"| {classifier} | {strategy} | {100 * worst:.1f} | "
            + " | ".join(f"{100 * cells[t]['macro_f1']:.1f}" for t in tasks)
            + " |"
        )
    return lines + [""]


def write_curves(runs, folder, metric="macro_f1"):
    """One PNG per task: mean ``metric`` against labels, a panel per classifier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r["task"] for r in runs.values()})
    written = []
    for task in tasks:
        records = [r for r in runs.values() if r["task"] == task]
        classifiers = sorted({r["classifier"] for r in records})
        figure, axes = plt.subplots(
            1, len(classifiers), figsize=(5.5 * len(classifiers), 4.2), squeeze=False
        )
        for axis, classifier in zip(axes[0], classifiers, strict=True):
            strategies = sorted(
                {r["strategy"] for r in records if r["classifier"] == classifier}
            )
            for strategy in strategies:
                curves = [
                    r["curve"]
                    for r in records
                    if r["classifier"] == classifier and r["strategy"] == strategy
                ]
                sizes = [p["n_labeled"] for p in curves[0]]
                values = np.array(
                    [[p[metric] for p in c] for c in curves if len(c) == len(sizes)]
                )
                style = "--" if strategy == "random" else "-"
                axis.plot(
                    sizes,
                    100 * values.mean(axis=0),
                    style,
                    label=f"{strategy} ({len(values)})",
                    linewidth=2.2 if strategy == "random" else 1.2,
                )
            axis.set_title(f"{task}: {classifier}")
            axis.set_xlabel("labels")
            axis.set_ylabel(metric.replace("_", "-"))
            axis.grid(alpha=0.3)
            axis.legend(fontsize=7)
        figure.tight_layout()
        path = Path(folder) / f"curves_{task}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def report(
    output, checkpoints=CHECKPOINTS, at=800, seeds=None, classifiers=None, table=None
):
    """Write the table and the curves of the finished runs; print the table.

    Parameters
    ----------
    output : Path
        The benchmark's folder (``runs.jsonl`` in it).
    checkpoints : sequence of int
        Labeled-set sizes in the tables.
    at : int
        The checkpoint the summaries rank at.
    seeds : sequence of int or None, default=None
        Only the runs of these seeds (None: every finished run), so that
        every combination is compared on the same labeled sets.
    classifiers : sequence of str or None, default=None
        Only the runs of these tiers (None: every tier).
    table : str or None, default=None
        The table's file name in ``output``; None: ``table.md``, with the
        curves. With another name only the table is written, so that a
        selection of the runs does not replace the whole benchmark's
        curves.
    """
    runs = Benchmark(output).finished()
    if seeds is not None:
        seeds = set(seeds)
        runs = {key: r for key, r in runs.items() if r["seed"] in seeds}
    if classifiers is not None:
        classifiers = set(classifiers)
        runs = {k: r for k, r in runs.items() if r["classifier"] in classifiers}
    if not runs:
        print(f"no finished runs in {output}")
        return
    rows = summarise(runs, checkpoints)
    path = Path(output) / (table or "table.md")
    write_table(rows, path, at=at, runs=runs)
    curves = write_curves(runs, output) if table is None else []
    print(path.read_text(encoding="utf-8"))
    print("wrote", path, *[str(c) for c in curves])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("results/defaults"))
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument(
        "--classifiers",
        nargs="+",
        default=None,
        help="tiers to run (default: the TF-IDF tiers); with --report, the "
        "tiers the tables use (default: every tier run)",
    )
    parser.add_argument(
        "--minilm", action="store_true", help="add the frozen-MiniLM tiers"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="seeds to run (default: 0-4); with --report, the seeds the "
        "tables use (default: every finished run)",
    )
    parser.add_argument("--initial", type=int, default=100)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=5000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--max-length",
        type=int,
        default=None,
        help="the encoders' truncation for every task (default: the task's "
        "own, 256 for imdb and long-8, 128 for the others)",
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a check of the machinery: 2 tasks, 3 strategies, 2 seeds, small "
        "pools, 40 labels",
    )
    parser.add_argument(
        "--checkpoints",
        type=int,
        nargs="+",
        default=list(CHECKPOINTS),
        help="labeled-set sizes in the table",
    )
    parser.add_argument(
        "--at", type=int, default=800, help="the checkpoint the summaries rank at"
    )
    parser.add_argument("--report", action="store_true", help="only write the report")
    parser.add_argument(
        "--table",
        default=None,
        help="with --report: the table's file name in --output (default: "
        "table.md, with the curves; another name writes the table alone)",
    )
    args = parser.parse_args(argv)
    if args.report:
        report(
            args.output,
            args.checkpoints,
            args.at,
            seeds=args.seeds,
            classifiers=args.classifiers,
            table=args.table,
        )
        return
    if args.classifiers is None:
        args.classifiers = list(CLASSIFIERS)
    if args.seeds is None:
        args.seeds = [0, 1, 2, 3, 4]
    if args.tiny:
        args.tasks = ["trec", "long-8"]
        args.strategies = ["random", "allsh", "balanced:entropy"]
        args.classifiers = ["tfidf-lr-20k", "tfidf-lr-balanced"]
        args.seeds = [0, 1]
        args.initial, args.budget, args.batch_size = 10, 40, 10
        args.pool_size, args.test_size = 300, 200
        args.checkpoints, args.at = [20, 40], 40
    classifiers = list(args.classifiers) + (
        list(MINILM_CLASSIFIERS) if args.minilm else []
    )
    bench = Benchmark(
        args.output,
        data_home=args.data_home,
        initial=args.initial,
        budget=args.budget,
        batch_size=args.batch_size,
        pool_size=args.pool_size,
        test_size=args.test_size,
        cache_dir=args.cache_dir,
        max_length=args.max_length,
    )
    from threadpoolctl import threadpool_limits

    # Seed by seed: each finished seed gives a whole table, and the next
    # ones narrow its intervals.
    todo = [
        (task, classifier, strategy, seed)
        for seed in args.seeds
        for task in args.tasks
        for classifier in classifiers
        for strategy in args.strategies
    ]
    done = bench.finished()
    remaining = [run for run in todo if bench.key(*run) not in done]
    print(
        f"{len(todo)} runs, {len(todo) - len(remaining)} finished, "
        f"{len(remaining)} to do -> {bench.runs_path}",
        flush=True,
    )
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        for number, run in enumerate(remaining, start=1):
            record = bench.run(*run)
            last = record["curve"][-1]
            elapsed = time.perf_counter() - started
            print(
                f"[{number}/{len(remaining)}] {' '.join(map(str, run))}: "
                f"macro-F1 {last['macro_f1']:.3f} accuracy {last['accuracy']:.3f} "
                f"min recall {last['min_recall']:.3f} ({record['seconds']:.1f} s, "
                f"cpu {record['cpu_seconds']:.1f} s; "
                f"{elapsed / number * (len(remaining) - number) / 60:.0f} min left)",
                flush=True,
            )
    report(args.output, args.checkpoints, args.at)


if __name__ == "__main__":
    main()
