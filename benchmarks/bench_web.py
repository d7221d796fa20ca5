"""Labeling page latency: from a key press to the next text on screen.

A real browser (Debian's headless Chromium, driven by Selenium through
/usr/bin/chromedriver) labels a queried batch of an ALLSH session with the
keyboard. For every key press the page itself records (``window.allshTimings``)
the milliseconds from the ``keydown`` event to the next text put in the page
(``to DOM``) and to the frame after it was painted (``to paint``); the server
reports how long the session took (label committed, next text claimed) in a
``Server-Timing`` header. Retraining is excluded: it runs before the timed
batch.

The same measurement runs side by side on a small and a large session (by
default 1,000 and 50,000 SST-2 training phrases, TF-IDF + logistic
regression, ALLSH) so the ratio shows whether the pool's size reaches the
annotator. The target: under 100 ms from key press to the next text on the
50,000-text session.

Run::

    ALLSH_SKLEARN_DATA=../shared/data python benchmarks/bench_web.py
    python benchmarks/bench_web.py --sizes 1000 50000 --batch-size 50 \\
        --json results/benchmarks/web_latency.json

With ``--batch-sizes`` it measures the server alone instead, over HTTP (no
browser): for each batch size, a session of ``--pool`` SST-2 phrases whose
open batch of that size was queried by ALLSH after one round; one client
labels ``--requests`` texts of it, timing each ``POST /label`` from request
to answer. Beside it, the time to read the whole open batch once
(``current_batch()``), which every label paid before the page kept the
batch's progress itself, and how many times the page read the batch in
full during the run. The target: the same per-label cost at both sizes::

    python benchmarks/bench_web.py --batch-sizes 50 2600 --pool 6000
"""

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import default_data_home

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.session import LabelingSession
from allsh_sklearn.web import BackgroundServer
from allsh_sklearn.web._browser import CHROMIUM, headless_chromium


def unique_texts(n, data_home):
    """The first ``n`` distinct SST-2 training phrases and their labels."""
    bunch = load_dataset("sst2", "train", data_home=data_home)
    names = list(bunch.target_names)
    seen, texts, truth = set(), [], {}
    for text, target in zip(bunch.data, bunch.target, strict=True):
        if text.strip() and text not in seen:
            seen.add(text)
            texts.append(text)
            truth[text] = names[int(target)]
            if len(texts) == n:
                break
    if len(texts) < n:
        raise SystemExit(
            f"SST-2's training split has only {len(texts)} distinct texts."
        )
    return texts, truth, names


def prepare(folder, texts, truth, labels, batch_size):
    """A session whose open batch was queried by ALLSH after one round."""
    started = time.perf_counter()
    session = LabelingSession.create(
        folder,
        pd.DataFrame({"text": texts}),
        labels=labels,
        classifier="tfidf-lr",
        strategy="allsh",
        batch_size=batch_size,
        progress=False,
    )
    created = time.perf_counter()
    for item in session.next_batch().items:
        session.label(item.item_id, truth[item.text], annotator="scripted")
    labeled = time.perf_counter()
    round_info = session.retrain()
    retrained = time.perf_counter()
    batch = session.current_batch()
    n_explained = sum(item.explanation is not None for item in batch.items)
    session.close()
    return {
        "create_seconds": created - started,
        "first_batch_seconds": labeled - created,
        "retrain_and_query_seconds": retrained - labeled,
        "round": round_info.round,
        "batch_size": len(batch.items),
        "n_explained": n_explained,
    }


def server_ms(header, name):
    for part in header.split(","):
        fields = dict(
            field.strip().split("=", 1) if "=" in field else (field.strip(), "")
            for field in part.split(";")
        )
        if name in fields:
            return float(fields["dur"])
    return float("nan")


