"""Classifier tiers: the classifiers an active learning run can train, by name.

- ``"tfidf-lr"``: TF-IDF features (unigrams and bigrams, sublinear tf) fitted
  once on the whole unlabeled pool, then logistic regression on the labeled
  texts. The vectorizer is frozen (``clone`` returns it as it is):
  fitting it on the pool uses no labels, as BERT's pre-training does not, and
  keeps the vocabulary of unlabeled texts and of their augmented copies.
  Its rows are memoized by text (:class:`FrozenRowCache`), so the pool and
  its copies are vectorized once per run.
  Sentence pairs become ``[v(a), v(b), v(a) * v(b)]`` (the product marks the
  words both sides share).
  The regression is fitted on the columns that vary over the labeled texts
  only (``VarianceThreshold()``, step ``"labeled_vocabulary"``): the same
  model up to the solver's tolerance, 2-20 times faster on long texts (the
  fewer the labels, the more), whose pools have 10^5-10^6 unigrams and
  bigrams (see :class:`TfidfTier`).
- ``"tfidf-lr-20k"``: the same on the pool's 20,000 most frequent unigrams
  and bigrams, fitted with ``newton-cg`` (:class:`CappedTfidfTier`): the
  next batch of a labeling session in under a second on long texts, and
  more accurate than ``"tfidf-lr"`` on long and multi-class texts.
- ``"tfidf-minilm"``: the ``"tfidf-lr-20k"`` row beside the frozen
  all-MiniLM-L6-v2 embedding, one logistic regression
  (:class:`TfidfEncoderTier`): the words and what they mean together.
- ``"minilm-frozen"``: the frozen all-MiniLM-L6-v2 sentence embeddings
  (:class:`~allsh_sklearn.models.SentenceEncoder`: mean pooling,
  normalised, cached on disk) and logistic regression.
- ``"tfidf-lr-balanced"``, ``"tfidf-lr-20k-balanced"``,
  ``"tfidf-minilm-balanced"``, ``"minilm-frozen-balanced"``: the same with
  ``LogisticRegression(class_weight="balanced")``, which weighs each labeled
  example inversely to its class's share of the labels. Without it, a
  logistic regression trained on a few dozen labels drawn from an imbalanced
  pool predicts the majority class everywhere, whichever strategy chose the
  labels (Table 5); with it the strategies can be compared there.
- ``"tfidf-lr-cv"``, ``"tfidf-lr-20k-cv"``, ``"minilm-frozen-cv"``: the same
  with ``C`` chosen at
  every fit by stratified k-fold log-loss on the labels the classifier is
  fitted on (:class:`~allsh_sklearn.models.CrossValidatedLogisticRegression`,
  ``C`` in 0.01-1000), instead of the one ``C`` chosen with 600 random
  labels: a run refits on 10 labels, then 40, then 500, and the strength
  that suits 600 labels leaves the model of 10-100 labels predicting
  little more than the class prior.
- ``"minilm"``: all-MiniLM-L6-v2 fine-tuned end to end
  (:class:`~allsh_sklearn.models.TransformerClassifier`), with the
  consistency loss of eq. 5 for ALLSH + CL.

A tier is a small factory (:class:`ClassifierTier`, built by
:func:`make_tier`) that owns what its classifiers share for one pool (the
frozen TF-IDF vectorizer and its memoized rows) and builds a fresh
unfitted estimator per run (:meth:`ClassifierTier.build`). It also says what
a run needs to know about it: the pipeline step CAL and BADGE take
embeddings from (``embedding``), whether the classifier can train with the
consistency loss, and whether it has a frozen encoder whose embeddings are
worth computing ahead (``encoder``). A new tier is one subclass and one
call of :func:`register_tier` (or one entry of :data:`TIERS`, for a tier of
this package): the experiment runner, a labeling session and both
command lines look tiers up here.
"""

import numbers
import re
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..utils import is_pair
from ..utils._tags import TextInputMixin
from ..utils._validation import check_one_of, check_texts
from ._cv_logistic import CrossValidatedLogisticRegression

__all__ = [
    "CLASSIFIERS",
    "TIERS",
    "CappedTfidfTier",
    "ClassifierTier",
    "FastFineTunedTier",
    "FineTunedTier",
    "FrozenEncoderTier",
    "FrozenRowCache",
    "PairTfidfVectorizer",
    "TfidfTier",
    "make_tier",
    "register_tier",
]

