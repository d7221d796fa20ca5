"""The opening table of the results page and the README (issue 29, item 9).

Per dataset, at the paper's absolute label count (its 1% budget), the
size of the pool the runs drew from, random sampling's accuracy, each
strategy's paired difference from random with its 95% t interval
(:func:`allsh_sklearn.evaluation.compare_strategies`), and the paper's
margin beside it. Made from the runs of
``tools/run_paper_counts.sh`` (``results/paper_counts/runs.jsonl``); a
dataset without runs says so, a cell shows how many seeds it pairs when
fewer than 5.

Run::

    python tools/paper_counts_table.py                    # Markdown on stdout
    python tools/paper_counts_table.py results/paper_counts/runs.jsonl
    python tools/paper_counts_table.py --strategies entropy badge cal allsh allsh-cl
    python tools/paper_counts_table.py --figure docs/_static/paper_counts.png
    python tools/paper_counts_table.py --run-times        # seconds a run

``--figure`` also draws the table: one panel per dataset with runs, each
strategy's paired difference from random with its interval (filled where
it excludes 0) and the paper's margins as diamonds.
"""

import argparse
from pathlib import Path

import numpy as np

from allsh_sklearn.evaluation import compare_strategies, read_runs

#: The datasets of the paper's Table 2, their 1% label counts and the
#: paper's margins over random there (ALLSH, ALLSH + CL), in points.
PAPER = {
    "sst2": ("SST-2", 606, (1.86, 2.26)),
    "ag_news": ("AG News", 114, (2.99, 3.14)),
    "imdb": ("IMDB", 225, (9.33, 11.67)),
    "qnli": ("QNLI", 995, (2.11, 2.59)),
    "qqp": ("QQP", 3270, (1.65, 2.00)),
}

#: The columns, in order: strategy spec and heading.
STRATEGIES = (
    ("entropy", "entropy"),
    ("badge", "BADGE"),
    ("cal", "CAL"),
    ("allsh", "ALLSH"),
    ("allsh-cl", "ALLSH + CL"),
    ("allsh-per-query", "ALLSH, copies per query"),
    ("allsh-stochastic", "ALLSH, stochastic top-b"),
)


def _cell(row):
    """``+1.23 [+0.45, +2.01]``, bold where the interval excludes 0."""
    if row is None or not np.isfinite(row["difference"]):
        return ""
    if not np.isfinite(row["ci_low"]):  # equal differences on too few seeds
        return f"{row['difference']:+.2f} (n={int(row['n'])}, no interval)"
    text = f"{row['difference']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
    if row["ci_low"] > 0 or row["ci_high"] < 0:
        text = f"**{text}**"
    if row["n"] < 5:
        text += f" (n={int(row['n'])})"
    return text


def _comparisons(records):
    """Per dataset with runs: its records and the paired rows at its count.

    Returns
    -------
    comparisons : dict
        ``task -> (records, {strategy: row of compare_strategies})`` for each
        dataset of :data:`PAPER` with random and at least one other strategy.
    """
    comparisons = {}
    for task, (_, count, _) in PAPER.items():
        mine = [
            r
            for r in records
            if r["config"]["task"] == task and str(count) in r.get("at_budget", {})
        ]
        scores = _scores_by_seed(mine, count)
        if "random" not in scores or len(scores) < 2:
            continue
        rows = {}
        if any(len(_shared_seeds(scores, s)) >= 2 for s in scores if s != "random"):
            table = compare_strategies(mine, scale=100)
            table = table[table["n_labels"] == count]
            rows = {r["strategy"]: r for r in table.to_dict("records")}
        # compare_strategies gives a strategy with one shared seed no statistics
        for strategy in scores.keys() - {"random"}:
            seeds = _shared_seeds(scores, strategy)
            if len(seeds) == 1:
                rows[strategy] = _one_pair_row(
                    scores[strategy][seeds[0]], scores["random"][seeds[0]]
                )
        comparisons[task] = (mine, rows)
    return comparisons


