"""ALLSH's per-query cost: work reused across queries gives the same picks.

``score="per_change"`` keeps the share of tokens each copy changed from one
query to the next (a pure function of the text and its copy); these tests
compare it with the direct computation at every query of a shrinking pool,
and check that another copy or another augmenter is never given a stale
share. The k-means++ batches multiply sparse embeddings by a dense row
instead of a sparse one; these tests check the dot products bit for bit and
the picks against those of the previous computation.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from allsh_sklearn.augment import MemoryAugmentationCache, TfidfAugmenter
from allsh_sklearn.augment._cache import augment_with_cache
from allsh_sklearn.datasets import make_word_sentiment
from allsh_sklearn.divergences import kl
from allsh_sklearn.strategies import ALLSH
from allsh_sklearn.strategies._allsh_scores import per_change_scores
from allsh_sklearn.utils import _text_diff, select_top
from allsh_sklearn.utils._text_diff import changed_share

# The per_change score ---------------------------------------------------------


def _direct_per_change(augmenter, cache, classifier, pool, n_copies, worst_case):
    """The per_change scores computed from scratch, nothing reused."""
    copies, _ = augment_with_cache(augmenter, pool, n_copies, cache)
    proba = classifier.predict_proba(pool)
    per_copy = [kl(proba, classifier.predict_proba(copy)) for copy in copies]
    shares = [changed_share(pool, copy) for copy in copies]
    return per_change_scores(per_copy, shares, worst_case=worst_case)


@pytest.fixture
def count_shares(monkeypatch):
    """Count the (text, copy) pairs whose share is actually computed."""
    calls = []
    compute = _text_diff._one_changed_share

    def counted(text, copy):
        calls.append((text, copy))
        return compute(text, copy)

    monkeypatch.setattr(_text_diff, "_one_changed_share", counted)
    return calls


@pytest.mark.parametrize("n_copies, worst_case", [(1, False), (2, False), (3, True)])
def test_per_change_over_a_shrinking_pool_is_the_direct_computation(
    n_copies, worst_case, fitted_pipeline, toy_texts, toy_pool, count_shares
):
    pool = list(toy_pool) + list(toy_texts[0])
    cache = MemoryAugmentationCache()
    strategy = ALLSH(
        augmenter=TfidfAugmenter(random_state=0),
        cache=cache,
        score="per_change",
        n_augmentations=n_copies,
        worst_case=worst_case,
    )
    for query in range(4):
        count_shares.clear()
        indices, _ = strategy(fitted_pipeline, pool, 3, random_state=query)
        # Each (text, copy) pair computed once, at the first query; none
        # after: the pool only shrinks, its texts and copies are the same.
        copies, _ = augment_with_cache(strategy.augmenter_, pool, n_copies, cache)
        pairs = {(text, copy[i]) for copy in copies for i, text in enumerate(pool)}
        assert len(count_shares) == len(set(count_shares))
        assert set(count_shares) == (pairs if query == 0 else set())
        expected = _direct_per_change(
            strategy.augmenter_, cache, fitted_pipeline, pool, n_copies, worst_case
        )
        np.testing.assert_array_equal(strategy.last_scores_, expected)
        np.testing.assert_array_equal(
            indices, select_top(expected, 3, random_state=query)
        )
        pool = [text for i, text in enumerate(pool) if i not in set(indices.tolist())]


def _changed(copy):
    """Another copy of a text: its first word replaced."""
    words = copy.split()
    return " ".join(["changed", *words[1:]])


def test_a_changed_copy_gets_its_own_share(fitted_pipeline, toy_pool, count_shares):
    cache = MemoryAugmentationCache()
    strategy = ALLSH(
        augmenter=TfidfAugmenter(random_state=0), cache=cache, score="per_change"
    )
    strategy(fitted_pipeline, toy_pool, 2, random_state=0)
    before = strategy.last_scores_.copy()
    # Another copy of the first three texts, through the shared cache.
    fingerprint = strategy.augmenter_.fingerprint()
    keys = [(fingerprint, 0, text) for text in toy_pool[:3]]
    old = cache.get_many(keys)
    cache.set_many({key: _changed(copy) for key, copy in zip(keys, old, strict=True)})
    count_shares.clear()
    strategy(fitted_pipeline, toy_pool, 2, random_state=0)
    assert sorted(count_shares) == sorted(
        (text, _changed(copy)) for text, copy in zip(toy_pool[:3], old, strict=True)
    )
    expected = _direct_per_change(
        strategy.augmenter_, cache, fitted_pipeline, toy_pool, 1, False
    )
    np.testing.assert_array_equal(strategy.last_scores_, expected)
    assert not np.array_equal(strategy.last_scores_[:3], before[:3])
    np.testing.assert_array_equal(strategy.last_scores_[3:], before[3:])


def test_another_augmenter_gets_fresh_shares(fitted_pipeline, toy_pool, count_shares):
    strategy = ALLSH(augmenter=TfidfAugmenter(random_state=0), score="per_change")
    strategy(fitted_pipeline, toy_pool, 2, random_state=0)
    first = strategy.augmenter_
    strategy.set_params(augmenter=TfidfAugmenter(random_state=1))
    count_shares.clear()
    strategy(fitted_pipeline, toy_pool, 2, random_state=0)
    assert strategy.augmenter_ is not first
    # The refitted augmenter starts a new memo: every share of its copies
    # is computed, and only those are kept.
    assert len(count_shares) == len(toy_pool)
    assert len(strategy._share_memo) == len({pair for pair in count_shares})
    expected = _direct_per_change(
        strategy.augmenter_, None, fitted_pipeline, toy_pool, 1, False
    )
    np.testing.assert_array_equal(strategy.last_scores_, expected)


def test_the_share_memo_is_not_pickled(fitted_pipeline, toy_pool):
    strategy = ALLSH(augmenter=TfidfAugmenter(random_state=0), score="per_change")
    indices, _ = strategy(fitted_pipeline, toy_pool, 3, random_state=0)
    restored = pickle.loads(pickle.dumps(strategy))
    assert len(strategy._share_memo) == len(toy_pool)
    assert not hasattr(restored, "_share_memo")
    again, _ = restored(fitted_pipeline, toy_pool, 3, random_state=0)
    np.testing.assert_array_equal(indices, again)
    np.testing.assert_array_equal(restored.last_scores_, strategy.last_scores_)


def test_changed_share_memo_gives_the_direct_shares():
    texts = ["a good film", ("is it", "fine"), "a good film", "good"]
    copies = ["a bad film", ["is it", "good"], "a good movie", "good"]
    memo = {}
    first = changed_share(texts, copies, memo=memo)
    np.testing.assert_array_equal(first, changed_share(texts, copies))
    assert len(memo) == 4  # the same text with another copy is another key
    memo[("a good film", "a bad film")] = 0.5  # a memo entry is used as it is
    assert changed_share(["a good film"], ["a bad film"], memo=memo)[0] == 0.5
    with pytest.raises(TypeError, match="'memo' parameter must be a dict"):
        changed_share(texts, copies, memo=[])


# The k-means++ batches --------------------------------------------------------

# Picks of commit b7301ea (before the sparse dot products of the k-means++
# seeding were computed against a dense row) on the problems below, with
# random_state=3 (20 picks per query for ALLSH, queries with seeds 0 and 1).
# fmt: off
GOLDEN_SEEDINGS = {
    ("sparse", "badge", False): [
        146, 220, 279, 122, 205, 355, 358, 56, 89, 25, 187, 16, 191, 261, 121, 269,
        237, 11, 227, 110, 173, 123, 277, 183, 68
    ],
    ("sparse", "kmeans", False): [
        221, 219, 274, 97, 191, 348, 351, 53, 82, 13, 178, 5, 188, 257, 123, 270, 239,
        18, 224, 110, 173, 127, 281, 187, 66
    ],
    ("sparse", "kmeans", True): [
        221, 219, 274, 97, 191, 348, 351, 53, 82, 13, 178, 5, 188, 257, 123, 270, 239,
        18, 224, 110, 173, 127, 282, 187, 66
    ],
    ("sparse", "copy_gradient", False): [
        165, 217, 279, 120, 202, 355, 359, 56, 88, 27, 182, 17, 187, 251, 118, 265,
        229, 12, 220, 111, 173, 125, 276, 183, 76
    ],
    ("sparse", "copy_gradient", True): [
        165, 217, 279, 120, 202, 355, 359, 56, 88, 27, 182, 17, 187, 251, 118, 265,
        229, 12, 220, 111, 173, 125, 276, 183, 76
    ],
    ("sparse", "scaled_badge", False): [
        157, 222, 278, 123, 204, 359, 362, 54, 85, 25, 189, 15, 196, 250, 130, 264,
        237, 13, 227, 110, 181, 132, 277, 190, 74
    ],
    ("sparse", "scaled_badge", True): [
        157, 222, 278, 123, 204, 359, 362, 54, 85, 25, 189, 16, 197, 248, 132, 264,
        238, 13, 231, 110, 186, 133, 277, 194, 75
    ],
    ("dense", "badge", False): [
        246, 220, 283, 114, 203, 355, 356, 51, 81, 19, 177, 12, 187, 264, 109, 272,
        238, 10, 227, 102, 165, 112, 277, 176, 63
    ],
    ("dense", "kmeans", False): [
        221, 219, 281, 96, 191, 346, 348, 31, 60, 14, 160, 5, 174, 255, 97, 264, 237,
        13, 223, 85, 157, 100, 285, 176, 52
    ],
    ("dense", "kmeans", True): [
        221, 219, 281, 96, 191, 346, 348, 31, 60, 14, 160, 5, 174, 256, 95, 264, 233,
        13, 218, 85, 155, 97, 283, 173, 53
    ],
    ("dense", "copy_gradient", False): [
        138, 218, 282, 115, 203, 360, 361, 48, 84, 21, 176, 12, 183, 252, 110, 264,
        230, 9, 220, 104, 166, 116, 276, 177, 64
    ],
    ("dense", "copy_gradient", True): [
        138, 218, 282, 115, 203, 360, 361, 48, 84, 21, 176, 12, 183, 252, 110, 264,
        230, 9, 220, 104, 166, 116, 276, 177, 64
    ],
    ("dense", "scaled_badge", False): [
        246, 220, 284, 114, 203, 355, 358, 52, 81, 18, 181, 13, 189, 264, 111, 273,
        239, 10, 227, 102, 170, 110, 283, 176, 57
    ],
    ("dense", "scaled_badge", True): [
        246, 220, 284, 114, 203, 355, 358, 52, 81, 18, 181, 13, 189, 264, 111, 273,
        239, 10, 227, 102, 170, 110, 283, 176, 57
    ],
}

GOLDEN_ALLSH = {
    "kmeans": [
        [
            257, 141, 163, 135, 112, 80, 136, 84, 224, 248, 62, 191, 120, 132, 232, 8,
            10, 1, 207, 179
        ],
        [
            257, 107, 153, 0, 62, 26, 10, 33, 84, 96, 131, 108, 163, 34, 230, 1, 157,
            110, 132, 30
        ],
    ],
    "copy_gradient": [
        [
            182, 141, 186, 155, 138, 108, 167, 110, 233, 250, 95, 206, 132, 144, 241,
            16, 22, 4, 217, 200
        ],
        [
            182, 107, 188, 0, 78, 37, 24, 48, 92, 106, 143, 112, 181, 53, 230, 7, 177,
            110, 149, 36
        ],
    ],
    "scaled_badge": [
        [
            120, 141, 181, 150, 132, 102, 160, 108, 229, 249, 87, 198, 124, 136, 233,
            11, 18, 2, 211, 193
        ],
        [
            120, 106, 181, 0, 72, 34, 20, 45, 88, 102, 137, 110, 174, 46, 226, 6, 168,
            108, 141, 32
        ],
    ],
}
# fmt: on


def _problem(kind, n_samples=400, n_features=60, n_classes=3, seed=0):
    """Predictions, copies' predictions, scores and embeddings, with repeats."""
    rng = np.random.RandomState(seed)
    proba = rng.dirichlet(np.full(n_classes, 0.7), size=n_samples)
    copies = rng.dirichlet(np.full(n_classes, 0.7), size=(2, n_samples))
    scores = rng.gamma(1.0, size=n_samples)
    shape = (n_samples, n_features)
    if kind == "sparse":
        dense = rng.rand(*shape) * (rng.rand(*shape) < 0.1)
    else:
        dense = rng.normal(size=shape)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    # Items 20-29 repeat items 0-9 (the same text: same predictions too).
    repeats = np.arange(20, 30)
    dense[repeats] = dense[repeats - 20]
    proba[repeats] = proba[repeats - 20]
    copies[:, repeats] = copies[:, repeats - 20]
    duplicates = np.arange(n_samples)
    duplicates[repeats] = repeats - 20
    embeddings = sp.csr_matrix(dense) if kind == "sparse" else dense.astype(np.float32)
    return proba, copies, scores, embeddings, duplicates


