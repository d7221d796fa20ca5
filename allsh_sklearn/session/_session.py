"""A crash-safe labeling session: real texts, real annotators, one database.

:class:`LabelingSession` keeps a pool of unlabeled texts and everything done
with it in one SQLite file in a project folder. Labels are committed the
moment they are given; the model is retrained and the next batch queried
when a batch is done (or every ``retrain_every`` labels, or on demand); a
random audit sample, labeled alongside and never trained on, estimates the
model's accuracy with a confidence interval; stopping rules say when more
labels stop helping. The command-line tool ``allsh-label`` and the labeling
web page are thin layers over the methods of this class.

The class is the front door; the work is done by modules of one purpose:
``_actions`` (what annotators do), ``_rounds`` (retraining, audit, stopping,
drawing batches), ``_status``, ``_files`` (imports and exports),
``_model_io`` (the model saved and used), ``_plots``, ``_create`` (a new
project) and ``_store`` (every SQL statement).
"""

import json
import os
import pickle
import shutil
import uuid
from pathlib import Path

from . import _actions, _files, _model_io, _plots, _rounds, _status
from ._create import DEFAULT_CLASSIFIER, DEFAULT_STRATEGY, create_session
from ._engine import Engine
from ._errors import NotReadyError, SessionError, StorageError
from ._records import round_info
from ._store import DATABASE_NAME, SessionStore, StoredArtifacts

__all__ = ["LabelingSession"]


