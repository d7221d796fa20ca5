"""Fast fine-tuning of MiniLM on a CPU: overhead, frozen trunk, precision, AL.

Every figure is measured in one run of this script, side by side with what
it is compared with. Sub-commands:

``overhead``
    Seconds per training step of ``TransformerClassifier.fit`` (full
    fine-tuning, ``trainable_layers=None``, float32) against a plain PyTorch
    loop over the *same* batches (same tokenisation, padding, order, model,
    threads): once with torch's default AdamW, once with the fused AdamW the
    classifier uses. Repeated, interleaved; medians of wall-clock and CPU
    seconds.
``sweep``
    Accuracy and fit time of partial fine-tuning by number of trainable
    layers and learning rate, on SST-2 *dev* texts (model selection never
    looks at the test split), for the default's justification.
``precision``
    bfloat16 autocast against float32: inference speed and agreement on
    SST-2 texts, training-step speed, and test accuracy of 100-label fits.
``iteration``
    One full active learning iteration (fit on N labels, 200 steps, + an
    ALLSH K=1 query on a 5,000-text pool), fast tier against full
    fine-tuning, and both tiers' SST-2 test accuracy at 100 and 500 labels
    over 3 seeds.
``cl``
    Training cost of ALLSH + CL (consistency loss on the pool) against plain
    training, per iteration, for the fast tier (and, with ``--full``, full
    fine-tuning).
``memory``
    The trunk cache on SST-2's 60,614 training texts and a TF-IDF copy of
    each: bytes held, process memory growth, and the bound.

Run (2 cores, nothing else running, for the figures in
results/benchmarks/fast_finetune_*.txt)::

    python benchmarks/bench_fast_finetune.py overhead
    python benchmarks/bench_fast_finetune.py sweep
    python benchmarks/bench_fast_finetune.py precision
    python benchmarks/bench_fast_finetune.py iteration
    python benchmarks/bench_fast_finetune.py cl
    python benchmarks/bench_fast_finetune.py memory

``--threads N`` sets torch's threads (default: torch's choice, 2 here);
``--output FILE`` writes the rows as JSON.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch
from _common import default_data_home

from allsh_sklearn.datasets import load_dataset


def machine():
    """One line describing the machine and its load."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    from allsh_sklearn.models._precision import bf16_is_native

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
        f"native bf16: {bf16_is_native()}, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def sst2(split, n, seed, data_home, min_words=0):
    """``n`` SST-2 texts of ``split`` (uniformly drawn), optionally long ones only."""
    X, y = load_dataset("sst2", split=split, data_home=data_home, return_X_y=True)
    X, y = list(X), np.asarray(y)
    if min_words:
        keep = [i for i, text in enumerate(X) if len(text.split()) >= min_words]
        X, y = [X[i] for i in keep], y[keep]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(X), size=min(n, len(X)), replace=False)
    return [X[i] for i in chosen], y[chosen]


def labeled_sample(n, seed, data_home):
    """``n`` training texts drawn uniformly (both classes present)."""
    X, y = load_dataset("sst2", split="train", data_home=data_home, return_X_y=True)
    X, y = list(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    while True:
        chosen = rng.choice(len(X), size=n, replace=False)
        if len(np.unique(y[chosen])) == 2:
            return [X[i] for i in chosen], y[chosen]


def timed(function, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def write(args, rows):
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "rows": rows}, handle, indent=1,
                      default=str)


# overhead ---------------------------------------------------------------------


def plain_loop(module, batches, lr, fused):
    """The textbook loop over prepared batches: forward, CE, backward, step."""
    optimizer = torch.optim.AdamW(
        [p for p in module.parameters() if p.requires_grad], lr=lr,
        **({"fused": True} if fused else {}),
    )
    module.train()
    for inputs, target in batches:
        optimizer.zero_grad()
        logits = module(**inputs).logits
        loss = torch.nn.functional.cross_entropy(logits, target)
        loss.backward()
        optimizer.step()


