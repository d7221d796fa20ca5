"""Label Studio's task JSON: batches as tasks with predictions, labels as
annotations, and the labeling configuration that shows them.

https://labelstud.io/guide/tasks ("Basic Label Studio JSON format") and
https://labelstud.io/guide/task_format (the export format): a JSON list of
tasks; each task's ``data`` holds the text under the key the labeling
configuration's ``<Text value="$text">`` names, plus any other fields (kept
on export); ``predictions`` and ``annotations`` are lists of objects whose
``result`` lists regions, here one ``{"from_name": "label", "to_name":
"text", "type": "choices", "value": {"choices": [label]}}``. An exported
annotation adds ``completed_by`` (a user id, or an object with an
``email``), ``was_cancelled`` (the task was skipped), ``created_at`` /
``updated_at`` (ISO 8601) and ``lead_time`` (seconds); a prediction has a
``score`` (a project with uncertainty sampling serves the lowest first) and
a ``model_version``.
"""

import json
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .._errors import InputFileError
from ._base import LabelFormat, Sidecar
from ._cells import (
    JsonNumber,
    flag_cell,
    is_missing,
    json_kind,
    json_loads,
    name_cell,
)
from ._reading import LabelRow, decode_error, refuse_problems
from ._time import parse_time, same_time

__all__ = [
    "LS_ANNOTATOR",
    "LS_AUDIT",
    "LS_FROM_NAME",
    "LS_ID",
    "LS_LABELED_AT",
    "LS_PAIR",
    "LS_SESSION",
    "LS_TEXT",
    "LS_VERSION_PREFIX",
    "LabelStudioFormat",
    "label_studio_config",
    "label_studio_model_version",
    "label_studio_score",
]

#: Label Studio names: the control tag and the object tags of the exported config.
LS_FROM_NAME = "label"
LS_TEXT = "text"
LS_PAIR = "text_pair"
LS_ID = "allsh_id"
LS_SESSION = "allsh_session"
LS_AUDIT = "allsh_audit"
#: ``data`` keys of an exported task whose annotator Label Studio has no form
#: for (not a Label Studio user id, not an email): the name, and the time
#: the export wrote as the annotation's ``created_at`` (see :func:`write_rows`).
LS_ANNOTATOR = "allsh_annotator"
LS_LABELED_AT = "allsh_labeled_at"

#: The prefix of every Label Studio model version this package writes.
LS_VERSION_PREFIX = "allsh-label round "


class LabelStudioFormat(LabelFormat):
    """Label Studio's task JSON (``*.json``): one task per text.

    Written: a batch's text carries one prediction (the guess, the
    ``score`` of its place in the batch, :func:`label_studio_score`, and the
    ``model_version``); a label is an annotation whose ``completed_by`` is
    in Label Studio's own form (the user id ``3`` for the annotator
    ``labelstudio:3``, ``{"email": name}`` for a name with an ``@``); any
    other name is kept in ``data.allsh_annotator`` with the label's time in
    ``data.allsh_labeled_at``. Read: one label row per annotation, oldest
    first; a cancelled annotation is a skip. An exported batch comes with
    its labeling configuration beside it (:meth:`sidecar`).
    """

    name = "labelstudio"
    suffixes = (".json",)
    hint = "*.json (Label Studio)"
    names_id_column = False

    def write(self, file, rows, *, destination, session_id, columns, model_version=""):
        tasks = _label_studio_tasks(
            rows, session_id=session_id, model_version=model_version
        )
        with open(file, "w", encoding="utf-8") as stream:
            json.dump(tasks, stream, ensure_ascii=False, indent=1)

    def read_label_rows(self, path, *, id_field="id", label_field="label"):
        # The id and the label have their places in a task: the fields are
        # those of tables.
        return _read_label_studio(path)

    def sidecar(self, destination, *, labels, pair=False):
        """The labeling configuration, ``<batch>.labelconfig.xml``.

        Parameters
        ----------
        destination : pathlib.Path
        labels : list of str
        pair : bool, default=False

        Returns
        -------
        sidecar : Sidecar
        """
        return Sidecar(
            path=Path(destination).with_suffix(".labelconfig.xml"),
            text=label_studio_config(labels, pair=pair),
            description="Label Studio labeling configuration",
        )


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


