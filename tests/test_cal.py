"""Tests of CAL and of the embedding sources shared with BADGE."""

import warnings

import numpy as np
import pytest
from _toy_models import SvdClassifier
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.exceptions import PoolExhaustedError
from allsh_sklearn.strategies._cal import CAL, cal_scores
from allsh_sklearn.strategies._embeddings import get_proba_and_embeddings


class Learner:
    """The part of an active learner CAL relies on: a model and its labeled set."""

    def __init__(self, estimator, X, y):
        self.estimator_ = estimator.fit(X, y)
        self.X_training_ = list(X)
        self.y_training_ = np.asarray(y)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


def direct_cal_scores(proba_pool, emb_pool, proba_labeled, emb_labeled, k):
    """CAL written as in the reference: a loop over candidates and neighbours."""
    emb_pool = np.asarray(emb_pool, dtype=float)
    emb_labeled = np.asarray(emb_labeled, dtype=float)
    scores = np.zeros(len(emb_pool))
    unit_labeled = [v / np.linalg.norm(v) for v in emb_labeled]
    for i, candidate in enumerate(emb_pool):
        candidate = candidate / np.linalg.norm(candidate)
        distances = [np.linalg.norm(candidate - v) for v in unit_labeled]
        neighbours = np.argsort(distances, kind="stable")[:k]
        divergences = []
        for j in neighbours:
            p, q = proba_labeled[j], proba_pool[i]
            divergences.append(sum(p[c] * np.log(p[c] / q[c]) for c in range(len(p))))
        scores[i] = np.mean(divergences)
    return scores


def random_problem(seed, n_classes, dim, n_pool=40, n_labeled=25):
    rng = np.random.RandomState(seed)
    return (
        rng.dirichlet(np.ones(n_classes), size=n_pool),
        rng.normal(size=(n_pool, dim)),
        rng.dirichlet(np.ones(n_classes), size=n_labeled),
        rng.normal(size=(n_labeled, dim)),
    )


# Reference equivalence -------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("dim", [3, 16])
@pytest.mark.parametrize("k", [1, 10])
def test_cal_scores_equal_double_loop(seed, n_classes, dim, k):
    proba_pool, emb_pool, proba_labeled, emb_labeled = random_problem(
        seed, n_classes, dim
    )
    expected = direct_cal_scores(proba_pool, emb_pool, proba_labeled, emb_labeled, k)
    scores = cal_scores(proba_pool, emb_pool, proba_labeled, emb_labeled, n_neighbors=k)
    np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)


def test_cal_strategy_equals_double_loop_on_model_outputs(
    svd_classifier, toy_texts, toy_pool
):
    X_labeled, _ = toy_texts
    strategy = CAL(n_neighbors=5)
    indices, scores = strategy(
        svd_classifier, toy_pool, n_instances=4, random_state=0, X_labeled=X_labeled
    )
    proba_labeled, emb_labeled = svd_classifier.predict_proba_and_embed(X_labeled)
    proba_pool, emb_pool = svd_classifier.predict_proba_and_embed(toy_pool)
    expected = direct_cal_scores(proba_pool, emb_pool, proba_labeled, emb_labeled, 5)
    np.testing.assert_allclose(strategy.last_scores_, expected, rtol=1e-9, atol=1e-12)
    assert set(indices.tolist()) == set(np.argsort(-expected)[:4].tolist())
    np.testing.assert_allclose(scores, expected[indices], rtol=1e-9, atol=1e-12)


def test_cal_uses_the_pooler_embedding_by_default(svd_classifier, toy_texts, toy_pool):
    X_labeled, _ = toy_texts
    proba_l, _ = svd_classifier.predict_proba_and_embed(X_labeled)
    proba_p, _ = svd_classifier.predict_proba_and_embed(toy_pool)
    hidden_l = svd_classifier._hidden(X_labeled)
    hidden_p = svd_classifier._hidden(toy_pool)
    for kind, transform in [("pooler", np.tanh), ("penultimate", lambda h: h)]:
        strategy = CAL(n_neighbors=3, embedding_kind=kind)
        strategy(svd_classifier, toy_pool, 2, X_labeled=X_labeled)
        expected = direct_cal_scores(
            proba_p, transform(hidden_p), proba_l, transform(hidden_l), 3
        )
        np.testing.assert_allclose(
            strategy.last_scores_, expected, rtol=1e-9, atol=1e-12
        )


# Small labeled sets (results/benchmarks/cal_collapse.md) ----------------------


