"""Creating a labeling session: its parameters checked, its project folder made.

The body of :meth:`LabelingSession.create
<allsh_sklearn.session.LabelingSession.create>`, the classifier and strategy
a session gets unless told otherwise (:data:`DEFAULT_CLASSIFIER`,
:data:`DEFAULT_STRATEGY`: the one place they are decided, for ``create`` and
``allsh-label init`` alike), and its default stopping rules
(:func:`default_stopping_rules`, which ``allsh-label init`` starts from).
"""

import json
import numbers
import os
import pickle
import time
import unicodedata
import uuid
import warnings
from collections.abc import Mapping, Set
from pathlib import Path

import numpy as np

from ..models import TIERS
from ..stopping import OverallUncertainty, StabilizingPredictions, StoppingRule
from ..utils._constraints import (
    Callable,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    validate_parameter,
)
from ._engine import check_strategy_name
from ._errors import SessionError, StorageError
from ._formats import read_pool
from ._records import SKIP
from ._store import DATABASE_NAME, SessionStore

__all__ = [
    "DEFAULT_CLASSIFIER",
    "DEFAULT_STRATEGY",
    "create_session",
    "default_stopping_rules",
]

#: The classifier tier of a session created without ``classifier`` (and of
#: ``allsh-label init`` without ``--classifier``). Chosen by the session
#: defaults benchmark (benchmarks/bench_session_defaults.py, 5 tasks, 5
#: seeds; see the user guide's session_defaults page) by one rule: at 800
#: labels, the smallest largest shortfall in macro-F1 from the best
#: combination of each task. The 20k TF-IDF terms beside the frozen MiniLM
#: embedding, with ALLSH's score ranked together with the entropy
#: (``"allsh-rank-mean"``), is at most 1.4 points from the best on every
#: task (IMDB, where TF-IDF alone does better), and 7-10 points above the
#: TF-IDF tiers on AG News, TREC and SST-2. It encodes the pool and ALLSH's
#: copies once, before the first query.
DEFAULT_CLASSIFIER = "tfidf-minilm"

#: The strategy of a session created without ``strategy`` (and of
#: ``allsh-label init`` without ``--strategy``); see
#: :data:`DEFAULT_CLASSIFIER` for how it was chosen.
DEFAULT_STRATEGY = "allsh-rank-mean"

#: The owner the messages name.
_OWNER = "LabelingSession"

#: What each parameter of :meth:`LabelingSession.create` checked on its own
#: may be, checked in this order (``labels``, ``stopping_rules`` and the
#: strategy's name, which depends on the classifier, have their own checks).
_PARAMETER_CONSTRAINTS = {
    "batch_size": [Interval(numbers.Integral, 1, None)],
    "initial_size": [Interval(numbers.Integral, 1, None), None],
    "stop_set_size": [Interval(numbers.Integral, 1, None)],
    "random_state": [Interval(numbers.Integral, 0, None)],
    "retrain_every": [Interval(numbers.Integral, 1, None), None],
    "audit_fraction": [Interval(numbers.Real, 0, 0.9)],
    "classifier": [
        InstanceOf(str, description="a tier name (e.g. 'tfidf-lr')"),
        HasMethods(
            ["fit", "predict_proba"],
            description="an unfitted classifier with fit and predict_proba",
        ),
    ],
    "strategy": [
        InstanceOf(str, description="a strategy name (e.g. 'allsh')"),
        Callable(description="a callable query strategy"),
    ],
}


def default_stopping_rules():
    """The stopping rules of a session created without ``stopping_rules``.

    Stabilizing predictions (k=3, 0.99) and overall uncertainty (0.1).
    DivergencePlateau is left out: on the user guide's 50,000-text run it
    said stop at 990 labels while held-out accuracy still rose by five
    points (docs/user_guide/labeling.md); opt in with ``stopping_rules``.

    Returns
    -------
    rules : dict of {str: StoppingRule}
    """
    return {
        "stabilizing": StabilizingPredictions(window=3, threshold=0.99),
        "uncertainty": OverallUncertainty(threshold=0.1),
    }


def _check_labels(labels):
    """The label set as a list of stripped, NFC-normalised names.

    A set (or a mapping) is refused: the order of the labels is the order of
    the model's columns and of the keys, so it must be given. Every label
    must be a string (``None`` or ``True`` are refused, not turned into
    ``"None"``); two spellings of one label (NFC and NFD) are one label.
    """
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


