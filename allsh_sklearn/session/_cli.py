"""``allsh-label``: label your own texts with active learning, from the shell.

Every command takes the project folder first. The work is done by
:class:`~allsh_sklearn.session.LabelingSession`; this module only parses
arguments, prints, and maps errors to exit codes (:data:`EXIT_CODES`).

Commands of the layers above the session (``serve``, the labeling web page
of :mod:`allsh_sklearn.web`; ``labelstudio``, the Label Studio backend of
:mod:`allsh_sklearn.labelstudio`) are plugins: entry points of the group
``allsh_sklearn.cli`` (:data:`PLUGIN_GROUP`), declared in ``pyproject.toml``
as any installed package can declare its own, and loaded by
:mod:`~allsh_sklearn.session._plugins` when the parser is built, never when
this module is imported. The session package never names them, so
dependencies point one way (the web page uses the session, never the
reverse). The file formats of ``--format`` are those of
:data:`~allsh_sklearn.session._formats.FORMATS`.
"""

import argparse
import json
import os
import re
import sys
import textwrap
from pathlib import Path

from ._annotate import annotate, print_round
from ._create import DEFAULT_CLASSIFIER, DEFAULT_STRATEGY
from ._errors import EXIT_CODES, NotReadyError, SessionError
from ._formats import FORMATS, guess_format, table_formats
from ._plugins import COMMAND_PLUGINS, PLUGIN_GROUP, load_plugins
from ._session import LabelingSession

__all__ = ["COMMAND_PLUGINS", "PLUGIN_GROUP", "build_parser", "main"]

#: The help of the ``--format`` options.
_FROM_SUFFIX = "default: from the suffix"


def _epilog():
    codes = "\n".join(
        textwrap.fill(f"{code:>3}  {text}", width=78, subsequent_indent=" " * 5)
        for code, text in EXIT_CODES.items()
    )
    return (
        "A typical session:\n"
        "  allsh-label init tickets/ --data tickets.csv --labels billing,bug,other\n"
        "  allsh-label annotate tickets/ --annotator alice\n"
        "  allsh-label serve tickets/                          "
        "# or label in a web page\n"
        "  allsh-label next tickets/ --output batch.json       "
        "# or label elsewhere\n"
        "  allsh-label import tickets/ batch-labeled.json --retrain\n"
        "  allsh-label status tickets/ --plot curve.png\n"
        "  allsh-label predict tickets/ new.csv --output predicted.csv\n\n"
        f"Exit codes:\n{codes}"
    )


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 0.9:
        raise argparse.ArgumentTypeError(
            f"expected a fraction in [0, 0.9), got {value}"
        )
    return value


def _add_named_choice(parser, flag, default, described):
    """An option taking one of the names of ``described`` ({name: description});
    the help lists them with their descriptions."""
    parser.add_argument(
        flag,
        default=default,
        choices=sorted(described),
        help=f"default: {default}. "
        + "; ".join(f"{name}: {text}" for name, text in described.items()),
    )