#: Suffix of the class-weighted variants of the logistic-regression classifiers.
BALANCED_SUFFIX = "-balanced"


def base_classifier(name):
    """The classifier a name builds on, without its ``-balanced`` suffix.

    Parameters
    ----------
    name : str
        A name of :data:`CLASSIFIERS`.

    Returns
    -------
    base : str
        ``"tfidf-lr"``, ``"tfidf-lr-20k"``, ``"minilm-frozen"`` or ``"minilm"``.

    Examples
    --------
    >>> base_classifier("tfidf-lr-balanced"), base_classifier("minilm")
    ('tfidf-lr', 'minilm')
    """
    return name.removesuffix(BALANCED_SUFFIX)


class FrozenRowCache(TextInputMixin, TransformerMixin, BaseEstimator):
    """A fitted transformer, frozen, whose output rows are memoized by text.

    Like :class:`sklearn.frozen.FrozenEstimator`, ``fit`` does nothing and
    ``clone`` returns the object itself, so every clone of a pipeline shares
    it. ``transform`` computes only the texts it has not seen yet and
    returns the stored rows of the others: an active learning loop that
    scores the same pool (and its augmented copies) at every iteration
    transforms each text once.

    Parameters
    ----------
    transformer : object
        A fitted transformer on texts with ``transform``.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> frozen = FrozenRowCache(TfidfVectorizer().fit(["a film", "a play"]))
    >>> frozen.transform(["a film", "a film", "a play"]).shape
    (3, 2)
    """

    def __init__(self, transformer):
        self.transformer = transformer

    def __sklearn_clone__(self):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def fit(self, X=None, y=None):
        """Do nothing (the transformer is frozen).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : FrozenRowCache
        """
        return self

    def transform(self, X):
        """Rows of ``transformer.transform(X)``, computed once per distinct text.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            What ``transformer`` takes; a text seen before is not transformed
            again.

        Returns
        -------
        features : sparse matrix or ndarray of shape (n_samples, n_features)
        """
        from ..augment._cache import item_key

        if not hasattr(self, "_index"):
            self._index, self._rows = {}, None
        items = list(X)
        keys = [item_key(item) for item in items]
        missing = {}
        for key, item in zip(keys, items, strict=True):
            if key not in self._index and key not in missing:
                missing[key] = item
        if missing:
            fresh = self.transformer.transform(list(missing.values()))
            start = 0 if self._rows is None else self._rows.shape[0]
            if self._rows is None:
                self._rows = fresh
            elif sp.issparse(fresh):
                self._rows = sp.vstack([self._rows, fresh], format="csr")
            else:
                self._rows = np.vstack([self._rows, fresh])
            for offset, key in enumerate(missing):
                self._index[key] = start + offset
        return self._rows[[self._index[key] for key in keys]]


class PairTfidfVectorizer(TextInputMixin, TransformerMixin, BaseEstimator):
    """TF-IDF features of texts, or of sentence pairs side by side.

    A text ``x`` becomes ``v(x)``; a pair ``(a, b)`` becomes
    ``[v(a), v(b), v(a) * v(b)]`` (sparse), where the element-wise product
    is non-zero on the words both sides share. ``fit`` learns one vocabulary
    from both sides of every pair.

    Parameters
    ----------
    ngram_range : tuple of int, default=(1, 2)
    sublinear_tf : bool, default=True
    min_df : int or float, default=1
    max_features : int or None, default=None

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectorizer.
    is_pair_ : bool
        Whether ``fit`` saw sentence pairs.

    Examples
    --------
    >>> vec = PairTfidfVectorizer().fit([("a cat", "a dog"), ("a cat", "the cat")])
    >>> vec.transform([("a cat", "the cat")]).shape[1] == 3 * len(
    ...     vec.vectorizer_.vocabulary_)
    True
    """

    def __init__(
        self, ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=None
    ):
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, X, y=None):
        """Learn the vocabulary and idf from the texts (both sides of pairs).

        Parameters
        ----------
        X : sequence of str or of (str, str)
        y : None
            Ignored.

        Returns
        -------
        self : PairTfidfVectorizer
        """
        items = list(check_texts(X, name="X", allow_empty_strings=True))
        self.is_pair_ = is_pair(items[0])
        texts = [t for item in items for t in item] if self.is_pair_ else items
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=self.ngram_range,
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float64,
        ).fit(texts)
        return self

    def transform(self, X):
        """Return the TF-IDF rows of ``X`` (three blocks for pairs).

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Of the kind ``fit`` saw (texts, or sentence pairs).

        Returns
        -------
        features : sparse matrix of shape (n_samples, n_features)
        """
        check_is_fitted(self, "vectorizer_")
        items = list(check_texts(X, name="X", allow_empty_strings=True))
        if not self.is_pair_:
            return self.vectorizer_.transform(items)
        first = self.vectorizer_.transform([a for a, _ in items])
        second = self.vectorizer_.transform([b for _, b in items])
        return sp.hstack([first, second, first.multiply(second)], format="csr")


