"""Variants of ALLSH's score and batch selection (not in the paper).

Plain ALLSH (Algorithm 1 of the paper) ranks the pool by the divergence
``s_i = D(p(.|x_i), p(.|x_i'))`` and takes the global top-b. These functions
are the options :class:`~allsh_sklearn.strategies.ALLSH` can use instead;
they are pure numpy on the predictions, the copies' predictions and the
embeddings, so that they can be tested on problems small enough to check
by hand.

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

A score per unit of perturbation (:func:`changed_share`,
:func:`per_change_scores`): the divergence of each copy divided by the
share of the text's tokens that copy changed. The plain score is largest
where the augmenter happened to replace many words of a short text; divided
by the size of the change it estimates how sensitive the prediction is to a
*small* change, as a derivative does (``score="per_change"``).

Batches (k-means++ seeding, with BADGE's factorised distances, see
:mod:`allsh_sklearn.strategies._badge`): every item is a vector
``g_i = q_i (x) h_i``, ``h_i`` its embedding and ``q_i`` a short vector; the
first centre is the item of largest ``||g_i||``, each next one is drawn with
probability proportional to its squared distance to the nearest centre.

- :func:`score_weighted_kmeans_plusplus`: ``q_i = [s_i]``, the embeddings
  weighted by the score, as BADGE weights by the gradient norm;
- :func:`copy_gradient_kmeans_plusplus`: ``q_i = onehot(y_hat_i) - p(.|x_i')``,
  the cross-entropy gradient of the last layer on the *copy* at the
  original's predicted label, the gradient that training the model to be
  consistent under the augmentation would take. Its norm is large when the
  copy is uncertain (hardness) or moved away from the original's prediction
  (sensitivity), and its direction is class-aware as BADGE's is;
- :func:`scaled_badge_kmeans_plusplus`: BADGE's ``q_i = onehot(y_hat_i) - p_i``
  scaled by a weight per item (for example the quantile of its ALLSH score,
  :func:`quantile_weights`).

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

Stochastic batches (:func:`stochastic_weights`, :func:`stochastic_top`,
``ALLSH(batch="power" | "softrank")``, Kirsch et al., 2023): instead of the
top-b, the batch is sampled without replacement with probability
proportional to ``score ** beta`` (power) or ``rank ** -beta`` (softrank,
rank 1 the highest score), so that the noise of the score spreads the batch
instead of deciding it.
"""

import re
from difflib import SequenceMatcher

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.utils import check_random_state

from ..divergences import get_divergence
from ..utils._selection import select_top
from ..utils._validation import (
    check_n_instances,
    check_one_of,
    check_probabilities,
    check_real,
)
from ._badge import _kmeans_plusplus
from ._embeddings import check_embeddings

__all__ = [
    "BATCHES",
    "COMBINATIONS",
    "KMEANS_BATCHES",
    "SCORES",
    "SENSITIVITIES",
    "STOCHASTIC_BATCHES",
    "changed_share",
    "combine_scores",
    "copy_gradient_factors",
    "copy_gradient_kmeans_plusplus",
    "divergence_to_mean",
    "mutual_information",
    "normalised_entropy",
    "per_change_scores",
    "prediction_variance",
    "quantile_weights",
    "scaled_badge_kmeans_plusplus",
    "score_weighted_kmeans_plusplus",
    "select_batch",
    "sensitivity_scores",
    "stochastic_top",
    "stochastic_weights",
]

#: The values of :func:`combine_scores`'s ``method``.
COMBINATIONS = ("divergence", "product", "rank_mean", "entropy_ratio")

#: The values of ``ALLSH(score=...)``: a combination, or the divergence per
#: unit of change of the copy (:func:`per_change_scores`).
SCORES = (*COMBINATIONS, "per_change")

_TOKEN = re.compile(r"\w+|[^\w\s]")

#: The k-means++ seedings of :func:`select_batch` (see the module docstring).
KMEANS_BATCHES = ("kmeans", "copy_gradient", "scaled_badge")

#: The stochastic batches of :func:`stochastic_top` (Kirsch et al., 2023).
STOCHASTIC_BATCHES = ("power", "softrank")

