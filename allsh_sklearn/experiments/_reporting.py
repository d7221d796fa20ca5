"""Tables (Markdown) and plots (PNG) from the runner's results.

:func:`write_report` reads ``runs.jsonl`` and ``requests.jsonl`` of an
output folder and writes, for each setting and each *variant* (classifier,
pool size, test size, initial size, batch size):

- ``tables/<setting>__<variant>.md``: the paper's layout, one block per
  task, mean ± std over seeds of the accuracy (in %) at each budget, the
  paper's number beside the row of the same configuration (see
  :func:`~._settings.paper_row`), the best mean in bold; then the verdicts
  (:func:`verdict_table`): each strategy's paired difference from Random
  and from the best baseline of each budget, with its 95% CI over the seeds
  both have (:func:`allsh_sklearn.evaluation.paired_difference`), a win or
  a loss only where the CI excludes 0; for Table 13, seconds per query and
  the ratio to entropy beside the paper's ratios;
- ``plots/<setting>__<variant>__<task>__paired.png``: those paired
  differences from Random with their CIs, per budget (:func:`plot_paired`);
- ``plots/<setting>__<variant>__<task>.png``: accuracy against the number
  of labeled examples, one line per strategy with a ±1 std band over seeds.

Everything is written atomically; matplotlib runs on the Agg backend.
"""

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..evaluation import DESIGN_KEYS, paired_difference, paired_differences_png
from ..loop import RunJournal
from ..plotting import learning_curves_png
from ..utils._storage import atomic_write_bytes, atomic_write_text
from ._records import migrate_record
from ._settings import (
    PAPER_QUERY_TIME,
    SETTINGS,
    canonical_strategy,
    paper_row,
    strategy_label,
)

__all__ = [
    "load_runs",
    "query_time_table",
    "accuracy_table",
    "paired_frame",
    "plot_paired",
    "verdict",
    "verdict_table",
    "write_report",
]

_DATASET_TITLES = dict(
    sst2="SST-2", imdb="IMDB", ag_news="AG News", qnli="QNLI", qqp="QQP",
    trec="TREC", twitter_ppdb="TwitterPPDB",
)  # fmt: skip


def _task_title(task):
    """``"sst2->imdb"`` -> ``"SST-2 → IMDB"``; ``"-imbalanced"`` in brackets."""
    if "->" in task:
        return " → ".join(map(_task_title, task.split("->")))
    if task.endswith("-imbalanced"):
        return f"{_task_title(task.removesuffix('-imbalanced'))} (imbalanced)"
    return _DATASET_TITLES.get(task, task)


def load_runs(output_dir, setting=None):
    """Read the finished runs of an output folder.

    Parameters
    ----------
    output_dir : str or path-like
    setting : str or None, default=None
        Keep only the runs this setting asked for.

    Returns
    -------
    runs : list of dict
        One record per run id (the first written), with the procedure of its
        copies in its configuration (:func:`migrate_record`), so that old and
        new records of one procedure are grouped together and records of
        different procedures never are.
    """
    journal = RunJournal(output_dir)
    runs = {}
    for record in journal.runs.read():
        runs.setdefault(record["run_id"], migrate_record(record))
    if setting is None:
        return list(runs.values())
    wanted = [r["run_id"] for r in journal.requests.read() if r["setting"] == setting]
    return [runs[run_id] for run_id in dict.fromkeys(wanted) if run_id in runs]


def _variant(config):
    parts = [config["classifier"]]
    if config.get("pool_size"):
        parts.append(f"pool{config['pool_size']}")
    if config.get("test_size"):
        parts.append(f"test{config['test_size']}")
    if config.get("initial_size") != 0.001:
        parts.append(f"init{config['initial_size']}")
    if config.get("batch_size") not in (50, 100):
        parts.append(f"batch{config['batch_size']}")
    if config.get("minilm_train_steps"):
        parts.append(f"steps{config['minilm_train_steps']}")
    if config.get("copies_per_seed"):
        parts.append("copiesperseed")
    return "-".join(str(p) for p in parts)


