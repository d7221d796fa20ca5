"""Regression tests of issue 14: one bad input must not break a run, no state
leaks between learners or pools, parameters and seeds behave as documented.

Each test here failed on the code before the fix (bugs 1 to 7 of the issue).
"""

import inspect
import warnings

import numpy as np
import pytest
from _toy_models import SvdClassifier, synthetic_texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

from allsh_sklearn import ActiveLearner, strategies
from allsh_sklearn.augment import (
    MemoryAugmentationCache,
    SQLiteAugmentationCache,
    TfidfAugmenter,
)
from allsh_sklearn.strategies import (
    ALLSH,
    BADGE,
    CAL,
    BaseQueryStrategy,
    EntropySampling,
    RandomSampling,
)
from allsh_sklearn.utils import select_top

PROBE = ["a good film", "a dull plot", "great acting", "the cast"]


def _pipeline():
    return make_pipeline(TfidfVectorizer(), LogisticRegression())


def _learner(toy_texts, **params):
    X, y = toy_texts
    return ActiveLearner(
        _pipeline(), X_training=list(X), y_training=y, random_state=0, **params
    ).fit()


def _state(learner):
    """Everything public a failed call must leave as it was."""
    return {
        "params": {
            name: value if isinstance(value, int | str | type(None)) else id(value)
            for name, value in learner.get_params(deep=False).items()
        },
        "X_training_": list(learner.X_training_),
        "y_training_": learner.y_training_.copy(),
        "classes_": np.asarray(learner.classes_).copy(),
        "proba": learner.predict_proba(PROBE),
        "n_queries": len(learner.query_history_),
    }


def _assert_same_state(before, after):
    assert after["params"] == before["params"]
    assert after["X_training_"] == before["X_training_"]
    assert after["y_training_"].dtype == before["y_training_"].dtype
    np.testing.assert_array_equal(after["y_training_"], before["y_training_"])
    np.testing.assert_array_equal(after["classes_"], before["classes_"])
    np.testing.assert_array_equal(after["proba"], before["proba"])
    assert after["n_queries"] == before["n_queries"]


# Bug 1: a failed teach leaves the learner as it was ---------------------------


@pytest.mark.parametrize(
    "y, error, message",
    [
        ([float("nan")], ValueError, "missing values.*nan at position 0"),
        ([None], ValueError, "missing values.*None at position 0"),
        ([0.5], ValueError, "not fractions.*0.5 at position 0"),
        ([[1]], ValueError, r"shape \(1, 1\).*ravel"),
        ([1, 0], ValueError, "same length.*1 texts and 2 labels"),
        (5, TypeError, "'y'.*Got 5"),
    ],
)
def test_bad_labels_are_rejected_before_anything_is_stored(
    y, error, message, toy_texts, toy_pool
):
    learner = _learner(toy_texts)
    twin = _learner(toy_texts)
    before = _state(learner)
    with pytest.raises(error, match=message):
        learner.teach(["an awful new word"], y)
    _assert_same_state(before, _state(learner))
    # The learner still works, exactly as one that never saw the bad label.
    np.testing.assert_array_equal(
        learner.query(toy_pool, 2)[0], twin.query(toy_pool, 2)[0]
    )
    learner.teach(["an awful new word"], [0])
    assert len(learner.X_training_) == len(before["X_training_"]) + 1


def test_several_bad_labels_are_all_named(toy_texts):
    learner = _learner(toy_texts)
    with pytest.raises(ValueError, match="None at position 1, nan at position 3"):
        learner.teach(["a", "b", "c", "d"], [0, None, 1, float("nan")])


def test_failed_training_restores_the_previous_model(toy_texts, toy_pool):
    learner = _learner(toy_texts)
    before = _state(learner)
    # The vectoriser refits, then the classifier rejects C: the pipeline is
    # left half-refitted, as in the issue.
    learner.estimator_.set_params(logisticregression__C=-1.0)
    with pytest.raises(ValueError, match="'C'") as raised:
        learner.teach(["a brand new word"], [1])
    notes = "".join(getattr(raised.value, "__notes__", []))
    if hasattr(raised.value, "add_note"):
        assert "left as before the call" in notes
    _assert_same_state(before, _state(learner))
    learner.predict(toy_pool)  # the previous model, whole
    learner.query(toy_pool, 2)
    learner.estimator_.set_params(logisticregression__C=1.0)
    learner.teach(["a brand new word"], [1])  # the same call now succeeds
    assert learner.X_training_[-1] == "a brand new word"