def kl_rows(p, q):
    return (p * np.log(p / q)).sum(axis=-1)


@pytest.mark.parametrize("k", [10, 25])
def test_k_covering_the_labeled_set_makes_the_score_ignore_the_embedding(k):
    # 10 labeled examples and k >= 10 (the first query of a 10-label start):
    # every candidate's neighbours are the whole labeled set, so the score is
    # the mean KL from every labeled prediction, whatever the embedding.
    proba_pool, emb_pool, proba_labeled, emb_labeled = random_problem(
        0, 4, 8, n_labeled=10
    )
    rng = np.random.RandomState(1)
    expected = kl_rows(proba_labeled[None, :, :], proba_pool[:, None, :]).mean(axis=1)
    for pool, labeled in [
        (emb_pool, emb_labeled),
        (rng.normal(size=emb_pool.shape), rng.normal(size=emb_labeled.shape)),
    ]:
        scores = cal_scores(proba_pool, pool, proba_labeled, labeled, n_neighbors=k)
        np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)


def degrees(*angles):
    radians = np.deg2rad(angles)
    return np.column_stack([np.cos(radians), np.sin(radians)])


def test_a_class_with_fewer_labels_than_k_ranks_its_confident_items_first():
    # Class A has 6 labeled examples (around 0 degrees), class B 2 (around
    # 90 degrees); the fitted model predicts them at 0.99. With k = 4 every
    # neighbourhood of an item in B's region holds 2 A examples, so a
    # confidently predicted B item outranks the uncertain item on the
    # boundary: CAL picks the easiest items of the least-labeled class. With
    # k = 2 (no more than B's labels) the boundary item ranks first, as the
    # method intends.
    emb_labeled = degrees(-10, -6, -2, 2, 6, 10, 86, 94)
    proba_labeled = np.array([[0.99, 0.01]] * 6 + [[0.01, 0.99]] * 2)
    emb_pool = degrees(90, 88, 45, 0)
    proba_pool = np.array([[0.001, 0.999], [0.1, 0.9], [0.5, 0.5], [0.999, 0.001]])
    args = (proba_pool, emb_pool, proba_labeled, emb_labeled)
    confident_b, boundary = 0, 2

    scores = cal_scores(*args, n_neighbors=4)
    assert np.argmax(scores) == confident_b
    assert scores[confident_b] > 4 * scores[boundary]
    # Half of its neighbours are A examples: half of KL(A || candidate).
    np.testing.assert_allclose(
        scores[confident_b],
        np.mean(kl_rows(proba_labeled[[4, 5, 6, 7]], proba_pool[confident_b])),
        rtol=1e-9,
    )
    assert np.argmax(cal_scores(*args, n_neighbors=2)) == boundary


def test_pool_items_are_never_neighbours(fitted_pipeline, toy_texts, toy_pool):
    # Each score depends on the item and the labeled set only.
    X_labeled, _ = toy_texts
    strategy = CAL(n_neighbors=3, embedding="tfidfvectorizer")
    strategy(fitted_pipeline, toy_pool, 1, X_labeled=X_labeled)
    whole = strategy.last_scores_.copy()
    strategy(fitted_pipeline, toy_pool[:5], 1, X_labeled=X_labeled)
    np.testing.assert_allclose(strategy.last_scores_, whole[:5])


# Embedding sources -----------------------------------------------------------


