"""Start the ML backend: :func:`serve` (blocking, the CLI) and
:class:`BackgroundBackend` (a thread, for tests, benchmarks and notebooks)."""

import socket
import sys
import threading
import time

from ..web._security import is_loopback

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
    if is_loopback(host):
        return False
    if not allow_remote:
        raise ValueError(
            "The 'host' parameter must be a loopback address (127.0.0.1, ::1 or "
            f"localhost) unless remote access is allowed explicitly; got {host!r}. "
            "Anyone who reaches the backend with its secret can label. Pass "
            "allow_remote=True (--allow-remote on the command line) only on a "
            "network you trust, and when Label Studio runs on another machine."
        )
    return True


def _bind(host, port):
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(
            f"The 'port' parameter must be an integer in [0, 65535]. Got {port!r} "
            "instead."
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY)
    # only on sockets that say they are TCP, and an accepted connection
    # inherits the listening socket's protocol. With Nagle on, an answer
    # written in two parts (headers, then body) waits for the client's
    # delayed ACK: 40 ms added to every request on Linux.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"Cannot listen on {host}:{port} ({error.strerror}). Choose another "
            "port with --port, or 0 for any free one."
        ) from error
    sock.listen(128)
    return sock


def _url(host, sock):
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{sock.getsockname()[1]}"


def _server(app, log_level):
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def _wait_started(server, thread=None, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not server.started:
        if (
            thread is not None and not thread.is_alive()
        ) or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


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
    sock = _bind(host, port)
    url = backend_url or _url(host, sock)
    server = _server(app, log_level)
    outcome = {"code": 0}
    print(f"Label Studio ML backend of {backend.path} at {url}/", file=out)
    out.flush()

    def connect_then_work():
        from ._connect import connect

        if not _wait_started(server):
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
                server.should_exit = True
                return
            print(report.summary(), file=out)
        backend.worker.start()
        print("Press Ctrl-C to stop; every label is saved when it arrives.", file=out)
        out.flush()

    helper = threading.Thread(target=connect_then_work, daemon=True)
    helper.start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
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
        self._sock = _bind(host, port)
        self.url = _url(host, self._sock)
        self._server = _server(self.app, "warning")
        self._start_worker = start_worker
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="allsh-labelstudio",
            daemon=True,
        )

    def start(self, timeout=30.0):
        """Start serving; returns once the server accepts requests."""
        self._thread.start()
        if not _wait_started(self._server, self._thread, timeout):
            raise RuntimeError(f"The ML backend did not start at {self.url}.")
        if self._start_worker:
            self.backend.worker.start()
        return self

    def stop(self):
        """Stop serving and the background thread."""
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
        self.backend.worker.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