class ClassifierTier:
    """A named kind of classifier for one pool: builds fresh estimators.

    Subclasses set the class attributes and implement :meth:`_build`;
    :meth:`prepare` learns what every classifier of the pool shares (no
    labels are used).

    Parameters
    ----------
    name : str
        The tier's name in :data:`TIERS`.
    class_weight : {None, "balanced"}, default=None
        Of the logistic regression (the ``-balanced`` tiers).
    cache_dir : str, path or None, default=None
        The embedding cache of a frozen encoder.
    max_length : int, default=128
        Truncation of transformer inputs (the paper's 128, 256 for IMDB).
    train_steps : int, default=100
        Optimisation steps per training of a fine-tuned transformer.
    cross_validate_C : bool, default=False
        Choose the logistic regression's ``C`` at every fit by k-fold
        log-loss on the labels (the ``-cv`` tiers); the tier's own ``C``
        is then the fallback when a class has a single label.

    Attributes
    ----------
    embedding : str or None
        The pipeline step whose output CAL and BADGE take as embeddings
        (None: the classifier's own ``predict_proba_and_embed``).
    supports_consistency : bool
        Whether :meth:`build` accepts ``consistency=True`` (ALLSH + CL).
    fine_tuned : bool
        Whether the classifier trains a transformer (``train_steps`` apply).
    description : str
        One line for the command-line help.
    """

    embedding = None
    supports_consistency = False
    fine_tuned = False
    description = ""
    #: The solver of the tier's logistic regression (the ``-cv`` tiers'
    #: ``CrossValidatedLogisticRegression`` uses its own, L-BFGS).
    solver = "lbfgs"

    def __init__(
        self,
        name,
        *,
        class_weight=None,
        cache_dir=None,
        max_length=128,
        train_steps=100,
        cross_validate_C=False,
    ):
        self.name = name
        self.class_weight = class_weight
        self.cache_dir = cache_dir
        self.max_length = max_length
        self.train_steps = train_steps
        self.cross_validate_C = cross_validate_C

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

    def prepare(self, X_pool):
        """Learn what the tier's classifiers share for this pool (no labels).

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The whole unlabeled pool.

        Returns
        -------
        self : ClassifierTier
        """
        return self

    def encoder(self):
        """The fitted frozen encoder whose embeddings can be computed ahead.

        Returns
        -------
        encoder : SentenceEncoder or None
            None when the tier has none (its features are cheap or trained).
        """
        return None

    def build(self, *, classes, random_state=0, consistency=False):
        """A fresh, unfitted classifier on raw texts.

        Parameters
        ----------
        classes : array-like
            All class labels.
        random_state : int, default=0
            Seeds a fine-tuned transformer.
        consistency : bool, default=False
            Train with the consistency loss of eq. 5 (ALLSH + CL; only tiers
            with ``supports_consistency``).

        Returns
        -------
        estimator : object
        """
        if consistency and not self.supports_consistency:
            raise ValueError(
                "ALLSH + CL trains the classifier with the consistency loss of "
                "eq. 5, which needs classifier='minilm'. Got "
                f"classifier={self.name!r}: drop 'allsh-cl' from the strategies "
                "or use --classifier minilm."
            )
        return self._build(classes, random_state, consistency)

    def _build(self, classes, random_state, consistency):
        raise NotImplementedError

    def _logistic_regression(self, C):
        if self.cross_validate_C:
            return CrossValidatedLogisticRegression(
                fallback_C=C, class_weight=self.class_weight, max_iter=2000
            )
        return LogisticRegression(
            C=C, class_weight=self.class_weight, solver=self.solver, max_iter=2000
        )