def _group_by_variant(runs):
    groups = defaultdict(list)
    for run in runs:
        groups[_variant(run["config"])].append(run)
    return dict(sorted(groups.items()))


#: Configuration keys that are not part of a run's procedure: the variant's
#: design, the strategy, the seed and the schedule.
_NOT_PROCEDURE = {*DESIGN_KEYS, "strategy", "seed", "budgets", "n_queries"}


def _split_procedures(runs):
    """One row per procedure where a strategy ran with several on one task.

    A run's procedure is every key of its configuration outside
    :data:`_NOT_PROCEDURE` (the augmentation and when its copies are drawn,
    for instance). Where the runs of a strategy on a task differ in it,
    each run's strategy becomes ``"<spec> [key=value, ...]"`` (the keys
    that differ), so that tables and plots never mix procedures.
    """
    found = defaultdict(dict)
    procedures = []
    for run in runs:
        config = run["config"]
        procedure = {k: v for k, v in config.items() if k not in _NOT_PROCEDURE}
        key = json.dumps(procedure, sort_keys=True, default=str)
        found[config.get("task"), config["strategy"]][key] = procedure
        procedures.append(procedure)
    split = []
    for run, mine in zip(runs, procedures, strict=True):
        config = run["config"]
        others = list(found[config.get("task"), config["strategy"]].values())
        if len(others) < 2:
            split.append(run)
            continue
        keys = sorted(
            {
                key
                for procedure in others
                for key in procedure
                if any(procedure.get(key) != other.get(key) for other in others)
            }
        )
        suffix = ", ".join(f"{key}={mine.get(key)}" for key in keys)
        strategy = f"{config['strategy']} [{suffix}]"
        split.append({**run, "config": {**config, "strategy": strategy}})
    return split


def _spec(strategy):
    """The spec of a row (:func:`_split_procedures` appends a procedure)."""
    return strategy.partition(" [")[0]


def _label(strategy, setting):
    """:func:`strategy_label`, with the procedure of a split row."""
    spec, split, procedure = strategy.partition(" [")
    return strategy_label(spec, setting) + (f" [{procedure}" if split else "")


def _ordered_strategies(runs, setting):
    preferred = [canonical_strategy(s) for s in setting.strategies]
    found = {run["config"]["strategy"] for run in runs}
    return [s for s in preferred if s in found] + sorted(found.difference(preferred))


def _fmt(values):
    values = np.asarray(list(values), dtype=np.float64) * 100
    if values.size == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f} ± {values.std(ddof=0):.2f}"


def _task_cells(task_runs, setting):
    """Strategies, budgets and ``(strategy, budget) -> {seed: score}``.

    ``task_runs`` holds one run per (strategy, seed), as :func:`_longest`
    leaves it.
    """
    strategies = _ordered_strategies(task_runs, setting)
    budgets = []
    for run in task_runs:
        for label in run["at_budget"]:
            if label not in budgets:
                budgets.append(label)
    budgets.sort(key=lambda label: float(label.rstrip("%")))
    cells = {}
    for strategy in strategies:
        for budget in budgets:
            by_seed = {}
            for run in task_runs:
                if run["config"]["strategy"] == strategy and budget in run["at_budget"]:
                    by_seed.setdefault(
                        run["config"]["seed"], run["at_budget"][budget][setting.metric]
                    )
            cells[strategy, budget] = dict(sorted(by_seed.items()))
    return strategies, budgets, cells


