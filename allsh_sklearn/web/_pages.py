"""What the labeling page answers with: templates, HTML with its security
headers, the browser's session, and forms checked against forgery."""

import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse

from ._security import CSRF_FIELD, CSRF_HEADER, new_token, tokens_match

__all__ = [
    "FORGED",
    "SECURITY_HEADERS",
    "Templates",
    "browser_session",
    "checked_form",
    "html_response",
]

_HERE = Path(__file__).parent
#: The form fields a request may have, and the size of each (in bytes).
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 16 * 1024
FORGED = (
    "This form has expired or did not come from this page (its security token "
    "does not match). Reload the page and try again."
)
#: The headers of every HTML answer.
SECURITY_HEADERS = {
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


class Templates:
    """Jinja2 with autoescaping on for every template (HTML only here)."""

    def __init__(self):
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, request, name, **context):
        """The template ``name`` with ``context`` and ``url_for``."""
        template = self.env.get_template(name)
        return template.render(url_for=_url_for(request), **context)


def _url_for(request):
    def url_for(name, **params):
        return str(request.app.url_path_for(name, **params))

    return url_for


def html_response(body, status_code=200, timing=None):
    """HTML with the security headers; ``timing`` ({phase: seconds}) as a
    ``Server-Timing`` header."""
    headers = dict(SECURITY_HEADERS)
    if timing:
        headers["Server-Timing"] = ", ".join(
            f"{name};dur={1000 * seconds:.2f}" for name, seconds in timing.items()
        )
    return HTMLResponse(body, status_code=status_code, headers=headers)


def browser_session(request):
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

    Returns
    -------
    form : starlette.datastructures.FormData or None
    refusal : Response or None
        The answer to send instead (403 forged, 400 malformed), or None.
    """
    expected = request.session.get("csrf")
    header = request.headers.get(CSRF_HEADER)
    browser_session(request)
    if expected is None or (header is not None and not tokens_match(expected, header)):
        return None, PlainTextResponse(FORGED, 403)
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
        return None, PlainTextResponse(FORGED, 403)
    return form, None
