"""JSONL files: one JSON object per line, numbers kept as written."""

import os

import pandas as pd

from .._errors import InputFileError
from ._base import TableFormat
from ._cells import json_kind, json_loads, listing
from ._reading import Rows, decode_error, open_text

__all__ = ["JsonlFormat"]


class JsonlFormat(TableFormat):
    """JSONL files (``*.jsonl``, ``*.ndjson``): one object per line.

    Numbers are kept as written (an id ``1`` is ``"1"``, never ``1.0``); a
    line that is not an object is refused with its number.
    """

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def read_table(self, path):
        columns, rows = _read_jsonl(path)
        return pd.DataFrame(columns, dtype=object), rows

    def write_table(self, table, file, *, destination):
        table.to_json(file, orient="records", lines=True, force_ascii=False)


def _read_jsonl(path):
    """Read a JSONL file: one object per line, numbers kept as written."""
    name = repr(os.fspath(path))
    records, numbers, problems, columns = [], [], [], {}
    try:
        with open_text(path) as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    value = json_loads(line)
                except RecursionError:
                    problems.append(f"line {number}: nested too deeply")
                    continue
                except ValueError as error:
                    problems.append(f"line {number}: not valid JSON ({error})")
                    continue
                if not isinstance(value, dict):
                    problems.append(
                        f"line {number}: expected a JSON object "
                        f'({{"column": value, ...}}), got {json_kind(value)}'
                    )
                    continue
                for key in value:
                    columns.setdefault(key, None)
                records.append(value)
                numbers.append(str(number))
    except UnicodeDecodeError as error:
        raise decode_error(path, error) from error
    if problems:
        raise InputFileError(
            f"{name} has {len(problems)} line(s) that are not JSON objects: "
            f"{listing(problems, 5)}. JSONL holds one object per line; nothing "
            "was read.",
            problems=problems,
        )
    table = {c: [record.get(c) for record in records] for c in columns}
    return table, Rows("line", numbers)
