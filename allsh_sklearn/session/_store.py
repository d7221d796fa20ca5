"""The SQLite database of a labeling session: schema, version, transactions.

One file, ``session.sqlite`` in the project folder, holds everything a
session needs to resume: the pool, every labeling event, the queried
batches with their scores and explanations, the rounds of training with the
stopping rules' values and the audit estimate, the last trained model, and
the session's parameters. Caches that can be rebuilt (embeddings, augmented
copies) live beside it in ``cache/``.

Durability: the database runs in WAL mode with ``synchronous=FULL``; every
label is its own transaction, committed before the call returns; a
retraining writes its round, model and next batch in one transaction at the
end, so a process killed at any point leaves the database as it was before
that transaction. Writers take SQLite's write lock with ``BEGIN IMMEDIATE``
and wait up to ``timeout`` seconds for each other.

Schema (version 2)::

    meta(key PRIMARY KEY, value)                  -- session_id, config, ...
    items(item PRIMARY KEY, ext_id UNIQUE, text, text_pair,
          audit_rank UNIQUE, stop_set, role)      -- role: NULL | 'audit'
    events(event PRIMARY KEY AUTOINCREMENT, item, kind, label, target,
           undone, annotator, created_at, batch, source)
                                                  -- kind: label | skip | undo
    item_state(item PRIMARY KEY, kind, label, event)
                                                  -- latest active event per item
    batches(batch PRIMARY KEY, round, kind, created_at, closed_at)
                                                  -- kind: initial | query
    batch_items(batch, position, item, purpose, score, guess, proba,
                explanation)                      -- purpose: train | audit
    rounds(round PRIMARY KEY, created_at, n_labeled, label_event, class_counts,
           n_audit, audit_correct, audit_low, audit_high, mean_pool_score,
           stop_set_predictions, stop_set_proba, checks, train_seconds,
           query_seconds, class_estimates)   -- class_estimates: JSON, v2
    models(round PRIMARY KEY, format, data)       -- the last trained model
    artifacts(name PRIMARY KEY, data, created_at) -- fitted parts kept across
                                                  -- processes (the TF-IDF
                                                  -- vocabulary, a Python
                                                  -- estimator or strategy)
    claims(item PRIMARY KEY, owner, expires_at)   -- who is looking at an item

Versions: 1, the first; 2 adds ``rounds.class_estimates`` (the per-class
estimates of :func:`~allsh_sklearn.session.class_estimates`, as JSON; NULL
in rounds trained before). A version-1 database is upgraded when it is
opened for writing (:data:`MIGRATIONS`), and read as it is when opened
read-only (its rounds then have no per-class estimates).
"""

import contextlib
import os
import re
import sqlite3
from pathlib import Path

from ..utils._sqlite import CHUNK, SchemaVersionError, SQLiteStore
from ._errors import SessionBusyError, SessionError, SessionVersionError, StorageError

__all__ = [
    "CHUNK",
    "DATABASE_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SessionStore",
    "storage_errors",
]

#: The session database's file name inside the project folder.
DATABASE_NAME = "session.sqlite"

#: The schema this version writes; a database with a larger one is refused.
SCHEMA_VERSION = 2

