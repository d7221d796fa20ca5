"""Why a text was picked, said in plain words first.

The labeling page and the terminal annotator lead their "why was this
picked" view with one sentence built here from the model's probabilities:
for ALLSH, on the text and on its augmented copy (the copy with a few words
replaced that moved the prediction most), for example "The model hesitates
between earn (46%) and acq (39%); after replacing the highlighted words it
says acq (63%)."; for uncertainty sampling, which labels the model hesitates
between; for random and audit picks, that they were drawn at random and
why. The numbers (probabilities, the divergence) come after the sentence.
"""

from ..utils._text_diff import changed_tokens

__all__ = ["changed_tokens", "mark_changed", "percent", "why_sentence"]

#: The model "hesitates" between its two most probable labels when the
#: second has at least this share of the first's probability.
HESITATION_RATIO = 0.5

#: Strategies whose score is the model's uncertainty on the text alone.
_UNCERTAINTY = ("entropy", "margin", "least-confidence", "uncertainty")

#: How people read the names of ALLSH's divergences.
MEASURE_NAMES = {
    "kl": "KL",
    "reverse_kl": "reverse KL",
    "jsd": "Jensen-Shannon distance",
    "alpha": "alpha-divergence",
}

#: What each kind of pick is called in :func:`why_sentence`.
KINDS = ("allsh", "strategy", "initial", "audit", "random")


def mark_changed(original, copy, *, style="brackets"):
    """The copy with its changed words marked, for a terminal.

    Parameters
    ----------
    original, copy : str
    style : {"brackets", "ansi"}, default="brackets"
        ``[word]`` around each run of changed words, or ANSI bold and
        underline (for a terminal that shows them).

    Returns
    -------
    marked : str

    Examples
    --------
    >>> mark_changed("a good film of the year", "a great new film of the year")
    'a [great new] film of the year'
    """
    if style not in ("brackets", "ansi"):
        raise ValueError(
            f"The 'style' parameter of mark_changed must be 'brackets' or 'ansi'. "
            f"Got {style!r} instead."
        )
    start, end = ("[", "]") if style == "brackets" else ("\x1b[1;4m", "\x1b[0m")
    pieces = changed_tokens(original, copy)
    out, open_run = [], False
    for k, (piece, changed) in enumerate(pieces):
        if piece.isspace():
            # A space inside a run of changed words stays inside the mark.
            following = next((c for p, c in pieces[k + 1 :] if not p.isspace()), False)
            if open_run and not following:
                out.append(end)
                open_run = False
            out.append(piece)
            continue
        if changed and not open_run:
            out.append(start)
            open_run = True
        elif not changed and open_run:
            out.append(end)
            open_run = False
        out.append(piece)
    if open_run:
        out.append(end)
    return "".join(out)


def percent(p):
    """A probability as people read it: ``"46%"``, ``"<1%"``, ``">99%"``.

    Examples
    --------
    >>> percent(0.456), percent(0.001), percent(0.9999), percent(1.0)
    ('46%', '<1%', '>99%', '100%')
    """
    p = float(p)
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return f"{p:.0%}"


def _ranked(proba):
    """``[(label, p), ...]``, most probable first (ties in label order)."""
    items = list(proba.items())
    order = sorted(range(len(items)), key=lambda k: (-float(items[k][1]), k))
    return [(items[k][0], float(items[k][1])) for k in order]


def _says(ranked):
    """What the model says on a text: sure, hesitating, or leaning."""
    (a, pa), (b, pb) = ranked[0], ranked[1] if len(ranked) > 1 else (None, 0.0)
    if b is not None and pb >= HESITATION_RATIO * pa:
        return f"hesitates between {a} ({percent(pa)}) and {b} ({percent(pb)})"
    if pa >= 0.5 or b is None:
        return f"says {a} ({percent(pa)})"
    return f"leans to {a} ({percent(pa)}), with {b} next ({percent(pb)})"


