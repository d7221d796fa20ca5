"""A labeling session as a Label Studio ML backend: predictions, webhooks, sync.

:class:`LabelStudioBackend` answers what Label Studio asks an ML backend and
keeps Label Studio and the session in step:

- **Predictions** (``/predict``, and the pushes after each retraining): the
  guess of the session's latest model and a ``score`` that makes a project
  with uncertainty sampling (lowest score first) serve texts in the order of
  the session's open batch (:func:`batch_score`): the text at batch position
  ``p`` of ``n`` scores ``(p - 1) / (2 n)``, below 0.5 (the audit texts sit at
  their random positions, so annotators cannot tell them apart); every
  other text scores ``(1 + confidence) / 2``, from 0.5 up (after the batch,
  least confident first). Label Studio refuses scores outside [0, 1]. The
  ``model_version`` is ``"allsh-label round R batch B"``: the session's round
  and its batch, new whenever the order changes.
- **Webhooks**: a created annotation becomes a label, a cancelled one a skip,
  an updated one a re-label, a deleted one an unlabel; a webhook sent twice
  (or replayed after a newer change) changes nothing, because every event
  stores the annotation and its ``updated_at`` in its ``source``
  (``labelstudio:<annotation id>:<updated_at>``).
- **Sync** (when connected to Label Studio's API, see
  :func:`~allsh_sklearn.labelstudio.connect`): the labels Label Studio holds
  are pulled back (a webhook is sent once, with a 1 s timeout and no retry,
  so one lost while the backend was down is found here); after each
  retraining the new batch's texts are imported and fresh predictions pushed
  for every task of the project.

Webhooks are answered at once; retraining (every ``retrain_every`` labels,
or when the open batch is done) and sync run in one background thread
(:class:`Worker`) on a session object of its own.
"""

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

from ..session._formats import (
    LS_FROM_NAME,
    LS_ID,
    LS_PAIR,
    LS_SESSION,
    LS_TEXT,
    LS_VERSION_PREFIX,
    label_studio_model_version,
    label_studio_score,
)
from ._client import LabelStudioError
from ._payloads import (
    TRAIN_ACTION,
    PayloadError,
    PredictRequest,
    annotation_of,
    parse_source,
    parse_time,
)

__all__ = ["LabelStudioBackend", "Link", "Worker", "batch_score", "model_version"]

logger = logging.getLogger("allsh_sklearn.labelstudio")

#: The prefix of every model version this backend writes (the session's).
VERSION_PREFIX = LS_VERSION_PREFIX


@dataclass
class Link:
    """The Label Studio project a backend keeps in step with.

    Attributes
    ----------
    client : LabelStudioClient
    project_id : int
    """

    client: object
    project_id: int


def model_version(batch, rounds=0):
    """The model version of the open batch's order.

    Parameters
    ----------
    batch : Batch or None
        The session's open batch.
    rounds : int, default=0
        The number of rounds (used when there is no open batch).

    Returns
    -------
    version : str
        :func:`~allsh_sklearn.session.label_studio_model_version` of the
        batch, as the session's Label Studio exports write it.

    Examples
    --------
    >>> model_version(None, 3)
    'allsh-label round 3'
    """
    if batch is None:
        return f"{VERSION_PREFIX}{rounds}"
    return label_studio_model_version(batch.round, batch.batch)


def batch_score(position, size, confidence=None):
    """The prediction score that puts a text at its place in Label Studio's queue.

    Parameters
    ----------
    position : int or None
        The text's 1-based position in the open batch (None: not in it, or
        done already).
    size : int
        The open batch's size.
    confidence : float or None, default=None
        The model's probability of its guess (None: no model yet).

    Returns
    -------
    score : float
        In [0, 0.5) for the batch's texts, in order
        (:func:`~allsh_sklearn.session.label_studio_score`, as the session's
        Label Studio exports write it); in [0.5, 1] for the others, least
        confident first.

    Examples
    --------
    >>> [batch_score(p, 4) for p in (1, 2, 3, 4)]
    [0.0, 0.125, 0.25, 0.375]
    >>> batch_score(None, 4, confidence=0.6), batch_score(None, 4)
    (0.8, 0.75)
    """
    if position is not None:
        return label_studio_score(position, size)
    return (1.0 + (0.5 if confidence is None else confidence)) / 2