def random_corpus(seed, n_texts, n_words=8, vocabulary=60):
    """Texts of random words: TF-IDF vectors without exactly tied distances."""
    rng = np.random.RandomState(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    return [" ".join(rng.choice(words, size=n_words)) for _ in range(n_texts)]


def test_pipeline_step_and_callable_equal_double_loop():
    # TF-IDF is sparse through the step name and dense through the callable.
    X_labeled = random_corpus(0, 30)
    y = np.arange(30) % 3
    pool = random_corpus(1, 40)
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X_labeled, y)
    vectorizer = pipeline.named_steps["tfidfvectorizer"]
    by_step = CAL(n_neighbors=4, embedding="tfidfvectorizer")
    by_callable = CAL(
        n_neighbors=4, embedding=lambda X: vectorizer.transform(X).toarray()
    )
    indices_step, _ = by_step(pipeline, pool, 5, random_state=0, X_labeled=X_labeled)
    indices_call, _ = by_callable(
        pipeline, pool, 5, random_state=0, X_labeled=X_labeled
    )
    expected = direct_cal_scores(
        pipeline.predict_proba(pool),
        vectorizer.transform(pool).toarray(),
        pipeline.predict_proba(X_labeled),
        vectorizer.transform(X_labeled).toarray(),
        4,
    )
    np.testing.assert_allclose(by_step.last_scores_, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        by_callable.last_scores_, expected, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_array_equal(indices_step, indices_call)
    np.testing.assert_array_equal(indices_step, np.argsort(-expected)[:5])


def test_predict_proba_and_embed_is_one_pass(svd_classifier, toy_texts, toy_pool):
    proba, embeddings = get_proba_and_embeddings(
        svd_classifier, toy_pool, kind="pooler"
    )
    assert svd_classifier.n_forward_ == 1
    assert proba.shape == (len(toy_pool), 2)
    assert embeddings.shape == (len(toy_pool), 6)
    np.testing.assert_allclose(embeddings, np.tanh(svd_classifier._hidden(toy_pool)))


class EmbedOnly(ClassifierMixin, BaseEstimator):
    """A classifier with ``embed`` (no keyword) and ``predict_proba``."""

    def fit(self, X, y):
        self.pipeline_ = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
            X, y
        )
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X):
        return self.pipeline_.predict_proba(X)

    def embed(self, X):
        return self.pipeline_[0].transform(X)


def test_embed_method_without_kind(toy_texts, toy_pool):
    X, y = toy_texts
    clf = EmbedOnly().fit(X, y)
    proba, embeddings = get_proba_and_embeddings(clf, toy_pool, kind="pooler")
    assert embeddings.shape[0] == len(toy_pool)
    np.testing.assert_allclose(proba, clf.predict_proba(toy_pool))


def test_embeddings_of_a_wrapped_pipeline(fitted_pipeline, toy_texts, toy_pool):
    X, y = toy_texts
    learner = Learner(make_pipeline(TfidfVectorizer(), LogisticRegression()), X, y)
    proba, embeddings = get_proba_and_embeddings(learner, toy_pool, "tfidfvectorizer")
    np.testing.assert_allclose(proba, fitted_pipeline.predict_proba(toy_pool))
    assert embeddings.shape == (len(toy_pool), len(fitted_pipeline[0].vocabulary_))


def test_no_embedding_source_is_a_clear_type_error(
    fitted_pipeline, toy_texts, toy_pool
):
    X_labeled, _ = toy_texts
    with pytest.raises(TypeError, match="embedding="):
        CAL()(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)


@pytest.mark.parametrize(
    "step, match",
    [("svd", "must name a step"), ("logisticregression", "final step")],
)
def test_bad_pipeline_step(fitted_pipeline, toy_texts, toy_pool, step, match):
    with pytest.raises(ValueError, match=match):
        CAL(embedding=step)(fitted_pipeline, toy_pool, 2, X_labeled=toy_texts[0])


def test_step_name_needs_a_pipeline(svd_classifier, toy_texts, toy_pool):
    with pytest.raises(TypeError, match="not a scikit-learn Pipeline"):
        CAL(embedding="tfidf")(svd_classifier, toy_pool, 2, X_labeled=toy_texts[0])


@pytest.mark.parametrize(
    "embedding, match",
    [
        (lambda X: np.ones((len(X) + 1, 3)), "one row per input"),
        (lambda X: np.full((len(X), 3), np.nan), "finite"),
        (lambda X: np.ones(len(X)), "2-d"),
    ],
)
def test_bad_embeddings(fitted_pipeline, toy_texts, toy_pool, embedding, match):
    with pytest.raises(ValueError, match=match):
        CAL(embedding=embedding)(fitted_pipeline, toy_pool, 2, X_labeled=toy_texts[0])


def test_predict_proba_and_embed_must_return_a_pair(toy_texts, toy_pool):
    class Broken(SvdClassifier):
        def predict_proba_and_embed(self, X, kind="pooler"):
            return self.predict_proba(X)

    clf = Broken().fit(*toy_texts)
    with pytest.raises(TypeError, match="pair"):
        get_proba_and_embeddings(clf, toy_pool)


# Labeled examples ------------------------------------------------------------


def test_labeled_examples_from_an_active_learner(toy_texts, toy_pool):
    X, y = toy_texts
    learner = Learner(make_pipeline(TfidfVectorizer(), LogisticRegression()), X, y)
    strategy = CAL(n_neighbors=3, embedding="tfidfvectorizer")
    indices, _ = strategy(learner, toy_pool, 3, random_state=0)
    explicit = CAL(n_neighbors=3, embedding="tfidfvectorizer")
    indices_explicit, _ = explicit(
        learner.estimator_, toy_pool, 3, random_state=0, X_labeled=X
    )
    np.testing.assert_array_equal(indices, indices_explicit)
    np.testing.assert_allclose(strategy.last_scores_, explicit.last_scores_)


