"""Reading pools and label files, writing batches and labels: CSV, JSONL, Parquet
and Label Studio's task JSON.

Every file this package writes carries the session's id (a ``session_id``
column in CSV and JSONL, ``data.allsh_session`` in Label Studio tasks), so
that a file imported into the wrong session is refused.

Label Studio (https://labelstud.io/guide/tasks, "Basic Label Studio JSON
format", and https://labelstud.io/guide/task_format, the export format): a
JSON list of tasks; each task's ``data`` holds the text under the key the
labeling configuration's ``<Text value="$text">`` names, plus any other
fields (kept on export); ``predictions`` and ``annotations`` are lists of
objects whose ``result`` lists regions, here one ``{"from_name": "label",
"to_name": "text", "type": "choices", "value": {"choices": [label]}}``.
An exported annotation adds ``completed_by`` (a user id, or an object with
an ``email``), ``was_cancelled`` (the task was skipped), ``created_at`` /
``updated_at`` (ISO 8601) and ``lead_time`` (seconds); a prediction has a
``score`` (a project with uncertainty sampling serves the lowest first)
and a ``model_version``.

Hostile files are refused with the file, the row (or line, or task) and the
field named: cells that are not text where text is expected (lists,
objects, numbers; bytes are decoded when they are UTF-8), CSV rows with more
cells than the header, JSONL lines that are not objects, malformed Label
Studio structures, nesting too deep to parse, and times that are not dates
between 1970 and 9999. CSV files this package writes are safe to open in a
spreadsheet: a cell that a spreadsheet would run as a formula gets a
leading ``'``, which reading the file back removes (see
:func:`spreadsheet_escape`).
"""

import bz2
import csv
import gzip
import hashlib
import json
import lzma
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ._errors import InputFileError

__all__ = [
    "FORMATS",
    "LabelRow",
    "format_time",
    "guess_format",
    "label_studio_config",
    "label_studio_model_version",
    "label_studio_score",
    "parse_time",
    "read_label_rows",
    "read_pool",
    "read_table",
    "spreadsheet_escape",
    "spreadsheet_unescape",
    "text_hash",
    "write_rows",
]

#: File formats by name, with the suffixes recognised for each.
FORMATS = {
    "csv": (".csv", ".tsv"),
    "jsonl": (".jsonl", ".ndjson"),
    "parquet": (".parquet", ".pq"),
    "labelstudio": (".json",),
}

#: Label Studio names: the control tag and the object tags of the exported config.
LS_FROM_NAME = "label"
LS_TEXT = "text"
LS_PAIR = "text_pair"
LS_ID = "allsh_id"
LS_SESSION = "allsh_session"
LS_AUDIT = "allsh_audit"
#: ``data`` keys of an exported task whose annotator Label Studio has no form
#: for (not a Label Studio user id, not an email): the name, and the time
#: the export wrote as the annotation's ``created_at`` (see :func:`write_rows`).
LS_ANNOTATOR = "allsh_annotator"
LS_LABELED_AT = "allsh_labeled_at"

#: The prefix of every Label Studio model version this package writes.
LS_VERSION_PREFIX = "allsh-label round "

#: The range of times a label file may give (seconds since 1970-01-01 UTC):
#: from 1970-01-01 to the last second of 9999, what every export can write.
TIME_RANGE = (0.0, 253402300799.0)

_MAX_LISTED = 10

# Spreadsheets run a cell that starts with one of these as a formula (OWASP,
# "CSV Injection"); a cell that is a plain number is safe and left alone.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_ID_LIKE = re.compile(r"(^|[_\-\s.])(id|uid|uuid|guid|key)$")


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
        if suffix in FORMATS[name]:
            return name
    raise InputFileError(
        f"Cannot tell the format of {os.fspath(path)!r} from its suffix "
        f"{suffix!r}: name the file *.csv, *.jsonl, *.parquet or *.json (Label "
        f"Studio), or pass the format ({', '.join(allowed)})."
    )


# Cells --------------------------------------------------------------------------


class _Number(str):
    """A JSON number, kept as written (``1`` stays ``"1"``, never ``1.0``)."""

    __slots__ = ()


def _json_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _json_loads(text):
    return json.loads(
        text,
        parse_int=_Number,
        parse_float=_Number,
        parse_constant=_json_constant,
    )


def _numpy_kind(value):
    """The dtype kind of a NumPy scalar (``"i"``, ``"f"``, ``"b"``...), else ""."""
    if type(value).__module__ != "numpy":
        return ""
    return getattr(getattr(value, "dtype", None), "kind", "")


def _is_bool(value):
    return isinstance(value, bool) or _numpy_kind(value) == "b"


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str | bytes | list | dict | tuple):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _kind(value):
    """What a cell holds, in words, for messages."""
    if _is_bool(value):
        return f"true/false ({value})"
    if isinstance(value, _Number):
        return f"a number ({value})"
    if isinstance(value, int | float) or _numpy_kind(value) in ("i", "u", "f"):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple) or type(value).__name__ == "ndarray":
        return "a list"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes that are not UTF-8 text"
    return f"a {type(value).__name__}"


def _text_cell(value):
    """A text cell as ``(text, problem)``: missing is ``""``; only text is text.

    UTF-8 bytes (Parquet files that store strings as plain binary) are
    decoded; anything else that is not a string is a problem.
    """
    if type(value) is str:
        return value, None
    if _is_missing(value):
        return "", None
    if isinstance(value, _Number):
        return None, _kind(value)
    if isinstance(value, str):
        return str(value), None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8"), None
        except UnicodeDecodeError:
            return None, _kind(value)
    return None, _kind(value)


