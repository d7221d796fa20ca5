"""UDA's TF-IDF word replacement as a scikit-learn transformer.

Unsupervised Data Augmentation (Xie et al., 2020) replaces the uninformative
words of a sentence (low TF-IDF) by uninformative words of the corpus, and
keeps the informative ones. The ALLSH paper uses it with magnitude
``p = 0.3`` to build the local neighbourhood of a text.

The whole batch is processed with array operations: words become integer ids
through a dictionary, per-document scores are computed on flat arrays, and
the random numbers come from a counter-based hash of a per-document seed, so
a copy depends only on the text (or pair), the copy index and the seed.
"""

import bisect
import functools
import itertools
import numbers
import re
import string
import unicodedata

import numpy as np

from ..utils import (
    Boolean,
    Options,
    describe,
    is_pair,
    text_key,
    validate_params,
)
from ._base import BaseAugmenter, stable_seed

# SplitMix64 constants (Steele, Lea and Flood, 2014).
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

_TOKENIZERS = ("bert-basic", "whitespace")

#: The expected fraction of replaced words, ``p``: the ALLSH paper's 0.3,
#: :class:`TfidfAugmenter`'s default wherever the library builds one.
TFIDF_REPLACEMENT_RATE = 0.3


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


# Tokenisers -------------------------------------------------------------------
#
# A tokeniser turns a text into the words the statistics count, and renders a
# copy: the original text with some of its words replaced. Rendering keeps
# everything else of the text as it was (case, spacing, HTML breaks), so a
# copy differs from its text only where words were replaced.


class _WhitespaceTokenizer:
    """Words are the whitespace-separated chunks, case-sensitive.

    Punctuation counts as its own word only when spaces separate it, as in
    SST-2's distribution ("film ." but "film." in IMDB).
    """

    name = "whitespace"
    _chunks = re.compile(r"(\S+)")

    tokenize = staticmethod(str.split)

    def is_punctuation(self, word):
        return all(char in string.punctuation for char in word)

    def render(self, text, replacements, words=None):
        """Return ``text`` with word ``i`` replaced by ``replacements[i]``.

        ``words``, a new list of the text's words, saves splitting it again
        when single spaces separate them.
        """
        if words is not None and " ".join(words) == text:
            for position, word in replacements.items():
                words[position] = word
            return " ".join(words)
        pieces = self._chunks.split(text)  # [gap, word, gap, word, ..., gap]
        for position, word in replacements.items():
            pieces[2 * position + 1] = word
        return "".join(pieces)


# BERT's BasicTokenizer (google-research/bert, tokenization.py; UDA's
# utils/tokenization.py): remove control characters, lower-case, strip accents
# (NFD, drop non-spacing marks) and split every punctuation character off as
# its own word. Punctuation: every ASCII character that is not a letter, a
# digit or whitespace, and every Unicode "P*" character. Whitespace: space,
# tab, newline, carriage return and Unicode "Zs".
_ASCII_PUNCTUATION = "".join(
    chr(code) for code in range(33, 127) if not chr(code).isalnum()
)
# Plain texts (printable ASCII, tab, newline, carriage return) take a fast path.
_NOT_PLAIN = re.compile(r"[^\t\n\r\x20-\x7e]")
_ASCII_P = re.escape(_ASCII_PUNCTUATION)
_ASCII_WORD = re.compile(rf"[{_ASCII_P}]|[^ \t\n\r{_ASCII_P}]+")
# UDA cleans IMDB's line breaks ("<br />") into spaces before tokenising.
_ASCII_BREAK = re.compile(r"<br[ \t\n\r]*/?>")
# Rendering splits the original text into words, and at breaks first.
_ASCII_PIECES = re.compile(rf"([{_ASCII_P}]|[^ \t\n\r{_ASCII_P}]+)")
_ASCII_BREAK_SPLIT = re.compile(r"(?i)(<br[ \t\n\r]*/?>)")


def _char_class(codes):
    """A regex character-class body holding the code points ``codes``."""
    parts, start, previous = [], None, None
    for code in [*codes, None]:
        if start is not None and code == previous + 1:
            previous = code
            continue
        if start is not None:
            parts.append(
                re.escape(chr(start))
                if start == previous
                else f"{re.escape(chr(start))}-{re.escape(chr(previous))}"
            )
        start = previous = code
    return "".join(parts)


