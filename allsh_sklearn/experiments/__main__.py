"""Command line of the experiment runner: ``allsh-experiment``.

Also ``python -m allsh_sklearn.experiments``. See ``--help``.
"""

import argparse
import sys
import textwrap

from ..models._tiers import CLASSIFIERS
from ..presets import AUGMENTERS, describe_presets, describe_spec_options
from ._settings import SETTINGS, TASKS

_EPILOG = """
settings (--setting; budgets and strategies are the defaults of each):
{settings}

strategies (--strategies), as NAME or NAME:key=value,key=value:
{strategies}
  options, a set_params name of the strategy or its short name in brackets:
{options}
  (divergence=kl|jsd|alpha|reverse_kl, alpha=FLOAT, K=INT copies,
  worst_case=true|false, p=FLOAT TF-IDF rate, tokenizer=bert-basic|whitespace,
  replace_punctuation=true|false, joint_pairs=true|false (TF-IDF procedure),
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
            options="\n".join(
                textwrap.fill(
                    f"{name}: {describe_spec_options(name)}",
                    width=78,
                    initial_indent="  ",
                    subsequent_indent="    ",
                )
                for name in ("cal", "allsh")
            ),
            augmenters="|".join(AUGMENTERS),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flags, options in _options():
        parser.add_argument(*flags, **options)
    return parser


#: Options passed on to ExperimentRunner.plan/run (their dest is the keyword).
_RUN_OPTIONS = (
    "tasks",
    "strategies",
    "budgets",
    "seeds",
    "classifier",
    "pool_size",
    "test_size",
    "initial_size",
    "batch_size",
    "n_queries",
    "minilm_train_steps",
    "copies_per_seed",
)


def _options():
    """``(flags, add_argument options)`` of every command-line option."""
    many = {"nargs": "+", "default": None}
    count = {"type": int, "default": None, "metavar": "N"}
    folder = {"default": None, "metavar": "DIR"}
    flag = {"action": "store_true"}
    return [
        (["--setting"], dict(default="in-domain", choices=list(SETTINGS),
                             help="the paper's table to rebuild (default: "
                             "%(default)s)")),
        (["--tasks", "--datasets"], dict(many, choices=list(TASKS), metavar="TASK",
                                         help="tasks to run (default: the "
                                         "setting's; see the list below)")),
        (["--strategies"], dict(many, type=_strategy, metavar="SPEC",
                                help="strategy specs (default: the setting's; "
                                "see the list below)")),
        (["--budgets"], dict(many, type=_budget, metavar="B",
                             help="budgets as percentages (1%%), fractions "
                             "(0.01) or counts (600) of the pool, initial set "
                             "included (default: the setting's)")),
        (["--seeds"], dict(many, type=int, default=[0, 1, 2, 3, 4], metavar="S",
                           help="seeds, one run each (default: 0 1 2 3 4)")),
        (["--classifier"], dict(default="tfidf-lr", choices=list(CLASSIFIERS),
                                help="the model trained at each iteration "
                                "(default: %(default)s)")),
        (["--pool-size"], dict(count, help="subsample the pool to N texts, fixed "
                               "seed (default: the whole pool)")),
        (["--test-size"], dict(count, help="subsample each evaluation set to N "
                               "texts, fixed seed (default: all)")),
        (["--initial-size"], dict(type=_budget, default=0.001, metavar="B",
                                  help="initial random labeled set, as a budget "
                                  "(default: 0.1%%, the paper's; at least one "
                                  "per class)")),
        (["--batch-size"], dict(count, help="items acquired per query (default: "
                                "50, the paper's; 100 for query-time)")),
        (["--n-queries"], dict(count, help="stop after N queries instead of at "
                               "the budgets (default: none; 3 for query-time)")),
        (["--minilm-train-steps"], dict(count, default=None,
                                        help="optimisation steps per training of "
                                        "a fine-tuned --classifier (default: "
                                        "the tier's: 100 for minilm, 200 for "
                                        "minilm-fast)")),
        (["--copies-per-seed"], dict(flag, help="each seed draws its own "
                                     "augmented copies (default: one draw per "
                                     "pool, shared by every seed)")),
        (["--output"], dict(folder, default="results",
                            help="output folder (default: %(default)s)")),
        (["--cache-dir"], dict(folder, help="embedding and back-translation "
                               "caches (default: $ALLSH_SKLEARN_CACHE, else "
                               "$XDG_CACHE_HOME/allsh_sklearn or "
                               "~/.cache/allsh_sklearn)")),
        (["--data-home"], dict(folder, help="datasets folder (default: "
                               "$ALLSH_SKLEARN_DATA, else ~/allsh_sklearn_data)")),
        (["--progress"], dict(flag, help="show tqdm progress bars (default: off)")),
        (["-v", "--verbose"], dict(action="count", default=1,
                                   help="more output: -v prints every iteration "
                                   "(default: one line per run)")),
        (["-q", "--quiet"], dict(flag, help="print nothing but errors")),
        (["--report-only"], dict(flag, help="only rewrite tables and plots from "
                                 "the results in --output")),
        (["--no-plots"], dict(flag, help="write tables but no plots")),
        (["--dry-run"], dict(flag, help="list the runs (and which are done) "
                             "without running them")),
    ]


def main(argv=None):
    """The ``allsh-experiment`` command: plan, run (or resume), then report.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments.
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
        options = {name: getattr(args, name) for name in _RUN_OPTIONS}
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
