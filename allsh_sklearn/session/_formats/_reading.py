"""What every reader shares: text files (compressed or not), where each row
came from (for messages), and the label rows of a table.

A table format (:class:`~allsh_sklearn.session._formats.TableFormat`) only
parses its file into columns; :func:`label_rows` checks the cells of a
label file's table the same way for every one of them.
"""

import bz2
import gzip
import lzma
import os
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import InputFileError
from ._cells import flag_cell, listing, name_cell
from ._time import parse_time

__all__ = [
    "COMPRESSION",
    "LabelRow",
    "Rows",
    "decode_error",
    "label_rows",
    "open_text",
    "refuse_problems",
    "rows_of",
]

#: The suffixes of compressed files every text reader opens, with their opener.
COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


@dataclass
class Rows:
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
        return f"{unit} {listing([self.numbers[i] for i in indices])}{self.note}"

    def pair(self, first, second):
        return f"{self.unit}s {self.numbers[first]} and {self.numbers[second]}"


def rows_of(table, rows=None):
    """``rows`` when it numbers every row of ``table``, else the rows of a
    DataFrame as a spreadsheet shows them (the header is row 1)."""
    if rows is not None and len(rows.numbers) == len(table):
        return rows
    # A DataFrame: numbered as a spreadsheet shows it after its header.
    return Rows(
        "row", [str(i + 2) for i in range(len(table))], ", counting the header as row 1"
    )


def open_text(path):
    """Open a text file as UTF-8 (a byte order mark allowed), decompressing
    ``.gz``, ``.bz2`` and ``.xz`` files."""
    opener = COMPRESSION.get(Path(path).suffix.lower())
    if opener is not None:
        return opener(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def decode_error(path, error):
    """The :class:`InputFileError` of a file that is not UTF-8, with the line
    of the first byte that is not."""
    where = ""
    if Path(path).suffix.lower() not in COMPRESSION:
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


def label_rows(path, table, where, *, id_field="id", label_field="label"):
    """The labels of a label file read as a table (CSV, JSONL, Parquet...).

    Parameters
    ----------
    path : path-like
        The file, for messages.
    table : pandas.DataFrame
    where : Rows or None
        Where each row of ``table`` came from.
    id_field, label_field : str
        The id and label columns.

    Returns
    -------
    rows : list of LabelRow
    n_unlabeled : int
        Rows without a label (left out).

    Raises
    ------
    InputFileError
        A missing id or label column, or any cell that cannot be read (the
        whole file is refused, with every problem listed).
    """
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
    where = rows_of(table, where)

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
        label, problem = name_cell(labels[index])
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
            text, problem = name_cell(value)
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
        audit, problem = flag_cell(audits[index])
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
    refuse_problems(problems, f"{name} cannot be imported: {len(problems)} problem(s)")
    return rows, n_unlabeled


def refuse_problems(problems, heading):
    """Raise, when a label file has problems, the error that lists them.

    Parameters
    ----------
    problems : list of str
        What cannot be read, where (``"row 3, column 'label': ..."``); none
        raises nothing.
    heading : str
        The start of the message, before the listed problems.

    Raises
    ------
    InputFileError
        Listing the first problems (all of them in its ``problems``), and
        saying that nothing was imported.
    """
    if problems:
        raise InputFileError(
            f"{heading}: {listing(problems, 5)}. Nothing was imported.",
            problems=problems,
        )
