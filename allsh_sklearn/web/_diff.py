"""Which words of an augmented copy differ from the original text.

The word diff lives with the session
(:func:`allsh_sklearn.session._why.changed_tokens`), which the terminal
annotator uses too; the page imports it from here.
"""

from ..session._why import changed_tokens

__all__ = ["changed_tokens"]
