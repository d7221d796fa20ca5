"""Tests of the torch divergences and of the consistency-loss criterion (eq. 5)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
pytest.importorskip("transformers")

from _tiny_models import tiny_texts  # noqa: E402
from sklearn.base import clone  # noqa: E402

from allsh_sklearn import divergences as np_div  # noqa: E402
from allsh_sklearn.augment import BaseAugmenter, MemoryAugmentationCache  # noqa: E402
from allsh_sklearn.models import (  # noqa: E402
    ConsistencyLoss,
    TransformerClassifier,
    torch_divergences,
)

pytestmark = pytest.mark.usefixtures("single_thread_torch")


def _random_distributions(n, k, seed, zeros=True):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k) * 0.5, size=n)
    if zeros:
        p[0, 0] = 0.0
        p[0] /= p[0].sum()
        p[1] = np.eye(k)[1]
    return p


# Torch twins of the numpy divergences ---------------------------------------


@pytest.mark.parametrize(
    "name, order",
    [("kl", None), ("reverse_kl", None), ("jsd", None), ("alpha", -0.5),
     ("alpha", 0.5), ("alpha", 2.0), ("alpha", 0.999)],
)
def test_torch_divergences_agree_with_numpy(name, order):
    p = _random_distributions(40, 4, seed=0)
    q = _random_distributions(40, 4, seed=1)
    q[5] = p[5]  # an exactly equal pair: divergence 0
    kwargs = {} if order is None else {"alpha": order}
    expected = np_div.get_divergence(name, **kwargs)(p, q)
    got = torch_divergences.get_divergence(name, **kwargs)(
        torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-9)
    assert got[5].item() == pytest.approx(0.0, abs=1e-9)


def test_torch_divergences_same_names_and_one_dimensional_input():
    assert set(torch_divergences.__all__) == {
        "kl", "reverse_kl", "jsd", "alpha_divergence", "get_divergence"
    }
    p, q = [0.5, 0.5], [0.9, 0.1]
    for name in ("kl", "reverse_kl", "jsd", "alpha_divergence"):
        value = getattr(torch_divergences, name)(torch.tensor(p), torch.tensor(q))
        assert value.dim() == 0
        assert float(value) == pytest.approx(float(getattr(np_div, name)(p, q)),
                                             rel=1e-5)


def test_torch_divergence_validation_matches_numpy():
    with pytest.raises(ValueError) as torch_error:
        torch_divergences.get_divergence("hellinger")
    with pytest.raises(ValueError) as numpy_error:
        np_div.get_divergence("hellinger")
    assert str(torch_error.value) == str(numpy_error.value)
    for bad, error in [(0, ValueError), (1.0, ValueError), ("x", TypeError),
                       (True, TypeError), (float("nan"), ValueError)]:
        with pytest.raises(error, match="'alpha' parameter"):
            torch_divergences.get_divergence("alpha", alpha=bad)
    with pytest.raises(ValueError, match="same shape"):
        torch_divergences.kl(torch.ones(2, 3) / 3, torch.ones(2, 2) / 2)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "jsd", "alpha"])
def test_torch_divergence_gradients_are_finite_at_equality(name):
    logits = torch.tensor([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]], requires_grad=True)
    p = torch.softmax(logits.detach(), dim=-1)
    q = torch.softmax(logits, dim=-1)
    torch_divergences.get_divergence(name)(p, q).sum().backward()
    assert torch.isfinite(logits.grad).all()


# The criterion ----------------------------------------------------------------


def _logits(seed, n=6, k=3, scale=1.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=generator, dtype=torch.float64) * scale


def test_loss_equals_cross_entropy_when_alpha_is_zero():
    logits, y = _logits(0), torch.tensor([0, 1, 2, 0, 1, 2])
    unlabeled, augmented = _logits(1), _logits(2)
    ce = torch.nn.functional.cross_entropy(logits, y)
    criterion = ConsistencyLoss(alpha=0.0)
    assert torch.equal(criterion(logits, y, unlabeled, augmented), ce)
    assert torch.equal(ConsistencyLoss()(logits, y), ce)  # no unlabeled logits
    assert criterion.last_consistency_ > 0  # measured, but weighted by 0


@pytest.mark.parametrize("divergence", ["kl", "reverse_kl", "jsd", "alpha"])
def test_loss_grows_with_inconsistency(divergence):
    logits, y = _logits(0), torch.tensor([0, 1, 2, 0, 1, 2])
    unlabeled = _logits(1, scale=3.0)
    criterion = ConsistencyLoss(alpha=0.5, divergence=divergence)
    ce = criterion(logits, y)
    losses = [
        criterion(logits, y, unlabeled, unlabeled + shift * _logits(2))
        for shift in (0.0, 0.5, 2.0, 8.0)
    ]
    assert losses[0].item() == pytest.approx(ce.item(), abs=1e-12)
    assert all(a < b for a, b in zip(losses, losses[1:], strict=False))


def test_loss_is_cross_entropy_plus_alpha_times_mean_divergence():
    logits, y = _logits(0), torch.tensor([0, 1, 2, 0, 1, 2])
    unlabeled, augmented = _logits(1), _logits(2)
    criterion = ConsistencyLoss(alpha=0.01, divergence="jsd")
    loss = criterion(logits, y, unlabeled, augmented)
    p = torch.softmax(unlabeled, -1).numpy()
    q = torch.softmax(augmented, -1).numpy()
    expected = (torch.nn.functional.cross_entropy(logits, y).item()
                + 0.01 * np_div.jsd(p, q).mean())
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_target_side_carries_no_gradient():
    unlabeled = _logits(1).requires_grad_(True)
    augmented = _logits(2).requires_grad_(True)
    logits = _logits(0).requires_grad_(True)
    loss = ConsistencyLoss(alpha=1.0)(logits, torch.tensor([0, 1, 2, 0, 1, 2]),
                                      unlabeled, augmented)
    loss.backward()
    assert unlabeled.grad is None
    assert augmented.grad is not None and augmented.grad.abs().sum() > 0


def test_rows_labeled_minus_one_are_ignored():
    logits = _logits(0)
    y = torch.tensor([0, -1, 2, -1, 1, 2])
    keep = y != -1
    expected = torch.nn.functional.cross_entropy(logits[keep], y[keep])
    assert torch.equal(ConsistencyLoss()(logits, y), expected)
    all_unlabeled = ConsistencyLoss()(logits, torch.full((6,), -1))
    assert all_unlabeled.item() == 0.0


def test_params_clone_and_validation():
    criterion = ConsistencyLoss(divergence="alpha", divergence_alpha=-0.5, alpha=0.1)
    params = criterion.get_params()
    assert params["divergence_alpha"] == -0.5 and params["alpha"] == 0.1
    copy = clone(criterion)
    assert copy is not criterion and copy.get_params() == params
    assert criterion.set_params(alpha=0.2).alpha == 0.2
    with pytest.raises(ValueError, match="Invalid parameter 'beta'"):
        criterion.set_params(beta=1)
    for kwargs, error, match in [
        ({"alpha": -1.0}, ValueError, "'alpha' parameter of ConsistencyLoss"),
        ({"alpha": "big"}, TypeError, "'alpha' parameter of ConsistencyLoss"),
        ({"unlabeled_ratio": 0}, ValueError, "'unlabeled_ratio'"),
        ({"divergence": "l2"}, ValueError, "'divergence' parameter"),
        ({"divergence": "alpha", "divergence_alpha": 1}, ValueError, "'alpha'"),
        ({"augmenter": "tfidf"}, TypeError, "'augmenter' parameter"),
    ]:
        with pytest.raises(error, match=match):
            ConsistencyLoss(**kwargs).validate()


# Consistency training inside TransformerClassifier ------------------------------


class CountingAugmenter(BaseAugmenter):
    """Appends a word; counts how many texts it augmented, and in how many calls."""

    def __init__(self, word="movie", random_state=None):
        self.word = word
        self.random_state = random_state

    def _fit_texts(self, texts):
        self.n_calls_ = 0
        self.n_texts_ = 0

    def _augment_texts(self, texts, copy_index):
        self.n_calls_ += 1
        self.n_texts_ += len(texts)
        return [f"{text} {self.word}" for text in texts]


def _semi_supervised(X, y):
    # 6 labeled texts per class, the 8 others unlabeled (-1)
    X_labeled = X[:6] + X[10:16]
    y_labeled = y[:6] + y[10:16]
    pool = X[6:10] + X[16:20]
    return X_labeled + pool, y_labeled + [-1] * len(pool), pool


def _cl_classifier(tiny_bert_dir, **kwargs):
    params = {
        "model": str(tiny_bert_dir), "lr": 1e-3, "batch_size": 4, "train_steps": 5,
        "random_state": 0, "criterion": ConsistencyLoss,
        "criterion__augmenter": CountingAugmenter(), "criterion__alpha": 1.0,
    }
    params.update(kwargs)
    return TransformerClassifier(**params)


def test_uses_unlabeled_flag():
    assert not TransformerClassifier().uses_unlabeled
    assert TransformerClassifier(criterion=ConsistencyLoss).uses_unlabeled
    assert not TransformerClassifier(criterion=ConsistencyLoss,
                                     criterion__alpha=0.0).uses_unlabeled
    assert TransformerClassifier(criterion=ConsistencyLoss(alpha=0.3)).uses_unlabeled
    no_weight = ConsistencyLoss(alpha=0.0)
    assert not TransformerClassifier(criterion=no_weight).uses_unlabeled


def test_consistency_training_uses_the_pool_and_augments_once(tiny_bert_dir):
    X, y = tiny_texts()
    X_all, y_all, pool = _semi_supervised(X, y)
    clf = _cl_classifier(tiny_bert_dir, criterion__unlabeled_ratio=0.5)
    clf.fit(X_all, y_all)
    batches = clf.history[-1, "batches"]
    assert len(batches) == 5  # train_steps
    assert all("consistency" in batch for batch in batches)
    assert all(batch["train_batch_size"] == 4 for batch in batches)
    augmenter = clf.augmenter_
    # augmented once per fit: one call, only the pool texts that 5 steps of
    # 2 unlabeled texts use (all 8 here), never the labeled ones
    assert augmenter.n_calls_ == 1
    assert augmenter.n_texts_ == len(pool)
    assert clf.criterion_.last_consistency_ >= 0.0
    # the parameter itself was cloned before fitting, never fitted in place
    assert not hasattr(clf.get_params()["criterion__augmenter"], "n_calls_")


def test_consistency_training_only_augments_what_it_uses(tiny_bert_dir):
    X, y = tiny_texts()
    X_all, y_all, _ = _semi_supervised(X, y)
    clf = _cl_classifier(tiny_bert_dir, train_steps=2, batch_size=2,
                         criterion__unlabeled_ratio=1.0).fit(X_all, y_all)
    assert clf.augmenter_.n_texts_ == 4  # 2 steps x 2 unlabeled texts


def test_augmentation_cache_is_reused_across_fits(tiny_bert_dir):
    X, y = tiny_texts()
    X_all, y_all, pool = _semi_supervised(X, y)
    cache = MemoryAugmentationCache()
    augmenter = CountingAugmenter().fit(X_all)  # fitted: used as is
    clf = _cl_classifier(tiny_bert_dir, criterion__augmenter=augmenter,
                         criterion__cache=cache)
    clf.fit(X_all, y_all)
    first = clf.augmenter_.n_texts_
    clf.fit(X_all, y_all)
    assert first == len(pool)
    # the criterion (and its cache) is rebuilt from the same cache object
    assert clf.criterion_.cache is cache
    assert clf.augmenter_.n_texts_ == first  # nothing recomputed


def test_without_unlabeled_texts_training_is_plain_cross_entropy(tiny_bert_dir):
    X, y = tiny_texts()
    cl = _cl_classifier(tiny_bert_dir).fit(X, y)
    ce = TransformerClassifier(
        model=str(tiny_bert_dir), lr=1e-3, batch_size=4, train_steps=5, random_state=0
    ).fit(X, y)
    # no -1 labels: no augmentation, no consistency term, the same training
    assert not hasattr(cl, "augmenter_")
    assert all("consistency" not in batch for batch in cl.history[-1, "batches"])
    np.testing.assert_allclose(
        cl.history[-1, "batches", :, "train_loss"],
        ce.history[-1, "batches", :, "train_loss"], rtol=1e-6,
    )
    np.testing.assert_allclose(cl.predict_proba(X), ce.predict_proba(X), atol=1e-6)


def test_alpha_zero_ignores_the_pool(tiny_bert_dir):
    X, y = tiny_texts()
    X_all, y_all, _ = _semi_supervised(X, y)
    clf = _cl_classifier(tiny_bert_dir, criterion__alpha=0.0)
    with pytest.warns(UserWarning, match="8 texts are labeled -1"):
        clf.fit(X_all, y_all)
    assert not hasattr(clf, "augmenter_")


def test_consistency_training_by_epochs(tiny_bert_dir):
    X, y = tiny_texts()
    X_all, y_all, pool = _semi_supervised(X, y)
    clf = _cl_classifier(tiny_bert_dir, train_steps=None, max_epochs=2,
                         criterion__unlabeled_ratio=0.5)
    clf.fit(X_all, y_all)
    # 12 labeled texts, batch 4: 3 steps per epoch, each with 2 pool texts
    assert [len(epoch["batches"]) for epoch in clf.history] == [3, 3]
    assert all("consistency" in batch
               for epoch in clf.history for batch in epoch["batches"])
    assert clf.augmenter_.n_texts_ == len(pool)  # min(8, 2 epochs x 3 x 2)


def test_active_learner_keeps_augmenter_and_cache_across_teaches(tiny_bert_dir):
    from allsh_sklearn import ActiveLearner
    from allsh_sklearn.strategies import RandomSampling

    X, y = tiny_texts()
    X_all, y_all, pool = _semi_supervised(X, y)
    n_labeled = len(X_all) - len(pool)
    cache = MemoryAugmentationCache()
    learner = ActiveLearner(
        _cl_classifier(tiny_bert_dir, criterion__cache=cache,
                       criterion__unlabeled_ratio=8.0, train_steps=2),
        query_strategy=RandomSampling(),
        X_training=X_all[:n_labeled], y_training=y_all[:n_labeled], random_state=0,
    ).fit(X_unlabeled=pool)
    augmenter = learner.estimator_.augmenter_
    cache = learner.estimator_.criterion_.cache  # the learner's clone of it
    assert len(cache) == len(pool)
    remaining = list(pool)
    for _ in range(2):
        indices, chosen = learner.query(remaining, 2)
        learner.teach(chosen, [0, 1])
        remaining = [t for i, t in enumerate(remaining) if i not in set(indices)]
    # The same fitted augmenter and cache serve every retraining: no pool
    # text is augmented twice.
    assert learner.estimator_.augmenter_ is augmenter
    assert learner.estimator_.criterion_.cache is cache
    assert len(cache) == len(pool)
    assert augmenter.n_texts_ == len(pool)


def test_labels_as_a_list_of_numpy_scalars_and_minus_one(tiny_bert_dir):
    # The documented pattern: list(y_labeled) + [-1] * len(X_pool), with
    # y_labeled a numpy array (numpy scalars and ints in one list), and
    # string labels next to -1.
    X, y = tiny_texts()
    X_all, y_all, pool = _semi_supervised(X, y)
    n_labeled = len(X_all) - len(pool)
    y_numpy = list(np.asarray(y_all[:n_labeled])) + [-1] * len(pool)
    clf = _cl_classifier(tiny_bert_dir, train_steps=2).fit(X_all, y_numpy)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    names = ["neg", "pos"]
    y_names = [names[label] for label in y_all[:n_labeled]] + [-1] * len(pool)
    clf = _cl_classifier(tiny_bert_dir, train_steps=2).fit(X_all, y_names)
    np.testing.assert_array_equal(clf.classes_, names)
    assert all("consistency" in batch for batch in clf.history[-1, "batches"])
