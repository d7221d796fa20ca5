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
(KL to one TF-IDF copy). Run::

    python benchmarks/bench_session.py                  # both tiers
    python benchmarks/bench_session.py --skip-minilm    # TF-IDF + LR only
    python benchmarks/bench_session.py --output results/benchmarks/bench_session.json
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

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.session import LabelingSession

LABELS = ["negative", "positive"]


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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    main()
