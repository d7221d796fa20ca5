"""Per-class estimates from the audit sample (session._audit.class_estimates):
hand-computed values, errors, and the intervals checked against the truth of
a held-out pool of real data (TREC, 6 imbalanced classes)."""

import math

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.pipeline import make_pipeline

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.session._audit import accuracy_interval, class_estimates


def test_per_class_rates_match_hand_counts():
    true = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "b", "b"]
    est = class_estimates(true, pred, ["a", "b", "c"])
    a, b, c = est.classes
    assert (a.support, a.n_predicted, a.recall, a.precision) == (3, 2, 2 / 3, 1.0)
    assert (b.support, b.n_predicted, b.recall, b.precision) == (2, 4, 1.0, 0.5)
    assert (c.support, c.n_predicted, c.recall) == (1, 0, 0.0)
    assert math.isnan(c.precision)
    assert (a.recall_low, a.recall_high) == accuracy_interval(2, 3)
    assert (b.precision_low, b.precision_high) == accuracy_interval(2, 4)
    expected = f1_score(true, pred, average="macro", labels=["a", "b", "c"])
    assert est.macro_f1 == pytest.approx(expected)
    assert est.macro_f1_low <= est.macro_f1 <= est.macro_f1_high


def test_warnings_name_the_class_and_say_why():
    est = class_estimates(
        ["a", "a", "b", "b", "c", "c"],
        ["a", "a", "b", "b", "a", "a"],
        ["a", "b", "c"],
        train_counts={"a": 40, "b": 30, "c": 2},
        pool_predictions=["a"] * 50 + ["b"] * 50,
    )
    text = "\n".join(est.warnings)
    assert "never predicts 'c'" in text
    assert "'c' has only 2 training labels" in text
    assert "recall of 'c' is 0%" in text
    assert "'a'" not in text and "'b'" not in text
    assert est.classes[2].pool_share == 0.0
    assert est.as_dict()["classes"][2]["precision"] is None


