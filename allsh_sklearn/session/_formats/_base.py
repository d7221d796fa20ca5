"""What a file format is: the base classes of the formats of :data:`FORMATS`.

A format writes a session's rows (a batch to label, the labels, the
predictions of a file) and reads label files back. :class:`LabelFormat` is
the general case (Label Studio's task JSON); :class:`TableFormat` is a
format whose file is a table with a column per field (CSV, JSONL,
Parquet): it only parses its file into a DataFrame and writes one, and
the checks of the cells, the label rows and the messages are shared. A
table format can also hold the texts of a new session (``read_pool``).
"""

import lzma
import os
from dataclasses import dataclass

import pandas as pd

from .._errors import InputFileError
from ._reading import label_rows

__all__ = ["LabelFormat", "Sidecar", "TableFormat"]


@dataclass(frozen=True)
class Sidecar:
    """A small file a format writes beside an exported batch.

    Attributes
    ----------
    path : pathlib.Path
    text : str
    description : str
        What it is, for the message that names it (``"Label Studio labeling
        configuration"``).
    """

    path: os.PathLike
    text: str
    description: str


class LabelFormat:
    """A file format of labeling sessions: its name, suffixes, writer and reader.

    A subclass sets :attr:`name` and :attr:`suffixes` and implements
    :meth:`write` and :meth:`read_label_rows`; :meth:`sidecar` is optional.
    An instance goes into :data:`FORMATS` with :func:`register_format`, and
    from then on ``export_batch``, ``export_labels``, ``import_labels``,
    ``predict_file`` and ``allsh-label`` (``--format`` and the suffix of a
    file name) know it.

    Attributes
    ----------
    name : str
        The format's name (``format=`` and ``--format``): lower-case letters,
        digits, ``-`` and ``_``.
    suffixes : tuple of str
        The file suffixes that name it (``".csv"``), lower-case, each with
        its dot; a suffix belongs to one format only.
    hint : str or None
        How messages tell a user to name such a file (default: ``"*"`` and
        the first suffix).
    names_id_column : bool
        Whether the file keeps the id column under the name the rows give
        it (tables do; Label Studio tasks carry the id under their own key,
        read from each row's ``"id"``).
    """

    name = None
    suffixes = ()
    hint = None
    names_id_column = True

    @property
    def file_hint(self):
        """How to name a file of this format, for messages (``"*.csv"``)."""
        return self.hint or f"*{self.suffixes[0]}"

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, suffixes={self.suffixes})"

    def write(self, file, rows, *, destination, session_id, columns, model_version=""):
        """Write ``rows`` to ``file``.

        :func:`write_rows` calls it with a temporary file beside the
        destination, which it renames over the destination once written.

        Parameters
        ----------
        file : pathlib.Path
            Where to write now.
        rows : list of dict
            Keys among ``columns``, ``id`` and ``text`` (``text_pair``) at
            least; see :func:`write_rows` for the keys of batches and labels.
        destination : pathlib.Path
            The file's final path (a writer may read its suffix).
        session_id : str
            Written into every row, so that a file is never imported into
            another session.
        columns : list of str
            The columns of a table, in order (``session_id`` is added).
        model_version : str, default=""
            The version of the model that ordered a batch.
        """
        raise NotImplementedError(f"{type(self).__name__} does not write files.")

    def read_label_rows(self, path, *, id_field="id", label_field="label"):
        """The labels of a file of this format.

        Parameters
        ----------
        path : path-like
        id_field, label_field : str
            The id and label fields, where the format has columns.

        Returns
        -------
        rows : list of LabelRow
            One per label (or skip), oldest first where a file holds several
            per text; rows without a label are left out.
        n_unlabeled : int
            Rows (tasks) without a label.

        Raises
        ------
        InputFileError
            Any problem refuses the whole file, naming the file, the row and
            the field.
        """
        raise NotImplementedError(f"{type(self).__name__} does not read labels.")

    def sidecar(self, destination, *, labels, pair=False):
        """The file to write beside an exported batch, or None (the default).

        Parameters
        ----------
        destination : pathlib.Path
            The batch's file.
        labels : list of str
            The session's label set.
        pair : bool, default=False
            Whether the session labels sentence pairs.

        Returns
        -------
        sidecar : Sidecar or None
        """
        return None


class TableFormat(LabelFormat):
    """A format whose file is a table: a column per field, a row per text.

    A subclass implements :meth:`read_table` and :meth:`write_table`;
    :meth:`escape_cell` and :attr:`install_hint` are optional. Such a format
    also holds the texts of a new session and the files ``predict_file``
    reads.

    Attributes
    ----------
    install_hint : str
        What to install when reading needs a package that is missing
        (``"for Parquet: pip install pyarrow"``).
    """

    install_hint = ""

    def read_table(self, path):
        """Parse a file into a DataFrame.

        Parameters
        ----------
        path : str
            An existing file.

        Returns
        -------
        table : pandas.DataFrame
        rows : Rows or None
            Where each row came from (None: numbered as a spreadsheet shows
            a table, the header as row 1).
        """
        raise NotImplementedError(f"{type(self).__name__} does not read tables.")

    def write_table(self, table, file, *, destination):
        """Write a DataFrame to ``file``.

        Parameters
        ----------
        table : pandas.DataFrame
        file : pathlib.Path
        destination : pathlib.Path
            The file's final path.
        """
        raise NotImplementedError(f"{type(self).__name__} does not write tables.")

    def escape_cell(self, cell):
        """A cell as this format writes it (as it is, by default).

        Parameters
        ----------
        cell : object
            A value of a table about to be written.

        Returns
        -------
        cell : object
            The value to write in its place.
        """
        return cell

    def load_table(self, path):
        """:meth:`read_table` with the checks and messages every table shares.

        Parameters
        ----------
        path : path-like

        Returns
        -------
        table : pandas.DataFrame
            ``table.attrs["allsh_source"]`` names the file.
        rows : Rows or None

        Raises
        ------
        InputFileError
            A missing file, or one that cannot be read as this format.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise InputFileError(f"No such file: {path!r}.")
        try:
            table, rows = self.read_table(path)
        except InputFileError:
            raise
        except ImportError as error:
            hint = f"; {self.install_hint}" if self.install_hint else ""
            raise InputFileError(
                f"Reading {path!r} as {self.name} needs a package that is not "
                f"installed ({error}){hint}."
            ) from error
        except (ValueError, OSError, EOFError, lzma.LZMAError) as error:
            raise InputFileError(
                f"Could not read {path!r} as {self.name}: {error}"
            ) from error
        except Exception as error:  # pandas' parser errors share no base class
            if type(error).__module__.startswith(("pandas", "pyarrow")):
                raise InputFileError(
                    f"Could not read {path!r} as {self.name}: {error}"
                ) from error
            raise
        table.attrs["allsh_source"] = path
        return table, rows

    def write(self, file, rows, *, destination, session_id, columns, model_version=""):
        table = pd.DataFrame(
            [{c: self.escape_cell(row.get(c)) for c in columns} for row in rows],
            columns=columns,
        )
        table["session_id"] = session_id
        self.write_table(table, file, destination=destination)

    def read_label_rows(self, path, *, id_field="id", label_field="label"):
        table, where = self.load_table(path)
        return label_rows(
            path, table, where, id_field=id_field, label_field=label_field
        )
