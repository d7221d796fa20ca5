"""Contextual calibration (Zhao et al., 2021, "Calibrate before use").

A language model prompted with demonstrations is biased towards some label
words whatever the input (majority label, recency and common-token biases).
Contextual calibration measures that bias with *content-free* inputs put in
the same prompt, averages and normalises their label distributions into
``p_cf``, and rescales every prediction by ``W = diag(p_cf)^-1`` (with bias
``b = 0``): ``q = W p``, renormalised. A content-free input then gets a
uniform prediction.
"""

import numpy as np

from ..utils._validation import check_probabilities

__all__ = [
    "CONTENT_FREE_INPUTS",
    "apply_contextual_calibration",
    "content_free_distribution",
]

CONTENT_FREE_INPUTS = ("N/A", "", "[MASK]")


def content_free_distribution(proba):
    """Average the label distributions of the content-free inputs.

    Parameters
    ----------
    proba : array-like of shape (n_content_free, n_classes)
        The label distribution of each content-free input, each row
        normalised over the label words.

    Returns
    -------
    p_cf : ndarray of shape (n_classes,)
        Their mean, normalised to sum to one.

    Examples
    --------
    >>> content_free_distribution([[0.9, 0.1], [0.7, 0.3]]).round(3).tolist()
    [0.8, 0.2]
    """
    proba = check_probabilities(proba, name="content-free label distribution")
    mean = proba.mean(axis=0)
    return mean / mean.sum()


def apply_contextual_calibration(proba, p_cf):
    """Rescale label distributions by ``W = diag(p_cf)^-1`` and renormalise.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Uncalibrated label distributions.
    p_cf : array-like of shape (n_classes,)
        The content-free distribution from :func:`content_free_distribution`.

    Returns
    -------
    proba_calibrated : ndarray of shape (n_samples, n_classes)
        ``W p`` for each row ``p``, normalised to sum to one; its argmax is
        the calibrated prediction of Zhao et al. (2021).

    Examples
    --------
    >>> apply_contextual_calibration([[0.6, 0.4]], [0.8, 0.2]).round(4).tolist()
    [[0.2727, 0.7273]]
    """
    proba = check_probabilities(proba, name="label distribution")
    p_cf = np.asarray(p_cf, dtype=np.float64)
    if p_cf.shape != (proba.shape[1],):
        raise ValueError(
            f"The 'p_cf' parameter must have shape ({proba.shape[1]},) to match "
            f"the label distributions. Got shape {p_cf.shape} instead."
        )
    if not np.all(np.isfinite(p_cf)) or np.any(p_cf <= 0):
        raise ValueError(
            "The 'p_cf' parameter must hold finite positive probabilities. Got "
            f"{p_cf.tolist()} instead."
        )
    scaled = proba / p_cf
    return scaled / scaled.sum(axis=1, keepdims=True)