#: ``{v: statements}`` upgrading a session database of version ``v`` to
#: ``v + 1`` (run in one transaction with the version bump).
MIGRATIONS = {
    1: ["ALTER TABLE rounds ADD COLUMN class_estimates TEXT"],
}

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE items (
    item INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    text_pair TEXT,
    audit_rank INTEGER NOT NULL UNIQUE,
    stop_set INTEGER NOT NULL DEFAULT 0,
    role TEXT CHECK (role IS NULL OR role = 'audit')
);
CREATE TABLE events (
    event INTEGER PRIMARY KEY AUTOINCREMENT,
    item INTEGER NOT NULL REFERENCES items(item),
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')),
    label TEXT,
    target INTEGER REFERENCES events(event),
    undone INTEGER NOT NULL DEFAULT 0,
    annotator TEXT NOT NULL,
    created_at REAL NOT NULL,
    batch INTEGER REFERENCES batches(batch),
    source TEXT NOT NULL
);
CREATE INDEX events_item ON events(item, event);
CREATE INDEX events_annotator ON events(annotator, event);
CREATE TABLE item_state (
    item INTEGER PRIMARY KEY REFERENCES items(item),
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip')),
    label TEXT,
    event INTEGER NOT NULL REFERENCES events(event)
);
CREATE TABLE batches (
    batch INTEGER PRIMARY KEY,
    round INTEGER REFERENCES rounds(round),
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'query')),
    created_at REAL NOT NULL,
    closed_at REAL
);
CREATE TABLE batch_items (
    batch INTEGER NOT NULL REFERENCES batches(batch),
    position INTEGER NOT NULL,
    item INTEGER NOT NULL REFERENCES items(item),
    purpose TEXT NOT NULL CHECK (purpose IN ('train', 'audit')),
    score REAL,
    guess TEXT,
    proba TEXT,
    explanation TEXT,
    PRIMARY KEY (batch, position),
    UNIQUE (batch, item)
);
CREATE INDEX batch_items_item ON batch_items(item);
CREATE TABLE rounds (
    round INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    n_labeled INTEGER NOT NULL,
    label_event INTEGER NOT NULL,
    class_counts TEXT NOT NULL,
    n_audit INTEGER NOT NULL,
    audit_correct INTEGER NOT NULL,
    audit_low REAL,
    audit_high REAL,
    mean_pool_score REAL,
    stop_set_predictions BLOB,
    stop_set_proba BLOB,
    checks TEXT NOT NULL,
    train_seconds REAL NOT NULL,
    query_seconds REAL NOT NULL,
    class_estimates TEXT
);
CREATE TABLE models (
    round INTEGER PRIMARY KEY REFERENCES rounds(round),
    format TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE artifacts (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE claims (
    item INTEGER PRIMARY KEY REFERENCES items(item),
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _translate(error, path, what="The session"):
    """Turn an sqlite3 error into a session error with a clear message.

    ``what`` names the file in the message: the session database, or a cache
    beside it (``"The session's augmentation cache"``), which share the
    session's errors and exit codes.
    """
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return SessionBusyError(
            f"{what} {path} is busy: another process held its write lock "
            "longer than the timeout. Try again when it has finished (a "
            "retraining can take a while)."
        )
    if "disk is full" in text or "disk i/o" in text:
        return StorageError(
            f"{what} {path} could not be written: {error}. Free some "
            "space and try again; nothing of the interrupted step was saved, "
            "every earlier label is safe."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StorageError(
            f"{what} {path} cannot be written: the project folder or its "
            f"database is read-only ({error}). Fix the permissions, or copy the "
            "folder somewhere writable."
        )
    if "not a database" in text or "malformed" in text or "no such table" in text:
        if what != "The session":
            return SessionError(
                f"{what} {path} is damaged ({error}). Delete it: it only holds "
                "what can be computed again, and is rebuilt when needed."
            )
        return SessionError(
            f"{path} is not a readable labeling session database ({error})."
        )
    return None


@contextlib.contextmanager
def storage_errors(path, what="The session's cache"):
    """Raise the session's errors for the sqlite3 errors of a file beside it.

    The caches in the project folder (augmented copies, embeddings) are
    written while a session retrains; a full disk, a read-only folder or a
    lock held too long there gets the same error, message and exit code as
    in the session database (:class:`StorageError`, exit code 6, ...).

    Parameters
    ----------
    path : path-like
        The file (or folder) named in the message.
    what : str, default="The session's cache"
        How the message names it.
    """
    try:
        yield
    except sqlite3.Error as error:
        translated = _translate(error, path, what)
        if translated is None:
            raise
        raise translated from error


#: Tables every session database has (a file without them is not a session).
_TABLES = frozenset(re.findall(r"CREATE TABLE (\w+)", _SCHEMA))


def _inspect(path):
    """``(schema version, table names)`` of a database file, read without
    writing anything (the file is opened read-only, never switched to WAL)."""
    base = "file:" + os.path.abspath(path) + "?mode=ro"
    error = None
    # A WAL database needs its -shm file even to read; in a read-only folder
    # only SQLite's immutable mode opens it.
    for uri in (base, base + "&immutable=1"):
        try:
            connection = sqlite3.connect(uri, uri=True)
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                tables = {
                    row[0]
                    for row in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                }
                return version, tables
            finally:
                connection.close()
        except sqlite3.Error as caught:
            error = caught
    translated = _translate(error, path)
    raise (translated or SessionError(f"Cannot read {path}: {error}")) from error


def _has_pending_wal(path):
    """Whether a database has a write-ahead log beside it (a writer is alive,
    or one stopped before folding its writes into the database)."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    return (wal.exists() and wal.stat().st_size > 0) or shm.exists()


class SessionStore(SQLiteStore):
    """The session database: a :class:`~allsh_sklearn.utils.SQLiteStore` with
    the session schema, ``synchronous=FULL`` (labels cannot be rebuilt) and
    errors turned into session errors (busy, read-only, disk full, newer
    version).

    Parameters
    ----------
    path : path-like
        The database file.
    readonly : bool, default=False
        Open without writing anything (for a read-only folder). When a
        write-ahead log is beside the file (a writer at work, or one that
        stopped before folding its writes in), it is read through SQLite's
        shared-memory file, so the latest writes are seen; a log that
        cannot be read that way is a :class:`StorageError` saying why.
    timeout : float, default=30.0
        Seconds a writer waits for another one.
    create : bool, default=False
        Create the schema in a new file; otherwise the file must already be
        a session database: one without a schema version or without the
        session's tables (another program's SQLite file) is refused, having
        only been read (never switched to WAL or given a schema).

    Attributes
    ----------
    found_version : int
        The schema version the file has now: :data:`SCHEMA_VERSION`, or an
        older one for a file opened read-only (read as it is, not upgraded).
    """

    def __init__(self, path, readonly=False, timeout=30.0, create=False):
        path = os.fspath(path)
        if not create:
            # Checked read-only first: a file that is not a session (or one
            # from a newer version) is refused as it is, never switched to WAL.
            version, tables = _inspect(path)
            if version > SCHEMA_VERSION and "meta" in tables:
                raise SessionVersionError(
                    f"The session {path} was written by a newer allsh_sklearn "
                    f"(database schema {version}; this version reads up to "
                    f"{SCHEMA_VERSION}). Upgrade allsh-sklearn to open it; the "
                    "file was left untouched."
                )
            missing = sorted(_TABLES - tables)
            if version < 1 or missing:
                found = (
                    "no schema version"
                    if version < 1
                    else f"no table {', '.join(missing[:3])}"
                    + (" ..." if len(missing) > 3 else "")
                )
                raise SessionError(
                    f"{path} is not a labeling session database ({found}); it "
                    "was left untouched. Move it away, or open the folder of "
                    "the session it belongs to."
                )
        # Read-only and another process's writes in the log: read through
        # SQLite's shared memory (it sees them) rather than immutably.
        self._read_log = bool(readonly and _has_pending_wal(path))
        try:
            super().__init__(
                path,
                schema=[s for s in _SCHEMA.split(";") if s.strip()],
                version=SCHEMA_VERSION,
                migrations=MIGRATIONS,
                timeout=timeout,
                synchronous="FULL",
                readonly=readonly,
            )
        except SchemaVersionError as error:
            raise SessionVersionError(str(error)) from error
        except OSError as error:
            if isinstance(error, StorageError):
                raise
            raise StorageError(f"Cannot open the session {path}: {error}") from error

    def _check_schema(self):
        # Read-only, an older session is read as it is (it cannot be
        # upgraded): the columns added since read as missing.
        if self.readonly:
            found = self.connection().execute("PRAGMA user_version").fetchone()[0]
            if 1 <= found < self.version:
                self.found_version = found
                return
        super()._check_schema()
        self.found_version = self.version

    def _open(self):
        if not self._read_log:
            return super()._open()
        uri = "file:" + os.path.abspath(self.path) + "?mode=ro"
        try:
            connection = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            name = os.path.basename(self.path)
            raise StorageError(
                f"The session {self.path} cannot be read: this process has no "
                f"write permission on it, and its latest writes are in "
                f"{name}-wal, which SQLite reads through {name}-shm ({error}). "
                "If another process is writing the session, try again when it "
                "has finished; otherwise open it once where the folder is "
                "writable (the first writer folds the log into the database), "
                "or get write permission on the folder."
            ) from error
        return connection

    def translate(self, error):
        """The session error for an sqlite3 error (the error itself if unknown)."""
        translated = _translate(error, self.path)
        return translated if translated is not None else error

    def write(self):
        """A write transaction (refused with a clear error when read-only)."""
        if self.readonly:
            raise StorageError(
                f"The session {self.path} was opened read-only (its folder is "
                "not writable): nothing can be saved. Fix the permissions, or "
                "copy the folder somewhere writable."
            )
        return super().write()

    def meta(self):
        """The session's metadata rows.

        Returns
        -------
        meta : dict of {str: str}
        """
        with self.read() as connection:
            return dict(connection.execute("SELECT key, value FROM meta"))
