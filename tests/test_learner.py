import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn import ActiveLearner
from allsh_sklearn.strategies import ALLSH, entropy_sampling, random_sampling, wca


def _pipeline():
    return make_pipeline(TfidfVectorizer(), LogisticRegression())


def _run_loop(X, y, pool, pool_labels, strategy, n_queries=3, seed=0):
    learner = ActiveLearner(
        _pipeline(),
        query_strategy=strategy,
        X_training=X[:2] + X[-2:],
        y_training=np.r_[y[:2], y[-2:]],
        random_state=seed,
    )
    remaining = list(range(len(pool)))
    chosen = []
    for _ in range(n_queries):
        indices, texts = learner.query([pool[i] for i in remaining], n_instances=2)
        picked = [remaining[i] for i in indices]
        learner.teach(texts, pool_labels[picked])
        chosen.extend(picked)
        remaining = [i for i in remaining if i not in picked]
    return learner, chosen


@pytest.mark.parametrize("strategy", [random_sampling, entropy_sampling, ALLSH(), wca])
def test_loop_grows_labeled_set_without_repeats(strategy, toy_texts, toy_pool):
    X, y = toy_texts
    labels = np.arange(len(toy_pool)) % 2
    learner, chosen = _run_loop(X, y, toy_pool, labels, clone(strategy))
    assert len(learner.X_training_) == 4 + 6
    assert len(set(chosen)) == 6
    assert len(learner.query_history_) == 3
    assert {"inference", "selection"} <= set(learner.query_history_[0]["time"])
    assert learner.predict(toy_pool).shape == (len(toy_pool),)
    assert learner.predict_proba(toy_pool).shape == (len(toy_pool), 2)
    assert 0 <= learner.score(X, y) <= 1


@pytest.mark.parametrize("strategy", [random_sampling, entropy_sampling, ALLSH()])
def test_same_random_state_gives_same_queries(strategy, toy_texts, toy_pool):
    X, y = toy_texts
    labels = np.arange(len(toy_pool)) % 2
    _, first = _run_loop(X, y, toy_pool, labels, clone(strategy), seed=5)
    _, second = _run_loop(X, y, toy_pool, labels, clone(strategy), seed=5)
    assert first == second


def test_query_returns_items_of_the_pool_type(toy_texts, toy_pool):
    X, y = toy_texts
    learner = ActiveLearner(_pipeline(), X_training=X, y_training=y)
    indices, selected = learner.query(np.array(toy_pool, dtype=object), 3)
    assert isinstance(selected, np.ndarray)
    assert selected.tolist() == [toy_pool[i] for i in indices]


def test_a_failed_training_stores_nothing(toy_texts):
    # teach is all or nothing (issue 14): the learner is left as it was and
    # the same call can be repeated once the cause is fixed.
    X, y = toy_texts
    learner = ActiveLearner(_pipeline(), X_training=X, y_training=y).fit()
    # A vectorizer that keeps no word makes the next training fail.
    learner.estimator_.set_params(tfidfvectorizer__min_df=100)
    with pytest.raises(ValueError):
        learner.teach(["a new text"], [1])
    assert learner.X_training_[-1] == X[-1] and len(learner.y_training_) == len(y)
    learner.estimator_.set_params(tfidfvectorizer__min_df=1)
    learner.teach(["a new text"], [1])
    assert learner.X_training_[-1] == "a new text"
    assert learner.y_training_[-1] == 1


def test_unfitted_learner_errors_clearly(toy_pool):
    learner = ActiveLearner(_pipeline())
    with pytest.raises(NotFittedError, match="no labeled data yet"):
        learner.query(toy_pool)
    with pytest.raises(NotFittedError, match="no labeled data yet"):
        learner.predict(toy_pool)


def test_teach_without_initial_data_fits(toy_texts):
    X, y = toy_texts
    learner = ActiveLearner(_pipeline()).teach(X, y)
    assert len(learner.X_training_) == len(X)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"query_strategy": "entropy"}, TypeError, "'query_strategy'.*str"),
        ({"feed_unlabeled": "sometimes"}, ValueError, "'feed_unlabeled'"),
    ],
)
def test_bad_parameters(kwargs, error, message, toy_texts):
    X, y = toy_texts
    with pytest.raises(error, match=message):
        ActiveLearner(_pipeline(), X_training=X, y_training=y, **kwargs).fit()


def test_mismatched_lengths(toy_texts):
    X, y = toy_texts
    with pytest.raises(ValueError, match="same length.*16 texts and 3 labels"):
        ActiveLearner(_pipeline()).fit(X, y[:3])


class RecordingClassifier(LogisticRegression):
    """Logistic regression on word counts that records what it was fitted on."""

    uses_unlabeled = True

    def fit(self, X, y):
        self.seen_unlabeled_ = int(np.sum(np.asarray(y) == -1))
        mask = np.asarray(y) != -1
        self.vectorizer_ = TfidfVectorizer().fit(X)
        return super().fit(
            self.vectorizer_.transform(np.asarray(X, dtype=object)[mask]),
            np.asarray(y)[mask],
        )

    def predict_proba(self, X):
        return super().predict_proba(self.vectorizer_.transform(X))


def test_remaining_pool_is_fed_as_unlabeled(toy_texts, toy_pool):
    X, y = toy_texts
    learner = ActiveLearner(RecordingClassifier(), X_training=X, y_training=y)
    indices, chosen = learner.query(toy_pool, 2)
    learner.teach(chosen, [1, 0])
    assert learner.estimator_.seen_unlabeled_ == len(toy_pool) - 2
    off = ActiveLearner(
        RecordingClassifier(), X_training=X, y_training=y, feed_unlabeled=False
    )
    off.query(toy_pool, 2)
    off.teach(chosen, [1, 0])
    assert off.estimator_.seen_unlabeled_ == 0


def test_strategies_work_inside_modal(toy_texts, toy_pool):
    modal = pytest.importorskip("modAL.models")
    X, y = toy_texts
    for strategy in (entropy_sampling, ALLSH(random_state=0)):
        learner = modal.ActiveLearner(
            estimator=_pipeline(),
            query_strategy=strategy,
            X_training=np.array(X, dtype=object),
            y_training=y,
        )
        indices, selected = learner.query(
            np.array(toy_pool, dtype=object), n_instances=2
        )
        assert len(indices) == 2 and len(set(indices.tolist())) == 2
        assert list(selected) == [toy_pool[i] for i in indices]
