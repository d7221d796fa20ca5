"""ALLSH: acquisition guided by local sensitivity and hardness.

The score of a pool item ``x`` is ``D(p(.|x), p(.|x'))`` (eq. 1 of the
paper), the divergence between the classifier's predictions on ``x`` and on
an augmented copy ``x'``. With ``K`` copies, the worst case ``max_k`` (WCA,
eq. 2) or the mean over copies. The top-b items by score are selected
(Algorithm 1).

When copies are drawn (``draw_copies``): once for the pool, reused at every
query (the default, which the experiments before issue 29 used), or afresh
at every query, as line 4 of Algorithm 1 does.

Options beyond the paper (``score``, ``batch``, ``sensitivity``; defaults
are the paper's method) combine the divergence with the prediction's
uncertainty, estimate the sensitivity with less variance over ``K`` copies,
and select diverse or sampled batches; see
:mod:`allsh_sklearn.strategies._allsh_scores`,
:mod:`allsh_sklearn.strategies._allsh_batches` and the results page.

What a driver (a labeling session, the experiment runner) asks of ALLSH
goes through the hooks of :class:`BaseQueryStrategy`: ``prepare`` fits the
augmenter once on the whole pool (or takes the one the driver stored) and
opens the driver's cache of copies, ``texts_to_encode`` gives the copies
whose embeddings a frozen encoder may compute ahead, and ``explain`` the
copies and divergences the labeling page shows.
"""

import numbers
import os
import pickle

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ..augment._cache import MemoryAugmentationCache, augment_with_cache
from ..augment._persistent_cache import SQLiteAugmentationCache, check_cache_path
from ..augment._tfidf import TFIDF_REPLACEMENT_RATE, TfidfAugmenter
from ..divergences import get_divergence
from ..utils._constraints import (
    Boolean,
    Callable,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    RandomStateLike,
)
from ..utils._selection import text_digests
from ..utils._text_diff import changed_share
from ._allsh_batches import BATCHES, BETA_CONSTRAINT, BatchSelector, batch_selector
from ._allsh_copies import CopiesFrom, query_copy_indices
from ._allsh_scores import (
    SCORES,
    SENSITIVITIES,
    check_scores,
    combine_scores,
    per_change_scores,
    sensitivity_scores,
)
from ._balanced_selection import balanced_select
from ._base import BaseQueryStrategy, param_tokens
from ._embeddings import EMBEDDING_CONSTRAINTS

#: Augmented copies per text of worst-case augmentation (WCA, the paper's K).
WCA_COPIES = 4

#: The values of ``ALLSH(draw_copies=...)``.
DRAWS = ("once", "per_query")

# The parameters the fitted state (augmenter_, cache_) is built from.
_STATE_PARAMS = ("augmenter", "cache", "random_state")

# Where ``prepare`` keeps the fitted augmenter in a driver's store, and the
# name of the cache of copies it asks the store for.
_STORED_AUGMENTER = "augmenter"
_COPIES_CACHE = "augmentations.sqlite"


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def allsh_scores(proba, augmented_proba, divergence="kl", alpha=0.5, worst_case=False):
    """Combine predictions on texts and on their copies into ALLSH scores.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Predictions on the original texts.
    augmented_proba : array-like of shape (n_copies, n_samples, n_classes)
        Predictions on each copy of each text.
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        The statistical distance ``D``.
    alpha : float, default=0.5
        The order of the alpha-divergence.
    worst_case : bool, default=False
        Take the maximum over copies (WCA) instead of the mean.

    Returns
    -------
    scores : ndarray of shape (n_samples,)

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.5, 0.5]]
    >>> copies = [[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.5, 0.5]]]
    >>> allsh_scores(p, copies, worst_case=True).round(3).tolist()
    [0.226, 0.511]
    """
    per_copy = _per_copy_divergences(proba, augmented_proba, divergence, alpha)
    return per_copy.max(axis=0) if worst_case else per_copy.mean(axis=0)


