"""The consistency-loss criterion of ALLSH's curriculum learning (eq. 5).

``L = CE(labeled) + alpha * mean_{x in unlabeled batch} D(p(.|x), p(.|x'))``

where ``x'`` is an augmented copy of the unlabeled text ``x`` and ``D`` one of
the divergences of :mod:`allsh_sklearn.divergences`. As in UDA (Xie et al.,
2020), the target side ``p(.|x)`` carries no gradient: only the prediction on
the augmented copy is pulled towards it.
"""

import inspect
import numbers

import torch
from torch.nn import functional as F

from ..utils import Interval, validate_params
from ._torch_divergences import get_divergence

__all__ = ["ConsistencyLoss"]


class ConsistencyLoss(torch.nn.Module):
    """Cross-entropy on labeled texts plus a consistency term on unlabeled ones.

    A skorch criterion. Called as ``criterion(logits, y)`` it is the
    cross-entropy over the rows whose label is not ``-1`` (rows labeled
    ``-1`` are unlabeled and ignored), so it can stand in for
    :class:`torch.nn.CrossEntropyLoss` in any skorch net. Called as
    ``criterion(logits, y, logits_unlabeled, logits_augmented)`` it adds
    ``alpha`` times the mean divergence between the predictions on unlabeled
    texts (detached: the target) and on their augmented copies.

    :class:`~allsh_sklearn.models.TransformerClassifier` does the rest when it
    sees this criterion: it reads ``augmenter`` and ``unlabeled_ratio``, takes
    the rows labeled ``-1`` in ``y`` as the unlabeled pool, augments the ones
    it will use once per ``fit`` and feeds both logits to this module. Another
    skorch net can do the same from its ``get_loss``.

    Parameters
    ----------
    augmenter : augmenter or None, default=None
        Produces ``x'`` from ``x`` (the contract of
        :class:`allsh_sklearn.augment.BaseAugmenter`: ``fit(corpus)``,
        ``augment(X, n_copies)``). An unfitted augmenter is cloned and fitted
        on the texts of each ``fit``; a fitted one is used as is. ``None``
        means ``TfidfAugmenter(p=0.3)``, the paper's default.
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        ``D`` in eq. 5, or a callable ``f(p, q) -> Tensor`` of one value per
        row on torch tensors.
    alpha : float, default=0.01
        Weight of the consistency term (the paper's 0.01). ``0`` turns the
        criterion into plain cross-entropy.
    divergence_alpha : float, default=0.5
        Order of the alpha-divergence when ``divergence="alpha"`` (the paper
        uses -0.5 and 0.5).
    unlabeled_ratio : float, default=1.0
        Unlabeled texts per labeled text in a training step: each step draws
        ``ceil(unlabeled_ratio * batch_size)`` unlabeled texts.
    cache : object with ``get_many`` / ``set_many`` or None, default=None
        An augmentation cache (e.g.
        :class:`~allsh_sklearn.augment.MemoryAugmentationCache`) kept across
        fits, so a pool text is augmented once per active learning run rather
        than once per ``fit``.

    Attributes
    ----------
    last_supervised_ : float
        The cross-entropy term of the last call.
    last_consistency_ : float
        The (unweighted) consistency term of the last call, 0.0 when no
        unlabeled logits were given.

    Examples
    --------
    >>> import torch
    >>> criterion = ConsistencyLoss(alpha=0.0)
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> y = torch.tensor([0, 1])
    >>> bool(torch.isclose(criterion(logits, y),
    ...                    torch.nn.functional.cross_entropy(logits, y)))
    True
    """

    def __init__(
        self,
        augmenter=None,
        divergence="kl",
        alpha=0.01,
        divergence_alpha=0.5,
        unlabeled_ratio=1.0,
        cache=None,
    ):
        super().__init__()
        self.augmenter = augmenter
        self.divergence = divergence
        self.alpha = alpha
        self.divergence_alpha = divergence_alpha
        self.unlabeled_ratio = unlabeled_ratio
        self.cache = cache

    # scikit-learn style parameters, so that clone and GridSearchCV reach them.

    @classmethod
    def _get_param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(name for name in signature.parameters if name != "self")

    def get_params(self, deep=True):
        """Return the constructor parameters (``deep`` is accepted and ignored)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters; unknown names raise ``ValueError``."""
        valid = set(self._get_param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for ConsistencyLoss. Valid "
                    f"parameters are {sorted(valid)}."
                )
            setattr(self, name, value)
        return self

    def extra_repr(self):
        return (
            f"divergence={self.divergence!r}, alpha={self.alpha!r}, "
            f"unlabeled_ratio={self.unlabeled_ratio!r}"
        )

    # Validation -------------------------------------------------------------

    _parameter_constraints = {
        "unlabeled_ratio": [
            Interval(
                numbers.Real,
                0,
                float("inf"),
                closed="neither",
                description="a finite real number > 0",
            )
        ],
    }

    def validate(self):
        """Check the parameters; raise ``ValueError``/``TypeError`` naming them."""
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real):
            raise TypeError(
                "The 'alpha' parameter of ConsistencyLoss must be a real number "
                f">= 0. Got {self.alpha!r} instead."
            )
        if not self.alpha >= 0 or self.alpha == float("inf"):
            raise ValueError(
                "The 'alpha' parameter of ConsistencyLoss must be a finite real "
                f"number >= 0. Got {self.alpha!r} instead."
            )
        validate_params(self)
        if self.augmenter is not None and not hasattr(self.augmenter, "augment"):
            raise TypeError(
                "The 'augmenter' parameter of ConsistencyLoss must have the "
                "augmenter contract (fit(corpus), augment(X, n_copies)). Got "
                f"{type(self.augmenter).__name__} instead."
            )
        self._divergence_fn()
        return self

    def _divergence_fn(self):
        if self.divergence == "alpha":
            return get_divergence("alpha", alpha=self.divergence_alpha)
        return get_divergence(self.divergence)

    def make_augmenter(self):
        """Return the augmenter to use: ``augmenter``, or the paper's default."""
        if self.augmenter is not None:
            return self.augmenter
        from ..augment import TFIDF_REPLACEMENT_RATE, TfidfAugmenter

        return TfidfAugmenter(p=TFIDF_REPLACEMENT_RATE)

    # The loss ---------------------------------------------------------------

    def supervised(self, logits, target):
        """Mean cross-entropy over the rows whose target is not ``-1``."""
        target = target.long()
        labeled = target != -1
        if not bool(labeled.any()):
            return logits.sum() * 0.0
        return F.cross_entropy(logits[labeled], target[labeled])

    def consistency(self, logits_unlabeled, logits_augmented):
        """Mean ``D(p(.|x), p(.|x'))``, the target ``p(.|x)`` detached."""
        if logits_unlabeled.shape != logits_augmented.shape:
            raise ValueError(
                "The unlabeled and augmented logits must have the same shape. "
                f"Got {tuple(logits_unlabeled.shape)} and "
                f"{tuple(logits_augmented.shape)} instead."
            )
        target = torch.softmax(logits_unlabeled.detach(), dim=-1)
        prediction = torch.softmax(logits_augmented, dim=-1)
        return self._divergence_fn()(target, prediction).mean()

    def forward(self, logits, target, logits_unlabeled=None, logits_augmented=None):
        """Return ``CE + alpha * consistency`` (see the class docstring).

        Parameters
        ----------
        logits : Tensor of shape (n_labeled, n_classes)
        target : Tensor of shape (n_labeled,)
            Class indices; ``-1`` marks rows to ignore.
        logits_unlabeled, logits_augmented : Tensor of shape (n_unlabeled, \
n_classes) or None
            Logits on unlabeled texts and on their augmented copies.

        Returns
        -------
        loss : scalar Tensor
        """
        loss = self.supervised(logits, target)
        self.last_supervised_ = float(loss.detach())
        self.last_consistency_ = 0.0
        if logits_unlabeled is None or logits_augmented is None:
            return loss
        if logits_unlabeled.shape[0] == 0:
            return loss
        consistency = self.consistency(logits_unlabeled, logits_augmented)
        self.last_consistency_ = float(consistency.detach())
        if self.alpha == 0:
            return loss
        return loss + self.alpha * consistency
