"""Validation of parameters, pools of texts, query sizes and probabilities.

Every check raises before any expensive work (augmentation, model passes)
starts, with a message that names the parameter, what was expected and what
was received.
"""

import numbers
import sys
from collections.abc import Mapping, Set

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidProbabilitiesError, PoolExhaustedError


def describe(value, limit=60):
    """Return ``repr(value)``, cut to ``limit`` characters, for error messages.

    Parameters
    ----------
    value : object
        The value to show, e.g. a parameter that failed a check.
    limit : int, default=60
        The longest text returned; a longer ``repr`` is cut and ends with
        ``"..."``.

    Returns
    -------
    text : str

    Examples
    --------
    >>> describe("a good film")
    "'a good film'"
    >>> describe("x" * 100, limit=10)
    "'xxxxxx..."
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid_parameter_message(name, expected, received, *, owner=None):
    """Return the message of a parameter that was refused.

    The one wording of the hand-written checks (:func:`check_int`...) and
    of the declared constraints
    (:func:`~allsh_sklearn.utils.validate_parameter`).

    Parameters
    ----------
    name : str
        The parameter name.
    expected : str
        What a valid value is, e.g. ``"an int >= 1"``.
    received : str
        How the message shows the refused value, e.g. ``describe(value)``.
    owner : str, default=None
        The class or function the parameter belongs to.

    Returns
    -------
    message : str

    Examples
    --------
    >>> invalid_parameter_message("top_k", "an int >= 1", "0", owner="ALLSH")
    "The 'top_k' parameter of ALLSH must be an int >= 1. Got 0 instead."
    """
    subject = f"The '{name}' parameter" + (f" of {owner}" if owner else "")
    return f"{subject} must be {expected}. Got {received} instead."


#: What :func:`is_random_state_like` accepts, as the messages say it.
RANDOM_STATE_LIKE = "None, an int in [0, 2**32 - 1] or a numpy RandomState instance"


def is_random_state_like(value):
    """Return whether ``check_random_state`` takes ``value``.

    Parameters
    ----------
    value : object
        A ``random_state`` value.

    Returns
    -------
    answer : bool
        True for None, a numpy ``RandomState`` or an int in [0, 2**32 - 1]
        (not a bool).
    """
    if value is None or isinstance(value, np.random.RandomState):
        return True
    return (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool | np.bool_)
        and 0 <= value <= 2**32 - 1
    )


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
    message = invalid_parameter_message(name, expected, describe(value), owner=owner)
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
            invalid_parameter_message(name, expected, describe(value), owner=owner)
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
        expected = f"one of {list(options)}"
        raise ValueError(
            invalid_parameter_message(name, expected, describe(value), owner=owner)
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
            invalid_parameter_message(name, "a bool", describe(value), owner=owner)
        )
    return value


def is_pair(item):
    """Return whether ``item`` is a sentence pair: a tuple or list of two strings.

    Parameters
    ----------
    item : object
        One item of a sequence of texts.

    Returns
    -------
    answer : bool

    Examples
    --------
    >>> is_pair(("a premise", "a hypothesis"))
    True
    >>> is_pair("a text"), is_pair(("a", "b", "c"))
    (False, False)
    """
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
        If ``X`` is a bare string, is not a sequence (a generator, a dict,
        a set), or an item is neither a text nor a pair.
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
            f"string. Got {describe(X)}; wrap it in a list: [text]."
        )
    if isinstance(X, Mapping | Set) or not (
        hasattr(X, "__len__") and hasattr(X, "__getitem__")
    ):
        hint = "list(X.values())" if isinstance(X, Mapping) else f"list({name})"
        raise TypeError(
            f"The '{name}' parameter must be a sequence of texts (a list, tuple, "
            f"1-d array or pandas Series). Got {type(X).__name__} instead"
            + (
                "; pass a list in a fixed order"
                if isinstance(X, Set)
                else f"; pass {hint}"
            )
            + "."
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
        elif is_pair(item):
            parts = item
        else:
            raise TypeError(
                f"The '{name}' parameter must hold strings or (text, text_pair) "
                f"tuples of strings. Got {type(item).__name__} "
                f"{describe(item)} at index {position} instead."
            )
        if not allow_empty_strings and any(part.strip() == "" for part in parts):
            raise ValueError(
                f"The '{name}' parameter must not contain empty texts. Got "
                f"{describe(item)} at index {position}; drop or fill it first."
            )
    return X


def check_random_state_param(value, name="random_state", *, owner=None):
    """Check a ``random_state`` value: None, an int in [0, 2**32 - 1] or a RandomState.

    Parameters
    ----------
    value : object
        The value. Bools are rejected.
    name : str, default="random_state"
        The parameter name used in the error message.
    owner : str, default=None
        The class or function the parameter belongs to, named in the message.

    Returns
    -------
    value : object
        ``value`` itself.

    Raises
    ------
    ValueError
        If ``value`` is none of the above.

    Examples
    --------
    >>> check_random_state_param(0)
    0
    >>> check_random_state_param("x", owner="ActiveLearner")
    Traceback (most recent call last):
    ...
    ValueError: The 'random_state' parameter of ActiveLearner must be None, an int ...
    """
    if is_random_state_like(value):
        return value
    raise ValueError(
        invalid_parameter_message(name, RANDOM_STATE_LIKE, describe(value), owner=owner)
    )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _positions(positions, values, limit=5):
    shown = [
        f"{describe(_plain(values[i]), 30)} at position {i}" for i in positions[:limit]
    ]
    more = len(positions) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


# The kinds of class labels; labels of one learner are all of one kind.
_KIND_NAMES = {"int": "integers", "str": "strings", "bool": "booleans"}


def _is_pandas_missing(value):
    pandas = sys.modules.get("pandas")  # only if the caller uses pandas already
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _label_kind(value):
    """'int', 'str', 'bool', 'missing', 'fraction' or 'other' for one label."""
    if value is None or _is_pandas_missing(value):
        return "missing"
    if isinstance(value, str | np.str_):
        return "str"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        if value != value:  # NaN
            return "missing"
        if not np.isfinite(value):
            return "fraction"
        return "int" if float(value).is_integer() else "fraction"
    return "other"


def _kinds(y):
    """The kind of every label of the 1-d array ``y`` (see :func:`_label_kind`)."""
    kind = y.dtype.kind
    if kind in "iu":
        return np.full(len(y), "int", dtype=object)
    if kind == "b":
        return np.full(len(y), "bool", dtype=object)
    if kind in "US":
        return np.full(len(y), "str" if kind == "U" else "other", dtype=object)
    if kind == "f":
        kinds = np.full(len(y), "int", dtype=object)
        kinds[np.isfinite(y) & (y != np.round(y))] = "fraction"
        kinds[np.isinf(y)] = "fraction"
        kinds[np.isnan(y)] = "missing"
        return kinds
    if kind == "O":
        return np.array([_label_kind(value) for value in y], dtype=object)
    return np.full(len(y), "other", dtype=object)


def check_labels(y, n_samples=None, *, name="y", like=None):
    """Check class labels before anything is stored or trained on them.

    Labels must be a 1-d array-like, one per text, without missing values
    (None, NaN), and all of one kind: integers (integral floats such as
    ``1.0`` count as integers), strings or booleans. A fraction such as
    ``0.5`` is not a class label.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    n_samples : int, default=None
        The number of texts they label, if known.
    name : str, default="y"
        The parameter name used in error messages.
    like : ndarray or None, default=None
        Labels accepted before (an active learner's ``y_training_``): the new
        labels must be of the same kind (a new class of that kind is fine),
        and are cast to its dtype when they are integral floats or integers
        for float labels.

    Returns
    -------
    y : ndarray of shape (n_samples,)

    Raises
    ------
    TypeError
        If ``y`` is not an array-like (a number, a string, a generator, a
        dict).
    ValueError
        If ``y`` is not 1-d, has the wrong length, holds missing values or
        fractions, mixes kinds of labels, or is not of the kind of ``like``.
        The message names the offending labels and their positions.

    Examples
    --------
    >>> check_labels([0, 1, 1]).tolist()
    [0, 1, 1]
    >>> check_labels([0, None, 1])
    Traceback (most recent call last):
    ...
    ValueError: The 'y' parameter must hold class labels without missing values. ...
    """
    if isinstance(y, str | bytes | Mapping | Set) or not (
        hasattr(y, "__len__") and hasattr(y, "__getitem__")
    ):
        raise TypeError(
            f"The '{name}' parameter must be a 1-d array-like of labels, one per "
            f"text (a list, 1-d array or pandas Series). Got {describe(y)} "
            f"({type(y).__name__}) instead."
        )
    try:
        values = np.asarray(y)
    except ValueError as error:
        raise ValueError(
            f"The '{name}' parameter must be a 1-d array-like of labels. Got "
            f"{describe(y)}, which is not rectangular ({error})."
        ) from None
    if values.ndim != 1:
        raise ValueError(
            f"The '{name}' parameter must be a 1-d array-like of labels, one per "
            f"text. Got an array of shape {values.shape} instead"
            + ("; use y.ravel() for a column of labels." if values.ndim == 2 else ".")
        )
    if n_samples is not None and len(values) != n_samples:
        raise ValueError(
            f"X and {name} must have the same length. Got {n_samples} texts and "
            f"{len(values)} labels instead."
        )
    if isinstance(y, np.ndarray):
        kinds = _kinds(values)
    else:
        # Before numpy's coercion: ["pos", 1] would become two strings.
        items = np.empty(len(values), dtype=object)
        items[:] = list(y)
        kinds = _kinds(items)
    for bad, what in (
        ("missing", "class labels without missing values"),
        ("fraction", "class labels (integers or strings), not fractions"),
        ("other", "class labels that are integers, strings or booleans"),
    ):
        positions = np.flatnonzero(kinds == bad)
        if positions.size:
            raise ValueError(
                f"The '{name}' parameter must hold {what}. Got "
                f"{_positions(positions, values)} instead."
            )
    present = sorted(set(kinds.tolist()))
    if len(present) > 1:
        parts = [
            f"{_KIND_NAMES[kind]} at positions "
            f"{np.flatnonzero(kinds == kind)[:5].tolist()}"
            for kind in present
        ]
        raise ValueError(
            f"The '{name}' parameter must hold labels of one type (all integers, "
            f"all strings or all booleans). Got {' and '.join(parts)} instead."
        )
    if like is None or len(values) == 0:
        return values
    like = np.asarray(like)
    expected = sorted(set(_kinds(like).tolist()))
    if present and expected and present != expected:
        classes = np.unique(like)
        shown = describe(classes.tolist(), 40)
        raise ValueError(
            f"The '{name}' parameter must hold labels of the same type as the "
            f"labels given so far ({_KIND_NAMES[expected[0]]}: {shown}): a new "
            f"class is fine, but it must be of that type too. Got "
            f"{_KIND_NAMES[present[0]]}: {_positions(np.arange(len(values)), values)}"
            " instead."
        )
    if like.dtype.kind in "iuf" and values.dtype != like.dtype:
        values = values.astype(like.dtype)
    return values


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
            f"Got {describe(n_instances)} instead."
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


def check_fitted(classifier, name):
    """Check that ``classifier`` has ``predict_proba`` and, if it can tell, is fitted.

    Unlike :func:`sklearn.utils.validation.check_is_fitted`, it accepts
    objects that are not scikit-learn estimators (they are assumed fitted)
    and looks inside wrappers such as modAL's ``ActiveLearner``, which keep
    the model in ``estimator``.

    Parameters
    ----------
    classifier : object
        The classifier a strategy is about to query.
    name : str
        The parameter name used in the error messages.

    Raises
    ------
    TypeError
        If ``classifier`` has no ``predict_proba`` method.
    sklearn.exceptions.NotFittedError
        If ``classifier`` (or the estimator it wraps) is a scikit-learn
        estimator that is not fitted yet.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> check_fitted(LogisticRegression(), "classifier")
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: The 'classifier' parameter must be a fitted ...
    """
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
    check_fitted(classifier, name)
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