class TfidfTier(ClassifierTier):
    """TF-IDF features fitted on the pool (frozen, memoized) + logistic regression.

    The inverse regularisation ``C = 100`` was chosen on SST-2's dev split
    (never the test split) with 600 random labels; see docs/results.md.
    Parameters are those of :class:`ClassifierTier`.

    Notes
    -----
    The vocabulary is the pool's: 10^5-10^6 unigrams and bigrams on a pool
    of a few thousand long texts, of which 100-1,000 labeled texts use a
    few percent. The regression is fitted on those columns only
    (``VarianceThreshold()`` before it, refitted at every fit). The model
    is the same up to the solver's tolerance (the runner's golden run
    picks the same texts and reaches the same accuracies; 12 query-score
    summaries moved in their last one or two digits): a column that is zero on
    every labeled text has a zero gradient, so the L2 penalty holds its
    coefficients at 0 and L-BFGS
    never moves them; a column constant over the labeled texts would be
    collinear with the unpenalised intercept, and its coefficients are 0
    as well. L-BFGS then updates ``n_classes * n_used`` coefficients per
    iteration instead of ``n_classes * n_columns``: on 5,000 texts of about
    116 words (292,318 columns), the fit on 300 labels takes 0.6 s of CPU
    instead of 5.8 s, on 1,000 labels 2.4 s instead of 9.3 s
    (``benchmarks/bench_session.py --compare-fits``).
    """

    embedding = "tfidf"
    description = "TF-IDF (1-2 grams, fitted on the pool) + logistic regression"
    C = 100.0
    #: The vocabulary's size limit (None: every unigram and bigram of the pool).
    max_features = None
    #: Fit the regression on the columns that vary over the labeled texts
    #: only (see Notes); False fits every column of the vocabulary, as the
    #: ``"tfidf-lr"`` runs recorded before issue 30 did.
    labeled_vocabulary = True

    def prepare(self, X_pool):
        vectorizer = PairTfidfVectorizer(max_features=self.max_features)
        self.features_ = FrozenRowCache(vectorizer.fit(X_pool))
        return self

    def _build(self, classes, random_state, consistency):
        if not hasattr(self, "features_"):
            raise RuntimeError(
                f"The {self.name!r} tier learns its vocabulary from the pool: "
                "call prepare(X_pool) before build()."
            )
        steps = [("tfidf", self.features_)]
        if self.labeled_vocabulary:
            steps.append(("labeled_vocabulary", VarianceThreshold()))
        steps.append(("lr", self._logistic_regression(self.C)))
        return Pipeline(steps)


class CappedTfidfTier(TfidfTier):
    """The TF-IDF tier on the pool's 20,000 most frequent terms, with newton-cg.

    The vocabulary keeps the 20,000 unigrams and bigrams most frequent in
    the pool (``TfidfVectorizer(max_features=20000)``), and the logistic
    regression (``C = 100``, on the columns the labeled texts use) is
    fitted with ``solver="newton-cg"``, which reaches the optimum in 5-10
    Newton steps where L-BFGS takes 25-75 iterations. On 5,000 long texts
    of 8 classes the next batch of a labeling session is ready in 0.4 s
    with 900 labels and 0.6 s with 2,000 (``benchmarks/bench_session.py
    --long``; 14 s and 17 s for ``"tfidf-lr"`` before issue 30).

    The rare terms it leaves out let a weakly regularised regression fit
    each labeled text by words no other text has; without them it
    generalises better. Paired against ``"tfidf-lr"`` on the same random
    labeled sets (100-1,000 labels, 5 seeds; ``bench_session.py
    --compare-fits``), held-out accuracy rose by 3.0 points on IMDB, 3.5
    on AG News with Zipf class shares, 9.5 on 8-class long texts, and
    -0.1 [-0.7, +0.5] on SST-2 (-0.6 at 1,000 labels); macro-F1 by 4.3,
    7.2, 16.2 and +0.1 [-0.8, +1.0]. Parameters are those of
    :class:`ClassifierTier`.
    """

    description = (
        "TF-IDF (1-2 grams, the pool's 20,000 most frequent) + logistic "
        "regression (newton-cg)"
    )
    max_features = 20_000
    solver = "newton-cg"


