"""Tests of TransformerClassifier on a tiny BERT built from a config.

The tiny model (2 layers, hidden size 32, a vocabulary written here) is saved
once per session with ``save_pretrained``; nothing is downloaded. One slow
test fine-tunes the real bundled MiniLM on SST-2 texts.
"""

import contextlib
import importlib
import math
import pickle
import time
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
pytest.importorskip("transformers")

from _tiny_models import tiny_texts  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from allsh_sklearn.models import (  # noqa: E402
    ConsistencyLoss,
    TransformerClassifier,
    TruncationWarning,
    default_model_path,
)

pytestmark = pytest.mark.usefixtures("single_thread_torch")


def make_classifier(model_dir, **kwargs):
    params = {"model": str(model_dir), "lr": 1e-3, "batch_size": 4,
              "train_steps": 40, "random_state": 0}
    params.update(kwargs)
    return TransformerClassifier(**params)


@pytest.fixture(scope="module")
def fitted(tiny_bert_dir):
    # The default partial fine-tuning: the tiny BERT's 2 layers train on its
    # frozen (cached) embeddings; a random tiny model needs ~100 steps to
    # leave its plateau.
    torch.set_num_threads(1)
    X, y = tiny_texts()
    return make_classifier(tiny_bert_dir, train_steps=120).fit(X, y)


def _lowercase(texts):
    return [text.lower() for text in texts]


# Defaults -----------------------------------------------------------------------


def test_default_model_is_the_bundled_minilm():
    path = default_model_path()
    assert (path / "config.json").exists()
    assert (path / "model.safetensors").exists()
    clf = TransformerClassifier()
    params = clf.get_params()
    assert params["model"] is None
    assert params["lr"] == 1e-4 and params["batch_size"] == 16
    assert params["max_length"] == 128 and params["device"] == "cpu"
    assert params["optimizer"] is torch.optim.AdamW
    assert params["train_steps"] == "auto" and params["trainable_layers"] == 2
    assert params["trunk_cache"] == "memory" and params["precision"] == "auto"
    assert not clf.uses_unlabeled


# Fit, predict, embed ------------------------------------------------------------


def test_fit_predict_shapes_and_learning(fitted):
    X, y = tiny_texts()
    proba = fitted.predict_proba(X)
    assert proba.shape == (20, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(fitted.predict(X)) <= {0, 1}
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert fitted.score(X, y) >= 0.9  # the tiny corpus is learnable
    assert fitted.embed(X).shape == (20, 32)
    both = fitted.predict_proba_and_embed(X)
    assert both[0].shape == (20, 2) and both[1].shape == (20, 32)
    assert fitted.input_kind_ == "text"


def test_pooler_equals_penultimate_for_bert(fitted):
    X, _ = tiny_texts()
    pooler = fitted.embed(X, kind="pooler")
    penultimate = fitted.embed(X, kind="penultimate")
    np.testing.assert_allclose(pooler, penultimate, atol=1e-6)
    with pytest.raises(ValueError, match="'kind' parameter must be one of"):
        fitted.embed(X, kind="cls")


@contextlib.contextmanager
def _forward_shapes(fitted, inference_batch_size):
    """Record the attention mask shape of each forward call, in a batch size.

    Yields the list the shapes are appended to; the hook and the batch size
    (64) are restored on exit.
    """
    shapes = []
    handle = fitted.module_.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(
            tuple(kwargs["attention_mask"].shape)
        ),
        with_kwargs=True,
    )
    fitted.set_params(inference_batch_size=inference_batch_size)
    try:
        yield shapes
    finally:
        handle.remove()
        fitted.set_params(inference_batch_size=64)


