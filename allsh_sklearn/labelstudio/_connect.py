"""Connect a Label Studio project to a labeling session in one step.

:func:`connect` makes (or reuses) the project with the session's labeling
configuration, sets uncertainty sampling, imports the open batch's texts,
registers the backend (``POST /api/ml``, Basic Auth with the shared secret),
gives the backend's webhook the secret, pulls the labels Label Studio
already holds and pushes the first predictions. Run again (a restarted
backend), it finds what it made before and changes only what differs.
"""

import logging
from dataclasses import dataclass

from ..session import label_studio_config
from ._app import BASIC_USER, basic_authorization
from ._backend import Link
from ._client import LabelStudioError

__all__ = ["ConnectReport", "connect"]

logger = logging.getLogger("allsh_sklearn.labelstudio")

#: Label Studio's name of uncertainty sampling (``Project.sampling``).
UNCERTAINTY = "Uncertainty sampling"
#: The webhook actions the backend needs.
WEBHOOK_ACTIONS = [
    "ANNOTATION_CREATED",
    "ANNOTATIONS_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
]
#: The ML backend's title in Label Studio.
BACKEND_TITLE = "allsh-label"

_LOCAL_HINT = (
    " Label Studio refuses backends and webhooks on local addresses by default: "
    "when the backend runs on the same machine, start Label Studio with "
    "ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false (see the guide), "
    "or give --backend-url an address Label Studio may reach."
)


@dataclass
class ConnectReport:
    """What :func:`connect` did.

    Attributes
    ----------
    url : str
        Label Studio's address.
    project_id : int
    created : bool
        Whether the project was created now.
    imported : int
        Tasks imported now.
    predicted : int
        Predictions pushed now.
    model_version : str
    ml_backend_id : int
    webhook_id : int
    pulled : dict
        What pulling Label Studio's labels did.
    """

    url: str
    project_id: int
    created: bool
    imported: int
    predicted: int
    model_version: str
    ml_backend_id: int
    webhook_id: int
    pulled: dict

    def summary(self):
        """Two lines for people."""
        made = "created" if self.created else "reused"
        pulled = sum(
            n for key, n in self.pulled.items() if key in ("label", "skip", "unlabel")
        )
        return (
            f"Connected to Label Studio project {self.project_id} ({made}): "
            f"{self.imported} tasks imported, {pulled} labels pulled back, "
            f"{self.predicted} predictions pushed ({self.model_version!r}).\n"
            f"Label in {self.url}/projects/{self.project_id}/data ('Label All "
            "Tasks' serves the texts in the session's order)."
        )


def _marker(session):
    return f"allsh-label session {session.session_id}"


def _find_project(client, session, project_id):
    if project_id is not None:
        try:
            return client.project(project_id), False
        except LabelStudioError as error:
            if error.status == 404:
                raise ValueError(
                    f"The 'project_id' parameter must name a Label Studio project the "
                    f"token's user can see; project {project_id} was not found."
                ) from None
            raise
    marker = _marker(session)
    for project in client.projects():
        if marker in (project.get("description") or ""):
            return client.project(project["id"]), False
    return None, True


def _check_config(project, session):
    config = project.get("label_config") or ""
    missing = [label for label in session.labels if f'"{label}"' not in config]
    if missing or "$text" not in config:
        raise ValueError(
            f"Label Studio project {project['id']} does not label this session's "
            f"texts: its labeling configuration lacks {missing or ['$text']}. Use "
            "a project made by 'allsh-label labelstudio --connect' (leave out "
            "--ls-project), or set its configuration to "
            "allsh_sklearn.session.label_studio_config(labels)."
        )


