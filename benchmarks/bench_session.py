"""Speed of a 50,000-text labeling session, against the targets of issue 15.

A :class:`~allsh_sklearn.session.LabelingSession` is created on the first
50,000 texts of SST-2's training split (real review phrases; their labels
stay hidden and a scripted annotator reveals them), and timed where a
person waits:

- opening the session and showing the next text (target: well under 1 s),
  in a fresh process, with and without the package import;
- the next batch of 50 with TF-IDF + logistic regression, retraining
  included (target: under 5 s): in a running session, and in a process
  that just reopened it;
- the same with the frozen MiniLM tier once the pool is encoded (target:
  under 10 s); the encoding itself (pool and ALLSH's copies) is timed
  apart, and a reopened session must encode nothing;
- importing 1,000 labels from a CSV file (target: under 1 s).

Every figure is measured in this run and printed next to its target, with
the ratio measured/target. The strategy is the session's default, ALLSH
(KL to one TF-IDF copy).

``--long`` times long texts instead (issue 30): 5,000 texts of about 116
words in 8 imbalanced classes (37% to 5%;
``bench_session_defaults.long_text_pool``), labeled the way the command
line does it, ``next --output`` then ``import --retrain``: the first batch,
then a bulk import up to 800 and to 2,000 labels, then batches of 50; each
import with its retraining and the next query is timed (target: 3 s, median
in a running session). Three sessions run side by side, batch by batch, on
the same labels: the ``"tfidf-lr"`` tier as it fitted before issue 30
(L-BFGS on every column of the pool's vocabulary, :class:`BeforeTfidfTier`),
``"tfidf-lr"`` now (on the columns the labeled texts use: the same model)
and ``"tfidf-lr-20k"`` (the 20,000 most frequent terms, newton-cg).

``--compare-fits`` checks that the new fits lose no accuracy: on random
labeled sets (100, 300 and 1,000 labels, 5 seeds, the same sets for every
fit) of IMDB (long, binary), AG News with Zipf class shares (4 classes),
the 8-class long texts and SST-2, it fits the three and reports held-out
accuracy and macro-F1, with the paired mean difference from the fit before
and its 95% t interval (``scipy.stats.ttest_rel``), and the fit times.
``--variants`` adds the other options scikit-learn offers, each measured the
same way. Run::

    python benchmarks/bench_session.py                  # both tiers
    python benchmarks/bench_session.py --skip-minilm    # TF-IDF + LR only
    python benchmarks/bench_session.py --output results/benchmarks/bench_session.json
    python benchmarks/bench_session.py --long           # long texts, 3 fits
    python benchmarks/bench_session.py --compare-fits [--variants]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import default_data_home
from bench_session_defaults import (
    LONG_CLASSES,
    evaluate_predictions,
    load_task,
    long_text_pool,
)

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.loop import derive_seed, initial_labeled_indices
from allsh_sklearn.models import TIERS, TfidfTier
from allsh_sklearn.session import LabelingSession

LABELS = ["negative", "positive"]

#: The tier name of :class:`BeforeTfidfTier` in this process.
BEFORE = "tfidf-lr-before-issue-30"


class BeforeTfidfTier(TfidfTier):
    """The ``"tfidf-lr"`` tier as it fitted before issue 30.

    L-BFGS on every column of the pool's vocabulary (``tol=1e-4``,
    ``max_iter=2000``); the features, ``C`` and everything else as now.
    """

    labeled_vocabulary = False


def register_before_tier():
    """Make :data:`BEFORE` a tier name (for sessions of this process only)."""
    TIERS.setdefault(BEFORE, (BeforeTfidfTier, {}))


def label_open_batch(session, truth):
    """The scripted annotator: label every text of the open batch."""
    n = 0
    while (item := session.next_item("bench")) is not None:
        session.label(item.item_id, truth[item.item_id], annotator="bench")
        n += 1
    return n


_REOPEN = r"""
import sys, time, json
started = time.perf_counter()
from allsh_sklearn.session import LabelingSession
imported = time.perf_counter()
session = LabelingSession.open(sys.argv[1], progress=False)
item = session.next_item("bench-reopen", claim=False)
shown = time.perf_counter()
out = {"import_s": imported - started, "open_next_item_s": shown - imported,
       "item": item.item_id if item else None}
