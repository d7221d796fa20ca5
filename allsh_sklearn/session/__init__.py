"""Label your own data: a crash-safe labeling session and the ``allsh-label`` CLI.

:class:`LabelingSession` keeps a pool of unlabeled texts, every label given
to them (with annotator, time and batch), the queried batches, the trained
model and the stopping rules' verdicts in one SQLite database in a project
folder. Batches go out and labels come back as CSV, JSONL, Parquet or Label
Studio task JSON; the terminal annotator (``allsh-label annotate``) labels
one text at a time. See the user guide's "Labeling your own data".
"""

from ._audit import ClassEstimate, ClassEstimates, accuracy_interval, class_estimates
from ._create import DEFAULT_CLASSIFIER, DEFAULT_STRATEGY
from ._errors import (
    EXIT_CODES,
    InputFileError,
    NotReadyError,
    SessionBusyError,
    SessionError,
    SessionVersionError,
    StorageError,
)
from ._formats import (
    FORMATS,
    LabelFormat,
    Sidecar,
    TableFormat,
    label_studio_config,
    label_studio_model_version,
    label_studio_score,
    read_pool,
    register_format,
    unregister_format,
)
from ._records import (
    Batch,
    Event,
    ImportReport,
    Item,
    RoundInfo,
    SessionStatus,
)
from ._session import LabelingSession
from ._store import DATABASE_NAME, SCHEMA_VERSION

__all__ = [
    "DATABASE_NAME",
    "DEFAULT_CLASSIFIER",
    "DEFAULT_STRATEGY",
    "FORMATS",
    "EXIT_CODES",
    "SCHEMA_VERSION",
    "Batch",
    "ClassEstimate",
    "ClassEstimates",
    "Event",
    "ImportReport",
    "InputFileError",
    "Item",
    "LabelFormat",
    "LabelingSession",
    "NotReadyError",
    "RoundInfo",
    "SessionBusyError",
    "SessionError",
    "SessionStatus",
    "SessionVersionError",
    "Sidecar",
    "StorageError",
    "TableFormat",
    "accuracy_interval",
    "class_estimates",
    "label_studio_config",
    "label_studio_model_version",
    "label_studio_score",
    "read_pool",
    "register_format",
    "unregister_format",
]
