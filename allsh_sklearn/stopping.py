"""Stopping rules: when more labels stop helping.

A stopping rule is a small object evaluated after each retraining of an
active learning loop. It reads the history of rounds so far (oldest first)
and returns a :class:`StopCheck`: the rule's value at the last round and
whether that value says stop. Rules are pure functions of the history, so a
labeling session reopened after a crash recomputes exactly the same
decisions from the rounds it stored.

A round is any object with these attributes (missing ones read as None;
:class:`RoundSummary` is a ready-made one):

- ``n_labeled``: the number of labels the model of this round was trained on;
- ``stop_set_predictions``: the model's predicted labels on a fixed set of
  unlabeled texts, the *stop set*, the same texts at every round;
- ``stop_set_proba``: its predicted probabilities on the stop set, shape
  ``(n_stop, n_classes)``;
- ``mean_pool_score``: the mean of the query strategy's scores over the
  unlabeled pool at this round's query (for ALLSH, the mean divergence
  between the predictions on each text and on its augmented copy).

Rules
-----
- :class:`StabilizingPredictions`: Bloodgood and Vijay-Shanker (2009), "A
  Method for Stopping Active Learning Based on Stabilizing Predictions and
  the Need for User-Adjustable Stopping": Cohen's kappa between the stop-set
  predictions of successive models; stop when the mean of the last ``k``
  kappas reaches a threshold (``k = 3``, ``0.99`` in the paper).
- :class:`OverallUncertainty`: Zhu, Wang and Hovy (2008), "Multi-criteria-based
  strategy to stop active learning for data annotation": stop when the mean
  uncertainty of the model on unlabeled texts (here, the stop set) falls
  below a threshold.
- :class:`LabelBudget`: stop when a number of labels is reached.
- :class:`DivergencePlateau`: the gradient criterion of Laws and Schütze
  (2008), "Stopping Criteria for Active Learning of Named Entity
  Recognition", applied to ALLSH's score: stop when the pool's mean
  divergence has stopped moving (its relative change per round over the last
  ``window`` rounds is below a tolerance). Not from the ALLSH paper, and in
  our one measured run it said stop too early (see its docstring).
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from .utils import Interval, Options, ParameterConstraintsMixin

__all__ = [
    "DivergencePlateau",
    "LabelBudget",
    "OverallUncertainty",
    "RoundSummary",
    "StabilizingPredictions",
    "StopCheck",
    "StoppingRule",
    "cohen_kappa",
    "evaluate_rules",
]


@dataclass(frozen=True)
class RoundSummary:
    """What the stopping rules read from one round of active learning.

    Parameters
    ----------
    n_labeled : int
        Labels the round's model was trained on.
    stop_set_predictions : array-like of shape (n_stop,) or None, default=None
        The model's predicted labels on the stop set.
    stop_set_proba : array-like of shape (n_stop, n_classes) or None, default=None
        Its predicted probabilities on the stop set.
    mean_pool_score : float or None, default=None
        The mean query score over the unlabeled pool at this round's query.
    """

    n_labeled: int
    stop_set_predictions: object = None
    stop_set_proba: object = None
    mean_pool_score: float | None = None


@dataclass(frozen=True)
class StopCheck:
    """A stopping rule's verdict at one round.

    Attributes
    ----------
    rule : str
        The rule's name (its class name, or the name given to
        :func:`evaluate_rules`).
    value : float
        The quantity the rule thresholds, at the last round; NaN while the
        history is too short to compute it.
    stop : bool
        Whether the rule says stop.
    message : str
        One line for people: the value and the condition.
    """

    rule: str
    value: float
    stop: bool
    message: str

    def as_dict(self):
        """Return the check as a JSON-friendly dict (NaN becomes None)."""
        value = None if math.isnan(self.value) else float(self.value)
        return {
            "rule": self.rule,
            "value": value,
            "stop": bool(self.stop),
            "message": self.message,
        }


def cohen_kappa(a, b):
    """Cohen's kappa between two labelings of the same items.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement
    and ``p_e`` the agreement expected by chance from each labeling's class
    shares. When both labelings put every item in one and the same class
    (``p_e = 1``) the formula is 0/0; the agreement is then perfect and the
    kappa is 1.

    Parameters
    ----------
    a, b : array-like of shape (n_items,)
        Two labelings (any hashable labels).

    Returns
    -------
    kappa : float
        In ``[-1, 1]``.

    Examples
    --------
    >>> cohen_kappa([0, 0, 1, 1], [0, 0, 1, 1])
    1.0
    >>> cohen_kappa([0, 0, 1, 1], [0, 1, 0, 1])
    0.0
    >>> cohen_kappa(["a", "a"], ["a", "a"])
    1.0
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            "cohen_kappa needs two non-empty one-dimensional labelings of the "
            f"same items. Got shapes {a.shape} and {b.shape} instead."
        )
    observed = float(np.mean(a == b))
    classes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    share_a = np.bincount(inverse[: a.size], minlength=classes.size) / a.size
    share_b = np.bincount(inverse[a.size :], minlength=classes.size) / b.size
    expected = float(share_a @ share_b)
    if expected >= 1.0 - 1e-12:
        return 1.0 if observed >= 1.0 - 1e-12 else 0.0
    return (observed - expected) / (1.0 - expected)