@functools.cache
def _unicode_patterns():
    """Compiled patterns for any text (built on first non-ASCII text, ~0.1 s).

    No punctuation or space separator lies beyond U+1FFFF in Unicode 15
    (checked by the tests against the running Python's database).
    """
    punctuation, spaces = [], []
    for code in range(0x20000):
        category = unicodedata.category(chr(code))
        if category[0] == "P" or chr(code) in _ASCII_PUNCTUATION:
            punctuation.append(code)
        elif category == "Zs":
            spaces.append(code)
    p = _char_class(sorted(punctuation))
    w = " \\t\\n\\r" + _char_class(spaces)
    # (break)|(word): a break is kept as it is and is no word.
    pieces = re.compile(rf"(?i:(<br[{w}]*/?>))|([{p}]|[^{w}{p}]+)")
    words = re.compile(rf"[{p}]|[^{w}{p}]+")
    word_char = re.compile(rf"[^{w}{p}]")
    return pieces, words, word_char


def _is_removed(char):
    """Characters BERT's tokenizer deletes: NUL, U+FFFD, controls."""
    if char in "\t\n\r":
        return False
    return char in "\x00\ufffd" or unicodedata.category(char)[0] == "C"


@functools.lru_cache(maxsize=2**16)
def _normalize(raw):
    """Words of one raw word of a non-ASCII text, as BERT normalises them.

    Usually one word; none for a run of control characters or accents; more
    when normalising creates punctuation (NFD of "≠" is "=" + a mark).
    """
    text = "".join(char for char in raw if not _is_removed(char)).lower()
    text = "".join(
        char
        for char in unicodedata.normalize("NFD", text)
        if unicodedata.category(char) != "Mn"
    )
    return tuple(_unicode_patterns()[1].findall(text))


class _BertBasicTokenizer:
    """BERT's basic tokenizer (as UDA uses it), with IMDB's breaks removed.

    One known difference: words are lower-cased one at a time, so a Greek
    capital sigma next to punctuation may take its final form where BERT,
    lower-casing whole whitespace-separated chunks, would not.
    """

    name = "bert-basic"

    def tokenize(self, text):
        if _NOT_PLAIN.search(text) is None:  # plain: the ASCII fast path
            lowered = text.lower()
            if "<br" in lowered:
                lowered = _ASCII_BREAK.sub(" ", lowered)
            return _ASCII_WORD.findall(lowered)
        words = []
        for _, raw in _unicode_patterns()[0].findall(text):
            if raw:
                words.extend(_normalize(raw))
        return words

    def is_punctuation(self, word):
        return len(word) == 1 and (
            word in _ASCII_PUNCTUATION or unicodedata.category(word)[0] == "P"
        )

    def render(self, text, replacements, words=None):
        """Return ``text`` with word ``i`` replaced by ``replacements[i]``.

        The rest of the text is kept as it is. A space is put between a
        replacement and a neighbouring word character it would otherwise
        merge with ("don't" with "'" replaced by "film" gives "don film t"),
        so that tokenising the copy gives back the copy's words. ``words``
        is not used.
        """
        if _NOT_PLAIN.search(text) is None:
            items = sorted(replacements.items())
            if "<" not in text:
                return self._render_plain(text, items, 0, 0)[0]
            # IMDB's breaks: render the text between them. A break starts
            # with "<" and ends with ">", so no replacement merges with it.
            parts = _ASCII_BREAK_SPLIT.split(text)  # [text, break, text, ...]
            offset = next_item = 0
            for k in range(0, len(parts), 2):
                parts[k], offset, next_item = self._render_plain(
                    parts[k], items, offset, next_item
                )
            return "".join(parts)
        return self._render_unicode(text, replacements)

    def _render_plain(self, text, items, offset, next_item):
        """Render a plain text without breaks whose first word is ``offset``.

        ``items`` are the ``(position, word)`` replacements in order, from
        ``items[next_item]`` on. Returns the copy, the position after the
        text's last word and the first item not used.
        """
        pieces = _ASCII_PIECES.split(text)  # [gap, word, gap, ..., word, gap]
        end = offset + len(pieces) // 2
        changed = []
        while next_item < len(items) and items[next_item][0] < end:
            position, word = items[next_item]
            slot = 2 * (position - offset) + 1
            pieces[slot] = word
            if not (pieces[slot - 1] and pieces[slot + 1]):
                changed.append(slot)  # it touches a neighbour
            next_item += 1
        self._separate(pieces, changed)
        return "".join(pieces), end, next_item

    def _render_unicode(self, text, replacements):
        pieces = _unicode_patterns()[0].split(text)
        # pieces: [gap, break, raw, gap, break, raw, ..., gap]; one of break
        # and raw is None in each match. A raw word gives 0, 1 or more words.
        raws = pieces[2::3]
        ends = list(
            itertools.accumulate(
                len(_normalize(raw)) if raw is not None else 0 for raw in raws
            )
        )
        by_raw = {}
        for position, word in replacements.items():
            by_raw.setdefault(bisect.bisect_right(ends, position), {})[position] = word
        changed = []
        for k, subs in by_raw.items():
            slot = 3 * k + 2
            words = _normalize(pieces[slot])
            first = ends[k] - len(words)
            pieces[slot] = " ".join(
                subs.get(first + i, word) for i, word in enumerate(words)
            )
            if not (pieces[slot - 2] and pieces[slot + 1]):
                changed.append(slot)  # it touches a neighbour
        self._separate(pieces, changed)
        return "".join(piece for piece in pieces if piece)

    @staticmethod
    def _separate(pieces, changed):
        """Put a space where a replacement touches a word character.

        Gaps between words are whitespace, so this only happens where the
        original words touched (a word and punctuation, "film." or "don't").
        """
        if not changed:
            return
        pattern = _unicode_patterns()[2].match

        def word_char(char):
            return char not in " \t\n\r" and pattern(char) is not None

        replaced = set(changed)
        for index in changed:
            new = pieces[index]
            left = index - 1
            while left >= 0 and not pieces[left]:
                left -= 1
            if left >= 0 and word_char(pieces[left][-1]) and word_char(new[0]):
                new = " " + new
            right = index + 1
            while right < len(pieces) and not pieces[right]:
                right += 1
            if (
                right < len(pieces)
                and right not in replaced  # that one looks to its left
                and word_char(pieces[right][0])
                and word_char(new[-1])
            ):
                new = new + " "
            pieces[index] = new