def _name_cell(value):
    """An id, label or annotator cell as ``(text, problem)``, stripped.

    Numbers are kept as written (JSONL) or as their shortest form (Parquet,
    DataFrames: ``7`` is ``"7"``); true/false, lists and objects are problems.
    """
    if isinstance(value, str):
        return str(value).strip(), None
    if _is_missing(value):
        return "", None
    if _is_bool(value):
        return None, _kind(value)
    if isinstance(value, int) or _numpy_kind(value) in ("i", "u"):
        return str(int(value)), None
    if isinstance(value, float) or _numpy_kind(value) == "f":
        value = float(value)
        if not math.isfinite(value):
            return None, _kind(value)
        return repr(value), None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8").strip(), None
        except UnicodeDecodeError:
            return None, _kind(value)
    return None, _kind(value)


def _listing(rows, limit=_MAX_LISTED):
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

    Returns
    -------
    cell : object

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
        and not _PLAIN_NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


def spreadsheet_unescape(cell):
    """Undo :func:`spreadsheet_escape`: drop the ``'`` it added.

    Parameters
    ----------
    cell : object

    Returns
    -------
    cell : object
    """
    if isinstance(cell, str) and cell[:1] == "'" and _ESCAPED.match(cell):
        return cell[1:]
    return cell


def _id_like_columns(columns, exclude):
    return [
        str(c)
        for c in columns
        if c not in exclude
        and isinstance(c, str)
        and (_ID_LIKE.search(c.lower()) or re.search(r"[a-z]Id$", c))
    ]


# Time ---------------------------------------------------------------------------


