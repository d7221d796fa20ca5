"""The Label Studio ML backend's answer times: /predict for 5,000 tasks, webhooks.

A session of ``--pool`` SST-2 training phrases (TF-IDF + logistic
regression, ``--strategy``, ALLSH by default) after one round, served by
:class:`~allsh_sklearn.labelstudio.BackgroundBackend` on 127.0.0.1 and
called over HTTP (``http.client``, one connection kept alive, headers and
body in one packet as Label Studio's ``requests`` sends them) with the bodies
Label Studio 1.23 sends (their shape from ``tests/fixtures/labelstudio/backend``):

- ``POST /predict`` for ``--tasks`` tasks (5,000 by default), the first call
  (the model's guesses computed) and again (cached per model version): what
  "Retrieve Predictions" on the whole project, or the push after a
  retraining, costs;
- ``POST /webhook``: ``--webhooks`` annotations (``ANNOTATION_CREATED``), each
  timed from request to answer, while the backend retrains in the background
  every ``--retrain-every`` labels; then the same webhooks sent again (nothing
  stored). Label Studio gives a webhook 1 s and never retries.

Run::

    ALLSH_SKLEARN_DATA=../shared/data python benchmarks/bench_labelstudio.py
    python benchmarks/bench_labelstudio.py --pool 6000 --tasks 5000 \\
        --webhooks 200 --json results/benchmarks/labelstudio.json
"""

import argparse
import copy
import http.client
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from _common import default_data_home

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.labelstudio import BackgroundBackend
from allsh_sklearn.labelstudio._app import basic_authorization
from allsh_sklearn.session import LabelingSession

FIXTURES = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "fixtures"
    / "labelstudio"
    / "backend"
)
SECRET = "benchmark-secret-0123456789"


def unique_texts(n, data_home):
    """The first ``n`` distinct SST-2 training phrases and their labels."""
    bunch = load_dataset("sst2", "train", data_home=data_home)
    names = list(bunch.target_names)
    seen, texts, truth = set(), [], []
    for text, target in zip(bunch.data, bunch.target, strict=True):
        if text.strip() and text not in seen:
            seen.add(text)
            texts.append(text)
            truth.append(names[int(target)])
            if len(texts) == n:
                break
    if len(texts) < n:
        raise SystemExit(f"SST-2 has only {len(texts)} distinct phrases; use --pool.")
    return texts, truth, names


def make_session(folder, texts, truth, labels, strategy, batch_size):
    """A session after one round: its first batch labeled, a queried batch open."""
    table = pd.DataFrame({"id": [f"s{i}" for i in range(len(texts))], "text": texts})
    session = LabelingSession.create(
        folder,
        table,
        labels=labels,
        id_column="id",
        classifier="tfidf-lr",
        strategy=strategy,
        batch_size=batch_size,
        audit_fraction=0.1,
        stop_set_size=200,
        progress=False,
    )
    answer = dict(zip(table["id"], truth, strict=True))
    for item in session.next_batch().items:
        session.label(item.item_id, answer[item.item_id], annotator="bench")
    started = time.perf_counter()
    session.next_batch()
    return session, answer, time.perf_counter() - started


