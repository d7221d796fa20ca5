"""Why plain ALLSH loses at small budgets: the figures of issue 13.

Two parts, both printed as tables:

1. **Batches** (``--results``): for every finished run of the runner's
   output folder on the task, the batches each strategy acquired up to the
   1% and 5% checkpoints: mean cosine similarity of the MiniLM embeddings
   within a batch (and, for reference, between random pairs of the pool),
   the share of within-batch pairs above 0.9, duplicate texts, class shares
   and mean words of the labels.
2. **Scores** (one model state per seed and budget): the classifier is
   fitted on the labels the runner's *random* run held at the checkpoint
   (a state no strategy steered), then on the rest of the pool: Spearman
   correlations of the ALLSH score (KL, one TF-IDF copy, the runner's
   copies) with the entropy, the length in words, the tokens the copy
   changed and their share (``changed_share``, the share that ALLSH's
   ``score="per_change"`` divides by), and the decomposition
   ``KL ~ 1/2 p(1-p) delta^2`` (binary tasks: uncertainty ``p(1-p)``
   against the squared logit shift ``delta^2``); what the top-50 by
   ALLSH, by entropy and 50 random items are (words, entropy, error rate
   of the model, whether the copy flips the prediction, true class shares,
   within-batch cosine); and how much the picks depend on the draw of the
   copies: Spearman between the scores of copy 0 and of a second, fresh
   copy, and the overlap of their top-50.
   With ``--copies K`` the score is the mean over K copies (``ALLSH(
   n_augmentations=K)``, copies 0 to K-1, the runner's), the second score
   the mean over K fresh copies (K to 2K-1), and the per-copy quantities
   (tokens changed, copy flips, logit shift) are means over the K copies.

   Up to commit ``b7301ea`` the words changed were whitespace-separated
   words compared by position, plus the difference in length: a copy in
   which UDA's tokenisation replaced a punctuation mark by a word
   (``"the-night"`` to ``"jerk amused night"``) shifted every later word,
   and the "share" could exceed 1 (it differed from ``changed_share`` for 31% of
   2,000 SST-2 texts, mean 0.41 against 0.28, and for nearly all AG News
   texts, mean 0.78 against 0.30).

Run from the repository root (the embeddings are cached on disk)::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/investigate_allsh.py --task sst2 \\
        --results /work/scratch/allsh13/results --classifier minilm-frozen

``--copies 4`` scores with the mean over 4 copies (issue 13: does the
mean over K copies make the picks less a matter of the draw?).

The labeled sets come from the runner's random runs in ``--results`` with
``--batch-classifier`` (run ``allsh-experiment --strategies random ...
--budgets 1% 5%`` first); ``--classifier tfidf-lr`` scores the same labeled
sets with TF-IDF + logistic regression.
"""

import argparse
import json
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.base import clone

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

from allsh_sklearn.experiments import make_classifier  # noqa: E402
from allsh_sklearn.experiments._runner import load_task_data  # noqa: E402
from allsh_sklearn.experiments._settings import TASKS, build_strategy  # noqa: E402
from allsh_sklearn.loop import derive_seed  # noqa: E402
from allsh_sklearn.strategies import allsh_scores  # noqa: E402
from allsh_sklearn.strategies._allsh_scores import (  # noqa: E402
    normalised_entropy,
)
from allsh_sklearn.utils import changed_share  # noqa: E402
from allsh_sklearn.utils import word_tokens as _tokens  # noqa: E402

try:  # the package's cache folder (the runner's embeddings)
    from allsh_sklearn.utils._cache_home import get_cache_home  # noqa: E402
except ImportError:  # older layout
    from allsh_sklearn.experiments._encoders import (  # noqa: E402
        default_cache_dir as get_cache_home,
    )

TOP = 50


def _words(item):
    if isinstance(item, tuple | list):
        return sum(len(part.split()) for part in item)
    return len(item.split())