class _FrozenEncoder:
    """The frozen MiniLM encoder of a tier (its ``cache_dir``, ``max_length``)."""

    def _encoder(self):
        from ._sentence_encoder import SentenceEncoder

        return SentenceEncoder(max_length=self.max_length, cache_dir=self.cache_dir)

    def encoder(self):
        return self._encoder().fit()


class FrozenEncoderTier(_FrozenEncoder, ClassifierTier):
    """Frozen MiniLM sentence embeddings (cached on disk) + logistic regression.

    ``C = 1`` was chosen on SST-2's dev split with 600 random labels.
    Parameters are those of :class:`ClassifierTier`.
    """

    embedding = "encoder"
    description = "frozen all-MiniLM-L6-v2 mean-pooled embeddings + logistic regression"
    C = 1.0

    def _build(self, classes, random_state, consistency):
        return Pipeline(
            [("encoder", self._encoder()), ("lr", self._logistic_regression(self.C))]
        )


class TfidfEncoderTier(_FrozenEncoder, CappedTfidfTier):
    """The 20k TF-IDF terms and the frozen MiniLM embedding side by side + LR.

    Each text becomes ``[tfidf(x), encoder(x)]``: the TF-IDF row of
    ``"tfidf-lr-20k"`` (the pool's 20,000 most frequent unigrams and
    bigrams, unit norm) beside the all-MiniLM-L6-v2 embedding of
    ``"minilm-frozen"`` (mean-pooled, unit norm, cached on disk), then one
    logistic regression (``C = 100``, newton-cg, on the columns the labeled
    texts use). The words carry topics and names; the embedding carries
    what a bag of words misses, such as the sentiment of a review told in
    words no label has used yet.

    The embedding's weight (``encoder_weight``, 1: the two unit-norm blocks
    as they are) was checked on training splits only (SST-2, AG News, TREC;
    ``benchmarks/bench_tfidf_minilm_weight.py``), against 0.1, 0.3 and 3.
    Parameters are those of :class:`ClassifierTier`.
    """

    embedding = "features"
    description = (
        "TF-IDF (the pool's 20,000 most frequent 1-2 grams) beside frozen "
        "all-MiniLM-L6-v2 embeddings + logistic regression (newton-cg)"
    )
    #: The weight of the embedding block beside the unit-norm TF-IDF row.
    encoder_weight = 1.0

    def _build(self, classes, random_state, consistency):
        from sklearn.pipeline import FeatureUnion

        tfidf = super()._build(classes, random_state, consistency)
        features = FeatureUnion(
            [("tfidf", tfidf.named_steps["tfidf"]), ("encoder", self._encoder())],
            transformer_weights={"encoder": self.encoder_weight},
        )
        return Pipeline([("features", features), *tfidf.steps[1:]])


class FineTunedTier(ClassifierTier):
    """MiniLM fine-tuned end to end (TransformerClassifier); + CL adds eq. 5.

    Parameters are those of :class:`ClassifierTier`.
    """

    supports_consistency = True
    fine_tuned = True
    description = (
        "all-MiniLM-L6-v2 fine-tuned (TransformerClassifier); + CL uses the "
        "consistency loss"
    )
    lr = 5e-5
    #: Steps per training when the tier is built without ``train_steps``.
    default_train_steps = 100
    #: TransformerClassifier parameters of the tier: the whole model, float32.
    classifier_options = {"trainable_layers": None, "precision": "float32"}

    def _build(self, classes, random_state, consistency):
        from ._consistency import ConsistencyLoss
        from ._transformer import TransformerClassifier

        if not isinstance(random_state, numbers.Integral):
            raise TypeError(
                f"random_state must be an int for classifier={self.name!r}. Got "
                f"{type(random_state).__name__} instead."
            )
        params = {
            "train_steps": (
                self.default_train_steps
                if self.train_steps is None
                else self.train_steps
            ),
            "max_length": self.max_length,
            "random_state": int(random_state),
            "classes": np.asarray(classes),
            "lr": self.lr,
            **self.classifier_options,
        }
        if consistency:
            params.update(criterion=ConsistencyLoss, criterion__alpha=0.01)
        return TransformerClassifier(**params)


