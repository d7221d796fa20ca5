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
"""

import asyncio
import math
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..session import SessionBusyError, SessionError
from ._backend import Backend, LabelingError
from ._security import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOOPBACK_NAMES,
    RequestGuard,
    new_token,
    tokens_match,
)

__all__ = ["create_app"]

_HERE = Path(__file__).parent
_MAX_NAME = 100
#: Worker threads for requests that change the session, and for those that
#: only read it. Each thread keeps its own database connection.
_WRITE_WORKERS = 4
_READ_WORKERS = 4
#: The form fields a request may have, and the size of each (in bytes).
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 16 * 1024
_FORGED = (
    "This form has expired or did not come from this page (its security token "
    "does not match). Reload the page and try again."
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _Templates:
    """Jinja2 with autoescaping on for every template (HTML only here)."""

    def __init__(self):
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, request, name, **context):
        template = self.env.get_template(name)
        return template.render(url_for=_url_for(request), **context)


def _url_for(request):
    def url_for(name, **params):
        return str(request.app.url_path_for(name, **params))

    return url_for


class RetrainJob:
    """One retraining at a time, in a thread, with its progress.

    The thread opens its own connection to the session (the backend's
    ``retrain_and_query`` runs wherever it is called), so the page keeps
    answering while the model trains.
    """

    def __init__(self, backend):
        self.backend = backend
        self._lock = threading.Lock()
        self._thread = None
        self.state = {"running": False, "message": "", "done": 0, "total": 0}

    def snapshot(self):
        with self._lock:
            state = dict(self.state)
        if state["running"] and "started_at" in state:
            seconds = time.time() - state["started_at"]
            state["elapsed"] = seconds
            state["message"] = f"{state['message']} {seconds:.0f} s so far."
        return state

    def _progress(self, message, done=0, total=0):
        with self._lock:
            self.state.update(message=message, done=done, total=total)

    def start(self, batch_size):
        with self._lock:
            if self.state["running"]:
                return False
            self.state = {
                "running": True,
                "message": "Starting...",
                "done": 0,
                "total": 0,
                "started_at": time.time(),
            }
            self._thread = threading.Thread(
                target=self._run, args=(batch_size,), name="allsh-retrain", daemon=True
            )
            self._thread.start()
            return True

    def _run(self, batch_size):
        try:
            summary = self.backend.retrain_and_query(
                batch_size, progress=self._progress
            )
        except Exception as error:  # shown on the page, never lost
            with self._lock:
                self.state.update(
                    running=False,
                    error=True,
                    message=f"Retraining failed: {error}",
                    finished_at=time.time(),
                )
            return
        with self._lock:
            self.state.update(
                running=False,
                error=False,
                message=summary,
                finished_at=time.time(),
            )

    def join(self, timeout=None):
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


class Workers:
    """The page's worker threads: one pool for writes, one for reads.

    Starlette's ``run_in_threadpool`` would do the same on anyio's shared
    threads, but those end after ten idle seconds and new ones start, each
    opening another database connection that the session keeps: these
    pools keep their threads (and connections) for the server's life.
    """

    def __init__(self):
        self.writes = ThreadPoolExecutor(
            max_workers=_WRITE_WORKERS, thread_name_prefix="allsh-write"
        )
        self.reads = ThreadPoolExecutor(
            max_workers=_READ_WORKERS, thread_name_prefix="allsh-read"
        )

    async def write(self, function, *args, **kwargs):
        """Run ``function`` in a write worker; its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.writes, lambda: function(*args, **kwargs)
        )

    async def read(self, function, *args, **kwargs):
        """Run ``function`` in a read worker; its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.reads, lambda: function(*args, **kwargs))

    def shutdown(self, wait=True):
        """Stop both pools (after their running calls when ``wait``)."""
        self.writes.shutdown(wait=wait)
        self.reads.shutdown(wait=wait)


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
    templates = _Templates()
    workers = Workers()
    job = RetrainJob(backend)
    retry_after = str(max(1, math.ceil(backend.busy_timeout)))

    def browser(request):
        """This browser's session: a client id, the CSRF token, the name."""
        session = request.session
        if "client" not in session:
            session["client"] = secrets.token_urlsafe(16)
        if "csrf" not in session:
            session["csrf"] = new_token()
        return session

    async def checked_form(request):
        """The request's form once its CSRF token matches; else a refusal.

        A token in the ``X-CSRF-Token`` header, and a browser that has no
        token at all, are judged before the body is read; a token in the
        form after reading it (at most ``MAX_BODY_BYTES``, no file parts).
        """
        expected = request.session.get("csrf")
        header = request.headers.get(CSRF_HEADER)
        browser(request)
        if expected is None or (
            header is not None and not tokens_match(expected, header)
        ):
            return None, PlainTextResponse(_FORGED, 403)
        try:
            form = await request.form(
                max_files=0, max_fields=_MAX_FIELDS, max_part_size=_MAX_FIELD_BYTES
            )
        except HTTPException as error:
            return None, PlainTextResponse(
                f"This page takes short form fields only, and no file uploads: "
                f"{error.detail}",
                400,
            )
        if header is None and not tokens_match(expected, form.get(CSRF_FIELD)):
            return None, PlainTextResponse(_FORGED, 403)
        return form, None

    def html(body, status_code=200, timing=None):
        headers = dict(_SECURITY_HEADERS)
        if timing:
            headers["Server-Timing"] = ", ".join(
                f"{name};dur={1000 * seconds:.2f}" for name, seconds in timing.items()
            )
        return HTMLResponse(body, status_code=status_code, headers=headers)

    def page(request, name, *, status_code=200, **context):
        """A whole page: ``name.html`` with what every page shows (the
        project, the annotator's name, the CSRF token) and ``context``."""
        session = browser(request)
        context.setdefault("annotator", session.get("annotator"))
        context.setdefault("csrf_token", session["csrf"])
        body = templates.render(
            request,
            f"{name}.html",
            page=name,
            project_name=backend.project_name,
            **context,
        )
        return html(body, status_code=status_code)

    def item_context(view, session, *, item_flash=None):
        return {
            "item": view["item"],
            "progress": view["progress"],
            "labels": backend.labels,
            "can_undo": view["can_undo"],
            "annotator": session.get("annotator"),
            "csrf_token": session["csrf"],
            "item_flash": item_flash,
            "job": job.snapshot(),
        }

    async def render_label_page(request, *, flash=None, flash_kind="error"):
        session = browser(request)
        view = await workers.write(backend.view, annotator=session.get("annotator"))
        return page(
            request,
            "label",
            flash=flash,
            flash_kind=flash_kind,
            **item_context(view, session),
        )

    async def home(request):
        return RedirectResponse(request.app.url_path_for("label_page"), 303)

    async def label_page(request):
        return await render_label_page(request)

    async def act(request, action):
        """Label, skip or undo, then answer with the next item."""
        started = time.perf_counter()
        form, refused = await checked_form(request)
        if refused is not None:
            return refused
        session = browser(request)
        annotator = session.get("annotator")
        fetched = request.headers.get("x-requested-with") == "fetch"
        if not annotator:
            message = "Enter your name first: each label keeps who gave it."
            if fetched:
                return PlainTextResponse(message, 400)
            return await render_label_page(request, flash=message)
        parsed = time.perf_counter()
        try:
            outcome, view = await workers.write(
                backend.act,
                action,
                annotator=annotator,
                item_id=form.get("item_id"),
                label=form.get("label"),
            )
        except LabelingError as error:
            if fetched:
                return PlainTextResponse(str(error), error.status_code)
            return await render_label_page(request, flash=str(error))
        done = time.perf_counter()
        if not fetched:
            return RedirectResponse(request.app.url_path_for("label_page"), 303)
        body = templates.render(
            request, "_item.html", **item_context(view, session, item_flash=outcome)
        )
        rendered = time.perf_counter()
        return html(
            body,
            timing={
                "form": parsed - started,
                "session": done - parsed,
                "render": rendered - done,
            },
        )

    async def label(request):
        return await act(request, "label")

    async def skip(request):
        return await act(request, "skip")

    async def undo(request):
        return await act(request, "undo")

    async def set_annotator(request):
        form, refused = await checked_form(request)
        if refused is not None:
            return refused
        name = " ".join(str(form.get("annotator", "")).split())
        if not name or len(name) > _MAX_NAME:
            return await render_label_page(
                request,
                flash=f"The annotator's name must be 1 to {_MAX_NAME} characters; "
                f"got {len(name)}.",
            )
        browser(request)["annotator"] = name
        return RedirectResponse(request.app.url_path_for("label_page"), 303)

    async def status_page(request):
        status = await workers.read(backend.status)
        return page(request, "status", status=status, job=job.snapshot())

    async def learning_curve(request):
        png = await workers.read(backend.learning_curve_png)
        if png is None:
            return PlainTextResponse("No round trained yet.", 404)
        return Response(
            png, media_type="image/png", headers={"Cache-Control": "no-store"}
        )

    async def retrain(request):
        form, refused = await checked_form(request)
        if refused is not None:
            return refused
        raw = form.get("batch_size") or ""
        try:
            batch_size = int(raw) if raw.strip() else None
        except ValueError:
            batch_size = -1
        if batch_size is not None and batch_size < 1:
            return PlainTextResponse(
                f"The batch size must be a positive whole number; got {raw!r}.", 400
            )
        if not job.start(batch_size):
            return PlainTextResponse("A retraining is already running.", 409)
        # From the labeling page ("Retrain and query the next batch"), back
        # to it: it shows the progress, then the next text.
        then = "label_page" if form.get("then") == "label" else "status_page"
        if request.headers.get("x-requested-with") == "fetch":
            return JSONResponse(
                {**job.snapshot(), "next": request.app.url_path_for(then)},
                status_code=202,
            )
        return RedirectResponse(request.app.url_path_for(then), 303)

    async def retrain_progress(request):
        return JSONResponse(job.snapshot(), headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", home, name="home"),
        Route("/label", label_page, methods=["GET"], name="label_page"),
        Route("/label", label, methods=["POST"], name="label"),
        Route("/skip", skip, methods=["POST"], name="skip"),
        Route("/undo", undo, methods=["POST"], name="undo"),
        Route("/annotator", set_annotator, methods=["POST"], name="set_annotator"),
        Route("/status", status_page, methods=["GET"], name="status_page"),
        Route(
            "/status/learning-curve.png",
            learning_curve,
            methods=["GET"],
            name="learning_curve",
        ),
        Route("/retrain", retrain, methods=["POST"], name="retrain"),
        Route(
            "/retrain/progress",
            retrain_progress,
            methods=["GET"],
            name="retrain_progress",
        ),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]
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

    async def session_error(request, error):
        """A session that cannot do what was asked: say why, change nothing.

        Busy (its database locked for longer than ``busy_timeout``): 503
        with ``Retry-After``; anything else: 409.
        """
        busy = isinstance(error, SessionBusyError)
        status_code = 503 if busy else 409
        if request.headers.get("x-requested-with") == "fetch":
            response = PlainTextResponse(str(error), status_code)
        else:
            response = page(
                request,
                "error",
                status_code=status_code,
                title="The session is busy"
                if busy
                else "The session could not do that",
                message=str(error),
            )
        if busy:
            response.headers["Retry-After"] = retry_after
        return response

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={SessionError: session_error},
    )
    app.state.backend = backend
    app.state.retrain_job = job
    app.state.executor = workers
    return app