def test_the_bootstrap_interval_is_reproducible():
    rng = np.random.default_rng(0)
    true = rng.choice(["x", "y", "z"], size=80).tolist()
    pred = [t if rng.random() < 0.7 else "x" for t in true]
    one = class_estimates(true, pred, ["x", "y", "z"], random_state=3)
    two = class_estimates(true, pred, ["x", "y", "z"], random_state=3)
    assert (one.macro_f1_low, one.macro_f1_high) == (
        two.macro_f1_low,
        two.macro_f1_high,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": ["a", "a"]}, "'labels' parameter"),
        ({"true_labels": ["a"], "predicted_labels": ["a", "b"]}, "same length"),
        ({"true_labels": ["q"], "predicted_labels": ["a"]}, "'true_labels'"),
        ({"confidence": 1.5}, "'confidence'"),
        ({"recall_threshold": -1}, "'recall_threshold'"),
        ({"n_resamples": 0}, "'n_resamples' parameter must be an int >= 1"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, match):
    arguments = {"true_labels": ["a"], "predicted_labels": ["a"], "labels": ["a", "b"]}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        class_estimates(**arguments)


def _macro_f1_reference(true, predicted, n_classes):
    """The macro-F1 of one resample, one class at a time (what the bootstrap
    computed before it was vectorised)."""
    scores = []
    for k in range(n_classes):
        tp = np.sum((true == k) & (predicted == k))
        n_true, n_pred = np.sum(true == k), np.sum(predicted == k)
        if n_true or n_pred:
            scores.append(2 * tp / (n_true + n_pred))
    return float(np.mean(scores)) if scores else float("nan")


def test_the_vectorised_bootstrap_gives_the_interval_of_the_plain_loop():
    rng = np.random.default_rng(5)
    labels = [f"c{k}" for k in range(8)]
    true = rng.choice(labels, size=120, p=np.r_[0.5, [0.5 / 7] * 7]).tolist()
    pred = [t if rng.random() < 0.6 else "c0" for t in true]
    est = class_estimates(true, pred, labels, n_resamples=500, random_state=3)
    index = {label: k for k, label in enumerate(labels)}
    t = np.array([index[v] for v in true])
    p = np.array([index[v] for v in pred])
    draws = np.random.default_rng(3).integers(0, len(t), size=(500, len(t)))
    boot = [_macro_f1_reference(t[d], p[d], len(labels)) for d in draws]
    low, high = np.nanquantile(boot, [0.025, 0.975])
    assert (est.macro_f1_low, est.macro_f1_high) == (float(low), float(high))
    assert est.macro_f1 == _macro_f1_reference(t, p, len(labels))


def test_a_pool_sample_is_named_as_such_in_the_warning():
    est = class_estimates(
        ["a", "b"],
        ["a", "b"],
        ["a", "b", "c"],
        pool_predictions=["a"] * 1500 + ["b"] * 500,
        pool_size=5485,
    )
    assert (
        "never predicts 'c' on a random sample of 2,000 of the 5,485 unlabeled texts"
        in est.warnings[0]
    )
    whole = class_estimates(["a"], ["a"], ["a", "c"], pool_predictions=["a"] * 10)
    assert "on the 10 unlabeled texts" in whole.warnings[0]
    with pytest.raises(ValueError, match="'pool_size'"):
        class_estimates(["a"], ["a"], ["a"], pool_predictions=["a"] * 10, pool_size=3)


def test_a_low_recall_on_few_audit_texts_says_it_may_be_so():
    few = class_estimates(["a", "a", "b"], ["a", "a", "a"], ["a", "b"])
    assert (
        "recall of 'b' is 0% [0%, 79%] on 1 audit text: the model may miss"
        in (few.warnings[0])
    )
    many = class_estimates(["a"] * 30 + ["b"] * 30, ["a"] * 60, ["a", "b"])
    assert "on 30 audit texts: the model misses most texts" in many.warnings[0]
    none = class_estimates([], [], ["a", "b"], train_counts={"a": 3, "b": 0})
    assert none.warnings == [
        "'a' has only 3 training labels (fewer than 5).",
        "'b' has no training label yet.",
    ]


@pytest.fixture(scope="module")
def trec_held_out(data_home):
    """A model trained on 300 TREC questions and its predictions on 5,000
    held-out ones: the truth that audit samples estimate."""
    X, y = load_dataset("trec", "train", data_home=data_home, return_X_y=True)
    X, y = np.asarray(X, dtype=object), np.asarray(y).astype(str)
    order = np.random.default_rng(0).permutation(len(X))
    train, pool = order[:300], order[300:5300]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    model.fit(X[train], y[train])
    return y[pool], model.predict(X[pool]), sorted(set(y))


def test_intervals_cover_the_truth_of_a_held_out_pool(trec_held_out):
    """Audit samples of 300 texts, drawn 200 times from the held-out pool:
    each class's recall and precision intervals and the macro-F1 interval
    hold the pool's true value about 95% of the time."""
    truth, predicted, labels = trec_held_out
    true_recall = recall_score(
        truth, predicted, labels=labels, average=None, zero_division=np.nan
    )
    true_precision = precision_score(
        truth, predicted, labels=labels, average=None, zero_division=np.nan
    )
    true_macro = f1_score(truth, predicted, labels=labels, average="macro")
    rng = np.random.default_rng(1)
    hits = {"recall": [], "precision": [], "macro_f1": []}
    for _ in range(200):
        sample = rng.choice(len(truth), size=300, replace=False)
        est = class_estimates(
            truth[sample], predicted[sample], labels, n_resamples=300, random_state=0
        )
        for k, c in enumerate(est.classes):
            if c.support >= 5:
                hits["recall"].append(c.recall_low <= true_recall[k] <= c.recall_high)
            if c.n_predicted >= 5:
                hits["precision"].append(
                    c.precision_low <= true_precision[k] <= c.precision_high
                )
        hits["macro_f1"].append(est.macro_f1_low <= true_macro <= est.macro_f1_high)
    coverage = {name: float(np.mean(values)) for name, values in hits.items()}
    # 95% intervals; a sample of 200 draws (>1,000 for the per-class ones)
    # leaves about +-1.5 points (+-3 for macro-F1) of noise on their coverage.
    assert coverage["recall"] >= 0.92, coverage
    assert coverage["precision"] >= 0.92, coverage
    assert coverage["macro_f1"] >= 0.88, coverage
    # And the estimates are informative: the model misses whole classes here.
    assert min(true_recall) < 0.6