def test_failed_first_fit_leaves_no_half_state(toy_texts):
    X, y = toy_texts
    learner = ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression(C=-1.0)), random_state=0
    )
    with pytest.raises(ValueError, match="'C'"):
        learner.fit(X, y)
    assert not hasattr(learner, "X_training_")
    assert not hasattr(learner, "estimator_")


_BAD_LABELS = st.one_of(
    st.just([float("nan")]),
    st.just([None]),
    st.floats(allow_nan=False, allow_infinity=False)
    .filter(lambda v: not float(v).is_integer())
    .map(lambda v: [v]),
    st.text(min_size=1).map(lambda v: [v]),
    st.just([[1]]),
    st.just([1, 0]),
    st.integers().map(lambda v: v),  # a bare number
    st.just([True]),
)
_BAD_POOLS = st.one_of(
    st.just([]),
    st.just({"a": "a good film"}),
    st.just("a good film"),
    st.just(["a good film", 3]),
    st.just(["a good film", "  "]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    call=st.one_of(
        st.tuples(st.just("teach"), _BAD_LABELS),
        st.tuples(st.just("query_pool"), _BAD_POOLS),
        st.tuples(st.just("query_size"), st.sampled_from([0, -1, 13, 2.5, "2"])),
    )
)
def test_failed_teach_or_query_changes_nothing(call, toy_texts, toy_pool):
    learner = _learner(toy_texts, query_strategy=ALLSH())
    twin = _learner(toy_texts, query_strategy=ALLSH())
    learner.query(toy_pool, 1)
    twin.query(toy_pool, 1)
    before = _state(learner)
    kind, value = call
    with pytest.raises((ValueError, TypeError)):
        if kind == "teach":
            learner.teach(["an awful new word"], value)
        elif kind == "query_pool":
            learner.query(value, 1)
        else:
            learner.query(toy_pool, value)
    _assert_same_state(before, _state(learner))
    # Hidden state too: the next query is the one an untouched twin makes.
    np.testing.assert_array_equal(
        learner.query(toy_pool, 3)[0], twin.query(toy_pool, 3)[0]
    )


def test_a_failing_strategy_does_not_move_the_seeds(toy_texts, toy_pool):
    learner = _learner(toy_texts, query_strategy=RandomSampling())
    twin = _learner(toy_texts, query_strategy=RandomSampling())
    with pytest.raises(ValueError, match="'divergence'"):
        learner.set_params(query_strategy=ALLSH(divergence="hellinger"))
        learner.query(toy_pool, 2)
    learner.set_params(query_strategy=twin.query_strategy)
    np.testing.assert_array_equal(
        learner.query(toy_pool, 3)[0], twin.query(toy_pool, 3)[0]
    )


# Bug 2: label types are not mixed --------------------------------------------


def test_a_string_label_in_an_integer_learner_is_rejected(toy_texts):
    learner = _learner(toy_texts)
    before = _state(learner)
    with pytest.raises(ValueError, match=r"same type.*integers: \[0, 1\].*'pos'"):
        learner.teach(["great"], ["pos"])
    _assert_same_state(before, _state(learner))
    learner.teach(["great", "fine"], [2, 1.0])  # a new class of the same type
    assert learner.classes_.tolist() == [0, 1, 2]
    assert learner.y_training_.dtype.kind == "i"


def test_an_integer_label_in_a_string_learner_is_rejected(toy_texts):
    X, y = toy_texts
    names = np.where(y == 1, "pos", "neg")
    learner = ActiveLearner(_pipeline(), random_state=0).fit(X, names)
    with pytest.raises(ValueError, match=r"same type.*strings.*1 at position 0"):
        learner.teach(["great"], [1])
    learner.teach(["so so"], ["neutral"])
    assert learner.classes_.tolist() == ["neg", "neutral", "pos"]


def test_labels_of_one_call_must_be_of_one_type(toy_texts):
    with pytest.raises(ValueError, match="one type.*integers at positions.*strings"):
        ActiveLearner(_pipeline()).fit(["a", "b"], [0, "pos"])


# Bug 3: no state carried across pools or learners ----------------------------


def _public_strategies():
    """Every public strategy instance, and every class built with defaults."""
    found = {}
    for name in strategies.__all__:
        obj = getattr(strategies, name)
        if isinstance(obj, BaseQueryStrategy):
            found[name] = obj
        elif (
            inspect.isclass(obj)
            and issubclass(obj, BaseQueryStrategy)
            and obj is not BaseQueryStrategy
        ):
            found[name] = obj()
    return found


PUBLIC_STRATEGIES = _public_strategies()
POOL_A = synthetic_texts(n=70, n_classes=2, seed=1)
POOL_B = (
    [
        text.replace("the", "match").replace("film", "league")
        for text in synthetic_texts(n=70, n_classes=3, seed=2)[0]
    ],
    synthetic_texts(n=70, n_classes=3, seed=2)[1],
)


def _run(strategy, pool, n_rounds=3):
    X, y = pool
    labeled = list(range(len(set(y.tolist())) * 2))
    learner = ActiveLearner(
        SvdClassifier(n_components=4),
        query_strategy=strategy,
        X_training=[X[i] for i in labeled],
        y_training=y[labeled],
        random_state=0,
    )
    remaining = [i for i in range(len(X)) if i not in labeled]
    picks = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # CAL: few labeled examples
        for _ in range(n_rounds):
            positions, texts = learner.query([X[i] for i in remaining], 4)
            chosen = [remaining[p] for p in positions]
            learner.teach(texts, y[chosen])
            picks.append(chosen)
            remaining = [i for i in remaining if i not in chosen]
    return picks


@pytest.mark.parametrize("name", sorted(PUBLIC_STRATEGIES))
def test_every_public_strategy_gives_fresh_picks_in_a_second_learner(name):
    strategy = PUBLIC_STRATEGIES[name]
    fresh_a = _run(clone(strategy), POOL_A)
    fresh_b = _run(clone(strategy), POOL_B)
    # The same instance through two learners on two pools, one after the other.
    assert _run(strategy, POOL_A) == fresh_a
    assert _run(strategy, POOL_B) == fresh_b
    assert _run(strategy, POOL_A) == fresh_a


def test_a_direct_call_on_another_corpus_refits_the_augmenter(
    fitted_pipeline, toy_pool
):
    other = POOL_B[0][:30]
    strategy = ALLSH(random_state=0)
    strategy(fitted_pipeline, toy_pool + POOL_A[0], 2)
    indices, scores = strategy(fitted_pipeline, other, 3)
    fresh = ALLSH(random_state=0)
    expected = fresh(fitted_pipeline, other, 3)
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(strategy.last_scores_, fresh.last_scores_)
    # The words put into the copies of the second corpus come from it alone.
    vocabulary = {word for text in other for word in text.split()}
    copies = strategy.augmenter_.augment(other, n_copies=3)
    inserted = {
        word
        for copy in copies
        for text, original in zip(copy, other, strict=True)
        for word in set(text.split()) - set(original.split())
    }
    assert inserted and inserted <= vocabulary


def test_a_part_of_the_corpus_keeps_the_augmenter(fitted_pipeline, toy_pool):
    strategy = ALLSH(random_state=0).fit(toy_pool)
    augmenter = strategy.augmenter_
    strategy(fitted_pipeline, toy_pool[3:], 2)  # the shrinking pool of a loop
    assert strategy.augmenter_ is augmenter


def test_learner_works_on_a_copy_of_the_strategy(toy_texts, toy_pool):
    strategy = ALLSH(random_state=0)
    learner = _learner(toy_texts, query_strategy=strategy)
    learner.query(toy_pool, 2)
    assert learner.query_strategy_ is not strategy
    assert hasattr(learner.query_strategy_, "augmenter_")
    assert not hasattr(strategy, "augmenter_") and not hasattr(strategy, "last_scores_")


def test_an_explicitly_fitted_strategy_keeps_its_augmenter_in_the_learner(
    toy_texts, toy_pool
):
    strategy = ALLSH(random_state=0).fit(toy_pool)
    learner = _learner(toy_texts, query_strategy=strategy)
    learner.query(toy_pool[4:], 2)
    assert learner.query_strategy_.augmenter_ is strategy.augmenter_


# Bug 4: set_params takes effect at the next query -----------------------------


def test_set_params_after_first_use_rebuilds_the_fitted_state(
    fitted_pipeline, toy_pool, tmp_path
):
    strategy = ALLSH(random_state=0)
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.augmenter_.p == 0.3
    strategy.set_params(augmenter=TfidfAugmenter(p=0.6))
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.augmenter_.p == 0.6
    strategy.set_params(augmenter__p=0.9)  # a nested parameter
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.augmenter_.p == 0.9
    strategy.set_params(random_state=5)
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.augmenter_.seed_ == 5
    cache = SQLiteAugmentationCache(tmp_path / "copies.sqlite")
    strategy.set_params(cache=cache)
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.cache_ is cache and len(cache) == len(toy_pool)
    cache.close()


def test_a_parameter_outside_the_fitted_state_keeps_the_augmenter(
    fitted_pipeline, toy_pool
):
    strategy = ALLSH(random_state=0)
    strategy(fitted_pipeline, toy_pool, 2)
    augmenter, n_augmented = strategy.augmenter_, strategy.n_augmented_
    strategy.set_params(divergence="jsd")
    strategy(fitted_pipeline, toy_pool, 2)
    assert strategy.augmenter_ is augmenter
    assert strategy.n_augmented_ == n_augmented == len(toy_pool)  # all cached


def test_set_params_through_the_learner_reaches_its_copy(toy_texts, toy_pool):
    learner = _learner(toy_texts, query_strategy=ALLSH(random_state=0))
    learner.query(toy_pool, 2)
    learner.set_params(
        query_strategy__augmenter=TfidfAugmenter(p=0.6),
        query_strategy__divergence="jsd",
    )
    learner.query(toy_pool, 2)
    assert learner.query_strategy_.augmenter_.p == 0.6
    assert learner.query_strategy_.divergence == "jsd"
    replacement = EntropySampling()
    learner.set_params(query_strategy=replacement)
    learner.query(toy_pool, 2)
    assert isinstance(learner.query_strategy_, EntropySampling)


# Bug 5: seed precedence ---------------------------------------------------------


def _picks(learner, pool, n_rounds=3):
    remaining = list(pool)
    picks = []
    for _ in range(n_rounds):
        _, texts = learner.query(remaining, 2)
        learner.teach(texts, [0, 1])
        picks.append(list(texts))
        remaining = [t for t in remaining if t not in texts]
    return picks


@pytest.mark.parametrize(
    "strategy", [RandomSampling(random_state=0), ALLSH(random_state=0)], ids=repr
)
def test_a_seeded_strategy_is_reproducible_in_an_unseeded_learner(
    strategy, toy_texts, toy_pool
):
    X, y = toy_texts
    runs = [
        _picks(
            ActiveLearner(
                _pipeline(),
                query_strategy=clone(strategy),
                X_training=X,
                y_training=y,
                random_state=None,
            ),
            toy_pool,
        )
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_seed_of_each_query(toy_texts, toy_pool):
    X, y = toy_texts
    # A seeded learner, an unseeded strategy: query t uses the t-th draw of
    # the learner's seed (as before the fix).
    learner = ActiveLearner(
        _pipeline(),
        query_strategy=RandomSampling(),
        X_training=X,
        y_training=y,
        random_state=3,
    )
    draws = check_random_state(3)
    for _ in range(2):
        expected = RandomSampling()(
            None, toy_pool, 3, random_state=draws.randint(2**31 - 1)
        )
        np.testing.assert_array_equal(learner.query(toy_pool, 3)[0], expected[0])
    # A seeded strategy wins over the learner's seed.
    learner = ActiveLearner(
        _pipeline(),
        query_strategy=RandomSampling(random_state=7),
        X_training=X,
        y_training=y,
        random_state=3,
    )
    seed = check_random_state(7).randint(2**31 - 1)
    expected = RandomSampling()(None, toy_pool, 3, random_state=seed)
    np.testing.assert_array_equal(learner.query(toy_pool, 3)[0], expected[0])
    # A seed given to query wins over both.
    expected = RandomSampling()(None, toy_pool, 3, random_state=11)
    np.testing.assert_array_equal(
        learner.query(toy_pool, 3, random_state=11)[0], expected[0]
    )


def test_the_strategy_seed_seeds_the_augmenter(fitted_pipeline, toy_pool):
    strategy = ALLSH(random_state=4)
    strategy(fitted_pipeline, toy_pool, 2, random_state=9)
    assert strategy.augmenter_.seed_ == 4
    unseeded = ALLSH()
    unseeded(fitted_pipeline, toy_pool, 2, random_state=9)
    assert unseeded.augmenter_.seed_ == 9


# Bug 6: a text repeated in the pool is selected once per batch -----------------


def _strategies_for_duplicates():
    return [
        RandomSampling(),
        EntropySampling(),
        ALLSH(),
        ALLSH(balance="uniform"),
        CAL(embedding="tfidfvectorizer", n_neighbors=3),
        BADGE(embedding="tfidfvectorizer"),
    ]


@pytest.mark.parametrize("strategy", _strategies_for_duplicates(), ids=repr)
def test_repeated_texts_are_selected_once(strategy, toy_texts, toy_pool):
    learner = _learner(toy_texts)
    pool = list(toy_pool)
    # Repeat the texts the strategy ranks first, several times each.
    top, _ = clone(strategy)(learner, pool, 4, random_state=0)
    pool = pool + [pool[i] for i in top] * 3
    indices, _ = clone(strategy)(learner, pool, 8, random_state=0)
    texts = [pool[i] for i in indices]
    assert len(set(texts)) == len(texts) == 8


@pytest.mark.parametrize("cls", [EntropySampling, RandomSampling])
def test_repeats_give_the_next_best_distinct_texts(cls, toy_texts, toy_pool):
    learner = _learner(toy_texts)
    pool = list(toy_pool) + list(toy_pool[:6])
    strategy = cls()
    indices, _ = strategy(learner, pool, 5, random_state=2)
    order = select_top(strategy.last_scores_, len(pool), random_state=2)
    expected, seen = [], set()
    for i in order:
        if pool[i] not in seen:
            seen.add(pool[i])
            expected.append(int(i))
    assert indices.tolist() == expected[:5]


def test_fewer_distinct_texts_than_the_batch_takes_copies_last(toy_texts):
    learner = _learner(toy_texts)
    pool = ["a good film", "a dull plot", "a good film", "a dull plot", "the cast"]
    indices, _ = EntropySampling()(learner, pool, 4, random_state=0)
    assert len(set(indices.tolist())) == 4
    assert {pool[i] for i in indices[:3]} == set(pool)


@pytest.mark.parametrize("strategy", _strategies_for_duplicates(), ids=repr)
def test_pools_without_repeats_are_unchanged(strategy, toy_texts, toy_pool):
    # The selection equals the top-b (or k-means++ order) of the same scores.
    learner = _learner(toy_texts)
    indices, _ = strategy(learner, toy_pool, 5, random_state=1)
    if isinstance(strategy, BADGE) or getattr(strategy, "balance", None):
        again, _ = clone(strategy)(learner, toy_pool, 5, random_state=1)
        np.testing.assert_array_equal(indices, again)
    else:
        np.testing.assert_array_equal(
            indices, select_top(strategy.last_scores_, 5, random_state=1)
        )


# Bug 7: clear early errors ------------------------------------------------------


def test_allsh_cache_may_be_a_path(fitted_pipeline, toy_pool, tmp_path):
    path = tmp_path / "copies.sqlite"
    strategy = ALLSH(cache=str(path), random_state=0)
    strategy(fitted_pipeline, toy_pool, 2)
    assert isinstance(strategy.cache_, SQLiteAugmentationCache)
    assert len(SQLiteAugmentationCache(path)) == len(toy_pool)
    again = ALLSH(cache=path, random_state=0)
    again(fitted_pipeline, toy_pool, 2)
    assert again.n_augmented_ == 0


@pytest.fixture
def counting_classifier(toy_texts):
    return SvdClassifier().fit(*toy_texts)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda c, p: ALLSH(cache=5)(c, p, 1),
            TypeError,
            "'cache' parameter of ALLSH.*int 5",
        ),
        (
            lambda c, p: ALLSH(cache=[1])(c, p, 1),
            TypeError,
            "'cache'.*get_many.*list",
        ),
        (
            lambda c, p: ALLSH()(c, (t for t in p), 1),
            TypeError,
            "'X_pool'.*sequence.*Got generator.*list\\(X_pool\\)",
        ),
        (
            lambda c, p: ALLSH()(c, dict(enumerate(p)), 1),
            TypeError,
            "'X_pool'.*Got dict.*values",
        ),
        (
            lambda c, p: EntropySampling()(c, set(p), 1),
            TypeError,
            "'X_pool'.*Got set",
        ),
        (
            lambda c, p: ALLSH(random_state="x")(c, p, 1),
            ValueError,
            "'random_state' parameter of ALLSH.*'x'",
        ),
        (
            lambda c, p: EntropySampling()(c, p, 1, random_state="x"),
            ValueError,
            "'random_state' parameter of EntropySampling.__call__.*'x'",
        ),
    ],
)
def test_bad_inputs_fail_before_any_model_pass(
    call, error, message, counting_classifier, toy_pool
):
    counting_classifier.n_forward_ = 0
    with pytest.raises(error, match=message):
        call(counting_classifier, list(toy_pool))
    assert counting_classifier.n_forward_ == 0