class StoppingRule(ParameterConstraintsMixin, BaseEstimator):
    """Base class of stopping rules (not to be used directly).

    Subclasses implement ``_value(history) -> float`` (NaN when the history
    is too short) and ``_says_stop(value) -> bool``, and describe the
    condition in ``_condition()``. They declare their parameters'
    constraints in ``_parameter_constraints``, checked (by
    ``_validate_params()``) before any history is read.
    """

    def evaluate(self, history):
        """Evaluate the rule after the last round of ``history``.

        Parameters
        ----------
        history : sequence of round objects
            Every round so far, oldest first (see the module docstring for
            the attributes read).

        Returns
        -------
        check : StopCheck
        """
        self._validate_params()
        history = list(history)
        value = float(self._value(history)) if history else float("nan")
        stop = (not math.isnan(value)) and bool(self._says_stop(value))
        shown = "n/a" if math.isnan(value) else f"{value:.4g}"
        return StopCheck(
            rule=type(self).__name__,
            value=value,
            stop=stop,
            message=f"{type(self).__name__}: {shown} (stop when {self._condition()})",
        )

    def _value(self, history):  # pragma: no cover - abstract
        raise NotImplementedError

    def _says_stop(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def _condition(self):  # pragma: no cover - abstract
        raise NotImplementedError


def _attribute(record, name):
    return getattr(record, name, None)


class StabilizingPredictions(StoppingRule):
    """Stop when successive models agree on a fixed stop set.

    After each round, Cohen's kappa between the stop-set predictions of this
    round's model and the previous round's; the rule's value is the mean of
    the last ``window`` kappas, and it says stop when that mean reaches
    ``threshold`` (Bloodgood and Vijay-Shanker, 2009). With ``window = 3`` it
    needs four rounds with predictions before it can fire.

    Parameters
    ----------
    window : int, default=3
        ``k``, the number of most recent kappas averaged.
    threshold : float, default=0.99
        Stop when the mean kappa is ``>= threshold``; in ``(-1, 1]``.

    Examples
    --------
    >>> from allsh_sklearn.stopping import RoundSummary, StabilizingPredictions
    >>> rounds = [RoundSummary(n, stop_set_predictions=p) for n, p in [
    ...     (10, [0, 1, 0, 1]), (20, [0, 1, 1, 1]), (30, [0, 1, 1, 1]),
    ...     (40, [0, 1, 1, 1])]]
    >>> check = StabilizingPredictions(window=2, threshold=0.99).evaluate(rounds)
    >>> check.value, check.stop
    (1.0, True)
    """

    def __init__(self, window=3, threshold=0.99):
        self.window = window
        self.threshold = threshold

    _parameter_constraints = {
        "window": [Interval(numbers.Integral, 1, None)],
        "threshold": [Interval(numbers.Real, -1, 1, closed="right")],
    }

    def kappas(self, history):
        """Kappa between each round's stop-set predictions and the previous one's.

        Rounds without predictions are left out.

        Parameters
        ----------
        history : sequence of round objects

        Returns
        -------
        kappas : list of float
            ``len = (rounds with predictions) - 1`` (empty for fewer than two).
        """
        predictions = [_attribute(record, "stop_set_predictions") for record in history]
        predictions = [p for p in predictions if p is not None]
        return [
            cohen_kappa(previous, current)
            for previous, current in zip(predictions, predictions[1:], strict=False)
        ]

    def _value(self, history):
        kappas = self.kappas(history)
        if len(kappas) < self.window:
            return float("nan")
        return float(np.mean(kappas[-self.window :]))

    def _says_stop(self, value):
        return value >= self.threshold

    def _condition(self):
        return f"the mean kappa of the last {self.window} rounds >= {self.threshold}"


def _uncertainty(proba, measure):
    proba = np.clip(np.asarray(proba, dtype=np.float64), 0.0, 1.0)
    n_classes = proba.shape[1]
    if n_classes < 2:
        return np.zeros(proba.shape[0])
    if measure == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(proba > 0, proba * np.log(proba), 0.0)
        return -terms.sum(axis=1) / np.log(n_classes)
    # Least confidence, scaled to [0, 1] (0: certain, 1: uniform).
    return (1.0 - proba.max(axis=1)) / (1.0 - 1.0 / n_classes)


class OverallUncertainty(StoppingRule):
    """Stop when the model is confident on the unlabeled stop set overall.

    The rule's value is the model's mean uncertainty over the stop set,
    scaled to ``[0, 1]`` (0: certain everywhere, 1: uniform predictions); it
    says stop when the value is ``<= threshold`` (Zhu, Wang and Hovy, 2008).

    Parameters
    ----------
    threshold : float, default=0.1
        In ``[0, 1]``.
    measure : {"entropy", "least_confidence"}, default="entropy"
        ``"entropy"``: the entropy divided by ``log(n_classes)``;
        ``"least_confidence"``: ``(1 - max_c p_c) / (1 - 1/n_classes)``.

    Examples
    --------
    >>> from allsh_sklearn.stopping import OverallUncertainty, RoundSummary
    >>> last = RoundSummary(50, stop_set_proba=[[0.5, 0.5], [1.0, 0.0]])
    >>> OverallUncertainty(threshold=0.5).evaluate([last]).value
    0.5
    """

    def __init__(self, threshold=0.1, measure="entropy"):
        self.threshold = threshold
        self.measure = measure

    _parameter_constraints = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "measure": [Options(("entropy", "least_confidence"))],
    }

    def _value(self, history):
        proba = _attribute(history[-1], "stop_set_proba")
        if proba is None:
            return float("nan")
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[0] == 0:
            raise ValueError(
                "OverallUncertainty needs 'stop_set_proba' of shape (n_stop, "
                f"n_classes). Got shape {proba.shape} instead."
            )
        return float(_uncertainty(proba, self.measure).mean())

    def _says_stop(self, value):
        return value <= self.threshold

    def _condition(self):
        return f"the mean {self.measure} on the stop set <= {self.threshold}"