class FastFineTunedTier(FineTunedTier):
    """MiniLM's top 2 layers fine-tuned on a cached frozen trunk; + CL adds eq. 5.

    TransformerClassifier's defaults: the embeddings and bottom 4 of the 6
    layers frozen, their output computed once per text and cached for the
    run; the top 2 layers, the pooler and the head trained at lr 1e-4;
    bfloat16 autocast where the CPU has it. With the paper's 200 training
    iterations per fit and, for ALLSH + CL, the paper's CL weight
    ``alpha = 0.01`` (TF-IDF copies, p = 0.3, KL). Deviations from the paper:
    MiniLM for BERT-base, the top 2 layers at lr 1e-4 for the whole model at
    2e-5. Parameters are those of :class:`ClassifierTier`.
    """

    description = (
        "all-MiniLM-L6-v2, top 2 of 6 layers fine-tuned on a cached frozen "
        "trunk (200 steps, lr 1e-4, bf16 where native); + CL uses the "
        "consistency loss (alpha 0.01)"
    )
    lr = 1e-4
    default_train_steps = 200
    classifier_options = {}


_BALANCED = (
    " with class-weighted logistic regression (class_weight='balanced', for "
    "imbalanced pools)"
)

#: Tier names: the class and its fixed options. A new tier is one entry
#: (or, outside this module, one call of :func:`register_tier`).
TIERS = {
    "tfidf-lr": (TfidfTier, {}),
    "minilm-frozen": (FrozenEncoderTier, {}),
    "minilm": (FineTunedTier, {}),
    "minilm-fast": (FastFineTunedTier, {}),
    "tfidf-lr-balanced": (TfidfTier, {"class_weight": "balanced"}),
    "minilm-frozen-balanced": (FrozenEncoderTier, {"class_weight": "balanced"}),
    "tfidf-lr-cv": (TfidfTier, {"cross_validate_C": True}),
    "minilm-frozen-cv": (FrozenEncoderTier, {"cross_validate_C": True}),
    "tfidf-lr-20k": (CappedTfidfTier, {}),
    "tfidf-lr-20k-balanced": (CappedTfidfTier, {"class_weight": "balanced"}),
    "tfidf-lr-20k-cv": (CappedTfidfTier, {"cross_validate_C": True}),
    "tfidf-minilm": (TfidfEncoderTier, {}),
    "tfidf-minilm-balanced": (TfidfEncoderTier, {"class_weight": "balanced"}),
}

_CROSS_VALIDATED = (
    ", C chosen at every fit by k-fold log-loss (k <= 5) on the labels (small budgets)"
)


def _describe(name, cls, options):
    if options.get("class_weight"):
        return f"{base_classifier(name)}{_BALANCED}"
    if options.get("cross_validate_C"):
        return f"{cls.description}{_CROSS_VALIDATED}"
    return cls.description


#: Tier names with a one-line description (the command-line help).
CLASSIFIERS = {
    name: _describe(name, cls, options) for name, (cls, options) in TIERS.items()
}

_TIER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
#: The parameters :func:`make_tier` passes to every tier itself.
_MAKE_TIER_PARAMETERS = ("cache_dir", "max_length", "train_steps")


