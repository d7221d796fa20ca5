"""Tests of ActiveLearningSimulation, its loop, and the experiment helpers."""

import numpy as np
import pytest
from _toy_models import synthetic_texts
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from allsh_sklearn.loop import (
    ActiveLearningLoop,
    ActiveLearningSimulation,
    acquisition_schedule,
    initial_labeled_indices,
    resolve_size,
)
from allsh_sklearn.models import FrozenRowCache, PairTfidfVectorizer
from allsh_sklearn.strategies import ALLSH, EntropySampling, RandomSampling


def pipeline():
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0))


def simulation(strategy=None, **params):
    defaults = dict(initial_size=4, batch_size=8, budget=36, random_state=0)
    defaults.update(params)
    return ActiveLearningSimulation(
        pipeline(), strategy if strategy is not None else ALLSH(), **defaults
    )


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # Small logistic regressions run many times faster on one BLAS thread
    # when the machine is shared.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    return synthetic_texts()


def test_budget_is_respected_and_no_index_is_acquired_twice(data):
    X, y = data
    sim = simulation(validation_fraction=0.25).fit(X, y)
    assert len(sim.labeled_indices_) == 36
    assert len(np.unique(sim.labeled_indices_)) == 36
    assert len(sim.acquired_indices_) == 32
    assert np.array_equal(
        sim.labeled_indices_,
        np.concatenate([sim.initial_indices_, sim.acquired_indices_]),
    )
    assert not set(sim.labeled_indices_) & set(sim.validation_indices_)
    assert sim.n_queries_ == 4
    assert sim.learning_curve_["n_labeled"].tolist() == [4, 12, 20, 28, 36]
    assert np.isfinite(sim.learning_curve_["score"]).all()
    assert set(sim.query_times_) >= {"training", "inference", "selection"}
    assert all(len(v) == 4 for v in sim.query_times_.values())
    # the final model is the learner's, trained on exactly the acquired labels
    assert sim.estimator_ is sim.learner_.estimator_
    assert len(sim.learner_.X_training_) == 36
    assert sim.predict(X[:5]).shape == (5,)
    assert sim.predict_proba(X[:5]).shape == (5, 2)


def test_last_batch_is_shortened_to_land_on_the_budget(data):
    X, y = data
    sim = simulation(EntropySampling(), budget=30).fit(X, y)
    assert sim.learning_curve_["n_labeled"].tolist() == [4, 12, 20, 28, 30]
    assert np.isnan(sim.learning_curve_["score"]).all()  # no validation set


def test_fractions_and_initial_set_covers_every_class():
    X, y = synthetic_texts(n=300, n_classes=3)
    sim = ActiveLearningSimulation(
        pipeline(),
        RandomSampling(),
        initial_size=0.001,
        batch_size=10,
        budget=0.1,
        random_state=1,
    ).fit(X, y)
    # 0.1% of 300 rounds to 1, raised to the 3 classes
    assert len(sim.initial_indices_) == 3
    assert set(y[sim.initial_indices_]) == {0, 1, 2}
    assert len(sim.labeled_indices_) == 30


def test_same_random_state_same_run(data):
    X, y = data
    first = simulation().fit(X, y)
    second = simulation().fit(X, y)
    assert np.array_equal(first.labeled_indices_, second.labeled_indices_)
    third = simulation(random_state=1).fit(X, y)
    assert not np.array_equal(first.labeled_indices_, third.labeled_indices_)


def test_explicit_validation_set(data):
    X, y = data
    X_val, y_val = synthetic_texts(n=60, seed=1)
    sim = simulation(EntropySampling()).fit(X, y, X_val=X_val, y_val=y_val)
    assert np.isfinite(sim.learning_curve_["score"]).all()
    assert sim.learning_curve_["score"][-1] == sim.score(X_val, y_val)


def test_grid_search_over_divergences(data):
    X, y = data
    sim = simulation(budget=20)
    grid = GridSearchCV(
        sim,
        {
            "query_strategy__divergence": ["kl", "jsd", "alpha"],
            "query_strategy__alpha": [-0.5, 0.5],
        },
        cv=2,
    ).fit(X, y)
    assert set(grid.best_params_) == {
        "query_strategy__divergence",
        "query_strategy__alpha",
    }
    assert (
        grid.best_estimator_.query_strategy_.divergence
        == grid.best_params_["query_strategy__divergence"]
    )
    assert 0.0 <= grid.best_score_ <= 1.0


