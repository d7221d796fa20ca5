"""Learning curves: accuracy against labeled examples, mean ± std over runs.

matplotlib is imported when a curve is drawn, not with this module.
"""

import io

import numpy as np

__all__ = ["plot_learning_curves", "learning_curves_png", "plot_to_png"]


def plot_learning_curves(curves, *, ax=None, ylabel="accuracy (%)", title=None):
    """Draw one line per strategy with a band of one std across runs.

    Parameters
    ----------
    curves : dict of str to (array-like, array-like)
        Label to ``(sizes, scores)``: ``sizes`` of shape (n_points,) are
        labeled-set sizes; ``scores`` of shape (n_runs, n_points) are scores
        in [0, 1] of each run (seed) at those sizes. They are drawn in
        percent, in the order of the dict.
    ax : matplotlib Axes or None, default=None
        Where to draw; None makes a new figure.
    ylabel : str, default="accuracy (%)"
    title : str or None, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> ax = plot_learning_curves({"random": ([10, 60], [[0.5, 0.7], [0.6, 0.7]])})
    >>> [line.get_label() for line in ax.get_lines()]
    ['random (n=2)']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    if len(curves) > 10:
        # The default colour cycle repeats after ten lines; tab20 does not.
        ax.set_prop_cycle(color=plt.get_cmap("tab20").colors)
    for label, (sizes, scores) in curves.items():
        scores = np.atleast_2d(np.asarray(scores, dtype=np.float64)) * 100
        if scores.shape[1] != len(sizes):
            raise ValueError(
                f"curves[{label!r}]: expected scores of shape (n_runs, "
                f"{len(sizes)}) for {len(sizes)} sizes. Got shape "
                f"{scores.shape} instead."
            )
        mean, std = scores.mean(axis=0), scores.std(axis=0)
        (line,) = ax.plot(
            sizes,
            mean,
            marker=".",
            markersize=3,
            linewidth=1.4,
            label=f"{label} (n={scores.shape[0]})",
        )
        ax.fill_between(
            sizes, mean - std, mean + std, color=line.get_color(), alpha=0.15
        )
    ax.set_xlabel("labeled examples")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def learning_curves_png(curves, **kwargs):
    """PNG bytes of :func:`plot_learning_curves` on a figure of its own.

    Parameters
    ----------
    curves : dict
        As in :func:`plot_learning_curves`.
    **kwargs
        ``ylabel`` and ``title`` of :func:`plot_learning_curves`.

    Returns
    -------
    png : bytes
    """
    return plot_to_png(plot_learning_curves, curves, **kwargs)


def plot_to_png(plot, *args, **kwargs):
    """Draw ``plot(*args, **kwargs)`` on a figure of its own; its PNG bytes.

    Uses matplotlib's Agg backend (no display needed) and closes the figure.

    Parameters
    ----------
    plot : callable
        A function that draws on a new figure and returns its Axes, such as
        :func:`plot_learning_curves`.
    *args, **kwargs
        Passed to ``plot``.

    Returns
    -------
    png : bytes
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot(*args, **kwargs)
    figure = ax.figure
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