@pytest.mark.parametrize("key", sorted(GOLDEN_SEEDINGS), ids=str)
def test_seedings_pick_what_they_picked_before(key):
    from allsh_sklearn.strategies import badge_kmeans_plusplus
    from allsh_sklearn.strategies._allsh_batches import select_batch

    kind, batch, with_duplicates = key
    proba, copies, scores, embeddings, duplicates = _problem(kind)
    if batch == "badge":
        indices = badge_kmeans_plusplus(proba, embeddings, 25, random_state=3)
    else:
        indices = select_batch(
            batch,
            scores,
            proba,
            copies,
            embeddings,
            25,
            random_state=3,
            duplicates=duplicates if with_duplicates else None,
        )
    assert indices.tolist() == GOLDEN_SEEDINGS[key]


@pytest.mark.parametrize("batch", sorted(GOLDEN_ALLSH))
def test_allsh_batches_pick_what_they_picked_before(batch):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = make_word_sentiment(300, random_state=0)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    classifier = make_pipeline(vectorizer, LogisticRegression()).fit(X[:40], y[:40])
    strategy = ALLSH(
        augmenter=TfidfAugmenter(random_state=0),
        batch=batch,
        n_augmentations=2,
        embedding="tfidfvectorizer",
    )
    picks = [strategy(classifier, X[40:], 20, random_state=seed)[0] for seed in (0, 1)]
    assert [indices.tolist() for indices in picks] == GOLDEN_ALLSH[batch]


