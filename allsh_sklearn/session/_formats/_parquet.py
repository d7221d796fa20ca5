"""Parquet files: columns keep their types."""

import pandas as pd

from ._base import TableFormat

__all__ = ["ParquetFormat"]


class ParquetFormat(TableFormat):
    """Parquet files (``*.parquet``, ``*.pq``), through pandas and pyarrow.

    Columns keep their types (integers with missing values stay integers);
    cells of UTF-8 bytes are read as text.
    """

    name = "parquet"
    suffixes = (".parquet", ".pq")
    install_hint = "for Parquet: pip install pyarrow"

    def read_table(self, path):
        # Rows numbered as a spreadsheet shows the table.
        return pd.read_parquet(path, dtype_backend="numpy_nullable"), None

    def write_table(self, table, file, *, destination):
        table.to_parquet(file, index=False)
