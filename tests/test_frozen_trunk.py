"""Partial fine-tuning with a cached frozen trunk (TransformerClassifier).

The tiny 2-layer BERT of ``_tiny_models`` stands in for MiniLM: with
``trainable_layers=1`` its embeddings and bottom layer are the frozen trunk,
whose outputs are cached; the top layer, the pooler and the head train.
"""

import copy
import pickle
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
pytest.importorskip("transformers")

from _tiny_models import tiny_texts  # noqa: E402
from sklearn.base import clone  # noqa: E402

from allsh_sklearn.models import ConsistencyLoss, TransformerClassifier  # noqa: E402
from allsh_sklearn.models._data import collate, encode  # noqa: E402
from allsh_sklearn.models._precision import (  # noqa: E402
    bf16_is_native,
    resolve_precision,
)
from allsh_sklearn.models._trunk import (  # noqa: E402
    ENTRY_OVERHEAD,
    TrunkCache,
    token_keys,
    trunk_fingerprint,
)

pytestmark = pytest.mark.usefixtures("single_thread_torch")


POOL = [
    "the story was good",
    "a dull plot",
    "what a wonderful cast",
    "the scene was not very good",
    "terrible acting and a boring story",
    "i loved the music",  # "music" is not in the vocabulary: [UNK]
    "fine",
]


def make(model_dir, **kwargs):
    params = {"model": str(model_dir), "lr": 1e-3, "batch_size": 4,
              "train_steps": 6, "random_state": 0, "trainable_layers": 1,
              "precision": "float32"}
    params.update(kwargs)
    return TransformerClassifier(**params)


def full_forward(clf, X, kind=None):
    """Probabilities of ``X`` through the whole model, without trunk or cache."""
    encoding, _ = encode(clf.tokenizer_, X, clf._max_length())
    # a copy: output_hidden_states makes transformers install hooks that
    # cannot be pickled
    module = copy.deepcopy(clf.module_).eval()
    inputs = collate(encoding, list(range(len(X))), clf._pad_token_id())
    dtype = torch.bfloat16 if clf.precision_ == "bfloat16" else None
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.float32,
                                                enabled=dtype is not None):
        output = module(**inputs, output_hidden_states=kind is not None)
        proba = torch.softmax(output.logits.double(), dim=-1).numpy()
        if kind is None:
            return proba
        pooled = module.bert.pooler(output.hidden_states[-1])
    return proba, pooled.float().numpy()


@pytest.fixture(scope="module")
def fitted(tiny_bert_dir):
    torch.set_num_threads(1)
    X, y = tiny_texts()
    return make(tiny_bert_dir, train_steps=20).fit(X, y)


# The split ----------------------------------------------------------------------


def test_only_the_top_trains(fitted):
    module = fitted.module_
    assert fitted.n_frozen_layers_ == 1
    frozen = [name for name, p in module.named_parameters() if not p.requires_grad]
    trained = [name for name, p in module.named_parameters() if p.requires_grad]
    assert all(name.startswith(("bert.embeddings.", "bert.encoder.layer.0."))
               for name in frozen)
    assert any(name.startswith("bert.embeddings.") for name in frozen)
    assert all(name.startswith(("bert.encoder.layer.1.", "bert.pooler.", "classifier."))
               for name in trained)
    in_optimizer = {id(p) for group in fitted.optimizer_.param_groups
                    for p in group["params"]}
    assert in_optimizer == {id(p) for p in module.parameters() if p.requires_grad}


def test_frozen_weights_do_not_move_and_the_top_does(tiny_bert_dir):
    X, y = tiny_texts()
    before = make(tiny_bert_dir, max_epochs=0, train_steps=None).fit(X, y).module_
    after = make(tiny_bert_dir, train_steps=10).fit(X, y).module_
    old, new = before.state_dict(), after.state_dict()
    for name in old:
        if name.startswith("classifier."):
            continue  # a new head: same seed, then trained
        moved = not torch.equal(old[name], new[name])
        frozen = name.startswith(("bert.embeddings.", "bert.encoder.layer.0."))
        assert moved != frozen, name