def measure(driver, url, truth, labels, n_skips):
    """Label the open batch from the keyboard; the page's timings of each press."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(url + "label")
    field = driver.find_element(By.ID, "annotator")
    field.send_keys("bench", Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "current"))
    driver.find_element(By.TAG_NAME, "body").click()
    presses = 0
    while True:
        text = driver.execute_script(
            "const t = document.getElementById('text'); return t ? t.textContent : null"
        )
        if text is None:
            break
        key = "s" if presses < n_skips else str(labels.index(truth[text]) + 1)
        ActionChains(driver).send_keys(key).perform()
        presses += 1
        WebDriverWait(driver, 30).until(
            lambda d, n=presses: (
                d.execute_script("return window.allshTimings.length") >= n
            )
        )
    return driver.execute_script("return window.allshTimings")


def summary(values):
    values = np.asarray(values, dtype=float)
    return {
        "n": int(values.size),
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "p95": float(np.percentile(values, 95)),
        "max": float(values.max()),
        "mean": float(values.mean()),
    }


def prepare_batch(folder, texts, truth, labels, batch_size):
    """A session whose open batch of ``batch_size`` texts ALLSH queried.

    The first (random) batch is imported as labels in one transaction, then
    the session retrains and queries the next batch.
    """
    started = time.perf_counter()
    session = LabelingSession.create(
        folder,
        pd.DataFrame({"text": texts}),
        labels=labels,
        classifier="tfidf-lr",
        strategy="allsh",
        batch_size=batch_size,
        progress=False,
    )
    first = session.next_batch()
    given = Path(folder) / "first-batch.csv"
    pd.DataFrame(
        {
            "id": [item.item_id for item in first.items],
            "label": [truth[item.text] for item in first.items],
        }
    ).to_csv(given, index=False)
    session.import_labels(given, annotator="scripted")
    session.retrain()
    batch = session.current_batch()
    reread = []
    for _ in range(5):
        begin = time.perf_counter()
        session.current_batch()
        reread.append(1000 * (time.perf_counter() - begin))
    session.close()
    return {
        "setup_seconds": time.perf_counter() - started,
        "batch_size": len(batch.items),
        "n_explained": sum(item.explanation is not None for item in batch.items),
        "reread_ms": float(np.median(reread)),
    }


def measure_http(url, truth, labels, n_requests):
    """Label ``n_requests`` texts over HTTP; per-request and server times (ms)."""
    import html
    import re

    import httpx

    origin = url.rstrip("/")
    with httpx.Client(base_url=url, timeout=60) as client:
        page = client.get("/label").text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        headers = {"Origin": origin, "X-CSRF-Token": token}
        client.post("/annotator", data={"annotator": "bench"}, headers=headers)
        page = client.get("/label").text
        headers["X-Requested-With"] = "fetch"
        wall, server = [], []
        for _ in range(n_requests):
            item = re.search(r'data-item-id="([^"]*)"', page)
            text = re.search(r'<div class="text" id="text">(.*?)</div>', page, re.S)
            if item is None or not item.group(1) or text is None:
                break
            label = truth.get(html.unescape(text.group(1)), labels[0])
            begin = time.perf_counter()
            response = client.post(
                "/label",
                data={"item_id": item.group(1), "label": label},
                headers=headers,
            )
            wall.append(1000 * (time.perf_counter() - begin))
            response.raise_for_status()
            server.append(server_ms(response.headers["server-timing"], "session"))
            page = response.text
    return wall, server


def main_batches(args):
    """Per-label cost over HTTP for each of ``args.batch_sizes``, side by side."""
    pool = max(args.pool, 2 * max(args.batch_sizes) + 100)
    texts, truth, labels = unique_texts(pool, args.data_home)
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    results = []
    try:
        for size in args.batch_sizes:
            print(f"\n== batch of {size} texts (ALLSH, pool {pool})", flush=True)
            setup = prepare_batch(work / f"batch-{size}", texts, truth, labels, size)
            print(
                "set-up (not timed below): {setup_seconds:.0f} s; open batch of "
                "{batch_size} texts, {n_explained} with an ALLSH explanation; "
                "reading it whole: {reread_ms:.1f} ms".format(**setup),
                flush=True,
            )
            with BackgroundServer(work / f"batch-{size}") as server:
                backend = server.app.state.backend
                wall, session_ms = measure_http(
                    server.url, truth, labels, min(args.requests, size - 1)
                )
                reads = getattr(backend, "batch_reads", "-")  # older pages: -
            results.append(
                {
                    "batch": size,
                    **setup,
                    "request_ms": summary(wall),
                    "server_session_ms": summary(session_ms),
                    "batch_reads": reads,
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\nPOST /label, request to answer over HTTP on 127.0.0.1 (ms)")
    print(
        f"{'batch':>6} {'n':>4} {'median':>7} {'p90':>7} {'max':>7} "
        f"{'server':>7} {'full reads':>10} {'one read':>9}"
    )
    for row in results:
        wall = row["request_ms"]
        print(
            f"{row['batch']:>6} {wall['n']:>4} {wall['median']:>7.1f} "
            f"{wall['p90']:>7.1f} {wall['max']:>7.1f} "
            f"{row['server_session_ms']['median']:>7.1f} {row['batch_reads']:>10} "
            f"{row['reread_ms']:>9.1f}"
        )
    print(
        "server: the session's part (label stored, next text claimed), median; "
        "full reads: times the page read the open batch whole during the run; "
        "one read: what that costs, and what every label paid before the page "
        "kept the batch's progress itself."
    )
    if len(results) > 1:
        small, large = results[0], results[-1]
        ratio = large["request_ms"]["median"] / small["request_ms"]["median"]
        print(f"median ratio batch {large['batch']} / {small['batch']}: {ratio:.2f}")
    if args.json:
        record = {
            "benchmark": "bench_web --batch-sizes",
            "pool": pool,
            "cpu_count": os.cpu_count(),
            "results": results,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
        print(f"written to {args.json}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--skips", type=int, default=5, help="skips among the presses")
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=None,
        help="measure the server over HTTP on open batches of these sizes (no browser)",
    )
    parser.add_argument(
        "--pool", type=int, default=6000, help="texts per session, --batch-sizes"
    )
    parser.add_argument(
        "--requests", type=int, default=100, help="labels timed per batch size"
    )
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if args.batch_sizes:
        return main_batches(args)

    texts, truth, labels = unique_texts(max(args.sizes), args.data_home)
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    profile = work / "chromium-profile"
    driver = headless_chromium(profile)
    results = []
    try:
        for size in args.sizes:
            print(f"\n== {size} texts: ALLSH with TF-IDF + LR, batch {args.batch_size}")
            setup = prepare(
                work / f"session-{size}", texts[:size], truth, labels, args.batch_size
            )
            print(
                "set-up (not timed below): create {create_seconds:.1f} s, retrain "
                "and query {retrain_and_query_seconds:.1f} s, {n_explained} of "
                "{batch_size} texts with an ALLSH explanation".format(**setup)
            )
            with BackgroundServer(work / f"session-{size}") as server:
                timings = measure(driver, server.url, truth, labels, args.skips)
            row = {"pool": size, **setup}
            for action in ("label", "skip"):
                chosen = [t for t in timings if t["action"] == action]
                if not chosen:
                    continue
                row[action] = {
                    "to_paint_ms": summary([t["toPaint"] for t in chosen]),
                    "to_dom_ms": summary([t["toDom"] for t in chosen]),
                    "server_session_ms": summary(
                        [server_ms(t["server"], "session") for t in chosen]
                    ),
                }
            results.append(row)
    finally:
        driver.quit()
        shutil.rmtree(work, ignore_errors=True)

    print("\nKey press to the next text on screen (ms), label presses")
    header = f"{'pool':>8} {'n':>4} {'median':>8} {'p90':>8} {'p95':>8} {'max':>8}"
    header += f" {'to DOM':>8} {'server':>8}"
    print(header)
    for row in results:
        paint = row["label"]["to_paint_ms"]
        print(
            f"{row['pool']:>8} {paint['n']:>4} {paint['median']:>8.1f} "
            f"{paint['p90']:>8.1f} {paint['p95']:>8.1f} {paint['max']:>8.1f} "
            f"{row['label']['to_dom_ms']['median']:>8.1f} "
            f"{row['label']['server_session_ms']['median']:>8.1f}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        ratio = (
            large["label"]["to_paint_ms"]["median"]
            / small["label"]["to_paint_ms"]["median"]
        )
        print(f"median ratio {large['pool']} / {small['pool']} texts: {ratio:.2f}")
    large = results[-1]
    p95 = large["label"]["to_paint_ms"]["p95"]
    verdict = "under" if p95 < 100 else "OVER"
    print(
        f"target: p95 {p95:.1f} ms on {large['pool']} texts, {verdict} 100 ms "
        f"(median {large['label']['to_paint_ms']['median']:.1f} ms)"
    )
    if args.json:
        record = {
            "benchmark": "bench_web",
            "chromium": CHROMIUM,
            "batch_size": args.batch_size,
            "cpu_count": os.cpu_count(),
            "results": results,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
        print(f"written to {args.json}")
    return results


if __name__ == "__main__":
    main()
