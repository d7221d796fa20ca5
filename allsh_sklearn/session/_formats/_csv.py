"""CSV (and tab-separated ``.tsv``) files: cells read as text, written safe
to open in a spreadsheet."""

import csv
import os

import pandas as pd

from .._errors import InputFileError
from ._base import TableFormat
from ._cells import listing, spreadsheet_escape, spreadsheet_unescape
from ._reading import Rows, decode_error, open_text

__all__ = ["CsvFormat"]


class CsvFormat(TableFormat):
    """CSV files, and tab-separated ones named ``*.tsv``.

    Cells are read as text (ids like ``007`` keep their zeros); an empty
    cell is an empty string, not NaN; a row with more cells than the header
    is refused (naming its row and line). Cells that a spreadsheet would run
    as a formula are written with a leading ``'``
    (:func:`spreadsheet_escape`), which reading a file with a ``session_id``
    column (one this package wrote) removes.
    """

    name = "csv"
    suffixes = (".csv", ".tsv")

    def escape_cell(self, cell):
        return spreadsheet_escape(cell)

    def read_table(self, path):
        sep = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
        columns, rows = _read_csv(path, sep)
        return pd.DataFrame(columns, dtype=object), rows

    def write_table(self, table, file, *, destination):
        sep = "\t" if destination.suffix.lower() == ".tsv" else ","
        table.to_csv(file, index=False, sep=sep)


def _unique_header(header):
    """The header's names, empty ones named and repeated ones numbered."""
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
        with open_text(path) as file:
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
        raise decode_error(path, error) from error
    finally:
        csv.field_size_limit(limit)
    if problems:
        raise InputFileError(
            f"{name} has {len(problems)} row(s) with more cells than its header: "
            f"{listing(problems, 5)}. A cell that holds the separator {sep!r} "
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
    return columns, Rows("row", numbers, ", counting the header as row 1")
