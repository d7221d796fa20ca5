"""Start the labeling page: ``serve`` (blocking) and ``BackgroundServer``.

The pieces every server of the package starts with are here, once:
:func:`check_port`, :func:`bind_socket`, :func:`server_url` and
:class:`Server` (uvicorn in the foreground until Ctrl-C, or in a thread);
the Label Studio backend (:mod:`allsh_sklearn.labelstudio`) uses them too.
"""

import socket
import sys
import threading
import time

from ._security import (
    LOOPBACK_NAMES,
    allowed_hosts_for,
    check_bind_address,
    is_loopback,
)

__all__ = [
    "BackgroundServer",
    "Server",
    "bind_socket",
    "check_port",
    "create_app",
    "serve",
    "server_url",
]

#: The distributions that provide the modules the page imports, when their
#: names differ (``pip install`` takes the distribution's name).
_DISTRIBUTIONS = {
    "multipart": "python-multipart",
    "python_multipart": "python-multipart",
}


def _import_app():
    try:
        from ._app import create_app as factory
    except ImportError as error:
        raise ImportError(_missing_message(error)) from error
    return factory


def _missing_message(error):
    """What to tell a user whose web stack lacks a module: name it."""
    module = (getattr(error, "name", None) or "").split(".")[0]
    if not module:
        return (
            f"The labeling page cannot import its web stack: {error}. Reinstall "
            "the 'web' extra: pip install 'allsh-sklearn[web]'."
        )
    distribution = _DISTRIBUTIONS.get(module, module)
    if isinstance(error, ModuleNotFoundError):
        return (
            f"The labeling page needs the Python module {module!r}, which is not "
            f"installed: pip install {distribution} (the 'web' extra, pip install "
            f"'allsh-sklearn[web]', installs it too). ({error})"
        )
    return (
        f"The labeling page cannot import what it needs from {module!r} ({error}): "
        f"the installed {distribution} is probably too old or too new; pip install "
        f"--upgrade 'allsh-sklearn[web]' installs the versions the page needs."
    )


def create_app(
    project, *, allowed_hosts=LOOPBACK_NAMES, secret_key=None, busy_timeout=5.0
):
    """The labeling page's ASGI application (see :mod:`allsh_sklearn.web._app`).

    Parameters
    ----------
    project : path-like or LabelingSession
        A project folder made by ``allsh-label init``, or an open session.
    allowed_hosts : sequence of str or None, default=("127.0.0.1", "localhost", "::1")
        Host names the page answers to; None answers any (only behind a
        proxy that checks ``Host`` itself).
    secret_key : str or None, default=None
        Signs the browsers' session cookies (None: a random key per start).
    busy_timeout : float, default=5.0
        Seconds a request waits for a locked session database before it is
        answered 503 with ``Retry-After``.

    Returns
    -------
    app : starlette.applications.Starlette

    Raises
    ------
    ImportError
        A module of the web stack is missing; the message names it.
    """
    return _import_app()(
        project,
        allowed_hosts=allowed_hosts,
        secret_key=secret_key,
        busy_timeout=busy_timeout,
    )


def check_port(port):
    """Refuse a port that is not an integer in [0, 65535] (0: any free one).

    Raises
    ------
    ValueError
        Naming the ``port`` parameter and what it got.
    """
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(
            f"The 'port' parameter must be an integer in [0, 65535]. Got {port!r} "
            "instead."
        )