def _mean_pair_cosine(unit, indices):
    """Mean cosine and share above 0.9 over the distinct pairs of ``indices``."""
    vectors = unit[np.asarray(indices)]
    sims = vectors @ vectors.T
    upper = sims[np.triu_indices(len(indices), k=1)]
    return float(upper.mean()), float((upper > 0.9).mean())


def _variant(args):
    parts = [args.classifier]
    if args.pool_size:
        parts.append(f"pool{args.pool_size}")
    if args.test_size:
        parts.append(f"test{args.test_size}")
    return "-".join(parts)


def _runs(results, task, classifier, pool_size, test_size):
    """Finished runs of the task: ``{run_id: config}``."""
    runs = {}
    path = Path(results) / "runs.jsonl"
    for line in path.read_text().splitlines():
        record = json.loads(line)
        config = record["config"]
        if (
            config["task"] == task
            and config["classifier"] == classifier
            and config["pool_size"] == pool_size
            and config["test_size"] == test_size
        ):
            runs[record["run_id"]] = {**config, "checkpoints": record["checkpoints"]}
    return runs


def _iterations(results, run_ids):
    found = defaultdict(dict)
    for line in (Path(results) / "iterations.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["run_id"] in run_ids:
            found[record["run_id"]].setdefault(record["iteration"], record)
    return {
        run_id: [records[i] for i in sorted(records)]
        for run_id, records in found.items()
    }


def batch_table(args, data, unit):
    runs = _runs(
        args.results, args.task, args.classifier, args.pool_size, args.test_size
    )
    iterations = _iterations(args.results, set(runs))
    X_pool, y_pool = data["X_pool"], data["y_pool"]
    classes = data["classes"]
    rng = np.random.RandomState(0)
    pairs = rng.randint(len(X_pool), size=(20000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pool_cos = np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])
    print(f"\n## Batches ({args.task}, {_variant(args)}, from {args.results})\n")
    print(
        f"pool: random pairs mean cosine {pool_cos.mean():.3f}, share > 0.9 "
        f"{(pool_cos > 0.9).mean():.4f}; class shares "
        + "/".join(f"{np.mean(y_pool == c):.2f}" for c in classes)
        + f"; {np.mean([_words(x) for x in X_pool]):.1f} words\n"
    )
    for limit in ("1%", "5%"):
        rows = defaultdict(lambda: defaultdict(list))
        for run_id, config in runs.items():
            if limit not in config["checkpoints"]:
                continue
            cap = config["checkpoints"][limit]
            row = rows[config["strategy"]]
            acquired = []
            for record in iterations.get(run_id, [])[1:]:
                if record["n_labeled"] > cap:
                    break
                batch = record["acquired"]
                if len(batch) >= 2:
                    mean, high = _mean_pair_cosine(unit, batch)
                    row["cos"].append(mean)
                    row["high"].append(high)
                    texts = [X_pool[i] for i in batch]
                    row["dup"].append(1.0 - len(set(map(str, texts))) / len(texts))
                acquired.extend(batch)
            if acquired:
                row["share"].append([np.mean(y_pool[acquired] == c) for c in classes])
                row["words"].append(np.mean([_words(X_pool[i]) for i in acquired]))
                row["runs"].append(1)
        if not rows:
            continue
        print(f"### Queries up to {limit}\n")
        print(
            "| strategy | runs | batch cosine | pairs > 0.9 | duplicates | "
            "class shares | words |"
        )
        print("|---|---|---|---|---|---|---|")
        for strategy in sorted(rows):
            row = rows[strategy]
            shares = np.mean(row["share"], axis=0)
            print(
                f"| {strategy} | {len(row['runs'])} | {np.mean(row['cos']):.3f} | "
                f"{np.mean(row['high']):.3f} | {np.mean(row['dup']):.3f} | "
                + "/".join(f"{s:.2f}" for s in shares)
                + f" | {np.mean(row['words']):.1f} |"
            )
        print()
    return runs, iterations


def _labeled_at(iterations, cap):
    labeled = []
    for record in iterations:
        if record["n_labeled"] > cap:
            break
        labeled.extend(record["acquired"])
    return labeled


def _binary_decomposition(proba, copies_proba):
    """``p(1-p)`` and the squared logit shift, averaged over the copies."""
    eps = 1e-12
    p = np.clip(proba[:, 1], eps, 1 - eps)
    q = np.clip(copies_proba[:, :, 1], eps, 1 - eps)
    delta = np.log(q / (1 - q)) - np.log(p / (1 - p))
    return p * (1 - p), (delta**2).mean(axis=0)


def _copies_of(cache, augmenter, X_pool, indices, rest):
    """Copies ``indices`` of the texts ``rest``, one list per copy (cached)."""
    found = []
    for index in indices:
        if index not in cache:
            cache[index] = augmenter.augment(X_pool, n_copies=1, copy_offset=index)[0]
        found.append([cache[index][i] for i in rest])
    return found


def _copy_range(first, n_copies):
    if n_copies == 1:
        return f"copy {first}"
    return f"copies {first}-{first + n_copies - 1}"


def score_table(args, data, runs, iterations, unit):
    X_pool, y_pool = data["X_pool"], data["y_pool"]
    classes = data["classes"]
    task = TASKS[args.task]
    strategy = build_strategy(
        "allsh", seed=derive_seed(task.pool, args.pool_size, "augmenter")
    )
    strategy.fit(X_pool)
    augmenter = strategy.augmenter_
    previous = None
    if args.compare_tokenizer:
        # The augmenter's procedure before it followed UDA's tokenisation.
        previous = clone(augmenter).set_params(
            tokenizer="whitespace", replace_punctuation=False, joint_pairs=False
        )
        previous.fit(X_pool)
    K = args.copies
    mean_of = "" if K == 1 else f", score the mean over {K} copies"
    print(f"\n## Scores ({args.task}, {_variant(args)}{mean_of})\n")
    print(
        "Model fitted on the labels of the runner's random run at the "
        "checkpoint; the rest of the pool scored. Spearman correlations "
        "(rho), then the top-50 by ALLSH, by entropy and 50 random items.\n"
    )
    random_runs = {
        run_id: config
        for run_id, config in runs.items()
        if config["strategy"] == "random"
    }
    copies_cache, previous_cache = {}, {}
    shared = {}
    for limit in args.checkpoints:
        stats = defaultdict(list)
        for run_id, config in sorted(random_runs.items(), key=lambda r: r[1]["seed"]):
            if limit not in config["checkpoints"] or run_id not in iterations:
                continue
            labeled = _labeled_at(iterations[run_id], config["checkpoints"][limit])
            rest = np.setdiff1d(np.arange(len(X_pool)), labeled)
            estimator, _ = make_classifier(
                args.classifier,
                X_pool,
                classes=classes,
                random_state=0,
                cache_dir=args.cache_dir,
                max_length=task.max_length,
                shared=shared,
            )
            estimator.fit([X_pool[i] for i in labeled], y_pool[labeled])
            X_rest = [X_pool[i] for i in rest]
            # Two independent sets of K copies: the runner's (0 to K-1) and
            # fresh ones (K to 2K-1); the score is the mean over a set.
            copies0 = _copies_of(copies_cache, augmenter, X_pool, range(K), rest)
            copies1 = _copies_of(copies_cache, augmenter, X_pool, range(K, 2 * K), rest)
            proba = estimator.predict_proba(X_rest)
            proba0 = np.stack([estimator.predict_proba(c) for c in copies0])
            proba1 = np.stack([estimator.predict_proba(c) for c in copies1])
            s0 = allsh_scores(proba, proba0)
            s1 = allsh_scores(proba, proba1)
            entropy = normalised_entropy(proba)
            words = np.array([_words(x) for x in X_rest])
            # The share of tokens each copy changed (ALLSH's per_change uses
            # it), mean over the copies; the count is that share of the
            # text's tokens (words and punctuation marks).
            share = np.mean([changed_share(X_rest, copy) for copy in copies0], axis=0)
            changed = share * np.array([len(_tokens(x)) for x in X_rest])
            error = proba.argmax(axis=1) != np.searchsorted(classes, y_pool[rest])
            flips = (proba.argmax(axis=1) != proba0.argmax(axis=2)).mean(axis=0)
            stats["rho_entropy"].append(spearmanr(s0, entropy)[0])
            stats["rho_words"].append(spearmanr(s0, words)[0])
            stats["rho_changed"].append(spearmanr(s0, changed)[0])
            stats["rho_changed_share"].append(spearmanr(s0, share)[0])
            stats["rho_entropy_words"].append(spearmanr(entropy, words)[0])
            stats["rho_copies"].append(spearmanr(s0, s1)[0])
            top0 = set(np.argsort(-s0)[:TOP])
            top1 = set(np.argsort(-s1)[:TOP])
            stats["overlap_copies"].append(len(top0 & top1) / TOP)
            if previous is not None:
                olds = _copies_of(previous_cache, previous, X_pool, range(K), rest)
                s_old = allsh_scores(
                    proba, np.stack([estimator.predict_proba(c) for c in olds])
                )
                stats["rho_tokenizer"].append(spearmanr(s0, s_old)[0])
                top_old = set(np.argsort(-s_old)[:TOP])
                stats["overlap_tokenizer"].append(len(top0 & top_old) / TOP)
                for key, copies in (
                    ("changed_previous", olds),
                    ("changed_uda", copies0),
                ):
                    stats[key].append(
                        np.mean([changed_share(X_rest, copy) for copy in copies])
                    )
            if len(classes) == 2:
                fisher, shift = _binary_decomposition(proba, proba0)
                stats["rho_fisher"].append(spearmanr(s0, fisher)[0])
                stats["rho_shift"].append(spearmanr(s0, shift)[0])
            rng = np.random.RandomState(config["seed"])
            picks = {
                "ALLSH": np.argsort(-s0, kind="stable")[:TOP],
                "entropy": np.argsort(-entropy, kind="stable")[:TOP],
                "random": rng.choice(len(rest), TOP, replace=False),
            }
            top_entropy = set(picks["entropy"].tolist())
            stats["overlap_entropy"].append(len(top0 & top_entropy) / TOP)
            for name, chosen in picks.items():
                stats[f"{name}:words"].append(words[chosen].mean())
                stats[f"{name}:entropy"].append(entropy[chosen].mean())
                stats[f"{name}:error"].append(error[chosen].mean())
                stats[f"{name}:flip"].append(flips[chosen].mean())
                stats[f"{name}:changed"].append(share[chosen].mean())
                stats[f"{name}:cos"].append(_mean_pair_cosine(unit, rest[chosen])[0])
                stats[f"{name}:share"].append(
                    [np.mean(y_pool[rest[chosen]] == c) for c in classes]
                )
            stats["pool:words"].append(words.mean())
            stats["pool:error"].append(error.mean())
            stats["pool:entropy"].append(entropy.mean())
            stats["pool:flip"].append(flips.mean())
        if not stats:
            continue
        n_seeds = len(stats["rho_entropy"])
        print(f"### At {limit} ({n_seeds} seeds; mean over seeds)\n")
        print("| quantity | value |")
        print("|---|---|")
        rows = [
            ("rho(ALLSH, entropy)", "rho_entropy"),
            ("rho(ALLSH, words)", "rho_words"),
            ("rho(ALLSH, tokens changed by the copy)", "rho_changed"),
            ("rho(ALLSH, share of tokens changed)", "rho_changed_share"),
            ("rho(entropy, words)", "rho_entropy_words"),
            (
                f"rho(ALLSH {_copy_range(0, K)}, ALLSH fresh {_copy_range(K, K)})",
                "rho_copies",
            ),
            (
                f"top-50 overlap, {_copy_range(0, K)} vs fresh {_copy_range(K, K)}",
                "overlap_copies",
            ),
            ("top-50 overlap, ALLSH vs entropy", "overlap_entropy"),
        ]
        if previous is not None:
            rows += [
                ("rho(ALLSH, ALLSH with the previous tokenisation)", "rho_tokenizer"),
                ("top-50 overlap, UDA vs previous tokenisation", "overlap_tokenizer"),
                ("share of tokens changed, UDA tokenisation", "changed_uda"),
                ("share of tokens changed, previous tokenisation", "changed_previous"),
            ]
        if len(classes) == 2:
            rows += [
                ("rho(ALLSH, p(1-p)) (binary)", "rho_fisher"),
                ("rho(ALLSH, squared logit shift) (binary)", "rho_shift"),
            ]
        for label, key in rows:
            values = np.asarray(stats[key], dtype=float)
            print(f"| {label} | {values.mean():.3f} ± {values.std():.3f} |")
        print()
        print(
            "| top-50 of | words | entropy | model error | copy flips | "
            "share changed | batch cosine | true class shares |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for name in ("ALLSH", "entropy", "random"):
            shares = np.mean(stats[f"{name}:share"], axis=0)
            print(
                f"| {name} | {np.mean(stats[f'{name}:words']):.1f} | "
                f"{np.mean(stats[f'{name}:entropy']):.3f} | "
                f"{np.mean(stats[f'{name}:error']):.3f} | "
                f"{np.mean(stats[f'{name}:flip']):.3f} | "
                f"{np.mean(stats[f'{name}:changed']):.3f} | "
                f"{np.mean(stats[f'{name}:cos']):.3f} | "
                + "/".join(f"{s:.2f}" for s in shares)
                + " |"
            )
        print(
            f"| (whole rest of pool) | {np.mean(stats['pool:words']):.1f} | "
            f"{np.mean(stats['pool:entropy']):.3f} | "
            f"{np.mean(stats['pool:error']):.3f} | "
            f"{np.mean(stats['pool:flip']):.3f} | | | |"
        )
        print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--classifier", default="minilm-frozen")
    parser.add_argument("--results", default="results")
    parser.add_argument("--pool-size", type=int, default=10000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--checkpoints", nargs="+", default=["1%", "5%"])
    parser.add_argument("--data-home", default=None)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["batches", "scores"],
        default=["batches", "scores"],
        help="what to print (scores encode a second copy of the pool)",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="embedding cache (default: the package's, where the runner keeps it)",
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="K: the score is the mean over K copies (ALLSH(n_augmentations=K)); "
        "its stability is measured against K fresh copies (default: 1)",
    )
    parser.add_argument(
        "--compare-tokenizer",
        action="store_true",
        help="also score with copies of the augmenter's previous procedure "
        "(tokenizer='whitespace', replace_punctuation=False, joint_pairs=False)",
    )
    parser.add_argument(
        "--batch-classifier",
        default="minilm-frozen",
        help="the classifier whose runs give the batches (default: minilm-frozen)",
    )
    args = parser.parse_args(argv)
    if args.cache_dir is None:
        args.cache_dir = str(get_cache_home())
    data = load_task_data(args.task, args.data_home, args.pool_size, args.test_size)
    task = TASKS[args.task]
    estimator, step = make_classifier(
        "minilm-frozen",
        data["X_pool"],
        classes=data["classes"],
        random_state=0,
        cache_dir=args.cache_dir,
        max_length=task.max_length,
    )
    encoder = estimator.named_steps[step].fit(data["X_pool"])
    embeddings = np.asarray(encoder.transform(data["X_pool"]))
    unit = embeddings / np.maximum(
        np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12
    )
    classifier = args.classifier
    args.classifier = args.batch_classifier
    if "batches" in args.parts:
        runs, iterations = batch_table(args, data, unit)
    else:
        runs = _runs(
            args.results, args.task, args.classifier, args.pool_size, args.test_size
        )
        iterations = _iterations(args.results, set(runs))
    args.classifier = classifier
    if "scores" in args.parts:
        score_table(args, data, runs, iterations, unit)


if __name__ == "__main__":
    main()
