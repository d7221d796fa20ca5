"""Stopping rules on hand-checkable sequences."""

import math

import numpy as np
import pytest

from allsh_sklearn.stopping import (
    DivergencePlateau,
    LabelBudget,
    OverallUncertainty,
    RoundSummary,
    StabilizingPredictions,
    StopCheck,
    cohen_kappa,
    evaluate_rules,
)

# Kappa -----------------------------------------------------------------------


def test_kappa_by_hand():
    # Observed agreement 3/4; class shares (1/2, 1/2) and (1/4, 3/4) give a
    # chance agreement of 1/2 * 1/4 + 1/2 * 3/4 = 1/2: kappa = (3/4 - 1/2) / (1/2).
    assert cohen_kappa([0, 1, 0, 1], [0, 1, 1, 1]) == pytest.approx(0.5)
    # Complete disagreement with balanced shares: (0 - 1/2) / (1/2) = -1.
    assert cohen_kappa([0, 1], [1, 0]) == pytest.approx(-1.0)
    # Labels of any type; strings here.
    assert cohen_kappa(["a", "b", "b"], ["a", "b", "b"]) == pytest.approx(1.0)


def test_kappa_matches_scikit_learn_on_random_labelings():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.RandomState(0)
    for _ in range(20):
        a, b = rng.randint(0, 3, 50), rng.randint(0, 3, 50)
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_of_two_constant_labelings():
    # p_e = 1: the formula is 0/0; identical constant labelings agree fully.
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) == 1.0
    # Two different constants: p_o = 0, p_e = 0 -> kappa 0.
    assert cohen_kappa([1, 1], [0, 0]) == 0.0


def test_kappa_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([0, 1], [0, 1, 1])


# Stabilizing predictions ------------------------------------------------------


def _rounds(predictions):
    return [
        RoundSummary(10 * (i + 1), stop_set_predictions=p)
        for i, p in enumerate(predictions)
    ]


def test_stabilizing_predictions_needs_window_plus_one_rounds():
    rule = StabilizingPredictions(window=3, threshold=0.99)
    same = [0, 1, 0, 1]
    for n in range(1, 4):
        check = rule.evaluate(_rounds([same] * n))
        assert math.isnan(check.value) and not check.stop
    check = rule.evaluate(_rounds([same] * 4))
    assert check.value == 1.0 and check.stop


def test_stabilizing_predictions_averages_the_last_k_kappas():
    # Kappas between successive rounds: 0.5 (hand-checked above), 1, then
    # [0, 1, 1, 1] against [1, 0, 0, 0]: p_o = 0, shares (1/4, 3/4) and
    # (3/4, 1/4), p_e = 3/16 + 3/16 = 3/8, kappa = -3/8 / (5/8) = -0.6; then 1.
    history = _rounds(
        [[0, 1, 0, 1], [0, 1, 1, 1], [0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0]]
    )
    rule = StabilizingPredictions(window=3, threshold=0.99)
    assert rule.kappas(history) == pytest.approx([0.5, 1.0, -0.6, 1.0])
    assert rule.evaluate(history).value == pytest.approx((1.0 - 0.6 + 1.0) / 3)
    assert not rule.evaluate(history).stop
    assert StabilizingPredictions(window=1, threshold=0.99).evaluate(history).stop
    # The threshold is inclusive.
    assert StabilizingPredictions(window=3, threshold=0.4).evaluate(history).stop
    assert not StabilizingPredictions(window=3, threshold=0.47).evaluate(history).stop


def test_stabilizing_predictions_skips_rounds_without_predictions():
    history = _rounds([[0, 1], None, [0, 1]])
    assert StabilizingPredictions().kappas(history) == [1.0]


def test_stabilizing_predictions_checks_parameters():
    with pytest.raises(ValueError, match="'window' parameter of Stabilizing"):
        StabilizingPredictions(window=0).evaluate(_rounds([[0], [0]]))
    with pytest.raises(ValueError, match="'threshold'.*\\(-1, 1\\]"):
        StabilizingPredictions(threshold=1.5).evaluate([])


# Overall uncertainty ----------------------------------------------------------


