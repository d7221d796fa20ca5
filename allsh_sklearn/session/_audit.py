"""Confidence intervals for an accuracy measured on a random audit sample.

The texts active learning picks are, by design, not a random sample of the
pool, so the model's accuracy on them says little about its accuracy on the
rest. An audit sample is: a random fraction of the pool, labeled like the
other texts but never used for training. The model's accuracy on it is an
unbiased estimate of its accuracy on the pool, and a binomial confidence
interval says how far that estimate can be trusted.
"""

import math
import numbers
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import beta, norm

from ..utils._constraints import Interval, Options, validate_parameter

__all__ = ["ClassEstimate", "ClassEstimates", "accuracy_interval", "class_estimates"]

#: What the level of a confidence interval may be.
_CONFIDENCE = [Interval(numbers.Real, 0, 1, closed="neither")]

#: What the parameters of :func:`class_estimates` checked on their own may be.
_ESTIMATE_CONSTRAINTS = {
    "confidence": _CONFIDENCE,
    "min_train_labels": [Interval(numbers.Integral, 0, None)],
    "recall_threshold": [Interval(numbers.Real, 0, 1, closed="both")],
    "n_resamples": [Interval(numbers.Integral, 1, None)],
}


def accuracy_interval(n_correct, n_total, confidence=0.95, method="wilson"):
    """A binomial confidence interval for ``n_correct`` successes in ``n_total``.

    Parameters
    ----------
    n_correct : int
        Correct predictions, ``0 <= n_correct <= n_total``.
    n_total : int
        Audited texts.
    confidence : float, default=0.95
        In ``(0, 1)``.
    method : {"wilson", "clopper-pearson"}, default="wilson"
        Wilson's score interval (E. B. Wilson, 1927), or the exact
        Clopper-Pearson interval (1934), which is wider and never covers
        less than ``confidence``.

    Returns
    -------
    low, high : float
        The interval; ``(nan, nan)`` when ``n_total == 0``.

    Examples
    --------
    >>> low, high = accuracy_interval(8, 10)
    >>> round(low, 4), round(high, 4)
    (0.4902, 0.9433)
    >>> low, high = accuracy_interval(8, 10, method="clopper-pearson")
    >>> round(low, 4), round(high, 4)
    (0.4439, 0.9748)
    """
    validate_parameter(confidence, "confidence", _CONFIDENCE)
    validate_parameter(method, "method", [Options(("wilson", "clopper-pearson"))])
    if not 0 <= n_correct <= n_total:
        raise ValueError(
            "accuracy_interval needs 0 <= n_correct <= n_total. Got "
            f"n_correct={n_correct}, n_total={n_total} instead."
        )
    if n_total == 0:
        return float("nan"), float("nan")
    alpha = 1.0 - confidence
    if method == "clopper-pearson":
        low = (
            0.0
            if n_correct == 0
            else beta.ppf(alpha / 2, n_correct, n_total - n_correct + 1)
        )
        high = (
            1.0
            if n_correct == n_total
            else beta.ppf(1 - alpha / 2, n_correct + 1, n_total - n_correct)
        )
        return float(low), float(high)
    z = norm.ppf(1 - alpha / 2)
    p = n_correct / n_total
    denominator = 1 + z * z / n_total
    center = (p + z * z / (2 * n_total)) / denominator
    half = (z / denominator) * math.sqrt(
        p * (1 - p) / n_total + z * z / (4 * n_total * n_total)
    )
    return float(max(0.0, center - half)), float(min(1.0, center + half))


@dataclass(frozen=True)
class ClassEstimate:
    """What the audit sample says about one class.

    Attributes
    ----------
    label : str
    support : int
        Audit texts whose true label is this class (the recall's sample).
    n_predicted : int
        Audit texts the model gives this class (the precision's sample).
    recall, recall_low, recall_high : float
        Estimated recall and its interval (nan without support).
    precision, precision_low, precision_high : float
        Estimated precision and its interval (nan when never predicted).
    f1 : float
        The F1 score of the point estimates (0 when both are 0; nan when
        either is undefined).
    n_train : int or None
        Training labels of this class, when known.
    pool_share : float or None
        Share of the unlabeled pool the model puts in this class, when known.
    """

    label: str
    support: int
    n_predicted: int
    recall: float
    recall_low: float
    recall_high: float
    precision: float
    precision_low: float
    precision_high: float
    f1: float
    n_train: int | None = None
    pool_share: float | None = None

    def as_dict(self):
        """A JSON-ready dict (nan becomes None)."""
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in self.__dict__.items()
        }