class LabelBudget(StoppingRule):
    """Stop when the number of labels reaches a budget.

    Parameters
    ----------
    budget : int
        The number of labels to stop at (``>= 1``).

    Examples
    --------
    >>> from allsh_sklearn.stopping import LabelBudget, RoundSummary
    >>> LabelBudget(100).evaluate([RoundSummary(100)]).stop
    True
    """

    def __init__(self, budget):
        self.budget = budget

    _parameter_constraints = {"budget": [Interval(numbers.Integral, 1, None)]}

    def _value(self, history):
        n_labeled = _attribute(history[-1], "n_labeled")
        if not isinstance(n_labeled, numbers.Integral):
            raise ValueError(
                "LabelBudget needs each round's 'n_labeled' as an int. Got "
                f"{n_labeled!r} instead."
            )
        return float(n_labeled)

    def _says_stop(self, value):
        return value >= self.budget

    def _condition(self):
        return f"labels >= {self.budget}"


class DivergencePlateau(StoppingRule):
    """Stop when the pool's mean ALLSH divergence has stopped moving.

    ALLSH scores a text by how much the model's prediction moves when the
    text is paraphrased (the divergence between the predictions on the text
    and on an augmented copy). The mean of that score over the unlabeled
    pool measures how locally unstable the model still is on the data it
    will meet. While labels help, it moves from round to round; the rule
    says stop when it has settled: its value is the relative change per
    round over the last ``window`` rounds,
    ``|m_t - m_{t-w}| / (w * m_{t-w})``, and it says stop when that is
    ``<= tolerance``. This is the gradient criterion of Laws and Schütze
    (2008), there applied to the confidence of the selected examples, here
    to ALLSH's score; it works with any strategy that reports pool scores.
    It is not from the ALLSH paper and is a heuristic, not a validated rule:
    on the user guide's run (50,000 SST-2 phrases, TF-IDF + logistic
    regression, batches of 50) it first said stop at 990 labels, while the
    held-out accuracy still rose from 0.61 to 0.66 by 1,530 labels; the
    pool's mean divergence reaches a low level early and then moves by a
    few percent from round to round. Use it next to
    :class:`StabilizingPredictions` and the session's audit estimate, not
    alone; the labeling session leaves it out of its default rules.

    Parameters
    ----------
    window : int, default=3
        ``w``, the number of rounds the change is measured over; the rule
        needs ``w + 1`` rounds with a mean pool score.
    tolerance : float, default=0.02
        Stop when the relative change per round is ``<= tolerance``.

    Examples
    --------
    >>> from allsh_sklearn.stopping import DivergencePlateau, RoundSummary
    >>> rounds = [RoundSummary(10 * i, mean_pool_score=m)
    ...           for i, m in enumerate([0.40, 0.20, 0.15, 0.150, 0.147])]
    >>> check = DivergencePlateau(window=2, tolerance=0.02).evaluate(rounds)
    >>> round(check.value, 4), check.stop
    (0.01, True)
    """

    def __init__(self, window=3, tolerance=0.02):
        self.window = window
        self.tolerance = tolerance

    _parameter_constraints = {
        "window": [Interval(numbers.Integral, 1, None)],
        "tolerance": [Interval(numbers.Real, 0, None)],
    }

    def _value(self, history):
        means = [_attribute(record, "mean_pool_score") for record in history]
        means = [float(m) for m in means if m is not None and not math.isnan(m)]
        if len(means) < self.window + 1:
            return float("nan")
        before, now = means[-self.window - 1], means[-1]
        if before <= 0:
            return 0.0 if now <= 0 else float("inf")
        return abs(now - before) / (self.window * before)

    def _says_stop(self, value):
        return value <= self.tolerance

    def _condition(self):
        return (
            f"the mean pool divergence changes by <= {self.tolerance:.0%} per round "
            f"over {self.window} rounds"
        )


def evaluate_rules(rules, history):
    """Evaluate several stopping rules on one history.

    Parameters
    ----------
    rules : sequence of StoppingRule or dict of {str: StoppingRule}
        The rules; a dict names them (the names replace the class names in
        the checks).
    history : sequence of round objects
        Every round so far, oldest first.

    Returns
    -------
    checks : list of StopCheck
        One per rule, in order.

    Examples
    --------
    >>> from allsh_sklearn.stopping import LabelBudget, RoundSummary, evaluate_rules
    >>> [c.stop for c in evaluate_rules([LabelBudget(10), LabelBudget(30)],
    ...                                 [RoundSummary(20)])]
    [True, False]
    """
    named = rules.items() if isinstance(rules, dict) else [(None, r) for r in rules]
    checks = []
    for name, rule in named:
        if not isinstance(rule, StoppingRule):
            raise TypeError(
                "Each stopping rule must be a StoppingRule (for example "
                f"StabilizingPredictions()). Got {type(rule).__name__} instead."
            )
        check = rule.evaluate(history)
        if name is not None:
            check = StopCheck(
                rule=name,
                value=check.value,
                stop=check.stop,
                message=check.message.replace(type(rule).__name__, name, 1),
            )
        checks.append(check)
    return checks
