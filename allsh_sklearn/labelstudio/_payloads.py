"""What Label Studio sends the backend, checked and turned into plain records.

Label Studio calls an ML backend with JSON bodies (its ``ml/api_connector.py``
and ``webhooks/`` in version 1.23; the SDK ``label-studio-ml`` answers the
same calls):

- ``POST /predict``: ``{"tasks": [task, ...], "project": "<id>.<created
  timestamp>", "label_config": "...", "params": {...}}``; each task has its
  ``id`` and ``data`` (here ``data.text``, ``data.allsh_id``, ...).
- ``POST /setup``: ``{"project": "<id>.<timestamp>", "schema": "<label
  config>", "hostname": "...", "access_token": "...", "extra_params": ...}``.
- ``POST /webhook``: ``{"action": "ANNOTATION_CREATED", "annotation": {...},
  "task": {...}, "project": {...}}`` (``ANNOTATION_UPDATED`` alike,
  ``ANNOTATIONS_CREATED`` with lists, ``ANNOTATIONS_DELETED`` with
  ``"annotations": [{"id": 5}]`` only); every other action is acknowledged
  and ignored.

An annotation's ``result`` holds one ``choices`` region (the label), or
``was_cancelled`` is true (the annotator skipped the task). A body that does
not fit is refused with :class:`PayloadError`, whose message names the field,
what was expected and what came.
"""

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..session._formats import LS_FROM_NAME, LS_ID, LS_SESSION

__all__ = [
    "Annotation",
    "PayloadError",
    "PredictRequest",
    "Webhook",
    "annotation_of",
    "parse_body",
    "parse_predict",
    "parse_setup",
    "parse_webhook",
    "parse_time",
]

#: The webhook actions that carry annotations (labels and skips).
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")
#: The webhook action that names deleted annotations (by id only).
DELETE_ACTION = "ANNOTATIONS_DELETED"
#: Label Studio's "start training" button (sent to ``/webhook``).
TRAIN_ACTION = "START_TRAINING"

_SHOWN = 80


class PayloadError(ValueError):
    """A request body the backend refuses; ``status_code`` is the HTTP answer.

    Parameters
    ----------
    message : str
    status_code : int, default=400
        400 for a body that is not the JSON Label Studio sends, 422 for one
        that is but names texts or labels this session does not have.
    """

    def __init__(self, message, status_code=400):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Annotation:
    """One Label Studio annotation as the session stores it.

    Attributes
    ----------
    annotation_id : int
    task_id : int
    item_id : str
        The session's id of the text (the task's ``data.allsh_id``).
    kind : {"label", "skip"}
        ``"skip"`` for a cancelled annotation (the annotator skipped).
    label : str or None
    annotator : str
        ``"labelstudio:<user id>"``, as the session names Label Studio users
        in its imports.
    updated_at : str
        Label Studio's ISO 8601 time of the annotation's last change (``""``
        when the body has none).
    session_id : str or None
        The task's ``data.allsh_session`` (the session it was made for).
    """

    annotation_id: int
    task_id: int
    item_id: str
    kind: str
    label: str | None
    annotator: str
    updated_at: str = ""
    session_id: str | None = None

    @property
    def source(self):
        """The ``source`` stored with the session's event.

        ``labelstudio:<annotation id>:<updated_at>``: which annotation, and
        which version of it, the event came from (see :func:`parse_source`).
        """
        return f"labelstudio:{self.annotation_id}:{self.updated_at}"


@dataclass
class Webhook:
    """A webhook call.

    Attributes
    ----------
    action : str
    project_id : int or None
    annotations : list of Annotation
    deleted : list of int
        The ids of deleted annotations (``ANNOTATIONS_DELETED``).
    """

    action: str
    project_id: int | None = None
    annotations: list = field(default_factory=list)
    deleted: list = field(default_factory=list)


