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
``updated_at`` (ISO 8601) and ``lead_time`` (seconds).
"""

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ._errors import InputFileError

__all__ = [
    "FORMATS",
    "LabelRow",
    "guess_format",
    "label_studio_config",
    "read_label_rows",
    "read_pool",
    "read_table",
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

_MAX_LISTED = 10


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


def read_table(path, format=None):
    """Read a CSV, JSONL or Parquet file into a pandas DataFrame of strings.

    CSV cells are read as text (ids like ``007`` keep their zeros); an empty
    cell is an empty string, not NaN.

    Parameters
    ----------
    path : path-like
    format : {"csv", "jsonl", "parquet"} or None, default=None

    Returns
    -------
    table : pandas.DataFrame
    """
    import pandas as pd

    format = guess_format(path, format, allowed=("csv", "jsonl", "parquet"))
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"No such file: {path!r}.")
    try:
        if format == "csv":
            sep = "\t" if path.lower().endswith((".tsv", ".tsv.gz")) else ","
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        if format == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_parquet(path)
    except ImportError as error:
        raise InputFileError(
            f"Reading {path!r} as {format} needs a package that is not installed "
            f"({error}); for Parquet: pip install pyarrow."
        ) from error
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"Could not read {path!r} as {format}: {error}") from error
    except Exception as error:  # pandas' parser errors do not share a base class
        if type(error).__module__.startswith(("pandas", "pyarrow")):
            raise InputFileError(
                f"Could not read {path!r} as {format}: {error}"
            ) from error
        raise


def text_hash(text, text_pair=None):
    """A stable id for a text (or pair): the first 16 hex digits of its SHA-1.

    Examples
    --------
    >>> text_hash("a good film")
    '295b920af5a35f53'
    """
    key = text if text_pair is None else json.dumps([text, text_pair])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, list | dict) else False
    except (TypeError, ValueError):
        return False


def _cell_text(value):
    if _is_missing(value):
        return ""
    return value if isinstance(value, str) else str(value)


def _listing(rows, limit=_MAX_LISTED):
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


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
    """

    ids: list
    texts: list
    pairs: list | None
    n_dropped_empty: int = 0
    n_merged_duplicates: int = 0


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
        table, name = data, "the DataFrame"
    else:
        table, name = read_table(data, format), repr(os.fspath(data))
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
    texts = [_cell_text(v) for v in table[text_column].tolist()]
    pairs = (
        None
        if pair_column is None
        else [_cell_text(v) for v in table[pair_column].tolist()]
    )
    # Rows are numbered from 1 as a spreadsheet shows them after the header.
    empty = [
        row + 2
        for row, text in enumerate(texts)
        if not text.strip() or (pairs is not None and not pairs[row].strip())
    ]
    keep = list(range(len(texts)))
    if empty and not drop_empty:
        rows = "rows" if len(empty) > 1 else "row"
        raise InputFileError(
            f"{name} has {len(empty)} row(s) with a missing or empty text "
            f"({rows} {_listing(empty)}, counting the header as row 1). Fill or "
            "remove them, or pass drop_empty=True (--drop-empty) to leave them "
            "out.",
            problems=[f"row {r}: empty text" for r in empty],
        )
    if empty:
        dropped = {r - 2 for r in empty}
        keep = [row for row in keep if row not in dropped]
    if not keep:
        raise InputFileError(f"{name} has no row with a non-empty text.")
    if id_column is not None:
        raw_ids = table[id_column].tolist()
        missing_ids = [
            row + 2 for row in keep if _cell_text(raw_ids[row]).strip() == ""
        ]
        if missing_ids:
            raise InputFileError(
                f"{name} has {len(missing_ids)} row(s) without an id in column "
                f"{id_column!r} (rows {_listing(missing_ids)}).",
                problems=[f"row {r}: no id" for r in missing_ids],
            )
        ids = [_cell_text(raw_ids[row]).strip() for row in keep]
        seen, duplicates = {}, []
        for row, item_id in zip(keep, ids, strict=True):
            if item_id in seen:
                duplicates.append(
                    f"{item_id!r} (rows {seen[item_id] + 2} and {row + 2})"
                )
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
    )


# Label files ---------------------------------------------------------------------


@dataclass
class LabelRow:
    """One labeling event read from a file.

    Attributes
    ----------
    row : str
        Where it came from, for messages (``"row 3"``, ``"task 2"``).
    item_id : str
    label : str or None
        None for a skip (a cancelled Label Studio annotation).
    annotator : str or None
    created_at : float or None
        Seconds since the epoch.
    session_id : str or None
        The session the file says it belongs to.
    """

    row: str
    item_id: str
    label: str | None
    annotator: str | None = None
    created_at: float | None = None
    session_id: str | None = None
    extra: dict = field(default_factory=dict)