def build_parser():
    """The argument parser of ``allsh-label``, with every command plugin.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    return _build_parser(load_plugins(reserved=_RUNNERS))


def _build_parser(plugins):
    """The argument parser, with the loaded ``plugins`` ({command: plugin})."""
    from .. import __version__
    from ..presets import PRESETS, preset_display_name

    parser = argparse.ArgumentParser(
        prog="allsh-label",
        description=(
            "Label your own texts with active learning: a crash-safe session "
            "in a project folder picks the texts that teach the model most "
            f"({preset_display_name(DEFAULT_STRATEGY)} by default, the paper's "
            "ALLSH with --strategy allsh), keeps every label in one SQLite "
            "database, and tells you when more labels stop helping."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help_text, description=None):
        sub = commands.add_parser(
            name,
            help=help_text,
            description=textwrap.fill(description or help_text, width=78),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog="Exit codes: see 'allsh-label --help'.",
        )
        sub.add_argument("project", type=Path, help="the project folder")
        return sub

    init = command(
        "init",
        "create a session from a file of texts",
        "Create a labeling session in PROJECT from a CSV, JSONL or Parquet file.",
    )
    init.add_argument("--data", required=True, type=Path, help="the texts to label")
    init.add_argument(
        "--labels",
        required=True,
        help="the label set, comma-separated (e.g. 'billing,bug,other')",
    )
    init.add_argument("--text-column", default="text", help="default: text")
    init.add_argument("--pair-column", help="the second text of sentence pairs")
    init.add_argument("--id-column", help="unique ids (default: a hash of each text)")
    init.add_argument("--format", choices=table_formats())
    from ..models import CLASSIFIERS

    _add_named_choice(init, "--classifier", DEFAULT_CLASSIFIER, CLASSIFIERS)
    _add_named_choice(
        init,
        "--strategy",
        DEFAULT_STRATEGY,
        {n: p.description for n, p in PRESETS.items()},
    )
    init.add_argument(
        "--batch-size", type=_positive_int, default=50, help="default: 50"
    )
    init.add_argument(
        "--initial-size",
        type=_positive_int,
        help="size of the first, random batch (default: the batch size)",
    )
    init.add_argument(
        "--audit-fraction",
        type=_fraction,
        default=0.1,
        help="share of every batch drawn at random and never trained on, to "
        "estimate accuracy (default: 0.1; 0 disables it)",
    )
    init.add_argument(
        "--retrain-every",
        type=_positive_int,
        help="the terminal annotator retrains after this many labels "
        "(default: the batch size)",
    )
    init.add_argument(
        "--budget",
        type=_positive_int,
        help="add a stopping rule that says stop at this many labels",
    )
    init.add_argument(
        "--stop-set-size", type=_positive_int, default=1000, help="default: 1000"
    )
    init.add_argument("--seed", type=int, default=0, help="default: 0")
    init.add_argument(
        "--drop-empty",
        action="store_true",
        help="leave out rows with an empty text instead of refusing the file",
    )

    nxt = command(
        "next",
        "show or export the batch to label next",
        "Print the open batch (querying a new one, retraining first, when it "
        "is done), or write it to a file for another labeling tool. When the "
        "pool is fully labeled (every text labeled, skipped or in the audit "
        "sample), it trains the model on every label, says so and exits with "
        "7; nothing is written.",
    )
    nxt.add_argument("--output", type=Path, help="write the batch to this file")
    nxt.add_argument("--format", choices=tuple(FORMATS), help=_FROM_SUFFIX)
    nxt.add_argument("--size", type=_positive_int, help="default: the batch size")
    nxt.add_argument(
        "--new",
        action="store_true",
        help="retrain now and query a fresh batch even if the open one has texts left",
    )

    imp = command(
        "import",
        "import labels from a file",
        "Import labels from a CSV, JSONL, Parquet or Label Studio JSON file: "
        "all of them or none (unknown ids or labels, or a file from another "
        "session, refuse the whole file).",
    )
    imp.add_argument("file", type=Path, help="the labeled file")
    imp.add_argument("--format", choices=tuple(FORMATS), help=_FROM_SUFFIX)
    imp.add_argument("--annotator", help="for rows that name none (default: 'import')")
    imp.add_argument(
        "--retrain", action="store_true", help="retrain and query a fresh batch after"
    )

    exp = command("export", "export labels, the open batch or the model")
    exp.add_argument("output", type=Path, help="the file to write")
    exp.add_argument(
        "--what",
        choices=("labels", "batch", "model"),
        default="labels",
        help="default: labels",
    )
    exp.add_argument("--format", choices=tuple(FORMATS), help=_FROM_SUFFIX)
    exp.add_argument(
        "--no-audit",
        action="store_true",
        help="labels: leave out the audit sample's labels",
    )

    ann = command(
        "annotate",
        "label in the terminal, one text at a time",
        "Label in the terminal: 1-9 label, s skip, u undo, w why was this "
        "picked, r retrain now, q quit. Every key is saved at once.",
    )
    ann.add_argument(
        "--annotator",
        default=os.environ.get("USER") or "annotator",
        help="your name, stored with every label (default: $USER)",
    )
    ann.add_argument(
        "--retrain-every",
        type=_positive_int,
        help="retrain after this many labels (default: the session's)",
    )

    ret = command(
        "retrain",
        "retrain now and query a fresh batch",
        "Retrain on every label now and query a fresh batch. When the pool is "
        "fully labeled, it trains a final round on every label without a "
        "batch (exit code 0).",
    )
    ret.add_argument("--size", type=_positive_int, help="default: the batch size")

    st = command("status", "labels, rounds, audit estimate and stopping rules")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.add_argument("--plot", type=Path, help="save the learning curve (PNG)")
    st.add_argument(
        "--exit-code",
        action="store_true",
        help="exit with 10 when a stopping rule says stop",
    )

    pred = command("predict", "predict the labels of a new file with the last model")
    pred.add_argument("file", type=Path, help="CSV, JSONL or Parquet")
    pred.add_argument(
        "--output", required=True, type=Path, help="CSV, JSONL or Parquet"
    )
    pred.add_argument("--text-column", help="default: the session's")
    pred.add_argument("--pair-column", help="default: the session's")
    pred.add_argument("--id-column", help="default: the session's, when present")

    for name, plugin in plugins.items():
        plugin.add_arguments(command(name, plugin.HELP, plugin.DESCRIPTION))
    return parser


# Commands ------------------------------------------------------------------------


def _open(args, **kwargs):
    return LabelingSession.open(args.project, **kwargs)


def _print_batch(batch, out):
    if batch is None:
        print("No open batch.", file=out)
        return
    kind = "random" if batch.kind == "initial" else f"round {batch.round}"
    print(
        f"Batch {batch.batch} ({kind}): {batch.n_pending} of {len(batch.items)} "
        "texts left.",
        file=out,
    )
    for item in batch.items:
        if item.label is not None or item.skipped:
            continue
        text = (
            item.text if item.text_pair is None else f"{item.text} || {item.text_pair}"
        )
        text = text.replace("\n", " ")
        guess = "" if item.guess is None else f"[{item.guess}] "
        print(f"  {item.item_id}  {guess}{text[:90]}", file=out)


def _run_init(args, out):
    from ..stopping import LabelBudget
    from ._create import default_stopping_rules
    from ._session import LabelingSession

    rules = default_stopping_rules()
    if args.budget is not None:
        rules["budget"] = LabelBudget(args.budget)
    session = LabelingSession.create(
        args.project,
        args.data,
        labels=args.labels,
        text_column=args.text_column,
        pair_column=args.pair_column,
        id_column=args.id_column,
        classifier=args.classifier,
        strategy=args.strategy,
        batch_size=args.batch_size,
        initial_size=args.initial_size,
        audit_fraction=args.audit_fraction,
        stop_set_size=args.stop_set_size,
        stopping_rules=rules,
        retrain_every=args.retrain_every,
        random_state=args.seed,
        drop_empty=args.drop_empty,
        format=args.format,
    )
    print(
        f"Next: allsh-label annotate {args.project}   (or: allsh-label next "
        f"{args.project} --output batch.csv)",
        file=out,
    )
    session.close()
    return 0


def _write_text(path, text):
    """Write a small text file atomically: a link at ``path`` is replaced by
    the file, its target left untouched (as the exports do)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _fully_labeled(session, project, out):
    """Say that the pool is used up and what the model was trained on."""
    rounds = session.rounds()
    print(
        "The pool is fully labeled: every text is labeled, skipped or in the "
        "audit sample, so there is no batch left to query.",
        file=out,
    )
    if rounds:
        print(
            f"The model of round {rounds[-1].round} is trained on all "
            f"{rounds[-1].n_labeled} training labels. Next: allsh-label export "
            f"{project} model.joblib --what model",
            file=out,
        )


