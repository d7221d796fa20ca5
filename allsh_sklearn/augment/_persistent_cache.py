"""An on-disk augmentation cache shared by runs and processes (SQLite).

Back-translating a pool costs minutes to hours; the copies do not depend on
the model being trained, so they are computed once and read back by every
later iteration, run and process. :class:`SQLiteAugmentationCache` has the
``get_many`` / ``set_many`` interface of
:class:`~allsh_sklearn.augment.MemoryAugmentationCache`.

Durability and concurrency come from :class:`~allsh_sklearn.utils.SQLiteStore`:
the database runs in WAL mode, each ``set_many`` is one ``BEGIN IMMEDIATE``
transaction (all of its entries land, or none do, even if the writer is
killed), and a busy timeout makes concurrent writers wait for each other
instead of failing.
"""

import json

from ..utils._sqlite import SQLiteStore
from ._cache import item_key

__all__ = ["SQLiteAugmentationCache"]

_SCHEMA = [
    """
CREATE TABLE IF NOT EXISTS augmentations (
    fingerprint TEXT NOT NULL,
    copy_index INTEGER NOT NULL,
    item TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (fingerprint, copy_index, item)
) WITHOUT ROWID
"""
]


def _decode(text):
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


class SQLiteAugmentationCache(SQLiteStore):
    """A persistent cache of augmented copies in an SQLite database file.

    Keys are ``(fingerprint, copy_index, item)`` triples, as for
    :class:`~allsh_sklearn.augment.MemoryAugmentationCache`; values are
    texts or ``(text, text_pair)`` pairs, stored as JSON (pairs come back as
    tuples). Several processes may read and write the same file at once:
    it is a :class:`~allsh_sklearn.utils.SQLiteStore` (``close``, pickling
    and the context manager come from there).

    Parameters
    ----------
    path : str or path-like
        The database file, created (with its folder) if missing.
    timeout : float, default=60.0
        Seconds a writer waits for another one to finish its transaction
        before raising ``sqlite3.OperationalError``.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> cache = SQLiteAugmentationCache(os.path.join(folder, "cache.sqlite"))
    >>> cache.set_many({("f", 0, "a film"): "a movie",
    ...                 ("f", 0, ("a", "b")): ("an", "be")})
    >>> cache.get_many([("f", 0, "a film"), ("f", 1, "a film"), ("f", 0, ("a", "b"))])
    ['a movie', None, ('an', 'be')]
    >>> len(cache)
    2
    >>> cache.close()
    """

    def __init__(self, path, timeout=60.0):
        super().__init__(path, schema=_SCHEMA, timeout=timeout)

    def __repr__(self):
        return f"SQLiteAugmentationCache({self.path!r})"

    # The cache interface ----------------------------------------------------

    def get_many(self, keys):
        """Return the cached value of each key, or ``None`` where absent."""
        keys = [(str(f), int(c), item_key(item)) for f, c, item in keys]
        groups = {}
        for position, (fingerprint, copy_index, item) in enumerate(keys):
            groups.setdefault((fingerprint, copy_index), {}).setdefault(
                item, []
            ).append(position)
        values = [None] * len(keys)
        for (fingerprint, copy_index), positions in groups.items():
            rows = self.select_in(
                "SELECT item, value FROM augmentations WHERE fingerprint = ? "
                "AND copy_index = ? AND item IN ({marks})",
                list(positions),
                [fingerprint, copy_index],
            )
            for item, value in rows:
                decoded = _decode(value)
                for position in positions[item]:
                    values[position] = decoded
        return values

    def set_many(self, mapping):
        """Store every ``key: value`` of ``mapping`` in one transaction."""
        rows = [
            (
                str(fingerprint),
                int(copy_index),
                item_key(item),
                json.dumps(
                    list(value) if isinstance(value, tuple) else value,
                    ensure_ascii=False,
                ),
            )
            for (fingerprint, copy_index, item), value in mapping.items()
        ]
        if not rows:
            return
        with self.write() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO augmentations "
                "(fingerprint, copy_index, item, value) VALUES (?, ?, ?, ?)",
                rows,
            )

    def __len__(self):
        return self.count("augmentations")

    def clear(self, fingerprint=None):
        """Delete every entry, or only those of one augmenter ``fingerprint``."""
        with self.write() as connection:
            if fingerprint is None:
                connection.execute("DELETE FROM augmentations")
            else:
                connection.execute(
                    "DELETE FROM augmentations WHERE fingerprint = ?",
                    [str(fingerprint)],
                )
