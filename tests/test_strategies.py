"""Contract tests run over every strategy exported by allsh_sklearn.strategies."""

import inspect

import numpy as np
import pytest
from _toy_models import SvdClassifier, synthetic_texts
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn import ActiveLearner, strategies
from allsh_sklearn.exceptions import InvalidProbabilitiesError, PoolExhaustedError
from allsh_sklearn.strategies import (
    ALLSH,
    BADGE,
    BaseQueryStrategy,
    ClassBalanced,
    EntropySampling,
    QueryContext,
    RandomSampling,
    classifier_entropy,
    classifier_least_confidence,
    classifier_margin,
    entropy_sampling,
    margin_sampling,
    random_sampling,
    uncertainty_sampling,
)
from allsh_sklearn.utils._selection import group_quotas

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


# The query context and class balancing as a wrapper (issue 17) ----------------


def test_context_computes_each_model_output_once(svd_classifier, toy_texts, toy_pool):
    context = QueryContext(svd_classifier, toy_pool, 3)
    svd_classifier.n_forward_ = 0
    proba = context.proba()
    assert context.proba() is proba and svd_classifier.n_forward_ == 1
    joint = context.proba_and_embeddings(kind="penultimate")
    assert context.proba_and_embeddings(kind="penultimate") is joint
    assert svd_classifier.n_forward_ == 2
    part = context.subset([4, 1], 1, random_state=0)
    part_proba, part_embeddings = part.proba_and_embeddings(kind="penultimate")
    assert svd_classifier.n_forward_ == 2  # sliced from the whole pool's pass
    np.testing.assert_array_equal(part_proba, joint[0][[4, 1]])
    np.testing.assert_array_equal(part_embeddings, joint[1][[4, 1]])
    assert part.X_pool == [toy_pool[4], toy_pool[1]]
    assert {"inference", "selection"} <= set(context.timer.as_dict())


def test_context_labeled_set_from_the_call_or_the_learner(learner, toy_texts):
    X, y = toy_texts
    context = QueryContext(learner, ["a film"], 1)
    assert list(context.labeled_texts()) == list(X)
    np.testing.assert_array_equal(context.labeled_labels(), y)
    explicit = QueryContext(learner, ["a film"], 1, X_labeled=X[:2], y_labeled=y[:2])
    assert list(explicit.labeled_texts()) == X[:2]
    np.testing.assert_array_equal(explicit.labeled_labels(), y[:2])
    texts_only = QueryContext(learner, ["a film"], 1, X_labeled=X[:2])
    with pytest.raises(ValueError, match="needs the labels.*y_labeled="):
        texts_only.labeled_labels(owner="MyStrategy")
    bare = QueryContext(learner.estimator_, ["a film"], 1)
    with pytest.raises(ValueError, match="MyStrategy needs the labeled.*X_labeled="):
        bare.labeled_texts(owner="MyStrategy")


class _NearestOtherClass(BaseQueryStrategy):
    """Scores a pool item by its closeness to labeled items of another class.

    Needs the labeled set, its labels and embeddings: the inputs a
    diversity-aware strategy reads from the context.
    """

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _score(self, context):
        proba, embeddings = context.proba_and_embeddings(kind="penultimate")
        _, labeled = context.labeled_proba_and_embeddings(kind="penultimate")
        y_labeled = context.labeled_labels(owner="_NearestOtherClass")
        predicted = proba.argmax(axis=1)
        with context.timer.phase("selection"):
            distances = np.linalg.norm(
                embeddings[:, None, :] - labeled[None, :, :], axis=2
            )
            other = (
                y_labeled[None, :]
                != np.asarray(context.classifier.classes_)[predicted][:, None]
            )
            return -np.where(other, distances, np.inf).min(axis=1)


def test_a_strategy_reads_labels_and_embeddings_from_the_context(toy_texts, toy_pool):
    X, y = toy_texts
    learner = ActiveLearner(
        SvdClassifier(),
        query_strategy=_NearestOtherClass(),
        X_training=X,
        y_training=y,
        random_state=0,
    )
    indices, _ = learner.query(toy_pool, 3)
    strategy = learner.query_strategy_
    model = learner.estimator_
    hidden = model._hidden(toy_pool)
    labeled = model._hidden(X)
    predicted = model.classes_[model.head_.predict_proba(hidden).argmax(axis=1)]
    expected = np.array(
        [
            -min(
                np.linalg.norm(h - e)
                for e, label in zip(labeled, y, strict=True)
                if label != p
            )
            for h, p in zip(hidden, predicted, strict=True)
        ]
    )
    np.testing.assert_allclose(strategy.last_scores_, expected)
    assert not any(name.startswith("_X") for name in vars(strategy))
    # The same strategy called directly takes the labeled set as arguments.
    direct = _NearestOtherClass()
    direct(learner.estimator_, toy_pool, 3, X_labeled=X, y_labeled=y, random_state=0)
    np.testing.assert_allclose(direct.last_scores_, expected)


