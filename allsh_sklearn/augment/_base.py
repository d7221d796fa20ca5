"""The augmenter contract shared by every augmenter.

An augmenter is a scikit-learn transformer over texts: ``fit(corpus)`` learns
what it needs from a corpus, ``transform(X)`` returns one augmented copy per
text (as many outputs as inputs) and ``augment(X, n_copies=K)`` returns ``K``
copies per text. Sentence pairs ``(text, text_pair)`` are augmented on both
sides.

Subclasses implement ``_fit_texts(texts)`` and
``_augment_texts(texts, copy_index)`` on plain lists of strings; this base
class handles validation, sentence pairs, seeding and the fingerprint that
keys augmentation caches. A subclass that treats the two sides of a pair
together (``TfidfAugmenter``) overrides ``_fit_items`` and
``_augment_items`` instead.
"""

import json

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils import ParameterConstraintsMixin, derive_seed, is_pair, text_key
from ..utils._tags import TextInputMixin
from ..utils._validation import check_texts


def stable_seed(*parts):
    """Return a 63-bit integer seed derived from ``parts`` (stable across runs).

    Python's ``hash`` of a string changes between processes; this does not.
    It is :func:`allsh_sklearn.utils.derive_seed` with ``modulus=None``.

    Examples
    --------
    >>> stable_seed(0, 1, "a film") == stable_seed(0, 1, "a film")
    True
    """
    return derive_seed(*parts, modulus=None)


class BaseAugmenter(
    TextInputMixin, ParameterConstraintsMixin, TransformerMixin, BaseEstimator
):
    """Base class of text augmenters (not to be used directly).

    Subclasses define ``__init__`` (storing a ``random_state`` parameter),
    ``_fit_texts(self, texts)`` and ``_augment_texts(self, texts,
    copy_index)``. Copies should depend only on the text, the copy index and
    ``seed_`` (use :func:`stable_seed`), so that a cached copy equals a
    recomputed one. They declare their parameters' constraints in
    ``_parameter_constraints`` (see :mod:`allsh_sklearn.utils`), checked by
    ``_validate_params()`` at ``fit``; a subclass with rules between
    parameters overrides ``_validate_params`` and calls ``super()``'s.
    """

    def fit(self, X, y=None):
        """Learn corpus statistics from the texts in ``X``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The corpus; both sides of sentence pairs are used.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        items = list(check_texts(X, name="X"))
        random_state = getattr(self, "random_state", None)
        if isinstance(random_state, int | np.integer):
            self.seed_ = int(random_state)
        else:
            self.seed_ = int(check_random_state(random_state).randint(2**31 - 1))
        self._fit_items(items)
        return self

    def transform(self, X):
        """Return one augmented copy of each text in ``X``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The texts, or sentence pairs, to augment.

        Returns
        -------
        X_augmented : list
            As many items as ``X``, of the same kind (texts or pairs).
        """
        return self.augment(X, n_copies=1)[0]

    def augment(self, X, n_copies=1, copy_offset=0):
        """Return ``n_copies`` augmented copies of each text in ``X``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
        n_copies : int, default=1
            How many copies of each text.
        copy_offset : int, default=0
            Index of the first copy; copy ``k`` is the same whatever the other
            texts in ``X``, so ``augment(X, 1, copy_offset=k)`` returns the
            ``k``-th copy alone.

        Returns
        -------
        copies : list of ``n_copies`` lists
            ``copies[k][i]`` is copy ``copy_offset + k`` of ``X[i]``.
        """
        check_is_fitted(self)
        if not isinstance(n_copies, int | np.integer) or n_copies < 1:
            raise ValueError(
                f"The 'n_copies' parameter must be an int >= 1. Got {n_copies!r} "
                "instead."
            )
        items = list(check_texts(X, name="X"))
        return [self._augment_items(items, copy_offset + k) for k in range(n_copies)]

    def fingerprint(self):
        """Return a string that identifies this augmenter's output.

        Two fitted augmenters with the same fingerprint produce the same
        copies of the same text; caches key their entries by it.
        """
        check_is_fitted(self)
        params = {
            key: (
                value
                if isinstance(value, int | float | str | bool | None)
                else repr(value)
            )
            for key, value in sorted(self.get_params(deep=False).items())
        }
        payload = json.dumps(
            {
                "class": type(self).__name__,
                "params": params,
                "seed": self.seed_,
                "state": self._fitted_state_token(),
            },
            sort_keys=True,
        )
        return text_key(payload, length=32)

    # Subclass hooks -----------------------------------------------------

    def _fit_items(self, items):
        """Learn from a list of texts and pairs; by default from every text.

        Override it to treat the two sides of a pair together.
        """
        self._fit_texts(self._flatten(items))

    def _fit_texts(self, texts):
        """Learn from a list of strings."""

    def _augment_texts(self, texts, copy_index):
        """Return one augmented string per string in ``texts``."""
        raise NotImplementedError

    def _fitted_state_token(self):
        """Return a short string that changes when the fitted state changes."""
        return ""

    # Helpers --------------------------------------------------------------

    @staticmethod
    def _flatten(items):
        texts = []
        for item in items:
            if is_pair(item):
                texts.extend(item)
            else:
                texts.append(item)
        return texts

    def _augment_items(self, items, copy_index):
        if not any(is_pair(item) for item in items):
            return list(self._augment_texts(list(items), copy_index))
        firsts = [item[0] if is_pair(item) else item for item in items]
        seconds = [item[1] for item in items if is_pair(item)]
        new_firsts = self._augment_texts(firsts, copy_index)
        new_seconds = iter(self._augment_texts(seconds, copy_index))
        return [
            (first, next(new_seconds)) if is_pair(item) else first
            for item, first in zip(items, new_firsts, strict=True)
        ]