def test_clone_and_cross_val_score(data):
    X, y = data
    sim = simulation(budget=20)
    cloned = clone(sim)
    assert cloned.get_params()["query_strategy__divergence"] == "kl"
    assert not hasattr(cloned, "estimator_")
    scores = cross_val_score(sim, X, y, cv=2)
    assert scores.shape == (2,)
    assert (scores > 0.5).all()
    # fitting does not touch the parameters (the strategy is cloned)
    sim.fit(X, y)
    assert not hasattr(sim.query_strategy, "augmenter_")


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"budget": 1000}, ValueError, "pool holds"),
        ({"budget": 0}, ValueError, "'budget' parameter"),
        ({"budget": 1.5}, ValueError, "'budget' parameter"),
        ({"budget": "1%"}, TypeError, "'budget' parameter"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"initial_size": 50, "budget": 20}, ValueError, "larger than the budget"),
        ({"validation_fraction": 1.0}, ValueError, "'validation_fraction'"),
        ({"feed_unlabeled": "yes"}, ValueError, "'feed_unlabeled'"),
    ],
)
def test_parameters_are_validated_in_fit(data, params, error, match):
    X, y = data
    sim = simulation(**params)  # __init__ only stores
    with pytest.raises(error, match=match):
        sim.fit(X, y)


def test_estimator_and_strategy_types_are_checked(data):
    X, y = data
    with pytest.raises(TypeError, match="'estimator' parameter"):
        ActiveLearningSimulation(TfidfVectorizer()).fit(X, y)
    with pytest.raises(TypeError, match="'query_strategy' parameter"):
        ActiveLearningSimulation(pipeline(), query_strategy="allsh").fit(X, y)
    with pytest.raises(ValueError, match="X_val and y_val"):
        simulation().fit(X, y, X_val=X[:5])


@pytest.mark.parametrize("name", ["CAL", "BADGE"])
def test_embedding_strategies_run_in_the_loop(data, name):
    module = pytest.importorskip(f"allsh_sklearn.strategies._{name.lower()}")
    strategy = getattr(module, name)(embedding="tfidfvectorizer")
    X, y = data
    sim = simulation(strategy, budget=20).fit(X, y)
    assert len(np.unique(sim.labeled_indices_)) == 20


def test_loop_resumes_to_the_same_result(data):
    X, y = data
    initial = initial_labeled_indices(y, 4, random_state=0)
    schedule = acquisition_schedule(4, [28], 8)

    def loop():
        return ActiveLearningLoop(
            pipeline(),
            ALLSH(random_state=0),
            X,
            classes=np.unique(y),
            seed=3,
            evaluate=lambda model: {"train": model.score(X, y)},
        )

    full = loop().run(schedule, y, initial_indices=initial)
    resumed = loop().resume(full[:2], y).run(schedule, y)
    for a, b in zip(full, resumed, strict=True):
        assert a.acquired == b.acquired
        assert a.scores == b.scores
    with pytest.raises(ValueError, match="do not follow the schedule"):
        loop().resume(full[:2], y).run(acquisition_schedule(4, [28], 4), y)


def test_helpers():
    assert resolve_size(0.01, 60614, "budget") == 606
    assert resolve_size(7, 10, "budget") == 7
    assert acquisition_schedule(61, [606, 700], 50)[-3:] == [606, 656, 700]
    indices = initial_labeled_indices([0] * 50 + [1] * 5, 3, random_state=0)
    assert len(set(indices)) == 3 and {0, 1} <= set(
        np.array([0] * 50 + [1] * 5)[indices]
    )


def test_class_balanced_allsh_balances_batches(data):
    X, y = data
    sim = simulation(ALLSH(balance="uniform"), budget=36).fit(X, y)
    strategy = sim.query_strategy_
    assert strategy.last_predicted_.shape == (len(X) - 28,)
    batch = sim.acquired_indices_[-8:]
    predicted = sim.learner_.query_history_[-1]["indices"]
    assert len(batch) == len(predicted) == 8
    counts = np.bincount(strategy.last_predicted_[predicted], minlength=2)
    assert counts.tolist() == [4, 4]


def test_pair_tfidf_and_row_cache():
    pairs = [("a cat sat", "a cat"), ("a dog ran", "the bird")]
    vectorizer = PairTfidfVectorizer().fit(pairs)
    features = vectorizer.transform(pairs)
    n_words = len(vectorizer.vectorizer_.vocabulary_)
    assert features.shape == (2, 3 * n_words)
    # the shared-words block is non-zero only for the pair that shares words
    shared = features[:, 2 * n_words :]
    assert shared[0].nnz > 0 and shared[1].nnz == 0
    cache = FrozenRowCache(vectorizer)
    assert clone(cache) is cache
    again = cache.transform(pairs + pairs[:1])
    assert (again[:2] != features).nnz == 0
    assert (again[2] != features[0]).nnz == 0
