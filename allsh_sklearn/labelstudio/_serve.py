"""Start the ML backend: :func:`serve` (blocking, the CLI) and
:class:`BackgroundBackend` (a thread, for tests, benchmarks and notebooks).

Both run on the labeling page's :class:`~allsh_sklearn.web._serve.Server`
(binding, the uvicorn server, Ctrl-C); only what differs is here: the
backend's address rule and where Label Studio reaches it.
"""

import sys
import threading

from ..web._security import require_loopback
from ..web._serve import Server, server_url

__all__ = ["BackgroundBackend", "check_backend_address", "serve"]


def check_backend_address(host, allow_remote=False):
    """Refuse a non-loopback ``host`` unless ``allow_remote`` (the page's rule).

    Parameters
    ----------
    host : str
    allow_remote : bool, default=False

    Returns
    -------
    remote : bool
        Whether other machines can reach the address (then print a warning).

    Raises
    ------
    ValueError
        ``host`` is not a loopback address and ``allow_remote`` is False.

    Examples
    --------
    >>> check_backend_address("127.0.0.1")
    False
    >>> check_backend_address("0.0.0.0")
    Traceback (most recent call last):
    ...
    ValueError: The 'host' parameter must be a loopback address ...
    """
    return require_loopback(
        host,
        allow_remote,
        risk="Anyone who reaches the backend with its secret can label.",
        when="on a network you trust, and when Label Studio runs on another machine",
    )


def _client_url(host, port):
    """Where Label Studio reaches a backend listening on ``host``: a
    wildcard address (all interfaces) is reached on the loopback one."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return server_url(host, port)


def _build(project, *, secret, retrain_every, sync_every, busy_timeout, record):
    from ._app import create_app
    from ._backend import LabelStudioBackend, Worker

    backend = LabelStudioBackend(
        project, retrain_every=retrain_every, busy_timeout=busy_timeout
    )
    backend.worker = Worker(backend, sync_every=sync_every)
    return backend, create_app(backend, secret=secret, record=record)


def serve(
    project,
    *,
    secret,
    host="127.0.0.1",
    port=9090,
    allow_remote=False,
    retrain_every=None,
    sync_every=60.0,
    label_studio=None,
    ls_project=None,
    title=None,
    backend_url=None,
    log_level="warning",
    busy_timeout=5.0,
    record=None,
    out=None,
):
    """Serve a session to Label Studio as an ML backend until Ctrl-C.

    Parameters
    ----------
    project : path-like
        A project folder made by ``allsh-label init``.
    secret : str
        The secret shared with Label Studio (see
        :func:`~allsh_sklearn.labelstudio.create_app`).
    host : str, default="127.0.0.1"
        The address to listen on; only loopback addresses unless
        ``allow_remote``.
    port : int, default=9090
        0 takes a free one.
    allow_remote : bool, default=False
    retrain_every : int or None, default=None
        See :class:`~allsh_sklearn.labelstudio.LabelStudioBackend`.
    sync_every : float, default=60.0
        Seconds between two syncs with Label Studio when nothing happens.
    label_studio : LabelStudioClient or None, default=None
        Connect to this Label Studio once the backend listens (see
        :func:`~allsh_sklearn.labelstudio.connect`).
    ls_project : int or None, default=None
        The Label Studio project to use (None: the one made for this session
        before, else a new one).
    title : str or None, default=None
        The title of a new project.
    backend_url : str or None, default=None
        The address Label Studio reaches the backend at (None: the one it
        listens on).
    log_level : str, default="warning"
    busy_timeout : float, default=5.0
    record : path-like or None, default=None
        Record what Label Studio sends (see
        :func:`~allsh_sklearn.labelstudio.create_app`).
    out : file-like or None, default=None
        Where the addresses are printed.

    Returns
    -------
    code : int
        0, or 2 when connecting to Label Studio failed (the message is
        printed on standard error).
    """
    check_backend_address(host, allow_remote)
    out = sys.stdout if out is None else out
    backend, app = _build(
        project,
        secret=secret,
        retrain_every=retrain_every,
        sync_every=sync_every,
        busy_timeout=busy_timeout,
        record=record,
    )
    server = Server(app, host, port, log_level=log_level, name="allsh-labelstudio")
    url = backend_url or _client_url(host, server.port)
    outcome = {"code": 0}
    print(f"Label Studio ML backend of {backend.path} at {url}/", file=out)
    out.flush()

    def connect_then_work():
        from ._connect import connect

        if not server.wait_started(30.0):
            return
        if label_studio is not None:
            try:
                report = connect(
                    backend,
                    label_studio,
                    url,
                    secret=secret,
                    project_id=ls_project,
                    title=title,
                )
            except Exception as error:
                print(f"allsh-label labelstudio: error: {error}", file=sys.stderr)
                outcome["code"] = 2
                server.exit()
                return
            print(report.summary(), file=out)
        backend.worker.start()
        print("Press Ctrl-C to stop; every label is saved when it arrives.", file=out)
        out.flush()

    helper = threading.Thread(target=connect_then_work, daemon=True)
    helper.start()
    try:
        server.run()
    finally:
        helper.join(timeout=60)
        backend.worker.stop()
    return outcome["code"]


class BackgroundBackend:
    """The ML backend in a background thread (tests, benchmarks, notebooks).

    Parameters
    ----------
    project : path-like or LabelingSession
    secret : str
    host : str, default="127.0.0.1"
        A loopback address.
    port : int, default=0
    retrain_every : int or None, default=None
    sync_every : float, default=60.0
    start_worker : bool, default=True
        Start the retraining and sync thread with the server.
    busy_timeout : float, default=5.0
    record : path-like or None, default=None

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT`` (no trailing slash).
    backend : LabelStudioBackend
    app : starlette.applications.Starlette
    """

    def __init__(
        self,
        project,
        *,
        secret,
        host="127.0.0.1",
        port=0,
        retrain_every=None,
        sync_every=60.0,
        start_worker=True,
        busy_timeout=5.0,
        record=None,
    ):
        check_backend_address(host)
        self.backend, self.app = _build(
            project,
            secret=secret,
            retrain_every=retrain_every,
            sync_every=sync_every,
            busy_timeout=busy_timeout,
            record=record,
        )
        self._server = Server(self.app, host, port, name="allsh-labelstudio")
        self.url = _client_url(host, self._server.port)
        self._start_worker = start_worker

    def start(self, timeout=30.0):
        """Start serving; returns once the server accepts requests."""
        if not self._server.start(timeout):
            raise RuntimeError(f"The ML backend did not start at {self.url}.")
        if self._start_worker:
            self.backend.worker.start()
        return self

    def stop(self):
        """Stop serving and the background thread."""
        self._server.stop(timeout=10)
        self.backend.worker.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
