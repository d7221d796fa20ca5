"""The paired difference of two strategies over the seeds they share."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats
from sklearn.utils import check_random_state

from ..utils import describe
from ..utils._validation import (
    check_int,
    check_one_of,
    check_random_state_param,
    check_real,
)

__all__ = ["PairedDifference", "paired_difference"]

_OWNER = "paired_difference"


@dataclass(frozen=True)
class PairedDifference:
    """The difference ``a - b`` of two strategies, paired seed by seed.

    Returned by :func:`paired_difference`; every difference is in the units
    of the scores (use :meth:`scaled` to show fractions as percentage
    points). The parameters are also its attributes.

    Parameters
    ----------
    mean : float
        Mean over the pairs of ``a - b``.
    ci_low : float
        Lower end of the confidence interval of the mean difference. NaN
        (and ``ci_high`` too) when every pair differs by the same nonzero
        amount and the pairs are too few for the exact sign test to exclude
        0 (fewer than 6 at 95%): with no spread to estimate, the t interval
        would be a single point.
    ci_high : float
        Upper end of that interval.
    p_value : float
        Two-sided p-value of the paired t-test (``scipy.stats.ttest_rel``),
        whatever ``method`` gave the interval; 1.0 when every pair is a tie;
        when every pair differs by the same nonzero amount, the exact sign
        test's ``2 / 2**n``.
    n : int
        Number of pairs (seeds both strategies have).
    wins : int
        Pairs where ``a`` is above ``b``.
    ties : int
        Pairs where ``a`` equals ``b`` (within 1e-12).
    losses : int
        Pairs where ``a`` is below ``b``.
    resolution : float
        The smallest true difference the design detects: the minimum
        detectable effect of a two-sided paired t-test at level
        ``1 - confidence`` with probability ``power``, from the observed std
        of the differences and ``n``,
        ``(t[1 - alpha/2, n-1] + t[power, n-1]) * std / sqrt(n)`` (see
        :func:`minimum_detectable_effect`).
    std : float
        Sample standard deviation (``ddof=1``) of the differences.
    confidence : float, default=0.95
        Confidence level of the interval.
    method : {"t", "bootstrap"}, default="t"
        How the interval was computed.
    power : float, default=0.8
        The power ``resolution`` is computed at.
    seeds : tuple, default=()
        The keys the pairs were matched on (positions for sequences).

    See Also
    --------
    paired_difference : Computes it.
    """

    mean: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    wins: int
    ties: int
    losses: int
    resolution: float
    std: float
    confidence: float = 0.95
    method: str = "t"
    power: float = 0.8
    seeds: tuple = ()

    @property
    def half_width(self):
        """Half the width of the confidence interval."""
        return (self.ci_high - self.ci_low) / 2

    @property
    def verdict(self):
        """``"win"`` or ``"loss"`` where the interval excludes 0, else why not.

        Returns
        -------
        verdict : str
            ``"win"`` when ``ci_low > 0``, ``"loss"`` when ``ci_high < 0``,
            otherwise ``"no difference detected (resolves ±X)"`` with
            ``X = resolution`` to three significant digits, or, when every
            pair differs by the same amount on too few pairs for a sign
            test (no interval), ``"no difference detected (n pairs differ
            by the same amount: too few to tell)"``.
        """
        if self.ci_low > 0:
            return "win"
        if self.ci_high < 0:
            return "loss"
        if math.isnan(self.ci_low):
            return (
                f"no difference detected ({self.n} pairs differ by the same "
                "amount: too few to tell)"
            )
        return f"no difference detected (resolves ±{_digits(self.resolution)})"

    def scaled(self, factor):
        """The same comparison with every difference multiplied by ``factor``.

        Parameters
        ----------
        factor : float
            E.g. 100 to show accuracies in [0, 1] as percentage points.

        Returns
        -------
        result : PairedDifference
        """
        check_real(factor, "factor", "a positive real number", lambda f: f > 0)
        return replace(
            self,
            mean=self.mean * factor,
            ci_low=self.ci_low * factor,
            ci_high=self.ci_high * factor,
            resolution=self.resolution * factor,
            std=self.std * factor,
        )

    def summary(self, digits=2):
        """One line: difference, interval, sign count, p-value and verdict.

        Parameters
        ----------
        digits : int, default=2
            Decimals of the difference and of the interval.

        Returns
        -------
        text : str

        Examples
        --------
        >>> result = paired_difference([0.80, 0.83, 0.81], [0.78, 0.80, 0.80])
        >>> print(result.scaled(100).summary())
        +2.00 [-0.48, +4.48], n=3, 3/0/0 wins/ties/losses, p=0.074: no ...
        """
        return (
            f"{self.mean:+.{digits}f} [{self.ci_low:+.{digits}f}, "
            f"{self.ci_high:+.{digits}f}], n={self.n}, "
            f"{self.wins}/{self.ties}/{self.losses} wins/ties/losses, "
            f"p={self.p_value:.2g}: {self.verdict}"
        )


def _digits(value):
    """Three significant digits, trailing zeros kept: 5.00, 12.1, 0.0779, 123."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:#.3g}"


