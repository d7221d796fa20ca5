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
import os
import sqlite3

from ..utils._sqlite import SQLiteStore
from ._cache import item_key

__all__ = ["SQLiteAugmentationCache", "check_cache_path"]

_SQLITE_HEADER = b"SQLite format 3\x00"

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


def _in_cache_home(folder):
    from ..utils._cache_home import get_cache_home

    home = os.path.realpath(get_cache_home())
    return os.path.commonpath([home, os.path.realpath(folder)]) == home


def check_cache_path(
    path, *, name="path", owner="SQLiteAugmentationCache", create_folder=True
):
    """Check, before any work, that an SQLite cache file can live at ``path``.

    Nothing is written, except that a file that does not exist yet is
    created and removed again to prove that it can be (some folders, such
    as ``/proc``, say they are writable and are not).

    Parameters
    ----------
    path : str or path-like
        The cache file.
    name : str, default="path"
        The parameter that gave it, for the error message (``"cache"`` for
        :class:`~allsh_sklearn.strategies.ALLSH`).
    owner : str, default="SQLiteAugmentationCache"
        Whose parameter it is.
    create_folder : bool, default=True
        Whether a missing folder is fine (it is created when the cache
        opens). False refuses it, except inside the package's cache home
        (:func:`~allsh_sklearn.utils.get_cache_home`), which is always made
        when needed: a missing folder is more often a typo than a wish.

    Returns
    -------
    path : str
        ``path`` as a string.

    Raises
    ------
    TypeError
        ``path`` is not a str or path-like.
    ValueError
        ``path`` is a folder, a file that is not an SQLite database, in a
        folder that is missing (``create_folder=False``) or not writable,
        or where no file can be created.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"The '{name}' parameter of {owner} must be the path of an SQLite "
            f"file (str or path-like). Got {type(path).__name__} instead."
        )
    path = os.fspath(path)
    shown = f"The '{name}' parameter of {owner} must be the path of an SQLite file"

    def refuse(reason):
        raise ValueError(f"{shown} {reason}. Got {path!r} instead.")

    if os.path.isdir(path):
        refuse("(a file, not a folder)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        if create_folder or _in_cache_home(folder):
            return path
        refuse(
            f"in an existing folder: {folder!r} does not exist (create it first; "
            "only folders inside the cache home are made for you)"
        )
    if not os.path.isdir(folder):
        refuse(f"in a folder: {folder!r} is not one")
    if not os.access(folder, os.W_OK | os.X_OK):
        refuse(f"in a writable folder: {folder!r} is read-only for this user")
    if os.path.exists(path):
        if not os.path.isfile(path):
            refuse("(a regular file)")
        if not os.access(path, os.R_OK | os.W_OK):
            refuse("that this user can read and write")
        with open(path, "rb") as file:
            header = file.read(len(_SQLITE_HEADER))
        if header and header != _SQLITE_HEADER:
            refuse("(the file there is not an SQLite database)")
        return path
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:  # created meanwhile by another process
        return path
    except OSError as error:
        refuse(f"where a file can be created ({error.strerror or error})")
    os.close(descriptor)
    os.unlink(path)
    return path


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
        The database file, created (with its folder) if missing. It is
        checked first (:func:`check_cache_path`): a folder, a file that is
        not an SQLite database or a place where no file can be created
        raises ``ValueError`` naming it, before anything is written.
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
        path = check_cache_path(path)
        try:
            super().__init__(path, schema=_SCHEMA, timeout=timeout)
        except sqlite3.DatabaseError as error:
            text = str(error).lower()
            if "not a database" in text or "unable to open" in text:
                raise ValueError(
                    "The 'path' parameter of SQLiteAugmentationCache must be the "
                    f"path of an SQLite file that can be opened. Got {path!r}, "
                    f"which SQLite refuses ({error})."
                ) from error
            raise

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
