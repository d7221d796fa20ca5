"""A synthetic sentiment task made of filler words and a few sentiment words."""

import numpy as np
from sklearn.utils import check_random_state

from ..utils._validation import check_int, check_random_state_param

POSITIVE_WORDS = ("good", "great", "fine", "superb", "lovely", "fun")
NEGATIVE_WORDS = ("bad", "awful", "dull", "poor", "boring", "weak")


def make_word_sentiment(
    n_samples=300, *, n_filler_words=120, max_filler=14, random_state=None
):
    """Generate a binary sentiment task whose label is set by a few words.

    Each text holds between 4 and ``max_filler - 1`` filler words
    (``w0``, ``w1``, ...) and one or two sentiment words of its class, in a
    random order. A bag of words separates the classes perfectly, and a
    TF-IDF copy that replaces a sentiment word can flip a model's
    prediction: a cheap, hand-checkable stand-in for SST-2 in tests and
    benchmarks.

    Parameters
    ----------
    n_samples : int, default=300
        Number of texts.
    n_filler_words : int, default=120
        Size of the filler vocabulary.
    max_filler : int, default=14
        One more than the largest number of filler words in a text (at
        least 5).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; the same seed gives the same texts.

    Returns
    -------
    X : list of str
        The texts.
    y : ndarray of shape (n_samples,)
        1 for positive, 0 for negative.

    Examples
    --------
    >>> from allsh_sklearn.datasets import make_word_sentiment
    >>> X, y = make_word_sentiment(3, random_state=0)
    >>> len(X), y.shape
    (3, (3,))
    """
    owner = "make_word_sentiment"
    check_int(n_samples, "n_samples", 1, owner=owner, type_error=True)
    check_int(n_filler_words, "n_filler_words", 1, owner=owner, type_error=True)
    check_int(max_filler, "max_filler", 5, owner=owner, type_error=True)
    check_random_state_param(random_state, owner=owner)
    rng = check_random_state(random_state)
    filler = [f"w{i}" for i in range(n_filler_words)]
    X, y = [], []
    for _ in range(n_samples):
        label = int(rng.rand() < 0.5)
        words = list(rng.choice(filler, size=rng.randint(4, max_filler)))
        sentiment = POSITIVE_WORDS if label else NEGATIVE_WORDS
        words += list(rng.choice(sentiment, size=rng.randint(1, 3)))
        rng.shuffle(words)
        X.append(" ".join(words))
        y.append(label)
    return X, np.asarray(y)