def _as_pairs(a, b):
    """``(keys, a values, b values)``, paired by key or by position."""
    mapped = [_is_mapping(x) for x in (a, b)]
    if mapped[0] != mapped[1]:
        raise TypeError(
            "The 'a' and 'b' parameters of paired_difference must both be "
            "mappings (seed -> score, e.g. a dict or a pandas Series) or both "
            f"sequences. Got {type(a).__name__} and {type(b).__name__} instead."
        )
    if mapped[0]:
        a, b = _to_dict(a), _to_dict(b)
        keys = [key for key in a if key in b]
        if not keys:
            raise ValueError(
                "The 'a' and 'b' parameters of paired_difference share no seed, "
                f"so nothing is paired. Got seeds {describe(list(a))} and "
                f"{describe(list(b))} instead."
            )
        try:
            keys.sort()
        except TypeError:
            pass  # keys of mixed types keep a's order
        return tuple(keys), [a[k] for k in keys], [b[k] for k in keys]
    a, b = list(_to_sequence(a, "a")), list(_to_sequence(b, "b"))
    if len(a) != len(b):
        raise ValueError(
            "The 'a' and 'b' parameters of paired_difference must hold one score "
            f"per seed in the same order, as many each. Got {len(a)} and "
            f"{len(b)} scores instead; pass mappings seed -> score to pair on "
            "the seeds both have."
        )
    return tuple(range(len(a))), a, b


def _is_mapping(value):
    return isinstance(value, Mapping) or (
        hasattr(value, "index") and hasattr(value, "to_dict") and np.ndim(value) == 1
    )


def _to_dict(value):
    return dict(value) if isinstance(value, Mapping) else value.to_dict()


def _to_sequence(value, name):
    if isinstance(value, str | bytes) or not np.iterable(value):
        raise TypeError(
            f"The '{name}' parameter of paired_difference must be a sequence of "
            f"scores or a mapping seed -> score. Got {describe(value)} instead."
        )
    return value


def _as_scores(values, keys, name):
    try:
        scores = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"The '{name}' parameter of paired_difference must hold real numbers. "
            f"Got {describe(list(values))} instead."
        ) from error
    if scores.ndim != 1:
        raise ValueError(
            f"The '{name}' parameter of paired_difference must be one-dimensional "
            f"(one score per seed). Got shape {scores.shape} instead."
        )
    bad = ~np.isfinite(scores)
    if bad.any():
        seed = keys[int(np.flatnonzero(bad)[0])]
        raise ValueError(
            f"The '{name}' parameter of paired_difference must hold finite "
            f"scores. Got {scores[bad][0]} for seed {seed!r} instead; drop the "
            "seed or fill the score."
        )
    return scores


def minimum_detectable_effect(std, n, confidence=0.95, power=0.8):
    """The true mean difference a paired t-test detects with probability ``power``.

    The usual approximation ``(t[1 - alpha/2, n-1] + t[power, n-1]) * std /
    sqrt(n)`` with ``alpha = 1 - confidence``: a design with ``n`` seeds whose
    paired differences spread with standard deviation ``std`` declares a
    true difference of this size significant about ``power`` of the time;
    smaller true differences it mostly misses.

    Parameters
    ----------
    std : float
        Standard deviation of the paired differences.
    n : int
        Number of pairs, at least 2.
    confidence : float, default=0.95
        Confidence level of the test (``alpha = 1 - confidence``).
    power : float, default=0.8
        Probability of detecting an effect of the returned size.

    Returns
    -------
    effect : float

    Examples
    --------
    >>> round(minimum_detectable_effect(1.0, 5), 3)
    1.662
    """
    check_int(n, "n", 2, owner="minimum_detectable_effect")
    df = n - 1
    quantiles = stats.t.ppf((1 + confidence) / 2, df) + stats.t.ppf(power, df)
    return float(quantiles * std / math.sqrt(n))


