"""``allsh-label serve``: the arguments and the runner the CLI plugs in.

A command plugin of ``allsh-label`` (an entry point of the group
:data:`allsh_sklearn.session._plugins.PLUGIN_GROUP`, declared in
``pyproject.toml``): ``HELP``,
``DESCRIPTION``, :func:`add_arguments` and :func:`run`. The labeling page's
options live with the page; importing this module does not import the web
stack.
"""

import contextlib
import sys
import textwrap
import warnings

__all__ = [
    "add_arguments",
    "add_serve_arguments",
    "add_server_arguments",
    "parse_port",
    "run",
    "run_serve",
    "taken_port_as_usage_error",
]

HELP = "label in a local web page"
DESCRIPTION = textwrap.fill(
    "Serve a labeling page for PROJECT on this machine: one queried text at a "
    "time with its label buttons (keys 1-9), skip (s) and undo (u), why the "
    "strategy picked it, and a status page with the audit estimate, the "
    "stopping rules and a button to retrain. Labels are saved the moment they "
    "are given, by the same session code as 'allsh-label annotate'. Several "
    "annotators can label at once, each in their own browser.",
    width=78,
)


def parse_port(text):
    """``--port``: an integer in [0, 65535] (argparse's ``type``)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in [0, 65535], got {value}")
    return value


def add_server_arguments(parser, *, default_port, remote_help):
    """Add the options every server command has: ``--host``, ``--port``,
    ``--allow-remote``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    default_port : int
        The default of ``--port``.
    remote_help : str
        The help of ``--allow-remote`` after "allow a --host other machines
        can reach": what that opens.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=parse_port,
        default=default_port,
        help=f"port to listen on (default: {default_port}; 0 takes a free one)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help=f"allow a --host other machines can reach {remote_help}",
    )
    return parser


@contextlib.contextmanager
def taken_port_as_usage_error():
    """Turn the error of a taken port into a ``ValueError`` (which the CLI
    prints, exit code 2), leaving every other ``OSError`` as it is."""
    try:
        yield
    except OSError as error:
        if "Cannot listen" in str(error):
            raise ValueError(str(error)) from error
        raise


def add_serve_arguments(parser):
    """Add the ``serve`` options to its subparser (which has ``project``)."""
    add_server_arguments(
        parser,
        default_port=8000,
        remote_help="(the page has no login: anyone who reaches it can label)",
    )
    parser.add_argument(
        "--allowed-hosts",
        type=_hosts,
        default=None,
        metavar="NAMES",
        help="comma-separated host names the page may also be reached under "
        "(the Host header), e.g. labels.example,192.0.2.7; it always answers to "
        "127.0.0.1, localhost, ::1 and --host, and refuses every other name, "
        "also with --allow-remote (that stops DNS-rebinding pages)",
    )
    return parser


def _hosts(text):
    import argparse

    from ._security import check_allowed_hosts

    try:
        return check_allowed_hosts(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_serve(args, out=None):
    """Run ``allsh-label serve`` until Ctrl-C; the exit code.

    A non-local ``--host`` without ``--allow-remote`` raises ``ValueError``
    and a taken port ``ValueError`` too (the CLI prints them and exits with
    code 2) before anything is served. A missing module of the web stack is
    named on standard error (exit code 1).
    """
    from ._security import RemoteBindWarning, check_bind_address
    from ._serve import serve

    out = sys.stdout if out is None else out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RemoteBindWarning)
        check_bind_address(args.host, args.allow_remote)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RemoteBindWarning)
        try:
            with taken_port_as_usage_error():
                serve(
                    args.project,
                    host=args.host,
                    port=args.port,
                    allow_remote=args.allow_remote,
                    allowed_hosts=getattr(args, "allowed_hosts", None),
                    out=out,
                )
        except ImportError as error:
            print(f"allsh-label serve: error: {error}", file=sys.stderr)
            return 1
    return 0


#: The names ``allsh-label`` looks for in a command plugin.
add_arguments = add_serve_arguments
run = run_serve