def test_labeled_examples_from_a_modal_learner(modal_learner, toy_pool):
    strategy = CAL(n_neighbors=3, embedding="tfidfvectorizer")
    indices, scores = strategy(modal_learner, toy_pool, 3, random_state=0)
    assert len(set(indices.tolist())) == 3
    assert np.isfinite(scores).all()


def test_missing_labeled_examples(fitted_pipeline, toy_pool):
    with pytest.raises(ValueError, match="X_labeled="):
        CAL(embedding="tfidfvectorizer")(fitted_pipeline, toy_pool, 2)


def test_invalid_labeled_examples(fitted_pipeline, toy_pool):
    with pytest.raises(ValueError, match="X_labeled"):
        CAL(embedding="tfidfvectorizer")(fitted_pipeline, toy_pool, 2, X_labeled=[])


# Bad input -------------------------------------------------------------------


def test_fewer_labeled_than_neighbours_uses_all_and_warns_once(
    fitted_pipeline, toy_texts, toy_pool
):
    X_labeled = toy_texts[0][:3]
    strategy = CAL(n_neighbors=10, embedding="tfidfvectorizer")
    with pytest.warns(UserWarning, match="only 3 labeled examples"):
        strategy(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        strategy(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)
    all_three = CAL(n_neighbors=3, embedding="tfidfvectorizer")
    all_three(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)
    np.testing.assert_allclose(strategy.last_scores_, all_three.last_scores_)
    with pytest.warns(UserWarning):  # once per strategy instance, not per process
        clone(strategy)(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)


def test_zero_norm_embeddings_give_finite_scores(fitted_pipeline, toy_texts, toy_pool):
    # "the cast" and "an average film" share no word with the vocabulary but
    # "the"/"film"; an unknown-words text has an all-zero TF-IDF vector.
    pool = toy_pool + ["zzz qqq", "xyzzy"]
    labeled = toy_texts[0] + ["unknownword"]
    strategy = CAL(n_neighbors=4, embedding="tfidfvectorizer")
    indices, scores = strategy(
        fitted_pipeline, pool, 5, random_state=0, X_labeled=labeled
    )
    assert np.isfinite(strategy.last_scores_).all()
    assert len(set(indices.tolist())) == 5

    rng = np.random.RandomState(0)
    emb_pool = rng.normal(size=(10, 4))
    emb_pool[[2, 7]] = 0.0
    emb_labeled = rng.normal(size=(6, 4))
    emb_labeled[0] = 0.0
    scores = cal_scores(
        rng.dirichlet(np.ones(3), 10),
        emb_pool,
        rng.dirichlet(np.ones(3), 6),
        emb_labeled,
        3,
    )
    assert np.isfinite(scores).all() and (scores >= 0).all()


def test_zero_probabilities_give_finite_scores():
    rng = np.random.RandomState(0)
    proba_pool = np.eye(3)[rng.randint(3, size=20)]
    proba_labeled = np.eye(3)[rng.randint(3, size=8)]
    scores = cal_scores(
        proba_pool, rng.normal(size=(20, 5)), proba_labeled, rng.normal(size=(8, 5)), 3
    )
    assert np.isfinite(scores).all() and (scores >= 0).all()


def test_dimension_mismatch_names_both_dimensions(fitted_pipeline, toy_texts, toy_pool):
    X_labeled = toy_texts[0]

    def embedding(X):  # a different dimension for the labeled set than the pool
        return np.ones((len(X), 4 if len(X) == len(X_labeled) else 7))

    with pytest.raises(ValueError, match="Got 4 for X_labeled and 7 for X_pool"):
        CAL(embedding=embedding)(fitted_pipeline, toy_pool, 2, X_labeled=X_labeled)
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="Got 5 for the labeled examples and 3 for"):
        cal_scores(
            rng.dirichlet([1, 1], 4),
            rng.normal(size=(4, 3)),
            rng.dirichlet([1, 1], 6),
            rng.normal(size=(6, 5)),
        )


def test_class_count_mismatch():
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="number of classes"):
        cal_scores(
            rng.dirichlet([1, 1], 4),
            rng.normal(size=(4, 3)),
            rng.dirichlet([1, 1, 1], 6),
            rng.normal(size=(6, 3)),
        )


