"""Divergences between rows of two probability arrays.

Each function takes two arrays of shape (n_samples, n_classes) whose rows are
probability distributions and returns one value per row. They are the ``D``
of the ALLSH acquisition score ``D(p(.|x), p(.|x'))`` (eq. 1 of the paper)
and of the consistency loss (eq. 5).

Zeros are handled by clipping both arguments to ``EPS`` and renormalising
each row, so that every divergence is finite and exactly zero when the two
rows are equal.
"""

import numbers

import numpy as np
from scipy.special import rel_entr

__all__ = [
    "DIVERGENCES",
    "EPS",
    "alpha_divergence",
    "alpha_divergence_rows",
    "check_alpha",
    "divergence_registry",
    "get_divergence",
    "jsd",
    "kl",
    "lookup_divergence",
    "reverse_kl",
]

EPS = 1e-12


def _prepare(p, q):
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(
            "The 'p' and 'q' parameters must have the same shape. Got "
            f"{p.shape} and {q.shape} instead."
        )
    squeeze = p.ndim == 1
    p = np.atleast_2d(np.clip(p, EPS, None))
    q = np.atleast_2d(np.clip(q, EPS, None))
    p = p / p.sum(axis=1, keepdims=True)
    q = q / q.sum(axis=1, keepdims=True)
    return p, q, squeeze


def _finish(values, squeeze):
    values = np.maximum(values, 0.0)
    return values[0] if squeeze else values


def kl(p, q):
    """Kullback-Leibler divergence ``KL(p || q) = sum_i p_i log(p_i / q_i)``.

    Parameters
    ----------
    p, q : array-like of shape (n_samples, n_classes) or (n_classes,)
        Probability distributions, one per row.

    Returns
    -------
    divergence : ndarray of shape (n_samples,) or float
        In nats, non-negative.

    Examples
    --------
    >>> round(float(kl([0.5, 0.5], [0.9, 0.1])), 4)
    0.5108
    """
    p, q, squeeze = _prepare(p, q)
    return _finish(rel_entr(p, q).sum(axis=1), squeeze)


def reverse_kl(p, q):
    """Reverse Kullback-Leibler divergence ``KL(q || p)``.

    Examples
    --------
    >>> round(float(reverse_kl([0.5, 0.5], [0.9, 0.1])), 4)
    0.3681
    """
    return kl(q, p)


def jsd(p, q):
    """Jensen-Shannon distance: the square root of the JS divergence, base 2.

    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2`` and
    base-2 logarithms, so that it is symmetric and lies in [0, 1].

    Examples
    --------
    >>> round(float(jsd([1.0, 0.0], [0.0, 1.0])), 6)
    1.0
    """
    p, q, squeeze = _prepare(p, q)
    m = 0.5 * (p + q)
    divergence = 0.5 * (rel_entr(p, m).sum(axis=1) + rel_entr(q, m).sum(axis=1))
    distance = np.sqrt(np.clip(divergence / np.log(2.0), 0.0, 1.0))
    return _finish(distance, squeeze)