# Cache equivalence --------------------------------------------------------------


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_cached_predictions_equal_the_whole_model(tiny_bert_dir, precision):
    if precision == "bfloat16" and not bf16_is_native():
        pytest.skip("no native bfloat16 on this CPU")
    X, y = tiny_texts()
    clf = make(tiny_bert_dir, precision=precision).fit(X, y)
    texts = POOL + X
    expected = full_forward(clf, texts)
    cold = clf.predict_proba(texts)  # trunk computed, stored
    warm = clf.predict_proba(texts)  # read from the cache
    # float32: the same arithmetic; bfloat16: rounding of the bf16 products
    atol = 1e-5 if precision == "float32" else 2e-2
    np.testing.assert_allclose(cold, expected, atol=atol)
    np.testing.assert_array_equal(warm, cold)
    assert clf.trunk_cache_.hits >= len(texts)
    uncached = clone(clf).set_params(trunk_cache=None)
    uncached.initialize()
    uncached.fit(X, y)
    np.testing.assert_allclose(uncached.predict_proba(texts), cold, atol=atol)
    assert not hasattr(uncached, "trunk_cache_")


def test_cached_embeddings_equal_the_whole_model(fitted):
    X, _ = tiny_texts()
    expected_proba, expected_pooler = full_forward(fitted, POOL + X, kind="pooler")
    proba, pooler = fitted.predict_proba_and_embed(POOL + X, kind="pooler")
    np.testing.assert_allclose(proba, expected_proba, atol=1e-5)
    np.testing.assert_allclose(pooler, expected_pooler, atol=1e-5)
    penultimate = fitted.embed(POOL + X, kind="penultimate")
    np.testing.assert_allclose(penultimate, expected_pooler, atol=1e-5)