def label_studio_score(position, size):
    """The prediction score that puts a batch's text at its place in Label Studio.

    A Label Studio project with uncertainty sampling serves the task with
    the lowest prediction score next, so the text at position ``p`` of a
    batch of ``n`` scores ``(p - 1) / (2 n)``: the batch's order (its audit
    texts at their random places), all below 0.5 so that the texts outside
    the batch can score from 0.5 up. Label Studio refuses scores outside
    [0, 1]. The batch exports (``allsh-label export --format labelstudio``)
    and the ML backend (:mod:`allsh_sklearn.labelstudio`) both score with it.

    Parameters
    ----------
    position : int
        The text's 1-based position in its batch.
    size : int
        The batch's size (every text of it, labeled ones included).

    Returns
    -------
    score : float
        In [0, 0.5).

    Examples
    --------
    >>> [label_studio_score(p, 4) for p in (1, 2, 3, 4)]
    [0.0, 0.125, 0.25, 0.375]
    """
    return (position - 1) / (2 * max(size, position))


def label_studio_model_version(round, batch):
    """The Label Studio ``model_version`` of a batch's order.

    New whenever the order changes (a new batch, a new round), so Label
    Studio can tell the current predictions from older ones. The batch
    exports and the ML backend (:mod:`allsh_sklearn.labelstudio`) both
    write it.

    Parameters
    ----------
    round : int or None
        The round whose model queried the batch (None: a random batch,
        before any model; written as 0).
    batch : int
        The batch's number.

    Returns
    -------
    version : str

    Examples
    --------
    >>> label_studio_model_version(None, 1)
    'allsh-label round 0 batch 1'
    >>> label_studio_model_version(2, 3)
    'allsh-label round 2 batch 3'
    """
    return f"{LS_VERSION_PREFIX}{round or 0} batch {batch}"


def _completed_by(annotator):
    """Label Studio's ``completed_by`` for an annotator name, or None.

    ``labelstudio:<n>`` (a Label Studio user, as webhooks and imports name
    them) is the user id ``n``; a name with an ``@`` is an email, Label
    Studio's form for a user with details; any other name has no Label
    Studio form (None: the name goes into ``data.allsh_annotator``).
    """
    prefix = "labelstudio:"
    if annotator.startswith(prefix):
        number = annotator[len(prefix) :]
        if number.isascii() and number.isdigit() and str(int(number)) == number:
            return int(number)
    if "@" in annotator:
        return {"email": annotator}
    return None


def _label_studio_tasks(rows, *, session_id, model_version):
    tasks = []
    for row in rows:
        data = {LS_TEXT: row["text"]}
        if row.get("text_pair") is not None:
            data[LS_PAIR] = row["text_pair"]
        data[LS_ID] = row["id"]
        data[LS_SESSION] = session_id
        if "audit" in row:
            data[LS_AUDIT] = bool(row["audit"])
        task = {"data": data}
        region = {
            "from_name": LS_FROM_NAME,
            "to_name": LS_TEXT,
            "type": "choices",
        }
        if row.get("label"):
            annotation = {
                "result": [dict(region, value={"choices": [row["label"]]})],
                "was_cancelled": False,
            }
            if row.get("annotator"):
                completed_by = _completed_by(row["annotator"])
                if completed_by is not None:
                    annotation["completed_by"] = completed_by
                else:
                    # No Label Studio form: the name rides in the task's data,
                    # with the time that tells this annotation from later ones.
                    data[LS_ANNOTATOR] = row["annotator"]
                    if row.get("labeled_at"):
                        data[LS_LABELED_AT] = row["labeled_at"]
            if row.get("labeled_at"):
                annotation["created_at"] = row["labeled_at"]
                annotation["updated_at"] = row["labeled_at"]
            task["annotations"] = [annotation]
        elif row.get("position") is not None or row.get("guess"):
            # A batch's text: the guess (if any) and its place in the order.
            prediction = {"model_version": model_version, "result": []}
            if row.get("guess"):
                prediction["result"] = [dict(region, value={"choices": [row["guess"]]})]
            if row.get("position") is not None:
                prediction["score"] = label_studio_score(
                    row["position"], row["batch_size"]
                )
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


