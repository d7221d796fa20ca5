"""Which words of an augmented copy differ from the original text.

Two readers of the same question, each with the tokens it needs:

- :func:`changed_tokens` splits a copy into whitespace-separated words and
  the whitespace between them, each word marked changed or not (a word
  diff with :class:`difflib.SequenceMatcher`). The labeling page and the
  terminal annotator highlight the changed words with it; the pieces join
  back into the copy.
- :func:`changed_share` measures how much of a text its copy changed, over
  lower-cased words and punctuation marks (:func:`word_tokens`): ALLSH's
  ``score="per_change"`` divides each copy's divergence by it.
"""

import re
from difflib import SequenceMatcher

import numpy as np

__all__ = ["changed_share", "changed_tokens", "word_tokens"]

# Whitespace runs and the words between them (the pieces join back).
_PIECE = re.compile(r"\s+|[^\s]+")

# Words and punctuation marks (what a share of change counts).
_WORD = re.compile(r"\w+|[^\w\s]")


def changed_tokens(original, copy):
    """Split ``copy`` into pieces, each marked changed or not against ``original``.

    Words are compared as whitespace-separated tokens (a word diff with
    :class:`difflib.SequenceMatcher`); the whitespace between them is kept
    as it is so the pieces join back into ``copy``.

    Parameters
    ----------
    original : str
        The text the annotator labels.
    copy : str
        Its augmented copy.

    Returns
    -------
    pieces : list of (str, bool)
        The pieces of ``copy`` in order, with True for a word that is new or
        replaced in the copy. ``"".join(p for p, _ in pieces) == copy``.

    Examples
    --------
    >>> changed_tokens("a good film", "a great  film")
    [('a', False), (' ', False), ('great', True), ('  ', False), ('film', False)]
    """
    old_words = original.split()
    pieces = _PIECE.findall(copy)
    word_positions = [i for i, piece in enumerate(pieces) if not piece.isspace()]
    new_words = [pieces[i] for i in word_positions]
    changed = [False] * len(pieces)
    matcher = SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                changed[word_positions[j]] = True
    return list(zip(pieces, changed, strict=True))


def word_tokens(text):
    """The lower-cased words and punctuation marks of a text or a pair.

    Parameters
    ----------
    text : str or (str, str)
        A text, or a pair of texts (read as one sequence).

    Returns
    -------
    tokens : list of str

    Examples
    --------
    >>> word_tokens("A good film!")
    ['a', 'good', 'film', '!']
    >>> word_tokens(("Good.", "Bad"))
    ['good', '.', 'bad']
    """
    parts = (text,) if isinstance(text, str) else tuple(text)
    return [token for part in parts for token in _WORD.findall(part.lower())]


def _one_changed_share(text, copy):
    original, changed = word_tokens(text), word_tokens(copy)
    if original == changed:
        return 0.0
    if len(original) == len(changed):
        replaced = sum(a != b for a, b in zip(original, changed, strict=True))
        return replaced / len(original)
    return 1.0 - SequenceMatcher(None, original, changed).ratio()


def _memo_key(item):
    """A dict key for a text or a pair (a list pair becomes a tuple)."""
    return item if isinstance(item, str) else tuple(item)


def changed_share(texts, copies, *, memo=None):
    """The share of each text's tokens that its copy changed, in ``[0, 1]``.

    Tokens are words and punctuation marks, lower-cased (a pair's two texts
    are one sequence, :func:`word_tokens`). For a copy with as many tokens
    (TF-IDF word replacement) it is the share of positions whose token
    differs; otherwise (back-translation) ``1 - ratio`` of
    :class:`difflib.SequenceMatcher` over the two token sequences.

    Parameters
    ----------
    texts : sequence of str or of (str, str)
        The original texts.
    copies : sequence of str or of (str, str)
        One copy per text, in the same order.
    memo : dict or None, default=None
        Shares already computed, keyed by the ``(text, copy)`` pair itself
        (pairs of texts as tuples): the pairs found there are not
        tokenised again, the others are computed and added. The share
        depends on the two texts only, so a memo can be kept across calls
        (an active learning loop scores the same copies at every query);
        another copy of a text is another key.

    Returns
    -------
    share : ndarray of shape (n_samples,), dtype=float64
        0 for a copy with the text's tokens unchanged (or two empty texts).

    Examples
    --------
    >>> changed_share(["a good film", "a good film"],
    ...               ["a bad film", "a good film"]).round(3).tolist()
    [0.333, 0.0]
    >>> memo = {}
    >>> changed_share(["a good film"], ["a bad film"], memo=memo).round(3).tolist()
    [0.333]
    >>> len(memo)
    1
    """
    if len(texts) != len(copies):
        raise ValueError(
            "The 'copies' parameter must hold one copy per text "
            f"({len(texts)}). Got {len(copies)} instead."
        )
    if memo is None:
        return np.fromiter(
            map(_one_changed_share, texts, copies), dtype=np.float64, count=len(texts)
        )
    if not isinstance(memo, dict):
        raise TypeError(
            f"The 'memo' parameter must be a dict or None. Got "
            f"{type(memo).__name__} instead."
        )
    keys = list(zip(map(_memo_key, texts), map(_memo_key, copies), strict=True))
    share = np.fromiter(
        (memo.get(key, np.nan) for key in keys), dtype=np.float64, count=len(keys)
    )
    for i in np.flatnonzero(np.isnan(share)).tolist():
        share[i] = memo[keys[i]] = _one_changed_share(texts[i], copies[i])
    return share
