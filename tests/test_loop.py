"""Tests of allsh_sklearn.loop: steps, human labels, resume, records, callbacks."""

import ast
import functools
import json
import warnings

import numpy as np
import pytest
from _tools import load_tool
from _toy_models import synthetic_texts
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.loop import (
    ActiveLearningLoop,
    Callback,
    IterationRecord,
    LambdaCallback,
    PrintLog,
    StopWhen,
    TimeSummary,
    acquisition_schedule,
    initial_labeled_indices,
    plan_labeling,
)
from allsh_sklearn.stopping import LabelBudget, StabilizingPredictions
from allsh_sklearn.strategies import ALLSH, EntropySampling


@pytest.fixture(scope="module")
def data():
    X, y = synthetic_texts(n=160, seed=4)
    return X, np.asarray(y)


def make_loop(X, strategy=None, **options):
    return ActiveLearningLoop(
        make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)),
        EntropySampling() if strategy is None else strategy,
        X,
        classes=[0, 1],
        seed=options.pop("seed", 7),
        **options,
    )


def test_step_by_step_with_late_labels_matches_the_oracle_run(data):
    X, y = data
    initial = initial_labeled_indices(y, 4, random_state=0)
    schedule = acquisition_schedule(4, [24], 10)
    reference = make_loop(X).run(schedule, y, initial_indices=initial)

    # The same run driven by "people": query, then labels arrive later.
    loop = make_loop(X)
    loop.start(initial, y[initial])
    for _ in range(2):
        batch = loop.query(10)
        assert not set(batch) & set(loop.labeled_indices_)
        labels = [int(y[i]) for i in batch]  # e.g. from a web form
        loop.teach(batch, labels)
    assert [r.to_dict() | {"time": {}} for r in loop.records_] == [
        r.to_dict() | {"time": {}} for r in reference
    ]
    assert loop.learner_.estimator_ is not None
    assert sorted(loop.labeled_indices_) == sorted(
        i for r in reference for i in r.acquired
    )


def test_people_may_label_part_of_a_batch(data):
    X, y = data
    loop = make_loop(X)
    loop.start([0, 1], y[[0, 1]])
    batch = loop.query(6)
    record = loop.teach(batch[:4], y[batch[:4]])  # two items skipped
    assert record.acquired == batch[:4].tolist() and record.n_labeled == 6
    assert set(record.time) == {
        "training",
        "query",
        "inference",
        "selection",
        "augmentation",
    }
    assert record.query_scores["max"] >= record.query_scores["min"]
    # items labeled without a query (e.g. an annotator's own pick)
    extra = loop.teach([int(batch[4])], [y[batch[4]]])
    assert extra.query_scores is None and set(extra.time) == {"training"}
    assert batch[5] in loop.unlabeled_indices


def test_resume_continues_exactly(data):
    X, y = data
    initial = initial_labeled_indices(y, 4, random_state=1)
    schedule = acquisition_schedule(4, [40], 9)
    full = make_loop(X, ALLSH(random_state=0)).run(schedule, y, initial_indices=initial)
    # records survive a JSON round trip, as in the runner's iterations.jsonl
    saved = [json.loads(json.dumps(r.to_dict())) for r in full[:3]]
    resumed = make_loop(X, ALLSH(random_state=0)).resume(saved, y)
    assert len(resumed.records_) == 3
    records = resumed.run(schedule, lambda indices: y[indices])
    assert [r.acquired for r in records] == [r.acquired for r in full]
    assert [r.batch_labels for r in records] == [r.batch_labels for r in full]