def format_time(seconds):
    """A time as ISO 8601 in UTC with microseconds, as the exports write it.

    Rounded to the nearest microsecond, so that
    ``format_time(parse_time(format_time(t))) == format_time(t)``: a label
    file's times come back exactly through an import and an export.

    Parameters
    ----------
    seconds : float
        Since 1970-01-01 UTC.

    Returns
    -------
    text : str
        Empty for a time outside :data:`TIME_RANGE` (one an older version
        stored from a hostile file), so that an export never fails on it.

    Examples
    --------
    >>> format_time(1714648800.0)
    '2024-05-02T11:20:00.000000Z'
    >>> format_time(parse_time("2024-05-02T11:20:00.123456Z"))
    '2024-05-02T11:20:00.123456Z'
    """
    seconds = float(seconds)
    low, high = TIME_RANGE
    if not (math.isfinite(seconds) and low <= seconds <= high):
        return ""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value):
    """Seconds since 1970 from a label file's time; None when the cell is empty.

    Accepts ISO 8601 (``2024-05-02T11:20:00Z``; a time without a zone is
    UTC) and numbers of seconds since 1970-01-01 UTC (also as text).

    Parameters
    ----------
    value : str, number or None

    Returns
    -------
    seconds : float or None

    Raises
    ------
    ValueError
        A time that cannot be read, or one outside :data:`TIME_RANGE` (1970
        to 9999), with what was received.
    """
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if _is_bool(value):
        raise ValueError(f"expected a date and time, got {_kind(value)}")
    number = None
    if isinstance(value, str):
        text = value.strip()
        if _PLAIN_NUMBER.fullmatch(text) or text.lower() in ("nan", "inf", "-inf"):
            number = float(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"expected an ISO 8601 date and time such as "
                    f"'2024-05-02T11:20:00Z' or seconds since 1970, got {text!r}"
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            try:
                number = moment.timestamp()
            except (OverflowError, ValueError, OSError):
                number = math.inf
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a date and time, got {_kind(value)}") from None
    low, high = TIME_RANGE
    if not (math.isfinite(number) and low <= number <= high):
        hint = (
            " (this looks like milliseconds: divide by 1000)"
            if math.isfinite(number) and high < number <= high * 1000
            else ""
        )
        raise ValueError(
            f"expected a time between 1970-01-01 and 9999-12-31, got {value!r}{hint}"
        )
    return float(number)


# Reading tables -------------------------------------------------------------------


@dataclass
class _Rows:
    """Where the rows of a table came from, for messages.

    ``unit`` is ``"row"`` or ``"line"``; ``numbers[i]`` the number of row
    ``i`` (``"3"``, or ``"3 (line 5)"`` when a CSV row does not sit on the
    line of its number); ``note`` follows a list of them.
    """

    unit: str
    numbers: list
    note: str = ""

    def one(self, index):
        return f"{self.unit} {self.numbers[index]}"

    def many(self, indices):
        unit = self.unit + ("s" if len(indices) > 1 else "")
        return f"{unit} {_listing([self.numbers[i] for i in indices])}{self.note}"

    def pair(self, first, second):
        return f"{self.unit}s {self.numbers[first]} and {self.numbers[second]}"


def _rows_of(table, rows=None):
    if rows is not None and len(rows.numbers) == len(table):
        return rows
    # A DataFrame: numbered as a spreadsheet shows it after its header.
    return _Rows(
        "row", [str(i + 2) for i in range(len(table))], ", counting the header as row 1"
    )


def _name_of(data):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        source = data.attrs.get("allsh_source")
        return "the DataFrame" if source is None else repr(source)
    return repr(os.fspath(data))


def _open_text(path):
    opener = _COMPRESSION.get(Path(path).suffix.lower())
    if opener is not None:
        return opener(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _decode_error(path, error):
    where = ""
    if Path(path).suffix.lower() not in _COMPRESSION:
        with open(path, "rb") as file:
            raw = file.read()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exact:
            line = raw.count(b"\n", 0, exact.start) + 1
            where = f" at line {line}"
    return InputFileError(
        f"{os.fspath(path)!r} is not UTF-8 text{where} ({error}). Save it as UTF-8 "
        "(in a spreadsheet: CSV UTF-8)."
    )


def _unique_header(header):
    columns, seen = [], {}
    for index, name in enumerate(header):
        name = name or f"Unnamed: {index}"
        base, count = name, 0
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen[name] = index
        columns.append(name)
    return columns


def _read_csv(path, sep):
    """Read a CSV file as text cells, numbering rows and their lines."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    name = repr(os.fspath(path))
    header, cells, numbers, problems = None, [], [], []
    try:
        with _open_text(path) as file:
            reader = csv.reader(file, delimiter=sep, strict=True)
            last_line, n_records = 0, 0
            try:
                for fields in reader:
                    first_line, last_line = last_line + 1, reader.line_num
                    if not fields:
                        continue  # a blank line
                    if header is None:
                        header = _unique_header(fields)
                        continue
                    n_records += 1
                    row = n_records + 1
                    number = str(row)
                    if first_line != row:
                        number += f" (line {first_line})"
                    if len(fields) > len(header):
                        problems.append(
                            f"row {number}: {len(fields)} cells, but the header has "
                            f"{len(header)} ({', '.join(header)})"
                        )
                        continue
                    cells.append(fields + [""] * (len(header) - len(fields)))
                    numbers.append(number)
            except csv.Error as error:
                row = n_records + 2 if header is not None else 1
                raise InputFileError(
                    f"Could not read {name} as CSV: row {row} (from line "
                    f"{last_line + 1}): {error}. A cell that starts with a double "
                    'quote must end with one, and a quote inside it is written "".'
                ) from error
    except UnicodeDecodeError as error:
        raise _decode_error(path, error) from error
    finally:
        csv.field_size_limit(limit)
    if problems:
        raise InputFileError(
            f"{name} has {len(problems)} row(s) with more cells than its header: "
            f"{_listing(problems, 5)}. A cell that holds the separator {sep!r} "
            "must be in double quotes; nothing was read.",
            problems=problems,
        )
    header = header or []
    if "session_id" in header:
        # Written by this package: undo the spreadsheet escaping of its cells.
        for row in cells:
            for index, cell in enumerate(row):
                if cell[:1] == "'":
                    row[index] = spreadsheet_unescape(cell)
    columns = {c: [row[i] for row in cells] for i, c in enumerate(header)}
    return columns, _Rows("row", numbers, ", counting the header as row 1")


def _read_jsonl(path):
    """Read a JSONL file: one object per line, numbers kept as written."""
    name = repr(os.fspath(path))
    records, numbers, problems, columns = [], [], [], {}
    try:
        with _open_text(path) as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    value = _json_loads(line)
                except RecursionError:
                    problems.append(f"line {number}: nested too deeply")
                    continue
                except ValueError as error:
                    problems.append(f"line {number}: not valid JSON ({error})")
                    continue
                if not isinstance(value, dict):
                    problems.append(
                        f"line {number}: expected a JSON object "
                        f'({{"column": value, ...}}), got {_json_kind(value)}'
                    )
                    continue
                for key in value:
                    columns.setdefault(key, None)
                records.append(value)
                numbers.append(str(number))
    except UnicodeDecodeError as error:
        raise _decode_error(path, error) from error
    if problems:
        raise InputFileError(
            f"{name} has {len(problems)} line(s) that are not JSON objects: "
            f"{_listing(problems, 5)}. JSONL holds one object per line; nothing "
            "was read.",
            problems=problems,
        )
    table = {c: [record.get(c) for record in records] for c in columns}
    return table, _Rows("line", numbers)


def _json_kind(value):
    if isinstance(value, list):
        return "an array"
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return "an object"


def read_table(path, format=None):
    """Read a CSV, JSONL or Parquet file into a pandas DataFrame.

    CSV cells are read as text (ids like ``007`` keep their zeros); an empty
    cell is an empty string, not NaN; a row with more cells than the header
    is refused (naming its row and line). JSONL lines must be objects;
    numbers are kept as written (an id ``1`` is ``"1"``, never ``1.0``);
    a UTF-8 byte order mark is allowed. Parquet columns keep their types
    (integers with missing values stay integers). Files ending in ``.gz``,
    ``.bz2`` or ``.xz`` are decompressed. Cells are checked by the readers
    of texts and labels, not here.

    Parameters
    ----------
    path : path-like
    format : {"csv", "jsonl", "parquet"} or None, default=None

    Returns
    -------
    table : pandas.DataFrame
        ``table.attrs["allsh_source"]`` names the file (for messages when
        the table is passed on to :func:`read_pool`).
    """
    return _read_table(path, format)[0]


def _read_table(path, format=None):
    """:func:`read_table`, and where each row came from (a :class:`_Rows`)."""
    import pandas as pd

    format = guess_format(path, format, allowed=("csv", "jsonl", "parquet"))
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"No such file: {path!r}.")
    try:
        if format == "csv":
            sep = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
            columns, rows = _read_csv(path, sep)
            table = pd.DataFrame(columns, dtype=object)
        elif format == "jsonl":
            columns, rows = _read_jsonl(path)
            table = pd.DataFrame(columns, dtype=object)
        else:
            table = pd.read_parquet(path, dtype_backend="numpy_nullable")
            rows = _rows_of(table)  # as a spreadsheet shows it
    except InputFileError:
        raise
    except ImportError as error:
        raise InputFileError(
            f"Reading {path!r} as {format} needs a package that is not installed "
            f"({error}); for Parquet: pip install pyarrow."
        ) from error
    except (ValueError, OSError, EOFError, lzma.LZMAError) as error:
        raise InputFileError(f"Could not read {path!r} as {format}: {error}") from error
    except Exception as error:  # pandas' parser errors do not share a base class
        if type(error).__module__.startswith(("pandas", "pyarrow")):
            raise InputFileError(
                f"Could not read {path!r} as {format}: {error}"
            ) from error
        raise
    table.attrs["allsh_source"] = path
    return table, rows


def text_hash(text, text_pair=None):
    """A stable id for a text (or pair): the first 16 hex digits of its SHA-1.

    Examples
    --------
    >>> text_hash("a good film")
    '295b920af5a35f53'
    """
    key = text if text_pair is None else json.dumps([text, text_pair])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass
class Pool:
    """A validated pool read from a file.

    Attributes
    ----------
    ids : list of str
    texts : list of str
    pairs : list of str or None
        The second text of each pair (None for single texts).
    n_dropped_empty : int
        Rows left out because a text was empty (``drop_empty=True``).
    n_merged_duplicates : int
        Rows left out because they repeated an earlier text (ids from hashes).
    id_like_columns : list of str
        Columns whose names look like ids (``id``, ``uid``, ``*_id``...)
        while ids were made from hashes: the likely ``id_column``.
    """

    ids: list
    texts: list
    pairs: list | None
    n_dropped_empty: int = 0
    n_merged_duplicates: int = 0
    id_like_columns: list = field(default_factory=list)


def _text_column(table, column, rows, problems):
    texts = []
    for index, value in enumerate(table[column].tolist()):
        text, problem = _text_cell(value)
        if problem is not None:
            problems.append(f"{rows.one(index)}, column {column!r}: {problem}")
        texts.append(text or "")
    return texts


def read_pool(
    data,
    *,
    text_column="text",
    pair_column=None,
    id_column=None,
    drop_empty=False,
    format=None,
):
    """Read and check the texts of a new session.

    Texts must be text: a cell holding a list, an object, a number or
    true/false is refused with its row and column (a Parquet cell of UTF-8
    bytes is decoded). Ids may be text or numbers (kept as written).

    Parameters
    ----------
    data : path-like or pandas.DataFrame
        A CSV, JSONL or Parquet file, or a DataFrame.
    text_column : str, default="text"
    pair_column : str or None, default=None
        The second text of sentence pairs.
    id_column : str or None, default=None
        A column of unique ids; None makes ids from a hash of each text (and
        then repeated texts are merged into one item).
    drop_empty : bool, default=False
        Leave out rows with a missing or empty text instead of refusing the
        file.
    format : str or None, default=None
        The file format (from the suffix when None).

    Returns
    -------
    pool : Pool
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        table, rows = data, None
    else:
        table, rows = _read_table(data, format)
    name = _name_of(data)
    rows = _rows_of(table, rows)
    columns = [c for c in (text_column, pair_column, id_column) if c is not None]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputFileError(
            f"{name} has no column {_listing([repr(c) for c in missing])}. Its "
            "columns are "
            f"{list(map(str, table.columns))}; name the right ones with "
            "text_column / pair_column / id_column (--text-column, "
            "--pair-column, --id-column)."
        )
    if len(table) == 0:
        raise InputFileError(f"{name} holds no rows.")
    problems = []
    texts = _text_column(table, text_column, rows, problems)
    pairs = (
        None
        if pair_column is None
        else _text_column(table, pair_column, rows, problems)
    )
    if problems:
        raise InputFileError(
            f"{name} has {len(problems)} cell(s) that are not text where a text is "
            f"expected: {_listing(problems, 5)}. Nothing was read.",
            problems=problems,
        )
    empty = [
        row
        for row, text in enumerate(texts)
        if not text.strip() or (pairs is not None and not pairs[row].strip())
    ]
    keep = list(range(len(texts)))
    if empty and not drop_empty:
        raise InputFileError(
            f"{name} has {len(empty)} row(s) with a missing or empty text "
            f"({rows.many(empty)}). Fill or remove them, or pass drop_empty=True "
            "(--drop-empty) to leave them out.",
            problems=[f"{rows.one(r)}: empty text" for r in empty],
        )
    if empty:
        dropped = set(empty)
        keep = [row for row in keep if row not in dropped]
    if not keep:
        raise InputFileError(f"{name} has no row with a non-empty text.")
    id_like = []
    if id_column is not None:
        raw_ids = table[id_column].tolist()
        ids, missing_ids = [], []
        for row in keep:
            item_id, problem = _name_cell(raw_ids[row])
            if problem is not None:
                problems.append(f"{rows.one(row)}, column {id_column!r}: {problem}")
            elif not item_id:
                missing_ids.append(row)
            ids.append(item_id)
        if problems:
            raise InputFileError(
                f"{name} has {len(problems)} id(s) that are neither text nor a "
                f"number: {_listing(problems, 5)}.",
                problems=problems,
            )
        if missing_ids:
            raise InputFileError(
                f"{name} has {len(missing_ids)} row(s) without an id in column "
                f"{id_column!r} ({rows.many(missing_ids)}).",
                problems=[f"{rows.one(r)}: no id" for r in missing_ids],
            )
        seen, duplicates = {}, []
        for row, item_id in zip(keep, ids, strict=True):
            if item_id in seen:
                duplicates.append(f"{item_id!r} ({rows.pair(seen[item_id], row)})")
            else:
                seen[item_id] = row
        if duplicates:
            raise InputFileError(
                f"{name} has {len(duplicates)} duplicate id(s) in column "
                f"{id_column!r}: {_listing(duplicates)}. Ids must be unique; "
                "fix the file, or leave out id_column (--id-column) to make ids "
                "from a hash of each text.",
                problems=[f"duplicate id {d}" for d in duplicates],
            )
        n_merged = 0
    else:
        id_like = _id_like_columns(table.columns, {text_column, pair_column})
        ids, kept, n_merged = [], [], 0
        seen = set()
        for row in keep:
            item_id = text_hash(texts[row], None if pairs is None else pairs[row])
            if item_id in seen:
                n_merged += 1
                continue
            seen.add(item_id)
            ids.append(item_id)
            kept.append(row)
        keep = kept
    return Pool(
        ids=ids,
        texts=[texts[row] for row in keep],
        pairs=None if pairs is None else [pairs[row] for row in keep],
        n_dropped_empty=len(empty) if drop_empty else 0,
        n_merged_duplicates=n_merged,
        id_like_columns=id_like,
    )


# Label files ---------------------------------------------------------------------


@dataclass
class LabelRow:
    """One labeling event read from a file.

    Attributes
    ----------
    row : str
        Where it came from, for messages (``"row 3"``, ``"line 2"``,
        ``"task 2"``).
    item_id : str
    label : str or None
        None for a skip (a cancelled Label Studio annotation).
    annotator : str or None
    created_at : float or None
        Seconds since the epoch.
    session_id : str or None
        The session the file says it belongs to.
    audit : bool
        The file marks the text as one of the audit sample (an ``audit``
        column, ``data.allsh_audit`` in Label Studio tasks).
    """

    row: str
    item_id: str
    label: str | None
    annotator: str | None = None
    created_at: float | None = None
    session_id: str | None = None
    audit: bool = False
    extra: dict = field(default_factory=dict)


def _flag_cell(value):
    """A true/false cell as ``(flag, problem)``; missing or empty is False."""
    if _is_missing(value):
        return False, None
    if _is_bool(value):
        return bool(value), None
    text = str(value).strip().lower()
    if isinstance(value, str | int | float) or _numpy_kind(value) in ("i", "u", "f"):
        if text in ("true", "1", "1.0", "yes"):
            return True, None
        if text in ("false", "0", "0.0", "no", ""):
            return False, None
    got = repr(str(value)) if isinstance(value, str) else _kind(value)
    return None, f"expected true or false, got {got}"


def read_label_rows(path, format=None, *, id_field="id", label_field="label"):
    """Read the labels of a CSV, JSONL, Parquet or Label Studio file.

    Rows with an empty label are left out (a partly labeled batch is a
    normal file to import). Label Studio tasks give one row per annotation,
    oldest first; a cancelled annotation is a skip. Every problem (a cell
    that is not text, a label without an id, a time that cannot be read or
    lies outside 1970-9999, an ``audit`` cell that is not true/false, a
    malformed Label Studio task) refuses the whole file, naming the file,
    the row (line, task) and the field.

    Parameters
    ----------
    path : path-like
    format : str or None, default=None
    id_field, label_field : str
        The id and label columns of CSV, JSONL and Parquet files.

    Returns
    -------
    rows : list of LabelRow
    n_unlabeled : int
        Rows or tasks without a label.
    """
    format = guess_format(path, format)
    if format == "labelstudio":
        return _read_label_studio(path)
    table, where = _read_table(path, format)
    name = repr(os.fspath(path))
    if id_field not in table.columns:
        raise InputFileError(
            f"{name} has no {id_field!r} column (its columns are "
            f"{list(map(str, table.columns))}). A label file needs the item ids "
            "this session exported."
        )
    if label_field not in table.columns:
        raise InputFileError(
            f"{name} has no {label_field!r} column (its columns are "
            f"{list(map(str, table.columns))})."
        )
    where = _rows_of(table, where)

    def column(name):
        if name in table.columns:
            return table[name].tolist()
        return [None] * len(table)

    ids, labels = column(id_field), column(label_field)
    annotators, times = column("annotator"), column("labeled_at")
    sessions, audits = column("session_id"), column("audit")
    rows, problems, n_unlabeled = [], [], 0
    for index in range(len(table)):
        at = where.one(index)
        label, problem = _name_cell(labels[index])
        if problem is not None:
            problems.append(f"{at}, column {label_field!r}: {problem}")
            continue
        if not label:
            n_unlabeled += 1
            continue
        found = []
        for column_name, value in (
            (id_field, ids[index]),
            ("annotator", annotators[index]),
            ("session_id", sessions[index]),
        ):
            text, problem = _name_cell(value)
            if problem is not None:
                problems.append(f"{at}, column {column_name!r}: {problem}")
            found.append(text)
        item_id, annotator, session = found
        if item_id == "":
            problems.append(f"{at}: a label but no id in column {id_field!r}")
        try:
            created = parse_time(times[index])
        except ValueError as error:
            problems.append(f"{at}, column 'labeled_at': {error}")
            created = None
        audit, problem = _flag_cell(audits[index])
        if problem is not None:
            problems.append(f"{at}, column 'audit': {problem}")
        rows.append(
            LabelRow(
                row=at,
                item_id=item_id or "",
                label=label,
                annotator=annotator or None,
                created_at=created,
                session_id=session or None,
                audit=bool(audit),
            )
        )
    if problems:
        raise InputFileError(
            f"{name} cannot be imported: {len(problems)} problem(s): "
            f"{_listing(problems, 5)}. Nothing was imported.",
            problems=problems,
        )
    return rows, n_unlabeled


def _same_time(first, second):
    """Whether two label file times are the same to the microsecond (two
    missing ones are the same; one that cannot be read matches nothing)."""
    try:
        first, second = parse_time(first), parse_time(second)
    except ValueError:
        return False
    if first is None or second is None:
        return first is None and second is None
    return format_time(first) == format_time(second)


def _annotator_of(annotation, data=None):
    """The annotator of a Label Studio annotation as ``(name, problem)``.

    ``completed_by`` is a user id in Label Studio's exports (``labelstudio:3``
    here: a bare number names nobody outside Label Studio), an object with
    the user's ``email`` when the export includes user details (the email,
    as it is), or a name (as it is). :func:`write_rows` writes this
    session's annotators in those forms (``labelstudio:3`` as ``3``, an
    email as ``{"email": ...}``); any other name goes into the task's
    ``data.allsh_annotator`` with the time it wrote as the annotation's
    ``created_at`` (``data.allsh_labeled_at``). That name stands only for
    the annotation with that ``created_at`` (the one the export wrote);
    for any other (made in Label Studio since), ``completed_by`` does.
    """
    data = {} if data is None else data
    exported, problem = _name_cell(data.get(LS_ANNOTATOR))
    if problem is not None:
        return None, f"data.{LS_ANNOTATOR} is {problem}"
    if exported and _same_time(annotation.get("created_at"), data.get(LS_LABELED_AT)):
        return exported, None
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        email, problem = _name_cell(who.get("email"))
        if problem is None and email:
            return email, None
        who = who.get("id")
    if _is_missing(who):
        return None, None
    name, problem = _name_cell(who)
    if problem is not None:
        return None, f"'completed_by' is {problem}"
    if not name:
        return None, None
    if isinstance(who, _Number | int):
        return f"labelstudio:{name}", None
    return name, None


def _choice_of(annotation, at):
    """The label of an annotation's ``choices`` region as ``(label, problem)``.

    ``(None, None)`` when it has no ``choices`` region (no label).
    """
    result = annotation.get("result")
    if _is_missing(result):
        return None, None
    if not isinstance(result, list):
        return None, (
            f"{at}: 'result' is {_json_kind(result)}; Label Studio exports a list of "
            "regions"
        )
    for position, region in enumerate(result, start=1):
        if not isinstance(region, dict):
            return None, (
                f"{at}: region {position} of 'result' is {_json_kind(region)}, "
                "not an object"
            )
    choices = [r for r in result if r.get("type") == "choices"]
    names = {str(r.get("from_name")) for r in choices}
    if len(names) > 1:
        choices = [r for r in choices if r.get("from_name") == LS_FROM_NAME]
        if not choices:
            return None, (
                f"{at}: several Choices controls ({sorted(names)}) and none named "
                f"{LS_FROM_NAME!r}"
            )
    if not choices:
        return None, None
    value = choices[-1].get("value")
    if not isinstance(value, dict):
        return None, (
            f"{at}: the choices region's 'value' is {_json_kind(value)}; expected an "
            'object such as {"choices": ["label"]}'
        )
    values = value.get("choices")
    if not isinstance(values, list):
        return None, (
            f"{at}: 'value.choices' is {_json_kind(values)}; expected a list "
            'such as ["label"]'
        )
    if len(values) != 1:
        return None, (
            f"{at}: an annotation with {len(values)} choices; a label needs "
            'exactly one (choice="single")'
        )
    label, problem = _name_cell(values[0])
    if problem is not None or not label:
        return None, f"{at}: the choice is {problem or 'empty'}, not a label"
    return label, None


def _read_label_studio(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"No such file: {path!r}.")
    try:
        with open(path, encoding="utf-8-sig") as file:
            tasks = _json_loads(file.read())
    except RecursionError as error:
        raise InputFileError(
            f"{path!r} nests JSON lists or objects too deeply to be a Label Studio "
            "export (a JSON list of tasks); nothing was imported."
        ) from error
    except UnicodeDecodeError as error:
        raise _decode_error(path, error) from error
    except ValueError as error:
        raise InputFileError(
            f"{path!r} is not valid JSON ({error}); Label Studio exports a JSON "
            "list of tasks."
        ) from error
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InputFileError(
            f"{path!r} is not a Label Studio task list: expected a JSON list of "
            f"tasks, got {_json_kind(tasks)}."
        )
    rows, problems, n_unlabeled = [], [], 0
    for number, task in enumerate(tasks, start=1):
        where = f"task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            problems.append(f"{where}: no 'data' object")
            continue
        data = task["data"]
        item_id, problem = _name_cell(data.get(LS_ID))
        if problem is not None:
            problems.append(f"{where}: data.{LS_ID} is {problem}")
            continue
        if not item_id:
            problems.append(
                f"{where}: no data.{LS_ID} (export the batch from this session "
                "with format 'labelstudio' and import those tasks into Label "
                "Studio, so each task carries its id)"
            )
            continue
        session, problem = _name_cell(data.get(LS_SESSION))
        if problem is not None:
            problems.append(f"{where}: data.{LS_SESSION} is {problem}")
        audit, problem = _flag_cell(data.get(LS_AUDIT))
        if problem is not None:
            problems.append(f"{where}: data.{LS_AUDIT}: {problem}")
        key = "annotations" if "annotations" in task else "completions"
        annotations = task.get(key)
        if _is_missing(annotations):
            annotations = []
        if not isinstance(annotations, list):
            problems.append(
                f"{where}: {key!r} is {_json_kind(annotations)}; Label Studio "
                "exports a list of annotations"
            )
            continue
        events = []
        for position, annotation in enumerate(annotations, start=1):
            at = where if len(annotations) == 1 else f"{where}, annotation {position}"
            if not isinstance(annotation, dict):
                problems.append(f"{at}: {_json_kind(annotation)}, not an object")
                continue
            stamp = annotation.get("updated_at")
            field_name = "updated_at"
            if _is_missing(stamp) or stamp == "":
                stamp, field_name = annotation.get("created_at"), "created_at"
            try:
                created = parse_time(stamp)
            except ValueError as error:
                problems.append(f"{at}, field {field_name!r}: {error}")
                continue
            annotator, problem = _annotator_of(annotation, data)
            if problem is not None:
                problems.append(f"{at}: {problem}")
                continue
            cancelled = annotation.get("was_cancelled")
            if not (_is_missing(cancelled) or isinstance(cancelled, bool)):
                problems.append(
                    f"{at}: 'was_cancelled' is {_json_kind(cancelled)}, not true/false"
                )
                continue
            if cancelled:
                events.append((created, None, annotator))
                continue
            label, problem = _choice_of(annotation, at)
            if problem is not None:
                problems.append(problem)
                continue
            if label is not None:
                events.append((created, label, annotator))
        if not events:
            n_unlabeled += 1
            continue
        # Oldest first, so the latest annotation is the one that counts.
        order = sorted(
            range(len(events)),
            key=lambda i: (events[i][0] is None, events[i][0] or 0.0, i),
        )
        for i in order:
            created, label, annotator = events[i]
            rows.append(
                LabelRow(
                    row=where,
                    item_id=item_id,
                    label=label,
                    annotator=annotator,
                    created_at=created,
                    session_id=session or None,
                    audit=bool(audit),
                )
            )
    if problems:
        raise InputFileError(
            f"{path!r} has {len(problems)} task(s) that cannot be read: "
            f"{_listing(problems, 5)}. Nothing was imported.",
            problems=problems,
        )
    return rows, n_unlabeled


# Writing ----------------------------------------------------------------------------


def label_studio_config(labels, *, pair=False):
    """A Label Studio labeling configuration for this session's tasks.

    Parameters
    ----------
    labels : sequence of str
    pair : bool, default=False
        Show two texts (sentence pairs).

    Returns
    -------
    config : str
        XML to paste in the project's Settings > Labeling Interface > Code.

    Examples
    --------
    >>> print(label_studio_config(["neg", "pos"]))
    <View>
      <Text name="text" value="$text"/>
      <Choices name="label" toName="text" choice="single" showInline="true">
        <Choice value="neg"/>
        <Choice value="pos"/>
      </Choices>
    </View>
    """
    lines = ["<View>", f'  <Text name="{LS_TEXT}" value="${LS_TEXT}"/>']
    if pair:
        lines.append(f'  <Text name="{LS_PAIR}" value="${LS_PAIR}"/>')
    lines.append(
        f'  <Choices name="{LS_FROM_NAME}" toName="{LS_TEXT}" choice="single" '
        'showInline="true">'
    )
    lines += [f"    <Choice value={quoteattr(label)}/>" for label in labels]
    lines += ["  </Choices>", "</View>"]
    return "\n".join(lines)


def label_studio_score(position, size):
    """The prediction score that puts a batch's text at its place in Label Studio.

    A Label Studio project with uncertainty sampling serves the task with
    the lowest prediction score next, so the text at position ``p`` of a
    batch of ``n`` scores ``(p - 1) / (2 n)``: the batch's order (its audit
    texts at their random places), all below 0.5 so that the texts outside
    the batch can score from 0.5 up. Label Studio refuses scores outside
    [0, 1]. The batch exports (``allsh-label export --format labelstudio``)
    and the ML backend (:mod:`allsh_sklearn.labelstudio`) both score with it.

    Parameters
    ----------
    position : int
        The text's 1-based position in its batch.
    size : int
        The batch's size (every text of it, labeled ones included).

    Returns
    -------
    score : float
        In [0, 0.5).

    Examples
    --------
    >>> [label_studio_score(p, 4) for p in (1, 2, 3, 4)]
    [0.0, 0.125, 0.25, 0.375]
    """
    return (position - 1) / (2 * max(size, position))


def label_studio_model_version(round, batch):
    """The Label Studio ``model_version`` of a batch's order.

    New whenever the order changes (a new batch, a new round), so Label
    Studio can tell the current predictions from older ones. The batch
    exports and the ML backend (:mod:`allsh_sklearn.labelstudio`) both
    write it.

    Parameters
    ----------
    round : int or None
        The round whose model queried the batch (None: a random batch,
        before any model; written as 0).
    batch : int
        The batch's number.

    Returns
    -------
    version : str

    Examples
    --------
    >>> label_studio_model_version(None, 1)
    'allsh-label round 0 batch 1'
    >>> label_studio_model_version(2, 3)
    'allsh-label round 2 batch 3'
    """
    return f"{LS_VERSION_PREFIX}{round or 0} batch {batch}"


def _completed_by(annotator):
    """Label Studio's ``completed_by`` for an annotator name, or None.

    ``labelstudio:<n>`` (a Label Studio user, as webhooks and imports name
    them) is the user id ``n``; a name with an ``@`` is an email, Label
    Studio's form for a user with details; any other name has no Label
    Studio form (None: the name goes into ``data.allsh_annotator``).
    """
    prefix = "labelstudio:"
    if annotator.startswith(prefix):
        number = annotator[len(prefix) :]
        if number.isascii() and number.isdigit() and str(int(number)) == number:
            return int(number)
    if "@" in annotator:
        return {"email": annotator}
    return None


def _label_studio_tasks(rows, *, session_id, model_version):
    tasks = []
    for row in rows:
        data = {LS_TEXT: row["text"]}
        if row.get("text_pair") is not None:
            data[LS_PAIR] = row["text_pair"]
        data[LS_ID] = row["id"]
        data[LS_SESSION] = session_id
        if "audit" in row:
            data[LS_AUDIT] = bool(row["audit"])
        task = {"data": data}
        region = {
            "from_name": LS_FROM_NAME,
            "to_name": LS_TEXT,
            "type": "choices",
        }
        if row.get("label"):
            annotation = {
                "result": [dict(region, value={"choices": [row["label"]]})],
                "was_cancelled": False,
            }
            if row.get("annotator"):
                completed_by = _completed_by(row["annotator"])
                if completed_by is not None:
                    annotation["completed_by"] = completed_by
                else:
                    # No Label Studio form: the name rides in the task's data,
                    # with the time that tells this annotation from later ones.
                    data[LS_ANNOTATOR] = row["annotator"]
                    if row.get("labeled_at"):
                        data[LS_LABELED_AT] = row["labeled_at"]
            if row.get("labeled_at"):
                annotation["created_at"] = row["labeled_at"]
                annotation["updated_at"] = row["labeled_at"]
            task["annotations"] = [annotation]
        elif row.get("position") is not None or row.get("guess"):
            # A batch's text: the guess (if any) and its place in the order.
            prediction = {"model_version": model_version, "result": []}
            if row.get("guess"):
                prediction["result"] = [dict(region, value={"choices": [row["guess"]]})]
            if row.get("position") is not None:
                prediction["score"] = label_studio_score(
                    row["position"], row["batch_size"]
                )
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def write_rows(path, rows, *, format=None, session_id, columns, model_version=""):
    """Write rows (dicts) as CSV, JSONL, Parquet or Label Studio tasks, atomically.

    The file is written beside its destination and renamed over it, so an
    interrupted export never leaves half a file. CSV cells that a
    spreadsheet would run as a formula are escaped with a leading ``'``
    (:func:`spreadsheet_escape`; :func:`read_table` removes it again from
    files with a ``session_id`` column).

    Label Studio tasks carry a label as an annotation whose ``completed_by``
    is in Label Studio's own form: the user id ``3`` for the annotator
    ``labelstudio:3``, ``{"email": name}`` for a name with an ``@``; any
    other name is left out of ``completed_by`` (Label Studio would take it
    for a user) and kept in ``data.allsh_annotator``, with the label's time
    in ``data.allsh_labeled_at`` (importing the file back gives the label
    that name as long as the annotation's ``created_at`` is still that
    time). The time is the annotation's ``created_at``/``updated_at``, an
    audit flag ``data.allsh_audit``. A text still to label carries one
    prediction: the guess (an empty ``result`` without one), a ``score``
    that puts it at its place in the batch (:func:`label_studio_score`)
    and ``model_version``.

    Parameters
    ----------
    path : path-like
    rows : list of dict
        Keys among ``columns``; ``id``, ``text`` (and ``text_pair``) at least.
        For Label Studio also ``label``, ``annotator``, ``labeled_at`` and
        ``audit`` (labels), or ``guess``, ``position`` (1-based) and
        ``batch_size`` (a batch's texts).
    format : str or None, default=None
    session_id : str
        Written into every row or task.
    columns : list of str
        The CSV/JSONL/Parquet columns, in order (``session_id`` is added).
    model_version : str, default=""
        Label Studio ``predictions[].model_version``
        (:func:`label_studio_model_version`).

    Returns
    -------
    format : str
        The format written.
    """
    format = guess_format(path, format)
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise InputFileError(f"The folder of {os.fspath(path)!r} does not exist.")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if format == "labelstudio":
            tasks = _label_studio_tasks(
                rows, session_id=session_id, model_version=model_version
            )
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(tasks, file, ensure_ascii=False, indent=1)
        else:
            import pandas as pd

            escape = spreadsheet_escape if format == "csv" else (lambda cell: cell)
            table = pd.DataFrame(
                [{c: escape(row.get(c)) for c in columns} for row in rows],
                columns=columns,
            )
            table["session_id"] = session_id
            if format == "csv":
                sep = "\t" if path.suffix.lower() == ".tsv" else ","
                table.to_csv(temporary, index=False, sep=sep)
            elif format == "jsonl":
                table.to_json(
                    temporary, orient="records", lines=True, force_ascii=False
                )
            else:
                table.to_parquet(temporary, index=False)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return format
