"""UDA's TF-IDF word replacement as a scikit-learn transformer.

Unsupervised Data Augmentation (Xie et al., 2020) replaces the uninformative
words of a sentence (low TF-IDF) by uninformative words of the corpus, and
keeps the informative ones. The ALLSH paper uses it with magnitude
``p = 0.3`` to build the local neighbourhood of a text.

The whole batch is processed with array operations: words become integer ids
through a dictionary, per-sentence scores are computed on flat arrays, and
the random numbers come from a counter-based hash of a per-text seed, so a
copy depends only on the text, the copy index and the seed.
"""

import hashlib
import itertools
import numbers
import string

import numpy as np

from ..utils._validation import _describe
from ._base import BaseAugmenter, stable_seed

_PUNCTUATION = frozenset(string.punctuation)

# SplitMix64 constants (Steele, Lea and Flood, 2014).
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _uniform_from_counter(seeds, counters):
    """Return uniforms in [0, 1), one per ``(seed, counter)``, by SplitMix64.

    The value depends only on its own seed and counter, which is what makes
    an augmented copy independent of the other texts of a batch.
    """
    z = seeds + (counters.astype(np.uint64) + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0**53)


def _is_punctuation(word):
    return all(char in _PUNCTUATION for char in word)


def _tokenize(texts):
    """Split each text on whitespace; return flat tokens and lengths."""
    token_lists = [text.split() for text in texts]
    lengths = np.fromiter(
        (len(tokens) for tokens in token_lists), dtype=np.int64, count=len(texts)
    )
    flat = [token for tokens in token_lists for token in tokens]
    return flat, lengths