def test_records_serialise_stably():
    record = IterationRecord(
        iteration=2,
        n_labeled=np.int64(12),
        acquired=[np.int64(3), 5],
        scores={"test": np.float64(0.75)},
        time={"training": 0.5, "query": 0.25},
        batch_labels=[np.int64(1), 1],
        query_scores={"min": 0.1, "mean": 0.2, "max": 0.3},
    )
    data = record.to_dict()
    text = json.dumps(data, sort_keys=True)
    assert json.loads(text) == data
    assert IterationRecord.from_dict({"run_id": "x", **data}) == IterationRecord(
        2,
        12,
        [3, 5],
        {"test": 0.75},
        {"training": 0.5, "query": 0.25},
        [1, 1],
        {"min": 0.1, "mean": 0.2, "max": 0.3},
    )
    assert "query_scores" not in IterationRecord(0, 1, [0]).to_dict()


def test_callbacks_are_called_in_order_and_can_stop(data, capsys):
    X, y = data
    events = []

    class Recorder(Callback):
        def on_loop_begin(self, loop, **kwargs):
            events.append("begin")

        def on_query_end(self, loop, *, indices, **kwargs):
            events.append(("query", len(indices)))

        def on_iteration_end(self, loop, *, record, **kwargs):
            events.append(("iteration", record.iteration))

        def on_loop_end(self, loop, **kwargs):
            events.append("end")

    timer = TimeSummary()
    stop = StopWhen([LabelBudget(20)])
    loop = make_loop(X, callbacks=[Recorder(), PrintLog(), timer, stop])
    records = loop.run([2, 10, 20, 30, 40], y, initial_indices=[0, 1])
    assert [r.n_labeled for r in records] == [2, 10, 20]  # stopped at 20 labels
    assert "LabelBudget" in loop.stop_reason_
    assert events == [
        "begin",
        ("iteration", 0),
        ("query", 8),
        ("iteration", 1),
        ("query", 10),
        ("iteration", 2),
        "end",
    ]
    assert len(timer.times_["query"]) == 2 and min(timer.times_["query"]) > 0
    assert [c[0].stop for c in stop.checks_] == [False, False, True]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("iteration 0: 2 labeled")
    assert printed[2].startswith("iteration 2: 20 labeled") and "query" in printed[2]


def test_hooks_are_called_by_keyword(data):
    X, y = data
    seen = []
    callback = LambdaCallback(
        on_query_end=lambda loop, indices, **kwargs: seen.append(("query", indices)),
        on_iteration_end=lambda loop, *, record: seen.append(("record", record)),
    )
    loop = make_loop(X, callbacks=[callback])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loop.run([2, 6], y, initial_indices=[0, 1])
    assert [kind for kind, _ in seen] == ["record", "query", "record"]
    assert seen[-1][1] is loop.records_[-1]
    with pytest.raises(ValueError, match="'hook' parameter"):
        loop.notify("on_epoch_end")


def test_positional_hooks_still_work_with_a_future_warning(data):
    X, y = data
    seen = []

    class Old(Callback):
        def on_iteration_end(self, loop, rec):
            seen.append(rec.n_labeled)

    old_function = LambdaCallback(on_query_end=lambda loop, chosen: seen.append(0))
    loop = make_loop(X, callbacks=[Old(), old_function])
    with pytest.warns(FutureWarning, match="by keyword"):
        loop.run([2, 6], y, initial_indices=[0, 1])
    assert seen == [2, 0, 6]


def test_stabilizing_predictions_reads_the_stop_set(data):
    X, y = data
    stop = StopWhen([StabilizingPredictions(window=2, threshold=0.0)], stop_set=X[:40])
    loop = make_loop(X, callbacks=[stop])
    loop.run(acquisition_schedule(4, [60], 8), y, initial_indices=[0, 1, 2, 3])
    # two kappas are needed, so the earliest stop is after iteration 2
    assert len(loop.records_) == 3 and loop.stop_reason_
    assert stop.history_[-1].stop_set_predictions.shape == (40,)
    assert stop.history_[-1].stop_set_proba.shape == (40, 2)
    assert stop.history_[-1].mean_pool_score is not None


