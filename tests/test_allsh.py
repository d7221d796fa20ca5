import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn import ActiveLearner
from allsh_sklearn.augment import BaseAugmenter, MemoryAugmentationCache, TfidfAugmenter
from allsh_sklearn.divergences import jsd, kl
from allsh_sklearn.strategies import ALLSH, allsh, allsh_scores, wca
from allsh_sklearn.utils import select_top_balanced


class CountingAugmenter(BaseAugmenter):
    """Appends a copy-dependent word; counts how many texts it augmented."""

    calls = 0

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _augment_texts(self, texts, copy_index):
        type(self).calls += len(texts)
        words = ["good", "bad", "dull", "great"]
        return [f"{t} {words[copy_index % 4]}" for t in texts]


def test_scores_equal_divergence_between_text_and_copy(fitted_pipeline, toy_pool):
    strategy = ALLSH(augmenter=CountingAugmenter(), random_state=0)
    strategy(fitted_pipeline, toy_pool, 3)
    copies = [f"{t} good" for t in toy_pool]
    expected = kl(
        fitted_pipeline.predict_proba(toy_pool), fitted_pipeline.predict_proba(copies)
    )
    np.testing.assert_allclose(strategy.last_scores_, expected)
    assert (
        strategy.last_scores_.argmax() == strategy(fitted_pipeline, toy_pool, 1)[0][0]
    )


@pytest.mark.parametrize("worst_case, reducer", [(True, np.max), (False, np.mean)])
def test_k_copies_max_for_wca_mean_otherwise(
    worst_case, reducer, fitted_pipeline, toy_pool
):
    strategy = ALLSH(
        augmenter=CountingAugmenter(),
        n_augmentations=3,
        worst_case=worst_case,
        divergence="jsd",
    )
    strategy(fitted_pipeline, toy_pool, 2, random_state=0)
    p = fitted_pipeline.predict_proba(toy_pool)
    per_copy = np.stack(
        [
            jsd(p, fitted_pipeline.predict_proba([f"{t} {w}" for t in toy_pool]))
            for w in ("good", "bad", "dull")
        ]
    )
    np.testing.assert_allclose(strategy.last_scores_, reducer(per_copy, axis=0))


def test_allsh_scores_function_hand_checked():
    p = np.array([[0.9, 0.1], [0.5, 0.5]])
    copies = np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.5, 0.5]]])
    per_copy = np.stack([kl(p, c) for c in copies])
    np.testing.assert_allclose(allsh_scores(p, copies), per_copy.mean(axis=0))
    np.testing.assert_allclose(
        allsh_scores(p, copies, worst_case=True), per_copy.max(axis=0)
    )


def test_copies_are_cached_across_queries(fitted_pipeline, toy_pool):
    CountingAugmenter.calls = 0
    strategy = ALLSH(augmenter=CountingAugmenter(), n_augmentations=2)
    pool = list(toy_pool)
    for _ in range(5):  # a shrinking pool, as in an active learning loop
        indices, _ = strategy(fitted_pipeline, pool, 2, random_state=0)
        pool = [t for i, t in enumerate(pool) if i not in set(indices.tolist())]
    assert CountingAugmenter.calls == 2 * len(toy_pool)
    assert strategy.n_augmented_ == 2 * len(toy_pool)
    assert len(strategy.cache_) == 2 * len(toy_pool)


def test_twenty_queries_augment_each_text_k_times(toy_texts):
    X, y = toy_texts
    pool = [f"{a} and {b}" for a in X for b in X[:3]]
    strategy = ALLSH(n_augmentations=2, random_state=0)
    learner = ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression()),
        query_strategy=strategy,
        X_training=X,
        y_training=y,
        random_state=0,
    )
    remaining = list(pool)
    for _ in range(20):
        indices, chosen = learner.query(remaining, n_instances=2)
        learner.teach(chosen, [1, 0])
        remaining = [t for i, t in enumerate(remaining) if i not in set(indices)]
    assert learner.query_strategy_.n_augmented_ == 2 * len(pool)
    assert not hasattr(strategy, "augmenter_")  # the learner's copy did the work


def test_shared_cache_object_is_used(fitted_pipeline, toy_pool):
    cache = MemoryAugmentationCache()
    ALLSH(cache=cache, random_state=0)(fitted_pipeline, toy_pool, 1)
    assert len(cache) == len(toy_pool)
    second = ALLSH(cache=cache, random_state=0)
    second(fitted_pipeline, toy_pool, 1)
    assert second.n_augmented_ == 0


