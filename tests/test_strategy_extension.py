"""A new augmentation-based strategy reaches every driver with no driver edit.

The strategy below is written as a user would: a subclass of
:class:`~allsh_sklearn.strategies.BaseQueryStrategy` using its hooks
(``prepare``, ``texts_to_encode``, ``explain``) and one entry in the public
preset table. The experiment runner and a labeling session then run it as
they run ALLSH: nothing in ``session/_engine.py`` or
``experiments/_runner.py`` names it.
"""

from collections import Counter

import numpy as np
import pytest
from _data_home import write_data_home
from _session_data import create_session, label_open_batch, make_pool

from allsh_sklearn import presets
from allsh_sklearn.divergences import kl
from allsh_sklearn.experiments import ExperimentRunner
from allsh_sklearn.presets import Preset
from allsh_sklearn.session import LabelingSession
from allsh_sklearn.strategies import ALLSH, BaseQueryStrategy

# The strategy: one module's worth of code ----------------------------------


class FirstWordSwap(BaseQueryStrategy):
    """Score a text by ``KL(p(.|x) || p(.|x'))``, ``x'`` its first word swapped.

    The copy ``x'`` replaces the text's first word by ``word``, by default
    the pool's most frequent word, learned once from the whole pool
    (``prepare``) and kept in the driver's store, so a reopened session does
    not count again.

    Parameters
    ----------
    word : str or None, default=None
        The word put first; None: the pool's most frequent (set by
        ``prepare``, a parameter so that the copies an active learner makes
        with ``clone`` keep it).
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking.
    """

    #: Every pool the word was counted on (to check the store is used).
    counted = []

    def __init__(self, word=None, random_state=None):
        self.word = word
        self.random_state = random_state

    def prepare(
        self, X_pool, *, random_state=None, cache_dir=None, store=None, progress=False
    ):
        if self.word is not None:
            return self
        stored = None if store is None else store.get("first-word-swap")
        if stored is None:
            FirstWordSwap.counted.append(len(X_pool))
            words = Counter(word for text in X_pool for word in text.split())
            stored = words.most_common(1)[0][0].encode()
            if store is not None:
                store.put("first-word-swap", stored)
        return self.set_params(word=stored.decode())

    def texts_to_encode(self, X_pool):
        return [self._copy(text) for text in X_pool]

    def explain(self, classifier, texts, proba):
        copies = [self._copy(text) for text in texts]
        copy_proba = classifier.predict_proba(copies)
        divergence = kl(proba, copy_proba)
        return [
            {
                "kind": "allsh",
                "divergence": "kl",
                "aggregate": "mean",
                "driver": 0,
                "copies": [
                    {
                        "text": copy,
                        "proba": [round(float(p), 6) for p in row],
                        "divergence": float(d),
                    }
                ],
            }
            for copy, row, d in zip(copies, copy_proba, divergence, strict=True)
        ]

    def _copy(self, text):
        rest = text.partition(" ")[2]
        return f"{self.word} {rest}" if rest else self.word

    def _score(self, context):
        self.prepare(context.X_pool)  # without a driver: learned on this pool
        copies = [self._copy(text) for text in context.X_pool]
        return kl(context.proba(), context.predict_proba(copies))


# Its preset entry: the second (and last) place it is named ----------------


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(
        presets.PRESETS,
        "first-word-swap",
        Preset(FirstWordSwap, description="KL to a copy with its first word swapped"),
    )
    FirstWordSwap.counted.clear()
    return "first-word-swap"


# The drivers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    """A synthetic 'sst2' in the data format: train 200, test 60."""
    home = tmp_path_factory.mktemp("data")
    return write_data_home(home, {"train": (200, 0), "test": (60, 1)})


def _run(output, data_home, strategy):
    return ExperimentRunner(output, data_home=data_home, verbose=0).run(
        "in-domain",
        tasks=["sst2"],
        strategies=[strategy],
        seeds=[0],
        budgets=[30],
        initial_size=10,
        batch_size=10,
        classifier="tfidf-lr",
    )


def test_the_runner_runs_a_new_strategy(tmp_path, data_home, registered):
    (record,) = _run(tmp_path / "out", data_home, registered)
    assert record["config"]["strategy"] == registered
    assert record["n_queries"] == 2
    assert "augmentation" not in record["config"] or (
        record["config"]["augmentation"] is None
    )


class _RecordingEncoder:
    """A frozen encoder that remembers what it was asked to encode."""

    def __init__(self):
        self.calls = []
        self.n_encoded_ = 0

    def set_params(self, **params):
        return self

    def transform(self, X):
        self.calls.append(list(X))
        self.n_encoded_ += len(X)
        return np.zeros((len(X), 2))


