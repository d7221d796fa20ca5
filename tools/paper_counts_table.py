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
    for task, (name, count, margins) in PAPER.items():
        mine = [
            r
            for r in records
            if r["config"]["task"] == task and str(count) in r.get("at_budget", {})
        ]
        paper = f"+{margins[0]:.2f}, +{margins[1]:.2f}"
        strategies = {r["config"]["strategy"] for r in mine}
        if "random" not in strategies or len(strategies) < 2:
            blanks = " | " * (len(columns) + 1)
            lines.append(f"| {name} | {count:,} | | not run yet{blanks}{paper} |")
            continue
        table = compare_strategies(mine, scale=100)
        table = table[table["n_labels"] == count]
        rows = {r["strategy"]: r for r in table.to_dict("records")}
        # random's accuracy over all its seeds, not over one comparison's
        random_scores = {
            r["config"]["seed"]: r["at_budget"][str(count)]["test"]
            for r in mine
            if r["config"]["strategy"] == "random"
        }
        seeds = len(random_scores)
        random_mean = 100 * np.mean(list(random_scores.values()))
        cells = [_cell(rows.get(spec)) for spec, _ in columns]
        pools = sorted({int(r["config"]["pool_size"]) for r in mine})
        pool = " / ".join(f"{size:,}" for size in pools)
        lines.append(
            f"| {name} | {count:,} | {pool} | {random_mean:.2f} ({seeds} seeds) | "
            + " | ".join(cells)
            + f" | {paper} |"
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
    args = parser.parse_args(argv)
    print("\n".join(opening_table(args.runs, args.strategies)))


if __name__ == "__main__":
    main()
