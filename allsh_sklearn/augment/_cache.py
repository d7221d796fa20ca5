"""Caches of augmented copies, keyed by augmenter fingerprint, copy and text.

The augmented copies of a pool do not depend on the model, so an active
learning loop augments each pool text once per copy and reuses the result in
every later query. :class:`MemoryAugmentationCache` keeps them in a dict;
persistent caches implement the same two methods.
"""

import json

from ..utils import is_pair


def item_key(item):
    """Return a string key for a text or a ``(text, text_pair)`` pair."""
    if is_pair(item):
        return json.dumps(list(item), ensure_ascii=False)
    return item


class MemoryAugmentationCache:
    """An in-process cache of augmented copies.

    Keys are ``(fingerprint, copy_index, item)`` triples, where
    ``fingerprint`` comes from :meth:`BaseAugmenter.fingerprint`.

    Examples
    --------
    >>> cache = MemoryAugmentationCache()
    >>> cache.set_many({("f", 0, "a film"): "a movie"})
    >>> cache.get_many([("f", 0, "a film"), ("f", 1, "a film")])
    ['a movie', None]
    """

    def __init__(self):
        self._entries = {}

    def get_many(self, keys):
        """Return the cached value of each key, or ``None`` where absent."""
        return [self._entries.get(self._normalise(key)) for key in keys]

    def set_many(self, mapping):
        """Store every ``key: value`` of ``mapping``."""
        for key, value in mapping.items():
            self._entries[self._normalise(key)] = value

    def __len__(self):
        return len(self._entries)

    @staticmethod
    def _normalise(key):
        fingerprint, copy_index, item = key
        return fingerprint, int(copy_index), item_key(item)


def augment_with_cache(augmenter, X, n_copies, cache):
    """Return ``augmenter.augment(X, n_copies)``, reusing cached copies.

    Only the (text, copy) pairs missing from ``cache`` are augmented, in one
    batch per copy index, and then stored.

    Parameters
    ----------
    augmenter : BaseAugmenter
        A fitted augmenter.
    X : sequence of str or of (str, str)
    n_copies : int
    cache : object with ``get_many`` and ``set_many``, or None
        ``None`` disables caching.

    Returns
    -------
    copies : list of ``n_copies`` lists
        ``copies[k][i]`` is copy ``k`` of ``X[i]``.
    n_computed : int
        How many (text, copy) pairs were augmented (cache misses).
    """
    items = list(X)
    if cache is None:
        return augmenter.augment(items, n_copies=n_copies), len(items) * n_copies
    fingerprint = augmenter.fingerprint()
    copies = []
    n_computed = 0
    for copy_index in range(n_copies):
        keys = [(fingerprint, copy_index, item) for item in items]
        values = cache.get_many(keys)
        missing = [i for i, value in enumerate(values) if value is None]
        if missing:
            fresh = augmenter.augment(
                [items[i] for i in missing], n_copies=1, copy_offset=copy_index
            )[0]
            cache.set_many(
                {keys[i]: value for i, value in zip(missing, fresh, strict=True)}
            )
            for i, value in zip(missing, fresh, strict=True):
                values[i] = value
            n_computed += len(missing)
        copies.append([tuple(v) if isinstance(v, list) else v for v in values])
    return copies, n_computed