if sys.argv[2] == "batch":
    truth = json.load(open(sys.argv[3]))
    while (item := session.next_item("bench")) is not None:
        session.label(item.item_id, truth[item.item_id], annotator="bench")
    begun = time.perf_counter()
    batch = session.next_batch()
    out["next_batch_s"] = time.perf_counter() - begun
    out["batch"] = batch.batch
print(json.dumps(out))
"""


def reopen(project, mode, truth_file=None):
    """Open the session in a fresh process; time opening and the next text."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _REOPEN, str(project), mode, str(truth_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - started
    return out


def encoded_count(project):
    """Rows of the project's embedding cache (0 when there is none)."""
    from allsh_sklearn.models import EmbeddingStore

    path = Path(project) / "cache" / "embeddings.sqlite"
    if not path.exists():
        return 0
    with EmbeddingStore(path) as store:
        return store.count("embeddings")


def run_tier(classifier, table, truth, folder, n_warm, truth_file):
    """Create a session, then time its batches; returns a dict of figures."""
    figures = {"classifier": classifier}
    project = folder / classifier
    started = time.perf_counter()
    session = LabelingSession.create(
        project,
        table,
        labels=LABELS,
        id_column="id",
        classifier=classifier,
        strategy="allsh",
        batch_size=50,
        audit_fraction=0.1,
        progress=True,
    )
    figures["create_s"] = time.perf_counter() - started
    session.next_batch()
    label_open_batch(session, truth)
    # The first retraining in this process: the tier is prepared on the
    # pool, ALLSH's augmenter fitted on it and the 50,000 copies made (and,
    # for MiniLM, everything encoded); later ones reuse all of it.
    encoded_before = encoded_count(project)
    started = time.perf_counter()
    session.next_batch()
    figures["first_next_batch_s"] = time.perf_counter() - started
    figures["encoded_first"] = encoded_count(project) - encoded_before
    warm = []
    for _ in range(n_warm):
        label_open_batch(session, truth)
        started = time.perf_counter()
        batch = session.next_batch()
        warm.append(time.perf_counter() - started)
        assert batch.kind == "query" and len(batch.items) == 50
    figures["warm_next_batch_s"] = warm
    rounds = session.rounds()
    figures["rounds"] = [
        {
            "n_labeled": r.n_labeled,
            "train_s": r.train_seconds,
            "query_s": r.query_seconds,
        }
        for r in rounds
    ]
    session.close()
    # A new process: open and show the next text; then label the batch and
    # query the next one (nothing must be encoded again).
    figures["reopen"] = reopen(project, "item")
    encoded_before = encoded_count(project)
    figures["reopen_batch"] = reopen(project, "batch", truth_file)
    figures["encoded_on_reopen"] = encoded_count(project) - encoded_before
    return figures, project


def time_import(project, truth, n=1000):
    """Import ``n`` labels of texts not labeled yet from a CSV file."""
    session = LabelingSession.open(project, progress=False)
    session.export_labels(project.parent / "labels.csv")
    labeled = set(pd.read_csv(project.parent / "labels.csv")["id"].astype(str))
    ids = [i for i in truth if i not in labeled][:n]
    path = project.parent / "import.csv"
    pd.DataFrame(
        {"id": ids, "label": [truth[i] for i in ids], "annotator": "team"}
    ).to_csv(path, index=False)
    started = time.perf_counter()
    report = session.import_labels(path)
    seconds = time.perf_counter() - started
    assert report.n_imported == n, report
    return seconds


