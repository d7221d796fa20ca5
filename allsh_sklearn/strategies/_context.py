"""What a strategy needs for one call: the query context.

:meth:`BaseQueryStrategy.__call__ <allsh_sklearn.strategies.BaseQueryStrategy>`
builds a :class:`QueryContext` from its arguments and passes it to the
strategy's hooks (``_score(context)``, ``_select(context)``). Everything a
call needs travels in it, never through ``self``: the classifier, the pool,
the batch size, the seed of this call, the timer, the labeled set and the
groups of repeated texts.

Model outputs are computed on first request and kept for the call, so that
a strategy and the wrappers around it (:class:`ClassBalanced`) share one
model pass: the pool's probabilities (:meth:`QueryContext.proba`), its
probabilities and embeddings (:meth:`QueryContext.proba_and_embeddings`),
and those of the labeled set. A strategy that needs labels, embeddings and
a score at once (a diversity-aware ALLSH, say) reads them all from the
context.
"""

import numpy as np

from ..utils._selection import duplicate_groups, text_digests
from ..utils._timing import QueryTimer
from ..utils._validation import (
    check_labels,
    check_texts,
    predict_proba_checked,
    take,
)
from ._embeddings import get_proba_and_embeddings

__all__ = ["QueryContext"]


def _embedding_key(embedding, kind):
    # A callable is keyed by identity, a step name or None by value.
    return (id(embedding) if callable(embedding) else embedding, kind)