def accuracy_table(runs, setting_name, plots=None, paired_plots=None):
    """Markdown tables of accuracy (mean ± std over seeds) beside the paper's.

    Each task's table is followed by the paired differences of its
    strategies (see :func:`verdict_table`): from Random (or, without it,
    from the setting's first strategy), and from the best baseline of each
    budget. A strategy run with several procedures on a task (e.g. copies
    drawn once or at every query) gets one row per procedure, named after
    what differs.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str
    plots : dict or None, default=None
        Task name to the path of its learning-curve image, relative to the
        table's folder; each task's table is followed by its image.
    paired_plots : dict or None, default=None
        Task name to the path of its image of paired differences (see
        :func:`plot_paired`), shown after the verdicts.

    Returns
    -------
    markdown : str
    """
    setting = SETTINGS[setting_name]
    metric = setting.metric
    runs = _split_procedures(runs)
    lines = []
    tasks = [t for t in setting.tasks if any(r["config"]["task"] == t for r in runs)]
    tasks += sorted({r["config"]["task"] for r in runs}.difference(tasks))
    for task in tasks:
        # One run per strategy and seed, the longest: every cell of a row then
        # comes from the same runs.
        task_runs = _longest([r for r in runs if r["config"]["task"] == task])
        strategies, budgets, cells = _task_cells(task_runs, setting)
        paper = setting.paper.get(task, {})
        paper_budgets = [f"{round(b * 100, 6):g}%" for b in setting.budgets]
        best = {}
        for budget in budgets:
            means = [
                np.mean(list(cells[s, budget].values()))
                for s in strategies
                if cells[s, budget]
            ]
            best[budget] = max(means) if means else None
        sizes = task_runs[0]["sizes"]
        seeds = sorted({r["config"]["seed"] for r in task_runs})
        size_text = ", ".join(f"{k} {v:,}" for k, v in sizes.items())
        lines.append(f"### {_task_title(task)}")
        lines.append("")
        lines.append(f"{size_text}; metric: {metric} accuracy (%); seeds {seeds}.")
        lines.append("")
        header = ["Strategy"]
        for budget in budgets:
            header.append(f"{budget} (ours)")
            if budget in paper_budgets and paper:
                header.append(f"{budget} (paper)")
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        paired = set()
        for strategy in strategies:
            label = _label(strategy, setting)
            paper_label = paper_row(_spec(strategy), setting)
            paired.add(paper_label)
            row = [label]
            for budget in budgets:
                values = list(cells[strategy, budget].values())
                text = _fmt(values) if values else "–"
                if values and len(values) < len(seeds):
                    text += f" (n={len(values)})"
                if (
                    values
                    and best[budget] is not None
                    and np.isclose(np.mean(values), best[budget])
                ):
                    text = f"**{text}**"
                row.append(text)
                if budget in paper_budgets and paper:
                    value = paper.get(paper_label) if paper_label else None
                    row.append(
                        f"{value[paper_budgets.index(budget)]:.2f}" if value else "–"
                    )
            lines.append("| " + " | ".join(row) + " |")
        for label, values in paper.items():
            if label in paired:
                continue
            row = [f"{_unpaired_label(label, setting)} (not run)"]
            for budget in budgets:
                row.append("–")
                if budget in paper_budgets:
                    row.append(f"{values[paper_budgets.index(budget)]:.2f}")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(_balance_note(task_runs, strategies, setting))
        lines.append("")
        reference = _reference(strategies)
        for against in (reference, None):
            verdicts = verdict_table(cells, strategies, budgets, setting, against)
            if verdicts:
                lines.extend([verdicts, ""])
        if paired_plots and task in paired_plots and reference:
            title = _task_title(task)
            lines.append(
                f"![{title}, {setting.table}: each strategy minus "
                f"{_label(reference, setting)}, mean paired difference "
                f"with its 95% CI per budget]({paired_plots[task]})"
            )
            lines.append("")
        if plots and task in plots:
            title = _task_title(task)
            lines.append(
                f"![{title}, {setting.table}: test accuracy against labeled "
                f"examples, mean ± std over seeds]({plots[task]})"
            )
            lines.append("")
    return "\n".join(lines)


#: The strategies a row is compared with in :func:`verdict_table`.
BASELINES = ("random", "entropy", "badge", "cal")

#: Confidence level of every interval and verdict of the reports.
CONFIDENCE = 0.95


def _reference(strategies):
    """What the paired differences are taken from: Random, else the first."""
    if "random" in strategies:
        return "random"
    return strategies[0] if len(strategies) > 1 else None