def bind_socket(host, port):
    """A TCP socket listening on ``host:port``, for :class:`Server`.

    Raises
    ------
    ValueError
        ``port`` is not an integer in [0, 65535].
    OSError
        The port is taken; the message starts with "Cannot listen on" and
        says how to choose another.
    """
    check_port(port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio turns Nagle's algorithm off
    # (TCP_NODELAY) only on connections whose socket says TCP; with proto 0
    # every answer waited for the client's delayed ACK, about 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


def server_url(host, port):
    """``http://host:port``, an IPv6 address in brackets (no trailing slash)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Server:
    """A uvicorn server of an ASGI application on a socket bound at once.

    The one way the labeling page and the Label Studio backend are served:
    in the foreground until Ctrl-C (:meth:`run`), or in a background thread
    (:meth:`start`, :meth:`stop`).

    Parameters
    ----------
    app : ASGI application
    host : str
        The address to listen on (checked by the caller).
    port : int
        0 takes any free one.
    log_level : str, default="warning"
        uvicorn's log level.
    name : str, default="allsh-web"
        The background thread's name.

    Attributes
    ----------
    socket : socket.socket
        The listening socket.
    port : int
        The port it listens on (the free one chosen for port 0).
    uvicorn : uvicorn.Server
        The server itself (its ``server_state`` holds the connections).
    """

    def __init__(self, app, host, port, *, log_level="warning", name="allsh-web"):
        self.socket = bind_socket(host, port)
        self.port = self.socket.getsockname()[1]
        self.name = name
        import uvicorn

        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.uvicorn = uvicorn.Server(config)
        self._thread = None

    @property
    def started(self):
        """Whether the server accepts requests."""
        return self.uvicorn.started

    def run(self):
        """Serve in this thread until asked to exit or interrupted.

        Ctrl-C (SIGINT) or SIGTERM: uvicorn catches the signal while it
        serves, stops within two seconds, then raises the signal again, so
        that Ctrl-C reaches the caller as ``KeyboardInterrupt`` once the
        server has stopped. The socket is closed in every case.
        """
        try:
            self.uvicorn.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def wait_started(self, timeout):
        """Wait until the server accepts requests; False if it ended or
        ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        while not self.uvicorn.started:
            thread_ended = self._thread is not None and not self._thread.is_alive()
            if thread_ended or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self, timeout):
        """Serve in a daemon thread; whether it accepts requests within
        ``timeout`` seconds."""
        self._thread = threading.Thread(
            target=self.uvicorn.run,
            kwargs={"sockets": [self.socket]},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return self.wait_started(timeout)

    def exit(self):
        """Ask the server to stop (from any thread); :meth:`run` returns."""
        self.uvicorn.should_exit = True

    def stop(self, timeout=10):
        """Stop a server started with :meth:`start`; close its socket."""
        self.exit()
        if self._thread is not None:
            self._thread.join(timeout)
        self.socket.close()


def serve(
    project,
    *,
    host="127.0.0.1",
    port=8000,
    allow_remote=False,
    allowed_hosts=None,
    secret_key=None,
    log_level="warning",
    out=None,
    busy_timeout=5.0,
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
    allowed_hosts : str, sequence of str or None, default=None
        More host names the page answers to (``Host`` header), besides the
        loopback names and ``host`` itself: the names other machines reach
        it under with ``allow_remote`` (``"labels.example,192.0.2.7"``). Any
        other ``Host`` is refused, also with ``allow_remote``: that is what
        stops DNS-rebinding pages.
    secret_key : str or None, default=None
        Signs the browsers' cookies; None draws one per start (annotators
        enter their name again after a restart).
    log_level : str, default="warning"
        uvicorn's log level.
    out : file-like or None, default=None
        Where the address is printed (None: standard output).
    busy_timeout : float, default=5.0
        Seconds a request waits for a locked session database before it is
        answered 503 with ``Retry-After``.

    Raises
    ------
    ValueError
        ``host`` is not a loopback address and ``allow_remote`` is False, or
        ``allowed_hosts`` names something other than hosts.
    OSError
        The port is taken.
    ImportError
        A module of the web stack is missing; the message names it.
    """
    check_bind_address(host, allow_remote)
    hosts = allowed_hosts_for(host, allowed_hosts)
    check_port(port)
    out = sys.stdout if out is None else out
    app = create_app(
        project,
        allowed_hosts=hosts,
        secret_key=secret_key,
        busy_timeout=busy_timeout,
    )
    server = Server(app, host, port, log_level=log_level)
    url = server_url(host, server.port)
    print(f"Labeling page of {app.state.backend.path} at {url}/", file=out)
    if allowed_hosts:
        print(f"It answers to the host names {', '.join(hosts)}.", file=out)
    elif not is_loopback(host):
        print(
            f"It answers only to the host names {', '.join(hosts)}: give the "
            "names other machines reach it under with --allowed-hosts.",
            file=out,
        )
    print("Press Ctrl-C to stop; every label is saved when it is given.", file=out)
    out.flush()
    try:
        server.run()
    finally:
        app.state.retrain_job.join(timeout=0)
        app.state.executor.shutdown(wait=True)


class BackgroundServer:
    """The labeling page in a background thread (tests, benchmarks, notebooks).

    Parameters
    ----------
    project : path-like or LabelingSession
    host : str, default="127.0.0.1"
        A loopback address.
    port : int, default=0
        0 takes a free port.
    secret_key : str or None, default=None
    allowed_hosts : str, sequence of str or None, default=None
        More host names it answers to (see :func:`serve`).
    busy_timeout : float, default=5.0
        See :func:`serve`.

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

    def __init__(
        self,
        project,
        *,
        host="127.0.0.1",
        port=0,
        secret_key=None,
        allowed_hosts=None,
        busy_timeout=5.0,
    ):
        check_bind_address(host)
        self.app = create_app(
            project,
            allowed_hosts=allowed_hosts_for(host, allowed_hosts),
            secret_key=secret_key,
            busy_timeout=busy_timeout,
        )
        self._server = Server(self.app, host, port, name="allsh-web")
        self.url = f"{server_url(host, self._server.port)}/"

    def start(self, timeout=10.0):
        """Start serving; returns once the server accepts requests."""
        if not self._server.start(timeout):
            raise RuntimeError(f"The labeling page did not start at {self.url}.")
        return self

    def stop(self):
        """Stop serving and wait for a running retraining to finish."""
        self._server.stop(timeout=10)
        self.app.state.retrain_job.join()
        self.app.state.executor.shutdown(wait=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