def test_predict_proba_and_embed_runs_one_forward_per_batch(fitted):
    X, _ = tiny_texts()
    with _forward_shapes(fitted, inference_batch_size=8) as shapes:
        proba, embeddings = fitted.predict_proba_and_embed(X)
    # ceil(20 / 8) forward calls, not twice that
    assert [rows for rows, _ in shapes] == [8, 8, 4]
    # Batches of 8 and of 64 pad to other lengths, so float32 kernels sum in
    # another order: a few ulps apart (4e-7 seen), far below a wrong row's.
    np.testing.assert_allclose(proba, fitted.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(embeddings, fitted.embed(X, kind="penultimate"),
                               atol=1e-5)


def test_inference_sorts_by_length_and_restores_order(fitted):
    X, _ = tiny_texts()
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(X[i].split(), size=1 + i % 9)) for i in range(20)]
    with _forward_shapes(fitted, inference_batch_size=5) as shapes:
        batched = fitted.predict_proba(texts)
    # length-sorted batches with dynamic padding: widths grow, the first
    # batch is far narrower than the longest text
    widths = [width for _, width in shapes]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    one_by_one = np.vstack([fitted.predict_proba([text]) for text in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    fitted.set_params(chunk_size=3)
    try:
        np.testing.assert_allclose(fitted.predict_proba(texts), batched, atol=1e-6)
    finally:
        fitted.set_params(chunk_size=1024)


def test_any_label_values(tiny_bert_dir):
    X, y = tiny_texts()
    names = np.array(["neg", "pos"])[y]
    clf = make_classifier(tiny_bert_dir, train_steps=2).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["neg", "pos"])
    assert set(clf.predict(X)) <= {"neg", "pos"}
    y3 = [10, 20, 30, 30, 20] * 4
    clf3 = make_classifier(tiny_bert_dir, train_steps=2).fit(X, y3)
    np.testing.assert_array_equal(clf3.classes_, [10, 20, 30])
    assert clf3.predict_proba(X).shape == (20, 3)
    assert clf3.module_.config.num_labels == 3


def test_same_seed_same_predictions(tiny_bert_dir):
    X, y = tiny_texts()
    first = make_classifier(tiny_bert_dir, train_steps=6).fit(X, y).predict_proba(X)
    second = make_classifier(tiny_bert_dir, train_steps=6).fit(X, y).predict_proba(X)
    other = make_classifier(tiny_bert_dir, train_steps=6, random_state=1).fit(X, y)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other.predict_proba(X))


def test_train_steps_and_epochs(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make_classifier(tiny_bert_dir, train_steps=3).fit(X, y)
    assert len(clf.history) == 1 and len(clf.history[-1, "batches"]) == 3
    clf = make_classifier(tiny_bert_dir, train_steps=None, max_epochs=2,
                          batch_size=16).fit(X, y)
    assert len(clf.history) == 2
    assert [len(epoch["batches"]) for epoch in clf.history] == [2, 2]


def test_sentence_pairs(tiny_bert_dir):
    X, y = tiny_texts()
    pairs = [
        (text, "same" if label else "different")
        for text, label in zip(X, y, strict=True)
    ]
    clf = make_classifier(tiny_bert_dir, train_steps=10).fit(pairs, y)
    assert clf.input_kind_ == "pair"
    assert clf.predict_proba(pairs).shape == (20, 2)
    assert clf.embed(np.array(pairs)).shape == (20, 32)  # 2-d array of pairs
    with pytest.raises(ValueError, match="fitted on pairs; got texts"):
        clf.predict(X)
    with pytest.raises(ValueError, match="only texts or only"):
        clf.predict([pairs[0], "a good film"])


# scikit-learn compatibility -----------------------------------------------------


def test_clone_pipeline_and_grid_search(tiny_bert_dir):
    X, y = tiny_texts()
    clf = make_classifier(tiny_bert_dir, train_steps=3, criterion=ConsistencyLoss,
                          criterion__alpha=0.05)
    copy = clone(clf)
    assert copy.get_params()["criterion__alpha"] == 0.05
    assert copy.get_params()["model"] == str(tiny_bert_dir)
    with pytest.raises(NotFittedError):
        copy.predict(X)
    pipeline = Pipeline([("lower", FunctionTransformer(_lowercase)), ("clf", clf)])
    assert pipeline.fit(X, y).predict(X).shape == (20,)
    search = GridSearchCV(
        make_classifier(tiny_bert_dir, train_steps=3),
        {"lr": [1e-3, 1e-5], "max_length": [8, 16]}, cv=2,
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"lr", "max_length"}
    assert search.predict(X).shape == (20,)
    nested = GridSearchCV(
        make_classifier(tiny_bert_dir, train_steps=2, criterion=ConsistencyLoss),
        {"criterion__alpha": [0.0, 0.1]}, cv=2,
    ).fit(X, y)
    assert nested.best_params_["criterion__alpha"] in (0.0, 0.1)


def test_pickle_round_trip(fitted):
    X, _ = tiny_texts()
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)


