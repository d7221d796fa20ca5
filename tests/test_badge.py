"""Tests of BADGE: factorised k-means++ on gradient embeddings."""

import tracemalloc

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.exceptions import PoolExhaustedError
from allsh_sklearn.strategies._badge import (
    BADGE,
    badge_gradient_norms,
    badge_kmeans_plusplus,
)


def gradient_matrix(proba, h):
    """The (n, C d) gradient embeddings, built block by block as the reference does."""
    proba = np.asarray(proba, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    n_samples, n_classes = proba.shape
    dim = h.shape[1]
    predicted = proba.argmax(axis=1)
    g = np.zeros((n_samples, n_classes * dim))
    for i in range(n_samples):
        for c in range(n_classes):
            g[i, c * dim : (c + 1) * dim] = h[i] * (
                float(c == predicted[i]) - proba[i, c]
            )
    return g


def direct_badge(proba, h, n_instances, seed):
    """k-means++ on the materialised gradient embeddings, same RNG consumption.

    First centre: largest gradient norm (uniform if all are zero); each next
    centre: one random_sample() against the cumulative squared distances to
    the nearest centre, or one randint among the items left if they are all 0.
    """
    g = gradient_matrix(proba, h)
    rng = np.random.RandomState(seed)
    norms_sq = (g**2).sum(axis=1)
    if norms_sq.max() > 0:
        chosen = [int(np.argmax(norms_sq))]
    else:
        chosen = [int(rng.randint(len(g)))]
    while len(chosen) < n_instances:
        d2 = np.array(
            [min(((g[i] - g[c]) ** 2).sum() for c in chosen) for i in range(len(g))]
        )
        d2[chosen] = 0.0
        cdf = np.cumsum(d2)
        if cdf[-1] > 0:
            index = int(
                np.searchsorted(cdf, rng.random_sample() * cdf[-1], side="right")
            )
        else:
            remaining = [i for i in range(len(g)) if i not in chosen]
            index = remaining[rng.randint(len(remaining))]
        chosen.append(index)
    return np.array(chosen)


def random_problem(seed, n_classes, dim, n_samples=60):
    rng = np.random.RandomState(seed)
    proba = rng.dirichlet(np.ones(n_classes), size=n_samples)
    h = rng.normal(size=(n_samples, dim)) * rng.uniform(0.2, 3.0, size=(n_samples, 1))
    return proba, h


# Reference equivalence -------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("dim", [3, 16])
def test_factorised_equals_materialised(seed, n_classes, dim):
    proba, h = random_problem(seed, n_classes, dim)
    expected = direct_badge(proba, h, 12, seed)
    indices = badge_kmeans_plusplus(proba, h, 12, random_state=seed)
    np.testing.assert_array_equal(indices, expected)


@pytest.mark.parametrize("seed", range(3))
def test_float32_embeddings_select_the_same_batch(seed):
    proba, h = random_problem(seed, 5, 16)
    h32 = h.astype(np.float32)
    expected = direct_badge(proba, h32.astype(np.float64), 12, seed)
    np.testing.assert_array_equal(
        badge_kmeans_plusplus(proba, h32, 12, random_state=seed), expected
    )


@pytest.mark.parametrize("seed", range(3))
def test_float32_embeddings_of_nearly_identical_items(seed):
    # An untrained model maps every text to about the same point: relative
    # squared distances around 1e-6, below float32 cancellation noise.
    rng = np.random.RandomState(seed)
    logits = rng.normal(size=3) + 1e-3 * rng.normal(size=(60, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    h32 = (rng.normal(size=16) + 1e-3 * rng.normal(size=(60, 16))).astype(np.float32)
    expected = direct_badge(proba, h32.astype(np.float64), 12, seed)
    np.testing.assert_array_equal(
        badge_kmeans_plusplus(proba, h32, 12, random_state=seed), expected
    )


def test_gradient_norms_equal_materialised_norms():
    proba, h = random_problem(0, 5, 16)
    np.testing.assert_allclose(
        badge_gradient_norms(proba, h),
        np.linalg.norm(gradient_matrix(proba, h), axis=1),
        rtol=1e-12,
    )


def test_first_centre_has_the_largest_gradient_norm():
    proba, h = random_problem(1, 5, 16)
    for seed in range(3):
        indices = badge_kmeans_plusplus(proba, h, 3, random_state=seed)
        assert indices[0] == np.argmax(badge_gradient_norms(proba, h))


def test_strategy_equals_materialised_through_a_classifier(svd_classifier, toy_pool):
    strategy = BADGE(random_state=0)
    indices, scores = strategy(svd_classifier, toy_pool, n_instances=5)
    assert svd_classifier.n_forward_ == 1  # one pass for probabilities and embeddings
    proba = svd_classifier.head_.predict_proba(svd_classifier._hidden(toy_pool))
    hidden = svd_classifier._hidden(toy_pool)  # BADGE uses the penultimate vector
    np.testing.assert_array_equal(indices, direct_badge(proba, hidden, 5, 0))
    norms = np.linalg.norm(gradient_matrix(proba, hidden), axis=1)
    np.testing.assert_allclose(strategy.last_scores_, norms, rtol=1e-10)
    np.testing.assert_allclose(scores, norms[indices], rtol=1e-10)


def test_sparse_pipeline_step_equals_dense_callable(fitted_pipeline, toy_pool):
    vectorizer = fitted_pipeline.named_steps["tfidfvectorizer"]
    by_step = BADGE(embedding="tfidfvectorizer")
    by_callable = BADGE(embedding=lambda X: vectorizer.transform(X).toarray())
    for seed in range(3):
        indices_step, _ = by_step(fitted_pipeline, toy_pool, 6, random_state=seed)
        indices_call, _ = by_callable(fitted_pipeline, toy_pool, 6, random_state=seed)
        np.testing.assert_array_equal(indices_step, indices_call)
        expected = direct_badge(
            fitted_pipeline.predict_proba(toy_pool),
            vectorizer.transform(toy_pool).toarray(),
            6,
            seed,
        )
        np.testing.assert_array_equal(indices_step, expected)
    np.testing.assert_allclose(by_step.last_scores_, by_callable.last_scores_)


def test_modal_learner_with_a_pipeline_step(modal_learner, toy_texts, toy_pool):
    indices, _ = BADGE(embedding="tfidfvectorizer")(
        modal_learner, toy_pool, 4, random_state=0
    )
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(*toy_texts)
    expected, _ = BADGE(embedding="tfidfvectorizer")(
        pipeline, toy_pool, 4, random_state=0
    )
    np.testing.assert_array_equal(indices, expected)


# Degenerate inputs -----------------------------------------------------------


def test_one_hot_probabilities_fall_back_to_uniform():
    rng = np.random.RandomState(0)
    proba = np.eye(3)[rng.randint(3, size=30)]  # every gradient is zero
    h = rng.normal(size=(30, 4))
    firsts = set()
    for seed in range(10):
        indices = badge_kmeans_plusplus(proba, h, 8, random_state=seed)
        assert len(set(indices.tolist())) == 8
        np.testing.assert_array_equal(indices, direct_badge(proba, h, 8, seed))
        firsts.add(int(indices[0]))
    assert len(firsts) > 1  # not always the start of the pool
    assert np.all(badge_gradient_norms(proba, h) == 0.0)


def test_single_class_probabilities():
    rng = np.random.RandomState(0)
    indices = badge_kmeans_plusplus(
        np.ones((10, 1)), rng.normal(size=(10, 3)), 10, random_state=0
    )
    assert sorted(indices.tolist()) == list(range(10))


def test_fewer_distinct_items_than_the_batch():
    rng = np.random.RandomState(0)
    groups = rng.randint(3, size=30)
    groups[:3] = [0, 1, 2]
    proba = rng.dirichlet(np.ones(4), size=3)[groups]
    h = rng.normal(size=(3, 5))[groups]
    for dtype in (np.float64, np.float32):
        for seed in range(5):
            indices = badge_kmeans_plusplus(
                proba, h.astype(dtype), 10, random_state=seed
            )
            assert len(set(indices.tolist())) == 10
            # Copies of a chosen item have probability zero until every group is hit.
            assert sorted(groups[indices[:3]].tolist()) == [0, 1, 2]
            if dtype is np.float64:
                np.testing.assert_array_equal(indices, direct_badge(proba, h, 10, seed))


def test_whole_pool(fitted_pipeline, toy_pool):
    indices, scores = BADGE(embedding="tfidfvectorizer")(
        fitted_pipeline, toy_pool, len(toy_pool), random_state=0
    )
    assert sorted(indices.tolist()) == list(range(len(toy_pool)))
    assert np.isfinite(scores).all()


def test_does_not_materialise_the_gradient_embeddings():
    rng = np.random.RandomState(0)
    n_samples, n_classes, dim = 4000, 50, 64
    proba = rng.dirichlet(np.ones(n_classes), size=n_samples)
    h = rng.normal(size=(n_samples, dim))
    tracemalloc.start()
    try:
        badge_kmeans_plusplus(proba, h, 20, random_state=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    materialised = n_samples * n_classes * dim * 8  # 102 MB
    assert peak < materialised / 20


# Errors ----------------------------------------------------------------------


def test_no_embedding_source_is_a_clear_type_error(fitted_pipeline, toy_pool):
    with pytest.raises(TypeError, match="embedding="):
        BADGE()(fitted_pipeline, toy_pool, 2)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"embedding": 3}, "'embedding' parameter"),
        ({"embedding_kind": 1}, "embedding_kind"),
    ],
)
def test_invalid_params(fitted_pipeline, toy_pool, params, match):
    with pytest.raises(TypeError, match=match):
        BADGE(**params)(fitted_pipeline, toy_pool, 2)


