"""BADGE: batch active learning by diverse gradient embeddings (Ash et al., 2020).

The gradient embedding of a pool item is the gradient of the cross-entropy at
the predicted label ``y_hat`` with respect to the last layer's weights:
``g = q (x) h``, the outer product of ``q = onehot(y_hat) - p`` (``C``
values) and the penultimate embedding ``h`` (``d`` values). The batch is
the k-means++ seeding of these vectors, as in the reference implementation
(JordanAsh/badge): the first centre is the item of largest gradient norm,
then each next centre is drawn with probability proportional to its squared
distance to the nearest centre chosen so far.

The ``(n, C d)`` matrix of gradient embeddings is never built. Since
``<q_i (x) h_i, q_j (x) h_j> = (q_i . q_j)(h_i . h_j)``,

    ||g_i - g_j||^2 = ||q_i||^2 ||h_i||^2 + ||q_j||^2 ||h_j||^2
                      - 2 (q_i . q_j)(h_i . h_j),

so each new centre costs one pass over the ``(n, C)`` and ``(n, d)``
factors: time ``O(b n (C + d))`` for a batch of ``b``, memory
``O(n (C + d))``. Sparse embeddings (TF-IDF) stay sparse. Dense float32
embeddings stay float32 for the dot products ``h_i . h_j``, except for the
items close to the new centre, recomputed in float64 so that cancellation
does not turn their small distances into noise; everything else is float64.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..utils._constraints import RandomStateLike
from ..utils._validation import check_n_instances, check_probabilities
from ._base import BaseQueryStrategy
from ._embeddings import EMBEDDING_CONSTRAINTS, check_embeddings

__all__ = [
    "BADGE",
    "badge_gradient_norms",
    "badge_kmeans_plusplus",
    "factored_kmeans_plusplus",
]

# Squared distances below this fraction of ||g_i||^2 + ||g_j||^2 are rounding
# noise of the factorised formula (exact duplicates give exactly 0 when the
# gradient embeddings are materialised): they are set to 0.
_RTOL = 1e-10
# Float32 embeddings stay float32 for the dot products h_i . h_j (half the
# memory traffic), whose relative error (about 1e-7, at most d * 6e-8) would
# swamp the distances of close items after cancellation. The items whose
# float32 squared distance is below this fraction of ||g_i||^2 + ||g_j||^2 are
# recomputed in float64 (exact products of float32 values): a few items
# usually, the whole pool when every embedding is nearly the same.
_REFINE_FLOAT32 = 1e-3


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


def _checked_embeddings(embeddings, n_samples):
    """Embeddings checked against ``n_samples``; sparse ones as float64."""
    embeddings = check_embeddings(embeddings, n_samples, name="embeddings")
    if sp.issparse(embeddings):
        embeddings = embeddings.astype(np.float64, copy=False)
    return embeddings


def _factors(proba, embeddings):
    """Check the inputs and return ``q``, ``h`` and the squared gradient norms."""
    proba = check_probabilities(proba, name="proba")
    embeddings = _checked_embeddings(embeddings, proba.shape[0])
    q = -proba
    q[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] += 1.0
    return q, embeddings, _norms_squared(q, embeddings)


def _dots_with_row(matrix, row):
    """``matrix @ matrix[row]`` as a 1-d float array.

    A sparse matrix in canonical format (sorted indices, no duplicate
    entries, as vectorizers give) is multiplied by its row made dense: one
    pass over its nonzeros, two to three times faster than the sparse-sparse
    product ``matrix @ matrix[row].T``, with the same values (each dot
    product adds the same products in the same order, that of the stored
    entries, the other terms being exact zeros). With duplicate entries the
    dense row would sum them first, so the sparse-sparse product is kept.
    """
    if sp.issparse(matrix):
        if matrix.has_canonical_format:  # computed once, then cached
            return matrix @ matrix[row].toarray().ravel()
        return (matrix @ matrix[row].T).toarray().ravel()
    return matrix @ matrix[row]


def _squared_distances_to(centre, q, h, g_sq):
    """``||g_i - g_centre||^2`` for every ``i``, from the factors."""
    q_dots = q @ q[centre]
    scale = g_sq + g_sq[centre]
    d2 = scale - 2.0 * q_dots * _dots_with_row(h, centre)
    if h.dtype != np.float64:
        near = np.flatnonzero(d2 <= _REFINE_FLOAT32 * scale)
        if near.size:
            h_dots = h[near].astype(np.float64) @ h[centre].astype(np.float64)
            d2[near] = scale[near] - 2.0 * q_dots[near] * h_dots
    d2[d2 <= _RTOL * scale] = 0.0
    return d2


def _draw(weights, chosen, rng):
    """One index drawn with probability proportional to ``weights``.

    Uses one ``rng.random_sample()``. When every weight is zero (all the
    items left coincide with chosen centres), draws uniformly among the items
    not chosen yet with one ``rng.randint``.
    """
    cdf = np.cumsum(weights)
    total = cdf[-1]
    if total > 0.0 and np.isfinite(total):
        index = int(np.searchsorted(cdf, rng.random_sample() * total, side="right"))
        if index < weights.shape[0]:
            return index
        return int(np.flatnonzero(weights)[-1])  # pragma: no cover - rounding guard
    remaining = np.flatnonzero(~chosen)
    return int(remaining[rng.randint(remaining.shape[0])])


def _kmeans_plusplus(q, h, g_sq, n_instances, rng, duplicates=None):
    """k-means++ order; with ``duplicates``, one item per repeated text first."""
    n_samples = g_sq.shape[0]
    chosen = np.zeros(n_samples, dtype=bool)
    # Items that may not be drawn: the chosen ones and, with duplicates,
    # the other copies of their texts (until every distinct text is chosen).
    blocked = chosen if duplicates is None else np.zeros(n_samples, dtype=bool)
    order = np.empty(n_instances, dtype=np.int64)
    nearest = None  # squared distance of each item to its nearest centre
    for position in range(n_instances):
        if position == 0:
            if g_sq.max() > 0.0:
                index = int(np.argmax(g_sq))
            else:
                index = int(rng.randint(n_samples))
        else:
            if duplicates is not None and blocked.all():
                # Fewer distinct texts than the batch: copies may be drawn now
                # (all at distance 0 from a centre, so uniformly).
                blocked = chosen.copy()
            index = _draw(nearest, blocked, rng)
        order[position] = index
        chosen[index] = True
        if duplicates is not None:
            blocked |= duplicates == duplicates[index]
        if position + 1 < n_instances:
            d2 = _squared_distances_to(index, q, h, g_sq)
            nearest = d2 if nearest is None else np.minimum(nearest, d2, out=nearest)
            nearest[blocked] = 0.0
    return order


def factored_kmeans_plusplus(
    factors, embeddings, n_instances, *, random_state=None, duplicates=None
):
    """k-means++ seeding of the vectors ``g_i = q_i (x) h_i``, never built.

    BADGE's seeding for any class factor ``q_i`` (BADGE's is
    ``onehot(y_hat_i) - p_i``; ALLSH's diverse batches use others, see
    :mod:`allsh_sklearn.strategies._allsh_batches`): the first centre is the
    item of largest ``||g_i||``, each next one is drawn with probability
    proportional to its squared distance to the nearest centre, computed
    from the factors (see the module docstring).

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
        The short vector ``q_i`` of each item (a column of scores for
        embeddings weighted by a score).
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        The embeddings ``h_i``.
    n_instances : int
        The batch size, at most ``n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seeds the D^2 sampling.
    duplicates : ndarray of shape (n_samples,) or None, default=None
        Group ids of repeated texts: one item per group is chosen while
        other groups remain.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Distinct indices in the order k-means++ chose them.

    Examples
    --------
    >>> factored_kmeans_plusplus([[1.0], [0.9], [0.5]],
    ...                          [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 2,
    ...                          random_state=0).tolist()
    [0, 2]
    """
    q = np.asarray(factors, dtype=np.float64)
    if q.ndim != 2:
        raise ValueError(
            "The 'factors' parameter must be two-dimensional (n_samples, "
            f"n_factors). Got shape {q.shape} instead."
        )
    embeddings = _checked_embeddings(embeddings, q.shape[0])
    n_instances = check_n_instances(n_instances, q.shape[0])
    return _kmeans_plusplus(
        q,
        embeddings,
        _norms_squared(q, embeddings),
        n_instances,
        check_random_state(random_state),
        duplicates=duplicates,
    )


def badge_gradient_norms(proba, embeddings):
    """Norms of the gradient embeddings, ``||onehot(y_hat) - p|| * ||h||``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities.
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        Penultimate-layer embeddings ``h``.

    Returns
    -------
    norms : ndarray of shape (n_samples,), dtype=float64

    Examples
    --------
    >>> badge_gradient_norms([[0.5, 0.5], [1.0, 0.0]], [[3.0, 4.0], [1.0, 1.0]])
    array([3.53553391, 0.        ])
    """
    return np.sqrt(_factors(proba, embeddings)[2])


def badge_kmeans_plusplus(proba, embeddings, n_instances, *, random_state=None):
    """BADGE's batch: k-means++ seeding of the gradient embeddings.

    The gradient embeddings ``(onehot(y_hat) - p) (x) h`` are never
    materialised (see the module docstring).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predicted class probabilities on the pool.
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        Penultimate-layer embeddings ``h`` of the pool.
    n_instances : int
        The batch size, at most ``n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seeds the D^2 sampling.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Distinct indices in the order k-means++ chose them.

    Notes
    -----
    The first centre is the item of largest gradient norm (the first such
    item on ties). Each next centre takes one ``random_sample()`` from the
    generator. When every item left is at distance zero from the centres
    (for example one-hot predictions make every gradient zero, or the pool
    has fewer distinct items than ``n_instances``), the next centre is drawn
    uniformly among the items not chosen yet (one ``randint``); if every
    gradient is zero, so is the first centre. No NaN can arise.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> proba = rng.dirichlet(np.ones(3), size=100)
    >>> embeddings = rng.normal(size=(100, 8))
    >>> indices = badge_kmeans_plusplus(proba, embeddings, 5, random_state=0)
    >>> len(set(indices.tolist()))
    5
    >>> int(indices[0]) == int(np.argmax(badge_gradient_norms(proba, embeddings)))
    True
    """
    q, h, g_sq = _factors(proba, embeddings)
    n_instances = check_n_instances(n_instances, g_sq.shape[0])
    return _kmeans_plusplus(q, h, g_sq, n_instances, check_random_state(random_state))


class BADGE(BaseQueryStrategy):
    """Batch active learning by diverse gradient embeddings.

    Selects the k-means++ seeding of the pool's gradient embeddings (see
    :func:`badge_kmeans_plusplus`): uncertain items (large gradients) that
    are also diverse (far apart in gradient space).

    Parameters
    ----------
    embedding : callable, str or None, default=None
        Where the embeddings ``h`` come from: a callable ``embedding(X)``,
        the name of a step of the classifier's pipeline (for example
        ``"tfidfvectorizer"``; sparse output is used as it is), or None for
        the classifier's ``predict_proba_and_embed``/``embed``. See
        :func:`~allsh_sklearn.strategies._embeddings.get_proba_and_embeddings`.
    embedding_kind : str or None, default="penultimate"
        Passed as ``kind=`` to ``predict_proba_and_embed``/``embed`` when
        they accept it: BADGE differentiates the last layer, whose input is
        the penultimate embedding.
    random_state : int, RandomState instance or None, default=None
        Seeds the D^2 sampling when the call does not pass its own. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.

    Attributes
    ----------
    last_scores_ : ndarray of shape (n_pool,)
        The gradient-embedding norm of every pool item. The selection is
        not the top of these scores but the k-means++ order; the scores
        returned with the indices are the norms of the selected items.
    last_query_time_ : dict
        Seconds spent in ``"inference"`` (the model pass on the pool) and
        ``"selection"`` (k-means++).

    References
    ----------
    Ash, Zhang, Krishnamurthy, Langford and Agarwal. Deep Batch Active
    Learning by Diverse, Uncertain Gradient Lower Bounds. ICLR 2020.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.strategies._badge import BADGE
    >>> texts = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(texts, [1, 0, 1, 0])
    >>> pool = ["a good plot", "bad acting", "a film", "good good film"]
    >>> strategy = BADGE(embedding="tfidfvectorizer", random_state=0)
    >>> indices, scores = strategy(clf, pool, n_instances=2)
    >>> indices.shape, scores.shape
    ((2,), (2,))
    """

    _parameter_constraints = {
        **EMBEDDING_CONSTRAINTS,
        "random_state": [RandomStateLike()],
    }

    def __init__(self, embedding=None, embedding_kind="penultimate", random_state=None):
        self.embedding = embedding
        self.embedding_kind = embedding_kind
        self.random_state = random_state

    def _pool_proba(self, context):
        return context.proba_and_embeddings(self.embedding, self.embedding_kind)[0]

    def _select(self, context):
        proba, embeddings = context.proba_and_embeddings(
            self.embedding, self.embedding_kind
        )
        with context.timer.phase("selection"):
            q, h, g_sq = _factors(proba, embeddings)
            indices = _kmeans_plusplus(
                q,
                h,
                g_sq,
                context.n_instances,
                check_random_state(context.random_state),
                duplicates=context.duplicates,
            )
        return indices, np.sqrt(g_sq)