class LabelingSession:
    """A labeling project: a pool of texts, its labels, models and batches.

    Create one with :meth:`create`, reopen it with :meth:`open`; do not call
    the constructor. Every method that changes the session commits before
    it returns, so a process killed at any point loses nothing that a method
    returned from.

    What a labeling page calls:

    - :meth:`next_item` (the text to show), :meth:`label`, :meth:`skip`,
      :meth:`undo`, :meth:`unlabel`, :meth:`item` (with its history),
      :meth:`why` (why the strategy picked it);
    - :meth:`current_batch`, :meth:`next_batch` (retrains and queries when
      the batch is done), :meth:`retrain` (on demand), :meth:`retrain_due`;
    - :meth:`status`, :meth:`plot_learning_curve`;
    - :meth:`import_labels`, :meth:`export_batch`, :meth:`export_labels`,
      :meth:`export_model`, :meth:`predict`, :meth:`predict_file`.

    Attributes
    ----------
    path : pathlib.Path
        The project folder.
    session_id : str
    labels : list of str
    config : dict
        The session's parameters.
    readonly : bool
        Opened from a read-only folder: reads work, writes raise
        :class:`~allsh_sklearn.session.StorageError`.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from allsh_sklearn.session import LabelingSession
    >>> texts = pd.DataFrame({"text": ["a good film", "a bad film", "great acting",
    ...                                "dull plot", "a fine cast", "poor music"]})
    >>> session = LabelingSession.create(
    ...     tempfile.mkdtemp() + "/project", texts, labels=["neg", "pos"],
    ...     strategy="entropy", batch_size=2, progress=False)
    >>> batch = session.next_batch()  # the first one is random: no model yet
    >>> item = session.next_item(annotator="ann")
    >>> event = session.label(item.item_id, "pos", annotator="ann")
    >>> session.status().n_labeled
    1
    """

    def __init__(self, path, store, meta, *, progress=True):
        self.path = Path(path)
        self._store = store
        self.readonly = store.readonly
        self.session_id = meta["session_id"]
        self.config = json.loads(meta["config"])
        self.labels = list(self.config["labels"])
        self.progress = progress
        self._token = uuid.uuid4().hex[:12]
        self._pool_cache = None
        self._engine_cache = None
        self._rules_cache = None
        self._model = None  # (round, fitted estimator)

    # Creating and opening -----------------------------------------------------

    @classmethod
    def create(
        cls,
        path,
        data,
        *,
        labels,
        text_column="text",
        pair_column=None,
        id_column=None,
        classifier=DEFAULT_CLASSIFIER,
        strategy=DEFAULT_STRATEGY,
        batch_size=50,
        initial_size=None,
        audit_fraction=0.0,
        stop_set_size=1000,
        stopping_rules=None,
        retrain_every=None,
        random_state=0,
        drop_empty=False,
        format=None,
        progress=True,
    ):
        """Create a session in a new project folder from a file of texts.

        Parameters
        ----------
        path : path-like
            The project folder; created, must not hold a session already.
        data : path-like or pandas.DataFrame
            A CSV, JSONL or Parquet file (or a DataFrame) of texts.
        labels : list of str or str
            The label set (or a comma-separated string).
        text_column : str, default="text"
        pair_column : str or None, default=None
            The second text of sentence pairs.
        id_column : str or None, default=None
            Unique ids; None uses a hash of each text (repeated texts merge).
        classifier : str or estimator, default="tfidf-minilm"
            A tier of :data:`allsh_sklearn.models.TIERS` (``"tfidf-lr"``,
            ``"minilm-frozen"``, ``"minilm"``, ...), or an unfitted
            classifier on raw texts (stored in the session with pickle: its
            class must be importable when the session is reopened). The
            default (:data:`~allsh_sklearn.session.DEFAULT_CLASSIFIER`) was
            chosen by the session defaults benchmark, see the guide's
            session_defaults page.
        strategy : str or callable, default="allsh-rank-mean"
            A name of :data:`allsh_sklearn.presets.PRESETS` or any query
            strategy of :mod:`allsh_sklearn.strategies` (or your own). The
            default (:data:`~allsh_sklearn.session.DEFAULT_STRATEGY`) was
            chosen by the session defaults benchmark, see the guide's
            session_defaults page; ``strategy="allsh"`` gives ALLSH.
        batch_size : int, default=50
            Texts per batch, audit texts included.
        initial_size : int or None, default=None
            The size of the first batch, drawn at random (there is no model
            yet); None: ``batch_size``. Later batches are random too until
            two classes have labels.
        audit_fraction : float, default=0.0
            The share of every batch drawn at random from the pool as the
            audit sample (never trained on); 0 disables the estimate.
            ``allsh-label init`` uses 0.1 unless told otherwise.
        stop_set_size : int, default=1000
            The fixed random stop set the stopping rules predict on.
        stopping_rules : dict of {str: StoppingRule} or None, default=None
            None: stabilizing predictions (k=3, 0.99) and overall
            uncertainty (0.1). :class:`~allsh_sklearn.stopping.LabelBudget`
            and :class:`~allsh_sklearn.stopping.DivergencePlateau` are opt-in.
        retrain_every : int or None, default=None
            The terminal annotator retrains after this many labels (None:
            ``batch_size``).
        random_state : int, default=0
        drop_empty : bool, default=False
            Leave out rows with an empty text instead of refusing the file.
        format : str or None, default=None
            The data file's format (from its suffix when None).
        progress : bool, default=True
            Progress bars and messages.

        Returns
        -------
        session : LabelingSession
        """
        return create_session(
            cls.open,
            path,
            data,
            labels=labels,
            text_column=text_column,
            pair_column=pair_column,
            id_column=id_column,
            classifier=classifier,
            strategy=strategy,
            batch_size=batch_size,
            initial_size=initial_size,
            audit_fraction=audit_fraction,
            stop_set_size=stop_set_size,
            stopping_rules=stopping_rules,
            retrain_every=retrain_every,
            random_state=random_state,
            drop_empty=drop_empty,
            format=format,
            progress=progress,
        )

    @classmethod
    def open(cls, path, *, progress=True, readonly=None, timeout=30.0):
        """Open the session of a project folder.

        Parameters
        ----------
        path : path-like
            The project folder.
        progress : bool, default=True
        readonly : bool or None, default=None
            None opens read-only when the folder is not writable. A
            read-only session sees the writes of a process working on the
            session meanwhile (through SQLite's shared-memory file); when
            that file cannot be read, it says so (a permission problem,
            :class:`~allsh_sklearn.session.StorageError`).
        timeout : float, default=30.0
            Seconds to wait for another process's write.

        Returns
        -------
        session : LabelingSession
        """
        folder = Path(path)
        database = folder / DATABASE_NAME
        if not database.is_file():
            raise SessionError(
                f"No labeling session in {folder} (no {DATABASE_NAME}). Create one "
                "with 'allsh-label init' or LabelingSession.create."
            )
        guess = readonly is None
        if guess:
            readonly = not (os.access(folder, os.W_OK) and os.access(database, os.W_OK))
        try:
            store = SessionStore(database, readonly=readonly, timeout=timeout)
        except StorageError:
            if readonly or not guess:
                raise
            # Writable by its permission bits, yet not (an immutable file, a
            # read-only mount): open it read-only.
            readonly = True
            store = SessionStore(database, readonly=True, timeout=timeout)
        # Read-only with writes still in the log (a writer at work, or one
        # that stopped before folding them in): the store reads them through
        # SQLite's shared memory, or says why it cannot.
        meta = store.meta()
        if "session_id" not in meta or "config" not in meta:
            raise SessionError(f"{database} is damaged: its metadata is incomplete.")
        return cls(folder, store, meta, progress=progress)

    def close(self):
        """Close the database connection of this thread."""
        self._store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (
            f"LabelingSession({str(self.path)!r}, session_id={self.session_id[:8]!r})"
        )

    # Internal readers ---------------------------------------------------------

    def _pool(self):
        """(ext_ids, texts as the classifier takes them) in item order."""
        if self._pool_cache is None:
            rows = self._store.pool()
            ids = [row[0] for row in rows]
            texts = [row[1] if row[2] is None else (row[1], row[2]) for row in rows]
            self._pool_cache = (ids, texts)
        return self._pool_cache

    def _engine(self):
        """The engine that trains, queries and explains (built once)."""
        if self._engine_cache is None:
            artifacts = StoredArtifacts(self._store)
            classifier = self.config["classifier"]
            if classifier == "python":
                classifier = self._unpickle(artifacts, "estimator")
            strategy = self.config["strategy"]
            if strategy == "python":
                strategy = self._unpickle(artifacts, "strategy")
            self._engine_cache = Engine(
                self.labels,
                classifier,
                strategy,
                self.path / "cache",
                artifacts,
                self.config["random_state"],
            )
        return self._engine_cache

    def _rules(self):
        """The stopping rules, as stored when the session was created."""
        if self._rules_cache is None:
            self._rules_cache = self._unpickle(StoredArtifacts(self._store), "rules")
        return self._rules_cache

    @staticmethod
    def _unpickle(artifacts, name):
        """The object pickled under ``name``, or a :class:`SessionError` why not."""
        data = artifacts.get(name)
        if data is None:
            raise SessionError(f"The session's {name} is missing from its database.")
        try:
            return pickle.loads(data)
        except (AttributeError, ImportError, ModuleNotFoundError) as error:
            raise SessionError(
                f"The session's {name} was saved from Python code that cannot be "
                f"imported here ({error}). Make that code importable (install its "
                "package or add it to PYTHONPATH) and reopen the session."
            ) from error

    # One item at a time -------------------------------------------------------

    def next_item(self, annotator="annotator", *, claim=True, owner=None):
        """The next text of the open batch for this annotator, or None.

        Items another annotator (or another process) is looking at, claimed
        in the last :data:`CLAIM_SECONDS` seconds, are passed over, so two
        annotators on one session do not label the same text; the claims of
        a process that died on this machine lapse at once. None when the
        open batch is done (or there is none): call :meth:`next_batch`.

        Parameters
        ----------
        annotator : str, default="annotator"
        claim : bool, default=True
            Mark the item as shown to this annotator.
        owner : str or None, default=None
            Who holds the claim when one process serves several places (the
            web page: one id per browser): items claimed by another owner
            are passed over even under the same annotator name, so two
            browsers are never given the same text. None: the annotator in
            this process.

        Returns
        -------
        item : Item or None
        """
        return _actions.next_item(self, annotator, claim=claim, owner=owner)

    def item(self, item_id):
        """An item with its current label, its latest batch and its full history.

        Parameters
        ----------
        item_id : str

        Returns
        -------
        item : Item
        """
        return _actions.item(self, item_id)

    @property
    def strategy_name(self):
        """The strategy's name: a preset's (``"allsh"``), or the class name of
        a strategy given in Python (``"MarginSampling"``)."""
        name = self.config.get("strategy")
        if name == "python":
            name = self.config.get("strategy_repr", "").split("(")[0] or "python"
        return name

    def why(self, item_id):
        """Why the strategy picked an item, for people.

        Parameters
        ----------
        item_id : str

        Returns
        -------
        why : dict
            ``sentence`` (why it was picked, in plain words: for ALLSH, the
            labels the model hesitates between and what it says once some
            words are replaced; for a random or audit pick, that it was
            drawn at random and why), ``kind`` (``"allsh"``, ``"strategy"``,
            ``"initial"``, ``"audit"`` or ``"random"``), ``reason`` (a
            shorter line), ``score``, ``guess``, ``proba`` (by label) and,
            for ALLSH, ``copy`` (the augmented copy, with a few words
            replaced, that moved the model most), ``copy_proba`` (by
            label), ``divergence`` (its value), ``measure`` (``"kl"``, ...)
            and ``copies`` (all of them).
        """
        return _actions.why(self, item_id)

    def label(self, item_id, label, *, annotator="annotator", source="api"):
        """Label an item; committed before this returns.

        A second label of the same item is a re-label: both are kept in the
        history and the latest counts.

        Parameters
        ----------
        item_id : str
        label : str
            One of :attr:`labels`, compared in Unicode NFC: another spelling
            of a label (NFD, as some keyboards and APIs send it) is stored
            as the session's.
        annotator : str, default="annotator"
        source : str, default="api"
            Stored with the event (``"annotate"``, ``"web"``, ...).

        Returns
        -------
        event : Event
        """
        return _actions.label(self, item_id, label, annotator=annotator, source=source)

    def skip(self, item_id, *, annotator="annotator", source="api"):
        """Skip an item: it leaves the batch and is not queried again.

        Parameters
        ----------
        item_id : str
        annotator : str, default="annotator"
        source : str, default="api"

        Returns
        -------
        event : Event
        """
        return _actions.skip(self, item_id, annotator=annotator, source=source)

    def undo(self, *, annotator="annotator", source="api", owner=None):
        """Take back this annotator's last label or skip.

        The item falls back to its previous label (or to unlabeled); the
        undone event stays in the history, marked undone. An item left
        unlabeled is claimed for this annotator (and ``owner``, see
        :meth:`next_item`) to label again: :meth:`next_item` gives it to
        nobody else meanwhile, and to this annotator again if its batch is
        open. To take back the label of a named item, whoever gave it, see
        :meth:`unlabel`.

        Parameters
        ----------
        annotator : str, default="annotator"
        source : str, default="api"
        owner : str or None, default=None
            See :meth:`next_item`.

        Returns
        -------
        undone : Event or None
            The event taken back (None when there is nothing to undo). Show
            ``undone.item_id`` again to let the annotator redo it.
        """
        return _actions.undo(self, annotator=annotator, source=source, owner=owner)

    def unlabel(self, item_id, *, annotator="annotator", source="api"):
        """Take back the label or skip that stands for an item, whoever gave it.

        Like :meth:`undo`, but for one named item: its latest label or skip
        not already undone is marked undone (it stays in the history) and an
        ``undo`` event by ``annotator`` is recorded. The item falls back to
        its previous label or skip, or to unlabeled: then it is pending again
        in its batch, claimed by nobody (:meth:`next_item` gives it to the
        next annotator who asks). Committed before this returns. This is
        what a deleted Label Studio annotation becomes.

        Parameters
        ----------
        item_id : str
        annotator : str, default="annotator"
            Who takes it back (stored with the undo event).
        source : str, default="api"
            Stored with the undo event.

        Returns
        -------
        undone : Event or None
            The event taken back, with the annotator who gave it; None when
            no label or skip stands for the item (a second call changes
            nothing).

        Raises
        ------
        KeyError
            No item with this id in the session.

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> from allsh_sklearn.session import LabelingSession
        >>> texts = pd.DataFrame({"text": ["a good film", "a bad film", "dull plot"]})
        >>> session = LabelingSession.create(
        ...     tempfile.mkdtemp() + "/project", texts, labels=["neg", "pos"],
        ...     strategy="entropy", batch_size=2, progress=False)
        >>> batch = session.next_batch()
        >>> item = session.next_item(annotator="alice")
        >>> event = session.label(item.item_id, "pos", annotator="alice")
        >>> undone = session.unlabel(item.item_id, annotator="bob")
        >>> undone.label, undone.annotator, session.item(item.item_id).label
        ('pos', 'alice', None)
        >>> session.unlabel(item.item_id) is None  # nothing stands any more
        True
        """
        return _actions.unlabel(self, item_id, annotator=annotator, source=source)

    # Batches ------------------------------------------------------------------

    def current_batch(self):
        """The open batch with its items (labeled ones included), or None.

        Returns
        -------
        batch : Batch or None
        """
        return _actions.current_batch(self)

    def retrain_due(self, every=None):
        """Whether ``every`` training labels were given since the last retraining.

        Parameters
        ----------
        every : int or None, default=None
            None: the session's ``retrain_every``.

        Returns
        -------
        due : bool
        """
        every = self.config["retrain_every"] if every is None else every
        return self._labels_since_round() >= every

    def _labels_since_round(self):
        """Training labels given since the last retraining."""
        return _status.labels_since_round(self)

    def next_batch(self, size=None, *, progress=None):
        """The open batch if it has texts left, else a new one.

        A new batch is queried with the model trained on every label so far
        (retraining first when labels changed since the last round); before
        two classes have labels, batches are drawn at random. When the pool
        is used up (every text labeled, skipped or in the audit sample), the
        model is trained on every label first (a final round without a
        batch, see :meth:`retrain`) and then
        :class:`~allsh_sklearn.session.NotReadyError` says the pool is fully
        labeled (``allsh-label next`` exits with 7).

        Parameters
        ----------
        size : int or None, default=None
            None: the session's ``batch_size``.
        progress : bool, callable or None, default=None
            None: the session's setting; a callable is told the stages
            instead of showing bars (see :meth:`retrain`).

        Returns
        -------
        batch : Batch
        """
        batch = self.current_batch()
        if batch is not None and batch.n_pending > 0:
            return batch
        batch = _rounds.advance(self, size=size, progress=progress, close_open=True)
        if batch is None:
            raise NotReadyError(self._fully_labeled())
        return batch

    def retrain(self, *, size=None, progress=None):
        """Retrain on every label now and query a fresh batch (closing the open one).

        Does nothing (and returns the last round) when no label changed since
        the last retraining and the open batch still has texts. When the pool
        is used up (every text labeled, skipped or in the audit sample), it
        trains a final round on every label without querying a batch (and
        closes the open batch once none of its texts is left); the round's
        model is then the one :meth:`export_model` writes.

        Parameters
        ----------
        size : int or None, default=None
            The new batch's size (None: ``batch_size``).
        progress : bool, callable or None, default=None
            True shows progress bars, False nothing, None the session's
            setting. A callable ``progress(stage, done, total)`` is called as
            each stage begins (``stage`` names it, e.g. ``"training on 120
            labels"``; ``done`` of ``total`` stages are finished) and once
            more with ``done == total`` at the end; no bars are shown then.
            The labeling page shows these stages while it retrains.

        Returns
        -------
        round : RoundInfo or None
            None when too few classes have labels to train a model (then a
            random batch is queried instead).

        Raises
        ------
        NotReadyError
            When the pool is used up and fewer than two classes have labels:
            there is neither a batch to draw nor a model to train.
        """
        _rounds.advance(self, size=size, progress=progress, close_open=True, force=True)
        rounds = self.rounds()
        return rounds[-1] if rounds else None

    def _fully_labeled(self):
        """The message that says the pool is used up, and what the model saw."""
        rounds = self.rounds()
        model = ""
        if rounds:
            model = (
                f" The model of round {rounds[-1].round} is trained on all "
                f"{rounds[-1].n_labeled} training labels: export it "
                "(export_model; allsh-label export PROJECT model.joblib --what "
                "model) or predict with it."
            )
        return (
            "The pool is fully labeled: every text is labeled, skipped or in "
            f"the audit sample, so there is no batch left to query.{model}"
        )

    def model(self):
        """The last trained classifier (loaded from the database).

        Returns
        -------
        estimator : object
        """
        return _model_io.last_model(self)

    def _history(self):
        """Every stored round as the stopping rules read it."""
        return _rounds.history(self)

    # Rounds, status, learning curve -------------------------------------------

    def rounds(self):
        """Every retraining so far, oldest first.

        Returns
        -------
        rounds : list of RoundInfo
        """
        return [round_info(row) for row in self._store.round_rows()]

    def status(self):
        """Where the session stands.

        Returns
        -------
        status : SessionStatus
        """
        return _status.status(self)

    def plot_learning_curve(self, path=None, *, truth=None, truth_label="held-out set"):
        """Draw the audit estimate (with its interval) against the number of labels.

        Below it, each stopping rule's value per round, with its threshold as
        a dashed line of the same colour (labeled, for example,
        ``"stabilizing: stop ≥ 0.99"``); a label budget is a dashed vertical
        line at its number of labels.

        Parameters
        ----------
        path : path-like or None, default=None
            Where to save a PNG; None returns the figure without saving.
        truth : sequence of (int, float) or None, default=None
            Optional ``(n_labeled, accuracy)`` points measured elsewhere (a
            held-out test set), drawn for comparison.
        truth_label : str, default="held-out set"
            Their legend.

        Returns
        -------
        figure : matplotlib.figure.Figure
        """
        return _plots.plot_learning_curve(
            self, path, truth=truth, truth_label=truth_label
        )

    # Files --------------------------------------------------------------------

    def _check_output(self, path, name, owner):
        """Refuse, before any work, to write over a file the session keeps."""
        _files.check_output(self.path, path, name, owner)

    def export_batch(self, path, *, format=None):
        """Write the open batch's texts still to label (CSV, JSONL, Parquet, LS).

        Rows carry ``id``, ``text`` (``text_pair``), an empty ``label`` to
        fill in, the model's ``guess`` and its ``guess_probability``, and
        ``session_id``. A Label Studio file holds one task per text with a
        prediction: the guess (an empty ``result`` before the first model),
        the ``score`` of the text's place in the batch
        (:func:`~allsh_sklearn.session.label_studio_score`: a project with
        uncertainty sampling then serves the texts in the batch's order) and
        the ``model_version`` of the round and batch
        (:func:`~allsh_sklearn.session.label_studio_model_version`);
        :func:`~allsh_sklearn.session.label_studio_config` is the matching
        labeling configuration.

        Parameters
        ----------
        path : path-like
            Not a file the session keeps (its database, ``cache/``): that is
            refused with a ``ValueError`` before anything is written.
        format : str or None, default=None

        Returns
        -------
        n_rows : int
        """
        return _files.export_batch(self, path, format=format)

    def export_labels(self, path, *, format=None, include_audit=True):
        """Write every current label (CSV, JSONL, Parquet, Label Studio).

        Parameters
        ----------
        path : path-like
            Not a file the session keeps (its database, ``cache/``): that is
            refused with a ``ValueError`` before anything is written.
        format : str or None, default=None
        include_audit : bool, default=True
            Include the audit sample's labels (an ``audit`` column marks them).

        Returns
        -------
        n_rows : int
        """
        return _files.export_labels(
            self, path, format=format, include_audit=include_audit
        )

    def import_labels(
        self, path, *, format=None, annotator=None, retrain=False, progress=None
    ):
        """Import labels from CSV, JSONL, Parquet or Label Studio: all or nothing.

        Rows without a label are left alone (a partly labeled batch is
        fine). The file is checked first: a malformed file (see
        :func:`~allsh_sklearn.session._formats.read_label_rows`: cells that
        are not text, times outside 1970-9999, broken Label Studio tasks),
        ids this session does not know, labels outside the label set, rows
        from another session (its ``session_id``) or audit texts that hold a
        training label here refuse the whole file with a list of the
        problems; otherwise every label is stored in one transaction.

        Importing a file twice changes nothing: an item whose current label
        (or skip) is the last one the file gives it is left alone, whatever
        rows came before it in the file. Otherwise every row of the file for
        that item is stored, in the file's order (a row that repeats the
        item's previous label is not stored again), so several rows for one
        id, or a Label Studio task with several annotations, are kept in the
        item's history once.

        Labels are compared in Unicode NFC, as the label set is stored; a
        label or id with the leading ``'`` of a CSV export's spreadsheet
        escaping (:func:`~allsh_sklearn.session._formats.spreadsheet_escape`)
        is recognised. A file that marks texts as audit texts (the
        ``audit`` column or ``data.allsh_audit`` that :meth:`export_labels`
        writes) puts them in this session's audit sample, never trained on;
        a text of this session's audit sample stays in it.

        Parameters
        ----------
        path : path-like
        format : str or None, default=None
        annotator : str or None, default=None
            Used for rows that do not name one (None: ``"import"``).
        retrain : bool, default=False
            Retrain and query a fresh batch after importing.
        progress : bool or None, default=None

        Returns
        -------
        report : ImportReport
            ``n_unchanged`` counts the rows not stored because of the rules
            above.
        """
        return _files.import_labels(
            self,
            path,
            format=format,
            annotator=annotator,
            retrain=retrain,
            progress=progress,
        )

    # Using the model ----------------------------------------------------------

    def export_model(self, path):
        """Save the last trained classifier.

        scikit-learn models (the TF-IDF and frozen-MiniLM tiers, or your own)
        are written to the file ``path`` with :func:`joblib.dump`
        (``joblib.load(path)`` gives a fitted estimator with ``predict``).
        A fine-tuned transformer (a skorch net, such as
        :class:`~allsh_sklearn.models.TransformerClassifier`) goes into the
        folder ``path`` in skorch's own format, ``params.pt`` and
        ``history.json`` (``net.initialize(); net.load_params(f_params=...)``
        on a net built with the same parameters), next to ``model.joblib``
        (the whole net) and ``classes.json``.

        The model is the last round's, trained on that round's
        :attr:`RoundInfo.n_labeled` training labels; labels given since are
        not in it (:attr:`SessionStatus.model_up_to_date` says whether any
        were). :meth:`retrain` trains on every label first, also once the
        pool is used up.

        Parameters
        ----------
        path : path-like
            Not a file the session keeps (its database, ``cache/``).

        Returns
        -------
        path : pathlib.Path
        """
        return _model_io.export_model(self, path)

    def predict(self, X):
        """Labels and probabilities of the last trained model for new texts.

        Parameters
        ----------
        X : sequence of str or of (str, str)

        Returns
        -------
        labels : list of str
        proba : ndarray of shape (n_texts, n_labels)
            Columns in the order of :attr:`labels`.
        """
        return _model_io.predict(self, X)

    def predict_file(
        self,
        data,
        output,
        *,
        text_column=None,
        pair_column=None,
        id_column=None,
        format=None,
        output_format=None,
    ):
        """Predict every text of a file and write ``id, text, prediction, p(label)...``.

        Parameters
        ----------
        data : path-like or pandas.DataFrame
            CSV, JSONL or Parquet.
        output : path-like
            CSV, JSONL or Parquet; not a file the session keeps.
        text_column, pair_column, id_column : str or None
            None: the session's own columns (``id_column`` falls back to row
            hashes when the file has none). The output's id column keeps the
            name of the file's (``id`` for hashes).
        format, output_format : str or None

        Returns
        -------
        n_rows : int
        """
        return _model_io.predict_file(
            self,
            data,
            output,
            text_column=text_column,
            pair_column=pair_column,
            id_column=id_column,
            format=format,
            output_format=output_format,
        )

    # Maintenance --------------------------------------------------------------

    def clear_cache(self):
        """Delete the project's cache folder (embeddings, augmented copies)."""
        shutil.rmtree(self.path / "cache", ignore_errors=True)