@pytest.mark.parametrize("n_neighbors", [0, -1, 2.5, True, "10"])
def test_invalid_n_neighbors(fitted_pipeline, toy_texts, toy_pool, n_neighbors):
    with pytest.raises(ValueError, match="'n_neighbors' parameter of CAL"):
        CAL(n_neighbors=n_neighbors, embedding="tfidfvectorizer")(
            fitted_pipeline, toy_pool, 2, X_labeled=toy_texts[0]
        )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"embedding": 3}, "'embedding' parameter"),
        ({"embedding_kind": 1}, "embedding_kind"),
    ],
)
def test_invalid_embedding_params(fitted_pipeline, toy_texts, toy_pool, params, match):
    with pytest.raises(TypeError, match=match):
        CAL(**params)(fitted_pipeline, toy_pool, 2, X_labeled=toy_texts[0])


def test_unfitted_classifier(toy_texts, toy_pool):
    clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.raises(NotFittedError):
        CAL(embedding="tfidfvectorizer")(clf, toy_pool, 2, X_labeled=toy_texts[0])


def test_pool_exhausted(fitted_pipeline, toy_texts, toy_pool):
    with pytest.raises(PoolExhaustedError):
        CAL(embedding="tfidfvectorizer")(
            fitted_pipeline, toy_pool, len(toy_pool) + 1, X_labeled=toy_texts[0]
        )


# Contract --------------------------------------------------------------------


@pytest.mark.parametrize("n_instances", [1, 5, 12])
def test_contract(svd_classifier, toy_texts, toy_pool, n_instances):
    strategy = CAL(n_neighbors=4)
    indices, scores = strategy(
        svd_classifier, toy_pool, n_instances, random_state=0, X_labeled=toy_texts[0]
    )
    assert indices.shape == scores.shape == (n_instances,)
    assert indices.dtype == np.int64 and scores.dtype == np.float64
    assert len(set(indices.tolist())) == n_instances
    assert strategy.last_scores_.shape == (len(toy_pool),)
    assert np.all(np.diff(scores) <= 0)
    again, _ = strategy(
        svd_classifier, toy_pool, n_instances, random_state=0, X_labeled=toy_texts[0]
    )
    np.testing.assert_array_equal(indices, again)


def test_query_time_is_split(svd_classifier, toy_texts, toy_pool):
    strategy = CAL(n_neighbors=4)
    strategy(svd_classifier, toy_pool, 2, X_labeled=toy_texts[0])
    times = strategy.last_query_time_
    assert times["inference"] > 0 and times["selection"] > 0
    assert times["total"] == pytest.approx(times["inference"] + times["selection"])
    # One pass on the labeled set, one on the pool.
    assert svd_classifier.n_forward_ == 2


def test_params_and_clone():
    strategy = CAL(n_neighbors=5, embedding="tfidfvectorizer", random_state=3)
    assert strategy.get_params() == {
        "n_neighbors": 5,
        "embedding": "tfidfvectorizer",
        "embedding_kind": "pooler",
        "random_state": 3,
    }
    assert clone(strategy).get_params() == strategy.get_params()
    assert strategy.set_params(n_neighbors=7).n_neighbors == 7


# With the library's transformer classifier and active learner -----------------


def test_cal_through_an_active_learner_with_a_transformer(tmp_path):
    pytest.importorskip("allsh_sklearn.models")
    from _tiny_models import tiny_transformer_learner

    strategy = CAL(n_neighbors=3)
    learner, pool = tiny_transformer_learner(
        tmp_path / "bert", strategy, labeled=list(range(0, 6)) + list(range(10, 16))
    )
    indices, _ = learner.query(pool, n_instances=3)
    proba_l, emb_l = learner.estimator_.predict_proba_and_embed(
        learner.X_training_, kind="pooler"
    )
    proba_p, emb_p = learner.estimator_.predict_proba_and_embed(pool, kind="pooler")
    expected = direct_cal_scores(proba_p, emb_p, proba_l, emb_l, 3)
    # The learner works on its own copy of the strategy.
    assert learner.query_strategy_ is not strategy
    np.testing.assert_allclose(
        learner.query_strategy_.last_scores_, expected, rtol=1e-5, atol=1e-9
    )
    assert set(indices.tolist()) == set(np.argsort(-expected)[:3].tolist())
    assert learner.query_history_[-1]["time"]["inference"] > 0