class TfidfAugmenter(BaseAugmenter):
    """Replace uninformative words by uninformative corpus words (UDA).

    ``fit`` learns from a corpus the inverse document frequency of each word,
    ``idf(w) = log(N / df(w))``, and its corpus score
    ``tfidf(w) = sum over texts of count(w) / len(text) * idf(w)``.
    ``transform`` scores each word of a sentence by ``s_i = tf(w_i) *
    idf(w_i)`` (``tf`` within the sentence), replaces it with probability
    ``min(p * (max_j s_j - s_i) / Z, 1)``, where ``Z`` is the sentence's mean
    of ``max_j s_j - s_j``, and draws each replacement from the vocabulary
    with probability proportional to ``max_w tfidf(w) - tfidf(w)``. On
    average about a fraction ``p`` of the words are replaced, the least
    informative ones most often.

    Read more in UDA's ``word_level_augment.py`` (google-research/uda).

    Parameters
    ----------
    p : float, default=0.3
        The magnitude: the expected fraction of replaced words, in (0, 1].
        The ALLSH paper uses 0.3.
    random_state : int, RandomState instance or None, default=None
        Seeds the replacements. With an int, copy ``k`` of a text is the same
        on every call and whatever the other texts of the batch.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Maps each word of the fitted corpus to its index in ``idf_``.
    idf_ : ndarray of shape (n_words,)
        Inverse document frequency of each word.
    tfidf_ : ndarray of shape (n_words,)
        Corpus TF-IDF score of each word.
    replacement_distribution_ : ndarray of shape (n_words,)
        Probability of drawing each word as a replacement, proportional to
        ``tfidf_.max() - tfidf_`` (uniform if all scores are equal).
    n_texts_ : int
        Number of texts in the fitted corpus (both sides of pairs count).
    seed_ : int
        The seed drawn from ``random_state`` at fit time.

    Notes
    -----
    Texts are tokenised by splitting on whitespace, as UDA does on
    pre-tokenised text: words are case-sensitive and punctuation must be
    separated by spaces to count as its own token (SST-2 is distributed this
    way, lower-cased). An augmented text is its tokens joined by single
    spaces; a text with no replaced word is returned unchanged.

    Words made only of punctuation characters (``","``, ``"--"``) take part
    in the scores but are never replaced, as in UDA. Words unseen at fit time
    get the largest fitted ``idf``. When every word of a sentence has the
    same score (a one-word sentence, for instance), ``Z = 0`` and the
    sentence is left unchanged, where UDA would produce NaN probabilities.

    Examples
    --------
    >>> from allsh_sklearn.augment import TfidfAugmenter
    >>> corpus = ["the film is good", "the film is bad", "the plot is thin",
    ...           "a good cast"]
    >>> augmenter = TfidfAugmenter(p=0.5, random_state=0).fit(corpus)
    >>> round(float(augmenter.idf_[augmenter.vocabulary_["the"]]), 4)
    0.2877
    >>> augmenter.transform(["the film is good", "good"])
    ['the film good good', 'good']
    >>> [len(copies) for copies in augmenter.augment(corpus, n_copies=3)]
    [4, 4, 4]
    """

    def __init__(self, p=0.3, random_state=None):
        self.p = p
        self.random_state = random_state

    def _validate_params(self):
        p = self.p
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(
                "The 'p' parameter of TfidfAugmenter must be a float in (0, 1]. "
                f"Got {_describe(p)} of type {type(p).__name__} instead."
            )
        if not 0.0 < float(p) <= 1.0:
            raise ValueError(
                "The 'p' parameter of TfidfAugmenter must be a float in (0, 1]. "
                f"Got {_describe(p)} instead; the paper uses 0.3."
            )

    # Fitting -----------------------------------------------------------------

    def _fit_texts(self, texts):
        tokens, lengths = _tokenize(texts)
        vocabulary = {}
        ids = np.fromiter(
            (vocabulary.setdefault(token, len(vocabulary)) for token in tokens),
            dtype=np.int64,
            count=len(tokens),
        )
        n_words = len(vocabulary)
        n_texts = len(texts)
        doc = np.repeat(np.arange(n_texts, dtype=np.int64), lengths)

        # Document frequency: count each (text, word) pair once.
        df = np.bincount(np.unique(doc * n_words + ids) % n_words, minlength=n_words)
        idf = np.log(n_texts / df)
        # Each occurrence adds 1 / len(text) * idf(w) to the word's score.
        weights = 1.0 / np.repeat(lengths, lengths)
        tfidf = np.bincount(ids, weights=weights, minlength=n_words) * idf

        distribution = tfidf.max() - tfidf
        total = distribution.sum()
        if not total > 0.0:
            distribution = np.ones(n_words)
            total = float(n_words)
        distribution = distribution / total

        self.vocabulary_ = vocabulary
        self.idf_ = idf
        self.tfidf_ = tfidf
        self.replacement_distribution_ = distribution
        self.n_texts_ = n_texts
        self._words = list(vocabulary)
        self._cdf = np.cumsum(distribution)
        self._punctuation = np.fromiter(
            (_is_punctuation(word) for word in self._words), dtype=bool, count=n_words
        )

    def _fitted_state_token(self):
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{self.n_texts_}:{len(self._words)}:".encode())
        digest.update("\x1f".join(self._words).encode("utf-8"))
        digest.update(np.ascontiguousarray(self.idf_, dtype="<f8").tobytes())
        return digest.hexdigest()

    # Scoring -------------------------------------------------------------------

    def _encode(self, tokens):
        """Return word ids, with ids past the vocabulary for unseen words.

        Returns the ids, the idf of every id and whether each id is
        punctuation.
        """
        vocabulary = self.vocabulary_
        n_words = len(vocabulary)
        ids = np.fromiter(
            map(vocabulary.get, tokens, itertools.repeat(-1)),
            dtype=np.int64,
            count=len(tokens),
        )
        unseen = {}
        for position in np.flatnonzero(ids < 0).tolist():
            ids[position] = n_words + unseen.setdefault(tokens[position], len(unseen))
        idf = self.idf_
        punctuation = self._punctuation
        if unseen:
            max_idf = idf.max() if n_words else 0.0
            idf = np.concatenate([idf, np.full(len(unseen), max_idf)])
            punctuation = np.concatenate(
                [punctuation, [_is_punctuation(word) for word in unseen]]
            )
        return ids, idf, punctuation

    def _probabilities(self, ids, idf, lengths):
        """Replacement probability of every token of a batch of sentences."""
        n_texts = len(lengths)
        starts = np.zeros(n_texts, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        doc = np.repeat(np.arange(n_texts, dtype=np.int64), lengths)
        n_ids = len(idf)

        # s_i = count of w_i in its sentence / sentence length * idf(w_i).
        _, inverse, counts = np.unique(
            doc * n_ids + ids, return_inverse=True, return_counts=True
        )
        token_lengths = np.repeat(lengths, lengths)
        scores = counts[inverse.ravel()] / token_lengths * idf[ids]

        probabilities = np.zeros(len(ids))
        nonempty = lengths > 0
        if not nonempty.any():
            return probabilities
        seg_starts = starts[nonempty]
        max_scores = np.zeros(n_texts)
        max_scores[nonempty] = np.maximum.reduceat(scores, seg_starts)
        gaps = max_scores[doc] - scores
        mean_gap = np.zeros(n_texts)
        mean_gap[nonempty] = np.add.reduceat(gaps, seg_starts) / lengths[nonempty]
        # Equal scores (Z = 0) leave the sentence unchanged; the tolerance
        # absorbs rounding so that Z never becomes a tiny spurious divisor.
        valid = mean_gap > 1e-12 * max_scores
        safe_gap = np.where(valid, mean_gap, 1.0)
        probabilities = float(self.p) * gaps / safe_gap[doc]
        probabilities[~valid[doc]] = 0.0
        return np.minimum(probabilities, 1.0)

    def _replacement_probabilities(self, tokens):
        """Return the replacement probability of each token of one sentence.

        Parameters
        ----------
        tokens : list of str
            A tokenised sentence.

        Returns
        -------
        probabilities : ndarray of shape (len(tokens),)
        """
        ids, idf, _ = self._encode(list(tokens))
        lengths = np.array([len(tokens)], dtype=np.int64)
        return self._probabilities(ids, idf, lengths)

    # Augmenting ----------------------------------------------------------------

    def _augment_texts(self, texts, copy_index):
        texts = list(texts)
        if not texts:
            return []
        tokens, lengths = _tokenize(texts)
        ids, idf, punctuation = self._encode(tokens)
        probabilities = self._probabilities(ids, idf, lengths)
        probabilities[punctuation[ids]] = 0.0

        seeds = np.fromiter(
            (stable_seed(self.seed_, copy_index, text) for text in texts),
            dtype=np.uint64,
            count=len(texts),
        )
        ends = np.cumsum(lengths)
        doc = np.repeat(np.arange(len(texts)), lengths)
        token_seeds = seeds[doc]
        positions = np.arange(len(tokens), dtype=np.int64) - (ends - lengths)[doc]
        # Counters 2j and 2j + 1 of a text: the coin and the word of token j.
        coins = _uniform_from_counter(token_seeds, 2 * positions)
        replaced = np.flatnonzero(coins < probabilities)
        if replaced.size == 0:
            return texts
        draws = _uniform_from_counter(
            token_seeds[replaced], 2 * positions[replaced] + 1
        )
        new_ids = np.searchsorted(self._cdf, draws * self._cdf[-1], side="right")
        np.minimum(new_ids, len(self._words) - 1, out=new_ids)

        words = self._words
        for position, new_id in zip(replaced.tolist(), new_ids.tolist(), strict=True):
            tokens[position] = words[new_id]
        output = list(texts)
        ends, lengths = ends.tolist(), lengths.tolist()
        for index in np.unique(doc[replaced]).tolist():
            output[index] = " ".join(tokens[ends[index] - lengths[index] : ends[index]])
        return output