@dataclass(frozen=True)
class ClassEstimates:
    """Per-class recall and precision, a macro-F1 estimate and warnings.

    Attributes
    ----------
    classes : list of ClassEstimate
        In the order of the labels.
    n_audit : int
        Audit texts with a label.
    macro_f1, macro_f1_low, macro_f1_high : float
        Macro-averaged F1 on the audit sample and its percentile bootstrap
        interval (nan without audit labels).
    warnings : list of str
        Plain-language warnings: a class never predicted on the pool, a
        class with fewer than a handful of training labels, a class whose
        estimated recall is below the threshold.
    """

    classes: list
    n_audit: int
    macro_f1: float
    macro_f1_low: float
    macro_f1_high: float
    warnings: list = field(default_factory=list)

    def as_dict(self):
        """A JSON-ready dict (nan becomes None)."""

        def clean(value):
            return None if isinstance(value, float) and math.isnan(value) else value

        return {
            "n_audit": self.n_audit,
            "macro_f1": clean(self.macro_f1),
            "macro_f1_low": clean(self.macro_f1_low),
            "macro_f1_high": clean(self.macro_f1_high),
            "classes": [estimate.as_dict() for estimate in self.classes],
            "warnings": list(self.warnings),
        }


def _macro_f1(true, predicted, n_classes):
    """Macro F1 over the classes present in ``true`` or ``predicted``."""
    return float(_macro_f1_many(true[None, :], predicted[None, :], n_classes)[0])


def _macro_f1_many(true, predicted, n_classes, chunk=256):
    """:func:`_macro_f1` of each row of ``true`` and ``predicted`` (2-D), at
    once: one confusion matrix per row from a single ``bincount``."""
    n_rows, n = true.shape
    out = np.empty(n_rows)
    for start in range(0, n_rows, chunk):
        t, p = true[start : start + chunk], predicted[start : start + chunk]
        rows = len(t)
        cells = t * n_classes + p + (np.arange(rows) * n_classes**2)[:, None]
        confusion = np.bincount(cells.ravel(), minlength=rows * n_classes**2).reshape(
            rows, n_classes, n_classes
        )
        tp = np.diagonal(confusion, axis1=1, axis2=2)
        total = confusion.sum(axis=2) + confusion.sum(axis=1)
        present = total > 0
        f1 = np.where(present, 2 * tp / np.maximum(total, 1), 0.0)
        n_present = present.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + rows] = np.where(
                n_present > 0, f1.sum(axis=1) / n_present, np.nan
            )
    return out


