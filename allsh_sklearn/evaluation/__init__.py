"""Compare active learning strategies: paired differences over seeds.

Two runs of an experiment with the same task, classifier, pool and seed
start from the same initial labeled set, whatever their strategy; most of
the spread of accuracy over seeds comes from that set. The difference of
two strategies seed by seed (a *paired* difference) removes it, so a
comparison should rest on the paired differences' mean and confidence
interval, not on whether two means are within one standard deviation.

- :func:`paired_difference`: one comparison, ``a - b`` over the seeds both
  have: mean, 95% confidence interval (Student t, as
  ``scipy.stats.ttest_rel``, or a percentile bootstrap), p-value, sign
  count, the smallest difference the design resolves, and a verdict:
  ``"win"`` or ``"loss"`` only where the interval excludes 0, otherwise
  ``"no difference detected (resolves ±X)"``.
- :func:`compare_strategies`: every strategy against a baseline, per task,
  classifier, pool and budget, from the records of ``allsh-experiment``
  (``runs.jsonl``), a long DataFrame or a dict of per-seed scores.
- :func:`plot_paired_differences`: the table's differences and intervals
  per budget.

From the command line, ``python -m allsh_sklearn.evaluation runs.jsonl
--baseline random`` prints the table (see ``--help``).
"""

from ._compare import DESIGN_KEYS, compare_strategies, read_runs
from ._paired import PairedDifference, minimum_detectable_effect, paired_difference
from ._plotting import paired_differences_png, plot_paired_differences

__all__ = [
    "DESIGN_KEYS",
    "PairedDifference",
    "compare_strategies",
    "minimum_detectable_effect",
    "paired_difference",
    "paired_differences_png",
    "plot_paired_differences",
    "read_runs",
]
