"""Small real models and synthetic corpora shared by several test modules.

Import what a module needs::

    from _toy_models import SvdClassifier, synthetic_texts
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

POSITIVE = "good great fine nice superb lovely charming".split()
NEGATIVE = "bad awful poor dull boring weak tedious".split()
SPORT = "goal match team score win cup league".split()
FILLER = "the a film movie plot cast story it was is of and".split()


class SvdClassifier(ClassifierMixin, BaseEstimator):
    """A real small model with the transformer classifier's embedding API.

    TF-IDF then truncated SVD give the "penultimate" vector ``h`` (the input
    of the logistic-regression head); its tanh is the "pooler" vector.
    ``predict_proba_and_embed`` runs the model once; ``n_forward_`` counts
    the passes.
    """

    def __init__(self, n_components=6):
        self.n_components = n_components

    def fit(self, X, y):
        self.vectorizer_ = TfidfVectorizer().fit(X)
        self.svd_ = TruncatedSVD(self.n_components, random_state=0)
        self.svd_.fit(self.vectorizer_.transform(X))
        self.head_ = LogisticRegression().fit(self._hidden(X), y)
        self.classes_ = self.head_.classes_
        self.n_forward_ = 0
        return self

    def _hidden(self, X):
        return self.svd_.transform(self.vectorizer_.transform(X))

    def _forward(self, X):
        self.n_forward_ += 1
        return self._hidden(X)

    def predict_proba(self, X):
        return self.head_.predict_proba(self._forward(X))

    def predict_proba_and_embed(self, X, kind="pooler"):
        hidden = self._forward(X)
        embeddings = np.tanh(hidden) if kind == "pooler" else hidden
        return self.head_.predict_proba(hidden), embeddings


def synthetic_texts(n=240, n_classes=2, seed=0, noise=0.2):
    """Short texts: filler words, one or two class words, some label noise.

    Parameters
    ----------
    n : int, default=240
        How many texts; their labels cycle through the classes.
    n_classes : int, default=2
        2 (negative, positive) or 3 (and sport).
    seed : int, default=0
        Seeds the words drawn.
    noise : float, default=0.2
        Probability that a text also gets a word of the next class.

    Returns
    -------
    X : list of str
    y : ndarray of shape (n,)
    """
    rng = np.random.RandomState(seed)
    lexicons = [NEGATIVE, POSITIVE, SPORT]
    X, y = [], []
    for i in range(n):
        label = i % n_classes
        words = list(rng.choice(FILLER, rng.randint(3, 8)))
        words += list(rng.choice(lexicons[label], rng.randint(1, 3)))
        if rng.rand() < noise:
            words += list(rng.choice(lexicons[(label + 1) % n_classes], 1))
        rng.shuffle(words)
        X.append(" ".join(words))
        y.append(label)
    return X, np.array(y)
