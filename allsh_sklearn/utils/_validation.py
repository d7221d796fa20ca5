"""Validation of parameters, pools of texts, query sizes and probabilities.

Every check raises before any expensive work (augmentation, model passes)
starts, with a message that names the parameter, what was expected and what
was received.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidProbabilitiesError, PoolExhaustedError


def _describe(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parameter(name, owner):
    return f"The '{name}' parameter" + (f" of {owner}" if owner else "")


def check_int(value, name, minimum, *, owner=None, allow_none=False, type_error=False):
    """Check that a parameter is an int ``>= minimum`` (or None, if allowed).

    Parameters
    ----------
    value : object
        The parameter's value. Bools are rejected, numpy integers accepted.
    name : str
        The parameter name used in the error message.
    minimum : int
        The smallest valid value.
    owner : str, default=None
        The class or function the parameter belongs to, named in the message.
    allow_none : bool, default=False
        Whether None is valid.
    type_error : bool, default=False
        Raise ``TypeError`` (rather than ``ValueError``) for a value that is
        not an int.

    Returns
    -------
    value : object
        ``value`` itself.

    Raises
    ------
    ValueError
        If ``value`` is smaller than ``minimum``, or is not an int and
        ``type_error`` is False.
    TypeError
        If ``value`` is not an int and ``type_error`` is True.

    Examples
    --------
    >>> check_int(3, "batch_size", 1)
    3
    >>> check_int(0, "batch_size", 1, owner="ALLSH")
    Traceback (most recent call last):
    ...
    ValueError: The 'batch_size' parameter of ALLSH must be an int >= 1. Got 0 instead.
    """
    if value is None and allow_none:
        return value
    expected = f"an int >= {minimum}" + (" or None" if allow_none else "")
    message = (
        f"{_parameter(name, owner)} must be {expected}. Got {_describe(value)} "
        "instead."
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise (TypeError if type_error else ValueError)(message)
    if value < minimum:
        raise ValueError(message)
    return value


def check_real(value, name, expected, is_valid, *, owner=None, allow_none=False):
    """Check that a parameter is a real number for which ``is_valid`` holds.

    Parameters
    ----------
    value : object
        The parameter's value. Bools are rejected.
    name : str
        The parameter name used in the error message.
    expected : str
        What a valid value is, as the message says it, e.g. ``"a float in
        [0, 1]"``.
    is_valid : callable
        ``is_valid(value) -> bool`` for a real ``value``; False (also for NaN)
        rejects it.
    owner : str, default=None
        The class or function the parameter belongs to, named in the message.
    allow_none : bool, default=False
        Whether None is valid.

    Returns
    -------
    value : object
        ``value`` itself.

    Raises
    ------
    ValueError
        If ``value`` is not a real number or ``is_valid(value)`` is False.

    Examples
    --------
    >>> check_real(0.5, "p", "a float in [0, 1]", lambda p: 0 <= p <= 1)
    0.5
    >>> check_real(2.0, "p", "a float in [0, 1]", lambda p: 0 <= p <= 1)
    Traceback (most recent call last):
    ...
    ValueError: The 'p' parameter must be a float in [0, 1]. Got 2.0 instead.
    """
    if value is None and allow_none:
        return value
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_valid(value)
    ):
        raise ValueError(
            f"{_parameter(name, owner)} must be {expected}. Got "
            f"{_describe(value)} instead."
        )
    return value


def check_one_of(value, name, options, *, owner=None):
    """Check that a parameter is one of the strings ``options``.

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter name used in the error message.
    options : collection of str
        The valid values, listed in the message in their order.
    owner : str, default=None
        The class or function the parameter belongs to, named in the message.

    Returns
    -------
    value : str
        ``value`` itself.

    Raises
    ------
    ValueError
        If ``value`` is not one of ``options``.

    Examples
    --------
    >>> check_one_of("mean", "pooling", ("mean", "cls"))
    'mean'
    >>> check_one_of("max", "pooling", ("mean", "cls"))
    Traceback (most recent call last):
    ...
    ValueError: The 'pooling' parameter must be one of ['mean', 'cls']. Got 'max' ...
    """
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{_parameter(name, owner)} must be one of {list(options)}. Got "
            f"{_describe(value)} instead."
        )
    return value


def check_bool(value, name, *, owner=None):
    """Check that a parameter is a bool (Python or numpy).

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter name used in the error message.
    owner : str, default=None
        The class or function the parameter belongs to, named in the message.

    Returns
    -------
    value : bool or numpy.bool_
        ``value`` itself.

    Raises
    ------
    TypeError
        If ``value`` is not a bool.

    Examples
    --------
    >>> check_bool(True, "verbose")
    True
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{_parameter(name, owner)} must be a bool. Got {_describe(value)} "
            "instead."
        )
    return value


