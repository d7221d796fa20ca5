"""ALLSH's scores beyond the paper's: uncertainty, change size, low variance.

Plain ALLSH (Algorithm 1 of the paper) ranks the pool by the divergence
``s_i = D(p(.|x_i), p(.|x_i'))``. These functions are the scores
:class:`~allsh_sklearn.strategies.ALLSH` can rank by instead (its
``score`` and ``sensitivity`` parameters); they are pure numpy on the
predictions and the copies' predictions, small enough to check by hand.
How the batch is then taken from the scores is
:mod:`~allsh_sklearn.strategies._allsh_batches`.

Scores (:func:`combine_scores`): the divergence alone (the paper), or
combined with the model's uncertainty, the "hardness" of the method's name.
For a small change ``delta`` of the logits, ``KL(p || p') ~ 1/2 Var_p(delta)``;
with two classes ``1/2 p (1 - p) delta^2``. The divergence is therefore
already the product of an uncertainty factor (the Fisher information
``p (1 - p)``) and of the squared logit shift the augmentation causes:

- ``"product"``: ``s * H(p) / log C``, more weight on uncertainty;
- ``"rank_mean"``: the mean of the two normalised ranks, uncertainty and
  divergence on equal footing whatever their scales;
- ``"entropy_ratio"``: ``s / (H(p) / log C)``, the divergence per unit of
  uncertainty, close to the squared logit shift alone (sensitivity without
  hardness), for comparison.

A score per unit of perturbation (:func:`per_change_scores`): the divergence
of each copy divided by the share of the text's tokens that copy changed
(:func:`allsh_sklearn.utils.changed_share`). The plain score is largest
where the augmenter happened to replace many words of a short text; divided
by the size of the change it estimates how sensitive the prediction is to a
*small* change, as a derivative does (``score="per_change"``).

Low-variance estimators of the local sensitivity (:func:`sensitivity_scores`,
``ALLSH(sensitivity=...)``). The paper's score is the divergence to *one*
copy, so it depends on which words the augmenter happened to replace; with
``K`` copies ``p_k = p(.|x_k')``, these average over the draw:

- ``"divergence_to_mean"``: ``D(p, mean_k p_k)``, the divergence to the mean
  prediction over the copies (at most the mean of the ``D(p, p_k)``, by the
  convexity of ``D`` in its second argument);
- ``"mutual_information"``: ``H(mean_m q_m) - mean_m H(q_m)`` over the
  ``K + 1`` predictions ``q = (p, p_1, ..., p_K)``, BALD's mutual information
  with the copies as the ensemble (with one copy, the Jensen-Shannon
  divergence of ``p`` and ``p_1`` in nats);
- ``"variance"``: ``sum_c Var_m q_m[c]``, the variance of the predictions over
  the original and its copies summed over classes (population variance), the
  consistency score of Gao et al. (2020).
"""

import numpy as np
from scipy.stats import rankdata

from ..divergences import get_divergence
from ..utils._constraints import Options, validate_parameter
from ..utils._validation import check_probabilities

__all__ = [
    "COMBINATIONS",
    "SCORES",
    "SENSITIVITIES",
    "check_copy_predictions",
    "check_scores",
    "combine_scores",
    "divergence_to_mean",
    "mutual_information",
    "normalised_entropy",
    "per_change_scores",
    "prediction_variance",
    "sensitivity_scores",
]

#: The values of :func:`combine_scores`'s ``method``.
COMBINATIONS = ("divergence", "product", "rank_mean", "entropy_ratio")

#: The values of ``ALLSH(score=...)``: a combination, or the divergence per
#: unit of change of the copy (:func:`per_change_scores`).
SCORES = (*COMBINATIONS, "per_change")

#: The values of ``ALLSH(sensitivity=...)``: the paper's divergence to each
#: copy (mean or worst case over copies), or a low-variance estimator over
#: the ``K`` copies (:func:`sensitivity_scores`).
SENSITIVITIES = ("divergence", "divergence_to_mean", "mutual_information", "variance")


