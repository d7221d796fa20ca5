"""Which words of an augmented copy differ from the original text."""

import re
from difflib import SequenceMatcher

_TOKEN = re.compile(r"\s+|[^\s]+")


def changed_tokens(original, copy):
    """Split ``copy`` into pieces, each marked changed or not against ``original``.

    Words are compared as whitespace-separated tokens; the whitespace between
    them is kept as it is so the pieces join back into ``copy``.

    Parameters
    ----------
    original : str
        The text the annotator labels.
    copy : str
        Its augmented copy.

    Returns
    -------
    pieces : list of (str, bool)
        The pieces of ``copy`` in order, with True for a word that is new or
        replaced in the copy. ``"".join(p for p, _ in pieces) == copy``.

    Examples
    --------
    >>> changed_tokens("a good film", "a great  film")
    [('a', False), (' ', False), ('great', True), ('  ', False), ('film', False)]
    """
    old_words = original.split()
    pieces = _TOKEN.findall(copy)
    word_positions = [i for i, piece in enumerate(pieces) if not piece.isspace()]
    new_words = [pieces[i] for i in word_positions]
    changed = [False] * len(pieces)
    matcher = SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                changed[word_positions[j]] = True
    return list(zip(pieces, changed, strict=True))
