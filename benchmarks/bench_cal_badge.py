"""Selection time and peak memory of CAL and BADGE against small-text.

Every implementation runs in this process on the same inputs: random
embeddings (standard normal, float32 as a model would return them) and
Dirichlet(1) class probabilities for a pool of ``--n-pool`` items, plus
``--n-labeled`` labeled items for CAL. Only the selection is timed (no
model pass): the embeddings are given.

Compared, at the lowest level that takes embeddings and probabilities:

- BADGE: ``allsh_sklearn.strategies._badge.badge_kmeans_plusplus`` (factorised
  distances); ``small_text.integrations.pytorch.query_strategies.BADGE.sample``
  (materialises the (n, C d) gradient embeddings, then scikit-learn's
  ``kmeans_plusplus``); and the same k-means++ as ours run on the materialised
  matrix (``--no-materialised`` skips it).
- CAL: ``allsh_sklearn.strategies._cal.cal_scores`` + ``select_top``;
  ``small_text.query_strategies.ContrastiveActiveLearning.sample``.

Time is the smallest wall-clock time of ``--repeats`` runs (``--baseline-repeats``
for the slow baselines), by ``time.perf_counter``: the minimum, because other
jobs share the CPUs.
Peak memory is measured in a separate run under ``tracemalloc``: the peak of
the memory allocated through Python's and numpy's allocators during the
selection, above what was allocated before it (the inputs are excluded).
Buffers that BLAS allocates internally are not seen by tracemalloc.

With ``--entropy-texts N`` the script also measures entropy's inference (one
MiniLM forward pass, :class:`allsh_sklearn.models.TransformerClassifier`) on
N SST-2 training texts and scales it linearly to ``--n-pool`` texts, to put
the selection times in proportion; otherwise it quotes REFERENCE.md's
estimate (about 60 sentences/s), labelled as an estimate.

small-text is needed only here: ``pip install --no-deps small-text dill``
(its other dependencies are already installed; ``pip check`` stays clean).

Run::

    python benchmarks/bench_cal_badge.py              # n=20000, d=384, C=4 and 20
    python benchmarks/bench_cal_badge.py --n-pool 2000 --repeats 1   # quick
    python benchmarks/bench_cal_badge.py --classes --entropy-texts 1000  # entropy only
"""

import argparse
import gc
import time
import tracemalloc

import numpy as np
from _common import default_data_home

from allsh_sklearn.strategies import badge_kmeans_plusplus, cal_scores
from allsh_sklearn.strategies._badge import _draw  # the reference's sampling step
from allsh_sklearn.utils import select_top

# MiniLM forward on this machine: about 60 sentences/s (REFERENCE.md).
MINILM_SENTENCES_PER_SECOND = 60.0


def make_problem(n_pool, n_labeled, dim, n_classes, seed):
    rng = np.random.RandomState(seed)
    return {
        "embeddings": rng.standard_normal((n_pool, dim)).astype(np.float32),
        "proba": rng.dirichlet(np.ones(n_classes), size=n_pool),
        "embeddings_labeled": rng.standard_normal((n_labeled, dim)).astype(np.float32),
        "proba_labeled": rng.dirichlet(np.ones(n_classes), size=n_labeled),
        "y_labeled": rng.randint(n_classes, size=n_labeled),
    }


# Implementations -------------------------------------------------------------


def ours_badge(problem, batch, seed):
    return badge_kmeans_plusplus(
        problem["proba"], problem["embeddings"], batch, random_state=seed
    )


def materialised_badge(problem, batch, seed):
    """The same k-means++ as ours on the (n, C d) matrix, built explicitly."""
    proba = problem["proba"]
    h = problem["embeddings"].astype(np.float64)
    q = -proba
    q[np.arange(len(proba)), proba.argmax(axis=1)] += 1.0
    g = (q[:, :, None] * h[:, None, :]).reshape(len(proba), -1)
    rng = np.random.RandomState(seed)
    g_sq = np.einsum("ij,ij->i", g, g)
    chosen = np.zeros(len(g), dtype=bool)
    order = [int(np.argmax(g_sq))]
    chosen[order[0]] = True
    nearest = np.full(len(g), np.inf)
    while len(order) < batch:
        d2 = np.maximum(g_sq + g_sq[order[-1]] - 2.0 * (g @ g[order[-1]]), 0.0)
        nearest = np.minimum(nearest, d2)
        nearest[chosen] = 0.0
        index = _draw(nearest, chosen, rng)
        order.append(index)
        chosen[index] = True
    return np.array(order)


def small_text_badge(problem, batch, seed):
    from small_text.integrations.pytorch.query_strategies import BADGE

    n_classes = problem["proba"].shape[1]
    n_pool = len(problem["proba"])
    np.random.seed(seed)  # small-text seeds kmeans_plusplus from np.random
    return BADGE(num_classes=n_classes).sample(
        None,
        None,
        np.arange(n_pool),
        np.array([], dtype=int),
        None,
        batch,
        problem["embeddings"],
        embeddings_proba=problem["proba"],
    )


def ours_cal(problem, batch, seed):
    scores = cal_scores(
        problem["proba"],
        problem["embeddings"],
        problem["proba_labeled"],
        problem["embeddings_labeled"],
        n_neighbors=10,
    )
    return select_top(scores, batch, random_state=seed)


