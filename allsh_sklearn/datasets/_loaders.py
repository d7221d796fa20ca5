"""Load the benchmark datasets from a local data home.

A data home holds one folder per dataset::

    <data_home>/<name>/meta.json
    <data_home>/<name>/<split>.jsonl.gz

Each ``<split>.jsonl.gz`` file has one JSON object per line,
``{"text": str, "label": int}``, or ``{"text": str, "text_pair": str,
"label": int}`` for sentence-pair tasks. ``meta.json`` holds ``name``,
``label_names`` (index = label id), ``splits`` (row counts), ``source``,
``license`` and ``notes``.

Nothing here touches the network; :func:`fetch_dataset` (in ``_download.py``)
writes this layout from the public originals.
"""

import gzip
import json
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "DataHomeNotFoundError",
    "DatasetNotFoundError",
    "KNOWN_DATASETS",
    "SplitNotFoundError",
    "get_data_home",
    "list_datasets",
    "load_dataset",
]

#: Environment variable read by :func:`get_data_home`.
DATA_HOME_ENV = "ALLSH_SKLEARN_DATA"

#: Default data home, used when neither an argument nor the variable is set.
DEFAULT_DATA_HOME = "~/allsh_sklearn_data"

#: The datasets of the ALLSH benchmarks.
KNOWN_DATASETS = (
    "sst2",
    "sst2_sentence",
    "imdb",
    "ag_news",
    "trec",
    "rte",
    "qnli",
    "qqp",
    "twitter_ppdb",
)

_SUFFIX = ".jsonl.gz"
_FORMAT_HELP = (
    "Each dataset is a folder <data_home>/<name>/ holding one <split>.jsonl.gz "
    'file per split (one JSON object per line: {"text": ..., "label": int}, '
    'plus "text_pair" for sentence-pair tasks) and a meta.json with name, '
    "label_names, splits, source, license and notes."
)


class DataHomeNotFoundError(FileNotFoundError):
    """The data home folder does not exist.

    Subclasses :class:`FileNotFoundError`.
    """


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A dataset name is not available in the data home.

    Subclasses both :class:`FileNotFoundError` (the files are missing) and
    :class:`ValueError` (the name may be misspelt).
    """


class SplitNotFoundError(FileNotFoundError, ValueError):
    """A split is not available for a dataset in the data home.

    Subclasses both :class:`FileNotFoundError` and :class:`ValueError`.
    """


def get_data_home(data_home=None):
    """Return the folder that holds the datasets.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, the environment variable
        ``ALLSH_SKLEARN_DATA`` is used when set (and not empty), else
        ``~/allsh_sklearn_data``. A leading ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The folder. It is neither created nor checked here.

    Examples
    --------
    >>> from allsh_sklearn.datasets import get_data_home
    >>> get_data_home("/tmp/allsh_data").name
    'allsh_data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    if not isinstance(data_home, str | os.PathLike):
        raise TypeError(
            "The 'data_home' parameter of get_data_home must be a str, a "
            f"path-like object or None. Got {type(data_home).__name__} instead."
        )
    return Path(data_home).expanduser()


def _where_to_put_files(home):
    return (
        f"{_FORMAT_HELP} Put the files under {home}, or point to another "
        f"folder with the data_home argument or the {DATA_HOME_ENV} environment "
        f"variable (export {DATA_HOME_ENV}=/path/to/data). With internet access, "
        "allsh_sklearn.datasets.fetch_dataset(name) downloads and writes them."
    )


def _check_data_home(data_home):
    home = get_data_home(data_home)
    if not home.is_dir():
        if data_home is not None:
            origin = "from the data_home argument"
        elif os.environ.get(DATA_HOME_ENV):
            origin = f"from the {DATA_HOME_ENV} environment variable"
        else:
            origin = f"the default; {DATA_HOME_ENV} is not set"
        raise DataHomeNotFoundError(
            f"The data home {str(home)!r} ({origin}) does not exist. "
            + _where_to_put_files(home)
        )
    return home


def _available_names(home):
    return sorted(
        entry.name
        for entry in home.iterdir()
        if entry.is_dir()
        and not entry.name.startswith((".", "_"))
        and (entry / "meta.json").is_file()
    )