def test_each_distinct_input_goes_through_the_trunk_once(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make(tiny_bert_dir).fit(X, y)
    calls = []
    base = clf.module_.bert
    handle = base.embeddings.register_forward_hook(
        lambda module, args, output: calls.append(output.shape[0])
    )
    try:
        clf.predict_proba(POOL + POOL)  # duplicates computed once
        clf.predict_proba(POOL[:3])
        clf.embed(POOL)
    finally:
        handle.remove()
    assert sum(calls) == len(POOL)


# The cache across refits and its invalidation -------------------------------------


def test_the_cache_survives_refits(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make(tiny_bert_dir).fit(X[:12], y[:12])
    clf.predict_proba(POOL)
    cache = clf.trunk_cache_
    n_entries = len(cache)
    assert n_entries == len(set(X[:12]) | set(POOL))
    clf.set_params(random_state=1).fit(X, y)  # a refit, as an active learner does
    assert clf.trunk_cache_ is cache
    misses = cache.misses
    clf.predict_proba(POOL + X)
    assert cache.misses == misses  # nothing recomputed
    assert len(cache) == len(set(X) | set(POOL))


@pytest.mark.parametrize(
    "change",
    [{"trainable_layers": 2}, {"trainable_layers": None}, {"precision": "bfloat16"}],
)
def test_a_changed_parameter_invalidates_the_cache(tiny_bert_dir, change):
    if change.get("precision") == "bfloat16" and not bf16_is_native():
        pytest.skip("no native bfloat16 on this CPU")
    X, y = tiny_texts()
    clf = make(tiny_bert_dir).fit(X, y)
    clf.predict_proba(POOL)
    old = clf.trunk_cache_
    clf.set_params(**change).fit(X, y)
    if change.get("trainable_layers", 1) is None:
        assert clf.n_frozen_layers_ is None
        np.testing.assert_allclose(clf.predict_proba(POOL), full_forward(clf, POOL),
                                   atol=1e-5)
        return
    new = clf.trunk_cache_
    assert new is not old and new.fingerprint != old.fingerprint
    assert len(new) == len(X)  # only what this fit computed
    proba = clf.predict_proba(POOL)
    atol = 1e-5 if clf.precision_ == "float32" else 2e-2
    np.testing.assert_allclose(proba, full_forward(clf, POOL), atol=atol)


def test_another_model_gets_another_cache(tiny_bert_dir, tmp_path):
    from _tiny_models import build_tiny_bert

    other_dir = build_tiny_bert(tmp_path / "other", seed=1)
    X, y = tiny_texts()
    one = make(tiny_bert_dir).fit(X, y)
    other = make(other_dir).fit(X, y)
    # same file names, sizes and config: only the weights differ
    assert one.trunk_cache_.fingerprint != other.trunk_cache_.fingerprint


def test_frozen_weights_changed_in_place_invalidate_the_cache(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make(tiny_bert_dir).fit(X, y)
    clf.predict_proba(POOL)
    old = clf.trunk_cache_
    with torch.no_grad():
        clf.module_.bert.encoder.layer[0].output.dense.bias.add_(0.5)
    proba = clf.predict_proba(POOL)
    assert clf.trunk_cache_ is not old
    np.testing.assert_allclose(proba, full_forward(clf, POOL), atol=1e-5)


def test_keys_follow_the_tokens_the_trunk_sees(fitted):
    long_text = " ".join(["good"] * 30)
    encode_at = {n: encode(fitted.tokenizer_, [long_text, "fine"], n)[0]
                 for n in (8, 16)}
    keys = {n: token_keys(encoding) for n, encoding in encode_at.items()}
    assert keys[8][0] != keys[16][0]  # truncated differently
    assert keys[8][1] == keys[16][1]  # the same tokens
    pair = encode(fitted.tokenizer_, [("good", "fine")], 16)[0]
    swapped = encode(fitted.tokenizer_, [("fine", "good")], 16)[0]
    assert token_keys(pair) != token_keys(swapped)
    fitted.set_params(max_length=8)
    try:
        with pytest.warns(UserWarning, match="truncated"):
            short = fitted.predict_proba([long_text])
        expected = full_forward(fitted, [long_text])
    finally:
        fitted.set_params(max_length=128)
    np.testing.assert_allclose(short, expected, atol=1e-5)
    np.testing.assert_allclose(fitted.predict_proba([long_text]),
                               full_forward(fitted, [long_text]), atol=1e-5)


def test_fingerprint_hashes_weights_layers_and_precision(fitted):
    module = fitted.module_
    memo = {}
    first = trunk_fingerprint(module, 1, "float32", memo)
    assert trunk_fingerprint(module, 1, "float32", memo) == first
    assert trunk_fingerprint(module, 0, "float32") != first
    assert trunk_fingerprint(module, 1, "bfloat16") != first
    assert trunk_fingerprint(module, 1, "float32") == first  # without the memo


# The bound ------------------------------------------------------------------------


def test_the_memory_bound_keeps_the_first_entries():
    row = np.ones((10, 8), dtype=np.float32)  # 160 bytes as float16
    size = 160 + ENTRY_OVERHEAD
    cache = TrunkCache("f", max_bytes=3 * size + 10)
    cache.set_many([(bytes([i]), row * i) for i in range(5)])
    assert len(cache) == 3 and cache.nbytes == 3 * size <= cache.max_bytes
    found = cache.get_many([bytes([i]) for i in range(5)])
    assert [value is not None for value in found] == [True] * 3 + [False] * 2
    np.testing.assert_array_equal(found[2], (row * 2).astype(np.float16))
    assert found[0].dtype == np.float16
    assert (cache.hits, cache.misses) == (3, 2)
    cache.set_many([(b"\x00", row * 7)])  # an existing key is not replaced
    np.testing.assert_array_equal(cache.get_many([b"\x00"])[0], 0)
    assert TrunkCache("f", max_bytes=0).get_many([b"a"]) == [None]


def test_entries_across_blocks_read_back_unchanged(monkeypatch):
    from allsh_sklearn.models import _trunk

    monkeypatch.setattr(_trunk, "BLOCK_BYTES", 100 * 8 * 2)  # 100 rows of 8
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(int(n), 8)) for n in rng.integers(1, 40, size=30)]
    cache = TrunkCache("f", max_bytes=10**6)
    cache.set_many([(bytes([i]), v) for i, v in enumerate(values)])
    assert len(cache) == 30 and len(cache._blocks) > 1
    assert all(block.shape[0] == 100 for block in cache._blocks)
    for value, found in zip(values, cache.get_many([bytes([i]) for i in range(30)]),
                            strict=True):
        np.testing.assert_array_equal(found, value.astype(np.float16))
        assert not found.flags.writeable
    rows = sum(len(v) for v in values)
    assert cache.nbytes == rows * 8 * 2 + 30 * ENTRY_OVERHEAD
    # no block reserves more than the room the bound leaves
    small = TrunkCache("f", max_bytes=2 * (20 * 8 * 2 + ENTRY_OVERHEAD))
    small.set_many([(bytes([i]), np.ones((20, 8))) for i in range(3)])
    assert len(small) == 2 and small.nbytes <= small.max_bytes
    assert sum(block.nbytes for block in small._blocks) <= small.max_bytes


def test_the_bound_holds_through_the_classifier(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make(tiny_bert_dir, trunk_cache_size=0).fit(X, y)
    proba = clf.predict_proba(POOL)
    assert len(clf.trunk_cache_) == 0 and clf.trunk_cache_.nbytes == 0
    np.testing.assert_allclose(proba, full_forward(clf, POOL), atol=1e-5)


# Disk, pickling, Dask-style shipping ------------------------------------------------


def test_disk_cache_is_shared_by_estimators(tiny_bert_dir, tmp_path):
    X, y = tiny_texts()
    first = make(tiny_bert_dir, trunk_cache=tmp_path).fit(X, y)
    expected = first.predict_proba(POOL)
    files = list(tmp_path.glob("trunk-*.sqlite"))
    assert len(files) == 1 and first.trunk_cache_.fingerprint in files[0].name
    second = make(tiny_bert_dir, trunk_cache=str(tmp_path)).fit(X, y)
    assert second.trunk_cache_.hits == len(set(X))  # read from disk
    np.testing.assert_allclose(second.predict_proba(POOL), expected, atol=1e-6)
    assert second.trunk_cache_.misses == 0


def test_pickling_drops_the_entries_not_the_predictions(fitted):
    X, _ = tiny_texts()
    expected = fitted.predict_proba(POOL + X)
    assert len(fitted.trunk_cache_) > 0
    restored = pickle.loads(pickle.dumps(fitted))
    assert len(restored.trunk_cache_) == 0
    assert restored.trunk_cache_.fingerprint == fitted.trunk_cache_.fingerprint
    np.testing.assert_allclose(restored.predict_proba(POOL + X), expected, atol=1e-6)
    assert len(restored.trunk_cache_) == len(set(POOL + X))
    # the shallow views are rebuilt, never pickled
    assert "_top_view" not in pickle.loads(pickle.dumps(fitted)).__dict__


def test_a_pickled_inference_runner_scores_like_the_estimator(fitted):
    # What joblib's Dask backend does with each chunk: pickle the runner (the
    # cache without its entries), run it in another process. The Dask
    # cluster itself is tested in test_transformer_classifier.py.
    from allsh_sklearn.models._inference import InferenceRunner

    X, _ = tiny_texts()
    texts = X + POOL
    expected, embedded = fitted.predict_proba_and_embed(texts)
    runner = InferenceRunner(
        fitted.module_, fitted.tokenizer_, max_length=128, batch_size=4,
        device="cpu", pad_token_id=fitted._pad_token_id(), kind="penultimate",
        n_frozen=fitted.n_frozen_layers_, cache=fitted._trunk_cache(),
        precision=fitted.precision_, storage_dtype=fitted._storage_dtype(),
    )
    shipped = pickle.loads(pickle.dumps(runner))
    assert len(shipped.cache) == 0 and len(runner.cache) > 0
    result = shipped(texts)
    np.testing.assert_allclose(result["proba"], expected, atol=1e-6)
    np.testing.assert_allclose(result["embeddings"], embedded, atol=1e-5)
    assert len(shipped.cache) == len(set(texts))


# Consistency loss and active learning -------------------------------------------------


def test_consistency_training_caches_the_pool_and_its_copies(tiny_bert_dir):
    X, y = tiny_texts()
    X_all = X[:6] + X[10:16] + POOL
    y_all = y[:6] + y[10:16] + [-1] * len(POOL)
    clf = make(tiny_bert_dir, criterion=ConsistencyLoss, criterion__alpha=1.0,
               train_steps=4)
    clf.fit(X_all, y_all)
    assert all("consistency" in batch for batch in clf.history[-1, "batches"])
    copies = clf.augmenter_.augment(POOL, 1)[0]  # seeded: the same copies
    cached = clf.trunk_cache_
    encoded = encode(clf.tokenizer_, list(POOL) + list(copies), 128)[0]
    found = cached.get_many(token_keys(encoded))
    assert all(value is not None for value in found)
    misses = cached.misses
    clf.fit(X_all, y_all)
    assert cached.misses == misses  # the refit computes nothing


def test_active_learner_refits_keep_the_cache(tiny_bert_dir):
    from allsh_sklearn import ActiveLearner
    from allsh_sklearn.strategies import ALLSH

    X, y = tiny_texts()
    y = np.asarray(y)
    start = [0, 1, 10, 11]
    pool = [i for i in range(20) if i not in start]
    X_pool = [X[i] for i in pool]
    learner = ActiveLearner(
        make(tiny_bert_dir), query_strategy=ALLSH(random_state=0),
        X_training=[X[i] for i in start], y_training=y[start], random_state=0,
    )
    indices, chosen = learner.query(X_pool, n_instances=2)
    estimator = learner.estimator_
    cache = estimator.trunk_cache_
    n_computed = cache.misses
    learner.teach(chosen, y[[pool[i] for i in indices]])
    remaining = [t for i, t in enumerate(X_pool) if i not in set(indices)]
    learner.query(remaining, n_instances=2)
    assert learner.estimator_ is estimator and estimator.trunk_cache_ is cache
    # the second query's pool and copies, and the refit, were all cached
    assert cache.misses == n_computed


# Parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"trainable_layers": -1}, ValueError, "'trainable_layers' parameter"),
        ({"trainable_layers": 1.5}, TypeError, "'trainable_layers' parameter"),
        ({"trunk_cache": 3}, TypeError, "'trunk_cache' parameter"),
        ({"trunk_cache_size": -1}, ValueError, "'trunk_cache_size' parameter"),
        ({"precision": "half"}, ValueError, "'precision' parameter"),
        ({"train_steps": "many"}, ValueError, "'train_steps' parameter"),
    ],
)
def test_bad_parameters(tiny_bert_dir, params, error, match):
    X, y = tiny_texts()
    with pytest.raises(error, match=match):
        make(tiny_bert_dir, **params).fit(X, y)