def small_text_cal(problem, batch, seed):
    from small_text.query_strategies import ContrastiveActiveLearning

    n_pool = len(problem["proba"])
    n_labeled = len(problem["proba_labeled"])
    embeddings = np.vstack([problem["embeddings"], problem["embeddings_labeled"]])
    proba = np.vstack([problem["proba"], problem["proba_labeled"]])
    return ContrastiveActiveLearning(k=10, pbar=None).sample(
        None,
        np.arange(n_pool + n_labeled),  # only its length is used
        np.arange(n_pool),
        np.arange(n_pool, n_pool + n_labeled),
        problem["y_labeled"],
        batch,
        embeddings,
        embeddings_proba=proba,
    )


# Measurement -----------------------------------------------------------------


def measure_time(function, problem, batch, seed, repeats):
    """The smallest wall-clock time of ``repeats`` runs (other jobs share the CPUs)."""
    seconds = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        function(problem, batch, seed)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def measure_peak_mb(function, problem, batch, seed):
    gc.collect()
    tracemalloc.start()
    try:
        function(problem, batch, seed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def small_text_available():
    # Imported here, before any timing (the pytorch integration imports torch).
    try:
        import small_text.query_strategies  # noqa: F401
        from small_text.integrations.pytorch import query_strategies  # noqa: F401
    except ImportError as error:
        print(f"small-text is not importable ({error}); its rows are skipped.")
        return False
    return True


def measure_entropy_inference(n_texts, seed):
    """Seconds of entropy sampling's inference on ``n_texts`` SST-2 texts (MiniLM)."""
    from allsh_sklearn.datasets import load_dataset
    from allsh_sklearn.models import TransformerClassifier
    from allsh_sklearn.strategies import EntropySampling

    texts, labels = load_dataset(
        "sst2",
        data_home=default_data_home(),
        return_X_y=True,
        n_samples=n_texts + 32,
        random_state=seed,
    )
    classifier = TransformerClassifier(train_steps=2, random_state=seed)
    classifier.fit(texts[:32], labels[:32])
    strategy = EntropySampling(random_state=seed)
    strategy(classifier, texts[32:], 50)
    return strategy.last_query_time_["inference"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=20_000)
    parser.add_argument("--n-labeled", type=int, default=500)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--classes", type=int, nargs="*", default=[4, 20])
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--strategies", nargs="+", choices=["BADGE", "CAL"], default=["BADGE", "CAL"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-materialised", action="store_true", help="skip the materialising BADGE"
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the tracemalloc runs"
    )
    parser.add_argument(
        "--entropy-texts",
        type=int,
        default=0,
        help="measure entropy's MiniLM inference on this many SST-2 texts",
    )
    args = parser.parse_args(argv)

    implementations = {
        "BADGE": [("allsh_sklearn", ours_badge)],
        "CAL": [("allsh_sklearn", ours_cal)],
    }
    if not args.no_materialised:
        implementations["BADGE"].append(("materialised", materialised_badge))
    if small_text_available():
        implementations["BADGE"].append(("small-text", small_text_badge))
        implementations["CAL"].append(("small-text", small_text_cal))
    implementations = {k: v for k, v in implementations.items() if k in args.strategies}

    print(
        f"n_pool={args.n_pool}, n_labeled={args.n_labeled} (CAL), d={args.dim}, "
        f"batch={args.batch}, best of {args.repeats} run(s) for allsh_sklearn and "
        f"{args.baseline_repeats} for the others; peak memory by "
        "tracemalloc (inputs excluded)\n"
    )
    print("| strategy | C | implementation | time (s) | peak (MiB) | time / ours |")
    print("|---|---|---|---|---|---|")
    for n_classes in args.classes:
        problem = make_problem(
            args.n_pool, args.n_labeled, args.dim, n_classes, args.seed
        )
        for strategy, entries in implementations.items():
            ours = None
            for name, function in entries:
                repeats = (
                    args.repeats if name == "allsh_sklearn" else args.baseline_repeats
                )
                seconds = measure_time(
                    function, problem, args.batch, args.seed, repeats
                )
                peak = (
                    float("nan")
                    if args.no_memory
                    else measure_peak_mb(function, problem, args.batch, args.seed)
                )
                ours = seconds if ours is None else ours
                print(
                    f"| {strategy} | {n_classes} | {name} | {seconds:.3f} | "
                    f"{peak:.1f} | {seconds / ours:.1f}x |",
                    flush=True,
                )
        del problem
        gc.collect()
    if args.entropy_texts > 0:
        seconds = measure_entropy_inference(args.entropy_texts, args.seed)
        scaled = seconds * args.n_pool / args.entropy_texts
        print(
            f"\nEntropy's inference (MEASURED, MiniLM, TransformerClassifier): "
            f"{seconds:.1f} s on {args.entropy_texts} SST-2 texts "
            f"({args.entropy_texts / seconds:.0f} texts/s), i.e. ~{scaled:.0f} s "
            f"for {args.n_pool} texts scaled linearly."
        )
    else:
        estimate = args.n_pool / MINILM_SENTENCES_PER_SECOND
        print(
            f"\nFor scale (ESTIMATE, not measured here): entropy's inference on "
            f"{args.n_pool} texts with MiniLM at ~{MINILM_SENTENCES_PER_SECOND:.0f} "
            f"sentences/s on this machine (REFERENCE.md) takes ~{estimate:.0f} s."
        )


if __name__ == "__main__":
    main()
