"""The ALLSH paper's experiments: settings, tasks, the runner and its reports.

:func:`run_experiment` (also the ``allsh-experiment`` command) rebuilds the
tables of the ALLSH paper, resumably, by driving
:class:`~allsh_sklearn.loop.ActiveLearningLoop`.

:class:`~allsh_sklearn.loop.ActiveLearningSimulation` and the loop helpers
moved to :mod:`allsh_sklearn.loop`; the classifier tiers,
:class:`~allsh_sklearn.models.SentenceEncoder` and the embedding store to
:mod:`allsh_sklearn.models`; the cache folder to
:func:`allsh_sklearn.utils.get_cache_home`. Their old names here still work
for one release, with a ``DeprecationWarning``.
"""

import importlib
import warnings

from ..presets import STRATEGIES, build_strategy, canonical_strategy, parse_strategy
from ._reporting import accuracy_table, load_runs, query_time_table, write_report
from ._runner import ExperimentRunner, RunConfig, load_task_data, run_experiment
from ._settings import SETTINGS, TASKS, Setting, Task, strategy_label

#: Names that moved out of this package: old name -> (module, new name).
_MOVED = {
    "CLASSIFIERS": ("allsh_sklearn.models", "CLASSIFIERS"),
    "PairTfidfVectorizer": ("allsh_sklearn.models", "PairTfidfVectorizer"),
    "make_classifier": ("allsh_sklearn.models._tiers", "make_classifier"),
    "EmbeddingStore": ("allsh_sklearn.models", "EmbeddingStore"),
    "SentenceEncoder": ("allsh_sklearn.models", "SentenceEncoder"),
    "default_cache_dir": ("allsh_sklearn.utils", "get_cache_home"),
    **{
        name: ("allsh_sklearn.loop", name)
        for name in (
                                                        )
    },
}


def __getattr__(name):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, new = _MOVED[name]
    warnings.warn(
        f"allsh_sklearn.experiments.{name} moved to {module}.{new}; the old name "
        "will be removed in the next release.",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), new)


__all__ = [
    "SETTINGS",
    "STRATEGIES",
    "TASKS",
    "ActiveLearningSimulation",
    "ExperimentRunner",
    "RunConfig",
    "Setting",
    "Task",
    "accuracy_table",
    "acquisition_schedule",
    "active_learning_loop",
    "build_strategy",
    "canonical_strategy",
    "derive_seed",
    "initial_labeled_indices",
    "load_runs",
    "load_task_data",
    "parse_strategy",
    "query_time_table",
    "resolve_size",
    "run_experiment",
    "strategy_label",
    "write_report",
]