@dataclass
class PredictRequest:
    """A ``/predict`` call.

    Attributes
    ----------
    tasks : list of tuple
        ``(task_id, item_id, text, text_pair)`` per task, in order.
    project_id : int or None
    sessions : set of str
        The ``data.allsh_session`` values of the tasks.
    """

    tasks: list
    project_id: int | None = None
    sessions: set = field(default_factory=set)


def _kind(value):
    """``value``'s JSON kind, for messages: ``a list``, ``the string 'x'``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 3] + "..."
    what = "a string" if isinstance(value, str) else "a number"
    return f"{shown} ({what})"


def _integer(value):
    """``value`` as an int when it is one (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def parse_body(body):
    """The JSON object of a request body.

    Parameters
    ----------
    body : bytes

    Returns
    -------
    payload : dict

    Raises
    ------
    PayloadError
        The body is not UTF-8 JSON, or not an object (400).

    Examples
    --------
    >>> parse_body(b'{"action": "PROJECT_UPDATED"}')
    {'action': 'PROJECT_UPDATED'}
    >>> parse_body(b"[1]")
    Traceback (most recent call last):
    ...
    allsh_sklearn.labelstudio._payloads.PayloadError: The request body must be ...
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PayloadError(
            f"The request body must be UTF-8 JSON; byte {error.start} is not UTF-8."
        ) from None
    except (RecursionError, ValueError) as error:
        raise PayloadError(
            f"The request body must be a JSON object, as Label Studio sends; it is "
            f"not valid JSON ({error})."
        ) from None
    if not isinstance(payload, dict):
        raise PayloadError(
            "The request body must be a JSON object, as Label Studio sends; got "
            f"{_kind(payload)} instead."
        )
    return payload


def parse_time(text):
    """A Label Studio time (ISO 8601) as seconds since the epoch, or None.

    Parameters
    ----------
    text : str
        For instance ``"2025-12-07T13:20:05.123456Z"``; a time without a
        zone is taken as UTC (Label Studio writes UTC).

    Returns
    -------
    seconds : float or None
        None for an empty or unreadable time.

    Examples
    --------
    >>> parse_time("1970-01-01T00:01:00Z"), parse_time("")
    (60.0, None)
    """
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_source(source):
    """``(annotation id, updated_at)`` of an event this backend stored, or None.

    Parameters
    ----------
    source : str
        The ``source`` of a session event.

    Returns
    -------
    origin : tuple of (int, str) or None
        None for an event from elsewhere (the labeling page, the CLI, an
        import).

    Examples
    --------
    >>> parse_source("labelstudio:12:2025-12-07T13:20:05Z")
    (12, '2025-12-07T13:20:05Z')
    >>> parse_source("web") is None
    True
    """
    if not isinstance(source, str) or not source.startswith("labelstudio:"):
        return None
    parts = source.split(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def _project_id(value):
    """The project id of a body's ``project`` (an object, or ``"<id>.<time>"``)."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str):
        value = value.split(".", 1)[0]
    return _integer(value)


def _item_id(task, where):
    if not isinstance(task, dict):
        raise PayloadError(f"{where} must be an object (a task); got {_kind(task)}.")
    data = task.get("data")
    if not isinstance(data, dict):
        raise PayloadError(
            f"{where} must have a 'data' object (the task's fields); got "
            f"{_kind(data)} instead."
        )
    item_id = data.get(LS_ID)
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not item_id:
        raise PayloadError(
            f"{where} has no data.{LS_ID} (the session's id of its text); got "
            f"{_kind(item_id)}. Only tasks imported by 'allsh-label labelstudio "
            "--connect' (or exported with 'allsh-label next --format labelstudio') "
            "carry it; remove other tasks from the project.",
            status_code=422,
        )
    return item_id


def _session_of(task):
    value = task["data"].get(LS_SESSION)
    return value if isinstance(value, str) and value else None


def _choice(annotation, labels, where):
    """The label chosen in an annotation's ``result``, or None for no choice."""
    result = annotation.get("result")
    if result is None:
        return None
    if not isinstance(result, list):
        raise PayloadError(
            f"{where}: 'result' must be a list of regions; got {_kind(result)}."
        )
    regions = [r for r in result if isinstance(r, dict) and r.get("type") == "choices"]
    if len(regions) > 1:
        named = [r for r in regions if r.get("from_name") == LS_FROM_NAME]
        regions = named or regions
    if not regions:
        return None
    value = regions[-1].get("value")
    choices = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(choices, list) or len(choices) != 1:
        raise PayloadError(
            f"{where}: the choices region's value.choices must be a list of exactly "
            f'one label (choice="single"); got {_kind(choices)}.',
            status_code=422,
        )
    label = choices[0]
    if isinstance(label, str):
        label = unicodedata.normalize("NFC", label).strip()
    if label not in labels:
        raise PayloadError(
            f"{where}: the label {label!r} is not one of the session's labels "
            f"{list(labels)}. Use the labeling configuration of the session "
            "(allsh_sklearn.session.label_studio_config) in the project.",
            status_code=422,
        )
    return label


def _annotator(value):
    if isinstance(value, dict):
        value = value.get("id")
    number = _integer(value)
    return "labelstudio" if number is None else f"labelstudio:{number}"


def annotation_of(annotation, task, labels, *, where="the annotation"):
    """An :class:`Annotation` from Label Studio's annotation and task objects.

    Parameters
    ----------
    annotation : dict
        As Label Studio serialises it (``id``, ``result``, ``was_cancelled``,
        ``completed_by``, ``updated_at``, ``task``, ...).
    task : dict
        Its task (``id``, ``data``).
    labels : sequence of str
        The session's labels.
    where : str, default="the annotation"
        How messages name it.

    Returns
    -------
    annotation : Annotation or None
        None for an annotation that is neither a choice nor a skip (a
        submitted annotation with no label chosen).

    Raises
    ------
    PayloadError
        A field is missing or of the wrong kind (400), or the task has no
        ``data.allsh_id`` or the label is not the session's (422).
    """
    if not isinstance(annotation, dict):
        raise PayloadError(f"{where} must be an object; got {_kind(annotation)}.")
    number = _integer(annotation.get("id"))
    if number is None:
        raise PayloadError(
            f"{where} must have an integer 'id'; got {_kind(annotation.get('id'))}."
        )
    where = f"annotation {number}"
    task_id = _integer(task.get("id")) if isinstance(task, dict) else None
    if task_id is None:
        task_id = _integer(annotation.get("task"))
    if task_id is None:
        raise PayloadError(f"{where}: its task has no integer 'id'.")
    where = f"annotation {number} of task {task_id}"
    item_id = _item_id(task, f"task {task_id}")
    cancelled = annotation.get("was_cancelled", False)
    if cancelled is None:
        cancelled = False
    if not isinstance(cancelled, bool):
        raise PayloadError(
            f"{where}: 'was_cancelled' must be true or false; got {_kind(cancelled)}."
        )
    updated = annotation.get("updated_at") or annotation.get("created_at") or ""
    if not isinstance(updated, str):
        raise PayloadError(
            f"{where}: 'updated_at' must be an ISO 8601 time; got {_kind(updated)}."
        )
    annotator = _annotator(annotation.get("completed_by"))
    session = _session_of(task)
    if cancelled:
        return Annotation(
            number, task_id, item_id, "skip", None, annotator, updated, session
        )
    label = _choice(annotation, labels, where)
    if label is None:
        return None
    return Annotation(
        number, task_id, item_id, "label", label, annotator, updated, session
    )


def parse_webhook(payload, labels):
    """A webhook body as a :class:`Webhook`.

    Parameters
    ----------
    payload : dict
        From :func:`parse_body`.
    labels : sequence of str
        The session's labels.

    Returns
    -------
    webhook : Webhook
        Without annotations for the actions the backend ignores.

    Raises
    ------
    PayloadError
    """
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise PayloadError(
            "The webhook body must name its 'action' (such as ANNOTATION_CREATED); "
            f"got {_kind(action)} instead."
        )
    hook = Webhook(action=action, project_id=_project_id(payload.get("project")))
    if action in ANNOTATION_ACTIONS:
        annotations = payload.get("annotation")
        tasks = payload.get("task")
        if action == "ANNOTATIONS_CREATED":
            if not isinstance(annotations, list) or not isinstance(tasks, list):
                raise PayloadError(
                    f"A {action} webhook must carry lists 'annotation' and 'task'; "
                    f"got {_kind(annotations)} and {_kind(tasks)}."
                )
        else:
            if not isinstance(annotations, dict):
                raise PayloadError(
                    f"A {action} webhook must carry the 'annotation' object; got "
                    f"{_kind(annotations)} (send_payload must be on for the "
                    "backend's webhook)."
                )
            annotations, tasks = [annotations], [tasks]
        by_id = {}
        for task in tasks:
            if isinstance(task, dict) and _integer(task.get("id")) is not None:
                by_id[_integer(task["id"])] = task
        for position, annotation in enumerate(annotations):
            task = tasks[0] if len(tasks) == 1 and len(annotations) == 1 else None
            if isinstance(annotation, dict):
                task = by_id.get(_integer(annotation.get("task")), task)
            if task is None:
                raise PayloadError(
                    f"The {action} webhook has no task for its annotation "
                    f"{position + 1}: 'task' must hold the annotated task."
                )
            parsed = annotation_of(
                annotation, task, labels, where=f"annotation {position + 1}"
            )
            if parsed is not None:
                hook.annotations.append(parsed)
    elif action == DELETE_ACTION:
        deleted = payload.get("annotations")
        if not isinstance(deleted, list):
            raise PayloadError(
                f"An {action} webhook must carry the list 'annotations' of "
                f"{{'id': ...}} objects; got {_kind(deleted)}."
            )
        for entry in deleted:
            number = _integer(entry.get("id")) if isinstance(entry, dict) else None
            if number is None:
                raise PayloadError(
                    f"An {action} webhook names each annotation as {{'id': <int>}}; "
                    f"got {_kind(entry)}."
                )
            hook.deleted.append(number)
    return hook


def parse_predict(payload):
    """A ``/predict`` body as a :class:`PredictRequest`.

    Parameters
    ----------
    payload : dict

    Returns
    -------
    request : PredictRequest

    Raises
    ------
    PayloadError
    """
    tasks = payload.get("tasks")
    if not isinstance(tasks, list):
        raise PayloadError(
            "The /predict body must carry 'tasks', a list of Label Studio tasks; "
            f"got {_kind(tasks)} instead."
        )
    out, sessions = [], set()
    for position, task in enumerate(tasks, start=1):
        where = f"task {position} of {len(tasks)}"
        item_id = _item_id(task, where)
        task_id = _integer(task.get("id"))
        text = task["data"].get("text")
        if not isinstance(text, str):
            raise PayloadError(
                f"{where} (data.{LS_ID} {item_id!r}) must have its text in data.text; "
                f"got {_kind(text)}.",
                status_code=422,
            )
        pair = task["data"].get("text_pair")
        if pair is not None and not isinstance(pair, str):
            raise PayloadError(
                f"{where}: data.text_pair must be a string; got {_kind(pair)}.",
                status_code=422,
            )
        out.append((task_id, item_id, text, pair))
        session = _session_of(task)
        if session is not None:
            sessions.add(session)
    return PredictRequest(out, _project_id(payload.get("project")), sessions)


def parse_setup(payload):
    """The project id of a ``/setup`` body (None when it names none).

    Parameters
    ----------
    payload : dict

    Returns
    -------
    project_id : int or None
    """
    project = payload.get("project")
    if project is not None and _project_id(project) is None:
        raise PayloadError(
            "The /setup body's 'project' must be '<project id>.<timestamp>'; got "
            f"{_kind(project)}."
        )
    return _project_id(project)
