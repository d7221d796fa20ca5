"""Choosing the initial labeled set and the acquisition schedule.

Every random choice of a loop is derived from a base seed and a name
(:func:`derive_seed`), never drawn from a sequential stream, so a loop
restarted from its records continues exactly as an uninterrupted one.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ..utils import derive_seed

__all__ = [
    "LabelingPlan",
    "acquisition_schedule",
    "derive_seed",
    "initial_labeled_indices",
    "plan_labeling",
    "resolve_size",
]


def resolve_size(value, n_samples, name, owner="ActiveLearningSimulation"):
    """Turn an absolute (int) or relative (float in (0, 1]) size into a count.

    Parameters
    ----------
    value : int or float
        An int ``>= 1`` is a count; a float in ``(0, 1]`` a fraction of
        ``n_samples``, rounded to the nearest int (at least 1).
    n_samples : int
        The size fractions refer to.
    name : str
        The parameter name, for error messages.
    owner : str, default="ActiveLearningSimulation"
        The class name, for error messages.

    Returns
    -------
    size : int

    Examples
    --------
    >>> resolve_size(0.01, 60614, "budget")
    606
    >>> resolve_size(50, 60614, "budget")
    50
    """
    message = (
        f"The '{name}' parameter of {owner} must be an int >= 1 (a count) or a "
        f"float in (0, 1] (a fraction of the {n_samples} training texts). Got "
        f"{value!r} instead."
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(message)
        return int(value)
    if not 0.0 < value <= 1.0:
        raise ValueError(message)
    return max(1, int(round(value * n_samples)))


def initial_labeled_indices(y, size, random_state=None):
    """Draw ``size`` random indices holding one example of each class if possible.

    One index per class is drawn first (classes in sorted order, as long as
    ``size`` allows), then the rest uniformly from the remaining indices.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    size : int
        How many indices, ``1 <= size <= n_samples``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    indices : ndarray of shape (size,), dtype=int64
        Distinct indices, in the order they were drawn.

    Examples
    --------
    >>> initial_labeled_indices([0, 0, 0, 1, 1, 1], 2, random_state=0).tolist()
    [0, 4]
    """
    y = np.asarray(y)
    rng = check_random_state(random_state)
    chosen = []
    for label in np.unique(y)[:size]:
        chosen.append(int(rng.choice(np.flatnonzero(y == label))))
    rest = np.setdiff1d(np.arange(len(y)), chosen)
    extra = rng.choice(rest, size - len(chosen), replace=False)
    return np.concatenate([chosen, extra]).astype(np.int64)


def acquisition_schedule(n_initial, checkpoints, batch_size):
    """Labeled-set sizes after each iteration, hitting every checkpoint exactly.

    Parameters
    ----------
    n_initial : int
        Size of the initial labeled set (iteration 0).
    checkpoints : sequence of int
        Labeled-set sizes at which the model must be evaluated (budgets);
        the last one ends the loop.
    batch_size : int
        Items acquired per iteration; the batch before a checkpoint is
        shortened to land on it.

    Returns
    -------
    sizes : list of int
        ``sizes[0] == n_initial``; ``sizes[t]`` is the size after iteration
        ``t``.

    Examples
    --------
    >>> acquisition_schedule(10, [100, 130], 40)
    [10, 50, 90, 100, 130]
    """
    sizes = [int(n_initial)]
    for checkpoint in sorted(set(int(c) for c in checkpoints)):
        while sizes[-1] < checkpoint:
            sizes.append(min(sizes[-1] + int(batch_size), checkpoint))
    return sizes


@dataclass(frozen=True)
class LabelingPlan:
    """How many labels a loop starts with and acquires until when.

    Attributes
    ----------
    n_initial : int
        Size of the initial labeled set.
    checkpoints : list of int
        Labeled-set sizes at which the model is evaluated (budgets, in the
        order given); the largest ends the loop.
    schedule : list of int
        Labeled-set size after each iteration (:func:`acquisition_schedule`).
    """

    n_initial: int
    checkpoints: list
    schedule: list


def plan_labeling(
    n_pool,
    n_classes,
    *,
    initial_size,
    budgets=(),
    batch_size,
    n_queries=None,
    owner="ActiveLearningSimulation",
    budget_name="budget",
    context=None,
):
    """Check the sizes of a run and plan its initial set and schedule.

    The initial set is raised to one label per class when the budget allows
    (so that the first model sees every class).

    Parameters
    ----------
    n_pool : int
        Texts in the pool.
    n_classes : int
        Classes in the pool.
    initial_size : int or float
        A count or a fraction of the pool (:func:`resolve_size`).
    budgets : sequence of int or float, default=()
        Counts or fractions of the pool at which to evaluate; the largest
        is the total number of labels.
    batch_size : int
        Items acquired per query.
    n_queries : int or None, default=None
        Make this many queries instead (``budgets`` are then ignored).
    owner : str, default="ActiveLearningSimulation"
        The class whose parameters these are, for error messages.
    budget_name : str, default="budget"
        The name of the budget parameter, for error messages.
    context : str or None, default=None
        Prefix of error messages (a run's name).

    Returns
    -------
    plan : LabelingPlan

    Examples
    --------
    >>> plan_labeling(1000, 2, initial_size=0.001, budgets=[0.01, 30], batch_size=8)
    LabelingPlan(n_initial=2, checkpoints=[10, 30], schedule=[2, 10, 18, 26, 30])
    """

    def message(text):
        return f"{context}: {text}" if context else text[0].upper() + text[1:]

    initial = resolve_size(initial_size, n_pool, "initial_size", owner)
    if n_queries is not None:
        n_initial = max(initial, n_classes)
        checkpoints = [n_initial + int(n_queries) * int(batch_size)]
    else:
        checkpoints = [resolve_size(b, n_pool, budget_name, owner) for b in budgets]
        if not checkpoints:
            raise ValueError(
                message(
                    f"give {owner} a budget or a number of queries: the loop "
                    "needs a stopping point."
                )
            )
        n_initial = max(initial, min(n_classes, min(checkpoints)))
    if max(checkpoints) > n_pool:
        raise ValueError(
            message(
                f"the '{budget_name}' parameter of {owner} asks for "
                f"{max(checkpoints)} labels but the pool holds {n_pool} texts. "
                "Lower the budget."
            )
        )
    if min(checkpoints) < n_initial:
        raise ValueError(
            message(
                f"the initial labeled set ({n_initial}) is larger than the "
                f"budget ({min(checkpoints)}): a budget smaller than the initial "
                "labeled set leaves nothing to query. Lower 'initial_size' or "
                "raise the budget."
            )
        )
    schedule = acquisition_schedule(n_initial, checkpoints, batch_size)
    return LabelingPlan(n_initial, checkpoints, schedule)