# Reading ---------------------------------------------------------------------


def _annotator_of(annotation, data=None):
    """The annotator of a Label Studio annotation as ``(name, problem)``.

    ``completed_by`` is a user id in Label Studio's exports (``labelstudio:3``
    here: a bare number names nobody outside Label Studio), an object with
    the user's ``email`` when the export includes user details (the email,
    as it is), or a name (as it is). :func:`write_rows` writes this
    session's annotators in those forms (``labelstudio:3`` as ``3``, an
    email as ``{"email": ...}``); any other name goes into the task's
    ``data.allsh_annotator`` with the time it wrote as the annotation's
    ``created_at`` (``data.allsh_labeled_at``). That name stands only for
    the annotation with that ``created_at`` (the one the export wrote);
    for any other (made in Label Studio since), ``completed_by`` does.
    """
    data = {} if data is None else data
    exported, problem = name_cell(data.get(LS_ANNOTATOR))
    if problem is not None:
        return None, f"data.{LS_ANNOTATOR} is {problem}"
    if exported and same_time(annotation.get("created_at"), data.get(LS_LABELED_AT)):
        return exported, None
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        email, problem = name_cell(who.get("email"))
        if problem is None and email:
            return email, None
        who = who.get("id")
    if is_missing(who):
        return None, None
    name, problem = name_cell(who)
    if problem is not None:
        return None, f"'completed_by' is {problem}"
    if not name:
        return None, None
    if isinstance(who, JsonNumber | int):
        return f"labelstudio:{name}", None
    return name, None


def _choice_of(annotation, at):
    """The label of an annotation's ``choices`` region as ``(label, problem)``.

    ``(None, None)`` when it has no ``choices`` region (no label).
    """
    result = annotation.get("result")
    if is_missing(result):
        return None, None
    if not isinstance(result, list):
        return None, (
            f"{at}: 'result' is {json_kind(result)}; Label Studio exports a list of "
            "regions"
        )
    for position, region in enumerate(result, start=1):
        if not isinstance(region, dict):
            return None, (
                f"{at}: region {position} of 'result' is {json_kind(region)}, "
                "not an object"
            )
    choices = [r for r in result if r.get("type") == "choices"]
    names = {str(r.get("from_name")) for r in choices}
    if len(names) > 1:
        choices = [r for r in choices if r.get("from_name") == LS_FROM_NAME]
        if not choices:
            return None, (
                f"{at}: several Choices controls ({sorted(names)}) and none named "
                f"{LS_FROM_NAME!r}"
            )
    if not choices:
        return None, None
    value = choices[-1].get("value")
    if not isinstance(value, dict):
        return None, (
            f"{at}: the choices region's 'value' is {json_kind(value)}; expected an "
            'object such as {"choices": ["label"]}'
        )
    values = value.get("choices")
    if not isinstance(values, list):
        return None, (
            f"{at}: 'value.choices' is {json_kind(values)}; expected a list "
            'such as ["label"]'
        )
    if len(values) != 1:
        return None, (
            f"{at}: an annotation with {len(values)} choices; a label needs "
            'exactly one (choice="single")'
        )
    label, problem = name_cell(values[0])
    if problem is not None or not label:
        return None, f"{at}: the choice is {problem or 'empty'}, not a label"
    return label, None


