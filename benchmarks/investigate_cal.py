"""Why CAL collapses on AG News at 1% (issue 29, item 7): the figures.

Two parts, both printed as tables:

1. **Records** (``records``): for the runner's AG News runs on a 10,000-text
   pool (``minilm-fast`` and ``minilm-frozen`` tiers), the classes of the
   first two batches of every strategy and seed, recomputed from the
   acquired indices on the pool the runner subsamples (and checked against
   the recorded ``batch_labels``), the largest class share of each batch,
   repeated texts, and the test accuracy at 10, 60 and 100 labels.
2. **Replay** (``replay``): the first queries of a seed replayed with the
   runner's own seeds (initial set, classifier seed, tie-breaking), the
   query's model outputs kept, and for each query: the number of labeled
   examples against ``k``; how many distinct labeled neighbourhoods the
   pool has (1 means every candidate has the same neighbours: the score no
   longer depends on the embedding); the largest change of the scores when
   the embeddings are replaced by random vectors; the true and predicted
   classes of the batch; the model's error rate and confidence on the batch
   against the pool; the share of picks whose predicted class differs from
   their neighbours' labels, and how many of a pick's neighbours carry its
   predicted class; Spearman of the score with the confidence; what CAL
   with a smaller ``k``, entropy and random sampling would pick from the
   same model outputs (classes, error rate, confidence); and the test
   accuracy after teaching the batch. Variants change one thing
   (``cal-k3``: ``n_neighbors=3``; ``cal-balanced``:
   ``ClassBalanced(CAL(), proportion="uniform")``; ``random``), with the
   same initial set and classifier seed.

Run from the repository root (frozen embeddings are cached on disk)::

    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/investigate_cal.py records
    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 \\
        python benchmarks/investigate_cal.py replay --classifier minilm-frozen \\
        --seeds 0 1 2 3 4 --variants cal cal-k3 cal-balanced random
    ALLSH_SKLEARN_DATA=../shared/data OMP_NUM_THREADS=1 nice \\
        python benchmarks/investigate_cal.py replay --classifier minilm-fast \\
        --seeds 0 1 --variants cal

The figures and what they show: ``results/benchmarks/cal_collapse.md``. The
replay of the ``cal`` variant checks that its batches are the recorded
ones (``same as record``: the overlap with the run's acquired indices).
"""

import argparse
import json
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from allsh_sklearn.experiments._runner import RunConfig, load_task_data
from allsh_sklearn.loop import ActiveLearningLoop, derive_seed, initial_labeled_indices
from allsh_sklearn.models._tiers import make_tier
from allsh_sklearn.presets import build_strategy
from allsh_sklearn.strategies._balance import ClassBalanced
from allsh_sklearn.strategies._cal import CAL, cal_scores
from allsh_sklearn.utils import get_cache_home, select_top

TASK = "ag_news"
POOL_SIZE = 10_000
TEST_SIZE = 2000
#: Labels after the initial set and each query up to the 1% budget.
SIZES = (10, 60, 100)
STRATEGIES = ("random", "entropy", "badge", "cal", "allsh")


def _read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _text(item):
    return item if isinstance(item, str) else " || ".join(item)


# Part 1: records ----------------------------------------------------------