def _sparse_sparse_dots(matrix, row):
    """The product of commit b7301ea: the matrix times its (sparse) row."""
    return (matrix @ matrix[row].T).toarray().ravel()


@pytest.mark.parametrize("layout", ["canonical", "unsorted", "duplicates"])
def test_sparse_dots_are_the_sparse_sparse_products_bit_for_bit(layout):
    from allsh_sklearn.strategies._badge import _dots_with_row

    rng = np.random.RandomState(0)
    dense = rng.normal(size=(200, 300)) * (rng.rand(200, 300) < 0.05)
    dense[5] = 0.0  # an empty row
    matrix = sp.csr_matrix(dense)
    if layout != "canonical":
        # The same matrix stored another way: each row's entries reversed,
        # and with "duplicates" every entry split in two halves.
        indices, data = [], []
        for i in range(matrix.shape[0]):
            start, end = matrix.indptr[i], matrix.indptr[i + 1]
            indices.append(matrix.indices[start:end][::-1])
            data.append(matrix.data[start:end][::-1])
        if layout == "duplicates":
            indices = [np.repeat(part, 2) for part in indices]
            data = [np.repeat(part / 2.0, 2) for part in data]
        indptr = np.concatenate([[0], np.cumsum([len(part) for part in indices])])
        matrix = sp.csr_matrix(
            (np.concatenate(data), np.concatenate(indices), indptr), shape=dense.shape
        )
        assert not matrix.has_canonical_format
    for row in range(matrix.shape[0]):
        fast = _dots_with_row(matrix, row)
        assert fast.shape == (200,) and fast.dtype == np.float64
        np.testing.assert_array_equal(fast, _sparse_sparse_dots(matrix, row))