def class_estimates(
    true_labels,
    predicted_labels,
    labels,
    *,
    train_counts=None,
    pool_predictions=None,
    pool_size=None,
    confidence=0.95,
    min_train_labels=5,
    recall_threshold=0.5,
    n_resamples=2000,
    random_state=0,
):
    """Estimate per-class recall, precision and macro-F1 from an audit sample.

    The audit sample is a uniform random sample of the pool that is labeled
    but never trained on, so per-class rates on it estimate the rates on the
    pool: recall of class ``c`` from the audit texts whose true label is
    ``c``, precision from those the model gives ``c``, each with a Wilson
    interval (:func:`accuracy_interval`); macro-F1 with a percentile
    bootstrap over the audit texts.

    Parameters
    ----------
    true_labels, predicted_labels : sequence of str
        The annotators' labels of the audit texts and the model's
        predictions for them, in the same order.
    labels : sequence of str
        Every class, in display order.
    train_counts : mapping of {str: int} or None, default=None
        Training labels per class, for the "few labels" warning.
    pool_predictions : sequence of str or None, default=None
        The model's predictions on the unlabeled pool, for the "never
        predicted" warning and each class's share.
    pool_size : int or None, default=None
        The size of the whole unlabeled pool when ``pool_predictions`` are
        those of a random sample of it (the warning then says so); None
        when they cover all of it.
    confidence : float, default=0.95
        Level of every interval.
    min_train_labels : int, default=5
        Warn about a class with fewer training labels than this.
    recall_threshold : float, default=0.5
        Warn about a class whose estimated recall is below this.
    n_resamples : int, default=2000
        Bootstrap resamples of the macro-F1 interval.
    random_state : int, default=0
        Seeds the bootstrap, so the same labels give the same interval.

    Returns
    -------
    ClassEstimates

    Examples
    --------
    >>> est = class_estimates(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    >>> [(c.label, c.recall, c.precision) for c in est.classes]
    [('a', 0.5, 1.0), ('b', 1.0, 0.6666666666666666)]
    """
    labels = list(labels)
    if len(set(labels)) != len(labels) or not labels:
        raise ValueError(
            f"The 'labels' parameter must be a non-empty sequence of distinct "
            f"labels. Got {labels!r} instead."
        )
    true_labels, predicted_labels = list(true_labels), list(predicted_labels)
    if len(true_labels) != len(predicted_labels):
        raise ValueError(
            "true_labels and predicted_labels must have the same length. Got "
            f"{len(true_labels)} and {len(predicted_labels)} instead."
        )
    index = {label: k for k, label in enumerate(labels)}
    for name, values in (
        ("true_labels", true_labels),
        ("predicted_labels", predicted_labels),
    ):
        unknown = sorted({str(v) for v in values if v not in index})
        if unknown:
            raise ValueError(
                f"The {name!r} parameter holds labels that are not in 'labels' "
                f"{labels!r}: {unknown[:5]!r}."
            )
    values = {
        "confidence": confidence,
        "min_train_labels": min_train_labels,
        "recall_threshold": recall_threshold,
        "n_resamples": n_resamples,
    }
    for name, constraints in _ESTIMATE_CONSTRAINTS.items():
        validate_parameter(values[name], name, constraints)
    true = np.array([index[v] for v in true_labels], dtype=int)
    predicted = np.array([index[v] for v in predicted_labels], dtype=int)
    pool_counts = Counter(pool_predictions) if pool_predictions is not None else None
    n_pool = sum(pool_counts.values()) if pool_counts is not None else 0
    if pool_size is not None:
        validate_parameter(
            pool_size, "pool_size", [Interval(numbers.Integral, n_pool, None)]
        )
    where = f"the {n_pool:,} unlabeled texts"
    if pool_size is not None and pool_size > n_pool:
        where = f"a random sample of {n_pool:,} of the {pool_size:,} unlabeled texts"
    nan = float("nan")
    classes, warnings = [], []
    for k, label in enumerate(labels):
        tp = int(np.sum((true == k) & (predicted == k)))
        support = int(np.sum(true == k))
        n_pred = int(np.sum(predicted == k))
        recall = tp / support if support else nan
        precision = tp / n_pred if n_pred else nan
        r_low, r_high = accuracy_interval(tp, support, confidence)
        p_low, p_high = accuracy_interval(tp, n_pred, confidence)
        if math.isnan(recall) or math.isnan(precision):
            f1 = 0.0 if (support and tp == 0) else nan
        else:
            f1 = 0.0 if tp == 0 else 2 * recall * precision / (recall + precision)
        n_train = None if train_counts is None else int(train_counts.get(label, 0))
        share = None
        if pool_counts is not None:
            share = pool_counts.get(label, 0) / n_pool if n_pool else 0.0
        estimate = ClassEstimate(
            label,
            support,
            n_pred,
            recall,
            r_low,
            r_high,
            precision,
            p_low,
            p_high,
            f1,
            n_train,
            share,
        )
        classes.append(estimate)
        if pool_counts is not None and n_pool and pool_counts.get(label, 0) == 0:
            warnings.append(
                f"The model never predicts {label!r} on {where}: it cannot "
                "find that class; label more of it (search for it, or use a "
                "class-balanced strategy)."
            )
        if n_train is not None and n_train < min_train_labels:
            warnings.append(
                f"{label!r} has no training label yet."
                if n_train == 0
                else f"{label!r} has only {n_train} training label"
                f"{'' if n_train == 1 else 's'} (fewer than {min_train_labels})."
            )
        if support and recall < recall_threshold:
            texts = "text" if support == 1 else "texts"
            verdict = (
                "the model misses most texts of that class."
                if r_high < recall_threshold
                else "the model may miss most texts of that class (the interval "
                "is wide: more audit labels will tell)."
            )
            warnings.append(
                f"The estimated recall of {label!r} is {recall:.0%} "
                f"[{r_low:.0%}, {r_high:.0%}] on {support} audit {texts}: {verdict}"
            )
    if len(true):
        macro = _macro_f1(true, predicted, len(labels))
        rng = np.random.default_rng(random_state)
        draws = rng.integers(0, len(true), size=(n_resamples, len(true)))
        boot = _macro_f1_many(true[draws], predicted[draws], len(labels))
        alpha = 1 - confidence
        low, high = np.nanquantile(boot, [alpha / 2, 1 - alpha / 2])
        macro_low, macro_high = float(low), float(high)
    else:
        macro = macro_low = macro_high = nan
    return ClassEstimates(
        classes, int(len(true)), macro, macro_low, macro_high, warnings
    )
