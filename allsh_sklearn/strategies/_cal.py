"""CAL: contrastive active learning (Margatina et al., 2021).

A pool item is informative when its prediction disagrees with those of its
nearest *labeled* neighbours in the embedding space: its score is the mean,
over its ``k`` nearest labeled examples, of ``KL(p_neighbour || p_candidate)``.
This follows the reference implementation (mourga/contrastive-active-learning,
``acquisition/cal.py``): L2-normalised embeddings, neighbours searched among
the labeled examples only (a candidate is never its own neighbour), ``k = 10``,
the model's predicted probabilities (temperature 1) on both sides, top-b by
score.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from ..divergences import EPS
from ..utils._constraints import Interval, RandomStateLike, validate_parameter
from ..utils._validation import check_probabilities
from ._base import BaseQueryStrategy
from ._embeddings import EMBEDDING_CONSTRAINTS, check_embeddings

__all__ = ["CAL", "cal_scores"]


def _clip_rows(proba):
    # The same convention as allsh_sklearn.divergences.kl: clip to EPS, renormalise.
    proba = np.clip(np.asarray(proba, dtype=np.float64), EPS, None)
    return proba / proba.sum(axis=1, keepdims=True)


def _check_same_dimension(embeddings_labeled, embeddings_pool, names, advice):
    """Raise if the labeled and the pool embeddings differ in dimension.

    ``names`` are how the message names the two sets, ``advice`` what to do.
    """
    if embeddings_pool.shape[1] != embeddings_labeled.shape[1]:
        raise ValueError(
            "The embeddings of the labeled examples and of the pool must have "
            f"the same dimension. Got {embeddings_labeled.shape[1]} for "
            f"{names[0]} and {embeddings_pool.shape[1]} for {names[1]} "
            f"instead: {advice}."
        )


def cal_scores(
    proba_pool, embeddings_pool, proba_labeled, embeddings_labeled, n_neighbors=10
):
    """Contrastive scores: mean KL from the labeled neighbours to each candidate.

    For each pool item ``x`` with prediction ``p(x)``, its ``k`` nearest
    labeled examples ``N(x)`` (Euclidean distance between L2-normalised
    embeddings, i.e. cosine similarity) give the score
    ``mean_{l in N(x)} KL(p(l) || p(x))``.

    The mean is computed as ``mean_l sum_c p_lc log p_lc - sum_c pbar_c log
    p_c(x)`` with ``pbar`` the neighbours' mean prediction, so that time and
    memory are ``O(n k C)`` and ``O(n (k + C))``. Probabilities are clipped
    to ``EPS`` and renormalised, as in :func:`allsh_sklearn.divergences.kl`.

    Parameters
    ----------
    proba_pool : array-like of shape (n_pool, n_classes)
        Predictions on the pool.
    embeddings_pool : array-like or sparse matrix of shape (n_pool, n_features)
        Embeddings of the pool.
    proba_labeled : array-like of shape (n_labeled, n_classes)
        Predictions on the labeled examples (the model's, not their labels).
    embeddings_labeled : array-like or sparse matrix of shape (n_labeled, n_features)
        Embeddings of the labeled examples.
    n_neighbors : int, default=10
        ``k``; all labeled examples are used when there are fewer than ``k``.

    Returns
    -------
    scores : ndarray of shape (n_pool,), dtype=float64
        Non-negative; larger is more informative.

    Notes
    -----
    An embedding of norm zero is left as the zero vector by the
    normalisation: it is then equally far (distance 1) from every unit
    vector, and its neighbours are found without NaN.

    Examples
    --------
    >>> import numpy as np
    >>> labeled_emb = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> labeled_proba = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> pool_emb = np.array([[1.0, 0.1], [0.1, 1.0]])
    >>> pool_proba = np.array([[0.9, 0.1], [0.9, 0.1]])
    >>> cal_scores(pool_proba, pool_emb, labeled_proba, labeled_emb,
    ...            n_neighbors=1).round(3).tolist()
    [0.0, 1.758]
    """
    validate_parameter(
        n_neighbors, "n_neighbors", [Interval(numbers.Integral, 1, None)]
    )
    proba_pool = check_probabilities(proba_pool, name="proba_pool")
    proba_labeled = check_probabilities(proba_labeled, name="proba_labeled")
    embeddings_pool = check_embeddings(
        embeddings_pool, len(proba_pool), name="embeddings_pool"
    )
    embeddings_labeled = check_embeddings(
        embeddings_labeled, len(proba_labeled), name="embeddings_labeled"
    )
    _check_same_dimension(
        embeddings_labeled,
        embeddings_pool,
        ("the labeled examples", "the pool"),
        "embed both with the same model",
    )
    proba_pool = _clip_rows(proba_pool)
    proba_labeled = _clip_rows(proba_labeled)
    if proba_pool.shape[1] != proba_labeled.shape[1]:
        raise ValueError(
            "The predictions on the labeled examples and on the pool must have "
            f"the same number of classes. Got {proba_labeled.shape[1]} and "
            f"{proba_pool.shape[1]} instead."
        )
    n_pool, n_labeled = proba_pool.shape[0], proba_labeled.shape[0]
    k = min(int(n_neighbors), n_labeled)

    search = NearestNeighbors(n_neighbors=k).fit(normalize(embeddings_labeled))
    neighbours = search.kneighbors(normalize(embeddings_pool), return_distance=False)

    # Row i of `average` holds 1/k at the columns of the k neighbours of item i.
    average = sp.csr_matrix(
        (
            np.full(n_pool * k, 1.0 / k),
            neighbours.ravel(),
            np.arange(0, n_pool * k + 1, k),
        ),
        shape=(n_pool, n_labeled),
    )
    neg_entropy = (proba_labeled * np.log(proba_labeled)).sum(axis=1)
    mean_neg_entropy = average @ neg_entropy
    mean_neighbour_proba = average @ proba_labeled
    cross = (mean_neighbour_proba * np.log(proba_pool)).sum(axis=1)
    return np.maximum(mean_neg_entropy - cross, 0.0)


class CAL(BaseQueryStrategy):
    """Contrastive active learning: disagreement with the labeled neighbours.

    Scores each pool item by the mean ``KL(p_neighbour || p_candidate)`` over
    its ``n_neighbors`` nearest labeled examples in the embedding space (see
    :func:`cal_scores`) and selects the top ``n_instances``.

    The labeled examples come from the ``X_labeled`` argument of the call
    (see :meth:`BaseQueryStrategy.__call__`), else from the classifier when
    it is an active learner (``X_training_``, or modAL's ``X_training``).

    Parameters
    ----------
    n_neighbors : int, default=10
        ``k``, the number of labeled neighbours. With fewer labeled examples,
        all are used and a ``UserWarning`` is issued (once per strategy).
    embedding : callable, str or None, default=None
        Where embeddings come from: a callable ``embedding(X)``, the name of
        a step of the classifier's pipeline (for example
        ``"tfidfvectorizer"``), or None for the classifier's
        ``predict_proba_and_embed``/``embed``. See
        :func:`~allsh_sklearn.strategies._embeddings.get_proba_and_embeddings`.
    embedding_kind : str or None, default="pooler"
        Passed as ``kind=`` to ``predict_proba_and_embed``/``embed`` when
        they accept it. The reference uses BERT's pooler output.
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking when the call does not pass its own. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.

    Attributes
    ----------
    last_scores_ : ndarray of shape (n_pool,)
        The scores of the whole pool at the last query.
    last_query_time_ : dict
        Seconds spent in ``"inference"`` (model passes on the labeled set and
        the pool) and ``"selection"`` (neighbour search and scoring).

    Notes
    -----
    The score is local only while every class has at least ``n_neighbors``
    labeled examples; the reference's experiments start from 1% of the pool.
    With fewer, two things happen, in the reference implementation too:

    - with ``n_neighbors`` at least the number of labeled examples, every
      candidate's neighbours are the whole labeled set and the score no
      longer depends on the embedding;
    - an item predicted in a class with fewer than ``n_neighbors`` labeled
      examples always has labeled neighbours of other classes, whose fitted
      (near one-hot) predictions disagree with it, so its score grows with
      the model's confidence in it.

    CAL then selects the most confidently predicted items of the
    least-labeled class. On AG News from 10 random labels with
    ``n_neighbors=10`` and a fine-tuned MiniLM, its first two batches were
    mostly one class and mostly items the model already predicted right (see
    ``results/benchmarks/cal_collapse.md``).

    References
    ----------
    Margatina, Vernikos, Barrault and Aletras. Active Learning by Acquiring
    Contrastive Examples. EMNLP 2021.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.strategies._cal import CAL
    >>> X_labeled = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(X_labeled, [1, 0, 1, 0])
    >>> pool = ["a good plot", "bad acting", "a film", "good good film"]
    >>> strategy = CAL(n_neighbors=2, embedding="tfidfvectorizer")
    >>> indices, scores = strategy(clf, pool, n_instances=2, X_labeled=X_labeled)
    >>> indices.shape, scores.shape
    ((2,), (2,))
    """

    #: Short names of parameters in experiment specs (``"cal:k=5"``, see
    #: :func:`allsh_sklearn.presets.spec_aliases`).
    _spec_aliases = {"k": "n_neighbors"}

    _parameter_constraints = {
        "n_neighbors": [Interval(numbers.Integral, 1, None)],
        **EMBEDDING_CONSTRAINTS,
        "random_state": [RandomStateLike()],
    }

    def __init__(
        self, n_neighbors=10, embedding=None, embedding_kind="pooler", random_state=None
    ):
        self.n_neighbors = n_neighbors
        self.embedding = embedding
        self.embedding_kind = embedding_kind
        self.random_state = random_state

    def _pool_proba(self, context):
        return context.proba_and_embeddings(self.embedding, self.embedding_kind)[0]

    def _score(self, context):
        X_labeled = context.labeled_texts(owner="CAL")
        n_labeled = len(X_labeled)
        if n_labeled < self.n_neighbors and not getattr(self, "_warned_few", False):
            warnings.warn(
                f"CAL has n_neighbors={self.n_neighbors} but only {n_labeled} "
                f"labeled examples: using all {n_labeled} as neighbours. This "
                "warning is shown once per strategy.",
                UserWarning,
                stacklevel=4,
            )
            self._warned_few = True
        proba_labeled, embeddings_labeled = context.labeled_proba_and_embeddings(
            self.embedding, self.embedding_kind
        )
        proba_pool, embeddings_pool = context.proba_and_embeddings(
            self.embedding, self.embedding_kind
        )
        _check_same_dimension(
            embeddings_labeled,
            embeddings_pool,
            ("X_labeled", "X_pool"),
            "the embedding must not depend on the data it is given",
        )
        with context.timer.phase("selection"):
            return cal_scores(
                proba_pool,
                embeddings_pool,
                proba_labeled,
                embeddings_labeled,
                n_neighbors=self.n_neighbors,
            )