def paired_difference(
    a,
    b,
    *,
    confidence=0.95,
    method="t",
    n_resamples=10_000,
    power=0.8,
    random_state=None,
):
    """Paired difference ``a - b`` of two strategies' scores over shared seeds.

    Runs of two strategies with the same seed start from the same initial
    labeled set (same task, classifier, pool and seed), so their difference
    seed by seed removes the spread the initial set causes: the paired
    difference is the right statistic, not a comparison of the two means'
    spreads. The verdict is ``"win"`` or ``"loss"`` only where the
    confidence interval excludes 0.

    Parameters
    ----------
    a, b : sequence of float, or mapping seed -> float
        The scores of the two strategies. Mappings (dicts, pandas Series
        indexed by seed) are paired on the seeds both have; sequences by
        position, and must be of the same length.
    confidence : float, default=0.95
        Confidence level of the interval, in (0, 1).
    method : {"t", "bootstrap"}, default="t"
        ``"t"``: Student's t interval of the mean difference, the interval
        of ``scipy.stats.ttest_rel(a, b).confidence_interval(confidence)``.
        ``"bootstrap"``: percentile bootstrap of the mean difference over
        ``n_resamples`` resamples of the pairs. With few seeds (fewer than
        about 20) the percentile bootstrap is too narrow; prefer ``"t"``.
    n_resamples : int, default=10_000
        Bootstrap resamples (``method="bootstrap"`` only).
    power : float, default=0.8
        Power of the ``resolution`` (minimum detectable effect), in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap resamples; an int makes the interval
        reproducible.

    Returns
    -------
    result : PairedDifference
        Mean difference, interval, p-value of the paired t-test, number of
        pairs, wins/ties/losses, resolution and verdict.

    Raises
    ------
    ValueError
        If fewer than 2 seeds are paired, if sequences differ in length or
        scores are not finite, or if a parameter is out of range.
    TypeError
        If one of ``a`` and ``b`` is a mapping and the other is not.

    See Also
    --------
    compare_strategies : Every strategy against a baseline, from run records
        or a table.

    Examples
    --------
    >>> random = {0: 0.74, 1: 0.71, 2: 0.76, 3: 0.73, 4: 0.75}
    >>> allsh = {0: 0.77, 1: 0.74, 2: 0.78, 3: 0.75, 4: 0.76}
    >>> result = paired_difference(allsh, random)
    >>> result.n, result.wins, result.ties, result.losses
    (5, 5, 0, 0)
    >>> round(result.mean, 4), round(result.ci_low, 4), round(result.ci_high, 4)
    (0.022, 0.0116, 0.0324)
    >>> result.verdict
    'win'
    >>> paired_difference([0.70, 0.74, 0.72], [0.72, 0.71, 0.72]).verdict
    'no difference detected (resolves ±0.0779)'
    """
    check_real(
        confidence, "confidence", "a float in (0, 1)", lambda c: 0 < c < 1,
        owner=_OWNER,
    )  # fmt: skip
    check_one_of(method, "method", ("t", "bootstrap"), owner=_OWNER)
    check_int(n_resamples, "n_resamples", 1, owner=_OWNER)
    check_real(power, "power", "a float in (0, 1)", lambda p: 0 < p < 1, owner=_OWNER)
    check_random_state_param(random_state, owner=_OWNER)
    keys, a_values, b_values = _as_pairs(a, b)
    a_scores = _as_scores(a_values, keys, "a")
    b_scores = _as_scores(b_values, keys, "b")
    n = len(keys)
    if n < 2:
        raise ValueError(
            "paired_difference needs at least 2 paired seeds to estimate the "
            f"spread of the differences. Got n={n} (seeds {list(keys)}) instead; "
            "run more seeds of both strategies."
        )
    differences = a_scores - b_scores
    close = np.isclose(a_scores, b_scores, rtol=1e-12, atol=1e-12)
    wins = int(np.sum(~close & (differences > 0)))
    ties = int(np.sum(close))
    losses = n - wins - ties
    mean = float(differences.mean())
    std = float(differences.std(ddof=1))
    magnitude = max(1.0, np.abs(a_scores).max(), np.abs(b_scores).max())
    if std <= 1e-12 * magnitude:
        std = 0.0  # equal differences, up to rounding: no spread at all
    df = n - 1
    if std > 0:
        t_statistic = mean / (std / math.sqrt(n))
        p_value = float(2 * stats.t.sf(abs(t_statistic), df))
    else:
        # Every pair differs by the same amount (scores on a small test set
        # are coarse): the t-test has no spread to estimate. The exact sign
        # test is what the pairs show: n pairs of one sign, p = 2 / 2**n.
        p_value = 1.0 if mean == 0 else min(1.0, 2.0 * 0.5**n)
    if method == "t":
        half_width = stats.t.ppf((1 + confidence) / 2, df) * std / math.sqrt(n)
        ci_low, ci_high = mean - half_width, mean + half_width
    else:
        rng = check_random_state(random_state)
        means = differences[rng.randint(0, n, size=(n_resamples, n))].mean(axis=1)
        alpha = 1 - confidence
        ci_low, ci_high = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    if std == 0 and mean != 0 and p_value >= 1 - confidence:
        # Too few equal differences for the sign test: no interval.
        ci_low = ci_high = math.nan
    return PairedDifference(
        mean=mean,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p_value=p_value,
        n=n,
        wins=wins,
        ties=ties,
        losses=losses,
        resolution=minimum_detectable_effect(std, n, confidence, power),
        std=std,
        confidence=float(confidence),
        method=method,
        power=float(power),
        seeds=tuple(k.item() if isinstance(k, np.generic) else k for k in keys),
    )