def test_default_augmenter_is_tfidf_seeded(fitted_pipeline, toy_pool):
    strategy = ALLSH(random_state=3)
    strategy(fitted_pipeline, toy_pool, 2)
    assert isinstance(strategy.augmenter_, TfidfAugmenter)
    assert strategy.augmenter_.p == 0.3
    assert strategy.augmenter_.seed_ == 3


def test_prefitted_augmenter_is_used_as_is(fitted_pipeline, toy_pool, toy_texts):
    augmenter = TfidfAugmenter(random_state=0).fit(toy_texts[0])
    strategy = ALLSH(augmenter=augmenter)
    strategy(fitted_pipeline, toy_pool, 1)
    assert strategy.augmenter_ is augmenter


def test_module_instances(fitted_pipeline, toy_pool):
    assert allsh.get_params()["worst_case"] is False
    assert wca.get_params()["worst_case"] is True
    assert wca.get_params()["n_augmentations"] > 1
    indices, scores = clone(wca)(fitted_pipeline, toy_pool, 3, random_state=0)
    assert len(indices) == 3 and np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"divergence": "hellinger"}, ValueError, "'divergence'.*'hellinger'"),
        ({"divergence": "alpha", "alpha": 1}, ValueError, "'alpha'.*Got 1"),
        ({"divergence": "alpha", "alpha": 0}, ValueError, "'alpha'.*Got 0"),
        ({"n_augmentations": 0}, ValueError, "'n_augmentations'.*Got 0"),
        ({"worst_case": "yes"}, TypeError, "'worst_case'.*'yes'"),
        ({"augmenter": "tfidf"}, TypeError, "'augmenter'.*str"),
        ({"balance": "equal"}, ValueError, "'balance'.*'equal'"),
    ],
)
def test_bad_parameters_fail_before_augmenting(
    params, error, message, fitted_pipeline, toy_pool
):
    CountingAugmenter.calls = 0
    strategy = ALLSH(**{"augmenter": CountingAugmenter(), **params})
    with pytest.raises(error, match=message):
        strategy(fitted_pipeline, toy_pool, 1)
    assert CountingAugmenter.calls == 0


@pytest.mark.parametrize("divergence", ["kl", "reverse_kl", "jsd", "alpha"])
def test_every_divergence_runs(divergence, fitted_pipeline, toy_pool):
    strategy = ALLSH(divergence=divergence, alpha=-0.5, random_state=0)
    indices, scores = strategy(fitted_pipeline, toy_pool, 4)
    assert np.all(scores >= 0) and len(set(indices.tolist())) == 4


def test_text_pairs_are_augmented_on_both_sides():
    pairs = [
        ("the film was good", "the movie was great"),
        ("a dull plot", "the story was boring"),
        ("good acting", "bad acting"),
        ("the cast", "a great cast"),
    ]

    class PairClassifier:
        """Probability of class 1 grows with the word overlap of the pair."""

        def predict_proba(self, X):
            overlap = np.array(
                [
                    len(set(a.split()) & set(b.split()))
                    / len(set(a.split()) | set(b.split()))
                    for a, b in X
                ]
            )
            return np.column_stack([1 - overlap, overlap])

    strategy = ALLSH(augmenter=CountingAugmenter(), random_state=0)
    indices, scores = strategy(PairClassifier(), pairs, 2)
    copy = strategy.augmenter_.transform(pairs)
    assert all(a.endswith(" good") and b.endswith(" good") for a, b in copy)
    assert len(indices) == 2 and np.all(np.isfinite(scores))


def test_select_top_balanced_quotas():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.05])
    groups = np.array([0, 0, 0, 0, 1, 1, 1])
    # pool shares 4/7 and 3/7 of 4 -> 2 and 2
    chosen = select_top_balanced(scores, groups, 4, random_state=0)
    assert sorted(chosen.tolist()) == [0, 1, 4, 5]
    assert scores[chosen].tolist() == sorted(scores[chosen], reverse=True)
    # a group smaller than its quota gives the rest to the global ranking
    chosen = select_top_balanced(
        scores, np.array([0] * 6 + [1]), 4, proportion="uniform"
    )
    assert sorted(chosen.tolist()) == [0, 1, 2, 6]
    with pytest.raises(ValueError, match="'proportion'"):
        select_top_balanced(scores, groups, 2, proportion="equal")


def test_balance_keeps_scores_and_splits_the_batch(fitted_pipeline, toy_pool):
    plain = ALLSH(random_state=0)
    plain_indices, plain_scores = plain(fitted_pipeline, toy_pool, 4)
    balanced = ALLSH(random_state=0, balance="uniform")
    indices, scores = balanced(fitted_pipeline, toy_pool, 4)
    np.testing.assert_allclose(balanced.last_scores_, plain.last_scores_)
    predicted = fitted_pipeline.predict_proba(toy_pool).argmax(axis=1)
    np.testing.assert_array_equal(balanced.last_predicted_, predicted)
    expected = select_top_balanced(
        balanced.last_scores_, predicted, 4, proportion="uniform", random_state=0
    )
    np.testing.assert_array_equal(indices, expected)
    # the default is the paper's global top-b
    assert ALLSH().balance is None and not hasattr(plain, "last_predicted_")


