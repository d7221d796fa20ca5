"""Reference tests of ALLSH's score combinations and batch selections."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import check_random_state

from allsh_sklearn.divergences import jsd, kl
from allsh_sklearn.strategies import allsh_scores, badge_kmeans_plusplus
from allsh_sklearn.strategies._allsh_batches import (
    KMeansBatch,
    StochasticBatch,
    batch_selector,
    copy_gradient_factors,
    copy_gradient_kmeans_plusplus,
    quantile_weights,
    scaled_badge_kmeans_plusplus,
    score_weighted_kmeans_plusplus,
    stochastic_top,
    stochastic_weights,
)
from allsh_sklearn.strategies._allsh_scores import (
    COMBINATIONS,
    combine_scores,
    divergence_to_mean,
    mutual_information,
    normalised_entropy,
    per_change_scores,
    prediction_variance,
    sensitivity_scores,
)
from allsh_sklearn.utils import (
    changed_share,
)


def _reference_kmeans_plusplus(vectors, n_instances, random_state):
    """k-means++ seeding on materialised vectors, BADGE's protocol.

    First centre: the largest norm; then one ``random_sample()`` per centre,
    drawn in proportion to the squared distance to the nearest centre.
    """
    rng = check_random_state(random_state)
    vectors = np.asarray(vectors, dtype=np.float64)
    chosen = [int(np.argmax(np.einsum("ij,ij->i", vectors, vectors)))]
    nearest = np.full(vectors.shape[0], np.inf)
    while len(chosen) < n_instances:
        d2 = ((vectors - vectors[chosen[-1]]) ** 2).sum(axis=1)
        nearest = np.minimum(nearest, d2)
        nearest[chosen] = 0.0
        cdf = np.cumsum(nearest)
        chosen.append(
            int(np.searchsorted(cdf, rng.random_sample() * cdf[-1], side="right"))
        )
    return np.asarray(chosen)


def _onehot_minus(proba, target):
    proba = np.asarray(proba, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    onehot = np.eye(proba.shape[1])[proba.argmax(axis=1)]
    return onehot - target


# Scores --------------------------------------------------------------------


def test_normalised_entropy_hand_checked():
    entropy = normalised_entropy([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    expected = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1)) / np.log(2)
    np.testing.assert_allclose(entropy, [1.0, 0.0, expected])
    three = normalised_entropy([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(three, [1.0, np.log(2) / np.log(3)])


def test_combine_scores_hand_checked():
    proba = [[0.5, 0.5], [0.9, 0.1], [0.99, 0.01], [1.0, 0.0]]
    divergence = np.array([0.01, 0.2, 0.05, 0.0])
    entropy = normalised_entropy(proba)
    np.testing.assert_array_equal(
        combine_scores(divergence, proba, "divergence"), divergence
    )
    np.testing.assert_allclose(
        combine_scores(divergence, proba, "product"), divergence * entropy
    )
    # ranks of the divergence: 2, 4, 3, 1; of the entropy: 4, 3, 2, 1.
    np.testing.assert_allclose(
        combine_scores(divergence, proba, "rank_mean"),
        np.array([6, 7, 5, 2]) / 8.0,
    )
    ratio = combine_scores(divergence, proba, "entropy_ratio")
    np.testing.assert_allclose(ratio[:3], divergence[:3] / entropy[:3])
    assert ratio[3] == 0.0  # 0 / 0 is 0, not NaN


def test_rank_mean_ties_take_average_ranks():
    proba = [[0.5, 0.5], [0.5, 0.5], [0.9, 0.1]]
    scores = combine_scores([0.1, 0.1, 0.1], proba, "rank_mean")
    # divergence ranks 2, 2, 2; entropy ranks 2.5, 2.5, 1.
    np.testing.assert_allclose(scores, np.array([4.5, 4.5, 3.0]) / 6.0)


def test_entropy_ratio_is_finite_for_a_moving_confident_prediction():
    scores = combine_scores([0.3, 0.1], [[1.0, 0.0], [0.6, 0.4]], "entropy_ratio")
    assert np.isfinite(scores).all()
    assert scores[0] > scores[1]


def test_combine_scores_does_not_modify_its_input():
    divergence = np.array([0.2, 0.1])
    combine_scores(divergence, [[0.5, 0.5], [0.7, 0.3]], "divergence")[0] = 9.0
    assert divergence[0] == 0.2


@pytest.mark.parametrize(
    ("divergence", "message"),
    [
        ([0.1, np.nan], "finite non-negative"),
        ([0.1, -0.2], "finite non-negative"),
        ([0.1], "one value per pool item"),
        ([[0.1, 0.2]], "one-dimensional"),
    ],
)
def test_combine_scores_rejects_bad_divergences(divergence, message):
    with pytest.raises(ValueError, match=message):
        combine_scores(divergence, [[0.5, 0.5], [0.7, 0.3]], "product")


def test_combine_scores_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="'method'.*rank_mean.*'sum'"):
        combine_scores([0.1], [[0.5, 0.5]], "sum")
    assert set(COMBINATIONS) == {"divergence", "product", "rank_mean", "entropy_ratio"}


def test_quantile_weights():
    np.testing.assert_allclose(quantile_weights([5.0, 1.0, 3.0]), [1.0, 1 / 3, 2 / 3])
    with pytest.raises(ValueError, match="'scores'"):
        quantile_weights([0.1, np.nan])


# Batches ---------------------------------------------------------------------


def test_score_weighted_first_centre_and_duplicates():
    embeddings = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 2.0]]
    scores = [1.0, 1.0, 0.4, 0.1]
    for seed in range(20):
        batch = score_weighted_kmeans_plusplus(scores, embeddings, 2, random_state=seed)
        # Items 0 and 1 coincide: once one is a centre the other has
        # probability 0; the first centre is the largest s * ||h|| (first on ties).
        assert batch[0] == 0
        assert batch[1] in (2, 3)


def test_score_weighted_matches_a_materialised_reference():
    rng = np.random.RandomState(0)
    scores = rng.gamma(0.5, size=60)
    embeddings = rng.normal(size=(60, 5))
    for seed in range(5):
        np.testing.assert_array_equal(
            score_weighted_kmeans_plusplus(scores, embeddings, 8, random_state=seed),
            _reference_kmeans_plusplus(scores[:, None] * embeddings, 8, seed),
        )


def test_score_weighted_zero_scores_fall_back_to_distinct_uniform_draws():
    batch = score_weighted_kmeans_plusplus(np.zeros(6), np.eye(6), 4, random_state=0)
    assert len(set(batch.tolist())) == 4


def test_copy_gradient_factors_hand_checked():
    proba = [[0.9, 0.1], [0.2, 0.8]]
    copies = [[[0.6, 0.4], [0.3, 0.7]], [[0.1, 0.9], [0.2, 0.8]]]
    # Item 0 predicted class 0: q = (1 - p'_0, -p'_1); item 1 class 1.
    np.testing.assert_allclose(
        copy_gradient_factors(proba, copies),
        [[(0.4 + 0.9) / 2, -(0.4 + 0.9) / 2], [-(0.3 + 0.2) / 2, (0.3 + 0.2) / 2]],
    )
    np.testing.assert_allclose(
        copy_gradient_factors(proba, copies, worst_case=True),
        [[0.9, -0.9], [-0.3, 0.3]],
    )


def test_copy_gradient_factors_reject_mismatched_copies():
    with pytest.raises(
        ValueError, match="'augmented_proba'.*shape \\(n_copies, 2, 2\\)"
    ):
        copy_gradient_factors([[0.9, 0.1], [0.5, 0.5]], [[0.9, 0.1], [0.5, 0.5]])


def test_copy_gradient_is_class_aware():
    # Same text embedding, opposite predicted classes, equally uncertain copies:
    # the gradients point in opposite directions, so k-means++ keeps both
    # rather than a third item in the same class.
    proba = [[0.8, 0.2], [0.2, 0.8], [0.8, 0.2]]
    copies = [[[0.4, 0.6], [0.6, 0.4], [0.45, 0.55]]]
    embeddings = [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    q = copy_gradient_factors(proba, copies)
    assert q[0] @ q[1] < 0
    for seed in range(10):
        batch = copy_gradient_kmeans_plusplus(
            proba, copies, embeddings, 2, random_state=seed
        )
        assert batch[0] == 0  # largest ||q|| ||h|| (tie with item 1: first)
    # From item 0 (q = (0.6, -0.6)), item 1 (q = (-0.6, 0.6)) is at squared
    # distance 2 * 1.2^2 and item 2 (q = (0.55, -0.55)) at 2 * 0.05^2.
    d_far = 2 * (0.6 + 0.6) ** 2
    d_near = 2 * (0.6 - 0.55) ** 2
    picks = [
        copy_gradient_kmeans_plusplus(proba, copies, embeddings, 2, random_state=s)[1]
        for s in range(200)
    ]
    assert np.mean(np.asarray(picks) == 1) > d_far / (d_far + d_near) - 0.05


def test_copy_gradient_matches_a_materialised_reference():
    rng = np.random.RandomState(1)
    proba = rng.dirichlet(np.ones(3), size=40)
    copies = rng.dirichlet(np.ones(3), size=(2, 40))
    embeddings = rng.normal(size=(40, 4))
    for worst_case in (False, True):
        q = copy_gradient_factors(proba, copies, worst_case=worst_case)
        vectors = (q[:, :, None] * embeddings[:, None, :]).reshape(40, -1)
        for seed in range(3):
            np.testing.assert_array_equal(
                copy_gradient_kmeans_plusplus(
                    proba,
                    copies,
                    embeddings,
                    6,
                    worst_case=worst_case,
                    random_state=seed,
                ),
                _reference_kmeans_plusplus(vectors, 6, seed),
            )


def test_copy_gradient_without_change_is_badge():
    # When the copy predicts what the original does, the copy gradient is
    # BADGE's gradient embedding.
    rng = np.random.RandomState(2)
    proba = rng.dirichlet(np.ones(4), size=30)
    embeddings = rng.normal(size=(30, 6))
    np.testing.assert_array_equal(
        copy_gradient_kmeans_plusplus(
            proba, proba[None], embeddings, 7, random_state=3
        ),
        badge_kmeans_plusplus(proba, embeddings, 7, random_state=3),
    )


def test_scaled_badge_with_unit_weights_is_badge():
    rng = np.random.RandomState(3)
    proba = rng.dirichlet(np.ones(2), size=50)
    embeddings = rng.normal(size=(50, 5)).astype(np.float32)
    for seed in range(3):
        np.testing.assert_array_equal(
            scaled_badge_kmeans_plusplus(
                proba, embeddings, np.ones(50), 9, random_state=seed
            ),
            badge_kmeans_plusplus(proba, embeddings, 9, random_state=seed),
        )


def test_scaled_badge_matches_a_materialised_reference():
    rng = np.random.RandomState(4)
    proba = rng.dirichlet(np.ones(3), size=40)
    embeddings = rng.normal(size=(40, 4))
    weights = quantile_weights(rng.gamma(0.3, size=40))
    vectors = _onehot_minus(proba, proba) * weights[:, None]
    vectors = (vectors[:, :, None] * embeddings[:, None, :]).reshape(40, -1)
    np.testing.assert_array_equal(
        scaled_badge_kmeans_plusplus(proba, embeddings, weights, 6, random_state=0),
        _reference_kmeans_plusplus(vectors, 6, 0),
    )


def test_scaled_badge_weight_decides_the_first_centre():
    proba = [[0.5, 0.5], [0.6, 0.4]]
    embeddings = [[1.0, 0.0], [0.0, 1.0]]
    assert scaled_badge_kmeans_plusplus(proba, embeddings, [1.0, 1.0], 1)[0] == 0
    assert scaled_badge_kmeans_plusplus(proba, embeddings, [0.1, 1.0], 1)[0] == 1


@pytest.mark.parametrize("variant", ["weighted", "copy", "scaled"])
def test_sparse_embeddings_give_the_dense_result(variant):
    rng = np.random.RandomState(5)
    proba = rng.dirichlet(np.ones(2), size=30)
    copies = rng.dirichlet(np.ones(2), size=(1, 30))
    dense = rng.binomial(1, 0.3, size=(30, 12)) * rng.rand(30, 12)
    scores = rng.rand(30)

    def run(embeddings):
        if variant == "weighted":
            return score_weighted_kmeans_plusplus(scores, embeddings, 5, random_state=1)
        if variant == "copy":
            return copy_gradient_kmeans_plusplus(
                proba, copies, embeddings, 5, random_state=1
            )
        return scaled_badge_kmeans_plusplus(
            proba, embeddings, scores, 5, random_state=1
        )

    np.testing.assert_array_equal(run(sp.csr_matrix(dense)), run(dense))


@pytest.mark.parametrize("variant", ["weighted", "copy", "scaled"])
def test_determinism_and_distinct_indices(variant):
    rng = np.random.RandomState(6)
    proba = rng.dirichlet(np.ones(4), size=200)
    copies = rng.dirichlet(np.ones(4), size=(3, 200))
    embeddings = rng.normal(size=(200, 8))
    scores = rng.gamma(0.5, size=200)

    def run(seed):
        if variant == "weighted":
            return score_weighted_kmeans_plusplus(
                scores, embeddings, 50, random_state=seed
            )
        if variant == "copy":
            return copy_gradient_kmeans_plusplus(
                proba, copies, embeddings, 50, random_state=seed
            )
        return scaled_badge_kmeans_plusplus(
            proba, embeddings, scores, 50, random_state=seed
        )

    first = run(0)
    assert first.dtype == np.int64 and len(set(first.tolist())) == 50
    np.testing.assert_array_equal(first, run(0))
    assert not np.array_equal(first, run(1))


def test_batch_size_is_checked():
    with pytest.raises(ValueError, match="n_instances"):
        score_weighted_kmeans_plusplus([0.1, 0.2], np.eye(2), 3)
    with pytest.raises(ValueError, match="'weights'.*one value per pool item"):
        scaled_badge_kmeans_plusplus([[0.5, 0.5]], [[1.0]], [1.0, 2.0], 1)


# The divergence per unit of change ------------------------------------------


def test_changed_share_counts_replaced_tokens():
    texts = ["The film was good .", "a bad plot", "same text", ""]
    copies = ["The movie was good .", "a good story", "Same  text", ""]
    # 1 of 5 tokens replaced; 2 of 3; case and spacing are not changes.
    np.testing.assert_allclose(changed_share(texts, copies), [0.2, 2 / 3, 0.0, 0.0])


def test_changed_share_of_pairs_and_of_copies_of_another_length():
    pair = ("is it good", "it is good")
    assert changed_share([pair], [("is it fine", "it is good")])[0] == pytest.approx(
        1 / 6
    )
    # A back-translation-like copy of another length: 1 - 2 M / (n + m), M the
    # matched tokens (here "good" and "film": 2 of 3 + 2 tokens).
    share = changed_share(["good film"], ["a good film"])[0]
    assert share == pytest.approx(1 - 2 * 2 / 5)
    with pytest.raises(ValueError, match="'copies'.*one copy per text \\(2\\).*1"):
        changed_share(["a", "b"], ["a"])


def test_per_change_scores_divide_each_copy_before_combining():
    divergence = [[0.2, 0.3, 0.0], [0.1, 0.0, 0.0]]
    shares = [[0.5, 0.3, 0.0], [0.25, 0.0, 0.2]]
    # Item 0: 0.4 and 0.4; item 1: 1.0 and (no change) 0; item 2: 0 and 0.
    np.testing.assert_allclose(per_change_scores(divergence, shares), [0.4, 0.5, 0.0])
    np.testing.assert_allclose(
        per_change_scores(divergence, shares, worst_case=True), [0.4, 1.0, 0.0]
    )
    with pytest.raises(ValueError, match="'shares'.*shape"):
        per_change_scores(divergence, [[0.5, 0.3, 0.1]])
    with pytest.raises(ValueError, match="'shares'.*\\[0, 1\\]"):
        per_change_scores(divergence, [[1.5, 0.3, 0.1], [0.1, 0.1, 0.1]])


def test_per_change_prefers_a_small_change_that_moves_the_prediction():
    # Same divergence, the first copy changed 1 token in 10, the second 5 in
    # 10: per unit of change the first text is the more sensitive.
    scores = per_change_scores([[0.3, 0.3]], [[0.1, 0.5]])
    assert scores[0] > scores[1]


# ALLSH's options ---------------------------------------------------------------

OPTIONS = [
    {"score": "product"},
    {"score": "rank_mean"},
    {"score": "entropy_ratio"},
    {"score": "per_change"},
    {"score": "per_change", "n_augmentations": 2, "worst_case": True},
    {"batch": "kmeans"},
    {"batch": "copy_gradient"},
    {"batch": "scaled_badge"},
    {"batch": "scaled_badge", "score": "product", "n_augmentations": 2},
    {"batch": "copy_gradient", "n_augmentations": 3, "worst_case": True},
]


def _option_id(options):
    return ",".join(f"{k}={v}" for k, v in options.items())


def _allsh(**options):
    from allsh_sklearn.augment import TfidfAugmenter
    from allsh_sklearn.strategies import ALLSH

    if options.get("batch", "top") != "top":
        options.setdefault("embedding", "tfidfvectorizer")
    return ALLSH(augmenter=TfidfAugmenter(random_state=0), **options)


def _copies_proba(strategy, classifier, pool):
    copies = strategy.augmenter_.augment(pool, n_copies=strategy.n_augmentations)
    return np.stack([classifier.predict_proba(copy) for copy in copies])


@pytest.mark.parametrize("options", OPTIONS, ids=_option_id)
@pytest.mark.parametrize("n_instances", [1, 5, 12])
def test_options_follow_the_strategy_contract(
    options, n_instances, fitted_pipeline, toy_pool
):
    strategy = _allsh(**options)
    indices, scores = strategy(fitted_pipeline, toy_pool, n_instances, random_state=0)
    assert indices.dtype == np.int64 and scores.dtype == np.float64
    assert indices.shape == scores.shape == (n_instances,)
    assert len(set(indices.tolist())) == n_instances
    assert 0 <= indices.min() and indices.max() < len(toy_pool)
    assert strategy.last_scores_.shape == (len(toy_pool),)
    assert np.isfinite(strategy.last_scores_).all()
    assert {"inference", "selection", "augmentation"} <= set(strategy.last_query_time_)
    again = _allsh(**options)(fitted_pipeline, toy_pool, n_instances, random_state=0)
    np.testing.assert_array_equal(indices, again[0])
    np.testing.assert_allclose(scores, again[1])


@pytest.mark.parametrize("options", OPTIONS, ids=_option_id)
def test_options_are_grid_searchable_params(options):
    from sklearn.base import clone

    strategy = _allsh(**options)
    params = strategy.get_params()
    assert {"score", "batch", "embedding", "embedding_kind"} <= params.keys()
    cloned = clone(strategy)
    for key, value in options.items():
        assert cloned.get_params()[key] == value
    default = clone(strategy).set_params(score="divergence", batch="top")
    assert default.get_params()["batch"] == "top"


def test_default_is_the_papers_top_b(fitted_pipeline, toy_pool):
    from allsh_sklearn.strategies import allsh_scores
    from allsh_sklearn.utils import select_top

    strategy = _allsh()
    assert (strategy.score, strategy.batch) == ("divergence", "top")
    indices, _ = strategy(fitted_pipeline, toy_pool, 4, random_state=3)
    proba = fitted_pipeline.predict_proba(toy_pool)
    expected = allsh_scores(proba, _copies_proba(strategy, fitted_pipeline, toy_pool))
    np.testing.assert_allclose(strategy.last_scores_, expected)
    np.testing.assert_array_equal(indices, select_top(expected, 4, random_state=3))


@pytest.mark.parametrize("score", ["product", "rank_mean", "entropy_ratio"])
def test_score_options_rank_by_the_combined_score(score, fitted_pipeline, toy_pool):
    from allsh_sklearn.strategies import allsh_scores
    from allsh_sklearn.utils import select_top

    strategy = _allsh(score=score)
    indices, _ = strategy(fitted_pipeline, toy_pool, 5, random_state=1)
    proba = fitted_pipeline.predict_proba(toy_pool)
    divergence = allsh_scores(proba, _copies_proba(strategy, fitted_pipeline, toy_pool))
    expected = combine_scores(divergence, proba, score)
    np.testing.assert_allclose(strategy.last_scores_, expected)
    np.testing.assert_array_equal(indices, select_top(expected, 5, random_state=1))


@pytest.mark.parametrize("worst_case", [False, True])
def test_per_change_option_ranks_by_divergence_per_share_changed(
    worst_case, fitted_pipeline, toy_pool
):
    from allsh_sklearn.divergences import kl
    from allsh_sklearn.utils import select_top

    strategy = _allsh(score="per_change", n_augmentations=2, worst_case=worst_case)
    indices, _ = strategy(fitted_pipeline, toy_pool, 5, random_state=1)
    proba = fitted_pipeline.predict_proba(toy_pool)
    copies = strategy.augmenter_.augment(toy_pool, n_copies=2)
    # A plain loop over items and copies, as a reference.
    expected = []
    for i, text in enumerate(toy_pool):
        ratios = []
        for copy in copies:
            share = changed_share([text], [copy[i]])[0]
            copy_proba = fitted_pipeline.predict_proba([copy[i]])
            divergence = float(np.ravel(kl(proba[i : i + 1], copy_proba))[0])
            ratios.append(divergence / share if share > 0 else 0.0)
        expected.append(max(ratios) if worst_case else np.mean(ratios))
    np.testing.assert_allclose(strategy.last_scores_, expected, rtol=1e-9)
    np.testing.assert_array_equal(indices, select_top(np.asarray(expected), 5, 1))


@pytest.mark.parametrize("batch", ["kmeans", "copy_gradient", "scaled_badge"])
def test_batch_options_are_the_reference_seedings(batch, fitted_pipeline, toy_pool):
    from allsh_sklearn.strategies import allsh_scores

    strategy = _allsh(batch=batch, n_augmentations=2)
    indices, _ = strategy(fitted_pipeline, toy_pool, 6, random_state=4)
    proba = fitted_pipeline.predict_proba(toy_pool)
    copies = _copies_proba(strategy, fitted_pipeline, toy_pool)
    scores = allsh_scores(proba, copies)
    embeddings = fitted_pipeline.named_steps["tfidfvectorizer"].transform(toy_pool)
    if batch == "kmeans":
        expected = score_weighted_kmeans_plusplus(scores, embeddings, 6, random_state=4)
    elif batch == "copy_gradient":
        expected = copy_gradient_kmeans_plusplus(
            proba, copies, embeddings, 6, random_state=4
        )
    else:
        expected = scaled_badge_kmeans_plusplus(
            proba, embeddings, quantile_weights(scores), 6, random_state=4
        )
    np.testing.assert_array_equal(indices, expected)


@pytest.mark.parametrize("batch", ["kmeans", "copy_gradient", "scaled_badge"])
def test_batch_options_select_a_repeated_text_once(batch, fitted_pipeline, toy_pool):
    pool = toy_pool + toy_pool[:4]
    indices, _ = _allsh(batch=batch)(fitted_pipeline, pool, 12, random_state=0)
    assert len({pool[i] for i in indices}) == 12


@pytest.mark.parametrize(
    ("name", "selector"),
    [
        ("kmeans", KMeansBatch("kmeans")),
        ("copy_gradient", KMeansBatch("copy_gradient")),
        ("scaled_badge", KMeansBatch("scaled_badge")),
        ("power", StochasticBatch("power", beta=2.0)),
        ("softrank", StochasticBatch("softrank", beta=2.0)),
    ],
)
def test_batch_selectors_select_as_the_option_of_their_name(
    name, selector, fitted_pipeline, toy_pool
):
    by_name = _allsh(batch=name, beta=2.0, n_augmentations=2)
    by_object = _allsh(batch=selector, n_augmentations=2)
    expected = by_name(fitted_pipeline, toy_pool, 6, random_state=4)
    got = by_object(fitted_pipeline, toy_pool, 6, random_state=4)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(by_object.last_scores_, by_name.last_scores_)
    assert batch_selector(name, beta=2.0) == selector
    assert batch_selector("top") is None


def test_a_score_callable_ranks_as_the_option_it_writes(fitted_pipeline, toy_pool):
    by_name = _allsh(score="product", n_augmentations=2)
    by_callable = _allsh(
        score=lambda s, proba: s * normalised_entropy(proba), n_augmentations=2
    )
    expected = by_name(fitted_pipeline, toy_pool, 5, random_state=0)
    got = by_callable(fitted_pipeline, toy_pool, 5, random_state=0)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(by_callable.last_scores_, by_name.last_scores_)
    negative = _allsh(score=lambda s, proba: -s - 1.0)
    with pytest.raises(ValueError, match="'score'.*non-negative"):
        negative(fitted_pipeline, toy_pool, 2)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"score": "sum"}, ValueError, "'score'.*'sum'"),
        ({"batch": "badge"}, ValueError, "'batch'.*'badge'"),
        ({"batch": 3}, ValueError, "'batch'.*3"),
        ({"embedding": 3}, TypeError, "'embedding'.*int"),
        (
            {"balance": "uniform", "batch": "kmeans"},
            ValueError,
            "'balance'.*batch='top' only.*batch='kmeans'",
        ),
    ],
)
def test_options_are_checked_before_any_work(options, error, message, toy_pool):
    from allsh_sklearn.strategies import ALLSH

    with pytest.raises(error, match=message):
        ALLSH(**options)(object(), toy_pool, 2)


def test_presets_and_specs_build_the_options(fitted_pipeline, toy_pool):
    from allsh_sklearn.presets import build_strategy, make_strategy

    assert make_strategy("allsh-scaled-badge").batch == "scaled_badge"
    assert make_strategy("allsh-rank-mean").score == "rank_mean"
    assert make_strategy("allsh-per-change").score == "per_change"
    strategy = build_strategy(
        "allsh:batch=copy_gradient,score=product", embedding="tfidfvectorizer"
    )
    assert (strategy.batch, strategy.score, strategy.embedding) == (
        "copy_gradient",
        "product",
        "tfidfvectorizer",
    )
    indices, _ = strategy(fitted_pipeline, toy_pool, 3, random_state=0)
    assert len(set(indices.tolist())) == 3
    with pytest.raises(ValueError, match="'batch'.*'top_b'"):
        build_strategy("allsh:batch=top_b")


def test_every_preset_has_a_table_label():
    from allsh_sklearn.experiments._settings import strategy_label
    from allsh_sklearn.presets import PRESETS

    labels = [strategy_label(name) for name in PRESETS]
    assert len(set(labels)) == len(labels)
    assert strategy_label("allsh-scaled-badge:p=0.1") == "Ours (scaled BADGE, p=0.1)"
    assert strategy_label("allsh-copy-gradient:K=4") == "Ours (copy gradient, K=4)"
    assert strategy_label("allsh:K=4") == "Ours (K=4)"


# Low-variance estimators of the local sensitivity (issue 29) ----------------

# The original predicts (0.9, 0.1); its two copies (0.5, 0.5) and (0.7, 0.3),
# whose mean is (0.6, 0.4). A second item whose copies agree with it.
_P = [[0.9, 0.1], [0.2, 0.8]]
_COPIES = [[[0.5, 0.5], [0.2, 0.8]], [[0.7, 0.3], [0.2, 0.8]]]


def _h(*p):
    return -sum(x * np.log(x) for x in p if x > 0)


def test_divergence_to_mean_hand_checked():
    got = divergence_to_mean(_P, _COPIES)
    expected = 0.9 * np.log(0.9 / 0.6) + 0.1 * np.log(0.1 / 0.4)  # 0.226289
    np.testing.assert_allclose(got, [expected, 0.0], atol=1e-12)
    # at most the paper's mean over copies (KL is convex in its 2nd argument)
    assert got[0] <= allsh_scores(_P, _COPIES)[0]
    np.testing.assert_allclose(
        divergence_to_mean(_P, _COPIES, divergence="jsd"),
        jsd([[0.9, 0.1]], [[0.6, 0.4]]).tolist() + [0.0],
        atol=1e-12,
    )


def test_mutual_information_hand_checked():
    got = mutual_information(_P, _COPIES)
    # members (0.9, 0.1), (0.5, 0.5), (0.7, 0.3): mean (0.7, 0.3)
    expected = _h(0.7, 0.3) - (_h(0.9, 0.1) + _h(0.5, 0.5) + _h(0.7, 0.3)) / 3
    np.testing.assert_allclose(got, [expected, 0.0], atol=1e-12)
    assert round(expected, 6) == 0.067833
    # one copy: the Jensen-Shannon divergence in nats (the library's jsd is
    # its square root in bits); opposite certainties: log 2
    np.testing.assert_allclose(
        mutual_information([[0.9, 0.1]], [[[0.3, 0.7]]]),
        jsd([[0.9, 0.1]], [[0.3, 0.7]]) ** 2 * np.log(2),
    )
    np.testing.assert_allclose(
        mutual_information([[1.0, 0.0]], [[[0.0, 1.0]]]), [np.log(2)]
    )


def test_prediction_variance_hand_checked():
    got = prediction_variance(_P, _COPIES)
    # class 0: 0.9, 0.5, 0.7 -> population variance 0.08 / 3; class 1 the same
    np.testing.assert_allclose(got, [2 * 0.08 / 3, 0.0], atol=1e-12)
    three = prediction_variance([[0.6, 0.3, 0.1]], [[[0.2, 0.3, 0.5]]])
    np.testing.assert_allclose(three, [0.04 + 0.0 + 0.04])


def test_sensitivity_scores_dispatch_and_checks():
    for method, function in [
        ("divergence_to_mean", divergence_to_mean),
        ("mutual_information", mutual_information),
        ("variance", prediction_variance),
    ]:
        np.testing.assert_array_equal(
            sensitivity_scores(_P, _COPIES, method), function(_P, _COPIES)
        )
    with pytest.raises(ValueError, match="'method' parameter of sensitivity_scores"):
        sensitivity_scores(_P, _COPIES, "divergence")
    with pytest.raises(ValueError, match="'augmented_proba'.*shape"):
        mutual_information(_P, [[0.5, 0.5], [0.2, 0.8]])
    with pytest.raises(ValueError, match="augmented_proba"):
        prediction_variance(_P, [[[0.5, 0.7], [0.2, 0.8]]])


def test_estimators_rank_more_stably_over_draws_than_one_copy():
    # Copies replace words and so weaken the evidence: the logit of copy k
    # of item i is b_i (1 - d_i u_ik), d_i how much item i depends on the
    # words an augmenter may replace. Two independent draws of the copies
    # rank the items alike when the estimator averages over K = 8 copies.
    from scipy.stats import spearmanr

    rng = np.random.RandomState(0)
    b, d = rng.normal(scale=2.0, size=300), rng.uniform(size=300)

    def proba(logits):
        p1 = 1.0 / (1.0 + np.exp(-logits))
        return np.stack([1.0 - p1, p1], axis=-1)

    def agreement(estimator, k):
        draws = [proba(b * (1 - d * rng.uniform(size=(k, 300)))) for _ in range(2)]
        first, second = (estimator(proba(b), copies) for copies in draws)
        return spearmanr(first, second)[0]

    paper = agreement(allsh_scores, 1)
    for estimator in (divergence_to_mean, mutual_information, prediction_variance):
        assert agreement(estimator, 8) > paper + 0.15


# Stochastic batches (Kirsch et al., 2023) ------------------------------------


def test_stochastic_weights_hand_checked():
    np.testing.assert_allclose(
        stochastic_weights([2.0, 1.0, 0.0, 1.0], "power", beta=2.0),
        np.array([4.0, 1.0, 0.0, 1.0]) / 6.0,
    )
    # ranks 1, 2.5, 2.5 (ties share their average rank): weights 1, 0.4, 0.4
    np.testing.assert_allclose(
        stochastic_weights([3.0, 1.0, 1.0], "softrank", beta=1.0),
        np.array([1.0, 0.4, 0.4]) / 1.8,
    )
    np.testing.assert_allclose(
        stochastic_weights([3.0, 1.0, 0.0], "softrank", beta=2.0),
        np.array([1.0, 1 / 4, 1 / 9]) / (1 + 1 / 4 + 1 / 9),
    )
    for method in ("power", "softrank"):
        np.testing.assert_allclose(
            stochastic_weights([5.0, 0.1, 0.0], method, beta=0.0), [1 / 3] * 3
        )
    np.testing.assert_allclose(stochastic_weights([0.0, 0.0], "power"), [0.5, 0.5])
    # scale-free: softrank does not see the score's tail, power does
    tail = [100.0, 1.0, 0.5]
    np.testing.assert_allclose(
        stochastic_weights(tail, "softrank"), stochastic_weights([3, 2, 1], "softrank")
    )
    assert stochastic_weights(tail, "power")[0] > 0.98
    # no overflow for a large beta: the top score takes all the weight
    np.testing.assert_allclose(
        stochastic_weights([2.0, 1.0], "power", beta=5000.0), [1.0, 0.0]
    )
    with pytest.raises(ValueError, match="'beta' parameter of stochastic_weights"):
        stochastic_weights([1.0], "power", beta=-1.0)
    with pytest.raises(ValueError, match="'method' parameter of stochastic_weights"):
        stochastic_weights([1.0], "softmax")
    with pytest.raises(ValueError, match="non-negative"):
        stochastic_weights([-1.0, 1.0])


def test_stochastic_top_samples_in_proportion_to_the_weights():
    scores = [3.0, 1.0, 0.0, 0.0]
    first = np.array(
        [stochastic_top(scores, 1, random_state=seed)[0] for seed in range(4000)]
    )
    # P(first) = 0.75 and 0.25 (binomial sd 0.007); weight 0 never first
    assert abs(np.mean(first == 0) - 0.75) < 0.03
    assert set(first.tolist()) == {0, 1}
    # without replacement: the second draw is the other positive weight,
    # the items of weight 0 come last
    batch = stochastic_top(scores, 4, random_state=1)
    assert sorted(batch[:2].tolist()) == [0, 1]
    assert sorted(batch.tolist()) == [0, 1, 2, 3]
    # softrank: P(first) = 1 / (1 + 1/2 + 1/3 + 1/4) for the top item
    first = np.array(
        [
            stochastic_top(scores[:3] + [0.5], 1, method="softrank", random_state=s)[0]
            for s in range(4000)
        ]
    )
    assert abs(np.mean(first == 0) - 12 / 25) < 0.03


def test_stochastic_top_is_seeded_and_honours_repeated_texts():
    scores = np.linspace(0.1, 1.0, 30)
    a = stochastic_top(scores, 10, random_state=7)
    assert a.tolist() == stochastic_top(scores, 10, random_state=7).tolist()
    assert a.tolist() != stochastic_top(scores, 10, random_state=8).tolist()
    assert len(set(a.tolist())) == 10
    # a large beta approaches the top-b
    top = stochastic_top(scores, 5, beta=500.0, random_state=0)
    assert sorted(top.tolist()) == list(range(25, 30))
    # one item per group of repeated texts while other groups remain
    groups = np.repeat(np.arange(10), 3)
    picked = stochastic_top(scores, 10, random_state=0, duplicates=groups)
    assert len(set(groups[picked].tolist())) == 10
    with pytest.raises(ValueError, match="n_instances"):
        stochastic_top(scores, 31)


def test_stochastic_and_estimator_presets(fitted_pipeline, toy_pool):
    from allsh_sklearn.presets import LOW_VARIANCE_COPIES, make_strategy

    for name, sensitivity in [
        ("allsh-mean-kl", "divergence_to_mean"),
        ("allsh-mi", "mutual_information"),
        ("allsh-var", "variance"),
    ]:
        strategy = make_strategy(name, random_state=0)
        assert strategy.sensitivity == sensitivity
        assert strategy.n_augmentations == LOW_VARIANCE_COPIES >= 8
        indices, scores = strategy(fitted_pipeline, toy_pool, 3)
        assert len(set(indices.tolist())) == 3 and np.all(np.diff(scores) <= 0)
    stochastic = make_strategy("allsh-stochastic", random_state=0)
    assert (stochastic.batch, stochastic.beta) == ("power", 1.0)
    assert make_strategy("allsh-per-query").draw_copies == "per_query"


def test_kl_reference_of_the_estimators_module():
    # the estimators use the library's divergences, not a copy of them
    np.testing.assert_allclose(
        divergence_to_mean([[0.9, 0.1]], [[[0.6, 0.4]]]), kl([[0.9, 0.1]], [[0.6, 0.4]])
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: KMeansBatch("means"), r"'kind' parameter of KMeansBatch must be one"),
        (lambda: StochasticBatch("softmax"), r"'method' parameter of StochasticBatch"),
        (
            lambda: StochasticBatch("power", beta=float("inf")),
            r"'beta' parameter of StochasticBatch must be a finite float >= 0",
        ),
    ],
)
def test_batch_selectors_check_their_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()