def _run_next(args, out):
    session = _open(args)
    sidecar = None
    if args.output is not None:
        # Checked before retraining, which may take minutes.
        session._check_output(args.output, "path", "export_batch")
        sidecar = FORMATS[guess_format(args.output, args.format)].sidecar(
            args.output,
            labels=session.labels,
            pair=session.config.get("pair_column") is not None,
        )
        if sidecar is not None:
            session._check_output(sidecar.path, "path", "export_batch")
    try:
        if args.new:
            session.retrain(size=args.size)
            batch = session.current_batch()
        else:
            batch = session.next_batch(size=args.size)
    except NotReadyError:
        if session.status().n_unlabeled:
            raise
        batch = None
    if batch is None:
        _fully_labeled(session, args.project, out)
        return NotReadyError.exit_code
    rounds = session.rounds()
    if batch.kind == "query" and rounds:
        print_round(rounds[-1], out)
    if args.output is None:
        _print_batch(batch, out)
        return 0
    n = session.export_batch(args.output, format=args.format)
    print(f"Wrote {n} texts of batch {batch.batch} to {args.output}.", file=out)
    if sidecar is not None:
        _write_text(sidecar.path, sidecar.text)
        print(f"{sidecar.description}: {sidecar.path}", file=out)
    return 0


def _run_import(args, out):
    session = _open(args)
    report = session.import_labels(
        args.file, format=args.format, annotator=args.annotator, retrain=args.retrain
    )
    print(
        f"Imported {report.n_imported} labels from {args.file} "
        f"({report.n_skips} skips; {report.n_unchanged} unchanged; "
        f"{report.n_unlabeled} rows without a label left alone).",
        file=out,
    )
    if report.round is not None:
        print_round(report.round, out)
    return 0