def _standing(item):
    """The label or skip event that stands for an item, or None."""
    for event in reversed(item.history):
        if event.kind in ("label", "skip") and not event.undone:
            return event
    return None


def _check_every(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            "The 'retrain_every' parameter must be an integer >= 1 (labels between "
            f"two retrainings) or None (the session's own). Got {value!r} instead."
        )
    return value


class LabelStudioBackend:
    """A labeling session served to Label Studio as an ML backend.

    Parameters
    ----------
    project : path-like or LabelingSession
        A project folder made by ``allsh-label init`` (opened here), or an
        open session.
    retrain_every : int or None, default=None
        Retrain after this many training labels (None: the session's
        ``retrain_every``, by default its batch size). The model is also
        retrained when the open batch is done.
    busy_timeout : float, default=5.0
        Seconds a write waits for the session's database.

    Attributes
    ----------
    session : LabelingSession
    labels : list of str
    link : Link or None
        Set by :func:`~allsh_sklearn.labelstudio.connect`: the project whose
        labels are pulled back and to which predictions are pushed.
    worker : Worker
        The background thread (started by the server).
    counts : collections.Counter
        What the webhooks and syncs did (``"label"``, ``"skip"``,
        ``"unlabel"``, ``"unchanged"``, ``"stale"``, ``"pulled"``, ...).
    """

    def __init__(self, project, *, retrain_every=None, busy_timeout=5.0):
        from ..session import LabelingSession

        self.retrain_every = _check_every(retrain_every)
        if isinstance(project, LabelingSession):
            self.session = project
        else:
            self.session = LabelingSession.open(
                project, progress=False, timeout=busy_timeout
            )
        self.path = self.session.path
        self.labels = list(self.session.labels)
        self.link = None
        self.counts = Counter()
        self._write_lock = threading.RLock()
        self._model_lock = threading.Lock()
        self._guesses = (None, {})  # (model version, {item_id: (label, confidence)})
        self._annotations = {}  # Label Studio annotation id -> item id
        self._tasks = None  # {item_id: task dict} of the linked project
        self.worker = Worker(self)

    # Predictions ---------------------------------------------------------------

    def order(self):
        """The open batch's order: ``(version, {item_id: position}, size)``.

        Only the texts still to label get a position (1-based, the batch's
        own); the batch's size counts them all.
        """
        batch = self.session.current_batch()
        if batch is None:
            return model_version(None, len(self.session.rounds())), {}, 0
        positions = {
            item.item_id: item.position
            for item in batch.items
            if item.label is None and not item.skipped
        }
        return model_version(batch), positions, len(batch.items)

    def _guess(self, version, tasks):
        """``{item_id: (label, confidence)}`` of the latest model for ``tasks``.

        Cached per model version; an empty dict before the first model.
        """
        with self._model_lock:
            cached_version, cache = self._guesses
            if cached_version != version:
                cache = {}
                self._guesses = (version, cache)
            missing = [task for task in tasks if task[1] not in cache]
            if missing and self.session.rounds():
                X = [
                    text if pair is None else (text, pair)
                    for _, _, text, pair in missing
                ]
                guesses, proba = self.session.predict(X)
                for (_, item_id, _, _), label, row in zip(
                    missing, guesses, proba, strict=True
                ):
                    cache[item_id] = (label, float(row.max()))
            return cache

    def predict(self, request):
        """Predictions for Label Studio's tasks, in their order.

        Parameters
        ----------
        request : PredictRequest

        Returns
        -------
        answer : dict
            ``{"results": [{"result": [...], "score": float, "model_version":
            str}, ...], "model_version": str}``, one result per task.
        """
        self.check_sessions(request.sessions)
        version, positions, size = self.order()
        guesses = self._guess(version, request.tasks)
        results = []
        for _, item_id, _, _ in request.tasks:
            guess, confidence = guesses.get(item_id, (None, None))
            score = batch_score(positions.get(item_id), size, confidence)
            region = []
            if guess is not None:
                region = [
                    {
                        "from_name": LS_FROM_NAME,
                        "to_name": LS_TEXT,
                        "type": "choices",
                        "value": {"choices": [guess]},
                    }
                ]
            results.append({"result": region, "score": score, "model_version": version})
        return {"results": results, "model_version": version}

    # Webhooks ------------------------------------------------------------------

    def check_project(self, project_id):
        """Refuse a call for another Label Studio project than the linked one."""
        if (
            project_id is not None
            and self.link is not None
            and project_id != self.link.project_id
        ):
            raise PayloadError(
                f"This backend serves Label Studio project {self.link.project_id}; "
                f"the request is for project {project_id}. Register the backend of "
                "that project's own session there.",
                status_code=409,
            )

    def check_sessions(self, sessions):
        """Refuse tasks made for another session (their ``data.allsh_session``)."""
        others = {s for s in sessions if s and s != self.session.session_id}
        if others:
            raise PayloadError(
                f"The tasks were made for another labeling session "
                f"({', '.join(sorted(o[:8] for o in others))}), not this one "
                f"({self.session.session_id[:8]}, {self.path}): connect that "
                "project to its own session.",
                status_code=422,
            )

    def webhook(self, hook):
        """Apply a webhook to the session; a summary of what changed.

        Parameters
        ----------
        hook : Webhook

        Returns
        -------
        summary : dict
            ``status`` and the counts of what each annotation did
            (``label``, ``skip``, ``relabel``, ``unlabel``, ``unchanged``,
            ``stale``, ``queued``).

        Raises
        ------
        PayloadError
            A task that is not a text of this session (422), or a call for
            another project (409).
        """
        self.check_project(hook.project_id)
        self.check_sessions({a.session_id for a in hook.annotations})
        done = Counter()
        with self._write_lock:
            for annotation in hook.annotations:
                done[self._apply(annotation)] += 1
            for number in hook.deleted:
                done[self._delete(number)] += 1
        self.counts.update(done)
        if hook.action == TRAIN_ACTION:
            self.worker.poke(retrain=True)
        elif done.keys() & {"label", "skip", "relabel", "unlabel", "queued"}:
            self.worker.poke()
        return {"status": "ok", "action": hook.action, **done}

    def _item(self, annotation):
        try:
            return self.session.item(annotation.item_id)
        except KeyError:
            raise PayloadError(
                f"Task {annotation.task_id} names the text {annotation.item_id!r} "
                f"(data.{LS_ID}), which is not in this session "
                f"({self.session.session_id[:8]}, {self.path}): the project holds "
                "tasks of another session.",
                status_code=422,
            ) from None

    def _apply(self, annotation):
        """Store one annotation unless it is already stored or superseded."""
        item = self._item(annotation)
        standing = _standing(item)
        self._annotations[annotation.annotation_id] = annotation.item_id
        if standing is not None:
            origin = parse_source(standing.source)
            if (
                origin is not None
                and origin[0] == annotation.annotation_id
                and standing.kind == annotation.kind
                and standing.label == annotation.label
            ):
                return "unchanged"
            since = standing.created_at if origin is None else parse_time(origin[1])
            when = parse_time(annotation.updated_at)
            if when is not None and since is not None and when < since:
                return "stale"  # a replay of something a later change replaced
        relabel = standing is not None
        if annotation.kind == "label":
            self.session.label(
                annotation.item_id,
                annotation.label,
                annotator=annotation.annotator,
                source=annotation.source,
            )
        else:
            self.session.skip(
                annotation.item_id,
                annotator=annotation.annotator,
                source=annotation.source,
            )
        return "relabel" if relabel else annotation.kind

    def _delete(self, number):
        item_id = self._annotations.get(number)
        if item_id is None:
            # Not seen by this process (a restart): the sync finds its task.
            self.worker.poke(sync=True)
            return "queued"
        return self._retract(item_id, {number})

    def _retract(self, item_id, gone):
        """Unlabel an item while its standing event is from a ``gone`` annotation."""
        outcome = "unchanged"
        for _ in range(100):
            standing = _standing(self.session.item(item_id))
            origin = None if standing is None else parse_source(standing.source)
            if origin is None or origin[0] not in gone:
                break
            self.session.unlabel(
                item_id,
                annotator=standing.annotator,
                source=f"labelstudio:{origin[0]}:deleted",
            )
            outcome = "unlabel"
        return outcome

    # Sync with the linked project -------------------------------------------------

    def _require_link(self):
        if self.link is None:
            raise RuntimeError(
                "The backend is not connected to a Label Studio project: call "
                "allsh_sklearn.labelstudio.connect first."
            )
        return self.link

    def pull(self):
        """Bring the labels the linked project holds into the session.

        Every task's latest annotation (by ``updated_at``) stands; labels of
        annotations deleted in Label Studio are taken back. Idempotent.

        Returns
        -------
        pulled : collections.Counter
            What it did (``label``, ``skip``, ``unlabel``, ``unchanged``, ...).
        """
        link = self._require_link()
        tasks = {}
        for task in link.client.tasks(link.project_id):
            data = task.get("data") if isinstance(task, dict) else None
            item_id = data.get(LS_ID) if isinstance(data, dict) else None
            if not isinstance(item_id, str | int) or isinstance(item_id, bool):
                continue
            other = data.get(LS_SESSION)
            if other and other != self.session.session_id:
                logger.warning(
                    "Label Studio task %s was made for another session (%s); left "
                    "alone.",
                    task.get("id"),
                    str(other)[:8],
                )
                continue
            tasks[str(item_id)] = task
        self._tasks = tasks
        done = Counter()
        with self._write_lock:
            for item_id, task in tasks.items():
                annotations = []
                for entry in task.get("annotations") or []:
                    try:
                        parsed = annotation_of(entry, task, self.labels)
                    except PayloadError as error:
                        logger.warning(
                            "Label Studio task %s: %s", task.get("id"), error
                        )
                        continue
                    if parsed is not None:
                        annotations.append(parsed)
                present = {a.annotation_id for a in annotations}
                for a in annotations:
                    self._annotations[a.annotation_id] = a.item_id
                try:
                    item = self.session.item(item_id)
                except KeyError:
                    logger.warning(
                        "Label Studio task %s names %r, not a text of this session.",
                        task.get("id"),
                        item_id,
                    )
                    continue
                standing = _standing(item)
                origin = None if standing is None else parse_source(standing.source)
                if origin is not None and origin[0] not in present:
                    gone = {
                        number
                        for number, _ in filter(
                            None, (parse_source(e.source) for e in item.history)
                        )
                        if number not in present
                    }
                    done[self._retract(item_id, gone)] += 1
                if annotations:
                    latest = max(
                        annotations,
                        key=lambda a: (
                            parse_time(a.updated_at) or 0.0,
                            a.annotation_id,
                        ),
                    )
                    done[self._apply(latest)] += 1
        self.counts.update({f"pulled {key}": n for key, n in done.items()})
        return done

    def publish(self):
        """Import the open batch's new texts and push fresh predictions.

        Predictions are pushed for every task of the linked project when its
        model version is not the current one (or some tasks lack them); the
        project's ``model_version`` is then switched, and the predictions of
        this backend's older versions deleted.

        Returns
        -------
        report : dict
            ``imported`` (tasks), ``predicted`` (predictions pushed),
            ``model_version``.
        """
        link = self._require_link()
        client, project_id = link.client, link.project_id
        if self._tasks is None:
            self.pull()
        batch = self.session.current_batch()
        new = (
            []
            if batch is None
            else [item for item in batch.items if item.item_id not in self._tasks]
        )
        if new:
            client.import_tasks(project_id, [self.task_of(item) for item in new])
            self.pull()
        version, _, _ = self.order()
        versions = client.model_versions(project_id)
        project = client.project(project_id)
        n_tasks = len(self._tasks)
        report = {"imported": len(new), "predicted": 0, "model_version": version}
        if project.get("model_version") == version and versions.get(version) == n_tasks:
            return report
        if versions.get(version):  # pushed in part before (a crash): push again
            client.delete_model_version(project_id, version)
        tasks = [
            (
                task.get("id"),
                item_id,
                str(task["data"].get(LS_TEXT, "")),
                task["data"].get(LS_PAIR),
            )
            for item_id, task in self._tasks.items()
        ]
        answer = self.predict(PredictRequest(tasks, project_id))
        predictions = [
            {"task": task_id, **result}
            for (task_id, _, _, _), result in zip(tasks, answer["results"], strict=True)
        ]
        report["predicted"] = client.import_predictions(project_id, predictions)
        client.update_project(project_id, model_version=version)
        for old in versions:
            if old != version and old.startswith(VERSION_PREFIX):
                client.delete_model_version(project_id, old)
        return report

    def task_of(self, item):
        """The Label Studio task of a session item (``data`` only)."""
        data = {LS_TEXT: item.text}
        if item.text_pair is not None:
            data[LS_PAIR] = item.text_pair
        data[LS_ID] = item.item_id
        data[LS_SESSION] = self.session.session_id
        return {"data": data}

    # Status ----------------------------------------------------------------------

    def health(self):
        """What ``/health`` answers."""
        return {
            "status": "UP",
            "model_class": "LabelStudioBackend",
            "session": self.session.session_id[:8],
        }


