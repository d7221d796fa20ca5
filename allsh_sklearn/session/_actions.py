"""What annotators do in a labeling session: take a text, label, skip, undo.

The bodies of the methods of :class:`~allsh_sklearn.session.LabelingSession`
a labeling page calls one text at a time (:meth:`next_item
<allsh_sklearn.session.LabelingSession.next_item>`, ``item``, ``why``,
``label``, ``skip``, ``undo``, ``unlabel``, ``current_batch``), and the
claims that keep two annotators off one text. Every function takes the
session it works for.
"""

import json
import math
import os
import socket
import time
import unicodedata

from ._records import Batch, Event, make_items
from ._why import why_sentence

__all__ = [
    "CLAIM_SECONDS",
    "check_annotator",
    "check_label",
    "current_batch",
    "item",
    "items_from_rows",
    "label",
    "next_item",
    "owner_name",
    "skip",
    "undo",
    "unlabel",
    "why",
]

#: Seconds an annotator keeps an item shown to them before another may take it.
CLAIM_SECONDS = 600.0


# Checks and claims -----------------------------------------------------------------


def check_label(labels, label):
    """The session's own spelling of ``label``, compared in NFC.

    A label spelled in another Unicode normal form (NFD ``"e\u0301"`` for
    NFC ``"\u00e9"``) is the same label, as the session's labels were made
    when it was created.

    Parameters
    ----------
    labels : list of str
        The session's labels.
    label : str

    Returns
    -------
    label : str
        As the session spells it.
    """
    if isinstance(label, str):
        wanted = unicodedata.normalize("NFC", label)
        for own in labels:
            if unicodedata.normalize("NFC", own) == wanted:
                return own
    raise ValueError(
        f"The 'label' parameter must be one of the session's labels "
        f"{labels}. Got {label!r} instead."
    )


def check_annotator(annotator):
    """The annotator's name, stripped; a ``ValueError`` for an empty one."""
    if not isinstance(annotator, str) or not annotator.strip():
        raise ValueError(
            "The 'annotator' parameter must be a non-empty name (it is stored "
            f"with every label). Got {annotator!r} instead."
        )
    return annotator.strip()


def owner_name(token, annotator, owner=None):
    """Who holds a claim: the annotator (and ``owner``), host, process and
    session object (``token``).

    The host and process let a claim of a process that died (killed,
    crashed) be taken over at once instead of after :data:`CLAIM_SECONDS`.
    """
    who = annotator if owner is None else f"{annotator}\x1e{owner}"
    return "\x1f".join([who, socket.gethostname(), str(os.getpid()), token])


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


# Reading items ---------------------------------------------------------------------


def items_from_rows(session, connection, rows, batch_sizes=None):
    """Items from (item, batch, position, guess, proba, score, explanation,
    purpose) rows, inside a read or write of ``session``'s database."""
    if not rows:
        return []
    numbers = [row[0] for row in rows]
    texts = session._store.item_texts(connection, numbers)
    states = session._store.item_states(connection, numbers)
    return make_items(rows, texts, states, session.labels, batch_sizes)


def next_item(session, annotator="annotator", *, claim=True, owner=None):
    """The next text of the open batch for this annotator, or None (see
    :meth:`LabelingSession.next_item
    <allsh_sklearn.session.LabelingSession.next_item>`)."""
    annotator = check_annotator(annotator)
    owner = owner_name(session._token, annotator, owner)
    now = time.time()
    claim = claim and not session.readonly
    store = session._store
    with store.write() if claim else store.read() as connection:
        batch = store.open_batch(connection)
        if batch is None:
            return None
        taken = {
            item
            for item, other in store.claims_of_others(connection, batch[0], owner, now)
            if _claim_is_live(other)
        }
        pending = store.pending_rows(connection, batch[0])
        row = next((row for row in pending if row[0] not in taken), None)
        if row is None:
            return None
        if claim:
            store.claim(connection, row[0], owner, now + CLAIM_SECONDS)
        size = store.batch_size(connection, batch[0])
        return items_from_rows(session, connection, [row], {batch[0]: size})[0]