class QueryContext:
    """The inputs of one query and the model outputs computed for it.

    Strategies receive it as the argument of their hooks; it is built by
    ``BaseQueryStrategy.__call__`` (build one directly only to call a hook
    in a test or a wrapper).

    Parameters
    ----------
    classifier : object
        The fitted classifier (or active learner) the call was given.
    X_pool : sequence of str or of (str, str)
        The pool, already checked.
    n_instances : int
        How many items to select, already checked.
    random_state : int, RandomState instance or None, default=None
        The seed of this call: the call's ``random_state``, else the
        strategy's own. Pass it to every random choice (``select_top``,
        sampling) so that the call is reproducible.
    X_labeled : sequence of str or of (str, str) or None, default=None
        The labeled texts, when the call gave them; otherwise they are read
        from the classifier (``X_training_``, or modAL's ``X_training``).
    y_labeled : array-like or None, default=None
        Their labels, likewise (``y_training_`` or ``y_training``).
    deduplicate : bool, default=True
        Whether a text repeated in the pool may be selected once only (see
        :attr:`duplicates`).
    timer : QueryTimer or None, default=None
        Where the phases of the call are timed; None makes a new one.

    Attributes
    ----------
    classifier, X_pool, n_instances, random_state, deduplicate : as above
    timer : QueryTimer
        Time model passes under ``"inference"`` and scoring and selection
        under ``"selection"`` (``with context.timer.phase(...)``).

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> texts = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(texts, [1, 0, 1, 0])
    >>> context = QueryContext(clf, ["a good plot", "a good plot", "bad"], 2)
    >>> context.proba().shape
    (3, 2)
    >>> context.duplicates.tolist()
    [0, 0, 1]
    """

    def __init__(
        self,
        classifier,
        X_pool,
        n_instances,
        *,
        random_state=None,
        X_labeled=None,
        y_labeled=None,
        deduplicate=True,
        timer=None,
    ):
        self.classifier = classifier
        self.X_pool = X_pool
        self.n_instances = n_instances
        self.random_state = random_state
        self.deduplicate = deduplicate
        self.timer = QueryTimer() if timer is None else timer
        self._X_labeled = X_labeled
        self._y_labeled = y_labeled
        self._memo = {}

    # The pool -------------------------------------------------------------

    def _remember(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def digests(self):
        """Stable 64-bit digests of the pool's texts (see ``text_digests``)."""
        return self._remember("digests", lambda: text_digests(self.X_pool))

    @property
    def duplicates(self):
        """Group ids of repeated pool texts, or None.

        None when every text is distinct or ``deduplicate`` is False; a
        selector given it takes at most one item per group while other
        groups remain.
        """
        if not self.deduplicate:
            return None

        def compute():
            with self.timer.phase("selection"):
                return duplicate_groups(digests=self.digests())

        return self._remember("duplicates", compute)

    def predict_proba(self, X):
        """Checked, timed ``predict_proba`` of any texts (not kept)."""
        with self.timer.phase("inference"):
            return predict_proba_checked(self.classifier, X)

    def proba(self):
        """The classifier's probabilities on the pool, computed once per call."""
        return self._remember("proba", lambda: self.predict_proba(self.X_pool))

    def proba_and_embeddings(self, embedding=None, kind=None):
        """Probabilities and embeddings of the pool, computed once per source.

        Parameters
        ----------
        embedding : callable, str or None, default=None
            Where embeddings come from (see
            :func:`~allsh_sklearn.strategies._embeddings.get_proba_and_embeddings`).
        kind : str or None, default=None
            Passed as ``kind=`` to ``predict_proba_and_embed``/``embed``.

        Returns
        -------
        proba : ndarray of shape (n_pool, n_classes)
        embeddings : ndarray or sparse matrix of shape (n_pool, n_features)
        """
        return self._embedded("pool", lambda: self.X_pool, embedding, kind)

    def _embedded(self, which, texts, embedding, kind):
        """``get_proba_and_embeddings`` of ``texts()``, remembered per source."""
        return self._remember(
            (which, _embedding_key(embedding, kind)),
            lambda: get_proba_and_embeddings(
                self.classifier, texts(), embedding, kind=kind, timer=self.timer
            ),
        )

    # The labeled set ------------------------------------------------------

    def _from_classifier(self, names):
        for name in names:
            value = getattr(self.classifier, name, None)
            if value is not None:
                return value, f"{type(self.classifier).__name__}.{name}"
        return None, None

    def labeled_texts(self, owner="This strategy"):
        """The labeled texts: the call's ``X_labeled``, else the classifier's.

        Parameters
        ----------
        owner : str, default="This strategy"
            Who needs them, named in the error message.

        Returns
        -------
        X_labeled : sequence of str or of (str, str)

        Raises
        ------
        ValueError
            If the call gave none and the classifier keeps none.
        """
        if self._X_labeled is not None:
            return check_texts(self._X_labeled, name="X_labeled")
        value, source = self._from_classifier(("X_training_", "X_training"))
        if value is None:
            raise ValueError(
                f"{owner} needs the labeled examples. Pass them as X_labeled= in "
                "the call, or query through an ActiveLearner (which keeps them "
                f"in 'X_training_'). Got a {type(self.classifier).__name__} "
                "without 'X_training_' and X_labeled=None."
            )
        return check_texts(value, name=source)

    def labeled_labels(self, owner="This strategy"):
        """The labels of :meth:`labeled_texts`, from the call or the classifier.

        Parameters
        ----------
        owner : see :meth:`labeled_texts`

        Returns
        -------
        y_labeled : ndarray of shape (n_labeled,)

        Raises
        ------
        ValueError
            If they are not known (the call gave ``X_labeled`` without
            ``y_labeled``, or the classifier keeps no labels), or their
            number differs from that of the labeled texts.
        """
        X_labeled = self.labeled_texts(owner)
        if self._y_labeled is not None:
            return check_labels(self._y_labeled, len(X_labeled), name="y_labeled")
        value = None
        if self._X_labeled is None:
            value, _ = self._from_classifier(("y_training_", "y_training"))
        if value is None:
            raise ValueError(
                f"{owner} needs the labels of the labeled examples. Pass them as "
                "y_labeled= in the call (with X_labeled=), or query through an "
                "ActiveLearner (which keeps them in 'y_training_')."
            )
        return check_labels(value, len(X_labeled), name="y_labeled")

    def labeled_proba_and_embeddings(self, embedding=None, kind=None, owner=None):
        """Probabilities and embeddings of the labeled texts, computed once.

        Parameters
        ----------
        embedding, kind : see :meth:`proba_and_embeddings`
        owner : str or None, default=None
            Who needs them, named in the error message when they are missing.

        Returns
        -------
        proba : ndarray of shape (n_labeled, n_classes)
        embeddings : ndarray or sparse matrix of shape (n_labeled, n_features)
        """
        return self._embedded(
            "labeled",
            lambda: self.labeled_texts(owner or "This strategy"),
            embedding,
            kind,
        )

    # Parts of the pool ----------------------------------------------------

    def subset(self, indices, n_instances, random_state=None):
        """A context over ``X_pool[indices]`` sharing this call's model outputs.

        What the subset computes is taken from the whole pool's outputs
        (computed once) and sliced, so selecting in several parts of the pool
        (one per predicted class, say) costs one model pass.

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X_pool``.
        n_instances : int
            How many items to select in the part.
        random_state : int, RandomState instance or None, default=None
            The seed of the selection in the part.

        Returns
        -------
        context : QueryContext
        """
        indices = np.asarray(indices, dtype=np.int64)
        return _SubsetContext(self, indices, n_instances, random_state)


class _SubsetContext(QueryContext):
    """A part of a parent context's pool; model outputs come from the parent."""

    def __init__(self, parent, indices, n_instances, random_state):
        super().__init__(
            parent.classifier,
            take(parent.X_pool, indices),
            n_instances,
            random_state=random_state,
            X_labeled=parent._X_labeled,
            y_labeled=parent._y_labeled,
            deduplicate=parent.deduplicate,
            timer=parent.timer,
        )
        self._parent = parent
        self._indices = indices

    def digests(self):
        return self._parent.digests()[self._indices]

    @property
    def duplicates(self):
        groups = self._parent.duplicates
        return None if groups is None else groups[self._indices]

    def proba(self):
        return self._parent.proba()[self._indices]

    def proba_and_embeddings(self, embedding=None, kind=None):
        proba, embeddings = self._parent.proba_and_embeddings(embedding, kind)
        return proba[self._indices], embeddings[self._indices]

    def labeled_texts(self, owner="This strategy"):
        return self._parent.labeled_texts(owner)

    def labeled_labels(self, owner="This strategy"):
        return self._parent.labeled_labels(owner)

    def labeled_proba_and_embeddings(self, embedding=None, kind=None, owner=None):
        return self._parent.labeled_proba_and_embeddings(embedding, kind, owner)