def _trainable(session):
    """Whether two classes have training labels (else retraining draws at random)."""
    counts = session.status().class_counts
    return sum(1 for n in counts.values() if n) >= 2


class Worker(threading.Thread):
    """The backend's background thread: retraining and sync, one at a time.

    It wakes when poked (after a webhook that changed a label) and every
    ``sync_every`` seconds; each time it pulls the linked project's labels,
    retrains when ``retrain_every`` labels came in or the open batch is done
    (on a session object of its own), and pushes the new order.

    Parameters
    ----------
    backend : LabelStudioBackend
    sync_every : float, default=60.0
        Seconds between two syncs with Label Studio when nothing happens.

    Attributes
    ----------
    cycles : int
        Completed cycles.
    retrains : int
    last_error : str or None
        The last cycle's error (the thread keeps running).
    """

    def __init__(self, backend, sync_every=60.0):
        super().__init__(name="allsh-labelstudio-worker", daemon=True)
        self.backend = backend
        self.sync_every = float(sync_every)
        self.cycles = 0
        self.retrains = 0
        self.last_error = None
        self._wake = threading.Condition()
        self._pending = {"sync": True, "retrain": False, "any": True}
        self._stopping = False
        self._idle = threading.Event()
        self._trainer = None

    def poke(self, *, sync=False, retrain=False):
        """Ask for a cycle soon (``sync``: pull first; ``retrain``: even if not due)."""
        with self._wake:
            self._pending["any"] = True
            self._pending["sync"] |= sync
            self._pending["retrain"] |= retrain
            self._idle.clear()
            self._wake.notify()

    def stop(self, timeout=30.0):
        """Stop after the running cycle."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self.is_alive():
            self.join(timeout)

    def wait_idle(self, timeout=None):
        """Wait until no cycle runs or is asked for; whether it became idle."""
        return self._idle.wait(timeout)

    def run(self):
        while True:
            with self._wake:
                if not self._pending["any"] and not self._stopping:
                    self._idle.set()
                    self._wake.wait(self.sync_every)
                    if not self._pending["any"]:
                        self._pending.update(any=True, sync=True)
                if self._stopping:
                    self._idle.set()
                    return
                asked = dict(self._pending)
                self._pending.update(any=False, sync=False, retrain=False)
            try:
                self.cycle(sync=asked["sync"], retrain=asked["retrain"])
                self.last_error = None
            except Exception as error:  # keep serving; say what went wrong
                self.last_error = f"{type(error).__name__}: {error}"
                logger.error("Background cycle failed: %s", self.last_error)
            self.cycles += 1

    def _session(self):
        from ..session import LabelingSession

        if self._trainer is None:
            self._trainer = LabelingSession.open(self.backend.path, progress=False)
        return self._trainer

    def cycle(self, *, sync=True, retrain=False):
        """Pull, retrain if due, push: what the thread does each time.

        Returns
        -------
        retrained : bool
        """
        from ..session import NotReadyError

        backend = self.backend
        if backend.link is not None and sync:
            try:
                backend.pull()
            except LabelStudioError as error:
                logger.warning("Could not pull labels from Label Studio: %s", error)
        trainer = self._session()
        batch = trainer.current_batch()
        every = backend.retrain_every or trainer.config.get("retrain_every")
        before = None if batch is None else batch.batch
        after = before
        started = time.monotonic()
        try:
            if batch is None or batch.n_pending == 0:
                after = trainer.next_batch().batch
            elif retrain or (
                every and trainer.retrain_due(every) and _trainable(trainer)
            ):
                trainer.retrain()
                current = trainer.current_batch()  # None: the pool is used up
                after = None if current is None else current.batch
        except NotReadyError as error:
            logger.info("%s", error)
        retrained = after != before
        if retrained:
            self.retrains += 1
            logger.info(
                "Batch %s queried in %.1f s.", after, time.monotonic() - started
            )
        if backend.link is not None:
            try:
                backend.publish()
            except LabelStudioError as error:
                logger.warning("Could not push predictions to Label Studio: %s", error)
                raise
        return retrained