def records(args):
    data = load_task_data(TASK, pool_size=POOL_SIZE, test_size=TEST_SIZE)
    y_pool = data["y_pool"]
    texts = [_text(x) for x in data["X_pool"]]
    counts = Counter(texts)
    n_repeated = sum(c for c in counts.values() if c > 1)
    print(
        f"AG News pool: {len(y_pool)} texts, classes {np.bincount(y_pool).tolist()}, "
        f"{n_repeated} texts occur more than once ({len(counts)} distinct)."
    )
    results = Path(args.results)
    runs = {
        r["run_id"]: r
        for r in _read_jsonl(results / "runs.jsonl")
        if r["config"]["task"] == TASK and r["config"]["pool_size"] == POOL_SIZE
    }
    iterations = defaultdict(dict)
    for record in _read_jsonl(results / "iterations.jsonl"):
        if record["run_id"] in runs:
            iterations[record["run_id"]][record["iteration"]] = record
    for classifier in args.classifiers:
        print(
            f"\n## {classifier}: first two batches (true classes of the "
            "acquired indices)\n"
        )
        print(
            "| strategy | seed | initial | batch 1 | batch 2 | max share 1 | "
            "max share 2 | fewest-labeled class before batch 2 (labels) | top "
            "class of batch 2 | repeats | acc@10 | acc@60 | acc@100 |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        summary = defaultdict(list)
        seen = set()
        for run_id, run in sorted(runs.items(), key=lambda kv: kv[0]):
            config = run["config"]
            key = (config["strategy"], config["seed"])
            if (
                config["classifier"] != classifier
                or config["strategy"] not in STRATEGIES
            ):
                continue
            if key in seen:  # the same strategy and seed under other budgets
                continue
            seen.add(key)
            its = iterations[run_id]
            if not all(i in its for i in range(3)):
                continue
            cells, shares, counts = [], [], []
            repeats = 0
            for i in range(3):
                acquired = np.asarray(its[i]["acquired"])
                classes = np.bincount(y_pool[acquired], minlength=4)
                if classes.tolist() != its[i]["batch_labels"]:
                    raise SystemExit(
                        f"{run_id} iteration {i}: the pool's labels {classes.tolist()} "
                        f"differ from the recorded {its[i]['batch_labels']}: the pool "
                        "was not reproduced."
                    )
                cells.append(str(classes.tolist()))
                counts.append(classes)
                if i:
                    shares.append(classes.max() / classes.sum())
                    repeats += sum(
                        c - 1 for c in Counter(texts[j] for j in acquired).values()
                    )
            curve = dict((n, s["test"]) for n, s in run["curve"])
            accuracies = [curve.get(n, float("nan")) for n in SIZES]
            before = counts[0] + counts[1]
            fewest, top = int(before.argmin()), int(counts[2].argmax())
            summary[config["strategy"]].append(
                shares + [float(fewest == top)] + accuracies
            )
            print(
                f"| {config['strategy']} | {config['seed']} | {' | '.join(cells)} | "
                f"{shares[0]:.2f} | {shares[1]:.2f} | {fewest} ({before.min()}) | "
                f"{top} | {repeats} | "
                + " | ".join(f"{100 * a:.1f}" for a in accuracies)
                + " |"
            )
        print(f"\n### {classifier}: means over seeds\n")
        print(
            "| strategy | seeds | max share 1 | max share 2 | batch 2 led by the "
            "fewest-labeled class | acc@10 | acc@60 | acc@100 |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for strategy in STRATEGIES:
            rows = np.asarray(summary.get(strategy, []))
            if not len(rows):
                continue
            mean = rows.mean(axis=0)
            print(
                f"| {strategy} | {len(rows)} | {mean[0]:.2f} | {mean[1]:.2f} | "
                f"{int(rows[:, 2].sum())}/{len(rows)} | "
                + " | ".join(f"{100 * a:.1f}" for a in mean[3:])
                + " |"
            )


# Part 2: replay -----------------------------------------------------------

#: The context of the last CAL scoring (the model outputs of the query).
_LAST = {}


class RecordingCAL(CAL):
    """CAL that keeps the query context of its last scoring in ``_LAST``."""

    def _score(self, context):
        scores = super()._score(context)
        _LAST["context"] = context
        _LAST["strategy"] = self
        _LAST["scores"] = np.asarray(scores, dtype=np.float64)
        return scores


def _variant(name, embedding):
    if name == "cal":
        return RecordingCAL(embedding=embedding)
    if name.startswith("cal-k"):
        return RecordingCAL(n_neighbors=int(name[5:]), embedding=embedding)
    if name == "cal-balanced":
        return ClassBalanced(RecordingCAL(embedding=embedding), proportion="uniform")
    if name == "random":
        return build_strategy("random")
    raise SystemExit(f"Unknown variant {name!r}.")


def _run_config(results, classifier, seed):
    """The recorded CAL run of this tier and seed (budgets 1% at least)."""
    for run in _read_jsonl(Path(results) / "runs.jsonl"):
        config = run["config"]
        if (
            config["task"] == TASK
            and config["classifier"] == classifier
            and config["strategy"] == "cal"
            and config["seed"] == seed
            and config["pool_size"] == POOL_SIZE
        ):
            config = dict(config, budgets=tuple(config["budgets"]))
            run_config = RunConfig(**config)
            if run_config.run_id != run["run_id"]:
                raise SystemExit(
                    f"RunConfig gives {run_config.run_id}, the record "
                    f"{run['run_id']}: the runner's identity changed."
                )
            return run_config
    raise SystemExit(f"No recorded CAL run for {classifier}, seed {seed}.")


def _recorded_batches(results, run_id):
    batches = {}
    for record in _read_jsonl(Path(results) / "iterations.jsonl"):
        if record["run_id"] == run_id:
            batches[record["iteration"]] = record["acquired"]
    return batches


def _batch_figures(picked, y_candidates, predicted, confidence):
    classes = np.bincount(y_candidates[picked], minlength=4)
    return {
        "true classes": classes.tolist(),
        "max share": round(float(classes.max() / classes.sum()), 2),
        "error": round(float((predicted[picked] != y_candidates[picked]).mean()), 3),
        "confidence": round(float(confidence[picked].mean()), 3),
    }


def query_diagnostics(context, scores, picked, y_candidates, y_labeled, k, embedding):
    """Figures of one CAL query (see the module docstring).

    ``picked`` are positions among the candidates; ``y_candidates`` and
    ``y_labeled`` the true labels of the candidates and of the labeled set.
    Returns the figures and, under ``"same model"``, what other rules pick
    with the same model outputs (CAL with other ``k``, entropy, random).
    """
    proba_pool, emb_pool = context.proba_and_embeddings(embedding, "pooler")
    proba_lab, emb_lab = context.labeled_proba_and_embeddings(embedding, "pooler")
    emb_pool = emb_pool.toarray() if hasattr(emb_pool, "toarray") else emb_pool
    emb_lab = emb_lab.toarray() if hasattr(emb_lab, "toarray") else emb_lab
    n_labeled, n_pool = len(y_labeled), len(y_candidates)
    k_eff = min(k, n_labeled)
    search = NearestNeighbors(n_neighbors=k_eff).fit(normalize(emb_lab))
    neighbours = search.kneighbors(normalize(emb_pool), return_distance=False)
    sets = Counter(tuple(sorted(row)) for row in neighbours.tolist())
    rng = np.random.RandomState(0)
    shuffled = cal_scores(
        proba_pool,
        rng.normal(size=emb_pool.shape),
        proba_lab,
        rng.normal(size=emb_lab.shape),
        n_neighbors=k,
    )
    predicted = proba_pool.argmax(axis=1)
    confidence = proba_pool.max(axis=1)
    neighbour_majority = np.array(
        [np.bincount(y_labeled[row], minlength=4).argmax() for row in neighbours]
    )
    picked = np.asarray(picked)
    same_label = (y_labeled[neighbours[picked]] == predicted[picked, None]).sum(axis=1)
    figures = {
        "n_labeled": n_labeled,
        "labeled per class": np.bincount(y_labeled, minlength=4).tolist(),
        "k_eff": k_eff,
        "neighbourhoods": len(sets),
        "largest neighbourhood's share of the pool": max(sets.values()) / n_pool,
        "max |score - score(random emb)|": float(np.abs(scores - shuffled).max()),
        "true classes": np.bincount(y_candidates[picked], minlength=4).tolist(),
        "predicted classes": np.bincount(predicted[picked], minlength=4).tolist(),
        "pool predicted classes": np.bincount(predicted, minlength=4).tolist(),
        "error batch": float((predicted[picked] != y_candidates[picked]).mean()),
        "error pool": float((predicted != y_candidates).mean()),
        "confidence batch": float(confidence[picked].mean()),
        "confidence pool": float(confidence.mean()),
        "pred != neighbours' label": float(
            (predicted[picked] != neighbour_majority[picked]).mean()
        ),
        "neighbours labeled as the pick's prediction (mean of k)": float(
            same_label.mean()
        ),
        "score batch": float(scores[picked].mean()),
        "spearman(score, confidence)": float(spearmanr(scores, confidence)[0]),
        "labeled proba max (mean)": float(proba_lab.max(axis=1).mean()),
    }
    n_batch = len(picked)
    entropy = -(proba_pool * np.log(np.clip(proba_pool, 1e-300, None))).sum(axis=1)
    rules = {f"cal k={k}": scores}
    for other in (5, 3, 1):
        if other < k_eff:
            rules[f"cal k={other}"] = cal_scores(
                proba_pool, emb_pool, proba_lab, emb_lab, n_neighbors=other
            )
    rules["entropy"] = entropy
    rules["random"] = np.random.RandomState(1).rand(n_pool)
    figures["same model"] = {
        rule: _batch_figures(
            select_top(
                values,
                n_batch,
                random_state=context.random_state,
                duplicates=context.duplicates,
            ),
            y_candidates,
            predicted,
            confidence,
        )
        for rule, values in rules.items()
    }
    return figures


def replay(args):
    data = load_task_data(TASK, pool_size=POOL_SIZE, test_size=TEST_SIZE)
    X_pool, y_pool, classes = data["X_pool"], data["y_pool"], data["classes"]
    X_test, y_test = data["evaluation"]["test"]
    tier = None
    for seed in args.seeds:
        config = _run_config(args.results, args.classifier, seed)
        recorded = _recorded_batches(args.results, config.run_id)
        if tier is None:  # one per pool, as the runner's
            tier = make_tier(
                config.classifier,
                cache_dir=get_cache_home(args.cache_dir),
                max_length=data["task"].max_length,
                train_steps=config.minilm_train_steps,
            ).prepare(X_pool)
        initial = initial_labeled_indices(
            y_pool,
            SIZES[0],
            random_state=derive_seed(config.pool_key, "initial", config.seed),
        )
        if initial.tolist() != recorded[0]:
            raise SystemExit(f"seed {seed}: the initial set differs from the record.")
        for name in args.variants:
            estimator = tier.build(
                classes=classes,
                random_state=derive_seed(config.run_id, "classifier"),
                consistency=False,
            )
            strategy = _variant(name, tier.embedding)
            loop = ActiveLearningLoop(
                estimator,
                strategy,
                X_pool,
                classes=classes,
                seed=derive_seed(config.run_id, "run"),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                loop.start(initial, y_pool[initial])
            accuracy = loop.model_.score(X_test, y_test)
            print(
                f"\n## {args.classifier}, seed {seed}, {name}: {SIZES[0]} labels, "
                f"test {100 * accuracy:.1f}"
            )
            for iteration in range(1, len(SIZES)):
                n_batch = SIZES[iteration] - SIZES[iteration - 1]
                candidates = loop.candidate_indices.copy()
                labeled = np.asarray(loop.labeled_indices_)
                _LAST.clear()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    chosen = loop.query(n_batch)
                figures = {}
                if "context" in _LAST:
                    picked = np.searchsorted(candidates, chosen)
                    figures = query_diagnostics(
                        _LAST["context"],
                        _LAST["scores"],
                        picked,
                        y_pool[candidates],
                        y_pool[labeled],
                        _LAST["strategy"].n_neighbors,
                        tier.embedding,
                    )
                else:
                    figures["true classes"] = np.bincount(
                        y_pool[chosen], minlength=4
                    ).tolist()
                if name == "cal" and iteration in recorded:
                    figures["same as record"] = (
                        len(set(chosen.tolist()) & set(recorded[iteration])) / n_batch
                    )
                loop.teach(chosen, y_pool[chosen])
                accuracy = loop.model_.score(X_test, y_test)
                figures["test after"] = round(100 * accuracy, 1)
                print(f"query {iteration} ({n_batch} items):")
                for key, value in figures.items():
                    if isinstance(value, float):
                        value = round(value, 4)
                    if isinstance(value, dict):
                        print(f"  {key} (what each rule picks from these outputs):")
                        for rule, batch in value.items():
                            print(f"    {rule}: {batch}")
                    else:
                        print(f"  {key}: {value}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--results", default="results", help="the runner's output folder"
    )
    sub = parser.add_subparsers(dest="part", required=True)
    part = sub.add_parser("records", help="batches and accuracies of the records")
    part.add_argument(
        "--classifiers", nargs="+", default=["minilm-fast", "minilm-frozen"]
    )
    part = sub.add_parser("replay", help="replay the first queries of a seed")
    part.add_argument("--classifier", default="minilm-frozen")
    part.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    part.add_argument("--variants", nargs="+", default=["cal"])
    part.add_argument(
        "--cache-dir", default=None, help="embedding cache (the runner's default)"
    )
    args = parser.parse_args(argv)
    {"records": records, "replay": replay}[args.part](args)


if __name__ == "__main__":
    main()