def _read_meta(folder):
    path = folder / "meta.json"
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}.") from exc
    label_names = meta.get("label_names") if isinstance(meta, dict) else None
    if not isinstance(label_names, list) or not all(
        isinstance(label, str) for label in label_names
    ):
        raise ValueError(
            f"{path} must hold a 'label_names' list of strings (index = label id). "
            f"Got {label_names!r} instead."
        )
    splits = meta.get("splits") or {}
    if not isinstance(splits, dict):
        raise ValueError(
            f"{path} must hold 'splits' as a mapping from split name to row "
            f"count. Got {splits!r} instead."
        )
    return meta


def _available_splits(folder, meta):
    """Splits with a file on disk, in meta.json order, then the others."""
    on_disk = {
        path.name[: -len(_SUFFIX)]
        for path in folder.glob("*" + _SUFFIX)
        if path.is_file()
    }
    ordered = [split for split in meta.get("splits", {}) if split in on_disk]
    return ordered + sorted(on_disk.difference(ordered))


def _peek_is_pair(path):
    with gzip.open(path, "rb") as f:
        for line in f:
            if line.strip():
                return "text_pair" in json.loads(line)
    return False


def _dataset_summary(home, name):
    folder = home / name
    meta = _read_meta(folder)
    splits = _available_splits(folder, meta)
    counts = meta.get("splits", {})
    label_names = list(meta["label_names"])
    return {
        "name": name,
        "splits": {split: counts.get(split) for split in splits},
        "n_rows": sum(counts.get(split) or 0 for split in splits),
        "n_classes": len(label_names),
        "label_names": label_names,
        "is_pair": bool(splits) and _peek_is_pair(folder / (splits[0] + _SUFFIX)),
        "license": meta.get("license", ""),
    }


def list_datasets(data_home=None, *, as_frame=True):
    """List the datasets available in the data home.

    Every folder of the data home that holds a ``meta.json`` is listed, with
    the splits that have a ``<split>.jsonl.gz`` file. Row counts and label
    names come from ``meta.json``; whether the task is a sentence-pair task is
    read from the first row of the first split.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    as_frame : bool, default=True
        If True, return a :class:`pandas.DataFrame`; else a list of dicts.

    Returns
    -------
    datasets : pandas.DataFrame or list of dict
        One row per dataset, sorted by name, with columns ``name``,
        ``splits`` (dict split -> row count), ``n_rows`` (total),
        ``n_classes``, ``label_names``, ``is_pair`` and ``license``.

    Raises
    ------
    DataHomeNotFoundError
        If the data home does not exist.

    Examples
    --------
    >>> from allsh_sklearn.datasets import list_datasets
    >>> list_datasets("../shared/data").set_index("name").loc["trec", "splits"]
    ... # doctest: +SKIP
    {'train': 5452, 'test': 500}
    """
    home = _check_data_home(data_home)
    rows = [_dataset_summary(home, name) for name in _available_names(home)]
    if not as_frame:
        return rows
    import pandas as pd

    columns = [
        "name",
        "splits",
        "n_rows",
        "n_classes",
        "label_names",
        "is_pair",
        "license",
    ]
    return pd.DataFrame(rows, columns=columns)


def _check_plain_name(name, data_home):
    """Reject names that are not one folder name (path escapes, separators).

    A name is joined to the data home to find the dataset's folder, so a name
    such as ``"sst2/../../x"`` or an absolute path would read outside it.
    """
    plain = (
        name not in ("", ".", "..")
        and not any(char in name for char in ("/", "\\", "\x00"))
        and (os.altsep is None or os.altsep not in name)
        and os.sep not in name
        and not os.path.isabs(name)
    )
    if plain:
        return
    home = get_data_home(data_home)
    available = _available_names(home) if home.is_dir() else []
    in_home = f"the datasets of {str(home)!r}: {available}, or " if available else ""
    raise ValueError(
        "The 'name' parameter of load_dataset must be a plain dataset name (a "
        "folder of the data home, without path separators or '..'): "
        f"{in_home}one of the known datasets {list(KNOWN_DATASETS)}. "
        f"Got {name!r} instead."
    )


def _resolve_dataset(name, home):
    folder = home / name
    if not name.startswith((".", "_")) and (folder / "meta.json").is_file():
        return folder
    available = _available_names(home)
    if folder.is_dir():
        problem = (
            f"The folder {str(folder)!r} exists but has no meta.json, so it is "
            "not a dataset."
        )
    elif name in KNOWN_DATASETS:
        problem = (
            f"The dataset {name!r} is not in the data home {str(home)!r}. "
            f"With internet access, fetch_dataset({name!r}) downloads it there."
        )
    else:
        problem = f"Unknown dataset {name!r}."
    raise DatasetNotFoundError(
        f"{problem} Available in {str(home)!r}: {available or 'none'}. Known "
        f"datasets: {list(KNOWN_DATASETS)}. " + _FORMAT_HELP
    )


