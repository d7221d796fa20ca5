"""
Labeling your own data: 50,000 texts, two annotators, one session
=================================================================

The story of the user guide's "Labeling your own data": a team has 50,000
short customer comments and wants a positive/negative classifier without
labeling them all. The first 50,000 phrases of SST-2's training split stand
in for the comments; their labels are hidden from the session and revealed,
one text at a time, by two scripted annotators:

- alice labels in the session itself (what ``allsh-label annotate`` does);
- bob works from files: every other batch is exported to CSV, labeled
  outside, and imported back (``allsh-label next --output`` /
  ``allsh-label import``).

The session picks the texts with ALLSH (its default), trains TF-IDF +
logistic regression after every batch of 50, and draws 10% of each batch
at random as an audit sample that is never trained on. After every round
the script also measures the model on SST-2's dev split (6,735 phrases from
the same source, never shown to the session): the true accuracy that the
audit sample estimates. It stops when the budget rule says so (1,500
training labels) and reports where each stopping rule first said stop.

Outputs: the learning curve (``docs/user_guide/labeling_curve.png``) and
the figures the guide quotes (``results/labeling_story.json``). Run::

    ALLSH_SKLEARN_DATA=../shared/data python examples/labeling_session_story.py

``--pool``, ``--budget`` and ``--batch-size`` shrink the run.
"""

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.session import LabelingSession
from allsh_sklearn.stopping import (
    DivergencePlateau,
    LabelBudget,
    OverallUncertainty,
    StabilizingPredictions,
)

LABELS = ["negative", "positive"]
ROOT = Path(__file__).resolve().parents[1]


def alice_labels(session, truth):
    """Alice labels the open batch in the session, one text at a time."""
    n = 0
    while (item := session.next_item("alice")) is not None:
        session.label(item.item_id, truth[item.item_id], annotator="alice")
        n += 1
    return n


def bob_labels(session, truth, folder):
    """Bob gets the batch as a CSV file, fills its label column, sends it back."""
    path = folder / "batch_for_bob.csv"
    session.export_batch(path)
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    batch["label"] = [truth[i] for i in batch["id"]]
    batch["annotator"] = "bob"
    batch.to_csv(path, index=False)
    return session.import_labels(path).n_imported


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--pool", type=int, default=50_000)
    parser.add_argument("--budget", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--audit-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--plot", type=Path, default=ROOT / "docs" / "user_guide" / "labeling_curve.png"
    )
    parser.add_argument(
        "--summary", type=Path, default=ROOT / "results" / "labeling_story.json"
    )
    args = parser.parse_args(argv)

    X, y = load_dataset("sst2", "train", return_X_y=True)
    X, y = list(X)[: args.pool], np.asarray(y)[: args.pool]
    X_dev, y_dev = load_dataset("sst2", "dev", return_X_y=True)
    y_dev = np.asarray([LABELS[int(label)] for label in y_dev])
    folder = Path(tempfile.mkdtemp(prefix="labeling-story-"))
    ids = [f"c{i:05d}" for i in range(len(X))]
    pd.DataFrame({"comment_id": ids, "comment": X}).to_csv(
        folder / "comments.csv", index=False
    )
    truth = {i: LABELS[int(label)] for i, label in zip(ids, y, strict=True)}

    session = LabelingSession.create(
        folder / "project",
        folder / "comments.csv",
        labels=LABELS,
        text_column="comment",
        id_column="comment_id",
        classifier="tfidf-lr",
        strategy="allsh",
        batch_size=args.batch_size,
        audit_fraction=args.audit_fraction,
        stopping_rules={
            "stabilizing": StabilizingPredictions(window=3, threshold=0.99),
            "uncertainty": OverallUncertainty(threshold=0.1),
            "divergence": DivergencePlateau(window=3, tolerance=0.02),
            "budget": LabelBudget(args.budget),
        },
        random_state=args.seed,
        progress=False,
    )
    truth_curve, started = [], time.perf_counter()
    batch = session.next_batch()
    while True:
        if batch.batch % 2:
            alice_labels(session, truth)
        else:
            bob_labels(session, truth, folder)
        batch = session.next_batch()  # retrains on every label, queries 50 more
        last = session.rounds()[-1]
        predicted, _ = session.predict(X_dev)
        accuracy = float(np.mean(np.asarray(predicted) == y_dev))
        truth_curve.append((last.n_labeled, accuracy))
        audit = f"audit {last.audit_summary or '-'}"
        fired = ",".join(last.stopped_by) or "-"
        print(
            f"round {last.round:3d}: {last.n_labeled:5d} labels  dev "
            f"{accuracy:.3f}  {audit}  stop: {fired}",
            flush=True,
        )
        if any(c["rule"] == "budget" and c["stop"] for c in last.checks):
            break
    final = truth_curve[-1][1]
    rounds = session.rounds()
    session.plot_learning_curve(args.plot, truth=truth_curve)
    first_stop = {}
    for r in rounds:
        for check in r.checks:
            if check["stop"] and check["rule"] not in first_stop:
                first_stop[check["rule"]] = {
                    "round": r.round,
                    "n_labeled": r.n_labeled,
                    "value": check["value"],
                    "dev_accuracy": dict(truth_curve).get(r.n_labeled),
                }
    status = session.status()
    summary = {
        "pool": len(X),
        "dev_size": len(X_dev),
        "batch_size": args.batch_size,
        "audit_fraction": args.audit_fraction,
        "budget": args.budget,
        "seed": args.seed,
        "seconds": time.perf_counter() - started,
        "final": {
            "n_labeled": status.n_labeled,
            "n_audit_labeled": status.n_audit_labeled,
            "class_counts": status.class_counts,
            "annotators": status.annotators,
            "dev_accuracy": final,
            "audit_accuracy": rounds[-1].audit_accuracy,
            "audit_interval": [rounds[-1].audit_low, rounds[-1].audit_high],
            "n_audit": rounds[-1].n_audit,
        },
        "first_stop": first_stop,
        "rounds": [
            {
                "round": r.round,
                "n_labeled": r.n_labeled,
                "dev_accuracy": dict(truth_curve).get(r.n_labeled),
                "audit_accuracy": r.audit_accuracy,
                "audit_interval": [r.audit_low, r.audit_high],
                "n_audit": r.n_audit,
                "checks": {c["rule"]: [c["value"], c["stop"]] for c in r.checks},
            }
            for r in rounds
        ],
    }
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=1))
    inside = sum(
        1
        for r in summary["rounds"]
        if r["n_audit"]
        and r["dev_accuracy"] is not None
        and r["audit_interval"][0] <= r["dev_accuracy"] <= r["audit_interval"][1]
    )
    audited = sum(1 for r in summary["rounds"] if r["n_audit"] and r["dev_accuracy"])
    print(
        f"\n{status.n_labeled} training + {status.n_audit_labeled} audit labels; "
        f"dev accuracy {final:.3f}; audit estimate {rounds[-1].audit_accuracy:.3f} "
        f"[{rounds[-1].audit_low:.3f}, {rounds[-1].audit_high:.3f}] on "
        f"{rounds[-1].n_audit} texts; the dev accuracy fell inside the audit's "
        f"95% interval in {inside} of {audited} rounds"
    )
    for rule, where in first_stop.items():
        print(
            f"{rule} first said stop at round {where['round']} "
            f"({where['n_labeled']} labels)"
        )
    print(f"wrote {args.plot} and {args.summary}")
    session.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
