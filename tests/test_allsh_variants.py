"""Reference tests of ALLSH's score combinations and batch selections."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import check_random_state

from allsh_sklearn.strategies import badge_kmeans_plusplus
from allsh_sklearn.strategies._allsh_variants import (
    COMBINATIONS,
    changed_share,
    combine_scores,
    copy_gradient_factors,
    copy_gradient_kmeans_plusplus,
    normalised_entropy,
    per_change_scores,
    quantile_weights,
    scaled_badge_kmeans_plusplus,
    score_weighted_kmeans_plusplus,
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
    ("options", "error", "message"),
    [
        ({"score": "sum"}, ValueError, "'score'.*'sum'"),
        ({"batch": "badge"}, ValueError, "'batch'.*'badge'"),
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
