"""A new classifier tier reaches every driver with no driver edit.

The tier below is written as a user would: one subclass of
:class:`~allsh_sklearn.models.ClassifierTier` (character n-gram TF-IDF
fitted on the pool, then logistic regression) and one call of the public
:func:`~allsh_sklearn.models.register_tier`. The experiment runner and a
labeling session then train it by its name, as they train ``"tfidf-lr"``:
nothing in ``experiments/_runner.py`` or ``session/`` names it.

Adding a tier takes 1 file: the tier's module, which defines the subclass
and registers it (here this test module; the ``registered`` fixture makes
the call and undoes it after each test). A tier of this package is instead
one subclass and one entry of ``TIERS`` in ``models/_tiers.py``.
"""

import numpy as np
import pytest
from _data_home import write_data_home
from _session_data import create_session, label_open_batch, make_pool
from _toy_models import synthetic_texts
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from allsh_sklearn.experiments import ExperimentRunner
from allsh_sklearn.models import (
    CLASSIFIERS,
    TIERS,
    ClassifierTier,
    FrozenRowCache,
    TfidfTier,
    make_tier,
    register_tier,
)
from allsh_sklearn.session import LabelingSession
from allsh_sklearn.utils._storage import JsonlLog

# The tier: one module's worth of code ---------------------------------------


class CharNgramTier(ClassifierTier):
    """Character 2-4-gram TF-IDF fitted on the pool (frozen) + logistic regression.

    ``prepare`` fits the vectorizer on the whole unlabeled pool (no labels)
    and freezes it in a :class:`~allsh_sklearn.models.FrozenRowCache` kept
    as ``features_``: every classifier the tier builds shares it, each text
    is vectorized once per run, and a labeling session stores it once
    rather than in every round's model. Parameters are those of
    :class:`~allsh_sklearn.models.ClassifierTier`.
    """

    #: The pipeline step CAL and BADGE take embeddings from.
    embedding = "chars"
    description = "character 2-4-gram TF-IDF (fitted on the pool) + logistic regression"
    C = 10.0
    #: The size of every pool the tier was prepared on (to check that a
    #: reopened session does not prepare it again).
    prepared = []

    def prepare(self, X_pool):
        CharNgramTier.prepared.append(len(X_pool))
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True
        )
        self.features_ = FrozenRowCache(vectorizer.fit(list(X_pool)))
        return self

    def _build(self, classes, random_state, consistency):
        regression = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=2000
        )
        return Pipeline([("chars", self.features_), ("lr", regression)])


NAME = "toy-chars"


@pytest.fixture
def registered():
    """Register the tier for one test (a user's module would do it at import)."""
    register_tier(NAME, CharNgramTier)
    CharNgramTier.prepared.clear()
    yield NAME
    TIERS.pop(NAME, None)
    CLASSIFIERS.pop(NAME, None)


# The registry ------------------------------------------------------------------


def test_a_registered_tier_is_built_by_name(registered):
    assert TIERS[registered] == (CharNgramTier, {})
    assert CLASSIFIERS[registered] == CharNgramTier.description
    X, y = synthetic_texts(n=120, seed=3)
    tier = make_tier(registered).prepare(X)
    assert isinstance(tier, CharNgramTier) and tier.name == registered
    model = tier.build(classes=[0, 1]).fit(X[:60], y[:60])
    assert model.named_steps["chars"] is tier.features_
    assert model.score(X[60:], y[60:]) > 0.8
    assert not tier.supports_consistency and tier.encoder() is None


def test_register_tier_with_options_and_its_errors(registered):
    register_tier("toy-chars-balanced", CharNgramTier, class_weight="balanced")
    try:
        tier = make_tier("toy-chars-balanced").prepare(["a good film", "a bad play"])
        assert tier.build(classes=[0, 1])[-1].class_weight == "balanced"
        assert "class_weight='balanced'" in CLASSIFIERS["toy-chars-balanced"]
    finally:
        TIERS.pop("toy-chars-balanced")
        CLASSIFIERS.pop("toy-chars-balanced")
    with pytest.raises(ValueError, match="'name' parameter of register_tier.*"):
        register_tier(registered, CharNgramTier)
    with pytest.raises(ValueError, match="'tfidf-lr', which names the TfidfTier"):
        register_tier("tfidf-lr", TfidfTier)
    with pytest.raises(ValueError, match="lower-case letters"):
        register_tier("Toy Chars", CharNgramTier)
    with pytest.raises(TypeError, match="subclass of ClassifierTier"):
        register_tier("toy-lr", LogisticRegression)

    class Undescribed(CharNgramTier):
        description = ""

    with pytest.raises(ValueError, match="must set description"):
        register_tier("toy-undescribed", Undescribed)
    with pytest.raises(TypeError, match="cannot set \\['max_length'\\]"):
        register_tier("toy-long", CharNgramTier, max_length=512)
    with pytest.raises(TypeError, match="must be parameters of CharNgramTier"):
        register_tier("toy-typo", CharNgramTier, class_wieght="balanced")
    assert set(TIERS) == set(CLASSIFIERS)
    assert not {"toy-undescribed", "toy-long", "toy-typo"} & set(TIERS)


