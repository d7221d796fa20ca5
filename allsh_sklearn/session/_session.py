"""A crash-safe labeling session: real texts, real annotators, one database.

:class:`LabelingSession` keeps a pool of unlabeled texts and everything done
with it in one SQLite file in a project folder. Labels are committed the
moment they are given; the model is retrained and the next batch queried
when a batch is done (or every ``retrain_every`` labels, or on demand); a
random audit sample, labeled alongside and never trained on, estimates the
model's accuracy with a confidence interval; stopping rules say when more
labels stop helping. The command-line tool ``allsh-label`` and the labeling
web page are thin layers over the methods of this class.
"""

import hashlib
import json
import math
import os
import pickle
import shutil
import socket
import time
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..stopping import (
    OverallUncertainty,
    StabilizingPredictions,
    StoppingRule,
    evaluate_rules,
)
from ._audit import accuracy_interval, class_estimates
from ._engine import Engine, check_strategy_name
from ._errors import InputFileError, NotReadyError, SessionError, StorageError
from ._formats import (
    format_time,
    label_studio_model_version,
    read_label_rows,
    read_pool,
    write_rows,
)
from ._store import (
    CHUNK,
    DATABASE_NAME,
    SCHEMA_VERSION,
    SessionStore,
    storage_errors,
)

__all__ = [
    "Batch",
    "Event",
    "ImportReport",
    "Item",
    "LabelingSession",
    "RoundInfo",
    "SessionStatus",
]

#: Seconds an annotator keeps an item shown to them before another may take it.
CLAIM_SECONDS = 600.0

#: The skip marker of the terminal and of label files' ``label`` column.
SKIP = "__skip__"

#: Unlabeled texts the model predicts at each round for the per-class
#: estimates' "never predicted" warning, when the query kept no predictions.
POOL_SAMPLE = 2000

#: The per-class estimates' settings: interval level, the fewest training
#: labels a class should have, the lowest estimated recall not warned about.
AUDIT_CONFIDENCE = 0.95
MIN_TRAIN_LABELS = 5
RECALL_THRESHOLD = 0.5


# What the session hands out ---------------------------------------------------------


@dataclass
class Item:
    """One text as an annotator sees it.

    Attributes
    ----------
    item_id : str
        The id from the data file (or the text's hash).
    text : str
    text_pair : str or None
    batch : int or None
        The batch it was served in (None outside any batch).
    position : int or None
        1-based position in that batch.
    batch_size : int or None
    guess : str or None
        The model's predicted label when the batch was queried.
    proba : dict of {str: float} or None
        The model's probabilities then, by label.
    score : float or None
        The strategy's score (for ALLSH, the divergence).
    explanation : dict or None
        Why the strategy picked it (for ALLSH, the augmented copies with the
        model's probabilities on each and their divergence; see
        :meth:`LabelingSession.why`).
    label : str or None
        The current label (latest wins).
    skipped : bool
    history : list of Event
        Filled by :meth:`LabelingSession.item` only.
    purpose : {"train", "audit"} or None
        Why it is in its batch: picked for training (by the strategy, or at
        random in a batch before any model), or drawn at random for the
        audit sample; None outside any batch.
    """

    item_id: str
    text: str
    text_pair: str | None = None
    batch: int | None = None
    position: int | None = None
    batch_size: int | None = None
    guess: str | None = None
    proba: dict | None = None
    score: float | None = None
    explanation: dict | None = None
    label: str | None = None
    skipped: bool = False
    history: list = field(default_factory=list)
    purpose: str | None = None

    def as_dict(self):
        """A JSON-friendly dict."""
        out = asdict(self)
        out["history"] = [e if isinstance(e, dict) else asdict(e) for e in self.history]
        return out


@dataclass
class Event:
    """One labeling event, as stored.

    Attributes
    ----------
    event : int
        Its number (increasing).
    item_id : str
    kind : {"label", "skip", "undo"}
    label : str or None
    annotator : str
    created_at : float
        Seconds since the epoch.
    undone : bool
        Whether a later undo took it back.
    source : str
        ``"annotate"``, ``"api"``, ``"import:<file name>"``, ...
    """

    event: int
    item_id: str
    kind: str
    label: str | None
    annotator: str
    created_at: float
    undone: bool = False
    source: str = "api"


@dataclass
class Batch:
    """A queried batch.

    Attributes
    ----------
    batch : int
    kind : {"initial", "query"}
        ``"initial"``: random (no model yet); ``"query"``: chosen by the
        strategy with the model of ``round``.
    round : int or None
    created_at : float
    items : list of Item
    n_done : int
        Items labeled or skipped.
    closed : bool
    """

    batch: int
    kind: str
    round: int | None
    created_at: float
    items: list
    n_done: int
    closed: bool

    @property
    def n_pending(self):
        """Items still to label."""
        return len(self.items) - self.n_done


@dataclass
class RoundInfo:
    """One retraining: the model, its audit estimate and the stopping rules.

    Attributes
    ----------
    round : int
    created_at : float
    n_labeled : int
        Training labels (the audit sample excluded).
    class_counts : dict of {str: int}
    n_audit : int
        Audit labels the model was scored on.
    audit_correct : int
    audit_accuracy : float or None
    audit_low, audit_high : float or None
        The Wilson 95% interval.
    mean_pool_score : float or None
    checks : list of dict
        The stopping rules' :meth:`~allsh_sklearn.stopping.StopCheck.as_dict`.
    train_seconds, query_seconds : float
    class_estimates : dict or None
        Per-class estimates from the audit sample
        (:meth:`ClassEstimates.as_dict <allsh_sklearn.session.ClassEstimates.as_dict>`:
        ``classes``, one dict per class with its training labels, audit
        support, recall and precision with their intervals; ``macro_f1``
        with its interval; ``warnings`` in plain words), plus ``round``,
        ``confidence``, ``min_train_labels``, ``recall_threshold`` and
        ``pool`` (``n`` texts predicted of the ``of`` unlabeled ones, and
        ``source``: ``"query"``, ``"pool"`` or ``"sample"``). None for
        rounds stored by an older version.
    """

    round: int
    created_at: float
    n_labeled: int
    class_counts: dict
    n_audit: int
    audit_correct: int
    audit_accuracy: float | None
    audit_low: float | None
    audit_high: float | None
    mean_pool_score: float | None
    checks: list
    train_seconds: float
    query_seconds: float
    class_estimates: dict | None = None

    @property
    def stop(self):
        """Whether any stopping rule says stop at this round."""
        return any(check["stop"] for check in self.checks)

    @property
    def stopped_by(self):
        """The names of the stopping rules that say stop at this round."""
        return [check["rule"] for check in self.checks if check["stop"]]

    @property
    def audit_summary(self):
        """The audit estimate as people read it, or None without audit labels.

        For example ``"0.812 [0.700, 0.893] n=48"``: the accuracy on the
        audit sample, its Wilson 95% interval and the number of audit labels.
        """
        if not self.n_audit:
            return None
        return (
            f"{self.audit_accuracy:.3f} [{self.audit_low:.3f}, "
            f"{self.audit_high:.3f}] n={self.n_audit}"
        )