def item(session, item_id):
    """An item with its current label, its latest batch and its full history."""
    store = session._store
    with store.read() as connection:
        number = store.item_number(connection, item_id)
        row = store.latest_batch_row(connection, number)
        if row is None:
            row = (number, None, None, None, None, None, None, None)
            sizes = None
        else:
            sizes = {row[1]: store.batch_size(connection, row[1])}
        item = items_from_rows(session, connection, [row], sizes)[0]
        events = store.item_events(connection, number)
    item.history = [
        Event(event, str(item_id), kind, label, annotator, at, bool(undone), source)
        for event, kind, label, annotator, at, undone, source in events
    ]
    return item


def why(session, item_id):
    """Why the strategy picked an item, for people (see
    :meth:`LabelingSession.why <allsh_sklearn.session.LabelingSession.why>`)."""
    store = session._store
    with store.read() as connection:
        number = store.item_number(connection, item_id)
        row = store.latest_pick(connection, number)
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
        else dict(zip(session.labels, json.loads(proba), strict=False)),
    }
    strategy = session.strategy_name
    if purpose == "audit":
        out["kind"] = "audit"
        # Worded as any random pick: annotators must not tell audit texts
        # apart (``kind`` says it, for programs).
        out["reason"] = "picked at random from the pool"
    elif kind == "initial":
        out["kind"] = "initial"
        out["reason"] = "picked at random: there was no model yet"
    elif explanation is None or json.loads(explanation).get("kind") != "allsh":
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
            copy_proba=dict(zip(session.labels, copy["proba"], strict=False)),
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


def current_batch(session):
    """The open batch with its items (labeled ones included), or None."""
    with session._store.read() as connection:
        row = session._store.open_batch(connection)
        if row is None:
            return None
        return _batch(session, connection, row, closed=False)


def _batch(session, connection, row, closed):
    """The :class:`Batch` of a ``(batch, kind, round, created_at)`` row."""
    number, kind, round_, created = row
    rows = session._store.batch_rows(connection, number)
    items = items_from_rows(session, connection, rows, {number: len(rows)})
    done = sum(1 for item in items if item.label is not None or item.skipped)
    return Batch(number, kind, round_, created, items, done, closed)


# Labeling --------------------------------------------------------------------------


def label(session, item_id, label, *, annotator="annotator", source="api"):
    """Label an item; committed before this returns."""
    label = check_label(session.labels, label)
    return _record(session, item_id, "label", label, annotator, source)


def skip(session, item_id, *, annotator="annotator", source="api"):
    """Skip an item: it leaves the batch and is not queried again."""
    return _record(session, item_id, "skip", None, annotator, source)


def _record(session, item_id, kind, label, annotator, source):
    """Store a label or a skip of an item (committed) and return its :class:`Event`."""
    annotator = check_annotator(annotator)
    with session._store.write() as connection:
        number = session._store.item_number(connection, item_id)
        created = time.time()
        event = session._store.record_event(
            connection, number, kind, label, annotator, source, created
        )
    return Event(event, str(item_id), kind, label, annotator, created, source=source)


def undo(session, *, annotator="annotator", source="api", owner=None):
    """Take back this annotator's last label or skip (see
    :meth:`LabelingSession.undo <allsh_sklearn.session.LabelingSession.undo>`)."""
    annotator = check_annotator(annotator)
    store = session._store
    with store.write() as connection:
        row = store.last_event_by(connection, annotator)
        if row is None:
            return None
        event, number, kind, label, created, old_source, ext_id = row
        if store.take_back(connection, number, event, annotator, source, time.time()):
            store.claim(
                connection,
                number,
                owner_name(session._token, annotator, owner),
                time.time() + CLAIM_SECONDS,
            )
    return Event(event, ext_id, kind, label, annotator, created, True, old_source)


def unlabel(session, item_id, *, annotator="annotator", source="api"):
    """Take back the label or skip that stands for an item, whoever gave it."""
    annotator = check_annotator(annotator)
    store = session._store
    with store.write() as connection:
        number = store.item_number(connection, item_id)
        row = store.standing_event(connection, number)
        if row is None:
            return None
        event, kind, label, given_by, created, old_source = row
        store.take_back(connection, number, event, annotator, source, time.time())
    return Event(event, str(item_id), kind, label, given_by, created, True, old_source)
