"""Reading and writing a file through its format: tables, label files, exports.

The functions the session calls; each looks the file's format up in
:data:`FORMATS` (from ``format=`` or the file's suffix) and lets it do the
work. Writing is atomic: a file is written beside its destination and
renamed over it.
"""

import os
from pathlib import Path

from .._errors import InputFileError
from ._registry import FORMATS, guess_format, table_formats

__all__ = ["load_table", "read_label_rows", "read_table", "write_rows"]


def read_table(path, format=None):
    """Read a table (CSV, JSONL, Parquet: :func:`table_formats`) into a DataFrame.

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
    format : str or None, default=None
        A table format (:func:`table_formats`); from the suffix when None.

    Returns
    -------
    table : pandas.DataFrame
        ``table.attrs["allsh_source"]`` names the file (for messages when
        the table is passed on to :func:`read_pool`).
    """
    return load_table(path, format)[0]


def load_table(path, format=None):
    """:func:`read_table`, and where each row came from.

    Parameters
    ----------
    path : path-like
    format : str or None, default=None

    Returns
    -------
    table : pandas.DataFrame
    rows : Rows or None
        None: numbered as a spreadsheet shows the table.
    """
    format = guess_format(path, format, allowed=table_formats())
    return FORMATS[format].load_table(path)


def read_label_rows(path, format=None, *, id_field="id", label_field="label"):
    """Read the labels of a file in any format of :data:`FORMATS`.

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
    return FORMATS[format].read_label_rows(
        path, id_field=id_field, label_field=label_field
    )


def write_rows(path, rows, *, format=None, session_id, columns, model_version=""):
    """Write rows (dicts) in their file's format (:data:`FORMATS`), atomically.

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
        FORMATS[format].write(
            temporary,
            rows,
            destination=path,
            session_id=session_id,
            columns=columns,
            model_version=model_version,
        )
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return format
