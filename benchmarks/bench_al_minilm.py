"""Active learning on SST-2 with the fine-tuned MiniLM: random vs ALLSH vs ALLSH + CL.

One run per strategy and seed, from the same initial labeled set (0.1% of the
pool, drawn uniformly at random as in the paper) up to the budget (2% of the
pool by default), acquiring ``--acquisition-size`` texts per iteration (50 in
the paper). At each labeled-set size the script prints the test accuracy and
the seconds spent in the iteration's phases:

- ``train``: retraining the classifier on the labeled set (``teach``), which
  for ALLSH + CL includes augmenting the unlabeled texts it uses;
- ``infer``: the strategy's model passes over the pool (and, for ALLSH, over
  the augmented pool);
- ``select``: augmentation of the pool for ALLSH (cached across iterations)
  and scoring / top-k selection.

Settings follow the paper where they fit: the bundled all-MiniLM-L6-v2
stands in for BERT-base, fine-tuned whole in float32 (``--tier full``;
``--tier fast --lr 1e-4`` trains the top 2 layers on a cached frozen trunk,
see ``bench_fast_finetune.py``); batch 16, lr 2e-5, AdamW, max length 128;
``--train-steps`` optimisation steps per fit (the paper's CL runs 200
iterations); TF-IDF augmentation with p = 0.3; KL divergence; CL weight
alpha = 0.01.

The defaults (a 5,000-text pool, 200 steps per fit) take hours on a 2-core
CPU. Smaller settings for a quick look::

    python benchmarks/bench_al_minilm.py --pool-size 500 --n-test 200 \\
        --train-steps 20 --acquisition-size 10 --budget 0.06

Full run::

    python benchmarks/bench_al_minilm.py --output al_minilm.json

The paper's protocol on its whole SST-2 pool (60,614 phrases) up to its 606
labels, random against ALLSH, on a GPU, as many seeds as fit in 7 minutes
(``tools/gpu_sst2_full_pool.sh`` prepares and runs it on a device
machine)::

    python benchmarks/bench_al_minilm.py --pool-size 0 --labels 606 \
        --strategies random allsh --seeds 0 1 2 3 4 5 6 7 8 9 \
        --device cuda --inference-batch-size 1024 --time-limit 420

At the end it prints each strategy's paired difference from random at the
last labeled-set size, with its 95% t interval
(:func:`allsh_sklearn.evaluation.paired_difference`).
"""

import argparse
import json
import math
import time

import numpy as np

from allsh_sklearn import ActiveLearner
from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.evaluation import paired_difference
from allsh_sklearn.models import ConsistencyLoss, TransformerClassifier
from allsh_sklearn.strategies import ALLSH, RandomSampling

STRATEGIES = ("random", "allsh", "allsh+cl")


#: ``--tier``: the whole model in float32 (the paper's setting, what this
#: script measured first) or TransformerClassifier's defaults (the top 2
#: layers on a cached frozen trunk, bfloat16 where native).
TIER_PARAMS = {
    "full": {"trainable_layers": None, "precision": "float32"},
    "fast": {},
}


def make_classifier(strategy, args, seed):
    params = {
        "model": args.model,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "train_steps": args.train_steps,
        "max_length": args.max_length,
        "inference_batch_size": args.inference_batch_size,
        "random_state": seed,
        "progress_bar": args.progress,
        "device": args.device,
        **TIER_PARAMS[args.tier],
    }
    if strategy == "allsh+cl":
        params["criterion"] = ConsistencyLoss
        params["criterion__alpha"] = args.cl_alpha
    return TransformerClassifier(**params)


def make_strategy(strategy, seed):
    if strategy == "random":
        return RandomSampling(random_state=seed)
    return ALLSH(divergence="kl", random_state=seed)


def schedule(pool_size, initial, budget, step, labels=None):
    """Labeled-set sizes: the initial size, then +step up to the budget.

    ``labels``, where given, is the last size (an absolute count, as the
    paper's 606 labels of SST-2) instead of ``budget * pool_size``.
    """
    start = max(2, math.ceil(initial * pool_size))
    stop = max(start, labels if labels else math.ceil(budget * pool_size))
    sizes = [start]
    while sizes[-1] < stop:
        sizes.append(min(stop, sizes[-1] + step))
    return sizes


