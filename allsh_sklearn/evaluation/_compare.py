"""Every strategy against a baseline: paired differences as a table."""

import json
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

from ..utils import describe
from ..utils._validation import check_real
from ._paired import paired_difference

__all__ = ["DESIGN_KEYS", "compare_strategies", "read_runs"]

#: The configuration keys of a run record that make a comparison: runs that
#: agree on them (and on the seed) start from the same initial labeled set
#: and are scored on the same test set, so they pair.
DESIGN_KEYS = (
    "task",
    "classifier",
    "pool_size",
    "test_size",
    "initial_size",
    "batch_size",
    "minilm_train_steps",
    "copies_per_seed",
)

# Keys of a run's configuration that are neither the design nor the arm.
_PER_RUN = ("strategy", "seed", "budgets", "n_queries")

_STATISTICS = (
    "strategy",
    "baseline",
    "n",
    "strategy_mean",
    "baseline_mean",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "wins",
    "ties",
    "losses",
    "resolution",
    "std",
    "verdict",
)


def read_runs(path):
    """Run records from a JSON-lines file (one record per line).

    A torn last line (a run killed while writing) is skipped, as the runner
    does.

    Parameters
    ----------
    path : str or path-like
        E.g. ``results/runs.jsonl``, written by ``allsh-experiment``.

    Returns
    -------
    records : list of dict
    """
    records = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines) - 1:
                break  # torn last line
            raise
    return records