def _per_copy_divergences(proba, augmented_proba, divergence, alpha):
    """``D(p(.|x_i), p(.|x_ik'))`` of each copy, shape ``(n_copies, n_samples)``."""
    measure = get_divergence(divergence, alpha=alpha)
    proba = np.asarray(proba, dtype=np.float64)
    augmented_proba = np.asarray(augmented_proba, dtype=np.float64)
    return np.stack([measure(proba, copy) for copy in augmented_proba])


class ALLSH(BaseQueryStrategy):
    """Select the items whose predictions change most under augmentation.

    Parameters
    ----------
    augmenter : BaseAugmenter or None, default=None
        Produces the local copies ``x'``. None means
        ``TfidfAugmenter(p=0.3)``, the paper's default. An unfitted augmenter
        is cloned and fitted on the first pool the strategy sees (or by
        ``fit``), and fitted again when a later pool holds texts that corpus
        did not (another data set), never on a part of it (the shrinking
        pool of an active learning loop). A fitted one is used as it is
        (and shared, not copied, by ``clone``).
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        The statistical distance ``D(p(.|x), p(.|x'))``.
    alpha : float, default=0.5
        The order of the alpha-divergence (``divergence="alpha"``); any finite
        value but 0 and 1. The paper's ablation uses -0.5 and 0.5.
    n_augmentations : int, default=1
        ``K``, the number of copies of each item.
    worst_case : bool, default=False
        With ``K > 1``, score by the maximum divergence over the copies
        (select worst-case augmentation, WCA); otherwise by their mean.
    cache : object with ``get_many``/``set_many``, path or None, default=None
        Where augmented copies are kept between queries: None keeps them in
        memory (``cache_``); a path (str or path-like) is an SQLite file,
        opened as :class:`~allsh_sklearn.augment.SQLiteAugmentationCache`;
        an object is used as it is (and shared, not copied, by ``clone``:
        entries are keyed by the augmenter's fingerprint, so sharing never
        changes a selection). Copies do not depend on the model, so each
        pool text is augmented ``K`` times over a whole active learning loop.
    random_state : int, RandomState instance or None, default=None
        Seeds the augmenter it fits (else the ``random_state`` of the first
        call seeds it) and, when a call passes none, tie-breaking. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, a set ``random_state`` wins
        over the learner's: it seeds the sequence of per-query seeds.
    balance : {None, "pool", "uniform"}, default=None
        How the batch is taken from the scores. None: the global top-b, the
        paper's method. ``"pool"`` or ``"uniform"``: class-balanced top-b
        (not in the paper), the batch split between the classes the model
        predicts on the pool, in proportion to their predicted share or
        equally, each share filled by the highest scores of that predicted
        class (``allsh_sklearn.utils.select_top_balanced``); the same as
        ``ClassBalanced(ALLSH(), proportion=balance)``, which balances any
        strategy. It keeps
        batches from drifting to one class when the divergence is larger on
        one side of the boundary; the results page of the documentation
        measures it against the plain method. Only with ``batch="top"``.
    score : {"divergence", "product", "rank_mean", "entropy_ratio", \
            "per_change"} or callable, default="divergence"
        What the items are ranked (or weighted) by. ``"divergence"``: the
        divergence, the paper's score. The others combine it with the
        uncertainty of the prediction ``H`` (entropy divided by ``log C``),
        the "hardness" of the method's name (not in the paper):
        ``"product"`` is ``divergence * H``; ``"rank_mean"`` the mean of the
        two normalised ranks; ``"entropy_ratio"`` is ``divergence / H``, the
        sensitivity per unit of uncertainty (see
        :func:`~allsh_sklearn.strategies._allsh_scores.combine_scores`).
        ``"per_change"`` divides each copy's divergence by the share of the
        text's tokens the copy changed before averaging (or taking the
        worst case) over copies: the sensitivity to a small change rather
        than the size of the change the augmenter happened to make (see
        :func:`~allsh_sklearn.strategies._allsh_scores.per_change_scores`).
        A callable ``score(sensitivity, proba)`` combines the sensitivity
        (one non-negative value per pool item) with the predictions on the
        pool itself, and returns one finite non-negative score per item
        (``lambda s, p: s * normalised_entropy(p)`` is ``"product"``).
    batch : {"top", "kmeans", "copy_gradient", "scaled_badge", "power", \
            "softrank"} or BatchSelector, default="top"
        How the batch is selected. ``"top"``: the top-b of the score, the
        paper's method. ``"power"`` and ``"softrank"`` sample the batch
        without replacement with probability proportional to
        ``score ** beta`` or to ``rank ** -beta`` (stochastic top-b, Kirsch
        et al., 2023; not in the paper), seeded by the call's
        ``random_state`` (see
        :func:`~allsh_sklearn.strategies._allsh_batches.stochastic_top`).
        The others are k-means++ seedings, as BADGE's, that
        make the batch diverse (not in the paper; they need embeddings, see
        ``embedding``): ``"kmeans"`` over the embeddings weighted by the
        score; ``"copy_gradient"`` over the gradients of the cross-entropy
        on the copy at the original's predicted label,
        ``(onehot(y_hat) - p(.|x')) (x) h`` (the score is not used);
        ``"scaled_badge"`` over BADGE's gradient embeddings
        ``(onehot(y_hat) - p(.|x)) (x) h`` each scaled by the quantile of
        the item's score in the pool. See
        :func:`~allsh_sklearn.strategies._allsh_batches.select_batch`. A
        :class:`~allsh_sklearn.strategies._allsh_batches.BatchSelector`
        (``KMeansBatch("copy_gradient")``, ``StochasticBatch("power",
        beta=2.0)``, or one of one's own) selects the batch from the scores
        as the option of that name does.
    embedding : callable, str or None, default=None
        With ``batch`` other than ``"top"``: where the embeddings ``h`` come
        from, as BADGE's ``embedding`` (a callable, the name of a pipeline
        step, or None for the classifier's own ``predict_proba_and_embed``).
    embedding_kind : str or None, default="penultimate"
        Passed as ``kind=`` to the classifier's embedding method, as BADGE's.
    sensitivity : {"divergence", "divergence_to_mean", "mutual_information", \
            "variance"}, default="divergence"
        How the local sensitivity is estimated from the ``K`` copies (the
        ``score`` options then combine it with the uncertainty, as they do
        the divergence). ``"divergence"``: the paper's, ``D(p, p_k)`` for each
        copy, their mean or (``worst_case``) maximum. The others have less
        variance over the draw of the copies (not in the paper; use them with
        ``n_augmentations`` of 8 or more): ``"divergence_to_mean"``,
        ``D(p, mean_k p_k)``; ``"mutual_information"``, BALD's
        ``H(mean) - mean(H)`` over the predictions on the text and its copies;
        ``"variance"``, the variance of those predictions summed over classes
        (Gao et al., 2020). See
        :func:`~allsh_sklearn.strategies._allsh_scores.sensitivity_scores`.
    draw_copies : {"once", "per_query"}, default="once"
        When the copies are drawn. ``"once"``: once per pool (per fitted
        augmenter); every query scores the same copies, cached. ``"per_query"``:
        afresh at every query, as line 4 of the paper's Algorithm 1: the
        copies of a query are drawn with a seed derived from the augmenter's
        seed (``random_state``) and the state of the loop, the number of
        labeled texts and of pool texts (:func:`query_copy_indices`), so the
        same ``random_state`` gives the same queries, a query repeated on the
        same labeled set and pool scores the same copies, and each iteration
        of an active learning loop scores new ones.
    beta : float, default=1.0
        With ``batch="power"`` or ``"softrank"``: the exponent of the
        sampling weights, ``>= 0`` (0 is uniform sampling; larger values
        approach the top-b).

    Attributes
    ----------
    augmenter_ : BaseAugmenter
        The fitted augmenter. Changing ``augmenter`` or ``random_state``
        with ``set_params`` fits a new one at the next call, changing
        ``cache`` switches ``cache_``.
    cache_ : object
        The augmentation cache in use.
    n_augmented_ : int
        How many (text, copy) pairs were augmented so far (cache misses).
    last_scores_ : ndarray of shape (n_pool,)
        The scores of the whole pool at the last query.
    last_copy_indices_ : list of int
        The indices of the copies scored at the last query: ``0..K-1`` when
        drawn once, a fresh range with ``draw_copies="per_query"``.
    last_query_time_ : dict
        Seconds spent in ``"augmentation"``, ``"inference"`` and
        ``"selection"`` at the last query.
    last_predicted_ : ndarray of shape (n_pool,)
        With ``balance`` set: the predicted class index of each pool item at
        the last query.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.strategies import ALLSH
    >>> texts = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(texts, [1, 0, 1, 0])
    >>> pool = ["a good plot", "bad acting", "a film", "good good film"]
    >>> indices, scores = ALLSH(random_state=0)(clf, pool, n_instances=2)
    >>> indices.shape, scores.shape
    ((2,), (2,))
    """

    #: Short names of parameters in experiment specs (``"allsh-wca:p=0.5"``,
    #: see :func:`allsh_sklearn.presets.spec_aliases`).
    _spec_aliases = {
        "K": "n_augmentations",
        "balanced": "balance",
        "joint_pairs": "augmenter__joint_pairs",
        "p": "augmenter__p",
        "replace_punctuation": "augmenter__replace_punctuation",
        "tokenizer": "augmenter__tokenizer",
    }

    # ``divergence`` and ``alpha`` are checked together (``alpha`` only for
    # ``divergence="alpha"``), by get_divergence in _validate_params.
    _parameter_constraints = {
        "augmenter": [
            HasMethods(
                "augment",
                description="an augmenter with 'fit' and 'augment' methods (for "
                "example TfidfAugmenter())",
            ),
            None,
        ],
        "n_augmentations": [Interval(numbers.Integral, 1, None)],
        "worst_case": [Boolean()],
        "cache": [
            InstanceOf((str, os.PathLike), description="the path of an SQLite file"),
            HasMethods(
                ["get_many", "set_many"],
                description="an object with 'get_many' and 'set_many' methods "
                "(MemoryAugmentationCache, SQLiteAugmentationCache)",
            ),
            None,
        ],
        "random_state": [RandomStateLike()],
        "balance": [Options(("pool", "uniform")), None],
        "score": [Options(SCORES), Callable()],
        "batch": [
            Options(BATCHES),
            InstanceOf(BatchSelector, description="a BatchSelector"),
        ],
        **EMBEDDING_CONSTRAINTS,
        "sensitivity": [Options(SENSITIVITIES)],
        "draw_copies": [Options(DRAWS)],
        "beta": [BETA_CONSTRAINT],
    }

    def __init__(
        self,
        augmenter=None,
        divergence="kl",
        alpha=0.5,
        n_augmentations=1,
        worst_case=False,
        cache=None,
        random_state=None,
        balance=None,
        score="divergence",
        batch="top",
        embedding=None,
        embedding_kind="penultimate",
        sensitivity="divergence",
        draw_copies="once",
        beta=1.0,
    ):
        self.augmenter = augmenter
        self.divergence = divergence
        self.alpha = alpha
        self.n_augmentations = n_augmentations
        self.worst_case = worst_case
        self.cache = cache
        self.random_state = random_state
        self.balance = balance
        self.score = score
        self.batch = batch
        self.embedding = embedding
        self.embedding_kind = embedding_kind
        self.sensitivity = sensitivity
        self.draw_copies = draw_copies
        self.beta = beta

    def fit(self, X, y=None):
        """Fit the augmenter on a corpus (optional: the first query does it).

        Later queries on this corpus or any part of it use this augmenter.
        An :class:`~allsh_sklearn.ActiveLearner` given a strategy fitted this
        way keeps the fitted augmenter in its copy (``query_strategy_``), so
        the copies do not depend on which part of the pool is queried first.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The corpus, usually the whole unlabeled pool.
        y : None
            Ignored.

        Returns
        -------
        self : ALLSH
        """
        self._validate_params()
        self._fit_augmenter(X, random_state=self.random_state)
        self._fitted_by_fit = True
        return self

    # Driver hooks ---------------------------------------------------------

    def prepare(
        self, X_pool, *, random_state=None, cache_dir=None, store=None, progress=False
    ):
        """Fit the augmenter once on the whole pool and open the cache of copies.

        The augmenter is fitted here, on every text of the pool, rather than
        on the first unlabeled pool a query sees: the fit (and so the
        fingerprint the cached copies are filed under) is then the same in
        every process, and a driver that keeps a cache of copies finds them
        there instead of augmenting the pool again. The fitted augmenter
        becomes the ``augmenter`` parameter (frozen: used as it is,
        whatever part of the pool is queried).

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The whole pool.
        random_state : int or None, default=None
            Seeds the augmenter when it has no seed of its own (and the
            default augmenter); None takes the strategy's ``random_state``.
        cache_dir : path or None, default=None
            With ``cache`` None and no ``store``: the folder of an SQLite
            cache of copies (``augmentations.sqlite``).
        store : object or None, default=None
            The driver's store (see :meth:`BaseQueryStrategy.prepare`): the
            fitted augmenter is read from (and written to) its
            ``"augmenter"`` entry, so a reopened session does not fit it
            again (a stored augmenter whose parameters differ is fitted
            again); with ``cache`` None, ``store.open_cache`` (if it has
            one) gives the cache of copies.
        progress : bool, default=False
            Unused: fitting the augmenter shows no progress.

        Returns
        -------
        self : ALLSH
        """
        self._validate_params()
        if random_state is None:
            random_state = self.random_state
        augmenter = self.augmenter
        if augmenter is None:
            augmenter = TfidfAugmenter(
                p=TFIDF_REPLACEMENT_RATE, random_state=random_state
            )
        if not _is_fitted(augmenter):
            augmenter = clone(augmenter)
            if getattr(augmenter, "random_state", 0) is None:
                augmenter.set_params(random_state=random_state)
            # Refitting gives the same augmenter, but costs seconds on a large
            # pool; one this version cannot use is fitted again.
            stored = None
            if store is not None:
                stored = _load_augmenter(store.get(_STORED_AUGMENTER), augmenter)
            if stored is None:
                augmenter.fit(X_pool)
                if store is not None:
                    store.put(_STORED_AUGMENTER, pickle.dumps(augmenter, protocol=5))
            else:
                augmenter = stored
        if not isinstance(augmenter, FrozenEstimator):
            augmenter = FrozenEstimator(augmenter)
        params = {"augmenter": augmenter}
        if self.cache is None:
            if callable(getattr(store, "open_cache", None)):
                params["cache"] = store.open_cache(_COPIES_CACHE)
            elif cache_dir is not None:
                params["cache"] = os.path.join(cache_dir, _COPIES_CACHE)
        return self.set_params(**params)

    def texts_to_encode(self, X_pool):
        """The augmented copies of the pool a query scores (drawn once).

        Copies ``0..K-1`` of every text, made (or read from the cache) with
        the fitted augmenter, for a driver to encode ahead with a frozen
        encoder. With ``draw_copies="per_query"`` queries draw other copies,
        not known yet.

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The whole pool.

        Returns
        -------
        texts : list of str or of (str, str)
            Copy ``k`` of every text, for ``k`` in ``0..K-1``.
        """
        augmenter = self._fitted_augmenter()
        copies, _ = augment_with_cache(
            augmenter, list(X_pool), self.n_augmentations, self._copies_cache()
        )
        return [item for copy in copies for item in copy]

    def explain(self, classifier, texts, proba):
        """The copies of each picked text and how far each moved the model.

        Parameters
        ----------
        classifier : object
            The fitted classifier, with ``predict_proba`` in the column
            order of ``proba``.
        texts : sequence of str or of (str, str)
            The picked texts.
        proba : ndarray of shape (n_texts, n_classes)
            The classifier's predictions on them.

        Returns
        -------
        explanations : list of dict or None
            None before the strategy has queried. Per text: ``kind``
            (``"allsh"``), ``copies`` (each with ``text``, ``proba`` and
            ``divergence``), ``driver`` (the index of the copy with the
            largest divergence, the one WCA scores by), ``divergence`` (the
            name of the measure) and ``aggregate`` (``"max"`` or ``"mean"``).
        """
        if not hasattr(self, "augmenter_"):
            return None
        copies, _ = augment_with_cache(
            self.augmenter_, texts, self.n_augmentations, self.cache_
        )
        measure = get_divergence(self.divergence, alpha=self.alpha)
        per_copy = []
        for copy in copies:
            copy_proba = classifier.predict_proba(copy)
            per_copy.append((copy, copy_proba, measure(proba, copy_proba)))
        name = self.divergence if isinstance(self.divergence, str) else "custom"
        explanations = []
        for row in range(len(texts)):
            entries = [
                {
                    "text": _as_text(copy[row]),
                    "proba": [round(float(p), 6) for p in copy_proba[row]],
                    "divergence": float(divergence[row]),
                }
                for copy, copy_proba, divergence in per_copy
            ]
            driver = int(np.argmax([e["divergence"] for e in entries]))
            explanations.append(
                {
                    "kind": "allsh",
                    "divergence": name,
                    "aggregate": "max" if self.worst_case else "mean",
                    "driver": driver,
                    "copies": entries,
                }
            )
        return explanations

    def _fitted_augmenter(self):
        """The augmenter copies are made with: prepared, fitted, else an error."""
        if self.augmenter is not None and _is_fitted(self.augmenter):
            return self.augmenter
        if hasattr(self, "augmenter_"):
            return self.augmenter_
        raise NotFittedError(
            "This ALLSH has no fitted augmenter yet: call 'prepare' (or 'fit') "
            "with the pool before asking for its copies."
        )

    def _copies_cache(self):
        """The cache of copies in use, or the one the parameters give."""
        if self.cache is None and hasattr(self, "cache_"):
            return self.cache_
        return self._make_cache()

    def __sklearn_clone__(self):
        # A cache and a fitted augmenter are shared, not copied: a cache is a
        # store keyed by the augmenter's fingerprint (sharing it cannot change
        # a selection), and a fitted augmenter is "used as it is".
        params = self.get_params(deep=False)
        shared = {"cache": params.pop("cache")}
        if params["augmenter"] is not None and _is_fitted(params["augmenter"]):
            shared["augmenter"] = params.pop("augmenter")
        params = {name: clone(value, safe=False) for name, value in params.items()}
        return type(self)(**params, **shared)

    def _copy_for_run(self):
        copy = clone(self)
        if getattr(self, "_fitted_by_fit", False):
            # What fit learned from the corpus it was given is kept.
            copy.augmenter_ = self.augmenter_
            copy._corpus_digests = self._corpus_digests
            copy._state_tokens = copy._current_state_tokens()
            copy.cache_ = copy._make_cache()
            copy.n_augmented_ = 0
            copy._fitted_by_fit = True
        return copy

    def _validate_params(self):
        get_divergence(self.divergence, alpha=self.alpha)
        super()._validate_params()
        if self.sensitivity != "divergence" and self.worst_case:
            raise ValueError(
                "The 'worst_case' parameter of ALLSH applies to "
                "sensitivity='divergence' (a maximum over copies of the "
                f"divergence to each). Got worst_case=True with "
                f"sensitivity={self.sensitivity!r}; set worst_case=False."
            )
        if self.sensitivity != "divergence" and self.score == "per_change":
            raise ValueError(
                "The 'score' parameter of ALLSH can be 'per_change' only with "
                "sensitivity='divergence' (it divides each copy's divergence by "
                f"the share of tokens that copy changed). Got "
                f"sensitivity={self.sensitivity!r}."
            )
        if self.balance is not None and self.batch != "top":
            raise ValueError(
                "The 'balance' parameter of ALLSH applies to batch='top' only. "
                f"Got balance={self.balance!r} with batch={self.batch!r}; wrap "
                "the strategy in ClassBalanced to balance a k-means++ batch."
            )

    def _current_state_tokens(self):
        tokens = param_tokens(self)
        return {name: tokens[name] for name in _STATE_PARAMS}

    def _make_cache(self):
        if self.cache is None:
            return MemoryAugmentationCache()
        if isinstance(self.cache, str | os.PathLike):
            # Before any augmentation: a path where no SQLite file can live,
            # or in a folder that does not exist (outside the cache home),
            # is an error that names ALLSH's 'cache' parameter.
            check_cache_path(
                self.cache, name="cache", owner="ALLSH", create_folder=False
            )
            return SQLiteAugmentationCache(self.cache)
        return self.cache

    def _fit_augmenter(self, X, random_state, digests=None):
        """Fit ``augmenter_`` on ``X``; its seed: ``random_state`` if an int.

        ``digests`` are the ``text_digests`` of ``X``, if already computed.
        """
        if self.random_state is not None:
            random_state = self.random_state  # the strategy's own seed wins
        seed = random_state if isinstance(random_state, numbers.Integral) else None
        augmenter = self.augmenter
        if augmenter is None:
            augmenter = TfidfAugmenter(p=TFIDF_REPLACEMENT_RATE, random_state=seed)
        if _is_fitted(augmenter):
            self._corpus_digests = None  # used as it is, whatever the pool
        else:
            augmenter = clone(augmenter)
            if getattr(augmenter, "random_state", 0) is None and seed is not None:
                augmenter.set_params(random_state=seed)
            augmenter.fit(X)
            self._corpus_digests = np.unique(
                text_digests(X) if digests is None else digests
            )
        self.augmenter_ = augmenter
        self.cache_ = self._make_cache()
        self.n_augmented_ = 0
        self._share_memo = {}  # changed_share of each (text, copy) pair scored
        self._state_tokens = self._current_state_tokens()
        self._fitted_by_fit = False

    def _refresh_augmenter(self, context):
        """Rebuild the fitted state if its parameters or the corpus changed."""
        X_pool, random_state = context.X_pool, context.random_state
        if not hasattr(self, "augmenter_"):
            self._fit_augmenter(X_pool, random_state, context.digests())
            return
        tokens = self._current_state_tokens()
        saved = self._state_tokens
        if tokens["augmenter"] != saved["augmenter"] or (
            tokens["random_state"] != saved["random_state"]
        ):
            self._fit_augmenter(X_pool, random_state, context.digests())
            return
        if self._corpus_digests is not None:
            digests = context.digests()
            position = np.searchsorted(self._corpus_digests, digests)
            position[position == len(self._corpus_digests)] = 0
            if not np.array_equal(self._corpus_digests[position], digests):
                # A pool with texts the augmenter never saw: another corpus.
                self._fit_augmenter(X_pool, random_state, digests)
                return
        if tokens["cache"] != saved["cache"]:
            self.cache_ = self._make_cache()
            self._state_tokens = tokens

    def _selects_by_score(self):
        return self.batch == "top"

    def _uses_embeddings(self):
        selector = batch_selector(self.batch, self.beta)
        return selector is not None and selector.uses_embeddings

    def _pool_proba(self, context):
        if not self._uses_embeddings():
            return context.proba()
        # The pass that gives the embeddings gives the probabilities too.
        return context.proba_and_embeddings(self.embedding, self.embedding_kind)[0]

    def _select(self, context):
        selector = batch_selector(self.batch, self.beta)
        if selector is not None:
            proba, augmented, scores = self._scores_and_copies(context)
            embeddings = None
            if selector.uses_embeddings:
                embeddings = context.proba_and_embeddings(
                    self.embedding, self.embedding_kind
                )[1]
            with context.timer.phase("selection"):
                indices = selector.select(
                    scores,
                    context.n_instances,
                    proba=proba,
                    augmented_proba=augmented,
                    embeddings=embeddings,
                    worst_case=self.worst_case,
                    random_state=context.random_state,
                    duplicates=context.duplicates,
                )
            return indices, scores
        if self.balance is None:
            return super()._select(context)
        # Class-balanced top-b is the ClassBalanced wrapper's selection.
        indices, scores, predicted = balanced_select(self, context, self.balance)
        self.last_predicted_ = predicted
        return indices, scores

    def _score(self, context):
        return self._scores_and_copies(context)[2]

    def _scores_and_copies(self, context):
        """The pool's probabilities, its copies' probabilities and the scores."""
        X_pool = context.X_pool
        # Checked here, before augmenting, so an unfitted model fails fast.
        proba = self._pool_proba(context)
        with context.timer.phase("augmentation"):
            self._refresh_augmenter(context)
            if self.draw_copies == "once":
                indices = range(self.n_augmentations)
                copies, n_computed = augment_with_cache(
                    self.augmenter_, X_pool, self.n_augmentations, self.cache_
                )
            else:
                indices = query_copy_indices(
                    self.augmenter_.seed_,
                    self._n_labeled(context),
                    len(X_pool),
                    self.n_augmentations,
                )
                copies, n_computed = augment_with_cache(
                    CopiesFrom(self.augmenter_, indices.start),
                    X_pool,
                    self.n_augmentations,
                    self.cache_,
                )
            self.n_augmented_ += n_computed
            self.last_copy_indices_ = list(indices)
        flat_copies = [item for copy in copies for item in copy]
        augmented = context.predict_proba(flat_copies)
        augmented = augmented.reshape(self.n_augmentations, len(X_pool), -1)
        with context.timer.phase("selection"):
            if self.score == "per_change":
                sensitivity = self._per_change(proba, augmented, X_pool, copies)
            elif self.sensitivity == "divergence":
                sensitivity = allsh_scores(
                    proba,
                    augmented,
                    divergence=self.divergence,
                    alpha=self.alpha,
                    worst_case=self.worst_case,
                )
            else:
                sensitivity = sensitivity_scores(
                    proba,
                    augmented,
                    self.sensitivity,
                    divergence=self.divergence,
                    alpha=self.alpha,
                )
            if callable(self.score):
                sensitivity = check_scores(
                    self.score(sensitivity, proba), len(X_pool), name="score"
                )
            elif self.score not in ("divergence", "per_change"):
                sensitivity = combine_scores(sensitivity, proba, self.score)
        return proba, augmented, sensitivity

    @staticmethod
    def _n_labeled(context):
        """How many texts are labeled, or None when the call does not say."""
        try:
            return len(context.labeled_texts())
        except ValueError:
            return None

    def _per_change(self, proba, augmented, X_pool, copies):
        per_copy = _per_copy_divergences(proba, augmented, self.divergence, self.alpha)
        # A share depends on the text and its copy only: each (text, copy)
        # pair is tokenised once per run, not at every query.
        memo = self.__dict__.setdefault("_share_memo", {})
        shares = [changed_share(X_pool, copy, memo=memo) for copy in copies]
        return per_change_scores(per_copy, shares, worst_case=self.worst_case)

    def __getstate__(self):
        # The shares memo is recomputed on demand; it is not worth storing.
        state = dict(super().__getstate__())  # a copy: never the live __dict__
        state.pop("_share_memo", None)
        return state


def _load_augmenter(data, unfitted):
    """Unpickle a stored fitted augmenter if it matches ``unfitted``'s parameters."""
    if data is None:
        return None
    try:
        augmenter = pickle.loads(data)
        if type(augmenter) is not type(unfitted) or repr(
            clone(augmenter).get_params()
        ) != repr(unfitted.get_params()):
            return None
        augmenter.fingerprint()
        return augmenter
    except Exception:  # another version of the class: fit it again
        return None


def _as_text(item):
    """A copy as the page shows it: a text, or a pair as a list."""
    return list(item) if isinstance(item, tuple) else item
