"""Tables (Markdown) and learning-curve plots (PNG) from the runner's results.

:func:`write_report` reads ``runs.jsonl`` and ``requests.jsonl`` of an
output folder and writes, for each setting and each *variant* (classifier,
pool size, test size, initial size, batch size):

- ``tables/<setting>__<variant>.md``: the paper's layout, one block per
  task, mean ± std over seeds of the accuracy (in %) at each budget, the
  paper's number beside the row of the same configuration (see
  :func:`~._settings.paper_row`), the best mean in bold; for Table 13, seconds
  per query and the ratio to entropy beside the paper's ratios;
- ``plots/<setting>__<variant>__<task>.png``: accuracy against the number
  of labeled examples, one line per strategy with a ±1 std band over seeds.

Everything is written atomically; matplotlib runs on the Agg backend.
"""

from collections import defaultdict
from pathlib import Path

import numpy as np

from ..loop import RunJournal
from ..plotting import learning_curves_png
from ..utils._storage import atomic_write_bytes, atomic_write_text
from ._settings import (
    PAPER_QUERY_TIME,
    SETTINGS,
    canonical_strategy,
    paper_row,
    strategy_label,
)

__all__ = ["load_runs", "query_time_table", "accuracy_table", "write_report"]

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
        One record per run id (the first written).
    """
    journal = RunJournal(output_dir)
    runs = {}
    for record in journal.runs.read():
        runs.setdefault(record["run_id"], record)
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


def _ordered_strategies(runs, setting):
    preferred = [canonical_strategy(s) for s in setting.strategies]
    found = {run["config"]["strategy"] for run in runs}
    return [s for s in preferred if s in found] + sorted(found.difference(preferred))


def _fmt(values):
    values = np.asarray(values, dtype=np.float64) * 100
    if values.size == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f} ± {values.std(ddof=0):.2f}"


def accuracy_table(runs, setting_name, plots=None):
    """Markdown tables of accuracy (mean ± std over seeds) beside the paper's.

    Parameters
    ----------
    runs : list of dict
        Run records of one variant.
    setting_name : str
    plots : dict or None, default=None
        Task name to the path of its learning-curve image, relative to the
        table's folder; each task's table is followed by its image.

    Returns
    -------
    markdown : str
    """
    setting = SETTINGS[setting_name]
    metric = setting.metric
    lines = []
    tasks = [t for t in setting.tasks if any(r["config"]["task"] == t for r in runs)]
    tasks += sorted({r["config"]["task"] for r in runs}.difference(tasks))
    for task in tasks:
        # One run per strategy and seed, the longest: every cell of a row then
        # comes from the same runs.
        task_runs = _longest([r for r in runs if r["config"]["task"] == task])
        strategies = _ordered_strategies(task_runs, setting)
        budgets = []
        for run in task_runs:
            for label in run["at_budget"]:
                if label not in budgets:
                    budgets.append(label)
        budgets.sort(key=lambda label: float(label.rstrip("%")))
        paper = setting.paper.get(task, {})
        paper_budgets = [f"{round(b * 100, 6):g}%" for b in setting.budgets]
        cells = {}
        for strategy in strategies:
            for budget in budgets:
                by_seed = {}
                for run in task_runs:
                    if (
                        run["config"]["strategy"] == strategy
                        and budget in run["at_budget"]
                    ):
                        by_seed.setdefault(
                            run["config"]["seed"], run["at_budget"][budget][metric]
                        )
                cells[strategy, budget] = [by_seed[s] for s in sorted(by_seed)]
        best = {}
        for budget in budgets:
            means = [np.mean(cells[s, budget]) for s in strategies if cells[s, budget]]
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
            label = strategy_label(strategy, setting)
            paper_label = paper_row(strategy, setting)
            paired.add(paper_label)
            row = [label]
            for budget in budgets:
                values = cells[strategy, budget]
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
        verdicts = verdict_table(cells, strategies, budgets, setting)
        if verdicts:
            lines.extend([verdicts, ""])
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


def verdict(values, reference):
    """``"win"``, ``"tie"`` or ``"loss"`` of ``values`` against ``reference``.

    A tie is a difference of the means within the larger of the two
    (population) standard deviations over seeds.

    Parameters
    ----------
    values, reference : sequence of float
        Scores of the two strategies, one per seed.

    Returns
    -------
    verdict : {"win", "tie", "loss"}

    Examples
    --------
    >>> verdict([0.80, 0.82], [0.70, 0.72])
    'win'
    >>> verdict([0.80, 0.90], [0.80, 0.82])
    'tie'
    >>> verdict([0.70, 0.72], [0.80, 0.82])
    'loss'
    """
    values, reference = np.asarray(values), np.asarray(reference)
    difference = values.mean() - reference.mean()
    margin = max(values.std(ddof=0), reference.std(ddof=0))
    if difference > margin:
        return "win"
    if -difference > margin:
        return "loss"
    return "tie"


def verdict_table(cells, strategies, budgets, setting):
    """Each strategy against the best baseline of each budget, as Markdown.

    Parameters
    ----------
    cells : dict
        ``(strategy, budget) -> list of scores`` (one per seed).
    strategies : list of str
        The table's strategies; those of :data:`BASELINES` are the
        references, the others get a row.
    budgets : list of str
    setting : Setting
        Gives the row labels.

    Returns
    -------
    markdown : str
        Empty when there is no baseline or nothing to compare with one.
    """
    baselines = [s for s in strategies if s in BASELINES]
    others = [s for s in strategies if s not in BASELINES]
    if not baselines or not others:
        return ""
    names = ", ".join(strategy_label(s, setting) for s in baselines)
    lines = [
        f"Against the best baseline of each budget ({names}); a tie is a "
        "difference within the larger std:",
        "",
        "| Strategy | " + " | ".join(budgets) + " |",
        "|" + "---|" * (len(budgets) + 1),
    ]
    for strategy in others:
        row = [strategy_label(strategy, setting)]
        for budget in budgets:
            present = [s for s in baselines if cells[s, budget]]
            if not cells[strategy, budget] or not present:
                row.append("–")
                continue
            best = max(present, key=lambda s: np.mean(cells[s, budget]))
            difference = 100 * (
                np.mean(cells[strategy, budget]) - np.mean(cells[best, budget])
            )
            row.append(
                f"{verdict(cells[strategy, budget], cells[best, budget])} "
                f"({difference:+.2f} vs {strategy_label(best, setting)})"
            )
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


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
        parts.append(f"{strategy_label(strategy, setting)} {shares}, {words:.1f} words")
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
        label = strategy_label(strategy, setting)
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
    task_runs = [r for r in runs if r["config"]["task"] == task]
    curves = _curves(task_runs, setting.metric)
    return learning_curves_png(
        {
            strategy_label(strategy, setting): curves[strategy]
            for strategy in _ordered_strategies(task_runs, setting)
        },
        ylabel=f"{setting.metric} accuracy (%)",
        title=title or f"{_task_title(task)} ({setting.table})",
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
            if setting_name == "query-time":
                body = query_time_table(runs, setting_name)
            else:
                body = accuracy_table(
                    runs,
                    setting_name,
                    plots={task: f"../plots/{name}" for task, name in images.items()},
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