def test_errors_name_what_is_wrong(data):
    X, y = data
    loop = make_loop(X)
    with pytest.raises(RuntimeError, match="before query"):
        loop.query(3)
    loop.start([0, 1], y[[0, 1]])
    with pytest.raises(RuntimeError, match="already started"):
        loop.start([2], [0])
    with pytest.raises(ValueError, match="already labeled"):
        loop.teach([0], [y[0]])
    with pytest.raises(ValueError, match="not among the classes"):
        loop.teach([5], ["positive"])
    with pytest.raises(ValueError, match="one label per item"):
        loop.teach([5, 6], [1])
    with pytest.raises(ValueError, match="labeled twice"):
        loop.teach([5, 5], [1, 1])
    with pytest.raises(TypeError, match="must be a Callback"):
        make_loop(X, callbacks=[print])
    with pytest.raises(TypeError, match="'on_query_end' parameter"):
        LambdaCallback(on_query_end=3)
    with pytest.raises(ValueError, match="schedule"):
        make_loop(X).run([3, 10], y, initial_indices=[0, 1])
    with pytest.raises(ValueError, match="numbered 0, 1"):
        make_loop(X).resume([IterationRecord(1, 2, [0, 1])], y)


# What a labeling session needs: exclusions, changing labels, stored models ---


