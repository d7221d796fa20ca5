"""Start the labeling page: ``serve`` (blocking) and ``BackgroundServer``."""

import socket
import sys
import threading

from ._security import check_bind_address, is_loopback

__all__ = ["BackgroundServer", "create_app", "serve"]

_LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


def _import_app():
    try:
        from ._app import create_app as factory
    except ImportError as error:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "The labeling page needs the 'web' extra (Starlette, uvicorn, Jinja2, "
            f"python-multipart): pip install 'allsh-sklearn[web]'. ({error})"
        ) from error
    return factory


def create_app(project, *, allowed_hosts=_LOCAL_NAMES, secret_key=None):
    """The labeling page's ASGI application (see :mod:`allsh_sklearn.web._app`).

    Parameters
    ----------
    project : path-like or LabelingSession
        A project folder made by ``allsh-label init``, or an open session.
    allowed_hosts : sequence of str or None, default=("127.0.0.1", "localhost", "::1")
        Host names the page answers to; None answers any.
    secret_key : str or None, default=None
        Signs the browsers' session cookies (None: a random key per start).

    Returns
    -------
    app : starlette.applications.Starlette
    """
    return _import_app()(project, allowed_hosts=allowed_hosts, secret_key=secret_key)


def _bind(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"Cannot listen on {host}:{port} ({error.strerror}). Choose another "
            "port with port=... (--port), or 0 for any free one."
        ) from error
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url(host, sock):
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _hosts_for(host):
    if not is_loopback(host):
        return None
    return tuple(dict.fromkeys((*_LOCAL_NAMES, host.strip("[]"))))


def _server(app, sock, log_level):
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def serve(
    project,
    *,
    host="127.0.0.1",
    port=8000,
    allow_remote=False,
    secret_key=None,
    log_level="warning",
    out=None,
):
    """Serve the labeling page of a session until interrupted (Ctrl-C).

    Parameters
    ----------
    project : path-like or LabelingSession
        A project folder made by ``allsh-label init``, or an open session.
    host : str, default="127.0.0.1"
        The address to listen on. Only loopback addresses are accepted
        unless ``allow_remote`` is True.
    port : int, default=8000
        The port; 0 takes any free one (the address is printed).
    allow_remote : bool, default=False
        Allow an address other machines can reach (a warning is printed:
        the page has no login).
    secret_key : str or None, default=None
        Signs the browsers' cookies; None draws one per start (annotators
        enter their name again after a restart).
    log_level : str, default="warning"
        uvicorn's log level.
    out : file-like or None, default=None
        Where the address is printed (None: standard output).

    Raises
    ------
    ValueError
        ``host`` is not a loopback address and ``allow_remote`` is False.
    OSError
        The port is taken.
    """
    check_bind_address(host, allow_remote)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(
            f"The 'port' parameter must be an integer in [0, 65535]. Got {port!r} "
            "instead."
        )
    out = sys.stdout if out is None else out
    app = create_app(project, allowed_hosts=_hosts_for(host), secret_key=secret_key)
    sock = _bind(host, port)
    print(f"Labeling page of {app.state.backend.path} at {_url(host, sock)}", file=out)
    print("Press Ctrl-C to stop; every label is saved when it is given.", file=out)
    out.flush()
    server = _server(app, sock, log_level)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        app.state.retrain_job.join(timeout=0)
        app.state.executor.shutdown(wait=True)


class BackgroundServer:
    """The labeling page in a background thread (tests, benchmarks, notebooks).

    Parameters
    ----------
    project : path-like or LabelingSession
    host : str, default="127.0.0.1"
    port : int, default=0
        0 takes a free port.

    Attributes
    ----------
    url : str
        The page's address, ``http://127.0.0.1:PORT/``.
    app : starlette.applications.Starlette

    Examples
    --------
    ::

        with BackgroundServer("my-project") as server:
            print(server.url)
    """

    def __init__(self, project, *, host="127.0.0.1", port=0, secret_key=None):
        check_bind_address(host)
        self.app = create_app(
            project, allowed_hosts=_hosts_for(host), secret_key=secret_key
        )
        self._sock = _bind(host, port)
        self.url = _url(host, self._sock)
        self._server = _server(self.app, self._sock, "warning")
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="allsh-web",
            daemon=True,
        )

    def start(self, timeout=10.0):
        """Start serving; returns once the server accepts requests."""
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The labeling page did not start at {self.url}.")
            time.sleep(0.01)
        return self

    def stop(self):
        """Stop serving and wait for a running retraining to finish."""
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
        self.app.state.retrain_job.join()
        self.app.state.executor.shutdown(wait=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
