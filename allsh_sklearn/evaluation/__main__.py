"""Command line: ``python -m allsh_sklearn.evaluation RUNS [options]``.

Prints :func:`~allsh_sklearn.evaluation.compare_strategies`' table of a
``runs.jsonl`` (``allsh-experiment``'s records) or of a CSV long table
(columns ``strategy``, ``seed``, the metric, and any grouping columns).
See ``--help``.
"""

import argparse
import sys
from pathlib import Path

_EPILOG = """
Every strategy is compared with --baseline on the seeds both have, per task,
classifier, pool (and the other design keys of the runs) and budget. A
verdict is "win" or "loss" only where the confidence interval excludes 0;
otherwise "no difference detected (resolves ±X)", X being the difference the
design detects with 80%% power (--power).

Examples:
  python -m allsh_sklearn.evaluation results/runs.jsonl \\
      --where classifier=minilm-fast --where task=sst2,ag_news
  python -m allsh_sklearn.evaluation my_scores.csv --baseline random \\
      --method bootstrap --random-state 0 --format markdown
"""


def build_parser():
    """The argument parser of ``python -m allsh_sklearn.evaluation``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="python -m allsh_sklearn.evaluation",
        description=(
            "Paired comparison of active learning strategies: each strategy "
            "minus a baseline, with its confidence interval, over the seeds "
            "both have."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", nargs="+", metavar="FILE",
                        help="runs.jsonl files of allsh-experiment, or CSV long "
                        "tables (columns strategy, seed, the metric, and the "
                        "columns that group comparisons)")  # fmt: skip
    parser.add_argument(
        "--baseline",
        default="random",
        help="the strategy compared with (default: %(default)s)",
    )
    parser.add_argument(
        "--metric",
        default="test",
        help="the score: a key of the runs' at_budget, or the "
        "CSV's score column (default: %(default)s)",
    )
    parser.add_argument(
        "--method",
        default="t",
        choices=["t", "bootstrap"],
        help="confidence interval: Student t (as "
        "scipy.stats.ttest_rel) or percentile bootstrap "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="confidence level (default: %(default)s)",
    )
    parser.add_argument(
        "--power",
        type=float,
        default=0.8,
        help="power of the resolution (default: %(default)s)",
    )
    parser.add_argument(
        "--n-resamples",
        type=int,
        default=10_000,
        help="bootstrap resamples (default: %(default)s)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=None,
        help="seed of the bootstrap (default: none)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="multiplies scores and differences (default: 100 "
        "for runs.jsonl, whose accuracies in [0, 1] become "
        "percentage points; 1 for CSV)",
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE[,VALUE...]",
        help="keep the rows whose COLUMN is one of the values, "
        "e.g. --where task=sst2,trec --where budget=1%%; "
        "repeat for several columns",
    )
    parser.add_argument(
        "--query",
        metavar="EXPR",
        default=None,
        help="keep the rows for which a pandas query holds, e.g. "
        "\"(task == 'sst2' and budget == '5%%') or task == 'trec'\"",
    )
    parser.add_argument(
        "--format",
        default="text",
        choices=["text", "markdown", "csv"],
        help="output format (default: %(default)s; csv gives every column unrounded)",
    )
    parser.add_argument(
        "--plot",
        metavar="PNG",
        default=None,
        help="also draw the differences with their intervals "
        "(the rows left must be one group, e.g. one task)",
    )
    return parser


def _load(paths, metric):
    import pandas as pd

    from ._compare import read_runs

    tables = [p for p in paths if Path(p).suffix.lower() == ".csv"]
    if tables and len(tables) != len(paths):
        raise ValueError("give either runs.jsonl files or CSV tables, not both")
    if tables:
        return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True), False
    return [record for p in paths for record in read_runs(p)], True


def _filter(table, where):
    for condition in where:
        column, sep, values = condition.partition("=")
        if not sep or column not in table.columns:
            raise ValueError(
                f"--where must be COLUMN=VALUE with COLUMN one of "
                f"{list(table.columns)}. Got {condition!r} instead."
            )
        wanted = set(values.split(","))
        table = table[table[column].map(str).isin(wanted)]
    return table


def _display(table, digits=2):
    """The table as strings: varying group columns, then the statistics."""
    stats = {
        "strategy", "baseline", "n", "strategy_mean", "baseline_mean",
        "difference", "ci_low", "ci_high", "p_value", "wins", "ties", "losses",
        "resolution", "std", "verdict",
    }  # fmt: skip
    group = [c for c in table.columns if c not in stats]
    varying = [c for c in group if table[c].map(str).nunique() > 1 or c == "budget"]
    constant = {c: table[c].iloc[0] for c in group if c not in varying}
    baseline = table["baseline"].iloc[0]

    def number(value, sign=""):
        return "–" if value != value else f"{value:{sign}.{digits}f}"

    shown = table[varying].astype(str).copy() if varying else table[[]].copy()
    shown["strategy"] = table["strategy"]
    shown["n"] = table["n"].astype(str)
    shown[baseline] = table["baseline_mean"].map(number)
    shown["strategy mean"] = table["strategy_mean"].map(number)
    shown["difference"] = table["difference"].map(lambda v: number(v, "+"))
    shown["CI"] = [
        "–" if low != low else f"[{low:+.{digits}f}, {high:+.{digits}f}]"
        for low, high in zip(table["ci_low"], table["ci_high"], strict=True)
    ]
    shown["p"] = table["p_value"].map(lambda p: "–" if p != p else f"{p:.2g}")
    shown["W/T/L"] = [
        "–" if won != won else f"{int(won)}/{int(tied)}/{int(lost)}"
        for won, tied, lost in zip(
            table["wins"], table["ties"], table["losses"], strict=True
        )
    ]
    shown["verdict"] = table["verdict"]
    return shown.reset_index(drop=True), constant


def _markdown(shown):
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * shown.shape[1]]
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def main(argv=None):
    """Print the paired comparison table of the given runs.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or data.
    """
    args = build_parser().parse_args(argv)
    from ._compare import compare_strategies
    from ._plotting import paired_differences_png

    try:
        data, records = _load(args.runs, args.metric)
        scale = args.scale if args.scale is not None else (100.0 if records else 1.0)
        table = compare_strategies(
            data,
            args.baseline,
            metric=args.metric,
            confidence=args.confidence,
            method=args.method,
            n_resamples=args.n_resamples,
            power=args.power,
            random_state=args.random_state,
            scale=scale,
        )
        table = _filter(table, args.where)
        if args.query:
            try:
                table = table.query(args.query)
            except (KeyError, NameError, SyntaxError, TypeError) as error:
                raise ValueError(
                    f"--query {args.query!r} cannot be evaluated on the columns "
                    f"{list(table.columns)}: {error}"
                ) from error
        if table.empty:
            raise ValueError("no comparison is left after --where and --query")
        if args.plot:
            png = paired_differences_png(table)
            Path(args.plot).write_bytes(png)
    except (OSError, TypeError, ValueError) as error:
        print(f"python -m allsh_sklearn.evaluation: error: {error}", file=sys.stderr)
        return 2
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
        return 0
    shown, constant = _display(table)
    level = round(100 * args.confidence, 6)
    note = (
        f"Paired difference (strategy - {args.baseline}) x {scale:g}, mean over "
        f"the seeds both have, {level:g}% {args.method} CI; "
        + ", ".join(f"{k}={v}" for k, v in constant.items())
    )
    if args.format == "markdown":
        print(note + "\n\n" + _markdown(shown))
    else:
        import pandas as pd

        with pd.option_context("display.width", 250, "display.max_colwidth", 60,
                               "display.max_rows", None):  # fmt: skip
            print(note)
            print(shown.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
