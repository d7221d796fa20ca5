"""Protection of the labeling page: bind address, Host, Origin, body size, CSRF.

The page changes the session's database, so every request that changes
anything is a POST that carries the browser session's token (the
synchronizer-token pattern: the token lives in the signed session cookie and
in every form), comes from the page's own origin (``Origin``, or
``Referer`` when a browser sends no ``Origin``) and names one of the hosts
the server was started for (``Host``, against DNS rebinding). Host, origin
and the declared body size are checked before a byte of the body is read,
and no body may exceed :data:`MAX_BODY_BYTES`.
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

#: The largest request body the page reads (64 KiB): its forms hold a token,
#: an item id, a label and a name, a few hundred bytes. A larger body is
#: refused with 413 before it is read (from ``Content-Length``), or as soon as
#: it passes the limit (a body sent without a length).
MAX_BODY_BYTES = 64 * 1024

#: The host names every server of the page answers to.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


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
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos
    )


def require_loopback(host, allow_remote, *, risk, when="on a network you trust"):
    """Refuse a non-local ``host`` unless ``allow_remote``: every server's rule.

    Parameters
    ----------
    host : str
        The address a server is asked to listen on.
    allow_remote : bool
        Explicit consent to listen on an address other machines can reach.
    risk : str
        What anyone who reaches the server could do (a sentence), for the
        error.
    when : str, default="on a network you trust"
        When to pass ``allow_remote=True``, for the error.

    Returns
    -------
    remote : bool
        Whether other machines can reach the address.

    Raises
    ------
    ValueError
        If ``host`` is not a loopback address and ``allow_remote`` is False.
    """
    if is_loopback(host):
        return False
    if not allow_remote:
        raise ValueError(
            f"The 'host' parameter must be a loopback address (127.0.0.1, ::1 or "
            f"localhost) unless remote access is allowed explicitly; got "
            f"{host!r}. {risk} Pass allow_remote=True (--allow-remote on the "
            f"command line) only {when}."
        )
    return True


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
    if require_loopback(
        host,
        allow_remote,
        risk="The page has no login: anyone who reaches it can label.",
    ):
        warnings.warn(
            f"Serving the labeling page on {host!r}, an address other machines "
            f"can reach; the page has no login, so anyone who reaches it can "
            f"label.",
            RemoteBindWarning,
            stacklevel=2,
        )


def host_name(value):
    """The host name of a ``Host`` header or ``--allowed-hosts`` entry, lowercased.

    Parameters
    ----------
    value : str
        ``name``, ``name:port``, an IPv4 address or a bracketed IPv6 address,
        with or without a port.

    Returns
    -------
    name : str
        Without port or brackets; ``""`` when ``value`` names no host.

    Examples
    --------
    >>> host_name("Labels.Example:8000"), host_name("[::1]:80"), host_name("::1")
    ('labels.example', '::1', '::1')
    """
    value = value.strip()
    if value.count(":") > 1 and not value.startswith("["):
        value = f"[{value}]"  # a bare IPv6 address
    try:
        return urlsplit(f"//{value}").hostname or ""
    except ValueError:
        return ""


def check_allowed_hosts(hosts):
    """Validate the extra host names the page may be reached under.

    Parameters
    ----------
    hosts : str, sequence of str or None
        Host names or addresses, comma-separated in one string (as
        ``--allowed-hosts`` takes them) or as a sequence; a port is ignored.

    Returns
    -------
    names : tuple of str
        The host names, lowercased, without ports, in order, without repeats.

    Raises
    ------
    ValueError
        An entry is empty, is ``*``, or is a URL rather than a host name.

    Examples
    --------
    >>> check_allowed_hosts("labels.example, 192.0.2.7:8000")
    ('labels.example', '192.0.2.7')
    >>> check_allowed_hosts("http://labels.example/")
    Traceback (most recent call last):
    ...
    ValueError: The 'allowed_hosts' parameter must list host names ...
    """
    if hosts is None:
        return ()
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    names = []
    for entry in hosts:
        text = str(entry).strip()
        name = host_name(text)
        if (
            not name
            or "*" in text
            or "/" in text
            or "@" in text
            or any(character.isspace() for character in text)
        ):
            raise ValueError(
                "The 'allowed_hosts' parameter must list host names or addresses "
                "(such as labels.example or 192.0.2.7), separated by commas; got "
                f"{text!r} in {','.join(map(str, hosts))!r}. Wildcards are not "
                "accepted: the Host check is what stops DNS-rebinding pages."
            )
        names.append(name)
    return tuple(dict.fromkeys(names))


def allowed_hosts_for(host, extra=None):
    """The host names a server bound to ``host`` answers to.

    Always the loopback names (``127.0.0.1``, ``localhost``, ``::1``), the
    bound address itself, and the ``extra`` names: also with
    ``allow_remote``, the Host check stays on (it is what stops a
    DNS-rebinding page from reaching the server through a name its owner
    controls).

    Parameters
    ----------
    host : str
        The address the server listens on.
    extra : str, sequence of str or None, default=None
        More host names (see :func:`check_allowed_hosts`), for instance the
        machine's name on the network when serving with ``allow_remote``.

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> allowed_hosts_for("0.0.0.0", "labels.example")
    ('127.0.0.1', 'localhost', '::1', '0.0.0.0', 'labels.example')
    """
    bound = host_name(host)
    names = (*LOOPBACK_NAMES, *((bound,) if bound else ()))
    return tuple(dict.fromkeys((*names, *check_allowed_hosts(extra))))


def new_token():
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def _origin_of(url):
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class BodyTooLarge(Exception):
    """A request body passed :data:`MAX_BODY_BYTES` while it was read."""


def _refusal(status_code, message):
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message, status_code, headers={"Connection": "close"})


class RequestGuard:
    """ASGI middleware: Host allow-list on every request; Origin and body size
    on the others, all before the body is read.

    The CSRF token itself is checked by the endpoints (a form may carry it),
    which check the ``X-CSRF-Token`` header before reading the body too.

    Parameters
    ----------
    app : ASGI application
    allowed_hosts : sequence of str or None
        Host names (without port) the page answers to; None answers any
        (only for a server behind a proxy that checks ``Host`` itself).
    max_body : int, default=MAX_BODY_BYTES
        The largest request body read, in bytes.
    """

    def __init__(self, app, allowed_hosts, max_body=MAX_BODY_BYTES):
        self.app = app
        self.allowed_hosts = (
            None
            if allowed_hosts is None
            else {host_name(host) for host in allowed_hosts}
        )
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
        }
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host_name(host) not in self.allowed_hosts:
            names = ", ".join(sorted(self.allowed_hosts))
            await _refusal(
                400,
                f"Invalid Host header: {host!r}. This page answers only to "
                f"{names}; start it with --allowed-hosts NAME to reach it under "
                "another name.",
            )(scope, receive, send)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        source = headers.get("origin") or None
        if source is None and headers.get("referer"):
            source = _origin_of(headers["referer"])
        scheme = scope.get("scheme", "http")
        if source is not None and source.lower() != f"{scheme}://{host}".lower():
            await _refusal(
                403,
                f"Cross-origin request refused: origin {source!r} is not "
                f"{scheme}://{host}.",
            )(scope, receive, send)
            return
        too_large = _refusal(
            413,
            f"Request body too large: this page takes at most "
            f"{self.max_body // 1024} KiB per request (its forms need a few "
            "hundred bytes), and no file uploads.",
        )
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _refusal(400, f"Invalid Content-Length: {declared!r}.")(
                    scope, receive, send
                )
                return
            if int(declared) > self.max_body:
                await too_large(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - the body is read before answering
                raise
            await too_large(scope, receive, send)


def tokens_match(expected, given):
    """Constant-time comparison of two tokens; False if either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(str(expected), str(given))
