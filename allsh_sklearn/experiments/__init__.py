"""Active learning experiments: a grid-searchable simulation and the paper's runner.

:class:`ActiveLearningSimulation` is a scikit-learn estimator whose ``fit``
runs a whole active learning loop (so ``GridSearchCV`` can compare query
strategies); :func:`run_experiment` (also the ``allsh-experiment`` command)
rebuilds the tables of the ALLSH paper, resumably; :class:`SentenceEncoder`
is the frozen MiniLM encoder used as a pipeline step.
"""

from ._classifiers import CLASSIFIERS, PairTfidfVectorizer, make_classifier
from ._encoders import EmbeddingStore, SentenceEncoder, default_cache_dir
from ._reporting import accuracy_table, load_runs, query_time_table, write_report
from ._runner import ExperimentRunner, RunConfig, load_task_data, run_experiment
from ._settings import (
    SETTINGS,
    STRATEGIES,
    TASKS,
    Setting,
    Task,
    build_strategy,
    canonical_strategy,
    parse_strategy,
    strategy_label,
)
from ._simulation import (
    ActiveLearningSimulation,
    acquisition_schedule,
    active_learning_loop,
    derive_seed,
    initial_labeled_indices,
    resolve_size,
)

__all__ = [
    "CLASSIFIERS",
    "SETTINGS",
    "STRATEGIES",
    "TASKS",
    "ActiveLearningSimulation",
    "EmbeddingStore",
    "ExperimentRunner",
    "PairTfidfVectorizer",
    "RunConfig",
    "SentenceEncoder",
    "Setting",
    "Task",
    "accuracy_table",
    "acquisition_schedule",
    "active_learning_loop",
    "build_strategy",
    "canonical_strategy",
    "default_cache_dir",
    "derive_seed",
    "initial_labeled_indices",
    "load_runs",
    "load_task_data",
    "make_classifier",
    "parse_strategy",
    "query_time_table",
    "resolve_size",
    "run_experiment",
    "strategy_label",
    "write_report",
]
