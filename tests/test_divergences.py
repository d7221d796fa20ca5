import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from allsh_sklearn.divergences import (
    alpha_divergence,
    get_divergence,
    jsd,
    kl,
    reverse_kl,
)


@st.composite
def distribution_pairs(draw, n_classes=None):
    """Two (n, C) arrays of probability rows, with zeros allowed."""
    n = draw(st.integers(1, 5))
    c = n_classes or draw(st.integers(2, 6))
    elements = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
    raw_p = draw(arrays(np.float64, (n, c), elements=elements))
    raw_q = draw(arrays(np.float64, (n, c), elements=elements))
    raw_p[:, 0] += 1e-3  # keep every row normalisable
    raw_q[:, -1] += 1e-3
    return (
        raw_p / raw_p.sum(axis=1, keepdims=True),
        raw_q / raw_q.sum(axis=1, keepdims=True),
    )


ALL = [
    kl,
    reverse_kl,
    jsd,
    lambda p, q: alpha_divergence(p, q, -0.5),
    lambda p, q: alpha_divergence(p, q, 0.5),
    lambda p, q: alpha_divergence(p, q, 2.0),
]


@pytest.mark.parametrize("divergence", ALL)
@given(pair=distribution_pairs())
@settings(max_examples=60, deadline=None)
def test_non_negative_finite_and_zero_on_identical_inputs(divergence, pair):
    p, q = pair
    values = divergence(p, q)
    assert values.shape == (p.shape[0],)
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    np.testing.assert_allclose(divergence(p, p), 0.0, atol=1e-12)


@given(pair=distribution_pairs())
@settings(max_examples=100, deadline=None)
def test_jsd_symmetric_and_bounded(pair):
    p, q = pair
    np.testing.assert_allclose(jsd(p, q), jsd(q, p), atol=1e-12)
    assert np.all(jsd(p, q) <= 1.0)


def test_jsd_reaches_one_on_disjoint_supports():
    np.testing.assert_allclose(jsd([[1.0, 0.0]], [[0.0, 1.0]]), [1.0], atol=1e-6)


def test_kl_matches_hand_computation():
    p, q = np.array([0.2, 0.8]), np.array([0.5, 0.5])
    expected = 0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5)
    assert kl(p, q) == pytest.approx(expected)
    assert reverse_kl(p, q) == pytest.approx(kl(q, p))


def test_kl_is_finite_when_q_has_zeros():
    assert np.isfinite(kl([0.5, 0.5], [1.0, 0.0]))
    assert kl([0.5, 0.5], [1.0, 0.0]) > 10


@given(pair=distribution_pairs())
@settings(max_examples=60, deadline=None)
def test_alpha_limits_match_kl_and_reverse_kl(pair):
    p, q = pair
    # Clip as the functions do, so the comparison is on the same inputs.
    np.testing.assert_allclose(
        alpha_divergence(p, q, 1 - 1e-7), kl(p, q), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        alpha_divergence(p, q, 1e-7), reverse_kl(p, q), rtol=1e-4, atol=1e-6
    )


def test_alpha_half_is_four_times_squared_hellinger():
    p, q = np.array([0.1, 0.6, 0.3]), np.array([0.3, 0.3, 0.4])
    hellinger_sq = 0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)
    assert alpha_divergence(p, q, 0.5) == pytest.approx(4 * hellinger_sq)


def test_alpha_matches_standard_formula_away_from_limits():
    p, q = np.array([0.1, 0.6, 0.3]), np.array([0.3, 0.3, 0.4])
    for a in (-0.5, 0.5, 2.0, 3.5):
        direct = (np.sum(p**a * q ** (1 - a)) - 1) / (a * (a - 1))
        assert alpha_divergence(p, q, a) == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("alpha", [0, 1, 0.0, 1.0, float("nan"), float("inf")])
def test_alpha_rejects_0_1_and_non_finite(alpha):
    with pytest.raises(ValueError, match="'alpha' parameter"):
        alpha_divergence([0.5, 0.5], [0.4, 0.6], alpha)


def test_alpha_rejects_non_numbers():
    with pytest.raises(TypeError, match="'alpha' parameter"):
        alpha_divergence([0.5, 0.5], [0.4, 0.6], "half")


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"same shape.*\(1, 2\).*\(1, 3\)"):
        kl([[0.5, 0.5]], [[0.2, 0.3, 0.5]])


def test_get_divergence_names_and_errors():
    assert get_divergence("kl") is kl
    assert get_divergence("alpha", alpha=2.0)([0.5, 0.5], [0.5, 0.5]) == 0
    custom = lambda p, q: np.zeros(len(p))  # noqa: E731
    assert get_divergence(custom) is custom
    with pytest.raises(ValueError, match="'divergence' parameter.*'hellinger'"):
        get_divergence("hellinger")
    with pytest.raises(ValueError, match="'alpha' parameter"):
        get_divergence("alpha", alpha=1)
