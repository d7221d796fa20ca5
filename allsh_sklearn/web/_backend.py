"""What the labeling page needs from a labeling session, and nothing more.

Every label, skip and undo goes through :class:`~allsh_sklearn.session.LabelingSession`
(the same code as the ``allsh-label`` CLI): committed before the page shows
the next text. This module only turns the session's items, status and
rounds into what the templates show.

Its methods are called from several threads at once (the page's worker
threads; each has its own database connection). Labels, skips and undos of
this process go one at a time, so that a label sent twice (a double click, a
form sent again) is recognised and stored once. The open batch's progress
(how many of its texts are done) is read in full once per batch and then
kept up to date from this process's own labels, so a label costs the same
in a batch of 50 texts as in one of 5,000.
"""

import contextlib
import threading
import time
from pathlib import Path

from ..presets import PRESETS, preset_display_name
from ..session import SessionBusyError
from ..session._why import MEASURE_NAMES, percent, why_sentence
from ._diff import changed_tokens

__all__ = ["Backend", "LabelingError", "strategy_display_name"]

#: Seconds after which the open batch's progress is read again in full, to
#: count the labels given by other processes (``allsh-label annotate``, an
#: import) meanwhile.
RESYNC_SECONDS = 30.0

#: How the page names a strategy object given by the user (the session's
#: ``strategy="python"``).
PYTHON_STRATEGY_NAME = "The session's strategy"


def strategy_display_name(strategy):
    """How the page names a session's strategy.

    Parameters
    ----------
    strategy : str
        The session's strategy: a name of :data:`allsh_sklearn.presets.PRESETS`
        or ``"python"`` (a strategy object given by the user).

    Returns
    -------
    name : str
        The preset's display name
        (:func:`allsh_sklearn.presets.preset_display_name`),
        :data:`PYTHON_STRATEGY_NAME`, or ``strategy`` itself for any other
        name.
    """
    if strategy == "python":
        return PYTHON_STRATEGY_NAME
    if strategy in PRESETS:
        return preset_display_name(strategy)
    return strategy


#: The names of the divergences in the explanations.
DIVERGENCE_NAMES = MEASURE_NAMES


class LabelingError(ValueError):
    """A request the session refused; ``status_code`` is the HTTP answer."""

    def __init__(self, message, status_code=400):
        super().__init__(message)
        self.status_code = status_code


class _BatchProgress:
    """The open batch's item states, as this process last saw them."""

    def __init__(self, batch):
        self.batch = batch.batch
        self.total = len(batch.items)
        self.states = {item.item_id: _state(item) for item in batch.items}
        self.labeled = sum(state == "label" for state in self.states.values())
        self.skipped = sum(state == "skip" for state in self.states.values())
        self.read_at = time.monotonic()

    def set(self, item_id, state):
        """Record the new state (``"label"``, ``"skip"`` or None) of an item."""
        if item_id not in self.states:
            return  # a text of an earlier batch
        old = self.states[item_id]
        self.labeled += (state == "label") - (old == "label")
        self.skipped += (state == "skip") - (old == "skip")
        self.states[item_id] = state


