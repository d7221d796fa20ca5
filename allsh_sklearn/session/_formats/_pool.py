"""The texts of a new session, read from a table and checked."""

import json
import os
import re
from dataclasses import dataclass, field

import pandas as pd

from ...utils import text_key
from .._errors import InputFileError
from ._cells import listing, name_cell, text_cell
from ._io import load_table
from ._reading import rows_of

__all__ = ["Pool", "read_pool", "text_hash"]

_ID_LIKE = re.compile(r"(^|[_\-\s.])(id|uid|uuid|guid|key)$")


def text_hash(text, text_pair=None):
    """A stable id for a text (or pair): the first 16 hex digits of its SHA-1.

    Examples
    --------
    >>> text_hash("a good film")
    '295b920af5a35f53'
    """
    key = text if text_pair is None else json.dumps([text, text_pair])
    return text_key(key, algorithm="sha1", length=16)


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
    """The texts of a column; a cell that is not text is a problem."""
    texts = []
    for index, value in enumerate(table[column].tolist()):
        text, problem = text_cell(value)
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
    if isinstance(data, pd.DataFrame):
        table, rows = data, None
    else:
        table, rows = load_table(data, format)
    name = _name_of(data)
    rows = rows_of(table, rows)
    columns = [c for c in (text_column, pair_column, id_column) if c is not None]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputFileError(
            f"{name} has no column {listing([repr(c) for c in missing])}. Its "
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
            f"expected: {listing(problems, 5)}. Nothing was read.",
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
            item_id, problem = name_cell(raw_ids[row])
            if problem is not None:
                problems.append(f"{rows.one(row)}, column {id_column!r}: {problem}")
            elif not item_id:
                missing_ids.append(row)
            ids.append(item_id)
        if problems:
            raise InputFileError(
                f"{name} has {len(problems)} id(s) that are neither text nor a "
                f"number: {listing(problems, 5)}.",
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
                f"{id_column!r}: {listing(duplicates)}. Ids must be unique; "
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


def _name_of(data):
    """A pool's source, for messages: its file, or "the DataFrame"."""
    if isinstance(data, pd.DataFrame):
        source = data.attrs.get("allsh_source")
        return "the DataFrame" if source is None else repr(source)
    return repr(os.fspath(data))


def _id_like_columns(columns, exclude):
    """The columns whose names look like ids (``id``, ``uid``, ``*_id``...)."""
    return [
        str(c)
        for c in columns
        if c not in exclude
        and isinstance(c, str)
        and (_ID_LIKE.search(c.lower()) or re.search(r"[a-z]Id$", c))
    ]
