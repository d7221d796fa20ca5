"""Confidence intervals for an accuracy measured on a random audit sample.

The texts active learning picks are, by design, not a random sample of the
pool, so the model's accuracy on them says little about its accuracy on the
rest. An audit sample is: a random fraction of the pool, labeled like the
other texts but never used for training. The model's accuracy on it is an
unbiased estimate of its accuracy on the pool, and a binomial confidence
interval says how far that estimate can be trusted.
"""

import math

from scipy.stats import beta, norm

from ..utils._validation import check_one_of, check_real

__all__ = ["accuracy_interval"]


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
    check_real(confidence, "confidence", "a float in (0, 1)", lambda c: 0 < c < 1)
    check_one_of(method, "method", ("wilson", "clopper-pearson"))
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
