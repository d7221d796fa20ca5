"""One SQLite store: WAL, a connection per process and thread, versioned schema.

Every on-disk store of the package (the embedding cache, the augmentation
cache, a labeling session) is a :class:`SQLiteStore`: one database file that
several threads and processes read and write at once.

- **Connections.** Each process and thread opens its own connection on first
  use (a connection is never shared across a fork: the child reopens), in
  autocommit mode, with a busy timeout so that writers wait for each other
  instead of failing.
- **Durability.** The database runs in WAL mode (refused on file systems
  that cannot, such as network mounts); :meth:`SQLiteStore.write` wraps a
  block in ``BEGIN IMMEDIATE ... COMMIT``, rolled back on any exception
  (``KeyboardInterrupt`` included), so a writer killed at any point leaves
  the file as it was before its transaction. ``synchronous`` is ``NORMAL``
  for caches (a power cut may lose the last transactions, never corrupt the
  file) and can be ``FULL`` for data that cannot be rebuilt.
- **Schema version.** The schema's version is SQLite's ``user_version``. A
  new file gets the schema and the version; an older version is upgraded by
  the given migrations (or refused); a newer one is refused with
  :class:`SchemaVersionError`, leaving the file untouched.
- **Chunked reads.** :meth:`SQLiteStore.select_in` splits ``IN (...)``
  lists into chunks below SQLite's limit on bound parameters.

Example
-------
>>> import os, tempfile
>>> store = SQLiteStore(
...     os.path.join(tempfile.mkdtemp(), "notes.sqlite"),
...     schema=["CREATE TABLE notes (key TEXT PRIMARY KEY, value TEXT)"],
...     version=1,
... )
>>> with store.write() as connection:
...     _ = connection.executemany("INSERT INTO notes VALUES (?, ?)", [("a", "1")])
>>> store.select_in("SELECT key, value FROM notes WHERE key IN ({marks})", ["a", "b"])
[('a', '1')]
>>> store.version
1
"""

import contextlib
import os
import sqlite3
import threading

__all__ = ["CHUNK", "SQLiteStore", "SchemaVersionError"]

#: Values per ``IN (...)`` list; SQLite's limit on bound parameters is far above.
CHUNK = 500

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class SchemaVersionError(ValueError):
    """A database file written with a schema version this code cannot read."""


