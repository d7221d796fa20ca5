"""The ML backend's Starlette application: the routes Label Studio calls.

``GET /health`` (and ``/``), ``POST /setup``, ``POST /predict``, ``POST
/webhook``, ``POST /train`` (Label Studio's "start training", older form)
and ``GET /versions``. Every route asks for the shared secret with HTTP
Basic authentication (user :data:`BASIC_USER`, the secret as password): the
ML backend's "Basic Auth" settings in Label Studio for its own calls, and an
``Authorization`` header of the backend's webhook for the webhooks (both set
by :func:`~allsh_sklearn.labelstudio.connect`). Errors are JSON
``{"error": message}`` with a 4xx status naming what was wrong; bodies over
``max_body`` bytes are refused before they are read.
"""

import base64
import binascii
import hmac
import json
import logging
import threading
from pathlib import Path

from ._payloads import (
    PayloadError,
    annotation_of,
    parse_body,
    parse_predict,
    parse_setup,
    parse_webhook,
)

__all__ = [
    "BASIC_USER",
    "MAX_BODY_BYTES",
    "basic_authorization",
    "create_app",
    "scrub",
]

logger = logging.getLogger("allsh_sklearn.labelstudio")

#: The Basic-auth user name Label Studio is given (the secret is the password).
BASIC_USER = "allsh"

#: The largest request body read (64 MiB): a /predict call for 5,000 tasks
#: takes about 2 MiB.
MAX_BODY_BYTES = 64 * 1024 * 1024


def basic_authorization(secret, user=BASIC_USER):
    """The ``Authorization`` header value for the shared secret.

    Parameters
    ----------
    secret : str
    user : str, default=BASIC_USER

    Returns
    -------
    header : str

    Examples
    --------
    >>> basic_authorization("s3cret")
    'Basic YWxsc2g6czNjcmV0'
    """
    token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
    return f"Basic {token}"


def _authorized(header, secret):
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    return hmac.compare_digest(
        user.encode(), BASIC_USER.encode()
    ) & hmac.compare_digest(password.encode(), secret.encode())


#: Keys whose values :func:`scrub` hides: Label Studio sends the project
#: owner's API token in ``/setup`` (``access_token``) and each project's
#: token in webhooks (``project.token``).
SECRET_KEYS = frozenset(
    {"access_token", "token", "password", "basic_auth_pass", "task_data_password"}
)