def _check_n_samples(n_samples, n_rows, where):
    if n_samples is None:
        return None
    bound = "[1, n_rows]" if n_rows is None else f"[1, {n_rows}]"
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(
            f"The 'n_samples' parameter of load_dataset must be None or an int in "
            f"{bound} ({where}). Got {n_samples!r} instead."
        )
    if n_samples < 1 or (n_rows is not None and n_samples > n_rows):
        raise ValueError(
            f"The 'n_samples' parameter of load_dataset must be None or an int in "
            f"{bound} ({where}). Got {n_samples} instead; pass None for all rows."
        )
    return int(n_samples)


def _parse_lines(lines, path, first_line_numbers):
    """Parse JSON lines with one C-level ``json.loads`` call; locate errors."""
    try:
        rows = json.loads(b"[" + b",".join(lines) + b"]")
    except (json.JSONDecodeError, UnicodeDecodeError):
        rows = None
    if rows is not None and len(rows) == len(lines):
        return rows
    # Slow path, only to name the offending line.
    for line, number in zip(lines, first_line_numbers, strict=True):
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}, line {number}: not valid JSON ({exc}).") from exc
        if not isinstance(row, dict):
            raise ValueError(
                f"{path}, line {number}: expected a JSON object, got "
                f"{type(row).__name__}."
            )
    raise ValueError(f"{path}: could not parse the JSON lines.")  # pragma: no cover