def _scores_by_seed(records, count):
    """``{strategy: {seed: test accuracy at the count}}`` of the records."""
    scores = {}
    for r in records:
        strategy, seed = r["config"]["strategy"], r["config"]["seed"]
        scores.setdefault(strategy, {})[seed] = r["at_budget"][str(count)]["test"]
    return scores


def _shared_seeds(scores, strategy):
    """The seeds that ``strategy`` and random both have, in order."""
    return sorted(scores[strategy].keys() & scores["random"].keys())


def _one_pair_row(score, random):
    """The row of a strategy that shares one seed with random: no interval."""
    return {
        "difference": 100 * (score - random),
        "ci_low": np.nan,
        "ci_high": np.nan,
        "n": 1,
    }


def opening_table(path, strategies=None):
    """The opening table's Markdown lines from a runs file.

    Parameters
    ----------
    path : str or Path
        A ``runs.jsonl`` of the runner.
    strategies : sequence of str or None, default=None
        The strategy specs of the columns, among those of
        :data:`STRATEGIES` (None: all of them).

    Returns
    -------
    lines : list of str
    """
    records = read_runs(path)
    columns = [
        (spec, title)
        for spec, title in STRATEGIES
        if strategies is None or spec in strategies
    ]
    header = (
        "| dataset | labels | pool | random | "
        + " | ".join(title for _, title in columns)
        + " | paper: ALLSH, + CL |"
    )
    lines = [header, "|---" * (5 + len(columns)) + "|"]
    comparisons = _comparisons(records)
    for task, (name, count, margins) in PAPER.items():
        paper = f"+{margins[0]:.2f}, +{margins[1]:.2f}"
        if task not in comparisons:
            blanks = " | " * (len(columns) + 1)
            lines.append(f"| {name} | {count:,} | | not run yet{blanks}{paper} |")
            continue
        mine, rows = comparisons[task]
        # random's accuracy over all its seeds, not over one comparison's
        random_scores = _scores_by_seed(mine, count)["random"]
        seeds = len(random_scores)
        random_mean = 100 * np.mean(list(random_scores.values()))
        cells = [_cell(rows.get(spec)) for spec, _ in columns]
        pools = sorted({int(r["config"]["pool_size"]) for r in mine})
        pool = " / ".join(f"{size:,}" for size in pools)
        seeds_text = f"{seeds} seed" + ("s" if seeds != 1 else "")
        lines.append(
            f"| {name} | {count:,} | {pool} | {random_mean:.2f} ({seeds_text}) | "
            + " | ".join(cells)
            + f" | {paper} |"
        )
    return lines