class SQLiteStore:
    """A SQLite database file shared by threads and processes.

    Parameters
    ----------
    path : str or path-like
        The database file; its folder is created if missing (unless
        ``readonly``).
    schema : sequence of str, default=()
        SQL statements that create the tables of version ``version``. Use
        ``CREATE TABLE IF NOT EXISTS`` when files written before versioning
        existed (their version reads as 0 and the schema is applied to them).
    version : int, default=1
        The schema version this code writes and reads.
    migrations : dict of {int: sequence of str} or None, default=None
        ``{v: statements}`` upgrading a file of version ``v`` to ``v + 1``,
        run in one transaction with the version bump. A file older than
        ``version`` without a path of migrations is refused.
    timeout : float, default=60.0
        Seconds a writer waits for another one before
        ``sqlite3.OperationalError`` ("database is locked").
    synchronous : {"NORMAL", "FULL", "OFF", "EXTRA"}, default="NORMAL"
        SQLite's ``synchronous`` setting (``FULL`` for data that cannot be
        rebuilt).
    readonly : bool, default=False
        Open without writing anything (SQLite's ``immutable`` mode, which
        assumes nobody writes the file meanwhile; for read-only folders).
        The schema must already be there.

    Attributes
    ----------
    path : str
        The database file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "s.sqlite")
    >>> store = SQLiteStore(path, schema=["CREATE TABLE t (k INTEGER)"])
    >>> with store.write() as connection:
    ...     _ = connection.execute("INSERT INTO t VALUES (1)")
    >>> with store.read() as connection:
    ...     connection.execute("SELECT COUNT(*) FROM t").fetchone()[0]
    1
    >>> SQLiteStore(path, schema=["CREATE TABLE t (k INTEGER)"], version=2)
    Traceback (most recent call last):
    ...
    allsh_sklearn.utils._sqlite.SchemaVersionError: ...
    """

    def __init__(
        self,
        path,
        *,
        schema=(),
        version=1,
        migrations=None,
        timeout=60.0,
        synchronous="NORMAL",
        readonly=False,
    ):
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(
                f"The 'synchronous' parameter of SQLiteStore must be one of "
                f"{list(_SYNCHRONOUS)}. Got {synchronous!r} instead."
            )
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(
                "The 'version' parameter of SQLiteStore must be an int >= 1. Got "
                f"{version!r} instead."
            )
        self.path = os.fspath(path)
        self.schema = tuple(schema)
        self.version = version
        self.migrations = dict(migrations or {})
        self.timeout = float(timeout)
        self.synchronous = synchronous
        self.readonly = readonly
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened = []
        if not readonly:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._check_schema()

    # Connections ------------------------------------------------------------

    def connection(self):
        """Return this process's and thread's connection (opened on first use).

        Returns
        -------
        connection : sqlite3.Connection
            In autocommit mode: use :meth:`write` or :meth:`read` for
            transactions.
        """
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        with self._translated():
            connection = self._open()
        self._local.connection = connection
        self._local.pid = os.getpid()
        # Keep this process's connections of live threads; close those of
        # threads that have ended, so that a long-running server whose worker
        # threads come and go does not pile up open connections.
        pid, ended = os.getpid(), []
        with self._lock:
            kept = []
            for owner, thread, opened in self._opened:
                if owner != pid:
                    continue  # a parent process's: not ours to close
                (kept if thread.is_alive() else ended).append(
                    (owner, thread, opened)
                )
            self._opened = kept + [(pid, threading.current_thread(), connection)]
        for _, _, opened in ended:
            with contextlib.suppress(sqlite3.Error):
                opened.close()
        return connection

    def _open(self):
        if self.readonly:
            uri = "file:" + os.path.abspath(self.path) + "?mode=ro&immutable=1"
            return sqlite3.connect(
                uri,
                uri=True,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        connection = sqlite3.connect(
            self.path,
            timeout=self.timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            connection.close()
            raise OSError(
                f"Could not switch the database {self.path!r} to WAL mode (got "
                f"{mode!r}); put it on a local disk, not a network file system."
            )
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        return connection

    def close(self):
        """Close every connection this process opened (they reopen on next use)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for pid, _, connection in opened:
            if pid == os.getpid():
                connection.close()
        self._local = threading.local()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        for name in ("_local", "_lock", "_opened"):
            state.pop(name)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened = []

    def __repr__(self):
        return f"{type(self).__name__}({self.path!r}, version={self.version})"

    @contextlib.contextmanager
    def _translated(self):
        """Raise :meth:`translate`'s exception for an ``sqlite3`` error."""
        try:
            yield
        except sqlite3.Error as error:
            translated = self.translate(error)
            if translated is not error:
                raise translated from error
            raise

    def translate(self, error):
        """The exception to raise for an ``sqlite3`` error (a hook).

        Subclasses turn errors into their own (busy, read-only, disk full);
        this one returns ``error`` itself.

        Parameters
        ----------
        error : sqlite3.Error

        Returns
        -------
        exception : BaseException
        """
        return error

    # Transactions -----------------------------------------------------------

    @contextlib.contextmanager
    def write(self):
        """A write transaction: ``with store.write() as connection: ...``.

        ``BEGIN IMMEDIATE`` takes the write lock at once (waiting up to
        ``timeout`` for another writer); the block's statements are committed
        together, or rolled back on any exception.

        Yields
        ------
        connection : sqlite3.Connection
        """
        if self.readonly:
            raise OSError(
                f"The database {self.path!r} was opened read-only: nothing can "
                "be written to it."
            )
        connection = self.connection()
        with self._translated():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def read(self):
        """A read transaction: one consistent snapshot of the database.

        Yields
        ------
        connection : sqlite3.Connection
        """
        connection = self.connection()
        with self._translated():
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")

    # Queries ----------------------------------------------------------------

    def select_in(self, sql, values, params=(), *, connection=None, chunk=CHUNK):
        """Run a query with an ``IN`` list of any length, in chunks.

        Parameters
        ----------
        sql : str
            A statement with ``{marks}`` where the ``?`` placeholders of the
            ``IN`` list go, e.g. ``"SELECT k, v FROM t WHERE k IN ({marks})"``.
        values : sequence
            The values of the ``IN`` list.
        params : sequence, default=()
            Values of the placeholders before the list.
        connection : sqlite3.Connection or None, default=None
            Inside a :meth:`read` or :meth:`write` block, its connection (one
            snapshot for all chunks); None uses this thread's connection.
        chunk : int, default=CHUNK
            Values per statement.

        Returns
        -------
        rows : list of tuple
            The rows of every chunk, in chunk order.
        """
        values = list(values)
        connection = self.connection() if connection is None else connection
        rows = []
        with self._translated():
            for start in range(0, len(values), chunk):
                part = values[start : start + chunk]
                statement = sql.format(marks=",".join("?" * len(part)))
                rows.extend(connection.execute(statement, [*params, *part]))
        return rows

    def count(self, table):
        """The number of rows of ``table``.

        Parameters
        ----------
        table : str
            The name of a table of the schema (not user input: it is
            formatted into the statement).

        Returns
        -------
        n_rows : int
        """
        return self.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    # Schema -----------------------------------------------------------------

    def _check_schema(self):
        connection = self.connection()
        found = connection.execute("PRAGMA user_version").fetchone()[0]
        if found == self.version:
            return
        if found > self.version:
            raise SchemaVersionError(
                f"The database {self.path!r} has schema version {found}, written "
                f"by a newer allsh_sklearn; this one reads version {self.version}. "
                "Upgrade allsh-sklearn, or use another file; this one was left "
                "untouched."
            )
        if self.readonly:
            raise SchemaVersionError(
                f"The database {self.path!r} has schema version {found}, not "
                f"{self.version}, and was opened read-only, so it cannot be "
                "upgraded."
            )
        with self.write() as connection:
            found = connection.execute("PRAGMA user_version").fetchone()[0]
            if found == 0:  # a new file, or one from before versioning
                statements = self.schema
            else:
                missing = [
                    v for v in range(found, self.version) if v not in self.migrations
                ]
                if missing:
                    raise SchemaVersionError(
                        f"The database {self.path!r} has schema version {found} "
                        f"and cannot be upgraded to {self.version} (no migration "
                        f"from version {missing[0]}). Delete it if it is a cache, "
                        "or open it with the allsh_sklearn that wrote it."
                    )
                statements = [
                    statement
                    for v in range(found, self.version)
                    for statement in self.migrations[v]
                ]
            for statement in statements:
                connection.execute(statement)
            # PRAGMA takes no bound parameters; version is a checked int.
            connection.execute(f"PRAGMA user_version = {int(self.version)}")
