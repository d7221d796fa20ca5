"""Where embedding-based strategies (CAL, BADGE) get their vectors from.

:func:`get_proba_and_embeddings` returns a classifier's class probabilities
and one embedding per input. The embedding comes from, in this order:

- a callable ``embedding(X) -> (n_samples, n_features)``;
- the name of a step of a scikit-learn :class:`~sklearn.pipeline.Pipeline`
  (the classifier itself, or the ``estimator_``/``estimator`` of an active
  learner wrapping it): ``X`` is transformed up to and including that step,
  and the probabilities come from the remaining steps, so the pipeline runs
  once;
- with ``embedding=None``, the classifier's ``predict_proba_and_embed(X)``
  (probabilities and embeddings from one forward pass, as
  :class:`~allsh_sklearn.models.TransformerClassifier` provides), else its
  ``embed(X)`` next to ``predict_proba(X)``.

Sparse embeddings (a ``TfidfVectorizer`` step) are kept sparse: CAL's
neighbour search and BADGE's factorised distances only need dot products,
so nothing is densified.
"""

import inspect

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

from ..utils import check_fitted
from ..utils._constraints import Callable, InstanceOf
from ..utils._timing import QueryTimer
from ..utils._validation import check_probabilities

__all__ = ["check_embeddings", "get_proba_and_embeddings"]


#: The declared constraints of the ``embedding`` and ``embedding_kind``
#: parameters of the strategies that use embeddings (BADGE, CAL, ALLSH).
EMBEDDING_CONSTRAINTS = {
    "embedding": [
        Callable(),
        InstanceOf(str, description="the name of a pipeline step"),
        None,
    ],
    "embedding_kind": [InstanceOf(str, description="a str"), None],
}


def _candidates(classifier):
    """The classifier, then the model an active learner wraps (fitted first)."""
    found = [classifier]
    for attribute in ("estimator_", "estimator"):
        inner = getattr(classifier, attribute, None)
        if inner is not None and not any(inner is seen for seen in found):
            found.append(inner)
    return found


def _find(classifier, method):
    for candidate in _candidates(classifier):
        if callable(getattr(candidate, method, None)):
            return candidate
    return None