class _EncoderTier:
    embedding = None

    def __init__(self):
        self.encoder_ = _RecordingEncoder()

    def encoder(self):
        return self.encoder_


def _warm(tmp_path, data_home, strategies):
    runner = ExperimentRunner(tmp_path / "warm", data_home=data_home, verbose=0)
    (config, *_) = runner.plan(
        "in-domain",
        tasks=["sst2"],
        strategies=strategies,
        seeds=[0],
        budgets=[30],
        initial_size=10,
        batch_size=10,
        classifier="tfidf-lr",
    )
    tier = _EncoderTier()
    runner._tier = lambda config, data: tier
    runner.warm_embeddings(config, strategies)
    return runner, config, tier.encoder_.calls


def test_the_runner_encodes_a_new_strategys_copies_ahead(
    tmp_path, data_home, registered
):
    runner, config, calls = _warm(tmp_path, data_home, [registered, registered])
    X_pool = runner._task_data(config)["X_pool"]
    assert FirstWordSwap.counted == [len(X_pool)]  # prepared once on the pool
    expected = FirstWordSwap().prepare(X_pool).texts_to_encode(X_pool)
    assert calls[-1] == expected  # after the pool and the test set


def test_the_runner_encodes_allshs_copies_as_before(tmp_path, data_home):
    from allsh_sklearn.augment._cache import augment_with_cache
    from allsh_sklearn.presets import build_strategy

    runner, config, calls = _warm(tmp_path, data_home, ["allsh", "allsh-wca"])
    X_pool = runner._task_data(config)["X_pool"]
    # What warm_embeddings did before the hooks: fit the strategy asking for
    # the most copies, then encode each of its copies of the pool.
    strategy = build_strategy("allsh-wca", seed=runner._augmenter_seed(config))
    strategy.fit(X_pool)
    copies, _ = augment_with_cache(
        strategy.augmenter_, X_pool, strategy.n_augmentations, strategy.cache_
    )
    assert calls[-len(copies) :] == [list(copy) for copy in copies]


class _Artifacts(dict):
    def put(self, name, data):
        self[name] = data


def test_the_engine_encodes_a_new_strategys_texts_ahead(tmp_path, registered):
    from allsh_sklearn.session._engine import Engine

    table, _ = make_pool(n=40)
    X_pool = list(table["text"])
    engine = Engine(
        ["negative", "positive"], "tfidf-lr", registered, tmp_path, _Artifacts(), 0
    )
    engine._tier = _EncoderTier()
    engine.encode_ahead(X_pool, progress=False)
    (encoded,) = engine._tier.encoder_.calls
    assert encoded == X_pool + FirstWordSwap().prepare(X_pool).texts_to_encode(X_pool)


def test_a_session_queries_and_explains_with_a_new_strategy(tmp_path, registered):
    table, truth = make_pool(n=80)
    session = create_session(tmp_path / "project", table, strategy=registered)
    session.next_batch()  # the initial random batch
    label_open_batch(session, truth)
    batch = session.next_batch()
    assert all(item.explanation is not None for item in batch.items)
    item = batch.items[0]
    why = session.why(item.item_id)
    assert why["kind"] == "allsh" and why["measure"] == "kl"
    assert why["copy"].split(" ", 1)[1] == item.text.split(" ", 1)[1]
    p = np.array([list(why["proba"].values())])
    q = np.array([list(why["copy_proba"].values())])
    assert why["divergence"] == pytest.approx(kl(p, q)[0], abs=1e-4)
    assert why["score"] == pytest.approx(why["divergence"], abs=1e-4)
    label_open_batch(session, truth)
    session.close()
    assert FirstWordSwap.counted == [len(table)]
    # Reopened: what prepare stored is read back, not counted again.
    with LabelingSession.open(tmp_path / "project", progress=False) as reopened:
        reopened.next_batch()
    assert FirstWordSwap.counted == [len(table)]


def test_allsh_prepares_through_the_hooks():
    table, _ = make_pool(n=40)
    X_pool = list(table["text"])
    store = _Artifacts()
    strategy = ALLSH(n_augmentations=2, random_state=0).prepare(
        X_pool, random_state=0, store=store
    )
    assert set(store) == {"augmenter"}
    copies = strategy.texts_to_encode(X_pool)
    assert len(copies) == 2 * len(X_pool)
    again = ALLSH(n_augmentations=2, random_state=0).prepare(
        X_pool, random_state=0, store=store
    )
    assert again.texts_to_encode(X_pool) == copies
    assert BaseQueryStrategy().texts_to_encode(X_pool) == []
    assert BaseQueryStrategy().explain(None, X_pool, None) is None
    assert ALLSH().explain(None, X_pool, None) is None  # nothing queried yet