def cmd_overhead(args):
    from allsh_sklearn.models import TransformerClassifier
    from allsh_sklearn.models._data import TrainingBatches, encode

    X, y = labeled_sample(args.n_labeled, 0, args.data_home)
    params = dict(train_steps=args.steps, trainable_layers=None, precision="float32",
                  lr=2e-5, random_state=0)
    print(machine())
    print(f"{args.n_labeled} SST-2 texts, batch 16, {args.steps} steps per fit, "
          f"full fine-tuning, float32; {args.repeats} interleaved repeats")
    # The same batches: the classifier's own tokenisation, padding and order.
    probe = TransformerClassifier(**params).fit(X[:2], y[:2] if len(set(y[:2])) > 1
                                                 else [0, 1])
    encoding, _ = encode(probe.tokenizer_, X, 128)
    rows = []
    for repeat in range(args.repeats):
        clf = TransformerClassifier(**params)
        _, fit_wall, fit_cpu = timed(clf.fit, X, y)
        batches = list(TrainingBatches(
            encoding, clf._encode_labels(y), 16, probe._pad_token_id(),
            n_steps=args.steps, generator=clf._generator(),
        ))
        batches = [(b.inputs, t) for b, t in batches]
        timings = {"fit": (fit_wall, fit_cpu)}
        for fused in (False, True):
            module = TransformerClassifier(
                **{**params, "max_epochs": 0, "train_steps": None}
            ).fit(X, y).module_
            _, wall, cpu = timed(plain_loop, module, batches, 2e-5, fused)
            timings["plain fused" if fused else "plain"] = (wall, cpu)
        row = {
            name: {"wall_s_per_step": w / args.steps,
                   "cpu_s_per_step": c / args.steps}
            for name, (w, c) in timings.items()
        }
        rows.append(row)
        print(f"repeat {repeat}: " + ", ".join(
            f"{name} {w / args.steps:.3f} s/step (cpu {c / args.steps:.3f})"
            for name, (w, c) in timings.items()), flush=True)
    print("\nmedian seconds per step (wall / cpu), and ratio to the plain loop:")
    for name in ("fit", "plain", "plain fused"):
        wall = statistics.median(r[name]["wall_s_per_step"] for r in rows)
        cpu = statistics.median(r[name]["cpu_s_per_step"] for r in rows)
        print(f"  {name:<12} {wall:.3f} / {cpu:.3f}")
    for reference in ("plain", "plain fused"):
        ratios = [r["fit"]["wall_s_per_step"] / r[reference]["wall_s_per_step"]
                  for r in rows]
        cpu_ratios = [r["fit"]["cpu_s_per_step"] / r[reference]["cpu_s_per_step"]
                      for r in rows]
        print(f"  TransformerClassifier.fit / {reference}: wall "
              f"{statistics.median(ratios):.2f}x, cpu "
              f"{statistics.median(cpu_ratios):.2f}x (fit includes loading the "
              "model and tokenising)")
    write(args, rows)


# sweep ------------------------------------------------------------------------


def cmd_sweep(args):
    from allsh_sklearn.models import TransformerClassifier

    X_dev, y_dev = sst2("dev", args.n_eval, 0, args.data_home, min_words=8)
    print(machine())
    print(f"SST-2 dev: {len(X_dev)} texts of >= 8 words; {args.steps} steps; seeds "
          f"{args.seeds}; labeled sizes {args.sizes}")
    rows = []
    for layers in args.layers:
        trainable = None if layers == "all" else int(layers)
        for lr in args.lrs:
            for size in args.sizes:
                accuracies, seconds = [], []
                for seed in args.seeds:
                    X, y = labeled_sample(size, seed, args.data_home)
                    clf = TransformerClassifier(
                        trainable_layers=trainable, lr=lr, train_steps=args.steps,
                        random_state=seed, trunk_cache=args.cache_dir,
                    )
                    _, wall, _ = timed(clf.fit, X, y)
                    accuracy = clf.score(X_dev, y_dev)
                    accuracies.append(accuracy)
                    seconds.append(wall)
                    rows.append({"trainable_layers": layers, "lr": lr,
                                 "n_labeled": size, "seed": seed,
                                 "accuracy": accuracy, "fit_s": wall})
                    write(args, rows)
                print(f"trainable {layers:>3} lr {lr:.0e} n {size:4d}: dev accuracy "
                      f"{np.mean(accuracies):.4f} ± {np.std(accuracies):.4f} "
                      f"({', '.join(f'{a:.3f}' for a in accuracies)}), fit "
                      f"{np.mean(seconds):.1f} s", flush=True)