def _is_pair(item):
    return (
        isinstance(item, tuple | list)
        and len(item) == 2
        and all(isinstance(part, str) for part in item)
    )


def check_texts(X, name="X", allow_empty_strings=False):
    """Check that ``X`` is a non-empty sequence of texts or text pairs.

    Parameters
    ----------
    X : sequence of str or of (str, str)
        A list (or 1-d array, or pandas Series) of texts, or of
        ``(text, text_pair)`` tuples for sentence-pair tasks.
    name : str, default="X"
        The parameter name used in error messages.
    allow_empty_strings : bool, default=False
        Whether ``""`` is an acceptable text.

    Returns
    -------
    X : sequence
        ``X`` itself (not copied), so that indexing keeps its type.

    Raises
    ------
    TypeError
        If ``X`` is a bare string or an item is neither a text nor a pair.
    ValueError
        If ``X`` is empty or an item is an empty string.

    Examples
    --------
    >>> check_texts(["a good film", "a bad film"], name="X_pool")
    ['a good film', 'a bad film']
    >>> check_texts([], name="X_pool")
    Traceback (most recent call last):
    ...
    ValueError: The 'X_pool' parameter must be a non-empty sequence of texts. ...
    """
    if isinstance(X, str | bytes):
        raise TypeError(
            f"The '{name}' parameter must be a sequence of texts, not a single "
            f"string. Got {_describe(X)}; wrap it in a list: [text]."
        )
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 2:
        items = [tuple(row) for row in X]
    else:
        try:
            items = list(X)
        except TypeError:
            raise TypeError(
                f"The '{name}' parameter must be a sequence of texts. "
                f"Got {type(X).__name__} instead."
            ) from None
    if len(items) == 0:
        raise ValueError(
            f"The '{name}' parameter must be a non-empty sequence of texts. "
            "Got an empty sequence instead."
        )
    for position, item in enumerate(items):
        if isinstance(item, str):
            parts = (item,)
        elif _is_pair(item):
            parts = item
        else:
            raise TypeError(
                f"The '{name}' parameter must hold strings or (text, text_pair) "
                f"tuples of strings. Got {type(item).__name__} "
                f"{_describe(item)} at index {position} instead."
            )
        if not allow_empty_strings and any(part.strip() == "" for part in parts):
            raise ValueError(
                f"The '{name}' parameter must not contain empty texts. Got "
                f"{_describe(item)} at index {position}; drop or fill it first."
            )
    return X


def check_n_instances(n_instances, n_available, name="n_instances"):
    """Check that a query size is an integer in ``[1, n_available]``.

    Raises
    ------
    TypeError
        If ``n_instances`` is not an integer.
    ValueError
        If ``n_instances`` is smaller than one.
    PoolExhaustedError
        If ``n_instances`` is larger than the pool.

    Examples
    --------
    >>> check_n_instances(5, 100)
    5
    """
    if isinstance(n_instances, bool) or not isinstance(n_instances, numbers.Integral):
        raise TypeError(
            f"The '{name}' parameter must be an int in [1, {n_available}]. "
            f"Got {_describe(n_instances)} instead."
        )
    if n_instances < 1:
        raise ValueError(
            f"The '{name}' parameter must be an int in [1, {n_available}]. "
            f"Got {n_instances} instead."
        )
    if n_instances > n_available:
        raise PoolExhaustedError(n_available=n_available, n_requested=int(n_instances))
    return int(n_instances)


