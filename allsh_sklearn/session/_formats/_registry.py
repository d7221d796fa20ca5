"""The file formats of labeling sessions, by name: :data:`FORMATS`.

A new format is one subclass of :class:`LabelFormat` (or of
:class:`TableFormat`, for a table) and one call of :func:`register_format`
(or one entry of :data:`FORMATS`, for a format of this package): the
session's exports and imports, ``predict_file`` and every ``--format`` of
``allsh-label`` look formats up here, and a file's suffix names its format
through the formats' :attr:`~LabelFormat.suffixes`.
"""

import os
import re
from pathlib import Path

from .._errors import InputFileError
from ._base import LabelFormat, TableFormat
from ._csv import CsvFormat
from ._jsonl import JsonlFormat
from ._labelstudio import LabelStudioFormat
from ._parquet import ParquetFormat

__all__ = [
    "FORMATS",
    "guess_format",
    "register_format",
    "table_formats",
    "unregister_format",
]

#: File formats by name: a :class:`LabelFormat` each, with the suffixes
#: recognised for it. Add one with :func:`register_format`.
FORMATS = {
    fmt.name: fmt
    for fmt in (CsvFormat(), JsonlFormat(), ParquetFormat(), LabelStudioFormat())
}

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SUFFIX = re.compile(r"\.[a-z0-9][a-z0-9_-]*")


def register_format(fmt):
    """Add a file format to :data:`FORMATS`.

    Parameters
    ----------
    fmt : LabelFormat
        An instance (a subclass of :class:`LabelFormat` is instantiated, so
        that ``@register_format`` can decorate one). Its name and suffixes
        must be new.

    Returns
    -------
    fmt : LabelFormat or type
        What was passed (the class, when decorating one).

    Raises
    ------
    TypeError
        ``fmt`` is not a :class:`LabelFormat`.
    ValueError
        A name or suffix that is malformed or already registered.

    Examples
    --------
    >>> class Psv(TableFormat):
    ...     name, suffixes = "psv", (".psv",)
    >>> register_format(Psv())
    Psv(name='psv', suffixes=('.psv',))
    >>> guess_format("batch.psv")
    'psv'
    >>> unregister_format("psv")
    Psv(name='psv', suffixes=('.psv',))
    """
    if isinstance(fmt, type) and issubclass(fmt, LabelFormat):
        register_format(fmt())
        return fmt
    if not isinstance(fmt, LabelFormat):
        raise TypeError(
            "The 'fmt' parameter of register_format must be a LabelFormat. Got "
            f"{type(fmt).__name__} instead."
        )
    name = fmt.name
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise ValueError(
            f"The name of {type(fmt).__name__} must be lower-case letters, digits, "
            f"'-' and '_' (it is a --format choice). Got {name!r} instead."
        )
    if name in FORMATS:
        raise ValueError(
            f"A format named {name!r} is registered already ({FORMATS[name]!r}); "
            "unregister_format it first to replace it."
        )
    suffixes = fmt.suffixes
    if (
        isinstance(suffixes, str)
        or not suffixes
        or not all(isinstance(s, str) and _SUFFIX.fullmatch(s) for s in suffixes)
    ):
        raise ValueError(
            f"The suffixes of {type(fmt).__name__} must be a non-empty tuple of "
            f"lower-case suffixes with their dot, such as ('.tsv',). Got "
            f"{suffixes!r} instead."
        )
    for suffix in suffixes:
        for other in FORMATS.values():
            if suffix in other.suffixes:
                raise ValueError(
                    f"The suffix {suffix!r} of format {name!r} names the format "
                    f"{other.name!r} already; a suffix names one format."
                )
    FORMATS[name] = fmt
    return fmt


def unregister_format(name):
    """Remove a file format from :data:`FORMATS`.

    Parameters
    ----------
    name : str

    Returns
    -------
    fmt : LabelFormat
        The format removed.

    Raises
    ------
    ValueError
        No format has that name.
    """
    if name not in FORMATS:
        raise ValueError(
            f"The 'name' parameter of unregister_format must be one of "
            f"{list(FORMATS)}. Got {name!r} instead."
        )
    return FORMATS.pop(name)


def table_formats():
    """The names of the formats whose files are tables (:class:`TableFormat`).

    They can hold the texts of a new session and the files ``predict_file``
    reads.

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> table_formats()
    ('csv', 'jsonl', 'parquet')
    """
    return tuple(name for name, fmt in FORMATS.items() if isinstance(fmt, TableFormat))


def _or_list(words):
    """``"a, b or c"``."""
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def guess_format(path, format=None, *, allowed=None):
    """The file format of ``path``: ``format`` if given, else from its suffix.

    Parameters
    ----------
    path : path-like
    format : str or None, default=None
        One of :data:`FORMATS`.
    allowed : collection of str or None, default=None
        The formats valid here (all by default).

    Returns
    -------
    format : str

    Examples
    --------
    >>> guess_format("batch.jsonl"), guess_format("x.txt", "csv")
    ('jsonl', 'csv')
    """
    allowed = tuple(FORMATS) if allowed is None else tuple(allowed)
    if format is not None:
        if format not in allowed:
            raise InputFileError(
                f"The 'format' parameter must be one of {list(allowed)}. Got "
                f"{format!r} instead."
            )
        return format
    suffix = "".join(Path(path).suffixes[-2:]).lower().removesuffix(".gz")
    suffix = Path("x" + suffix).suffix
    for name in allowed:
        if suffix in FORMATS[name].suffixes:
            return name
    hints = _or_list(fmt.file_hint for fmt in FORMATS.values())
    raise InputFileError(
        f"Cannot tell the format of {os.fspath(path)!r} from its suffix "
        f"{suffix!r}: name the file {hints}, or pass the format "
        f"({', '.join(allowed)})."
    )
