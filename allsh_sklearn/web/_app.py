"""The labeling page: a Starlette application on one labeling session.

Routes
------
``GET /``                       redirects to ``/label``
``GET /label``                  the page: one text, its buttons, why it was picked
``POST /label``                 label the shown text (``item_id``, ``label``)
``POST /skip``                  skip the shown text (``item_id``)
``POST /undo``                  undo this annotator's last label or skip
``POST /annotator``             set this browser's annotator name
``GET /status``                 labels, class counts, audit and per-class
                                estimates, stopping rules
``GET /status/learning-curve.png``  the learning curve
``POST /retrain``               retrain and query the next batch in the background
``GET /retrain/progress``       that job's progress (JSON)
``GET /static/...``             the page's CSS and JavaScript

Every POST needs the browser session's CSRF token (header ``X-CSRF-Token``,
checked before the body is read, or form field ``csrf_token``), an
``Origin`` (or ``Referer``) of the page itself, a ``Host`` the server was
started for, and a body of at most
:data:`~allsh_sklearn.web._security.MAX_BODY_BYTES` without file parts. A
POST sent by the page's script (header ``X-Requested-With: fetch``) is
answered with the next item's HTML fragment; a plain form POST with a
redirect to ``/label``.

The session's work runs in worker threads, never on the event loop: requests
that change the session (labels, skips, undos, and showing a text, which
claims it) in one pool, requests that only read (the status page, the
learning curve) in another, so a request waiting for a locked database never
holds up a page that only reads. A request that waits longer than the
``busy_timeout`` for the database is answered 503 with ``Retry-After``.

The pieces: the handlers (:class:`~allsh_sklearn.web._routes.LabelingPage`,
one method per route), what they answer with (:mod:`._pages`: templates,
security headers, checked forms), the worker threads and the retraining job
(:mod:`._workers`); :func:`create_app` puts them together.
"""

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from ..session import SessionError
from ._backend import Backend
from ._pages import Templates
from ._routes import LabelingPage
from ._security import LOOPBACK_NAMES, RequestGuard
from ._workers import RetrainJob, Workers

__all__ = ["create_app"]


def create_app(
    project,
    *,
    allowed_hosts=LOOPBACK_NAMES,
    secret_key=None,
    busy_timeout=5.0,
):
    """The labeling page's ASGI application for one labeling session.

    Parameters
    ----------
    project : path-like or LabelingSession
        The project folder of a session made with ``allsh-label init``, or
        an open session.
    allowed_hosts : sequence of str or None, default=("127.0.0.1", "localhost", "::1")
        The host names the page answers to (``Host`` header, without the
        port): a request naming any other host is refused, which stops DNS
        rebinding. None answers any: only for a server behind a proxy that
        checks ``Host`` itself (``serve`` never passes None).
    secret_key : str or None, default=None
        Signs the browser session cookies; None draws a random one, so
        browsers must enter their name again after a restart.
    busy_timeout : float, default=5.0
        Seconds a request waits for the session's database (locked by
        another process: an import, a retraining) before it is answered 503
        with ``Retry-After``. Used when ``project`` is a folder; an open
        session keeps its own timeout.

    Returns
    -------
    app : starlette.applications.Starlette
        With ``app.state.backend`` (the session's adapter),
        ``app.state.retrain_job`` and ``app.state.executor`` (the worker
        threads; ``shutdown()`` them when done).
    """
    backend = Backend(project, busy_timeout=busy_timeout)
    workers = Workers()
    job = RetrainJob(backend)
    page = LabelingPage(backend, templates=Templates(), workers=workers, job=job)
    middleware = [
        Middleware(RequestGuard, allowed_hosts=allowed_hosts),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or os.urandom(32).hex(),
            session_cookie="allsh_label",
            same_site="strict",
            max_age=30 * 24 * 3600,
        ),
    ]
    app = Starlette(
        routes=page.routes(),
        middleware=middleware,
        exception_handlers={SessionError: page.session_error},
    )
    app.state.backend = backend
    app.state.retrain_job = job
    app.state.executor = workers
    return app