@dataclass
class SessionStatus:
    """Where a session stands.

    Attributes
    ----------
    session_id : str
    n_items : int
    n_labeled : int
        Items with a training label.
    n_audit_labeled : int
        Items of the audit sample with a label.
    n_skipped : int
    class_counts : dict of {str: int}
        Training labels per class.
    n_events : int
        Every label, skip and undo stored.
    annotators : dict of {str: int}
        Labels given per annotator (current ones).
    batch : dict or None
        The open batch: ``batch``, ``kind``, ``size``, ``done``.
    labels_since_round : int
        Training labels given since the last retraining.
    rounds : list of RoundInfo
    should_stop : bool
        Whether a stopping rule says stop at the last round.
    n_unlabeled : int
        Texts neither labeled, skipped nor in the audit sample (those of the
        open batch included): 0 when the pool is fully labeled.
    model_up_to_date : bool
        Whether the last round's model was trained on exactly the current
        training labels (False before the first round).
    class_estimates : dict or None
        The last round's per-class estimates (see
        :attr:`RoundInfo.class_estimates`); None before the first round.
    """

    session_id: str
    n_items: int
    n_labeled: int
    n_audit_labeled: int
    n_skipped: int
    class_counts: dict
    n_events: int
    annotators: dict
    batch: dict | None
    labels_since_round: int
    rounds: list
    should_stop: bool
    n_unlabeled: int = 0
    model_up_to_date: bool = False
    class_estimates: dict | None = None

    def as_dict(self):
        """A JSON-friendly dict."""
        out = asdict(self)
        out["rounds"] = [asdict(r) for r in self.rounds]
        return out


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    path : str
    n_rows : int
        Rows (or Label Studio annotations) with a label or a skip.
    n_unlabeled : int
        Rows or tasks without one (left alone).
    n_imported : int
        Events stored.
    n_unchanged : int
        Rows not stored: their item already had the file's last label for
        it, or they repeat the row before them (see
        :meth:`LabelingSession.import_labels`).
    n_skips : int
    round : RoundInfo or None
        The retraining that followed, if any.
    """

    path: str
    n_rows: int
    n_unlabeled: int
    n_imported: int
    n_unchanged: int
    n_skips: int
    round: RoundInfo | None = None


# Helpers ---------------------------------------------------------------------------


def _seed(random_state, *parts):
    sequence = np.random.SeedSequence([int(random_state), *map(int, parts)])
    return int(sequence.generate_state(1)[0] % (2**31 - 1))


def _check_labels(labels):
    """The label set as a list of stripped, NFC-normalised names.

    A set (or a mapping) is refused: the order of the labels is the order of
    the model's columns and of the keys, so it must be given. Every label
    must be a string (``None`` or ``True`` are refused, not turned into
    ``"None"``); two spellings of one label (NFC and NFD) are one label.
    """
    from collections.abc import Mapping, Set

    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",")]
    if isinstance(labels, Set | Mapping) or not hasattr(labels, "__iter__"):
        kind = "an unordered set" if isinstance(labels, Set) else "a mapping"
        if not hasattr(labels, "__iter__"):
            kind = f"a {type(labels).__name__}"
        raise TypeError(
            "The 'labels' parameter must be an ordered list of label names (or a "
            f"comma-separated string): their order is the model's. Got {kind} "
            f"({labels!r}) instead; pass a list such as sorted(labels)."
        )
    labels = list(labels)
    for position, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(
                "The 'labels' parameter must be a list of label names (strings). "
                f"Got {label!r} ({type(label).__name__}) at position {position} "
                f"of {labels!r} instead."
            )
    labels = [unicodedata.normalize("NFC", label).strip() for label in labels]
    problems = []
    if len(labels) < 2:
        problems.append("at least two labels are needed")
    if any(not label for label in labels):
        problems.append("a label is empty")
    if len(set(labels)) != len(labels):
        problems.append("a label is repeated")
    if any(label == SKIP for label in labels):
        problems.append(f"{SKIP!r} is reserved for skips")
    if problems:
        raise ValueError(
            f"The 'labels' parameter must name two or more distinct, non-empty "
            f"labels ({'; '.join(problems)}). Got {labels!r} instead."
        )
    return labels


def _check_fraction(value, name, *, upper=1.0):
    from ..utils._validation import check_real

    return check_real(
        value,
        name,
        f"a float in [0, {upper})",
        lambda v: 0 <= v < upper,
        owner="LabelingSession",
    )


def _check_progress(progress):
    """The stage callback given as ``progress`` (None for a bool or None)."""
    if progress is None or isinstance(progress, bool | np.bool_):
        return None
    if callable(progress):
        return progress
    raise TypeError(
        "The 'progress' parameter must be True, False, None or a callable "
        f"progress(stage, done, total). Got {type(progress).__name__} instead."
    )


def _pickled(value, name):
    """``value`` pickled, or an error naming the parameter ``name``."""
    try:
        return pickle.dumps(value, protocol=5)
    except Exception as error:  # PicklingError, AttributeError, TypeError, ...
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise TypeError(
            f"The '{name}' parameter of LabelingSession must be an object pickle "
            "can save: the session keeps it in its database and loads it when "
            f"reopened. Got {type(value).__name__} {shown}, which pickle refuses "
            f"({type(error).__name__}: {error}). Define its class, and every "
            "function it holds, at the top level of an importable module (no "
            "lambdas or local functions). Nothing was created."
        ) from error


def _remove_empty(folders):
    """Remove the folders of ``folders`` (deepest first) that are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _default_rules():
    # DivergencePlateau is left out: on the user guide's 50,000-text run it
    # said stop at 990 labels while held-out accuracy still rose by five
    # points (docs/user_guide/labeling.md); opt in with stopping_rules.
    return {
        "stabilizing": StabilizingPredictions(window=3, threshold=0.99),
        "uncertainty": OverallUncertainty(threshold=0.1),
    }


def _claim(connection, item, owner, now=None):
    """Claim ``item`` for ``owner`` for :data:`CLAIM_SECONDS` seconds."""
    now = time.time() if now is None else now
    connection.execute(
        "INSERT OR REPLACE INTO claims (item, owner, expires_at) VALUES (?, ?, ?)",
        (item, owner, now + CLAIM_SECONDS),
    )


def _claim_is_live(owner):
    """Whether a claim's process may still be running (unknown hosts: yes)."""
    parts = owner.split("\x1f")
    if len(parts) != 4 or parts[1] != socket.gethostname():
        return True
    try:
        pid = int(parts[2])
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Artifacts:
    def __init__(self, store):
        self.store = store

    def get(self, name):
        with self.store.read() as connection:
            row = connection.execute(
                "SELECT data FROM artifacts WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, name, data):
        if self.store.readonly:
            return
        with self.store.write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO artifacts (name, data, created_at) "
                "VALUES (?, ?, ?)",
                (name, data, time.time()),
            )


