"""Declared parameter constraints, checked in one place.

A class declares what each of its parameters may be, in the style of
scikit-learn's ``_parameter_constraints``::

    class LabelBudget(ParameterConstraintsMixin, BaseEstimator):
        _parameter_constraints = {"budget": [Interval(numbers.Integral, 1, None)]}

and ``self._validate_params()`` (or :func:`validate_params`) checks every
declared parameter. A parameter is valid when it satisfies at least one of
its constraints; otherwise the error names the class, the parameter, what was
expected (the constraints' descriptions, joined with "or") and what was
received::

    The 'budget' parameter of LabelBudget must be an int >= 1. Got 0 instead.

The type of the error is the first (not-None) constraint's: ``TypeError``
for a value of the wrong kind where the constraint says so, ``ValueError``
otherwise. Rules between several parameters stay hand-written, after the
declared ones.
"""

import numbers

import numpy as np

from ._validation import (
    RANDOM_STATE_LIKE,
    describe,
    invalid_parameter_message,
    is_random_state_like,
)

__all__ = [
    "Boolean",
    "Callable",
    "Constraint",
    "HasMethods",
    "InstanceOf",
    "Interval",
    "Options",
    "ParameterConstraintsMixin",
    "RandomStateLike",
    "validate_parameter",
    "validate_params",
]


class Constraint:
    """Base class of the constraints a parameter may satisfy.

    Subclasses implement :meth:`is_satisfied_by` and :meth:`_default_description`,
    and set ``error`` (the exception raised for a value that satisfies none
    of the parameter's constraints).

    Parameters
    ----------
    description : str, default=None
        What a valid value is, as the error message says it (e.g. ``"a float
        in [0, 1]"``); None uses the constraint's own wording.
    """

    #: The exception raised when the value is refused.
    error = ValueError

    def __init__(self, description=None):
        self.description = description

    def is_satisfied_by(self, value):
        """Return whether ``value`` satisfies the constraint."""
        raise NotImplementedError

    def error_for(self, value):
        """Return the exception class to raise for the refused ``value``."""
        return self.error

    def received(self, value):
        """Return how the error message shows the refused ``value``."""
        return describe(value)

    def _default_description(self):
        raise NotImplementedError

    def __str__(self):
        if self.description is not None:
            return self.description
        return self._default_description()

    def __repr__(self):
        return f"{type(self).__name__}({str(self)!r})"


class _NoneConstraint(Constraint):
    """The value None (declared as ``None`` in a list of constraints)."""

    def is_satisfied_by(self, value):
        return value is None

    def _default_description(self):
        return "None"


class Interval(Constraint):
    """A real number or an int within bounds.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        The kind of number. Bools are refused either way; numpy numbers are
        accepted.
    left, right : number or None
        The bounds; None for no bound on that side.
    closed : {"left", "right", "both", "neither"}, default="left"
        Which bounds belong to the interval.
    type_error : bool, default=False
        Raise ``TypeError`` (rather than ``ValueError``) for a value that is
        not a number of ``type``.
    description : str, default=None
        The wording of the message; by default ``"an int >= 1"``, ``"a float
        in (0, 1]"``...

    Examples
    --------
    >>> import numbers
    >>> str(Interval(numbers.Integral, 1, None))
    'an int >= 1'
    >>> constraint = Interval(numbers.Real, 0, 1, closed="right")
    >>> str(constraint), constraint.is_satisfied_by(0.0)
    ('a float in (0, 1]', False)
    """

    def __init__(
        self, type, left, right, *, closed="left", type_error=False, description=None
    ):
        super().__init__(description)
        if type not in (numbers.Integral, numbers.Real):
            raise ValueError(
                "The 'type' parameter of Interval must be numbers.Integral or "
                f"numbers.Real. Got {type!r} instead."
            )
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(
                "The 'closed' parameter of Interval must be one of ['left', "
                f"'right', 'both', 'neither']. Got {closed!r} instead."
            )
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed
        self.type_error = type_error

    def _is_number(self, value):
        return not isinstance(value, bool | np.bool_) and isinstance(value, self.type)

    def is_satisfied_by(self, value):
        if not self._is_number(value):
            return False
        if self.left is not None:
            if self.closed in ("left", "both"):
                if not value >= self.left:
                    return False
            elif not value > self.left:
                return False
        if self.right is not None:
            if self.closed in ("right", "both"):
                if not value <= self.right:
                    return False
            elif not value < self.right:
                return False
        # NaN fails every comparison; without bounds, refuse it here.
        return not (value != value)

    def error_for(self, value):
        if self.type_error and not self._is_number(value):
            return TypeError
        return ValueError

    def _default_description(self):
        kind = "an int" if self.type is numbers.Integral else "a float"
        left_closed = self.closed in ("left", "both")
        right_closed = self.closed in ("right", "both")
        if self.left is not None and self.right is not None:
            opening = "[" if left_closed else "("
            closing = "]" if right_closed else ")"
            return f"{kind} in {opening}{self.left}, {self.right}{closing}"
        if self.left is not None:
            return f"{kind} {'>=' if left_closed else '>'} {self.left}"
        if self.right is not None:
            return f"{kind} {'<=' if right_closed else '<'} {self.right}"
        return kind


