"""A labeling session's model: loading it, saving it, predicting with it.

The bodies of :meth:`LabelingSession.model
<allsh_sklearn.session.LabelingSession.model>`,
:meth:`~allsh_sklearn.session.LabelingSession.export_model`,
:meth:`~allsh_sklearn.session.LabelingSession.predict` and
:meth:`~allsh_sklearn.session.LabelingSession.predict_file`. Every function
takes the session it works for.
"""

import json
import os
from pathlib import Path

import pandas as pd

from ..utils._validation import check_texts
from ._errors import NotReadyError
from ._files import check_output
from ._formats import FORMATS, guess_format, read_pool, read_table, write_rows

__all__ = ["export_model", "last_model", "predict", "predict_file", "stored_model"]


def stored_model(session, round_number, X_pool):
    """The model of a round kept in memory or in the database, else None.

    None also when the stored model cannot be loaded by this version: the
    loop then trains it again (with the round's seed, the same model).

    Parameters
    ----------
    session : LabelingSession
    round_number : int
    X_pool : list
        The pool's texts, as the classifier takes them.

    Returns
    -------
    estimator : object or None
    """
    if session._model is not None and session._model[0] == round_number:
        return session._model[1]
    data = session._store.model_data(round_number)
    if data is None:
        return None
    try:
        return session._engine().loads(data, X_pool)
    except Exception:  # written by another version: train it again
        return None


def last_model(session):
    """The last round's classifier: from memory, else from the database.

    Parameters
    ----------
    session : LabelingSession

    Returns
    -------
    estimator : object
    """
    rounds = session.rounds()
    if not rounds:
        raise NotReadyError(
            "The session has no trained model yet: label texts of at least "
            "two classes, then retrain (allsh-label retrain)."
        )
    round_number = rounds[-1].round
    if session._model is not None and session._model[0] == round_number:
        return session._model[1]
    data = session._store.model_data(round_number)
    if data is None:
        raise NotReadyError("The session has no trained model yet.")
    estimator = session._engine().loads(data, session._pool()[1])
    session._model = (round_number, estimator)
    return estimator


def export_model(session, path):
    """Save the last round's classifier at ``path`` (see
    :meth:`LabelingSession.export_model
    <allsh_sklearn.session.LabelingSession.export_model>`).

    Returns
    -------
    path : pathlib.Path
    """
    import joblib

    check_output(session.path, path, "path", "export_model")
    rounds = session.rounds()
    if not rounds:
        raise NotReadyError(
            "The session has no trained model yet: label texts of at least two "
            "classes and retrain first."
        )
    data = session._store.model_data(rounds[-1].round)
    estimator = session._engine().loads(data, session._pool()[1], fresh_shared=True)
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


def predict(session, X):
    """Labels and probabilities of the last round's model for the texts ``X``.

    Returns
    -------
    labels : list of str
    proba : ndarray of shape (n_texts, n_labels)
    """
    check_texts(X, name="X")
    estimator = session.model()
    proba = session._engine().predict_proba(
        estimator, list(X), session.progress, "predicting"
    )
    return [session.labels[int(i)] for i in proba.argmax(axis=1)], proba


def predict_file(
    session, data, output, *, text_column, pair_column, id_column, format, output_format
):
    """Predict every text of a file and write the predictions (see
    :meth:`LabelingSession.predict_file
    <allsh_sklearn.session.LabelingSession.predict_file>`).

    The output is checked first, before the (long) predictions.

    Returns
    -------
    n_rows : int
    """
    check_output(session.path, output, "output", "predict_file")
    output_format = guess_format(output, output_format)
    config = session.config
    text_column = text_column or config["text_column"]
    pair_column = pair_column or config.get("pair_column")
    if id_column is None and config.get("id_column") is not None:
        # The session's id column, when the file has one.
        columns = (
            data.columns
            if isinstance(data, pd.DataFrame)
            else read_table(data, format).columns
        )
        if config["id_column"] in columns:
            id_column = config["id_column"]
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
    predicted, proba = session.predict(X)
    pair = pool.pairs is not None
    labels = session.labels
    columns = ["text"] + (["text_pair"] if pair else []) + ["prediction"]
    columns += [f"p({label})" for label in labels]
    name = "id"  # Label Studio tasks carry the id under their own key
    if (
        id_column is not None
        and id_column not in columns + ["session_id"]
        and FORMATS[output_format].names_id_column
    ):
        name = str(id_column)
    rows = []
    for index, item_id in enumerate(pool.ids):
        row = {name: item_id, "text": pool.texts[index], "prediction": predicted[index]}
        if pair:
            row["text_pair"] = pool.pairs[index]
        for column, label in enumerate(labels):
            row[f"p({label})"] = float(proba[index, column])
        rows.append(row)
    write_rows(
        output,
        rows,
        format=output_format,
        session_id=session.session_id,
        columns=[name, *columns],
    )
    return len(rows)