def _accepts_kind(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins, C extensions
        return False
    return any(
        parameter.name == "kind" or parameter.kind is parameter.VAR_KEYWORD
        for parameter in parameters
    )


def _call_with_kind(function, X, kind):
    if kind is not None and _accepts_kind(function):
        return function(X, kind=kind)
    return function(X)


def _pipeline_slices(classifier, step):
    """Split the pipeline at ``step``: (up to and including it, the rest)."""
    pipeline = next(
        (c for c in _candidates(classifier) if isinstance(c, Pipeline)), None
    )
    if pipeline is None:
        raise TypeError(
            f"The 'embedding' parameter names a pipeline step ({step!r}), but "
            f"the classifier ({type(classifier).__name__}) is not a scikit-learn "
            "Pipeline and does not wrap one. Pass a callable embedding(X) instead."
        )
    names = [name for name, _ in pipeline.steps]
    if step not in names:
        raise ValueError(
            f"The 'embedding' parameter must name a step of the pipeline, one of "
            f"{names[:-1]}. Got {step!r} instead."
        )
    position = names.index(step)
    if position == len(names) - 1:
        raise ValueError(
            f"The 'embedding' parameter names the final step {step!r} of the "
            "pipeline, which predicts rather than transforms. Name a step "
            f"before it, one of {names[:-1]}."
        )
    return pipeline[: position + 1], pipeline[position + 1 :]


def check_embeddings(embeddings, n_samples, name="embedding"):
    """Check that ``embeddings`` is a finite 2-d array with ``n_samples`` rows.

    Parameters
    ----------
    embeddings : array-like or sparse matrix of shape (n_samples, n_features)
        The vectors (a torch tensor on the CPU is accepted too).
    n_samples : int
        The expected number of rows.
    name : str, default="embedding"
        What produced the embeddings, used in error messages.

    Returns
    -------
    embeddings : ndarray or CSR matrix of shape (n_samples, n_features)
        float32 if given as float32 (as models return them, and half the
        memory traffic), float64 otherwise.

    Examples
    --------
    >>> check_embeddings([[1, 0], [0, 1]], 2).dtype
    dtype('float64')
    """
    if hasattr(embeddings, "detach"):  # a torch tensor
        embeddings = embeddings.detach().cpu().numpy()
    dtype = (
        np.float32 if getattr(embeddings, "dtype", None) == np.float32 else np.float64
    )
    if sp.issparse(embeddings):
        embeddings = sp.csr_matrix(embeddings, dtype=dtype)
        values = embeddings.data
    else:
        embeddings = np.asarray(embeddings, dtype=dtype)
        values = embeddings
    if embeddings.ndim != 2:
        raise ValueError(
            f"The output of '{name}' must be a 2-d array (n_samples, n_features). "
            f"Got shape {embeddings.shape} instead."
        )
    if embeddings.shape[0] != n_samples:
        raise ValueError(
            f"The output of '{name}' must have one row per input ({n_samples}). "
            f"Got {embeddings.shape[0]} rows instead."
        )
    if not np.isfinite(values).all():
        raise ValueError(
            f"The output of '{name}' must be finite. Got NaN or infinite values."
        )
    return embeddings


def get_proba_and_embeddings(classifier, X, embedding=None, *, kind=None, timer=None):
    """Class probabilities and embeddings of ``X`` from a fitted classifier.

    Parameters
    ----------
    classifier : object
        A fitted classifier with ``predict_proba``: a scikit-learn pipeline,
        a :class:`~allsh_sklearn.models.TransformerClassifier`, or an active
        learner wrapping one in ``estimator_`` or ``estimator``.
    X : sequence of str or of (str, str)
        The inputs.
    embedding : callable, str or None, default=None
        A callable ``embedding(X) -> (n_samples, n_features)``, the name of a
        pipeline step whose output is the embedding, or None to use the
        classifier's ``predict_proba_and_embed`` (else ``embed``) method.
    kind : str or None, default=None
        Passed as ``kind=`` to ``predict_proba_and_embed``/``embed`` when
        they accept it (``"pooler"`` or ``"penultimate"`` for the
        transformer classifier); otherwise their default embedding is used.
    timer : QueryTimer or None, default=None
        The model passes are timed under ``"inference"``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes), dtype=float64
    embeddings : ndarray or CSR matrix of shape (n_samples, n_features)
        float32 if the source returned float32, float64 otherwise.

    Raises
    ------
    TypeError
        If ``embedding`` is None and the classifier has neither
        ``predict_proba_and_embed`` nor ``embed``, or ``embedding`` is of
        another type.
    ValueError
        If ``embedding`` names no transforming step of the pipeline, or the
        embeddings do not have one finite row per input.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(["good film", "bad film", "good", "bad"], [1, 0, 1, 0])
    >>> proba, emb = get_proba_and_embeddings(
    ...     clf, ["a good film"], embedding="tfidfvectorizer")
    >>> proba.shape, emb.shape
    ((1, 2), (1, 3))
    """
    timer = QueryTimer() if timer is None else timer
    check_fitted(classifier, "classifier")
    n_samples = len(X)
    if callable(embedding):
        source = getattr(embedding, "__name__", type(embedding).__name__)
        with timer.phase("inference"):
            proba = classifier.predict_proba(X)
            embeddings = embedding(X)
    elif isinstance(embedding, str):
        head, tail = _pipeline_slices(classifier, embedding)
        source = f"pipeline step {embedding!r}"
        with timer.phase("inference"):
            embeddings = head.transform(X)
            proba = tail.predict_proba(embeddings)
    elif embedding is None:
        joint = _find(classifier, "predict_proba_and_embed")
        embedder = _find(classifier, "embed")
        if joint is not None:
            source = f"{type(joint).__name__}.predict_proba_and_embed"
            with timer.phase("inference"):
                output = _call_with_kind(joint.predict_proba_and_embed, X, kind)
            if not isinstance(output, tuple) or len(output) != 2:
                raise TypeError(
                    f"{source} must return a pair (proba, embeddings). Got "
                    f"{type(output).__name__} instead."
                )
            proba, embeddings = output
        elif embedder is not None:
            source = f"{type(embedder).__name__}.embed"
            with timer.phase("inference"):
                proba = classifier.predict_proba(X)
                embeddings = _call_with_kind(embedder.embed, X, kind)
        else:
            raise TypeError(
                f"The classifier ({type(classifier).__name__}) has no "
                "'predict_proba_and_embed' or 'embed' method, so this strategy "
                "cannot get embeddings from it. Pass embedding=: a callable "
                "embedding(X) -> (n_samples, n_features), or the name of a "
                "step of the classifier's pipeline (for example "
                "embedding='tfidfvectorizer')."
            )
    else:
        raise TypeError(
            "The 'embedding' parameter must be a callable, the name of a "
            f"pipeline step, or None. Got {type(embedding).__name__} instead."
        )
    proba = check_probabilities(proba, n_samples=n_samples, name="predict_proba")
    embeddings = check_embeddings(embeddings, n_samples, name=source)
    return proba, embeddings