def verdict(values, reference):
    """The paired verdict of ``values`` against ``reference``.

    See :func:`allsh_sklearn.evaluation.paired_difference`: ``"win"`` or
    ``"loss"`` where the 95% confidence interval (Student t) of the mean
    paired difference excludes 0, otherwise ``"no difference detected
    (resolves ±X)"``, X being the difference these seeds detect with 80%
    power, in percentage points.

    Parameters
    ----------
    values, reference : mapping seed -> float, or sequence of float
        Scores (in [0, 1]) of the two strategies, paired on the seeds both
        have (sequences: by position).

    Returns
    -------
    verdict : str
        Or ``"–"`` when fewer than 2 seeds pair.

    Examples
    --------
    >>> verdict({0: 0.80, 1: 0.82, 2: 0.79}, {0: 0.70, 1: 0.73, 2: 0.70})
    'win'
    >>> verdict([0.80, 0.90, 0.85], [0.80, 0.82, 0.88])
    'no difference detected (resolves ±17.6)'
    >>> verdict([0.70, 0.72, 0.71], [0.80, 0.81, 0.82])
    'loss'
    """
    result = _paired(values, reference)
    return "–" if result is None else result.verdict


def _paired(values, reference):
    """:func:`paired_difference` in percentage points; None below 2 pairs."""
    if isinstance(values, Mapping):
        n = sum(seed in reference for seed in values)
    else:
        n = min(len(values), len(reference))
    if n < 2:
        return None
    return paired_difference(values, reference, confidence=CONFIDENCE).scaled(100)


def _cell(result, versus="", n_seeds=None):
    """``"+2.68 [+1.16, +4.21] vs BADGE: **win**"``; n where seeds are missing."""
    if result is None:
        return "– (fewer than 2 paired seeds)"
    verdict = result.verdict
    if verdict in ("win", "loss"):
        verdict = f"**{verdict}**"
    n = f", n={result.n}" if n_seeds is None or result.n < n_seeds else ""
    if math.isnan(result.ci_low):  # equal differences on too few seeds
        interval = "(no interval)"
    else:
        interval = f"[{result.ci_low:+.2f}, {result.ci_high:+.2f}]"
    return f"{result.mean:+.2f} {interval}{versus}{n}: {verdict}"


def verdict_table(cells, strategies, budgets, setting, reference=None):
    """Paired differences of each strategy from a reference, as Markdown.

    Each cell is the verdict, then the mean paired difference in
    percentage points and its 95% confidence interval (Student t) over the
    seeds both strategies have; seeds share their initial labeled set
    across strategies, so the difference seed by seed is the comparison.
    A win or a loss is called only where the interval excludes 0.

    Parameters
    ----------
    cells : dict
        ``(strategy, budget) -> {seed: score}`` (a list of scores, one per
        seed in the same order for every strategy, also works).
    strategies : list of str
        The table's strategies.
    budgets : list of str
    setting : Setting
        Gives the row labels.
    reference : str or None, default=None
        The strategy every other is compared with (every other gets a row);
        None: the best baseline of each budget (the one of
        :data:`BASELINES` with the highest mean), and only the strategies
        that are not baselines get a row.

    Returns
    -------
    markdown : str
        Empty when there is no reference or nothing to compare with one.
    """
    if reference is None:
        baselines = [s for s in strategies if s in BASELINES]
        others = [s for s in strategies if s not in BASELINES]
        names = ", ".join(_label(s, setting) for s in baselines)
        intro = (
            f"Against the best baseline of each budget ({names}; the highest "
            "mean), paired differences"
        )
    else:
        baselines = [reference] if reference in strategies else []
        others = [s for s in strategies if s != reference]
        intro = f"Paired differences from {_label(reference, setting)}"
    if not baselines or not others:
        return ""
    n_seeds = max(len(scores) for scores in cells.values())
    lines = [
        f"{intro}, in points: the mean over the seeds both strategies have "
        "(which share their initial labeled set) [95% CI, Student t], then "
        "the verdict: a win or a loss only where the CI excludes 0, otherwise "
        "the smallest difference these seeds detect with 80% power; n where "
        "fewer seeds pair.",
        "",
        "| Strategy | " + " | ".join(budgets) + " |",
        "|" + "---|" * (len(budgets) + 1),
    ]
    for strategy in others:
        row = [_label(strategy, setting)]
        for budget in budgets:
            present = [s for s in baselines if cells[s, budget]]
            if not cells[strategy, budget] or not present:
                row.append("–")
                continue
            best = max(present, key=lambda s: np.mean(list(_values(cells[s, budget]))))
            versus = f" vs {_label(best, setting)}" if reference is None else ""
            result = _paired(cells[strategy, budget], cells[best, budget])
            row.append(_cell(result, versus, n_seeds))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _values(scores):
    return scores.values() if isinstance(scores, Mapping) else scores