def blas_threads(X, truth, n_labels=(200, 1000)):
    """Fit the TF-IDF tier's logistic regression with default and one BLAS thread.

    The session trains the TF-IDF tier with one BLAS thread; this measures
    why, side by side on the same features.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    from allsh_sklearn.models import make_tier

    tier = make_tier("tfidf-lr").prepare(X)
    ids = list(truth)
    out = {
        "blas": [
            {k: info.get(k) for k in ("internal_api", "num_threads")}
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ]
    }
    for n in n_labels:
        texts = X[:n]
        labels = [truth[i] for i in ids[:n]]
        tier.features_.transform(texts)  # memoized: time the fit alone
        row = {}
        for name, limit in (("default", None), ("one", 1)):
            model = tier.build(classes=np.array(LABELS))
            with threadpool_limits(limits=limit, user_api="blas"):
                started = time.perf_counter()
                model.fit(texts, labels)
                row[name] = time.perf_counter() - started
        out[str(n)] = row
    return out


# Long texts (issue 30) ---------------------------------------------------------


def _write_labels(path, ids, truth):
    pd.DataFrame({"id": ids, "label": [truth[i] for i in ids]}).to_csv(
        path, index=False
    )


def _timed_import(session, path):
    """``import --retrain``: import the file, retrain, query the next batch."""
    started, cpu = time.perf_counter(), time.process_time()
    report = session.import_labels(path, annotator="bench", retrain=True)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    last = session.rounds()[-1]
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "n_imported": report.n_imported,
        "n_labeled": last.n_labeled,
        "train_s": last.train_seconds,
        "query_s": last.query_seconds,
    }


def _open_ids(session):
    batch = session.current_batch()
    if batch is None:
        return []
    return [item.item_id for item in batch.items if item.label is None]


def run_long(folder, *, n_texts, checkpoints, n_warm, data_home, sides=None):
    """Time ``import --retrain`` on long texts with each fit of :data:`LONG_SIDES`.

    ``sides`` names the sessions to run side by side: names of
    :data:`LONG_SIDES` or tier names (None: every side of :data:`LONG_SIDES`).

    One session per fit on the same pool, given the same labels step by
    step, in turn, so that all see the same machine load.

    Returns
    -------
    results : dict
    """
    from allsh_sklearn.models import PairTfidfVectorizer

    register_before_tier()
    texts, labels = long_text_pool(n_texts, part="pool", data_home=data_home)
    ids = [f"t{i:05d}" for i in range(len(texts))]
    truth = dict(zip(ids, labels, strict=True))
    table = pd.DataFrame({"id": ids, "text": texts})
    named = dict(LONG_SIDES)
    sides = list(named) if sides is None else list(sides)
    tiers = {side: named.get(side, side) for side in sides}
    results = {
        "n_texts": len(texts),
        "mean_words": float(np.mean([len(t.split()) for t in texts])),
        "class_counts": {c: int(np.sum(labels == c)) for c, _, _ in LONG_CLASSES},
        "vocabulary": len(PairTfidfVectorizer().fit(texts).vectorizer_.vocabulary_),
        "tiers": tiers,
        "steps": [],
    }
    sessions = {}
    for side, classifier in tiers.items():
        sessions[side] = LabelingSession.create(
            folder / side,
            table,
            labels=[name for name, _, _ in LONG_CLASSES],
            id_column="id",
            classifier=classifier,
            strategy="allsh",
            batch_size=50,
            audit_fraction=0.1,
            progress=False,
        )
        sessions[side].next_batch()  # random: no model yet
    labeled = {side: set() for side in sessions}
    order = list(np.random.RandomState(0).permutation(ids))
    path = folder / "labels.csv"

    def step(kind, pick):
        row = {"kind": kind}
        for side, session in sessions.items():
            chosen = pick(side, session)
            _write_labels(path, chosen, truth)
            row[side] = _timed_import(session, path)
            labeled[side].update(chosen)
            print(
                f"  {kind:<34} {side:<6} {row[side]['n_labeled']:5d} labels "
                f"{row[side]['seconds']:7.2f} s, cpu {row[side]['cpu_s']:6.2f} s "
                f"(train {row[side]['train_s']:.2f}, query {row[side]['query_s']:.2f})",
                flush=True,
            )
        results["steps"].append(row)

    # The first batch: the tier is prepared on the pool, ALLSH's copies made.
    step("first batch (prepares, augments)", lambda side, s: _open_ids(s))
    for n in checkpoints:

        def bulk(side, session, n=n):
            pending = set(_open_ids(session))
            free = [i for i in order if i not in labeled[side] and i not in pending]
            return free[: max(0, n - len(labeled[side]))]

        step(f"bulk import to {n} labels", bulk)
        for _ in range(n_warm):
            step(f"next batch at {n}", lambda side, s: _open_ids(s))
    for session in sessions.values():
        session.close()
    return results


def _long_lines(results, target=3.0):
    steps = results["steps"]
    counts = results["class_counts"]
    sides = list(results["tiers"])
    lines = [
        f"{results['n_texts']} long texts ({results['mean_words']:.0f} words on "
        f"average, {len(counts)} classes: "
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + f"); vocabulary {results['vocabulary']:,} unigrams and bigrams",
        "ALLSH, batches of 50 (10% audit); each figure is one `import --retrain`: "
        "import, retrain on every label, query the next batch",
        "before: tfidf-lr as it fitted before issue 30 (L-BFGS on every column); "
        "tfidf-lr: now (L-BFGS on the labeled columns, the same model); "
        "tfidf-lr-20k: 20,000 most frequent terms, newton-cg; tfidf-minilm: "
        "those terms beside the frozen MiniLM embedding (the pool and ALLSH's "
        "copies encoded in the first batch)",
        "wall: seconds on the clock, median (on a busy machine, the other "
        "processes' share too); cpu: CPU seconds of this process, median (about "
        "the wall time on an idle core); train: the round's training, wall",
        "",
    ]
    head = "".join(f" {side:>14}" for side in sides)
    lines.append(f"  {'':<50} {'':<5}{head}   target (wall)")

    def block(name, rows, verdict=""):
        out = []
        for key, what in (("seconds", "wall"), ("cpu_s", "cpu"), ("train_s", "train")):
            values = [float(np.median([r[side][key] for r in rows])) for side in sides]
            speed = values[0] / np.array(values)
            cells = "".join(
                f" {v:8.2f}s" + (f" {x:3.0f}x" if x >= 10 else f" {x:3.1f}x")
                if i
                else f" {v:8.2f}s     "
                for i, (v, x) in enumerate(zip(values, speed, strict=True))
            )
            out.append(
                f"  {name if what == 'wall' else '':<50} {what:<5}{cells}   "
                + (verdict if what == "wall" else "")
            )
        return out

    lines += block("first batch (prepares the tier, augments)", steps[:1])
    kinds = []
    for row in steps[1:]:
        if row["kind"] not in kinds:
            kinds.append(row["kind"])
    for kind in kinds:
        rows = [r for r in steps if r["kind"] == kind]
        first_n, n = rows[0][sides[-1]]["n_labeled"], rows[-1][sides[-1]]["n_labeled"]
        verdict = ""
        if kind.startswith("next batch"):
            name = f"next batch, {first_n}-{n} labels (median of {len(rows)})"
            within = {
                side: np.median([r[side]["seconds"] for r in rows]) <= target
                for side in sides
            }
            verdict = ", ".join(
                f"{side} {'ok' if ok else 'OVER'}" for side, ok in within.items()
            )
            verdict = f"{target:.0f} s: {verdict}"
        else:
            name = f"{kind} ({n} training labels)"
        lines += block(name, rows, verdict)
        if len(rows) > 1:
            for side in sides:
                lines.append(
                    f"  {f'  each, wall / cpu ({side})':<50}       "
                    + ", ".join(
                        f"{r[side]['seconds']:.2f}/{r[side]['cpu_s']:.2f}" for r in rows
                    )
                )
    return lines


# The fit before and after, paired (issue 30) ------------------------------------


def _fit_variants(names):
    """Estimators to compare: ``name -> build(prepared, n_labels)``."""
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.pipeline import Pipeline

    C = TfidfTier.C

    def pipe(features, *steps):
        return Pipeline([("tfidf", features), *steps])

    def lr(**params):
        return ("lr", LogisticRegression(C=C, max_iter=2000, **params))

    select = ("labeled_vocabulary", VarianceThreshold())
    every = {
        "before": lambda p, n: p["before"].build(classes=p["classes"]),
        "tfidf-lr": lambda p, n: p["tfidf-lr"].build(classes=p["classes"]),
        "tfidf-lr-20k": lambda p, n: p["tfidf-lr-20k"].build(classes=p["classes"]),
        # the options of scikit-learn, each alone
        "labeled columns + lbfgs": lambda p, n: pipe(p["features"], select, lr()),
        "newton-cg": lambda p, n: pipe(p["features"], lr(solver="newton-cg")),
        "lbfgs tol=1e-3": lambda p, n: pipe(p["features"], lr(tol=1e-3)),
        "saga": lambda p, n: pipe(p["features"], lr(solver="saga")),
        "sgd log_loss": lambda p, n: pipe(
            p["features"],
            (
                "lr",
                SGDClassifier(loss="log_loss", alpha=1.0 / (C * n), random_state=0),
            ),
        ),
        "warm start (lbfgs, from n - 50 labels)": lambda p, n: pipe(
            p["features"], lr(warm_start=True)
        ),
        "min_df=2, labeled columns + lbfgs": lambda p, n: pipe(
            p["min_df=2"], select, lr()
        ),
        "min_df=2, labeled columns + newton-cg": lambda p, n: pipe(
            p["min_df=2"], select, lr(solver="newton-cg")
        ),
        "max_features=20000, labeled columns + newton-cg": lambda p, n: pipe(
            p["max_features=20000"], select, lr(solver="newton-cg")
        ),
    }
    return {name: every[name] for name in names}


#: ``--compare-fits`` fits; ``--variants`` adds the rest of ``_fit_variants``.
FITS = ("before", "tfidf-lr", "tfidf-lr-20k")

#: ``--long`` sessions: (column, tier name).
LONG_SIDES = (
    ("before", BEFORE),
    ("tfidf-lr", "tfidf-lr"),
    ("tfidf-lr-20k", "tfidf-lr-20k"),
)
VARIANTS = (
    "labeled columns + lbfgs",
    "newton-cg",
    "lbfgs tol=1e-3",
    "saga",
    "sgd log_loss",
    "warm start (lbfgs, from n - 50 labels)",
    "min_df=2, labeled columns + lbfgs",
    "min_df=2, labeled columns + newton-cg",
    "max_features=20000, labeled columns + newton-cg",
)


def compare_fits(tasks, sizes, seeds, names, *, data_home, pool_size=5000, log=print):
    """Fit every variant on the same random labeled sets; score held-out data.

    Returns
    -------
    rows : list of dict
        One per task, size, seed and variant: ``accuracy``, ``macro_f1``,
        ``min_recall``, ``fit_s``.
    """
    from threadpoolctl import threadpool_limits

    from allsh_sklearn.models import FrozenRowCache, PairTfidfVectorizer, make_tier

    register_before_tier()
    variants = _fit_variants(names)
    rows = []
    for task in tasks:
        X, y, X_test, y_test, _ = load_task(
            task, data_home=data_home, pool_size=pool_size
        )
        classes = np.unique(y)
        after = make_tier("tfidf-lr").prepare(X)
        before = BeforeTfidfTier(BEFORE)
        before.features_ = after.features_  # the same frozen vocabulary
        prepared = {
            "classes": classes,
            "tfidf-lr": after,
            "before": before,
            "features": after.features_,
        }
        if "tfidf-lr-20k" in variants:
            prepared["tfidf-lr-20k"] = make_tier("tfidf-lr-20k").prepare(X)
        for name, params in (
            ("min_df=2", {"min_df": 2}),
            ("max_features=20000", {"max_features": 20000}),
        ):
            if any(name in v for v in variants):
                prepared[name] = FrozenRowCache(PairTfidfVectorizer(**params).fit(X))
        if "tfidf-lr-20k" in prepared:
            prepared["features_20k"] = prepared["tfidf-lr-20k"].features_
        for name in ("features", "features_20k", "min_df=2", "max_features=20000"):
            if name in prepared:  # memoize the rows before timing
                prepared[name].transform(X)
                prepared[name].transform(X_test)
        log(
            f"{task}: pool {len(y)}, test {len(y_test)}, "
            f"vocabulary {after.features_.transform(X[:1]).shape[1]:,}"
        )
        for n in sizes:
            for seed in seeds:
                chosen = initial_labeled_indices(
                    y, n, random_state=derive_seed(task, "fit-labels", n, seed)
                )
                texts, labels = [X[i] for i in chosen], y[chosen]
                for name, build in variants.items():
                    model = build(prepared, n)
                    with threadpool_limits(limits=1):
                        if name.startswith("warm start"):  # the previous round's
                            model.fit(texts[:-50], labels[:-50])
                        started, cpu = time.perf_counter(), time.process_time()
                        model.fit(texts, labels)
                        seconds = time.perf_counter() - started
                        cpu = time.process_time() - cpu
                    scores = evaluate_predictions(
                        y_test, model.predict(X_test), classes
                    )
                    rows.append(
                        {
                            "task": task,
                            "n_labels": n,
                            "seed": seed,
                            "fit": name,
                            "fit_s": seconds,
                            "fit_cpu_s": cpu,
                            **scores,
                        }
                    )
                log(
                    f"  {task} n={n} seed={seed}: "
                    + ", ".join(
                        f"{r['fit']} {r['accuracy']:.4f} ({r['fit_cpu_s']:.2f}s)"
                        for r in rows[-len(variants) :]
                    )
                )
    return rows


def _paired(rows, fit, metric, where):
    """Paired differences ``fit - before`` of ``metric`` over matching rows."""
    from scipy import stats

    keyed = {
        (r["task"], r["n_labels"], r["seed"], r["fit"]): r[metric]
        for r in rows
        if where(r)
    }
    pairs = [
        (value, keyed[(t, n, s, "before")])
        for (t, n, s, f), value in keyed.items()
        if f == fit and (t, n, s, "before") in keyed
    ]
    new, old = np.array(pairs).T
    difference = new - old
    if np.allclose(difference, 0):
        return float(np.mean(difference)), 0.0, 0.0, len(pairs)
    interval = stats.ttest_rel(new, old).confidence_interval(0.95)
    return float(np.mean(difference)), interval.low, interval.high, len(pairs)


def _fits_lines(rows):
    fits = list(dict.fromkeys(r["fit"] for r in rows))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    sizes = sorted({r["n_labels"] for r in rows})
    lines = [
        "Paired against the fit before (same labeled sets): mean difference in "
        "points [95% t interval, scipy.stats.ttest_rel]; fit: median CPU seconds "
        "of the fit (one BLAS thread; about the wall time on an idle core), this "
        "fit and the one before.",
        "",
    ]
    groups = [(t, n) for t in tasks for n in sizes] + [(t, None) for t in tasks]
    groups.append((None, None))
    for fit in fits:
        lines.append(f"{fit}:")
        lines.append(
            f"  {'task':<14} {'labels':>6} {'pairs':>5} {'accuracy':>8} "
            f"{'diff [95% CI]':>23} {'macro-F1':>8} {'diff [95% CI]':>23} "
            f"{'fit s':>7} {'before':>7}"
        )
        for task, n in groups:

            def where(r, task=task, n=n):
                return (task is None or r["task"] == task) and (
                    n is None or r["n_labels"] == n
                )

            mine = [r for r in rows if where(r) and r["fit"] == fit]
            base = [r for r in rows if where(r) and r["fit"] == "before"]
            cells = []
            for metric in ("accuracy", "macro_f1"):
                mean, low, high, count = _paired(rows, fit, metric, where)
                cells.append(
                    f"{100 * np.mean([r[metric] for r in mine]):8.2f} "
                    f"{100 * mean:+7.2f} [{100 * low:+6.2f}, {100 * high:+6.2f}]"
                )
            lines.append(
                f"  {task or 'all':<14} {n or 'all':>6} {count:>5} "
                + " ".join(cells)
                + f" {np.median([r['fit_cpu_s'] for r in mine]):7.2f}"
                f" {np.median([r['fit_cpu_s'] for r in base]):7.2f}"
            )
        lines.append("")
    return lines


def _line(name, value, target):
    ratio = value / target
    verdict = "ok" if ratio < 1 else "OVER"
    return (
        f"  {name:<58} {value:8.3f} s   target {target:5.1f} s   "
        f"ratio {ratio:5.2f}  {verdict}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=50_000)
    parser.add_argument("--warm", type=int, default=3, help="timed batches per tier")
    parser.add_argument("--skip-minilm", action="store_true")
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--keep", type=Path, help="keep the projects in this folder")
    parser.add_argument("--output", type=Path, help="write the figures as JSON")
    parser.add_argument(
        "--long", action="store_true", help="time long texts, before and now"
    )
    parser.add_argument("--long-texts", type=int, default=5000)
    parser.add_argument(
        "--long-sides",
        nargs="+",
        default=None,
        help="with --long: the sessions side by side, 'before' or tier names "
        "(default: before tfidf-lr tfidf-lr-20k)",
    )
    parser.add_argument("--long-labels", type=int, nargs="+", default=[800, 2000])
    parser.add_argument(
        "--compare-fits",
        action="store_true",
        help="held-out scores of the TF-IDF fits before and now, paired",
    )
    parser.add_argument(
        "--variants", action="store_true", help="with --compare-fits: every option"
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=["imdb", "ag_news-zipf", "long-8", "sst2"],
        help="with --compare-fits",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument(
        "--pool-size", type=int, default=5000, help="with --compare-fits: pool texts"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    if args.long or args.compare_fits:
        return main_issue_30(args)

    X, y = load_dataset("sst2", "train", data_home=args.data_home, return_X_y=True)
    X, y = list(X)[: args.n_texts], np.asarray(y)[: args.n_texts]
    ids = [f"s{i}" for i in range(len(X))]
    table = pd.DataFrame({"id": ids, "text": X})
    truth = {i: LABELS[int(label)] for i, label in zip(ids, y, strict=True)}
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-session-"))
    folder.mkdir(parents=True, exist_ok=True)
    truth_file = folder / "truth.json"
    truth_file.write_text(json.dumps(truth))
    results = {
        "n_texts": len(X),
        "dataset": "sst2 train (first texts)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "tiers": [],
    }
    tiers = ["tfidf-lr"] + ([] if args.skip_minilm else ["minilm-frozen"])
    import_seconds = None
    for classifier in tiers:
        print(f"\n=== {classifier} ===", flush=True)
        figures, project = run_tier(
            classifier, table, truth, folder, args.warm, truth_file
        )
        if classifier == "tfidf-lr":
            import_seconds = time_import(project, truth)
        results["tiers"].append(figures)
    results["import_1000_s"] = import_seconds
    results["blas_threads_fit_s"] = blas_threads(X, truth)
    results["machine"]["load_average_at_end"] = os.getloadavg()

    print(f"\n{len(X)} texts (SST-2 train), ALLSH, batches of 50 (10% audit)")
    print(
        "load average at start / end: "
        f"{results['machine']['load_average_at_start'][0]:.2f} / "
        f"{results['machine']['load_average_at_end'][0]:.2f} on "
        f"{results['machine']['cpus']} cores"
    )
    first = results["tiers"][0]
    print(
        _line(
            "open + next text (fresh process, after import)",
            first["reopen"]["open_next_item_s"],
            1.0,
        )
    )
    print(
        f"  {'(package import in that process)':<58} "
        f"{first['reopen']['import_s']:8.3f} s"
    )
    print(_line("import 1,000 labels (CSV)", import_seconds, 1.0))
    threads = results["blas_threads_fit_s"]
    print(f"  TF-IDF + LR fit, BLAS {threads['blas']}:")
    for n in ("200", "1000"):
        row = threads[n]
        print(
            f"    {n} labels: default threads {row['default']:.3f} s, one thread "
            f"{row['one']:.3f} s (ratio {row['default'] / row['one']:.1f})"
        )
    targets = {"tfidf-lr": 5.0, "minilm-frozen": 10.0}
    for figures in results["tiers"]:
        name = figures["classifier"]
        target = targets[name]
        warm = figures["warm_next_batch_s"]
        print(f" {name}:")
        print(
            _line(
                "next batch of 50, running session (median)",
                float(np.median(warm)),
                target,
            )
        )
        print(f"  {'  each':<58} " + ", ".join(f"{w:.2f}" for w in warm))
        print(
            _line(
                "next batch of 50, just-reopened process",
                figures["reopen_batch"]["next_batch_s"],
                target,
            )
        )
        print(
            f"  {'first next batch in the session (prepares, augments)':<58} "
            f"{figures['first_next_batch_s']:8.3f} s"
        )
        print(
            f"  {'texts encoded: first batch / on reopening':<58} "
            f"{figures['encoded_first']} / {figures['encoded_on_reopen']}"
        )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1))
        print(f"\nwrote {args.output}")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def main_issue_30(args):
    """``--long`` and ``--compare-fits``: print the figures, write the JSON."""
    load = os.getloadavg()
    header = [
        f"bench_session.py {'--long' if args.long else '--compare-fits'}: "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} at start, Python "
        f"{platform.python_version()}"
    ]
    results = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": load}}
    if args.long:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-session-long-"))
        folder.mkdir(parents=True, exist_ok=True)
        results["long"] = run_long(
            folder,
            n_texts=args.long_texts,
            checkpoints=args.long_labels,
            n_warm=args.warm,
            data_home=args.data_home,
            sides=args.long_sides,
        )
        lines = _long_lines(results["long"])
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        fits = FITS + (VARIANTS if args.variants else ())
        results["fits"] = compare_fits(
            args.tasks,
            args.sizes,
            args.seeds,
            fits,
            data_home=args.data_home,
            pool_size=args.pool_size,
        )
        lines = _fits_lines(results["fits"])
    end = os.getloadavg()
    results["machine"]["load_average_at_end"] = end
    print("\n" + "\n".join(header + [f"load average at end {end[0]:.2f}", ""] + lines))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1, default=float))
        print(f"\nwrote {args.output}")
    return results


if __name__ == "__main__":
    main()