def test_unfitted_classifier(toy_pool):
    clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.raises(NotFittedError):
        BADGE(embedding="tfidfvectorizer")(clf, toy_pool, 2)


def test_pool_exhausted(fitted_pipeline, toy_pool):
    with pytest.raises(PoolExhaustedError):
        BADGE(embedding="tfidfvectorizer")(fitted_pipeline, toy_pool, len(toy_pool) + 1)
    with pytest.raises(PoolExhaustedError):
        badge_kmeans_plusplus(np.full((3, 2), 0.5), np.ones((3, 2)), 4)


def test_mismatched_rows():
    with pytest.raises(ValueError, match="one row per input"):
        badge_kmeans_plusplus(np.full((3, 2), 0.5), np.ones((4, 2)), 2)


# Contract --------------------------------------------------------------------


@pytest.mark.parametrize("n_instances", [1, 5, 12])
def test_contract(svd_classifier, toy_pool, n_instances):
    strategy = BADGE()
    indices, scores = strategy(svd_classifier, toy_pool, n_instances, random_state=0)
    assert indices.shape == scores.shape == (n_instances,)
    assert indices.dtype == np.int64 and scores.dtype == np.float64
    assert len(set(indices.tolist())) == n_instances
    assert strategy.last_scores_.shape == (len(toy_pool),)
    again, _ = strategy(svd_classifier, toy_pool, n_instances, random_state=0)
    np.testing.assert_array_equal(indices, again)


