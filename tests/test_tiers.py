"""Tests of the classifier tiers and of every estimator in allsh_sklearn.models."""

import inspect
import warnings

import numpy as np
import pytest
from _toy_models import synthetic_texts
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import (
    API_CHECKS,  # the checks that need no numeric data
    heavy_modules_imported_by,
)

from allsh_sklearn.models import (
    CLASSIFIERS,
    TIERS,
    CrossValidatedLogisticRegression,
    FrozenRowCache,
    PairTfidfVectorizer,
    SentenceEncoder,
    make_tier,
)
from allsh_sklearn.models._tiers import base_classifier

# The estimators of allsh_sklearn.models, unfitted where they can be.
# FrozenRowCache wraps an already fitted transformer (it is frozen).
TEXT_ESTIMATORS = [
    PairTfidfVectorizer(),
    FrozenRowCache(PairTfidfVectorizer().fit(["a film", "a play"])),
    SentenceEncoder(),
]


# Estimators on numeric features: every scikit-learn check runs on them.
NUMERIC_ESTIMATORS = [CrossValidatedLogisticRegression()]


def _torch_estimators():
    try:
        from allsh_sklearn.models import TransformerClassifier
    except ImportError:  # pragma: no cover - torch is optional
        return []
    return [TransformerClassifier()]


# scikit-learn's common checks feed numeric 2-d arrays; these estimators take
# texts (tags two_d_array=False, string=True), so scikit-learn skips its data
# checks on them with a SkipTestWarning. The checks that need no data run
# one by one below, on the transformer classifier too. Expected failures,
# with their reasons (each is asserted to still fail):
EXPECTED_FAILED_CHECKS = {
    "TransformerClassifier": {
        # skorch's NeuralNet.__init__ sets history_, initialized_ and
        # virtual_params_ (skorch's design; its own estimators do the same).
        "check_no_attributes_set_in_init": "skorch sets attributes in __init__",
        # skorch's set_params re-initializes the component a parameter
        # belongs to, so a fuzz value such as inf fails inside set_params
        # instead of at fit.
        "check_set_params": "skorch re-initializes components in set_params",
    },
}