def test_save_params_and_load_params(fitted, tiny_bert_dir, tmp_path):
    X, _ = tiny_texts()
    fitted.save_params(f_params=tmp_path / "params.pt")
    # declared classes: initialize() loads the model, load_params the weights
    restored = make_classifier(tiny_bert_dir, classes=[0, 1]).initialize()
    restored.load_params(f_params=tmp_path / "params.pt")
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X),
                               atol=1e-7)


def test_sklearn_tags():
    tags = TransformerClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"


# Bad input ----------------------------------------------------------------------


def test_truncation_is_counted_in_a_warning(fitted):
    X, _ = tiny_texts()
    long_text = " ".join(X)  # far beyond 10 tokens
    fitted.set_params(max_length=10)
    try:
        with pytest.warns(TruncationWarning, match="1 of 3 texts .* max_length=10"):
            proba = fitted.predict_proba([X[0], long_text, X[1]])
    finally:
        fitted.set_params(max_length=128)
    assert proba.shape == (3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        fitted.predict_proba(X)  # nothing long: no warning


def test_max_length_is_capped_at_the_model_limit(fitted):
    assert fitted.max_length == 128 and fitted.model_max_length_ == 64
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        assert fitted.predict_proba([" ".join(["good"] * 62)]).shape == (1, 2)
    with pytest.warns(TruncationWarning, match="max_length=64"):
        fitted.predict_proba([" ".join(["good"] * 63)])


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["a good film", ""], ValueError, "must not contain empty texts"),
        (["a good film", 3], TypeError, "int 3 at index 1"),
        ([], ValueError, "non-empty sequence"),
        ("a good film", TypeError, "not a single string"),
    ],
)
def test_bad_texts(fitted, X, error, match):
    with pytest.raises(error, match=match):
        fitted.predict_proba(X)


def test_bad_labels(tiny_bert_dir, fitted):
    X, y = tiny_texts()
    clf = make_classifier(tiny_bert_dir, train_steps=1)
    with pytest.raises(ValueError, match="same length. Got 20 texts and 19 labels"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="all labeled -1"):
        clf.fit(X, [-1] * 20)
    with pytest.raises(ValueError, match=r"at least 2 classes. Got only \[1\]"):
        clf.fit(X, [1] * 20)
    with pytest.raises(ValueError, match="missing labels"):
        clf.fit(X[:2], [1, None])
    with pytest.raises(ValueError, match=r"labels \[7\] that were not seen in fit"):
        fitted.score(X[:2], [7, 1])


def test_declared_classes_allow_a_one_class_first_fit(tiny_bert_dir):
    X, _ = tiny_texts()
    clf = make_classifier(tiny_bert_dir, train_steps=1, classes=[0, 1])
    clf.fit(X[:10], [1] * 10)
    assert clf.predict_proba(X).shape == (20, 2)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not among"):
        clf.fit(X[:2], [1, 2])


