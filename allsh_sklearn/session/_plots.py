"""A labeling session's learning curve: the audit estimate and the stopping rules.

The body of :meth:`LabelingSession.plot_learning_curve
<allsh_sklearn.session.LabelingSession.plot_learning_curve>`.
"""

from ..stopping import (
    DivergencePlateau,
    LabelBudget,
    OverallUncertainty,
    StabilizingPredictions,
)

__all__ = ["plot_learning_curve"]


def plot_learning_curve(session, path=None, *, truth=None, truth_label="held-out set"):
    """Draw the rounds of ``session`` (see :meth:`LabelingSession.plot_learning_curve
    <allsh_sklearn.session.LabelingSession.plot_learning_curve>`).

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rounds = session.rounds()
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    audited = [r for r in rounds if r.n_audit > 0]
    if audited:
        x = [r.n_labeled for r in audited]
        top.plot(x, [r.audit_accuracy for r in audited], "o-", label="audit estimate")
        top.fill_between(
            x,
            [r.audit_low for r in audited],
            [r.audit_high for r in audited],
            alpha=0.25,
            label="95% interval (Wilson)",
        )
    if truth:
        top.plot(*zip(*truth, strict=True), "s--", color="black", label=truth_label)
    top.set_ylabel("accuracy")
    top.set_title("Learning curve")
    if audited or truth:
        top.legend(loc="lower right")
    top.grid(alpha=0.3)
    fired = {}
    for r in rounds:
        for check in r.checks:
            if check["stop"] and check["rule"] not in fired:
                fired[check["rule"]] = r.n_labeled
    for rule, n in fired.items():
        for axis in (top, bottom):
            axis.axvline(n, color="grey", linestyle=":", linewidth=1)
        top.annotate(
            f"{rule} says stop",
            (n, 0.98),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=8,
            color="grey",
            va="top",
            ha="right",
        )
    names = sorted({c["rule"] for r in rounds for c in r.checks})
    thresholds = _thresholds(session, names)
    for name in names:
        xs, ys = [], []
        for r in rounds:
            for check in r.checks:
                if check["rule"] == name and check["value"] is not None:
                    xs.append(r.n_labeled)
                    ys.append(check["value"])
        threshold = thresholds.get(name)
        if threshold is not None and threshold[1] == "x":
            value, _, text = threshold
            for axis in (top, bottom):
                axis.axvline(
                    value,
                    color="black",
                    linestyle="--",
                    linewidth=1,
                    label=text if axis is bottom else None,
                )
            continue
        color = None
        if xs:
            (line,) = bottom.plot(xs, ys, ".-", label=name)
            color = line.get_color()
        if threshold is not None and rounds:
            value, _, text = threshold
            bottom.axhline(
                value,
                color=color or "grey",
                linestyle="--",
                linewidth=1,
                label=text,
            )
    bottom.set_xlabel("training labels")
    bottom.set_ylabel("stopping rule value")
    if names:
        bottom.legend(loc="best", fontsize=8)
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
        plt.close(figure)
    return figure


def _thresholds(session, names):
    """``{rule name: (value, axis, text)}``: where each stopping rule's
    threshold is drawn (``axis`` ``"y"``: on its value; ``"x"``: a label
    budget, on the number of labels)."""
    try:
        rules = session._rules()
    except Exception:  # rules written by another version: draw none
        return {}
    if not isinstance(rules, dict):
        rules = {type(rule).__name__: rule for rule in rules}
    out = {}
    for name, rule in rules.items():
        if name not in names:
            continue
        if isinstance(rule, LabelBudget):
            out[name] = (float(rule.budget), "x", f"{name}: {rule.budget} labels")
            continue
        value = getattr(rule, "tolerance", None)
        if not isinstance(rule, DivergencePlateau) or value is None:
            value = getattr(rule, "threshold", None)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if isinstance(rule, StabilizingPredictions):
            op = "≥"
        elif isinstance(rule, OverallUncertainty | DivergencePlateau):
            op = "≤"
        else:
            op = "at"
        out[name] = (float(value), "y", f"{name}: stop {op} {value:g}")
    return out