def test_seeds_change_the_batch_and_the_own_random_state_is_used():
    proba, h = random_problem(0, 5, 16, n_samples=200)
    batches = {
        tuple(badge_kmeans_plusplus(proba, h, 10, random_state=s)) for s in range(5)
    }
    assert len(batches) > 1
    texts = [f"text {i}" for i in range(200)]
    strategy = BADGE(embedding=lambda X: h, random_state=4)

    class Fixed(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.arange(5)
            return self

        def predict_proba(self, X):
            return proba

    clf = Fixed().fit(texts, None)
    indices, _ = strategy(clf, texts, 10)
    np.testing.assert_array_equal(
        indices, badge_kmeans_plusplus(proba, h, 10, random_state=4)
    )


def test_query_time_is_split(svd_classifier, toy_pool):
    strategy = BADGE()
    strategy(svd_classifier, toy_pool, 3)
    times = strategy.last_query_time_
    assert times["inference"] > 0 and times["selection"] > 0
    assert times["total"] == pytest.approx(times["inference"] + times["selection"])


def test_params_and_clone():
    strategy = BADGE(embedding="tfidfvectorizer", random_state=3)
    assert strategy.get_params() == {
        "embedding": "tfidfvectorizer",
        "embedding_kind": "penultimate",
        "random_state": 3,
    }
    assert clone(strategy).get_params() == strategy.get_params()


# With the library's transformer classifier and active learner -----------------


def test_badge_through_an_active_learner_with_a_transformer(tmp_path):
    pytest.importorskip("allsh_sklearn.models")
    from _tiny_models import tiny_transformer_learner

    strategy = BADGE()
    learner, pool = tiny_transformer_learner(
        tmp_path / "bert", strategy, labeled=[0, 1, 10, 11]
    )
    indices, _ = learner.query(pool, n_instances=5, random_state=3)
    proba, hidden = learner.estimator_.predict_proba_and_embed(pool, kind="penultimate")
    assert hidden.dtype == np.float32
    np.testing.assert_array_equal(indices, direct_badge(proba, hidden, 5, 3))
    assert learner.query_history_[-1]["time"]["selection"] > 0
