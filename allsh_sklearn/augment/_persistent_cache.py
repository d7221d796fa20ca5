"""An on-disk augmentation cache shared by runs and processes (SQLite).

Back-translating a pool costs minutes to hours; the copies do not depend on
the model being trained, so they are computed once and read back by every
later iteration, run and process. :class:`SQLiteAugmentationCache` has the
``get_many`` / ``set_many`` interface of
:class:`~allsh_sklearn.augment.MemoryAugmentationCache`.

Durability and concurrency come from SQLite itself: the database runs in WAL
mode, each ``set_many`` is one ``BEGIN IMMEDIATE`` transaction (all of its
entries land, or none do, even if the writer is killed), and a busy timeout
makes concurrent writers wait for each other instead of failing.
"""

import json
import os
import sqlite3
import threading

from ._cache import item_key

__all__ = ["SQLiteAugmentationCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS augmentations (
    fingerprint TEXT NOT NULL,
    copy_index INTEGER NOT NULL,
    item TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (fingerprint, copy_index, item)
) WITHOUT ROWID
"""

# Stay well below SQLite's limit on bound parameters per statement.
_CHUNK = 500


def _decode(text):
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


class SQLiteAugmentationCache:
    """A persistent cache of augmented copies in an SQLite database file.

    Keys are ``(fingerprint, copy_index, item)`` triples, as for
    :class:`~allsh_sklearn.augment.MemoryAugmentationCache`; values are
    texts or ``(text, text_pair)`` pairs, stored as JSON (pairs come back as
    tuples). Several processes may read and write the same file at once.

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
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._connection = None
        self._pid = None
        self._connect()

    # Connection handling --------------------------------------------------

    def _connect(self):
        # A connection is never shared across a fork: reopen in the child.
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            connection.close()
            raise OSError(
                f"Could not switch the augmentation cache {self.path!r} to WAL "
                f"mode (got {mode!r}); put it on a local disk, not a network "
                "file system."
            )
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(_SCHEMA)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._connection = connection
        self._pid = os.getpid()
        return connection

    def close(self):
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __getstate__(self):
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state):
        self.path = state["path"]
        self.timeout = state["timeout"]
        self._lock = threading.RLock()
        self._connection = None
        self._pid = None

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
        with self._lock:
            connection = self._connect()
            for (fingerprint, copy_index), positions in groups.items():
                items = list(positions)
                for start in range(0, len(items), _CHUNK):
                    chunk = items[start:start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = connection.execute(
                        "SELECT item, value FROM augmentations WHERE fingerprint = ?"
                        f" AND copy_index = ? AND item IN ({marks})",
                        [fingerprint, copy_index, *chunk],
                    ).fetchall()
                    for item, value in rows:
                        decoded = _decode(value)
                        for position in positions[item]:
                            values[position] = decoded
        return values

    def set_many(self, mapping):
        """Store every ``key: value`` of ``mapping`` in one transaction."""
        rows = [
            (
                str(fingerprint), int(copy_index), item_key(item),
                json.dumps(list(value) if isinstance(value, tuple) else value,
                           ensure_ascii=False),
            )
            for (fingerprint, copy_index, item), value in mapping.items()
        ]
        if not rows:
            return
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO augmentations "
                    "(fingerprint, copy_index, item, value) VALUES (?, ?, ?, ?)",
                    rows,
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def __len__(self):
        with self._lock:
            return self._connect().execute(
                "SELECT COUNT(*) FROM augmentations"
            ).fetchone()[0]

    def clear(self, fingerprint=None):
        """Delete every entry, or only those of one augmenter ``fingerprint``."""
        with self._lock:
            connection = self._connect()
            if fingerprint is None:
                connection.execute("DELETE FROM augmentations")
            else:
                connection.execute(
                    "DELETE FROM augmentations WHERE fingerprint = ?",
                    [str(fingerprint)],
                )