def _sort_key(value):
    if value is None:
        return (0, 0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _entries_from_records(records, metric, by):
    """``(group, arm, seed, score, priority)`` of every run and budget."""
    rows = []
    found = set()
    run_ids = set()
    for position, record in enumerate(records):
        if not isinstance(record, Mapping) or not isinstance(
            record.get("config"), Mapping
        ):
            raise TypeError(
                "The 'data' parameter of compare_strategies must be run records "
                "(dicts with 'config' and 'at_budget', as in runs.jsonl), a "
                "pandas DataFrame or a dict strategy -> {seed: score}. Got "
                f"{describe(record)} at position {position} instead."
            )
        run_id = record.get("run_id")
        if run_id is not None:
            if run_id in run_ids:
                continue  # the first record of a run id, as load_runs
            run_ids.add(run_id)
        config = record["config"]
        for key in ("strategy", "seed"):
            if key not in config:
                raise ValueError(
                    f"The run record at position {position} has no {key!r} in "
                    f"its 'config'. Got keys {sorted(config)} instead."
                )
        extras = {k: v for k, v in config.items() if k not in by and k not in _PER_RUN}
        curve = record.get("curve") or [[0]]
        checkpoints = record.get("checkpoints") or {}
        for budget, scores in (record.get("at_budget") or {}).items():
            found.update(scores)
            if metric not in scores:
                continue
            group = tuple(config.get(k) for k in by) + (
                budget,
                checkpoints.get(budget),
            )
            rows.append(
                dict(
                    group=group,
                    strategy=config["strategy"],
                    extras=json.dumps(extras, sort_keys=True),
                    seed=config["seed"],
                    score=scores[metric],
                    # the longest run first, then the first written
                    priority=(-curve[-1][0], position),
                )
            )
    if not rows:
        raise ValueError(
            "The 'metric' parameter of compare_strategies must name a score of "
            f"the runs' 'at_budget'. Got {metric!r} instead; the runs have "
            f"{sorted(found) or 'no scores at any budget'}."
        )
    _label_arms(rows)
    return rows, [*by, "budget", "n_labels"]


def _label_arms(rows):
    """Tell runs of one strategy apart when other options of theirs differ."""
    variants = {}
    for row in rows:
        variants.setdefault(row["strategy"], {}).setdefault(row["extras"], None)
    for row in rows:
        found = variants[row["strategy"]]
        if len(found) > 1:
            options = [json.loads(extras) for extras in found]
            mine = json.loads(row["extras"])
            differing = sorted(
                {
                    key
                    for option in options
                    for key in option
                    if any(option.get(key) != other.get(key) for other in options)
                }
            )
            listed = ", ".join(f"{k}={mine.get(k)}" for k in differing)
            row["strategy"] = f"{row['strategy']} ({listed})"


def _entries_from_frame(frame, metric, by):
    for column in ("strategy", "seed", metric):
        if column not in frame.columns:
            raise ValueError(
                "The 'data' parameter of compare_strategies, a DataFrame, must "
                f"have the columns 'strategy', 'seed' and {metric!r} (the "
                f"'metric' parameter). Got columns {list(frame.columns)} "
                "instead."
            )
    if by is None:
        by = [c for c in frame.columns if c not in ("strategy", "seed", metric)]
    else:
        unknown = [c for c in by if c not in frame.columns]
        if unknown:
            raise ValueError(
                "The 'by' parameter of compare_strategies must name columns of "
                f"the DataFrame. Got {unknown} that are not among "
                f"{list(frame.columns)}."
            )
    rows = []
    for position, row in enumerate(frame.to_dict("records")):
        group = tuple(None if _missing(row[k]) else row[k] for k in by)
        rows.append(
            dict(
                group=group,
                strategy=row["strategy"],
                seed=row["seed"],
                score=row[metric],
                priority=(0, position),
            )
        )
    return rows, list(by)


def _entries_from_dict(data):
    rows = []
    for strategy, scores in data.items():
        if isinstance(scores, Mapping) or hasattr(scores, "to_dict"):
            items = (
                dict(scores).items()
                if isinstance(scores, Mapping)
                else (scores.to_dict().items())
            )
        elif isinstance(scores, str | bytes) or not hasattr(scores, "__iter__"):
            raise TypeError(
                "The 'data' parameter of compare_strategies, a dict, must map "
                "each strategy to its scores (a dict seed -> score or a "
                f"sequence, one per seed). Got {describe(scores)} for "
                f"{strategy!r} instead."
            )
        else:
            items = enumerate(scores)
        for seed, score in items:
            row = dict(strategy=strategy, seed=seed, score=score, priority=(0, 0))
            rows.append(dict(group=(), **row))
    return rows, []


def compare_strategies(
    data,
    baseline="random",
    *,
    metric="test",
    by=None,
    confidence=0.95,
    method="t",
    n_resamples=10_000,
    power=0.8,
    random_state=None,
    scale=1.0,
):
    """Each strategy minus a baseline, paired over seeds, per design and budget.

    Within each group (task, classifier, pool, ... and budget), every
    strategy is compared with ``baseline`` by :func:`paired_difference` on
    the seeds both have.

    Parameters
    ----------
    data : list of dict, str, path-like, pandas.DataFrame or dict
        The scores, one per strategy and seed, in one of these forms:

        - run records as ``allsh-experiment`` writes them (``runs.jsonl``:
          dicts with ``config``, ``at_budget`` and ``checkpoints``), or the
          path of such a file. Runs are grouped by :data:`DESIGN_KEYS` of
          their ``config`` and by budget; at a budget that several runs of a
          strategy and seed reach (runs made with different budget lists),
          the run that labeled the most examples counts. Runs of one
          strategy whose other options differ (any other ``config`` key) are
          kept apart, labeled ``"strategy (key=value)"``.
        - a long pandas DataFrame with columns ``strategy``, ``seed`` and
          ``metric``; every other column (or those of ``by``) groups the
          comparisons, e.g. ``task`` and ``budget``.
        - a dict strategy -> scores, each a dict seed -> score or a
          sequence (one score per seed, paired by position).
    baseline : str, default="random"
        The strategy every other is compared with.
    metric : str, default="test"
        The score: a key of the records' ``at_budget`` values, or the
        DataFrame's score column.
    by : sequence of str or None, default=None
        The columns (configuration keys for records) that group the
        comparisons; None: :data:`DESIGN_KEYS` for records, every other
        column for a DataFrame.
    confidence : float, default=0.95
        Confidence level of the intervals.
    method : {"t", "bootstrap"}, default="t"
        Student t interval or percentile bootstrap, as in
        :func:`paired_difference`.
    n_resamples : int, default=10_000
        Bootstrap resamples (``method="bootstrap"`` only).
    power : float, default=0.8
        Power of the ``resolution`` column.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstraps; an int makes every bootstrap of the table
        reproducible.
    scale : float, default=1.0
        Multiplies scores and differences in the table, e.g. 100 to show
        accuracies in [0, 1] as percentage points.

    Returns
    -------
    table : pandas.DataFrame
        One row per group and strategy other than the baseline: the group's
        columns (for records, those of ``by`` then ``budget`` and
        ``n_labels``, the labeled examples at that budget), then
        ``strategy``, ``baseline``, ``n`` (paired seeds),
        ``strategy_mean`` and ``baseline_mean`` (over the paired seeds),
        ``difference``, ``ci_low``, ``ci_high``, ``p_value``, ``wins``,
        ``ties``, ``losses``, ``resolution``, ``std`` and ``verdict`` (see
        :class:`PairedDifference`). A strategy that shares fewer than 2 seeds
        with the baseline gets a row with NaN statistics and the verdict
        ``"too few paired seeds (n=1)"``.

    Raises
    ------
    ValueError
        If the baseline is not in the data, there is nothing to compare it
        with, or no strategy shares 2 seeds with it anywhere; if a strategy
        has two scores for one seed in a group (a table that was not
        aggregated); for the parameters, as in :func:`paired_difference`.
    TypeError
        If ``data`` is none of the forms above.

    See Also
    --------
    paired_difference : One comparison.
    plot_paired_differences : Draws the table's differences with their
        intervals.

    Examples
    --------
    >>> scores = {
    ...     "random": {0: 0.74, 1: 0.71, 2: 0.76, 3: 0.73},
    ...     "allsh": {0: 0.77, 1: 0.74, 2: 0.78, 3: 0.75, 4: 0.70},
    ...     "entropy": {0: 0.70, 1: 0.74, 2: 0.75, 3: 0.72},
    ... }
    >>> table = compare_strategies(scores, scale=100)
    >>> table[["strategy", "n", "difference", "ci_low", "ci_high"]].round(2)
      strategy  n  difference  ci_low  ci_high
    0    allsh  4        2.50    1.58     3.42
    1  entropy  4       -0.75   -5.32     3.82
    >>> list(table["verdict"])
    ['win', 'no difference detected (resolves ±5.98)']
    """
    import pandas as pd

    check_real(scale, "scale", "a positive real number", lambda s: s > 0,
               owner="compare_strategies")  # fmt: skip
    if isinstance(data, str | PathLike):
        data = read_runs(data)
    if isinstance(data, pd.DataFrame):
        rows, columns = _entries_from_frame(data, metric, by)
    elif isinstance(data, Mapping):
        rows, columns = _entries_from_dict(data)
    elif isinstance(data, list | tuple):
        if by is not None and (
            isinstance(by, str) or not all(isinstance(k, str) for k in by)
        ):
            raise ValueError(
                "The 'by' parameter of compare_strategies must be a sequence of "
                f"configuration keys (str). Got {describe(by)} instead."
            )
        rows, columns = _entries_from_records(
            data, metric, DESIGN_KEYS if by is None else tuple(by)
        )
    else:
        raise TypeError(
            "The 'data' parameter of compare_strategies must be run records (a "
            "list of dicts or the path of a runs.jsonl), a pandas DataFrame or a "
            f"dict strategy -> scores. Got {type(data).__name__} instead."
        )

    strategies = list(dict.fromkeys(row["strategy"] for row in rows))
    if baseline not in strategies:
        raise ValueError(
            "The 'baseline' parameter of compare_strategies must be one of the "
            f"strategies in the data, {strategies}. Got {baseline!r} instead."
        )
    if len(strategies) < 2:
        raise ValueError(
            "compare_strategies needs a strategy besides the baseline "
            f"{baseline!r}. Got only {strategies} instead."
        )
    records = isinstance(data, list | tuple)
    groups = {}
    for row in sorted(rows, key=lambda r: r["priority"]):
        scores = groups.setdefault(row["group"], {}).setdefault(row["strategy"], {})
        if row["seed"] in scores:
            if not records:  # no rule to choose between the two
                group = dict(zip(columns, row["group"], strict=True))
                raise ValueError(
                    "The 'data' parameter of compare_strategies has two scores "
                    f"for strategy {row['strategy']!r} and seed {row['seed']!r} "
                    f"in the group {group}. Aggregate them first or add the "
                    "column that tells them apart to 'by'."
                )
            continue  # a shorter (or later) run of the same strategy and seed
        scores[row["seed"]] = row["score"]
    keys = list(groups)
    if records:  # a stable order: design, then labels, then budget label
        budget_at = len(columns) - 2
        keys.sort(
            key=lambda g: (
                tuple(map(_sort_key, g[:budget_at]))
                + (_sort_key(g[-1]), _sort_key(g[budget_at]))
            )
        )
    table = []
    for group in keys:
        by_strategy = groups[group]
        if baseline not in by_strategy:
            continue
        reference = by_strategy[baseline]
        for strategy in strategies:
            if strategy == baseline or strategy not in by_strategy:
                continue
            scores = by_strategy[strategy]
            row = dict(zip(columns, group, strict=True))
            row.update(strategy=strategy, baseline=baseline)
            shared = [seed for seed in scores if seed in reference]
            if len(shared) < 2:
                row.update(
                    n=len(shared),
                    verdict=f"too few paired seeds (n={len(shared)})",
                )
                table.append(row)
                continue
            result = paired_difference(
                scores,
                reference,
                confidence=confidence,
                method=method,
                n_resamples=n_resamples,
                power=power,
                random_state=random_state,
            ).scaled(scale)
            row.update(
                n=result.n,
                strategy_mean=scale * sum(scores[s] for s in shared) / len(shared),
                baseline_mean=scale * sum(reference[s] for s in shared) / len(shared),
                difference=result.mean,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                p_value=result.p_value,
                wins=result.wins,
                ties=result.ties,
                losses=result.losses,
                resolution=result.resolution,
                std=result.std,
                verdict=result.verdict,
            )
            table.append(row)
    if not any(row.get("n", 0) >= 2 for row in table):
        raise ValueError(
            f"compare_strategies found no strategy that shares at least 2 seeds "
            f"with the baseline {baseline!r} in any group; run more seeds of "
            "both, or check that the seeds are the same."
        )
    # Design columns keep their values as given (no ints turned to floats).
    frame = pd.DataFrame(
        {c: pd.Series([row.get(c) for row in table], dtype=object) for c in columns}
        | {c: [row.get(c) for row in table] for c in _STATISTICS}
    )
    for column in _STATISTICS[2:-1]:
        counts = column in ("n", "wins", "ties", "losses")
        values = frame[column].astype(float)
        if counts and values.notna().all():
            values = values.astype(int)
        frame[column] = values
    return frame