def _run_export(args, out):
    session = _open(args)
    if args.what == "model":
        path = session.export_model(args.output)
        status = session.status()
        last = status.rounds[-1]
        print(
            f"Wrote the model of round {last.round}, trained on {last.n_labeled} "
            f"training labels, to {path}.",
            file=out,
        )
        if not status.model_up_to_date:
            print(
                f"Note: the session has {status.n_labeled} training labels now "
                f"and they changed since round {last.round}; this model has not "
                f"seen the changes. Run 'allsh-label retrain {args.project}' to "
                "train on every label, then export again.",
                file=sys.stderr,
            )
    elif args.what == "batch":
        n = session.export_batch(args.output, format=args.format)
        print(f"Wrote {n} texts of the open batch to {args.output}.", file=out)
    else:
        n = session.export_labels(
            args.output, format=args.format, include_audit=not args.no_audit
        )
        print(f"Wrote {n} labels to {args.output}.", file=out)
    return 0


def _run_annotate(args, out):
    session = _open(args)
    summary = annotate(
        session,
        annotator=args.annotator,
        retrain_every=args.retrain_every,
        output=out,
    )
    print(
        f"{summary.n_labeled} labeled, {summary.n_skipped} skipped, "
        f"{summary.n_undone} undone, {summary.n_retrained} retrainings.",
        file=out,
    )
    return 0


def _run_retrain(args, out):
    session = _open(args)
    round_info = session.retrain(size=args.size)
    if round_info is None:
        print(
            "Too few classes have labels to train a model: a random batch was "
            "queried instead.",
            file=out,
        )
    else:
        print_round(round_info, out)
    batch = session.current_batch()
    if batch is None and not session.status().n_unlabeled:
        _fully_labeled(session, args.project, out)
    else:
        _print_batch(batch, out)
    return 0


def _run_status(args, out):
    session = _open(args, progress=False)
    status = session.status()
    if args.plot is not None:
        session.plot_learning_curve(args.plot)
    if args.json:
        print(json.dumps(status.as_dict(), indent=1), file=out)
    else:
        print(f"Session {status.session_id[:8]} in {args.project}", file=out)
        print(
            f"  {status.n_items} texts; {status.n_labeled} training labels, "
            f"{status.n_audit_labeled} audit labels, {status.n_skipped} skipped",
            file=out,
        )
        counts = ", ".join(f"{k} {v}" for k, v in status.class_counts.items())
        print(f"  classes: {counts}", file=out)
        if status.annotators:
            who = ", ".join(f"{k} {v}" for k, v in status.annotators.items())
            print(f"  annotators: {who}", file=out)
        if status.batch:
            b = status.batch
            print(
                f"  open batch {b['batch']}: {b['done']} of {b['size']} done; "
                f"{status.labels_since_round} labels since the last retraining",
                file=out,
            )
        if status.rounds:
            print("  round  labels  audit accuracy [95% interval]   stop?", file=out)
            for r in status.rounds:
                audit = r.audit_summary or "-"
                fired = ",".join(r.stopped_by) or "-"
                print(
                    f"  {r.round:>5}  {r.n_labeled:>6}  {audit:<31} {fired}", file=out
                )
            print("  stopping rules at the last round:", file=out)
            for check in status.rounds[-1].checks:
                verdict = "STOP" if check["stop"] else "go on"
                print(f"    {verdict:5}  {check['message']}", file=out)
            for line in _class_estimate_lines(status.class_estimates):
                print(line, file=out)
        else:
            print("  no model trained yet", file=out)
        if not status.n_unlabeled:
            print("  the pool is fully labeled: no batch is left to query", file=out)
        if status.rounds and not status.model_up_to_date:
            print(
                f"  the model of round {status.rounds[-1].round} was trained on "
                f"{status.rounds[-1].n_labeled} training labels; labels changed "
                f"since: allsh-label retrain {args.project}",
                file=out,
            )
        if args.plot is not None:
            print(f"  learning curve: {args.plot}", file=out)
    if args.exit_code and status.should_stop:
        return 10
    return 0


