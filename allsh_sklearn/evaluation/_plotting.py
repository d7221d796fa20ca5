"""Paired differences with their confidence intervals, per budget.

matplotlib is imported when a figure is drawn, not with this module.
"""


import numpy as np

from ..plotting import plot_to_png
from ..utils import describe

__all__ = ["paired_differences_png", "plot_paired_differences"]

# Columns of compare_strategies' table that are not a group's.
_NOT_GROUP = {
    "budget", "n_labels", "strategy", "baseline", "n", "strategy_mean",
    "baseline_mean", "difference", "ci_low", "ci_high", "p_value", "wins",
    "ties", "losses", "resolution", "std", "verdict",
}  # fmt: skip


def plot_paired_differences(frame, ax=None, *, ylabel=None, title=None):
    """Draw each strategy's difference from the baseline, with its CI, per budget.

    One marker per budget and strategy at the mean paired difference, error
    bars from ``ci_low`` to ``ci_high`` (filled markers where the interval
    excludes 0), and a line at 0.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table of :func:`compare_strategies` for one group (one task,
        classifier, pool, ...): the columns ``strategy``, ``difference``,
        ``ci_low`` and ``ci_high``, and optionally ``budget`` (the x axis, in
        the order of first appearance), ``n_labels`` (shown under each
        budget), ``baseline`` and ``n``.
    ax : matplotlib Axes or None, default=None
        Where to draw; None makes a new figure.
    ylabel : str or None, default=None
        None: ``"difference from <baseline>"``.
    title : str or None, default=None
        The axes' title; None: none.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        If a column is missing or the frame holds several groups (e.g. two
        tasks): select one first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from allsh_sklearn.evaluation import compare_strategies
    >>> table = compare_strategies(
    ...     {"random": [0.70, 0.72, 0.71], "allsh": [0.74, 0.75, 0.73]}, scale=100
    ... )
    >>> ax = plot_paired_differences(table)
    >>> ax.get_legend_handles_labels()[1]
    ['allsh (n=3)']
    """
    import matplotlib.pyplot as plt

    missing = [
        c for c in ("strategy", "difference", "ci_low", "ci_high")
        if c not in frame.columns
    ]  # fmt: skip
    if missing:
        raise ValueError(
            "The 'frame' parameter of plot_paired_differences must have the "
            "columns of compare_strategies' table. Got no "
            f"{missing} among {list(frame.columns)}."
        )
    for column in frame.columns:
        if column not in _NOT_GROUP and frame[column].nunique(dropna=False) > 1:
            raise ValueError(
                "The 'frame' parameter of plot_paired_differences must hold one "
                f"group. Got {frame[column].nunique(dropna=False)} values of "
                f"{column!r} ({describe(list(frame[column].unique()))}) instead; "
                "select one first, e.g. frame[frame[column] == value]."
            )
    budgets = (
        list(dict.fromkeys(frame["budget"])) if "budget" in frame.columns else [None]
    )
    strategies = list(dict.fromkeys(frame["strategy"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(8.4, 4.2), dpi=100)
    if len(strategies) > 10:
        ax.set_prop_cycle(color=plt.get_cmap("tab20").colors)
    width = 0.8 / max(len(strategies), 1)
    for number, strategy in enumerate(strategies):
        rows = frame[frame["strategy"] == strategy]
        if "budget" in frame.columns:
            positions = [budgets.index(b) for b in rows["budget"]]
        else:
            positions = [0] * len(rows)
        offset = (number - (len(strategies) - 1) / 2) * width
        x = np.asarray(positions, dtype=float) + offset
        mean = rows["difference"].to_numpy(dtype=float)
        low = rows["ci_low"].to_numpy(dtype=float)
        high = rows["ci_high"].to_numpy(dtype=float)
        n = sorted({int(v) for v in rows["n"] if v == v}) if "n" in rows else []
        label = strategy if not n else f"{strategy} (n={'/'.join(map(str, n))})"
        container = ax.errorbar(
            x,
            mean,
            yerr=np.vstack([mean - low, high - mean]),
            fmt="o",
            markersize=4,
            capsize=2,
            linewidth=1.2,
            markerfacecolor="white",
            label=label,
        )
        colour = container.lines[0].get_color()
        significant = (low > 0) | (high < 0)
        ax.plot(
            x[significant],
            mean[significant],
            "o",
            markersize=4,
            color=colour,
            zorder=3,  # above the hollow markers of errorbar (2.1)
            label="_nolegend_",
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ticks = []
    for budget in budgets:
        text = "" if budget is None else str(budget)
        if budget is not None and "n_labels" in frame.columns:
            labels = frame.loc[frame["budget"] == budget, "n_labels"].dropna()
            if len(labels):
                text += f"\n{int(labels.iloc[0])} labels"
        ticks.append(text)
    ax.set_xticks(range(len(budgets)), ticks)
    ax.set_xlim(-0.6, len(budgets) - 0.4)
    if ylabel is None:
        baseline = (
            frame["baseline"].iloc[0] if "baseline" in frame.columns else "baseline"
        )
        ylabel = f"difference from {baseline}"
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    # Beside the axes: error bars fill the plot's whole height.
    ax.legend(
        fontsize=7,
        title="filled: CI excludes 0",
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    return ax


def paired_differences_png(frame, **kwargs):
    """PNG bytes of :func:`plot_paired_differences` on a figure of its own.

    Parameters
    ----------
    frame : pandas.DataFrame
        As in :func:`plot_paired_differences`.
    **kwargs
        ``ylabel`` and ``title`` of :func:`plot_paired_differences`.

    Returns
    -------
    png : bytes
    """
    return plot_to_png(plot_paired_differences, frame, **kwargs)