def test_learner_bad_inputs_are_named(toy_texts, toy_pool):
    X, y = toy_texts
    with pytest.raises(
        ValueError, match="'random_state' parameter of ActiveLearner.*'x'"
    ):
        ActiveLearner(_pipeline(), random_state="x").fit(X, y)
    with pytest.raises(TypeError, match="'y'.*Got 5"):
        ActiveLearner(_pipeline()).fit(["a film"], 5)
    learner = _learner(toy_texts)
    with pytest.raises(TypeError, match="'X_pool'.*generator"):
        learner.query(t for t in toy_pool)
    with pytest.raises(TypeError, match="'X_pool'.*dict"):
        learner.query(dict(enumerate(toy_pool)))
    with pytest.raises(
        ValueError, match="'random_state' parameter of ActiveLearner.query"
    ):
        learner.query(toy_pool, random_state="x")
    with pytest.raises(TypeError, match="'X'.*generator"):
        learner.teach((t for t in ["a film"]), [1])


def test_memory_cache_object_is_shared_by_clones():
    cache = MemoryAugmentationCache()
    assert clone(ALLSH(cache=cache)).cache is cache


@pytest.mark.parametrize("cls", [EntropySampling, RandomSampling, ALLSH])
def test_deduplicate_false_selects_positions_as_before(cls, toy_texts, toy_pool):
    learner = _learner(toy_texts)
    pool = list(toy_pool) + list(toy_pool)
    strategy = cls()
    indices, _ = strategy(learner, pool, 6, random_state=3, deduplicate=False)
    np.testing.assert_array_equal(
        indices, select_top(strategy.last_scores_, 6, random_state=3)
    )
    with pytest.raises(TypeError, match="'deduplicate'.*'no'"):
        strategy(learner, pool, 6, deduplicate="no")


def test_bad_labels_before_the_first_fit_leave_the_learner_unfitted(toy_texts):
    X, y = toy_texts
    learner = ActiveLearner(_pipeline(), X_training=X, y_training=y)
    with pytest.raises(ValueError, match="same type"):
        learner.teach(["great"], ["pos"])
    assert not hasattr(learner, "estimator_")
    learner.teach(["great"], [1])  # initial labels and the new one
    assert len(learner.X_training_) == len(X) + 1