def _read_split(path, n_samples, random_state, where):
    """Read a split: (rows, their line numbers, rows in the file)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        content = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a valid gzip file: {exc}.") from exc
    lines = content.splitlines()
    if all(lines):
        line_numbers = range(1, len(lines) + 1)
    else:  # skip empty lines (a trailing newline, say), keep true line numbers
        line_numbers = [i + 1 for i, line in enumerate(lines) if line]
        lines = [line for line in lines if line]
    n_total = len(lines)
    n_samples = _check_n_samples(n_samples, n_total, where)
    if n_samples is not None:
        # Same convention as sklearn.utils.resample(replace=False).
        chosen = check_random_state(random_state).permutation(n_total)[:n_samples]
        lines = [lines[i] for i in chosen]
        line_numbers = [line_numbers[i] for i in chosen]
    return _parse_lines(lines, path, line_numbers), line_numbers, n_total


def _rows_to_xy(rows, line_numbers, path):
    """Split parsed rows into texts (or pairs) and int64 labels."""
    is_pair = bool(rows) and "text_pair" in rows[0]
    keys = ("text", "text_pair", "label") if is_pair else ("text", "label")
    try:
        if is_pair:
            data = [(row["text"], row["text_pair"]) for row in rows]
        else:
            data = [row["text"] for row in rows]
        target = np.fromiter(
            (row["label"] for row in rows), dtype=np.int64, count=len(rows)
        )
    except (KeyError, TypeError, ValueError) as exc:
        number = next(
            (
                number
                for row, number in zip(rows, line_numbers, strict=True)
                if not isinstance(row, dict)
                or any(key not in row for key in keys)
                or not isinstance(row["label"], int)
            ),
            "?",
        )
        raise ValueError(
            f"{path}, line {number}: every row must be a JSON object with the "
            f"fields {list(keys)}, the label an int. Got error {exc!r}."
        ) from exc
    return data, target, is_pair


def _describe(name, split, meta, n_rows, n_total):
    label_names = meta["label_names"]
    size = f"{n_rows:,} rows"
    if n_rows != n_total:
        size += f" (random subsample of {n_total:,})"
    counts = " / ".join(
        f"{key} {value:,}"
        for key, value in meta.get("splits", {}).items()
        if isinstance(value, int)
    )
    lines = [
        f"{meta.get('name', name)}, split {split!r}: {size}.",
        "Labels: " + ", ".join(f"{i}={label}" for i, label in enumerate(label_names)),
        f"Splits: {counts}",
    ]
    for key, title in (
        ("source", "Source"),
        ("license", "License"),
        ("notes", "Notes"),
    ):
        if meta.get(key):
            lines.append(f"{title}: {meta[key]}")
    return "\n".join(lines)


def load_dataset(
    name,
    split="train",
    data_home=None,
    return_X_y=False,
    n_samples=None,
    random_state=None,
):
    """Load one split of a benchmark dataset from the data home.

    Reads ``<data_home>/<name>/<split>.jsonl.gz`` and ``meta.json``. Nothing
    is downloaded or cached: see :func:`fetch_dataset` to download.

    Parameters
    ----------
    name : str
        Dataset name, a folder of the data home, e.g. ``"sst2"``, ``"imdb"``,
        ``"ag_news"``, ``"trec"``, ``"rte"``, ``"qnli"``, ``"qqp"``,
        ``"twitter_ppdb"`` or ``"sst2_sentence"``. See :func:`list_datasets`.
        A plain folder name: paths (``"sst2/../x"``, absolute paths) are
        rejected, so nothing outside the data home is read.
    split : str, default="train"
        The split, e.g. ``"train"``, ``"dev"`` or ``"test"``.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    n_samples : int, default=None
        If given, return that many rows drawn uniformly without replacement
        (not stratified), in the order drawn, as
        ``sklearn.utils.resample(..., replace=False)`` does. Must be at most
        the number of rows of the split.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsample; used only with ``n_samples``. Pass an int for
        a deterministic subsample.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With attributes

        data : list of str, or list of (str, str) tuples
            The texts; ``(text, text_pair)`` tuples for sentence-pair tasks.
        target : ndarray of shape (n_samples,), dtype=int64
            Label ids, indices into ``target_names``.
        target_names : list of str
            Label names from ``meta.json``.
        name, split : str
            The dataset and split loaded.
        is_pair : bool
            Whether this is a sentence-pair task.
        DESCR : str
            Size, labels, source, licence and notes from ``meta.json``.
        filename : str
            The file read.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    DataHomeNotFoundError
        If the data home does not exist.
    DatasetNotFoundError
        If ``name`` is not a dataset of the data home.
    SplitNotFoundError
        If ``split`` has no file for this dataset.
    ValueError
        If ``name`` is not a plain dataset name (it holds a path separator,
        is ``"."``, ``".."`` or an absolute path), if ``n_samples`` is out of
        range, or if a file is malformed.

    See Also
    --------
    list_datasets : What the data home holds.
    fetch_dataset : Download a dataset into the data home.

    Examples
    --------
    >>> from allsh_sklearn.datasets import load_dataset
    >>> sst2 = load_dataset("sst2", "test", data_home="../shared/data")
    ... # doctest: +SKIP
    >>> len(sst2.data), sst2.target_names  # doctest: +SKIP
    (872, ['negative', 'positive'])
    >>> X, y = load_dataset("rte", "dev", data_home="../shared/data",
    ...                     return_X_y=True, n_samples=5, random_state=0)
    ... # doctest: +SKIP
    >>> len(X), type(X[0]), y.dtype  # doctest: +SKIP
    (5, <class 'tuple'>, dtype('int64'))
    """
    if not isinstance(name, str):
        raise TypeError(
            "The 'name' parameter of load_dataset must be a str such as 'sst2'. "
            f"Got {type(name).__name__} instead."
        )
    if not isinstance(split, str):
        raise TypeError(
            "The 'split' parameter of load_dataset must be a str such as 'train'. "
            f"Got {type(split).__name__} instead."
        )
    _check_plain_name(name, data_home)
    home = _check_data_home(data_home)
    folder = _resolve_dataset(name, home)
    meta = _read_meta(folder)
    splits = _available_splits(folder, meta)
    path = folder / (split + _SUFFIX)
    if split not in splits or "/" in split or "\\" in split:
        raise SplitNotFoundError(
            f"The dataset {name!r} has no split {split!r} in {str(folder)!r}. "
            f"Available splits: {splits}. Each split is a file "
            f"<split>{_SUFFIX} in that folder."
        )
    where = f"split {split!r} of {name!r}"
    expected = meta.get("splits", {}).get(split)
    if isinstance(expected, int):
        _check_n_samples(n_samples, expected, where)  # fail before reading
    rows, line_numbers, n_total = _read_split(path, n_samples, random_state, where)
    data, target, is_pair = _rows_to_xy(rows, line_numbers, path)
    label_names = list(meta["label_names"])
    if target.size and (target.min() < 0 or target.max() >= len(label_names)):
        bad = int(target[(target < 0) | (target >= len(label_names))][0])
        raise ValueError(
            f"{path} holds label {bad}, outside the {len(label_names)} "
            f"label_names of {folder / 'meta.json'}: {label_names}."
        )
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=label_names,
        name=name,
        split=split,
        is_pair=is_pair,
        DESCR=_describe(name, split, meta, len(data), n_total),
        filename=str(path),
    )
