"""Reading pools and label files, writing batches and labels: CSV, JSONL, Parquet,
Label Studio's task JSON, and any format added to :data:`FORMATS`.

Every file this package writes carries the session's id (a ``session_id``
column in tables, ``data.allsh_session`` in Label Studio tasks), so that a
file imported into the wrong session is refused.

A format is an object of :data:`FORMATS` (name -> :class:`LabelFormat`):
its suffixes, a writer and a reader of label files, and the file it writes
beside an exported batch (Label Studio's labeling configuration). A table
format (:class:`TableFormat`: CSV, JSONL, Parquet) only parses and writes
its table; the checks of cells and rows are shared. A new format is one
subclass and one :func:`register_format`; its modules:

- ``_registry``: :data:`FORMATS`, :func:`register_format`,
  :func:`guess_format` (a file's format from its suffix);
- ``_base``: :class:`LabelFormat`, :class:`TableFormat`, :class:`Sidecar`;
- ``_csv``, ``_jsonl``, ``_parquet``, ``_labelstudio``: the formats;
- ``_cells``, ``_time``, ``_reading``: the checks every reader shares (cells,
  times, where a row came from, the label rows of a table);
- ``_io``: :func:`read_table`, :func:`read_label_rows`, :func:`write_rows`;
  ``_pool``: :func:`read_pool`.

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

from ._base import LabelFormat, Sidecar, TableFormat
from ._cells import spreadsheet_escape, spreadsheet_unescape
from ._io import load_table, read_label_rows, read_table, write_rows
from ._labelstudio import (
    LS_ANNOTATOR,
    LS_AUDIT,
    LS_FROM_NAME,
    LS_ID,
    LS_LABELED_AT,
    LS_PAIR,
    LS_SESSION,
    LS_TEXT,
    LS_VERSION_PREFIX,
    label_studio_config,
    label_studio_model_version,
    label_studio_score,
)
from ._pool import Pool, read_pool, text_hash
from ._reading import LabelRow
from ._registry import (
    FORMATS,
    guess_format,
    register_format,
    table_formats,
    unregister_format,
)
from ._time import TIME_RANGE, format_time, parse_time

__all__ = [
    "FORMATS",
    "LS_ANNOTATOR",
    "LS_AUDIT",
    "LS_FROM_NAME",
    "LS_ID",
    "LS_LABELED_AT",
    "LS_PAIR",
    "LS_SESSION",
    "LS_TEXT",
    "LS_VERSION_PREFIX",
    "TIME_RANGE",
    "LabelFormat",
    "LabelRow",
    "Pool",
    "Sidecar",
    "TableFormat",
    "format_time",
    "guess_format",
    "label_studio_config",
    "label_studio_model_version",
    "label_studio_score",
    "load_table",
    "parse_time",
    "read_label_rows",
    "read_pool",
    "read_table",
    "register_format",
    "spreadsheet_escape",
    "spreadsheet_unescape",
    "table_formats",
    "text_hash",
    "unregister_format",
    "write_rows",
]