def _register_backend(client, project_id, backend_url, secret):
    fields = {
        "url": backend_url,
        "title": BACKEND_TITLE,
        "description": "Active learning by allsh-label (ALLSH order)",
        "auth_method": "BASIC_AUTH",
        "basic_auth_user": BASIC_USER,
        "basic_auth_pass": secret,
        "is_interactive": False,
    }
    existing = []
    for ml in client.ml_backends(project_id) or []:
        url = str(ml.get("url", "")).rstrip("/")
        if url == backend_url.rstrip("/"):
            existing.append(ml)
        elif ml.get("title") == BACKEND_TITLE:
            # This session's backend at an address it no longer has (started
            # on another port): Label Studio would keep calling it first.
            client.delete_ml_backend(ml["id"])
            for hook in client.webhooks(project_id) or []:
                if str(hook.get("url", "")).rstrip("/") == f"{url}/webhook":
                    client.delete_webhook(hook["id"])
    try:
        # Label Studio checks the backend (/health, /setup) on every change,
        # and needs the project for it even when it does not change.
        if existing:
            return client.update_ml_backend(
                existing[0]["id"], project=project_id, **fields
            )
        return client.add_ml_backend(project=project_id, **fields)
    except LabelStudioError as error:
        raise LabelStudioError(
            f"Label Studio could not register the backend at {backend_url}: {error}"
            + (_LOCAL_HINT if error.status == 400 else ""),
            status=error.status,
            method=error.method,
            path=error.path,
        ) from None


def _set_webhook(client, project_id, backend_url, secret):
    url = backend_url.rstrip("/") + "/webhook"
    fields = {
        "url": url,
        "send_payload": True,
        "send_for_all_actions": False,
        "actions": WEBHOOK_ACTIONS,
        "headers": {"Authorization": basic_authorization(secret)},
        "is_active": True,
    }
    existing = [
        hook
        for hook in client.webhooks(project_id) or []
        if str(hook.get("url", "")).rstrip("/") == url
    ]
    try:
        if existing:
            return client.update_webhook(existing[0]["id"], **fields)
        return client.add_webhook(project=project_id, **fields)
    except LabelStudioError as error:
        raise LabelStudioError(
            f"Label Studio could not set the backend's webhook {url}: {error}"
            + (_LOCAL_HINT if error.status == 400 else ""),
            status=error.status,
            method=error.method,
            path=error.path,
        ) from None


def connect(backend, client, backend_url, *, secret, project_id=None, title=None):
    """Connect a Label Studio project to the backend's session.

    The backend must already answer at ``backend_url``: Label Studio calls
    its ``/health`` and ``/setup`` when it is registered.

    Parameters
    ----------
    backend : LabelStudioBackend
    client : LabelStudioClient
    backend_url : str
        Where Label Studio reaches the backend (``http://127.0.0.1:9090``).
    secret : str
        The shared secret (the backend's Basic Auth password).
    project_id : int or None, default=None
        Use this project. None: the project made for this session before (its
        description names the session), else a new one.
    title : str or None, default=None
        The title of a new project (None: the project folder's name).

    Returns
    -------
    report : ConnectReport

    Raises
    ------
    LabelStudioError
        Label Studio refused a request (the message says which and why).
    ValueError
        ``project_id`` names no project, or one whose labeling configuration
        is not the session's.
    """
    from ..session import NotReadyError

    session = backend.session
    client.whoami()  # a wrong token fails here, with its own message
    project, create = _find_project(client, session, project_id)
    pair = session.config.get("pair_column") is not None
    if create:
        project = client.create_project(
            title=(title or session.path.resolve().name)[:50],
            description=(
                f"Texts of the labeling session in {session.path.resolve()}, "
                f"served in the order of its active-learning batches. "
                f"{_marker(session)}"
            ),
            label_config=label_studio_config(session.labels, pair=pair),
            sampling=UNCERTAINTY,
            show_skip_button=True,
            show_collab_predictions=True,
        )
    else:
        _check_config(project, session)
        if project.get("sampling") != UNCERTAINTY:
            client.update_project(project["id"], sampling=UNCERTAINTY)
    project_id = int(project["id"])
    backend.link = Link(client, project_id)
    pulled = backend.pull()
    batch = session.current_batch()
    if batch is None or batch.n_pending == 0:
        try:
            session.next_batch()
        except NotReadyError as error:
            logger.info("%s", error)
    ml_backend = _register_backend(client, project_id, backend_url, secret)
    webhook = _set_webhook(client, project_id, backend_url, secret)
    published = backend.publish()
    return ConnectReport(
        url=client.url,
        project_id=project_id,
        created=create,
        imported=published["imported"],
        predicted=published["predicted"],
        model_version=published["model_version"],
        ml_backend_id=int(ml_backend["id"]),
        webhook_id=int(webhook["id"]),
        pulled=dict(pulled),
    )