def check_scores(scores, n_samples=None, name="scores"):
    """Scores as a float64 vector, checked: 1-d, finite, non-negative.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
    n_samples : int or None, default=None
        The number of values expected (one per pool item), if known.
    name : str, default="scores"
        The parameter named in the error messages.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(
            f"The '{name}' parameter must be one-dimensional. Got shape "
            f"{scores.shape} instead."
        )
    if n_samples is not None and scores.shape[0] != n_samples:
        raise ValueError(
            f"The '{name}' parameter must have one value per pool item "
            f"({n_samples}). Got {scores.shape[0]} instead."
        )
    if not np.isfinite(scores).all() or (scores < 0).any():
        raise ValueError(
            f"The '{name}' parameter must hold finite non-negative values. Got "
            f"min {np.nanmin(scores) if scores.size else None!r} or NaN/inf."
        )
    return scores


def check_copy_predictions(proba, augmented_proba):
    """The predictions on the originals and on their copies, checked.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies, each a probability matrix of the shape of
        ``proba``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes), dtype=float64
    augmented : ndarray of shape (n_copies, n_samples, n_classes), dtype=float64
    """
    proba = check_probabilities(proba, name="proba")
    augmented = np.asarray(augmented_proba, dtype=np.float64)
    if augmented.ndim != 3 or augmented.shape[1:] != proba.shape:
        raise ValueError(
            "The 'augmented_proba' parameter must have shape (n_copies, "
            f"{proba.shape[0]}, {proba.shape[1]}). Got {augmented.shape} instead."
        )
    for copy in augmented:
        check_probabilities(copy, name="augmented_proba")
    return proba, augmented


def normalised_entropy(proba):
    """Entropy of each prediction divided by ``log C``, in ``[0, 1]``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)

    Returns
    -------
    entropy : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> normalised_entropy([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [1.0, 0.0]
    """
    proba = check_probabilities(proba, name="proba")
    n_classes = proba.shape[1]
    if n_classes < 2:
        return np.zeros(proba.shape[0])
    return np.clip(_entropy(proba) / np.log(n_classes), 0.0, 1.0) + 0.0


def combine_scores(divergence, proba, method="divergence"):
    """Combine ALLSH's divergences with the uncertainty of the predictions.

    Parameters
    ----------
    divergence : array-like of shape (n_samples,)
        ALLSH's scores ``D(p(.|x), p(.|x'))``, non-negative.
    proba : array-like of shape (n_samples, n_classes)
        The predictions on the original texts.
    method : {"divergence", "product", "rank_mean", "entropy_ratio"}, \
            default="divergence"
        ``"divergence"``: the divergence unchanged (the paper).
        ``"product"``: ``divergence * H``, ``H`` the entropy divided by
        ``log C``. ``"rank_mean"``: ``(rank(divergence) + rank(H)) / (2 n)``
        with average ranks of ties, in ``(0, 1]``. ``"entropy_ratio"``:
        ``divergence / H`` (0 where both are 0; a confident prediction, ``H``
        near 0, that still moves gets a large score).

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64
        Larger is more informative.

    Examples
    --------
    >>> proba = [[0.5, 0.5], [0.9, 0.1], [0.99, 0.01]]
    >>> divergence = [0.01, 0.2, 0.05]
    >>> combine_scores(divergence, proba, "rank_mean").tolist()
    [0.6666666666666666, 0.8333333333333334, 0.5]
    >>> combine_scores(divergence, proba, "product").round(4).tolist()
    [0.01, 0.0938, 0.004]
    """
    validate_parameter(
        method, "method", [Options(COMBINATIONS)], owner="combine_scores"
    )
    entropy = normalised_entropy(proba)
    divergence = check_scores(divergence, entropy.shape[0], name="divergence")
    if method == "divergence":
        return divergence.copy()
    if method == "product":
        return divergence * entropy
    if method == "rank_mean":
        n_samples = divergence.shape[0]
        return (rankdata(divergence) + rankdata(entropy)) / (2.0 * n_samples)
    ratio = np.zeros_like(divergence)
    tiny = np.finfo(np.float64).tiny
    positive = divergence > 0.0
    ratio[positive] = divergence[positive] / np.maximum(entropy[positive], tiny)
    return np.minimum(ratio, np.finfo(np.float64).max / 4)


def per_change_scores(per_copy_divergence, shares, worst_case=False):
    """Divergence per unit of change: each copy's divergence / its share.

    Parameters
    ----------
    per_copy_divergence : array-like of shape (n_copies, n_samples)
        ``D(p(.|x_i), p(.|x_ik'))`` for each copy ``k``, non-negative.
    shares : array-like of shape (n_copies, n_samples)
        The share of the text's tokens each copy changed
        (:func:`~allsh_sklearn.utils.changed_share`), in ``[0, 1]``.
    worst_case : bool, default=False
        The maximum over copies instead of the mean.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64
        A copy that changed nothing contributes 0.

    Examples
    --------
    >>> per_change_scores([[0.2, 0.2, 0.0]], [[0.5, 0.1, 0.0]]).tolist()
    [0.4, 2.0, 0.0]
    """
    divergence = np.asarray(per_copy_divergence, dtype=np.float64)
    shares = np.asarray(shares, dtype=np.float64)
    if divergence.ndim != 2 or divergence.shape != shares.shape:
        raise ValueError(
            "The 'shares' parameter must have the shape of "
            f"'per_copy_divergence' {divergence.shape}. Got {shares.shape} instead."
        )
    for row in divergence:
        check_scores(row, name="per_copy_divergence")
    if ((shares < 0.0) | (shares > 1.0) | np.isnan(shares)).any():
        raise ValueError("The 'shares' parameter must hold values in [0, 1].")
    ratio = np.divide(
        divergence, shares, out=np.zeros_like(divergence), where=shares > 0.0
    )
    return ratio.max(axis=0) if worst_case else ratio.mean(axis=0)


# Low-variance estimators of the local sensitivity ---------------------------


def _members(proba, augmented_proba):
    """The original's and the copies' predictions, shape ``(K + 1, n, C)``."""
    proba, augmented = check_copy_predictions(proba, augmented_proba)
    return np.concatenate([proba[None], augmented])


def _entropy(proba):
    """Natural-log entropy of each row of ``(..., C)`` probabilities."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0.0, proba * np.log(proba), 0.0)
    return -terms.sum(axis=-1)


def divergence_to_mean(proba, augmented_proba, divergence="kl", alpha=0.5):
    """``D(p(.|x), mean_k p(.|x_k'))``: the divergence to the copies' mean.

    Averaging the copies' predictions before the divergence removes much of
    the draw's noise; by convexity the value is at most the mean over copies
    of ``D(p, p_k)`` (the paper's score with ``K`` copies).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        The statistical distance ``D``.
    alpha : float, default=0.5
        The order of the alpha-divergence.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> copies = [[[0.5, 0.5]], [[0.9, 0.1]]]   # mean [0.7, 0.3]
    >>> divergence_to_mean([[0.7, 0.3]], copies).tolist()
    [0.0]
    """
    proba, augmented = check_copy_predictions(proba, augmented_proba)
    measure = get_divergence(divergence, alpha=alpha)
    return np.asarray(measure(proba, augmented.mean(axis=0)), dtype=np.float64)


def mutual_information(proba, augmented_proba):
    """BALD over augmentations: ``H(mean_m q_m) - mean_m H(q_m)``.

    The ensemble is the prediction on the original and those on its ``K``
    copies, ``q = (p, p_1, ..., p_K)``; natural logarithms. Zero when all
    ``K + 1`` predictions agree; with one copy, the Jensen-Shannon divergence
    of ``p`` and ``p_1`` in nats (the square of
    :func:`~allsh_sklearn.divergences.jsd`, a distance in bits, times
    ``log 2``).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64
        Non-negative, at most ``log C``.

    Examples
    --------
    >>> mi = mutual_information([[1.0, 0.0]], [[[0.0, 1.0]]])
    >>> bool(abs(mi[0] - 0.6931) < 1e-4)                 # log 2
    True
    """
    members = _members(proba, augmented_proba)
    information = _entropy(members.mean(axis=0)) - _entropy(members).mean(axis=0)
    return np.maximum(information, 0.0)


def prediction_variance(proba, augmented_proba):
    """``sum_c Var_m q_m[c]``: the spread of the predictions under augmentation.

    The population variance (``ddof=0``) of each class probability over the
    prediction on the original and those on its ``K`` copies, summed over
    classes: the consistency score of Gao et al. (2020).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> prediction_variance([[0.9, 0.1]], [[[0.5, 0.5]]]).round(6).tolist()
    [0.08]
    """
    members = _members(proba, augmented_proba)
    return members.var(axis=0).sum(axis=1)


def sensitivity_scores(
    proba,
    augmented_proba,
    method="divergence_to_mean",
    *,
    divergence="kl",
    alpha=0.5,
):
    """A low-variance estimate of the local sensitivity over ``K`` copies.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.
    method : {"divergence_to_mean", "mutual_information", "variance"}, \
            default="divergence_to_mean"
        :func:`divergence_to_mean`, :func:`mutual_information` or
        :func:`prediction_variance`. (The paper's ``"divergence"``, the
        mean or maximum over copies of ``D(p, p_k)``, is
        :func:`~allsh_sklearn.strategies.allsh_scores`.)
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        ``D`` of ``"divergence_to_mean"``.
    alpha : float, default=0.5
        The order of the alpha-divergence.

    Returns
    -------
    scores : ndarray of shape (n_samples,), dtype=float64
        Non-negative; larger is more sensitive.

    Examples
    --------
    >>> p, copies = [[0.9, 0.1]], [[[0.5, 0.5]], [[0.9, 0.1]]]
    >>> sensitivity_scores(p, copies, "variance").round(6).tolist()
    [0.071111]
    """
    validate_parameter(
        method, "method", [Options(SENSITIVITIES[1:])], owner="sensitivity_scores"
    )
    if method == "divergence_to_mean":
        return divergence_to_mean(proba, augmented_proba, divergence, alpha)
    if method == "mutual_information":
        return mutual_information(proba, augmented_proba)
    return prediction_variance(proba, augmented_proba)