def test_overall_uncertainty_by_hand():
    # Entropy / log(2): 1 for (0.5, 0.5), 0 for (1, 0); mean 0.5.
    last = RoundSummary(20, stop_set_proba=[[0.5, 0.5], [1.0, 0.0]])
    rule = OverallUncertainty(threshold=0.5)
    assert rule.evaluate([last]).value == pytest.approx(0.5)
    assert rule.evaluate([last]).stop
    assert not OverallUncertainty(threshold=0.4).evaluate([last]).stop
    # Least confidence scaled to [0, 1]: (1 - 0.75) / (1 - 1/2) = 0.5 and 0.
    last = RoundSummary(20, stop_set_proba=[[0.75, 0.25], [0.0, 1.0]])
    check = OverallUncertainty(measure="least_confidence").evaluate([last])
    assert check.value == pytest.approx(0.25)


def test_overall_uncertainty_reads_only_the_last_round():
    history = [
        RoundSummary(10, stop_set_proba=[[0.5, 0.5]]),
        RoundSummary(20, stop_set_proba=[[1.0, 0.0]]),
    ]
    assert OverallUncertainty().evaluate(history).value == 0.0


def test_overall_uncertainty_without_probabilities_is_undecided():
    check = OverallUncertainty().evaluate([RoundSummary(10)])
    assert math.isnan(check.value) and not check.stop


# Budget -----------------------------------------------------------------------


def test_label_budget():
    rule = LabelBudget(100)
    assert not rule.evaluate([RoundSummary(99)]).stop
    assert rule.evaluate([RoundSummary(100)]).stop
    assert rule.evaluate([RoundSummary(150)]).value == 150.0
    with pytest.raises(ValueError, match="'budget' parameter of LabelBudget"):
        LabelBudget(0).evaluate([RoundSummary(1)])


# Divergence plateau -----------------------------------------------------------


def _means(values):
    return [RoundSummary(10 * i, mean_pool_score=v) for i, v in enumerate(values)]


def test_divergence_plateau_by_hand():
    rule = DivergencePlateau(window=2, tolerance=0.02)
    # From 0.40 to 0.15 over two rounds: |0.15 - 0.40| / (2 * 0.40) = 0.3125.
    check = rule.evaluate(_means([0.40, 0.20, 0.15]))
    assert check.value == pytest.approx(0.3125) and not check.stop
    # From 0.15 to 0.147: 0.003 / 0.30 = 0.01 <= 0.02.
    check = rule.evaluate(_means([0.40, 0.20, 0.15, 0.150, 0.147]))
    assert check.value == pytest.approx(0.01) and check.stop


def test_divergence_plateau_also_fires_on_a_flat_rise_but_not_a_steep_one():
    rule = DivergencePlateau(window=1, tolerance=0.05)
    assert rule.evaluate(_means([0.20, 0.205])).stop  # +2.5%
    assert not rule.evaluate(_means([0.20, 0.30])).stop  # +50%


def test_divergence_plateau_needs_window_plus_one_rounds():
    check = DivergencePlateau(window=3).evaluate(_means([0.3, 0.3, 0.3]))
    assert math.isnan(check.value) and not check.stop


# Evaluating several rules -------------------------------------------------------


def test_evaluate_rules_names_and_order():
    history = [RoundSummary(30)]
    checks = evaluate_rules({"small": LabelBudget(10), "big": LabelBudget(50)}, history)
    assert [c.rule for c in checks] == ["small", "big"]
    assert [c.stop for c in checks] == [True, False]
    assert checks[0].message.startswith("small: 30")
    with pytest.raises(TypeError, match="must be a StoppingRule"):
        evaluate_rules([lambda h: True], history)


def test_stop_check_as_dict_is_json_friendly():
    import json

    check = StopCheck("r", float("nan"), False, "r: n/a")
    assert json.loads(json.dumps(check.as_dict()))["value"] is None


def test_rules_are_pure_functions_of_the_history():
    # Evaluating twice (as a reopened session does) gives the same checks.
    history = _rounds([[0, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 1]])
    rule = StabilizingPredictions(window=2)
    assert rule.evaluate(history) == rule.evaluate(list(history))


def test_rules_are_estimators_with_params():
    from sklearn.base import clone

    rule = clone(StabilizingPredictions(window=5, threshold=0.95))
    assert rule.get_params() == {"window": 5, "threshold": 0.95}