def opening_figure(path, strategies=None):
    """The opening table as a figure: one panel per dataset with runs.

    Each strategy's paired difference from random at the paper's count is a
    marker with its 95% t interval (filled where the interval excludes 0);
    the paper's margins for ALLSH and ALLSH + CL are red diamonds on their
    rows.

    Parameters
    ----------
    path : str or Path
        A ``runs.jsonl`` of the runner.
    strategies : sequence of str or None, default=None
        The strategy specs shown, among those of :data:`STRATEGIES` (None:
        all of them); a strategy without runs on a dataset is left out of
        its panel.

    Returns
    -------
    figure : matplotlib Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comparisons = _comparisons(read_runs(path))
    columns = [
        (spec, title)
        for spec, title in STRATEGIES
        if strategies is None or spec in strategies
    ]
    if not comparisons:
        raise ValueError(f"No dataset in {path} has random and another strategy.")
    figure, axes = plt.subplots(
        1, len(comparisons), figsize=(3.6 * len(comparisons) + 1.6, 3.4),
        sharey=True, squeeze=False,
    )  # fmt: skip
    paper_rows = {"allsh": 0, "allsh-cl": 1}
    for ax, (task, (_, rows)) in zip(axes[0], comparisons.items(), strict=True):
        name, count, margins = PAPER[task]
        for y, (spec, _) in enumerate(columns):
            row = rows.get(spec)
            if spec in paper_rows:
                label = "paper's margin" if spec == "allsh" else "_nolegend_"
                ax.plot(margins[paper_rows[spec]], y, "D", color="tab:red", ms=5,
                        label=label)  # fmt: skip
            if row is None or not np.isfinite(row["difference"]):
                continue
            low, high = row["ci_low"], row["ci_high"]
            if not np.isfinite(low):  # too few pairs for an interval
                ax.plot(row["difference"], y, "o", color="tab:blue", ms=5,
                        markerfacecolor="white")  # fmt: skip
                ax.annotate(f"n={int(row['n'])}, no interval",
                            (row["difference"], y), xytext=(5, -3),
                            textcoords="offset points", fontsize=7)  # fmt: skip
                continue
            excludes = bool(low > 0 or high < 0)
            ax.errorbar(
                row["difference"], y,
                xerr=[[row["difference"] - low], [high - row["difference"]]],
                fmt="o", color="tab:blue", capsize=2, ms=5,
                markerfacecolor="tab:blue" if excludes else "white",
            )  # fmt: skip
            if row["n"] < 5:
                ax.annotate(f"n={int(row['n'])}", (high, y), xytext=(3, -3),
                            textcoords="offset points", fontsize=7)  # fmt: skip
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{name}, {count:,} labels", fontsize=9)
        ax.set_xlabel("accuracy - random (points)", fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    axes[0][0].set_yticks(range(len(columns)), [title for _, title in columns])
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(fontsize=7, loc="lower right", frameon=False)
    figure.tight_layout()
    return figure


def run_times(path):
    """Recorded seconds of training and querying per finished run.

    The runner writes each iteration's timings (``time``: training,
    augmentation, inference, query, selection) to ``iterations.jsonl``
    beside ``runs.jsonl``; a run's time is their sum over its iterations.
    Runs that did not finish (no record in ``runs.jsonl``) are left out.

    Parameters
    ----------
    path : str or Path
        A ``runs.jsonl`` of the runner, with its ``iterations.jsonl``.

    Returns
    -------
    lines : list of str
        A Markdown table: dataset, strategy, runs, and the smallest, median
        and largest seconds a run.
    """
    finished = {r["run_id"]: r["config"] for r in read_runs(path)}
    seconds = dict.fromkeys(finished, 0.0)
    for record in read_runs(Path(path).with_name("iterations.jsonl")):
        if record["run_id"] in seconds:
            seconds[record["run_id"]] += sum(record["time"].values())
    groups = {}
    for run_id, total in seconds.items():
        config = finished[run_id]
        groups.setdefault((config["task"], config["strategy"]), []).append(total)
    lines = [
        "| dataset | strategy | runs | min s | median s | max s |",
        "|---|---|---|---|---|---|",
    ]
    for (task, strategy), totals in sorted(groups.items()):
        lines.append(
            f"| {task} | {strategy} | {len(totals)} | {min(totals):,.0f} | "
            f"{np.median(totals):,.0f} | {max(totals):,.0f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "runs",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent.parent
        / "results"
        / "paper_counts"
        / "runs.jsonl",
        help="the runner's runs.jsonl (default: results/paper_counts/runs.jsonl)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=[spec for spec, _ in STRATEGIES],
        default=None,
        help="the columns (default: all)",
    )
    parser.add_argument(
        "--figure",
        type=Path,
        default=None,
        help="also draw the table into this PNG file",
    )
    parser.add_argument(
        "--run-times",
        action="store_true",
        help="print each finished run's recorded seconds (min, median, max per "
        "dataset and strategy) instead of the table",
    )
    args = parser.parse_args(argv)
    if args.run_times:
        print("\n".join(run_times(args.runs)))
        return
    print("\n".join(opening_table(args.runs, args.strategies)))
    if args.figure is not None:
        figure = opening_figure(args.runs, args.strategies)
        figure.savefig(args.figure, dpi=110)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