def test_both_command_lines_accept_a_registered_tier(registered):
    from allsh_sklearn.experiments.__main__ import build_parser as experiment_parser
    from allsh_sklearn.session._cli import build_parser as label_parser

    args = experiment_parser().parse_args(["--classifier", registered])
    assert args.classifier == registered
    args = label_parser().parse_args(
        ["init", "project", "--data", "texts.csv", "--labels", "a,b"]
        + ["--classifier", registered]
    )
    assert args.classifier == registered


# Driver 1: the experiment runner ----------------------------------------------


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    """A synthetic 'sst2' in the data format: train 200, test 60."""
    home = tmp_path_factory.mktemp("data")
    return write_data_home(home, {"train": (200, 0), "test": (60, 1)})


def test_the_runner_trains_a_new_tier(tmp_path, data_home, registered):
    output = tmp_path / "out"
    records = ExperimentRunner(output, data_home=data_home, verbose=0).run(
        "in-domain",
        tasks=["sst2"],
        strategies=["random", "entropy"],
        seeds=[0],
        budgets=[40],
        initial_size=10,
        batch_size=10,
        classifier=registered,
    )
    assert CharNgramTier.prepared == [200]  # once per pool, shared by the runs
    runs = JsonlLog(output / "runs.jsonl").read()
    assert sorted(run["config"]["strategy"] for run in runs) == ["entropy", "random"]
    for run in runs:
        assert run["config"]["classifier"] == registered
        assert f"|{registered}|" in run["run_id"]
        sizes = [n_labeled for n_labeled, _ in run["curve"]]
        assert sizes == [10, 20, 30, 40]
        scores = [score["test"] for _, score in run["curve"]]
        assert all(0.0 <= score <= 1.0 for score in scores)
        assert scores[-1] > 0.6  # it learned something from 40 labels
    assert [r["run_id"] for r in records] == [r["run_id"] for r in runs]


# Driver 2: a labeling session ---------------------------------------------------


def _assert_toy_model(model, session, texts):
    assert isinstance(model, Pipeline)
    assert [name for name, _ in model.steps] == ["chars", "lr"]
    assert model.named_steps["chars"].transformer.analyzer == "char_wb"
    assert isinstance(model.named_steps["lr"], LogisticRegression)
    labels, proba = session.predict(texts)
    # columns of predict_proba follow the session's labels (its classes)
    expected = model.predict_proba(texts)
    np.testing.assert_allclose(proba, expected)
    assert labels == [session.labels[i] for i in expected.argmax(axis=1)]


def test_a_session_trains_a_new_tier_and_reopens(tmp_path, registered):
    table, truth = make_pool(n=80)
    texts = list(table["text"][:20])
    folder = tmp_path / "project"
    session = create_session(folder, table, classifier=registered)
    for _ in range(2):  # two rounds: a random batch, then one queried by entropy
        session.next_batch()
        label_open_batch(session, truth)
    session.next_batch()  # retrains on the 20 labels of both rounds
    assert [r.n_labeled for r in session.rounds()][-1] == 20
    model = session.model()
    _assert_toy_model(model, session, texts)
    assert CharNgramTier.prepared == [len(table)]
    before = session.predict(texts)[1]
    label_open_batch(session, truth)
    session.close()

    with LabelingSession.open(folder, progress=False) as reopened:
        # the stored model loads with the stored tier: same predictions, and
        # the tier is not prepared again
        np.testing.assert_allclose(reopened.predict(texts)[1], before)
        assert CharNgramTier.prepared == [len(table)]
        reopened.next_batch()  # a third round on 30 labels
        assert [r.n_labeled for r in reopened.rounds()][-1] == 30
        _assert_toy_model(reopened.model(), reopened, texts)
    assert CharNgramTier.prepared == [len(table)]