#: The values of ``ALLSH(batch=...)``: the top-b of the score (the paper), a
#: k-means++ seeding, or a batch sampled in proportion to a power of the
#: score or of its rank.
BATCHES = ("top", *KMEANS_BATCHES, *STOCHASTIC_BATCHES)

#: The values of ``ALLSH(sensitivity=...)``: the paper's divergence to each
#: copy (mean or worst case over copies), or a low-variance estimator over
#: the ``K`` copies (:func:`sensitivity_scores`).
SENSITIVITIES = ("divergence", "divergence_to_mean", "mutual_information", "variance")


def _check_scores(scores, n_samples=None, name="scores"):
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
    check_one_of(method, "method", COMBINATIONS, owner="combine_scores")
    entropy = normalised_entropy(proba)
    divergence = _check_scores(divergence, entropy.shape[0], name="divergence")
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


def _tokens(text):
    parts = (text,) if isinstance(text, str) else tuple(text)
    return [token for part in parts for token in _TOKEN.findall(part.lower())]


def _one_changed_share(text, copy):
    original, changed = _tokens(text), _tokens(copy)
    if original == changed:
        return 0.0
    if len(original) == len(changed):
        replaced = sum(a != b for a, b in zip(original, changed, strict=True))
        return replaced / len(original)
    return 1.0 - SequenceMatcher(None, original, changed).ratio()


def _memo_key(item):
    """A dict key for a text or a pair (a list pair becomes a tuple)."""
    return item if isinstance(item, str) else tuple(item)


def changed_share(texts, copies, *, memo=None):
    """The share of each text's tokens that its copy changed, in ``[0, 1]``.

    Tokens are words and punctuation marks, lower-cased (a pair's two texts
    are one sequence). For a copy with as many tokens (TF-IDF word
    replacement) it is the share of positions whose token differs;
    otherwise (back-translation) ``1 - ratio`` of
    :class:`difflib.SequenceMatcher` over the two token sequences.

    Parameters
    ----------
    texts : sequence of str or of (str, str)
        The original texts.
    copies : sequence of str or of (str, str)
        One copy per text, in the same order.
    memo : dict or None, default=None
        Shares already computed, keyed by the ``(text, copy)`` pair itself
        (pairs of texts as tuples): the pairs found there are not
        tokenised again, the others are computed and added. The share
        depends on the two texts only, so a memo can be kept across calls
        (an active learning loop scores the same copies at every query);
        another copy of a text is another key.

    Returns
    -------
    share : ndarray of shape (n_samples,), dtype=float64
        0 for a copy with the text's tokens unchanged (or two empty texts).

    Examples
    --------
    >>> changed_share(["a good film", "a good film"],
    ...               ["a bad film", "a good film"]).round(3).tolist()
    [0.333, 0.0]
    >>> memo = {}
    >>> changed_share(["a good film"], ["a bad film"], memo=memo).round(3).tolist()
    [0.333]
    >>> len(memo)
    1
    """
    if len(texts) != len(copies):
        raise ValueError(
            "The 'copies' parameter must hold one copy per text "
            f"({len(texts)}). Got {len(copies)} instead."
        )
    if memo is None:
        return np.fromiter(
            map(_one_changed_share, texts, copies), dtype=np.float64, count=len(texts)
        )
    if not isinstance(memo, dict):
        raise TypeError(
            f"The 'memo' parameter must be a dict or None. Got "
            f"{type(memo).__name__} instead."
        )
    keys = list(zip(map(_memo_key, texts), map(_memo_key, copies), strict=True))
    share = np.fromiter(
        (memo.get(key, np.nan) for key in keys), dtype=np.float64, count=len(keys)
    )
    for i in np.flatnonzero(np.isnan(share)).tolist():
        share[i] = memo[keys[i]] = _one_changed_share(texts[i], copies[i])
    return share