def check_probabilities(proba, n_samples=None, name="predict_proba", atol=1e-3):
    """Check that ``proba`` is a finite (n_samples, n_classes) stochastic matrix.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.
    n_samples : int, default=None
        Expected number of rows, if known.
    name : str, default="predict_proba"
        What produced ``proba``, used in error messages.
    atol : float, default=1e-3
        Tolerance on the row sums.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes), dtype=float64

    Raises
    ------
    InvalidProbabilitiesError
        If the values are not finite, outside [0, 1] or rows do not sum to 1.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise InvalidProbabilitiesError(
            f"The output of '{name}' must be a 2-d array (n_samples, n_classes). "
            f"Got shape {proba.shape} instead."
        )
    if n_samples is not None and proba.shape[0] != n_samples:
        raise InvalidProbabilitiesError(
            f"The output of '{name}' must have one row per input ({n_samples}). "
            f"Got {proba.shape[0]} rows instead."
        )
    if not np.isfinite(proba).all():
        row = int(np.flatnonzero(~np.isfinite(proba).all(axis=1))[0])
        raise InvalidProbabilitiesError(
            f"The output of '{name}' must be finite. Got {proba[row].tolist()} "
            f"at row {row} instead."
        )
    sums = proba.sum(axis=1)
    bad = (proba < -atol).any(axis=1) | (np.abs(sums - 1.0) > atol)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidProbabilitiesError(
            f"The output of '{name}' must hold probabilities in [0, 1] with rows "
            f"summing to 1. Got {proba[row].tolist()} (sum {sums[row]:.6g}) at "
            f"row {row} instead."
        )
    return np.clip(proba, 0.0, 1.0)


def _check_fitted(classifier, name):
    if not hasattr(classifier, "predict_proba"):
        raise TypeError(
            f"The '{name}' parameter must have a 'predict_proba' method. Got "
            f"{type(classifier).__name__} instead."
        )
    target = classifier
    # modAL's ActiveLearner (and similar wrappers) keep the model in
    # ``estimator`` and have no fitted attributes of their own.
    if not hasattr(target, "__sklearn_is_fitted__") and not hasattr(target, "classes_"):
        inner = getattr(target, "estimator", None)
        if inner is not None and hasattr(inner, "predict_proba"):
            target = inner
    if isinstance(target, BaseEstimator):
        try:
            check_is_fitted(target)
        except NotFittedError as error:
            raise NotFittedError(
                f"The '{name}' parameter must be a fitted classifier. "
                f"{type(target).__name__} is not fitted yet: call 'fit' (or "
                "'teach') with some labeled examples before querying."
            ) from error


def predict_proba_checked(classifier, X, name="classifier"):
    """Call ``classifier.predict_proba(X)`` and check its output.

    Parameters
    ----------
    classifier : object
        A fitted classifier with ``predict_proba`` accepting ``X``.
    X : sequence
        The inputs.
    name : str, default="classifier"
        The parameter name used in error messages.

    Returns
    -------
    proba : ndarray of shape (len(X), n_classes), dtype=float64
    """
    _check_fitted(classifier, name)
    proba = classifier.predict_proba(X)
    return check_probabilities(
        proba, n_samples=len(X), name=f"{type(classifier).__name__}.predict_proba"
    )


def take(X, indices):
    """Index a sequence of texts (list, array, Series) by integer positions.

    Examples
    --------
    >>> take(["a", "b", "c"], [2, 0])
    ['c', 'a']
    """
    return _safe_indexing(X, np.asarray(indices, dtype=np.int64))