def _unpaired_label(paper_label, setting):
    """Our row label for a paper row none of the runs pairs with."""
    for spec in setting.strategies:
        if paper_row(spec, setting) == paper_label:
            return strategy_label(spec, setting)
    for spec, label in setting.paper_rows.items():
        if label == paper_label:
            return strategy_label(spec, setting)
    return paper_label


def _longest(runs):
    """One run per (strategy, seed): the one that labeled the most examples.

    Runs of the same strategy and seed with different budget lists share
    their schedule up to the smaller budget, so the longest one holds the
    others.
    """
    best = {}
    for run in runs:
        key = (run["config"]["strategy"], run["config"]["seed"])
        if key not in best or run["curve"][-1][0] > best[key]["curve"][-1][0]:
            best[key] = run
    return list(best.values())


def _balance_note(runs, strategies, setting):
    """One line per strategy: class shares of the acquired labels, text length.

    ``runs`` holds one run per (strategy, seed), as :func:`_longest` leaves it.
    """
    parts = []
    for strategy in strategies:
        chosen = [r for r in runs if r["config"]["strategy"] == strategy]
        counts = np.sum([r["acquired_class_counts"] for r in chosen], axis=0)
        if counts.sum() == 0:
            continue
        shares = "/".join(f"{c / counts.sum():.2f}" for c in counts)
        words = np.mean([r["acquired_mean_words"] for r in chosen])
        parts.append(f"{_label(strategy, setting)} {shares}, {words:.1f} words")
    pool = runs[0]
    pool_counts = np.asarray(pool["pool_class_counts"], dtype=float)
    pool_shares = "/".join(f"{c / pool_counts.sum():.2f}" for c in pool_counts)
    return (
        f"Labels acquired by queries up to the largest budget (class shares "
        f"{pool['classes']}, mean words per text): "
        f"pool {pool_shares}, {pool['pool_mean_words']:.1f} words; "
        + "; ".join(parts)
        + "."
    )