def per_change_scores(per_copy_divergence, shares, worst_case=False):
    """Divergence per unit of change: each copy's divergence / its share.

    Parameters
    ----------
    per_copy_divergence : array-like of shape (n_copies, n_samples)
        ``D(p(.|x_i), p(.|x_ik'))`` for each copy ``k``, non-negative.
    shares : array-like of shape (n_copies, n_samples)
        The share of the text's tokens each copy changed
        (:func:`changed_share`), in ``[0, 1]``.
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
        _check_scores(row, name="per_copy_divergence")
    if ((shares < 0.0) | (shares > 1.0) | np.isnan(shares)).any():
        raise ValueError("The 'shares' parameter must hold values in [0, 1].")
    ratio = np.divide(
        divergence, shares, out=np.zeros_like(divergence), where=shares > 0.0
    )
    return ratio.max(axis=0) if worst_case else ratio.mean(axis=0)


def quantile_weights(scores):
    """The quantile of each score in the pool, ``rank / n`` in ``(0, 1]``.

    A scale-free weight: the largest score gets 1, the smallest ``1 / n``
    (average ranks for ties), whatever the divergence's scale and tail.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)

    Returns
    -------
    weights : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> quantile_weights([0.3, 0.1, 0.3, 2.0]).tolist()
    [0.625, 0.25, 0.625, 1.0]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or np.isnan(scores).any():
        raise ValueError(
            "The 'scores' parameter must be one-dimensional without NaN. Got "
            f"shape {scores.shape}."
        )
    return rankdata(scores) / scores.shape[0]


def _norms_squared(q, embeddings):
    """``||q_i||^2 ||h_i||^2``, the squared norms of ``g_i = q_i (x) h_i``."""
    q_sq = np.einsum("ij,ij->i", q, q)
    if sp.issparse(embeddings):
        h_sq = np.asarray(
            embeddings.multiply(embeddings).sum(axis=1, dtype=np.float64)
        ).ravel()
    else:
        h_sq = np.einsum("ij,ij->i", embeddings, embeddings, dtype=np.float64)
    return q_sq * h_sq


def _seed(q, embeddings, n_instances, random_state, duplicates):
    embeddings = check_embeddings(embeddings, q.shape[0], name="embeddings")
    if sp.issparse(embeddings):
        embeddings = embeddings.astype(np.float64, copy=False)
    n_instances = check_n_instances(n_instances, q.shape[0])
    g_sq = _norms_squared(q, embeddings)
    return _kmeans_plusplus(
        q,
        embeddings,
        g_sq,
        n_instances,
        check_random_state(random_state),
        duplicates=duplicates,
    )


def score_weighted_kmeans_plusplus(
    scores, embeddings, n_instances, *, random_state=None, duplicates=None
):
    """k-means++ seeding of the embeddings weighted by the scores, ``s_i h_i``.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Non-negative scores (ALLSH's divergences).
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
    n_instances : int
        The batch size, at most ``n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seeds the D^2 sampling.
    duplicates : ndarray of shape (n_samples,) or None, default=None
        Group ids of repeated texts: one item per group is chosen while
        other groups remain (as :class:`~allsh_sklearn.strategies.BADGE`).

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Distinct indices in the order they were chosen; the first is the
        item of largest ``s_i ||h_i||``.

    Examples
    --------
    >>> emb = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    >>> score_weighted_kmeans_plusplus([1.0, 0.9, 0.5], emb, 2,
    ...                                random_state=0).tolist()
    [0, 2]
    """
    scores = _check_scores(scores)
    return _seed(scores[:, None], embeddings, n_instances, random_state, duplicates)


def copy_gradient_kmeans_plusplus(
    proba,
    augmented_proba,
    embeddings,
    n_instances,
    *,
    worst_case=False,
    random_state=None,
    duplicates=None,
):
    """k-means++ seeding of the gradients on the copies at the original's label.

    ``g_i = (onehot(y_hat_i) - p(.|x_i')) (x) h_i``, ``y_hat_i`` the class
    predicted on the original text. With ``K`` copies, ``p(.|x_i')`` is
    their mean prediction, or (``worst_case``) the copy whose ``q`` has the
    largest norm.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        Embeddings of the original texts.
    n_instances : int
        The batch size, at most ``n_samples``.
    worst_case : bool, default=False
        Use the copy farthest from the original's predicted label.
    random_state, duplicates
        As for :func:`score_weighted_kmeans_plusplus`.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Distinct indices in the order they were chosen.

    Examples
    --------
    >>> proba = [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]]
    >>> copies = [[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]]
    >>> emb = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    >>> copy_gradient_kmeans_plusplus(proba, copies, emb, 2,
    ...                               random_state=0).tolist()
    [1, 2]
    """
    q = copy_gradient_factors(proba, augmented_proba, worst_case=worst_case)
    return _seed(q, embeddings, n_instances, random_state, duplicates)