class Options(Constraint):
    """One of a fixed collection of values (usually strings).

    Parameters
    ----------
    values : collection
        The valid values, listed in the message in their order (pass a tuple
        or a list, not a set, for a stable message). When they are all
        strings, only strings are accepted.
    description : str, default=None
        The wording of the message; by default ``"one of ['a', 'b']"``, or
        the ``repr`` of the only value.

    Examples
    --------
    >>> str(Options(("mean", "cls")))
    "one of ['mean', 'cls']"
    >>> Options(("mean", "cls")).is_satisfied_by("max")
    False
    """

    def __init__(self, values, *, description=None):
        super().__init__(description)
        self.values = tuple(values)

    def is_satisfied_by(self, value):
        if all(isinstance(option, str) for option in self.values) and not (
            isinstance(value, str)
        ):
            return False
        try:
            return bool(value in self.values)
        except (TypeError, ValueError):  # e.g. an array compared with strings
            return False

    def _default_description(self):
        if len(self.values) == 1:
            return repr(self.values[0])
        return f"one of {list(self.values)}"


class Boolean(Constraint):
    """A bool (Python's or numpy's); other values raise ``TypeError``.

    Examples
    --------
    >>> Boolean().is_satisfied_by(1)
    False
    """

    error = TypeError

    def is_satisfied_by(self, value):
        return isinstance(value, bool | np.bool_)

    def _default_description(self):
        return "a bool"


class Callable(Constraint):
    """A callable; other values raise ``TypeError`` naming their type.

    Examples
    --------
    >>> Callable(description="a callable f(p, q)").is_satisfied_by(len)
    True
    """

    error = TypeError

    def is_satisfied_by(self, value):
        return callable(value)

    def received(self, value):
        return type(value).__name__

    def _default_description(self):
        return "a callable"


class HasMethods(Constraint):
    """An object with the named methods; others raise ``TypeError`` naming their type.

    Parameters
    ----------
    methods : str or list of str
        The method names.
    description : str, default=None
        The wording of the message.

    Examples
    --------
    >>> HasMethods(["fit", "augment"]).is_satisfied_by(object())
    False
    """

    error = TypeError

    def __init__(self, methods, *, description=None):
        super().__init__(description)
        self.methods = [methods] if isinstance(methods, str) else list(methods)

    def is_satisfied_by(self, value):
        return all(callable(getattr(value, name, None)) for name in self.methods)

    def received(self, value):
        return type(value).__name__

    def _default_description(self):
        return f"an object with the methods {self.methods}"


class InstanceOf(Constraint):
    """An instance of a type (or of one of several); others raise ``TypeError``.

    Parameters
    ----------
    types : type or tuple of types
        The accepted types.
    description : str, default=None
        The wording of the message; by default ``"an instance of str"``.

    Examples
    --------
    >>> import os
    >>> InstanceOf((str, os.PathLike), description="a folder path").is_satisfied_by(3)
    False
    """

    error = TypeError

    def __init__(self, types, *, description=None):
        super().__init__(description)
        self.types = types

    def is_satisfied_by(self, value):
        return isinstance(value, self.types)

    def received(self, value):
        return f"{type(value).__name__} {describe(value)}"

    def _default_description(self):
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        return "an instance of " + " or ".join(kind.__name__ for kind in types)


class RandomStateLike(Constraint):
    """What ``check_random_state`` takes: None, a 32-bit seed or a RandomState.

    Examples
    --------
    >>> RandomStateLike().is_satisfied_by(2**32)
    False
    """

    def is_satisfied_by(self, value):
        return is_random_state_like(value)

    def _default_description(self):
        return RANDOM_STATE_LIKE


