"""Protection of the labeling page: bind address, Host, Origin and CSRF checks.

The page changes the session's database, so every request that changes
anything is a POST that carries the browser session's token (the
synchronizer-token pattern: the token lives in the signed session cookie and
in every form), comes from the page's own origin (``Origin``, or
``Referer`` when a browser sends no ``Origin``) and names one of the hosts
the server was started for (``Host``, against DNS rebinding).
"""

import hmac
import ipaddress
import secrets
import socket
import warnings
from urllib.parse import urlsplit

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RemoteBindWarning(UserWarning):
    """The server listens on an address other hosts can reach."""


def is_loopback(host):
    """Whether ``host`` (an address or a name) only reaches this machine.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.10")
    (False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos
    )


def check_bind_address(host, allow_remote=False):
    """Refuse a non-local ``host`` unless ``allow_remote``; warn when allowed.

    Parameters
    ----------
    host : str
        The address the server is asked to listen on.
    allow_remote : bool, default=False
        Explicit consent to listen on an address other machines can reach.

    Raises
    ------
    ValueError
        If ``host`` is not a loopback address and ``allow_remote`` is False.

    Examples
    --------
    >>> check_bind_address("127.0.0.1")
    >>> check_bind_address("0.0.0.0")
    Traceback (most recent call last):
    ...
    ValueError: The 'host' parameter must be a loopback address ...
    """
    if is_loopback(host):
        return
    if not allow_remote:
        raise ValueError(
            f"The 'host' parameter must be a loopback address (127.0.0.1, ::1 or "
            f"localhost) unless remote access is allowed explicitly; got "
            f"{host!r}. The page has no login: anyone who reaches it can label. "
            f"Pass allow_remote=True (--allow-remote on the command line) only on a "
            f"network you trust."
        )
    warnings.warn(
        f"Serving the labeling page on {host!r}, an address other machines can "
        f"reach; the page has no login, so anyone who reaches it can label.",
        RemoteBindWarning,
        stacklevel=2,
    )


def new_token():
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def _origin_of(url):
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class RequestGuard:
    """ASGI middleware: Host allow-list on every request, Origin on POSTs.

    The CSRF token itself is checked by the endpoints (it needs the form).

    Parameters
    ----------
    app : ASGI application
    allowed_hosts : list of str or None
        Host names (without port) the page answers to; None answers any
        (remote serving with ``allow_remote``).
    """

    def __init__(self, app, allowed_hosts):
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else set(allowed_hosts)

    async def __call__(self, scope, receive, send):
        from starlette.responses import PlainTextResponse

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
        }
        host = headers.get("host", "")
        host_name = urlsplit(f"//{host}").hostname or ""
        if self.allowed_hosts is not None and host_name not in self.allowed_hosts:
            response = PlainTextResponse(f"Invalid Host header: {host!r}", 400)
            await response(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            source = headers.get("origin") or None
            if source is None and headers.get("referer"):
                source = _origin_of(headers["referer"])
            scheme = scope.get("scheme", "http")
            if source is not None and source.lower() != f"{scheme}://{host}".lower():
                response = PlainTextResponse(
                    f"Cross-origin request refused: origin {source!r} is not "
                    f"{scheme}://{host}.",
                    403,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def tokens_match(expected, given):
    """Constant-time comparison of two tokens; False if either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(str(expected), str(given))
