"""The labeling page's request handlers, on one session's backend.

:class:`LabelingPage` holds what every handler needs (the backend, the
templates, the worker threads, the retraining job); each route is one of
its methods, and :meth:`LabelingPage.routes` lists them for
:func:`~allsh_sklearn.web._app.create_app`.
"""

import math
import time
from pathlib import Path

from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..session import SessionBusyError
from ._backend import LabelingError
from ._pages import browser_session, checked_form, html_response

__all__ = ["LabelingPage"]

_HERE = Path(__file__).parent
_MAX_NAME = 100


def _fetched(request):
    """Whether the page's script sent the request (it wants a fragment)."""
    return request.headers.get("x-requested-with") == "fetch"


class LabelingPage:
    """The page's handlers: one method per route.

    Parameters
    ----------
    backend : Backend
        The session's adapter.
    templates : Templates
    workers : Workers
        Where the session's work runs (never on the event loop).
    job : RetrainJob
        The retraining in the background.
    """

    def __init__(self, backend, *, templates, workers, job):
        self.backend = backend
        self.templates = templates
        self.workers = workers
        self.job = job
        self.retry_after = str(max(1, math.ceil(backend.busy_timeout)))

    def routes(self):
        """The page's routes, named for ``url_path_for``."""
        return [
            Route("/", self.home, name="home"),
            Route("/label", self.label_page, methods=["GET"], name="label_page"),
            Route("/label", self.label, methods=["POST"], name="label"),
            Route("/skip", self.skip, methods=["POST"], name="skip"),
            Route("/undo", self.undo, methods=["POST"], name="undo"),
            Route(
                "/annotator",
                self.set_annotator,
                methods=["POST"],
                name="set_annotator",
            ),
            Route("/status", self.status_page, methods=["GET"], name="status_page"),
            Route(
                "/status/learning-curve.png",
                self.learning_curve,
                methods=["GET"],
                name="learning_curve",
            ),
            Route("/retrain", self.retrain, methods=["POST"], name="retrain"),
            Route(
                "/retrain/progress",
                self.retrain_progress,
                methods=["GET"],
                name="retrain_progress",
            ),
            Mount(
                "/static", app=StaticFiles(directory=_HERE / "static"), name="static"
            ),
        ]

    # Rendering -------------------------------------------------------------

    def page(self, request, name, *, status_code=200, **context):
        """A whole page: ``name.html`` with what every page shows (the
        project, the annotator's name, the CSRF token) and ``context``."""
        session = browser_session(request)
        context.setdefault("annotator", session.get("annotator"))
        context.setdefault("csrf_token", session["csrf"])
        body = self.templates.render(
            request,
            f"{name}.html",
            page=name,
            project_name=self.backend.project_name,
            **context,
        )
        return html_response(body, status_code=status_code)

    def item_context(self, view, session, *, item_flash=None):
        """What the item's part of the labeling page shows."""
        return {
            "item": view["item"],
            "progress": view["progress"],
            "labels": self.backend.labels,
            "can_undo": view["can_undo"],
            "annotator": session.get("annotator"),
            "csrf_token": session["csrf"],
            "item_flash": item_flash,
            "job": self.job.snapshot(),
        }

    async def render_label_page(self, request, *, flash=None, flash_kind="error"):
        """The labeling page with this annotator's next item."""
        session = browser_session(request)
        view = await self.workers.write(
            self.backend.view, annotator=session.get("annotator")
        )
        return self.page(
            request,
            "label",
            flash=flash,
            flash_kind=flash_kind,
            **self.item_context(view, session),
        )

    # Labeling --------------------------------------------------------------

    async def home(self, request):
        return RedirectResponse(request.app.url_path_for("label_page"), 303)

    async def label_page(self, request):
        return await self.render_label_page(request)

    async def act(self, request, action):
        """Label, skip or undo, then answer with the next item."""
        started = time.perf_counter()
        form, refused = await checked_form(request)
        if refused is not None:
            return refused
        session = browser_session(request)
        annotator = session.get("annotator")
        fetched = _fetched(request)
        if not annotator:
            message = "Enter your name first: each label keeps who gave it."
            if fetched:
                return PlainTextResponse(message, 400)
            return await self.render_label_page(request, flash=message)
        parsed = time.perf_counter()
        try:
            outcome, view = await self.workers.write(
                self.backend.act,
                action,
                annotator=annotator,
                item_id=form.get("item_id"),
                label=form.get("label"),
            )
        except LabelingError as error:
            if fetched:
                return PlainTextResponse(str(error), error.status_code)
            return await self.render_label_page(request, flash=str(error))
        done = time.perf_counter()
        if not fetched:
            return RedirectResponse(request.app.url_path_for("label_page"), 303)
        body = self.templates.render(
            request,
            "_item.html",
            **self.item_context(view, session, item_flash=outcome),
        )
        rendered = time.perf_counter()
        return html_response(
            body,
            timing={
                "form": parsed - started,
                "session": done - parsed,
                "render": rendered - done,
            },
        )

    async def label(self, request):
        return await self.act(request, "label")

    async def skip(self, request):
        return await self.act(request, "skip")

    async def undo(self, request):
        return await self.act(request, "undo")

    async def set_annotator(self, request):
        form, refused = await checked_form(request)
        if refused is not None:
            return refused
        name = " ".join(str(form.get("annotator", "")).split())
        if not name or len(name) > _MAX_NAME:
            return await self.render_label_page(
                request,
                flash=f"The annotator's name must be 1 to {_MAX_NAME} characters; "
                f"got {len(name)}.",
            )
        browser_session(request)["annotator"] = name
        return RedirectResponse(request.app.url_path_for("label_page"), 303)

    # Status and retraining -------------------------------------------------

    async def status_page(self, request):
        status = await self.workers.read(self.backend.status)
        return self.page(request, "status", status=status, job=self.job.snapshot())

    async def learning_curve(self, request):
        png = await self.workers.read(self.backend.learning_curve_png)
        if png is None:
            return PlainTextResponse("No round trained yet.", 404)
        return Response(
            png, media_type="image/png", headers={"Cache-Control": "no-store"}
        )

    async def retrain(self, request):
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
        if not self.job.start(batch_size):
            return PlainTextResponse("A retraining is already running.", 409)
        # From the labeling page ("Retrain and query the next batch"), back
        # to it: it shows the progress, then the next text.
        then = "label_page" if form.get("then") == "label" else "status_page"
        if _fetched(request):
            return JSONResponse(
                {**self.job.snapshot(), "next": request.app.url_path_for(then)},
                status_code=202,
            )
        return RedirectResponse(request.app.url_path_for(then), 303)

    async def retrain_progress(self, request):
        return JSONResponse(self.job.snapshot(), headers={"Cache-Control": "no-store"})

    # Errors ----------------------------------------------------------------

    async def session_error(self, request, error):
        """A session that cannot do what was asked: say why, change nothing.

        Busy (its database locked for longer than ``busy_timeout``): 503
        with ``Retry-After``; anything else: 409.
        """
        busy = isinstance(error, SessionBusyError)
        status_code = 503 if busy else 409
        if _fetched(request):
            response = PlainTextResponse(str(error), status_code)
        else:
            response = self.page(
                request,
                "error",
                status_code=status_code,
                title="The session is busy"
                if busy
                else "The session could not do that",
                message=str(error),
            )
        if busy:
            response.headers["Retry-After"] = self.retry_after
        return response