def _expected(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(TEXT_ESTIMATORS, expected_failed_checks=_expected)
def test_sklearn_compatible_text_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(NUMERIC_ESTIMATORS)
def test_sklearn_compatible_numeric_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(
    "estimator",
    TEXT_ESTIMATORS + _torch_estimators(),
    ids=lambda estimator: type(estimator).__name__,
)
def test_sklearn_api_checks_that_need_no_numeric_data(estimator, check):
    name = type(estimator).__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if check.__name__ in _expected(estimator):
            with pytest.raises((AssertionError, AttributeError)):
                check(name, estimator)
        else:
            check(name, estimator)


def test_every_model_estimator_is_checked():
    import allsh_sklearn.models as models

    checked = {
        type(e).__name__
        for e in TEXT_ESTIMATORS + NUMERIC_ESTIMATORS + _torch_estimators()
    }
    estimators = {
        name
        for name in models.__all__
        if inspect.isclass(obj := getattr(models, name))
        and hasattr(obj, "get_params")
        and hasattr(obj, "fit")
    }
    if not _torch_estimators():  # pragma: no cover
        estimators.discard("TransformerClassifier")
    assert estimators <= checked


def test_tiers_share_pool_state_and_build_fresh_estimators():
    X, y = synthetic_texts(n=120, seed=2)
    tier = make_tier("tfidf-lr").prepare(X)
    first = tier.build(classes=[0, 1])
    second = tier.build(classes=[0, 1])
    assert first is not second and first.named_steps["lr"] is not second[-1]
    # the frozen, memoized TF-IDF step is the tier's, shared by every build
    assert first.named_steps["tfidf"] is second.named_steps["tfidf"]
    assert clone(first).named_steps["tfidf"] is tier.features_
    assert first.fit(X[:40], y[:40]).score(X[40:], y[40:]) > 0.8
    assert tier.encoder() is None and not tier.supports_consistency


def test_tier_table_and_errors():
    assert set(CLASSIFIERS) == set(TIERS)
    assert all(isinstance(text, str) and text for text in CLASSIFIERS.values())
    assert base_classifier("minilm-frozen-balanced") == "minilm-frozen"
    balanced = make_tier("tfidf-lr-balanced").prepare(["good film", "bad play"])
    assert balanced.build(classes=[0, 1])[-1].class_weight == "balanced"
    with pytest.raises(ValueError, match="'classifier' parameter"):
        make_tier("svm")
    with pytest.raises(ValueError, match="needs classifier='minilm'"):
        balanced.build(classes=[0, 1], consistency=True)
    with pytest.raises(RuntimeError, match=r"call prepare\(X_pool\)"):
        make_tier("tfidf-lr").build(classes=[0, 1])
    frozen = make_tier("minilm-frozen", max_length=64)
    assert frozen.embedding == "encoder"
    assert frozen.build(classes=[0, 1]).named_steps["encoder"].max_length == 64
    fine = make_tier("minilm", train_steps=7)
    assert fine.supports_consistency and fine.fine_tuned and fine.embedding is None
    with pytest.raises(TypeError, match="random_state must be an int"):
        fine.build(classes=[0, 1], random_state=np.random.RandomState(0))


def test_old_import_paths_warn_and_still_work():
    import allsh_sklearn.experiments as experiments
    from allsh_sklearn.loop import ActiveLearningSimulation, derive_seed
    from allsh_sklearn.utils import get_cache_home

    for old, new in [
        ("SentenceEncoder", SentenceEncoder),
        ("PairTfidfVectorizer", PairTfidfVectorizer),
        ("CLASSIFIERS", CLASSIFIERS),
        ("default_cache_dir", get_cache_home),
        ("ActiveLearningSimulation", ActiveLearningSimulation),
        ("derive_seed", derive_seed),
    ]:
        with pytest.warns(DeprecationWarning, match=f"experiments.{old} moved"):
            assert getattr(experiments, old) is new
    with pytest.warns(DeprecationWarning):
        make_classifier = experiments.make_classifier
    shared = {}
    with pytest.warns(DeprecationWarning, match="make_tier"):
        estimator, step = make_classifier(
            "tfidf-lr", ["good film", "bad play"], classes=[0, 1], shared=shared
        )
    assert step == "tfidf"
    assert estimator.named_steps["tfidf"] is shared["tier"].features_


def test_importing_models_does_not_import_torch():
    code = (
        "import allsh_sklearn.models as m;"
        "m.make_tier('tfidf-lr').prepare(['good film', 'bad play'])"
    )
    assert heavy_modules_imported_by(code) == []


def test_cache_home_honours_the_environment(monkeypatch, tmp_path):
    from allsh_sklearn.utils import get_cache_home

    monkeypatch.delenv("ALLSH_SKLEARN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_cache_home() == tmp_path / "xdg" / "allsh_sklearn"
    monkeypatch.setenv("ALLSH_SKLEARN_CACHE", str(tmp_path / "mine"))
    assert get_cache_home() == tmp_path / "mine"
    assert get_cache_home(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("ALLSH_SKLEARN_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(get_cache_home()).endswith(".cache/allsh_sklearn")
    with pytest.raises(TypeError, match="'cache_home' parameter"):
        get_cache_home(3)


def test_sentence_encoder_accepts_what_the_transformer_accepts(tmp_path):
    pytest.importorskip("transformers")
    from _tiny_models import build_tiny_bert

    model = build_tiny_bert(tmp_path / "bert")
    encoder = SentenceEncoder(model=model).fit()  # a Path, not only a str
    assert encoder.embedding_dim_ == 32
    with pytest.raises(TypeError, match="'model' parameter of SentenceEncoder"):
        SentenceEncoder(model=3).fit()
    with pytest.raises(ValueError, match="does not exist"):
        SentenceEncoder(model=str(tmp_path / "missing")).fit()


def _two_blobs(n_per_class, seed, spread=1.0):
    rng = np.random.RandomState(seed)
    X = np.r_[
        rng.normal(-1, spread, (n_per_class, 3)),
        rng.normal(1, spread, (n_per_class, 3)),
    ]
    return X, np.repeat([0, 1], n_per_class)


def test_cross_validated_C_is_the_grid_value_of_best_fold_log_loss():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _two_blobs(12, seed=0, spread=2.0)
    grid = (0.01, 0.3, 10.0)
    model = CrossValidatedLogisticRegression(grid, max_folds=4).fit(X, y)
    folds = StratifiedKFold(4, shuffle=True, random_state=0)
    by_hand = [
        cross_val_score(
            LogisticRegression(C=C, max_iter=2000),
            X,
            y,
            cv=folds,
            scoring="neg_log_loss",
        ).mean()
        for C in grid
    ]
    assert model.n_folds_ == 4
    assert model.C_ == grid[int(np.argmax(by_hand))]
    refit = LogisticRegression(C=model.C_, max_iter=2000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), refit.predict_proba(X))
    np.testing.assert_array_equal(model.predict(X), refit.predict(X))


def test_cross_validated_C_folds_follow_the_smallest_class():
    X, y = _two_blobs(10, seed=1)
    # 3 labels of class 1: 3 folds, each training fold holds both classes
    keep = np.r_[np.arange(10), 10, 11, 12]
    assert CrossValidatedLogisticRegression().fit(X[keep], y[keep]).n_folds_ == 3
    assert CrossValidatedLogisticRegression(max_folds=2).fit(X, y).n_folds_ == 2
    # a class with a single label: no stratified split, the fallback C
    keep = np.r_[np.arange(10), 10]
    single = CrossValidatedLogisticRegression(fallback_C=7.0).fit(X[keep], y[keep])
    assert (single.C_, single.n_folds_) == (7.0, 0)
    # one C: used without a search, whatever the class counts
    one = CrossValidatedLogisticRegression([0.5]).fit(X[keep], y[keep])
    assert (one.C_, one.n_folds_) == (0.5, 0)


def test_cross_validated_C_weakens_regularisation_on_separable_labels():
    # Well separated classes: the log-loss keeps falling as C grows, so the
    # search leaves the prior-like C = 1 that a fixed choice would keep.
    X, y = _two_blobs(15, seed=2, spread=0.3)
    model = CrossValidatedLogisticRegression().fit(X, y)
    assert model.C_ > 1.0
    # Labels independent of the features: strong regularisation wins.
    rng = np.random.RandomState(3)
    noise = CrossValidatedLogisticRegression().fit(X, rng.permutation(y))
    assert noise.C_ < model.C_


@pytest.mark.parametrize(
    "params, match",
    [
        ({"Cs": []}, "'Cs' parameter"),
        ({"Cs": [1.0, -1.0]}, "'Cs' parameter"),
        ({"Cs": 1.0}, "'Cs' parameter"),
        ({"Cs": ["a", "b"]}, "'Cs' parameter"),
        ({"max_folds": 1}, "'max_folds' parameter"),
        ({"max_folds": 2.5}, "'max_folds' parameter"),
        ({"fallback_C": 0.0}, "'fallback_C' parameter"),
        ({"fallback_C": "1"}, "'fallback_C' parameter"),
    ],
)
def test_cross_validated_C_rejects_bad_parameters(params, match):
    X, y = _two_blobs(5, seed=0)
    with pytest.raises(ValueError, match=match):
        CrossValidatedLogisticRegression(**params).fit(X, y)


def test_cross_validated_tiers_build_the_cross_validated_regression():
    X, y = synthetic_texts(n=200, seed=4)
    for name, fallback in (("tfidf-lr-cv", 100.0), ("minilm-frozen-cv", 1.0)):
        assert "C chosen at every fit" in CLASSIFIERS[name]
        tier = make_tier(name)
        assert tier.cross_validate_C
        head = tier.prepare(X).build(classes=[0, 1])[-1]
        assert isinstance(head, CrossValidatedLogisticRegression)
        assert head.fallback_C == fallback
    model = make_tier("tfidf-lr-cv").prepare(X).build(classes=[0, 1])
    model.fit(X[:60], y[:60])
    assert model[-1].n_folds_ == 5 and model[-1].C_ in model[-1].Cs
    assert model.score(X[60:], y[60:]) > 0.8
    assert not make_tier("tfidf-lr").cross_validate_C


# The TF-IDF tier's fit (issue 30): labeled columns only, newton-cg -----------


def _pool_and_unseen_words(n=150, n_classes=3, seed=5):
    """Texts of which the first ``n // 2`` are labeled; the rest hold words
    no labeled text has (so the pool's vocabulary is larger than theirs)."""
    X, y = synthetic_texts(n=n, n_classes=n_classes, seed=seed)
    half = n // 2
    X = X[:half] + [f"{text} unseen{i} word{i % 7}x" for i, text in enumerate(X[half:])]
    return X, y, half


def test_tfidf_tiers_fit_the_labeled_columns():
    from sklearn.feature_selection import VarianceThreshold

    X, y, half = _pool_and_unseen_words()
    for name, solver in [
        ("tfidf-lr", "lbfgs"),
        ("tfidf-lr-balanced", "lbfgs"),
        ("tfidf-lr-20k", "newton-cg"),
        ("tfidf-lr-20k-balanced", "newton-cg"),
    ]:
        tier = make_tier(name).prepare(X)
        model = tier.build(classes=[0, 1, 2])
        steps = [step for step, _ in model.steps]
        assert steps == ["tfidf", "labeled_vocabulary", "lr"], name
        assert isinstance(model.named_steps["labeled_vocabulary"], VarianceThreshold)
        assert model.named_steps["lr"].solver == solver, name
        model.fit(X[:half], y[:half])
        features = tier.features_.transform(X[:half])
        used = np.unique(features.nonzero()[1])
        # every column some labeled text has, and no other
        support = model.named_steps["labeled_vocabulary"].get_support(indices=True)
        np.testing.assert_array_equal(support, used)
        assert len(used) < features.shape[1]
        assert model.named_steps["lr"].coef_.shape == (3, len(used))
    # the frozen-encoder tiers keep L-BFGS on their 384 columns
    assert make_tier("minilm-frozen").solver == "lbfgs"


def test_tfidf_lr_is_the_model_it_was_before_issue_30():
    # L-BFGS never moves the coefficients of a column no labeled text has:
    # fitted on the labeled columns only, it takes the same steps and stops
    # at the same model (to rounding).
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y, half = _pool_and_unseen_words(n=200, seed=6)
    tier = make_tier("tfidf-lr").prepare(X)
    now = tier.build(classes=[0, 1, 2]).fit(X[:half], y[:half])
    before = Pipeline(
        [
            ("tfidf", tier.features_),
            ("lr", LogisticRegression(C=tier.C, max_iter=2000)),
        ]
    ).fit(X[:half], y[:half])
    assert now[-1].n_iter_.tolist() == before[-1].n_iter_.tolist()
    np.testing.assert_allclose(
        now.predict_proba(X[half:]), before.predict_proba(X[half:]), atol=1e-10
    )


def test_capped_tfidf_tier_keeps_the_most_frequent_terms():
    from allsh_sklearn.models._tiers import CappedTfidfTier

    X, y, half = _pool_and_unseen_words()
    tier = make_tier("tfidf-lr-20k")
    assert isinstance(tier, CappedTfidfTier) and tier.max_features == 20_000
    assert "20,000 most frequent" in CLASSIFIERS["tfidf-lr-20k"]
    assert make_tier("tfidf-lr").max_features is None

    class Capped(CappedTfidfTier):
        max_features = 10

    small = Capped("tfidf-lr-20k").prepare(X)
    vocabulary = small.features_.transformer.vectorizer_.vocabulary_
    assert len(vocabulary) == 10
    assert not any(word.startswith("unseen") for word in vocabulary)
    model = small.build(classes=[0, 1, 2]).fit(X[:half], y[:half])
    assert model.named_steps["lr"].coef_.shape[1] <= 10
    cv = make_tier("tfidf-lr-20k-cv").prepare(X).build(classes=[0, 1, 2])
    assert isinstance(cv[-1], CrossValidatedLogisticRegression)


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_fitting_the_labeled_columns_only_leaves_the_optimum_unchanged(class_weight):
    # A column that no labeled text has gets coefficient 0 at the optimum of
    # the L2-penalised log-loss, and one constant over them is absorbed by
    # the unpenalised intercept: dropping them changes nothing. Both fits
    # are converged tightly, so the remaining difference is numerical.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y, half = _pool_and_unseen_words()
    X[0] = X[0] + " constant"  # a column constant over no labeled text...
    X = [f"{text} everywhere" for text in X]  # ... and one constant over all
    tier = make_tier("tfidf-lr").prepare(X)

    def regression():
        return LogisticRegression(
            C=tier.C, class_weight=class_weight, tol=1e-10, max_iter=10_000
        )

    selected = tier.build(classes=[0, 1, 2])
    selected.set_params(lr=regression()).fit(X[:half], y[:half])
    every_column = Pipeline([("tfidf", tier.features_), ("lr", regression())])
    every_column.fit(X[:half], y[:half])
    np.testing.assert_allclose(
        selected.predict_proba(X[half:]),
        every_column.predict_proba(X[half:]),
        atol=1e-6,
    )
    # the coefficients of the dropped columns were 0 (to the solver's precision)
    support = selected.named_steps["labeled_vocabulary"].get_support()
    assert np.abs(every_column[-1].coef_[:, ~support]).max() < 1e-6


def test_tfidf_tier_embeddings_keep_the_whole_vocabulary():
    # CAL and BADGE cut the pipeline after "tfidf": their embeddings are the
    # pool's TF-IDF rows, and the rest of the pipeline (column selection
    # and regression) gives the probabilities.
    from allsh_sklearn.strategies._embeddings import get_proba_and_embeddings

    X, y, half = _pool_and_unseen_words()
    tier = make_tier("tfidf-lr").prepare(X)
    model = tier.build(classes=[0, 1, 2]).fit(X[:half], y[:half])
    proba, embeddings = get_proba_and_embeddings(model, X[half:], tier.embedding)
    assert embeddings.shape == (
        len(X) - half,
        len(tier.features_.transformer.vectorizer_.vocabulary_),
    )
    np.testing.assert_allclose(proba, model.predict_proba(X[half:]))


@pytest.mark.parametrize("name", ["tfidf-lr", "tfidf-lr-20k"])
def test_tfidf_tier_fits_sentence_pairs_on_their_labeled_columns(name):
    pairs = [
        ("a good film", "a great film"),
        ("a bad film", "a good film"),
        ("the cat sat", "the cat sat down"),
        ("dogs run", "cats sleep"),
    ] * 5
    y = np.array([1, 0, 1, 0] * 5)
    tier = make_tier(name).prepare(pairs + [("unseen words", "elsewhere")])
    model = tier.build(classes=[0, 1]).fit(pairs, y)
    n_columns = tier.features_.transform(pairs[:1]).shape[1]
    assert model.named_steps["labeled_vocabulary"].get_support().sum() < n_columns
    assert model.score(pairs, y) == 1.0


def test_tfidf_tier_fit_can_be_the_one_before_issue_30():
    # benchmarks/bench_session.py times the fit before issue 30 beside the
    # new ones: a subclass that fits every column.
    from allsh_sklearn.models import TfidfTier

    class Before(TfidfTier):
        labeled_vocabulary = False

    X, y, half = _pool_and_unseen_words()
    before = Before("tfidf-lr").prepare(X).build(classes=[0, 1, 2])
    assert [name for name, _ in before.steps] == ["tfidf", "lr"]
    assert before.named_steps["lr"].solver == "lbfgs"
    assert before.fit(X[:half], y[:half]).score(X[:half], y[:half]) > 0.8


def test_tfidf_minilm_puts_the_words_beside_the_embedding(tmp_path):
    from sklearn.base import clone

    X, y, half = _pool_and_unseen_words(n=60)
    tier = make_tier("tfidf-minilm", cache_dir=tmp_path, max_length=32).prepare(X)
    assert tier.embedding == "features" and not tier.supports_consistency
    assert "MiniLM" in CLASSIFIERS["tfidf-minilm"]
    model = clone(tier.build(classes=[0, 1, 2]))
    assert [step for step, _ in model.steps] == [
        "features",
        "labeled_vocabulary",
        "lr",
    ]
    model.fit(X[:half], y[:half])
    rows = model.named_steps["features"].transform(X[half:])
    words = tier.features_.transform(X[half:])
    encoder = SentenceEncoder(max_length=32, cache_dir=tmp_path).fit()
    meaning = encoder.transform(X[half:])
    # [TF-IDF row, embedding], both unit norm, weight 1
    assert rows.shape == (len(X) - half, words.shape[1] + meaning.shape[1])
    np.testing.assert_allclose(rows[:, : words.shape[1]].toarray(), words.toarray())
    np.testing.assert_allclose(
        rows[:, words.shape[1] :].toarray(), meaning, rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(np.linalg.norm(meaning, axis=1), 1.0, rtol=1e-5)
    # the embeddings came from the tier's cache: the new encoder ran nothing
    assert encoder.n_encoded_ == 0
    # the regression sees every embedding column (they vary over the labels)
    assert model.named_steps["lr"].coef_.shape[1] > meaning.shape[1]
    assert model.predict_proba(X[half:]).shape == (len(X) - half, 3)
    balanced = make_tier("tfidf-minilm-balanced").prepare(X)
    assert balanced.build(classes=[0, 1, 2])[-1].class_weight == "balanced"