def _as_constraint(declared):
    if declared is None:
        return _NoneConstraint()
    if isinstance(declared, Constraint):
        return declared
    if isinstance(declared, type):
        return InstanceOf(declared)
    raise TypeError(
        "A parameter constraint must be a Constraint, a type or None. Got "
        f"{describe(declared)} instead."
    )


def _joined(descriptions):
    if len(descriptions) == 1:
        return descriptions[0]
    return ", ".join(descriptions[:-1]) + " or " + descriptions[-1]


def validate_parameter(value, name, constraints, *, owner=None):
    """Check one value against its constraints; raise naming what was expected.

    The message is worded as the hand-written checks' (``check_int``...),
    by the same function (``invalid_parameter_message``).

    Parameters
    ----------
    value : object
        The value to check.
    name, owner : str
        The parameter and the class or function it belongs to (``owner``
        may be None), as the message names them.
    constraints : list of (Constraint, type or None)
        The value is valid when it satisfies at least one of them. ``None``
        stands for the value None, a type for :class:`InstanceOf` it.

    Returns
    -------
    value : object
        ``value`` itself, once it satisfies a constraint.

    Raises
    ------
    TypeError or ValueError
        If ``value`` satisfies none of the constraints: the type is the
        first not-None constraint's (see the module docstring).

    Examples
    --------
    >>> import numbers
    >>> validate_parameter(None, "top_k", [Interval(numbers.Integral, 1, None), None])
    >>> validate_parameter(0, "top_k", [Interval(numbers.Integral, 1, None), None])
    Traceback (most recent call last):
    ...
    ValueError: The 'top_k' parameter must be an int >= 1 or None. Got 0 instead.
    """
    constraints = [_as_constraint(declared) for declared in constraints]
    if any(constraint.is_satisfied_by(value) for constraint in constraints):
        return value
    leading = next(
        (c for c in constraints if not isinstance(c, _NoneConstraint)),
        constraints[0] if constraints else _NoneConstraint(),
    )
    expected = _joined([str(constraint) for constraint in constraints])
    raise leading.error_for(value)(
        invalid_parameter_message(name, expected, leading.received(value), owner=owner)
    )


def validate_params(estimator, constraints=None, *, owner=None):
    """Check every declared parameter of ``estimator``, in declaration order.

    Parameters
    ----------
    estimator : object
        The object whose attributes are the parameters (a scikit-learn
        estimator, a skorch net...).
    constraints : dict, default=None
        ``{parameter name: list of constraints}``; by default the object's
        ``_parameter_constraints``.
    owner : str, default=None
        The name used in the messages; by default the object's class name.

    Returns
    -------
    estimator : object
        ``estimator`` itself.

    Raises
    ------
    TypeError or ValueError
        For the first parameter that satisfies none of its constraints (see
        :func:`validate_parameter`).

    Examples
    --------
    >>> import numbers
    >>> class Rule:
    ...     _parameter_constraints = {"window": [Interval(numbers.Integral, 1, None)]}
    ...     window = 0
    >>> validate_params(Rule())
    Traceback (most recent call last):
    ...
    ValueError: The 'window' parameter of Rule must be an int >= 1. Got 0 instead.
    """
    if constraints is None:
        constraints = getattr(estimator, "_parameter_constraints", {})
    if owner is None:
        owner = type(estimator).__name__
    for name, declared in constraints.items():
        validate_parameter(getattr(estimator, name), name, declared, owner=owner)
    return estimator


class ParameterConstraintsMixin:
    """Mixin giving ``_validate_params()``, which checks ``_parameter_constraints``.

    Put it before :class:`sklearn.base.BaseEstimator` among the bases (its
    ``_validate_params`` replaces scikit-learn's). A subclass with rules
    between parameters overrides ``_validate_params``, calls
    ``super()._validate_params()`` first and adds them after.

    Examples
    --------
    >>> import numbers
    >>> from sklearn.base import BaseEstimator
    >>> class Budget(ParameterConstraintsMixin, BaseEstimator):
    ...     _parameter_constraints = {"budget": [Interval(numbers.Integral, 1, None)]}
    ...     def __init__(self, budget=10):
    ...         self.budget = budget
    >>> Budget(budget="ten")._validate_params()
    Traceback (most recent call last):
    ...
    ValueError: The 'budget' parameter of Budget must be an int >= 1. Got 'ten' instead.
    """

    #: ``{parameter name: list of constraints}``, checked in this order.
    _parameter_constraints = {}

    def _validate_params(self):
        """Check every declared parameter; raise naming the first invalid one."""
        validate_params(self)
