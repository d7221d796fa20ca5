"""How ALLSH takes its batch from the scores (not in the paper).

Plain ALLSH takes the global top-b of its scores (Algorithm 1 of the
paper); the scores themselves are :mod:`~allsh_sklearn.strategies._allsh_scores`.
These functions are the other batches :class:`~allsh_sklearn.strategies.ALLSH`
can select (its ``batch`` parameter), pure numpy on the scores, the
predictions, the copies' predictions and the embeddings.

Diverse batches (k-means++ seeding with BADGE's factorised distances,
:func:`~allsh_sklearn.strategies._badge.factored_kmeans_plusplus`): every
item is a vector ``g_i = q_i (x) h_i``, ``h_i`` its embedding and ``q_i`` a
short vector; the first centre is the item of largest ``||g_i||``, each next
one is drawn with probability proportional to its squared distance to the
nearest centre.

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

Each option is also a small object, a :class:`BatchSelector`
(:class:`KMeansBatch`, :class:`StochasticBatch`), which ``ALLSH(batch=...)``
takes as well as the option's name (:func:`batch_selector` turns a name
into its object); a selector of one's own is a subclass with ``select``.

Stochastic batches (:func:`stochastic_weights`, :func:`stochastic_top`,
``ALLSH(batch="power" | "softrank")``, Kirsch et al., 2023): instead of the
top-b, the batch is sampled without replacement with probability
proportional to ``score ** beta`` (power) or ``rank ** -beta`` (softrank,
rank 1 the highest score), so that the noise of the score spreads the batch
instead of deciding it.
"""

import numbers

import numpy as np
from scipy.stats import rankdata
from sklearn.utils import check_random_state

from ..utils._constraints import (
    Interval,
    Options,
    validate_parameter,
    validate_params,
)
from ..utils._selection import select_top
from ..utils._validation import check_n_instances, check_probabilities
from ._allsh_scores import check_copy_predictions, check_scores
from ._badge import factored_kmeans_plusplus

__all__ = [
    "BATCHES",
    "KMEANS_BATCHES",
    "STOCHASTIC_BATCHES",
    "BatchSelector",
    "KMeansBatch",
    "StochasticBatch",
    "batch_selector",
    "copy_gradient_factors",
    "copy_gradient_kmeans_plusplus",
    "quantile_weights",
    "scaled_badge_kmeans_plusplus",
    "score_weighted_kmeans_plusplus",
    "select_batch",
    "stochastic_top",
    "stochastic_weights",
]

#: The k-means++ seedings of :func:`select_batch` (see the module docstring).
KMEANS_BATCHES = ("kmeans", "copy_gradient", "scaled_badge")

#: The stochastic batches of :func:`stochastic_top` (Kirsch et al., 2023).
STOCHASTIC_BATCHES = ("power", "softrank")

#: The values of ``ALLSH(batch=...)``: the top-b of the score (the paper), a
#: k-means++ seeding, or a batch sampled in proportion to a power of the
#: score or of its rank.
BATCHES = ("top", *KMEANS_BATCHES, *STOCHASTIC_BATCHES)

#: What the exponent ``beta`` of a stochastic batch may be.
BETA_CONSTRAINT = Interval(numbers.Real, 0, np.inf, description="a finite float >= 0")


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
    scores = check_scores(scores)
    return factored_kmeans_plusplus(
        scores[:, None],
        embeddings,
        n_instances,
        random_state=random_state,
        duplicates=duplicates,
    )


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
    return factored_kmeans_plusplus(
        q,
        embeddings,
        n_instances,
        random_state=random_state,
        duplicates=duplicates,
    )


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
    proba, augmented = check_copy_predictions(proba, augmented_proba)
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
    weights = check_scores(weights, proba.shape[0], name="weights")
    q = -proba
    q[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] += 1.0
    return factored_kmeans_plusplus(
        q * weights[:, None],
        embeddings,
        n_instances,
        random_state=random_state,
        duplicates=duplicates,
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
        ALLSH's scores (after
        :func:`~allsh_sklearn.strategies._allsh_scores.combine_scores`).
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
    validate_parameter(batch, "batch", [Options(KMEANS_BATCHES)], owner="select_batch")
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
    owner = "stochastic_weights"
    validate_parameter(method, "method", [Options(STOCHASTIC_BATCHES)], owner=owner)
    validate_parameter(beta, "beta", [BETA_CONSTRAINT], owner=owner)
    scores = check_scores(scores)
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


# The options as objects -------------------------------------------------------


