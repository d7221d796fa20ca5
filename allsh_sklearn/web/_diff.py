"""Which words of an augmented copy differ from the original text.

The word diff is :func:`allsh_sklearn.utils.changed_tokens`, which the
terminal annotator uses too; the page imports it from here.
"""

from ..utils._text_diff import changed_tokens

__all__ = ["changed_tokens"]
