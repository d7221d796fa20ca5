"""Errors of a labeling session, each with the exit code the CLI returns.

Every error subclasses a built-in exception (``ValueError``, ``RuntimeError``
or ``OSError``) so that callers can catch it without importing this module.
"""

__all__ = [
    "EXIT_CODES",
    "InputFileError",
    "NotReadyError",
    "SessionBusyError",
    "SessionError",
    "SessionVersionError",
    "StorageError",
]


class SessionError(RuntimeError):
    """A labeling session cannot do what was asked (exit code 4).

    Raised for a missing or damaged session, a folder that already holds one,
    or a parameter that does not fit the session.
    """

    exit_code = 4


class InputFileError(SessionError, ValueError):
    """A data or label file is wrong: nothing of it was used (exit code 3).

    Attributes
    ----------
    problems : list of str
        One line per problem found (the message shows the first ones).
    """

    exit_code = 3

    def __init__(self, message, problems=()):
        self.problems = list(problems)
        super().__init__(message)


class SessionVersionError(SessionError):
    """The session database was written by a newer allsh_sklearn (exit code 4)."""

    exit_code = 4


class SessionBusyError(SessionError):
    """Another process held the session's write lock too long (exit code 5)."""

    exit_code = 5


class StorageError(SessionError, OSError):
    """The project folder cannot be written: read-only or full (exit code 6)."""

    exit_code = 6


class NotReadyError(SessionError):
    """The session has no model yet, or too few labels to train one (exit code 7)."""

    exit_code = 7


#: The CLI's exit codes, documented in ``allsh-label --help``.
EXIT_CODES = {
    0: "success",
    1: "unexpected internal error (a bug: please report it with the traceback)",
    2: "bad command-line arguments",
    3: "bad input file (missing column, empty texts, duplicate ids, unknown ids "
    "or labels, a file from another session); nothing was imported",
    4: "session problem (no session in the folder, one already there, a "
    "damaged database, or one from a newer allsh_sklearn)",
    5: "the session is busy: another process held its write lock too long",
    6: "storage problem: the project folder is read-only or the disk is full",
    7: "not ready: no trained model yet, too few labels to train one, or (for "
    "next) the pool is fully labeled",
    10: "'status --exit-code' only: a stopping rule says stop",
    130: "interrupted (Ctrl-C); every label given so far is saved",
    141: "the output was closed early (e.g. piped into head); work done so "
    "far is saved",
}
