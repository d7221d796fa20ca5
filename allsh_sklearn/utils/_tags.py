"""Estimator tags shared by the estimators that take texts."""


class TextInputMixin:
    """Mixin of the estimators whose input is texts or sentence pairs.

    Their ``X`` is a sequence of str or of (str, str), not a numeric array:
    the input tags say so (``two_d_array=False``, ``string=True``), and
    scikit-learn's common checks skip the checks that feed numbers. Put it
    first among the bases, as scikit-learn's own mixins.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> class Echo(TextInputMixin, BaseEstimator):
    ...     pass
    >>> tags = Echo().__sklearn_tags__().input_tags
    >>> tags.string, tags.two_d_array
    (True, False)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
