"""The cells of a pool or label file: what they hold, checked and named.

Every reader of the package (tables, label files, Label Studio tasks) checks
its cells with these: a text cell must hold text, an id or a label a name
(text or a number, kept as written), an audit cell true or false; a cell
that holds anything else is a problem named in words (:func:`kind_of`).
JSON numbers are read as they are written (:class:`JsonNumber`), and CSV
cells are escaped for spreadsheets (:func:`spreadsheet_escape`).
"""

import json
import math
import re

import pandas as pd

__all__ = [
    "MAX_LISTED",
    "PLAIN_NUMBER",
    "JsonNumber",
    "flag_cell",
    "is_bool",
    "is_missing",
    "json_kind",
    "json_loads",
    "kind_of",
    "listing",
    "name_cell",
    "numpy_kind",
    "spreadsheet_escape",
    "spreadsheet_unescape",
    "text_cell",
]

#: How many problems or rows a message lists before "and N more".
MAX_LISTED = 10

#: A plain number as a cell may write it (``-1``, ``+0.5``, ``1e3``).
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# Spreadsheets run a cell that starts with one of these as a formula (OWASP,
# "CSV Injection"); a cell that is a plain number is safe and left alone.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


class JsonNumber(str):
    """A JSON number, kept as written (``1`` stays ``"1"``, never ``1.0``)."""

    __slots__ = ()


def _json_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def json_loads(text):
    """Parse JSON text, numbers kept as written (:class:`JsonNumber`)."""
    return json.loads(
        text,
        parse_int=JsonNumber,
        parse_float=JsonNumber,
        parse_constant=_json_constant,
    )


def numpy_kind(value):
    """The dtype kind of a NumPy scalar (``"i"``, ``"f"``, ``"b"``...), else ""."""
    if type(value).__module__ != "numpy":
        return ""
    return getattr(getattr(value, "dtype", None), "kind", "")


def is_bool(value):
    """Whether a cell holds true/false (Python's or NumPy's)."""
    return isinstance(value, bool) or numpy_kind(value) == "b"


def is_missing(value):
    """Whether a cell is missing: None, NaN, or pandas' NA or NaT."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str | bytes | list | dict | tuple):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def kind_of(value):
    """What a cell holds, in words, for messages."""
    if is_bool(value):
        return f"true/false ({value})"
    if isinstance(value, JsonNumber):
        return f"a number ({value})"
    if isinstance(value, int | float) or numpy_kind(value) in ("i", "u", "f"):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return "a list"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes that are not UTF-8 text"
    return f"a {type(value).__name__}"


def text_cell(value):
    """A text cell as ``(text, problem)``: missing is ``""``; only text is text.

    UTF-8 bytes (Parquet files that store strings as plain binary) are
    decoded; anything else that is not a string is a problem.
    """
    if type(value) is str:
        return value, None
    if is_missing(value):
        return "", None
    if isinstance(value, JsonNumber):
        return None, kind_of(value)
    if isinstance(value, str):
        return str(value), None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8"), None
        except UnicodeDecodeError:
            return None, kind_of(value)
    return None, kind_of(value)


def name_cell(value):
    """An id, label or annotator cell as ``(text, problem)``, stripped.

    Numbers are kept as written (JSONL) or as their shortest form (Parquet,
    DataFrames: ``7`` is ``"7"``); true/false, lists and objects are problems.
    """
    if isinstance(value, str):
        return str(value).strip(), None
    if is_missing(value):
        return "", None
    if is_bool(value):
        return None, kind_of(value)
    if isinstance(value, int) or numpy_kind(value) in ("i", "u"):
        return str(int(value)), None
    if isinstance(value, float) or numpy_kind(value) == "f":
        value = float(value)
        if not math.isfinite(value):
            return None, kind_of(value)
        return repr(value), None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8").strip(), None
        except UnicodeDecodeError:
            return None, kind_of(value)
    return None, kind_of(value)


def listing(rows, limit=MAX_LISTED):
    """The first ``limit`` of ``rows`` for a message, then "and N more"."""
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def spreadsheet_escape(cell):
    """A CSV cell made safe to open in a spreadsheet (OWASP "CSV Injection").

    A text that a spreadsheet would run as a formula (one that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after any
    ``'``) gets a leading ``'``; plain numbers (``-1``, ``+0.5``) and
    everything else are left alone. :func:`spreadsheet_unescape` undoes it
    exactly.

    Parameters
    ----------
    cell : object
        A value of a table about to be written as CSV.

    Returns
    -------
    cell : object
        ``cell``, after a ``'`` where a spreadsheet would run it.

    Examples
    --------
    >>> spreadsheet_escape("=HYPERLINK(0)"), spreadsheet_escape("-1")
    ("'=HYPERLINK(0)", '-1')
    >>> spreadsheet_unescape(spreadsheet_escape("'@x"))
    "'@x"
    """
    if (
        isinstance(cell, str)
        and cell.lstrip("'")[:1] in _FORMULA_START
        and cell.lstrip("'")
        and not PLAIN_NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


def spreadsheet_unescape(cell):
    """Undo :func:`spreadsheet_escape`: drop the ``'`` it added.

    Parameters
    ----------
    cell : object
        A value as read from a CSV file.

    Returns
    -------
    cell : object
        ``cell`` as it was before :func:`spreadsheet_escape`.
    """
    if isinstance(cell, str) and cell[:1] == "'" and _ESCAPED.match(cell):
        return cell[1:]
    return cell


def flag_cell(value):
    """A true/false cell as ``(flag, problem)``; missing or empty is False."""
    if is_missing(value):
        return False, None
    if is_bool(value):
        return bool(value), None
    text = str(value).strip().lower()
    if isinstance(value, str | int | float) or numpy_kind(value) in ("i", "u", "f"):
        if text in ("true", "1", "1.0", "yes"):
            return True, None
        if text in ("false", "0", "0.0", "no", ""):
            return False, None
    got = repr(str(value)) if isinstance(value, str) else kind_of(value)
    return None, f"expected true or false, got {got}"


def json_kind(value):
    """What a parsed JSON value is, in words, for messages."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, JsonNumber):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return "an object"
