"""The classifiers the experiment runner can use, by name.

- ``"tfidf-lr"``: TF-IDF features (unigrams and bigrams, sublinear tf) fitted
  once on the whole unlabeled pool, then logistic regression on the labeled
  texts. The vectorizer is frozen (``clone`` returns it as it is):
  fitting it on the pool uses no labels, as BERT's pre-training does not, and
  keeps the vocabulary of unlabeled texts and of their augmented copies.
  Its rows are memoized by text (:class:`FrozenRowCache`), so the pool and
  its copies are vectorized once per run.
  Sentence pairs become ``[v(a), v(b), v(a) * v(b)]`` (the product marks the
  words both sides share).
- ``"minilm-frozen"``: the frozen all-MiniLM-L6-v2 sentence embeddings
  (:class:`~allsh_sklearn.experiments.SentenceEncoder`: mean pooling,
  normalised, cached on disk) and logistic regression.
- ``"tfidf-lr-balanced"``, ``"minilm-frozen-balanced"``: the same with
  ``LogisticRegression(class_weight="balanced")``, which weighs each labeled
  example inversely to its class's share of the labels. Without it, a
  logistic regression trained on a few dozen labels drawn from an imbalanced
  pool predicts the majority class everywhere, whichever strategy chose the
  labels (Table 5); with it the strategies can be compared there.
- ``"minilm"``: all-MiniLM-L6-v2 fine-tuned end to end
  (:class:`~allsh_sklearn.models.TransformerClassifier`), with the
  consistency loss of eq. 5 for ALLSH + CL.

Each factory returns the estimator and the name of the pipeline step whose
output CAL and BADGE use as embeddings (None: the transformer's own).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import _is_pair, check_one_of, check_texts

__all__ = ["CLASSIFIERS", "FrozenRowCache", "PairTfidfVectorizer", "make_classifier"]

#: Names accepted by :func:`make_classifier`, with a one-line description.
CLASSIFIERS = {
    "tfidf-lr": "TF-IDF (1-2 grams, fitted on the pool) + logistic regression",
    "minilm-frozen": "frozen all-MiniLM-L6-v2 mean-pooled embeddings + logistic "
    "regression",
    "minilm": "all-MiniLM-L6-v2 fine-tuned (TransformerClassifier); + CL uses "
    "the consistency loss",
    "tfidf-lr-balanced": "tfidf-lr with class-weighted logistic regression "
    "(class_weight='balanced', for imbalanced pools)",
    "minilm-frozen-balanced": "minilm-frozen with class-weighted logistic "
    "regression (class_weight='balanced', for imbalanced pools)",
}

#: Suffix of the class-weighted variants of the logistic-regression classifiers.
BALANCED_SUFFIX = "-balanced"

#: Inverse regularisation of the logistic regressions. Chosen on SST-2's dev
#: split (never the test split) with 600 random labels; see docs/results.md.
LR_C = {"tfidf-lr": 100.0, "minilm-frozen": 1.0}


def base_classifier(name):
    """The classifier a name builds on, without its ``-balanced`` suffix.

    Parameters
    ----------
    name : str
        A name of :data:`CLASSIFIERS`.

    Returns
    -------
    base : str
        ``"tfidf-lr"``, ``"minilm-frozen"`` or ``"minilm"``.

    Examples
    --------
    >>> base_classifier("tfidf-lr-balanced"), base_classifier("minilm")
    ('tfidf-lr', 'minilm')
    """
    return name.removesuffix(BALANCED_SUFFIX)


def _logistic_regression(name):
    class_weight = "balanced" if name.endswith(BALANCED_SUFFIX) else None
    return LogisticRegression(
        C=LR_C[base_classifier(name)], class_weight=class_weight, max_iter=2000
    )


class FrozenRowCache(TransformerMixin, BaseEstimator):
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class PairTfidfVectorizer(TransformerMixin, BaseEstimator):
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
        self.is_pair_ = _is_pair(items[0])
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _check_name(name):
    check_one_of(name, "classifier", CLASSIFIERS)


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
    """Build the named classifier for a pool.

    Parameters
    ----------
    name : {"tfidf-lr", "minilm-frozen", "minilm", "tfidf-lr-balanced", \
            "minilm-frozen-balanced"}
        See :data:`CLASSIFIERS`.
    X_pool : sequence of str or of (str, str)
        The whole unlabeled pool (the TF-IDF vocabulary is learned from it).
    classes : array-like
        All class labels.
    random_state : int, default=0
        Seeds the fine-tuned transformer.
    cache_dir : str, path or None, default=None
        The embedding cache of the frozen encoder.
    max_length : int, default=128
        Truncation of the transformer inputs (the paper's 128, 256 for IMDB).
    consistency : bool, default=False
        ``"minilm"`` only: train with the consistency loss (ALLSH + CL,
        ``alpha=0.01``).
    minilm_train_steps : int, default=100
        ``"minilm"`` only: optimisation steps per training.
    shared : dict or None, default=None
        Keeps the frozen TF-IDF vectorizer of ``X_pool`` (and its memoized
        rows) between calls: pass the same dict for the same pool.

    Returns
    -------
    estimator : object
        An unfitted classifier on raw texts.
    embedding : str or None
        The pipeline step CAL and BADGE take embeddings from (None: the
        transformer's ``predict_proba_and_embed``).
    """
    _check_name(name)
    if consistency and name != "minilm":
        raise ValueError(
            "ALLSH + CL trains the classifier with the consistency loss of eq. 5, "
            f"which needs classifier='minilm'. Got classifier={name!r}: drop "
            "'allsh-cl' from the strategies or use --classifier minilm."
        )
    if base_classifier(name) == "tfidf-lr":
        shared = {} if shared is None else shared
        if "tfidf" not in shared:
            shared["tfidf"] = FrozenRowCache(PairTfidfVectorizer().fit(X_pool))
        estimator = Pipeline(
            [
                ("tfidf", shared["tfidf"]),
                ("lr", _logistic_regression(name)),
            ]
        )
        return estimator, "tfidf"
    if base_classifier(name) == "minilm-frozen":
        from ._encoders import SentenceEncoder

        estimator = Pipeline(
            [
                (
                    "encoder",
                    SentenceEncoder(max_length=max_length, cache_dir=cache_dir),
                ),
                ("lr", _logistic_regression(name)),
            ]
        )
        return estimator, "encoder"
    from ..models import ConsistencyLoss, TransformerClassifier

    if not isinstance(random_state, numbers.Integral):
        raise TypeError("random_state must be an int for classifier='minilm'.")
    params = {
        "train_steps": minilm_train_steps,
        "max_length": max_length,
        "random_state": int(random_state),
        "classes": np.asarray(classes),
        "lr": 5e-5,
    }
    if consistency:
        params.update(criterion=ConsistencyLoss, criterion__alpha=0.01)
    return TransformerClassifier(**params), None