class BatchSelector:
    """How ALLSH takes a batch from its scores: the ``batch`` parameter as an object.

    Subclasses implement :meth:`select`; ``uses_embeddings`` says whether it
    needs the pool's embeddings (ALLSH then gets them with its
    ``embedding`` and ``embedding_kind`` parameters, in the pass that gives
    the predictions).
    """

    #: Whether :meth:`select` needs the pool's embeddings.
    uses_embeddings = False

    def select(
        self,
        scores,
        n_instances,
        *,
        proba=None,
        augmented_proba=None,
        embeddings=None,
        worst_case=False,
        random_state=None,
        duplicates=None,
    ):
        """The batch: ``n_instances`` distinct positions, in the order chosen.

        Parameters
        ----------
        scores : ndarray of shape (n_samples,)
            ALLSH's scores of the pool.
        n_instances : int
            The batch size, at most ``n_samples``.
        proba : ndarray of shape (n_samples, n_classes) or None, default=None
            The predictions on the pool.
        augmented_proba : ndarray of shape (n_copies, n_samples, n_classes) \
                or None, default=None
            The predictions on the copies.
        embeddings : array-like or sparse matrix or None, default=None
            The pool's embeddings, when ``uses_embeddings``.
        worst_case : bool, default=False
            ALLSH's ``worst_case``.
        random_state : int, RandomState instance or None, default=None
            The call's seed.
        duplicates : ndarray of shape (n_samples,) or None, default=None
            Group ids of repeated texts: one item per group while other
            groups remain.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=int64
        """
        raise NotImplementedError

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other):
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self):
        return hash((type(self), tuple(sorted(vars(self).items()))))


class KMeansBatch(BatchSelector):
    """A diverse batch: one of the k-means++ seedings of :func:`select_batch`.

    Parameters
    ----------
    kind : {"kmeans", "copy_gradient", "scaled_badge"}, default="kmeans"
        The seeding (see the module docstring).

    Examples
    --------
    >>> KMeansBatch("kmeans").select([1.0, 0.9, 0.5], 2,
    ...     embeddings=[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], random_state=0).tolist()
    [0, 2]
    """

    uses_embeddings = True

    _parameter_constraints = {"kind": [Options(KMEANS_BATCHES)]}

    def __init__(self, kind="kmeans"):
        self.kind = kind
        validate_params(self)

    def select(
        self,
        scores,
        n_instances,
        *,
        proba=None,
        augmented_proba=None,
        embeddings=None,
        worst_case=False,
        random_state=None,
        duplicates=None,
    ):
        return select_batch(
            self.kind,
            scores,
            proba,
            augmented_proba,
            embeddings,
            n_instances,
            worst_case=worst_case,
            random_state=random_state,
            duplicates=duplicates,
        )


class StochasticBatch(BatchSelector):
    """A batch sampled in proportion to a power of the score or of its rank.

    Parameters
    ----------
    method : {"power", "softrank"}, default="power"
        See :func:`stochastic_weights`.
    beta : float, default=1.0
        The exponent, ``>= 0``.

    Examples
    --------
    >>> StochasticBatch("power", beta=1.0).select([5.0, 0.0, 1.0, 0.0], 2,
    ...                                           random_state=0).tolist()
    [0, 2]
    """

    _parameter_constraints = {
        "method": [Options(STOCHASTIC_BATCHES)],
        "beta": [BETA_CONSTRAINT],
    }

    def __init__(self, method="power", beta=1.0):
        self.method = method
        self.beta = beta
        validate_params(self)

    def select(
        self,
        scores,
        n_instances,
        *,
        proba=None,
        augmented_proba=None,
        embeddings=None,
        worst_case=False,
        random_state=None,
        duplicates=None,
    ):
        return stochastic_top(
            scores,
            n_instances,
            method=self.method,
            beta=self.beta,
            random_state=random_state,
            duplicates=duplicates,
        )


def batch_selector(batch, beta=1.0):
    """The :class:`BatchSelector` of a ``batch`` option; None for ``"top"``.

    Parameters
    ----------
    batch : str or BatchSelector
        A name of :data:`BATCHES`, or a selector (returned as it is).
    beta : float, default=1.0
        The exponent of a stochastic batch given by name.

    Returns
    -------
    selector : BatchSelector or None
        None for ``"top"``, the top-b of the scores (the strategy's own
        selection, which ``balance`` can share out between classes).

    Examples
    --------
    >>> batch_selector("softrank", beta=2.0)
    StochasticBatch(method='softrank', beta=2.0)
    >>> batch_selector("top") is None
    True
    """
    if isinstance(batch, BatchSelector):
        return batch
    validate_parameter(batch, "batch", [Options(BATCHES)], owner="batch_selector")
    if batch in KMEANS_BATCHES:
        return KMeansBatch(batch)
    if batch in STOCHASTIC_BATCHES:
        return StochasticBatch(batch, beta)
    return None