def _moved(original, copy):
    """What the model says on the copy, against what it said on the text."""
    top, p_top = original[0]
    c, pc = copy[0]
    if c != top:
        return f"says {c} ({percent(pc)})"
    q = dict(copy)[top]
    if percent(q) == percent(p_top):
        before = dict(original)
        moved = max(
            (label for label, _ in copy if label != top),
            key=lambda label: abs(dict(copy)[label] - before[label]),
            default=None,
        )
        if moved is None:
            return f"still says {top} ({percent(q)})"
        return (
            f"still says {top} ({percent(q)}) but moves {moved} from "
            f"{percent(before[moved])} to {percent(dict(copy)[moved])}"
        )
    if q < p_top:
        return f"is less sure of {top} ({percent(q)})"
    return f"is more sure of {top} ({percent(q)})"


def why_sentence(
    kind,
    proba=None,
    *,
    copy_proba=None,
    strategy=None,
    changed_words="the highlighted words",
):
    """One plain sentence saying why a text was picked.

    Parameters
    ----------
    kind : {"allsh", "strategy", "initial", "audit", "random"}
        ``"allsh"``: ALLSH (or a variant) picked it, with ``copy_proba``;
        ``"strategy"``: another strategy picked it by its score;
        ``"initial"``: drawn at random before any model; ``"audit"``: drawn
        at random for the audit sample; ``"random"``: drawn by random
        sampling. Audit and random picks get the same sentence, so that
        annotators cannot tell the audit texts apart.
    proba : mapping of {str: float} or None, default=None
        The model's probabilities on the text, by label (when the batch was
        queried).
    copy_proba : mapping of {str: float} or None, default=None
        For ALLSH, its probabilities on the augmented copy.
    strategy : str or None, default=None
        The session's strategy name (``"entropy"``, ``"badge"``, ...): says
        what the score measures for ``kind="strategy"``.
    changed_words : str, default="the highlighted words"
        How the sentence names the copy's replaced words (the terminal says
        ``"the words in [brackets]"``).

    Returns
    -------
    sentence : str

    Examples
    --------
    >>> why_sentence("allsh", {"earn": 0.46, "acq": 0.39, "grain": 0.15},
    ...              copy_proba={"earn": 0.25, "acq": 0.63, "grain": 0.12})
    'The model hesitates between earn (46%) and acq (39%); after replacing the highlighted words it says acq (63%).'
    >>> why_sentence("strategy", {"pos": 0.55, "neg": 0.45}, strategy="entropy")
    'The model is unsure: pos (55%) vs neg (45%).'
    >>> why_sentence("audit", {"pos": 0.9, "neg": 0.1})
    "Picked at random from the pool, not by the model's scores."
    """  # noqa: E501
    if kind not in KINDS:
        raise ValueError(
            f"The 'kind' parameter of why_sentence must be one of {list(KINDS)}. "
            f"Got {kind!r} instead."
        )
    if kind == "initial":
        return "Picked at random: there was no model yet to choose texts."
    if kind in ("audit", "random"):
        # The same words for both: annotators must not be able to tell the
        # audit texts apart, or they might label them with more care than
        # the others and bias the accuracy estimate.
        return "Picked at random from the pool, not by the model's scores."
    ranked = _ranked(proba) if proba else None
    if kind == "allsh" and ranked and copy_proba:
        return (
            f"The model {_says(ranked)}; after replacing {changed_words} it "
            f"{_moved(ranked, _ranked(copy_proba))}."
        )
    name = (strategy or "").lower()
    if not ranked:
        return f"Picked by the {strategy or 'session'}'s strategy."
    (a, pa), (b, pb) = ranked[0], ranked[1] if len(ranked) > 1 else (None, 0.0)
    versus = f"{a} ({percent(pa)})" + ("" if b is None else f" vs {b} ({percent(pb)})")
    if any(word in name for word in _UNCERTAINTY):
        return f"The model is unsure: {versus}."
    if "badge" in name:
        return (
            f"The model is unsure ({versus}) and the text is unlike the others "
            "picked with it (BADGE)."
        )
    if name.startswith("cal") or "contrastive" in name:
        return (
            f"The model says {a} ({percent(pa)}) here but predicts otherwise on "
            "the most similar labeled texts (CAL)."
        )
    if name.startswith("random"):
        return why_sentence("random")
    what = f"the {strategy} strategy" if strategy else "the session's strategy"
    return f"Picked by {what}; the model {_says(ranked)}."
