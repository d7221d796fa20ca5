"""A local web page to label a session's texts with: ``allsh-label serve``.

The page shows one queried text at a time with its label buttons (keys 1-9),
skip (s) and undo (u), the model's guess and why the text was picked (in
words first; for ALLSH, then the augmented copy that moved the model's
prediction); a status page shows the labels, the audit estimate, the
per-class estimates with their warnings, the learning curve with the
stopping rules' thresholds and the stopping rules, and retrains. Labels go
through :class:`~allsh_sklearn.session.LabelingSession`, like the CLI's.

Needs the ``web`` extra: ``pip install "allsh-sklearn[web]"`` (Starlette,
uvicorn, Jinja2, python-multipart, itsdangerous); a missing module is named
in the ImportError.
"""

from ._security import RemoteBindWarning, check_bind_address, is_loopback
from ._serve import BackgroundServer, create_app, serve

__all__ = [
    "BackgroundServer",
    "RemoteBindWarning",
    "check_bind_address",
    "create_app",
    "is_loopback",
    "serve",
]