# Issue 29: low-variance estimators, stochastic batches, copies per query ------


@pytest.mark.parametrize(
    "sensitivity, function",
    [
        ("divergence_to_mean", "divergence_to_mean"),
        ("mutual_information", "mutual_information"),
        ("variance", "prediction_variance"),
    ],
)
def test_sensitivity_options_score_the_copies(
    sensitivity, function, fitted_pipeline, toy_pool
):
    from allsh_sklearn.strategies import _allsh_scores

    strategy = ALLSH(
        augmenter=CountingAugmenter(), n_augmentations=3, sensitivity=sensitivity
    )
    indices, scores = strategy(fitted_pipeline, toy_pool, 3, random_state=0)
    p = fitted_pipeline.predict_proba(toy_pool)
    copies = np.stack(
        [
            fitted_pipeline.predict_proba([f"{t} {w}" for t in toy_pool])
            for w in ("good", "bad", "dull")
        ]
    )
    expected = getattr(_allsh_scores, function)(p, copies)
    np.testing.assert_allclose(strategy.last_scores_, expected)
    assert indices[0] == int(np.argmax(expected))
    # the score options combine it with the uncertainty, as the divergence
    ranked = ALLSH(
        augmenter=CountingAugmenter(),
        n_augmentations=3,
        sensitivity=sensitivity,
        score="rank_mean",
    )
    ranked(fitted_pipeline, toy_pool, 3, random_state=0)
    np.testing.assert_allclose(
        ranked.last_scores_, _allsh_scores.combine_scores(expected, p, "rank_mean")
    )


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"sensitivity": "bald"}, ValueError, "'sensitivity' parameter of ALLSH"),
        (
            {"sensitivity": "variance", "worst_case": True},
            ValueError,
            "'worst_case' parameter of ALLSH applies to sensitivity='divergence'",
        ),
        (
            {"sensitivity": "mutual_information", "score": "per_change"},
            ValueError,
            "'score' parameter of ALLSH can be 'per_change' only",
        ),
        ({"draw_copies": "always"}, ValueError, "'draw_copies' parameter of ALLSH"),
        ({"batch": "power", "beta": -1}, ValueError, "'beta' parameter of ALLSH"),
        ({"batch": "softrank", "beta": "1"}, ValueError, "'beta' parameter of ALLSH"),
        (
            {"batch": "power", "balance": "pool"},
            ValueError,
            "'balance' parameter of ALLSH applies to batch='top'",
        ),
    ],
)
def test_issue_29_parameters_fail_before_augmenting(
    params, error, message, fitted_pipeline, toy_pool
):
    CountingAugmenter.calls = 0
    strategy = ALLSH(**{"augmenter": CountingAugmenter(), **params})
    with pytest.raises(error, match=message):
        strategy(fitted_pipeline, toy_pool, 1)
    assert CountingAugmenter.calls == 0


@pytest.mark.parametrize("batch", ["power", "softrank"])
def test_stochastic_batch_samples_by_the_score(batch, fitted_pipeline, toy_pool):
    from allsh_sklearn.strategies._allsh_batches import stochastic_top

    plain = ALLSH(random_state=0)
    plain(fitted_pipeline, toy_pool, 4)
    strategy = ALLSH(random_state=0, batch=batch, beta=2.0)
    indices, scores = strategy(fitted_pipeline, toy_pool, 4, random_state=5)
    # the paper's scores, a batch drawn from them with the call's seed
    np.testing.assert_allclose(strategy.last_scores_, plain.last_scores_)
    expected = stochastic_top(
        plain.last_scores_, 4, method=batch, beta=2.0, random_state=5
    )
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, plain.last_scores_[indices])
    again, _ = ALLSH(random_state=0, batch=batch, beta=2.0)(
        fitted_pipeline, toy_pool, 4, random_state=5
    )
    np.testing.assert_array_equal(again, indices)
    draws = {
        tuple(strategy(fitted_pipeline, toy_pool, 4, random_state=s)[0].tolist())
        for s in range(20)
    }
    assert len(draws) > 1  # not the top-b every time


def _per_query_learner(toy_texts, draw_copies, random_state=0):
    X, y = toy_texts
    return ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression()),
        query_strategy=ALLSH(
            n_augmentations=2, draw_copies=draw_copies, random_state=random_state
        ),
        X_training=list(X[:4]) + list(X[-4:]),
        y_training=np.concatenate([y[:4], y[-4:]]),
        random_state=0,
    )