def _interval(value, low, high):
    if value is None:
        return "-"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _class_estimate_lines(estimates, width=88):
    """The per-class table and warnings of ``status``, as lines."""
    from ._why import percent

    if estimates is None:
        return [
            "  no per-class estimates for this round (trained by an older "
            "version; retrain to get them)"
        ]
    n_audit = estimates["n_audit"]
    level = f"{estimates['confidence']:.0%}"
    where = f"{n_audit} audit labels" if n_audit else "no audit labels yet"
    lines = [f"  per-class estimates (round {estimates['round']}, {where}):"]
    name_width = max(5, *(len(c["label"]) for c in estimates["classes"]))
    lines.append(
        f"    {'label':<{name_width}}  train  audit  {'recall [' + level + ']':<19}  "
        f"{'precision [' + level + ']':<19}  predicted"
    )
    for c in estimates["classes"]:
        recall = _interval(c["recall"], c["recall_low"], c["recall_high"])
        precision = _interval(c["precision"], c["precision_low"], c["precision_high"])
        share = "-" if c["pool_share"] is None else percent(c["pool_share"])
        lines.append(
            f"    {c['label']:<{name_width}}  {c['n_train'] or 0:>5}  "
            f"{c['support']:>5}  {recall:<19}  {precision:<19}  {share:>9}"
        )
    pool = estimates.get("pool") or {}
    if pool.get("n"):
        on = (
            f"a random sample of {pool['n']:,} of the {pool['of']:,} unlabeled texts"
            if pool.get("source") == "sample"
            else f"the {pool['n']:,} unlabeled texts"
        )
        lines.append(f"    (predicted: the share of {on} the model gives each class)")
    if estimates["macro_f1"] is not None:
        lines.append(
            f"    macro-F1 {estimates['macro_f1']:.2f} "
            f"[{estimates['macro_f1_low']:.2f}, {estimates['macro_f1_high']:.2f}] "
            f"({level} bootstrap interval)"
        )
    else:
        lines.append(
            "    recall, precision and macro-F1 need labels of the audit sample "
            "(a session made with --audit-fraction above 0)"
        )
    if estimates["warnings"]:
        lines.append("  warnings:")
        for warning in estimates["warnings"]:
            lines.extend(
                textwrap.wrap(
                    warning,
                    width=width,
                    initial_indent="    ! ",
                    subsequent_indent="      ",
                )
            )
    return lines


def _run_predict(args, out):
    session = _open(args)
    n = session.predict_file(
        args.file,
        args.output,
        text_column=args.text_column,
        pair_column=args.pair_column,
        id_column=args.id_column,
    )
    print(f"Wrote {n} predictions to {args.output}.", file=out)
    return 0


_RUNNERS = {
    "init": _run_init,
    "next": _run_next,
    "import": _run_import,
    "export": _run_export,
    "annotate": _run_annotate,
    "retrain": _run_retrain,
    "status": _run_status,
    "predict": _run_predict,
}