class Client:
    """One kept-alive HTTP connection; each request goes out in one write."""

    def __init__(self, url, headers):
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=300)
        self.headers = headers

    def post(self, path, body):
        self.connection.request("POST", path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def percentiles(values):
    values = np.asarray(values) * 1000
    return {
        "n": int(values.size),
        "median_ms": round(float(np.median(values)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
        "max_ms": round(float(values.max()), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=6000)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--retrain-every", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--strategy", default="allsh")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    if args.tasks > args.pool:
        parser.error("--tasks cannot exceed --pool")

    texts, truth, labels = unique_texts(args.pool, args.data_home)
    folder = Path(tempfile.mkdtemp(prefix="allsh-bench-ls-")) / "project"
    try:
        session, answer, round_seconds = make_session(
            folder, texts, truth, labels, args.strategy, args.batch_size
        )
        print(
            f"Session of {args.pool:,} phrases ({args.strategy}), round 1 in "
            f"{round_seconds:.1f} s"
        )
        predict_body = json.loads((FIXTURES / "08-predict.json").read_text())["body"]
        template = predict_body["tasks"][0]
        ids = [f"s{i}" for i in range(args.tasks)]
        tasks = []
        for number, item_id in enumerate(ids, start=1):
            task = copy.deepcopy(template)
            task.update(id=number, annotations=[], predictions=[])
            task["data"] = {
                "text": texts[int(item_id[1:])],
                "allsh_id": item_id,
                "allsh_session": session.session_id,
            }
            tasks.append(task)
        predict_body["tasks"] = tasks
        body = json.dumps(predict_body).encode()
        headers = {
            "Authorization": basic_authorization(SECRET),
            "Content-Type": "application/json",
        }
        results = {
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "pool": args.pool,
            "strategy": args.strategy,
            "round_seconds": round(round_seconds, 2),
        }
        with BackgroundBackend(
            folder, secret=SECRET, retrain_every=args.retrain_every
        ) as server:
            client = Client(server.url, headers)
            server.backend.worker.wait_idle(300)
            times = []
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                status, content = client.post("/predict", body)
                times.append(time.perf_counter() - started)
                assert status == 200, content[:500]
            out = json.loads(content)
            assert len(out["results"]) == args.tasks
            scores = [r["score"] for r in out["results"]]
            results["predict"] = {
                "tasks": args.tasks,
                "body_mb": round(len(body) / 2**20, 2),
                "answer_mb": round(len(content) / 2**20, 2),
                "first_s": round(times[0], 3),
                "cached_median_s": round(statistics.median(times[1:]), 3),
                "model_version": out["model_version"],
                "in_batch": sum(s < 0.5 for s in scores),
            }
            print(
                f"/predict, {args.tasks:,} tasks ({len(body) / 2**20:.1f} MB): first "
                f"{times[0]:.2f} s, then {statistics.median(times[1:]):.2f} s "
                f"(median of {args.repeat})"
            )

            hook = json.loads(
                (FIXTURES / "02-webhook-annotation-created.json").read_text()
            )["body"]
            order = [f"s{i}" for i in np.random.RandomState(0).permutation(args.pool)]
            batch = {item.item_id for item in session.current_batch().items}
            chosen = []
            for item_id in order:
                item = session.item(item_id)
                if item_id not in batch and item.label is None and not item.skipped:
                    chosen.append(item_id)
                if len(chosen) == args.webhooks:
                    break
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            bodies = []
            for number, item_id in enumerate(chosen, start=1000):
                one = copy.deepcopy(hook)
                one["annotation"].update(id=number, created_at=now, updated_at=now)
                one["annotation"]["task"] = number
                one["annotation"]["result"][0]["value"]["choices"] = [answer[item_id]]
                one["task"].update(id=number)
                one["task"]["data"] = {
                    "text": texts[int(item_id[1:])],
                    "allsh_id": item_id,
                    "allsh_session": session.session_id,
                }
                one["project"]["id"] = 1
                bodies.append(json.dumps(one).encode())
            rounds_before = len(session.rounds())
            first = []
            for one in bodies:
                started = time.perf_counter()
                status, content = client.post("/webhook", one)
                first.append(time.perf_counter() - started)
                assert json.loads(content).get("label") == 1, content
            server.backend.worker.wait_idle(600)
            again = []
            for one in bodies:
                started = time.perf_counter()
                status, content = client.post("/webhook", one)
                again.append(time.perf_counter() - started)
                assert json.loads(content).get("unchanged") == 1, content
            results["webhook"] = percentiles(first)
            results["webhook_again"] = percentiles(again)
            results["webhook"]["over_1s"] = sum(t >= 1.0 for t in first)
            results["retrains_meanwhile"] = len(session.rounds()) - rounds_before
            print(
                f"webhook (label stored), {len(first)} sent: median "
                f"{results['webhook']['median_ms']:.1f} ms, p95 "
                f"{results['webhook']['p95_ms']:.1f} ms, max "
                f"{results['webhook']['max_ms']:.1f} ms; "
                f"{results['retrains_meanwhile']} retrainings in the background"
            )
            print(
                f"webhook sent again (nothing stored): median "
                f"{results['webhook_again']['median_ms']:.1f} ms, p95 "
                f"{results['webhook_again']['p95_ms']:.1f} ms"
            )
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