def initial_indices(y_pool, size, rng):
    """Uniformly random, redrawn until both classes are present."""
    for _ in range(1000):
        chosen = rng.choice(len(y_pool), size=size, replace=False)
        if len(np.unique(y_pool[chosen])) > 1:
            return chosen
    raise RuntimeError("Could not draw an initial set with two classes.")


def run(strategy, X_pool_all, y_pool_all, X_test, y_test, args, seed):
    rng = np.random.default_rng(seed)
    sizes = schedule(len(X_pool_all), args.initial, args.budget,
                     args.acquisition_size, args.labels)
    labeled = list(initial_indices(y_pool_all, sizes[0], rng))
    remaining = np.setdiff1d(np.arange(len(X_pool_all)), labeled)
    learner = ActiveLearner(
        make_classifier(strategy, args, seed),
        query_strategy=make_strategy(strategy, seed),
        random_state=seed,
    )
    rows = []
    start = time.perf_counter()
    learner.fit(
        [X_pool_all[i] for i in labeled], y_pool_all[labeled],
        X_unlabeled=[X_pool_all[i] for i in remaining],
    )
    train_seconds = time.perf_counter() - start
    infer_seconds = select_seconds = 0.0
    for position in range(len(sizes)):
        accuracy = learner.score(X_test, y_test)
        rows.append({
            "strategy": strategy, "seed": seed, "n_labeled": len(labeled),
            "percent": 100.0 * len(labeled) / len(X_pool_all),
            "accuracy": accuracy, "train_s": train_seconds,
            "infer_s": infer_seconds, "select_s": select_seconds,
        })
        print(f"{strategy:>9} seed {seed} {len(labeled):5d} labels "
              f"({rows[-1]['percent']:.2f}%): accuracy {accuracy:.4f}  "
              f"train {train_seconds:7.1f} s  infer {infer_seconds:7.1f} s  "
              f"select {select_seconds:6.2f} s", flush=True)
        if position == len(sizes) - 1:
            break
        n_new = sizes[position + 1] - len(labeled)
        X_remaining = [X_pool_all[i] for i in remaining]
        start = time.perf_counter()
        indices, chosen = learner.query(X_remaining, n_instances=n_new)
        query_seconds = time.perf_counter() - start
        timing = learner.query_history_[-1]["time"]
        infer_seconds = timing.get("inference", 0.0)
        select_seconds = query_seconds - infer_seconds
        picked = remaining[indices]
        labeled.extend(picked.tolist())
        remaining = np.setdiff1d(remaining, picked)
        start = time.perf_counter()
        # the learner passes the rest of the last pool as unlabeled texts
        # when the classifier uses them (ALLSH + CL)
        learner.teach(chosen, y_pool_all[picked])
        train_seconds = time.perf_counter() - start
    return rows


def summarise(rows):
    print("\nMean over seeds (accuracy, seconds per iteration)")
    print(f"{'strategy':>9} {'labels':>6} {'%':>6} {'accuracy':>9} {'train':>8} "
          f"{'infer':>8} {'select':>8}")
    keys = sorted({(r["strategy"], r["n_labeled"]) for r in rows},
                  key=lambda k: (STRATEGIES.index(k[0]), k[1]))
    for strategy, n_labeled in keys:
        group = [r for r in rows
                 if r["strategy"] == strategy and r["n_labeled"] == n_labeled]
        accuracy = [r["accuracy"] for r in group]
        print(f"{strategy:>9} {n_labeled:6d} {group[0]['percent']:6.2f} "
              f"{np.mean(accuracy):9.4f}"
              + (f"±{np.std(accuracy):.4f}" if len(group) > 1 else "")
              + f" {np.mean([r['train_s'] for r in group]):8.1f}"
              f" {np.mean([r['infer_s'] for r in group]):8.1f}"
              f" {np.mean([r['select_s'] for r in group]):8.2f}")