def check_alpha(alpha):
    """Check the order of an alpha-divergence: a finite real number other than 0 and 1.

    Parameters
    ----------
    alpha : float
        The order.

    Returns
    -------
    alpha : float

    Raises
    ------
    TypeError
        If ``alpha`` is not a real number.
    ValueError
        If ``alpha`` is not finite, or is 0 or 1 (the limits, reverse KL and
        KL, have their own names).

    Examples
    --------
    >>> check_alpha(2)
    2.0
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            "The 'alpha' parameter must be a real number other than 0 and 1. "
            f"Got {alpha!r} instead."
        )
    if not np.isfinite(alpha) or alpha in (0, 1):
        raise ValueError(
            "The 'alpha' parameter must be a finite real number other than 0 "
            "and 1 (the alpha-divergence tends to reverse KL at 0 and to KL at "
            f"1: use divergence='reverse_kl' or 'kl'). Got {alpha!r} instead."
        )
    return float(alpha)


def alpha_divergence(p, q, alpha=0.5):
    """Alpha-divergence ``(sum_i p_i^a q_i^(1-a) - 1) / (a (a - 1))``.

    The standard form (Minka, 2005): it tends to ``KL(p || q)`` as
    ``alpha -> 1`` and to ``KL(q || p)`` as ``alpha -> 0``. It is computed as
    ``sum_i p_i expm1((a - 1) log(p_i / q_i)) / (a (a - 1))``, and through the
    identity ``D_a(p || q) = D_(1-a)(q || p)`` for ``a < 1/2``, so it stays
    accurate close to both limits.

    Parameters
    ----------
    p, q : array-like of shape (n_samples, n_classes) or (n_classes,)
        Probability distributions, one per row.
    alpha : float, default=0.5
        Any finite real number except 0 and 1. ``alpha=0.5`` is four times
        the squared Hellinger distance.

    Returns
    -------
    divergence : ndarray of shape (n_samples,) or float

    Examples
    --------
    >>> round(float(alpha_divergence([0.5, 0.5], [0.9, 0.1], alpha=0.5)), 4)
    0.4223
    """
    alpha = check_alpha(alpha)
    p, q, squeeze = _prepare(p, q)
    return _finish(alpha_divergence_rows(p, q, alpha, np.log, np.expm1), squeeze)


def alpha_divergence_rows(p, q, alpha, log, expm1):
    """Alpha-divergence of each row of two prepared (clipped, renormalised) 2-d arrays.

    Shared by the numpy and the torch alpha-divergence
    (:mod:`allsh_sklearn.models` has the torch one).

    Parameters
    ----------
    p, q : array of shape (n_samples, n_classes)
        Strictly positive rows summing to one, numpy arrays or torch tensors:
        both libraries' arrays accept ``.sum(axis=1)``.
    alpha : float
        The order, checked already (:func:`check_alpha`).
    log, expm1 : callable
        The array library's functions (``np.log``, ``np.expm1`` or
        ``torch.log``, ``torch.expm1``).

    Returns
    -------
    divergence : array of shape (n_samples,)

    Examples
    --------
    >>> p, q = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    >>> np.round(alpha_divergence_rows(p, q, 0.5, np.log, np.expm1), 4)
    array([0.4223])
    """
    if alpha < 0.5:
        p, q, alpha = q, p, 1.0 - alpha
    log_ratio = log(p) - log(q)
    total = (p * expm1((alpha - 1.0) * log_ratio)).sum(axis=1)
    return total / (alpha * (alpha - 1.0))


def divergence_registry(kl, reverse_kl, jsd, alpha_divergence):
    """Map the divergence names to one array library's functions.

    Parameters
    ----------
    kl, reverse_kl, jsd, alpha_divergence : callable
        The four divergences, numpy's (this module's) or torch's.

    Returns
    -------
    registry : dict
        ``{"kl": kl, "reverse_kl": reverse_kl, "jsd": jsd, "alpha":
        alpha_divergence}``, what :func:`lookup_divergence` resolves names in.

    Examples
    --------
    >>> sorted(divergence_registry(kl, reverse_kl, jsd, alpha_divergence))
    ['alpha', 'jsd', 'kl', 'reverse_kl']
    """
    return {"kl": kl, "reverse_kl": reverse_kl, "jsd": jsd, "alpha": alpha_divergence}


DIVERGENCES = divergence_registry(kl, reverse_kl, jsd, alpha_divergence)


def get_divergence(name, alpha=0.5):
    """Return the divergence function called ``name`` as ``f(p, q)``.

    Parameters
    ----------
    name : {"kl", "reverse_kl", "jsd", "alpha"} or callable
        A divergence name, or a callable ``f(p, q) -> ndarray`` used as is.
    alpha : float, default=0.5
        The order of the alpha-divergence; checked only for ``"alpha"``.

    Returns
    -------
    divergence : callable

    Examples
    --------
    >>> get_divergence("jsd") is jsd
    True
    >>> get_divergence("hellinger")
    Traceback (most recent call last):
    ...
    ValueError: The 'divergence' parameter must be one of ... Got 'hellinger' instead.
    """
    return lookup_divergence(name, alpha, DIVERGENCES)


def lookup_divergence(name, alpha, registry):
    """Resolve a divergence name in ``registry`` (numpy's or torch's divergences).

    Parameters
    ----------
    name : str or callable
        A name of ``registry``, or a callable ``f(p, q)`` returned as is.
    alpha : float
        The order of the alpha-divergence; checked only for ``"alpha"``.
    registry : dict
        Made by :func:`divergence_registry`.

    Returns
    -------
    divergence : callable
        ``f(p, q)``.

    Raises
    ------
    ValueError
        If ``name`` is not a name of ``registry`` (or ``alpha`` is invalid
        for ``"alpha"``; see :func:`check_alpha`).

    Examples
    --------
    >>> lookup_divergence("kl", 0.5, DIVERGENCES) is kl
    True
    """
    if callable(name):
        return name
    if not isinstance(name, str) or name not in registry:
        raise ValueError(
            "The 'divergence' parameter must be one of "
            f"{sorted(registry)} or a callable f(p, q). Got {name!r} instead."
        )
    if name == "alpha":
        alpha = check_alpha(alpha)
        alpha_function = registry["alpha"]

        def divergence(p, q):
            return alpha_function(p, q, alpha=alpha)

        return divergence
    return registry[name]