def scrub(value):
    """``value`` (parsed JSON) with the values of :data:`SECRET_KEYS` hidden.

    Examples
    --------
    >>> scrub({"hostname": "h", "access_token": "abc", "project": {"token": "x"}})
    {'hostname': 'h', 'access_token': '<hidden>', 'project': {'token': '<hidden>'}}
    """
    if isinstance(value, dict):
        return {
            key: "<hidden>" if key in SECRET_KEYS and item else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


class _Recorder:
    """Writes every request body (scrubbed) and its answer's status to a folder."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(self.folder.glob("*.json")))
        self.lock = threading.Lock()

    def write(self, method, path, payload, status):
        name = path.strip("/") or "health"
        if isinstance(payload, dict) and isinstance(payload.get("action"), str):
            name += "-" + payload["action"].lower()
        with self.lock:
            self.count += 1
            target = self.folder / f"{self.count:04d}-{name}.json"
        record = {"method": method, "path": path, "status": status}
        record["body"] = scrub(payload)
        target.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def create_app(backend, *, secret, max_body=MAX_BODY_BYTES, record=None):
    """The backend's ASGI application.

    Parameters
    ----------
    backend : LabelStudioBackend
    secret : str
        The shared secret (at least 16 characters).
    max_body : int, default=MAX_BODY_BYTES
    record : path-like or None, default=None
        Write every authorised request's body (tokens hidden, see
        :func:`scrub`) with its answer's status to this folder, one JSON
        file each: what Label Studio really sends, for a bug report or the
        contract tests' fixtures.

    Returns
    -------
    app : starlette.applications.Starlette
        ``app.state.backend`` is ``backend``.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from ..session import SessionBusyError

    if not isinstance(secret, str) or len(secret) < 16:
        got = (
            f"a string of {len(secret)} characters"
            if isinstance(secret, str)
            else type(secret).__name__
        )
        raise ValueError(
            "The 'secret' parameter must be a string of at least 16 characters "
            "shared with Label Studio (the ML backend's Basic Auth password). Got "
            f"{got} instead."
        )

    recorder = None if record is None else _Recorder(record)

    def refuse(message, status):
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="allsh-label"'
        if status == 503:
            headers["Retry-After"] = "2"
        return JSONResponse({"error": message}, status, headers=headers)

    async def body_of(request):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise PayloadError(
                f"The request body ({int(declared):,} bytes) is larger than the "
                f"{max_body:,} bytes this backend reads.",
                status_code=413,
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise PayloadError(
                    f"The request body is larger than the {max_body:,} bytes this "
                    "backend reads.",
                    status_code=413,
                )
            chunks.append(chunk)
        return parse_body(b"".join(chunks))

    def endpoint(handler, *, needs_body):
        async def route(request):
            if not _authorized(request.headers.get("authorization"), secret):
                return refuse(
                    "Missing or wrong credentials: this backend takes HTTP Basic "
                    f"authentication with user {BASIC_USER!r} and the shared secret "
                    "as password (the ML backend's Basic Auth settings in Label "
                    "Studio, and the Authorization header of its webhook).",
                    401,
                )
            payload = None
            try:
                payload = await body_of(request) if needs_body else None
                answer = JSONResponse(await run_in_threadpool(handler, payload))
            except PayloadError as error:
                answer = refuse(str(error), error.status_code)
            except SessionBusyError as error:
                answer = refuse(str(error), 503)
            except Exception as error:  # the message, not a stack trace, to LS
                logger.exception("%s %s failed", request.method, request.url.path)
                answer = refuse(f"{type(error).__name__}: {error}", 500)
            if recorder is not None:
                recorder.write(
                    request.method, request.url.path, payload, answer.status_code
                )
            return answer

        return route

    def health(_):
        return backend.health()

    def setup(payload):
        backend.check_project(parse_setup(payload))
        version, _, _ = backend.order()
        return {"model_version": version}

    def predict(payload):
        request = parse_predict(payload)
        backend.check_project(request.project_id)
        return backend.predict(request)

    def webhook(payload):
        return backend.webhook(parse_webhook(payload, backend.labels))

    def train(payload):
        # The older "start training" call: every annotated task in the body.
        from ._payloads import Webhook

        tasks = payload.get("annotations")
        if not isinstance(tasks, list):
            raise PayloadError(
                "The /train body must carry 'annotations', the list of annotated "
                "tasks Label Studio sends; got something else."
            )
        hook = Webhook(action="START_TRAINING")
        for task in tasks:
            for annotation in (
                (task.get("annotations") or []) if isinstance(task, dict) else []
            ):
                parsed = annotation_of(annotation, task, backend.labels)
                if parsed is not None:
                    hook.annotations.append(parsed)
        return backend.webhook(hook)

    def versions(_):
        version, _, _ = backend.order()
        return {"versions": [version], "model_version": version}

    routes = [
        Route("/", endpoint(health, needs_body=False), methods=["GET"]),
        Route("/health", endpoint(health, needs_body=False), methods=["GET"]),
        Route("/setup", endpoint(setup, needs_body=True), methods=["POST"]),
        Route("/predict", endpoint(predict, needs_body=True), methods=["POST"]),
        Route("/webhook", endpoint(webhook, needs_body=True), methods=["POST"]),
        Route("/train", endpoint(train, needs_body=True), methods=["POST"]),
        Route("/versions", endpoint(versions, needs_body=False), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.backend = backend
    return app
