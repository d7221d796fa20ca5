"""Differentiable twins of :mod:`allsh_sklearn.divergences` for torch tensors.

The consistency loss (eq. 5 of the paper) needs the same divergences as the
ALLSH acquisition score, but on tensors that carry gradients. Each function
here has the definition, the name and the argument validation of its numpy
twin: rows are clipped to ``EPS`` and renormalised, the result is one value
per row, never negative. The tests check that both agree.

Two details differ for the sake of gradients only: the square root of the
Jensen-Shannon distance has a zero (not infinite) gradient where the two rows
are equal, and clipping is done with :func:`torch.clamp`, whose gradient is
zero below ``EPS``.
"""

import torch

from ..divergences import (
    EPS,
    alpha_divergence_rows,
    check_alpha,
    divergence_registry,
    lookup_divergence,
)

__all__ = [
    "alpha_divergence",
    "get_divergence",
    "jsd",
    "kl",
    "reverse_kl",
]


def _prepare(p, q):
    if p.shape != q.shape:
        raise ValueError(
            "The 'p' and 'q' parameters must have the same shape. Got "
            f"{tuple(p.shape)} and {tuple(q.shape)} instead."
        )
    squeeze = p.dim() == 1
    if squeeze:
        p, q = p.unsqueeze(0), q.unsqueeze(0)
    p = torch.clamp(p, min=EPS)
    q = torch.clamp(q, min=EPS)
    p = p / p.sum(dim=1, keepdim=True)
    q = q / q.sum(dim=1, keepdim=True)
    return p, q, squeeze


def _finish(values, squeeze):
    values = torch.clamp(values, min=0.0)
    return values[0] if squeeze else values


def _rel_entr(p, q):
    # p and q are strictly positive after _prepare.
    return p * (torch.log(p) - torch.log(q))


def kl(p, q):
    """Kullback-Leibler divergence ``KL(p || q)`` of each pair of rows.

    :func:`allsh_sklearn.divergences.kl` on tensors ``p``, ``q`` of shape
    (n_samples, n_classes) or (n_classes,): one value per row (a scalar for
    one row), in nats, non-negative.

    Examples
    --------
    >>> import torch
    >>> round(float(kl(torch.tensor([0.5, 0.5]), torch.tensor([0.9, 0.1]))), 4)
    0.5108
    """
    p, q, squeeze = _prepare(p, q)
    return _finish(_rel_entr(p, q).sum(dim=1), squeeze)


def reverse_kl(p, q):
    """Reverse Kullback-Leibler divergence ``KL(q || p)``.

    Examples
    --------
    >>> import torch
    >>> p, q = torch.tensor([0.5, 0.5]), torch.tensor([0.9, 0.1])
    >>> round(float(reverse_kl(p, q)), 4)
    0.3681
    """
    return kl(q, p)


def _safe_sqrt(values):
    positive = values > 0
    safe = torch.where(positive, values, torch.ones_like(values))
    return torch.where(positive, torch.sqrt(safe), torch.zeros_like(values))


def jsd(p, q):
    """Jensen-Shannon distance: the square root of the JS divergence, base 2.

    Symmetric and in [0, 1]; its gradient is zero where ``p == q``.

    Examples
    --------
    >>> import torch
    >>> float(jsd(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])))
    1.0
    """
    p, q, squeeze = _prepare(p, q)
    m = 0.5 * (p + q)
    divergence = 0.5 * (_rel_entr(p, m).sum(dim=1) + _rel_entr(q, m).sum(dim=1))
    log2 = torch.log(torch.tensor(2.0, dtype=divergence.dtype))
    distance = _safe_sqrt(torch.clamp(divergence / log2, 0.0, 1.0))
    return _finish(distance, squeeze)


def alpha_divergence(p, q, alpha=0.5):
    """Alpha-divergence ``(sum_i p_i^a q_i^(1-a) - 1) / (a (a - 1))``.

    The same standard form and the same stable evaluation as
    :func:`allsh_sklearn.divergences.alpha_divergence`.

    Parameters
    ----------
    p, q : torch.Tensor of shape (n_samples, n_classes) or (n_classes,)
        Probability distributions, one per row.
    alpha : float, default=0.5
        Any finite real number except 0 and 1.

    Returns
    -------
    divergence : torch.Tensor of shape (n_samples,) or scalar

    Examples
    --------
    >>> import torch
    >>> p, q = torch.tensor([0.5, 0.5]), torch.tensor([0.9, 0.1])
    >>> round(float(alpha_divergence(p, q, alpha=0.5)), 4)
    0.4223
    """
    alpha = check_alpha(alpha)
    p, q, squeeze = _prepare(p, q)
    return _finish(alpha_divergence_rows(p, q, alpha, torch.log, torch.expm1), squeeze)


_TORCH_DIVERGENCES = divergence_registry(kl, reverse_kl, jsd, alpha_divergence)


def get_divergence(name, alpha=0.5):
    """Return the torch divergence called ``name`` as ``f(p, q)``.

    The names, the parameters and the errors are those of
    :func:`allsh_sklearn.divergences.get_divergence` (one lookup serves
    both); a callable ``name`` takes and returns tensors.

    Examples
    --------
    >>> get_divergence("jsd") is jsd
    True
    """
    return lookup_divergence(name, alpha, _TORCH_DIVERGENCES)
