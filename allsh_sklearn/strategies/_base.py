"""The query-strategy contract shared by every strategy.

A strategy is a callable ``strategy(classifier, X_pool, n_instances=1, *,
random_state=None) -> (indices, scores)``: ``indices`` are the positions in
``X_pool`` to label, most informative first, and ``scores`` their
informativeness (modAL's ``ActiveLearner.query`` unpacks this pair).

Strategies are small scikit-learn estimators without ``fit``: their
parameters are reachable through ``get_params``/``set_params`` (so
``GridSearchCV`` can tune ``query_strategy__divergence``) and ``clone``
copies them. After a call, ``last_scores_`` holds the scores of the whole
pool and ``last_query_time_`` the seconds spent in model passes
(``"inference"``) and in scoring and selection (``"selection"``).

Rules every strategy follows:

- seeds: the ``random_state`` of the call wins; when it is None, the
  strategy's own ``random_state`` parameter is used. (Inside an
  :class:`~allsh_sklearn.ActiveLearner`, a strategy's own ``random_state``
  seeds the learner's sequence of per-query seeds.)
- repeated texts: a text that occurs several times in the pool is selected
  at most once per batch while other texts remain (``deduplicate=False``
  selects positions regardless of their texts);
- state: whatever a strategy learns from a pool (ALLSH's augmenter) is
  rebuilt when the parameters it was built from change (``set_params``) or
  when a pool holds texts the state was not built on.

Drivers (a labeling session's engine, the experiment runner) talk to a
strategy through three hooks, no-ops here, so that a new strategy that
learns from the pool (augments it, say) needs no change in any driver:

- ``prepare(X_pool, ...)``: fit once what the strategy learns from the whole
  pool (ALLSH's augmenter), with what the driver kept of an earlier fit;
- ``texts_to_encode(X_pool)``: texts besides the pool whose embeddings a
  query will need (ALLSH's augmented copies), for a frozen encoder to
  compute ahead;
- ``explain(classifier, texts, proba)``: what the labeling page shows about
  why each text was picked (ALLSH's copies and their divergences).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone

from ..utils._constraints import (
    Boolean,
    ParameterConstraintsMixin,
    RandomStateLike,
    validate_parameter,
)
from ..utils._selection import select_top
from ..utils._validation import check_labels, check_n_instances, check_texts
from ._context import QueryContext


def param_token(value):
    """A comparable summary of a parameter value, to notice changes.

    Plain values compare by value, estimators by identity and parameters
    (so ``set_params`` on a nested estimator is noticed), anything else
    (caches, callables, RandomState instances) by identity.

    Parameters
    ----------
    value : object
        A parameter value.

    Returns
    -------
    token : tuple
        Equal tokens mean an unchanged value.
    """
    if value is None or isinstance(value, str | bytes | numbers.Number | np.generic):
        return ("value", type(value).__name__, repr(value))
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        return (
            "estimator",
            id(value),
            type(value).__qualname__,
            tuple(sorted((name, param_token(v)) for name, v in params.items())),
        )
    return ("object", id(value))


def param_tokens(strategy):
    """``{name: token}`` of a strategy's parameters, None without ``get_params``.

    Parameters
    ----------
    strategy : object or dict
        An estimator-like strategy, or a dict of parameter values.

    Returns
    -------
    tokens : dict or None
        Equal tokens mean unchanged parameters.
    """
    if isinstance(strategy, dict):
        params = strategy
    elif callable(getattr(strategy, "get_params", None)):
        params = strategy.get_params(deep=False)
    else:
        return None
    return {name: param_token(value) for name, value in params.items()}


def copy_for_run(strategy):
    """The copy of a strategy that one active learning run works on.

    Estimator-like strategies are cloned, so that nothing learned in one run
    (a fitted augmenter, a warning already shown) reaches another; what an
    explicit ``fit`` learned from a corpus is kept (see ``ALLSH.fit``). A
    plain function is stateless and used as it is.

    Parameters
    ----------
    strategy : callable

    Returns
    -------
    strategy : callable
    """
    if isinstance(strategy, BaseQueryStrategy):
        return strategy._copy_for_run()
    if isinstance(strategy, BaseEstimator):
        return clone(strategy)
    return strategy


class BaseQueryStrategy(ParameterConstraintsMixin, BaseEstimator):
    """Base class of query strategies (not to be used directly).

    ``__call__`` checks its arguments, builds a :class:`QueryContext` (the
    classifier, the pool, the batch size, the seed of the call, the timer,
    the labeled set, the groups of repeated texts, and the model outputs
    computed for the call) and passes it to the hooks. Subclasses implement
    one of:

    - ``_score(context)``: one score per pool item, larger is selected
      first (the batch is the top ``n_instances``, one item per repeated
      text);
    - ``_select(context)``: ``(indices, scores)`` for strategies that select
      a batch jointly (BADGE), honouring ``context.duplicates``.

    Model passes go through the context (``context.proba()``,
    ``context.proba_and_embeddings(...)``), which times them and keeps their
    outputs for the call, so that a wrapper such as :class:`ClassBalanced`
    reuses them. Per-call data lives in the context, never on ``self``;
    state kept across calls (ALLSH's augmenter) must be rebuilt when the
    parameters it comes from change, and ``_copy_for_run`` gives the copy an
    active learner works on.

    Parameters are checked at every call, before any model pass: a subclass
    declares what each may be in ``_parameter_constraints`` (see
    :mod:`allsh_sklearn.utils`), and one with rules between parameters
    overrides ``_validate_params``, calling ``super()``'s first. The seed a
    call without one uses (``_own_random_state``) is checked too, declared
    or not.
    """

    #: Whether the strategy needs a fitted classifier (random sampling does not).
    requires_classifier = True

    #: ``{parameter name: list of constraints}`` of the strategy's parameters.
    _parameter_constraints = {}

    #: The constraints of the keyword arguments of a call (``__call__``).
    _call_constraints = {
        "random_state": [RandomStateLike()],
        "deduplicate": [Boolean()],
    }

    def __call__(
        self,
        classifier,
        X_pool,
        n_instances=1,
        *,
        random_state=None,
        X_labeled=None,
        y_labeled=None,
        deduplicate=True,
    ):
        """Select ``n_instances`` items of ``X_pool`` to label.

        Parameters
        ----------
        classifier : object
            A fitted classifier with ``predict_proba`` on raw texts (a
            scikit-learn pipeline, a :class:`TransformerClassifier`, an
            :class:`ActiveLearner`, or a modAL learner).
        X_pool : sequence of str or of (str, str)
            The unlabeled pool.
        n_instances : int, default=1
            How many items to select.
        random_state : int, RandomState instance or None, default=None
            Seeds tie-breaking (and sampling, for random strategies). When
            None, the strategy's own ``random_state`` parameter (if any) is used.
        X_labeled : sequence of str or of (str, str), default=None
            The labeled examples, for strategies that use them (CAL). None
            takes ``classifier.X_training_`` (or modAL's ``X_training``).
        y_labeled : array-like, default=None
            Their labels, for strategies that use them. None takes
            ``classifier.y_training_`` (or ``y_training``) when
            ``X_labeled`` is None too.
        deduplicate : bool, default=True
            Select a text that occurs several times in the pool once (its
            first-ranked occurrence), filling the batch with the next best
            items; copies are taken only when the pool has fewer distinct
            texts than ``n_instances``. False selects positions regardless of
            their texts (the protocol of the paper's experiments). Pools
            without repeated texts give the same selection either way.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=int64
            Positions in ``X_pool``, most informative first, without repeats.
        scores : ndarray of shape (n_instances,), dtype=float64
            The informativeness of each selected item.
        """
        check_texts(X_pool, name="X_pool")
        n_instances = check_n_instances(n_instances, len(X_pool))
        owner = f"{type(self).__name__}.__call__"
        arguments = {"random_state": random_state, "deduplicate": deduplicate}
        for name, constraints in self._call_constraints.items():
            validate_parameter(arguments[name], name, constraints, owner=owner)
        if X_labeled is not None:
            check_texts(X_labeled, name="X_labeled")
            if y_labeled is not None:
                check_labels(y_labeled, len(X_labeled), name="y_labeled")
        self._validate_params()
        self._validate_own_random_state()
        if random_state is None:
            random_state = self._own_random_state()
        context = QueryContext(
            classifier,
            X_pool,
            n_instances,
            random_state=random_state,
            X_labeled=X_labeled,
            y_labeled=y_labeled,
            deduplicate=deduplicate,
        )
        indices, scores = self._select(context)
        self.last_scores_ = scores
        self.last_query_time_ = context.timer.as_dict()
        return indices, scores[indices]

    # Driver hooks -------------------------------------------------------

    def prepare(
        self, X_pool, *, random_state=None, cache_dir=None, store=None, progress=False
    ):
        """Fit what the strategy learns from the whole pool, once, before queries.

        A driver calls it once with the whole pool before the first query
        (the default does nothing). A strategy that learns from the pool
        (ALLSH fits its augmenter) does it here, so that every process sees
        the same fit, and keeps what it fitted in ``store`` so that a
        reopened session does not fit it again.

        What it learns goes into the strategy's parameters (``set_params``:
        ALLSH's ``augmenter`` becomes the fitted one), so that ``clone``, and
        the copy an active learner queries with, keep it. A strategy must
        also work unprepared (the experiment runner queries as the paper
        does, and ALLSH then fits on the first pool it scores).

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The whole pool, labeled texts included.
        random_state : int or None, default=None
            The driver's seed, for what the strategy fits.
        cache_dir : path or None, default=None
            A folder where the strategy may keep files between processes.
        store : object or None, default=None
            Where the driver keeps what strategies prepare: ``get(name)``
            returns the bytes put under ``name`` (None if nothing is there)
            and ``put(name, data)`` keeps bytes; a labeling session's store
            also has ``open_cache(name)``, a cache of augmented copies
            (``get_many``/``set_many``) in the session's cache folder. None:
            nothing is kept.
        progress : bool, default=False
            Whether a long preparation may show a progress bar.

        Returns
        -------
        self : BaseQueryStrategy
            The strategy, ready to query.
        """
        return self

    def texts_to_encode(self, X_pool):
        """Texts besides the pool whose embeddings a query will need.

        A driver with a frozen encoder encodes them ahead, together with the
        pool, and caches the embeddings (the default: none).

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The whole pool, as given to :meth:`prepare` (called first).

        Returns
        -------
        texts : list of str or of (str, str)
        """
        return []

    def explain(self, classifier, texts, proba):
        """Why the strategy picked each text, for the labeling page.

        Called after a query with the texts it picked (the default: None,
        no explanation beyond the score).

        Parameters
        ----------
        classifier : object
            The fitted classifier the query used, whose ``predict_proba``
            gives columns in the order of ``proba``.
        texts : sequence of str or of (str, str)
            The picked texts.
        proba : ndarray of shape (n_texts, n_classes)
            The classifier's predictions on them.

        Returns
        -------
        explanations : list of dict or None
            One JSON-serialisable dict per text, with a ``kind`` key (the
            labeling page shows ``"allsh"`` ones), or None.
        """
        return None

    # Subclass hooks -----------------------------------------------------

    def _validate_own_random_state(self):
        """Check the seed a call without one uses, declared as a parameter or not."""
        validate_parameter(
            self._own_random_state(),
            "random_state",
            [RandomStateLike()],
            owner=type(self).__name__,
        )

    def _own_random_state(self):
        """The seed used when a call passes none (the ``random_state`` parameter)."""
        return getattr(self, "random_state", None)

    def _score(self, context):
        """One score per pool item (larger is more informative)."""
        raise NotImplementedError

    def _select(self, context):
        """Return ``(indices, scores)``, ``scores`` covering the whole pool.

        At most one item per group of ``context.duplicates`` should be
        selected while other groups remain.
        """
        scores = np.asarray(self._score(context), dtype=np.float64)
        with context.timer.phase("selection"):
            indices = select_top(
                scores,
                context.n_instances,
                random_state=context.random_state,
                duplicates=context.duplicates,
            )
        return indices, scores

    def _selects_by_score(self):
        """Whether the batch is the top of ``_score`` (wrappers rely on it)."""
        return type(self)._select is BaseQueryStrategy._select

    def _pool_proba(self, context):
        """The pool's probabilities from the pass this strategy makes anyway.

        Wrappers (:class:`ClassBalanced`) read the predicted classes from it
        without a second model pass. Strategies whose pass also gives
        embeddings override it.
        """
        return context.proba()

    def _copy_for_run(self):
        """The copy an active learner works on (see :func:`copy_for_run`)."""
        return clone(self)