# precision --------------------------------------------------------------------


def cmd_precision(args):
    from allsh_sklearn.models import TransformerClassifier
    from allsh_sklearn.models._data import TrainingBatches, encode

    texts, _ = sst2("train", args.n_eval, 1, args.data_home)
    X_test, y_test = sst2("test", 872, 0, args.data_home)
    print(machine())
    rows = {"inference": [], "training": [], "accuracy": []}
    # Inference: the whole model (no trunk), fresh head, same weights.
    base = dict(trainable_layers=None, max_epochs=0, train_steps=None, random_state=0)
    models = {
        name: TransformerClassifier(precision=name, **base).fit(texts[:2], [0, 1])
        for name in ("float32", "bfloat16")
    }
    models["bfloat16"].module_.load_state_dict(models["float32"].module_.state_dict())
    for clf in models.values():
        clf.predict_proba(texts[:64])  # warm-up
    probas = {}
    for repeat in range(args.repeats):
        for name, clf in models.items():
            probas[name], wall, cpu = timed(clf.predict_proba, texts)
            rows["inference"].append({"precision": name, "repeat": repeat,
                                      "wall_s": wall, "cpu_s": cpu})
    print(f"\nInference, whole MiniLM, {len(texts)} SST-2 texts, batches of 64 "
          "(median over repeats):")
    medians = {}
    for name in models:
        wall = statistics.median(r["wall_s"] for r in rows["inference"]
                                 if r["precision"] == name)
        medians[name] = wall
        print(f"  {name:<9} {len(texts) / wall:7.1f} texts/s ({wall:.1f} s)")
    agree = np.mean(probas["float32"].argmax(1) == probas["bfloat16"].argmax(1))
    print(f"  bfloat16 speed-up {medians['float32'] / medians['bfloat16']:.2f}x; "
          f"argmax agreement {100 * agree:.2f}%, max |dp| "
          f"{np.abs(probas['float32'] - probas['bfloat16']).max():.2e}")
    # Training steps: the same batches through the whole model.
    X, y = labeled_sample(100, 0, args.data_home)
    encoding, _ = encode(models["float32"].tokenizer_, X, 128)
    batches = [(b.inputs, t) for b, t in TrainingBatches(
        encoding, np.asarray(y), 16, 0, n_steps=args.steps,
        generator=torch.Generator().manual_seed(0))]

    def train(precision):
        clf = TransformerClassifier(precision="float32", **base).fit(X, y)
        module = clf.module_.train()
        optimizer = torch.optim.AdamW(module.parameters(), lr=2e-5, fused=True)
        dtype = torch.bfloat16 if precision == "bfloat16" else None
        for inputs, target in batches:
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is not None):
                logits = module(**inputs).logits
            torch.nn.functional.cross_entropy(logits.float(), target).backward()
            optimizer.step()

    for repeat in range(args.repeats):
        for name in ("float32", "bfloat16"):
            _, wall, cpu = timed(train, name)
            rows["training"].append({"precision": name, "repeat": repeat,
                                     "wall_s_per_step": wall / args.steps})
    print(f"\nTraining steps, whole MiniLM, batch 16 ({args.steps} steps, median):")
    steps = {name: statistics.median(r["wall_s_per_step"] for r in rows["training"]
                                     if r["precision"] == name)
             for name in ("float32", "bfloat16")}
    for name, value in steps.items():
        print(f"  {name:<9} {value:.3f} s/step")
    print(f"  bfloat16 speed-up {steps['float32'] / steps['bfloat16']:.2f}x")
    # Accuracy of the default (fast) tier trained and scored in each precision.
    print("\nTest accuracy of the default tier, 100 labels, 200 steps:")
    for name in ("float32", "bfloat16"):
        accuracies, seconds = [], []
        for seed in args.seeds:
            X, y = labeled_sample(100, seed, args.data_home)
            clf = TransformerClassifier(precision=name, train_steps=200,
                                        random_state=seed)
            _, wall, _ = timed(clf.fit, X, y)
            accuracies.append(clf.score(X_test, y_test))
            seconds.append(wall)
            rows["accuracy"].append({"precision": name, "seed": seed,
                                     "accuracy": accuracies[-1], "fit_s": wall})
        print(f"  {name:<9} {np.mean(accuracies):.4f} ± {np.std(accuracies):.4f} "
              f"({', '.join(f'{a:.3f}' for a in accuracies)}); fit "
              f"{np.mean(seconds):.1f} s")
    write(args, rows)