def _read_label_studio(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"No such file: {path!r}.")
    try:
        with open(path, encoding="utf-8-sig") as file:
            tasks = json_loads(file.read())
    except RecursionError as error:
        raise InputFileError(
            f"{path!r} nests JSON lists or objects too deeply to be a Label Studio "
            "export (a JSON list of tasks); nothing was imported."
        ) from error
    except UnicodeDecodeError as error:
        raise decode_error(path, error) from error
    except ValueError as error:
        raise InputFileError(
            f"{path!r} is not valid JSON ({error}); Label Studio exports a JSON "
            "list of tasks."
        ) from error
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InputFileError(
            f"{path!r} is not a Label Studio task list: expected a JSON list of "
            f"tasks, got {json_kind(tasks)}."
        )
    rows, problems, n_unlabeled = [], [], 0
    for number, task in enumerate(tasks, start=1):
        where = f"task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            problems.append(f"{where}: no 'data' object")
            continue
        data = task["data"]
        item_id, problem = name_cell(data.get(LS_ID))
        if problem is not None:
            problems.append(f"{where}: data.{LS_ID} is {problem}")
            continue
        if not item_id:
            problems.append(
                f"{where}: no data.{LS_ID} (export the batch from this session "
                "with format 'labelstudio' and import those tasks into Label "
                "Studio, so each task carries its id)"
            )
            continue
        session, problem = name_cell(data.get(LS_SESSION))
        if problem is not None:
            problems.append(f"{where}: data.{LS_SESSION} is {problem}")
        audit, problem = flag_cell(data.get(LS_AUDIT))
        if problem is not None:
            problems.append(f"{where}: data.{LS_AUDIT}: {problem}")
        key = "annotations" if "annotations" in task else "completions"
        annotations = task.get(key)
        if is_missing(annotations):
            annotations = []
        if not isinstance(annotations, list):
            problems.append(
                f"{where}: {key!r} is {json_kind(annotations)}; Label Studio "
                "exports a list of annotations"
            )
            continue
        events = []
        for position, annotation in enumerate(annotations, start=1):
            at = where if len(annotations) == 1 else f"{where}, annotation {position}"
            if not isinstance(annotation, dict):
                problems.append(f"{at}: {json_kind(annotation)}, not an object")
                continue
            stamp = annotation.get("updated_at")
            field_name = "updated_at"
            if is_missing(stamp) or stamp == "":
                stamp, field_name = annotation.get("created_at"), "created_at"
            try:
                created = parse_time(stamp)
            except ValueError as error:
                problems.append(f"{at}, field {field_name!r}: {error}")
                continue
            annotator, problem = _annotator_of(annotation, data)
            if problem is not None:
                problems.append(f"{at}: {problem}")
                continue
            cancelled = annotation.get("was_cancelled")
            if not (is_missing(cancelled) or isinstance(cancelled, bool)):
                problems.append(
                    f"{at}: 'was_cancelled' is {json_kind(cancelled)}, not true/false"
                )
                continue
            if cancelled:
                events.append((created, None, annotator))
                continue
            label, problem = _choice_of(annotation, at)
            if problem is not None:
                problems.append(problem)
                continue
            if label is not None:
                events.append((created, label, annotator))
        if not events:
            n_unlabeled += 1
            continue
        # Oldest first, so the latest annotation is the one that counts.
        order = sorted(
            range(len(events)),
            key=lambda i: (events[i][0] is None, events[i][0] or 0.0, i),
        )
        task = {
            "row": where,
            "item_id": item_id,
            "session_id": session or None,
            "audit": bool(audit),
        }
        for i in order:
            created, label, annotator = events[i]
            rows.append(
                LabelRow(label=label, annotator=annotator, created_at=created, **task)
            )
    refuse_problems(
        problems, f"{path!r} has {len(problems)} task(s) that cannot be read"
    )
    return rows, n_unlabeled