def _check_parameters(**values):
    """Refuse the sizes, seed, fraction, classifier and strategy :meth:`create`
    cannot take (``values``: ``{name: value}`` of :data:`_PARAMETER_CONSTRAINTS`)."""
    for name, constraints in _PARAMETER_CONSTRAINTS.items():
        validate_parameter(values[name], name, constraints, owner=_OWNER)
    classifier, strategy = values["classifier"], values["strategy"]
    if isinstance(classifier, str):
        validate_parameter(classifier, "classifier", [Options(TIERS)], owner=_OWNER)
    if isinstance(strategy, str):
        check_strategy_name(strategy, classifier)


def _checked_rules(stopping_rules):
    """The stopping rules as a dict (the default ones for None)."""
    rules = default_stopping_rules() if stopping_rules is None else dict(stopping_rules)
    for name, rule in rules.items():
        if not isinstance(rule, StoppingRule):
            raise TypeError(
                "The 'stopping_rules' parameter of LabelingSession must map "
                f"names to StoppingRule objects. Got {type(rule).__name__} for "
                f"{name!r} instead."
            )
    return rules


def _make_folder(folder):
    """Make the project folder; the folders made (to remove if creating fails)."""
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
    return made


def _write_database(folder, meta, item_rows, blobs, made):
    """Write the database beside its final name, then move it there: a
    session is created whole or not at all."""
    database = folder / DATABASE_NAME
    temporary = folder / f".{DATABASE_NAME}.{os.getpid()}.creating"
    for leftover in folder.glob(f".{DATABASE_NAME}.*.creating*"):
        leftover.unlink()
    store = None
    try:
        store = SessionStore(temporary, create=True)
        store.populate(meta, item_rows, blobs, time.time())
        store.close()
        os.replace(temporary, database)
    except BaseException:
        if store is not None:
            store.close()
        for leftover in folder.glob(f".{DATABASE_NAME}.{os.getpid()}.creating*"):
            leftover.unlink()
        _remove_empty(made)
        raise


def _id_column_hint(pool, folder, id_column):
    """A hint to key the texts by a column that looks like ids, or None."""
    if id_column is not None or not pool.id_like_columns:
        return None
    column = pool.id_like_columns[0]
    merged = (
        f", and {pool.n_merged_duplicates} repeated texts were merged into one"
        if pool.n_merged_duplicates
        else ""
    )
    return (
        f"Hint: the ids are hashes of the texts{merged}, but the file has "
        f"a column {column!r} that looks like ids. To key the texts by "
        f"it, remove {folder} and create the session again with "
        f"--id-column {column} (in Python: id_column={column!r})."
    )


def create_session(
    open_session,
    path,
    data,
    *,
    labels,
    text_column,
    pair_column,
    id_column,
    classifier,
    strategy,
    batch_size,
    initial_size,
    audit_fraction,
    stop_set_size,
    stopping_rules,
    retrain_every,
    random_state,
    drop_empty,
    format,
    progress,
):
    """Create a session in a new project folder (see :meth:`LabelingSession.create
    <allsh_sklearn.session.LabelingSession.create>`, whose parameters these are).

    Parameters
    ----------
    open_session : callable
        ``open_session(folder, progress=...)`` opens the session once its
        database is written (:meth:`LabelingSession.open
        <allsh_sklearn.session.LabelingSession.open>`).

    Returns
    -------
    session : LabelingSession
    """
    labels = _check_labels(labels)
    _check_parameters(
        batch_size=batch_size,
        initial_size=initial_size,
        stop_set_size=stop_set_size,
        random_state=random_state,
        retrain_every=retrain_every,
        audit_fraction=audit_fraction,
        classifier=classifier,
        strategy=strategy,
    )
    rules = _checked_rules(stopping_rules)
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
    made = _make_folder(folder)
    n_items = len(pool.ids)
    rng = np.random.RandomState(random_state)
    audit_rank = rng.permutation(n_items)
    stop_set = np.zeros(n_items, dtype=bool)
    stop_set[rng.choice(n_items, size=min(stop_set_size, n_items), replace=False)] = (
        True
    )
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
    item_rows = (
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
    _write_database(folder, meta, item_rows, blobs, made)
    session = open_session(folder, progress=progress)
    hint = _id_column_hint(pool, folder, id_column)
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
        # Shown at the line that called LabelingSession.create.
        warnings.warn(hint.removeprefix("Hint: "), UserWarning, stacklevel=3)
    session.n_dropped_empty = pool.n_dropped_empty
    session.n_merged_duplicates = pool.n_merged_duplicates
    session.id_column_hint = hint
    return session