def test_not_fitted_and_bad_parameters(tiny_bert_dir):
    X, y = tiny_texts()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TransformerClassifier(model=str(tiny_bert_dir)).predict_proba(X)
    with pytest.raises(TypeError, match="'module' parameter of Transformer"):
        make_classifier(tiny_bert_dir, module=torch.nn.Linear).fit(X, y)
    with pytest.raises(ValueError, match="'train_steps' parameter"):
        make_classifier(tiny_bert_dir, train_steps=0).fit(X, y)
    with pytest.raises(TypeError, match="'model' parameter"):
        TransformerClassifier(model=3).fit(X, y)


def test_bad_model_directories(tmp_path, tiny_bert_dir):
    X, y = tiny_texts()
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match="does not exist"):
        make_classifier(missing).fit(X, y)
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer.json"):
        (no_weights / name).write_bytes((tiny_bert_dir / name).read_bytes())
    with pytest.raises(ValueError, match="has no weights"):
        make_classifier(no_weights).fit(X, y)
    no_tokenizer = tmp_path / "no_tokenizer"
    no_tokenizer.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_tokenizer / name).write_bytes((tiny_bert_dir / name).read_bytes())
    with pytest.raises(ValueError, match="has no a tokenizer|no a tokenizer"):
        make_classifier(no_tokenizer).fit(X, y)


def test_head_size_mismatch(tiny_bert_head3_dir):
    X, y = tiny_texts()
    with pytest.raises(ValueError, match=r"head for 3 labels.*y has 2 classes"):
        make_classifier(tiny_bert_head3_dir, train_steps=1).fit(X, y)
    clf = make_classifier(tiny_bert_head3_dir, train_steps=1,
                          ignore_mismatched_sizes=True).fit(X, y)
    assert clf.predict_proba(X).shape == (20, 2)
    three = make_classifier(tiny_bert_head3_dir, train_steps=1)
    assert three.fit(X, [0, 1, 2, 2, 1] * 4).predict_proba(X).shape == (20, 3)


# Progress bars ------------------------------------------------------------------


def test_progress_bars_only_when_asked(tiny_bert_dir, capsys):
    X, y = tiny_texts()
    make_classifier(tiny_bert_dir, train_steps=2).fit(X, y).predict_proba(X)
    assert capsys.readouterr().err == ""
    clf = make_classifier(tiny_bert_dir, train_steps=2, progress_bar=True).fit(X, y)
    clf.predict_proba(X)
    err = capsys.readouterr().err
    assert "train steps" in err and "predict_proba" in err


# Scale: chunked inference through joblib, on a Dask cluster ---------------------


def test_dask_cluster_gives_the_same_probabilities(fitted):
    distributed = pytest.importorskip("distributed")
    import joblib

    X, _ = tiny_texts()
    texts = X * 3
    fitted.set_params(chunk_size=16)
    try:
        expected = fitted.predict_proba(texts)
        # two single-thread workers: with one slot joblib runs tasks in-process
        with distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
            dashboard_address=None, silence_logs=40,
        ) as cluster, distributed.Client(cluster) as client:
            # import torch/transformers on both workers at once, not per task
            client.run(importlib.import_module, "allsh_sklearn.models")
            with distributed.get_task_stream(client) as stream:
                with joblib.parallel_backend("dask"):
                    got = fitted.predict_proba(texts)
                    got_embed = fitted.predict_proba_and_embed(texts)[1]
            assert len(stream.data) >= math.ceil(len(texts) / 16)
    finally:
        fitted.set_params(chunk_size=1024)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got_embed, fitted.embed(texts, kind="penultimate"),
                               rtol=1e-5, atol=1e-6)


# Active learning through allsh_sklearn.ActiveLearner ------------------------------


def _active_learning_imports():
    try:
        from allsh_sklearn import ActiveLearner
        from allsh_sklearn.strategies import ALLSH, entropy_sampling
    except ImportError as error:  # pragma: no cover - depends on the lead's work
        pytest.skip(f"allsh_sklearn.ActiveLearner / strategies not available: {error}")
    return ActiveLearner, ALLSH, entropy_sampling


