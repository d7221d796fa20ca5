"""``allsh-label labelstudio``: the arguments and the runner the CLI plugs in.

A command plugin of ``allsh-label`` (an entry point of the group
:data:`allsh_sklearn.session._plugins.PLUGIN_GROUP`, declared in
``pyproject.toml``): ``HELP``,
``DESCRIPTION``, :func:`add_arguments` and :func:`run`. Also runnable alone:
``python -m allsh_sklearn.labelstudio PROJECT ...``. Importing this module
does not import the web stack.

The Label Studio token and the shared secret are read from environment
variables only (never from the command line, where other users of the
machine could read them), and never printed.
"""

import os
import secrets
import sys
import textwrap

from ..web._cli import add_server_arguments, taken_port_as_usage_error

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "main", "run"]

HELP = "serve the session to Label Studio as its active-learning backend"
DESCRIPTION = textwrap.fill(
    "Serve PROJECT to Label Studio as an ML backend: predictions whose scores "
    "make a project with uncertainty sampling serve texts in the session's "
    "batch order, and webhooks that turn annotations into labels (cancelled "
    "ones into skips, updates into re-labels, deletions into unlabels). With "
    "--connect URL it also sets Label Studio up in one step: creates the "
    "project (or reuses it), imports the texts, registers the backend, sets "
    "uncertainty sampling; after each retraining it pushes the new order and "
    "pulls back any label a lost webhook missed. The token is read from "
    "$LABEL_STUDIO_API_KEY (--token-env), the shared secret from "
    "$ALLSH_LABELSTUDIO_SECRET (--secret-env; drawn at random with --connect "
    "when unset).",
    width=78,
)

#: The variables the token and the secret are read from by default.
TOKEN_ENV = "LABEL_STUDIO_API_KEY"
SECRET_ENV = "ALLSH_LABELSTUDIO_SECRET"


def _positive(kind):
    def parse(text):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a positive number, got {text!r}"
            ) from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
        return value

    return parse


def _url(text):
    import argparse

    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"expected an address starting with http:// or https://, got {text!r}"
        )
    return text.rstrip("/")


def add_arguments(parser):
    """Add the ``labelstudio`` options to its subparser (which has ``project``)."""
    add_server_arguments(
        parser,
        default_port=9090,
        remote_help="(Label Studio on another machine); the shared secret still "
        "guards every request",
    )
    parser.add_argument(
        "--connect",
        type=_url,
        default=None,
        metavar="URL",
        help="Label Studio's address (e.g. http://127.0.0.1:8080): create or reuse "
        "the project, import the texts, register this backend and keep the two "
        "in step",
    )
    parser.add_argument(
        "--ls-project",
        type=_positive(int),
        default=None,
        metavar="ID",
        help="use this Label Studio project (default: the one made for this "
        "session before, else a new one)",
    )
    parser.add_argument(
        "--title", default=None, help="the title of a new Label Studio project"
    )
    parser.add_argument(
        "--backend-url",
        type=_url,
        default=None,
        metavar="URL",
        help="the address Label Studio reaches this backend at (default: the one "
        "it listens on)",
    )
    parser.add_argument(
        "--retrain-every",
        type=_positive(int),
        default=None,
        metavar="N",
        help="retrain after N labels (default: the session's retrain_every); it "
        "also retrains when the batch is done",
    )
    parser.add_argument(
        "--sync-every",
        type=_positive(float),
        default=60.0,
        metavar="SECONDS",
        help="pull Label Studio's labels this often when no webhook comes "
        "(default: 60)",
    )
    parser.add_argument(
        "--record",
        default=None,
        metavar="DIR",
        help="write every request Label Studio sends (tokens hidden) to DIR, one "
        "JSON file each, for a bug report",
    )
    parser.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        metavar="NAME",
        help=f"the environment variable holding the Label Studio API token "
        f"(default: {TOKEN_ENV})",
    )
    parser.add_argument(
        "--secret-env",
        default=SECRET_ENV,
        metavar="NAME",
        help=f"the environment variable holding the secret shared with Label "
        f"Studio (default: {SECRET_ENV})",
    )
    return parser


def run(args, out=None):
    """Run ``allsh-label labelstudio`` until Ctrl-C; the exit code.

    A non-local ``--host`` without ``--allow-remote``, a missing token or
    secret and a taken port raise ``ValueError`` (the CLI prints them and
    exits with code 2) before anything is served.
    """
    from ._serve import check_backend_address

    out = sys.stdout if out is None else out
    if check_backend_address(args.host, args.allow_remote):
        print(
            f"warning: serving the backend on {args.host!r}, an address other "
            "machines can reach; every request needs the shared secret.",
            file=sys.stderr,
        )
    client = None
    if args.connect is not None:
        from ._client import LabelStudioClient

        token = os.environ.get(args.token_env, "").strip()
        if not token:
            raise ValueError(
                f"--connect needs a Label Studio API token in the environment "
                f"variable {args.token_env} (Label Studio: Account & Settings > "
                "Access Token); it is read from there only, never from the command "
                "line, and never printed."
            )
        client = LabelStudioClient(args.connect, token)
    secret = os.environ.get(args.secret_env, "").strip()
    if not secret:
        if client is None:
            raise ValueError(
                f"The backend needs a shared secret in the environment variable "
                f"{args.secret_env} (16 characters or more): give Label Studio the "
                f"same value as the ML backend's Basic Auth password (user "
                "'allsh'), or pass --connect URL to have it set up (a random "
                "secret is drawn then)."
            )
        secret = secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise ValueError(
            f"The shared secret in {args.secret_env} must have 16 characters or "
            f"more; it has {len(secret)}."
        )
    try:
        from ._serve import serve
    except ImportError as error:  # pragma: no cover - the web extra is missing
        print(
            f"allsh-label labelstudio: error: {error}; install the web extra: "
            "pip install 'allsh-sklearn[web]'",
            file=sys.stderr,
        )
        return 1
    with taken_port_as_usage_error():
        return serve(
            args.project,
            secret=secret,
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            retrain_every=args.retrain_every,
            sync_every=args.sync_every,
            label_studio=client,
            ls_project=args.ls_project,
            title=args.title,
            backend_url=args.backend_url,
            record=args.record,
            out=out,
        )


def main(argv=None):
    """``python -m allsh_sklearn.labelstudio``: the command without ``allsh-label``."""
    import argparse

    from ..session import SessionError

    parser = argparse.ArgumentParser(
        prog="python -m allsh_sklearn.labelstudio", description=DESCRIPTION
    )
    parser.add_argument("project", help="the project folder (allsh-label init)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, SessionError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C ends the backend as it ends every allsh-label command.
        print("\nInterrupted: every label given so far is saved.", file=sys.stderr)
        return 130