def _make_tokenizer(name):
    return _BertBasicTokenizer() if name == "bert-basic" else _WhitespaceTokenizer()


class TfidfAugmenter(BaseAugmenter):
    """Replace uninformative words by uninformative corpus words (UDA).

    ``fit`` learns from a corpus the inverse document frequency of each word,
    ``idf(w) = log(N / df(w))``, and its corpus score
    ``tfidf(w) = sum over documents of count(w) / len(document) * idf(w)``.
    ``transform`` scores each word of a document by ``s_i = tf(w_i) *
    idf(w_i)`` (``tf`` within the document), replaces it with probability
    ``min(p * (max_j s_j - s_i) / Z, 1)``, where ``Z`` is the document's mean
    of ``max_j s_j - s_j``, and draws each replacement from the vocabulary
    with probability proportional to ``max_w tfidf(w) - tfidf(w)``. On
    average about a fraction ``p`` of the words are replaced, the least
    informative ones most often.

    The defaults follow UDA's reference code (google-research/uda,
    ``augmentation/word_level_augment.py`` and its preprocessing): words come
    from BERT's basic tokenizer, every word may be replaced, and a sentence
    pair is one document. Each departure is an option.

    Read more in the user guide (``docs/augmenters.md``, "TF-IDF word
    replacement").

    Parameters
    ----------
    p : float, default=0.3
        The magnitude: the expected fraction of replaced words, in (0, 1].
        The ALLSH paper uses 0.3.
    tokenizer : {"bert-basic", "whitespace"}, default="bert-basic"
        How a text becomes words. ``"bert-basic"`` is BERT's basic tokenizer,
        as UDA (and the ALLSH paper, "BERT is used as the word tokenizer")
        uses it: lower-cased, accents stripped, control characters removed,
        every punctuation character a word of its own, and HTML line breaks
        (``<br />``, which UDA cleans out of IMDB) not words. ``"whitespace"``
        splits on whitespace only, case-sensitive: ``"film."`` and ``"film"``
        are different words (this library's earlier default).
    replace_punctuation : bool, default=True
        Whether words made only of punctuation (``","``, ``"--"``) may be
        replaced, as every word may in UDA. With False they take part in the
        scores but are never replaced, which lowers the fraction of replaced
        words (by 13-19% on SST-2 with whitespace words).
    joint_pairs : bool, default=True
        Whether both sides of a sentence pair form one document, as in UDA:
        the pair counts once in ``N`` and ``df``, its words are scored
        together, and the copy is split back into its two sides. With False
        each side is a document of its own (both sides count in ``N``) and
        gets the copy it would get alone.
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
        Number of documents in the fitted corpus: texts, and pairs (or both
        of their sides with ``joint_pairs=False``).
    seed_ : int
        The seed drawn from ``random_state`` at fit time.

    See Also
    --------
    SynonymAugmenter : WordNet or GloVe synonym replacement.
    BackTranslationAugmenter : Paraphrases by translation and back.

    Notes
    -----
    A copy is its text with the replaced words substituted in place:
    everything else (case, spacing, line breaks) is kept, so a copy differs
    from its text only where words were replaced; replacement words are
    vocabulary words (lower-cased with ``"bert-basic"``). For an uncased
    model this is the input UDA builds from its word lists; where a
    replacement would merge with a neighbouring word character, a space
    separates them. A text with no replaced word is returned unchanged.

    Words unseen at fit time get the largest fitted ``idf`` (UDA fits on
    the texts it augments). When every word of a document has the same score
    (a one-word sentence, for instance), ``Z = 0`` and the document is left
    unchanged, where UDA would produce NaN probabilities. UDA draws
    replacements from a pre-sampled list it refills; here each draw is
    independent, with the same distribution.

    Examples
    --------
    >>> from allsh_sklearn.augment import TfidfAugmenter
    >>> corpus = ["The film is good.", "the film is bad", "the plot is thin",
    ...           "a good cast"]
    >>> augmenter = TfidfAugmenter(p=0.3, random_state=6).fit(corpus)
    >>> augmenter.build_tokenizer()("The film is good.")
    ['the', 'film', 'is', 'good', '.']
    >>> round(float(augmenter.idf_[augmenter.vocabulary_["the"]]), 4)
    0.2877
    >>> augmenter.transform(["The film is good.", "good"])
    ['The film the good.', 'good']
    >>> [len(copies) for copies in augmenter.augment(corpus, n_copies=3)]
    [4, 4, 4]
    """

    def __init__(
        self,
        p=TFIDF_REPLACEMENT_RATE,
        *,
        tokenizer="bert-basic",
        replace_punctuation=True,
        joint_pairs=True,
        random_state=None,
    ):
        self.p = p
        self.tokenizer = tokenizer
        self.replace_punctuation = replace_punctuation
        self.joint_pairs = joint_pairs
        self.random_state = random_state

    _parameter_constraints = {
        "tokenizer": [Options(_TOKENIZERS)],
        "replace_punctuation": [Boolean()],
        "joint_pairs": [Boolean()],
    }

    def _validate_params(self):
        # 'p' by hand: its messages say the type, and the paper's value.
        p = self.p
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(
                "The 'p' parameter of TfidfAugmenter must be a float in (0, 1]. "
                f"Got {describe(p)} of type {type(p).__name__} instead."
            )
        if not 0.0 < float(p) <= 1.0:
            raise ValueError(
                "The 'p' parameter of TfidfAugmenter must be a float in (0, 1]. "
                f"Got {describe(p)} instead; the paper uses {TFIDF_REPLACEMENT_RATE}."
            )
        super()._validate_params()

    def build_tokenizer(self):
        """Return the function that splits a text into the words counted.

        Returns
        -------
        tokenize : callable
            ``tokenize(text) -> list of str``, the ``tokenizer`` parameter's
            words (see the class description).
        """
        validate_params(self, {"tokenizer": self._parameter_constraints["tokenizer"]})
        return _make_tokenizer(self.tokenizer).tokenize

    # Documents ---------------------------------------------------------------

    def _documents(self, items, tokenizer):
        """Tokenise ``items`` into documents.

        Returns the texts (each side of a pair is a text), the words of all
        texts in order, the number of words of each text, the document of
        each text, and the seed key of each document (its text, or its
        texts as a tuple).
        """
        if set(map(type, items)) == {str}:
            # Texts only: each text is a document, keyed by itself.
            texts = keys = items
            text_doc = np.arange(len(items), dtype=np.int64)
        else:
            texts, text_doc, keys = self._pair_documents(items)
        word_lists = list(map(tokenizer.tokenize, texts))
        lengths = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(texts))
        words = list(itertools.chain.from_iterable(word_lists))
        return texts, words, lengths, text_doc, keys

    def _pair_documents(self, items):
        texts, text_doc, keys = [], [], []
        joint = bool(self.joint_pairs)
        for item in items:
            if is_pair(item):
                if joint:
                    text_doc += [len(keys), len(keys)]
                    keys.append(tuple(item))
                else:
                    text_doc += [len(keys), len(keys) + 1]
                    keys += [item[0], item[1]]
                texts += item
            else:
                text_doc.append(len(keys))
                keys.append(item)
                texts.append(item)
        return texts, np.asarray(text_doc, dtype=np.int64), keys

    # Fitting -----------------------------------------------------------------

    def _fit_items(self, items):
        tokenizer = _make_tokenizer(self.tokenizer)
        _, words, lengths, text_doc, keys = self._documents(items, tokenizer)
        n_docs = len(keys)
        doc_lengths = np.bincount(text_doc, weights=lengths, minlength=n_docs)
        vocabulary = {}
        ids = np.fromiter(
            (vocabulary.setdefault(word, len(vocabulary)) for word in words),
            dtype=np.int64,
            count=len(words),
        )
        n_words = len(vocabulary)
        doc = np.repeat(text_doc, lengths)

        # Document frequency: count each (document, word) pair once.
        df = np.bincount(np.unique(doc * n_words + ids) % n_words, minlength=n_words)
        idf = np.log(n_docs / df) if n_words else np.zeros(0)
        # Each occurrence adds 1 / len(document) * idf(w) to the word's score.
        weights = 1.0 / doc_lengths[doc]
        tfidf = np.bincount(ids, weights=weights, minlength=n_words) * idf

        if n_words:
            distribution = tfidf.max() - tfidf
            total = distribution.sum()
            if not total > 0.0:
                distribution = np.ones(n_words)
                total = float(n_words)
            distribution = distribution / total
        else:
            distribution = np.zeros(0)

        self.vocabulary_ = vocabulary
        self.idf_ = idf
        self.tfidf_ = tfidf
        self.replacement_distribution_ = distribution
        self.n_texts_ = n_docs
        self._tokenizer = tokenizer
        self._words = list(vocabulary)
        self._cdf = np.cumsum(distribution)
        self._punctuation = np.fromiter(
            (tokenizer.is_punctuation(word) for word in self._words),
            dtype=bool,
            count=n_words,
        )

    def _fit_texts(self, texts):
        self._fit_items(list(texts))

    def _fitted_state_token(self):
        state = (
            f"{self.n_texts_}:{len(self._words)}:".encode()
            + "\x1f".join(self._words).encode("utf-8")
            + np.ascontiguousarray(self.idf_, dtype="<f8").tobytes()
        )
        return text_key(state, algorithm="blake2b", digest_size=16)

    # Scoring -------------------------------------------------------------------

    def _encode(self, words):
        """Return word ids, with ids past the vocabulary for unseen words.

        Returns the ids, the idf of every id and whether each id is
        punctuation.
        """
        vocabulary = self.vocabulary_
        n_words = len(vocabulary)
        ids = np.fromiter(
            map(vocabulary.get, words, itertools.repeat(-1)),
            dtype=np.int64,
            count=len(words),
        )
        unseen = {}
        for position in np.flatnonzero(ids < 0).tolist():
            ids[position] = n_words + unseen.setdefault(words[position], len(unseen))
        idf = self.idf_
        punctuation = self._punctuation
        if unseen:
            max_idf = idf.max() if n_words else 0.0
            idf = np.concatenate([idf, np.full(len(unseen), max_idf)])
            is_punctuation = self._tokenizer.is_punctuation
            punctuation = np.concatenate(
                [punctuation, [is_punctuation(word) for word in unseen]]
            )
        return ids, idf, punctuation

    def _probabilities(self, ids, idf, lengths):
        """Replacement probability of every word of a batch of documents.

        ``ids`` lists the words of the documents in order, ``lengths`` the
        number of words of each document.
        """
        n_docs = len(lengths)
        starts = np.zeros(n_docs, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        n_ids = len(idf)

        # s_i = count of w_i in its document / document length * idf(w_i).
        _, inverse, counts = np.unique(
            doc * n_ids + ids, return_inverse=True, return_counts=True
        )
        word_lengths = np.repeat(lengths, lengths)
        scores = counts[inverse.ravel()] / word_lengths * idf[ids]

        probabilities = np.zeros(len(ids))
        nonempty = lengths > 0
        if not nonempty.any():
            return probabilities
        seg_starts = starts[nonempty]
        max_scores = np.zeros(n_docs)
        max_scores[nonempty] = np.maximum.reduceat(scores, seg_starts)
        gaps = max_scores[doc] - scores
        mean_gap = np.zeros(n_docs)
        mean_gap[nonempty] = np.add.reduceat(gaps, seg_starts) / lengths[nonempty]
        # Equal scores (Z = 0) leave the document unchanged; the tolerance
        # absorbs rounding so that Z never becomes a tiny spurious divisor.
        valid = mean_gap > 1e-12 * max_scores
        safe_gap = np.where(valid, mean_gap, 1.0)
        probabilities = float(self.p) * gaps / safe_gap[doc]
        probabilities[~valid[doc]] = 0.0
        return np.minimum(probabilities, 1.0)

    def _replacement_probabilities(self, words):
        """Return the replacement probability of each word of one document.

        Parameters
        ----------
        words : list of str
            A tokenised document (both sides of a pair, one after the other).

        Returns
        -------
        probabilities : ndarray of shape (len(words),)
            Punctuation included, whatever ``replace_punctuation``.
        """
        ids, idf, _ = self._encode(list(words))
        lengths = np.array([len(words)], dtype=np.int64)
        return self._probabilities(ids, idf, lengths)

    # Augmenting ----------------------------------------------------------------

    def _augment_items(self, items, copy_index):
        items = list(items)
        if not items:
            return []
        tokenizer = self._tokenizer
        texts, words, lengths, text_doc, keys = self._documents(items, tokenizer)
        n_docs = len(keys)
        doc_lengths = np.bincount(text_doc, weights=lengths, minlength=n_docs).astype(
            np.int64
        )
        ids, idf, punctuation = self._encode(words)
        probabilities = self._probabilities(ids, idf, doc_lengths)
        if not self.replace_punctuation:
            probabilities[punctuation[ids]] = 0.0

        seeds = np.fromiter(
            (
                stable_seed(self.seed_, copy_index, key)
                if isinstance(key, str)
                else stable_seed(self.seed_, copy_index, *key)
                for key in keys
            ),
            dtype=np.uint64,
            count=n_docs,
        )
        doc_ends = np.cumsum(doc_lengths)
        doc = np.repeat(np.arange(n_docs), doc_lengths)
        word_seeds = seeds[doc]
        positions = (
            np.arange(len(words), dtype=np.int64) - (doc_ends - doc_lengths)[doc]
        )
        # Counters 2j and 2j + 1 of a document: the coin and the word of word j.
        coins = _uniform_from_counter(word_seeds, 2 * positions)
        replaced = np.flatnonzero(coins < probabilities)
        output = list(texts)
        if replaced.size:
            draws = _uniform_from_counter(
                word_seeds[replaced], 2 * positions[replaced] + 1
            )
            new_ids = np.searchsorted(self._cdf, draws * self._cdf[-1], side="right")
            np.minimum(new_ids, len(self._words) - 1, out=new_ids)

            # A draw of the word itself changes nothing.
            different = new_ids != ids[replaced]
            replaced, new_ids = replaced[different], new_ids[different]
            # Back from words of the batch to words of each text.
            text_of_word = np.repeat(np.arange(len(texts)), lengths)[replaced]
            text_starts = np.cumsum(lengths) - lengths
            local = (replaced - text_starts[text_of_word]).tolist()
            new_words = [self._words[i] for i in new_ids.tolist()]
            cuts = (np.flatnonzero(np.diff(text_of_word)) + 1).tolist()
            starts, ends = [0, *cuts], [*cuts, len(new_words)]
            firsts = text_of_word[starts].tolist() if new_words else []
            own_words = isinstance(tokenizer, _WhitespaceTokenizer)
            text_starts, text_lengths = text_starts.tolist(), lengths.tolist()
            for text, start, end in zip(firsts, starts, ends, strict=False):
                replacements = dict(
                    zip(local[start:end], new_words[start:end], strict=True)
                )
                first = text_starts[text]
                output[text] = tokenizer.render(
                    texts[text],
                    replacements,
                    words[first : first + text_lengths[text]] if own_words else None,
                )

        if len(output) == len(items):  # no pairs
            return output
        result, position = [], 0
        for item in items:
            if is_pair(item):
                result.append((output[position], output[position + 1]))
                position += 2
            else:
                result.append(output[position])
                position += 1
        return result

    def _augment_texts(self, texts, copy_index):
        return self._augment_items(list(texts), copy_index)