def test_active_learning_with_entropy_and_allsh(tiny_bert_dir):
    ActiveLearner, ALLSH, entropy_sampling = _active_learning_imports()
    X, y = tiny_texts()
    y = np.asarray(y)
    start = [0, 10]
    pool = [i for i in range(20) if i not in start]
    X_pool = [X[i] for i in pool]
    for strategy in (entropy_sampling, ALLSH(random_state=0)):
        learner = ActiveLearner(
            make_classifier(tiny_bert_dir, train_steps=4),
            query_strategy=strategy,
            X_training=[X[i] for i in start], y_training=y[start], random_state=0,
        )
        indices, chosen = learner.query(X_pool, n_instances=3)
        assert len(set(indices.tolist())) == 3 and len(chosen) == 3
        learner.teach(chosen, y[[pool[i] for i in indices]])
        assert len(learner.X_training_) == 5
        assert learner.predict_proba(X_pool).shape == (18, 2)
        assert np.isfinite(learner.query_history_[-1]["scores"]).all()


def test_active_learning_feeds_the_pool_to_consistency_training(tiny_bert_dir):
    ActiveLearner, ALLSH, _ = _active_learning_imports()
    X, y = tiny_texts()
    y = np.asarray(y)
    start = [0, 1, 10, 11]
    pool = [i for i in range(20) if i not in start]
    X_pool = [X[i] for i in pool]
    clf = make_classifier(tiny_bert_dir, train_steps=3, criterion=ConsistencyLoss,
                          criterion__alpha=0.5)
    learner = ActiveLearner(clf, query_strategy=ALLSH(random_state=0),
                            X_training=[X[i] for i in start], y_training=y[start],
                            random_state=0)
    indices, chosen = learner.query(X_pool, n_instances=2)
    learner.teach(chosen, y[[pool[i] for i in indices]])
    estimator = learner.estimator_
    assert estimator.uses_unlabeled
    # the 14 remaining pool texts were used as unlabeled data
    assert all("consistency" in batch for batch in estimator.history[-1, "batches"])
    assert hasattr(estimator, "augmenter_")


# Integration: the real bundled MiniLM on SST-2 ------------------------------------


@pytest.mark.slow
def test_default_parameters_learn_sst2_from_64_labels(data_home, record_property):
    """With default parameters, 64 random SST-2 training texts reach 65% on test.

    The defaults train the top 2 layers of MiniLM for 200 steps on a cached
    frozen trunk; one estimator is refitted per seed (as an active learner
    refits), so the test sentences go through the frozen trunk once.
    """
    from allsh_sklearn.datasets import load_dataset

    X_train, y_train = load_dataset("sst2", "train", data_home=data_home,
                                    return_X_y=True)
    X_test, y_test = load_dataset("sst2", "test", data_home=data_home,
                                  return_X_y=True)
    X_train, y_train = list(X_train), np.asarray(y_train)
    clf = TransformerClassifier()
    accuracies, fit_seconds = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(X_train), size=64, replace=False)
        assert len(np.unique(y_train[chosen])) == 2
        start = time.perf_counter()
        clf.set_params(random_state=seed).fit([X_train[i] for i in chosen],
                                              y_train[chosen])
        fit_seconds.append(time.perf_counter() - start)
        accuracies.append(clf.score(X_test, y_test))
    assert clf.n_train_steps_ == 200 and clf.n_frozen_layers_ == 4
    record_property("sst2_64_accuracies", accuracies)
    record_property("fit_seconds", fit_seconds)
    print(f"\n64 SST-2 labels, default TransformerClassifier: test accuracy "
          f"{np.mean(accuracies):.3f} ({', '.join(f'{a:.3f}' for a in accuracies)}); "
          f"fits {', '.join(f'{s:.0f}' for s in fit_seconds)} s")
    assert np.mean(accuracies) >= 0.65