class Backend:
    """The page's view of one labeling session.

    Called from several threads at once (see the module's docstring);
    :meth:`retrain_and_query` runs in the retraining thread on a session
    object of its own.

    Parameters
    ----------
    project : path-like or LabelingSession
        A project folder (opened here with ``busy_timeout``), or an open
        session (used as it is, with its own timeout).
    busy_timeout : float, default=5.0
        Seconds a request waits for the session's write lock (held by
        another process, or by this page's other labels) before it is
        answered "busy" (:class:`~allsh_sklearn.session.SessionBusyError`).

    Attributes
    ----------
    batch_reads : int
        How many times the open batch was read in full (once per batch, and
        again every :data:`RESYNC_SECONDS`).
    """

    def __init__(self, project, *, busy_timeout=5.0):
        from ..session import LabelingSession

        if isinstance(busy_timeout, bool) or not (
            isinstance(busy_timeout, int | float) and busy_timeout > 0
        ):
            raise ValueError(
                "The 'busy_timeout' parameter must be a positive number of "
                f"seconds. Got {busy_timeout!r} instead."
            )
        if isinstance(project, LabelingSession):
            self.session = project
        else:
            self.session = LabelingSession.open(
                project, progress=False, timeout=busy_timeout
            )
        self.busy_timeout = float(busy_timeout)
        self.path = Path(self.session.path)
        self.labels = list(self.session.labels)
        self.project_name = self.path.resolve().name
        self.strategy = self.session.config.get("strategy", "python")
        self._strategy_name = self.session.strategy_name
        self._trainer = None
        self._write_lock = threading.Lock()
        self._progress_lock = threading.Lock()
        self._plot_lock = threading.Lock()
        self._open_batch = None
        self.batch_reads = 0

    @contextlib.contextmanager
    def _writing(self):
        """This process's labels, skips and undos, one at a time."""
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise SessionBusyError(
                f"The session {self.path} is busy: other labels have been waiting "
                f"for its database for more than {self.busy_timeout:g} s. Try "
                "again in a few seconds."
            )
        try:
            yield
        finally:
            self._write_lock.release()

    # The labeling page ----------------------------------------------------------

    def view(self, *, annotator, shown=None):
        """The item to show this annotator (their claimed one, else the next).

        Parameters
        ----------
        annotator : str or None
        shown : Item or None
            Show this item instead of the next one (after an undo).

        Returns
        -------
        view : dict
            ``item`` (a dict for the template, or None), ``progress``,
            ``can_undo``.
        """
        if not annotator:
            return {"item": None, "progress": _no_progress(), "can_undo": False}
        item = shown if shown is not None else self.session.next_item(annotator)
        progress = self._progress(item, queried=shown is None)
        return {
            "item": None if item is None else self._item(item),
            "progress": progress,
            "can_undo": True,
        }

    def act(self, action, *, annotator, item_id=None, label=None):
        """Label, skip or undo, then the view of what comes next.

        A label (or skip) that repeats what this annotator last gave the text
        and still stands (the same form sent twice) stores nothing: a later
        undo then leaves the text as it was before the first one.

        Returns
        -------
        outcome : str or None
            A line to show above the next item (after an undo).
        view : dict
        """
        if action == "undo":
            with self._writing():
                undone = self.session.undo(annotator=annotator, source="web")
                item = None if undone is None else self.session.item(undone.item_id)
                if item is not None:
                    self._set_state(item.item_id, _state(item))
            if undone is None:
                return (
                    "Nothing to undo: you have no label or skip left to take back.",
                    self.view(annotator=annotator),
                )
            what = f"label {undone.label!r}" if undone.kind == "label" else "skip"
            return f"Undid your {what} of this text.", self.view(
                annotator=annotator, shown=item
            )
        if not item_id:
            raise LabelingError("The request names no text (item_id is missing).")
        if action == "label" and label not in self.labels:
            raise LabelingError(
                f"Unknown label {label!r}: the session's labels are {self.labels}."
            )
        if action not in ("label", "skip"):  # pragma: no cover - routes pass these
            raise LabelingError(f"Unknown action {action!r}.")
        try:
            with self._writing():
                current = self.session.item(item_id)
                if not _repeats(current, action, label, annotator):
                    if action == "label":
                        self.session.label(
                            item_id, label, annotator=annotator, source="web"
                        )
                    else:
                        self.session.skip(item_id, annotator=annotator, source="web")
                self._set_state(current.item_id, action)
        except KeyError as error:
            raise LabelingError(str(error.args[0]), status_code=404) from None
        return None, self.view(annotator=annotator)

    # The open batch's progress ---------------------------------------------------

    def _set_state(self, item_id, state):
        """Record an item's new state (``"label"``, ``"skip"`` or None)."""
        with self._progress_lock:
            if self._open_batch is not None:
                self._open_batch.set(item_id, state)

    def _progress(self, item, *, queried):
        """The progress line of the open batch, read in full only when needed.

        ``queried``: ``item`` comes from ``next_item`` (so its batch is the
        open one), not from an undo.
        """
        with self._progress_lock:
            known = self._open_batch
            fresh = (
                known is not None
                and item is not None
                and time.monotonic() - known.read_at < RESYNC_SECONDS
                and (known.batch == item.batch or not queried)
            )
            if not fresh:
                # A new batch (after a retraining), the end of one (no item:
                # is it done, or held by other browsers?), or time to count
                # the labels other processes gave.
                batch = self.session.current_batch()
                self.batch_reads += 1
                known = self._open_batch = (
                    None if batch is None else _BatchProgress(batch)
                )
            if known is None:
                return _no_progress()
            done = known.labeled + known.skipped
            position = 0
            if item is not None and item.batch == known.batch and item.position:
                position = item.position
            return {
                "batch": known.batch,
                "total": known.total,
                "done": done,
                "labeled": known.labeled,
                "skipped": known.skipped,
                "position": position,
                "held": known.total - done if item is None else 0,
            }

    def _item(self, item):
        return {
            "id": item.item_id,
            "text": item.text,
            "text_pair": item.text_pair,
            "label": item.label,
            "skipped": item.skipped,
            "guess": item.guess,
            "guess_proba": None
            if item.proba is None or item.guess is None
            else item.proba.get(item.guess),
            "why": self._why(item),
        }

    def _why(self, item):
        """Why the item was picked: a plain sentence first, then the numbers.

        ``kind`` is ``"allsh"`` (with the augmented copy, its changed words
        and the probabilities on both), ``"strategy"`` (another strategy's
        score), or ``"initial"``, ``"audit"``, ``"random"`` (drawn at
        random); ``sentence`` says it in words (see
        :func:`allsh_sklearn.session._why.why_sentence`).
        """
        if item.batch is None:
            return None
        strategy = strategy_display_name(self.strategy)
        explanation = item.explanation
        proba = (
            None
            if item.proba is None
            else {name: item.proba.get(name, 0.0) for name in self.labels}
        )
        if explanation is not None and explanation.get("kind") == "allsh":
            copies = explanation["copies"]
            copy = copies[explanation["driver"]]
            text = copy["text"]
            if isinstance(text, list | tuple):
                copy_text, copy_pair = text[0], text[1]
            else:
                copy_text, copy_pair = text, None
            measure = explanation.get("divergence", "")
            copy_proba = dict(zip(self.labels, copy["proba"], strict=False))
            return {
                "kind": "allsh",
                "sentence": why_sentence("allsh", proba, copy_proba=copy_proba),
                "strategy": strategy,
                "score": item.score if item.score is not None else copy["divergence"],
                "copy_divergence": copy["divergence"],
                "divergence_name": DIVERGENCE_NAMES.get(measure, measure),
                "n_copies": len(copies),
                "worst_case": explanation.get("aggregate") == "max",
                "copy_tokens": changed_tokens(item.text, copy_text),
                "copy_pair_tokens": None
                if copy_pair is None or item.text_pair is None
                else changed_tokens(item.text_pair, copy_pair),
                "proba": None if proba is None else list(proba.values()),
                "copy_proba": list(copy["proba"]),
            }
        if item.purpose == "audit":
            kind = "audit"
        elif item.guess is None:
            kind = "initial"
        elif self.strategy == "random":
            kind = "random"
        else:
            kind = "strategy"
        return {
            "kind": kind,
            "sentence": why_sentence(kind, proba, strategy=self._strategy_name),
            "strategy": strategy,
            "score": item.score if kind == "strategy" else None,
            "copy_tokens": None,
        }

    # The status page ------------------------------------------------------------

    def status(self):
        """Labels, class counts, the audit estimate and the stopping rules.

        Returns
        -------
        status : dict
        """
        status = self.session.status()
        rounds = status.rounds
        audited = [r for r in rounds if r.n_audit > 0]
        audit = None
        if audited:
            last = audited[-1]
            audit = {
                "accuracy": last.audit_accuracy,
                "low": last.audit_low,
                "high": last.audit_high,
                "n": last.n_audit,
                "confidence": 0.95,
                "round": last.round,
            }
        if self.session.config.get("audit_fraction", 0) <= 0:
            audit_note = (
                "this session has no audit sample (create it with an audit "
                "fraction, for example --audit-fraction 0.1)."
            )
        else:
            audit_note = "no model has been trained on labels yet."
        checks = rounds[-1].checks if rounds else []
        batch = status.batch or {}
        return {
            "n_labeled": status.n_labeled,
            "n_audit_labeled": status.n_audit_labeled,
            "n_skipped": status.n_skipped,
            "n_pool": status.n_items,
            "class_counts": list(status.class_counts.items()),
            "annotators": sorted(status.annotators.items()),
            "batch": batch.get("batch"),
            "batch_size": batch.get("size"),
            "batch_done": batch.get("done"),
            "audit": audit,
            "audit_note": audit_note,
            "n_rounds": len(rounds),
            "rounds": [
                {
                    "round": r.round,
                    "n_labeled": r.n_labeled,
                    "n_audit": r.n_audit,
                    "accuracy": r.audit_accuracy,
                    "low": r.audit_low,
                    "high": r.audit_high,
                    "train_seconds": r.train_seconds,
                    "query_seconds": r.query_seconds,
                }
                for r in rounds
            ],
            "has_curve": bool(rounds),
            "stopping": [
                {
                    "name": check["rule"],
                    "value": check["value"],
                    "stop": check["stop"],
                    "message": check["message"],
                }
                for check in checks
            ],
            "should_stop": status.should_stop,
            "per_class": _per_class(status.class_estimates),
            "labels_since_round": status.labels_since_round,
            "default_batch_size": self.session.config.get("batch_size", 50),
        }

    def learning_curve_png(self):
        """The learning curve as PNG bytes (None before the first round)."""
        import io

        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        if not self.session.rounds():
            return None
        buffer = io.BytesIO()
        with self._plot_lock:  # pyplot's state is not thread-safe
            figure = self.session.plot_learning_curve()
            try:
                figure.savefig(buffer, format="png", dpi=100)
            finally:
                plt.close(figure)
        return buffer.getvalue()

    # Retraining (in its own thread) ----------------------------------------------

    def retrain_and_query(self, batch_size=None, progress=None):
        """Retrain on every label and query the next batch; one line of summary.

        Runs in the retraining thread, on a session object of its own (the
        page keeps labeling meanwhile; the session's transactions keep both
        consistent).

        Parameters
        ----------
        batch_size : int or None
            None: the session's batch size.
        progress : callable or None
            ``progress(message, done, total)``, told what is happening: the
            session's stages (training, scoring the pool, the audit sample
            and stopping rules, the batch), ``done`` of ``total`` finished.

        Returns
        -------
        summary : str
        """
        from ..session import LabelingSession

        report = progress or (lambda *args, **kwargs: None)
        if self._trainer is None:
            report("Opening the session...")
            self._trainer = LabelingSession.open(self.path, progress=False)
        trainer = self._trainer
        before = trainer.current_batch()
        status = trainer.status()
        last = status.rounds[-1] if status.rounds else None
        took = (
            ""
            if last is None
            else f" (round {last.round} took "
            f"{last.train_seconds + last.query_seconds:.0f} s)"
        )
        intro = (
            f"Retraining on {status.n_labeled} labels and scoring "
            f"{status.n_items} texts{took}; the page can label meanwhile:"
        )
        report(intro)

        def stage(name, done, total):
            report(f"{intro} {name}...", done, total)

        round_info = trainer.retrain(size=batch_size, progress=stage)
        after = trainer.current_batch()
        if after is None:
            return "No batch could be queried."
        same = before is not None and before.batch == after.batch
        if same:
            return (
                f"Nothing changed since round {round_info.round if round_info else 0}: "
                f"batch {after.batch} still has {after.n_pending} texts to label."
            )
        if round_info is None or after.kind == "initial":
            return (
                f"Batch {after.batch} of {len(after.items)} texts drawn at random: "
                "labels of at least two classes are needed to train a model."
            )
        return (
            f"Round {round_info.round}: trained on {round_info.n_labeled} labels in "
            f"{round_info.train_seconds:.1f} s, pool scored in "
            f"{round_info.query_seconds:.1f} s; batch {after.batch} of "
            f"{len(after.items)} texts queried."
        )


