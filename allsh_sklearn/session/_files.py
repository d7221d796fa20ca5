"""A labeling session's files: batches and labels written out, labels read in.

The bodies of :meth:`LabelingSession.export_batch
<allsh_sklearn.session.LabelingSession.export_batch>`,
:meth:`~allsh_sklearn.session.LabelingSession.export_labels` and
:meth:`~allsh_sklearn.session.LabelingSession.import_labels`, over the
readers and writers of :mod:`allsh_sklearn.session._formats`; and the check
that refuses to write over a file the session keeps (:func:`check_output`).
"""

import os
import time
import unicodedata
from pathlib import Path

from ._errors import InputFileError, NotReadyError
from ._formats import (
    format_time,
    label_studio_model_version,
    read_label_rows,
    spreadsheet_unescape,
    write_rows,
)
from ._records import SKIP, ImportReport
from ._store import DATABASE_NAME

__all__ = ["check_output", "export_batch", "export_labels", "import_labels"]


def _kept_by_session(project_path, path):
    """What ``path`` is to the session of ``project_path`` if it keeps it,
    else None.

    The session keeps its database (with SQLite's ``-wal``, ``-shm`` and
    ``-journal`` files and the temporary file of
    :meth:`LabelingSession.create <allsh_sklearn.session.LabelingSession.create>`), the
    ``cache/`` folder and everything in it, and the project folder itself.
    Symbolic links are followed and hard links recognised, so a link to the
    database is the database.
    """
    project_path = Path(project_path)
    target = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    # The folders resolved, the name kept: the file a write would replace.
    direct = Path(os.path.realpath(target.parent)) / target.name
    resolved = Path(os.path.realpath(target))
    project = Path(os.path.realpath(project_path))
    database = Path(os.path.realpath(project_path / DATABASE_NAME))
    databases = {
        Path(f"{base}{suffix}")
        for base in (database, project / DATABASE_NAME)
        for suffix in ("", "-wal", "-shm", "-journal")
    }
    temporary = direct.name.startswith(f".{DATABASE_NAME}.")
    if direct in databases or (direct.parent == project and temporary):
        return "the session's database: writing there would lose every label"
    if resolved in databases:
        return "a link to the session's database"
    if resolved.exists():
        try:
            if os.path.samefile(resolved, database):
                return "a hard link to the session's database"
        except OSError:
            pass
    if resolved == project:
        return "the session's project folder itself"
    cache = project / "cache"
    if resolved == cache or cache in resolved.parents:
        return "inside the session's cache folder, which the session manages"
    return None


def check_output(project_path, path, name, owner):
    """Refuse, before any work, to write over a file the session keeps.

    Parameters
    ----------
    project_path : path-like
        The session's project folder.
    path : path-like
        Where something is to be written.
    name : str
        The parameter that gave ``path``, as the error names it.
    owner : str
        The method that took it, as the error names it.

    Raises
    ------
    ValueError
        ``path`` is the session's database (or a link to it), its project
        folder or in its ``cache/`` folder.
    """
    kept = _kept_by_session(project_path, path)
    if kept is not None:
        raise ValueError(
            f"The '{name}' parameter of {owner} must name a file outside the "
            f"session's own files ({DATABASE_NAME} and its -wal and -shm "
            f"files, the cache/ folder) in {os.fspath(project_path)!r}. Got "
            f"{os.fspath(path)!r}, which is {kept}. Nothing was written."
        )


def _columns(config):
    """The text columns of the session's files: id, text (and text_pair)."""
    pair = config.get("pair_column") is not None
    return ["id", "text"] + (["text_pair"] if pair else [])


def export_batch(session, path, *, format=None):
    """Write the open batch's texts still to label (see
    :meth:`LabelingSession.export_batch
    <allsh_sklearn.session.LabelingSession.export_batch>`).

    Returns
    -------
    n_rows : int
    """
    check_output(session.path, path, "path", "export_batch")
    batch = session.current_batch()
    if batch is None:
        raise NotReadyError("There is no open batch: call next_batch() first.")
    rows = []
    for item in batch.items:
        if item.label is not None or item.skipped:
            continue
        rows.append(
            {
                "id": item.item_id,
                "text": item.text,
                "text_pair": item.text_pair,
                "label": "",
                "guess": item.guess,
                "guess_probability": None
                if item.proba is None or item.guess is None
                else item.proba[item.guess],
                "position": item.position,
                "batch_size": len(batch.items),
            }
        )
    write_rows(
        path,
        rows,
        format=format,
        session_id=session.session_id,
        columns=_columns(session.config) + ["label", "guess", "guess_probability"],
        model_version=label_studio_model_version(batch.round, batch.batch),
    )
    return len(rows)


