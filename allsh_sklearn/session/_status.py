"""Where a labeling session stands: counts, the open batch, the last round.

The body of :meth:`LabelingSession.status
<allsh_sklearn.session.LabelingSession.status>`.
"""

from ._records import SessionStatus
from ._rounds import label_digest

__all__ = ["labels_since_round", "status"]


def labels_since_round(session):
    """Training labels given to ``session`` since the last retraining."""
    with session._store.read() as connection:
        return session._store.labels_since_round(connection)


def _model_is_current(store, connection):
    """Whether the last round was trained on exactly the current labels."""
    last = store.latest_round(connection)
    if last is None:
        return False
    stored = store.round_digest(connection, last)
    digest = label_digest(store.training_labels(connection))
    return stored is not None and stored == digest


def status(session):
    """Where ``session`` stands (see :meth:`LabelingSession.status
    <allsh_sklearn.session.LabelingSession.status>`).

    Returns
    -------
    status : SessionStatus
    """
    store = session._store
    with store.read() as connection:
        n_items = store.item_count(connection)
        counts = dict.fromkeys(session.labels, 0)
        n_audit = n_skipped = 0
        for kind, label, role, n in store.state_counts(connection):
            if kind == "skip":
                n_skipped += n
            elif role == "audit":
                n_audit += n
            else:
                counts[label] = counts.get(label, 0) + n
        annotators = store.labels_per_annotator(connection)
        n_events = store.event_count(connection)
        open_batch = store.open_batch(connection)
        batch = None
        if open_batch is not None:
            size, done = store.batch_progress(connection, open_batch[0])
            batch = {
                "batch": open_batch[0],
                "kind": open_batch[1],
                "size": size,
                "done": done,
            }
        n_unlabeled = store.unlabeled_count(connection)
        up_to_date = _model_is_current(store, connection)
    rounds = session.rounds()
    return SessionStatus(
        session_id=session.session_id,
        n_items=n_items,
        n_labeled=sum(counts.values()),
        n_audit_labeled=n_audit,
        n_skipped=n_skipped,
        class_counts=counts,
        n_events=n_events,
        annotators=annotators,
        batch=batch,
        labels_since_round=labels_since_round(session),
        rounds=rounds,
        should_stop=bool(rounds and rounds[-1].stop),
        n_unlabeled=n_unlabeled,
        model_up_to_date=up_to_date,
        class_estimates=rounds[-1].class_estimates if rounds else None,
    )