# The session -----------------------------------------------------------------------


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
        classifier="tfidf-lr",
        strategy="allsh",
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
        classifier : str or estimator, default="tfidf-lr"
            A tier of :data:`allsh_sklearn.models.TIERS` (``"tfidf-lr"``,
            ``"minilm-frozen"``, ``"minilm"``, ...), or an unfitted
            classifier on raw texts (stored in the session with pickle: its
            class must be importable when the session is reopened).
        strategy : str or callable, default="allsh"
            A name of :data:`allsh_sklearn.presets.PRESETS` or any query
            strategy of :mod:`allsh_sklearn.strategies` (or your own).
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
        from ..utils._validation import check_int

        labels = _check_labels(labels)
        check_int(batch_size, "batch_size", 1, owner="LabelingSession")
        check_int(
            initial_size, "initial_size", 1, owner="LabelingSession", allow_none=True
        )
        check_int(stop_set_size, "stop_set_size", 1, owner="LabelingSession")
        check_int(random_state, "random_state", 0, owner="LabelingSession")
        check_int(
            retrain_every, "retrain_every", 1, owner="LabelingSession", allow_none=True
        )
        _check_fraction(audit_fraction, "audit_fraction", upper=0.9)
        if isinstance(classifier, str):
            from ..models import TIERS
            from ..utils._validation import check_one_of

            check_one_of(classifier, "classifier", TIERS, owner="LabelingSession")
        elif not (hasattr(classifier, "fit") and hasattr(classifier, "predict_proba")):
            raise TypeError(
                "The 'classifier' parameter of LabelingSession must be a tier name "
                "(e.g. 'tfidf-lr') or an unfitted classifier with fit and "
                f"predict_proba. Got {type(classifier).__name__} instead."
            )
        if isinstance(strategy, str):
            check_strategy_name(strategy, classifier)
        elif not callable(strategy):
            raise TypeError(
                "The 'strategy' parameter of LabelingSession must be a strategy "
                "name (e.g. 'allsh') or a callable query strategy. Got "
                f"{type(strategy).__name__} instead."
            )
        rules = _default_rules() if stopping_rules is None else dict(stopping_rules)
        for name, rule in rules.items():
            if not isinstance(rule, StoppingRule):
                raise TypeError(
                    "The 'stopping_rules' parameter of LabelingSession must map "
                    f"names to StoppingRule objects. Got {type(rule).__name__} for "
                    f"{name!r} instead."
                )
        # Pickled now, before the folder is made: an object pickle refuses
        # fails here, with nothing written.
        blobs = {"rules": _pickled(rules, "stopping_rules")}
        if not isinstance(classifier, str):
            blobs["estimator"] = _pickled(classifier, "classifier")
        if not isinstance(strategy, str):
            blobs["strategy"] = _pickled(strategy, "strategy")
        folder = Path(path)
        database = folder / DATABASE_NAME
        if database.exists():
            raise SessionError(
                f"{folder} already holds a labeling session ({database.name}). "
                "Open it instead, or choose another folder."
            )
        pool = read_pool(
            data,
            text_column=text_column,
            pair_column=pair_column,
            id_column=id_column,
            drop_empty=drop_empty,
            format=format,
        )
        # The folders this call makes, removed again if creating fails.
        made = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"Cannot create the project folder {folder}: {error}"
            ) from error
        if not os.access(folder, os.W_OK):
            _remove_empty(made)
            raise StorageError(
                f"The project folder {folder} is read-only: a session cannot be "
                "created there."
            )
        n_items = len(pool.ids)
        rng = np.random.RandomState(random_state)
        audit_rank = rng.permutation(n_items)
        stop_set = np.zeros(n_items, dtype=bool)
        stop_set[
            rng.choice(n_items, size=min(stop_set_size, n_items), replace=False)
        ] = True
        config = {
            "labels": labels,
            "text_column": text_column,
            "pair_column": pair_column,
            "id_column": id_column,
            "classifier": classifier if isinstance(classifier, str) else "python",
            "classifier_repr": repr(classifier)[:200],
            "strategy": strategy if isinstance(strategy, str) else "python",
            "strategy_repr": repr(strategy)[:200],
            "batch_size": int(batch_size),
            "initial_size": int(initial_size or batch_size),
            "audit_fraction": float(audit_fraction),
            "stop_set_size": int(stop_set.sum()),
            "retrain_every": int(retrain_every or batch_size),
            "random_state": int(random_state),
            "rules": {name: repr(rule) for name, rule in rules.items()},
        }
        from .. import __version__

        session_id = uuid.uuid4().hex
        meta = {
            "session_id": session_id,
            "created_at": repr(time.time()),
            "library_version": __version__,
            "config": json.dumps(config),
        }
        temporary = folder / f".{DATABASE_NAME}.{os.getpid()}.creating"
        for leftover in folder.glob(f".{DATABASE_NAME}.*.creating*"):
            leftover.unlink()
        store = None
        try:
            store = SessionStore(temporary, create=True)
            with store.write() as connection:
                connection.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items())
                )
                rows = (
                    (
                        index,
                        pool.ids[index],
                        pool.texts[index],
                        None if pool.pairs is None else pool.pairs[index],
                        int(audit_rank[index]),
                        int(stop_set[index]),
                    )
                    for index in range(n_items)
                )
                connection.executemany(
                    "INSERT INTO items (item, ext_id, text, text_pair, audit_rank, "
                    "stop_set) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                connection.executemany(
                    "INSERT INTO artifacts (name, data, created_at) VALUES (?, ?, ?)",
                    [(name, blob, time.time()) for name, blob in blobs.items()],
                )
            store.close()
            os.replace(temporary, database)
        except BaseException:
            if store is not None:
                store.close()
            for leftover in folder.glob(f".{DATABASE_NAME}.{os.getpid()}.creating*"):
                leftover.unlink()
            _remove_empty(made)
            raise
        session = cls.open(folder, progress=progress)
        hint = None
        if id_column is None and pool.id_like_columns:
            column = pool.id_like_columns[0]
            merged = (
                f", and {pool.n_merged_duplicates} repeated texts were merged into one"
                if pool.n_merged_duplicates
                else ""
            )
            hint = (
                f"Hint: the ids are hashes of the texts{merged}, but the file has "
                f"a column {column!r} that looks like ids. To key the texts by "
                f"it, remove {folder} and create the session again with "
                f"--id-column {column} (in Python: id_column={column!r})."
            )
        if progress:
            notes = []
            if pool.n_dropped_empty:
                notes.append(f"{pool.n_dropped_empty} empty rows left out")
            if pool.n_merged_duplicates:
                notes.append(f"{pool.n_merged_duplicates} repeated texts merged")
            extra = f" ({'; '.join(notes)})" if notes else ""
            print(f"Created session {session_id[:8]} with {n_items} texts{extra}.")
            if hint is not None:
                print(hint)
        elif hint is not None:
            import warnings

            warnings.warn(hint.removeprefix("Hint: "), UserWarning, stacklevel=2)
        session.n_dropped_empty = pool.n_dropped_empty
        session.n_merged_duplicates = pool.n_merged_duplicates
        session.id_column_hint = hint
        return session

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
            with self._store.read() as connection:
                rows = connection.execute(
                    "SELECT ext_id, text, text_pair FROM items ORDER BY item"
                ).fetchall()
            ids = [row[0] for row in rows]
            texts = [row[1] if row[2] is None else (row[1], row[2]) for row in rows]
            self._pool_cache = (ids, texts)
        return self._pool_cache

    def _engine(self):
        if self._engine_cache is None:
            artifacts = _Artifacts(self._store)
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
        if self._rules_cache is None:
            self._rules_cache = self._unpickle(_Artifacts(self._store), "rules")
        return self._rules_cache

    @staticmethod
    def _unpickle(artifacts, name):
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

    def _item_number(self, connection, item_id):
        row = connection.execute(
            "SELECT item FROM items WHERE ext_id = ?", (str(item_id),)
        ).fetchone()
        if row is None:
            raise KeyError(
                f"No item with id {item_id!r} in this session. Ids are those of "
                "the data file's id column (or the text hashes the exports show)."
            )
        return row[0]

    def _check_label(self, label):
        """The session's own spelling of ``label``, compared in NFC.

        A label spelled in another Unicode normal form (NFD ``"e\u0301"`` for
        NFC ``"\u00e9"``) is the same label, as :func:`_check_labels` made the
        session's labels.
        """
        if isinstance(label, str):
            wanted = unicodedata.normalize("NFC", label)
            for own in self.labels:
                if unicodedata.normalize("NFC", own) == wanted:
                    return own
        raise ValueError(
            f"The 'label' parameter must be one of the session's labels "
            f"{self.labels}. Got {label!r} instead."
        )

    @staticmethod
    def _check_annotator(annotator):
        if not isinstance(annotator, str) or not annotator.strip():
            raise ValueError(
                "The 'annotator' parameter must be a non-empty name (it is stored "
                f"with every label). Got {annotator!r} instead."
            )
        return annotator.strip()

    def _open_batch_row(self, connection):
        return connection.execute(
            "SELECT batch, kind, round, created_at FROM batches "
            "WHERE closed_at IS NULL ORDER BY batch DESC LIMIT 1"
        ).fetchone()

    def _items_from_rows(self, connection, rows, batch_sizes=None):
        """Items from (item, batch, position, guess, proba, score, explanation,
        purpose) rows."""
        if not rows:
            return []
        numbers = [row[0] for row in rows]
        texts, states = {}, {}
        for start in range(0, len(numbers), CHUNK):
            chunk = numbers[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            for item, ext_id, text, pair in connection.execute(
                "SELECT item, ext_id, text, text_pair FROM items "
                f"WHERE item IN ({marks})",
                chunk,
            ):
                texts[item] = (ext_id, text, pair)
            for item, kind, label in connection.execute(
                f"SELECT item, kind, label FROM item_state WHERE item IN ({marks})",
                chunk,
            ):
                states[item] = (kind, label)
        items = []
        for item, batch, position, guess, proba, score, explanation, purpose in rows:
            ext_id, text, pair = texts[item]
            kind, label = states.get(item, (None, None))
            proba = None if proba is None else json.loads(proba)
            items.append(
                Item(
                    item_id=ext_id,
                    text=text,
                    text_pair=pair,
                    batch=batch,
                    position=None if position is None else position + 1,
                    batch_size=None if batch_sizes is None else batch_sizes.get(batch),
                    guess=guess,
                    proba=None
                    if proba is None
                    else dict(zip(self.labels, proba, strict=False)),
                    score=None if score is None or math.isnan(score) else float(score),
                    explanation=None
                    if explanation is None
                    else json.loads(explanation),
                    label=label if kind == "label" else None,
                    skipped=kind == "skip",
                    purpose=purpose,
                )
            )
        return items

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
        annotator = self._check_annotator(annotator)
        owner = self._owner(annotator, owner)
        now = time.time()
        claim = claim and not self.readonly
        context = self._store.write() if claim else self._store.read()
        with context as connection:
            batch = self._open_batch_row(connection)
            if batch is None:
                return None
            taken = {
                item
                for item, other in connection.execute(
                    "SELECT c.item, c.owner FROM claims c JOIN batch_items bi "
                    "ON bi.item = c.item AND bi.batch = ? WHERE c.owner != ? "
                    "AND c.expires_at > ?",
                    (batch[0], owner, now),
                )
                if _claim_is_live(other)
            }
            row = None
            for candidate in connection.execute(
                "SELECT bi.item, bi.batch, bi.position, bi.guess, bi.proba, "
                "bi.score, bi.explanation, bi.purpose FROM batch_items bi "
                "LEFT JOIN item_state s ON s.item = bi.item "
                "WHERE bi.batch = ? AND s.item IS NULL ORDER BY bi.position",
                (batch[0],),
            ):
                if candidate[0] not in taken:
                    row = candidate
                    break
            if row is None:
                return None
            if claim:
                _claim(connection, row[0], owner, now)
            size = connection.execute(
                "SELECT COUNT(*) FROM batch_items WHERE batch = ?", (batch[0],)
            ).fetchone()[0]
            return self._items_from_rows(connection, [row], {batch[0]: size})[0]

    def _owner(self, annotator, owner=None):
        # The host and process let a claim of a process that died (killed,
        # crashed) be taken over at once instead of after CLAIM_SECONDS.
        who = annotator if owner is None else f"{annotator}\x1e{owner}"
        return "\x1f".join([who, socket.gethostname(), str(os.getpid()), self._token])

    def item(self, item_id):
        """An item with its current label, its latest batch and its full history.

        Parameters
        ----------
        item_id : str

        Returns
        -------
        item : Item
        """
        with self._store.read() as connection:
            number = self._item_number(connection, item_id)
            row = connection.execute(
                "SELECT item, batch, position, guess, proba, score, explanation, "
                "purpose FROM batch_items WHERE item = ? ORDER BY batch DESC LIMIT 1",
                (number,),
            ).fetchone()
            if row is None:
                row = (number, None, None, None, None, None, None, None)
                sizes = None
            else:
                sizes = {
                    row[1]: connection.execute(
                        "SELECT COUNT(*) FROM batch_items WHERE batch = ?", (row[1],)
                    ).fetchone()[0]
                }
            item = self._items_from_rows(connection, [row], sizes)[0]
            events = connection.execute(
                "SELECT event, kind, label, annotator, created_at, undone, source "
                "FROM events WHERE item = ? ORDER BY event",
                (number,),
            ).fetchall()
        item.history = [
            Event(
                event=event,
                item_id=str(item_id),
                kind=kind,
                label=label,
                annotator=annotator,
                created_at=created,
                undone=bool(undone),
                source=source,
            )
            for event, kind, label, annotator, created, undone, source in events
        ]
        return item

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
        from ._why import why_sentence

        with self._store.read() as connection:
            number = self._item_number(connection, item_id)
            row = connection.execute(
                "SELECT bi.score, bi.guess, bi.proba, bi.explanation, b.kind, "
                "bi.purpose FROM batch_items bi JOIN batches b ON b.batch = bi.batch "
                "WHERE bi.item = ? ORDER BY bi.batch DESC LIMIT 1",
                (number,),
            ).fetchone()
        if row is None:
            return {
                "reason": "not picked: the item was never in a batch",
                "sentence": "This text was never picked: it is in no batch.",
                "kind": None,
            }
        score, guess, proba, explanation, kind, purpose = row
        out = {
            "score": None if score is None or math.isnan(score) else score,
            "guess": guess,
            "proba": None
            if proba is None
            else dict(zip(self.labels, json.loads(proba), strict=False)),
        }
        strategy = self.strategy_name
        if purpose == "audit":
            out["kind"] = "audit"
            # Worded as any random pick: annotators must not tell audit texts
            # apart (``kind`` says it, for programs).
            out["reason"] = "picked at random from the pool"
        elif kind == "initial":
            out["kind"] = "initial"
            out["reason"] = "picked at random: there was no model yet"
        elif explanation is None:
            out["kind"] = "random" if strategy == "random" else "strategy"
            out["reason"] = (
                f"picked by the {strategy} strategy"
                if out["score"] is not None
                else "picked at random"
            )
        else:
            explanation = json.loads(explanation)
            copy = explanation["copies"][explanation["driver"]]
            out.update(
                kind="allsh",
                reason="the model's prediction moved when a few words of the text "
                "were replaced",
                copy=copy["text"],
                copy_proba=dict(zip(self.labels, copy["proba"], strict=False)),
                divergence=copy["divergence"],
                measure=explanation["divergence"],
                copies=explanation["copies"],
            )
        out["sentence"] = why_sentence(
            out["kind"],
            out["proba"],
            copy_proba=out.get("copy_proba"),
            strategy=strategy,
        )
        return out

    def _record(
        self, connection, number, kind, label, annotator, source, created_at=None
    ):
        batch = connection.execute(
            "SELECT batch FROM batch_items WHERE item = ? ORDER BY batch DESC LIMIT 1",
            (number,),
        ).fetchone()
        created_at = time.time() if created_at is None else created_at
        cursor = connection.execute(
            "INSERT INTO events (item, kind, label, annotator, created_at, batch, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                kind,
                label,
                annotator,
                created_at,
                None if batch is None else batch[0],
                source,
            ),
        )
        event = cursor.lastrowid
        connection.execute(
            "INSERT INTO item_state (item, kind, label, event) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(item) DO UPDATE SET kind = excluded.kind, "
            "label = excluded.label, event = excluded.event",
            (number, kind, label, event),
        )
        connection.execute("DELETE FROM claims WHERE item = ?", (number,))
        return event, created_at

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
        label = self._check_label(label)
        annotator = self._check_annotator(annotator)
        with self._store.write() as connection:
            number = self._item_number(connection, item_id)
            event, created = self._record(
                connection, number, "label", label, annotator, source
            )
        return Event(
            event, str(item_id), "label", label, annotator, created, source=source
        )

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
        annotator = self._check_annotator(annotator)
        with self._store.write() as connection:
            number = self._item_number(connection, item_id)
            event, created = self._record(
                connection, number, "skip", None, annotator, source
            )
        return Event(
            event, str(item_id), "skip", None, annotator, created, source=source
        )

    @staticmethod
    def _take_back(connection, number, event, annotator, source):
        """Mark ``event`` undone and record the undo; whether the item has no
        label or skip left standing (it is then unlabeled).

        Part of the caller's write transaction: the undo, the event it marks
        and the item's state change together or not at all.
        """
        connection.execute("UPDATE events SET undone = 1 WHERE event = ?", (event,))
        connection.execute(
            "INSERT INTO events (item, kind, target, annotator, created_at, "
            "source) VALUES (?, 'undo', ?, ?, ?, ?)",
            (number, event, annotator, time.time(), source),
        )
        previous = connection.execute(
            "SELECT event, kind, label FROM events WHERE item = ? AND kind IN "
            "('label', 'skip') AND undone = 0 ORDER BY event DESC LIMIT 1",
            (number,),
        ).fetchone()
        if previous is None:
            connection.execute("DELETE FROM item_state WHERE item = ?", (number,))
            return True
        connection.execute(
            "UPDATE item_state SET event = ?, kind = ?, label = ? WHERE item = ?",
            (previous[0], previous[1], previous[2], number),
        )
        return False

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
        annotator = self._check_annotator(annotator)
        with self._store.write() as connection:
            row = connection.execute(
                "SELECT e.event, e.item, e.kind, e.label, e.created_at, e.source, "
                "i.ext_id FROM events e JOIN items i ON i.item = e.item "
                "WHERE e.annotator = ? AND e.kind IN ('label', 'skip') "
                "AND e.undone = 0 ORDER BY e.event DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            event, number, kind, label, created, old_source, ext_id = row
            if self._take_back(connection, number, event, annotator, source):
                _claim(connection, number, self._owner(annotator, owner))
        return Event(event, ext_id, kind, label, annotator, created, True, old_source)

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
        annotator = self._check_annotator(annotator)
        with self._store.write() as connection:
            number = self._item_number(connection, item_id)
            row = connection.execute(
                "SELECT event, kind, label, annotator, created_at, source "
                "FROM events WHERE item = ? AND kind IN ('label', 'skip') "
                "AND undone = 0 ORDER BY event DESC LIMIT 1",
                (number,),
            ).fetchone()
            if row is None:
                return None
            event, kind, label, given_by, created, old_source = row
            self._take_back(connection, number, event, annotator, source)
        return Event(
            event, str(item_id), kind, label, given_by, created, True, old_source
        )

    # Batches ------------------------------------------------------------------

    def current_batch(self):
        """The open batch with its items (labeled ones included), or None.

        Returns
        -------
        batch : Batch or None
        """
        with self._store.read() as connection:
            row = self._open_batch_row(connection)
            if row is None:
                return None
            return self._batch(connection, row, closed=False)

    def _batch(self, connection, row, closed):
        number, kind, round_, created = row
        rows = connection.execute(
            "SELECT item, batch, position, guess, proba, score, explanation, "
            "purpose FROM batch_items WHERE batch = ? ORDER BY position",
            (number,),
        ).fetchall()
        items = self._items_from_rows(connection, rows, {number: len(rows)})
        done = sum(1 for item in items if item.label is not None or item.skipped)
        return Batch(number, kind, round_, created, items, done, closed)

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
        with self._store.read() as connection:
            last = connection.execute(
                "SELECT label_event FROM rounds ORDER BY round DESC LIMIT 1"
            ).fetchone()
            since = -1 if last is None else last[0]
            return connection.execute(
                "SELECT COUNT(*) FROM item_state s JOIN items i ON i.item = s.item "
                "WHERE s.kind = 'label' AND i.role IS NULL AND s.event > ?",
                (since,),
            ).fetchone()[0]

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
        batch = self._advance(size=size, progress=progress, close_open=True)
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
        self._advance(size=size, progress=progress, close_open=True, force=True)
        rounds = self.rounds()
        return rounds[-1] if rounds else None

    def _snapshot(self, connection):
        train = connection.execute(
            "SELECT s.item, s.label, s.event FROM item_state s JOIN items i "
            "ON i.item = s.item WHERE s.kind = 'label' AND i.role IS NULL "
            "ORDER BY s.item"
        ).fetchall()
        audit = connection.execute(
            "SELECT s.item, s.label FROM item_state s JOIN items i ON i.item = s.item "
            "WHERE s.kind = 'label' AND i.role = 'audit' ORDER BY s.item"
        ).fetchall()
        last = connection.execute(
            "SELECT round, label_event, class_counts FROM rounds "
            "ORDER BY round DESC LIMIT 1"
        ).fetchone()
        digest_row = connection.execute(
            "SELECT value FROM meta WHERE key = ?",
            (f"round_digest:{last[0]}" if last else "",),
        ).fetchone()
        open_batch = self._open_batch_row(connection)
        busy = {
            row[0]
            for row in connection.execute(
                "SELECT item FROM item_state UNION SELECT item FROM items "
                "WHERE role = 'audit'"
            )
        }
        if open_batch is not None:
            pending = connection.execute(
                "SELECT COUNT(*) FROM batch_items bi LEFT JOIN item_state s "
                "ON s.item = bi.item WHERE bi.batch = ? AND s.item IS NULL",
                (open_batch[0],),
            ).fetchone()[0]
        else:
            pending = 0
        slots = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(purpose = 'audit'), 0) FROM batch_items"
        ).fetchone()
        n_batches = connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        stop_set = [
            row[0]
            for row in connection.execute(
                "SELECT item FROM items WHERE stop_set = 1 ORDER BY item"
            )
        ]
        return {
            "train": train,
            "audit": audit,
            "last_round": last,
            "last_digest": None if digest_row is None else digest_row[0],
            "open_batch": open_batch,
            "pending": pending,
            "busy": busy,
            "slots": slots,
            "n_batches": n_batches,
            "stop_set": stop_set,
        }

    @staticmethod
    def _digest(train):
        text = "\n".join(f"{item}\t{label}" for item, label, _ in train)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _advance(self, *, size, progress, close_open, force=False):
        """Retrain if labels changed, query a batch and store it: one transaction.

        Returns the open batch afterwards, or None when the pool is used up
        (a final round was trained, if the labels changed). The caches the
        engine writes meanwhile (augmented copies, embeddings) fail like the
        database: a full disk there is a :class:`StorageError` too.
        """
        with storage_errors(self.path / "cache", "The session's cache"):
            return self._advance_unguarded(
                size=size, progress=progress, close_open=close_open, force=force
            )

    def _advance_unguarded(self, *, size, progress, close_open, force):
        from ..utils._validation import check_int

        if self.readonly:
            raise StorageError(
                f"The session in {self.path} is read-only: no batch can be queried."
            )
        if size is None:
            size = self.config["batch_size"]
            if not self._has_batches():
                size = self.config.get("initial_size") or size
        check_int(size, "size", 1, owner="next_batch")
        report = _check_progress(progress)
        progress = self.progress if progress is None else bool(progress)
        if report is not None:
            progress = False

        def tell(stage, done, total):
            if report is not None:
                report(stage, done, total)

        with self._store.read() as connection:
            snap = self._snapshot(connection)
        train = snap["train"]
        classes = {label for _, label, _ in train}
        digest = self._digest(train)
        last = snap["last_round"]
        changed = last is None or snap["last_digest"] != digest
        if (
            force
            and not changed
            and snap["open_batch"] is not None
            and snap["pending"] > 0
        ):
            tell("no label changed since the last round", 1, 1)
            return self.current_batch()
        ids, X_pool = self._pool()
        n_items = len(ids)
        candidates = [i for i in range(n_items) if i not in snap["busy"]]
        if not candidates:
            self._final_round(snap, digest, changed, progress, report, tell)
            return None
        n_audit = self._audit_plan(snap, size)
        n_train = min(size - n_audit, len(candidates))
        batch_number = snap["n_batches"] + 1
        round_row = None
        explanations = None
        if len(classes) < 2:
            kind, round_number = "initial", None
            tell("drawing a batch at random (no model yet)", 0, 1)
            rng = np.random.RandomState(
                _seed(self.config["random_state"], 0, batch_number)
            )
            chosen = rng.choice(len(candidates), size=n_train, replace=False)
            train_items = [candidates[i] for i in chosen]
            scores = [None] * len(train_items)
            guesses = probas = None
            if progress and train:
                print(
                    f"Only the class {sorted(classes)} has labels so far: this "
                    "batch is drawn at random too."
                )
        else:
            kind = "query"
            engine = self._engine()
            # Unchanged labels (a batch wholly skipped): the same round's
            # model (kept by the loop, or as stored) queries a new batch.
            round_number = 1 if last is None else last[0] + int(changed)
            train_set = {item for item, _, _ in train}
            result = engine.step(
                [item for item, _, _ in train],
                [label for _, label, _ in train],
                snap["busy"] - train_set,
                n_train,
                X_pool=X_pool,
                seed=_seed(self.config["random_state"], round_number),
                model=None if changed else self._stored_model(round_number, X_pool),
                progress=progress,
                # The engine's stages (training, if needed, then scoring) are
                # the first two of four.
                report=None
                if report is None
                else lambda stage, done, total: report(stage, done + 2 - total, 4),
            )
            estimator = result.estimator
            if changed:
                tell("checking the audit sample and the stopping rules", 2, 4)
                round_row = self._evaluate_round(
                    engine, estimator, snap, round_number, result, X_pool, progress
                )
            train_items = [int(i) for i in result.indices]
            scores = [float(s) for s in result.scores]
        audit_items = self._draw_audit(snap, n_audit, exclude=set(train_items))
        # Audit texts sit at random places so annotators cannot tell them apart.
        rng = np.random.RandomState(_seed(self.config["random_state"], 1, batch_number))
        entries = [
            (item, "train", score)
            for item, score in zip(train_items, scores, strict=True)
        ]
        entries += [(item, "audit", None) for item in audit_items]
        order = rng.permutation(len(entries))
        entries = [entries[i] for i in order]
        if kind == "query":
            tell("explaining and saving the batch", 3, 4)
            X_batch = [X_pool[item] for item, _, _ in entries]
            probas = engine.predict_proba(estimator, X_batch)
            guesses = [self.labels[int(i)] for i in probas.argmax(axis=1)]
            picked = [
                i for i, (_, purpose, _) in enumerate(entries) if purpose == "train"
            ]
            explained = engine.explain(
                estimator, [X_batch[i] for i in picked], probas[picked]
            )
            if explained is not None:
                explanations = dict(zip(picked, explained, strict=True))
        self._write_batch(
            snap,
            batch_number=batch_number,
            kind=kind,
            round_number=round_number,
            entries=entries,
            guesses=guesses,
            probas=probas,
            explanations=explanations,
            round_row=round_row,
            estimator=estimator if round_row is not None else None,
            digest=digest,
            close_open=close_open,
        )
        if kind == "query":
            self._model = (round_number, estimator)
            tell("done", 4, 4)
        else:
            tell("done", 1, 1)
        return self.current_batch()

    def _final_round(self, snap, digest, changed, progress, report, tell):
        """Train on every label when the pool is used up: a round, no batch.

        Nothing is left to query, so the round stores the model, the audit
        estimate and the stopping rules' verdicts only; the open batch is
        closed when none of its texts is left. Does nothing when the last
        round was trained on exactly these labels.
        """
        train = snap["train"]
        classes = {label for _, label, _ in train}
        if len(classes) < 2:
            have = (
                f"only {sorted(classes)} has labels" if classes else "none is labeled"
            )
            raise NotReadyError(
                "Every text of the pool is labeled, skipped or in the audit "
                f"sample, but no model can be trained: {have}, and a model "
                "needs labels of two classes. Undo some skips (or relabel) to "
                "go on."
            )
        close_open = snap["open_batch"] is not None and snap["pending"] == 0
        if not changed:
            if close_open:
                self._write_batch(
                    snap,
                    batch_number=None,
                    kind=None,
                    round_number=None,
                    entries=[],
                    guesses=None,
                    probas=None,
                    explanations=None,
                    round_row=None,
                    estimator=None,
                    digest=digest,
                    close_open=True,
                )
            tell("the model is trained on every label already", 1, 1)
            return
        last = snap["last_round"]
        round_number = 1 if last is None else last[0] + 1
        _, X_pool = self._pool()
        engine = self._engine()
        train_set = {item for item, _, _ in train}
        result = engine.step(
            [item for item, _, _ in train],
            [label for _, label, _ in train],
            snap["busy"] - train_set,
            0,
            X_pool=X_pool,
            seed=_seed(self.config["random_state"], round_number),
            progress=progress,
            report=None
            if report is None
            else lambda stage, done, total: report(stage, done + 1 - total, 3),
        )
        tell("checking the audit sample and the stopping rules", 1, 3)
        round_row = self._evaluate_round(
            engine, result.estimator, snap, round_number, result, X_pool, progress
        )
        tell("saving the model", 2, 3)
        self._write_batch(
            snap,
            batch_number=None,
            kind=None,
            round_number=round_number,
            entries=[],
            guesses=None,
            probas=None,
            explanations=None,
            round_row=round_row,
            estimator=result.estimator,
            digest=digest,
            close_open=close_open,
        )
        self._model = (round_number, result.estimator)
        tell("done", 3, 3)

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

    def _has_batches(self):
        with self._store.read() as connection:
            return connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0] > 0

    def _audit_plan(self, snap, size):
        fraction = self.config["audit_fraction"]
        n_slots, n_audit_slots = snap["slots"]
        if fraction <= 0:
            return 0
        target = math.floor(fraction * (n_slots + size) + 1e-9)
        return max(0, min(size - 1, target - n_audit_slots))

    def _draw_audit(self, snap, n_audit, exclude):
        if n_audit == 0:
            return []
        with self._store.read() as connection:
            rows = connection.execute(
                # Audit texts of a batch closed before they were labeled come
                # back first (they keep their place in the random order).
                "SELECT i.item FROM items i LEFT JOIN item_state s ON s.item = i.item "
                "WHERE s.item IS NULL ORDER BY i.audit_rank LIMIT ?",
                (n_audit + len(exclude),),
            ).fetchall()
        return [row[0] for row in rows if row[0] not in exclude][:n_audit]

    def _evaluate_round(
        self, engine, estimator, snap, round_number, result, X_pool, progress
    ):
        stop_items = snap["stop_set"]
        stop_proba = engine.predict_proba(
            estimator, [X_pool[i] for i in stop_items], progress, "stop set"
        )
        stop_predictions = stop_proba.argmax(axis=1).astype(np.int16)
        audit = snap["audit"]
        predicted = []
        if audit:
            audit_proba = engine.predict_proba(estimator, [X_pool[i] for i, _ in audit])
            predicted = [self.labels[int(i)] for i in audit_proba.argmax(axis=1)]
            correct = int(
                sum(p == label for p, (_, label) in zip(predicted, audit, strict=True))
            )
            low, high = accuracy_interval(correct, len(audit))
        else:
            correct, low, high = 0, None, None
        counts = {label: 0 for label in self.labels}
        for _, label, _ in snap["train"]:
            counts[label] += 1
        estimates = self._class_estimates(
            engine,
            estimator,
            snap,
            round_number,
            result,
            X_pool,
            audit_labels=[label for _, label in audit],
            audit_predicted=predicted,
            train_counts=counts,
            stop_set=dict(zip(stop_items, stop_predictions.tolist(), strict=True)),
        )
        label_event = max((event for _, _, event in snap["train"]), default=0)
        row = {
            "round": round_number,
            "created_at": time.time(),
            "n_labeled": len(snap["train"]),
            "label_event": label_event,
            "class_counts": json.dumps(counts),
            "n_audit": len(audit),
            "audit_correct": correct,
            "audit_low": low,
            "audit_high": high,
            "mean_pool_score": result.mean_pool_score,
            "stop_set_predictions": stop_predictions.tobytes(),
            "stop_set_proba": stop_proba.astype(np.float32).tobytes(),
            "train_seconds": result.train_seconds,
            "query_seconds": result.query_seconds,
            "class_estimates": json.dumps(estimates),
        }
        history = self._history() + [_HistoryRound.from_row(row, len(self.labels))]
        checks = evaluate_rules(self._rules(), history)
        row["checks"] = json.dumps([check.as_dict() for check in checks])
        return row

    def _class_estimates(
        self,
        engine,
        estimator,
        snap,
        round_number,
        result,
        X_pool,
        *,
        audit_labels,
        audit_predicted,
        train_counts,
        stop_set,
    ):
        """The round's per-class estimates (:func:`class_estimates`), as a dict.

        The model's predictions on the unlabeled pool (for the "never
        predicted" warning) are those the query made anyway when the
        strategy kept them (class-balanced ones); otherwise those of a
        seeded random sample of at most :data:`POOL_SAMPLE` unlabeled texts,
        the stop set's predictions reused where the sample meets it.
        """
        busy = snap["busy"]
        unlabeled = [i for i in range(len(X_pool)) if i not in busy]
        pool_labels, pool_size, source = None, None, None
        if result.pool_predictions is not None:
            pool_labels, source = list(result.pool_predictions), "query"
        elif unlabeled:
            sample = np.asarray(unlabeled)
            if len(sample) > POOL_SAMPLE:
                rng = np.random.RandomState(
                    _seed(self.config["random_state"], 2, round_number)
                )
                sample = np.sort(rng.choice(sample, POOL_SAMPLE, replace=False))
                pool_size = len(unlabeled)
            known = {int(i): stop_set[int(i)] for i in sample if int(i) in stop_set}
            missing = [int(i) for i in sample if int(i) not in known]
            if missing:
                proba = engine.predict_proba(estimator, [X_pool[i] for i in missing])
                known.update(zip(missing, proba.argmax(axis=1).tolist(), strict=True))
            pool_labels = [self.labels[int(known[int(i)])] for i in sample]
            source = "sample" if pool_size is not None else "pool"
        estimates = class_estimates(
            audit_labels,
            audit_predicted,
            self.labels,
            train_counts=train_counts,
            pool_predictions=pool_labels,
            pool_size=pool_size,
            confidence=AUDIT_CONFIDENCE,
            min_train_labels=MIN_TRAIN_LABELS,
            recall_threshold=RECALL_THRESHOLD,
            random_state=round_number,
        )
        out = estimates.as_dict()
        out.update(
            round=round_number,
            confidence=AUDIT_CONFIDENCE,
            min_train_labels=MIN_TRAIN_LABELS,
            recall_threshold=RECALL_THRESHOLD,
            pool={
                "n": 0 if pool_labels is None else len(pool_labels),
                "of": len(unlabeled),
                "source": source,
            },
        )
        return out

    def _write_batch(
        self,
        snap,
        *,
        batch_number,
        kind,
        round_number,
        entries,
        guesses,
        probas,
        explanations,
        round_row,
        estimator,
        digest,
        close_open,
    ):
        model_blob = None
        if estimator is not None:
            model_blob = self._engine().dumps(estimator)
        now = time.time()
        last = snap["last_round"]
        with self._store.write() as connection:
            # Another process may have queried or trained meanwhile: keep its
            # batch and its round.
            current = connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
            if current != snap["n_batches"]:
                return
            latest = connection.execute("SELECT MAX(round) FROM rounds").fetchone()[0]
            if latest != (None if last is None else last[0]):
                return
            if round_row is not None:
                columns = list(round_row)
                connection.execute(
                    f"INSERT INTO rounds ({', '.join(columns)}) VALUES "
                    f"({', '.join('?' * len(columns))})",
                    [round_row[c] for c in columns],
                )
                connection.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (f"round_digest:{round_number}", digest),
                )
                connection.execute("DELETE FROM models")
                connection.execute(
                    "INSERT INTO models (round, format, data) VALUES (?, 'pickle', ?)",
                    (round_number, model_blob),
                )
            if close_open:
                connection.execute(
                    "UPDATE batches SET closed_at = ? WHERE closed_at IS NULL", (now,)
                )
            if batch_number is None:  # a final round: nothing left to query
                return
            connection.execute(
                "INSERT INTO batches (batch, round, kind, created_at) "
                "VALUES (?, ?, ?, ?)",
                (batch_number, round_number, kind, now),
            )
            rows = []
            for position, (item, purpose, score) in enumerate(entries):
                explanation = None
                if explanations is not None and position in explanations:
                    explanation = json.dumps(explanations[position])
                rows.append(
                    (
                        batch_number,
                        position,
                        item,
                        purpose,
                        score,
                        None if guesses is None else guesses[position],
                        None
                        if probas is None
                        else json.dumps([round(float(p), 6) for p in probas[position]]),
                        explanation,
                    )
                )
            connection.executemany(
                "INSERT INTO batch_items (batch, position, item, purpose, score, "
                "guess, proba, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            audit = [item for item, purpose, _ in entries if purpose == "audit"]
            connection.executemany(
                "UPDATE items SET role = 'audit' WHERE item = ?", [(i,) for i in audit]
            )

    def _stored_model(self, round_number, X_pool):
        """The model of a round kept in memory or in the database, else None.

        None also when the stored model cannot be loaded by this version:
        the loop then trains it again (with the round's seed, the same model).
        """
        if self._model is not None and self._model[0] == round_number:
            return self._model[1]
        row = self._model_row(round_number)
        if row is None:
            return None
        try:
            return self._engine().loads(bytes(row[0]), X_pool)
        except Exception:  # written by another version: train it again
            return None

    def _model_row(self, round_number):
        """The stored model's row ``(data,)`` of a round, or None."""
        with self._store.read() as connection:
            return connection.execute(
                "SELECT data FROM models WHERE round = ?", (round_number,)
            ).fetchone()

    def _load_model(self, round_number, X_pool, train=None):
        """The model of a round: from memory, from the database, or refitted.

        A stored model this version cannot unpickle (its classes changed) is
        refitted on the round's labels (``train``) with the round's seed,
        which gives the same model.
        """
        if self._model is not None and self._model[0] == round_number:
            return self._model[1]
        row = self._model_row(round_number)
        if row is None and train is None:
            raise NotReadyError("The session has no trained model yet.")
        engine = self._engine()
        estimator = None
        if row is not None:
            try:
                estimator = engine.loads(bytes(row[0]), X_pool)
            except Exception:
                if train is None:
                    raise
        if estimator is None:
            estimator = engine.fit(
                [X_pool[item] for item, _, _ in train],
                [label for _, label, _ in train],
                X_pool=X_pool,
                seed=_seed(self.config["random_state"], round_number),
                progress=self.progress,
            )
        self._model = (round_number, estimator)
        return estimator

    def model(self):
        """The last trained classifier (loaded from the database).

        Returns
        -------
        estimator : object
        """
        rounds = self.rounds()
        if not rounds:
            raise NotReadyError(
                "The session has no trained model yet: label texts of at least "
                "two classes, then retrain (allsh-label retrain)."
            )
        return self._load_model(rounds[-1].round, self._pool()[1])

    # Rounds, status, learning curve -------------------------------------------

    def _history(self):
        with self._store.read() as connection:
            rows = connection.execute(
                "SELECT round, n_labeled, stop_set_predictions, stop_set_proba, "
                "mean_pool_score FROM rounds ORDER BY round"
            ).fetchall()
        keys = (
            "round",
            "n_labeled",
            "stop_set_predictions",
            "stop_set_proba",
            "mean_pool_score",
        )
        return [
            _HistoryRound.from_row(dict(zip(keys, row, strict=True)), len(self.labels))
            for row in rows
        ]

    def rounds(self):
        """Every retraining so far, oldest first.

        Returns
        -------
        rounds : list of RoundInfo
        """
        # A version-1 database opened read-only has no per-class estimates.
        estimates = "class_estimates" if self._store.found_version >= 2 else "NULL"
        with self._store.read() as connection:
            rows = connection.execute(
                "SELECT round, created_at, n_labeled, class_counts, n_audit, "
                "audit_correct, audit_low, audit_high, mean_pool_score, checks, "
                f"train_seconds, query_seconds, {estimates} FROM rounds "
                "ORDER BY round"
            ).fetchall()
        return [
            RoundInfo(
                round=r[0],
                created_at=r[1],
                n_labeled=r[2],
                class_counts=json.loads(r[3]),
                n_audit=r[4],
                audit_correct=r[5],
                audit_accuracy=None if r[4] == 0 else r[5] / r[4],
                audit_low=r[6],
                audit_high=r[7],
                mean_pool_score=r[8],
                checks=json.loads(r[9]),
                train_seconds=r[10],
                query_seconds=r[11],
                class_estimates=None if r[12] is None else json.loads(r[12]),
            )
            for r in rows
        ]

    def status(self):
        """Where the session stands.

        Returns
        -------
        status : SessionStatus
        """
        with self._store.read() as connection:
            n_items = connection.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            counts = dict.fromkeys(self.labels, 0)
            n_audit = n_skipped = 0
            for kind, label, role, n in connection.execute(
                "SELECT s.kind, s.label, i.role, COUNT(*) FROM item_state s "
                "JOIN items i ON i.item = s.item GROUP BY s.kind, s.label, i.role"
            ):
                if kind == "skip":
                    n_skipped += n
                elif role == "audit":
                    n_audit += n
                else:
                    counts[label] = counts.get(label, 0) + n
            annotators = dict(
                connection.execute(
                    "SELECT e.annotator, COUNT(*) FROM item_state s JOIN events e "
                    "ON e.event = s.event WHERE s.kind = 'label' GROUP BY e.annotator"
                ).fetchall()
            )
            n_events = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            open_batch = self._open_batch_row(connection)
            batch = None
            if open_batch is not None:
                size, done = connection.execute(
                    "SELECT COUNT(*), COUNT(s.item) FROM batch_items bi LEFT JOIN "
                    "item_state s ON s.item = bi.item WHERE bi.batch = ?",
                    (open_batch[0],),
                ).fetchone()
                batch = {
                    "batch": open_batch[0],
                    "kind": open_batch[1],
                    "size": size,
                    "done": done,
                }
            n_unlabeled = connection.execute(
                "SELECT COUNT(*) FROM items i LEFT JOIN item_state s "
                "ON s.item = i.item WHERE s.item IS NULL AND i.role IS NULL"
            ).fetchone()[0]
            up_to_date = self._model_is_current(connection)
        rounds = self.rounds()
        return SessionStatus(
            session_id=self.session_id,
            n_items=n_items,
            n_labeled=sum(counts.values()),
            n_audit_labeled=n_audit,
            n_skipped=n_skipped,
            class_counts=counts,
            n_events=n_events,
            annotators=annotators,
            batch=batch,
            labels_since_round=self._labels_since_round(),
            rounds=rounds,
            should_stop=bool(rounds and rounds[-1].stop),
            n_unlabeled=n_unlabeled,
            model_up_to_date=up_to_date,
            class_estimates=rounds[-1].class_estimates if rounds else None,
        )

    def _model_is_current(self, connection):
        """Whether the last round was trained on exactly the current labels."""
        last = connection.execute("SELECT MAX(round) FROM rounds").fetchone()[0]
        if last is None:
            return False
        stored = connection.execute(
            "SELECT value FROM meta WHERE key = ?", (f"round_digest:{last}",)
        ).fetchone()
        train = connection.execute(
            "SELECT s.item, s.label, s.event FROM item_state s JOIN items i "
            "ON i.item = s.item WHERE s.kind = 'label' AND i.role IS NULL "
            "ORDER BY s.item"
        ).fetchall()
        return stored is not None and stored[0] == self._digest(train)

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
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        rounds = self.rounds()
        figure, (top, bottom) = plt.subplots(
            2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
        audited = [r for r in rounds if r.n_audit > 0]
        if audited:
            x = [r.n_labeled for r in audited]
            top.plot(
                x, [r.audit_accuracy for r in audited], "o-", label="audit estimate"
            )
            top.fill_between(
                x,
                [r.audit_low for r in audited],
                [r.audit_high for r in audited],
                alpha=0.25,
                label="95% interval (Wilson)",
            )
        if truth:
            top.plot(*zip(*truth, strict=True), "s--", color="black", label=truth_label)
        top.set_ylabel("accuracy")
        top.set_title("Learning curve")
        if audited or truth:
            top.legend(loc="lower right")
        top.grid(alpha=0.3)
        fired = {}
        for r in rounds:
            for check in r.checks:
                if check["stop"] and check["rule"] not in fired:
                    fired[check["rule"]] = r.n_labeled
        for rule, n in fired.items():
            for axis in (top, bottom):
                axis.axvline(n, color="grey", linestyle=":", linewidth=1)
            top.annotate(
                f"{rule} says stop",
                (n, 0.98),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize=8,
                color="grey",
                va="top",
                ha="right",
            )
        names = sorted({c["rule"] for r in rounds for c in r.checks})
        thresholds = self._thresholds(names)
        for name in names:
            xs, ys = [], []
            for r in rounds:
                for check in r.checks:
                    if check["rule"] == name and check["value"] is not None:
                        xs.append(r.n_labeled)
                        ys.append(check["value"])
            threshold = thresholds.get(name)
            if threshold is not None and threshold[1] == "x":
                value, _, text = threshold
                for axis in (top, bottom):
                    axis.axvline(
                        value,
                        color="black",
                        linestyle="--",
                        linewidth=1,
                        label=text if axis is bottom else None,
                    )
                continue
            color = None
            if xs:
                (line,) = bottom.plot(xs, ys, ".-", label=name)
                color = line.get_color()
            if threshold is not None and rounds:
                value, _, text = threshold
                bottom.axhline(
                    value,
                    color=color or "grey",
                    linestyle="--",
                    linewidth=1,
                    label=text,
                )
        bottom.set_xlabel("training labels")
        bottom.set_ylabel("stopping rule value")
        if names:
            bottom.legend(loc="best", fontsize=8)
        bottom.grid(alpha=0.3)
        figure.tight_layout()
        if path is not None:
            figure.savefig(path, dpi=120)
            plt.close(figure)
        return figure

    def _thresholds(self, names):
        """``{rule name: (value, axis, text)}``: where each stopping rule's
        threshold is drawn (``axis`` ``"y"``: on its value; ``"x"``: a label
        budget, on the number of labels)."""
        from ..stopping import (
            DivergencePlateau,
            LabelBudget,
            OverallUncertainty,
            StabilizingPredictions,
        )

        try:
            rules = self._rules()
        except Exception:  # rules written by another version: draw none
            return {}
        if not isinstance(rules, dict):
            rules = {type(rule).__name__: rule for rule in rules}
        out = {}
        for name, rule in rules.items():
            if name not in names:
                continue
            if isinstance(rule, LabelBudget):
                out[name] = (float(rule.budget), "x", f"{name}: {rule.budget} labels")
                continue
            value = getattr(rule, "tolerance", None)
            if not isinstance(rule, DivergencePlateau) or value is None:
                value = getattr(rule, "threshold", None)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if isinstance(rule, StabilizingPredictions):
                op = "≥"
            elif isinstance(rule, OverallUncertainty | DivergencePlateau):
                op = "≤"
            else:
                op = "at"
            out[name] = (float(value), "y", f"{name}: stop {op} {value:g}")
        return out

    # Files --------------------------------------------------------------------

    def _kept_by_session(self, path):
        """What ``path`` is to the session if it keeps it, else None.

        The session keeps its database (with SQLite's ``-wal``, ``-shm`` and
        ``-journal`` files and the temporary file of :meth:`create`), the
        ``cache/`` folder and everything in it, and the project folder
        itself. Symbolic links are followed and hard links recognised, so a
        link to the database is the database.
        """
        target = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        # The folders resolved, the name kept: the file a write would replace.
        direct = Path(os.path.realpath(target.parent)) / target.name
        resolved = Path(os.path.realpath(target))
        project = Path(os.path.realpath(self.path))
        database = Path(os.path.realpath(self.path / DATABASE_NAME))
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

    def _check_output(self, path, name, owner):
        """Refuse, before any work, to write over a file the session keeps."""
        kept = self._kept_by_session(path)
        if kept is not None:
            raise ValueError(
                f"The '{name}' parameter of {owner} must name a file outside the "
                f"session's own files ({DATABASE_NAME} and its -wal and -shm "
                f"files, the cache/ folder) in {os.fspath(self.path)!r}. Got "
                f"{os.fspath(path)!r}, which is {kept}. Nothing was written."
            )

    def _columns(self):
        pair = self.config.get("pair_column") is not None
        return ["id", "text"] + (["text_pair"] if pair else [])

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
        self._check_output(path, "path", "export_batch")
        batch = self.current_batch()
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
            session_id=self.session_id,
            columns=self._columns() + ["label", "guess", "guess_probability"],
            model_version=label_studio_model_version(batch.round, batch.batch),
        )
        return len(rows)

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
        self._check_output(path, "path", "export_labels")
        with self._store.read() as connection:
            rows = connection.execute(
                "SELECT i.ext_id, i.text, i.text_pair, s.label, e.annotator, "
                "e.created_at, i.role FROM item_state s "
                "JOIN items i ON i.item = s.item "
                "JOIN events e ON e.event = s.event WHERE s.kind = 'label' "
                "ORDER BY s.event"
            ).fetchall()
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
            session_id=self.session_id,
            columns=self._columns() + ["label", "annotator", "labeled_at", "audit"],
        )
        return len(out)

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
        import unicodedata

        from ._formats import spreadsheet_unescape

        rows, n_unlabeled = read_label_rows(path, format)
        name = os.fspath(path)
        default_annotator = annotator or "import"
        problems = []
        other_sessions = sorted(
            {
                row.session_id
                for row in rows
                if row.session_id not in (None, self.session_id)
            }
        )
        if other_sessions:
            raise InputFileError(
                f"{name!r} was exported from another session "
                f"({', '.join(s[:8] for s in other_sessions)}); this session is "
                f"{self.session_id[:8]}. Import it into the session it came from, "
                "or remove its session_id column if you know the ids match.",
                problems=[f"session {s}" for s in other_sessions],
            )
        names = {unicodedata.normalize("NFC", label): label for label in self.labels}
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
                    f"{row.row}: label {row.label!r} is not in {self.labels}"
                )
        with self._store.read() as connection:
            known = {}
            wanted = list(
                dict.fromkeys(
                    candidate
                    for row in rows
                    for candidate in (row.item_id, spreadsheet_unescape(row.item_id))
                )
            )
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                known.update(
                    connection.execute(
                        f"SELECT ext_id, item FROM items WHERE ext_id IN "
                        f"({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                )
        for row in rows:
            if row.item_id not in known:
                unescaped = spreadsheet_unescape(row.item_id)
                if unescaped in known:
                    row.item_id = unescaped
                else:
                    problems.append(
                        f"{row.row}: id {row.item_id!r} is not in this session"
                    )
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

        with self._store.write() as connection:
            numbers = [known[row.item_id] for row in rows]
            state, roles = {}, {}
            unique = list(dict.fromkeys(numbers))
            for start in range(0, len(unique), CHUNK):
                chunk = unique[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                for item, kind, label in connection.execute(
                    f"SELECT item, kind, label FROM item_state WHERE item IN ({marks})",
                    chunk,
                ):
                    state[item] = (kind, label)
                roles.update(
                    connection.execute(
                        f"SELECT item, role FROM items WHERE item IN ({marks})", chunk
                    ).fetchall()
                )
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
            connection.executemany(
                "UPDATE items SET role = 'audit' WHERE item = ? AND role IS NULL",
                [(number,) for number in audit],
            )
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
                self._record(
                    connection,
                    number,
                    kind,
                    label,
                    row.annotator or default_annotator,
                    source,
                    created_at=row.created_at,
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
            report.round = self.retrain(progress=progress)
        return report

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
        import joblib

        self._check_output(path, "path", "export_model")
        rounds = self.rounds()
        if not rounds:
            raise NotReadyError(
                "The session has no trained model yet: label texts of at least two "
                "classes and retrain first."
            )
        with self._store.read() as connection:
            row = connection.execute(
                "SELECT data FROM models WHERE round = ?", (rounds[-1].round,)
            ).fetchone()
        estimator = self._engine().loads(
            bytes(row[0]), self._pool()[1], fresh_shared=True
        )
        path = Path(path)
        if callable(getattr(estimator, "save_params", None)):
            path.mkdir(parents=True, exist_ok=True)
            estimator.save_params(
                f_params=path / "params.pt", f_history=path / "history.json"
            )
            joblib.dump(estimator, path / "model.joblib")
            (path / "classes.json").write_text(
                json.dumps([str(c) for c in estimator.classes_]), encoding="utf-8"
            )
            return path
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            joblib.dump(estimator, temporary)
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        return path

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
        from ..utils._validation import check_texts

        check_texts(X, name="X")
        estimator = self.model()
        proba = self._engine().predict_proba(
            estimator, list(X), self.progress, "predicting"
        )
        return [self.labels[int(i)] for i in proba.argmax(axis=1)], proba

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
        import pandas as pd

        from ._formats import guess_format, read_table

        # The output is checked before the (long) predictions.
        self._check_output(output, "output", "predict_file")
        output_format = guess_format(output, output_format)
        text_column = text_column or self.config["text_column"]
        pair_column = pair_column or self.config.get("pair_column")

        if id_column is None and self.config.get("id_column") is not None:
            # The session's id column, when the file has one.
            columns = (
                data.columns
                if isinstance(data, pd.DataFrame)
                else read_table(data, format).columns
            )
            if self.config["id_column"] in columns:
                id_column = self.config["id_column"]
        # Read from the file itself, so that its errors name the file.
        pool = read_pool(
            data,
            text_column=text_column,
            pair_column=pair_column,
            id_column=id_column,
            format=None if isinstance(data, pd.DataFrame) else format,
        )
        X = (
            pool.texts
            if pool.pairs is None
            else list(zip(pool.texts, pool.pairs, strict=True))
        )
        predicted, proba = self.predict(X)
        pair = pool.pairs is not None
        columns = ["text"] + (["text_pair"] if pair else []) + ["prediction"]
        columns += [f"p({label})" for label in self.labels]
        name = "id"  # Label Studio tasks carry the id under their own key
        if (
            id_column is not None
            and id_column not in columns + ["session_id"]
            and output_format != "labelstudio"
        ):
            name = str(id_column)
        rows = []
        for index, item_id in enumerate(pool.ids):
            row = {
                name: item_id,
                "text": pool.texts[index],
                "prediction": predicted[index],
            }
            if pair:
                row["text_pair"] = pool.pairs[index]
            for column, label in enumerate(self.labels):
                row[f"p({label})"] = float(proba[index, column])
            rows.append(row)
        write_rows(
            output,
            rows,
            format=output_format,
            session_id=self.session_id,
            columns=[name, *columns],
        )
        return len(rows)

    # Maintenance --------------------------------------------------------------

    def clear_cache(self):
        """Delete the project's cache folder (embeddings, augmented copies)."""
        shutil.rmtree(self.path / "cache", ignore_errors=True)


@dataclass
class _HistoryRound:
    """A stored round as the stopping rules read it."""

    n_labeled: int
    stop_set_predictions: object
    stop_set_proba: object
    mean_pool_score: float | None

    @classmethod
    def from_row(cls, row, n_labels):
        predictions = row.get("stop_set_predictions")
        proba = row.get("stop_set_proba")
        if predictions is not None:
            predictions = np.frombuffer(predictions, dtype=np.int16)
        if proba is not None:
            proba = np.frombuffer(proba, dtype=np.float32).reshape(-1, n_labels)
        return cls(row["n_labeled"], predictions, proba, row.get("mean_pool_score"))


_ = SCHEMA_VERSION  # re-exported through the package for the CLI's --version