# iteration ----------------------------------------------------------------------

TIERS = {
    # the fast tier: TransformerClassifier's defaults, 200 steps
    "fast": {"train_steps": 200},
    # today's path before this work: whole model, lr 2e-5, float32
    "full": {"train_steps": 200, "trainable_layers": None, "lr": 2e-5,
             "precision": "float32"},
}


def al_split(n_labeled, pool_size, seed, data_home):
    """A labeled set and a disjoint pool drawn from SST-2's training split."""
    X, y = load_dataset("sst2", split="train", data_home=data_home, return_X_y=True)
    X, y = list(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    labeled, pool = order[:n_labeled], order[n_labeled:n_labeled + pool_size]
    return ([X[i] for i in labeled], y[labeled], [X[i] for i in pool], y[pool])


def one_run(tier, n_labeled, seed, args, X_test, y_test):
    from allsh_sklearn import ActiveLearner
    from allsh_sklearn.models import TransformerClassifier
    from allsh_sklearn.strategies import ALLSH

    X, y, X_pool, y_pool = al_split(n_labeled, args.pool_size, seed, args.data_home)
    learner = ActiveLearner(
        TransformerClassifier(random_state=seed, **TIERS[tier]),
        query_strategy=ALLSH(n_augmentations=1, random_state=seed),
        random_state=seed,
    )
    row = {"tier": tier, "n_labeled": n_labeled, "seed": seed}
    _, row["fit_s"], row["fit_cpu_s"] = timed(learner.fit, X, y)
    (indices, chosen), row["query_s"], row["query_cpu_s"] = timed(
        learner.query, X_pool, 50
    )
    row["iteration_s"] = row["fit_s"] + row["query_s"]
    row["iteration_cpu_s"] = row["fit_cpu_s"] + row["query_cpu_s"]
    row["accuracy"] = learner.score(X_test, y_test)
    if tier in args.warm:
        # the next iteration: teach the 50 texts, refit, query the rest
        remaining = [t for i, t in enumerate(X_pool) if i not in set(indices)]
        _, row["warm_fit_s"], row["warm_fit_cpu_s"] = timed(
            learner.teach, chosen, y_pool[indices]
        )
        _, row["warm_query_s"], row["warm_query_cpu_s"] = timed(
            learner.query, remaining, 50
        )
        row["warm_iteration_s"] = row["warm_fit_s"] + row["warm_query_s"]
        row["warm_iteration_cpu_s"] = (
            row["warm_fit_cpu_s"] + row["warm_query_cpu_s"]
        )
    return row


def cmd_iteration(args):
    X_test, y_test = sst2("test", 872, 0, args.data_home)
    print(machine())
    print(f"One AL iteration: fit on N SST-2 labels (200 steps, batch 16) + an ALLSH "
          f"(K=1, TF-IDF copies, KL) query of 50 on a {args.pool_size}-text pool; "
          f"test accuracy on the {len(X_test)} SST-2 test sentences after the fit. "
          f"Tiers {args.tiers}, labels {args.sizes}, seeds {args.seeds}.")
    rows = []
    for n_labeled in args.sizes:
        for seed in args.seeds:
            for tier in args.tiers:
                row = one_run(tier, n_labeled, seed, args, X_test, y_test)
                rows.append(row)
                write(args, rows)
                extra = (f"; next iteration (warm cache) "
                         f"{row['warm_iteration_s']:.1f} s (fit "
                         f"{row['warm_fit_s']:.1f} + query "
                         f"{row['warm_query_s']:.1f}; cpu "
                         f"{row['warm_iteration_cpu_s']:.1f} s)"
                         if tier in args.warm else "")
                print(f"{tier:>5} N={n_labeled:4d} seed {seed}: iteration "
                      f"{row['iteration_s']:6.1f} s (fit {row['fit_s']:6.1f} + query "
                      f"{row['query_s']:5.1f}; cpu {row['iteration_cpu_s']:6.1f} s), "
                      f"accuracy {row['accuracy']:.4f}{extra}", flush=True)
    summarise_iterations(rows)


def summarise_iterations(rows):
    print("\ntier  labels  iteration s (fit + query)  cpu s    accuracy "
          "(mean ± std, seeds)")
    for tier in dict.fromkeys(r["tier"] for r in rows):
        for n_labeled in sorted({r["n_labeled"] for r in rows}):
            group = [r for r in rows
                     if r["tier"] == tier and r["n_labeled"] == n_labeled]
            if not group:
                continue
            accuracy = [r["accuracy"] for r in group]
            means = {key: np.mean([r[key] for r in group])
                     for key in ("iteration_s", "fit_s", "query_s",
                                 "iteration_cpu_s")}
            line = (f"{tier:>5} {n_labeled:6d}  {means['iteration_s']:7.1f}"
                    f" ({means['fit_s']:6.1f} + {means['query_s']:5.1f})  "
                    f"{means['iteration_cpu_s']:6.1f}   "
                    f"{np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} "
                    f"(n={len(group)})")
            if all("warm_iteration_s" in r for r in group):
                warm = np.mean([r["warm_iteration_s"] for r in group])
                warm_cpu = np.mean([r["warm_iteration_cpu_s"] for r in group])
                line += f"; warm iteration {warm:.1f} s (cpu {warm_cpu:.1f} s)"
            print(line)
    tiers = {r["tier"] for r in rows}
    if {"fast", "full"} <= tiers:
        fast = np.mean([r["iteration_s"] for r in rows if r["tier"] == "fast"])
        full = np.mean([r["iteration_s"] for r in rows if r["tier"] == "full"])
        print(f"full / fast iteration time: {full / fast:.1f}x")


# consistency loss -----------------------------------------------------------------


def cmd_cl(args):
    from allsh_sklearn.augment import TFIDF_REPLACEMENT_RATE
    from allsh_sklearn.models import ConsistencyLoss, TransformerClassifier

    print(machine())
    X, y, X_pool, _ = al_split(100, args.pool_size, 0, args.data_home)
    X_all = list(X) + list(X_pool)
    y_all = list(y) + [-1] * len(X_pool)
    rows = []
    tiers = ["fast", "full"] if args.full else ["fast"]
    print(f"100 labels, {args.pool_size}-text pool as unlabeled texts, 200 steps; "
          "CL = ConsistencyLoss(alpha=0.01, TF-IDF copies "
          f"p={TFIDF_REPLACEMENT_RATE}, 16 unlabeled texts "
          "per step). Two fits of the same estimator: the first computes the copies "
          "and (fast tier) their trunk outputs, the second reuses them.")
    for tier in tiers:
        for name, extra in (("plain", {}), ("CL", {"criterion": ConsistencyLoss,
                                                   "criterion__alpha": 0.01})):
            clf = TransformerClassifier(random_state=0, **TIERS[tier], **extra)
            data = (X_all, y_all) if name == "CL" else (X, y)
            _, first, _ = timed(clf.fit, *data)
            _, second, _ = timed(clf.fit, *data)
            rows.append({"tier": tier, "training": name, "first_fit_s": first,
                         "second_fit_s": second})
            print(f"{tier:>5} {name:<5}: first fit {first:6.1f} s, second fit "
                  f"{second:6.1f} s", flush=True)
        plain, cl = rows[-2], rows[-1]
        first = cl["first_fit_s"] / plain["first_fit_s"]
        second = cl["second_fit_s"] / plain["second_fit_s"]
        print(f"{tier:>5} CL / plain: first {first:.2f}x, second {second:.2f}x")
    write(args, rows)


# memory -----------------------------------------------------------------------------


def rss_mib():
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cmd_memory(args):
    import gc

    from allsh_sklearn.augment import TFIDF_REPLACEMENT_RATE, TfidfAugmenter
    from allsh_sklearn.models import TransformerClassifier

    X, y = load_dataset("sst2", split="train", data_home=args.data_home,
                        return_X_y=True)
    X, y = list(X), np.asarray(y)
    if args.n_texts is not None:
        X, y = X[: args.n_texts], y[: args.n_texts]
    print(machine())
    p = TFIDF_REPLACEMENT_RATE
    copies = TfidfAugmenter(p=p, random_state=0).fit(X).augment(X, 1)[0]
    print(f"SST-2 training texts: {len(X)}, and one TF-IDF copy (p={p}) of each, "
          "scored by a fitted default TransformerClassifier (the pool, then the "
          "copies, as an ALLSH query reads them)")
    rows = []
    for size in args.cache_sizes:
        clf = TransformerClassifier(trunk_cache_size=size, train_steps=1,
                                    random_state=0).fit(X[:100], y[:100])
        clf.predict_proba(X[:200])  # warm-up: allocator, kernels
        clf.trunk_cache_.clear()
        gc.collect()
        before = rss_mib()
        for name, texts in (("pool", X), ("pool + copies", copies)):
            _, wall, _ = timed(clf.predict_proba, texts)
            gc.collect()
            cache = clf.trunk_cache_
            row = {"trunk_cache_size_mib": size, "precision": clf.precision_,
                   "scored": name, "entries": len(cache),
                   "cache_mib": cache.nbytes / 2**20,
                   "rss_growth_mib": rss_mib() - before, "seconds": wall}
            rows.append(row)
            print(f"trunk_cache_size={size} MiB ({clf.precision_}), after the "
                  f"{name}: {len(cache)} entries, {row['cache_mib']:.0f} MiB "
                  f"counted (bound {size} MiB); process memory "
                  f"+{row['rss_growth_mib']:.0f} MiB; scoring took {wall:.0f} s",
                  flush=True)
        del clf, cache
        gc.collect()
    write(args, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=list(COMMANDS))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--output", default=None)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-labeled", type=int, default=100)
    parser.add_argument("--n-eval", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 200])
    parser.add_argument("--layers", nargs="+", default=["1", "2", "3", "6"])
    parser.add_argument("--lrs", type=float, nargs="+", default=[5e-5, 1e-4, 2e-4])
    parser.add_argument("--cache-dir", default="memory",
                        help="trunk_cache of the sweep's classifiers")
    parser.add_argument("--pool-size", type=int, default=5000)
    parser.add_argument("--tiers", nargs="+", default=["fast", "full"],
                        choices=list(TIERS))
    parser.add_argument("--warm", nargs="*", default=["fast"], choices=list(TIERS),
                        help="iteration: tiers whose next iteration (teach 50, "
                        "query again) is also timed")
    parser.add_argument("--full", action="store_true",
                        help="cl: also the full fine-tuning tier")
    parser.add_argument("--cache-sizes", type=int, nargs="+", default=[2048, 256],
                        help="memory: trunk_cache_size values (MiB)")
    parser.add_argument("--n-texts", type=int, default=None,
                        help="memory: SST-2 training texts (default: all 60,614)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    COMMANDS[args.command](args)


COMMANDS = {
    "overhead": cmd_overhead,
    "sweep": cmd_sweep,
    "precision": cmd_precision,
    "iteration": cmd_iteration,
    "cl": cmd_cl,
    "memory": cmd_memory,
}

if __name__ == "__main__":
    main()