def copy_gradient_factors(proba, augmented_proba, *, worst_case=False):
    """``q_i = onehot(y_hat_i) - p(.|x_i')``, the class factor of the copy gradient.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
    worst_case : bool, default=False
        The copy with the largest ``||q||`` instead of the mean over copies.

    Returns
    -------
    q : ndarray of shape (n_samples, n_classes), dtype=float64

    Examples
    --------
    >>> q = copy_gradient_factors([[0.9, 0.1]], [[[0.3, 0.7]], [[0.8, 0.2]]])
    >>> q.round(3).tolist()
    [[0.45, -0.45]]
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
    onehot = np.zeros_like(proba)
    onehot[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] = 1.0
    per_copy = onehot[None] - augmented
    if not worst_case:
        return per_copy.mean(axis=0)
    norms = np.einsum("kij,kij->ki", per_copy, per_copy)
    return per_copy[np.argmax(norms, axis=0), np.arange(proba.shape[0])]


def scaled_badge_kmeans_plusplus(
    proba, embeddings, weights, n_instances, *, random_state=None, duplicates=None
):
    """k-means++ seeding of BADGE's gradient embeddings scaled per item.

    ``g_i = w_i (onehot(y_hat_i) - p_i) (x) h_i``. With ``w_i = 1`` this is
    :func:`~allsh_sklearn.strategies.badge_kmeans_plusplus`.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the pool.
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        Penultimate-layer embeddings of the pool.
    weights : array-like of shape (n_samples,)
        Non-negative weight of each item (for example
        ``quantile_weights(allsh_scores)``).
    n_instances, random_state, duplicates
        As for :func:`score_weighted_kmeans_plusplus`.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64

    Examples
    --------
    >>> proba = [[0.5, 0.5], [0.6, 0.4], [0.9, 0.1]]
    >>> emb = [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    >>> scaled_badge_kmeans_plusplus(proba, emb, [0.1, 1.0, 1.0], 1).tolist()
    [1]
    """
    proba = check_probabilities(proba, name="proba")
    weights = _check_scores(weights, proba.shape[0], name="weights")
    q = -proba
    q[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] += 1.0
    return _seed(
        q * weights[:, None], embeddings, n_instances, random_state, duplicates
    )


def select_batch(
    batch,
    scores,
    proba,
    augmented_proba,
    embeddings,
    n_instances,
    *,
    worst_case=False,
    random_state=None,
    duplicates=None,
):
    """The k-means++ batch of one of ALLSH's ``batch`` options.

    Parameters
    ----------
    batch : {"kmeans", "copy_gradient", "scaled_badge"}
        :func:`score_weighted_kmeans_plusplus` on ``scores``,
        :func:`copy_gradient_kmeans_plusplus`, or
        :func:`scaled_badge_kmeans_plusplus` weighted by
        ``quantile_weights(scores)``. (``"top"``, the top-b of the scores, is
        the strategy's ordinary selection, not done here.)
    scores : ndarray of shape (n_samples,)
        ALLSH's scores (after :func:`combine_scores`).
    proba : ndarray of shape (n_samples, n_classes)
        Predictions on the pool.
    augmented_proba : ndarray of shape (n_copies, n_samples, n_classes)
        Predictions on the copies.
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        Embeddings of the pool.
    n_instances : int
    worst_case : bool, default=False
        For ``"copy_gradient"``: the worst copy instead of the mean.
    random_state : int, RandomState instance or None, default=None
    duplicates : ndarray of shape (n_samples,) or None, default=None

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64

    Examples
    --------
    >>> select_batch("kmeans", [1.0, 0.9, 0.5], None, None,
    ...              [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 2,
    ...              random_state=0).tolist()
    [0, 2]
    """
    check_one_of(batch, "batch", KMEANS_BATCHES, owner="select_batch")
    if batch == "kmeans":
        return score_weighted_kmeans_plusplus(
            scores,
            embeddings,
            n_instances,
            random_state=random_state,
            duplicates=duplicates,
        )
    if batch == "copy_gradient":
        return copy_gradient_kmeans_plusplus(
            proba,
            augmented_proba,
            embeddings,
            n_instances,
            worst_case=worst_case,
            random_state=random_state,
            duplicates=duplicates,
        )
    return scaled_badge_kmeans_plusplus(
        proba,
        embeddings,
        quantile_weights(scores),
        n_instances,
        random_state=random_state,
        duplicates=duplicates,
    )


# Low-variance estimators of the local sensitivity ---------------------------


def _checked(proba, augmented_proba):
    """``proba`` ``(n, C)`` and ``augmented_proba`` ``(K, n, C)``, validated."""
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


def _members(proba, augmented_proba):
    """The original's and the copies' predictions, shape ``(K + 1, n, C)``."""
    proba, augmented = _checked(proba, augmented_proba)
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
    proba, augmented = _checked(proba, augmented_proba)
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
    check_one_of(method, "method", SENSITIVITIES[1:], owner="sensitivity_scores")
    if method == "divergence_to_mean":
        return divergence_to_mean(proba, augmented_proba, divergence, alpha)
    if method == "mutual_information":
        return mutual_information(proba, augmented_proba)
    return prediction_variance(proba, augmented_proba)


# Stochastic batches (Kirsch et al., 2023) -----------------------------------


def stochastic_weights(scores, method="power", beta=1.0):
    """Sampling weights of a stochastic batch, normalised to sum to 1.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Non-negative scores, larger is more informative.
    method : {"power", "softrank"}, default="power"
        ``"power"``: proportional to ``score ** beta`` (a zero score gets
        weight 0 while positive scores remain; all zero is uniform).
        ``"softrank"``: proportional to ``rank ** -beta``, rank 1 the highest
        score, tied scores sharing their average rank: scale-free, the
        weights do not depend on how heavy the score's tail is.
    beta : float, default=1.0
        The exponent, ``>= 0``: 0 is uniform sampling, large values approach
        the top-b.

    Returns
    -------
    weights : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> stochastic_weights([3.0, 1.0, 0.0], "power").tolist()
    [0.75, 0.25, 0.0]
    >>> stochastic_weights([3.0, 1.0, 0.0], "softrank").round(4).tolist()
    [0.5455, 0.2727, 0.1818]
    """
    check_one_of(method, "method", STOCHASTIC_BATCHES, owner="stochastic_weights")
    check_real(
        beta,
        "beta",
        "a finite float >= 0",
        lambda b: 0 <= b < np.inf,
        owner="stochastic_weights",
    )
    scores = _check_scores(scores)
    if method == "power":
        with np.errstate(divide="ignore", over="ignore"):
            # logs keep a large beta from overflowing; log 0 = -inf -> weight 0
            logs = beta * np.log(scores) if beta > 0 else np.zeros_like(scores)
    else:
        logs = -beta * np.log(rankdata(-scores))
    if not np.isfinite(logs).any():
        return np.full(scores.shape, 1.0 / scores.shape[0])
    weights = np.exp(logs - logs[np.isfinite(logs)].max())
    return weights / weights.sum()


def stochastic_top(
    scores,
    n_instances,
    *,
    method="power",
    beta=1.0,
    random_state=None,
    duplicates=None,
):
    """Sample a batch without replacement in proportion to :func:`stochastic_weights`.

    The Gumbel-top-k trick: the ``n_instances`` largest
    ``log(weight_i) + G_i``, ``G_i`` independent standard Gumbel draws, are a
    sample without replacement with these weights (successive draws
    proportional to the weights of the items left). Items of weight 0 come
    last, in random order.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Non-negative scores.
    n_instances : int
        The batch size, at most ``n_samples``.
    method : {"power", "softrank"}, default="power"
    beta : float, default=1.0
        See :func:`stochastic_weights`.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw: the same seed gives the same batch.
    duplicates : ndarray of shape (n_samples,) or None, default=None
        Group ids of repeated texts: one item per group while other groups
        remain (as :func:`~allsh_sklearn.utils.select_top`).

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Distinct indices, in the order drawn.

    Examples
    --------
    >>> stochastic_top([5.0, 0.0, 1.0, 0.0], 2, random_state=0).tolist()
    [0, 2]
    """
    weights = stochastic_weights(scores, method, beta)
    n_instances = check_n_instances(n_instances, weights.shape[0])
    rng = check_random_state(random_state)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape[0])
    return select_top(keys, n_instances, random_state=rng, duplicates=duplicates)