def register_tier(name, tier_class, **options):
    """Add a classifier tier to :data:`TIERS` and :data:`CLASSIFIERS`.

    The experiment runner, labeling sessions and the ``--classifier``
    option of both command lines then accept ``name`` (a command line, once
    the module that registers it is imported).

    Parameters
    ----------
    name : str
        The tier's name: lower-case letters, digits, ``'-'`` and ``'_'``,
        not registered yet.
    tier_class : type
        A subclass of :class:`ClassifierTier` that implements ``_build``
        and sets ``description`` (one line for the command-line help).
    **options
        Fixed parameters of ``tier_class`` for this name, such as
        ``class_weight="balanced"`` (not those :func:`make_tier` passes:
        ``cache_dir``, ``max_length``, ``train_steps``).

    Returns
    -------
    tier_class : type
        ``tier_class`` itself.

    Raises
    ------
    TypeError
        ``tier_class`` is not a :class:`ClassifierTier` subclass, or
        ``options`` are not parameters of it.
    ValueError
        ``name`` is malformed or taken, or ``tier_class`` has no
        ``description``.

    Examples
    --------
    >>> class WordCountTier(ClassifierTier):
    ...     description = "word counts + logistic regression"
    ...     def _build(self, classes, random_state, consistency):
    ...         from sklearn.feature_extraction.text import CountVectorizer
    ...         from sklearn.pipeline import make_pipeline
    ...         return make_pipeline(CountVectorizer(), LogisticRegression())
    >>> register_tier("word-counts", WordCountTier) is WordCountTier
    True
    >>> make_tier("word-counts"), CLASSIFIERS["word-counts"]
    (WordCountTier('word-counts'), 'word counts + logistic regression')
    >>> _ = TIERS.pop("word-counts"), CLASSIFIERS.pop("word-counts")
    """
    if not (isinstance(name, str) and _TIER_NAME.fullmatch(name)):
        raise ValueError(
            "The 'name' parameter of register_tier must be lower-case letters, "
            "digits, '-' and '_' (it is a --classifier choice). Got "
            f"{name!r} instead."
        )
    if name in TIERS:
        raise ValueError(
            f"The 'name' parameter of register_tier must be a new tier name. Got "
            f"{name!r}, which names the {TIERS[name][0].__name__} tier already; "
            "choose another name."
        )
    if not (isinstance(tier_class, type) and issubclass(tier_class, ClassifierTier)):
        raise TypeError(
            "The 'tier_class' parameter of register_tier must be a subclass of "
            f"ClassifierTier. Got {tier_class!r} instead."
        )
    if not (isinstance(tier_class.description, str) and tier_class.description):
        raise ValueError(
            f"The 'tier_class' parameter of register_tier must set description "
            f"(one line for the --classifier help). Got {tier_class.__name__} "
            f"with description={tier_class.description!r}."
        )
    reserved = sorted(set(options) & set(_MAKE_TIER_PARAMETERS))
    if reserved:
        raise TypeError(
            f"The options of register_tier cannot set {reserved}: make_tier "
            "passes them to every tier. Got options "
            f"{sorted(options)} for {name!r}."
        )
    try:
        tier_class(name, **options)
    except TypeError as error:
        raise TypeError(
            f"The options of register_tier must be parameters of "
            f"{tier_class.__name__}. Got {sorted(options)} for {name!r}: {error}"
        ) from error
    TIERS[name] = (tier_class, dict(options))
    CLASSIFIERS[name] = _describe(name, tier_class, options)
    return tier_class


def make_tier(name, *, cache_dir=None, max_length=128, train_steps=None):
    """Build the named classifier tier.

    Parameters
    ----------
    name : str
        A name of :data:`TIERS`.
    cache_dir : str, path or None, default=None
        The embedding cache of a frozen encoder.
    max_length : int, default=128
        Truncation of transformer inputs.
    train_steps : int or None, default=None
        Steps per training of a fine-tuned transformer; None is the tier's
        own (100 for ``"minilm"``, the paper's 200 for ``"minilm-fast"``).

    Returns
    -------
    tier : ClassifierTier
        Call ``tier.prepare(X_pool)`` once per pool, then
        ``tier.build(classes=..., random_state=...)`` once per run.

    Examples
    --------
    >>> tier = make_tier("tfidf-lr").prepare(["a good film", "a bad film"])
    >>> model = tier.build(classes=[0, 1]).fit(["a good film", "a bad film"], [1, 0])
    >>> model.predict(["good"]).tolist(), tier.embedding
    ([1], 'tfidf')
    """
    check_one_of(name, "classifier", TIERS)
    cls, options = TIERS[name]
    return cls(
        name,
        cache_dir=cache_dir,
        max_length=max_length,
        train_steps=train_steps,
        **options,
    )


def make_classifier(
    name,
    X_pool,
    *,
    classes,
    random_state=0,
    cache_dir=None,
    max_length=128,
    consistency=False,
    minilm_train_steps=100,
    shared=None,
):
    """Deprecated: use ``make_tier(name, ...).prepare(X_pool).build(...)``.

    Returns ``(estimator, embedding step)`` as before; ``shared`` keeps the
    prepared tier between calls.
    """
    warnings.warn(
        "make_classifier is deprecated and will be removed in the next release; "
        "use allsh_sklearn.models.make_tier(name).prepare(X_pool).build(...)",
        DeprecationWarning,
        stacklevel=2,
    )
    shared = {} if shared is None else shared
    tier = shared.get("tier")
    if tier is None:
        tier = make_tier(
            name,
            cache_dir=cache_dir,
            max_length=max_length,
            train_steps=minilm_train_steps,
        ).prepare(X_pool)
        shared["tier"] = tier
    estimator = tier.build(
        classes=classes, random_state=random_state, consistency=consistency
    )
    return estimator, tier.embedding