class UnlabeledRecorder(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression that notes the unlabeled texts it is fed."""

    uses_unlabeled = True

    def fit(self, X, y):
        y = np.asarray(y, dtype=object)
        labeled = np.asarray([label != -1 for label in y])
        self.unlabeled_seen_ = [
            x for x, keep in zip(X, labeled, strict=True) if not keep
        ]
        self.model_ = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0))
        self.model_.fit(
            [x for x, keep in zip(X, labeled, strict=True) if keep],
            y[labeled].astype(int),
        )
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_excluded_items_are_never_queried_nor_fed_as_unlabeled(data):
    X, y = data
    held = np.arange(10, 60)  # e.g. an audit sample
    loop = ActiveLearningLoop(
        UnlabeledRecorder(), EntropySampling(), X, classes=[0, 1], seed=3
    )
    loop.exclude(held)
    loop.start([0, 1], y[[0, 1]])
    assert not set(take_texts(X, held)) & set(loop.model_.unlabeled_seen_)
    assert len(loop.model_.unlabeled_seen_) == len(X) - 2 - len(held)
    claimed = loop.candidate_indices[:5]  # someone is labeling these now
    batch = loop.query(20, exclude=claimed)
    assert not set(batch) & (set(held) | set(claimed))
    # the per-query exclusion does not last; the held items stay out
    assert set(claimed) <= set(loop.candidate_indices)
    np.testing.assert_array_equal(loop.excluded_indices, held)
    loop.teach(batch, y[batch])
    assert not set(take_texts(X, held)) & set(loop.model_.unlabeled_seen_)
    # included again, they may be queried
    loop.include(held[:25])
    np.testing.assert_array_equal(loop.excluded_indices, held[25:])
    assert set(held[:25]) <= set(loop.candidate_indices)
    with pytest.raises(ValueError, match=r"must be in \[0, 160\)"):
        loop.query(3, exclude=[400])


def take_texts(X, indices):
    return [X[i] for i in indices]


def test_relabel_and_undo_give_the_model_of_the_final_labels(data):
    X, y = data
    loop = make_loop(X)
    loop.start([0, 1, 2, 3], y[[0, 1, 2, 3]])
    batch = loop.query(12)
    loop.teach(batch, y[batch])
    wrong = batch[:3]
    loop.relabel(wrong, 1 - y[wrong])  # a second annotator disagrees
    loop.unlabel([batch[5]])  # an undo: the item is back in the pool
    record = loop.retrain()
    assert record.refit and record.acquired == []
    assert record.relabeled == wrong.tolist() and record.removed == [int(batch[5])]
    assert batch[5] in loop.candidate_indices
    assert record.n_labeled == 4 + 12 - 1
    # the same model as a loop started from the final labels (position order)
    final = sorted(loop.labels_)
    fresh = make_loop(X)
    fresh.start(final, [loop.labels_[i] for i in final])
    np.testing.assert_array_equal(
        loop.model_.predict_proba(X), fresh.model_.predict_proba(X)
    )
    # labels arriving one at a time, then one training (a person's pace)
    more = loop.query(4)
    for index in more:
        loop.label([index], [y[index]])
    assert loop.n_untrained == 4
    record = loop.teach([], [])  # trains on the four, added to the others
    assert record.acquired == more.tolist() and not record.refit
    assert record.query_scores is not None and loop.n_untrained == 0
    # records with relabels and removals survive JSON and resume exactly
    saved = [json.loads(json.dumps(r.to_dict())) for r in loop.records_]
    assert saved[2]["removed"] == [int(batch[5])] and saved[2]["refit"] is True
    labels = np.array([loop.labels_.get(i, y[i]) for i in range(len(X))])
    resumed = make_loop(X).resume(saved, labels)
    assert resumed.labeled_indices_ == loop.labeled_indices_
    np.testing.assert_array_equal(resumed.query(6), loop.query(6))


def test_label_changes_are_checked(data):
    X, y = data
    loop = make_loop(X)
    loop.start([0, 1], y[[0, 1]])
    with pytest.raises(ValueError, match=r"Items \[7\] are not labeled"):
        loop.relabel([7], [1])
    with pytest.raises(ValueError, match=r"Items \[7\] are not labeled"):
        loop.unlabel([7])
    with pytest.raises(ValueError, match="not among the classes"):
        loop.relabel([0], ["positive"])
    loop.label([7], [y[7]])
    loop.unlabel([7])  # labeled and taken back before any training: no change
    assert loop.n_untrained == 0 and 7 in loop.candidate_indices
    with pytest.raises(RuntimeError, match="before retrain"):
        make_loop(X).retrain()


def test_a_stored_model_is_queried_without_training(data):
    X, y = data
    initial = [0, 1, 2, 3, 4, 5]
    trained = make_loop(X)
    trained.start(initial, y[initial])
    expected = trained.query(8)

    class NeverFitted(LogisticRegression):
        def fit(self, X, y):
            raise AssertionError("the stored model must not be refitted")

    loop = ActiveLearningLoop(
        make_pipeline(TfidfVectorizer(), NeverFitted()),
        EntropySampling(),
        X,
        classes=[0, 1],
        seed=7,
    )
    loop.start(initial, y[initial], model=trained.model_)
    assert loop.model_ is trained.model_
    np.testing.assert_array_equal(loop.query(8), expected)
    # the next training trains the loop's estimator from scratch
    loop.estimator = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0))
    record = loop.teach(expected, y[expected])
    assert record.refit and loop.model_ is not trained.model_
    with pytest.raises(TypeError, match="'model' parameter"):
        make_loop(X).start(initial, y[initial], model="model.joblib")


def test_a_prefitted_strategy_is_kept_across_retrainings(data):
    X, y = data
    strategy = ALLSH(random_state=0).fit(X)  # e.g. its augmenter was stored
    fitted_augmenter = strategy.augmenter_
    loop = make_loop(X, strategy, refit_strategy=False)
    loop.start([0, 1, 2, 3], y[[0, 1, 2, 3]])
    working = loop.learner_.query_strategy_
    assert working.augmenter_ is fitted_augmenter
    batch = loop.query(10)
    augmented = working.n_augmented_
    assert augmented > 0
    loop.teach(batch, y[batch])
    loop.relabel([batch[0]], [1 - y[batch[0]]])
    loop.retrain()
    # the same working copy: its augmented copies are not computed again
    assert loop.learner_.query_strategy_ is working
    loop.query(10)
    assert working.n_augmented_ == augmented
    assert strategy.augmenter_ is fitted_augmenter


def test_plan_labeling_checks_sizes_once():
    plan = plan_labeling(400, 3, initial_size=0.001, budgets=[0.05, 40], batch_size=15)
    assert plan.n_initial == 3  # raised to one per class
    assert plan.checkpoints == [20, 40]
    assert plan.schedule == [3, 18, 20, 35, 40]
    queries = plan_labeling(400, 2, initial_size=10, batch_size=20, n_queries=3)
    assert queries.schedule == [10, 30, 50, 70]
    with pytest.raises(ValueError, match="pool holds 400"):
        plan_labeling(400, 2, initial_size=10, budgets=[500], batch_size=5)
    with pytest.raises(ValueError, match="run-7: the initial labeled set"):
        plan_labeling(
            400, 2, initial_size=10, budgets=[5], batch_size=5, context="run-7"
        )
    with pytest.raises(ValueError, match="stopping point"):
        plan_labeling(400, 2, initial_size=10, budgets=[], batch_size=5)


#: The package's layers, lowest first: a module imports its own layer or lower.
#: The web page sits on the labeling session, which never imports it.
#: What each part of the package may import: the architecture as the graph
#: it is (docs/architecture.md draws it). ``models`` and ``strategies`` are
#: siblings (neither imports the other); the drivers (``experiments``,
#: ``session``) sit on the loop; nothing imports ``experiments``, and the
#: session never imports the page (``web``) or Label Studio's backend.
DEPENDS_ON = {
    "exceptions": set(),
    "utils": {"exceptions"},
    "divergences": {"utils", "exceptions"},
    "plotting": {"utils"},
    "datasets": {"utils", "exceptions"},
    "evaluation": {"utils", "plotting"},
    "augment": {"utils", "exceptions"},
    "strategies": {"augment", "divergences", "utils", "exceptions"},
    "models": {"augment", "divergences", "utils", "exceptions"},
    "stopping": {"utils"},
    "learner": {"strategies", "augment", "utils"},
    "presets": {"strategies", "augment", "utils"},
    "prompts": {"strategies", "augment", "divergences", "utils"},
    "loop": {"learner", "stopping", "strategies", "augment", "utils"},
    "experiments": {
        "loop",
        "models",
        "presets",
        "strategies",
        "augment",
        "datasets",
        "evaluation",
        "plotting",
        "divergences",
        "utils",
        "exceptions",
    },
    "session": {
        "loop",
        "models",
        "presets",
        "stopping",
        "strategies",
        "augment",
        "divergences",
        "plotting",
        "utils",
        "exceptions",
    },
    "web": {"session", "presets", "divergences", "utils", "exceptions"},
    "labelstudio": {"session", "web", "utils", "exceptions"},
}


_PACKAGE = "allsh_sklearn"


def _module_names():
    """Every module of the package by dotted name, with its path."""
    import pathlib

    import allsh_sklearn

    root = pathlib.Path(allsh_sklearn.__file__).parent
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [_PACKAGE, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _absolute(name, package, level):
    """``name`` imported from ``package`` with ``level`` leading dots."""
    if not level:
        return name
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _by_name(node, package):
    """The module a call imports by name (``importlib.import_module("...")``,
    ``import_module("._x", __name__)``, ``__import__("...")``), or None."""
    function = node.func
    called = getattr(function, "attr", None) or getattr(function, "id", None)
    if called not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    name = first.value
    level = len(name) - len(name.lstrip("."))
    return _absolute(name.lstrip("."), package, level)


def _names_in_table(node, package):
    """Module names a dict maps to, as strings: tables a function imports by
    name (plugins ``"allsh_sklearn.web._cli"``, lazy names ``"._data"``,
    moved names ``"allsh_sklearn.utils:get_cache_home"``)."""
    names = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            name = value.value.partition(":")[0]
            level = len(name) - len(name.lstrip("."))
            if level or name.startswith(_PACKAGE + "."):
                names.append(_absolute(name.lstrip("."), package, level))
    return names


@functools.cache
def _import_edges():
    """``(importer, imported, how)`` for every import inside the package.

    ``how`` is ``"statement"`` (``import``/``from ... import``, at module
    level or in a function) or ``"by name"``. An imported name that is a
    module (``from . import _store``) is an edge to that module; a name
    read from a package is an edge to the package.
    """
    modules = _module_names()
    edges = set()
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found = []
            if isinstance(node, ast.Import):
                found = [(alias.name, "statement") for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node.module, package, node.level)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in modules else base, "statement"))
            elif isinstance(node, ast.Call):
                found = [(_by_name(node, package), "by name")]
            elif isinstance(node, ast.Dict):
                found = [(n, "by name") for n in _names_in_table(node, package)]
            for target, how in found:
                if how == "by name" and target not in modules:
                    continue  # a string that names no module
                while target and target not in modules:
                    target = target.rpartition(".")[0]  # a name in a module
                if target and target != module:
                    edges.add((module, target, how))
    return frozenset(edges)


def _architecture_tool():
    """``tools/architecture_metrics.py``, the figures' tool, loaded from its file."""
    return load_tool("architecture_metrics")


def _strongly_connected(edges):
    """The circles of a directed graph (strongly connected components of two
    nodes or more, each sorted), found by the architecture tool."""
    return _architecture_tool().strongly_connected(edges)


def _subpackage(module):
    """``"loop"`` for ``allsh_sklearn.loop._loop``; None for the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_dependencies_point_one_way():
    edges = _import_edges()
    assert {how for _, _, how in edges} == {"statement", "by name"}  # both seen
    parts = {_subpackage(module) for module in _module_names()} - {None}
    assert parts == set(DEPENDS_ON)  # every part of the package has its entry
    not_allowed = sorted(
        (source, target, how)
        for source, target, how in edges
        if None not in (_subpackage(source), _subpackage(target))
        and _subpackage(source) != _subpackage(target)
        and _subpackage(target) not in DEPENDS_ON[_subpackage(source)]
    )
    assert not_allowed == []
    # the allowed graph itself has no circle, so imports point one way
    allowed = {(part, used) for part, uses in DEPENDS_ON.items() for used in uses}
    assert _strongly_connected(allowed) == []
    assert not [part for part, uses in DEPENDS_ON.items() if "experiments" in uses]
    assert "strategies" not in DEPENDS_ON["models"]
    assert "models" not in DEPENDS_ON["strategies"]


def test_subpackages_import_one_another_one_way():
    # Two sub-packages may not import each other, by any path (labelstudio
    # may import web, then web may not import labelstudio).
    pairs = {
        (_subpackage(source), _subpackage(target))
        for source, target, _ in _import_edges()
        if None not in (_subpackage(source), _subpackage(target))
        and _subpackage(source) != _subpackage(target)
    }
    assert _strongly_connected(pairs) == []


def test_modules_import_one_another_without_circles():
    # Any import counts: at module level, inside a function, or by name. A
    # package's __init__ re-exporting its modules' names is how packages work:
    # the edges between a package and its own modules are left out.
    edges = {
        (source, target)
        for source, target, _ in _import_edges()
        if not source.startswith(target + ".") and not target.startswith(source + ".")
    }
    assert _strongly_connected(edges) == []


def test_the_circle_search_finds_circles_and_imports_by_name():
    circles = _strongly_connected(
        [(1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 4), (5, 6)]
    )
    assert circles == [[1, 2, 3], [4, 5]]
    edges = _import_edges()
    assert (
        "allsh_sklearn.utils._deprecation",
        "allsh_sklearn.utils",
        "statement",
    ) not in edges
    # lazy names, read with importlib.import_module("._data", __name__)
    assert ("allsh_sklearn.models", "allsh_sklearn.models._data", "by name") in edges


def test_the_session_does_not_import_the_web_page():
    # The import scan above sees any import statement, in a function too;
    # here: importing the session (and its CLI) loads nothing of the web page.
    import subprocess
    import sys

    code = (
        "import sys, allsh_sklearn.session, allsh_sklearn.session._cli; "
        "print(sorted(m for m in sys.modules if m.startswith('allsh_sklearn.web')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert "web" not in DEPENDS_ON["session"]