#: Python parameters whose CLI spelling is not their own name, by command.
_PYTHON_NAMES = {
    "init": {"random_state": "--seed"},
    "next": {"path": "--output"},
    "import": {"path": "FILE"},
    "export": {"path": "OUTPUT", "include_audit": "--no-audit"},
    "predict": {"data": "FILE"},
}


def _cli_names(parser, command):
    """``{Python parameter: CLI spelling}`` of a command's options and arguments."""
    commands = next(
        action
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    names, flags = {}, set()
    for action in commands.choices[command]._actions:
        if action.dest == "help":
            continue
        if action.option_strings:
            long = [o for o in action.option_strings if o.startswith("--")]
            names[action.dest] = (long or action.option_strings)[0]
            if isinstance(action, argparse._StoreTrueAction):
                flags.add(action.dest)
        else:
            names[action.dest] = action.metavar or action.dest.upper()
    names.update(_PYTHON_NAMES.get(command, {}))
    return names, flags


def _cli_message(message, names, flags=()):
    """An error message of the Python API, with the CLI's names in it.

    The session's errors name Python parameters (``drop_empty=True``,
    ``The 'labels' parameter of LabelingSession``); the CLI shows the option
    or argument a user types instead (``--drop-empty``, ``The --labels
    option``).

    Parameters
    ----------
    message : str
    names : dict of {str: str}
        Python parameter to CLI spelling (``"--drop-empty"``, ``"FILE"``).
    flags : collection of str, default=()
        The parameters that are on/off options (``store_true``).

    Returns
    -------
    message : str

    Examples
    --------
    >>> _cli_message("or pass drop_empty=True (--drop-empty) to leave them out",
    ...             {"drop_empty": "--drop-empty"})
    'or pass --drop-empty to leave them out'
    >>> _cli_message("The 'size' parameter of next_batch must be >= 1.",
    ...             {"size": "--size"})
    'The --size option must be >= 1.'
    """
    known = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    if not known:
        return message
    python = rf"\b(?:{known})(?:=[^\s()]+)?"
    # "a / b (--a, --b)" and "x=True (--x)": the CLI spelling alone.
    message = re.sub(
        rf"{python}(?:(?: / |, ){python})* \((--[\w-]+(?:, --[\w-]+)*)\)",
        r"\1",
        message,
    )

    def parameter(match):
        cli = names[match.group(1)]
        return f"The {cli} {'option' if cli.startswith('-') else 'argument'}"

    message = re.sub(rf"\bThe '({known})' parameter(?: of [\w.]+)?", parameter, message)

    def assignment(match):
        name, value = match.group(1), match.group(2)
        if name in flags:
            return names[name] if value == "True" else f"no {names[name]}"
        return f"{names[name]} {value}"

    return re.sub(
        rf"(?<![\w-])({known})=(True|False|None|'[^']*'|\"[^\"]*\"|[\d.]+)",
        assignment,
        message,
    )


def main(argv=None):
    """Run ``allsh-label`` with ``argv`` (``sys.argv[1:]`` by default).

    Parameters
    ----------
    argv : list of str or None, default=None

    Returns
    -------
    exit_code : int
        See :data:`~allsh_sklearn.session.EXIT_CODES`.
    """
    plugins = load_plugins(reserved=_RUNNERS)
    parser = _build_parser(plugins)
    args = parser.parse_args(argv)
    out = sys.stdout
    names, flags = _cli_names(parser, args.command)

    def report(error):
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        message = _cli_message(str(message), names, flags)
        print(f"allsh-label {args.command}: error: {message}", file=sys.stderr)

    try:
        run = _RUNNERS.get(args.command) or plugins[args.command].run
        return run(args, out)
    except KeyboardInterrupt:
        print("\nInterrupted: every label given so far is saved.", file=sys.stderr)
        return 130
    except SessionError as error:
        report(error)
        return error.exit_code
    except (ValueError, TypeError, KeyError) as error:
        report(error)
        return 2
    except BrokenPipeError:
        # The reader of our output went away (``| head``): nothing to report.
        sys.stderr.close()
        return 141
    except OSError as error:
        report(error)
        return 6


def console_main():
    """Entry point of the ``allsh-label`` console script."""
    sys.exit(main())