def _per_class(estimates):
    """The status page's per-class table and warnings (None before a round).

    Rates are percentages; a class whose estimated recall is below the
    session's threshold, or that the model never predicts on the pool, is
    flagged ``low``.
    """
    if estimates is None:
        return None

    def pct(value):
        return None if value is None else 100 * value

    threshold = estimates.get("recall_threshold", 0.5)
    rows = []
    for c in estimates["classes"]:
        never = c["pool_share"] is not None and c["pool_share"] == 0
        low_recall = c["recall"] is not None and c["recall"] < threshold
        rows.append(
            {
                "label": c["label"],
                "n_train": c["n_train"] or 0,
                "support": c["support"],
                "recall": pct(c["recall"]),
                "recall_low": pct(c["recall_low"]),
                "recall_high": pct(c["recall_high"]),
                "precision": pct(c["precision"]),
                "precision_low": pct(c["precision_low"]),
                "precision_high": pct(c["precision_high"]),
                "share": None if c["pool_share"] is None else percent(c["pool_share"]),
                "low": never or low_recall,
            }
        )
    pool = estimates.get("pool") or {}
    return {
        "round": estimates.get("round"),
        "n_audit": estimates["n_audit"],
        "confidence": estimates.get("confidence", 0.95),
        "classes": rows,
        "macro_f1": pct(estimates["macro_f1"]),
        "macro_f1_low": pct(estimates["macro_f1_low"]),
        "macro_f1_high": pct(estimates["macro_f1_high"]),
        "warnings": list(estimates["warnings"]),
        "pool_n": pool.get("n", 0),
        "pool_of": pool.get("of", 0),
        "pool_sampled": pool.get("source") == "sample",
    }


def _no_progress():
    return {
        "batch": None,
        "total": 0,
        "done": 0,
        "labeled": 0,
        "skipped": 0,
        "position": 0,
        "held": 0,
    }


def _state(item):
    """An item's state: ``"label"``, ``"skip"`` or None."""
    if item.label is not None:
        return "label"
    return "skip" if item.skipped else None


def _repeats(item, action, label, annotator):
    """Whether labeling (or skipping) ``item`` repeats what stands already.

    True when the item's standing label or skip is this annotator's and the
    same as asked: the same form sent twice.
    """
    standing = [
        event
        for event in item.history
        if event.kind in ("label", "skip") and not event.undone
    ]
    if not standing:
        return False
    last = standing[-1]
    return (
        last.kind == action
        and last.annotator == annotator.strip()
        and (action == "skip" or last.label == label)
    )
