"""Shared fixtures: fixed seeds, the shared benchmark data and small corpora."""

import os
import random
from pathlib import Path

import numpy as np
import pytest


def shared_data_home():
    """The benchmark data: $ALLSH_SKLEARN_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("ALLSH_SKLEARN_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fixed_seeds():
    random.seed(0)
    np.random.seed(0)
    try:
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].manual_seed(0)
    except Exception:  # pragma: no cover - torch is optional here
        pass


@pytest.fixture(scope="session")
def data_home():
    home = shared_data_home()
    if not (home / "sst2" / "meta.json").exists():
        pytest.skip(f"benchmark data not found at {home}")
    return home


POSITIVE = [
    "a good film with great acting",
    "a wonderful and moving story",
    "great plot and good music",
    "the best film of the year",
    "a charming and funny comedy",
    "good direction and a great cast",
    "moving and wonderful acting",
    "funny , charming and good",
]
NEGATIVE = [
    "a bad film with poor acting",
    "a boring and dull story",
    "terrible plot and bad music",
    "the worst film of the year",
    "a dull and tedious comedy",
    "bad direction and a poor cast",
    "boring and terrible acting",
    "tedious , dull and bad",
]


@pytest.fixture
def toy_texts():
    """Sixteen short sentiment texts and their labels (1 positive)."""
    return POSITIVE + NEGATIVE, np.array([1] * len(POSITIVE) + [0] * len(NEGATIVE))


@pytest.fixture
def fitted_pipeline(toy_texts):
    """TF-IDF + logistic regression fitted on the toy texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = toy_texts
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X, y)


@pytest.fixture
def toy_pool():
    """Unlabeled texts sharing the toy vocabulary."""
    return [
        "a good story",
        "a dull film",
        "great acting but a boring plot",
        "the film of the year",
        "funny and bad",
        "poor music and wonderful cast",
        "a tedious film with great music",
        "charming , good and moving",
        "terrible , terrible , terrible",
        "an average film",
        "the cast",
        "good and bad",
    ]


@pytest.fixture
def svd_classifier(toy_texts):
    """A small model with the embedding API, fitted on the toy texts."""
    from _toy_models import SvdClassifier

    return SvdClassifier().fit(*toy_texts)


@pytest.fixture
def modal_learner(toy_texts):
    """A modAL ActiveLearner of TF-IDF + logistic regression on the toy texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    models = pytest.importorskip("modAL.models")
    X, y = toy_texts
    return models.ActiveLearner(
        estimator=make_pipeline(TfidfVectorizer(), LogisticRegression()),
        X_training=np.array(X),
        y_training=y,
    )


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    """A tiny bare BERT with a local vocabulary, saved once per session."""
    from _tiny_models import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_bert_head3_dir(tmp_path_factory):
    """A tiny BERT saved with a 3-label classification head."""
    from _tiny_models import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert_head3"), head_labels=3)


@pytest.fixture
def single_thread_torch():
    """One torch thread for the test: on 2 shared cores, one beats two contended.

    Modules of tiny-model tests use it for all their tests
    (``pytestmark = pytest.mark.usefixtures("single_thread_torch")``).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