def test_auto_train_steps(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make(tiny_bert_dir, train_steps="auto", max_epochs=1)
    clf.fit(X[:4] + X[10:14], y[:4] + y[10:14])
    assert clf.n_train_steps_ == 200  # the paper's 200 for few labels
    assert len(clf.history[-1, "batches"]) == 200
    big = make(tiny_bert_dir, train_steps="auto", max_epochs=50, batch_size=4)
    assert big._n_train_steps(20) == 250  # 50 epochs of 5 steps
    assert make(tiny_bert_dir, train_steps=7)._n_train_steps(1000) == 7
    assert make(tiny_bert_dir, train_steps=None)._n_train_steps(1000) is None


def test_precision_auto_follows_the_hardware():
    assert resolve_precision("auto") == ("bfloat16" if bf16_is_native() else "float32")
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"


def test_adam_is_fused_unless_told_otherwise(fitted, tiny_bert_dir):
    assert fitted.optimizer_.defaults["fused"] is True
    X, y = tiny_texts()
    plain = make(tiny_bert_dir, optimizer__fused=False, train_steps=1).fit(X, y)
    assert not plain.optimizer_.defaults["fused"]
    sgd = make(tiny_bert_dir, optimizer=torch.optim.SGD, train_steps=1).fit(X, y)
    assert "fused" not in sgd.get_params_for_optimizer("optimizer", [])[1]


def test_a_model_without_the_bert_layout_needs_full_fine_tuning(tiny_bert_dir,
                                                                  tmp_path):
    from transformers import DistilBertConfig, DistilBertModel

    directory = tmp_path / "distil"
    directory.mkdir()
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
                 "tokenizer.json"):
        if (tiny_bert_dir / name).exists():
            shutil.copy(tiny_bert_dir / name, directory / name)
    config = DistilBertConfig(vocab_size=64, dim=16, n_layers=2, n_heads=2,
                              hidden_dim=24, max_position_embeddings=64)
    DistilBertModel(config).save_pretrained(str(directory))
    X, y = tiny_texts()
    with pytest.raises(ValueError, match="trainable_layers=None"):
        make(directory).fit(X, y)
    clf = make(directory, trainable_layers=None).fit(X, y)
    assert clf.predict_proba(X).shape == (20, 2)


# The runner's tiers ------------------------------------------------------------------


def test_fast_tier_has_the_papers_cl_settings():
    from allsh_sklearn.models import CLASSIFIERS, make_tier

    assert "minilm-fast" in CLASSIFIERS
    fast = make_tier("minilm-fast", max_length=64).prepare(["a", "b"])
    plain = fast.build(classes=[0, 1], random_state=3).get_params()
    assert plain["trainable_layers"] == 2 and plain["precision"] == "auto"
    assert plain["train_steps"] == 200 and plain["lr"] == 1e-4
    assert plain["max_length"] == 64 and plain["random_state"] == 3
    assert plain["criterion"] is torch.nn.CrossEntropyLoss
    cl = fast.build(classes=[0, 1], random_state=3, consistency=True)
    assert cl.uses_unlabeled and cl.get_params()["criterion__alpha"] == 0.01
    assert make_tier("minilm-fast", train_steps=50).build(
        classes=[0, 1]).get_params()["train_steps"] == 50
    # the full fine-tuning tier keeps its meaning: the whole model, float32
    full = make_tier("minilm").build(classes=[0, 1]).get_params()
    assert full["trainable_layers"] is None and full["precision"] == "float32"
    assert full["train_steps"] == 100 and full["lr"] == 5e-5