def _parse_time(value):
    if _is_missing(value) or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def read_label_rows(path, format=None, *, id_field="id", label_field="label"):
    """Read the labels of a CSV, JSONL, Parquet or Label Studio file.

    Rows with an empty label are left out (a partly labeled batch is a
    normal file to import). Label Studio tasks give one row per annotation,
    oldest first; a cancelled annotation is a skip.

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
    table = read_table(path, format)
    if id_field not in table.columns:
        raise InputFileError(
            f"{os.fspath(path)!r} has no {id_field!r} column (its columns are "
            f"{list(map(str, table.columns))}). A label file needs the item ids "
            "this session exported."
        )
    if label_field not in table.columns:
        raise InputFileError(
            f"{os.fspath(path)!r} has no {label_field!r} column (its columns are "
            f"{list(map(str, table.columns))})."
        )
    records = table.to_dict("records")
    rows, n_unlabeled = [], 0
    for number, record in enumerate(records, start=2):
        label = _cell_text(record.get(label_field)).strip()
        if not label:
            n_unlabeled += 1
            continue
        annotator = _cell_text(record.get("annotator")).strip() or None
        session = _cell_text(record.get("session_id")).strip() or None
        rows.append(
            LabelRow(
                row=f"row {number}" if format == "csv" else f"line {number - 1}",
                item_id=_cell_text(record.get(id_field)).strip(),
                label=label,
                annotator=annotator,
                created_at=_parse_time(record.get("labeled_at")),
                session_id=session,
            )
        )
    return rows, n_unlabeled


def _annotator_of(annotation):
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return None if who is None else f"labelstudio:{who}"


def _read_label_studio(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"No such file: {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            tasks = json.load(file)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputFileError(
            f"{path!r} is not valid JSON ({error}); Label Studio exports a JSON "
            "list of tasks."
        ) from error
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InputFileError(
            f"{path!r} is not a Label Studio task list: expected a JSON list of "
            f"tasks, got a JSON {type(tasks).__name__}."
        )
    rows, problems, n_unlabeled = [], [], 0
    for number, task in enumerate(tasks, start=1):
        where = f"task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            problems.append(f"{where}: no 'data' object")
            continue
        data = task["data"]
        item_id = data.get(LS_ID)
        if _is_missing(item_id):
            problems.append(
                f"{where}: no data.{LS_ID} (export the batch from this session "
                "with format 'labelstudio' and import those tasks into Label "
                "Studio, so each task carries its id)"
            )
            continue
        session = data.get(LS_SESSION)
        annotations = task.get("annotations") or task.get("completions") or []
        events = []
        for annotation in annotations:
            if not isinstance(annotation, dict):
                continue
            created = _parse_time(
                annotation.get("updated_at") or annotation.get("created_at")
            )
            if annotation.get("was_cancelled"):
                events.append((created, None, annotation))
                continue
            choices = [
                r
                for r in annotation.get("result") or []
                if isinstance(r, dict) and r.get("type") == "choices"
            ]
            names = {r.get("from_name") for r in choices}
            if len(names) > 1:
                choices = [r for r in choices if r.get("from_name") == LS_FROM_NAME]
                if not choices:
                    problems.append(
                        f"{where}: several Choices controls ({sorted(map(str, names))})"
                        f" and none named {LS_FROM_NAME!r}"
                    )
                    continue
            if not choices:
                continue
            values = (choices[-1].get("value") or {}).get("choices") or []
            if len(values) != 1:
                problems.append(
                    f"{where}: an annotation with {len(values)} choices; a "
                    'label needs exactly one (choice="single")'
                )
                continue
            events.append((created, str(values[0]), annotation))
        if not events:
            n_unlabeled += 1
            continue
        # Oldest first, so the latest annotation is the one that counts.
        order = sorted(
            range(len(events)),
            key=lambda i: (events[i][0] is None, events[i][0] or 0.0, i),
        )
        for i in order:
            created, label, annotation = events[i]
            rows.append(
                LabelRow(
                    row=where,
                    item_id=str(item_id),
                    label=label,
                    annotator=_annotator_of(annotation),
                    created_at=created,
                    session_id=None if session is None else str(session),
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


def _label_studio_tasks(rows, *, session_id, model_version):
    tasks = []
    for row in rows:
        data = {LS_TEXT: row["text"]}
        if row.get("text_pair") is not None:
            data[LS_PAIR] = row["text_pair"]
        data[LS_ID] = row["id"]
        data[LS_SESSION] = session_id
        task = {"data": data}
        region = {
            "from_name": LS_FROM_NAME,
            "to_name": LS_TEXT,
            "type": "choices",
        }
        if row.get("label"):
            task["annotations"] = [
                {
                    "result": [dict(region, value={"choices": [row["label"]]})],
                    "was_cancelled": False,
                    "completed_by": row.get("annotator"),
                    "created_at": row.get("labeled_at"),
                }
            ]
        elif row.get("guess"):
            prediction = {
                "model_version": model_version,
                "result": [dict(region, value={"choices": [row["guess"]]})],
            }
            if row.get("guess_probability") is not None:
                prediction["score"] = row["guess_probability"]
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def write_rows(path, rows, *, format=None, session_id, columns, model_version=""):
    """Write rows (dicts) as CSV, JSONL, Parquet or Label Studio tasks, atomically.

    The file is written beside its destination and renamed over it, so an
    interrupted export never leaves half a file.

    Parameters
    ----------
    path : path-like
    rows : list of dict
        Keys among ``columns``; ``id``, ``text`` (and ``text_pair``) at least.
    format : str or None, default=None
    session_id : str
        Written into every row or task.
    columns : list of str
        The CSV/JSONL/Parquet columns, in order (``session_id`` is added).
    model_version : str, default=""
        Label Studio ``predictions[].model_version``.

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

            table = pd.DataFrame(
                [{c: row.get(c) for c in columns} for row in rows],
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