def export_labels(session, path, *, format=None, include_audit=True):
    """Write every standing label (see :meth:`LabelingSession.export_labels
    <allsh_sklearn.session.LabelingSession.export_labels>`).

    Returns
    -------
    n_rows : int
    """
    check_output(session.path, path, "path", "export_labels")
    rows = session._store.current_labels()
    out = [
        {
            "id": ext_id,
            "text": text,
            "text_pair": pair,
            "label": label,
            "annotator": annotator,
            "labeled_at": format_time(created),
            "audit": role == "audit",
        }
        for ext_id, text, pair, label, annotator, created, role in rows
        if include_audit or role != "audit"
    ]
    write_rows(
        path,
        out,
        format=format,
        session_id=session.session_id,
        columns=_columns(session.config)
        + ["label", "annotator", "labeled_at", "audit"],
    )
    return len(out)


def import_labels(
    session, path, *, format=None, annotator=None, retrain=False, progress=None
):
    """Import labels from a file, all or nothing (see
    :meth:`LabelingSession.import_labels
    <allsh_sklearn.session.LabelingSession.import_labels>`).

    Returns
    -------
    report : ImportReport
    """
    rows, n_unlabeled = read_label_rows(path, format)
    name = os.fspath(path)
    default_annotator = annotator or "import"
    problems = []
    other_sessions = sorted(
        {
            row.session_id
            for row in rows
            if row.session_id not in (None, session.session_id)
        }
    )
    if other_sessions:
        raise InputFileError(
            f"{name!r} was exported from another session "
            f"({', '.join(s[:8] for s in other_sessions)}); this session is "
            f"{session.session_id[:8]}. Import it into the session it came from, "
            "or remove its session_id column if you know the ids match.",
            problems=[f"session {s}" for s in other_sessions],
        )
    names = {unicodedata.normalize("NFC", label): label for label in session.labels}
    names.setdefault(SKIP, SKIP)
    for row in rows:
        if row.label is None:
            continue
        for candidate in (row.label, spreadsheet_unescape(row.label)):
            found = names.get(unicodedata.normalize("NFC", candidate))
            if found is not None:
                row.label = found
                break
        else:
            problems.append(
                f"{row.row}: label {row.label!r} is not in {session.labels}"
            )
    wanted = list(
        dict.fromkeys(
            candidate
            for row in rows
            for candidate in (row.item_id, spreadsheet_unescape(row.item_id))
        )
    )
    store = session._store
    with store.read() as connection:
        known = store.item_numbers(connection, wanted)
    for row in rows:
        if row.item_id not in known:
            unescaped = spreadsheet_unescape(row.item_id)
            if unescaped in known:
                row.item_id = unescaped
            else:
                problems.append(f"{row.row}: id {row.item_id!r} is not in this session")
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputFileError(
            f"{name!r} cannot be imported: {len(problems)} problem(s): "
            f"{shown}{more}. Nothing was imported.",
            problems=problems,
        )
    source = f"import:{Path(path).name}"
    n_imported = n_unchanged = n_skips = 0

    def event_of(row):
        if row.label in (None, SKIP):
            return ("skip", None)
        return ("label", row.label)

    with store.write() as connection:
        numbers = [known[row.item_id] for row in rows]
        unique = list(dict.fromkeys(numbers))
        state = store.item_states(connection, unique)
        roles = store.item_roles(connection, unique)
        # Audit texts of the file join this session's audit sample, unless
        # this session already trains on them.
        audit = {}
        for row, number in zip(rows, numbers, strict=True):
            if row.audit and roles.get(number) is None:
                audit.setdefault(number, row)
        conflicts = [
            f"{row.row}: id {row.item_id!r} is an audit text in the file but "
            "holds a training label in this session"
            for number, row in audit.items()
            if state.get(number, (None, None))[0] == "label"
        ]
        if conflicts:
            raise InputFileError(
                f"{name!r} cannot be imported: {len(conflicts)} problem(s): "
                f"{'; '.join(conflicts[:10])}. Nothing was imported. An audit "
                "text must never have been trained on: remove the file's "
                "audit column to import these labels as training labels.",
                problems=conflicts,
            )
        store.mark_audit(connection, list(audit))
        # Idempotent: an item already at the file's last word is left alone.
        last = {}
        for row, number in zip(rows, numbers, strict=True):
            last[number] = event_of(row)
        previous = {number: state.get(number) for number in unique}
        for row, number in zip(rows, numbers, strict=True):
            kind, label = event = event_of(row)
            if last[number] == state.get(number) or event == previous[number]:
                n_unchanged += 1
                continue
            store.record_event(
                connection,
                number,
                kind,
                label,
                row.annotator or default_annotator,
                source,
                time.time() if row.created_at is None else row.created_at,
            )
            previous[number] = event
            n_imported += 1
            n_skips += kind == "skip"
    report = ImportReport(
        path=name,
        n_rows=len(rows),
        n_unlabeled=n_unlabeled,
        n_imported=n_imported,
        n_unchanged=n_unchanged,
        n_skips=n_skips,
    )
    if retrain and n_imported:
        report.round = session.retrain(progress=progress)
    return report