def _run_queries(learner, toy_texts, n_queries=4):
    X, y = toy_texts
    labels = dict(zip(X, y, strict=True))
    pool = [t for t in X if t not in set(learner.X_training)]
    picks, copy_indices = [], []
    for _ in range(n_queries):
        indices, chosen = learner.query(pool, n_instances=2)
        picks.append(list(chosen))
        copy_indices.append(learner.query_strategy_.last_copy_indices_)
        learner.teach(chosen, [labels[t] for t in chosen])
        pool = [t for i, t in enumerate(pool) if i not in set(indices.tolist())]
    return picks, copy_indices


def test_copies_drawn_once_are_the_same_at_every_query(toy_texts):
    picks, copy_indices = _run_queries(_per_query_learner(toy_texts, "once"), toy_texts)
    assert copy_indices == [[0, 1]] * 4


def test_copies_per_query_are_fresh_and_reproducible(toy_texts):
    learner = _per_query_learner(toy_texts, "per_query")
    picks, copy_indices = _run_queries(learner, toy_texts)
    # a new draw at every query (Algorithm 1, line 4), never copies 0..K-1
    starts = [indices[0] for indices in copy_indices]
    assert len(set(starts)) == 4 and min(starts) >= 2**16
    assert all(indices[1] == indices[0] + 1 for indices in copy_indices)
    strategy = learner.query_strategy_
    n_pool = len(toy_texts[0]) - 8
    assert strategy.n_augmented_ == 2 * sum(n_pool - 2 * q for q in range(4))
    # the same random_state gives the same queries and copies
    again = _run_queries(_per_query_learner(toy_texts, "per_query"), toy_texts)
    assert again == (picks, copy_indices)
    # another random_state draws other copies
    other = _run_queries(
        _per_query_learner(toy_texts, "per_query", random_state=1), toy_texts
    )
    assert other[1] != copy_indices


def test_copies_per_query_depend_on_the_loop_state_only(fitted_pipeline, toy_pool):
    # A fresh strategy (a resumed run) at the same labeled set and pool
    # scores the same copies; another pool size (a later iteration) others.
    first = ALLSH(draw_copies="per_query", random_state=3)
    first(fitted_pipeline, toy_pool, 2)
    resumed = clone(first)
    resumed(fitted_pipeline, toy_pool, 2)
    assert resumed.last_copy_indices_ == first.last_copy_indices_
    np.testing.assert_allclose(resumed.last_scores_, first.last_scores_)
    later = clone(first)
    later(fitted_pipeline, toy_pool[:-2], 2)
    assert later.last_copy_indices_ != first.last_copy_indices_
    # copies at those indices are the augmenter's own copies of the texts
    expected = first.augmenter_.augment(
        toy_pool, 1, copy_offset=first.last_copy_indices_[0]
    )[0]
    once = ALLSH(augmenter=first.augmenter_)
    once(fitted_pipeline, toy_pool, 2)
    assert once.last_copy_indices_ == [0]
    assert expected != first.augmenter_.augment(toy_pool, 1)[0]
    start = first.last_copy_indices_[0]
    key = (f"{first.augmenter_.fingerprint()}@{start}", 0, toy_pool[0])
    assert first.cache_.get_many([key]) == [expected[0]]


def test_copies_per_query_in_an_sqlite_cache(fitted_pipeline, toy_pool, tmp_path):
    path = tmp_path / "copies.sqlite"
    first = ALLSH(draw_copies="per_query", cache=path, random_state=0)
    first(fitted_pipeline, toy_pool, 2)
    assert first.n_augmented_ == len(toy_pool)
    second = ALLSH(draw_copies="per_query", cache=path, random_state=0)
    second(fitted_pipeline, toy_pool, 2)
    assert second.n_augmented_ == 0  # read back, large copy indices included
    np.testing.assert_allclose(second.last_scores_, first.last_scores_)


@pytest.mark.parametrize(
    "where", ["/proc/allsh-cache.sqlite", "missing-folder/x.sqlite"]
)
def test_a_cache_path_where_no_file_can_live_names_the_cache_parameter(
    tmp_path, toy_texts, fitted_pipeline, where
):
    from allsh_sklearn.strategies import ALLSH

    X, _ = toy_texts
    path = where if where.startswith("/") else str(tmp_path / where)
    with pytest.raises(ValueError, match="'cache' parameter of ALLSH"):
        ALLSH(cache=path, random_state=0)(fitted_pipeline, X, n_instances=2)
    assert not (tmp_path / "missing-folder").exists()
