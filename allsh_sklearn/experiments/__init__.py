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

from ..presets import STRATEGIES, build_strategy, canonical_strategy, parse_strategy
from ..utils._deprecation import moved_names
from ._records import RunConfig, copies_procedure, migrate_record
from ._reporting import accuracy_table, load_runs, query_time_table, write_report
from ._runner import ExperimentRunner, load_task_data, run_experiment
from ._settings import SETTINGS, TASKS, Setting, Task, strategy_label

__getattr__ = moved_names(
    __name__,
    {
        "ActiveLearningSimulation": "allsh_sklearn.loop",
        "acquisition_schedule": "allsh_sklearn.loop",
        "derive_seed": "allsh_sklearn.loop",
        "initial_labeled_indices": "allsh_sklearn.loop",
        "resolve_size": "allsh_sklearn.loop",
        "CLASSIFIERS": "allsh_sklearn.models",
        "EmbeddingStore": "allsh_sklearn.models",
        "PairTfidfVectorizer": "allsh_sklearn.models",
        "SentenceEncoder": "allsh_sklearn.models",
        "make_classifier": "allsh_sklearn.models._tiers",
        "default_cache_dir": "allsh_sklearn.utils:get_cache_home",
    },
)

__all__ = [
    "SETTINGS",
    "STRATEGIES",
    "TASKS",
    "ExperimentRunner",
    "RunConfig",
    "Setting",
    "Task",
    "accuracy_table",
    "build_strategy",
    "canonical_strategy",
    "copies_procedure",
    "load_runs",
    "load_task_data",
    "migrate_record",
    "parse_strategy",
    "query_time_table",
    "run_experiment",
    "strategy_label",
    "write_report",
]
