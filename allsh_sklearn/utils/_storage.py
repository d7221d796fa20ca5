"""Crash-safe files: atomic writes, append-only JSON lines, run locks.

- :func:`atomic_write_bytes` writes a temporary file in the same folder,
  fsyncs it and renames it over the target (``os.replace``): a reader sees
  the old file or the new one, never half of one.
- :class:`JsonlLog` appends one complete line per record with a single
  ``write`` on an ``O_APPEND`` descriptor, under an exclusive ``flock``,
  then fsyncs. A process killed mid-write can leave a torn last line: the
  next writer cuts it off before appending, and readers ignore it.
- :class:`RunLock` is a non-blocking ``flock`` on a lock file, so two
  runner processes sharing an output folder never compute the same run at
  the same time (the second one skips it).
"""

import fcntl
import json
import os
import tempfile
import warnings
from pathlib import Path

__all__ = ["JsonlLog", "RunLock", "atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path, data):
    """Replace ``path`` by ``data`` atomically (temporary file + ``os.replace``).

    Parameters
    ----------
    path : str or path-like
    data : bytes
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def atomic_write_text(path, text):
    """Replace ``path`` by ``text`` (UTF-8) atomically.

    Parameters
    ----------
    path : str or path-like
    text : str
    """
    atomic_write_bytes(path, text.encode("utf-8"))


class JsonlLog:
    """An append-only JSON-lines file that survives being killed mid-write.

    Parameters
    ----------
    path : str or path-like
        The file, created (with its folder) on the first append.

    Examples
    --------
    >>> import tempfile
    >>> log = JsonlLog(tempfile.mkdtemp() + "/log.jsonl")
    >>> log.append({"a": 1})
    >>> with open(log.path, "ab") as f:
    ...     _ = f.write(b'{"a": 2')  # a torn line, as if killed mid-write
    >>> log.read()
    [{'a': 1}]
    >>> log.append({"a": 3})
    >>> log.read()
    [{'a': 1}, {'a': 3}]
    """

    def __init__(self, path):
        self.path = Path(path)

    def append(self, record):
        """Append ``record`` as one line (sorted keys), durably."""
        line = (
            json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
        ).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":
                    self._cut_torn_tail(fd, size)
            written = os.write(fd, line)
            if written != len(line):  # pragma: no cover - disk full
                raise OSError(
                    f"Short write to {self.path}: {written}/{len(line)} bytes."
                )
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _cut_torn_tail(fd, size):
        step = 65536
        end = size
        while end > 0:
            start = max(0, end - step)
            os.lseek(fd, start, os.SEEK_SET)
            chunk = os.read(fd, end - start)
            position = chunk.rfind(b"\n")
            if position >= 0:
                os.ftruncate(fd, start + position + 1)
                return
            end = start
        os.ftruncate(fd, 0)

    def read(self):
        """Return every complete record; a torn last line is ignored.

        A malformed line elsewhere (which this class never writes) is
        skipped with a ``RuntimeWarning``.

        Returns
        -------
        records : list of dict
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        torn = lines.pop()  # b"" when the file ends with a newline
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                warnings.warn(
                    f"{self.path}, line {number}: not valid JSON; skipped.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        # ``torn`` (a last line without its newline) was cut short by a kill
        # mid-write; the next append removes it, so it is never a record.
        del torn
        return records


class RunLock:
    """A non-blocking exclusive lock on a file, as a context manager.

    ``acquired`` tells whether this process holds it.

    Parameters
    ----------
    path : str or path-like
    """

    def __init__(self, path):
        self.path = Path(path)
        self.acquired = False
        self._fd = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.acquired = True
        except BlockingIOError:
            self.acquired = False
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            if self.acquired:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self.acquired = False
        return False
