"""The active learning loop: one implementation for every driver.

:class:`ActiveLearningLoop` chooses nothing by itself: it is started on an
initial labeled set, then queried, taught and retrained one step at a time,
or run to the end of a schedule with an oracle. Every iteration leaves an
:class:`IterationRecord` (a dataclass with a stable JSON form), from which a
loop is resumed exactly. Callbacks (:class:`Callback` and its subclasses)
log, show progress, collect timings and stop the loop when stopping rules
(:mod:`allsh_sklearn.stopping`) say so. :class:`RunJournal` keeps the
records of many runs in crash-safe files, to resume them.

Its drivers: :class:`ActiveLearningSimulation` (the loop as a
grid-searchable scikit-learn estimator), the experiment runner
(:mod:`allsh_sklearn.experiments`), the example scripts and the labeling
session.

Planning helpers: :func:`initial_labeled_indices` (one example per class,
then at random), :func:`acquisition_schedule` (labeled-set sizes that land on
every budget), :func:`plan_labeling` (checks sizes and returns both),
:func:`resolve_size` and :func:`derive_seed`.
"""

from ._callbacks import (
    Callback,
    LambdaCallback,
    PrintLog,
    ProgressBar,
    StopWhen,
    TimeSummary,
)
from ._journal import RunJournal
from ._loop import ActiveLearningLoop
from ._planning import (
    LabelingPlan,
    acquisition_schedule,
    derive_seed,
    initial_labeled_indices,
    plan_labeling,
    resolve_size,
)
from ._records import IterationRecord, query_times, summarise_run, summarise_scores
from ._simulation import ActiveLearningSimulation

__all__ = [
    "ActiveLearningLoop",
    "ActiveLearningSimulation",
    "Callback",
    "IterationRecord",
    "LabelingPlan",
    "LambdaCallback",
    "PrintLog",
    "ProgressBar",
    "StopWhen",
    "RunJournal",
    "TimeSummary",
    "acquisition_schedule",
    "derive_seed",
    "initial_labeled_indices",
    "plan_labeling",
    "query_times",
    "resolve_size",
    "summarise_run",
    "summarise_scores",
]