@pytest.mark.parametrize("proportion", ["pool", "uniform"])
def test_class_balanced_allsh_equals_allsh_balance(proportion, learner, toy_pool):
    pool = toy_pool + toy_pool[:3]  # repeated texts too
    wrapped = ClassBalanced(ALLSH(random_state=0), proportion=proportion)
    indices, scores = wrapped(learner, pool, 5)
    option = ALLSH(random_state=0, balance=proportion)
    expected, expected_scores = option(learner, pool, 5)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, expected_scores)
    np.testing.assert_array_equal(wrapped.last_predicted_, option.last_predicted_)
    assert wrapped.get_params()["strategy__random_state"] == 0
    assert not hasattr(wrapped.strategy, "augmenter_")  # the wrapper's own copy


def _class_counts(predicted, indices, n_classes):
    return np.bincount(predicted[indices], minlength=n_classes).tolist()


def test_class_balanced_badge_is_one_model_pass_and_balanced():
    X, y = synthetic_texts(n=120, n_classes=3, seed=4)
    model = SvdClassifier().fit(X[:30], y[:30])
    pool = X[30:]
    strategy = ClassBalanced(BADGE(), proportion="uniform")
    model.n_forward_ = 0
    indices, scores = strategy(model, pool, 9, random_state=0)
    assert model.n_forward_ == 1
    predicted = strategy.last_predicted_
    np.testing.assert_array_equal(predicted, model.predict_proba(pool).argmax(axis=1))
    _, quotas = group_quotas(predicted, 9, "uniform")
    assert _class_counts(predicted, indices, 3) == quotas.tolist()
    assert len(set(indices.tolist())) == 9 and np.all(np.diff(scores) <= 0)
    # Within a class, the picks are BADGE's k-means++ on that class's items.
    members = np.flatnonzero(predicted == 0)
    seed = np.random.RandomState(0).randint(2**31 - 1)
    inside, _ = BADGE()(model, [pool[i] for i in members], quotas[0], random_state=seed)
    assert set(members[inside].tolist()) == set(
        i for i in indices.tolist() if predicted[i] == 0
    )


def test_class_balanced_around_a_plain_function(learner, toy_pool):
    def first_items(classifier, X_pool, n_instances=1, random_state=None):
        return np.arange(n_instances), -np.arange(n_instances, dtype=float)

    strategy = ClassBalanced(first_items, proportion="uniform")
    indices, _ = strategy(learner, toy_pool, 4, random_state=0)
    predicted = strategy.last_predicted_
    assert _class_counts(predicted, indices, 2) == [2, 2]
    for label in (0, 1):  # the first two items of each predicted class
        members = np.flatnonzero(predicted == label)
        assert set(members[:2]) <= set(indices.tolist())


def test_class_balanced_with_a_class_short_of_items(learner, toy_pool):

    strategy = ClassBalanced(BADGE(embedding="tfidfvectorizer"), "uniform")
    indices, _ = strategy(learner, toy_pool, len(toy_pool), random_state=0)
    assert sorted(indices.tolist()) == list(range(len(toy_pool)))


def test_class_balanced_bad_parameters(learner, toy_pool):
    with pytest.raises(ValueError, match="'proportion' parameter of ClassBalanced"):
        ClassBalanced(proportion="equal")(learner, toy_pool, 2)
    with pytest.raises(TypeError, match="'strategy' parameter of ClassBalanced"):
        ClassBalanced(strategy="allsh")(learner, toy_pool, 2)
    with pytest.raises(ValueError, match="'divergence'"):
        ClassBalanced(ALLSH(divergence="hellinger"))(learner, toy_pool, 2)


# Declared parameter constraints ---------------------------------------------


@pytest.mark.parametrize(
    "strategy, error, message",
    [
        (
            RandomSampling(random_state=-1),
            ValueError,
            r"'random_state' parameter of RandomSampling must be None, an int",
        ),
        (
            BADGE(embedding=3),
            TypeError,
            r"'embedding' parameter of BADGE must be a callable, the name of a "
            r"pipeline step or None\. Got int instead",
        ),
        (
            ALLSH(embedding_kind=3),
            TypeError,
            r"'embedding_kind' parameter of ALLSH must be a str or None\. Got int 3",
        ),
        (
            ClassBalanced(BADGE(random_state="seed")),
            ValueError,
            r"'random_state' parameter of BADGE",
        ),
    ],
)
def test_declared_parameters_are_checked_at_the_call(
    strategy, error, message, learner, toy_pool
):
    with pytest.raises(error, match=message):
        strategy(learner, toy_pool, 2)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"deduplicate": 1}, TypeError, r"'deduplicate' parameter of "
         r"EntropySampling\.__call__ must be a bool\. Got 1 instead"),
        ({"random_state": 2**32}, ValueError, r"'random_state' parameter of "
         r"EntropySampling\.__call__ must be None, an int in \[0, 2\*\*32 - 1\]"),
    ],
)  # fmt: skip
def test_call_arguments_are_checked(arguments, error, message, learner, toy_pool):
    with pytest.raises(error, match=message):
        EntropySampling()(learner, toy_pool, 2, **arguments)
