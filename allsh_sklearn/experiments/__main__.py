"""Command line of the experiment runner: ``allsh-experiment``.

Also ``python -m allsh_sklearn.experiments``. See ``--help``.
"""

import argparse
import sys
import textwrap

from ..models._tiers import CLASSIFIERS
from ..presets import AUGMENTERS, STRATEGIES, describe_presets
from ._settings import SETTINGS, TASKS

_EPILOG = """
settings (--setting; budgets and strategies are the defaults of each):
{settings}

strategies (--strategies), as NAME or NAME:key=value,key=value:
{strategies}
  options: {options}
  (divergence=kl|jsd|alpha|reverse_kl, alpha=FLOAT, K=INT copies,
  worst_case=true|false, p=FLOAT TF-IDF rate,
  augmenter={augmenters},
  balanced=true|pool|uniform, k=INT neighbours).
  Example: --strategies random entropy "allsh:divergence=alpha,alpha=-0.5"

tasks (--tasks): {tasks}

classifiers (--classifier):
{classifiers}

Outputs in --output: runs.jsonl (one line per finished run),
iterations.jsonl (one line per AL iteration: acquired indices, accuracy,
times), requests.jsonl, tables/*.md, plots/*.png. Kill it at any time and
run the same command again: finished runs are skipped and an unfinished run
continues from its last saved iteration, with the same final results.

Example (a few minutes on 2 cores):
  allsh-experiment --setting in-domain --tasks sst2 --classifier tfidf-lr \\
      --strategies random allsh --seeds 0 1 --budgets 1% --output results/demo
"""


def _budget(text):
    """'1%' -> 0.01, '0.01' -> 0.01, '600' -> 600."""
    text = text.strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        if "." in text or "e" in text.lower():
            return float(text)
        return int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"a budget is a percentage (1%), a fraction (0.01) or a count (600); "
            f"got {text!r}"
        ) from error


def _initial(text):
    value = _budget(text)
    return value


def _strategy(text):
    from ..presets import parse_strategy

    try:
        parse_strategy(text)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def build_parser():
    """The argument parser of ``allsh-experiment``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    settings = "\n".join(
        textwrap.fill(
            f"{s.table}: {s.description}",
            width=78,
            initial_indent=f"  {name:<14} ",
            subsequent_indent=" " * 17,
        )
        for name, s in SETTINGS.items()
    )
    width = max(len(name) for name in CLASSIFIERS)
    classifiers = "\n".join(
        textwrap.fill(
            f"  {name:<{width}} {text}",
            width=79,
            subsequent_indent=" " * (width + 3),
        )
        for name, text in CLASSIFIERS.items()
    )
    parser = argparse.ArgumentParser(
        prog="allsh-experiment",
        description=(
            "Rebuild the tables of the ALLSH paper (Tables 2, 3, 5, 6, 7, 8, 13) "
            "with simulated active learning: resumable runs, JSON lines, "
            "Markdown tables and learning-curve plots."
        ),
        epilog=_EPILOG.format(
            settings=settings,
            tasks=", ".join(TASKS),
            classifiers=classifiers,
            strategies="\n".join("  " + line for line in describe_presets()),
            options=", ".join(
                f"{name}: {', '.join(STRATEGIES[name])}"
                for name in ("cal", "allsh")
            ),
            augmenters="|".join(AUGMENTERS),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--setting",
        default="in-domain",
        choices=list(SETTINGS),
        help="the paper's table to rebuild (default: %(default)s)",
    )
    parser.add_argument(
        "--tasks",
        "--datasets",
        nargs="+",
        choices=list(TASKS),
        default=None,
        metavar="TASK",
        help="tasks to run (default: the setting's; see the list below)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        type=_strategy,
        default=None,
        metavar="SPEC",
        help="strategy specs (default: the setting's; see the list below)",
    )
    parser.add_argument(
        "--budgets",
        nargs="+",
        type=_budget,
        default=None,
        metavar="B",
        help="budgets as percentages (1%%), fractions (0.01) or counts (600) of the "
        "pool, initial set included (default: the setting's)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2, 3, 4],
        metavar="S",
        help="seeds, one run each (default: 0 1 2 3 4)",
    )
    parser.add_argument(
        "--classifier",
        default="tfidf-lr",
        choices=list(CLASSIFIERS),
        help="the model trained at each iteration (default: %(default)s)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        metavar="N",
        help="subsample the pool to N texts, fixed seed (default: the whole pool)",
    )
    parser.add_argument(
        "--test-size",
        type=int,
        default=None,
        metavar="N",
        help="subsample each evaluation set to N texts, fixed seed (default: all)",
    )
    parser.add_argument(
        "--initial-size",
        type=_initial,
        default=0.001,
        metavar="B",
        help="initial random labeled set, as a budget (default: 0.1%%, the "
        "paper's; at least one per class)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="items acquired per query (default: 50, the paper's; 100 for query-time)",
    )
    parser.add_argument(
        "--n-queries",
        type=int,
        default=None,
        metavar="N",
        help="stop after N queries instead of at the budgets (default: none; 3 "
        "for query-time)",
    )
    parser.add_argument(
        "--minilm-train-steps",
        type=int,
        default=100,
        metavar="N",
        help="optimisation steps per training of --classifier minilm "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        default="results",
        metavar="DIR",
        help="output folder (default: %(default)s)",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="embedding and back-translation caches (default: "
        "$ALLSH_SKLEARN_CACHE, else ~/.cache/allsh_sklearn)",
    )
    parser.add_argument(
        "--data-home",
        default=None,
        metavar="DIR",
        help="datasets folder (default: $ALLSH_SKLEARN_DATA, else "
        "~/allsh_sklearn_data)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show tqdm progress bars (default: off)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=1,
        help="more output: -v prints every iteration (default: one line per run)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite tables and plots from the results in --output",
    )
    parser.add_argument(
        "--no-plots", action="store_true", help="write tables but no plots"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list the runs (and which are done) without running them",
    )
    return parser


def main(argv=None):
    """Run ``allsh-experiment`` with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None, default=None

    Returns
    -------
    status : int
        0 on success.
    """
    args = build_parser().parse_args(argv)
    from ._reporting import write_report
    from ._runner import ExperimentRunner

    verbose = 0 if args.quiet else args.verbose
    if not args.report_only:
        runner = ExperimentRunner(
            args.output,
            data_home=args.data_home,
            cache_dir=args.cache_dir,
            progress=args.progress,
            verbose=verbose,
        )
        options = {
            "tasks": args.tasks,
            "strategies": args.strategies,
            "budgets": args.budgets,
            "seeds": args.seeds,
            "classifier": args.classifier,
            "pool_size": args.pool_size,
            "test_size": args.test_size,
            "initial_size": args.initial_size,
            "batch_size": args.batch_size,
            "n_queries": args.n_queries,
            "minilm_train_steps": args.minilm_train_steps,
        }
        try:
            if args.dry_run:
                done = runner.journal.finished()
                for config in runner.plan(args.setting, **options):
                    state = "done" if config.run_id in done else "todo"
                    print(f"{state}  {config.run_id}")
                return 0
            runner.run(args.setting, **options)
        except (TypeError, ValueError, FileNotFoundError) as error:
            print(f"allsh-experiment: error: {error}", file=sys.stderr)
            return 2
    for path in write_report(
        args.output, settings=[args.setting], plots=not args.no_plots
    ):
        if verbose:
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