def query_time_table(runs, setting_name="query-time"):
    """Markdown table of seconds per query and the ratio to entropy.

    Seconds are inference + selection per query (the paper's Table 13
    measure), averaged over queries and seeds; augmentation (done once per
    pool text, then cached) and retraining are shown apart.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str, default="query-time"

    Returns
    -------
    markdown : str
    """
    setting = SETTINGS[setting_name]
    runs = _split_procedures(runs)
    tasks = [t for t in setting.tasks if any(r["config"]["task"] == t for r in runs)]
    strategies = _ordered_strategies(runs, setting)
    seconds = {}
    augmentation = {}
    for strategy in strategies:
        for task in tasks:
            chosen = [
                r
                for r in runs
                if r["config"]["strategy"] == strategy and r["config"]["task"] == task
            ]
            if chosen:
                seconds[strategy, task] = np.mean(
                    [
                        r["query_time"]["inference"] + r["query_time"]["selection"]
                        for r in chosen
                    ]
                )
                augmentation[strategy, task] = np.mean(
                    [r["query_time"]["augmentation"] for r in chosen]
                )
    averages = {
        s: np.mean([seconds[s, t] for t in tasks if (s, t) in seconds])
        for s in strategies
    }
    entropy = averages.get("entropy")
    paper_entropy = PAPER_QUERY_TIME["Entropy"]["avg"]
    header = (
        ["Strategy"]
        + [_task_title(t) for t in tasks]
        + [
            "Avg. (s)",
            "Ratio to entropy",
            "Paper ratio",
            "Augmentation (s/query)",
        ]
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for strategy in strategies:
        label = _label(strategy, setting)
        row = [label]
        for task in tasks:
            row.append(
                f"{seconds[strategy, task]:.3f}" if (strategy, task) in seconds else "–"
            )
        row.append(f"{averages[strategy]:.3f}")
        row.append(f"{averages[strategy] / entropy:.1f}x" if entropy else "–")
        paper = PAPER_QUERY_TIME.get(label)
        row.append(f"{paper['avg'] / paper_entropy:.1f}x" if paper else "–")
        aug = [
            augmentation[strategy, t] for t in tasks if (strategy, t) in augmentation
        ]
        row.append(f"{np.mean(aug):.3f}" if aug else "–")
        lines.append("| " + " | ".join(row) + " |")
    sizes = {
        t: next(r["sizes"] for r in runs if r["config"]["task"] == t) for t in tasks
    }
    batch = runs[0]["config"]["batch_size"]
    lines.append("")
    lines.append(
        "Seconds per query (inference + selection), mean over queries and seeds; "
        f"{batch} items per query; pools: "
        + ", ".join(f"{_task_title(t)} {sizes[t]['pool']:,}" for t in tasks)
        + ". Paper: V100 GPU, BERT-base; ratios from its Table 13 averages."
    )
    return "\n".join(lines) + "\n"


def _curves(runs, metric):
    """Per strategy: sizes and the (n_seeds, n_points) accuracy matrix."""
    by_strategy = defaultdict(dict)
    for run in _longest(runs):
        sizes = [point[0] for point in run["curve"]]
        values = [point[1][metric] for point in run["curve"]]
        by_strategy[run["config"]["strategy"]].setdefault(
            run["config"]["seed"], (sizes, values)
        )
    result = {}
    for strategy, seeds in by_strategy.items():
        length = min(len(v[0]) for v in seeds.values())
        sizes = list(seeds.values())[0][0][:length]
        matrix = np.array([v[1][:length] for v in seeds.values()])
        result[strategy] = (np.asarray(sizes), matrix)
    return result


def plot_learning_curves(runs, setting_name, task, title=None):
    """PNG bytes of accuracy against labeled examples, one line per strategy.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str
    task : str
    title : str or None, default=None

    Returns
    -------
    png : bytes
    """
    setting = SETTINGS[setting_name]
    task_runs = _split_procedures([r for r in runs if r["config"]["task"] == task])
    curves = _curves(task_runs, setting.metric)
    return learning_curves_png(
        {
            _label(strategy, setting): curves[strategy]
            for strategy in _ordered_strategies(task_runs, setting)
        },
        ylabel=f"{setting.metric} accuracy (%)",
        title=title or f"{_task_title(task)} ({setting.table})",
    )


def paired_frame(runs, setting_name, task):
    """Each strategy minus the reference, per budget, as a table.

    The reference is Random, or the setting's first strategy where Random
    was not run; one run per strategy and seed, as in the accuracy table.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str
    task : str

    Returns
    -------
    frame : pandas.DataFrame or None
        The columns of :func:`allsh_sklearn.evaluation.compare_strategies`
        that :func:`~allsh_sklearn.evaluation.plot_paired_differences`
        reads (differences in percentage points, strategies by their row
        labels); None when there is nothing to compare.
    """
    import pandas as pd

    setting = SETTINGS[setting_name]
    task_runs = [r for r in runs if r["config"]["task"] == task]
    task_runs = _longest(_split_procedures(task_runs))
    strategies, budgets, cells = _task_cells(task_runs, setting)
    reference = _reference(strategies)
    if reference is None:
        return None
    labels = {}
    for run in task_runs:
        for budget, count in (run.get("checkpoints") or {}).items():
            labels.setdefault(budget, count)
    rows = []
    for budget in budgets:
        for strategy in strategies:
            if strategy == reference:
                continue
            result = _paired(cells[strategy, budget], cells[reference, budget])
            if result is None:
                continue
            rows.append(
                dict(
                    budget=budget,
                    n_labels=labels.get(budget),
                    strategy=_label(strategy, setting),
                    baseline=_label(reference, setting),
                    n=result.n,
                    difference=result.mean,
                    ci_low=result.ci_low,
                    ci_high=result.ci_high,
                )
            )
    return pd.DataFrame(rows) if rows else None


def plot_paired(runs, setting_name, task, title=None):
    """PNG bytes of each strategy's paired difference from Random, per budget.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str
    task : str
    title : str or None, default=None

    Returns
    -------
    png : bytes or None
        None when there is nothing to compare (see :func:`paired_frame`).
    """
    setting = SETTINGS[setting_name]
    frame = paired_frame(runs, setting_name, task)
    if frame is None:
        return None
    reference = frame["baseline"].iloc[0]
    return paired_differences_png(
        frame,
        ylabel=f"{setting.metric} accuracy minus {reference} (points)",
        title=title
        or f"{_task_title(task)} ({setting.table}): paired differences, 95% CI",
    )


def write_report(output_dir, settings=None, plots=True):
    """Write the tables (and plots) of every setting found in an output folder.

    Parameters
    ----------
    output_dir : str or path-like
    settings : list of str or None, default=None
        The settings to report; None reports every setting with runs.
    plots : bool, default=True
        Also write the learning-curve PNGs.

    Returns
    -------
    paths : list of pathlib.Path
        The files written.
    """
    output_dir = Path(output_dir)
    if settings is None:
        requests = RunJournal(output_dir).requests.read()
        settings = sorted({r["setting"] for r in requests})
    paths = []
    for setting_name in settings:
        if setting_name not in SETTINGS:
            continue
        setting = SETTINGS[setting_name]
        for variant, runs in _group_by_variant(
            load_runs(output_dir, setting_name)
        ).items():
            stem = f"{setting_name}__{variant}"
            title = (
                f"## {setting.table}: {setting.description}\n\n"
                f"Variant `{variant}` (classifier, pool/test subsampling). "
                # Relative to this file, so the line does not depend on how
                # the output folder was spelled on the command line.
                "Written by allsh-experiment from ../runs.jsonl.\n\n"
            )
            tasks = sorted({r["config"]["task"] for r in runs})
            # Each task's learning curves, where written now or before.
            images = {task: f"{stem}__{_slug(task)}.png" for task in tasks}
            images = {
                task: name
                for task, name in images.items()
                if setting_name != "query-time"
                and (plots or (output_dir / "plots" / name).exists())
            }
            # Each task's paired differences, where written now or before.
            paired = {}
            for task in tasks if setting_name != "query-time" else ():
                name = f"{stem}__{_slug(task)}__paired.png"
                if plots:
                    png = plot_paired(runs, setting_name, task)
                    if png is None:
                        continue
                    atomic_write_bytes(output_dir / "plots" / name, png)
                    paths.append(output_dir / "plots" / name)
                if (output_dir / "plots" / name).exists():
                    paired[task] = name
            if setting_name == "query-time":
                body = query_time_table(runs, setting_name)
            else:
                body = accuracy_table(
                    runs,
                    setting_name,
                    plots={task: f"../plots/{name}" for task, name in images.items()},
                    paired_plots={
                        task: f"../plots/{name}" for task, name in paired.items()
                    },
                )
            path = output_dir / "tables" / f"{stem}.md"
            atomic_write_text(path, title + body)
            paths.append(path)
            if plots and setting_name != "query-time":
                for task, name in images.items():
                    title = f"{_task_title(task)}, {setting.table}, {variant}"
                    png = plot_learning_curves(runs, setting_name, task, title)
                    atomic_write_bytes(output_dir / "plots" / name, png)
                    paths.append(output_dir / "plots" / name)
    return paths


def _slug(task):
    return task.replace("->", "_to_")
