"""Contract tests run over every strategy exported by allsh_sklearn.strategies."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn import ActiveLearner, strategies
from allsh_sklearn.exceptions import InvalidProbabilitiesError, PoolExhaustedError
from allsh_sklearn.strategies import (
    ALLSH,
    BaseQueryStrategy,
    classifier_entropy,
    classifier_least_confidence,
    classifier_margin,
    entropy_sampling,
    margin_sampling,
    random_sampling,
    uncertainty_sampling,
)

STRATEGY_CLASSES = sorted(
    (
        obj
        for name in strategies.__all__
        if inspect.isclass(obj := getattr(strategies, name))
        and issubclass(obj, BaseQueryStrategy)
        and obj is not BaseQueryStrategy
    ),
    key=lambda cls: cls.__name__,
)
STRATEGY_INSTANCES = {
    name: obj
    for name in strategies.__all__
    if isinstance(obj := getattr(strategies, name), BaseQueryStrategy)
}


def _make(cls):
    strategy = cls()
    # Strategies that need embeddings get them from the TF-IDF step.
    if "embedding" in strategy.get_params():
        strategy.set_params(embedding="tfidfvectorizer")
    return strategy


@pytest.fixture
def learner(toy_texts):
    X, y = toy_texts
    return ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression()),
        X_training=X,
        y_training=y,
    ).fit()


def test_every_strategy_class_has_a_module_instance():
    instance_types = {type(obj) for obj in STRATEGY_INSTANCES.values()}
    assert set(STRATEGY_CLASSES) <= instance_types
    assert len(STRATEGY_CLASSES) >= 5


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
def test_call_signature(cls):
    signature = inspect.signature(cls.__call__)
    params = list(signature.parameters.values())
    assert [p.name for p in params[:4]] == [
        "self",
        "classifier",
        "X_pool",
        "n_instances",
    ]
    assert params[3].default == 1
    assert signature.parameters["random_state"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["random_state"].default is None


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("n_instances", [1, 3, 12])
def test_contract_shapes_dtypes_and_uniqueness(cls, n_instances, learner, toy_pool):
    strategy = _make(cls)
    indices, scores = strategy(learner, toy_pool, n_instances, random_state=0)
    assert isinstance(indices, np.ndarray) and indices.dtype == np.int64
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert indices.shape == scores.shape == (n_instances,)
    assert len(set(indices.tolist())) == n_instances
    assert indices.min() >= 0 and indices.max() < len(toy_pool)
    assert strategy.last_scores_.shape == (len(toy_pool),)
    assert np.all(np.isfinite(strategy.last_scores_))
    assert {"inference", "selection", "total"} <= set(strategy.last_query_time_)


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
def test_deterministic_for_fixed_random_state(cls, learner, toy_pool):
    first = _make(cls)(learner, toy_pool, 4, random_state=7)
    second = _make(cls)(learner, toy_pool, 4, random_state=7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_allclose(first[1], second[1])


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
def test_clone_and_params_round_trip(cls):
    strategy = _make(cls)
    params = strategy.get_params()
    cloned = clone(strategy)
    assert type(cloned) is cls
    assert cloned.get_params().keys() == params.keys()
    assert cloned.set_params(**params).get_params().keys() == params.keys()


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
def test_bad_pools_and_sizes(cls, learner, toy_pool):
    strategy = _make(cls)
    with pytest.raises(ValueError, match="'X_pool'.*non-empty"):
        strategy(learner, [], 1)
    with pytest.raises(ValueError, match="'n_instances'.*Got 0"):
        strategy(learner, toy_pool, 0)
    with pytest.raises(PoolExhaustedError, match="12 available / 13 requested"):
        strategy(learner, toy_pool, 13)
    with pytest.raises(TypeError, match="'n_instances'"):
        strategy(learner, toy_pool, 2.5)
    with pytest.raises(TypeError, match="'X_pool'.*int 3 at index 1"):
        strategy(learner, ["a film", 3], 1)
    with pytest.raises(ValueError, match="'X_pool'.*empty texts.*index 1"):
        strategy(learner, ["a film", "  "], 1)
    with pytest.raises(TypeError, match="'X_pool'.*not a single string"):
        strategy(learner, "a film", 1)


@pytest.mark.parametrize(
    "cls",
    [c for c in STRATEGY_CLASSES if c.requires_classifier],
    ids=lambda c: c.__name__,
)
def test_unfitted_classifier_is_reported(cls, toy_pool):
    unfitted = make_pipeline(TfidfVectorizer(), LogisticRegression())
    # CAL also needs the labeled set; give it one so the classifier is checked.
    extra = {"X_labeled": ["a good film"]} if cls.__name__ == "CAL" else {}
    with pytest.raises(NotFittedError, match="'classifier'.*not fitted"):
        _make(cls)(unfitted, toy_pool, 1, **extra)


class _BrokenProba:
    """A classifier whose predict_proba returns a fixed broken output."""

    def __init__(self, rows):
        self.rows = rows

    def predict_proba(self, X):
        return np.array([self.rows[i % len(self.rows)] for i in range(len(X))])


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[0.5, np.nan]], "finite"),
        ([[0.5, 0.7]], "rows summing to 1"),
        ([[1.2, -0.2]], "probabilities in \\[0, 1\\]"),
    ],
)
@pytest.mark.parametrize("strategy", [entropy_sampling, ALLSH()])
def test_invalid_probabilities_are_reported(strategy, rows, message, toy_pool):
    with pytest.raises(InvalidProbabilitiesError, match=message):
        strategy(_BrokenProba(rows), toy_pool, 1)


def test_measures_on_hand_checked_rows():
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.7, 0.3]])
    np.testing.assert_allclose(
        classifier_entropy(proba), -(proba * np.log(proba)).sum(axis=1)
    )
    np.testing.assert_allclose(classifier_margin(proba), [0.0, -0.8, -0.4], atol=1e-12)
    np.testing.assert_allclose(classifier_least_confidence(proba), [0.5, 0.1, 0.3])


def test_uncertainty_strategies_pick_the_most_uncertain(toy_pool):
    proba = np.tile([[0.95, 0.05]], (len(toy_pool), 1))
    proba[5] = [0.55, 0.45]
    proba[2] = [0.7, 0.3]

    class Fixed:
        def predict_proba(self, X):
            return proba[: len(X)]

    for strategy in (entropy_sampling, margin_sampling, uncertainty_sampling):
        indices, _ = strategy(Fixed(), toy_pool, 2, random_state=0)
        assert indices.tolist() == [5, 2]


def test_ties_are_broken_by_the_seed(toy_pool):
    class Uniform:
        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    picks = {
        tuple(entropy_sampling(Uniform(), toy_pool, 3, random_state=s)[0])
        for s in range(5)
    }
    assert len(picks) > 1


def test_random_sampling_needs_no_classifier(toy_pool):
    indices, _ = random_sampling(None, toy_pool, 5, random_state=3)
    again, _ = random_sampling(None, toy_pool, 5, random_state=3)
    assert indices.tolist() == again.tolist()