def paired_summary(rows):
    """Each strategy against random at the last labeled-set size, paired by seed.

    Returns
    -------
    summary : dict
        ``strategy -> {"n_labeled", "difference", "ci_low", "ci_high", "n",
        "line"}`` in accuracy points, for every strategy with at least 2
        seeds that random also finished.
    """
    last = max(r["n_labeled"] for r in rows)
    final = {}
    for r in rows:
        if r["n_labeled"] == last:
            final.setdefault(r["strategy"], {})[r["seed"]] = r["accuracy"]
    summary = {}
    print(f"\nPaired difference from random at {last} labels (points, 95% t CI)")
    for strategy, scores in final.items():
        shared = sorted(set(scores) & set(final.get("random", {})))
        if strategy == "random" or not shared:
            continue
        if len(shared) < 2:  # a time limit that let one seed finish
            print(f"{strategy} - random: {len(shared)} paired seed, no interval")
            continue
        result = paired_difference(
            {s: scores[s] for s in shared}, {s: final["random"][s] for s in shared}
        ).scaled(100)
        line = f"{strategy} - random: {result.summary()}"
        print(line)
        summary[strategy] = {
            "n_labeled": last, "difference": result.mean, "ci_low": result.ci_low,
            "ci_high": result.ci_high, "n": result.n, "line": line,
        }
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool-size", type=int, default=5000,
                        help="texts drawn from SST-2's training split (0: all "
                        "60,614, the paper's pool)")
    parser.add_argument("--labels", type=int, default=None,
                        help="the last labeled-set size, an absolute count "
                        "(the paper's 606); overrides --budget")
    parser.add_argument("--n-test", type=int, default=872,
                        help="test texts (SST-2 test split; 872 = all)")
    parser.add_argument("--initial", type=float, default=0.001,
                        help="initial labeled fraction of the pool")
    parser.add_argument("--budget", type=float, default=0.02,
                        help="final labeled fraction of the pool")
    parser.add_argument("--acquisition-size", type=int, default=50)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES),
                        choices=STRATEGIES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--tier", choices=list(TIER_PARAMS), default="full",
                        help="full: the whole model, float32 (default); fast: "
                        "TransformerClassifier's defaults (use --lr 1e-4)")
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--inference-batch-size", type=int, default=64)
    parser.add_argument("--cl-alpha", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu",
                        help="torch device of the classifier (cpu, cuda)")
    parser.add_argument("--model", default=None,
                        help="a local Hugging Face model directory (default: "
                        "the bundled all-MiniLM-L6-v2)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds: no new seed starts when the mean "
                        "seconds of a finished seed would overrun it")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--progress", action="store_true",
                        help="tqdm bars for training and pool scoring")
    parser.add_argument("--output", default=None, help="write the rows as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    X_pool, y_pool = load_dataset(
        "sst2", split="train", data_home=args.data_home, return_X_y=True,
        n_samples=args.pool_size or None, random_state=0,
    )
    X_test, y_test = load_dataset(
        "sst2", split="test", data_home=args.data_home, return_X_y=True,
        n_samples=min(args.n_test, 872), random_state=0,
    )
    X_pool, y_pool = list(X_pool), np.asarray(y_pool)
    X_test, y_test = list(X_test), np.asarray(y_test)
    if args.labels is not None and args.labels > len(X_pool):
        parser.error(f"--labels must be at most the pool's {len(X_pool)} texts. "
                     f"Got {args.labels}.")
    sizes = schedule(len(X_pool), args.initial, args.budget, args.acquisition_size,
                     args.labels)
    print(f"SST-2: pool {len(X_pool)}, test {len(X_test)}; labeled sizes {sizes}; "
          f"{args.train_steps} steps per fit; strategies {args.strategies}; "
          f"seeds {args.seeds}", flush=True)
    rows = []
    started = time.perf_counter()
    for done, seed in enumerate(args.seeds):
        elapsed = time.perf_counter() - started
        if args.time_limit and done and elapsed * (done + 1) / done > args.time_limit:
            print(f"Stopping before seed {seed}: {done} seeds took {elapsed:.0f} s "
                  f"of the {args.time_limit:.0f} s limit.", flush=True)
            break
        for strategy in args.strategies:
            rows.extend(run(strategy, X_pool, y_pool, X_test, y_test, args, seed))
            if args.output:  # after every run: an interrupted benchmark keeps them
                with open(args.output, "w", encoding="utf-8") as handle:
                    json.dump({"args": vars(args), "rows": rows}, handle, indent=1)
    summarise(rows)
    summary = paired_summary(rows)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "rows": rows, "paired": summary,
                       "seconds": time.perf_counter() - started}, handle, indent=1)


if __name__ == "__main__":
    main()
