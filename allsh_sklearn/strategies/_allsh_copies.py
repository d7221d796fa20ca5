"""Which augmented copies a query of ALLSH scores.

Copies drawn once per pool are the augmenter's copies ``0..K-1`` of each
text. A fresh draw at every query (``ALLSH(draw_copies="per_query")``, line
4 of the paper's Algorithm 1) is the augmenter's copies at other indices,
derived from its seed and the state of the loop
(:func:`query_copy_indices`), made and cached as a draw made once through
:class:`CopiesFrom`.
"""

from ..utils import derive_seed

__all__ = ["CopiesFrom", "query_copy_indices"]

# Copy indices of a query's fresh draw are offset by a multiple of this, so
# that they never meet the indices 0..K-1 of a draw made once, nor another
# query's (K is far below it).
_QUERY_STRIDE = 2**16


def query_copy_indices(seed, n_labeled, n_pool, n_copies):
    """The copy indices of one query's fresh draw (``draw_copies="per_query"``).

    An augmenter's copy ``k`` of a text depends only on the text, ``k`` and
    the augmenter's seed; a fresh draw is copies at other indices. They are
    derived from the seed and the state of the loop (how many texts are
    labeled, how many remain in the pool), which changes at every iteration
    of Algorithm 1: a query is reproducible, a later one draws new copies,
    and every strategy at the same iteration of the same schedule shares
    them (and their cached embeddings).

    Parameters
    ----------
    seed : int
        The augmenter's seed (``augmenter_.seed_``).
    n_labeled : int or None
        The size of the labeled set, None when the call does not know it.
    n_pool : int
        The size of the pool being scored.
    n_copies : int
        ``K``.

    Returns
    -------
    indices : range
        ``K`` consecutive indices, none below ``2 ** 16``.

    Examples
    --------
    >>> a = query_copy_indices(0, 10, 390, 2)
    >>> a == query_copy_indices(0, 10, 390, 2), a == query_copy_indices(0, 20, 380, 2)
    (True, False)
    >>> len(a), a.start >= 2 ** 16
    (2, True)
    """
    mixed = derive_seed(seed, "per_query", n_labeled, n_pool, modulus=None)
    start = ((mixed >> 20) + 1) * _QUERY_STRIDE  # < 2**60: SQLite's INTEGER
    return range(start, start + n_copies)


class CopiesFrom:
    """An augmenter's copies ``offset, offset + 1, ...`` as its copies ``0, 1, ...``.

    What :func:`~allsh_sklearn.augment.augment_with_cache` needs of an
    augmenter (``augment`` and ``fingerprint``), so that a query's fresh
    draw is made and cached as a draw made once is: copy ``k`` of this view
    is copy ``offset + k`` of the augmenter, keyed in the cache under the
    augmenter's fingerprint and the offset.

    Parameters
    ----------
    augmenter : BaseAugmenter
        A fitted augmenter.
    offset : int
        The augmenter's index of this view's copy 0.
    """

    def __init__(self, augmenter, offset):
        self.augmenter = augmenter
        self.offset = offset

    def fingerprint(self):
        """The augmenter's fingerprint and the offset: the cache's key."""
        return f"{self.augmenter.fingerprint()}@{self.offset}"

    def augment(self, X, n_copies=1, copy_offset=0):
        """The augmenter's copies ``offset + copy_offset``, ... of ``X``."""
        return self.augmenter.augment(
            X, n_copies=n_copies, copy_offset=self.offset + copy_offset
        )
